import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type AdminCall, adminApi, eventually } from "../helpers/admin-api.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The built gateway serving a web UI from a directory (SWITCHYARD_UI_DIR) at `/` beside its inference
// routes, and the management routes the UI reads: /api/config, /api/routing and the provider key test.

const ADMIN = "sk-admin-ui-serving-test-0123456789";
const UPSTREAM = "sk-upstream-ui-serving-0123456789";
const WRONG = "sk-upstream-wrong-key-0123456789";
const INDEX =
  '<!doctype html><title>Switchyard</title><script type="module" src="/ui/assets/app-1a2b.js"></script>';
const SCRIPT = "document.title = 'Switchyard';";

const errorOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string; message: string } }).error;

let mock: MockServer;
let gateway: RunningGateway;
let admin: AdminCall;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-ui-serving-"));
  const ui = join(dir, "ui");
  mkdirSync(join(ui, "assets"), { recursive: true });
  writeFileSync(join(ui, "index.html"), INDEX);
  writeFileSync(join(ui, "assets", "app-1a2b.js"), SCRIPT);
  mock = await startOpenAIMock({ requireKey: UPSTREAM });
  writeFileSync(
    join(dir, "config.json"),
    JSON.stringify({
      providers: {
        openai: {
          keys: [
            { name: "main", value: UPSTREAM, models: ["gpt-4o-mini"], weight: 1 },
            { name: "stale", value: WRONG, models: ["gpt-4o"], weight: 1 },
          ],
          network_config: { base_url: mock.url },
        },
      },
    }),
  );
  gateway = await startGateway({
    env: { SWITCHYARD_API_KEY: ADMIN, SWITCHYARD_UI_DIR: ui },
    args: ["--lanes", "2", "--app-dir", dir, "--config", join(dir, "config.json")],
  });
  admin = adminApi(gateway.url, ADMIN);
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the web UI's files", () => {
  it("serves index.html at / with the UI's security headers, no key needed", async () => {
    const response = await fetch(`${gateway.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("content-security-policy")).toMatch(/^default-src 'self'; /);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(await response.text()).toBe(INDEX);
    expect(gateway.output()).toMatch(/web UI: http:\/\/.*\/ \(2 files/);
  });

  it("serves the assets under /ui/, HEAD without a body, and refuses what is not there", async () => {
    const script = await fetch(`${gateway.url}/ui/assets/app-1a2b.js`);
    expect(script.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(script.headers.get("cache-control")).toBe("no-cache");
    expect(await script.text()).toBe(SCRIPT);
    const head = await fetch(`${gateway.url}/ui/assets/app-1a2b.js`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    expect(await (await fetch(`${gateway.url}/ui/keys`)).text()).toBe(INDEX);
    const missing = await fetch(`${gateway.url}/ui/assets/missing.js`);
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe("unknown_route");
    const traversal = await fetch(`${gateway.url}/ui/%2e%2e/%2e%2e/package.json`);
    expect(traversal.status).toBe(404);
    const posted = await fetch(`${gateway.url}/`, { method: "POST", body: "{}" });
    expect(posted.status).toBe(405);
    expect(posted.headers.get("allow")).toBe("GET, HEAD");
  });

  it("leaves the inference routes as they were", async () => {
    const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "Hi" }] }),
    });
    expect(chat.status).toBe(200);
    expect(
      ((await chat.json()) as { choices: { message: { content: unknown } }[] }).choices[0]?.message.content,
    ).toBeTypeOf("string");
    const unknown = await fetch(`${gateway.url}/v2/nothing`);
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe("unknown_route");
    expect((await fetch(`${gateway.url}/health`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(401);
  });
});

describe("the management routes the UI reads", () => {
  it("require the admin key", async () => {
    for (const path of ["/api/config", "/api/routing"]) {
      expect((await fetch(`${gateway.url}${path}`)).status).toBe(401);
      expect((await adminApi(gateway.url, "sk-not-the-admin-key")("GET", path)).status).toBe(401);
    }
    const test = await fetch(`${gateway.url}/api/providers/openai/keys/main/test`, { method: "POST" });
    expect(test.status).toBe(401);
  });

  it("/api/config shows the served configuration without a secret", async () => {
    const { status, body } = await admin("GET", "/api/config");
    expect(status).toBe(200);
    expect(body.source).toBe(join(dir, "config.json"));
    expect(body.config.master_key_set).toBe(true);
    expect(body.config.providers[0].keys[0]).toMatchObject({ name: "main", secret: "sk-…6789" });
    expect(body.reload).toEqual({ watching: true, last_at: null, ok: null, error: null });
    const text = JSON.stringify(body);
    for (const secret of [ADMIN, UPSTREAM, WRONG]) expect(text).not.toContain(secret);
  });

  it("/api/routing shows the deployments with the lanes' live state", async () => {
    const routing = await eventually(
      async () => (await admin("GET", "/api/routing")).body,
      (body) => body.providers[0].deployments[0].live !== null,
    );
    const provider = routing.providers[0];
    expect(provider).toMatchObject({ name: "openai", in_flight: 0, queued: 0 });
    expect(provider.deployments[0]).toMatchObject({ key: "main", model: "gpt-4o-mini" });
    expect(provider.deployments[0].live).toMatchObject({ circuit: "CLOSED", in_flight: 0 });
    expect(provider.deployments[0].live.samples).toBeGreaterThanOrEqual(1);
    expect(routing.settings.strategy).toBe("weighted");
  });

  it("tests a provider key against the provider: the right key passes, a wrong one shows its error", async () => {
    const right = await admin("POST", "/api/providers/openai/keys/main/test", {});
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ ok: true, status: 200 });
    const wrong = await admin("POST", "/api/providers/openai/keys/stale/test", {});
    expect(wrong.body).toMatchObject({ ok: false, status: 401 });
    expect(wrong.body.message).toContain("Incorrect API key");
    expect(JSON.stringify(wrong.body)).not.toContain(WRONG);
  });

  it("are in the OpenAPI document", async () => {
    const { body } = await admin("GET", "/api/openapi.json");
    expect(Object.keys(body.paths)).toEqual(
      expect.arrayContaining(["/api/config", "/api/routing", "/api/providers/{name}/keys/{id}/test"]),
    );
  });
});

describe("a build without the UI", () => {
  it("answers / with a 404 that names the missing build", async () => {
    const bare = await startGateway({
      env: { SWITCHYARD_UI_DIR: join(dir, "no-ui-here") },
      args: ["--lanes", "1", "--app-dir", join(dir, "bare")],
    });
    try {
      const response = await fetch(`${bare.url}/`);
      expect(response.status).toBe(404);
      expect((await errorOf(response)).message).toMatch(/without its web UI.*npm run build/);
      expect(bare.output()).toMatch(/web UI: not served \(the web UI is not built/);
    } finally {
      await bare.stop();
    }
  });
});
