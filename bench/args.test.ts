import { describe, expect, it } from "vitest";
import { parseArgs, SCENARIOS, TARGETS } from "./args.js";

describe("parseArgs", () => {
  it("selects every scenario and target by default, without naming any target", () => {
    const args = parseArgs([]);
    expect([...args.only]).toEqual([...SCENARIOS]);
    expect([...args.targets]).toEqual([...TARGETS]);
    expect(args.targetsNamed).toBe(false);
    expect(args.smoke).toBe(false);
  });

  it("accepts the peers in --targets and always keeps direct as the baseline", () => {
    const args = parseArgs(["--smoke", "--targets", "switchyard,bifrost,litellm,litellm-2w"]);
    expect(args.smoke).toBe(true);
    expect([...args.targets]).toEqual(["direct", "switchyard", "bifrost", "litellm", "litellm-2w"]);
    expect(args.targetsNamed).toBe(true);
  });

  it("accepts the cluster-mode targets", () => {
    const args = parseArgs([
      "--targets",
      "switchyard-governed,switchyard-cluster,switchyard-lb1,switchyard-lb3",
    ]);
    expect([...args.targets]).toEqual([
      "direct",
      "switchyard-governed",
      "switchyard-cluster",
      "switchyard-lb1",
      "switchyard-lb3",
    ]);
  });

  it("takes inline values", () => {
    const args = parseArgs(["--only=overhead,throughput", "--targets=bifrost"]);
    expect([...args.only]).toEqual(["overhead", "throughput"]);
    expect([...args.targets]).toEqual(["direct", "bifrost"]);
  });

  it("rejects unknown targets, scenarios and flags, and a flag without its value", () => {
    expect(() => parseArgs(["--targets", "switchyard,kong"])).toThrow("unknown target kong");
    expect(() => parseArgs(["--only", "latency"])).toThrow("unknown scenario latency");
    expect(() => parseArgs(["--fast"])).toThrow("unknown flag --fast");
    expect(() => parseArgs(["--targets"])).toThrow("--targets needs a value");
  });
});
