import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../formats/canonical.js";
import { semanticQuery } from "./conversation.js";
import { salientSignature } from "./salient.js";

const ask = (messages: ChatMessage[], maxTurns = 3) => semanticQuery({ model: "m", messages }, maxTurns);

describe("a chat request's semantic query", () => {
  it("embeds the conversation and keeps the system prompt apart, for the scope", () => {
    expect(
      ask([
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "What is 2 + 2 in Rust?" }] },
      ]),
    ).toEqual({
      text: "What is 2 + 2 in Rust?",
      system: "Be brief.",
      signature: salientSignature("What is 2 + 2 in Rust?"),
    });
    expect(
      ask([
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "Tell me a joke" },
      ])?.text,
    ).toBe("Hi\nassistant: Hello!\nuser: Tell me a joke");
  });

  it("compares nothing past the configured turns, nor a part that is not text", () => {
    const turns: ChatMessage[] = [
      { role: "user", content: "a" },
      { role: "assistant", content: "b" },
    ];
    expect(ask(turns, 2)).toBeDefined();
    expect(ask([...turns, { role: "user", content: "c" }], 2)).toBeUndefined();
    expect(
      ask([{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }]),
    ).toBeUndefined();
    expect(
      ask([
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "1", type: "function", function: { name: "w", arguments: "{}" } }],
        },
        { role: "tool", tool_call_id: "1", content: "sunny" },
      ]),
    ).toBeUndefined();
    expect(ask([{ role: "system", content: "only a system prompt" }])).toBeUndefined();
  });
});
