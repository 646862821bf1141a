import { createHash, randomBytes } from "node:crypto";

// Virtual-key secrets: made here, shown once, kept only as their SHA-256 (the same hash LiteLLM keeps as a
// key's `token`, so a key imported with its LiteLLM secret keeps its token).

export const KEY_PREFIX = "sk-sy-";

/** "sk-sy-" and 43 characters of base64url: 32 random bytes. */
export function newKeySecret(): string {
  return KEY_PREFIX + randomBytes(32).toString("base64url");
}

/** Lower-case hex SHA-256 of the secret's UTF-8 bytes. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** What shows a virtual key to a person: its prefix and last four characters ("sk-sy-…abcd"). */
export function maskKey(secret: string): string {
  const prefix = secret.startsWith(KEY_PREFIX) ? KEY_PREFIX : secret.slice(0, 3);
  return `${prefix}…${secret.slice(-4)}`;
}

/** A provider secret as answers show it: first three and last four characters ("sk-…abcd"); short ones not at all. */
export function maskSecret(secret: string): string {
  return secret.length >= 12 ? `${secret.slice(0, 3)}…${secret.slice(-4)}` : "…";
}

/** A random id with a prefix naming what it identifies ("team-3f9a…"). */
export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(8).toString("hex")}`;
}
