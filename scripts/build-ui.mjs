// The web UI (ui/): its TypeScript compiled to ES modules the browser loads as they are, then index.html,
// the stylesheet and uPlot's ES module and stylesheet copied beside them. The gateway serves dist/ui at /.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = (path) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const require = createRequire(import.meta.url);

rmSync(root("dist/ui"), { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", root("tsconfig.ui.json")], {
  stdio: "inherit",
});
mkdirSync(root("dist/ui/vendor"), { recursive: true });
for (const file of ["index.html", "app.css"]) copyFileSync(root(`ui/${file}`), root(`dist/ui/${file}`));
const uplot = (file) => join(dirname(require.resolve("uplot")), file);
for (const file of ["uPlot.esm.js", "uPlot.min.css"])
  copyFileSync(uplot(file), root(`dist/ui/vendor/${file}`));
