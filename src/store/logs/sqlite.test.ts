import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import type { RequestLogRecord } from "../../observability/request-log/record.js";
import { DAY, defineLogStoreConformance, logRecord, T0 } from "./conformance.js";
import { openLogStore } from "./open.js";
import { openSqliteLogStore } from "./sqlite.js";

const dir = mkdtempSync(join(tmpdir(), "sy-logs-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

defineLogStoreConformance("SQLite file", {
  async open() {
    const store = openSqliteLogStore(join(dir, `logs-${++files}.db`));
    await store.migrate();
    return store;
  },
});

function history(count: number, days: number): RequestLogRecord[] {
  const step = Math.floor((days * DAY) / count);
  return Array.from({ length: count }, (_, index) =>
    logRecord(`r-${index}`, {
      time: T0 + index * step,
      model: `model-${index % 7}`,
      input: `{"messages":[{"role":"user","content":"question number ${index} ${"lorem ipsum ".repeat(8)}"}]}`,
      output: `answer ${index}`,
    }),
  );
}

function fileBytes(path: string): number {
  const wal = `${path}-wal`;
  return statSync(path).size + (existsSync(wal) ? statSync(wal).size : 0);
}

describe("SQLite log file", () => {
  it("is made with 64 KiB pages, incremental auto-vacuum and WAL", async () => {
    const path = join(dir, "pragmas.db");
    const store = openSqliteLogStore(path);
    await store.migrate();
    await store.insert([logRecord("one")]);
    await store.close();
    const db = new Database(path, { readonly: true });
    try {
      // 2 is INCREMENTAL.
      expect(db.pragma("auto_vacuum", { simple: true })).toBe(2);
      expect(db.pragma("page_size", { simple: true })).toBe(65_536);
      expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
      expect(db.prepare("SELECT COUNT(*) AS n FROM request_logs").get()).toEqual({ n: 1 });
    } finally {
      db.close();
    }
  });

  it("prunes a large history by age and by size, and the file shrinks", async () => {
    const path = join(dir, "history.db");
    const store = openSqliteLogStore(path);
    await store.migrate();
    const records = history(200_000, 60);
    for (let start = 0; start < records.length; start += 10_000) {
      await store.insert(records.slice(start, start + 10_000));
    }
    await store.prune({ maxAgeMs: 0, maxBytes: 0 }, T0 + 60 * DAY);
    const before = fileBytes(path);

    const now = T0 + 60 * DAY;
    const cutoff = now - 30 * DAY;
    const kept = records.filter((record) => record.time >= cutoff).length;
    const byAge = await store.prune({ maxAgeMs: 30 * DAY, maxBytes: 0 }, now);
    expect(byAge.deletedRecords).toBe(records.length - kept);
    expect((await store.stats({})).total.requests).toBe(kept);
    expect((await store.stats({ to: cutoff })).total.requests).toBe(0);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.pragma("freelist_count", { simple: true })).toBeLessThan(16);
    } finally {
      db.close();
    }
    const afterAge = fileBytes(path);
    expect(afterAge).toBeLessThan(before * 0.6);
    expect(byAge.sizeBytes).toBeLessThanOrEqual(afterAge);

    const maxBytes = Math.floor(byAge.sizeBytes / 2);
    const bySize = await store.prune({ maxAgeMs: 30 * DAY, maxBytes }, now);
    expect(bySize.sizeBytes).toBeLessThanOrEqual(maxBytes);
    expect(bySize.sizeBytes).toBe(await store.sizeBytes());
    expect(fileBytes(path)).toBeLessThan(afterAge * 0.6);
    // Oldest first: what is left is every record from some time on.
    const left = (await store.stats({})).total.requests;
    expect(left).toBe(kept - bySize.deletedRecords);
    const newest = records.slice(-left);
    const oldestLeft = newest[0] as RequestLogRecord;
    expect((await store.stats({ from: oldestLeft.time })).total.requests).toBe(left);
    expect(await store.get(oldestLeft.id)).toBeDefined();
    await store.close();
  });
});

describe("openLogStore", () => {
  it("opens SQLite in memory without a path, and at the path given, migrated", async () => {
    const memory = await openLogStore({});
    expect(memory.description).toBe("SQLite in memory");
    await memory.store.insert([logRecord("m")]);
    expect(await memory.store.get("m")).toBeDefined();
    await memory.store.close();

    const path = join(dir, "opened.db");
    const file = await openLogStore({ path });
    expect(file.description).toBe(`SQLite at ${path}`);
    await file.store.insert([logRecord("f")]);
    await file.store.close();
    const again = await openLogStore({ path });
    expect(await again.store.get("f")).toBeDefined();
    await again.store.close();
  });

  it("refuses a database URL that is not PostgreSQL's", async () => {
    await expect(openLogStore({ databaseUrl: "mysql://user:secret@host/db" })).rejects.toThrow(
      /postgres:\/\//,
    );
  });
});
