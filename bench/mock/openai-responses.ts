/**
 * The mock OpenAI provider's Responses API (POST /v1/responses), in OpenAI's wire format: a `response`
 * object, or with `stream: true` the event stream (response.created ... response.completed, each event
 * with its sequence_number, no [DONE]). A request with function tools gets a function_call item whose
 * arguments satisfy the first tool's required parameters; otherwise a message with output_text.
 * Error injection (mock-error-<status>, mock-hang, mock-reset) is handled by openai-mock.ts before this.
 */

export interface ResponsesReply {
  status: number;
  contentType: string;
  body: string;
}

let counter = 0;
function id(prefix: string): string {
  counter = (counter + 1) % 0x7fffffff;
  return `${prefix}_mock${Date.now().toString(36)}${counter.toString(36)}`;
}

function error(message: string, param: string | null, code: string | null): ResponsesReply {
  return {
    status: 400,
    contentType: "application/json",
    body: JSON.stringify({ error: { message, type: "invalid_request_error", param, code } }),
  };
}

function argumentsFor(tool: Record<string, unknown>): string {
  const params = tool.parameters as
    | { properties?: Record<string, { type?: string; enum?: unknown[] }>; required?: string[] }
    | undefined;
  const props = params?.properties ?? {};
  const args: Record<string, unknown> = {};
  for (const key of params?.required ?? Object.keys(props)) {
    const prop = props[key];
    if (Array.isArray(prop?.enum) && prop.enum.length > 0) args[key] = prop.enum[0];
    else if (prop?.type === "number" || prop?.type === "integer") args[key] = 1;
    else if (prop?.type === "boolean") args[key] = true;
    else args[key] = "mock";
  }
  return JSON.stringify(args);
}

export function responsesReply(
  parsed: Record<string, unknown>,
  model: string,
  inputTokens: number,
  words: readonly string[],
): ResponsesReply {
  if (parsed.input === undefined) {
    return error("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  }
  if (typeof parsed.previous_response_id === "string") {
    return {
      status: 404,
      contentType: "application/json",
      body: JSON.stringify({
        error: {
          message: `Previous response with id '${parsed.previous_response_id}' not found.`,
          type: "invalid_request_error",
          param: "previous_response_id",
          code: "previous_response_not_found",
        },
      }),
    };
  }
  const tools = Array.isArray(parsed.tools) ? (parsed.tools as Record<string, unknown>[]) : [];
  const tool = tools.find((t) => t?.type === "function" && typeof t.name === "string");
  const responseId = id("resp");
  const created = Math.floor(Date.now() / 1000);
  const itemId = id(tool ? "fc" : "msg");
  const text = words.join("");
  const args = tool ? argumentsFor(tool) : "";
  const outputTokens = tool ? Math.max(1, Math.ceil(args.length / 4)) + 8 : words.length;
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens + outputTokens,
  };
  const doneItem: Record<string, unknown> = tool
    ? {
        id: itemId,
        type: "function_call",
        status: "completed",
        arguments: args,
        call_id: id("call"),
        name: tool.name,
      }
    : {
        id: itemId,
        type: "message",
        status: "completed",
        content: [{ type: "output_text", annotations: [], logprobs: [], text }],
        role: "assistant",
      };
  const response = (status: string, output: unknown[], withUsage: boolean) => ({
    id: responseId,
    object: "response",
    created_at: created,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: typeof parsed.instructions === "string" ? parsed.instructions : null,
    max_output_tokens: typeof parsed.max_output_tokens === "number" ? parsed.max_output_tokens : null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: parsed.store !== false,
    temperature: typeof parsed.temperature === "number" ? parsed.temperature : 1,
    text: { format: { type: "text" } },
    tool_choice: parsed.tool_choice ?? "auto",
    tools,
    top_p: typeof parsed.top_p === "number" ? parsed.top_p : 1,
    truncation: "disabled",
    usage: withUsage ? usage : null,
    user: null,
    metadata: {},
  });

  if (parsed.stream !== true) {
    return {
      status: 200,
      contentType: "application/json",
      body: JSON.stringify(response("completed", [doneItem], true)),
    };
  }

  let seq = 0;
  let body = "";
  const emit = (type: string, fields: Record<string, unknown>): void => {
    body += `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: seq++ })}\n\n`;
  };
  emit("response.created", { response: response("in_progress", [], false) });
  emit("response.in_progress", { response: response("in_progress", [], false) });
  const added = { ...doneItem, status: "in_progress", ...(tool ? { arguments: "" } : { content: [] }) };
  emit("response.output_item.added", { output_index: 0, item: added });
  if (tool) {
    const half = Math.ceil(args.length / 2);
    for (const delta of [args.slice(0, half), args.slice(half)]) {
      if (delta !== "")
        emit("response.function_call_arguments.delta", { item_id: itemId, output_index: 0, delta });
    }
    emit("response.function_call_arguments.done", {
      item_id: itemId,
      output_index: 0,
      name: tool.name,
      arguments: args,
    });
  } else {
    const at = { item_id: itemId, output_index: 0, content_index: 0 };
    emit("response.content_part.added", {
      ...at,
      part: { type: "output_text", annotations: [], logprobs: [], text: "" },
    });
    for (const delta of words) emit("response.output_text.delta", { ...at, delta, logprobs: [] });
    emit("response.output_text.done", { ...at, text, logprobs: [] });
    emit("response.content_part.done", {
      ...at,
      part: { type: "output_text", annotations: [], logprobs: [], text },
    });
  }
  emit("response.output_item.done", { output_index: 0, item: doneItem });
  emit("response.completed", { response: response("completed", [doneItem], true) });
  return { status: 200, contentType: "text/event-stream; charset=utf-8", body };
}
