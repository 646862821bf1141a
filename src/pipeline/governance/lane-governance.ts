import { hash } from "node:crypto";
import type { LeaseAnswer } from "../../cluster/lease-client.js";
import { type GatewayError, gatewayError } from "../../errors.js";
import type {
  CounterRef,
  GovernanceSnapshot,
  GovernedKey,
  GovernedLimits,
} from "../../governance/snapshot.js";
import { windowEnd, windowStart } from "../../governance/window.js";
import type { ModelPlan, PlanCandidate } from "../../routing/candidates.js";
import { GovernanceCounters } from "../../shm/governance.js";
import { Admission, CounterKind, type Held, type SpendSink } from "./admission.js";
import { COUNTED_BODY_LIMIT, countedPromptTokens, DEFAULT_OUTPUT_TOKENS, outputCapOf } from "./estimate.js";
import type { Pricing } from "./pricing.js";

// Governance as a lane enforces it: which virtual key a request carries, what that key may use, and the
// admission that reserves its limits and budgets before any provider is asked (src/pipeline/governance/admission.ts
// settles them). Built from the control plane's snapshot; swapped whole when it publishes another.

/** Plans narrowed for one key, per requested model; past this many the oldest are narrowed again when asked. */
const PLANS_PER_KEY = 256;

/** A virtual key as a lane uses it. */
export class LaneKey {
  private readonly lists: readonly RegExp[][];
  private readonly plans = new Map<string, ModelPlan | GatewayError>();

  constructor(readonly data: GovernedKey) {
    this.lists = data.modelLists.map((list) => list.map(patternOf));
  }

  /** Whether the key may use `provider/model` (for /v1/models), by its and its team's patterns and providers. */
  allowsListed(qualified: string): boolean {
    const slash = qualified.indexOf("/");
    const provider = qualified.slice(0, slash);
    const model = qualified.slice(slash + 1);
    for (const list of this.lists) if (!list.some((p) => p.test(qualified) || p.test(model))) return false;
    if (this.data.providers.length > 0 && !this.data.providers.includes(provider)) return false;
    const configs = this.data.providerConfigs;
    if (configs.length === 0) return true;
    const config = configs.find((c) => c.provider === provider);
    return (
      config !== undefined &&
      (config.allowedModels.length === 0 ||
        config.allowedModels.some((m) => patternOf(m).test(model) || patternOf(m).test(qualified)))
    );
  }

  /** `plan` as this key may use it: the candidates it allows, weighted by its provider configs. */
  permit(plan: ModelPlan): ModelPlan | GatewayError {
    if (this.lists.length === 0 && this.data.providers.length === 0 && this.data.providerConfigs.length === 0)
      return plan;
    const cached = this.plans.get(plan.name);
    if (cached !== undefined) return cached;
    const candidates: PlanCandidate[] = [];
    for (const candidate of plan.candidates) {
      const allowed = this.allows(plan.name, candidate);
      if (allowed !== undefined) candidates.push(allowed);
    }
    const permitted: ModelPlan | GatewayError =
      candidates.length === 0
        ? gatewayError("model_not_allowed", `This virtual key may not use the model '${plan.name}'.`, "model")
        : candidates.length === plan.candidates.length && candidates.every((c, i) => c === plan.candidates[i])
          ? plan
          : { name: plan.name, candidates };
    if (this.plans.size >= PLANS_PER_KEY) this.plans.delete(this.plans.keys().next().value as string);
    this.plans.set(plan.name, permitted);
    return permitted;
  }

  private allows(requested: string, candidate: PlanCandidate): PlanCandidate | undefined {
    const provider = candidate.provider.name;
    const qualified = `${provider}/${candidate.model}`;
    for (const list of this.lists) {
      if (!list.some((p) => p.test(requested) || p.test(qualified) || p.test(candidate.model)))
        return undefined;
    }
    if (this.data.providers.length > 0 && !this.data.providers.includes(provider)) return undefined;
    const configs = this.data.providerConfigs;
    if (configs.length === 0) return candidate;
    const config = configs.find((c) => c.provider === provider);
    if (config === undefined) return undefined;
    if (
      config.allowedModels.length > 0 &&
      !config.allowedModels.some((m) => {
        const p = patternOf(m);
        return p.test(candidate.model) || p.test(requested) || p.test(qualified);
      })
    )
      return undefined;
    const keyName = candidate.provider.keys[candidate.keyIndex]?.name ?? "";
    if (config.keyNames.length > 0 && !config.keyNames.includes(keyName)) return undefined;
    const weight = config.weight ?? 1;
    return weight === 1 ? candidate : { ...candidate, weight: candidate.weight * weight };
  }
}

/** `*` matches any run of characters; everything else is literal. */
function patternOf(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`);
}

export interface AdmissionRequest {
  readonly requestId: string;
  readonly model: string;
  readonly stream: boolean;
  readonly body: Buffer;
}

/** A shared counter without room in its lease for what a request needs of it. */
export interface Shortfall {
  readonly slot: number;
  readonly amount: number;
}

/**
 * Cluster mode: asks the control plane for more of shared counters' leases, all a request is short of at
 * once (src/cluster/lease-governance.ts); answers whether the lane may try again ("granted"), a cluster's
 * limit is reached, or Redis is away.
 */
export type AskLease = (needs: readonly Shortfall[]) => Promise<LeaseAnswer>;

/** How many times a request short of lease asks for more before it is refused: a burst's other requests may take what a refill brought. */
const LEASE_ROUNDS = 4;

export class LaneGovernance {
  /** Some virtual key exists, or one is required: the front must read the presented key. */
  readonly enforcing: boolean;
  readonly requireVirtualKey: boolean;
  private readonly keys = new Map<string, LaneKey>();
  private readonly counters: GovernanceCounters;

  constructor(
    snapshot: GovernanceSnapshot,
    /** This lane's index: its reservations are kept apart, to be given back if it dies. */
    lane: number,
    /** The price table's view; the lane's metrics price every exchange's usage with it too. */
    readonly pricing: Pricing,
    private readonly sink: SpendSink,
    /** Set in cluster mode. */
    private readonly askLease?: AskLease,
  ) {
    this.requireVirtualKey = snapshot.requireVirtualKey;
    this.enforcing = snapshot.requireVirtualKey || snapshot.keys.length > 0;
    this.counters = new GovernanceCounters(snapshot.counters, lane);
    for (const key of snapshot.keys) this.keys.set(key.hash, new LaneKey(key));
  }

  /**
   * The virtual key `apiKey` is, checked for use now; undefined when it is none (another key, or nothing).
   * Keys are looked up by their SHA-256: the secret is never held.
   */
  identify(apiKey: string, now: number): LaneKey | GatewayError | undefined {
    if (apiKey === "" || this.keys.size === 0) return undefined;
    const key = this.keys.get(hash("sha256", apiKey, "hex"));
    if (key === undefined) return undefined;
    if (!key.data.active) return gatewayError("virtual_key_inactive", "This virtual key is disabled.");
    if (key.data.expiresAt !== undefined && key.data.expiresAt <= now)
      return gatewayError("virtual_key_inactive", "This virtual key has expired.");
    return key;
  }

  /**
   * Reserves the request's place under every limit and budget of its key, its team and its customer, all or
   * none: the first that cannot take it gives back what the others took, and the request is refused. The
   * prompt is first bounded by its bytes (free); only a refusal on that bound pays for the tokenizer's
   * count and tries once more (estimate.ts).
   */
  admit(
    key: LaneKey,
    plan: ModelPlan,
    request: AdmissionRequest,
  ): Admission | GatewayError | Promise<Admission | GatewayError> {
    const outcome = this.attempt(key, plan, request);
    if (outcome instanceof Admission) return outcome;
    if (outcome.short === undefined || this.askLease === undefined) return outcome.error;
    return this.admitWithLease(key, plan, request, outcome, this.askLease);
  }

  /** Cluster mode: a counter's allowance was short; more lease is asked for and admission tried again. */
  private async admitWithLease(
    key: LaneKey,
    plan: ModelPlan,
    request: AdmissionRequest,
    refused: Refusal,
    askLease: AskLease,
  ): Promise<Admission | GatewayError> {
    let last = refused;
    for (let round = 0; round < LEASE_ROUNDS && last.short !== undefined; round++) {
      const answer = await askLease(last.short);
      if (answer === "unreachable") return clusterUnreachable();
      if (answer === "exhausted") return last.error;
      const outcome = this.attempt(key, plan, request);
      if (outcome instanceof Admission) return outcome;
      last = outcome;
    }
    return last.error;
  }

  private attempt(key: LaneKey, plan: ModelPlan, request: AdmissionRequest): Admission | Refusal {
    const data = key.data;
    const modelLimits = data.modelLimits[request.model];
    const needsEstimate =
      data.budgets.length > 0 ||
      data.limits.some((l) => l.tokens !== undefined) ||
      modelLimits?.tokens !== undefined;
    const now = Date.now();
    const held: Held[] = [];
    let refused: Refusal | undefined;
    let estimate: Estimate | undefined;
    if (needsEstimate) {
      const outputCap = outputCapOf(request.body);
      estimate = this.estimate(plan, request.body.length, outputCap);
      refused = this.reserve(data, modelLimits, estimate, now, held);
      if (refused?.byEstimate === true && request.body.length <= COUNTED_BODY_LIMIT) {
        estimate = this.estimate(plan, countedPromptTokens(request.body), outputCap);
        refused = this.reserve(data, modelLimits, estimate, now, held);
      }
    } else refused = this.reserve(data, modelLimits, undefined, now, held);
    if (refused?.short !== undefined) {
      // Every counter the request is short of, so that one ask refills them all.
      const all = this.shortfalls(data, modelLimits, estimate, now);
      if (all.length > 0) return { ...refused, short: all };
    }
    if (refused !== undefined) return refused;
    return new Admission(
      this.counters,
      data,
      held,
      this.sink,
      this.pricing,
      request.requestId,
      request.model,
      request.stream,
      request.body,
    );
  }

  /** Takes every counter's part into `held`, or none and answers why. */
  private reserve(
    data: GovernedKey,
    modelLimits: GovernedLimits | undefined,
    estimate: Estimate | undefined,
    now: number,
    held: Held[],
  ): Refusal | undefined {
    let refused: Refusal | undefined;
    for (let i = 0; i < data.limits.length && refused === undefined; i++)
      refused = this.takeLimits(data.limits[i] as GovernedLimits, estimate, now, held);
    if (refused === undefined && modelLimits !== undefined)
      refused = this.takeLimits(modelLimits, estimate, now, held);
    for (let i = 0; i < data.budgets.length && refused === undefined; i++)
      refused = this.take(
        data.budgets[i] as CounterRef,
        CounterKind.Budget,
        estimate?.costMicros ?? 0,
        now,
        held,
      );
    if (refused === undefined) return undefined;
    const counters = this.counters;
    for (const { ref, amount } of held)
      counters.settle(ref.slot, windowStart(ref.window, ref.anchor, now), amount, 0);
    held.length = 0;
    return refused;
  }

  private takeLimits(
    limits: GovernedLimits,
    estimate: Estimate | undefined,
    now: number,
    held: Held[],
  ): Refusal | undefined {
    const parallel = limits.parallel && this.take(limits.parallel, CounterKind.Parallel, 1, now, held);
    if (parallel !== undefined) return parallel;
    const requests = limits.requests && this.take(limits.requests, CounterKind.Requests, 1, now, held);
    if (requests !== undefined) return requests;
    return limits.tokens && this.take(limits.tokens, CounterKind.Tokens, estimate?.tokens ?? 0, now, held);
  }

  private take(
    ref: CounterRef,
    kind: CounterKind,
    amount: number,
    now: number,
    held: Held[],
  ): Refusal | undefined {
    const counters = this.counters;
    if (counters.reserve(ref.slot, windowStart(ref.window, ref.anchor, now), ref.max, amount)) {
      held.push({ ref, kind, amount });
      return undefined;
    }
    return {
      error: refusal(kind, ref, now),
      byEstimate: kind === CounterKind.Tokens || kind === CounterKind.Budget,
      ...(counters.short ? { short: [{ slot: ref.slot, amount }] } : {}),
    };
  }

  /** Cluster mode: the shared counters of the key whose leases lack room for this request now. */
  private shortfalls(
    data: GovernedKey,
    modelLimits: GovernedLimits | undefined,
    estimate: Estimate | undefined,
    now: number,
  ): Shortfall[] {
    const found: Shortfall[] = [];
    const check = (ref: CounterRef | undefined, amount: number): void => {
      if (
        ref !== undefined &&
        this.counters.room(ref.slot, windowStart(ref.window, ref.anchor, now)) < amount
      )
        found.push({ slot: ref.slot, amount });
    };
    const checkLimits = (limits: GovernedLimits): void => {
      check(limits.parallel, 1);
      check(limits.requests, 1);
      check(limits.tokens, estimate?.tokens ?? 0);
    };
    for (const limits of data.limits) checkLimits(limits);
    if (modelLimits !== undefined) checkLimits(modelLimits);
    for (const budget of data.budgets) check(budget, estimate?.costMicros ?? 0);
    return found;
  }

  /** The request's most: `prompt` tokens plus its output cap, priced at the dearest candidate. */
  private estimate(plan: ModelPlan, prompt: number, outputCap: number): Estimate {
    let costMicros = 0;
    let output = outputCap;
    for (const candidate of plan.candidates) {
      const provider = candidate.provider.name;
      const cap =
        outputCap >= 0
          ? outputCap
          : (this.pricing.maxOutputTokens(provider, candidate.model) ?? DEFAULT_OUTPUT_TOKENS);
      output = Math.max(output, cap);
      costMicros = Math.max(costMicros, this.pricing.estimate(provider, candidate.model, prompt, cap));
    }
    return { tokens: prompt + Math.max(0, output), costMicros };
  }
}

/** Why a reservation failed, and whether a tighter estimate, or more of a cluster lease, might have fitted. */
interface Refusal {
  readonly error: GatewayError;
  readonly byEstimate: boolean;
  /** Cluster mode: the counters whose limits had room and this instance's leases of them had not. */
  readonly short?: readonly Shortfall[];
}

/** Cluster mode with Redis away and the policy to refuse: nothing shared may be admitted (docs/cluster.md). */
function clusterUnreachable(): GatewayError {
  return gatewayError(
    "cluster_unavailable",
    "The gateway cannot reach its cluster's shared state to check this key's limits and budgets; try again shortly.",
    null,
    [["retry-after", "1"]],
  );
}

interface Estimate {
  /** Prompt and output tokens, at most. */
  readonly tokens: number;
  /** What they cost at most, in micro-dollars. */
  readonly costMicros: number;
}

function refusal(kind: CounterKind, ref: CounterRef, now: number): GatewayError {
  const end = windowEnd(ref.window, ref.anchor, windowStart(ref.window, ref.anchor, now));
  const retryAfter = Number.isFinite(end)
    ? [["retry-after", String(Math.max(1, Math.ceil((end - now) / 1000)))] as const]
    : [];
  switch (kind) {
    case CounterKind.Parallel:
      return gatewayError(
        "parallel_limit_exceeded",
        "Too many requests of this virtual key are under way at once; try again when one has finished.",
        null,
        [["retry-after", "1"]],
      );
    case CounterKind.Requests:
      return gatewayError(
        "rate_limit_exceeded",
        "This virtual key's request limit is reached for now.",
        null,
        retryAfter,
      );
    case CounterKind.Tokens:
      return gatewayError(
        "rate_limit_exceeded",
        "This virtual key's token limit is reached for now.",
        null,
        retryAfter,
      );
    case CounterKind.Budget:
      return gatewayError(
        "budget_exceeded",
        Number.isFinite(end)
          ? "The budget of this virtual key (or of its team or customer) cannot cover this request until its window resets."
          : "The budget of this virtual key (or of its team or customer) cannot cover this request.",
        null,
        retryAfter,
      );
  }
}
