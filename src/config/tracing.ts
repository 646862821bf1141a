import { ConfigError } from "./errors.js";
import type { TracingConfig } from "./types.js";

// Traces are configured the OpenTelemetry way, from the environment whatever the configuration's source:
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  the full URL spans go to, used as it is
//   OTEL_EXPORTER_OTLP_ENDPOINT         the collector's base URL; spans go to <it>/v1/traces
//   OTEL_EXPORTER_OTLP_HEADERS          name=value pairs, comma-separated, values percent-encoded
//   OTEL_SERVICE_NAME                   the resource's service.name (default "switchyard")
// Neither endpoint set: no tracing.

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;
const MAX_HEADERS = 32;
const MAX_HEADER_VALUE = 4096;

export function tracingFromEnvironment(env: NodeJS.ProcessEnv): TracingConfig | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!traces && !base) return undefined;
  const problems: string[] = [];
  const endpoint = traces ? httpUrl("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", traces, problems) : "";
  const fromBase = traces ? "" : httpUrl("OTEL_EXPORTER_OTLP_ENDPOINT", base as string, problems);
  const headers = parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS ?? "", problems);
  if (problems.length > 0) throw new ConfigError("environment", problems);
  return {
    endpoint: endpoint || `${fromBase.replace(/\/+$/, "")}/v1/traces`,
    headers,
    serviceName: env.OTEL_SERVICE_NAME?.trim() || "switchyard",
  };
}

function httpUrl(name: string, text: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${name}: not a URL`);
    return "";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    problems.push(`${name}: must be an http:// or https:// URL`);
    return "";
  }
  return text;
}

/** The W3C Baggage-like list OTEL_EXPORTER_OTLP_HEADERS holds: `name=value,name=value`. */
export function parseOtlpHeaders(text: string, problems: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  let count = 0;
  for (const pair of text.split(",")) {
    if (pair.trim() === "") continue;
    const equals = pair.indexOf("=");
    const name = (equals < 0 ? pair : pair.slice(0, equals)).trim().toLowerCase();
    let value = "";
    try {
      value = equals < 0 ? "" : decodeURIComponent(pair.slice(equals + 1).trim());
    } catch {
      value = "\n";
    }
    // Names are not echoed: a malformed pair may be a secret split in the wrong place.
    if (
      !HEADER_NAME.test(name) ||
      value === "" ||
      value.length > MAX_HEADER_VALUE ||
      /[\0\r\n]/.test(value)
    ) {
      problems.push(
        `OTEL_EXPORTER_OTLP_HEADERS: pair ${count + 1} is not name=value with a valid header name and value`,
      );
      continue;
    }
    if (++count > MAX_HEADERS) {
      problems.push(`OTEL_EXPORTER_OTLP_HEADERS: more than ${MAX_HEADERS} headers`);
      break;
    }
    headers[name] = value;
  }
  return headers;
}
