import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPostgres, type TestPostgres } from "../../test/helpers/postgres.js";
import { SecretCipher } from "./cipher.js";
import { MIGRATIONS } from "./migrations.js";
import { openStore } from "./open.js";
import { openPostgresStore } from "./postgres.js";
import { defineStoreConformance, type HarnessStore } from "./store-conformance.js";
import type { GovernanceStore } from "./types.js";

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

defineStoreConformance("PostgreSQL", {
  persistent: true,
  async open(cipher): Promise<HarnessStore> {
    const url = await running().createDatabase();
    let store: GovernanceStore = await openPostgresStore(url, cipher);
    await store.migrate();
    return {
      store,
      async rawRows(table) {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          // Table names come from the conformance suite's own code, never from input.
          return (await client.query(`SELECT * FROM ${table}`)).rows;
        } finally {
          await client.end();
        }
      },
      async reopen(next: SecretCipher) {
        await store.close();
        store = await openPostgresStore(url, next);
        return store;
      },
      close: () => store.close(),
    };
  },
});

describe("PostgreSQL specifics", () => {
  it("migrates once when several gateways start together", async () => {
    const url = await running().createDatabase();
    const cipher = SecretCipher.fromPassphrase("concurrent-migrations-0123456789");
    const stores = await Promise.all([1, 2, 3].map(() => openPostgresStore(url, cipher)));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SELECT version FROM schema_migrations ORDER BY version");
      await client.end();
      expect(rows).toEqual(MIGRATIONS.map((migration) => ({ version: migration.version })));
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("is what openStore picks for a postgres:// URL, described without the password", async () => {
    const url = new URL(await running().createDatabase());
    // The throwaway cluster trusts local connections and ignores it; a configured server's own stays.
    if (url.password === "") url.password = "password-in-url";
    const { store, description } = await openStore({
      env: {
        SWITCHYARD_DATABASE_URL: url.toString(),
        SWITCHYARD_ENCRYPTION_KEY: "open-store-passphrase-0123456789",
      },
    });
    try {
      expect(store.kind).toBe("postgres");
      expect(description).toBe(`PostgreSQL at 127.0.0.1:${url.port}${url.pathname}`);
      expect(description).not.toContain(url.password);
      expect(await store.listKeys()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it("takes LiteLLM's DATABASE_URL when it is PostgreSQL's", async () => {
    const url = await running().createDatabase();
    const { store } = await openStore({
      env: { DATABASE_URL: url, SWITCHYARD_ENCRYPTION_KEY: "x".repeat(32) },
    });
    try {
      expect(store.kind).toBe("postgres");
    } finally {
      await store.close();
    }
  });
});
