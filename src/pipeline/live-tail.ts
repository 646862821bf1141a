import type { MasterKey } from "../hooks/builtin/master-key.js";
import type { WebSocketEndpoint, WebSocketPeer } from "../http/websocket.js";

// The lane's live tail of the request log: the web UI opens a WebSocket here and is sent each batch of
// request summaries as the lane finishes them. Only the gateway's admin key opens it, as it opens the
// management API. A browser cannot set headers on a WebSocket, so the key may come as the first message
// instead; never in the URL, where proxies and access logs would keep it.

export const LIVE_TAIL_PATH = "/api/logs/live";

/** Close code for a peer that did not present the admin key (4000–4999 are the application's). */
export const CLOSE_UNAUTHORIZED = 4401;
const CLOSE_UNSUPPORTED_DATA = 1003;
const CLOSE_TRY_AGAIN_LATER = 1013;

const READY = JSON.stringify({ type: "ready" });
const PONG = JSON.stringify({ type: "pong" });
const NO_ADMIN_KEY =
  "The live tail needs an admin key: set SWITCHYARD_API_KEY (or general_settings.master_key).";
/** Far longer than any real key; a longer one is no key, and is never hashed. */
const MAX_KEY_LENGTH = 1024;

export interface LiveTailOptions {
  /** The admin key now (a configuration reload may change it); undefined when none is set: no one is let in. */
  readonly adminKey: () => MasterKey | undefined;
  /** Told the number of authenticated peers each time it changes. */
  readonly onListenersChanged?: (count: number) => void;
  /** How long a peer has to present the key; 5 s. */
  readonly authTimeoutMs?: number;
  /** Authenticated peers at most; 64. */
  readonly maxListeners?: number;
}

export class LiveTail implements WebSocketEndpoint {
  readonly path = LIVE_TAIL_PATH;
  /** Peers that have not presented the key yet, with the timer that ends their wait. */
  private readonly waiting = new Map<WebSocketPeer, NodeJS.Timeout>();
  private readonly authenticated = new Set<WebSocketPeer>();
  private readonly authTimeoutMs: number;
  private readonly maxListeners: number;

  constructor(private readonly options: LiveTailOptions) {
    this.authTimeoutMs = options.authTimeoutMs ?? 5_000;
    this.maxListeners = options.maxListeners ?? 64;
  }

  get listeners(): number {
    return this.authenticated.size;
  }

  open(peer: WebSocketPeer, authorization: string): void {
    if (this.options.adminKey() === undefined) {
      this.refuse(peer, NO_ADMIN_KEY);
      return;
    }
    if (authorization !== "") {
      this.authenticate(peer, bearerToken(authorization));
      return;
    }
    const timer = setTimeout(() => {
      this.refuse(peer, 'No admin key came in time: send {"type":"auth","key":"<key>"} first.');
    }, this.authTimeoutMs);
    timer.unref();
    this.waiting.set(peer, timer);
  }

  message(peer: WebSocketPeer, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.forget(peer);
      peer.close(CLOSE_UNSUPPORTED_DATA, "malformed JSON");
      return;
    }
    const type =
      typeof message === "object" && message !== null ? (message as { type?: unknown }).type : undefined;
    if (this.waiting.has(peer)) {
      const key = (message as { key?: unknown } | null)?.key;
      if (type === "auth" && typeof key === "string") this.authenticate(peer, key);
      else this.refuse(peer, 'Authenticate first: send {"type":"auth","key":"<key>"}.');
    } else if (type === "ping" && this.authenticated.has(peer)) {
      peer.send(PONG);
    }
  }

  close(peer: WebSocketPeer): void {
    this.forget(peer);
  }

  /**
   * Sends `json` (one whole message) to every authenticated peer. A peer too slow to take it is closed
   * rather than buffered for without bound; the UI reconnects.
   */
  publish(json: string): void {
    for (const peer of this.authenticated) {
      if (!peer.send(json)) {
        this.forget(peer);
        peer.close(CLOSE_TRY_AGAIN_LATER, "too slow");
      }
    }
  }

  private authenticate(peer: WebSocketPeer, key: string): void {
    const admin = this.options.adminKey();
    if (admin === undefined) {
      this.refuse(peer, NO_ADMIN_KEY);
      return;
    }
    if (key.length > MAX_KEY_LENGTH || !admin.accepts(key)) {
      this.refuse(peer, "The live tail requires the gateway's admin key.");
      return;
    }
    this.stopWaiting(peer);
    if (this.authenticated.size >= this.maxListeners) {
      sendError(peer, "Too many live tails are open on this lane; try again later.");
      peer.close(CLOSE_TRY_AGAIN_LATER, "too many listeners");
      return;
    }
    this.authenticated.add(peer);
    peer.send(READY);
    this.options.onListenersChanged?.(this.authenticated.size);
  }

  private refuse(peer: WebSocketPeer, message: string): void {
    this.forget(peer);
    sendError(peer, message);
    peer.close(CLOSE_UNAUTHORIZED, "unauthorized");
  }

  /** Drops every trace of `peer`: a peer being closed is sent nothing more. */
  private forget(peer: WebSocketPeer): void {
    this.stopWaiting(peer);
    if (this.authenticated.delete(peer)) this.options.onListenersChanged?.(this.authenticated.size);
  }

  private stopWaiting(peer: WebSocketPeer): void {
    const timer = this.waiting.get(peer);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.waiting.delete(peer);
  }
}

function sendError(peer: WebSocketPeer, message: string): void {
  peer.send(JSON.stringify({ type: "error", message }));
}

/** The key in `Authorization: Bearer <key>`; "" for any other scheme, which is then refused. */
function bearerToken(authorization: string): string {
  const value = authorization.trim();
  return value.length > 7 && value.slice(0, 7).toLowerCase() === "bearer " ? value.slice(7).trim() : "";
}
