import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll } from "vitest";
import type { SecretCipher } from "./cipher.js";
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
