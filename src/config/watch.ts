// Hot reload. The containing directory is watched, not the file: editors and deploy tools often write a new
// file and rename it over the old one, which ends a watch held on the old file's inode.

import { type FSWatcher, watch } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseConfigText, readConfigFile } from "./load.js";
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
  const name = basename(file);
  let lastText: string | undefined;
  try {
    lastText = readConfigFile(file);
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
    if (text === lastText) return;
    let loaded: ReturnType<typeof parseConfigText>;
    try {
      loaded = parseConfigText(text, file, env);
    } catch (err) {
      onError(err as Error);
      return;
    }
    lastText = text;
    // Outside the try: a failure inside the caller's handler is not a rejected configuration.
    onChange(loaded.config, loaded.warnings);
  };

  // `persistent: false`: watching the file never keeps the process alive on its own.
  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (closed) return;
    // Some platforms report no file name; reloading then costs one read and a comparison. Kubernetes
    // ConfigMap volumes swap a "..data" symlink and never touch the file's own name.
    if (changed !== null && changed.toString() !== name && !changed.toString().startsWith("..")) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, RELOAD_DEBOUNCE_MS);
  });
  watcher.on("error", (err) => {
    if (!closed) onError(err);
  });

  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      watcher.close();
    },
  };
}
