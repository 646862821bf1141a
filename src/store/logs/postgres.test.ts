import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../../../test/helpers/postgres.js";
import { DAY, defineLogStoreConformance, logRecord, T0 } from "./conformance.js";
import { LOG_MIGRATIONS } from "./migrations.js";
import { openLogStore } from "./open.js";
import { dayOf, openPostgresLogStore, partitionName } from "./postgres.js";
import type { LogStore } from "./types.js";

// Against a real PostgreSQL server (test/helpers/postgres.ts): fails, never skips, when there is none.

let server: TestPostgres | undefined;
beforeAll(async () => {
  server = await startTestPostgres();
});
afterAll(async () => {
  await server?.stop();
});

function running(): TestPostgres {
  if (server === undefined) throw new Error("the test PostgreSQL did not start (see the first failure)");
  return server;
}

defineLogStoreConformance("PostgreSQL", {
  async open() {
    const store = await openPostgresLogStore(await running().createDatabase());
    await store.migrate();
    return store;
  },
});

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function partitionNames(url: string): Promise<string[]> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'request_logs'::regclass ORDER BY 1`,
    );
    return rows.map((row) => row.name);
  });
}

/** Records per UTC day, as the database counts them. */
async function countsByDay(url: string): Promise<Map<number, number>> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ day: string; count: string }>(
      `SELECT time / ${DAY} AS day, COUNT(*) AS count FROM request_logs GROUP BY 1 ORDER BY 1`,
    );
    return new Map(rows.map((row) => [Number(row.day), Number(row.count)]));
  });
}

async function openOn(url: string): Promise<LogStore> {
  const store = await openPostgresLogStore(url);
  await store.migrate();
  return store;
}

const dayName = (day: number) => partitionName(dayOf(T0) + day);

describe("PostgreSQL log partitions", () => {
  it("makes a partition per UTC day as records need them, and the day after, without a default", async () => {
    const url = await running().createDatabase();
    const store = await openOn(url);
    try {
      expect(await partitionNames(url)).toEqual([]);
      await store.insert([logRecord("a", { time: T0 + 5 }), logRecord("b", { time: T0 + 3 * DAY - 1 })]);
      expect(await partitionNames(url)).toEqual([dayName(0), dayName(1), dayName(2), dayName(3)]);
      expect(dayName(0)).toBe("request_logs_p20260301");
      await store.insert([logRecord("c", { time: T0 + 10 })]);
      expect(await partitionNames(url)).toHaveLength(4);
    } finally {
      await store.close();
    }
  });

  it("takes batches larger than one statement's parameters, in one transaction", async () => {
    const url = await running().createDatabase();
    const store = await openOn(url);
    try {
      const records = Array.from({ length: 5_000 }, (_, index) =>
        logRecord(`big-${index}`, { time: T0 + index }),
      );
      await store.insert(records);
      expect((await store.stats({})).total.requests).toBe(5_000);
      // A batch failing part-way (its last record cannot be stored) leaves nothing behind.
      const failing = [
        ...Array.from({ length: 3_000 }, (_, index) =>
          logRecord(`half-${index}`, { time: T0 + DAY + index }),
        ),
        logRecord("bad", { time: T0 + DAY, status: 2 ** 40 }),
      ];
      await expect(store.insert(failing)).rejects.toThrow();
      expect((await store.stats({ from: T0 + DAY })).total.requests).toBe(0);
    } finally {
      await store.close();
    }
  });

  it("lets stores sharing a database make the same days at once, and write to a day another dropped", async () => {
    const url = await running().createDatabase();
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresLogStore(url)));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      await Promise.all(
        stores.map((store, which) =>
          store.insert(
            Array.from({ length: 30 }, (_, index) =>
              logRecord(`s${which}-${index}`, { time: T0 + (index % 5) * DAY + which }),
            ),
          ),
        ),
      );
      expect(await partitionNames(url)).toEqual([0, 1, 2, 3, 4, 5].map(dayName));
      const [first, second] = stores as [LogStore, LogStore];
      expect((await first.stats({})).total.requests).toBe(90);
      // The second store drops day 0; the first still believes it exists and writes to it.
      await second.prune({ maxAgeMs: DAY, maxBytes: 0 }, T0 + 2 * DAY);
      expect(await partitionNames(url)).not.toContain(dayName(0));
      await first.insert([logRecord("late", { time: T0 + 60 })]);
      expect(await first.get("late")).toBeDefined();
      const { rows } = await withClient(url, (client) =>
        client.query("SELECT version FROM request_log_migrations ORDER BY version"),
      );
      expect(rows).toEqual(LOG_MIGRATIONS.map((migration) => ({ version: migration.version })));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("prunes a long history by dropping whole days, leaving the kept days' rows as they were", async () => {
    const url = await running().createDatabase();
    const store = await openOn(url);
    try {
      // Days 0 to 40, 60 records each; "now" is midday of day 40.
      const records = Array.from({ length: 41 * 60 }, (_, index) =>
        logRecord(`h-${index}`, {
          time: T0 + Math.floor(index / 60) * DAY + (index % 60) * 1_200_000,
          input: `question ${index}`,
        }),
      );
      for (let start = 0; start < records.length; start += 1_000) {
        await store.insert(records.slice(start, start + 1_000));
      }
      const now = T0 + 40 * DAY + DAY / 2;
      const before = await countsByDay(url);
      const sizeBefore = await store.sizeBytes();

      // 30 days back from now is midday of day 10: days 0-9 go whole, day 10 stays whole.
      const byAge = await store.prune({ maxAgeMs: 30 * DAY, maxBytes: 0 }, now);
      expect(byAge.deletedRecords).toBe(10 * 60);
      const names = await partitionNames(url);
      expect(names).toEqual(Array.from({ length: 32 }, (_, day) => dayName(day + 10)));
      const after = await countsByDay(url);
      expect([...after.keys()]).toEqual([...before.keys()].filter((day) => day >= dayOf(T0) + 10));
      for (const [day, count] of after) expect(count).toBe(before.get(day));
      expect(byAge.sizeBytes).toBeLessThan(sizeBefore);
      expect(await store.get("h-600")).toEqual(records[600]);

      // Just under the size without the oldest day: that day and the next go.
      const sizes = await withClient(url, async (client) => {
        const { rows } = await client.query<{ size: string }>(
          `SELECT pg_total_relation_size(c.oid) AS size FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'request_logs'::regclass ORDER BY c.relname`,
        );
        return rows.map((row) => Number(row.size));
      });
      const total = sizes.reduce((sum, size) => sum + size, 0);
      expect(total).toBe(byAge.sizeBytes);
      const bySize = await store.prune({ maxAgeMs: 30 * DAY, maxBytes: total - (sizes[0] ?? 0) - 1 }, now);
      expect(bySize.deletedRecords).toBe(120);
      expect((await partitionNames(url))[0]).toBe(dayName(12));

      // However small the bound, today's partition (and the one made ahead for tomorrow) stay.
      const tiny = await store.prune({ maxAgeMs: 0, maxBytes: 1 }, now);
      expect(tiny.deletedRecords).toBe(28 * 60);
      expect(await partitionNames(url)).toEqual([dayName(40), dayName(41)]);
      expect((await store.stats({})).total.requests).toBe(60);
    } finally {
      await store.close();
    }
  });

  it("is what openLogStore picks for a postgres:// URL, described without the password", async () => {
    const url = new URL(await running().createDatabase());
    // The throwaway cluster trusts local connections and ignores it; a configured server's own stays.
    if (url.password === "") url.password = "password-in-url";
    const { store, description } = await openLogStore({ databaseUrl: url.toString(), path: "ignored.db" });
    try {
      expect(description).toBe(`PostgreSQL at ${url.hostname}:${url.port || "5432"}${url.pathname}`);
      expect(description).not.toContain(url.password);
      await store.insert([logRecord("opened")]);
      expect(await store.get("opened")).toBeDefined();
    } finally {
      await store.close();
    }
  });
});
