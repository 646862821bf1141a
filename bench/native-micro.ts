// Micro-benchmark: the Rust addon against the TypeScript fallbacks, in one process and one run, so
// the ratios are comparable even on a noisy machine. Usage: node dist/bench/native-micro.js [--smoke]
import { createRequire } from "node:module";
import {
  fallback,
  type Implementation,
  type NativeBinding,
  native,
  nativeStatus,
  scanRequest,
} from "../src/native/index.js";
import { formatNs, measure, median, ROUND_MS, ROUNDS, sink, writeMicroResult } from "./micro.js";

function chatBody(contentBytes: number): Buffer {
  const sentence =
    'The gateway routes each request to the cheapest healthy provider — «fast», 速い, and\n"correct". ';
  const messages: { role: string; content: string }[] = [
    { role: "system", content: "You are a helpful assistant." },
  ];
  let size = 0;
  let i = 0;
  while (size < contentBytes) {
    const content = `${i}: ${sentence.repeat(8)}`;
    messages.push({ role: i % 2 === 0 ? "user" : "assistant", content });
    size += Buffer.byteLength(content);
    i++;
  }
  return Buffer.from(JSON.stringify({ model: "gpt-4o-mini", messages, temperature: 0.2, stream: true }));
}

const SMALL_BODY = Buffer.from(
  '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello to the gateway in one short sentence."}],"stream":true}',
);

function prose(bytes: number): string {
  const parts = [
    "Switchyard counts tokens before it forwards a request, so budgets hold even when providers disagree.",
    "function route(req: Request): Provider { return pick(req.model, snapshot.providers); }",
    "Les modèles répondent vite; 模型网关很快。 Числа: 3.14159, 2048, 1e-9.",
    '\n\n- item one\n- item two\n\n```json\n{"model": "gpt-4o", "stream": true}\n```\n',
  ];
  let out = "";
  for (let i = 0; Buffer.byteLength(out) < bytes; i++) out += `${parts[i % parts.length]} ${i} `;
  return out.slice(0, bytes);
}

type Case = { name: string; bytes: number; run: (impl: Implementation) => () => number };

const scanCase = (name: string, body: Buffer): Case => ({
  name,
  bytes: body.length,
  run: (impl) => () => (impl.scanRequest(body).ok ? 1 : 0),
});

function rewriteCase(name: string, body: Buffer): Case {
  const r = scanRequest(body);
  if (!r.ok) throw new Error(`benchmark body does not scan: ${r.error}`);
  return {
    name,
    bytes: body.length,
    run: (impl) => () =>
      impl.rewriteModel(body, r.modelStart, r.modelEnd, "openai/gpt-4o-mini-2024-07-18").length,
  };
}

const tokenCase = (name: string, text: string): Case => ({
  name,
  bytes: Buffer.byteLength(text),
  run: (impl) => () => impl.countTokens(text, "o200k_base"),
});

const cases: Case[] = [
  scanCase("scanRequest 0.13 KB", SMALL_BODY),
  scanCase("scanRequest 1 KB", chatBody(300)),
  scanCase("scanRequest 1.9 KB", chatBody(900)),
  scanCase("scanRequest 10 KB", chatBody(10_000)),
  scanCase("scanRequest 100 KB", chatBody(100_000)),
  rewriteCase("rewriteModel 0.13 KB", SMALL_BODY),
  rewriteCase("rewriteModel 100 KB", chatBody(100_000)),
  tokenCase("countTokens o200k 1 KB", prose(1024)),
  tokenCase("countTokens o200k 100 KB", prose(100 * 1024)),
];

type Row = {
  name: string;
  bytes: number;
  fallbackNs: number;
  nativeNs: number | null;
  speedup: number | null;
};
const rows: Row[] = [];

// Also time the addon's object-returning scanRequest, which the loader avoids in favour of scanRequestInto.
let addonObject: Implementation | undefined;
if (nativeStatus.loaded) {
  const binding = createRequire(import.meta.url)(nativeStatus.detail) as NativeBinding;
  addonObject = { ...(native as Implementation), scanRequest: (b) => binding.scanRequest(b) };
  cases.splice(1, 0, { ...scanCase("scanRequest 0.13 KB (addon object API)", SMALL_BODY) });
}

for (const c of cases) {
  const useObject = c.name.includes("object API");
  const fb: number[] = [];
  const nat: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (!useObject) fb.push(measure(c.run(fallback)));
    const n = useObject ? addonObject : native;
    if (n !== undefined) nat.push(measure(c.run(n)));
  }
  const fallbackNs = useObject ? Number.NaN : median(fb);
  const nativeNs = nat.length > 0 ? median(nat) : null;
  rows.push({
    name: c.name,
    bytes: c.bytes,
    fallbackNs: Math.round(fallbackNs),
    nativeNs: nativeNs === null ? null : Math.round(nativeNs),
    speedup: nativeNs === null || useObject ? null : Number((fallbackNs / nativeNs).toFixed(2)),
  });
}

const table = [
  "| operation | bytes | TypeScript | native | native speed-up |",
  "|---|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.bytes} | ${formatNs(r.fallbackNs)} | ${formatNs(r.nativeNs)} | ${r.speedup === null ? "—" : `${r.speedup}×`} |`,
  ),
].join("\n");

const figures = {
  native: nativeStatus,
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  unit: "ns/op (median of rounds)",
  rows: rows.map((r) => ({ ...r, fallbackNs: Number.isNaN(r.fallbackNs) ? null : r.fallbackNs })),
  sink: sink(),
};

const file = writeMicroResult("native-micro", figures);
console.log(table);
console.log(
  `\nnative: ${nativeStatus.loaded ? "loaded" : `not loaded (${nativeStatus.detail})`}; wrote ${file}`,
);
