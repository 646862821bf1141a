import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { adminApi, eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.js";

// Two gateways on one PostgreSQL database: what the admin API changes on one (a virtual key made, revoked;
// a provider added) serves on the other within a second, told by NOTIFY, the secrets still encrypted.

const ADMIN = "sk-admin-store-changes";
/** Both gateways read each other's encrypted secrets: one key for all. */
const ENCRYPTION = "store-changes-shared-encryption-key";
/** How long a change may take to reach the other gateway. */
const WITHIN_MS = 2_000;

let postgres: TestPostgres;
let mock: MockServer;
let dir: string;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  postgres = await startTestPostgres();
  mock = await startOpenAIMock();
  dir = mkdtempSync(join(tmpdir(), "switchyard-store-changes-"));
  const databaseUrl = await postgres.createDatabase();
  for (const name of ["a", "b"]) {
    gateways.push(
      await startGateway({
        env: {
          OPENAI_API_KEY: "sk-mock",
          OPENAI_BASE_URL: `${mock.url}/v1`,
          SWITCHYARD_API_KEY: ADMIN,
          SWITCHYARD_ENCRYPTION_KEY: ENCRYPTION,
          SWITCHYARD_DATABASE_URL: databaseUrl,
        },
        args: ["--lanes", "1", "--app-dir", join(dir, name)],
      }),
    );
  }
}, 60_000);

afterAll(async () => {
  await Promise.all(gateways.map((gateway) => gateway.stop()));
  await mock?.close();
  await postgres?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const ask = (gateway: RunningGateway, key: string, model = "openai/gpt-4o-mini") =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: key, maxRetries: 0 }).chat.completions
    .create({ model, messages: [{ role: "user", content: "hi" }] })
    .then(
      () => 200,
      (error: { status?: number }) => error.status ?? 0,
    );

describe("admin changes across gateways on one PostgreSQL", () => {
  it("serves a virtual key made on one gateway on the other, and refuses it there once revoked", async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const admin = adminApi(a.url, ADMIN);
    const created = await admin("POST", "/api/keys", { name: "roaming" });
    expect(created.status).toBe(201);
    const key = created.body.key as string;
    await eventually(
      () => ask(b, key),
      (status) => status === 200,
      WITHIN_MS,
    );
    expect((await admin("PATCH", `/api/keys/${created.body.id}`, { active: false })).status).toBe(200);
    await eventually(
      () => ask(b, key),
      (status) => status === 401,
      WITHIN_MS,
    );
    expect(await ask(a, key)).toBe(401);
  });

  it("serves a provider added on one gateway on the other, its key decrypted there", async () => {
    const [a, b] = gateways as [RunningGateway, RunningGateway];
    const admin = adminApi(a.url, ADMIN);
    const added = await admin("POST", "/api/providers", {
      name: "shared-mock",
      kind: "openai",
      base_url: `${mock.url}/v1`,
    });
    expect(added.status).toBe(201);
    const key = await admin("POST", "/api/providers/shared-mock/keys", {
      name: "main",
      secret: "sk-shared-mock-0001",
      models: ["gpt-4o-mini"],
    });
    expect(key.status).toBe(201);
    await eventually(
      () => ask(b, ADMIN, "shared-mock/gpt-4o-mini"),
      (status) => status === 200,
      WITHIN_MS,
    );
    expect(mock.stats.lastRequest?.headers.authorization).toBe("Bearer sk-shared-mock-0001");
  });
});
