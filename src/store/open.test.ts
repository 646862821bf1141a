import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { virtualKey } from "../../test/helpers/governance-fixtures.js";
import { openStore } from "./open.js";

// Which store openStore picks without PostgreSQL (postgres.test.ts covers the postgres:// URLs).

describe("openStore", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), "sy-open-"));
    dirs.push(dir);
    return dir;
  };

  it("keeps state in <appDir>/switchyard.db, migrated, and it survives a reopen", async () => {
    const appDir = join(tempDir(), "app");
    const env = { SWITCHYARD_ENCRYPTION_KEY: "open-store-test-passphrase-0123" };
    const first = await openStore({ appDir, env });
    expect(first.store.kind).toBe("sqlite");
    expect(first.description).toBe(`SQLite at ${join(appDir, "switchyard.db")}`);
    expect(first.warnings).toEqual([]);
    const key = virtualKey({ secretMetadata: { token: "t-1" } });
    await first.store.putKey(key);
    await first.store.close();
    expect(existsSync(join(appDir, "switchyard.db"))).toBe(true);

    const second = await openStore({ appDir, env });
    expect(await second.store.getKey(key.id)).toEqual(key);
    await second.store.close();
  });

  it("without SWITCHYARD_ENCRYPTION_KEY, seals with the app dir's generated key and says so", async () => {
    const appDir = tempDir();
    const opened = await openStore({ appDir, env: {} });
    await opened.store.close();
    expect(opened.warnings).toHaveLength(1);
    expect(opened.warnings[0]).toContain(join(appDir, "encryption.key"));
  });

  it("without an app dir, keeps state in memory and warns it is lost at exit", async () => {
    const opened = await openStore({ env: { SWITCHYARD_ENCRYPTION_KEY: "open-store-test-passphrase-0123" } });
    expect(opened.store.kind).toBe("sqlite");
    expect(opened.description).toBe("SQLite in memory");
    expect(opened.warnings).toEqual([expect.stringMatching(/in memory and lost at exit/)]);
    await opened.store.putKey(virtualKey());
    expect(await opened.store.listKeys()).toHaveLength(1);
    await opened.store.close();
  });

  it("ignores LiteLLM's DATABASE_URL when it is not PostgreSQL's, and says so without the URL", async () => {
    const opened = await openStore({
      env: { DATABASE_URL: "mysql://root:pw-123@db/app", SWITCHYARD_ENCRYPTION_KEY: "x".repeat(32) },
    });
    await opened.store.close();
    expect(opened.store.kind).toBe("sqlite");
    expect(opened.warnings[0]).toBe("DATABASE_URL (mysql:) is not a PostgreSQL URL; ignored");
  });

  it("refuses a Switchyard database URL that is not PostgreSQL's, without quoting it", async () => {
    for (const options of [
      { env: { SWITCHYARD_DATABASE_URL: "mysql://root:pw-123@db/app" } },
      { databaseUrl: "sqlite:///var/lib/x.db?pw-123", env: {} },
      { databaseUrl: "pw-123", env: {} },
    ]) {
      const failure = openStore(options);
      await expect(failure).rejects.toThrow(/must start with postgres:\/\/ or postgresql:\/\//);
      await expect(failure).rejects.not.toThrow(/pw-123/);
    }
  });
});
