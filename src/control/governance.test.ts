import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { spendRecord, virtualKey } from "../../test/helpers/governance-fixtures.js";
import { configFromEnvironment } from "../config/env.js";
import type { GovernanceSnapshot } from "../governance/snapshot.js";
import type { SpendRecord } from "../governance/types.js";
import { SecretCipher } from "../store/cipher.js";
import { openSqliteStore } from "../store/sqlite.js";
import type { GovernanceStore } from "../store/types.js";
import { GovernanceControl } from "./governance.js";

// The control plane's governance over a real SQLite file: snapshots with counter slots, spend written in
// batches, counters seeded from the store at start, and soft budgets reported.

const { config } = configFromEnvironment({});
const cipher = new SecretCipher(randomBytes(32));
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-control-"));
  dirs.push(dir);
  return join(dir, "switchyard.db");
}

const key = virtualKey({
  budgets: [{ id: "b-1", maxMicros: 1000, softMicros: 500, anchor: 0 }],
  limits: { requests: 10 },
});

const record = (costMicros: number) =>
  spendRecord({
    requestId: `r-${costMicros}`,
    at: Date.now(),
    model: "gpt-4o-mini",
    requestedModel: "gpt-4o-mini",
    costMicros,
  });

async function opened(path: string): Promise<GovernanceStore> {
  const store = openSqliteStore(path, cipher);
  await store.migrate();
  return store;
}

async function start(store: GovernanceStore, published: GovernanceSnapshot[], log: string[]) {
  return GovernanceControl.start(
    store,
    config,
    async (s) => {
      published.push(s);
    },
    (line) => log.push(line),
    { counters: 16, lanes: 2 },
  );
}

describe("GovernanceControl", () => {
  it("publishes keys with their counters when the store changes, and keeps slots stable", async () => {
    const store = await opened(":memory:");
    const published: GovernanceSnapshot[] = [];
    const control = await start(store, published, []);
    expect(control.snapshot.keys).toEqual([]);
    await store.putKey(key);
    await control.changed();
    const [snapshot] = published;
    expect(snapshot?.keys.map((k) => k.id)).toEqual(["key-1"]);
    const slots = snapshot?.keys[0]?.budgets.map((b) => b.slot);
    await control.changed();
    expect(published[1]?.keys[0]?.budgets.map((b) => b.slot)).toEqual(slots);
    await control.close();
  });

  it("writes spend and counters, seeds the counters again at start, and reports a crossed soft budget once", async () => {
    const path = storeFile();
    const store = await opened(path);
    await store.putKey(key);
    const log: string[] = [];
    const control = await start(store, [], log);
    const budget = control.snapshot.keys[0]?.budgets[0];
    if (budget === undefined) throw new Error("no budget");
    control.counters.reserve(budget.slot, 0, budget.max, 300);
    control.counters.settle(budget.slot, 0, 300, 600);
    control.onSpend([record(600)]);
    await control.flush();
    await control.flush();
    expect(log.filter((line) => line.includes("soft budget"))).toHaveLength(1);
    expect(log[0]).toContain("key key-1 crossed the soft budget of budget:b-1");
    await control.close();
    await store.close();

    const reopened = await opened(path);
    expect((await reopened.querySpend({})).map((r) => r.costMicros)).toEqual([600]);
    const again = await start(reopened, [], []);
    expect(again.counterState("budget:b-1")).toMatchObject({ windowStart: 0, used: 600, reserved: 0 });
    await again.close();
    await reopened.close();
  });

  it("keeps spend it could not write for the next flush", async () => {
    const store = await opened(":memory:");
    const log: string[] = [];
    // The store as the disk full would make it: its inserts fail until `fail` is cleared.
    let fail = true;
    const failing = new Proxy(store, {
      get(target, name) {
        if (name === "insertSpend")
          return (records: SpendRecord[]) =>
            fail ? Promise.reject(new Error("disk full")) : target.insertSpend(records);
        const value = Reflect.get(target, name, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const control = await start(failing, [], log);
    control.onSpend([record(7)]);
    await control.flush();
    expect(log.join("\n")).toContain("could not write spend");
    fail = false;
    await control.flush();
    expect((await store.querySpend({})).map((r) => r.costMicros)).toEqual([7]);
    await control.close();
  });
});
