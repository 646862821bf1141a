import { geminiErrorBody } from "../../formats/gemini/format.js";
import type { GatewayError } from "../../http/errors.js";
import type { Reply, RequestHead } from "../../http/exchange.js";
import { ExchangeAccount } from "../../observability/account.js";
import type { LaneMetrics } from "../../observability/lane-metrics.js";
import { pickKey, resolveModel } from "../../routing/resolve.js";
import type { RoutingTable } from "../../routing/table.js";
import { dispatchUpstream } from "../../upstream/pools.js";
import { type RelayErrors, RelayHandler } from "../../upstream/relay.js";
import { UnsupportedRequest } from "../adapter.js";
import { geminiHeaders, geminiRoot, modelPath } from "./adapter.js";
import { geminiError } from "./response.js";

// A Gemini client's request to a Gemini API provider: the model is in the URL, so the body goes through
// untouched and only the path is rebuilt (provider prefix removed, the provider's root and key).

const GEMINI_ERRORS: RelayErrors = {
  provider(status, provider, body) {
    const error = geminiError(status, body, provider);
    // Google's own envelope goes through as it is; anything else is rewrapped in it.
    return error.code !== null ? body.toString("utf8") : geminiErrorBody(error);
  },
  gateway: (error) => geminiErrorBody(canonical(error)),
  sseEvent: (error) => `data: ${geminiErrorBody(canonical(error))}\r\n\r\n`,
};

function canonical(error: GatewayError) {
  return { ...error, param: error.param ?? null };
}

/** False when the model goes to another kind of provider (or cannot be routed): the caller transcodes. */
export function geminiPassthrough(
  table: RoutingTable,
  metrics: LaneMetrics,
  head: RequestHead,
  reply: Reply,
  body: Buffer,
  startedAt: number,
  pathModel: string,
  stream: boolean,
): boolean {
  const requested = pathModel.startsWith("models/") ? pathModel.slice(7) : pathModel;
  const resolved = resolveModel(table, requested);
  if ("status" in resolved || resolved.provider.config.kind !== "gemini") return false;
  const { provider, model } = resolved;
  const keyIndex = pickKey(provider, model);
  if (keyIndex < 0) return false;
  let path: string;
  try {
    path = modelPath(model);
  } catch (error) {
    // The transcoder builds the same path and answers the client's 400.
    if (error instanceof UnsupportedRequest) return false;
    throw error;
  }
  const method = stream ? "streamGenerateContent" : "generateContent";
  // Only `alt` is passed on: a client's own `key=` must not reach the provider.
  const query = stream && /(^|&)alt=sse(&|$)/.test(head.query) ? "?alt=sse" : "";
  const account = new ExchangeAccount(metrics, provider.name, model, startedAt);
  const timeout = provider.config.network.requestTimeoutMs;
  dispatchUpstream(
    provider.origin,
    provider.config.network,
    {
      path: `${geminiRoot(provider.apiPath)}/v1beta/${path}:${method}${query}`,
      method: "POST",
      headers: [...geminiHeaders(provider, keyIndex), "x-request-id", head.requestId],
      body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    },
    new RelayHandler(reply, provider.name, provider.keys[keyIndex]?.value ?? "", account, GEMINI_ERRORS),
    account,
  );
  return true;
}
