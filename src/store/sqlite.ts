import Database from "better-sqlite3";
import type { BudgetTemplate, Customer, SpendRecord, Team, VirtualKey } from "../governance/types.js";
import type { SecretCipher } from "./cipher.js";
import { StoreConflictError } from "./errors.js";
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from "./migrations.js";
import {
  checkSpendRecord,
  customerFromRow,
  type KeyRow,
  keyFromRow,
  keyToRow,
  lastUsagePerBudget,
  type NamedRow,
  namedToRow,
  type ProviderKeyRow,
  type ProviderRow,
  providerFromRow,
  providerKeyFromRow,
  providerKeyToRow,
  providerToRow,
  SPEND_COLUMNS,
  spendConditions,
  spendFromRow,
  spendGroupExpression,
  type TemplateRow,
  teamFromRow,
  templateFromRow,
  templateToRow,
} from "./rows.js";
import type {
  BudgetUsage,
  GovernanceStore,
  SpendGroup,
  SpendQuery,
  SpendTotal,
  StoredProvider,
  StoredProviderKey,
  StoreWatcher,
} from "./types.js";

// The default store: one SQLite file in the app directory (or memory), WAL, synchronous=NORMAL (a power
// loss may lose the last transactions, never corrupt the file). better-sqlite3 is synchronous; the main
// thread's writes are small batches, so each call blocks it briefly rather than handing work to a thread.

const DAY = "strftime('%Y-%m-%d', at / 1000, 'unixepoch')";

/** `path` is a file, or ":memory:" for a store that lives as long as the process. Call migrate() before use. */
export function openSqliteStore(path: string, cipher: SecretCipher): GovernanceStore {
  return sqliteStoreOn(new Database(path), cipher);
}

/** A store over a database the caller opened (tests read its raw rows); closing the store closes it. */
export function sqliteStoreOn(db: Database.Database, cipher: SecretCipher): GovernanceStore {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  return new SqliteStore(db, cipher);
}

function statements(db: Database.Database) {
  const spendColumns = SPEND_COLUMNS.map(([column]) => column);
  return {
    listKeys: db.prepare<[], KeyRow>("SELECT * FROM virtual_keys ORDER BY id"),
    getKey: db.prepare<[string], KeyRow>("SELECT * FROM virtual_keys WHERE id = ?"),
    putKey: db.prepare<KeyRow>(
      `INSERT INTO virtual_keys (id, hash, name, team_id, customer_id, data)
       VALUES (@id, @hash, @name, @team_id, @customer_id, @data)
       ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, name = excluded.name, team_id = excluded.team_id,
         customer_id = excluded.customer_id, data = excluded.data`,
    ),
    deleteKey: db.prepare<[string]>("DELETE FROM virtual_keys WHERE id = ?"),
    listTeams: db.prepare<[], NamedRow>("SELECT * FROM teams ORDER BY id"),
    getTeam: db.prepare<[string], NamedRow>("SELECT * FROM teams WHERE id = ?"),
    putTeam: db.prepare<NamedRow>(
      `INSERT INTO teams (id, name, data) VALUES (@id, @name, @data)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`,
    ),
    deleteTeam: db.prepare<[string]>("DELETE FROM teams WHERE id = ?"),
    listCustomers: db.prepare<[], NamedRow>("SELECT * FROM customers ORDER BY id"),
    getCustomer: db.prepare<[string], NamedRow>("SELECT * FROM customers WHERE id = ?"),
    putCustomer: db.prepare<NamedRow>(
      `INSERT INTO customers (id, name, data) VALUES (@id, @name, @data)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`,
    ),
    deleteCustomer: db.prepare<[string]>("DELETE FROM customers WHERE id = ?"),
    listTemplates: db.prepare<[], TemplateRow>("SELECT * FROM budget_templates ORDER BY id"),
    getTemplate: db.prepare<[string], TemplateRow>("SELECT * FROM budget_templates WHERE id = ?"),
    putTemplate: db.prepare<TemplateRow>(
      `INSERT INTO budget_templates (id, data) VALUES (@id, @data)
       ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
    ),
    deleteTemplate: db.prepare<[string]>("DELETE FROM budget_templates WHERE id = ?"),
    listProviders: db.prepare<[], ProviderRow>("SELECT * FROM providers ORDER BY name"),
    putProvider: db.prepare<ProviderRow>(
      `INSERT INTO providers (name, data) VALUES (@name, @data)
       ON CONFLICT (name) DO UPDATE SET data = excluded.data`,
    ),
    deleteProvider: db.prepare<[string]>("DELETE FROM providers WHERE name = ?"),
    deleteKeysOfProvider: db.prepare<[string]>("DELETE FROM provider_keys WHERE provider = ?"),
    listProviderKeys: db.prepare<[], ProviderKeyRow>("SELECT * FROM provider_keys ORDER BY provider, id"),
    listKeysOfProvider: db.prepare<[string], ProviderKeyRow>(
      "SELECT * FROM provider_keys WHERE provider = ? ORDER BY id",
    ),
    putProviderKey: db.prepare<ProviderKeyRow>(
      `INSERT INTO provider_keys (id, provider, name, secret_sealed, enabled, data)
       VALUES (@id, @provider, @name, @secret_sealed, @enabled, @data)
       ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, name = excluded.name,
         secret_sealed = excluded.secret_sealed, enabled = excluded.enabled, data = excluded.data`,
    ),
    deleteProviderKey: db.prepare<[string]>("DELETE FROM provider_keys WHERE id = ?"),
    loadBudgetUsage: db.prepare<[], { budget_id: string; window_start: number; spent_micros: number }>(
      "SELECT budget_id, window_start, spent_micros FROM budget_usage ORDER BY budget_id",
    ),
    saveBudgetUsage: db.prepare<[string, number, number]>(
      `INSERT INTO budget_usage (budget_id, window_start, spent_micros) VALUES (?, ?, ?)
       ON CONFLICT (budget_id) DO UPDATE SET window_start = excluded.window_start,
         spent_micros = excluded.spent_micros`,
    ),
    insertSpend: db.prepare<unknown[]>(
      `INSERT INTO spend_logs (${spendColumns.join(", ")}) VALUES (${spendColumns.map(() => "?").join(", ")})`,
    ),
  };
}

class SqliteStore implements GovernanceStore {
  readonly kind = "sqlite";
  readonly #db: Database.Database;
  readonly #cipher: SecretCipher;
  // Prepared once the tables exist, i.e. after the first migrate().
  #prepared: ReturnType<typeof statements> | undefined;
  // Spend queries by the filters they use: a few dozen shapes at most.
  readonly #spendStatements = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(db: Database.Database, cipher: SecretCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  get #statements(): ReturnType<typeof statements> {
    this.#prepared ??= statements(this.#db);
    return this.#prepared;
  }

  async migrate(): Promise<void> {
    const db = this.#db;
    db.exec(SCHEMA_MIGRATIONS_TABLE.sqlite);
    const applied = db.prepare<[number], { version: number }>(
      "SELECT version FROM schema_migrations WHERE version = ?",
    );
    const record = db.prepare<[number, string, number]>(
      "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
    );
    for (const migration of MIGRATIONS) {
      // IMMEDIATE: a second process migrating the same file waits here instead of failing half-way.
      db.transaction(() => {
        if (applied.get(migration.version) !== undefined) return;
        for (const sql of migration.sqlite) db.exec(sql);
        record.run(migration.version, migration.name, Date.now());
      }).immediate();
    }
  }

  async ping(): Promise<void> {
    this.#db.prepare("SELECT 1").get();
  }

  async announceChange(): Promise<void> {}

  watchChanges(): StoreWatcher {
    return { stop: async () => {} };
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async listKeys(): Promise<VirtualKey[]> {
    return this.#statements.listKeys.all().map((row) => keyFromRow(row, this.#cipher));
  }

  async getKey(id: string): Promise<VirtualKey | undefined> {
    const row = this.#statements.getKey.get(id);
    return row === undefined ? undefined : keyFromRow(row, this.#cipher);
  }

  async putKey(key: VirtualKey): Promise<void> {
    try {
      this.#statements.putKey.run(keyToRow(key, this.#cipher));
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new StoreConflictError("another virtual key has the same hash");
      }
      throw error;
    }
  }

  async deleteKey(id: string): Promise<boolean> {
    return this.#statements.deleteKey.run(id).changes > 0;
  }

  async listTeams(): Promise<Team[]> {
    return this.#statements.listTeams.all().map(teamFromRow);
  }

  async getTeam(id: string): Promise<Team | undefined> {
    const row = this.#statements.getTeam.get(id);
    return row === undefined ? undefined : teamFromRow(row);
  }

  async putTeam(team: Team): Promise<void> {
    this.#statements.putTeam.run(namedToRow(team));
  }

  async deleteTeam(id: string): Promise<boolean> {
    return this.#statements.deleteTeam.run(id).changes > 0;
  }

  async listCustomers(): Promise<Customer[]> {
    return this.#statements.listCustomers.all().map(customerFromRow);
  }

  async getCustomer(id: string): Promise<Customer | undefined> {
    const row = this.#statements.getCustomer.get(id);
    return row === undefined ? undefined : customerFromRow(row);
  }

  async putCustomer(customer: Customer): Promise<void> {
    this.#statements.putCustomer.run(namedToRow(customer));
  }

  async deleteCustomer(id: string): Promise<boolean> {
    return this.#statements.deleteCustomer.run(id).changes > 0;
  }

  async listBudgetTemplates(): Promise<BudgetTemplate[]> {
    return this.#statements.listTemplates.all().map(templateFromRow);
  }

  async getBudgetTemplate(id: string): Promise<BudgetTemplate | undefined> {
    const row = this.#statements.getTemplate.get(id);
    return row === undefined ? undefined : templateFromRow(row);
  }

  async putBudgetTemplate(template: BudgetTemplate): Promise<void> {
    this.#statements.putTemplate.run(templateToRow(template));
  }

  async deleteBudgetTemplate(id: string): Promise<boolean> {
    return this.#statements.deleteTemplate.run(id).changes > 0;
  }

  async listProviders(): Promise<StoredProvider[]> {
    return this.#statements.listProviders.all().map(providerFromRow);
  }

  async putProvider(provider: StoredProvider): Promise<void> {
    this.#statements.putProvider.run(providerToRow(provider));
  }

  async deleteProvider(name: string): Promise<boolean> {
    const statements = this.#statements;
    return this.#db.transaction(() => {
      statements.deleteKeysOfProvider.run(name);
      return statements.deleteProvider.run(name).changes > 0;
    })();
  }

  async listProviderKeys(provider?: string): Promise<StoredProviderKey[]> {
    const rows =
      provider === undefined
        ? this.#statements.listProviderKeys.all()
        : this.#statements.listKeysOfProvider.all(provider);
    return rows.map((row) => providerKeyFromRow(row, this.#cipher));
  }

  async putProviderKey(key: StoredProviderKey): Promise<void> {
    const row = providerKeyToRow(key, this.#cipher);
    this.#statements.putProviderKey.run({ ...row, enabled: Number(row.enabled) });
  }

  async deleteProviderKey(id: string): Promise<boolean> {
    return this.#statements.deleteProviderKey.run(id).changes > 0;
  }

  async loadBudgetUsage(): Promise<BudgetUsage[]> {
    return this.#statements.loadBudgetUsage.all().map((row) => ({
      budgetId: row.budget_id,
      windowStart: row.window_start,
      spentMicros: row.spent_micros,
    }));
  }

  async saveBudgetUsage(rows: readonly BudgetUsage[]): Promise<void> {
    const usage = lastUsagePerBudget(rows);
    const save = this.#statements.saveBudgetUsage;
    this.#db.transaction(() => {
      for (const row of usage) save.run(row.budgetId, row.windowStart, row.spentMicros);
    })();
  }

  async insertSpend(records: readonly SpendRecord[]): Promise<void> {
    for (const record of records) checkSpendRecord(record);
    const insert = this.#statements.insertSpend;
    this.#db.transaction(() => {
      for (const record of records) {
        insert.run(
          SPEND_COLUMNS.map(([, field]) => {
            const value = record[field];
            return typeof value === "boolean" ? Number(value) : value;
          }),
        );
      }
    })();
  }

  async querySpend(query: SpendQuery): Promise<SpendRecord[]> {
    const { where, values, limit } = whereClause(query);
    const sql = `SELECT * FROM spend_logs ${where} ORDER BY at DESC, id DESC LIMIT ?`;
    const rows = this.#spendStatement(sql).all(...values, limit) as Parameters<typeof spendFromRow>[0][];
    return rows.map(spendFromRow);
  }

  async totalSpend(query: SpendQuery, group: SpendGroup): Promise<SpendTotal[]> {
    const expression = spendGroupExpression(group, DAY);
    const { where, values } = whereClause(query);
    const sql = `SELECT ${expression} AS grp, COUNT(*) AS requests, SUM(prompt_tokens) AS prompt,
        SUM(completion_tokens) AS completion, SUM(cost_micros) AS cost
      FROM spend_logs ${where} GROUP BY grp ORDER BY grp`;
    const rows = this.#spendStatement(sql).all(...values) as {
      grp: string;
      requests: number;
      prompt: number;
      completion: number;
      cost: number;
    }[];
    return rows.map((row) => ({
      group: row.grp,
      requests: row.requests,
      promptTokens: row.prompt,
      completionTokens: row.completion,
      costMicros: row.cost,
    }));
  }

  #spendStatement(sql: string): Database.Statement<unknown[], unknown> {
    let statement = this.#spendStatements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare<unknown[], unknown>(sql);
      this.#spendStatements.set(sql, statement);
    }
    return statement;
  }
}

function whereClause(query: SpendQuery): { where: string; values: unknown[]; limit: number } {
  const { conditions, limit } = spendConditions(query);
  const where =
    conditions.length === 0
      ? ""
      : `WHERE ${conditions.map((condition) => `${condition.column} ${condition.operator} ?`).join(" AND ")}`;
  return { where, values: conditions.map((condition) => condition.value), limit };
}
