import { connect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type MockServer, startOpenAIMock } from "../../bench/mock/openai-mock.js";
import { type RunningGateway, startGateway } from "../helpers/gateway.js";

// HTTP/1.x framing that real clients send but fetch never does, written on raw sockets: HTTP/1.0 (nginx's
// default towards an upstream), many headers, pipelined requests. The node:http front serves them all. The
// uWS binary cannot (docs/architecture.md, "The uWS binary's HTTP/1.1 limits"); its cases pin what it does,
// so that a binary which lifts a limit fails here and the front can then serve it.

const BODY = JSON.stringify({ model: "openai/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
/** How long a test waits for a first byte before it calls the connection silent. */
const SILENCE_MS = 1_500;

interface Answer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

interface Outcome {
  answers: Answer[];
  /** Bytes after the last whole answer (none when the gateway frames its answers correctly). */
  rest: string;
  /** "closed": the gateway ended the connection; "open": still open when the test stopped waiting. */
  connection: "closed" | "open";
  ms: number;
}

/**
 * Whole answers at the start of `text` and what is left after them. A body without Content-Length or chunked
 * framing runs to the end of the connection (HTTP/1.0), so it is whole only once `closed`.
 */
function parseAnswers(text: string, closed: boolean): { answers: Answer[]; rest: string } {
  const answers: Answer[] = [];
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd === -1) break;
    const [statusLine = "", ...lines] = text.slice(at, headEnd).split("\r\n");
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let body = "";
    let end = headEnd + 4;
    if (headers.get("transfer-encoding") === "chunked") {
      for (;;) {
        const sizeEnd = text.indexOf("\r\n", end);
        if (sizeEnd === -1) return { answers, rest: text.slice(at) };
        const size = Number.parseInt(text.slice(end, sizeEnd), 16);
        if (text.length < sizeEnd + 2 + size + 2) return { answers, rest: text.slice(at) };
        body += text.slice(sizeEnd + 2, sizeEnd + 2 + size);
        end = sizeEnd + 2 + size + 2;
        if (size === 0) break;
      }
    } else if (!headers.has("content-length")) {
      if (!closed) break;
      body = text.slice(end);
      end = text.length;
    } else {
      const length = Number(headers.get("content-length"));
      if (text.length < end + length) break;
      body = text.slice(end, end + length);
      end += length;
    }
    answers.push({ status: Number(statusLine.split(" ")[1]), headers, body });
    at = end;
  }
  return { answers, rest: text.slice(at) };
}

/**
 * Writes `bytes` (an array: one write per part, 50 ms apart) and collects what comes back until the gateway
 * closes the connection, `expectAnswers` whole answers have arrived, or `waitMs` passes.
 */
function exchange(
  port: number,
  bytes: string | readonly string[],
  expectAnswers: number,
  waitMs = SILENCE_MS,
): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    const started = Date.now();
    let text = "";
    let finished = false;
    const finish = (connection: Outcome["connection"]) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ...parseAnswers(text, connection === "closed"), connection, ms: Date.now() - started });
    };
    const timer = setTimeout(() => finish("open"), waitMs);
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      text += chunk;
      // Stay a little longer for a close that follows the last answer (HTTP/1.0, Connection: close).
      if (parseAnswers(text, false).answers.length === expectAnswers) setTimeout(() => finish("open"), 200);
    });
    socket.on("end", () => finish("closed"));
    socket.on("error", reject);
    const parts = typeof bytes === "string" ? [bytes] : bytes;
    for (const [i, part] of parts.entries()) setTimeout(() => socket.write(part), i * 50);
  });
}

const post = (id: string, version = "1.1") =>
  `POST /v1/chat/completions HTTP/${version}\r\nHost: gw\r\nContent-Type: application/json\r\n` +
  `x-request-id: ${id}\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`;

/** GET /health with `count` header lines, Host included. */
const healthWithHeaders = (count: number) => {
  let headers = "Host: gw\r\n";
  for (let i = 1; i < count; i++) headers += `x-extra-${i}: value-${i}\r\n`;
  return `GET /health HTTP/1.1\r\n${headers}\r\n`;
};

const ids = (answers: Answer[]) => answers.map((answer) => answer.headers.get("x-request-id"));

describe.each(["uws", "node"] as const)("HTTP/1.x framing on the %s front", (backend) => {
  let mock: MockServer;
  let gateway: RunningGateway;

  beforeAll(async () => {
    mock = await startOpenAIMock();
    gateway = await startGateway({
      env: {
        OPENAI_API_KEY: "sk-test",
        OPENAI_BASE_URL: `${mock.url}/v1`,
        ...(backend === "node" ? { SWITCHYARD_HTTP: "node" } : {}),
      },
      args: ["--lanes", "2"],
    });
  });

  afterAll(async () => {
    await gateway?.stop();
    await mock?.close();
  });

  afterEach(async () => {
    // Whatever a case did to its connection, the next client on a fresh one is served.
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: BODY,
    });
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });

  it("answers an HTTP/1.0 POST and closes, or (uWS) holds it without a byte and sends nothing upstream", async () => {
    const before = mock.stats.requests;
    const outcome = await exchange(gateway.port, post("h10", "1.0"), 1);
    if (backend === "node") {
      expect(outcome.answers.map((answer) => answer.status)).toEqual([200]);
      expect(ids(outcome.answers)).toEqual(["h10"]);
      expect(JSON.parse(outcome.answers[0]?.body ?? "")).toMatchObject({ object: "chat.completion" });
      expect(outcome.connection).toBe("closed");
    } else {
      // The binary's parser takes only "HTTP/1.1" and waits for a request line it accepts.
      expect(outcome).toMatchObject({ answers: [], rest: "", connection: "open" });
      expect(mock.stats.requests).toBe(before);
    }
  });

  it("serves a request of 48 header lines", async () => {
    const outcome = await exchange(gateway.port, healthWithHeaders(48), 1);
    expect(outcome.answers.map((answer) => answer.status)).toEqual([200]);
    expect(outcome.rest).toBe("");
  });

  it.each([49, 60, 120])(
    "answers a request of %i header lines, or (uWS) holds it without a byte",
    async (count) => {
      const outcome = await exchange(gateway.port, healthWithHeaders(count), 1);
      if (backend === "node") {
        expect(outcome.answers.map((answer) => answer.status)).toEqual([200]);
      } else {
        expect(outcome).toMatchObject({ answers: [], rest: "", connection: "open" });
      }
    },
  );

  it("answers a 4.2 KB head written in two parts, or (uWS) closes at once without a byte", async () => {
    const head = `GET /health HTTP/1.1\r\nHost: gw\r\nx-large: ${"a".repeat(4_200)}\r\n\r\n`;
    const outcome = await exchange(gateway.port, [head.slice(0, 100), head.slice(100)], 1);
    if (backend === "node") {
      expect(outcome.answers.map((answer) => answer.status)).toEqual([200]);
    } else {
      // Its parser keeps at most 4 KB of an unfinished head between reads (the same head in one read is served).
      expect(outcome).toMatchObject({ answers: [], rest: "", connection: "closed" });
      expect(outcome.ms).toBeLessThan(SILENCE_MS);
    }
  });

  it("holds no connection for long: each is answered or closed (uWS: at its 10 s idle timeout)", async () => {
    const outcomes = await Promise.all([
      exchange(gateway.port, post("h10-wait", "1.0"), 1, 15_000),
      exchange(gateway.port, healthWithHeaders(120), 1, 15_000),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.answers.length === 1 || outcome.connection === "closed").toBe(true);
    }
    if (backend === "uws") {
      for (const outcome of outcomes) {
        expect(outcome).toMatchObject({ answers: [], rest: "", connection: "closed" });
        expect(outcome.ms).toBeGreaterThan(7_000);
      }
    }
  }, 20_000);

  it("answers ten pipelined GETs in order", async () => {
    const requests = Array.from(
      { length: 10 },
      (_, i) => `GET /health HTTP/1.1\r\nHost: gw\r\nx-request-id: get-${i}\r\n\r\n`,
    );
    const outcome = await exchange(gateway.port, requests.join(""), 10);
    expect(outcome.answers.map((answer) => answer.status)).toEqual(Array(10).fill(200));
    expect(ids(outcome.answers)).toEqual(requests.map((_, i) => `get-${i}`));
  });

  it("answers pipelined POSTs that it refuses itself, in order", async () => {
    const sent = ["bad-0", "bad-1", "bad-2"];
    const bad = (id: string) =>
      `POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\n` +
      `x-request-id: ${id}\r\nContent-Length: 4\r\n\r\n{bad`;
    const outcome = await exchange(gateway.port, sent.map(bad).join(""), 3);
    expect(outcome.answers.map((answer) => answer.status)).toEqual([400, 400, 400]);
    expect(ids(outcome.answers)).toEqual(sent);
  });

  it.each([2, 10])("answers %i pipelined POSTs in order, or (uWS) closes at once", async (count) => {
    const before = mock.stats.requests;
    const sent = Array.from({ length: count }, (_, i) => `pipe${count}-${i}`);
    const outcome = await exchange(gateway.port, sent.map((id) => post(id)).join(""), count);
    if (backend === "node") {
      expect(outcome.answers.map((answer) => answer.status)).toEqual(Array(count).fill(200));
      expect(ids(outcome.answers)).toEqual(sent);
      expect(mock.stats.requests - before).toBe(count);
    } else {
      // The binary refuses a request that arrives while the one before it is unanswered: it closes the
      // connection before any handler could write, so not even the first is answered. The first one's
      // upstream request is written as soon as its handler runs and then aborted: the provider sees at
      // most that one, never the ones behind it.
      expect(outcome).toMatchObject({ answers: [], rest: "", connection: "closed" });
      expect(outcome.ms).toBeLessThan(SILENCE_MS);
      expect(mock.stats.requests - before).toBeLessThanOrEqual(1);
    }
  });
});
