// Bifrost's `config_store` and `logs_store`: Switchyard keeps governance, spend and logs in one store, SQLite in
// --app-dir unless a PostgreSQL database is named. A postgres store becomes that database's URL; config_store
// wins when both name one.

import { type Collector, childPath, isObject, type Obj, readText } from "./collect.js";
import { checkDatabaseUrl, postgresUrl } from "./database-url.js";

const STORES = ["config_store", "logs_store"] as const;
const POSTGRES_FIELDS = new Set(["host", "port", "user", "password", "db_name", "ssl_mode"]);
const PORT = /^\d{1,5}$/;

function readPort(c: Collector, config: Obj, path: string, env: NodeJS.ProcessEnv): string | undefined {
  const raw = config.port;
  if (raw === undefined || raw === null || raw === "") return undefined;
  const text = typeof raw === "number" ? String(raw) : readText(c, config, "port", path, env);
  if (text === undefined) return undefined;
  if (!PORT.test(text) || Number(text) < 1 || Number(text) > 65535) {
    c.problem(childPath(path, "port"), "must be a port number (1 to 65535)");
    return undefined;
  }
  return text;
}

function postgresOf(c: Collector, config: Obj, path: string, env: NodeJS.ProcessEnv): string | undefined {
  const before = c.problems.length;
  const host = readText(c, config, "host", path, env, true);
  const port = readPort(c, config, path, env);
  const user = readText(c, config, "user", path, env, true);
  // Empty when the server authenticates another way (Bifrost: IAM role authentication).
  const password = config.password === "" ? undefined : readText(c, config, "password", path, env);
  const database = readText(c, config, "db_name", path, env, true);
  const sslMode = readText(c, config, "ssl_mode", path, env);
  for (const key of Object.keys(config))
    if (!POSTGRES_FIELDS.has(key)) c.unsupported(childPath(path, key), config[key]);
  if (c.problems.length > before || host === undefined || user === undefined || database === undefined)
    return undefined;
  const url = postgresUrl({
    host,
    user,
    database,
    ...(port === undefined ? {} : { port }),
    ...(password === undefined ? {} : { password }),
    ...(sslMode === undefined ? {} : { sslMode }),
  });
  const checked = checkDatabaseUrl(url);
  if ("error" in checked) {
    c.problem(childPath(path, "host"), "must be a host name or address");
    return undefined;
  }
  return checked.url;
}

function readStore(c: Collector, raw: unknown, name: string, env: NodeJS.ProcessEnv): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    c.problem(name, "must be an object");
    return undefined;
  }
  for (const key of Object.keys(raw))
    if (key !== "enabled" && key !== "type" && key !== "config") c.unsupported(`${name}.${key}`, raw[key]);
  if (raw.enabled !== undefined && typeof raw.enabled !== "boolean")
    c.problem(`${name}.enabled`, "must be true or false");
  if (raw.enabled !== true) return undefined;
  const config = raw.config;
  if (config !== undefined && config !== null && !isObject(config)) {
    c.problem(`${name}.config`, "must be an object");
    return undefined;
  }
  if (raw.type === "sqlite") {
    if (isObject(config) && config.path !== undefined)
      c.warn(`${name}.config.path`, "Switchyard keeps its SQLite store in --app-dir; ignored");
    return undefined;
  }
  if (raw.type !== "postgres") {
    c.problem(`${name}.type`, 'must be "sqlite" or "postgres"');
    return undefined;
  }
  if (!isObject(config)) {
    c.problem(
      `${name}.config`,
      "is required for a postgres store (host, port, user, password, db_name, ssl_mode)",
    );
    return undefined;
  }
  return postgresOf(c, config, `${name}.config`, env);
}

/** The PostgreSQL URL config_store (else logs_store) names, or undefined for SQLite in --app-dir. */
export function parseBifrostStores(c: Collector, json: Obj, env: NodeJS.ProcessEnv): string | undefined {
  const [configStore, logsStore] = STORES.map((name) => readStore(c, json[name], name, env));
  if (configStore !== undefined && logsStore !== undefined && configStore !== logsStore)
    c.warn(
      "logs_store",
      "Switchyard keeps logs and spend in the config_store database; this other database is not used",
    );
  return configStore ?? logsStore;
}
