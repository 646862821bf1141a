import type { GatewayConfig } from "../config/types.js";
import type { GovernanceStore, StoredProvider, StoredProviderKey } from "../store/types.js";
import { withStoredProviders } from "./stored-providers.js";

// The configuration lanes serve: the file's (or the environment's) with the providers added through the
// management API beside its own. Rebuilt when the file reloads and after every change through the API, one
// rebuild at a time so an older read never overtakes a newer one. An API change is published only when the
// providers changed: a publish also reloads every lane's plugins.

interface StoredRows {
  readonly providers: readonly StoredProvider[];
  readonly keys: readonly StoredProviderKey[];
}

export class ServedConfigControl {
  private served: GatewayConfig;
  private providersJson: string;
  private warnings = new Set<string>();
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: GovernanceStore,
    private file: GatewayConfig,
    private rows: StoredRows,
    /** Resolves once every lane serves with `config`. */
    private readonly publish: (config: GatewayConfig) => Promise<void> | undefined,
    private readonly log: (line: string) => void,
  ) {
    this.served = this.merge();
    this.providersJson = JSON.stringify(this.served.providers);
  }

  /** Reads the stored providers; the lanes start with `config`, so nothing is published yet. */
  static async start(
    store: GovernanceStore,
    file: GatewayConfig,
    publish: (config: GatewayConfig) => Promise<void> | undefined,
    log: (line: string) => void,
  ): Promise<ServedConfigControl> {
    return new ServedConfigControl(store, file, await readRows(store), publish, log);
  }

  /** What the lanes serve. */
  get config(): GatewayConfig {
    return this.served;
  }

  /** Why stored providers are left out of what the lanes serve. */
  get storedProviderWarnings(): readonly string[] {
    return [...this.warnings];
  }

  /** What the configuration file (or the environment) defines, without the store's providers. */
  get fileConfig(): GatewayConfig {
    return this.file;
  }

  /**
   * The file reloaded: its configuration goes to the lanes with the stored providers. Should the store not
   * answer, the providers it last gave are kept rather than holding the file's change back.
   */
  setFileConfig(config: GatewayConfig): Promise<void> {
    this.file = config;
    return this.enqueue(async () => {
      try {
        this.rows = await readRows(this.store);
      } catch (error) {
        this.log(
          `could not read the stored providers (${(error as Error).message}); serving those read before`,
        );
      }
      await this.rebuild(true);
    });
  }

  /** Something changed through the management API: lanes get the providers it left, if they changed. */
  changed(): Promise<void> {
    return this.enqueue(async () => {
      this.rows = await readRows(this.store);
      await this.rebuild(false);
    });
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const done = this.queue.then(step);
    this.queue = done.catch(() => undefined);
    return done;
  }

  private async rebuild(always: boolean): Promise<void> {
    this.served = this.merge();
    const json = JSON.stringify(this.served.providers);
    if (!always && json === this.providersJson) return;
    this.providersJson = json;
    await this.publish(this.served);
  }

  /** The merged configuration; logs each warning once, while it lasts. */
  private merge(): GatewayConfig {
    const { config, warnings } = withStoredProviders(this.file, this.rows.providers, this.rows.keys);
    for (const warning of warnings) if (!this.warnings.has(warning)) this.log(`warning: ${warning}`);
    this.warnings = new Set(warnings);
    return config;
  }
}

async function readRows(store: GovernanceStore): Promise<StoredRows> {
  const [providers, keys] = await Promise.all([store.listProviders(), store.listProviderKeys()]);
  return { providers, keys };
}
