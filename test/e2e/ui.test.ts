import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { launchChromium, openPage, PHONE, type WatchedPage } from "../helpers/browser.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// The web UI in a real headless Chromium against a real gateway serving it at `/`: sign in, add a provider
// pointing at the OpenAI mock, make a virtual key, send requests with the official SDK using it, watch them in
// the logs and the live tail, see the key's budget bar move, disable the provider's key and see the SDK's
// request fail until it is enabled again, revoke the key and see the SDK refused. Each page
// is photographed into docs/ui/ (committed, shown in the README).

const ADMIN = "sk-admin-ui-test";
const UPSTREAM_SECRET = "sk-upstream-ui-test-0123456789";
const MODEL = "mock/gpt-4o-mini";
/** A name that would be markup if the UI ever wrote API values as HTML. */
const KEY_NAME = "<b>ui-test</b>";
/**
 * Every page is photographed; the pictures replace the committed ones in docs/ui/ only with
 * SWITCHYARD_UI_SCREENSHOTS=1, so that a test run leaves the work tree as it was (CI checks it).
 */
const SHOTS =
  process.env.SWITCHYARD_UI_SCREENSHOTS === "1"
    ? fileURLToPath(new URL("../../docs/ui/", import.meta.url))
    : mkdtempSync(join(tmpdir(), "switchyard-ui-shots-"));

let mock: MockServer;
let gateway: RunningGateway;
let appDir: string;
let browser: Browser;
let watched: WatchedPage;
let page: Page;
let secret = "";

const shot = (name: string, target: Page = page) =>
  target.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

const go = async (route: string, heading: string) => {
  await page.goto(`${gateway.url}/#/${route}`);
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
};

const ask = (apiKey: string) =>
  new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 }).chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "Say hello to the UI test" }],
  });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  appDir = mkdtempSync(join(tmpdir(), "switchyard-ui-"));
  mock = await startOpenAIMock({ requireKey: UPSTREAM_SECRET });
  gateway = await startGateway({
    env: {
      SWITCHYARD_API_KEY: ADMIN,
      SWITCHYARD_ENCRYPTION_KEY: "ui-test-encryption-key",
      SWITCHYARD_LOG_FLUSH_MS: "20",
    },
    args: ["--app-dir", appDir],
  });
  browser = await launchChromium();
  watched = await openPage(browser);
  page = watched.page;
});

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await mock?.close();
  rmSync(appDir, { recursive: true, force: true });
});

describe("the web UI", () => {
  it("signs in with the admin key, kept in the session and never in the URL", async () => {
    await page.goto(`${gateway.url}/`);
    const key = page.getByLabel("Admin key");
    await key.fill("not-the-key");
    await key.press("Enter");
    await page.getByRole("alert").filter({ hasText: "refused" }).waitFor();
    await shot("sign-in");
    await key.fill(ADMIN);
    await key.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
    expect(page.url()).not.toContain(ADMIN);
    expect(await page.evaluate('sessionStorage.getItem("switchyard.adminKey")')).toBe(ADMIN);
  });

  it("adds a provider pointing at the mock, and a key to it whose secret is shown masked", async () => {
    await go("providers", "Providers");
    await page.getByLabel("Name").fill("mock");
    await page.getByLabel("Kind").fill("openai");
    await page.getByLabel("Base URL").fill(`${mock.url}/v1`);
    await page.getByRole("button", { name: "Add provider" }).click();
    const card = page.locator('section[data-provider="mock"]');
    await card.getByRole("button", { name: "Add key" }).click();
    await card.getByLabel("Key name").fill("main");
    await card.getByLabel("Secret").fill(UPSTREAM_SECRET);
    await card.getByLabel("Models").fill("gpt-4o-mini");
    await card.getByLabel("Secret").press("Enter");
    await card.getByRole("cell", { name: "sk-…6789" }).waitFor();
    expect(await page.content()).not.toContain(UPSTREAM_SECRET);
    // Test sends one cheap request to the mock with the key.
    await card.getByRole("button", { name: "Test" }).click();
    await card.getByText(/^Test of main: works/).waitFor();
    await shot("providers");
  });

  it("creates a virtual key with a budget and shows its secret once", async () => {
    await go("keys", "Virtual keys");
    await page.getByLabel("Name").fill(KEY_NAME);
    await page.getByLabel("New budget ($)").fill("0.05");
    await page.getByRole("button", { name: "Create key" }).click();
    secret = (await page.locator(".secret").textContent()) ?? "";
    expect(secret).toMatch(/^sk-/);
    await page.getByRole("button", { name: "Copy" }).waitFor();
    // The name is text on the page, not markup.
    const row = page.getByRole("row").filter({ hasText: KEY_NAME });
    await row.waitFor();
    expect(await page.locator("td b").count()).toBe(0);
    expect(await row.getByRole("meter").getAttribute("aria-valuenow")).toBe("0");
  });

  it("shows the key's requests arriving in the live tail and in the logs, with their detail", async () => {
    await go("logs", "Logs");
    await page.getByRole("button", { name: /^Live tail/ }).click();
    await page.getByRole("button", { name: "Live tail: live" }).waitFor();
    for (let i = 0; i < 3; i++) expect((await ask(secret)).choices[0]?.message.role).toBe("assistant");
    const rows = page.locator("tbody tr").filter({ hasText: MODEL });
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);

    await page.getByRole("button", { name: /^Live tail/ }).click();
    await page.getByLabel("Model").fill(MODEL);
    await page.getByLabel("Model").press("Enter");
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    await shot("logs");

    await rows.first().getByRole("button").focus();
    await page.keyboard.press("Enter");
    const detail = page.getByRole("dialog", { name: "Request detail" });
    await detail.getByText("Say hello to the UI test").waitFor();
    await detail.getByText("Fallback index").waitFor();
    await shot("log-detail");
    await page.keyboard.press("Escape");
    await detail.waitFor({ state: "hidden" });
    await expect.poll(() => page.evaluate('document.activeElement?.closest("tbody") !== null')).toBe(true);
  });

  it("shows the key's budget bar move with its spend", async () => {
    await expect
      .poll(
        async () => {
          await go("keys", "Virtual keys");
          const meter = page.getByRole("row").filter({ hasText: KEY_NAME }).getByRole("meter");
          return Number(await meter.getAttribute("aria-valuenow"));
        },
        { timeout: 15_000 },
      )
      .toBeGreaterThan(0);
    await shot("keys");
  });

  it("disables the provider's key, after which a request through it fails clearly, and enables it again", async () => {
    await go("providers", "Providers");
    const card = page.locator('section[data-provider="mock"]');
    const row = card.getByRole("row").filter({ hasText: "main" });
    await row.getByRole("button", { name: "Disable" }).click();
    await row.getByText("disabled", { exact: true }).waitFor();
    await page
      .getByText(/^Key main disabled: mock no longer uses it, and with no key enabled refuses/)
      .waitFor();
    await expect(ask(secret)).rejects.toMatchObject({
      status: 503,
      code: "provider_keys_disabled",
      message: expect.stringContaining("Every key of provider 'mock' is disabled"),
    });

    await row.getByRole("button", { name: "Enable" }).click();
    await row.getByText("enabled", { exact: true }).waitFor();
    expect((await ask(secret)).choices[0]?.message.role).toBe("assistant");
  });

  it("revokes the key, after which the SDK's next request is refused", async () => {
    await go("keys", "Virtual keys");
    const row = page.getByRole("row").filter({ hasText: KEY_NAME });
    await row.getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("row").filter({ hasText: KEY_NAME }).getByText("revoked").waitFor();
    await expect(ask(secret)).rejects.toMatchObject({ status: 401 });
  });

  it("draws the dashboard from the log's statistics, at desktop and phone width", async () => {
    await go("dashboard", "Dashboard");
    await page.getByRole("cell", { name: MODEL }).waitFor();
    await page.getByRole("heading", { name: /^Live/ }).getByText("live").waitFor();
    // The live counters count what arrives while the page is open (the admin key serves inference too;
    // a record of the earlier traffic may still arrive, so the last request is what tells this one).
    await ask(ADMIN);
    const last = page.locator(".tile").filter({ hasText: "Last request" });
    await last.getByText(`${MODEL} · 200`).waitFor();
    const since = page.locator(".tile").filter({ hasText: "Requests since opened" }).locator("strong");
    expect(Number(await since.textContent())).toBeGreaterThanOrEqual(1);
    expect(await page.locator(".uplot").count()).toBe(4);
    await shot("dashboard");

    const phone = await openPage(browser, PHONE);
    await phone.page.goto(`${gateway.url}/`);
    await phone.page.getByLabel("Admin key").fill(ADMIN);
    await phone.page.getByLabel("Admin key").press("Enter");
    await phone.page.getByRole("cell", { name: MODEL }).waitFor();
    // Nothing wider than the screen: wide tables scroll inside their own box.
    expect(await phone.page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
      PHONE.width,
    );
    await shot("dashboard-phone", phone.page);
    expect(phone.problems).toEqual([]);
    await phone.context.close();
  });

  it("creates a customer and a team under it, each with a budget, and lists every budget", async () => {
    await go("customers", "Customers");
    await page.getByLabel("Id").fill("acme");
    await page.getByLabel("Name").fill("ACME Corp");
    await page.getByLabel("New budget ($)").fill("100");
    await page.getByLabel("Period").fill("1mo");
    await page.getByRole("button", { name: "Create customer" }).click();
    await page.getByRole("row").filter({ hasText: "ACME Corp" }).getByRole("meter").waitFor();
    await shot("customers");

    await go("teams", "Teams");
    await page.getByLabel("Id").fill("research");
    await page.getByLabel("Name").fill("Research");
    await page.getByLabel("Customer").selectOption("acme");
    await page.getByLabel("New budget ($)").fill("25");
    await page.getByLabel("Period").fill("1w");
    await page.getByRole("button", { name: "Create team" }).click();
    const team = page.getByRole("row").filter({ hasText: "Research" });
    await team.getByText("acme").waitFor();
    await team.getByRole("meter").waitFor();
    await shot("teams");

    await go("budgets", "Budgets");
    // The key's, the customer's and the team's.
    await expect.poll(() => page.getByRole("meter").count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await shot("budgets");
  });

  it("shows routing and the effective configuration", async () => {
    await go("routing", "Routing");
    await page.getByRole("heading", { name: "Model groups" }).waitFor();
    await page.getByRole("cell", { name: "mock", exact: true }).first().waitFor();
    await shot("routing");
    await go("config", "Config");
    await page.getByRole("heading", { name: "Reload" }).waitFor();
    await shot("config");
  });

  it("keeps its layout with a long model name, at desktop and phone width, and is driven by keyboard", async () => {
    const longModel = `mock/${"a-very-long-model-name-".repeat(10)}end`;
    await expect(
      new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: ADMIN, maxRetries: 0 }).chat.completions.create({
        model: longModel,
        messages: [{ role: "user", content: "long name" }],
      }),
    ).rejects.toMatchObject({ status: expect.any(Number) });

    for (const viewport of [undefined, PHONE]) {
      const view = await openPage(browser, viewport);
      await view.page.goto(`${gateway.url}/#/logs`);
      await view.page.getByLabel("Admin key").fill(ADMIN);
      await view.page.getByLabel("Admin key").press("Enter");
      const row = view.page.locator("tbody tr").filter({ hasText: "a-very-long-model-name" }).first();
      await row.waitFor({ timeout: 10_000 });
      const width = viewport?.width ?? 1280;
      expect(await view.page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(width);
      // Keyboard only: the row opens with Enter, its detail keeps within the screen, Escape closes it.
      await row.getByRole("button").focus();
      await view.page.keyboard.press("Enter");
      const detail = view.page.getByRole("dialog", { name: "Request detail" });
      await detail.getByText("long name").waitFor();
      const box = await detail.boundingBox();
      expect(box && box.x >= 0 && box.x + box.width <= width).toBe(true);
      await view.page.keyboard.press("Escape");
      await detail.waitFor({ state: "hidden" });
      // The page links are reachable with Tab and followed with Enter.
      const focused = () => view.page.evaluate('document.activeElement?.textContent === "Routing"');
      for (let i = 0; i < 60 && !(await focused()); i++) {
        await view.page.keyboard.press("Tab");
      }
      await view.page.keyboard.press("Enter");
      await view.page.getByRole("heading", { level: 1, name: "Routing" }).waitFor();
      expect(view.problems).toEqual([]);
      await view.context.close();
    }
  });

  it("ran without a script error or a Content-Security-Policy refusal", () => {
    expect(watched.problems).toEqual([]);
  });
});

describe("the web UI of a gateway without an admin key", () => {
  it("says the gateway is unprotected and how to protect it", async () => {
    const open = await startGateway();
    try {
      const { page: bare, problems, context } = await openPage(browser);
      await bare.goto(`${open.url}/`);
      await bare.getByRole("heading", { name: "This gateway is unprotected" }).waitFor();
      expect(await bare.locator("main").textContent()).toContain("SWITCHYARD_API_KEY");
      expect(problems).toEqual([]);
      await context.close();
    } finally {
      await open.stop();
    }
  });
});
