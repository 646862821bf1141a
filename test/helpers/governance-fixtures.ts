import { createHash } from "node:crypto";
import type { Customer, SpendRecord, Team, VirtualKey } from "../../src/governance/types.js";

// Governance entities for tests: every field a plain default, so that a test names only the fields it is about.

/** What a key keeps of its secret: the SHA-256, hex (LiteLLM's token). */
export function keyHash(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** The secret whose hash a fixture key has. */
export const KEY_SECRET = "sk-sy-test-secret";

export function virtualKey(fields: Partial<VirtualKey> = {}): VirtualKey {
  return {
    id: "key-1",
    name: "app",
    hash: keyHash(KEY_SECRET),
    masked: "sk-sy-…cret",
    active: true,
    models: [],
    providers: [],
    providerConfigs: [],
    modelLimits: {},
    budgets: [],
    metadata: {},
    secretMetadata: {},
    logContent: true,
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

export function team(fields: Partial<Team> = {}): Team {
  return {
    id: "team-1",
    name: "team",
    budgets: [],
    models: [],
    metadata: {},
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

export function customer(fields: Partial<Customer> = {}): Customer {
  return {
    id: "customer-1",
    name: "customer",
    budgets: [],
    metadata: {},
    createdAt: 0,
    updatedAt: 0,
    ...fields,
  };
}

export function spendRecord(fields: Partial<SpendRecord> = {}): SpendRecord {
  return {
    requestId: "r1",
    at: 0,
    keyId: "key-1",
    teamId: "",
    customerId: "",
    provider: "openai",
    model: "gpt-4o",
    requestedModel: "gpt-4o",
    promptTokens: 10,
    completionTokens: 5,
    cachedReadTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costMicros: 1_000_000,
    status: 200,
    stream: false,
    estimated: false,
    ...fields,
  };
}
