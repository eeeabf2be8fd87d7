/**
 * The messages one tunnel WebSocket exchanges over its own MessagePort, between the page's
 * {@link PortWebSocket} (src/browser/browse/port-websocket.ts) and the worker's bridge
 * (websocket-port-bridge.ts) around the Session's WebSocketConnection.
 *
 *   page                                     worker
 *   openWebSocket(url, options, port) ──────▶ session.webSocket(url)      (a TunnelApi call)
 *        ◀── open {protocol, extensions}   or  error {message, code} + close {1006}
 *   send {data: string | ArrayBuffer} ──────▶ connection.send   (ArrayBuffers are transferred)
 *        ◀── message {data}                    (ArrayBuffers are transferred)
 *        ◀── written {total}                   application bytes handed to TCP so far (bufferedAmount)
 *        ◀── closing                           the close handshake started (readyState CLOSING)
 *   close {code?, reason?} ─────────────────▶ connection.close (or, before open, the attempt is dropped)
 *        ◀── error {message}                   the connection failed (a close follows)
 *        ◀── close {code, reason, wasClean}    the last message; both sides then close the port
 *
 * Pure types and guards: imported by both sides without pulling in the other's code.
 */

/** What {@link TunnelApi.openWebSocket} takes besides the URL and the port. */
export interface OpenWebSocketOptions {
  /** Subprotocols, in order of preference. */
  protocols?: string[];
  /** Extra handshake headers as pairs (Origin, Cookie, Authorization...). */
  headers?: [string, string][];
}

/** Page → worker. */
export type PageToWorkerMessage =
  | { type: 'send'; data: string | ArrayBuffer }
  | { type: 'close'; code?: number; reason?: string };

/** Worker → page. */
export type WorkerToPageMessage =
  | { type: 'open'; protocol: string; extensions: string }
  | { type: 'message'; data: string | ArrayBuffer }
  | { type: 'written'; total: number }
  | { type: 'closing' }
  | { type: 'error'; message: string; code?: string }
  | { type: 'close'; code: number; reason: string; wasClean: boolean };

/** The close code a connection that never opened, or broke, reports (RFC 6455 §7.1.5). */
export const ABNORMAL_CLOSURE = 1006;

/** True for a well-formed page → worker message (the worker checks everything it receives). */
export function isPageToWorkerMessage(m: unknown): m is PageToWorkerMessage {
  if (typeof m !== 'object' || m === null) return false;
  const x = m as { type?: unknown; data?: unknown; code?: unknown; reason?: unknown };
  if (x.type === 'send') return typeof x.data === 'string' || x.data instanceof ArrayBuffer;
  if (x.type === 'close') return (x.code === undefined || typeof x.code === 'number') && (x.reason === undefined || typeof x.reason === 'string');
  return false;
}
