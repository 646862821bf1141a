import type pg from "pg";
import type { BudgetTemplate, Customer, SpendRecord, Team, VirtualKey } from "../governance/types.js";
import type { SecretCipher } from "./cipher.js";
import { StoreConflictError } from "./errors.js";
import { MIGRATIONS, SCHEMA_MIGRATIONS_TABLE } from "./migrations.js";
import { announceChange, watchChanges } from "./pg-changes.js";
import { inTransaction, migratePostgres, openPool } from "./pg-common.js";
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
  type Stored,
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

// The production store: PostgreSQL through a small pool (the main thread's writes are batched, so a few
// connections suffice). Batches go in as arrays through UNNEST: one statement, one round trip, any size.

// Held for each migration's transaction, so gateways starting together migrate one at a time.
const MIGRATION_LOCK = 7_370_011;
const DAY = "to_char(to_timestamp(at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";

const SPEND_TYPES: Readonly<Record<(typeof SPEND_COLUMNS)[number][0], string>> = {
  request_id: "text",
  at: "bigint",
  key_id: "text",
  team_id: "text",
  customer_id: "text",
  provider: "text",
  model: "text",
  requested_model: "text",
  prompt_tokens: "bigint",
  completion_tokens: "bigint",
  cached_read_tokens: "bigint",
  cache_write_tokens: "bigint",
  reasoning_tokens: "bigint",
  cost_micros: "bigint",
  status: "integer",
  stream: "boolean",
  estimated: "boolean",
};

const INSERT_SPEND = `INSERT INTO spend_logs (${SPEND_COLUMNS.map(([column]) => column).join(", ")})
  SELECT * FROM UNNEST(${SPEND_COLUMNS.map(([column], index) => `$${index + 1}::${SPEND_TYPES[column]}[]`).join(", ")})`;

/** Connects (and checks the connection) to `url`. Call migrate() before use. */
export async function openPostgresStore(url: string, cipher: SecretCipher): Promise<GovernanceStore> {
  const pool = await openPool(url);
  return new PostgresStore(pool, cipher, url);
}

class PostgresStore implements GovernanceStore {
  #closed = false;
  readonly kind = "postgres";
  readonly #pool: pg.Pool;
  readonly #cipher: SecretCipher;

  readonly #url: string;

  constructor(pool: pg.Pool, cipher: SecretCipher, url: string) {
    this.#pool = pool;
    this.#cipher = cipher;
    this.#url = url;
  }

  #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, work);
  }

  migrate(): Promise<void> {
    return migratePostgres(this.#pool, {
      lock: MIGRATION_LOCK,
      table: "schema_migrations",
      createTable: SCHEMA_MIGRATIONS_TABLE.postgres,
      migrations: MIGRATIONS,
    });
  }

  async ping(): Promise<void> {
    await this.#pool.query("SELECT 1");
  }

  announceChange(): Promise<void> {
    return announceChange(this.#pool);
  }

  watchChanges(changed: () => void): StoreWatcher {
    return watchChanges(this.#url, changed);
  }

  /** Closing twice is harmless, as SQLite's is. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }

  async #rows<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.#pool.query<Row>(text, values)).rows;
  }

  async #deleted(text: string, value: string): Promise<boolean> {
    return ((await this.#pool.query(text, [value])).rowCount ?? 0) > 0;
  }

  async listKeys(): Promise<VirtualKey[]> {
    const rows = await this.#rows<Stored<KeyRow>>("SELECT * FROM virtual_keys ORDER BY id");
    return rows.map((row) => keyFromRow(row, this.#cipher));
  }

  async getKey(id: string): Promise<VirtualKey | undefined> {
    const [row] = await this.#rows<Stored<KeyRow>>("SELECT * FROM virtual_keys WHERE id = $1", [id]);
    return row === undefined ? undefined : keyFromRow(row, this.#cipher);
  }

  async putKey(key: VirtualKey): Promise<void> {
    const row = keyToRow(key, this.#cipher);
    try {
      await this.#pool.query(
        `INSERT INTO virtual_keys (id, hash, name, team_id, customer_id, data) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, name = excluded.name, team_id = excluded.team_id,
           customer_id = excluded.customer_id, data = excluded.data`,
        [row.id, row.hash, row.name, row.team_id, row.customer_id, row.data],
      );
    } catch (error) {
      if ((error as { code?: string }).code === "23505") {
        throw new StoreConflictError("another virtual key has the same hash");
      }
      throw error;
    }
  }

  async deleteKey(id: string): Promise<boolean> {
    return this.#deleted("DELETE FROM virtual_keys WHERE id = $1", id);
  }

  async listTeams(): Promise<Team[]> {
    return (await this.#rows<Stored<NamedRow>>("SELECT * FROM teams ORDER BY id")).map(teamFromRow);
  }

  async getTeam(id: string): Promise<Team | undefined> {
    const [row] = await this.#rows<Stored<NamedRow>>("SELECT * FROM teams WHERE id = $1", [id]);
    return row === undefined ? undefined : teamFromRow(row);
  }

  async putTeam(team: Team): Promise<void> {
    const row = namedToRow(team);
    await this.#pool.query(
      `INSERT INTO teams (id, name, data) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`,
      [row.id, row.name, row.data],
    );
  }

  async deleteTeam(id: string): Promise<boolean> {
    return this.#deleted("DELETE FROM teams WHERE id = $1", id);
  }

  async listCustomers(): Promise<Customer[]> {
    return (await this.#rows<Stored<NamedRow>>("SELECT * FROM customers ORDER BY id")).map(customerFromRow);
  }

  async getCustomer(id: string): Promise<Customer | undefined> {
    const [row] = await this.#rows<Stored<NamedRow>>("SELECT * FROM customers WHERE id = $1", [id]);
    return row === undefined ? undefined : customerFromRow(row);
  }

  async putCustomer(customer: Customer): Promise<void> {
    const row = namedToRow(customer);
    await this.#pool.query(
      `INSERT INTO customers (id, name, data) VALUES ($1, $2, $3)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, data = excluded.data`,
      [row.id, row.name, row.data],
    );
  }

  async deleteCustomer(id: string): Promise<boolean> {
    return this.#deleted("DELETE FROM customers WHERE id = $1", id);
  }

  async listBudgetTemplates(): Promise<BudgetTemplate[]> {
    return (await this.#rows<Stored<TemplateRow>>("SELECT * FROM budget_templates ORDER BY id")).map(
      templateFromRow,
    );
  }

  async getBudgetTemplate(id: string): Promise<BudgetTemplate | undefined> {
    const [row] = await this.#rows<Stored<TemplateRow>>("SELECT * FROM budget_templates WHERE id = $1", [id]);
    return row === undefined ? undefined : templateFromRow(row);
  }

  async putBudgetTemplate(template: BudgetTemplate): Promise<void> {
    const row = templateToRow(template);
    await this.#pool.query(
      "INSERT INTO budget_templates (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
      [row.id, row.data],
    );
  }

  async deleteBudgetTemplate(id: string): Promise<boolean> {
    return this.#deleted("DELETE FROM budget_templates WHERE id = $1", id);
  }

  async listProviders(): Promise<StoredProvider[]> {
    return (await this.#rows<Stored<ProviderRow>>("SELECT * FROM providers ORDER BY name")).map(
      providerFromRow,
    );
  }

  async putProvider(provider: StoredProvider): Promise<void> {
    const row = providerToRow(provider);
    await this.#pool.query(
      "INSERT INTO providers (name, data) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET data = excluded.data",
      [row.name, row.data],
    );
  }

  async deleteProvider(name: string): Promise<boolean> {
    return this.#transaction(async (client) => {
      await client.query("DELETE FROM provider_keys WHERE provider = $1", [name]);
      return ((await client.query("DELETE FROM providers WHERE name = $1", [name])).rowCount ?? 0) > 0;
    });
  }

  async listProviderKeys(provider?: string): Promise<StoredProviderKey[]> {
    const rows =
      provider === undefined
        ? await this.#rows<Stored<ProviderKeyRow>>("SELECT * FROM provider_keys ORDER BY provider, id")
        : await this.#rows<Stored<ProviderKeyRow>>(
            "SELECT * FROM provider_keys WHERE provider = $1 ORDER BY id",
            [provider],
          );
    return rows.map((row) => providerKeyFromRow(row, this.#cipher));
  }

  async putProviderKey(key: StoredProviderKey): Promise<void> {
    const row = providerKeyToRow(key, this.#cipher);
    await this.#pool.query(
      `INSERT INTO provider_keys (id, provider, name, secret_sealed, enabled, data)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, name = excluded.name,
         secret_sealed = excluded.secret_sealed, enabled = excluded.enabled, data = excluded.data`,
      [row.id, row.provider, row.name, row.secret_sealed, row.enabled, row.data],
    );
  }

  async deleteProviderKey(id: string): Promise<boolean> {
    return this.#deleted("DELETE FROM provider_keys WHERE id = $1", id);
  }

  async loadBudgetUsage(): Promise<BudgetUsage[]> {
    const rows = await this.#rows<{ budget_id: string; window_start: number; spent_micros: number }>(
      "SELECT budget_id, window_start, spent_micros FROM budget_usage ORDER BY budget_id",
    );
    return rows.map((row) => ({
      budgetId: row.budget_id,
      windowStart: row.window_start,
      spentMicros: row.spent_micros,
    }));
  }

  async saveBudgetUsage(rows: readonly BudgetUsage[]): Promise<void> {
    const usage = lastUsagePerBudget(rows);
    if (usage.length === 0) return;
    // One statement is one transaction.
    await this.#pool.query({
      name: "switchyard-save-budget-usage",
      text: `INSERT INTO budget_usage (budget_id, window_start, spent_micros)
        SELECT * FROM UNNEST($1::text[], $2::bigint[], $3::bigint[])
        ON CONFLICT (budget_id) DO UPDATE SET window_start = excluded.window_start,
          spent_micros = excluded.spent_micros`,
      values: [
        usage.map((row) => row.budgetId),
        usage.map((row) => row.windowStart),
        usage.map((row) => row.spentMicros),
      ],
    });
  }

  async insertSpend(records: readonly SpendRecord[]): Promise<void> {
    if (records.length === 0) return;
    for (const record of records) checkSpendRecord(record);
    await this.#pool.query({
      name: "switchyard-insert-spend",
      text: INSERT_SPEND,
      values: SPEND_COLUMNS.map(([, field]) => records.map((record) => record[field])),
    });
  }

  async querySpend(query: SpendQuery): Promise<SpendRecord[]> {
    const { where, values, limit } = whereClause(query);
    const rows = await this.#rows<Parameters<typeof spendFromRow>[0]>(
      `SELECT * FROM spend_logs ${where} ORDER BY at DESC, id DESC LIMIT $${values.length + 1}`,
      [...values, limit],
    );
    return rows.map(spendFromRow);
  }

  async totalSpend(query: SpendQuery, group: SpendGroup): Promise<SpendTotal[]> {
    const expression = spendGroupExpression(group, DAY);
    const { where, values } = whereClause(query);
    const rows = await this.#rows<{
      grp: string;
      requests: number;
      prompt: number;
      completion: number;
      cost: number;
    }>(
      `SELECT (${expression}) COLLATE "C" AS grp, COUNT(*) AS requests, SUM(prompt_tokens)::bigint AS prompt,
         SUM(completion_tokens)::bigint AS completion, SUM(cost_micros)::bigint AS cost
       FROM spend_logs ${where} GROUP BY grp ORDER BY grp`,
      values,
    );
    return rows.map((row) => ({
      group: row.grp,
      requests: row.requests,
      promptTokens: row.prompt,
      completionTokens: row.completion,
      costMicros: row.cost,
    }));
  }
}

function whereClause(query: SpendQuery): { where: string; values: unknown[]; limit: number } {
  const { conditions, limit } = spendConditions(query);
  const where =
    conditions.length === 0
      ? ""
      : `WHERE ${conditions.map((condition, index) => `${condition.column} ${condition.operator} $${index + 1}`).join(" AND ")}`;
  return { where, values: conditions.map((condition) => condition.value), limit };
}
