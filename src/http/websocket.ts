// The contract between an HTTP front (uWS or node:http) and the one WebSocket endpoint it may serve. The
// front enforces the bounds below, so an endpoint sees only text messages it can afford to read.

/** One open WebSocket as an endpoint sees it. Methods are no-ops once the socket has closed. */
export interface WebSocketPeer {
  /** Sends one text frame; false when it was not sent: the peer is over its buffer bound, or closed. */
  send(text: string): boolean;
  /** Sends a close frame with `code` and a short `reason` (at most 123 bytes) and closes the socket. */
  close(code: number, reason: string): void;
  /** Bytes sent and not yet taken by the client. */
  readonly bufferedBytes: number;
}

/** What serves WebSocket upgrades (GET only) on exactly `path`; other paths stay plain HTTP. */
export interface WebSocketEndpoint {
  readonly path: string;
  /** `authorization` is the upgrade request's Authorization header, "" when none. */
  open(peer: WebSocketPeer, authorization: string): void;
  /** A whole text message within the front's size bound. */
  message(peer: WebSocketPeer, text: string): void;
  /** The socket has closed, for whatever reason; called once, after which the peer is inert. */
  close(peer: WebSocketPeer): void;
}

export interface WebSocketLimits {
  /** A bigger incoming message closes its socket with 1009. */
  readonly maxMessageBytes: number;
  /** A send that would leave more than this buffered for a peer is refused (send returns false). */
  readonly maxBufferedBytes: number;
  /** A socket that neither sends nor answers pings for this long is closed; pings go out before it. */
  readonly idleTimeoutSeconds: number;
  /** Open sockets per front; an upgrade past it is refused with 503. */
  readonly maxSockets: number;
}

export const WEBSOCKET_LIMITS: WebSocketLimits = {
  maxMessageBytes: 4 * 1024,
  maxBufferedBytes: 1024 * 1024,
  idleTimeoutSeconds: 60,
  maxSockets: 256,
};

/** Close codes a front sends itself (RFC 6455 §7.4.1). */
export const CLOSE_UNSUPPORTED_DATA = 1003;
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const CLOSE_GOING_AWAY = 1001;
