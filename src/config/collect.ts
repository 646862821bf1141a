// The config.json reader's bookkeeping: problems (the file cannot be used) and warnings (a setting has no
// effect), each as "path: what", plus the value readers every section shares.

export type Obj = Record<string, unknown>;

export const NOT_SUPPORTED = "not supported yet; ignored";

const ENV_VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export class Collector {
  readonly problems: string[] = [];
  readonly warnings: string[] = [];

  problem(path: string, what: string): void {
    this.problems.push(`${path}: ${what}`);
  }

  warn(path: string, what: string): void {
    this.warnings.push(`${path}: ${what}`);
  }

  /** Warns about a Bifrost setting Switchyard does not honour yet, unless the value asks for nothing. */
  unsupported(path: string, value: unknown, what = NOT_SUPPORTED): void {
    if (!isInert(value)) this.warn(path, what);
  }
}

export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A value that turns a feature off or configures nothing, so ignoring it changes nothing. */
export function isInert(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isObject(v)) {
    const keys = Object.keys(v);
    return keys.length === 0 || v.enabled === false || (keys.length === 1 && v.type === "none");
  }
  return false;
}

export function childPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** Resolves a literal or an "env.VAR" reference. Problems name the variable, never a value. */
export function resolveSecret(
  c: Collector,
  raw: string,
  path: string,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (!raw.startsWith("env.")) return raw;
  const name = raw.slice(4);
  if (!ENV_VAR_NAME.test(name)) {
    c.problem(path, 'must be a literal value or "env.VAR_NAME" with a valid variable name');
    return undefined;
  }
  const value = env[name];
  if (value === undefined) {
    c.problem(path, `environment variable ${name} is not set`);
    return undefined;
  }
  if (value === "") {
    c.problem(path, `environment variable ${name} is empty`);
    return undefined;
  }
  return value;
}

/** True when the field holds something: absent, null and "" all mean "not set" in Bifrost's files. */
export function isGiven(obj: Obj, key: string): boolean {
  const v = obj[key];
  return v !== undefined && v !== null && v !== "";
}

/**
 * A string field that may be an "env.VAR" reference, trimmed. Undefined when not set or unusable (the
 * problem is recorded); `required` adds "is required" when it is not set.
 */
export function readText(
  c: Collector,
  obj: Obj,
  key: string,
  path: string,
  env: NodeJS.ProcessEnv,
  required = false,
): string | undefined {
  const p = childPath(path, key);
  if (!isGiven(obj, key)) {
    if (required) c.problem(p, "is required");
    return undefined;
  }
  const v = obj[key];
  if (typeof v !== "string") {
    c.problem(p, 'must be a string (a literal value or "env.VAR_NAME")');
    return undefined;
  }
  const resolved = resolveSecret(c, v, p, env)?.trim();
  if (resolved === "") {
    c.problem(p, "must not be blank");
    return undefined;
  }
  return resolved;
}
