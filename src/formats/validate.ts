import type { ChatRequest } from "./canonical.js";
import { InvalidRequest } from "./format.js";

// The canonical request's outline, checked once before any provider converter reads it: the type of every
// field a converter touches, so that a body of the wrong shape is the client's 400 naming the field rather
// than a TypeError deep in a converter. Values are not judged here (the provider does that); only shapes.
// An optional field sent as null means absent, as in OpenAI's API, and is dropped so converters see it so.

/** How deep a tool's JSON schema may nest (objects and arrays); converters walk schemas recursively. */
export const MAX_SCHEMA_DEPTH = 64;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function fail(path: string, expected: string): never {
  throw new InvalidRequest(`'${path}' must be ${expected}.`, path);
}

function optional(value: unknown, path: string, type: "string" | "number" | "boolean"): void {
  if (value != null && typeof value !== type) fail(path, `a ${type}`);
}

function optionalObject(value: unknown, path: string): void {
  if (value != null && !isObject(value)) fail(path, "an object");
}

const NUMBERS = [
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "top_k",
  "n",
  "seed",
  "presence_penalty",
  "frequency_penalty",
] as const;

/** Drops the null members of `object` other than those in `keep`. */
function dropNulls(object: Json, keep?: string): void {
  for (const key in object) if (object[key] === null && key !== keep) delete object[key];
}

/** Throws InvalidRequest naming the first field of the wrong type. */
export function checkChatRequest(request: ChatRequest): void {
  const body = request as unknown as Json;
  dropNulls(body);
  if (!Array.isArray(body.messages)) fail("messages", "an array");
  for (let i = 0; i < body.messages.length; i++) checkMessage(body.messages[i], `messages[${i}]`);
  for (const name of NUMBERS) optional(body[name], name, "number");
  optional(body.stream, "stream", "boolean");
  optionalObject(body.stream_options, "stream_options");
  optional(body.user, "user", "string");
  optional(body.reasoning_effort, "reasoning_effort", "string");
  optional(body.parallel_tool_calls, "parallel_tool_calls", "boolean");
  optionalObject(body.metadata, "metadata");
  if (body.thinking != null && (!isObject(body.thinking) || typeof body.thinking.type !== "string"))
    fail("thinking", "an object with a 'type'");
  const stop = body.stop;
  if (stop != null && typeof stop !== "string") {
    if (!Array.isArray(stop) || stop.some((item) => typeof item !== "string"))
      fail("stop", "a string or an array of strings");
  }
  if (body.tools != null) {
    if (!Array.isArray(body.tools)) fail("tools", "an array");
    for (let i = 0; i < body.tools.length; i++) checkTool(body.tools[i], `tools[${i}]`);
  }
  checkToolChoice(body.tool_choice);
  checkResponseFormat(body.response_format);
}

function checkMessage(message: unknown, path: string): void {
  if (!isObject(message) || typeof message.role !== "string") fail(path, "an object with a string 'role'");
  dropNulls(message, "content");
  optional(message.name, `${path}.name`, "string");
  const content = message.content;
  // Only an assistant turn may go without content (when it calls tools).
  if (content == null ? message.role !== "assistant" : typeof content !== "string" && !Array.isArray(content))
    fail(`${path}.content`, "a string or an array of content parts");
  if (Array.isArray(content))
    for (let i = 0; i < content.length; i++) checkPart(content[i], `${path}.content[${i}]`);
  if (message.role === "tool" && typeof message.tool_call_id !== "string")
    fail(`${path}.tool_call_id`, "a string");
  if (message.tool_calls != null) {
    if (!Array.isArray(message.tool_calls)) fail(`${path}.tool_calls`, "an array");
    message.tool_calls.forEach((call: unknown, i: number) => {
      const at = `${path}.tool_calls[${i}]`;
      if (!isObject(call)) fail(at, "an object");
      if (typeof call.id !== "string") fail(`${at}.id`, "a string");
      const fn = call.function;
      if (!isObject(fn)) fail(`${at}.function`, "an object");
      if (typeof fn.name !== "string") fail(`${at}.function.name`, "a string");
      if (typeof fn.arguments !== "string") fail(`${at}.function.arguments`, "a string");
    });
  }
  optional(message.reasoning_content, `${path}.reasoning_content`, "string");
  if (message.thinking_blocks != null) {
    if (!Array.isArray(message.thinking_blocks)) fail(`${path}.thinking_blocks`, "an array");
    message.thinking_blocks.forEach((block: unknown, i: number) => {
      if (!isObject(block) || typeof block.type !== "string")
        fail(`${path}.thinking_blocks[${i}]`, "an object with a string 'type'");
    });
  }
}

function checkPart(part: unknown, path: string): void {
  if (!isObject(part) || typeof part.type !== "string") fail(path, "an object with a string 'type'");
  if (part.type === "text" && typeof part.text !== "string") fail(`${path}.text`, "a string");
  if (part.type === "image_url") {
    const image = part.image_url;
    if (!isObject(image) || typeof image.url !== "string") fail(`${path}.image_url.url`, "a string");
  }
  if (part.type === "file") {
    if (!isObject(part.file)) fail(`${path}.file`, "an object");
    optional(part.file.file_data, `${path}.file.file_data`, "string");
    optional(part.file.file_id, `${path}.file.file_id`, "string");
    optional(part.file.filename, `${path}.file.filename`, "string");
  }
}

function checkTool(tool: unknown, path: string): void {
  if (!isObject(tool)) fail(path, "an object");
  optional(tool.type, `${path}.type`, "string");
  const fn = tool.function;
  if (!isObject(fn)) fail(`${path}.function`, "an object");
  if (typeof fn.name !== "string") fail(`${path}.function.name`, "a string");
  optional(fn.description, `${path}.function.description`, "string");
  optional(fn.strict, `${path}.function.strict`, "boolean");
  checkSchema(fn.parameters, `${path}.function.parameters`);
}

function checkToolChoice(choice: unknown): void {
  if (choice == null || typeof choice === "string") return;
  if (!isObject(choice)) fail("tool_choice", "a string or an object");
  optional(choice.type, "tool_choice.type", "string");
  if (choice.function != null) {
    if (!isObject(choice.function) || typeof choice.function.name !== "string")
      fail("tool_choice.function.name", "a string");
  }
}

function checkResponseFormat(format: unknown): void {
  if (format == null) return;
  if (!isObject(format) || typeof format.type !== "string")
    fail("response_format", "an object with a 'type'");
  if (format.json_schema == null) return;
  const spec = format.json_schema;
  if (!isObject(spec)) fail("response_format.json_schema", "an object");
  optional(spec.name, "response_format.json_schema.name", "string");
  optional(spec.description, "response_format.json_schema.description", "string");
  optional(spec.strict, "response_format.json_schema.strict", "boolean");
  checkSchema(spec.schema, "response_format.json_schema.schema");
}

/** A JSON schema is an object nested at most MAX_SCHEMA_DEPTH deep (walked without recursion). */
function checkSchema(schema: unknown, path: string): void {
  if (schema == null) return;
  if (!isObject(schema)) fail(path, "a JSON schema object");
  const stack: [unknown, number][] = [[schema, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value !== "object" || value === null) continue;
    if (depth > MAX_SCHEMA_DEPTH)
      throw new InvalidRequest(`'${path}' is nested deeper than ${MAX_SCHEMA_DEPTH} levels.`, path);
    for (const item of Array.isArray(value) ? value : Object.values(value)) stack.push([item, depth + 1]);
  }
}
