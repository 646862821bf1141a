import { describe, expect, it } from "vitest";
import {
  collectCells,
  END_MARKER,
  failingProofs,
  type JsonReport,
  parseTags,
  renderTable,
  replaceSection,
  START_MARKER,
} from "./provider-table.js";

function test(title: string, status: string, suite = "suite") {
  return { title, fullName: `${suite} ${title}`, status };
}

const report: JsonReport = {
  testResults: [
    {
      name: "/repo/test/e2e/a.test.ts",
      status: "failed",
      message: "",
      assertionResults: [
        test("chat both ways [anthropic: chat]", "passed"),
        test("tools, plain and streamed [anthropic: tools, stream]", "passed"),
        test("streams thinking [anthropic: reasoning, stream]", "passed"),
        test("images [anthropic: vision]", "failed"),
        test("images by URL [anthropic: vision]", "passed"),
        test("skipped proof [anthropic: embeddings]", "skipped"),
        test("an error test without a tag", "failed"),
      ],
    },
    {
      name: "/repo/test/e2e/b.test.ts",
      status: "passed",
      message: "",
      assertionResults: [
        test("chat [openai: chat]", "passed"),
        test("anthropic SDK to openai [openai: chat] [cohere: stream]", "passed"),
      ],
    },
  ],
};

const expected = `| provider | chat | stream | tools | vision | embeddings | reasoning |
|---|---|---|---|---|---|---|
| openai | ✓ 2 | — | — | — | — | — |
| groq | — | — | — | — | n/a | — |
| mistral | — | — | — | — | — | — |
| deepseek | — | — | — | — | n/a | — |
| ollama | — | — | — | — | — | — |
| lmstudio | — | — | — | — | — | — |
| vllm | — | — | — | — | — | — |
| custom | — | — | — | — | — | — |
| azure | — | — | — | — | — | — |
| anthropic | ✓ 1 | ✓ 2 | ✓ 1 | ✗ 1 of 2 failing | n/a | ✓ 1 |
| gemini | — | — | — | — | — | — |
| vertex | — | — | — | — | — | — |
| bedrock | — | — | — | — | — | — |
| cohere | — | ✓ 1 | — | — | — | — |

✓ n: n passing end-to-end tests prove it; ✗: a proving test fails; —: no test proves it yet; n/a: the provider's API does not offer it.`;

describe("parseTags", () => {
  it("reads every tag in a title, several capabilities each", () => {
    expect(parseTags("streams [bedrock: stream, reasoning] and [openai: chat]")).toEqual([
      { provider: "bedrock", capabilities: ["stream", "reasoning"] },
      { provider: "openai", capabilities: ["chat"] },
    ]);
    expect(parseTags("a title with [brackets] but no tag")).toEqual([]);
  });

  it("throws on a misspelt provider or capability", () => {
    expect(() => parseTags("x [antropic: chat]")).toThrow(/unknown provider "antropic"/);
    expect(() => parseTags("x [anthropic: chat, tool]")).toThrow(/unknown capability "tool"/);
  });
});

describe("the table", () => {
  it("renders counts, failures, gaps and what providers lack", () => {
    expect(renderTable(collectCells(report))).toBe(expected);
  });

  it("lists failing proofs by full name", () => {
    expect(failingProofs(collectCells(report))).toEqual(["suite images [anthropic: vision]"]);
  });

  it("refuses a passing proof of a capability declared not offered", () => {
    const claims: JsonReport = {
      testResults: [
        {
          name: "c.test.ts",
          status: "passed",
          message: "",
          assertionResults: [test("embeds [anthropic: embeddings]", "passed")],
        },
      ],
    };
    expect(() => collectCells(claims)).toThrow(/anthropic embeddings/);
  });

  it("refuses a report where a file failed before its tests ran", () => {
    const broken: JsonReport = {
      testResults: [{ name: "d.test.ts", status: "failed", message: "SyntaxError", assertionResults: [] }],
    };
    expect(() => collectCells(broken)).toThrow(/d\.test\.ts failed before its tests ran: SyntaxError/);
  });
});

describe("replaceSection", () => {
  it("replaces only what lies between the markers", () => {
    const doc = `# T\n\n${START_MARKER}\nold\n${END_MARKER}\n\nafter\n`;
    expect(replaceSection(doc, "new")).toBe(`# T\n\n${START_MARKER}\nnew\n${END_MARKER}\n\nafter\n`);
    expect(replaceSection(replaceSection(doc, "new"), "newer")).toContain(
      `${START_MARKER}\nnewer\n${END_MARKER}`,
    );
  });

  it("throws when the markers are missing or doubled", () => {
    expect(() => replaceSection("# T\n", "x")).toThrow(/expected one/);
    expect(() => replaceSection(`${START_MARKER}${START_MARKER}${END_MARKER}`, "x")).toThrow(/expected one/);
  });
});
