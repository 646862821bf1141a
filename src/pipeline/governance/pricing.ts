import type { Usage } from "../../observability/usage.js";

/** What governance needs of the price table (src/governance/prices.ts), in integer micro-dollars. */
export interface Pricing {
  /** What `usage` of this model costs; 0 for a model without a price (a local model, say). */
  cost(provider: string, model: string, usage: Usage): number;
  /** The most a request of `promptTokens` in and at most `outputTokens` out can cost. */
  estimate(provider: string, model: string, promptTokens: number, outputTokens: number): number;
  /** The model's output limit, when the table knows it. */
  maxOutputTokens(provider: string, model: string): number | undefined;
}
