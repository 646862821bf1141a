import type {
  ArraySchema,
  FreeObjectSchema,
  MapSchema,
  NumberSchema,
  RecordSchema,
  Schema,
  StringSchema,
} from "./schema.js";

// The field schemas both route families build on. Money is dollars (a JSON number; stored as integer
// micro-dollars, Math.round(dollars * 1e6)); times are ISO 8601 strings in answers and ISO strings or Unix
// milliseconds in requests; windows are LiteLLM duration strings ("1h", "30d", "1mo").

export const ID_PATTERN = "^[A-Za-z0-9_.:-]{1,128}$";

export const ID: StringSchema = { type: "string", minLength: 1, maxLength: 128, pattern: ID_PATTERN };
export const NAME: StringSchema = { type: "string", maxLength: 256 };
/** An exact model name or a `*` pattern; no control characters. */
export const MODEL_PATTERN: StringSchema = {
  type: "string",
  minLength: 1,
  maxLength: 256,
  pattern: "^[^\\u0000-\\u001f\\u007f]+$",
};
export const MODELS: ArraySchema = { type: "array", items: MODEL_PATTERN, maxItems: 1000 };
export const METADATA: FreeObjectSchema = {
  type: "object",
  "x-maxJsonBytes": 16384,
  description: "Any JSON object, at most 16 KB encoded.",
};
/** Dollars. The bound keeps micro-dollars well inside exact integers. */
export const DOLLARS: NumberSchema = { type: "number", minimum: 0, maximum: 1e9 };
export const DURATION: StringSchema = {
  type: "string",
  maxLength: 16,
  description:
    'A number and a unit: m, h, d, w, M or mo (month), Y or y (year), e.g. "30d", "1mo"; windows may end in ":calendar" or ":rolling"; key lifetimes also take s.',
};
export const ISO_TIME: StringSchema = { type: "string", maxLength: 40, format: "date-time" };
export const TIME_INPUT: Schema = {
  anyOf: [ISO_TIME, { type: "integer", minimum: 0, maximum: 8.64e15, description: "Unix milliseconds" }],
};
export const COUNT: NumberSchema = { type: "integer", minimum: 1, maximum: 1e12 };
export const NULL: Schema = { type: "null" };

export function nullable(schema: Schema): Schema {
  return { anyOf: [schema, NULL] };
}

export const LIMITS_INPUT: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    requests: { ...COUNT, description: "Requests per window." },
    tokens: { ...COUNT, description: "Prompt plus completion tokens per window." },
    parallel: { type: "integer", minimum: 1, maximum: 1e6, description: "Requests under way at once." },
    window: { ...DURATION, description: "Window of requests and tokens; one minute when absent." },
  },
};

export const BUDGET_INPUT: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["max_budget"],
  properties: {
    id: ID,
    max_budget: { ...DOLLARS, description: "The most spent in one window, dollars." },
    soft_budget: { ...DOLLARS, description: "Crossing it is reported, never refused." },
    budget_duration: { ...DURATION, description: "The window; absent, one window for the budget's life." },
    alignment: { type: "string", maxLength: 8, enum: ["calendar", "rolling"] },
  },
};

export const BUDGETS_INPUT: ArraySchema = { type: "array", items: BUDGET_INPUT, maxItems: 16 };

export const MODEL_LIMITS_INPUT: MapSchema = {
  type: "object",
  additionalProperties: LIMITS_INPUT,
  maxProperties: 1000,
  propertyNames: MODEL_PATTERN,
};

export const SECRET_METADATA_INPUT: MapSchema = {
  type: "object",
  additionalProperties: { type: "string", maxLength: 4096 },
  maxProperties: 32,
  propertyNames: ID,
  description: "Secrets kept with the key, encrypted at rest; answers show them masked.",
};

export const PROVIDER_CONFIG_INPUT: RecordSchema = {
  type: "object",
  additionalProperties: false,
  required: ["provider"],
  properties: {
    provider: ID,
    weight: { type: "number", minimum: 0, maximum: 1e6 },
    allowed_models: MODELS,
    key_names: { type: "array", items: NAME, maxItems: 100 },
  },
};

// Answers.

export const SOURCE: StringSchema = {
  type: "string",
  maxLength: 8,
  enum: ["api", "config"],
  description: '"config": defined by the configuration file, read-only here.',
};

const STRINGS: ArraySchema = { type: "array", items: { type: "string", maxLength: 256 }, maxItems: 1000 };

export const LIMITS_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    requests: COUNT,
    tokens: COUNT,
    parallel: COUNT,
    window: DURATION,
    alignment: { type: "string", maxLength: 8, enum: ["calendar", "rolling"] },
  },
};

export const BUDGET_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: ID,
    max_budget: DOLLARS,
    soft_budget: nullable(DOLLARS),
    budget_duration: nullable(DURATION),
    alignment: nullable({ type: "string", maxLength: 8, enum: ["calendar", "rolling"] }),
    anchor: ISO_TIME,
    window_start: nullable(ISO_TIME),
    spend: { ...DOLLARS, description: "Spent in the current window (live)." },
    reserved: { ...DOLLARS, description: "Held by requests under way (live)." },
  },
};

export const OWNED_BUDGET_VIEW: RecordSchema = {
  ...BUDGET_VIEW,
  properties: {
    ...BUDGET_VIEW.properties,
    owner_type: { type: "string", maxLength: 8, enum: ["key", "team", "customer"] },
    owner_id: ID,
  },
};

export const PROVIDER_CONFIG_VIEW: RecordSchema = {
  type: "object",
  additionalProperties: false,
  properties: { provider: ID, weight: nullable(DOLLARS), allowed_models: STRINGS, key_names: STRINGS },
};

export const MASKED_MAP: MapSchema = {
  type: "object",
  additionalProperties: { type: "string", maxLength: 16 },
  maxProperties: 64,
  propertyNames: { type: "string", maxLength: 256 },
};
