// Hot reload. The containing directory is watched, not the file: editors and deploy tools often write a new
// file and rename it over the old one, which ends a watch held on the old file's inode. Files the
// configuration includes (LiteLLM's `include`) and its plugins' modules are watched the same way, so an
// edited plugin is loaded afresh.

import { type FSWatcher, readFileSync, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseConfigText, readConfigFile } from "./load.js";
import { pluginModuleFiles } from "./plugin-specs.js";
import type { GatewayConfig } from "./types.js";

export const RELOAD_DEBOUNCE_MS = 100;

export interface ConfigWatcher {
  close(): void;
}

/**
 * Calls `onChange` with each valid new version of the file and `onError` with the reason a version was
 * rejected; the caller keeps serving its previous configuration then. A save that leaves the text as it was
 * (a touch, or a second write event for the same edit) reloads nothing.
 */
export function watchConfig(
  path: string,
  env: NodeJS.ProcessEnv,
  onChange: (config: GatewayConfig, warnings: string[]) => void,
  onError: (err: Error) => void,
): ConfigWatcher {
  const file = resolve(path);
  let includes: readonly string[] = [];
  try {
    includes = alsoRead(parseConfigText(readConfigFile(file), file, env));
  } catch {
    // The caller has already loaded (or rejected) this version; the files it reads are all we wanted from it.
  }
  // Everything the configuration was read from; unreadable files count as a state of their own.
  const snapshot = (text: string) => [text, ...includes.map((f) => readOr(f))].join("\u0000\u0000");
  let lastText: string | undefined;
  try {
    lastText = snapshot(readConfigFile(file));
  } catch {
    lastText = undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const reload = () => {
    timer = undefined;
    if (closed) return;
    let text: string;
    try {
      text = readConfigFile(file);
    } catch (err) {
      onError(err as Error);
      return;
    }
    if (snapshot(text) === lastText) return;
    let loaded: ReturnType<typeof parseConfigText>;
    try {
      loaded = parseConfigText(text, file, env);
    } catch (err) {
      onError(err as Error);
      return;
    }
    includes = alsoRead(loaded);
    watchFiles();
    lastText = snapshot(text);
    // Outside the try: a failure inside the caller's handler is not a rejected configuration.
    onChange(loaded.config, loaded.warnings);
  };

  // Directory → names watched in it.
  const watchers = new Map<string, { watcher: FSWatcher; names: Set<string> }>();
  function watchFiles(): void {
    for (const f of [file, ...includes]) {
      const dir = dirname(f);
      const existing = watchers.get(dir);
      if (existing !== undefined) {
        existing.names.add(basename(f));
        continue;
      }
      const names = new Set([basename(f)]);
      let watcher: FSWatcher;
      try {
        // `persistent: false`: watching the file never keeps the process alive on its own.
        watcher = watch(dir, { persistent: false }, (_event, changed) => {
          if (closed) return;
          // Some platforms report no file name; reloading then costs one read and a comparison. Kubernetes
          // ConfigMap volumes swap a "..data" symlink and never touch the file's own name.
          if (changed !== null && !names.has(changed.toString()) && !changed.toString().startsWith(".."))
            return;
          if (timer) clearTimeout(timer);
          timer = setTimeout(reload, RELOAD_DEBOUNCE_MS);
        });
      } catch (err) {
        // An included file's directory that does not exist (yet): the load reports the missing file.
        if (f === file) throw err;
        continue;
      }
      watcher.on("error", (err) => {
        if (!closed) onError(err);
      });
      watchers.set(dir, { watcher, names });
    }
  }
  watchFiles();

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      for (const { watcher } of watchers.values()) watcher.close();
    },
  };
}

/** The files besides the configuration itself that a reload reads: its includes and its plugin modules. */
function alsoRead(loaded: ReturnType<typeof parseConfigText>): string[] {
  return [...(loaded.includes ?? []), ...pluginModuleFiles(loaded.config)];
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "\u0000unreadable";
  }
}
