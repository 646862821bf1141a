import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// A streamed reply's first event reaches the client while the provider still holds the rest: the providers
// here send their first events, then wait for the test's word before sending anything more, and the test
// gives it only once the client has read the first event through the gateway. A gateway that held bytes
// back (until a second chunk, the end, or a full buffer) would leave the test waiting, and fail it.

const FIRST = "first-piece";
const SECOND = "second-piece";

/** A provider's stream cut in two: what it sends at once, and what it sends when released. */
interface Halves {
  readonly first: string;
  readonly rest: string;
}

interface HeldStreamProvider {
  readonly url: string;
  /** Requests whose first half has been sent and whose rest waits for `release`. */
  readonly held: number;
  release(): void;
  close(): Promise<void>;
}

async function startHeldStreamProvider(halves: Halves): Promise<HeldStreamProvider> {
  let waiting: (() => void)[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
      res.write(halves.first);
      waiting.push(() => res.end(halves.rest));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get held() {
      return waiting.length;
    },
    release() {
      const due = waiting;
      waiting = [];
      for (const send of due) send();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const openAIChunk = (delta: Record<string, string>, finish: string | null) =>
  `data: ${JSON.stringify({
    id: "chatcmpl-held",
    object: "chat.completion.chunk",
    created: 1,
    model: "gpt-4o-mini",
    choices: [{ index: 0, delta, finish_reason: finish }],
  })}\n\n`;

const OPENAI_STREAM: Halves = {
  first: openAIChunk({ role: "assistant", content: FIRST }, null),
  rest: `${openAIChunk({ content: SECOND }, null)}${openAIChunk({}, "stop")}data: [DONE]\n\n`,
};

const anthropicEvent = (type: string, data: Record<string, unknown>) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const ANTHROPIC_STREAM: Halves = {
  first:
    anthropicEvent("message_start", {
      message: {
        id: "msg_held",
        type: "message",
        role: "assistant",
        model: "claude-sonnet-4-5",
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: 3, output_tokens: 1 },
      },
    }) +
    anthropicEvent("content_block_start", { index: 0, content_block: { type: "text", text: "" } }) +
    anthropicEvent("content_block_delta", { index: 0, delta: { type: "text_delta", text: FIRST } }),
  rest:
    anthropicEvent("content_block_delta", { index: 0, delta: { type: "text_delta", text: SECOND } }) +
    anthropicEvent("content_block_stop", { index: 0 }) +
    anthropicEvent("message_delta", {
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: 2 },
    }) +
    anthropicEvent("message_stop", {}),
};

/** Reads `body` until `text` has come, or the stream ends; returns everything read. */
async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, text: string): Promise<string> {
  const decoder = new TextDecoder();
  let received = "";
  while (!received.includes(text)) {
    const { done, value } = await reader.read();
    if (done) break;
    received += decoder.decode(value, { stream: true });
  }
  return received;
}

describe.each(["uws", "node"] as const)("a stream's first event over the %s front", (backend) => {
  let openai: HeldStreamProvider;
  let anthropic: HeldStreamProvider;
  let gateway: RunningGateway;

  beforeAll(async () => {
    openai = await startHeldStreamProvider(OPENAI_STREAM);
    anthropic = await startHeldStreamProvider(ANTHROPIC_STREAM);
    gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "k",
        OPENAI_BASE_URL: `${openai.url}/v1`,
        ANTHROPIC_API_KEY: "k",
        ANTHROPIC_BASE_URL: anthropic.url,
        ...(backend === "node" ? { SWITCHYARD_HTTP: "node" } : {}),
      },
      args: ["--lanes", "1"],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await openai?.close();
    await anthropic?.close();
  });

  it.each([
    ["as the provider sent it (byte leg)", "openai/gpt-4o-mini", () => openai],
    ["converted from Anthropic's events (convert leg)", "anthropic/claude-sonnet-4-5", () => anthropic],
  ])("reaches the client before the provider sends more: %s", async (_leg, model, provider) => {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();

    const before = await readUntil(reader, FIRST);
    expect(before).toContain(FIRST);
    expect(before).not.toContain(SECOND);
    expect(provider().held).toBe(1);

    provider().release();
    const after = await readUntil(reader, "[DONE]");
    expect(after).toContain(SECOND);
    expect(after).toContain("data: [DONE]");
  });
});
