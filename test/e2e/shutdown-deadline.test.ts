import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { startGateway } from "../helpers/gateway.js";

// SIGTERM with streams longer than the drain window (--drain-seconds 1; mock-slow-stream runs 20 s): at the
// deadline each stream ends with an error event in its client's format, a reply not started gets a 503,
// and the process exits. Runs on both HTTP fronts.

const JSON_TYPE = { "content-type": "application/json" };

/** Reads a streamed body to its end; resolves once the first bytes are in, then with the whole text. */
function reader(response: Response): { first: Promise<void>; text: Promise<string> } {
  let onFirst: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    onFirst = resolve;
  });
  const text = (async () => {
    let out = "";
    const decoder = new TextDecoder();
    for await (const chunk of response.body as ReadableStream<Uint8Array>) {
      out += decoder.decode(chunk, { stream: true });
      onFirst();
    }
    return out;
  })();
  return { first, text };
}

describe.each(["uws", "node"] as const)("SIGTERM past the drain window over the %s front", (backend) => {
  let mock: MockServer;

  beforeAll(async () => {
    mock = await startOpenAIMock();
  });
  afterAll(async () => {
    await mock?.close();
  });

  it("ends every open stream with its format's error event and exits", async () => {
    const gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "k",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        ...(backend === "node" ? { SWITCHYARD_HTTP: "node" } : {}),
      },
      args: ["--drain-seconds", "1", "--lanes", "1"],
    });
    const post = (path: string, body: unknown) =>
      fetch(`${gateway.url}${path}`, { method: "POST", headers: JSON_TYPE, body: JSON.stringify(body) });
    const messages = [{ role: "user", content: "hi" }];

    const openai = reader(
      await post("/v1/chat/completions", { model: "openai/mock-slow-stream", stream: true, messages }),
    );
    const anthropic = reader(
      await post("/anthropic/v1/messages", {
        model: "openai/mock-slow-stream",
        max_tokens: 16,
        stream: true,
        messages,
      }),
    );
    const gemini = reader(
      await post("/genai/v1beta/models/openai%2Fmock-slow-stream:streamGenerateContent?alt=sse", {
        contents: [{ role: "user", parts: [{ text: "hi" }] }],
      }),
    );
    const waiting = post("/v1/chat/completions", { model: "openai/mock-hang", messages });
    await Promise.all([openai.first, anthropic.first, gemini.first]);
    await expect.poll(() => mock.stats.inFlight).toBe(4);

    const startedAt = Date.now();
    const exit = gateway.stop("SIGTERM");

    const openaiText = await openai.text;
    expect(openaiText).not.toContain("[DONE]");
    const openaiLast = openaiText.trimEnd().split("\n\n").at(-1);
    expect(JSON.parse(openaiLast?.replace(/^data: /, "") ?? "")).toMatchObject({
      error: { code: "shutting_down", type: "api_error" },
    });

    const anthropicText = await anthropic.text;
    expect(anthropicText).not.toContain("message_stop");
    const anthropicLast = anthropicText.trimEnd().split("\n\n").at(-1) ?? "";
    expect(anthropicLast.startsWith("event: error\ndata: ")).toBe(true);
    expect(JSON.parse(anthropicLast.slice("event: error\ndata: ".length))).toMatchObject({
      type: "error",
      error: { type: "overloaded_error", message: expect.stringContaining("shutting down") },
    });

    const geminiText = await gemini.text;
    const geminiLast = geminiText.trimEnd().split("\r\n\r\n").at(-1) ?? "";
    expect(JSON.parse(geminiLast.replace(/^data: /, ""))).toMatchObject({
      error: { code: 503, status: "UNAVAILABLE" },
    });

    const whole = await waiting;
    expect(whole.status).toBe(503);
    expect(((await whole.json()) as { error: { code: string } }).error.code).toBe("shutting_down");

    expect(await exit).toBe(0);
    // The window, not the 20 s streams, decides when the process goes.
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(gateway.output()).toContain("draining (up to 1 s)");
    expect(gateway.output()).toMatch(/deadline reached with 4 requests unfinished/);
  });
});
