// `node dist/server.js` is the documented production entry; tsc emits under dist/src/.
import { writeFileSync } from "node:fs";

writeFileSync(new URL("../dist/server.js", import.meta.url), 'import "./src/server.js";\n');
