// The store's PostgreSQL URL, from whichever form a configuration gives it. Problems never quote the URL: it
// may hold a password.

const SCHEMES = new Set(["postgres:", "postgresql:"]);

/** The URL when it names a PostgreSQL server (postgres:// or postgresql:// with a host), else why not. */
export function checkDatabaseUrl(raw: string): { url: string } | { error: string } {
  const url = raw.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: "must be a URL such as postgres://user:password@host:5432/database" };
  }
  if (!SCHEMES.has(parsed.protocol))
    return {
      error: "must be a postgres:// or postgresql:// URL (the store is SQLite unless PostgreSQL is named)",
    };
  if (parsed.hostname === "")
    return { error: "must name a host (postgres://user:password@host:5432/database)" };
  return { url };
}

export interface PostgresFields {
  readonly host: string;
  readonly port?: string;
  readonly user: string;
  readonly password?: string;
  readonly database: string;
  readonly sslMode?: string;
}

/** A postgres:// URL from separate fields (Bifrost's config_store), each part escaped. */
export function postgresUrl(f: PostgresFields): string {
  const auth =
    f.password === undefined || f.password === ""
      ? encodeURIComponent(f.user)
      : `${encodeURIComponent(f.user)}:${encodeURIComponent(f.password)}`;
  const host = f.host.includes(":") && !f.host.startsWith("[") ? `[${f.host}]` : f.host;
  const port = f.port === undefined || f.port === "" ? "" : `:${f.port}`;
  const query =
    f.sslMode === undefined || f.sslMode === "" ? "" : `?sslmode=${encodeURIComponent(f.sslMode)}`;
  return `postgres://${auth}@${host}${port}/${encodeURIComponent(f.database)}${query}`;
}
