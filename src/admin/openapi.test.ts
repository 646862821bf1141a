import { describe, expect, it } from "vitest";
import { type AdminHarness, adminHarnessEachTest } from "../../test/helpers/admin-harness.js";
import { API_ROUTES, isAdminPath, LITELLM_ROUTES } from "./handler.js";

let admin: AdminHarness;
adminHarnessEachTest((opened) => {
  admin = opened;
});

const METHODS = ["get", "post", "put", "patch", "delete"];

describe("/api/openapi.json", () => {
  it("documents exactly the routes of the table", async () => {
    const { status, json } = await admin.call("GET", "/api/openapi.json");
    expect(status).toBe(200);
    expect(json.openapi).toBe("3.1.0");
    expect(json.components.securitySchemes.adminKey).toEqual({ type: "http", scheme: "bearer" });
    const documented = Object.entries(json.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, ops]) =>
        Object.keys(ops)
          .filter((m) => METHODS.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routed = API_ROUTES.map((r) => `${r.method} ${r.path}`);
    expect(documented.sort()).toEqual([...routed].sort());
    expect(new Set(routed).size).toBe(routed.length);
    for (const route of API_ROUTES) {
      const op = json.paths[route.path][route.method.toLowerCase()];
      expect(op.responses[String(route.status ?? 200)].content["application/json"].schema).toBeDefined();
      if (route.body !== undefined)
        expect(op.requestBody.content["application/json"].schema).toEqual(route.body);
    }
  });

  it("serves every documented path and method (nothing answers 404 for the route itself)", async () => {
    const { json } = await admin.call("GET", "/api/openapi.json");
    await admin.call("POST", "/api/providers", { name: "p1", kind: "openai" });
    for (const [path, ops] of Object.entries(json.paths as Record<string, Record<string, unknown>>))
      for (const method of Object.keys(ops)) {
        const concrete = path.replace("{id}", "missing").replace("{name}", "p1");
        const answer = await admin.call(
          method.toUpperCase(),
          concrete,
          method === "get" || method === "delete" ? undefined : {},
        );
        expect(isAdminPath(concrete)).toBe(true);
        if (answer.status === 404) expect(answer.json.error.code, `${method} ${path}`).toBe("not_found");
      }
  });

  it("answers an unknown route with 404 unknown_route", async () => {
    const answer = await admin.call("GET", "/api/nothing");
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe("unknown_route");
  });
});

describe("isAdminPath", () => {
  it("takes /api and LiteLLM's management routes (also under /litellm), not inference routes", () => {
    for (const route of LITELLM_ROUTES) {
      expect(isAdminPath(route.path)).toBe(true);
      expect(isAdminPath(`/litellm${route.path}`)).toBe(true);
    }
    expect(isAdminPath("/v1/model/info")).toBe(true);
    expect(isAdminPath("/api")).toBe(true);
    for (const path of ["/v1/chat/completions", "/v1/models", "/health", "/metrics", "/apix", "/key"])
      expect(isAdminPath(path)).toBe(false);
  });
});
