import { describe, expect, it } from "vitest";
import { UpstreamError } from "./errors.js";
import { HEAD_LIMIT, ResponseParser, type UpstreamHeaders } from "./response-parser.js";

// Replies as providers and proxies send them, fed whole and cut at every byte, and replies that break
// HTTP/1.1's framing, which must fail as UpstreamErrors and nothing else.

interface Reading {
  heads: { status: number; headers: UpstreamHeaders }[];
  body: string;
  completed: boolean[];
}

function reader(): { parser: ResponseParser; reading: Reading } {
  const reading: Reading = { heads: [], body: "", completed: [] };
  const parser = new ResponseParser({
    onHead: (status, headers) => reading.heads.push({ status, headers }),
    onBody: (chunk) => {
      reading.body += chunk.toString("latin1");
    },
    onComplete: (reusable) => reading.completed.push(reusable),
  });
  return { parser, reading };
}

/** Reads `reply` fed in pieces cut at `cuts`. */
function read(reply: string, cuts: readonly number[] = [], method = "POST"): Reading {
  const { parser, reading } = reader();
  parser.expect(method);
  const bytes = Buffer.from(reply, "latin1");
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    if (cut > from) parser.feed(bytes.subarray(from, cut));
    from = Math.max(from, cut);
  }
  return reading;
}

function failure(reply: string, method = "POST"): UpstreamError {
  try {
    read(reply, [], method);
  } catch (error) {
    expect(error).toBeInstanceOf(UpstreamError);
    return error as UpstreamError;
  }
  throw new Error("the reply was read without complaint");
}

const OPENAI_REPLY =
  "HTTP/1.1 200 OK\r\nDate: Fri, 04 Dec 2026 10:00:00 GMT\r\nContent-Type: application/json\r\n" +
  "Content-Length: 27\r\nConnection: keep-alive\r\nopenai-processing-ms: 412\r\n" +
  "x-ratelimit-remaining-requests: 9999\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\n" +
  '{"id":"chatcmpl-1","ok":1}\n';

const chunk = (data: string, extension = "") => `${data.length.toString(16)}${extension}\r\n${data}\r\n`;

const SSE_REPLY =
  "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\ntransfer-encoding: chunked\r\n\r\n" +
  chunk('data: {"choices":[{"a":1}]}\n\n', ";ext=1") +
  chunk("data: [DONE]\n\n") +
  "0\r\nx-trailer: yes\r\n\r\n";

describe("ResponseParser", () => {
  it("reads a Content-Length reply: status, lower-case names, repeated headers as a list, the body", () => {
    const reading = read(OPENAI_REPLY);
    expect(reading.heads).toHaveLength(1);
    const { status, headers } = reading.heads[0] as Reading["heads"][0];
    expect(status).toBe(200);
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["openai-processing-ms"]).toBe("412");
    expect(headers["set-cookie"]).toEqual(["a=1", "b=2"]);
    expect(reading.body).toBe('{"id":"chatcmpl-1","ok":1}\n');
    expect(reading.completed).toEqual([true]);
  });

  it("reads a chunked event stream with extensions and trailers", () => {
    const reading = read(SSE_REPLY);
    expect(reading.body).toBe('data: {"choices":[{"a":1}]}\n\ndata: [DONE]\n\n');
    expect(reading.completed).toEqual([true]);
  });

  it("reads the same whatever the socket's reads are cut at", () => {
    for (const reply of [OPENAI_REPLY, SSE_REPLY]) {
      const whole = read(reply);
      for (let cut = 1; cut < reply.length; cut++) {
        expect(read(reply, [cut])).toEqual(whole);
      }
      // and one byte at a time
      expect(
        read(
          reply,
          Array.from({ length: reply.length }, (_, i) => i),
        ),
      ).toEqual(whole);
    }
  });

  it("skips interim 1xx heads and reads the final one", () => {
    const reading = read(
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" +
        "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
    );
    expect(reading.heads.map((head) => head.status)).toEqual([201]);
    expect(reading.body).toBe("ok");
  });

  it("reads a body that runs to the connection's close, and the connection is not kept", () => {
    const { parser, reading } = reader();
    parser.expect("POST");
    parser.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nhello "));
    parser.feed(Buffer.from("world"));
    expect(reading.completed).toEqual([]);
    expect(parser.end()).toBe(true);
    expect(reading.body).toBe("hello world");
    expect(reading.completed).toEqual([false]);
  });

  it("tells a cut-off reply from a whole one at the connection's end", () => {
    const { parser, reading } = reader();
    parser.expect("POST");
    parser.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf"));
    expect(parser.end()).toBe(false);
    expect(reading.completed).toEqual([]);
  });

  it("has no body for HEAD, 204 and 304, whatever the head declares", () => {
    expect(read("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n", [], "HEAD")).toMatchObject({
      body: "",
      completed: [true],
    });
    expect(read("HTTP/1.1 204 No Content\r\n\r\n")).toMatchObject({ body: "", completed: [true] });
    expect(read("HTTP/1.1 304 Not Modified\r\ncontent-length: 9\r\n\r\n")).toMatchObject({
      completed: [true],
    });
  });

  it("keeps the connection only when HTTP says it may", () => {
    expect(read("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").completed).toEqual([
      false,
    ]);
    expect(read("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").completed).toEqual([false]);
    expect(read("HTTP/1.0 200 OK\r\ncontent-length: 0\r\nConnection: Keep-Alive\r\n\r\n").completed).toEqual([
      true,
    ]);
    // Both framings at once: chunked wins and the connection is not trusted after.
    expect(
      read("HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"),
    ).toMatchObject({ body: "ok", completed: [false] });
    // Bytes past the reply were not asked for.
    expect(read("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA")).toMatchObject({
      body: "ok",
      completed: [false],
    });
  });

  it("treats header names as their own, prototype names included", () => {
    const reading = read(
      "HTTP/1.1 200 OK\r\nconstructor: a\r\n__proto__: b\r\ntoString: c\r\ncontent-length: 0\r\n\r\n",
    );
    const headers = reading.heads[0]?.headers as UpstreamHeaders;
    expect(headers.constructor).toBe("a");
    expect(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value).toBe("b");
    expect(headers.tostring).toBe("c");
    expect(Object.keys(headers)).toEqual(["constructor", "__proto__", "tostring", "content-length"]);
  });

  it("holds the body back while halted and hands it on when resumed", () => {
    const reading: Reading = { heads: [], body: "", completed: [] };
    const halting: ResponseParser = new ResponseParser({
      onHead: () => {},
      onBody: (chunk) => {
        reading.body += chunk.toString();
        halting.halt();
      },
      onComplete: (reusable) => reading.completed.push(reusable),
    });
    halting.expect("POST");
    halting.feed(
      Buffer.from("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n"),
    );
    expect(reading.body).toBe("a");
    halting.resume();
    expect(reading.body).toBe("ab");
    expect(reading.completed).toEqual([]);
    halting.resume();
    expect(reading.completed).toEqual([true]);
  });

  it("stops at once when the exchange is dropped from inside a callback", () => {
    const bodies: string[] = [];
    const parser: ResponseParser = new ResponseParser({
      onHead: () => parser.reset(),
      onBody: (chunk) => bodies.push(chunk.toString()),
      onComplete: () => bodies.push("complete"),
    });
    parser.expect("POST");
    parser.feed(Buffer.from("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    expect(bodies).toEqual([]);
    expect(parser.busy).toBe(false);
  });

  it.each([
    ["no status line", "hello\r\n\r\n", "status line"],
    ["HTTP/2 on an HTTP/1.1 connection", "HTTP/2 200\r\n\r\n", "status line"],
    ["a status that is not three digits", "HTTP/1.1 2x0 OK\r\n\r\n", "three digits"],
    ["a bare LF", "HTTP/1.1 200 OK\r\nx: y\nz: w\r\n\r\n", "CRLF"],
    ["an obs-folded header", "HTTP/1.1 200 OK\r\nx: a\r\n b\r\n\r\n", "no name"],
    ["an obs-folded header with a colon", "HTTP/1.1 200 OK\r\nx: a\r\n b: c\r\n\r\n", "character"],
    ["a space before the colon", "HTTP/1.1 200 OK\r\nx : a\r\n\r\n", "character"],
    ["a header with no colon", "HTTP/1.1 200 OK\r\nnocolon\r\n\r\n", "no name"],
    ["a control byte in a value", "HTTP/1.1 200 OK\r\nx: a\u0000b\r\n\r\n", "control"],
    [
      "two different lengths",
      "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
      "two different",
    ],
    ["a length that is not a number", "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", "not a number"],
    [
      "a chunk size that is not hex",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      "no size",
    ],
    [
      "a chunk longer than its size",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1\r\nab\r\n",
      "longer than its size",
    ],
    [
      "a chunk too large to be real",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffffffffffff\r\n",
      "too large",
    ],
    ["a switch of protocols", "HTTP/1.1 101 Switching Protocols\r\n\r\n", "switched protocols"],
  ])("refuses %s", (_what, reply, message) => {
    const error = failure(reply);
    expect(error.code).toBe("UPSTREAM_BAD_REPLY");
    expect(error.message).toContain(message);
  });

  it("refuses a head or a chunk line past its limit without holding more than that", () => {
    const { parser } = reader();
    parser.expect("POST");
    const line = Buffer.from(`x-filler: ${"a".repeat(1000)}\r\n`);
    parser.feed(Buffer.from("HTTP/1.1 200 OK\r\n"));
    expect(() => {
      for (let i = 0; i < 40; i++) parser.feed(line);
    }).toThrow(/larger than 32768 bytes/);
    expect(HEAD_LIMIT).toBe(32768);
    expect(() =>
      read(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n1;${"e".repeat(5000)}\r\n`),
    ).toThrow(/chunk-size line is longer/);
  });

  it("refuses bytes that arrive with no request outstanding", () => {
    const { parser } = reader();
    expect(() => parser.feed(Buffer.from("HTTP/1.1 200 OK\r\n\r\n"))).toThrow(/no request outstanding/);
  });

  it("fails only with UpstreamErrors on random and mangled input (fuzz)", () => {
    let seed = 0x2545f491;
    const random = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 0x100000000;
    };
    const alphabet = [
      "\r\n",
      "\r",
      "\n",
      ":",
      " ",
      "0",
      "f",
      ";",
      "HTTP/1.1 ",
      "200",
      "chunked",
      "content-length: ",
      "transfer-encoding: ",
      "\u0000",
      "\u00ff",
      "a",
    ];
    const seeds = [OPENAI_REPLY, SSE_REPLY, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\nbody"];
    for (let round = 0; round < 3000; round++) {
      let text: string;
      if (round % 2 === 0) {
        // A real reply with a few bytes changed, dropped or repeated.
        const base = seeds[round % seeds.length] as string;
        const chars = [...base];
        for (let edits = 1 + Math.floor(random() * 4); edits > 0; edits--) {
          const at = Math.floor(random() * chars.length);
          const kind = random();
          if (kind < 0.4) chars[at] = String.fromCharCode(Math.floor(random() * 256));
          else if (kind < 0.7) chars.splice(at, 1);
          else chars.splice(at, 0, alphabet[Math.floor(random() * alphabet.length)] as string);
        }
        text = chars.join("");
      } else {
        text = Array.from(
          { length: 1 + Math.floor(random() * 40) },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join("");
      }
      const cuts = [Math.floor(random() * text.length), Math.floor(random() * text.length)].sort(
        (a, b) => a - b,
      );
      try {
        const reading = read(text, cuts);
        // Whatever was read is consistent: at most one completion, and a body only after a head.
        expect(reading.completed.length).toBeLessThanOrEqual(1);
        if (reading.body.length > 0) expect(reading.heads.length).toBe(1);
      } catch (error) {
        if (!(error instanceof UpstreamError))
          throw new Error(`a ${String(error)} on ${JSON.stringify(text)}`);
      }
    }
  });
});
