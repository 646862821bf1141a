import { describe, expect, it } from "vitest";
import { emptyUsage, type Usage } from "../observability/usage.js";
import { UsageEventStrip } from "./usage-strip.js";

const events = [
  'data: {"id":"c1","choices":[{"index":0,"delta":{"content":"Hi"}}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}\n\n',
  'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}\n\n',
  "data: [DONE]\n\n",
];
const stream = events.join("");
const withoutUsage = [events[0], events[1], events[3]].join("");

function run(pieces: string[], usage: Usage = emptyUsage()): string {
  const strip = new UsageEventStrip();
  let out = "";
  for (const piece of pieces) out += strip.filter(Buffer.from(piece), usage).toString();
  return out + strip.rest();
}

describe("UsageEventStrip", () => {
  it("drops the usage event, reading the usage from it, and keeps every other event as it came", () => {
    const usage = emptyUsage();
    expect(run([stream], usage)).toBe(withoutUsage);
    expect(usage).toMatchObject({ prompt: 9, completion: 2 });
  });

  it("gives the same output and usage however the stream is cut into chunks", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const usage = emptyUsage();
      expect(run([stream.slice(0, cut), stream.slice(cut)], usage)).toBe(withoutUsage);
      expect(usage).toMatchObject({ prompt: 9, completion: 2 });
    }
    expect(run(stream.split(""))).toBe(withoutUsage);
  });

  it("keeps a chunk whose choices are empty but whose usage is null, and an unterminated last event", () => {
    const kept = 'data: {"choices":[],"usage":null}\n\n';
    expect(run([kept, "data: [DONE]"])).toBe(`${kept}data: [DONE]`);
  });
});
