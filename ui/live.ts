import { type Answer, session } from "./api.js";

// The request log's live tail (/api/logs/live): the admin key as the first message, then batches of records
// with the fields of /api/logs. Reconnects after a drop while the page wants it open.

export type LogRecord = NonNullable<Answer<"GET /api/logs">["data"]>[number];
export type TailState = "connecting" | "live" | "closed";

const RETRY_MS = 3000;

export interface LiveTail {
  close(): void;
}

export function openLiveTail(
  onLogs: (logs: readonly LogRecord[]) => void,
  onState: (state: TailState, detail?: string) => void,
): LiveTail {
  let socket: WebSocket | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let wanted = true;

  const connect = () => {
    onState("connecting");
    const ws = new WebSocket(
      `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/logs/live`,
    );
    socket = ws;
    ws.addEventListener("open", () => ws.send(JSON.stringify({ type: "auth", key: session.key() ?? "" })));
    ws.addEventListener("message", (event) => {
      let message: { type?: unknown; logs?: unknown; message?: unknown };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.type === "ready") onState("live");
      else if (message.type === "logs" && Array.isArray(message.logs)) onLogs(message.logs as LogRecord[]);
      else if (message.type === "error") onState("closed", String(message.message ?? "refused"));
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      onState("closed", event.reason || undefined);
      if (wanted && event.code !== 4401 && event.code !== 1003) retry = setTimeout(connect, RETRY_MS);
    });
  };
  connect();
  return {
    close() {
      wanted = false;
      clearTimeout(retry);
      const ws = socket;
      socket = undefined;
      ws?.close();
    },
  };
}
