import type { CanonicalError } from "../formats/canonical.js";
import type { Reply, ResponseHeaders } from "./exchange.js";

/** An error the gateway answers with; OpenAI routes send it in OpenAI's error shape. */
export interface GatewayError extends Readonly<Omit<CanonicalError, "param">> {
  readonly param?: string | null;
  readonly headers?: ResponseHeaders;
}

const JSON_HEADERS: ResponseHeaders = [["content-type", "application/json"]];

export function errorBody(error: GatewayError): string {
  return JSON.stringify({
    error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code },
  });
}

export function sendError(reply: Reply, error: GatewayError): void {
  reply.start(error.status, error.headers ? [...JSON_HEADERS, ...error.headers] : JSON_HEADERS);
  reply.end(errorBody(error));
}

export const invalidRequest = (message: string, code: string | null = null, param: string | null = null) =>
  ({ status: 400, message, type: "invalid_request_error", code, param }) satisfies GatewayError;
