// Loads the native uWebSockets.js binary directly. The package's main entry silently falls back to a
// slow emulation when it cannot load the binary; a benchmark must never measure that.
import { createRequire } from "node:module";
import type * as UWS from "@trufflesuite/uws-js-unofficial";

const require = createRequire(import.meta.url);

export const uws: typeof UWS = require(
  `@trufflesuite/uws-js-unofficial/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`,
);

export type {
  HttpRequest,
  HttpResponse,
  TemplatedApp,
  us_listen_socket,
} from "@trufflesuite/uws-js-unofficial";

/** Reads a whole request body. uWS hands out chunks that are detached after the callback, so copy them. */
export function readBody(res: UWS.HttpResponse, done: (body: Buffer) => void): void {
  let chunks: Buffer[] | undefined;
  res.onData((chunk, isLast) => {
    const copy = Buffer.from(new Uint8Array(chunk).slice());
    if (isLast) {
      if (chunks === undefined) done(copy);
      else {
        chunks.push(copy);
        done(Buffer.concat(chunks));
      }
    } else {
      if (chunks === undefined) chunks = [];
      chunks.push(copy);
    }
  });
}
