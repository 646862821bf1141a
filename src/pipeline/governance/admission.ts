import type { CounterRef, GovernedKey } from "../../governance/snapshot.js";
import type { SpendRecord } from "../../governance/types.js";
import { windowStart } from "../../governance/window.js";
import { emptyUsage, type Usage } from "../../observability/usage.js";
import type { GovernanceCounters } from "../../shm/governance.js";
import { countedPromptTokens, DEFAULT_OUTPUT_TOKENS, outputCapOf } from "./estimate.js";
import type { Pricing } from "./pricing.js";
import { countStreamedTokens } from "./streamed-tokens.js";

// One admitted request's hold on its key's counters: what it reserved of each, settled exactly once when
// the request ends, with what it really used.

/** Where finished requests' spend goes (the lane's outbox to the control plane). */
export interface SpendSink {
  record(record: SpendRecord): void;
}

export enum CounterKind {
  Requests,
  Tokens,
  Parallel,
  Budget,
}

export interface Held {
  readonly ref: CounterRef;
  readonly kind: CounterKind;
  readonly amount: number;
}

/** Relayed stream text past this is not kept for counting; what was kept is counted and the rest estimated. */
const MAX_KEPT_CHARS = 4 * 1024 * 1024;

export class Admission {
  private settled = false;
  /** A stream's relayed pieces, kept only to count a cut-off stream's tokens when the provider sent no usage. */
  private pieces: (Uint8Array | string)[] | undefined;
  private keptChars = 0;

  constructor(
    private readonly counters: GovernanceCounters,
    private readonly key: GovernedKey,
    private readonly held: readonly Held[],
    private readonly sink: SpendSink,
    private readonly pricing: Pricing,
    private readonly requestId: string,
    private readonly requestedModel: string,
    private readonly stream: boolean,
    /** The request body: its prompt is counted when a stream is cut off before the provider said its usage. */
    private readonly body: Buffer,
  ) {
    if (stream) this.pieces = [];
  }

  /** The virtual key's id, which traces name. */
  get keyId(): string {
    return this.key.id;
  }

  /** A piece of the streamed reply as the client got it. */
  relayed(piece: Uint8Array | string): void {
    const pieces = this.pieces;
    if (pieces === undefined || this.keptChars > MAX_KEPT_CHARS) return;
    pieces.push(piece);
    this.keptChars += piece.length;
  }

  /**
   * The request ended: each counter gives back what was reserved and takes what was used. `provider` is ""
   * when no provider answered (nothing is charged but the request itself).
   */
  settle(status: number, provider: string, model: string, usage: Usage | undefined): void {
    if (this.settled) return;
    this.settled = true;
    const used: Usage = usage === undefined ? emptyUsage() : { ...usage };
    let estimated = false;
    if (provider !== "" && this.pieces !== undefined && used.completion === 0 && this.pieces.length > 0) {
      // A stream cut off (or a provider that sent no usage): what reached the client is counted here.
      used.completion = countStreamedTokens(this.pieces);
      if (used.prompt === 0) used.prompt = countedPromptTokens(this.body);
      estimated = true;
    } else if (provider !== "" && !this.stream && status === 499 && used.completion === 0) {
      // A whole reply the client left before it came: the provider likely bills all of it, so its estimate
      // is charged (never more than was reserved).
      const cap = outputCapOf(this.body);
      used.prompt = countedPromptTokens(this.body);
      used.completion =
        cap >= 0 ? cap : (this.pricing.maxOutputTokens(provider, model) ?? DEFAULT_OUTPUT_TOKENS);
      estimated = true;
    }
    this.pieces = undefined;
    const cost = provider === "" ? 0 : this.pricing.cost(provider, model, used);
    const tokens = used.prompt + used.completion;
    const now = Date.now();
    for (const { ref, kind, amount } of this.held) {
      const start = windowStart(ref.window, ref.anchor, now);
      const charge =
        kind === CounterKind.Requests
          ? 1
          : kind === CounterKind.Tokens
            ? tokens
            : kind === CounterKind.Budget
              ? cost
              : 0;
      this.counters.settle(ref.slot, start, amount, charge);
    }
    this.sink.record({
      requestId: this.requestId,
      at: now,
      keyId: this.key.id,
      teamId: this.key.teamId,
      customerId: this.key.customerId,
      provider,
      model,
      requestedModel: this.requestedModel,
      promptTokens: used.prompt,
      completionTokens: used.completion,
      cachedReadTokens: used.cachedRead,
      cacheWriteTokens: used.cacheWrite,
      reasoningTokens: used.reasoning,
      costMicros: cost,
      status,
      stream: this.stream,
      estimated,
    });
  }
}
