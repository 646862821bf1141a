import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { SecretCipher } from "./cipher.js";
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from "./migrations.js";
import { openSqliteStore, sqliteStoreOn } from "./sqlite.js";
import { defineStoreConformance, type HarnessStore } from "./store-conformance.js";
import type { GovernanceStore } from "./types.js";

// Table names come from the conformance suite's own code, never from input.
const readAll = (db: Database.Database, table: string) =>
  db.prepare(`SELECT * FROM ${table}`).all() as Record<string, unknown>[];

defineStoreConformance("SQLite in memory", {
  persistent: false,
  async open(cipher): Promise<HarnessStore> {
    const db = new Database(":memory:");
    const store = sqliteStoreOn(db, cipher);
    await store.migrate();
    return { store, rawRows: async (table) => readAll(db, table), close: () => store.close() };
  },
});

const dir = mkdtempSync(join(tmpdir(), "sy-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

defineStoreConformance("SQLite file", {
  persistent: true,
  async open(cipher): Promise<HarnessStore> {
    const path = join(dir, `store-${++files}.db`);
    let store: GovernanceStore = openSqliteStore(path, cipher);
    await store.migrate();
    return {
      store,
      // A second connection: what is on disk, not what the store's connection holds.
      async rawRows(table) {
        const reader = new Database(path, { readonly: true });
        try {
          return readAll(reader, table);
        } finally {
          reader.close();
        }
      },
      async reopen(next: SecretCipher) {
        await store.close();
        store = openSqliteStore(path, next);
        return store;
      },
      close: () => store.close(),
    };
  },
});

describe("SQLite upgrades", () => {
  it("adds budget templates to a database made by the first migration, keeping its rows", async () => {
    const db = new Database(":memory:");
    db.exec(SCHEMA_MIGRATIONS_TABLE.sqlite);
    const [first] = MIGRATIONS;
    if (first === undefined) throw new Error("no migrations");
    for (const sql of first.sqlite) db.exec(sql);
    db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (1, ?, 0)").run(first.name);
    db.prepare("INSERT INTO teams (id, name, data) VALUES ('t1', 'Team', ?)").run(
      JSON.stringify({ budgets: [], models: [], metadata: {}, createdAt: 0, updatedAt: 0 }),
    );
    const store = sqliteStoreOn(db, SecretCipher.fromPassphrase("upgrade-passphrase-0123456789"));
    try {
      expect(() => readAll(db, "budget_templates")).toThrow(/no such table/);
      await store.migrate();
      expect((await store.getTeam("t1"))?.name).toBe("Team");
      expect(await store.listBudgetTemplates()).toEqual([]);
      expect(readAll(db, "schema_migrations").map((row) => row.version)).toEqual(
        MIGRATIONS.map((migration) => migration.version),
      );
    } finally {
      await store.close();
    }
  });

  it("keeps the provider keys of a database made before keys could be disabled, each enabled", async () => {
    const db = new Database(":memory:");
    db.exec(SCHEMA_MIGRATIONS_TABLE.sqlite);
    const cipher = SecretCipher.fromPassphrase("upgrade-passphrase-0123456789");
    for (const migration of MIGRATIONS.filter((m) => m.version < 3)) {
      for (const sql of migration.sqlite) db.exec(sql);
      db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 0)").run(
        migration.version,
        migration.name,
      );
    }
    db.prepare(
      "INSERT INTO provider_keys (id, provider, name, secret_sealed, data) VALUES ('pk-old', 'p', 'old', ?, ?)",
    ).run(cipher.seal("sk-old-0123"), JSON.stringify({ models: [], weight: 1, createdAt: 0, updatedAt: 0 }));
    const store = sqliteStoreOn(db, cipher);
    try {
      await store.migrate();
      expect(await store.listProviderKeys()).toEqual([
        {
          id: "pk-old",
          provider: "p",
          name: "old",
          secret: "sk-old-0123",
          models: [],
          weight: 1,
          enabled: true,
          createdAt: 0,
          updatedAt: 0,
        },
      ]);
    } finally {
      await store.close();
    }
  });
});
