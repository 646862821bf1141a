/** Command line of `npm run bench` (bench/run.ts), apart so that its parsing is tested without a run. */
export const SCENARIOS = [
  "overhead",
  "throughput",
  "inflight",
  "streaming",
  "chaos",
  "flood",
  "hostile",
  "cache",
] as const;
export type Scenario = (typeof SCENARIOS)[number];
/** Proofs against Switchyard alone, each with its own mocks and gateway; a failed one fails the run. */
export const PROOFS: readonly Scenario[] = ["chaos", "flood", "hostile"];
/** Scenarios that start their own gateways and mocks, after the shared targets have stopped. */
export const SELF_CONTAINED: readonly Scenario[] = [...PROOFS, "cache"];
export const TARGETS = [
  "direct",
  "switchyard",
  "switchyard-hooks",
  "switchyard-governed",
  "switchyard-logged",
  "switchyard-logged-meta",
  "switchyard-watched",
  "switchyard-cluster",
  "switchyard-lb1",
  "switchyard-lb3",
  "portkey",
  "bifrost",
  "litellm",
  "litellm-2w",
] as const;
export type TargetName = (typeof TARGETS)[number];
/** Gateways measured beside Switchyard, in the order of the table. */
export const PEERS = ["portkey", "bifrost", "litellm", "litellm-2w"] as const;

export interface Args {
  smoke: boolean;
  only: Set<Scenario>;
  targets: Set<TargetName>;
  /** The targets were named with --targets (LiteLLM is installed and started only when asked). */
  targetsNamed: boolean;
}

export function parseArgs(argv: readonly string[]): Args {
  const args: Args = {
    smoke: false,
    only: new Set(SCENARIOS),
    targets: new Set(TARGETS),
    targetsNamed: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const [flag, inline] = a.includes("=") ? (a.split("=", 2) as [string, string]) : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === "--smoke") args.smoke = true;
    else if (flag === "--only") {
      const list = value().split(",");
      for (const s of list) if (!SCENARIOS.includes(s as Scenario)) throw new Error(`unknown scenario ${s}`);
      args.only = new Set(list as Scenario[]);
    } else if (flag === "--targets") {
      const list = value().split(",");
      for (const t of list) if (!TARGETS.includes(t as TargetName)) throw new Error(`unknown target ${t}`);
      args.targets = new Set(["direct", ...(list as TargetName[])]);
      args.targetsNamed = true;
    } else throw new Error(`unknown flag ${a} (known: --smoke, --only, --targets)`);
  }
  return args;
}
