import { openAIFormat } from "../formats/openai/format.js";
import { formatFor } from "../formats/registry.js";
import { type GatewayError, invalidRequest, sendError } from "../http/errors.js";
import type { Reply, RequestHead } from "../http/exchange.js";
import { rewriteModel, scanRequest } from "../native/index.js";
import { ExchangeAccount } from "../observability/account.js";
import type { LaneMetrics } from "../observability/lane-metrics.js";
import { geminiPassthrough } from "../providers/gemini/passthrough.js";
import { speaksOpenAI } from "../providers/registry.js";
import { pickKey, resolveModel } from "../routing/resolve.js";
import type { KeyEndpoint, RoutingTable } from "../routing/table.js";
import { poolFor } from "../upstream/pools.js";
import { RelayHandler } from "../upstream/relay.js";
import { anthropicPassthrough } from "./anthropic.js";
import type { Route } from "./routes.js";
import { sendFormatError, transcode } from "./transcode.js";

// One OpenAI-compatible request, end to end. Reads top to bottom like the request's way in DESIGN.md:
// body → routing fields → model resolution → key → rewrite → upstream → relay and account.

export function proxy(
  table: RoutingTable,
  metrics: LaneMetrics,
  route: Route,
  head: RequestHead,
  reply: Reply,
): void {
  const limit = table.config.client.maxRequestBodyBytes;
  if (head.contentLength > limit) {
    refuse(reply, metrics, tooLarge(limit));
    return;
  }
  reply.readBody(limit, (received, overLimit) => {
    if (received === null) {
      if (overLimit) refuse(reply, metrics, tooLarge(limit));
      return;
    }
    const startedAt = performance.now();
    const body = route.pathModel === undefined ? received : withModel(received, route.pathModel);

    const scan = scanRequest(body);
    if (!scan.ok) {
      refuse(
        reply,
        metrics,
        invalidRequest(`The request body is not valid JSON: ${scan.error}`, "invalid_json"),
      );
      return;
    }
    if (scan.modelType !== "string" || scan.model === undefined || scan.model === "") {
      const problem =
        scan.modelType === "missing" ? "you must provide a model parameter" : "'model' must be a string";
      refuse(
        reply,
        metrics,
        invalidRequest(problem, scan.modelType === "missing" ? "missing_model" : "invalid_type", "model"),
      );
      return;
    }

    const resolved = resolveModel(table, scan.model);
    if ("status" in resolved) {
      refuse(reply, metrics, resolved);
      return;
    }
    const { provider, model } = resolved;
    // Only OpenAI itself serves the Responses API; other providers get it mapped onto chat.
    const passthrough =
      route.format === "responses" ? provider.config.kind === "openai" : speaksOpenAI(provider.config.kind);
    if (!passthrough) {
      // The provider has its own wire format: the body is parsed and converted.
      if (route.upstreamPath === "/completions") {
        refuse(
          reply,
          metrics,
          invalidRequest(
            `Provider '${provider.name}' does not offer legacy completions; use /v1/chat/completions.`,
            "unsupported_endpoint",
            "model",
          ),
        );
        return;
      }
      const operation = route.upstreamPath === "/embeddings" ? "embeddings" : "chat";
      transcode({
        table,
        metrics,
        format: route.format === undefined ? openAIFormat : formatFor(route.format),
        operation,
        reply,
        body,
        requestId: head.requestId,
        startedAt,
      });
      return;
    }
    const keyIndex = pickKey(provider, model);
    if (keyIndex < 0) {
      refuse(reply, metrics, {
        status: 404,
        message: `No key of provider '${provider.name}' is configured for model '${model}'.`,
        type: "invalid_request_error",
        code: "model_not_found",
        param: "model",
      });
      return;
    }

    const upstreamBody =
      model === scan.model ? body : rewriteModel(body, scan.modelStart, scan.modelEnd, model);
    const account = new ExchangeAccount(metrics, provider.name, model, startedAt);
    const relay = new RelayHandler(reply, provider.name, account);
    const timeout = provider.config.network.requestTimeoutMs;
    const endpoint = provider.endpoints[keyIndex] as KeyEndpoint;
    poolFor(endpoint.origin).dispatch(
      {
        path: endpoint.path(route.upstreamPath, model),
        method: "POST",
        headers: [...endpoint.headers, "x-request-id", head.requestId],
        body: upstreamBody,
        headersTimeout: timeout,
        bodyTimeout: timeout,
      },
      relay,
    );
    account.dispatched();
  });
}

/** A route whose client format is not OpenAI's: the body is always parsed and converted. */
export function convert(
  table: RoutingTable,
  metrics: LaneMetrics,
  route: Route,
  head: RequestHead,
  reply: Reply,
  pathModel?: string,
  pathStream?: boolean,
): void {
  const format = formatFor(route.format ?? "openai");
  const limit = table.config.client.maxRequestBodyBytes;
  const refuseTooLarge = () => {
    sendFormatError(reply, format, { ...tooLarge(limit), param: null });
    metrics.record("", "", 413, -1, -1, 0, 0);
  };
  if (head.contentLength > limit) {
    refuseTooLarge();
    return;
  }
  reply.readBody(limit, (body, overLimit) => {
    if (body === null) {
      if (overLimit) refuseTooLarge();
      return;
    }
    const startedAt = performance.now();
    // Same format on both sides: bytes pass through.
    if (format.name === "anthropic" && anthropicPassthrough(table, metrics, head, reply, body, startedAt))
      return;
    if (
      pathModel !== undefined &&
      format.name.startsWith("gemini") &&
      geminiPassthrough(table, metrics, head, reply, body, startedAt, pathModel, pathStream === true)
    )
      return;
    transcode({
      table,
      metrics,
      format,
      operation: route.operation ?? "chat",
      reply,
      body,
      requestId: head.requestId,
      startedAt,
      pathModel,
      pathStream,
      anthropicBeta: head.anthropicBeta,
    });
  });
}

/** The body with `model` set to the one a deployment path names (LiteLLM lets the path win). */
function withModel(body: Buffer, model: string): Buffer {
  const scan = scanRequest(body);
  if (!scan.ok) return body;
  if (scan.modelType === "string") return rewriteModel(body, scan.modelStart, scan.modelEnd, model);
  const parsed: unknown = JSON.parse(body.toString("utf8"));
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return body;
  return Buffer.from(JSON.stringify({ ...parsed, model }));
}

function tooLarge(limit: number): GatewayError {
  return {
    status: 413,
    message: `The request body is larger than the gateway's limit of ${limit} bytes.`,
    type: "invalid_request_error",
    code: "request_too_large",
  };
}

/** Answers a request the gateway turns away before any provider is involved. */
export function refuse(reply: Reply, metrics: LaneMetrics, error: GatewayError): void {
  sendError(reply, error);
  metrics.record("", "", error.status, -1, -1, 0, 0);
}
