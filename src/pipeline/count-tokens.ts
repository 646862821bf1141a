import { gatewayError } from "../errors.js";
import { estimateInputTokens } from "../formats/anthropic/count.js";
import { anthropicFormat } from "../formats/anthropic/format.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import type { ErrorBody } from "../http/internal-error.js";
import { candidatesFor } from "../routing/candidates.js";
import { byteLegs } from "./byte-legs.js";
import { refuse } from "./inbound.js";
import { attemptLoop, authenticate, InboundRequest, type Lane, readBody, scanOwnFields } from "./pipeline.js";
import { errorBodyIn, type InferenceRoute } from "./routes.js";

// POST /anthropic/v1/messages/count_tokens: Anthropic's own count when the model has an Anthropic member
// (asked through the attempt loop like any request: breakers, limits, retries), else an o200k_base estimate
// over the request's text (see src/formats/anthropic/count.ts). It takes no plugin hooks: nothing is generated.

const COUNT_TOKENS: InferenceRoute = {
  kind: "inference",
  name: "anthropic.count_tokens",
  method: "POST",
  format: anthropicFormat,
  operation: "chat",
  bytes: byteLegs.anthropic,
  upstreamPath: "/messages/count_tokens",
  modelFrom: "body",
};

export function serveCountTokens(lane: Lane, head: RequestHead, reply: Reply): void {
  const route = COUNT_TOKENS;
  const errorBody = errorBodyIn(route.format);
  if (authenticate(lane, route.name, head, reply, errorBody) === false) return;
  const { client } = lane.table.config;
  // Counting is CPU time a lane spends on nothing else: a smaller body limit.
  const limit = Math.min(client.maxCountTokensBodyBytes, client.maxRequestBodyBytes);
  readBody(lane, route, head, reply, errorBody, limit, bodyReceived, null, false);
}

function bodyReceived(
  lane: Lane,
  route: InferenceRoute,
  head: RequestHead,
  reply: Reply,
  errorBody: ErrorBody,
  received: Buffer,
  startedAt: number,
): void {
  const scanned = scanOwnFields(lane, route, received);
  if ("status" in scanned) {
    refuse(reply, lane.metrics, errorBody, scanned);
    return;
  }
  const plan = candidatesFor(lane.table, scanned.model);
  if ("status" in plan) {
    refuse(reply, lane.metrics, errorBody, plan);
    return;
  }
  const anthropic = plan.candidates.filter((c) => route.bytes.takes(c.provider.config.kind));
  if (anthropic.length === 0) {
    answerEstimate(lane, reply, errorBody, scanned.body, startedAt);
    return;
  }
  // Counting never moves to another model: no fallback chain, whatever routing configures.
  const counting = { ...scanned, stream: false, fallbacks: NO_FALLBACKS };
  const only = { name: "", candidates: anthropic };
  attemptLoop(
    new InboundRequest(lane, route, head, reply, startedAt, counting, only, errorBody, undefined, null),
  );
}

function answerEstimate(
  lane: Lane,
  reply: Reply,
  errorBody: ErrorBody,
  body: Buffer,
  startedAt: number,
): void {
  const parsed: unknown = JSON.parse(body.toString("utf8"));
  if (!Array.isArray((parsed as { messages?: unknown }).messages)) {
    refuse(
      reply,
      lane.metrics,
      errorBody,
      gatewayError("invalid_request", "messages: Field required", "messages"),
    );
    return;
  }
  reply.start(200, JSON_HEADERS);
  reply.end(`{"input_tokens":${estimateInputTokens(parsed)}}`);
  lane.metrics.recordAnswered(200, "", (performance.now() - startedAt) / 1000);
}

const JSON_HEADERS = [["content-type", "application/json"]] as const;
const NO_FALLBACKS: readonly string[] = [];
