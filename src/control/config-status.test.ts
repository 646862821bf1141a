import { describe, expect, it } from "vitest";
import { ConfigStatusControl } from "./config-status.js";

describe("ConfigStatusControl", () => {
  it("keeps the start-up warnings and tells how the last reload went", () => {
    let now = 1_000;
    const status = new ConfigStatusControl(["ignored key x"], true, () => now);
    expect(status.status([])).toEqual({
      startupWarnings: ["ignored key x"],
      reloadWarnings: [],
      apiWarnings: [],
      watching: true,
    });
    status.reloaded(["ignored key y"]);
    expect(status.status([])).toMatchObject({
      reloadWarnings: ["ignored key y"],
      lastReload: { at: 1_000, ok: true },
    });
    now = 2_000;
    status.rejected(new Error("invalid configuration in c.json:\n  - providers.x: unknown kind"));
    // A refused version leaves the warnings of the one still served.
    expect(status.status([])).toMatchObject({
      startupWarnings: ["ignored key x"],
      reloadWarnings: ["ignored key y"],
      lastReload: {
        at: 2_000,
        ok: false,
        error: "invalid configuration in c.json:\n  - providers.x: unknown kind",
      },
    });
  });
});
