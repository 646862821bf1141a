import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CONTENT_SECURITY_POLICY,
  contentTypeOf,
  findStaticFile,
  isUiPath,
  loadStaticSite,
  type StaticFile,
} from "./static-files.js";

let dir: string;
let outside: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "switchyard-ui-"));
  outside = mkdtempSync(join(tmpdir(), "switchyard-outside-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function write(path: string, content: string | Buffer): void {
  mkdirSync(join(dir, path, ".."), { recursive: true });
  writeFileSync(join(dir, path), content);
}

const header = (file: StaticFile | undefined, name: string) => file?.headers.find(([n]) => n === name)?.[1];

describe("loadStaticSite", () => {
  it("keeps the build's files by URL path with their content types", () => {
    write("index.html", "<!doctype html><title>Switchyard</title>");
    write("assets/app-3f9a.js", "console.log(1)");
    write("assets/app-3f9a.css", "body{}");
    write("assets/app-3f9a.js.map", "{}");
    write("icon.svg", "<svg/>");
    write("logo.png", Buffer.from([0x89, 0x50]));
    write("fonts/inter.woff2", Buffer.from([1, 2, 3]));
    write("manifest.json", "{}");
    const site = loadStaticSite(dir);
    expect(site.problem).toBeUndefined();
    expect([...site.files.keys()].sort()).toEqual([
      "/ui/assets/app-3f9a.css",
      "/ui/assets/app-3f9a.js",
      "/ui/assets/app-3f9a.js.map",
      "/ui/fonts/inter.woff2",
      "/ui/icon.svg",
      "/ui/index.html",
      "/ui/logo.png",
      "/ui/manifest.json",
    ]);
    const type = (path: string) => header(site.files.get(path), "content-type");
    expect(type("/ui/index.html")).toBe("text/html; charset=utf-8");
    expect(type("/ui/assets/app-3f9a.js")).toBe("text/javascript; charset=utf-8");
    expect(type("/ui/assets/app-3f9a.css")).toBe("text/css; charset=utf-8");
    expect(type("/ui/assets/app-3f9a.js.map")).toBe("application/json");
    expect(type("/ui/icon.svg")).toBe("image/svg+xml");
    expect(type("/ui/logo.png")).toBe("image/png");
    expect(type("/ui/fonts/inter.woff2")).toBe("font/woff2");
    expect(type("/ui/manifest.json")).toBe("application/json");
    expect(Buffer.from(site.files.get("/ui/logo.png")?.body ?? []).equals(Buffer.from([0x89, 0x50]))).toBe(
      true,
    );
    expect(site.bytes).toBe([...site.files.values()].reduce((sum, file) => sum + file.body.length, 0));
  });

  it("answers every file with the UI's security headers; index.html is revalidated, assets are kept", () => {
    write("index.html", "<html></html>");
    write("app.js", "1");
    const site = loadStaticSite(dir);
    for (const file of site.files.values()) {
      expect(header(file, "x-content-type-options")).toBe("nosniff");
      expect(header(file, "referrer-policy")).toBe("no-referrer");
      expect(header(file, "x-frame-options")).toBe("DENY");
      expect(header(file, "content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(header(site.index, "cache-control")).toBe("no-cache");
    expect(header(site.files.get("/ui/app.js"), "cache-control")).toBe("no-cache");
  });

  it("reads no symlink (to a file or a directory outside), no dot file and no type it does not serve", () => {
    write("index.html", "<html></html>");
    writeFileSync(join(outside, "secret.js"), "the key");
    mkdirSync(join(outside, "dir"));
    writeFileSync(join(outside, "dir", "x.js"), "the key");
    symlinkSync(join(outside, "secret.js"), join(dir, "linked.js"));
    symlinkSync(join(outside, "dir"), join(dir, "linked-dir"));
    write(".env.js", "the key");
    write("server.ts", "source");
    write("notes.txt", "text");
    const site = loadStaticSite(dir);
    expect([...site.files.keys()]).toEqual(["/ui/index.html"]);
    for (const file of site.files.values())
      expect(Buffer.from(file.body).toString()).not.toContain("the key");
  });

  it("serves nothing past its byte bound, and says why", () => {
    write("index.html", "<html></html>");
    write("big.js", "x".repeat(2000));
    const site = loadStaticSite(dir, 1000);
    expect(site.files.size).toBe(0);
    expect(site.index).toBeUndefined();
    expect(site.problem).toMatch(/more than the 1000 allowed/);
  });

  it("is a site with a problem, not an exception, when the build has no UI", () => {
    const missing = loadStaticSite(join(dir, "nothing-here"));
    expect(missing.index).toBeUndefined();
    expect(missing.problem).toMatch(/not built/);
    write("app.js", "1");
    expect(loadStaticSite(dir).problem).toMatch(/no index\.html/);
  });
});

describe("findStaticFile", () => {
  beforeEach(() => {
    write("index.html", "<html>index</html>");
    write("assets/app.js", "app");
  });

  it("serves index.html at /, /ui and /ui/, and each file at its path", () => {
    const site = loadStaticSite(dir);
    for (const path of ["/", "/ui", "/ui/"]) expect(findStaticFile(site, path)).toBe(site.index);
    expect(findStaticFile(site, "/ui/assets/app.js")).toBe(site.files.get("/ui/assets/app.js"));
  });

  it("serves index.html for a path without an extension, 404 for a missing file with one", () => {
    const site = loadStaticSite(dir);
    expect(findStaticFile(site, "/ui/logs/some-id")).toBe(site.index);
    expect(findStaticFile(site, "/ui/assets/missing.js")).toBeUndefined();
  });

  it("never leaves the table: dot segments and encodings match no file", () => {
    const site = loadStaticSite(dir);
    for (const path of [
      "/ui/../package.json",
      "/ui/assets/../../server.js",
      "/ui/%2e%2e/%2e%2e/etc/passwd.js",
      "/ui/..",
    ])
      expect(findStaticFile(site, path)).toBeUndefined();
    // Without an extension the app's index answers, never a file outside.
    expect(findStaticFile(site, "/ui/../../etc/passwd")).toBe(site.index);
  });

  it("has nothing to serve when the UI is not built", () => {
    const site = loadStaticSite(join(dir, "nothing-here"));
    expect(findStaticFile(site, "/")).toBeUndefined();
  });
});

describe("isUiPath and contentTypeOf", () => {
  it("takes /, /ui and what is under /ui/ only", () => {
    for (const path of ["/", "/ui", "/ui/", "/ui/app.js"]) expect(isUiPath(path)).toBe(true);
    for (const path of ["/uix", "/v1/models", "/api/config", "/index.html"])
      expect(isUiPath(path)).toBe(false);
  });

  it("knows the types a UI build has, by extension, whatever its case", () => {
    expect(contentTypeOf("A.JS")).toBe("text/javascript; charset=utf-8");
    expect(contentTypeOf("x.exe")).toBeUndefined();
    expect(contentTypeOf("Makefile")).toBeUndefined();
  });
});
