import type { Usage } from "../usage.js";
import { type AttributeValue, epochMs, SPAN_KIND_CLIENT, SPAN_KIND_SERVER, type SpanSink } from "./span.js";
import { formatTraceparent, newSpanId, newTraceId, parseTraceparent } from "./traceparent.js";

// One request's spans: the request's own (SERVER), parented by the client's traceparent when it sent a
// valid one, and one per upstream attempt (CLIENT), whose span id the provider gets as its parent.
// Attributes follow the OpenTelemetry GenAI semantic conventions.

/** What the gateway's operations are called in gen_ai.operation.name. */
const OPERATION_NAMES: Readonly<Record<string, string>> = {
  chat: "chat",
  completions: "text_completion",
  embeddings: "embeddings",
};

/** Provider kinds whose gen_ai.provider.name the conventions spell differently. */
const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  azure: "azure.ai.openai",
  bedrock: "aws.bedrock",
  vertex: "gcp.vertex_ai",
  gemini: "gcp.gemini",
  xai: "x_ai",
  mistral: "mistral_ai",
};

/** The attempt a trace is told of. */
export interface TracedAttempt {
  /** The provider's kind (openai, anthropic, ...). */
  readonly providerKind: string;
  /** The provider as the configuration names it. */
  readonly providerName: string;
  readonly model: string;
  readonly retries: number;
  readonly fallbackIndex: number;
}

interface OpenAttempt {
  readonly spanId: string;
  readonly startMs: number;
  readonly attributes: Map<string, AttributeValue>;
}

export class RequestTrace {
  readonly traceId: string;
  private readonly parentSpanId: string;
  private readonly spanId = newSpanId();
  private readonly startMs = epochMs();
  private readonly operation: string;
  private current: OpenAttempt | undefined;
  /** The traceparent the current attempt sends upstream. */
  traceparent = "";
  private ended = false;

  constructor(
    private readonly sink: SpanSink,
    clientTraceparent: string,
    operation: string,
    private readonly requestedModel: string,
    private readonly virtualKeyId: string,
  ) {
    const parent = parseTraceparent(clientTraceparent);
    this.traceId = parent?.traceId ?? newTraceId();
    this.parentSpanId = parent?.spanId ?? "";
    this.operation = OPERATION_NAMES[operation] ?? operation;
  }

  attempting(attempt: TracedAttempt): void {
    // An attempt that another follows failed before anything reached the client.
    this.endAttempt(undefined, "retried");
    const spanId = newSpanId();
    const provider = PROVIDER_NAMES[attempt.providerKind] ?? attempt.providerKind;
    const attributes = this.baseAttributes();
    attributes.set("gen_ai.provider.name", provider);
    attributes.set("gen_ai.system", provider);
    attributes.set("gen_ai.response.model", attempt.model);
    attributes.set("switchyard.provider", attempt.providerName);
    attributes.set("switchyard.retries", attempt.retries);
    attributes.set("switchyard.fallback_index", attempt.fallbackIndex);
    this.current = { spanId, startMs: epochMs(), attributes };
    this.traceparent = formatTraceparent(this.traceId, spanId);
  }

  /** The request ended with `status`; `errorType` names why when it failed. Only the first end counts. */
  end(status: number, usage: Usage | undefined, errorType: string | undefined): void {
    if (this.ended) return;
    this.ended = true;
    const attempt = this.current;
    this.endAttempt(status, errorType, usage);
    const attributes = this.baseAttributes();
    if (attempt !== undefined) for (const [key, value] of attempt.attributes) attributes.set(key, value);
    setOutcome(attributes, status, errorType, usage);
    this.sink.add({
      traceId: this.traceId,
      spanId: this.spanId,
      parentSpanId: this.parentSpanId,
      name: `${this.operation} ${this.requestedModel}`,
      kind: SPAN_KIND_SERVER,
      startMs: this.startMs,
      endMs: epochMs(),
      attributes,
      failed: errorType !== undefined,
    });
  }

  private endAttempt(status: number | undefined, errorType: string | undefined, usage?: Usage): void {
    const attempt = this.current;
    if (attempt === undefined) return;
    this.current = undefined;
    setOutcome(attempt.attributes, status, errorType, usage);
    this.sink.add({
      traceId: this.traceId,
      spanId: attempt.spanId,
      parentSpanId: this.spanId,
      name: `${this.operation} ${attempt.attributes.get("gen_ai.response.model")}`,
      kind: SPAN_KIND_CLIENT,
      startMs: attempt.startMs,
      endMs: epochMs(),
      attributes: attempt.attributes,
      failed: errorType !== undefined,
    });
  }

  private baseAttributes(): Map<string, AttributeValue> {
    const attributes = new Map<string, AttributeValue>([
      ["gen_ai.operation.name", this.operation],
      ["gen_ai.request.model", this.requestedModel],
    ]);
    if (this.virtualKeyId !== "") attributes.set("switchyard.virtual_key_id", this.virtualKeyId);
    return attributes;
  }
}

function setOutcome(
  attributes: Map<string, AttributeValue>,
  status: number | undefined,
  errorType: string | undefined,
  usage: Usage | undefined,
): void {
  if (status !== undefined) attributes.set("http.response.status_code", status);
  if (errorType !== undefined) attributes.set("error.type", errorType);
  if (usage !== undefined) {
    attributes.set("gen_ai.usage.input_tokens", usage.prompt);
    attributes.set("gen_ai.usage.output_tokens", usage.completion);
  }
}
