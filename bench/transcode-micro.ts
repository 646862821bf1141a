// Micro-benchmark of the transcoders, per request: OpenAI request → Anthropic body, provider reply →
// canonical → OpenAI JSON text, provider stream → canonical chunks → OpenAI SSE text, for Anthropic, Gemini
// and Bedrock, at a small and a large size; plus the Rust addon's Anthropic reply → OpenAI text in the same
// process. Usage: node dist/bench/transcode-micro.js [--smoke]
import type { ChatRequest } from "../src/formats/canonical.js";
import type { GeminiResponse } from "../src/formats/gemini/wire.js";
import { openAIFormat } from "../src/formats/openai/format.js";
import { nativeStatus } from "../src/native/index.js";
import type { StreamDecoder } from "../src/providers/adapter.js";
import { anthropicRequest } from "../src/providers/anthropic/request.js";
import { chatStream } from "../src/providers/anthropic/response.js";
import { encodeMessage } from "../src/providers/bedrock/eventstream.js";
import { converseResponse, converseStream } from "../src/providers/bedrock/response.js";
import { chatResponseOf, geminiStreamDecoder } from "../src/providers/gemini/response.js";
import {
  type AnthropicToOpenAI,
  anthropicToOpenAIAddon,
  anthropicToOpenAIAddonBytes,
  anthropicToOpenAINative,
  anthropicToOpenAITs,
} from "../src/upstream/native-transcode.js";
import { formatNs, measure, median, ROUND_MS, ROUNDS, sink, writeMicroResult } from "./micro.js";

/** Stream bodies reach the decoder in network reads of about this size. */
const READ_BYTES = 1400;

// ---- payloads ----

const SENTENCE =
  'The gateway routes each request to the cheapest healthy provider — «fast», 速い, and\n"correct". ';

/** Prose of about `bytes` UTF-8 bytes, mixed scripts, quotes and newlines (all need escaping or transcoding). */
function prose(bytes: number): string {
  let out = "";
  for (let i = 0; Buffer.byteLength(out) < bytes; i++) out += `${i}: ${SENTENCE}`;
  return out;
}

function words(text: string, pieces: number): string[] {
  const out: string[] = [];
  const per = Math.ceil(text.length / pieces);
  for (let i = 0; i < text.length; i += per) out.push(text.slice(i, i + per));
  return out;
}

const SMALL_REQUEST = Buffer.from(
  '{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"Say hello to the gateway in one short sentence."}]}',
);

/** A multi-turn agent conversation with tools, tool calls and results, of about `bytes`. */
function largeRequest(bytes: number): Buffer {
  const messages: unknown[] = [
    {
      role: "system",
      content: "You are a careful assistant for a logistics company. Use tools when needed.",
    },
  ];
  let i = 0;
  while (JSON.stringify(messages).length < bytes) {
    messages.push({ role: "user", content: `${i}: ${SENTENCE.repeat(6)}` });
    messages.push({
      role: "assistant",
      content: null,
      tool_calls: [
        {
          id: `call_${i}`,
          type: "function",
          function: { name: "lookup_shipment", arguments: JSON.stringify({ id: `SHP-${i}`, verbose: true }) },
        },
      ],
    });
    messages.push({ role: "tool", tool_call_id: `call_${i}`, content: prose(400) });
    messages.push({ role: "assistant", content: SENTENCE.repeat(3) });
    i++;
  }
  messages.push({ role: "user", content: "Summarise the shipments above." });
  return Buffer.from(
    JSON.stringify({
      model: "claude-sonnet-4-5",
      messages,
      max_tokens: 1024,
      temperature: 0.3,
      tools: [
        {
          type: "function",
          function: {
            name: "lookup_shipment",
            description: "Looks a shipment up by id.",
            parameters: {
              type: "object",
              properties: { id: { type: "string" }, verbose: { type: "boolean" } },
              required: ["id"],
            },
          },
        },
      ],
    }),
  );
}

const USAGE = {
  input_tokens: 1200,
  output_tokens: 350,
  cache_read_input_tokens: 800,
  cache_creation_input_tokens: 0,
};

function anthropicReply(text: string, large: boolean): Buffer {
  const content: unknown[] = [];
  if (large)
    content.push({ type: "thinking", thinking: prose(1500), signature: "EqQBCkYIARgCIkD_sig".repeat(8) });
  content.push({ type: "text", text });
  if (large) {
    content.push({
      type: "tool_use",
      id: "toolu_01A09q90qw90lq917835lq9",
      name: "lookup_shipment",
      input: { id: "SHP-42", verbose: true, fields: ["eta", "carrier", "weight_kg"], limit: 20 },
    });
  }
  return Buffer.from(
    JSON.stringify({
      id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content,
      stop_reason: large ? "tool_use" : "end_turn",
      stop_sequence: null,
      usage: USAGE,
    }),
  );
}

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

function anthropicStream(text: string, events: number): Buffer {
  let out = sse("message_start", {
    type: "message_start",
    message: {
      id: "msg_013Zva2CMHLNnXjNJJKqJ2EF",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...USAGE, output_tokens: 1 },
    },
  });
  out += sse("content_block_start", {
    type: "content_block_start",
    index: 0,
    content_block: { type: "text", text: "" },
  });
  out += sse("ping", { type: "ping" });
  for (const piece of words(text, events - 6)) {
    out += sse("content_block_delta", {
      type: "content_block_delta",
      index: 0,
      delta: { type: "text_delta", text: piece },
    });
  }
  out += sse("content_block_stop", { type: "content_block_stop", index: 0 });
  out += sse("message_delta", {
    type: "message_delta",
    delta: { stop_reason: "end_turn", stop_sequence: null },
    usage: { output_tokens: 350 },
  });
  out += sse("message_stop", { type: "message_stop" });
  return Buffer.from(out);
}

const GEMINI_USAGE = { promptTokenCount: 1200, candidatesTokenCount: 350, totalTokenCount: 1550 };

function geminiReply(text: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      candidates: [{ content: { role: "model", parts: [{ text }] }, finishReason: "STOP", index: 0 }],
      usageMetadata: GEMINI_USAGE,
      modelVersion: "gemini-2.5-flash",
      responseId: "mpv0aMSVIsGSz7IP4vuX6Qc",
    }),
  );
}

function geminiStream(text: string, events: number): Buffer {
  let out = "";
  const pieces = words(text, events);
  for (let i = 0; i < pieces.length; i++) {
    const last = i === pieces.length - 1;
    const candidate: Record<string, unknown> = {
      content: { role: "model", parts: [{ text: pieces[i] }] },
      index: 0,
    };
    if (last) candidate.finishReason = "STOP";
    out += `data: ${JSON.stringify({
      candidates: [candidate],
      usageMetadata: last ? GEMINI_USAGE : { promptTokenCount: 1200, totalTokenCount: 1200 },
      modelVersion: "gemini-2.5-flash",
      responseId: "mpv0aMSVIsGSz7IP4vuX6Qc",
    })}\r\n\r\n`;
  }
  return Buffer.from(out);
}

const BEDROCK_USAGE = { inputTokens: 1200, outputTokens: 350, totalTokens: 1550 };

function bedrockReply(text: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      output: { message: { role: "assistant", content: [{ text }] } },
      stopReason: "end_turn",
      usage: BEDROCK_USAGE,
      metrics: { latencyMs: 812 },
    }),
  );
}

function bedrockFrame(eventType: string, payload: Record<string, unknown>): Buffer {
  return encodeMessage(
    { ":event-type": eventType, ":content-type": "application/json", ":message-type": "event" },
    JSON.stringify({ ...payload, p: "abcdefghijklmnopqrstu" }),
  );
}

function bedrockStream(text: string, events: number): Buffer {
  const frames = [bedrockFrame("messageStart", { role: "assistant" })];
  for (const piece of words(text, events - 4)) {
    frames.push(bedrockFrame("contentBlockDelta", { contentBlockIndex: 0, delta: { text: piece } }));
  }
  frames.push(
    bedrockFrame("contentBlockStop", { contentBlockIndex: 0 }),
    bedrockFrame("messageStop", { stopReason: "end_turn" }),
    bedrockFrame("metadata", { usage: BEDROCK_USAGE, metrics: { latencyMs: 812 } }),
  );
  return Buffer.concat(frames);
}

// ---- cases ----

type Case = {
  name: string;
  /** Input bytes per operation. */
  bytes: number;
  ts: () => number;
  /** The addon's path (with the TypeScript path behind what it declines), when there is one. */
  native?: () => number;
};

const requestCase = (name: string, body: Buffer): Case => ({
  name,
  bytes: body.length,
  // What the gateway does per request: parse, check the outline, map, serialise.
  ts: () => {
    const chat = openAIFormat.toCanonical(JSON.parse(body.toString("utf8"))) as ChatRequest;
    return JSON.stringify(anthropicRequest(chat, "claude-sonnet-4-5-20250929")).length;
  },
});

const CREATED = 1_763_000_000;
const usageOut = new Float64Array(2);

function anthropicReplyCase(name: string, body: Buffer): Case {
  const run = (convert: AnthropicToOpenAI) => () =>
    convert(body, "claude-sonnet-4-5", CREATED, usageOut).length;
  // The addon must agree with the TypeScript path before its time means anything.
  if (anthropicToOpenAIAddon !== undefined) {
    const viaAddon = anthropicToOpenAIAddon(body, JSON.stringify("claude-sonnet-4-5"), CREATED, usageOut);
    if (viaAddon !== anthropicToOpenAITs(body, "claude-sonnet-4-5", CREATED, usageOut)) {
      throw new Error(`${name}: the addon's output differs from the TypeScript path's`);
    }
  }
  return {
    name,
    bytes: body.length,
    ts: run(anthropicToOpenAITs),
    native: anthropicToOpenAINative === undefined ? undefined : run(anthropicToOpenAINative),
  };
}

/** Both paths to the bytes a reply writes: the TypeScript text still has to be encoded as UTF-8. */
function anthropicReplyBytesCase(name: string, body: Buffer): Case {
  const modelJson = JSON.stringify("claude-sonnet-4-5");
  const addon = anthropicToOpenAIAddonBytes;
  return {
    name,
    bytes: body.length,
    ts: () => Buffer.from(anthropicToOpenAITs(body, "claude-sonnet-4-5", CREATED, usageOut)).length,
    native:
      addon === undefined
        ? undefined
        : () =>
            (
              addon(body, modelJson, CREATED, usageOut) ??
              Buffer.from(anthropicToOpenAITs(body, "claude-sonnet-4-5", CREATED, usageOut))
            ).length,
  };
}

function replyCase(name: string, body: Buffer, convert: (body: Buffer) => unknown): Case {
  return {
    name,
    bytes: body.length,
    ts: () => openAIFormat.fromCanonical(convert(body) as never, "gpt-4o").length,
  };
}

function streamCase(name: string, body: Buffer, decoder: () => StreamDecoder): Case {
  const reads: Buffer[] = [];
  for (let i = 0; i < body.length; i += READ_BYTES) reads.push(body.subarray(i, i + READ_BYTES));
  return {
    name,
    bytes: body.length,
    ts: () => {
      const d = decoder();
      const encoder = openAIFormat.streamEncoder("gpt-4o");
      let n = 0;
      for (const read of reads) for (const chunk of d.push(read)) n += encoder.encode(chunk).length;
      for (const chunk of d.end()) n += encoder.encode(chunk).length;
      return n + encoder.end().length;
    },
  };
}

const smallText = prose(1100);
const largeText = prose(8200);

const cases: Case[] = [
  requestCase("(a) OpenAI request → Anthropic body, 0.13 KB", SMALL_REQUEST),
  requestCase("(a) OpenAI request → Anthropic body, 100 KB", largeRequest(100_000)),
  anthropicReplyCase(
    "(b) Anthropic reply → OpenAI JSON, 0.3 KB",
    anthropicReply("Hello! How can I help?", false),
  ),
  anthropicReplyCase("(b) Anthropic reply → OpenAI JSON, 1.4 KB", anthropicReply(smallText, false)),
  anthropicReplyCase("(b) Anthropic reply → OpenAI JSON, 10 KB", anthropicReply(largeText, true)),
  anthropicReplyCase("(b) Anthropic reply → OpenAI JSON, 100 KB", anthropicReply(prose(98_000), true)),
  anthropicReplyBytesCase("(b) … to UTF-8 bytes, 0.3 KB", anthropicReply("Hello! How can I help?", false)),
  anthropicReplyBytesCase("(b) … to UTF-8 bytes, 1.4 KB", anthropicReply(smallText, false)),
  anthropicReplyBytesCase("(b) … to UTF-8 bytes, 10 KB", anthropicReply(largeText, true)),
  anthropicReplyBytesCase("(b) … to UTF-8 bytes, 100 KB", anthropicReply(prose(98_000), true)),
  streamCase("(c) Anthropic SSE, 100 events, 1.4 KB text", anthropicStream(smallText, 100), chatStream),
  streamCase("(c) Anthropic SSE, 100 events, 10 KB text", anthropicStream(largeText, 100), chatStream),
  replyCase("(d) Gemini reply → OpenAI JSON, 1.4 KB", geminiReply(smallText), (b) =>
    chatResponseOf(JSON.parse(b.toString("utf8")) as GeminiResponse, "gemini-2.5-flash"),
  ),
  replyCase("(d) Gemini reply → OpenAI JSON, 10 KB", geminiReply(largeText), (b) =>
    chatResponseOf(JSON.parse(b.toString("utf8")) as GeminiResponse, "gemini-2.5-flash"),
  ),
  streamCase("(d) Gemini SSE, 100 events, 1.4 KB text", geminiStream(smallText, 100), () =>
    geminiStreamDecoder("gemini-2.5-flash"),
  ),
  streamCase("(d) Gemini SSE, 100 events, 10 KB text", geminiStream(largeText, 100), () =>
    geminiStreamDecoder("gemini-2.5-flash"),
  ),
  replyCase("(d) Bedrock reply → OpenAI JSON, 1.4 KB", bedrockReply(smallText), (b) =>
    converseResponse(b, "anthropic.claude-sonnet-4-5"),
  ),
  replyCase("(d) Bedrock reply → OpenAI JSON, 10 KB", bedrockReply(largeText), (b) =>
    converseResponse(b, "anthropic.claude-sonnet-4-5"),
  ),
  streamCase("(d) Bedrock event stream, 100 events, 1.4 KB text", bedrockStream(smallText, 100), () =>
    converseStream("anthropic.claude-sonnet-4-5"),
  ),
  streamCase("(d) Bedrock event stream, 100 events, 10 KB text", bedrockStream(largeText, 100), () =>
    converseStream("anthropic.claude-sonnet-4-5"),
  ),
];

type Row = {
  name: string;
  bytes: number;
  tsNs: number;
  tsMBps: number;
  nativeNs: number | null;
  nativeMBps: number | null;
  speedup: number | null;
};
const rows: Row[] = [];
const mbps = (bytes: number, ns: number): number => Number(((bytes / ns) * 1e3).toFixed(1));

for (const c of cases) {
  const ts: number[] = [];
  const nat: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    ts.push(measure(c.ts));
    if (c.native !== undefined) nat.push(measure(c.native));
  }
  const tsNs = median(ts);
  const nativeNs = nat.length > 0 ? median(nat) : null;
  rows.push({
    name: c.name,
    bytes: c.bytes,
    tsNs: Math.round(tsNs),
    tsMBps: mbps(c.bytes, tsNs),
    nativeNs: nativeNs === null ? null : Math.round(nativeNs),
    nativeMBps: nativeNs === null ? null : mbps(c.bytes, nativeNs),
    speedup: nativeNs === null ? null : Number((tsNs / nativeNs).toFixed(2)),
  });
}

const table = [
  "| converter (per request) | input bytes | TypeScript | TS MB/s | native | native MB/s | native speed-up |",
  "|---|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.bytes} | ${formatNs(r.tsNs)} | ${r.tsMBps} | ${formatNs(r.nativeNs)} | ${r.nativeMBps ?? "—"} | ${r.speedup === null ? "—" : `${r.speedup}×`} |`,
  ),
].join("\n");

const figures = {
  native: { ...nativeStatus, transcoder: anthropicToOpenAIAddon !== undefined },
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  unit: "ns/op (median of rounds); MB/s = input bytes / time (10^6 bytes)",
  rows,
  sink: sink(),
};

const file = writeMicroResult("transcode-micro", figures);
console.log(table);
console.log(
  `\nnative transcoder: ${anthropicToOpenAIAddon !== undefined ? "loaded" : `not loaded (${nativeStatus.detail})`}; wrote ${file}`,
);
