import type { ConfigStatus } from "../admin/context.js";

// What the management API tells of the configuration besides its content: the warnings of the load at
// start-up and of the last reload (unsupported keys ignored and the like), and how the last reload went.
// Error messages are the loaders' own, which name paths and positions, never values.

export class ConfigStatusControl {
  private reload: ConfigStatus["lastReload"];
  private reloadWarnings: readonly string[] = [];

  constructor(
    private readonly startupWarnings: readonly string[],
    /** Whether a file is watched for changes (a configuration from the environment is not). */
    private readonly watching: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new version of the file is served. */
  reloaded(warnings: readonly string[]): void {
    this.reload = { at: this.now(), ok: true };
    this.reloadWarnings = [...warnings];
  }

  /** A new version of the file was refused; the previous one is still served. */
  rejected(error: Error): void {
    this.reload = { at: this.now(), ok: false, error: error.message };
  }

  /** `apiWarnings`: the served configuration's (src/control/served-config.ts), as they are now. */
  status(apiWarnings: readonly string[]): ConfigStatus {
    return {
      startupWarnings: this.startupWarnings,
      reloadWarnings: this.reloadWarnings,
      apiWarnings,
      watching: this.watching,
      ...(this.reload === undefined ? {} : { lastReload: this.reload }),
    };
  }
}
