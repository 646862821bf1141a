import { describe, expect, it } from "vitest";
import { findRoute, inferenceRoutes } from "./routes.js";

/** What a route declares, with its wire format and byte leg by name. */
function declared(path: string, query = "") {
  const route = findRoute(path, query);
  if (route === undefined) return undefined;
  const base = { kind: route.kind, name: route.name, method: route.method, format: route.format.name };
  if (route.kind !== "inference") return base;
  const { operation, upstreamPath, modelFrom, pathModel, pathStream } = route;
  return { ...base, operation, upstreamPath, modelFrom, pathModel, pathStream, bytes: route.bytes.name };
}

describe("routes", () => {
  it.each([
    "/v1/chat/completions",
    "/openai/v1/chat/completions",
    "/chat/completions",
    "/litellm/chat/completions",
    "/litellm/v1/chat/completions",
  ])("serves chat completions at %s", (path) => {
    expect(declared(path)).toMatchObject({
      kind: "inference",
      name: "openai.chat.completions",
      method: "POST",
      format: "openai",
      operation: "chat",
      upstreamPath: "/chat/completions",
      modelFrom: "body",
      bytes: "OpenAI API",
    });
  });

  it.each(["/models", "/litellm/models", "/litellm/v1/models", "/v1/models"])(
    "lists models at %s",
    (path) => {
      expect(declared(path)).toMatchObject({ kind: "models", method: "GET" });
    },
  );

  it.each([
    "/v1/responses",
    "/openai/v1/responses",
    "/openai/responses",
    "/responses",
    "/litellm/v1/responses",
  ])("serves the Responses API at %s, as bytes to OpenAI only", (path) => {
    expect(declared(path)).toMatchObject({
      name: "openai.responses",
      upstreamPath: "/responses",
      format: "responses",
      bytes: "OpenAI Responses API",
    });
    const route = findRoute(path);
    expect(route?.kind === "inference" && route.bytes.takes("openai")).toBe(true);
    expect(route?.kind === "inference" && route.bytes.takes("groq")).toBe(false);
  });

  it("takes the model from LiteLLM's deployment paths, slashes and escapes included, into the body", () => {
    expect(declared("/openai/deployments/openai%2Fgpt-4o/chat/completions")).toMatchObject({
      kind: "inference",
      upstreamPath: "/chat/completions",
      modelFrom: "path-into-body",
      pathModel: "openai/gpt-4o",
    });
    expect(declared("/engines/groq/llama-3.1-8b-instant/completions")).toMatchObject({
      upstreamPath: "/completions",
      operation: "completions",
      pathModel: "groq/llama-3.1-8b-instant",
    });
    expect(declared("/litellm/openai/deployments/emb/embeddings/")).toMatchObject({
      upstreamPath: "/embeddings",
      operation: "embeddings",
      pathModel: "emb",
    });
    expect(declared("/openai/deployments/chat/completions")).toMatchObject({ pathModel: "chat" });
  });

  it("serves Anthropic's Messages API as bytes to Anthropic providers", () => {
    expect(declared("/anthropic/v1/messages")).toMatchObject({
      name: "anthropic.messages",
      format: "anthropic",
      upstreamPath: "/messages",
      modelFrom: "body",
      bytes: "Anthropic Messages API",
    });
    expect(declared("/anthropic/v1/messages/count_tokens")).toMatchObject({ kind: "count_tokens" });
  });

  it("takes Gemini's model and streaming from the path, and the stream form from alt=sse", () => {
    expect(declared("/genai/v1beta/models/gemini-2.5-flash:generateContent")).toMatchObject({
      kind: "inference",
      name: "gemini.generateContent",
      format: "gemini",
      modelFrom: "path",
      pathModel: "gemini-2.5-flash",
      pathStream: false,
      upstreamPath: "generateContent",
      bytes: "Gemini API",
    });
    expect(
      declared("/genai/v1beta/models/openai/gpt-4o-mini:streamGenerateContent", "alt=sse"),
    ).toMatchObject({
      format: "gemini",
      pathModel: "openai/gpt-4o-mini",
      pathStream: true,
      // Only `alt=sse` goes on to the provider; a client's `key=` never does.
      upstreamPath: "streamGenerateContent?alt=sse",
    });
    expect(declared("/genai/v1beta/models/models/x:streamGenerateContent", "key=k")).toMatchObject({
      format: "gemini-array",
      pathModel: "x",
      upstreamPath: "streamGenerateContent",
    });
    expect(findRoute("/genai/v1beta/models/x:countTokens")).toBeUndefined();
    expect(findRoute("/genai/v1beta/models/:generateContent")).toBeUndefined();
  });

  it("finds nothing for unknown paths or a deployment path without a model", () => {
    expect(findRoute("/engines/chat/completions/x")).toBeUndefined();
    expect(findRoute("/openai/deployments//completions")).toBeUndefined();
    expect(findRoute("/openai/deployments/%E0%A4%A/chat/completions")).toBeUndefined();
    expect(findRoute("/litellm/unknown")).toBeUndefined();
  });

  it("lists each inference route once, by name", () => {
    expect(inferenceRoutes().map((route) => route.name)).toEqual([
      "openai.chat.completions",
      "openai.completions",
      "openai.embeddings",
      "openai.responses",
      "anthropic.messages",
      "gemini.generateContent",
      "gemini.streamGenerateContent",
    ]);
  });
});
