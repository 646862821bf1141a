// Anthropic Messages reply → OpenAI chat.completion JSON text in one step, on the Rust addon when it is
// loaded and the TypeScript converters otherwise. The addon answers with exactly the bytes the TypeScript
// path writes (adapter → canonical → OpenAI format) or declines (null) for anything it cannot reproduce
// byte for byte; the TypeScript path then runs, so callers always get the TypeScript path's result.
import { createRequire } from "node:module";
import type { InboundFormat } from "../formats/format.js";
import { openAIFormat } from "../formats/openai/format.js";
import { nativeStatus } from "../native/index.js";
import { readUsage, type Usage } from "../observability/usage.js";
import type { ProviderAdapter } from "../providers/adapter.js";
import { anthropicAdapter } from "../providers/anthropic/adapter.js";
import { chatResponse } from "../providers/anthropic/response.js";

export interface TranscodeBinding {
  /**
   * Writes [prompt_tokens, completion_tokens] into `usage` and returns the OpenAI JSON text, or null
   * when the body is anything the addon does not reproduce exactly (the TypeScript path decides then).
   * `modelJson` is `JSON.stringify(requestedModel)`, so lone surrogates survive the trip to UTF-8.
   */
  anthropicResponseToOpenai(
    body: Uint8Array,
    modelJson: string,
    created: number,
    usage: Float64Array,
  ): string | null;
  /** The same conversion as UTF-8 bytes, which a reply writes without a string in between. */
  anthropicResponseToOpenaiBytes(
    body: Uint8Array,
    modelJson: string,
    created: number,
    usage: Float64Array,
  ): Buffer | null;
}

/** One converter behind both paths: Anthropic reply body → OpenAI text, usage into `usage[0..1]`. */
export type AnthropicToOpenAI = (
  body: Buffer,
  requestedModel: string,
  created: number,
  usage: Float64Array,
) => string;

/** The TypeScript path: the gateway's own adapter and format, with `created` fixed by the caller. */
export const anthropicToOpenAITs: AnthropicToOpenAI = (body, requestedModel, created, usage) => {
  const response = chatResponse(body);
  response.created = created;
  usage[0] = response.usage.prompt_tokens;
  usage[1] = response.usage.completion_tokens;
  return openAIFormat.fromCanonical(response, requestedModel);
};

function loadBinding(): TranscodeBinding | undefined {
  if (!nativeStatus.loaded) return undefined;
  const binding = createRequire(import.meta.url)(nativeStatus.detail) as Partial<TranscodeBinding>;
  // An addon built before the transcoder existed simply lacks the export.
  return typeof binding.anthropicResponseToOpenai === "function" &&
    typeof binding.anthropicResponseToOpenaiBytes === "function"
    ? (binding as TranscodeBinding)
    : undefined;
}

const binding = loadBinding();

/** The addon's converters; null from them means they declined. Undefined when the addon is not loaded. */
export const anthropicToOpenAIAddon: TranscodeBinding["anthropicResponseToOpenai"] | undefined =
  binding?.anthropicResponseToOpenai;
export const anthropicToOpenAIAddonBytes: TranscodeBinding["anthropicResponseToOpenaiBytes"] | undefined =
  binding?.anthropicResponseToOpenaiBytes;

/** The addon with the TypeScript path behind it for what the addon declines; undefined without the addon. */
export const anthropicToOpenAINative: AnthropicToOpenAI | undefined =
  binding === undefined
    ? undefined
    : (body, requestedModel, created, usage) =>
        binding.anthropicResponseToOpenai(body, JSON.stringify(requestedModel), created, usage) ??
        anthropicToOpenAITs(body, requestedModel, created, usage);

/**
 * Replies at least this long go to the addon in `nativeChatReply`. Measured (transcode-micro, one run,
 * 2 shared cores), TypeScript text + UTF-8 encoding against the addon's bytes: 6.6/4.7 µs at 0.3 KB,
 * 28.6/10.7 µs at 1.4 KB, 159/43 µs at 10 KB, 1.81/0.30 ms at 100 KB. The addon never lost, so every
 * size goes native; raise this if a rerun shows TypeScript ahead on small replies.
 */
export const REPLY_NATIVE_MIN_BYTES = 0;

const replyUsage = new Float64Array(2);

/**
 * The OpenAI client's reply bytes for a whole Anthropic reply, from the addon, with the usage counts
 * stored in `usage`; undefined when the pair is another one, the addon is not loaded, the reply is
 * shorter than REPLY_NATIVE_MIN_BYTES, or the addon declined (the caller converts in TypeScript then).
 */
export function nativeChatReply(
  adapter: ProviderAdapter,
  format: InboundFormat,
  body: Buffer,
  requestedModel: string,
  usage: Usage,
): Buffer | undefined {
  if (
    anthropicToOpenAIAddonBytes === undefined ||
    adapter !== anthropicAdapter ||
    format !== openAIFormat ||
    body.length < REPLY_NATIVE_MIN_BYTES
  ) {
    return undefined;
  }
  const created = Math.floor(Date.now() / 1000);
  const bytes = anthropicToOpenAIAddonBytes(body, JSON.stringify(requestedModel), created, replyUsage);
  if (bytes === null) return undefined;
  usage.prompt = replyUsage[0] as number;
  usage.completion = replyUsage[1] as number;
  // The addon counts these two only; the cache and reasoning parts are in the reply's usage object.
  readUsage(bytes, usage);
  return bytes;
}
