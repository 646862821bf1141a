import { describe, expect, it } from "vitest";
import { findRoute } from "./routes.js";

describe("routes", () => {
  it.each([
    "/v1/chat/completions",
    "/openai/v1/chat/completions",
    "/chat/completions",
    "/litellm/chat/completions",
    "/litellm/v1/chat/completions",
  ])("serves chat completions at %s", (path) => {
    expect(findRoute(path)).toMatchObject({
      kind: "proxy",
      method: "POST",
      upstreamPath: "/chat/completions",
    });
  });

  it.each(["/models", "/litellm/models", "/litellm/v1/models", "/v1/models"])(
    "lists models at %s",
    (path) => {
      expect(findRoute(path)).toMatchObject({ kind: "models", method: "GET" });
    },
  );

  it.each([
    "/v1/responses",
    "/openai/v1/responses",
    "/openai/responses",
    "/responses",
    "/litellm/v1/responses",
  ])("serves the Responses API at %s", (path) => {
    expect(findRoute(path)).toMatchObject({ kind: "proxy", upstreamPath: "/responses", format: "responses" });
  });

  it("takes the model from LiteLLM's deployment paths, slashes and escapes included", () => {
    expect(findRoute("/openai/deployments/openai%2Fgpt-4o/chat/completions")).toMatchObject({
      kind: "proxy",
      upstreamPath: "/chat/completions",
      pathModel: "openai/gpt-4o",
    });
    expect(findRoute("/engines/groq/llama-3.1-8b-instant/completions")).toMatchObject({
      upstreamPath: "/completions",
      pathModel: "groq/llama-3.1-8b-instant",
    });
    expect(findRoute("/litellm/openai/deployments/emb/embeddings/")).toMatchObject({
      upstreamPath: "/embeddings",
      pathModel: "emb",
    });
    expect(findRoute("/openai/deployments/chat/completions")).toMatchObject({ pathModel: "chat" });
  });

  it("finds nothing for unknown paths or a deployment path without a model", () => {
    expect(findRoute("/engines/chat/completions/x")).toBeUndefined();
    expect(findRoute("/openai/deployments//completions")).toBeUndefined();
    expect(findRoute("/openai/deployments/%E0%A4%A/chat/completions")).toBeUndefined();
    expect(findRoute("/litellm/unknown")).toBeUndefined();
  });
});
