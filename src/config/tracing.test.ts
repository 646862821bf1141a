import { describe, expect, it } from "vitest";
import { ConfigError } from "./errors.js";
import { tracingFromEnvironment } from "./tracing.js";

describe("tracingFromEnvironment", () => {
  it("is off when no endpoint is set", () => {
    expect(tracingFromEnvironment({})).toBeUndefined();
    expect(tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: " " })).toBeUndefined();
  });

  it("sends to <endpoint>/v1/traces with the default service name", () => {
    expect(tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })).toEqual({
      endpoint: "http://collector:4318/v1/traces",
      headers: {},
      serviceName: "switchyard",
    });
  });

  it("takes the traces endpoint as it is, the headers and the service name", () => {
    const tracing = tracingFromEnvironment({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://ignored:4318",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://collector.example/otlp/traces",
      OTEL_EXPORTER_OTLP_HEADERS: "Authorization=Bearer%20abc, x-tenant = t1 ,",
      OTEL_SERVICE_NAME: "edge-gateway",
    });
    expect(tracing).toEqual({
      endpoint: "https://collector.example/otlp/traces",
      headers: { authorization: "Bearer abc", "x-tenant": "t1" },
      serviceName: "edge-gateway",
    });
  });

  it("refuses a URL that is not http(s), and malformed headers without echoing them", () => {
    expect(() => tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "file:///etc" })).toThrow(ConfigError);
    expect(() => tracingFromEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).toThrow(ConfigError);
    for (const headers of ["secretvalue", "bad name=x", "x=%0Aevil", "x=%zz"]) {
      let message = "";
      try {
        tracingFromEnvironment({
          OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
          OTEL_EXPORTER_OTLP_HEADERS: headers,
        });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain("OTEL_EXPORTER_OTLP_HEADERS");
      expect(message).not.toContain("secretvalue");
    }
  });
});
