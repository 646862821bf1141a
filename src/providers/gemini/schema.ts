import { UnsupportedRequest } from "../adapter.js";

// JSON Schema (as OpenAI clients write tool parameters and response schemas) reduced to the OpenAPI 3.0
// subset Gemini's `Schema` object takes. Gemini answers 400 for keywords outside that subset, so:
// - kept: type (upper-cased: STRING, OBJECT, ...), format, title, description, nullable, enum, items,
//   properties, required, anyOf, minItems, maxItems, minProperties, maxProperties, minLength, maxLength,
//   pattern, minimum, maximum, default, example, propertyOrdering;
// - rewritten: `type: [T, "null"]` → `type: T, nullable: true` (several types → anyOf); `const: v` →
//   `enum: [v]`; `oneOf` → `anyOf`; `$ref` into `$defs`/`definitions` → the definition inlined (a recursive
//   schema cannot be inlined and is refused); `examples: [v, ...]` → `example: v`;
// - dropped: `additionalProperties`, `$schema`, `$id`, `$defs`, `definitions`, `strict`, and any other
//   keyword; string formats other than `enum` and `date-time` (Gemini accepts only those two);
// - `required` names that are not in `properties` are left out (Gemini refuses them).

const KEPT = new Set([
  "title",
  "description",
  "nullable",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "default",
  "example",
  "propertyOrdering",
]);

const STRING_FORMATS = new Set(["enum", "date-time"]);
const MAX_DEPTH = 64;

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function geminiSchema(schema: Schema, param: string): Schema {
  const defs = {
    ...(isObject(schema.definitions) ? schema.definitions : {}),
    ...(isObject(schema.$defs) ? schema.$defs : {}),
  };
  return clean(schema, defs, [], param, 0);
}

function resolveRef(ref: string, defs: Schema, seen: string[], param: string): Schema {
  const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref);
  const target = match?.[1] === undefined ? undefined : defs[match[1]];
  if (!isObject(target))
    throw new UnsupportedRequest(`${param}: cannot resolve the schema reference '${ref}'.`, param);
  if (seen.includes(ref)) {
    throw new UnsupportedRequest(`${param}: Gemini does not accept recursive schemas ('${ref}').`, param);
  }
  return target;
}

function clean(schema: Schema, defs: Schema, seen: string[], param: string, depth: number): Schema {
  if (depth > MAX_DEPTH) throw new UnsupportedRequest(`${param}: the schema is nested too deeply.`, param);
  if (typeof schema.$ref === "string") {
    const ref = schema.$ref;
    const { $ref: _ref, ...siblings } = schema;
    const target = resolveRef(ref, defs, seen, param);
    return clean({ ...target, ...siblings }, defs, [...seen, ref], param, depth + 1);
  }
  const out: Schema = {};
  for (const key in schema) if (KEPT.has(key)) out[key] = schema[key];
  if (out.example === undefined && Array.isArray(schema.examples) && schema.examples.length > 0) {
    out.example = schema.examples[0];
  }

  let type = schema.type;
  if (Array.isArray(type)) {
    const types = type.filter((t) => t !== "null");
    if (types.length < type.length) out.nullable = true;
    if (types.length === 1) type = types[0];
    else {
      out.anyOf = types.map((t) =>
        clean({ ...schema, type: t, nullable: undefined }, defs, seen, param, depth + 1),
      );
      for (const key of ["title", "description", "nullable"]) if (out[key] === undefined) delete out[key];
      return out;
    }
  }
  if (typeof type === "string") out.type = type.toUpperCase();

  if (typeof schema.format === "string") {
    if (out.type !== "STRING" || STRING_FORMATS.has(schema.format)) out.format = schema.format;
  }
  if (Array.isArray(schema.enum)) out.enum = schema.enum;
  else if (schema.const !== undefined) out.enum = [schema.const];
  if (out.enum !== undefined && out.type === undefined) out.type = "STRING";

  const alternatives = Array.isArray(schema.anyOf)
    ? schema.anyOf
    : Array.isArray(schema.oneOf)
      ? schema.oneOf
      : undefined;
  if (alternatives !== undefined) {
    const kept: Schema[] = [];
    for (const alternative of alternatives) {
      if (!isObject(alternative)) continue;
      // `{type: "null"}` as an alternative is Gemini's `nullable`.
      if (alternative.type === "null") out.nullable = true;
      else kept.push(clean(alternative, defs, seen, param, depth + 1));
    }
    if (kept.length === 1 && out.type === undefined) Object.assign(out, kept[0]);
    else if (kept.length > 0) out.anyOf = kept;
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length === 1 && isObject(schema.allOf[0])) {
    Object.assign(out, clean(schema.allOf[0], defs, seen, param, depth + 1));
  }

  if (isObject(schema.properties)) {
    const properties: Schema = {};
    for (const name in schema.properties) {
      const property = schema.properties[name];
      properties[name] = isObject(property) ? clean(property, defs, seen, param, depth + 1) : {};
    }
    out.properties = properties;
    if (Array.isArray(schema.required)) {
      out.required = schema.required.filter((name) => typeof name === "string" && name in properties);
    }
  }
  if (isObject(schema.items)) out.items = clean(schema.items, defs, seen, param, depth + 1);
  return out;
}
