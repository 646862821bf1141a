import type { CanonicalError, ChatChunk, FinishReason, ThinkingBlock, Usage } from "../canonical.js";
import type { StreamEncoder } from "../format.js";
import {
  type FunctionCallItem,
  type MessageItem,
  newId,
  type OutputItem,
  type OutputRefusal,
  type OutputText,
  type ReasoningItem,
  reasoningItem,
  responseObject,
  responsesUsage,
  statusOf,
} from "./response.js";

// Canonical chat chunks as the Responses API's stream: response.created and response.in_progress first;
// each output item opened with response.output_item.added, filled by its delta events and closed with its
// done events; response.completed (or response.incomplete) with the whole response and usage last. Every
// event carries the next `sequence_number`; the stream has no [DONE] sentinel.

const SSE_HEADERS = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache"],
] as const;

interface OpenMessage {
  readonly item: MessageItem;
  readonly index: number;
  part: OutputText | OutputRefusal | undefined;
}

interface OpenReasoning {
  readonly item: ReasoningItem;
  readonly index: number;
  text: string;
}

interface OpenCall {
  readonly item: FunctionCallItem;
  readonly index: number;
}

function sse(event: { type: string; sequence_number: number; [field: string]: unknown }): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

export class ResponsesStreamEncoder implements StreamEncoder {
  readonly headers = SSE_HEADERS;
  private seq = 0;
  private id = "";
  private createdAt = 0;
  private started = false;
  private ended = false;
  private readonly output: OutputItem[] = [];
  private reasoning: OpenReasoning | undefined;
  private message: OpenMessage | undefined;
  /** Function calls by the chunk's tool-call index; they stay open until the stream ends. */
  private readonly calls = new Map<number, OpenCall>();
  private finish: FinishReason | null = null;
  private usage: Usage | undefined;

  constructor(private readonly model: string) {}

  encode(chunk: ChatChunk): string {
    let out = this.started ? "" : this.start(chunk.created);
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices[0];
    if (choice === undefined) return out;
    const delta = choice.delta;
    if (typeof delta.reasoning_content === "string" && delta.reasoning_content !== "") {
      out += this.reasoningText(delta.reasoning_content);
    }
    if (delta.thinking_blocks !== undefined) {
      for (const block of delta.thinking_blocks) out += this.thinking(block);
    }
    if (typeof delta.content === "string" && delta.content !== "")
      out += this.text("output_text", delta.content);
    if (typeof delta.refusal === "string" && delta.refusal !== "") out += this.text("refusal", delta.refusal);
    if (delta.tool_calls !== undefined) {
      for (const call of delta.tool_calls) {
        out += this.toolCall(call.index, call.id, call.function?.name, call.function?.arguments);
      }
    }
    if (choice.finish_reason !== null) this.finish = choice.finish_reason;
    return out;
  }

  end(): string {
    if (this.ended) return "";
    let out = this.started ? "" : this.start(Math.floor(Date.now() / 1000));
    const { status, incomplete_details } = statusOf(this.finish);
    out += this.closeReasoning() + this.closeMessage(status) + this.closeCalls();
    this.ended = true;
    const usage = this.usage === undefined ? null : responsesUsage(this.usage);
    const response = responseObject(
      this.id,
      this.createdAt,
      this.model,
      status,
      this.output,
      usage,
      incomplete_details,
    );
    const type = status === "incomplete" ? "response.incomplete" : "response.completed";
    return out + sse({ type, response, sequence_number: this.seq++ });
  }

  error(error: CanonicalError): string {
    if (this.ended) return "";
    let out = this.started ? "" : this.start(Math.floor(Date.now() / 1000));
    this.ended = true;
    const code = error.code === null ? error.type : String(error.code);
    out += sse({
      type: "error",
      code,
      message: error.message,
      param: error.param,
      sequence_number: this.seq++,
    });
    const response = responseObject(this.id, this.createdAt, this.model, "failed", this.output, null, null, {
      code,
      message: error.message,
    });
    return out + sse({ type: "response.failed", response, sequence_number: this.seq++ });
  }

  private start(createdAt: number): string {
    this.started = true;
    this.id = newId("resp");
    this.createdAt = createdAt;
    const response = responseObject(this.id, createdAt, this.model, "in_progress", [], null);
    return (
      sse({ type: "response.created", response, sequence_number: this.seq++ }) +
      sse({ type: "response.in_progress", response, sequence_number: this.seq++ })
    );
  }

  private added(item: OutputItem, index: number): string {
    return sse({
      type: "response.output_item.added",
      output_index: index,
      item,
      sequence_number: this.seq++,
    });
  }

  private done(item: OutputItem, index: number): string {
    return sse({ type: "response.output_item.done", output_index: index, item, sequence_number: this.seq++ });
  }

  private openReasoning(): { open: OpenReasoning; out: string } {
    if (this.reasoning !== undefined) return { open: this.reasoning, out: "" };
    let out = this.closeMessage("completed");
    const item = reasoningItem("", "in_progress");
    item.content = [];
    const open: OpenReasoning = { item, index: this.output.length, text: "" };
    this.output.push(item);
    this.reasoning = open;
    out += this.added(item, open.index);
    out += sse({
      type: "response.content_part.added",
      item_id: item.id,
      output_index: open.index,
      content_index: 0,
      part: { type: "reasoning_text", text: "" },
      sequence_number: this.seq++,
    });
    return { open, out };
  }

  private reasoningText(delta: string): string {
    const { open, out } = this.openReasoning();
    open.text += delta;
    return (
      out +
      sse({
        type: "response.reasoning_text.delta",
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        delta,
        sequence_number: this.seq++,
      })
    );
  }

  private thinking(block: ThinkingBlock): string {
    if (block.type === "redacted_thinking") {
      let out = this.closeReasoning() + this.closeMessage("completed");
      const item = reasoningItem(block, "completed");
      const index = this.output.length;
      this.output.push(item);
      out += this.added({ ...item, status: "in_progress" }, index) + this.done(item, index);
      return out;
    }
    let out = block.thinking === "" ? "" : this.reasoningText(block.thinking);
    // A signature ends its thinking block; the next thinking text is another reasoning item.
    if (block.signature !== undefined) {
      const { open, out: opened } = this.openReasoning();
      open.item.encrypted_content = block.signature;
      out += opened + this.closeReasoning();
    }
    return out;
  }

  private closeReasoning(): string {
    const open = this.reasoning;
    if (open === undefined) return "";
    this.reasoning = undefined;
    const part = { type: "reasoning_text" as const, text: open.text };
    open.item.content = [part];
    open.item.status = "completed";
    return (
      sse({
        type: "response.reasoning_text.done",
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        text: open.text,
        sequence_number: this.seq++,
      }) +
      sse({
        type: "response.content_part.done",
        item_id: open.item.id,
        output_index: open.index,
        content_index: 0,
        part,
        sequence_number: this.seq++,
      }) +
      this.done(open.item, open.index)
    );
  }

  private text(type: "output_text" | "refusal", delta: string): string {
    let out = this.closeReasoning();
    let open = this.message;
    if (open === undefined) {
      const item: MessageItem = {
        type: "message",
        id: newId("msg"),
        status: "in_progress",
        role: "assistant",
        content: [],
      };
      open = { item, index: this.output.length, part: undefined };
      this.output.push(item);
      this.message = open;
      out += this.added(item, open.index);
    }
    let part = open.part;
    if (part === undefined || part.type !== type) {
      out += this.closePart(open);
      part =
        type === "output_text"
          ? { type: "output_text", text: "", annotations: [], logprobs: [] }
          : { type: "refusal", refusal: "" };
      out += sse({
        type: "response.content_part.added",
        item_id: open.item.id,
        output_index: open.index,
        content_index: open.item.content.length,
        part,
        sequence_number: this.seq++,
      });
      open.item.content.push(part);
      open.part = part;
    }
    const contentIndex = open.item.content.length - 1;
    if (part.type === "output_text") {
      part.text += delta;
      return (
        out +
        sse({
          type: "response.output_text.delta",
          item_id: open.item.id,
          output_index: open.index,
          content_index: contentIndex,
          delta,
          logprobs: [],
          sequence_number: this.seq++,
        })
      );
    }
    part.refusal += delta;
    return (
      out +
      sse({
        type: "response.refusal.delta",
        item_id: open.item.id,
        output_index: open.index,
        content_index: contentIndex,
        delta,
        sequence_number: this.seq++,
      })
    );
  }

  private closePart(open: OpenMessage): string {
    const part = open.part;
    if (part === undefined) return "";
    open.part = undefined;
    const contentIndex = open.item.content.length - 1;
    const done =
      part.type === "output_text"
        ? sse({
            type: "response.output_text.done",
            item_id: open.item.id,
            output_index: open.index,
            content_index: contentIndex,
            text: part.text,
            logprobs: [],
            sequence_number: this.seq++,
          })
        : sse({
            type: "response.refusal.done",
            item_id: open.item.id,
            output_index: open.index,
            content_index: contentIndex,
            refusal: part.refusal,
            sequence_number: this.seq++,
          });
    return (
      done +
      sse({
        type: "response.content_part.done",
        item_id: open.item.id,
        output_index: open.index,
        content_index: contentIndex,
        part,
        sequence_number: this.seq++,
      })
    );
  }

  private closeMessage(status: MessageItem["status"]): string {
    const open = this.message;
    if (open === undefined) return "";
    this.message = undefined;
    const out = this.closePart(open);
    open.item.status = status;
    return out + this.done(open.item, open.index);
  }

  private toolCall(
    index: number,
    callId: string | undefined,
    name: string | undefined,
    args: string | undefined,
  ): string {
    let out = "";
    let open = this.calls.get(index);
    if (open === undefined) {
      out += this.closeReasoning() + this.closeMessage("completed");
      const item: FunctionCallItem = {
        type: "function_call",
        id: newId("fc"),
        call_id: callId ?? newId("call"),
        name: name ?? "",
        arguments: "",
        status: "in_progress",
      };
      open = { item, index: this.output.length };
      this.output.push(item);
      this.calls.set(index, open);
      out += this.added(item, open.index);
    }
    if (args !== undefined && args !== "") {
      open.item.arguments += args;
      out += sse({
        type: "response.function_call_arguments.delta",
        item_id: open.item.id,
        output_index: open.index,
        delta: args,
        sequence_number: this.seq++,
      });
    }
    return out;
  }

  private closeCalls(): string {
    let out = "";
    for (const open of this.calls.values()) {
      open.item.status = "completed";
      out +=
        sse({
          type: "response.function_call_arguments.done",
          item_id: open.item.id,
          output_index: open.index,
          name: open.item.name,
          arguments: open.item.arguments,
          sequence_number: this.seq++,
        }) + this.done(open.item, open.index);
    }
    this.calls.clear();
    return out;
  }
}
