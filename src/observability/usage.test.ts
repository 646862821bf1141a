import { describe, expect, it } from "vitest";
import {
  copyCanonicalUsage,
  emptyUsage,
  indexOf,
  lastIndexOf,
  NEAR,
  readUsage,
  type Usage,
} from "./usage.js";

/** A Usage with only the totals set. */
const totals = (prompt: number, completion: number): Usage => ({ ...emptyUsage(), prompt, completion });

describe("readUsage", () => {
  it("reads usage at the end of a chat completion", () => {
    const body = Buffer.from(
      JSON.stringify({
        id: "x",
        choices: [{ message: { content: 'the "usage" of words' } }],
        usage: { prompt_tokens: 12, completion_tokens: 34, total_tokens: 46 },
      }),
    );
    const usage = emptyUsage();
    expect(readUsage(body, usage)).toBe(true);
    expect(usage).toEqual(totals(12, 34));
  });

  it("reads the usage chunk of a stream and ignores chunks whose usage is null", () => {
    const usage = emptyUsage();
    expect(
      readUsage(Buffer.from('data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n'), usage),
    ).toBe(false);
    const last =
      'data: {"choices":[],"usage": {"prompt_tokens": 7, "completion_tokens": 3}}\n\ndata: [DONE]\n\n';
    expect(readUsage(Buffer.from(last), usage)).toBe(true);
    expect(usage).toEqual(totals(7, 3));
  });

  it("reads embeddings usage, which has no completion tokens", () => {
    const usage = { ...emptyUsage(), completion: 9 };
    expect(readUsage(Buffer.from('{"data":[],"usage":{"prompt_tokens":5,"total_tokens":5}}'), usage)).toBe(
      true,
    );
    expect(usage).toEqual(totals(5, 0));
  });

  it("reads Anthropic's input and output tokens, spread over a stream's events", () => {
    const usage = emptyUsage();
    const start =
      'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":25,"output_tokens":1}}}\n\n';
    expect(readUsage(Buffer.from(start), usage)).toBe(true);
    expect(usage).toEqual(totals(25, 1));
    const end =
      'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":15}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    expect(readUsage(Buffer.from(end), usage)).toBe(true);
    expect(usage).toEqual(totals(25, 15));
    const whole = Buffer.from(start + end);
    const fresh = emptyUsage();
    expect(readUsage(whole, fresh)).toBe(true);
    expect(fresh).toEqual(totals(25, 15));
  });

  it("reads Gemini's usageMetadata, counting thoughts as output, in a reply and a stream's last chunk", () => {
    const usage = emptyUsage();
    const reply = {
      candidates: [{ content: { parts: [{ text: "hi" }], role: "model" } }],
      usageMetadata: {
        promptTokenCount: 11,
        candidatesTokenCount: 7,
        totalTokenCount: 21,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 11 }],
        thoughtsTokenCount: 3,
      },
      modelVersion: "gemini-2.5-flash",
    };
    expect(readUsage(Buffer.from(JSON.stringify(reply)), usage)).toBe(true);
    expect(usage).toEqual({ ...totals(11, 10), reasoning: 3 });
    const chunk = `data: ${JSON.stringify({ ...reply, usageMetadata: { promptTokenCount: 4, candidatesTokenCount: 9 } })}\r\n\r\n`;
    expect(readUsage(Buffer.from(chunk), usage)).toBe(true);
    expect(usage).toEqual(totals(4, 9));
  });

  it("passes over other keys and text that start like usage", () => {
    const usage = emptyUsage();
    const body = JSON.stringify({
      usage: { prompt_tokens: 2, completion_tokens: 5 },
      choices: [{ message: { content: 'see "usage_notes"' } }],
      usage_details: { note: "x" },
    });
    expect(readUsage(Buffer.from(body), usage)).toBe(true);
    expect(usage).toEqual(totals(2, 5));
    expect(readUsage(Buffer.from('{"usage_details":{"prompt_tokens":1}}'), usage)).toBe(false);
  });

  it("finds usage far from the end of a long reply, and none where there is none", () => {
    const usage = emptyUsage();
    const early = `{"usage":{"prompt_tokens":3,"completion_tokens":4},"pad":"${"x".repeat(10_000)}"}`;
    expect(readUsage(Buffer.from(early), usage)).toBe(true);
    expect(usage).toEqual(totals(3, 4));
    expect(readUsage(Buffer.from(`{"pad":"${"x".repeat(10_000)}"}`), usage)).toBe(false);
  });
});

describe("readUsage: cache and reasoning parts", () => {
  const read = (text: string, into = emptyUsage()): Usage => {
    expect(readUsage(Buffer.from(text), into)).toBe(true);
    return into;
  };

  it("reads OpenAI chat's prompt_tokens_details and completion_tokens_details", () => {
    const reply = {
      id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
      object: "chat.completion",
      created: 1741570283,
      model: "o4-mini-2025-04-16",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Paris.", refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: {
        prompt_tokens: 1117,
        completion_tokens: 346,
        total_tokens: 1463,
        prompt_tokens_details: { cached_tokens: 1024, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 320,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      },
      service_tier: "default",
      system_fingerprint: "fp_fc9f1d7035",
    };
    expect(read(JSON.stringify(reply))).toEqual({
      prompt: 1117,
      completion: 346,
      cachedRead: 1024,
      cacheWrite: 0,
      reasoning: 320,
    });
  });

  it("reads a stream's usage chunk with details, and DeepSeek's prompt_cache_hit_tokens", () => {
    const last =
      'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":2006,' +
      '"completion_tokens":300,"total_tokens":2306,"prompt_tokens_details":{"cached_tokens":1920},' +
      '"completion_tokens_details":{"reasoning_tokens":0}}}\n\ndata: [DONE]\n\n';
    expect(read(last)).toEqual({
      prompt: 2006,
      completion: 300,
      cachedRead: 1920,
      cacheWrite: 0,
      reasoning: 0,
    });
    const deepseek =
      '{"model":"deepseek-chat","usage":{"prompt_tokens":120,"completion_tokens":8,"total_tokens":128,' +
      '"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":56}}';
    expect(read(deepseek).cachedRead).toBe(64);
  });

  it("reads cache writes under Anthropic's name in OpenAI-shaped usage, as converted replies carry them", () => {
    const converted =
      '{"choices":[],"usage":{"prompt_tokens":130,"completion_tokens":5,"total_tokens":135,' +
      '"prompt_tokens_details":{"cached_tokens":100},"cache_creation_input_tokens":20}}';
    expect(read(converted)).toEqual({
      prompt: 130,
      completion: 5,
      cachedRead: 100,
      cacheWrite: 20,
      reasoning: 0,
    });
  });

  it("adds Anthropic's cache reads and writes to input_tokens, which leaves them out", () => {
    const message = {
      id: "msg_01XFDUDYJgAACzvnptvVoYEL",
      type: "message",
      role: "assistant",
      model: "claude-sonnet-4-5-20250929",
      content: [{ type: "text", text: "Hello!" }],
      stop_reason: "end_turn",
      stop_sequence: null,
      usage: {
        input_tokens: 21,
        cache_creation_input_tokens: 188,
        cache_read_input_tokens: 1500,
        cache_creation: { ephemeral_5m_input_tokens: 188, ephemeral_1h_input_tokens: 0 },
        output_tokens: 393,
        service_tier: "standard",
      },
    };
    expect(read(JSON.stringify(message))).toEqual({
      prompt: 1709,
      completion: 393,
      cachedRead: 1500,
      cacheWrite: 188,
      reasoning: 0,
    });
  });

  it("reads an Anthropic stream's cache counts from message_start and output from message_delta", () => {
    const start =
      'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",' +
      '"content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":12,' +
      '"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"cache_creation":{"ephemeral_5m_input_tokens":0,' +
      '"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard"}}}\n\n';
    const delta =
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},' +
      '"usage":{"output_tokens":42}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
    const expected = { prompt: 2060, completion: 42, cachedRead: 2048, cacheWrite: 0, reasoning: 0 };
    const usage = read(start);
    expect(usage).toEqual({ ...expected, completion: 1 });
    expect(read(delta, usage)).toEqual(expected);
    expect(read(start + delta)).toEqual(expected);
    // Newer message_delta events repeat the cumulative input counts.
    const cumulative =
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":12,' +
      '"cache_creation_input_tokens":0,"cache_read_input_tokens":2048,"output_tokens":42}}\n\n';
    expect(read(cumulative)).toEqual(expected);
  });

  it("reads the Responses API's input and output details, where input_tokens includes the cached ones", () => {
    const response = (usage: unknown) => ({
      id: "resp_67ccd3a9da748190baa7f1570fe91ac6",
      object: "response",
      created_at: 1741476777,
      status: "completed",
      model: "o4-mini-2025-04-16",
      output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text: "Hi." }] }],
      usage,
      user: null,
      metadata: {},
    });
    const usage = {
      input_tokens: 2100,
      input_tokens_details: { cached_tokens: 2048 },
      output_tokens: 300,
      output_tokens_details: { reasoning_tokens: 256 },
      total_tokens: 2400,
    };
    const expected = { prompt: 2100, completion: 300, cachedRead: 2048, cacheWrite: 0, reasoning: 256 };
    expect(read(JSON.stringify(response(usage)))).toEqual(expected);
    const stream =
      `event: response.created\ndata: ${JSON.stringify({ type: "response.created", response: response(null) })}\n\n` +
      `event: response.completed\ndata: ${JSON.stringify({ type: "response.completed", response: response(usage) })}\n\n`;
    expect(read(stream)).toEqual(expected);
  });

  it("reads Gemini's cached content and thoughts as parts of the prompt and output", () => {
    const reply = {
      candidates: [{ content: { parts: [{ text: "hi" }], role: "model" }, finishReason: "STOP", index: 0 }],
      usageMetadata: {
        promptTokenCount: 5000,
        candidatesTokenCount: 40,
        totalTokenCount: 5260,
        cachedContentTokenCount: 4096,
        promptTokensDetails: [{ modality: "TEXT", tokenCount: 5000 }],
        cacheTokensDetails: [{ modality: "TEXT", tokenCount: 4096 }],
        thoughtsTokenCount: 200,
        toolUsePromptTokenCount: 20,
      },
      modelVersion: "gemini-2.5-pro",
      responseId: "mAitaLmkHPPlz7IPvtfUqQ4",
    };
    expect(read(JSON.stringify(reply))).toEqual({
      prompt: 5020,
      completion: 240,
      cachedRead: 4096,
      cacheWrite: 0,
      reasoning: 200,
    });
  });

  it("takes no count from outside the usage object it reads", () => {
    const text =
      '{"usage":{"prompt_tokens":3,"completion_tokens":4},"other":{"cached_tokens":99,"reasoning_tokens":7}}';
    expect(read(text)).toEqual(totals(3, 4));
    const cut =
      '{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":{"cached_tokens":2';
    expect(read(cut)).toEqual({ ...totals(3, 4), cachedRead: 2 });
  });

  it("resets the parts a later usage object does not report", () => {
    const usage = { prompt: 9, completion: 9, cachedRead: 9, cacheWrite: 9, reasoning: 9 };
    expect(read('{"usage":{"prompt_tokens":3,"completion_tokens":4}}', usage)).toEqual(totals(3, 4));
  });
});

describe("copyCanonicalUsage", () => {
  it("copies the totals and the parts of a converted reply's usage", () => {
    const usage = emptyUsage();
    copyCanonicalUsage(
      {
        prompt_tokens: 130,
        completion_tokens: 50,
        total_tokens: 180,
        prompt_tokens_details: { cached_tokens: 100 },
        completion_tokens_details: { reasoning_tokens: 30 },
        cache_creation_input_tokens: 20,
      },
      usage,
    );
    expect(usage).toEqual({ prompt: 130, completion: 50, cachedRead: 100, cacheWrite: 20, reasoning: 30 });
    copyCanonicalUsage({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 }, usage);
    expect(usage).toEqual(totals(1, 2));
  });
});

describe("the byte searches behind readUsage", () => {
  it("agree with Buffer's own on random text, near and far from the ends", () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    const needle = Buffer.from("aba");
    for (let n = 0; n < 300; n++) {
      const length = Math.floor(random() * 6000);
      // Near misses everywhere ("ab", "bab") and zero to two whole matches anywhere.
      const text = Buffer.alloc(length, "ab_b");
      for (let copies = Math.floor(random() * 3); copies > 0; copies--)
        needle.copy(text, Math.floor(random() * Math.max(0, length - 2)));
      expect(lastIndexOf(text, needle)).toBe(text.lastIndexOf(needle));
      const from = Math.floor(random() * (length + 1));
      expect(indexOf(text, needle, from)).toBe(text.indexOf(needle, from));
      const end = from + Math.floor(random() * (length - from + 1));
      const within = text.subarray(0, end).indexOf(needle, from);
      expect(indexOf(text, needle, from, end)).toBe(within);
    }
  });

  it("agree with Buffer's own where the search hands over to it", () => {
    const needle = Buffer.from("aba");
    const length = 5000;
    const from = 100;
    for (let d = -6; d <= 6; d++) {
      const text = Buffer.alloc(length, "ab_b");
      needle.copy(text, length - NEAR + d);
      expect(lastIndexOf(text, needle)).toBe(text.lastIndexOf(needle));
      const later = Buffer.alloc(length, "ab_b");
      needle.copy(later, from + NEAR + d);
      expect(indexOf(later, needle, from)).toBe(later.indexOf(needle, from));
    }
  });
});
