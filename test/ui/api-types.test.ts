import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_TYPES_FILE, currentApiTypes, schemaType } from "../../scripts/ui-api-types.js";

// ui/api-types.ts is generated from the management API's OpenAPI document; the UI is typed against it, so a
// route changed in src/admin without `npm run ui:types` fails here rather than in a browser.

describe("ui/api-types.ts", () => {
  it("is what the routes of src/admin generate (run `npm run ui:types` after changing them)", () => {
    expect(readFileSync(API_TYPES_FILE, "utf8")).toBe(currentApiTypes());
  });
});

describe("schemaType", () => {
  it("writes the management API's schemas as TypeScript", () => {
    expect(
      schemaType({
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string" },
          "max-budget": { anyOf: [{ type: "number" }, { type: "null" }] },
          alignment: { type: "string", enum: ["calendar", "rolling"] },
          models: { type: "array", items: { anyOf: [{ type: "string" }, { type: "integer" }] } },
          headers: { type: "object", additionalProperties: { type: "string" } },
          metadata: { type: "object" },
        },
      }),
    ).toBe(
      '{ name: string; "max-budget"?: number | null; alignment?: "calendar" | "rolling"; ' +
        "models?: (string | number)[]; headers?: Record<string, string>; metadata?: Record<string, unknown> }",
    );
    expect(schemaType({ $ref: "#/components/schemas/Error" })).toBe("Error");
  });
});
