/**
 * Mock Azure OpenAI resource: the OpenAI mock's bodies behind Azure's URLs and auth.
 *   POST /openai/deployments/{deployment}/{chat/completions|completions|embeddings}?api-version=…
 * with the key in an `api-key` header. It checks what Azure checks (api-version present, key), answers in
 * Azure's error shape, and opens streams with Azure's `prompt_filter_results` chunk (no choices). Bodies come
 * from an OpenAI mock it runs behind itself, so chat, tools, streaming and embeddings match that mock.
 * Error injection by deployment name: `mock-error-<status>` gives that status in Azure's shape.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { request as httpRequest } from "undici";
import type { MockErrorReply } from "./error-reply.js";
import { startOpenAIMock } from "./openai-mock.js";

export interface AzureMockOptions {
  host?: string;
  /** The `api-key` the resource accepts. Default "azure-mock-key". */
  apiKey?: string;
  /** Content chunks in a streamed reply. Default 5. */
  streamChunks?: number;
}

export interface AzureMockStats {
  requests: number;
  lastRequest?: { path: string; headers: Record<string, string>; body: string };
}

export interface AzureMockServer {
  /** The resource endpoint, as `azure.endpoint` takes it. */
  url: string;
  port: number;
  close(): Promise<void>;
  stats: AzureMockStats;
}

const DEPLOYMENT_PATH = /^\/openai\/deployments\/([^/?]+)\/(chat\/completions|completions|embeddings)$/;
const INNER_KEY = "inner-openai-mock";

const FILTER_OK = {
  hate: { filtered: false, severity: "safe" },
  self_harm: { filtered: false, severity: "safe" },
  sexual: { filtered: false, severity: "safe" },
  violence: { filtered: false, severity: "safe" },
};
const PROMPT_FILTER_CHUNK = `data: ${JSON.stringify({
  choices: [],
  created: 0,
  id: "",
  model: "",
  object: "",
  prompt_filter_results: [{ prompt_index: 0, content_filter_results: FILTER_OK }],
})}\n\n`;

function azureError(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** What the mock answers a `mock-error-<status>` deployment with, for a fault injector standing in front of it. */
export function azureErrorReply(status: number, deployment: string, apiVersion: string): MockErrorReply {
  return {
    status,
    headers: { "content-type": "application/json", ...(status === 429 ? { "retry-after": "1" } : {}) },
    body: injected(status, deployment, apiVersion),
  };
}

function injected(status: number, deployment: string, apiVersion: string): string {
  if (status === 429) {
    return azureError(
      "429",
      `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.`,
    );
  }
  if (status === 404) {
    return azureError(
      "DeploymentNotFound",
      `The API deployment ${deployment} for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.`,
    );
  }
  if (status === 400) {
    return JSON.stringify({
      error: {
        message:
          "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
        type: null,
        param: "prompt",
        code: "content_filter",
        status: 400,
      },
    });
  }
  return azureError(String(status), `Mock Azure error ${status}`);
}

export async function startAzureMock(opts: AzureMockOptions = {}): Promise<AzureMockServer> {
  const host = opts.host ?? "127.0.0.1";
  const apiKey = opts.apiKey ?? "azure-mock-key";
  const inner = await startOpenAIMock({ host, requireKey: INNER_KEY, streamChunks: opts.streamChunks ?? 5 });
  const stats: AzureMockStats = { requests: 0 };

  function send(
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { "content-type": "application/json", "apim-request-id": "mock", ...headers });
    res.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const url = new URL(req.url ?? "/", "http://azure.mock");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === "string") headers[name] = value;
    stats.requests++;
    stats.lastRequest = { path: `${url.pathname}${url.search}`, headers, body };

    const match = DEPLOYMENT_PATH.exec(url.pathname);
    if (req.method !== "POST" || match === null) {
      send(res, 404, azureError("404", "Resource not found"));
      return;
    }
    if (headers["api-key"] !== apiKey) {
      send(
        res,
        401,
        azureError(
          "401",
          "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        ),
      );
      return;
    }
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion === null || apiVersion === "") {
      send(res, 404, azureError("404", "Resource not found"));
      return;
    }
    const deployment = decodeURIComponent(match[1] as string);
    if (deployment.startsWith("mock-error-")) {
      const status = Number.parseInt(deployment.slice("mock-error-".length), 10) || 400;
      const error = azureErrorReply(status, deployment, apiVersion);
      send(res, error.status, error.body, error.headers);
      return;
    }
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(body) as Record<string, unknown>;
    } catch {
      send(res, 400, azureError("BadRequest", "Invalid JSON body"));
      return;
    }
    // The deployment decides the model; Azure answers with the model behind it.
    const upstream = await httpRequest(`${inner.url}/v1/${match[2]}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${INNER_KEY}` },
      body: JSON.stringify({ ...parsed, model: deployment }),
    });
    const streamed = String(upstream.headers["content-type"] ?? "").startsWith("text/event-stream");
    res.writeHead(upstream.statusCode, {
      "content-type": streamed ? "text/event-stream" : "application/json",
      "apim-request-id": "mock",
    });
    if (streamed) res.write(PROMPT_FILTER_CHUNK);
    for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  }

  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (chunk: Buffer) => parts.push(chunk));
    req.on("end", () => {
      handle(req, res, Buffer.concat(parts).toString("utf8")).catch((error: Error) => {
        if (!res.headersSent) send(res, 500, azureError("500", error.message));
        else res.destroy();
      });
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host}:${port}`,
        port,
        stats,
        close: async () => {
          server.closeAllConnections();
          await new Promise<void>((done) => server.close(() => done()));
          await inner.close();
        },
      });
    });
  });
}
