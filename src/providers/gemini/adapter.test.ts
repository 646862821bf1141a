import { describe, expect, it } from "vitest";
import { HOSTILE_NAMES, resolvedUrl } from "../../../test/helpers/hostile-names.js";
import { UnsupportedRequest } from "../adapter.js";
import { modelPath } from "./adapter.js";

describe("Gemini model paths", () => {
  it("keep the collection a name already names", () => {
    expect(modelPath("gemini-2.5-flash")).toBe("models/gemini-2.5-flash");
    expect(modelPath("models/gemini-2.5-flash")).toBe("models/gemini-2.5-flash");
    expect(modelPath("tunedModels/my-model-1")).toBe("tunedModels/my-model-1");
  });

  it.each(HOSTILE_NAMES.flatMap((name) => [name, `models/${name}`, `tunedModels/${name}`]))(
    "cannot leave the model for %s",
    (name) => {
      const url = resolvedUrl(`/v1beta/${modelPath(name)}:generateContent`);
      expect(url.pathname).toMatch(/^\/v1beta\/(models|tunedModels)\/[^/]+:generateContent$/);
      expect(url.search).toBe("");
      expect(url.hash).toBe("");
    },
  );

  it.each(["..", "models/..", "tunedModels/.", "gemini-pro:countTokens"])("refuses %s", (name) => {
    expect(() => modelPath(name)).toThrow(UnsupportedRequest);
  });
});
