// `node dist/scripts/refresh-prices.js FILE [--add provider/model[=litellm-key]]... [--out PRICES] [--source URL]`
// (npm run prices:refresh -- FILE): refreshes src/governance/prices.json from FILE, a copy of LiteLLM's
// model_prices_and_context_window.json. Exits 1 when a model given with --add is not in FILE.
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { refreshPriceFile } from "../src/governance/refresh-prices.js";

const USAGE =
  "usage: refresh-prices FILE [--add provider/model[=litellm-key]]... [--out PRICES_JSON] [--source URL]";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    add: { type: "string", multiple: true },
    out: { type: "string" },
    source: { type: "string" },
  },
});
const [litellmFile] = positionals;
if (litellmFile === undefined || positionals.length > 1) {
  console.error(USAGE);
  process.exit(2);
}
// dist/scripts/ → the repository's src/governance/prices.json, which the build copies into dist.
const out = values.out ?? fileURLToPath(new URL("../../src/governance/prices.json", import.meta.url));
const add = values.add ?? [];
const missing = refreshPriceFile(litellmFile, out, {
  add,
  today: new Date().toISOString().slice(0, 10),
  ...(values.source !== undefined ? { source: values.source } : {}),
});
for (const key of missing) console.error(`${key}: no token prices in ${litellmFile}; left as it was`);
console.log(`${out}: refreshed`);
const addedMissing = missing.filter((key) => add.some((spec) => spec.split("=")[0] === key));
if (addedMissing.length > 0) process.exit(1);
