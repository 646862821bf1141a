// The README's provider table, built from the end-to-end tests that prove each cell. A test proves a cell
// when its title ends with a tag naming the provider and the capabilities it asserts end to end against
// that provider, e.g. `it("converts tools, plain and streamed [anthropic: tools, stream]", ...)`.
//
//   node dist/bench/provider-table.js                  runs vitest on test/e2e, rewrites README.md
//   node dist/bench/provider-table.js --report r.json  reads a vitest JSON report instead of running
//   --readme FILE                                      the file whose marked section is rewritten
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const CAPABILITIES = ["chat", "stream", "tools", "vision", "embeddings", "reasoning"] as const;
export type Capability = (typeof CAPABILITIES)[number];

// Rows in table order: OpenAI and the OpenAI-compatible family first, then the providers with their own APIs.
export const PROVIDERS = [
  "openai",
  "groq",
  "mistral",
  "deepseek",
  "ollama",
  "lmstudio",
  "vllm",
  "custom",
  "azure",
  "anthropic",
  "gemini",
  "vertex",
  "bedrock",
  "cohere",
] as const;
export type Provider = (typeof PROVIDERS)[number];

// What the provider's own API does not offer, so no gateway test could prove it.
export const NOT_OFFERED: Readonly<Partial<Record<Provider, readonly Capability[]>>> = {
  // Anthropic has no embeddings endpoint; its docs send users to Voyage AI.
  anthropic: ["embeddings"],
  // GroqCloud serves chat, audio and batches, no embeddings.
  groq: ["embeddings"],
  // DeepSeek's API serves chat and FIM completions only.
  deepseek: ["embeddings"],
};

export const START_MARKER = "<!-- provider-table:start -->";
export const END_MARKER = "<!-- provider-table:end -->";

/** The parts of vitest's JSON report the table reads. */
export interface JsonReport {
  testResults: {
    name: string;
    status: string;
    message: string;
    assertionResults: { title: string; fullName: string; status: string }[];
  }[];
}

export interface Tag {
  provider: Provider;
  capabilities: Capability[];
}

export interface Cell {
  passed: string[];
  failed: string[];
}

export type Cells = Record<Provider, Record<Capability, Cell>>;

const TAG = /\[([a-z][a-z0-9-]*): ([a-z][a-z, ]*)\]/g;

function isProvider(name: string): name is Provider {
  return (PROVIDERS as readonly string[]).includes(name);
}

function isCapability(name: string): name is Capability {
  return (CAPABILITIES as readonly string[]).includes(name);
}

/** The tags in a test title; a misspelt provider or capability throws rather than leaving a cell unproved. */
export function parseTags(title: string): Tag[] {
  const tags: Tag[] = [];
  for (const match of title.matchAll(TAG)) {
    const provider = match[1] ?? "";
    if (!isProvider(provider)) {
      throw new Error(`unknown provider "${provider}" in test "${title}" (known: ${PROVIDERS.join(", ")})`);
    }
    const capabilities: Capability[] = [];
    for (const raw of (match[2] ?? "").split(",")) {
      const name = raw.trim();
      if (!isCapability(name)) {
        throw new Error(
          `unknown capability "${name}" in test "${title}" (known: ${CAPABILITIES.join(", ")})`,
        );
      }
      capabilities.push(name);
    }
    tags.push({ provider, capabilities });
  }
  return tags;
}

function emptyCells(): Cells {
  const cells = {} as Cells;
  for (const provider of PROVIDERS) {
    const row = {} as Record<Capability, Cell>;
    for (const capability of CAPABILITIES) row[capability] = { passed: [], failed: [] };
    cells[provider] = row;
  }
  return cells;
}

/** Tallies passing and failing proofs per cell. Skipped and todo tests prove nothing either way. */
export function collectCells(report: JsonReport): Cells {
  const cells = emptyCells();
  for (const file of report.testResults) {
    // A file that failed to load has no test titles, so its tags would silently vanish from the table.
    if (file.status === "failed" && file.assertionResults.length === 0) {
      throw new Error(`${file.name} failed before its tests ran: ${file.message}`);
    }
    for (const test of file.assertionResults) {
      if (test.status !== "passed" && test.status !== "failed") continue;
      for (const tag of parseTags(test.title)) {
        for (const capability of tag.capabilities) {
          if (NOT_OFFERED[tag.provider]?.includes(capability)) {
            throw new Error(
              `test "${test.fullName}" proves ${tag.provider} ${capability}, which NOT_OFFERED says the provider lacks`,
            );
          }
          cells[tag.provider][capability][test.status].push(test.fullName);
        }
      }
    }
  }
  return cells;
}

function cellText(provider: Provider, capability: Capability, cell: Cell): string {
  if (NOT_OFFERED[provider]?.includes(capability)) return "n/a";
  if (cell.failed.length > 0)
    return `✗ ${cell.failed.length} of ${cell.failed.length + cell.passed.length} failing`;
  if (cell.passed.length > 0) return `✓ ${cell.passed.length}`;
  return "—";
}

/** The markdown table with its legend. */
export function renderTable(cells: Cells): string {
  const lines = [
    `| provider | ${CAPABILITIES.join(" | ")} |`,
    `|---|${CAPABILITIES.map(() => "---").join("|")}|`,
  ];
  for (const provider of PROVIDERS) {
    const row = CAPABILITIES.map((capability) => cellText(provider, capability, cells[provider][capability]));
    lines.push(`| ${provider} | ${row.join(" | ")} |`);
  }
  lines.push(
    "",
    "✓ n: n passing end-to-end tests prove it; ✗: a proving test fails; —: no test proves it yet; " +
      "n/a: the provider's API does not offer it.",
  );
  return lines.join("\n");
}

/** Replaces what lies between the markers, which must each appear once, in order. */
export function replaceSection(document: string, content: string): string {
  const start = document.indexOf(START_MARKER);
  const end = document.indexOf(END_MARKER);
  if (start < 0 || end < 0 || end < start || document.indexOf(START_MARKER, start + 1) >= 0) {
    throw new Error(`expected one ${START_MARKER} followed by one ${END_MARKER}`);
  }
  return `${document.slice(0, start + START_MARKER.length)}\n${content}\n${document.slice(end)}`;
}

export function failingProofs(cells: Cells): string[] {
  const failing = new Set<string>();
  for (const provider of PROVIDERS) {
    for (const capability of CAPABILITIES) {
      for (const name of cells[provider][capability].failed) failing.add(name);
    }
  }
  return [...failing];
}

function runE2e(): JsonReport {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-provider-table-"));
  const file = join(dir, "report.json");
  try {
    // vitest exits non-zero when a test fails; the report still lists every test, which is what counts here.
    spawnSync(
      "npx",
      ["vitest", "run", "test/e2e", "--reporter=dot", "--reporter=json", `--outputFile.json=${file}`],
      { stdio: "inherit" },
    );
    return JSON.parse(readFileSync(file, "utf8")) as JsonReport;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (value === undefined) throw new Error(`${name} needs a value`);
  return value;
}

function main(args: string[]): void {
  const reportFile = option(args, "--report");
  const readme = option(args, "--readme") ?? "README.md";
  const report =
    reportFile === undefined ? runE2e() : (JSON.parse(readFileSync(reportFile, "utf8")) as JsonReport);
  const cells = collectCells(report);
  const table = renderTable(cells);
  writeFileSync(readme, replaceSection(readFileSync(readme, "utf8"), table));
  process.stdout.write(`${table}\n\nwrote ${readme}\n`);
  const failing = failingProofs(cells);
  if (failing.length > 0) {
    process.stderr.write(`failing proofs:\n${failing.map((name) => `  ${name}`).join("\n")}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
