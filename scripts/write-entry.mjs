// After tsc: `node dist/server.js` is the documented production entry (tsc emits under dist/src/), and the
// data files the code reads beside itself at run time are copied next to their modules.
import { copyFileSync, writeFileSync } from "node:fs";

writeFileSync(new URL("../dist/server.js", import.meta.url), 'import "./src/server.js";\n');
copyFileSync(
  new URL("../src/governance/prices.json", import.meta.url),
  new URL("../dist/src/governance/prices.json", import.meta.url),
);
