import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../../test/helpers/postgres.js";
import { announceChange, watchChanges } from "./pg-changes.js";

let postgres: TestPostgres;
let url: string;
let pool: pg.Pool;

beforeAll(async () => {
  postgres = await startTestPostgres();
  url = await postgres.createDatabase();
  pool = new pg.Pool({ connectionString: url });
}, 60_000);

afterAll(async () => {
  await pool?.end();
  await postgres?.stop();
});

/** Resolves once `count()` reaches `n`, or fails after two seconds. */
async function reaches(count: () => number, n: number): Promise<void> {
  await expect.poll(count, { timeout: 2_000 }).toBeGreaterThanOrEqual(n);
}

describe("changes announced between gateways on one PostgreSQL", () => {
  it("are heard by another process's watch, not by its own, and a watch that lost its connection catches up", async () => {
    let heard = 0;
    const watch = watchChanges(url, () => heard++);
    try {
      // The watch listens once its connection is up; a listener is visible in pg_stat_activity.
      await expect
        .poll(
          async () =>
            (await pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%'"))
              .rows[0].n,
          {
            timeout: 5_000,
          },
        )
        .toBe(1);
      // This process's own announcement: the watch in this process ignores it.
      await announceChange(pool);
      // Another gateway's, sent as it would send it (another instance id).
      await pool.query("SELECT pg_notify('switchyard_changes', 'another-gateway')");
      await reaches(() => heard, 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(heard).toBe(1);

      // The server drops the watch's connection: it connects again and counts that as a change.
      await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'");
      await reaches(() => heard, 2);
      await pool.query("SELECT pg_notify('switchyard_changes', 'another-gateway')");
      await reaches(() => heard, 3);
    } finally {
      await watch.stop();
    }
  }, 20_000);
});
