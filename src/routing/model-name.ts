import { type GatewayError, gatewayError } from "../errors.js";

// A model name from a client (body, URL path, fallbacks) is checked once, right after the scan, before
// any cache, metric label, response header or upstream URL sees it. The character set takes every real
// id: `provider/model`, `org/model:tag`, Bedrock ARNs, Vertex `model@version`, fine-tune ids `ft:...`.

/** Longer names are refused; real ids (a Bedrock inference-profile ARN is the longest) stay under 160. */
export const MAX_MODEL_NAME = 256;

const MODEL_NAME = /^[A-Za-z0-9._:/@+=~,-]+$/;
/** A `.` or `..` path segment: harmless in a label, but a way out of the provider's model path in a URL. */
const DOT_SEGMENT = /(^|\/)\.\.?(\/|$)/;

/** The 400 to answer when `name` is not a model name the gateway routes; undefined when it is. */
export function checkModelName(name: string, param = "model"): GatewayError | undefined {
  if (name.length <= MAX_MODEL_NAME && MODEL_NAME.test(name) && !DOT_SEGMENT.test(name)) return undefined;
  return gatewayError(
    "invalid_model",
    `'${param}' must be a model name of at most ${MAX_MODEL_NAME} characters: letters, digits and ` +
      "- _ . : / @ + = ~ , with no '.' or '..' path segment.",
    param,
  );
}

/** The same check for the body's `fallbacks`; the first problem found. */
export function checkFallbacks(names: readonly string[] | undefined): GatewayError | undefined {
  if (names === undefined) return undefined;
  for (const name of names) {
    const problem = checkModelName(name, "fallbacks");
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** A body with two top-level `model` members: the gateway would route on one and the provider read another. */
export const repeatedModel: GatewayError = gatewayError(
  "invalid_model",
  "The request body names 'model' more than once.",
  "model",
);
