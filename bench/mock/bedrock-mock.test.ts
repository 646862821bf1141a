import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventStreamDecoder } from "../../src/providers/bedrock/eventstream.js";
import { sign } from "../../src/providers/bedrock/sigv4.js";
import { type BedrockMock, MOCK_ACCESS_KEY, MOCK_SECRET_KEY, startBedrockMock } from "./bedrock-mock.js";

let mock: BedrockMock;

beforeAll(async () => {
  mock = await startBedrockMock({ apiKey: "bedrock-api-key" });
});
afterAll(async () => {
  await mock.close();
});

const CONVERSE = { messages: [{ role: "user", content: [{ text: "Hi" }] }] };

async function call(path: string, body: unknown, headers: Record<string, string> = {}, signIt = true) {
  const text = JSON.stringify(body);
  const all: Record<string, string> = { "content-type": "application/json", ...headers };
  if (signIt) {
    const signed = sign({
      method: "POST",
      host: `127.0.0.1:${mock.port}`,
      path,
      headers: [["content-type", "application/json"]],
      body: text,
      credentials: { accessKeyId: MOCK_ACCESS_KEY, secretAccessKey: MOCK_SECRET_KEY },
      region: "us-east-1",
      service: "bedrock",
    });
    for (const [name, value] of signed.headers) all[name] = value;
  }
  const reply = await request(`${mock.url}${path}`, { method: "POST", headers: all, body: text });
  return {
    status: reply.statusCode,
    headers: reply.headers,
    body: Buffer.from(await reply.body.arrayBuffer()),
  };
}

describe("bedrock mock", () => {
  it("refuses an unsigned request with Bedrock's 403", async () => {
    const reply = await call("/model/amazon.nova-lite-v1%3A0/converse", CONVERSE, {}, false);
    expect(reply.status).toBe(403);
    expect(reply.headers["x-amzn-errortype"]).toMatch(/^MissingAuthenticationTokenException:/);
    expect(JSON.parse(reply.body.toString())).toEqual({ message: "Missing Authentication Token" });
  });

  it("refuses an x-amz header added after signing", async () => {
    const reply = await call("/model/amazon.nova-lite-v1%3A0/converse", CONVERSE, { "x-amz-extra": "1" });
    expect(reply.status).toBe(403);
    expect(reply.headers["x-amzn-errortype"]).toMatch(/^InvalidSignatureException:/);
  });

  it("accepts its Bedrock API key as a bearer token", async () => {
    const reply = await call(
      "/model/amazon.nova-lite-v1%3A0/converse",
      CONVERSE,
      { authorization: "Bearer bedrock-api-key" },
      false,
    );
    expect(reply.status).toBe(200);
  });

  it("answers Converse with output, stop reason, usage and metrics", async () => {
    const reply = await call("/model/amazon.nova-lite-v1%3A0/converse", CONVERSE);
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body.toString())).toMatchObject({
      output: {
        message: { role: "assistant", content: [{ text: "Hello from Bedrock (amazon.nova-lite-v1:0)." }] },
      },
      stopReason: "end_turn",
      usage: { inputTokens: expect.any(Number), outputTokens: expect.any(Number) },
      metrics: { latencyMs: 42 },
    });
  });

  it("streams framed events whose CRCs check, in ConverseStream's order", async () => {
    const reply = await call("/model/amazon.nova-lite-v1%3A0/converse-stream", CONVERSE);
    expect(reply.headers["content-type"]).toBe("application/vnd.amazon.eventstream");
    const events = new EventStreamDecoder().push(reply.body).map((m) => m.headers[":event-type"]);
    expect(events[0]).toBe("messageStart");
    expect(events.slice(-3)).toEqual(["contentBlockStop", "messageStop", "metadata"]);
    expect(events.filter((e) => e === "contentBlockDelta").length).toBeGreaterThan(1);
  });

  it("validates like Bedrock: alternating roles, toolConfig for tool blocks", async () => {
    const twice = await call("/model/x/converse", {
      messages: [
        { role: "user", content: [{ text: "a" }] },
        { role: "user", content: [{ text: "b" }] },
      ],
    });
    expect(twice.status).toBe(400);
    expect(twice.headers["x-amzn-errortype"]).toMatch(/^ValidationException:/);
    const tools = await call("/model/x/converse", {
      messages: [{ role: "user", content: [{ toolResult: { toolUseId: "a", content: [{ text: "x" }] } }] }],
    });
    expect(JSON.parse(tools.body.toString()).message).toMatch(/toolConfig/);
  });

  it("injects errors by model id", async () => {
    const reply = await call("/model/mock-error-503/converse", CONVERSE);
    expect(reply.status).toBe(503);
    expect(reply.headers["x-amzn-errortype"]).toMatch(/^ServiceUnavailableException:/);
  });
});
