import { get } from "node:http";
import { connect } from "node:net";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { listenReusePort } from "../../src/native/index.js";
import { nodeFrontLanes, type RunningGateway, startGateway } from "../helpers/gateway.js";

// The node:http front on two lanes: each lane listens on its own SO_REUSEPORT socket from the addon, so the
// kernel spreads connections over both. Without the addon (and only where CI does not expect it) the front
// must fall back to one lane and say so.

const lanes = nodeFrontLanes(2);
const CRASH_PATH = "/__test/crash";
const BODY = JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });

let mock: MockServer;
let gateway: RunningGateway;

beforeAll(async () => {
  // Slow enough for the drain test to catch a request under way.
  mock = await startOpenAIMock({ latencyMs: 300 });
  gateway = await startGateway({
    env: {
      NODE_ENV: "test",
      SWITCHYARD_TEST_CRASH_PATH: CRASH_PATH,
      OPENAI_API_KEY: "sk-mock",
      OPENAI_BASE_URL: `${mock.url}/v1`,
      SWITCHYARD_HTTP: "node",
    },
    args: ["--lanes", "2"],
  });
});

afterAll(async () => {
  await gateway?.stop();
  await mock?.close();
});

/** The lanes that answered `GET /health` on fresh connections, after at most 40 tries. */
async function lanesSeen(): Promise<number[]> {
  const seen = new Set<number>();
  for (let i = 0; i < 40 && seen.size < lanes; i++) {
    const health = await freshHealth();
    expect(health).toMatchObject({ backend: "node", lanes });
    seen.add(health.lane);
  }
  return [...seen].sort();
}

/** GET /health on a connection of its own, so that the kernel picks a lane for it afresh. */
function freshHealth(): Promise<{ lane: number; lanes: number; backend: string }> {
  return new Promise((resolve, reject) => {
    get(`${gateway.url}/health`, { agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve(JSON.parse(text)));
    }).on("error", reject);
  });
}

/** An HTTP/1.0 POST written on a raw socket; resolves with everything the gateway sent before closing. */
function http10Post(): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(gateway.port, "127.0.0.1", () => {
      socket.write(
        `POST /v1/chat/completions HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`,
      );
    });
    let text = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("the node:http front on every lane", () => {
  it("has the addon's shared sockets when CI expects the addon", () => {
    if (process.env.SWITCHYARD_EXPECT_NATIVE === "1") expect(listenReusePort).toBeTypeOf("function");
  });

  it("says at start-up how many lanes node:http serves", () => {
    const out = gateway.output();
    expect(out).toContain("http backend: node:http");
    expect(out).toMatch(
      lanes === 2
        ? /lanes: 2 \(node:http on SO_REUSEPORT sockets from the native module\)\n/
        : /lanes: 1 \(asked for 2; node:http serves one without the native module's SO_REUSEPORT sockets\)\n/,
    );
  });

  it("spreads fresh connections over the lanes", async () => {
    expect(await lanesSeen()).toEqual(lanes === 2 ? [0, 1] : [0]);
  });

  it("relays chat completions, plain and streamed, through the OpenAI SDK", async () => {
    const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: "client-key", maxRetries: 0 });
    const completions = await Promise.all(
      Array.from({ length: 8 }, () =>
        client.chat.completions.create({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "user", content: "hi" }],
        }),
      ),
    );
    for (const completion of completions) expect(completion.object).toBe("chat.completion");
    const stream = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "Count" }],
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text.length).toBeGreaterThan(0);
  });

  it("answers an HTTP/1.0 POST with a 200 and closes the connection", async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, http10Post));
    for (const answer of answers) {
      expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
      expect(answer).toContain('"object":"chat.completion"');
    }
  });

  it("replaces a lane that crashes with one that listens on the same port again", async () => {
    // The crashing request's connection is closed with its lane; the client sees an error, not an answer.
    await new Promise<void>((resolve) => {
      const req = get(`${gateway.url}${CRASH_PATH}`, { agent: false }, (res) => {
        res.resume();
        res.on("close", () => resolve());
      });
      req.on("error", () => resolve());
    });
    await gateway.waitForOutput(/lane \d restarted/);
    expect(await lanesSeen()).toEqual(lanes === 2 ? [0, 1] : [0]);
    expect(gateway.output()).not.toMatch(/restart failed|EADDRINUSE/);
  });

  it("drains a request under way on SIGTERM and exits with 0", async () => {
    const underWay = fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    await expect.poll(() => mock.stats.inFlight).toBe(1);
    const exit = gateway.stop("SIGTERM");
    const response = await underWay;
    expect(response.status).toBe(200);
    expect(await exit).toBe(0);
    expect(gateway.output()).toContain("drained; bye");
  });
});
