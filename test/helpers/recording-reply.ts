import type { Reply, ResponseHeaders } from "../../src/http/exchange.js";

// A Reply for unit tests of what writes to one (the pipeline's steps, relays, the attempt loop, the crash
// handler): it records the status, the headers, each chunk written, the body it ended with and whether it
// was destroyed, and reads back the body it is given.

export interface RecordingReply extends Reply {
  status: number;
  headers: ResponseHeaders;
  /** What `end` was given. */
  body: string;
  /** Each chunk `write` was given. */
  readonly written: string[];
  destroyed: boolean;
  /** Whether anything asked for the request body. */
  bodyRead: boolean;
}

export interface RecordingReplyOptions {
  readonly requestId?: string;
  readonly aborted?: boolean;
  readonly committed?: boolean;
  /** What `readBody` hands its callback: the body, or null and whether it was over the limit. */
  readonly received?: [Buffer | null, boolean];
  /** `write` throws, as a broken front would. */
  readonly failWrites?: boolean;
}

export function recordingReply(options: RecordingReplyOptions = {}): RecordingReply {
  const received = options.received ?? [Buffer.alloc(0), false];
  const reply: RecordingReply = {
    aborted: options.aborted ?? false,
    committed: options.committed ?? false,
    requestId: options.requestId ?? "req-test",
    corsOrigin: "",
    cacheStatus: "",
    shutdownNotice: undefined,
    status: 0,
    headers: [],
    body: "",
    written: [],
    destroyed: false,
    bodyRead: false,
    onAborted() {},
    readBody(_limit, callback) {
      reply.bodyRead = true;
      callback(...received);
    },
    start(status, headers) {
      reply.status = status;
      reply.headers = headers;
    },
    write(chunk) {
      if (options.failWrites === true) throw new TypeError("write exploded");
      reply.written.push(String(chunk));
      return true;
    },
    onWritable() {},
    end(body) {
      reply.body = String(body ?? "");
    },
    destroy() {
      reply.destroyed = true;
    },
  };
  return reply;
}
