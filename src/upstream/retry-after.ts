// A provider's Retry-After, read by the relays and waited out by the attempt loop.

/** Retry-After as milliseconds from `nowMs`: delta-seconds or an HTTP date; -1 when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number {
  if (typeof value !== "string" || value === "") return -1;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return -1;
  return Math.max(0, at - nowMs);
}
