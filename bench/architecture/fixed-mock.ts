// A tiny fixed-reply OpenAI-style upstream for the architecture experiment (the shared mock in
// bench/mock/ had not landed when this was measured). Reads the request body, waits `latency` ms,
// answers 200 with a chat.completion JSON of about `response-bytes` bytes.
// Usage: node dist/bench/architecture/fixed-mock.js --port 9100 --latency 0 --response-bytes 1400
import { flag } from "./common.js";
import { readBody, uws } from "./uws.js";

function completion(bytes: number): Buffer {
  const base = {
    id: "chatcmpl-bench",
    object: "chat.completion",
    created: 1_700_000_000,
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
  };
  const pad = Math.max(0, bytes - JSON.stringify(base).length);
  (base.choices[0] as { message: { content: string } }).message.content = "x".repeat(pad);
  return Buffer.from(JSON.stringify(base));
}

const port = Number(flag("port", "9100"));
const latency = Number(flag("latency", "0"));
const reply = completion(Number(flag("response-bytes", "1400")));
let served = 0;

const app = uws.App();
app.post("/*", (res) => {
  let aborted = false;
  res.onAborted(() => {
    aborted = true;
  });
  readBody(res, () => {
    const send = (): void => {
      served++;
      if (aborted) return;
      res.cork(() => {
        res.writeStatus("200 OK").writeHeader("content-type", "application/json").end(reply);
      });
    };
    if (latency > 0) setTimeout(send, latency);
    else send();
  });
});
app.listen("127.0.0.1", port, (s) => {
  if (s === false) {
    console.error(`mock could not listen on ${port}`);
    process.exit(1);
  }
  console.log(JSON.stringify({ type: "ready", shape: "mock", port, latency, responseBytes: reply.length }));
});
process.on("SIGTERM", () => {
  console.log(JSON.stringify({ type: "stats", served }));
  process.exit(0);
});
