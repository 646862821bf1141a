import { describe, expect, it } from "vitest";
import {
  backoffMs,
  classifyReply,
  isRetryableStatus,
  MAX_TIMER_MS,
  retryClassOf,
  retryDelayMs,
  shortestDeadline,
  timeoutSecondsToMs,
} from "./retry.js";

describe("which failures are retried", () => {
  it("retries 429 and 5xx but 501 and 505", () => {
    for (const status of [429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 422, 501, 505])
      expect(isRetryableStatus(status)).toBe(false);
  });

  it("classifies provider replies, context window and content policy from their errors", () => {
    expect(classifyReply(429, "rate_limit_exceeded", "")).toBe("rate-limit");
    expect(classifyReply(503, null, "overloaded")).toBe("server");
    expect(classifyReply(401, "invalid_api_key", "")).toBe("auth");
    expect(classifyReply(400, "context_length_exceeded", "")).toBe("context-window");
    expect(classifyReply(400, null, "prompt is too long: 210000 tokens > 200000 maximum")).toBe(
      "context-window",
    );
    expect(classifyReply(400, null, "Input is too long for requested model.")).toBe("context-window");
    expect(classifyReply(400, "content_filter", "")).toBe("content-policy");
    expect(classifyReply(400, null, "Your request was rejected as a result of our safety system.")).toBe(
      "content-policy",
    );
    expect(classifyReply(400, null, "messages: Field required")).toBe("client");
    expect(classifyReply(404, "model_not_found", "")).toBe("client");
  });

  it("names LiteLLM's retry_policy classes; 503 and connection failures have none", () => {
    expect(retryClassOf("rate-limit", 429)).toBe("RateLimitError");
    expect(retryClassOf("server", 500)).toBe("InternalServerError");
    expect(retryClassOf("server", 503)).toBeUndefined();
    expect(retryClassOf("connection", 502)).toBeUndefined();
    expect(retryClassOf("timeout", 504)).toBe("TimeoutError");
    expect(retryClassOf("auth", 401)).toBe("AuthenticationError");
    expect(retryClassOf("content-policy", 400)).toBe("ContentPolicyViolationError");
    expect(retryClassOf("client", 400)).toBe("BadRequestError");
  });
});

describe("backoff", () => {
  it("is full jitter under an exponential ceiling capped at the maximum", () => {
    expect(backoffMs(0, 100, 5000, 0.999)).toBe(99);
    expect(backoffMs(3, 100, 5000, 0.999)).toBe(799);
    expect(backoffMs(10, 100, 5000, 0.999)).toBe(4995);
    expect(backoffMs(10, 100, 5000, 0)).toBe(0);
    expect(backoffMs(2, 100, 5000, 0.5)).toBe(200);
    // Huge retry counts do not overflow into Infinity or NaN.
    expect(backoffMs(5000, 100, 5000, 0.5)).toBe(2500);
  });

  it("waits the longer of backoff and Retry-After, and not at all past the deadline", () => {
    expect(retryDelayMs(100, -1, Number.POSITIVE_INFINITY)).toBe(100);
    expect(retryDelayMs(100, 1000, Number.POSITIVE_INFINITY)).toBe(1000);
    expect(retryDelayMs(100, 1000, 5000)).toBe(1000);
    expect(retryDelayMs(100, 1000, 900)).toBe(-1);
  });
});

describe("per-request timeouts", () => {
  it("takes seconds from a header string or a body number", () => {
    expect(timeoutSecondsToMs("1.5")).toBe(1500);
    expect(timeoutSecondsToMs(2)).toBe(2000);
    expect(timeoutSecondsToMs("")).toBe(0);
    expect(timeoutSecondsToMs("abc")).toBe(0);
    expect(timeoutSecondsToMs(-1)).toBe(0);
    expect(timeoutSecondsToMs(0.0001)).toBe(1);
  });

  it("clamps a value past setTimeout's range (which would fire at once) and ignores one that is not positive", () => {
    expect(timeoutSecondsToMs("1e12")).toBe(MAX_TIMER_MS);
    expect(timeoutSecondsToMs(1e300)).toBe(MAX_TIMER_MS);
    expect(timeoutSecondsToMs("Infinity")).toBe(0);
    expect(timeoutSecondsToMs(Number.NaN)).toBe(0);
    expect(timeoutSecondsToMs(0)).toBe(0);
  });

  it("keeps the shortest deadline that is set", () => {
    expect(shortestDeadline(0, 0, 0)).toBe(0);
    expect(shortestDeadline(30_000, 0, 0)).toBe(30_000);
    expect(shortestDeadline(30_000, 500, 2000)).toBe(500);
    expect(shortestDeadline(0, 0, 700)).toBe(700);
  });
});
