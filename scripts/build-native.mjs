// Postinstall: builds the Rust addon when cargo is available. It never fails the install (the
// TypeScript fallback runs instead) unless SWITCHYARD_REQUIRE_NATIVE=1, which CI sets.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const required = process.env.SWITCHYARD_REQUIRE_NATIVE === "1";

function finish(ok, message) {
  console.log(`switchyard native: ${message}`);
  process.exit(!ok && required ? 1 : 0);
}

if (process.env.SWITCHYARD_SKIP_NATIVE_BUILD) {
  finish(!required, "build skipped (SWITCHYARD_SKIP_NATIVE_BUILD is set); the TypeScript fallback will run");
}
if (spawnSync("cargo", ["--version"], { stdio: "ignore" }).status !== 0) {
  finish(false, "cargo not found on PATH; the TypeScript fallback will run");
}
if (!existsSync(join(root, "native", "Cargo.toml"))) {
  finish(false, "native/Cargo.toml not found; the TypeScript fallback will run");
}

let napiCli;
try {
  napiCli = createRequire(import.meta.url).resolve("@napi-rs/cli/package.json");
} catch {
  finish(false, "@napi-rs/cli is not installed (dev dependency); the TypeScript fallback will run");
}
const bin = join(dirname(napiCli), "dist", "cli.js");

const started = Date.now();
const args = [bin, "build", "--release", "--platform", "--cwd", "native", "--no-js", "--dts", "index.d.ts"];
// Cargo's progress is noise on success; on failure its last lines say why.
const res = spawnSync(process.execPath, args, { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (res.status === 0) {
  finish(true, `addon built in ${seconds}s into native/switchyard.${process.platform}-${process.arch}*.node`);
}
const output = `${res.stdout ?? ""}${res.stderr ?? ""}`.trimEnd().split("\n").slice(-30).join("\n");
if (output) console.error(output);
finish(
  false,
  `build failed after ${seconds}s (exit ${res.status ?? res.signal}); the TypeScript fallback will run`,
);
