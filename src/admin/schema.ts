import { invalidField } from "./errors.js";

// The subset of JSON Schema the management API's bodies and answers are written in. One schema serves as
// the request validator and as the OpenAPI document's description of the same field, so the two cannot
// drift apart. Every string, array and map has an upper bound: a request cannot make the store keep more
// than the schema allows.

interface Described {
  readonly description?: string;
}

export interface StringSchema extends Described {
  readonly type: "string";
  readonly minLength?: number;
  readonly maxLength: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly format?: string;
}

export interface NumberSchema extends Described {
  readonly type: "integer" | "number";
  readonly minimum: number;
  readonly maximum: number;
}

export interface BooleanSchema extends Described {
  readonly type: "boolean";
}

export interface NullSchema extends Described {
  readonly type: "null";
}

export interface ArraySchema extends Described {
  readonly type: "array";
  readonly items: Schema;
  readonly maxItems: number;
}

/** An object with named fields; any other field is refused. */
export interface RecordSchema extends Described {
  readonly type: "object";
  readonly properties: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties: false;
}

/** A map from bounded names to values of one schema. */
export interface MapSchema extends Described {
  readonly type: "object";
  readonly additionalProperties: Schema;
  readonly maxProperties: number;
  readonly propertyNames: StringSchema;
}

/** Any JSON object (metadata), bounded by its encoded size. */
export interface FreeObjectSchema extends Described {
  readonly type: "object";
  readonly "x-maxJsonBytes": number;
}

export interface AnyOfSchema extends Described {
  readonly anyOf: readonly Schema[];
}

export type Schema =
  | StringSchema
  | NumberSchema
  | BooleanSchema
  | NullSchema
  | ArraySchema
  | RecordSchema
  | MapSchema
  | FreeObjectSchema
  | AnyOfSchema;

const patterns = new Map<string, RegExp>();

function compiled(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(pattern, "u");
    patterns.set(pattern, regex);
  }
  return regex;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(schema: Schema): string {
  if ("anyOf" in schema) return schema.anyOf.map(describe).join(" or ");
  switch (schema.type) {
    case "string":
      return schema.enum !== undefined
        ? `one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`
        : `a string of at most ${schema.maxLength} characters${schema.pattern !== undefined ? ` matching ${schema.pattern}` : ""}`;
    case "integer":
    case "number":
      return `${schema.type === "integer" ? "an integer" : "a number"} from ${schema.minimum} to ${schema.maximum}`;
    case "boolean":
      return "true or false";
    case "null":
      return "null";
    case "array":
      return `an array of at most ${schema.maxItems} items`;
    case "object":
      return "an object";
  }
}

/** Why `value` does not fit `schema` (the first problem found), or undefined when it fits. */
function problem(schema: Schema, value: unknown, path: string): { path: string; text: string } | undefined {
  if ("anyOf" in schema) {
    for (const option of schema.anyOf) if (problem(option, value, path) === undefined) return undefined;
    // A value of the right type but wrong content is better reported by that alternative's own message.
    const sameType = schema.anyOf.find((o) => !("anyOf" in o) && typeMatches(o, value));
    return sameType !== undefined
      ? problem(sameType, value, path)
      : { path, text: `must be ${describe(schema)}` };
  }
  if (!typeMatches(schema, value)) return { path, text: `must be ${describe(schema)}` };
  switch (schema.type) {
    case "string": {
      const text = value as string;
      if (text.length > schema.maxLength || text.length < (schema.minLength ?? 0))
        return {
          path,
          text: `must be ${describe(schema)}${schema.minLength ? `, at least ${schema.minLength}` : ""}`,
        };
      if (schema.enum !== undefined && !schema.enum.includes(text))
        return { path, text: `must be ${describe(schema)}` };
      if (schema.pattern !== undefined && !compiled(schema.pattern).test(text))
        return { path, text: `must match ${schema.pattern}` };
      return undefined;
    }
    case "integer":
    case "number": {
      const number = value as number;
      if (number < schema.minimum || number > schema.maximum)
        return { path, text: `must be ${describe(schema)}` };
      return undefined;
    }
    case "boolean":
    case "null":
      return undefined;
    case "array": {
      const items = value as unknown[];
      if (items.length > schema.maxItems) return { path, text: `must be ${describe(schema)}` };
      for (let i = 0; i < items.length; i++) {
        const found = problem(schema.items, items[i], `${path}[${i}]`);
        if (found !== undefined) return found;
      }
      return undefined;
    }
    case "object":
      return objectProblem(schema, value as Record<string, unknown>, path);
  }
}

function typeMatches(schema: Exclude<Schema, AnyOfSchema>, value: unknown): boolean {
  switch (schema.type) {
    case "string":
      return typeof value === "string";
    case "integer":
      return typeof value === "number" && Number.isSafeInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    case "boolean":
      return typeof value === "boolean";
    case "null":
      return value === null;
    case "array":
      return Array.isArray(value);
    case "object":
      return isPlainObject(value);
  }
}

/** A field's path for messages; a name the client made up is cut short, since the message repeats it. */
function child(path: string, name: string): string {
  const shown = name.length > 64 ? `${name.slice(0, 64)}…` : name;
  return path === "" ? shown : `${path}.${shown}`;
}

function objectProblem(
  schema: RecordSchema | MapSchema | FreeObjectSchema,
  value: Record<string, unknown>,
  path: string,
): { path: string; text: string } | undefined {
  const where = path === "" ? "body" : path;
  if ("x-maxJsonBytes" in schema) {
    if (Buffer.byteLength(JSON.stringify(value)) > schema["x-maxJsonBytes"])
      return { path: where, text: `must encode to at most ${schema["x-maxJsonBytes"]} bytes of JSON` };
    return undefined;
  }
  const names = Object.keys(value);
  if (schema.additionalProperties === false) {
    for (const name of names)
      if (!Object.hasOwn(schema.properties, name))
        return { path: child(path, name), text: "is not a field of this request" };
    for (const name of schema.required ?? [])
      if (value[name] === undefined) return { path: child(path, name), text: "is required" };
    for (const name of names) {
      const found = problem(schema.properties[name] as Schema, value[name], child(path, name));
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (names.length > schema.maxProperties)
    return { path: where, text: `must have at most ${schema.maxProperties} entries` };
  for (const name of names) {
    const nameProblem = problem(schema.propertyNames, name, where);
    if (nameProblem !== undefined)
      return { path: where, text: `entry name ${JSON.stringify(name.slice(0, 64))} ${nameProblem.text}` };
    const found = problem(schema.additionalProperties, value[name], child(path, name));
    if (found !== undefined) return found;
  }
  return undefined;
}

/** `value` as the type `schema` describes, or an AdminError (400) naming the first field that does not fit. */
export function validate<T>(schema: Schema, value: unknown, path = ""): T {
  const found = problem(schema, value, path);
  if (found !== undefined) throw invalidField(found.path === "" ? "body" : found.path, found.text);
  return value as T;
}
