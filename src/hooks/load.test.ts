import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { hookRequest } from "../../test/helpers/hook-request.js";
import { DEFAULT_CLIENT } from "../config/defaults.js";
import type { GatewayConfig, PluginSpec } from "../config/types.js";
import { PluginChain } from "./chain.js";
import { loadPluginChain } from "./load.js";

const dir = mkdtempSync(join(tmpdir(), "switchyard-plugins-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(plugins: PluginSpec[], extra: Partial<GatewayConfig> = {}): GatewayConfig {
  return { providers: {}, client: DEFAULT_CLIENT, source: join(dir, "config.json"), plugins, ...extra };
}

const spec = (path: string, options: unknown = {}): PluginSpec => ({ path, options, enabled: true });

/** A module whose plugin refuses every request with `code`, and reads the options it was given. */
function writeRefusing(file: string, code: string): void {
  writeFileSync(
    join(dir, file),
    `export default function (options) {
       return { name: "refuser", onRequest: () => ({ refuse: { status: 403, message: String(options.why), code: ${JSON.stringify(code)} } }) };
     }`,
  );
}

const refusalCode = async (chain: PluginChain): Promise<unknown> => {
  const verdict = await chain.onRequest(hookRequest());
  return verdict !== undefined && "refuse" in verdict ? verdict.refuse.code : undefined;
};

describe("loadPluginChain", () => {
  it("is the empty chain without plugins or a master key", async () => {
    expect(await loadPluginChain(config([]))).toBe(PluginChain.empty);
    expect(await loadPluginChain(config([{ ...spec("x.mjs"), enabled: false }]))).toBe(PluginChain.empty);
  });

  it("puts the master key first, then each enabled spec in order", async () => {
    writeRefusing("order.mjs", "from-module");
    const chain = await loadPluginChain(
      config(
        [
          { builtin: "header_allowlist", options: { headers: ["x-trace-id"] }, enabled: true },
          { ...spec("missing.mjs"), enabled: false },
          spec("order.mjs", { why: "no" }),
        ],
        { masterKey: "sk-master" },
      ),
    );
    expect(chain.names).toEqual(["master_key", "header_allowlist", "refuser"]);
    expect(chain.requestHeaders).toEqual(["x-trace-id"]);
    expect(chain.authenticate("sk-master", "openai.chat")).toBeUndefined();
    expect(await refusalCode(chain)).toBe("from-module");
  });

  it("resolves a module's path against the configuration file's directory and gives it its options", async () => {
    mkdirSync(join(dir, "nested"), { recursive: true });
    writeFileSync(
      join(dir, "nested", "named.mjs"),
      `export function createPlugin(options) { return { name: "named-" + options.suffix }; }`,
    );
    const chain = await loadPluginChain(config([spec("./nested/named.mjs", { suffix: "x" })]));
    expect(chain.names).toEqual(["named-x"]);
  });

  it("takes a CommonJS module's exported function, or its createPlugin", async () => {
    writeFileSync(join(dir, "cjs-default.cjs"), `module.exports = () => ({ name: "cjs-default" });`);
    writeFileSync(join(dir, "cjs-named.cjs"), `exports.createPlugin = async () => ({ name: "cjs-named" });`);
    const chain = await loadPluginChain(config([spec("cjs-default.cjs"), spec("cjs-named.cjs")]));
    expect(chain.names).toEqual(["cjs-default", "cjs-named"]);
  });

  it("imports an edited module afresh on the next load, ES module and CommonJS alike", async () => {
    writeRefusing("edited.mjs", "first");
    expect(await refusalCode(await loadPluginChain(config([spec("edited.mjs", { why: 1 })])))).toBe("first");
    writeRefusing("edited.mjs", "second");
    expect(await refusalCode(await loadPluginChain(config([spec("edited.mjs", { why: 1 })])))).toBe("second");

    writeFileSync(join(dir, "edited.cjs"), `module.exports = () => ({ name: "cjs-one" });`);
    expect((await loadPluginChain(config([spec("edited.cjs")]))).names).toEqual(["cjs-one"]);
    writeFileSync(join(dir, "edited.cjs"), `module.exports = () => ({ name: "cjs-two" });`);
    expect((await loadPluginChain(config([spec("edited.cjs")]))).names).toEqual(["cjs-two"]);
  });

  it("resolves paths against the working directory when the configuration comes from the environment", async () => {
    writeFileSync(join(dir, "cwd.mjs"), `export default () => ({ name: "from-cwd" });`);
    const cwd = vi.spyOn(process, "cwd").mockReturnValue(dir);
    try {
      const chain = await loadPluginChain({ ...config([spec("cwd.mjs")]), source: "environment" });
      expect(chain.names).toEqual(["from-cwd"]);
    } finally {
      cwd.mockRestore();
    }
  });

  it("names the spec and the reason when a plugin cannot load", async () => {
    writeFileSync(join(dir, "syntax.mjs"), "export default function (options {");
    writeFileSync(join(dir, "no-factory.mjs"), "export const x = 1;");
    writeFileSync(join(dir, "throws.mjs"), `export default () => { throw new Error("needs a token"); };`);
    writeFileSync(join(dir, "returns-nothing.mjs"), "export default () => undefined;");
    writeFileSync(join(dir, "bad-name.mjs"), `export default () => ({ name: "has space" });`);
    writeFileSync(join(dir, "plugin.ts"), "export default () => ({ name: 'ts' });");
    const cases: [PluginSpec, RegExp][] = [
      [spec("absent.mjs"), /plugin module absent\.mjs: cannot read .*absent\.mjs: ENOENT/],
      [spec("syntax.mjs"), /plugin module syntax\.mjs: cannot import it: /],
      [spec("no-factory.mjs"), /plugin module no-factory\.mjs: exports no factory/],
      [spec("throws.mjs"), /plugin module throws\.mjs: its factory failed: needs a token/],
      [
        spec("returns-nothing.mjs"),
        /returns-nothing\.mjs: its factory returned undefined, not a plugin object/,
      ],
      [spec("bad-name.mjs"), /plugin name "has space" must be/],
      [
        spec("plugin.ts"),
        /plugin module plugin\.ts: a plugin module must be JavaScript \(\.js, \.mjs, \.cjs\)/,
      ],
      [
        { builtin: "nope", options: {}, enabled: true },
        /built-in nope: no such built-in plugin; the built-ins are header_allowlist/,
      ],
      [
        { builtin: "header_allowlist", options: {}, enabled: true },
        /built-in header_allowlist: its factory failed: .*options\.headers/,
      ],
      [
        { name: "neither", options: {}, enabled: true },
        /plugin "neither" module \(no path\): give either a path/,
      ],
    ];
    for (const [bad, reason] of cases) await expect(loadPluginChain(config([bad]))).rejects.toThrow(reason);
  });

  it("closes the plugins already made when a later one fails", async () => {
    const closed = join(dir, "closed.txt");
    writeFileSync(
      join(dir, "closes.mjs"),
      `import { writeFileSync } from "node:fs";
       export default () => ({ name: "closes", close() { writeFileSync(${JSON.stringify(closed)}, "yes"); } });`,
    );
    await expect(loadPluginChain(config([spec("closes.mjs"), spec("absent.mjs")]))).rejects.toThrow(/absent/);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(closed, "utf8")).toBe("yes");
  });

  it("gives up on a factory that never finishes", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      writeFileSync(join(dir, "hangs.mjs"), "export default () => new Promise(() => {});");
      let outcome: unknown;
      loadPluginChain(config([spec("hangs.mjs")])).then(
        () => {
          outcome = "loaded";
        },
        (error: Error) => {
          outcome = error.message;
        },
      );
      // Reading and importing the module take real time (more on a loaded machine), so the loop waits on the
      // real clock; the factory's deadline runs on the fake one.
      const realDeadline = Date.now() + 30_000;
      while (outcome === undefined && Date.now() < realDeadline) {
        await new Promise((resolve) => setImmediate(resolve));
        vi.advanceTimersByTime(1_000);
      }
      expect(outcome).toMatch(/hangs\.mjs: its factory failed: did not finish within 10 s/);
    } finally {
      vi.useRealTimers();
    }
  });
});
