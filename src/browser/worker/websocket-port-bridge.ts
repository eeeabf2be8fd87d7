/**
 * The worker's end of one tunnel WebSocket: connects a Session WebSocket to a MessagePort speaking
 * websocket-port-protocol.ts.
 *
 *   bridgeWebSocket(open, port)
 *     open(signal) ──▶ 'open' | 'error' + 'close' 1006
 *     port 'send'  ──▶ ws.send (ArrayBuffer wrapped, no copy)     ws message ──▶ 'message' (buffer transferred)
 *     port 'close' ──▶ ws.close(code, reason) | abort the opening   ws drain   ──▶ 'written' total
 *     ws closing   ──▶ 'closing'          ws close ──▶ 'close', then the port is closed
 *
 * Written against the structural {@link WebSocketLike} so it runs in Node tests with a real
 * WebSocketConnection or a scripted one.
 */
import { ABNORMAL_CLOSURE, isPageToWorkerMessage, type WorkerToPageMessage } from './websocket-port-protocol.ts';

/** The part of WebSocketConnection (src/protocols/websocket/websocket-connection.ts) the bridge uses. */
export interface WebSocketLike {
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  send(data: string | Uint8Array): boolean;
  close(code?: number, reason?: string): void;
  abort(reason?: unknown): void;
  onmessage: ((data: string | Uint8Array) => void) | undefined;
  onerror: ((message: string) => void) | undefined;
  onclosing: ((code: number, reason: string) => void) | undefined;
  /** Resolves with the final close information; never rejects. */
  readonly closed: Promise<{ code: number; reason: string; wasClean: boolean }>;
  ondrain: (() => void) | undefined;
}

/** A MessagePort, or anything with its shape. */
export interface PortLike {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  onmessage: ((event: MessageEvent) => void) | null;
  close(): void;
}

/** An ArrayBuffer holding exactly `bytes` (the view's own buffer when it spans it, else a copy). */
function ownBuffer(bytes: Uint8Array): ArrayBuffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer) return bytes.buffer;
  return bytes.slice().buffer as ArrayBuffer;
}

/**
 * Opens the WebSocket with `open` and relays it over `port` until it closes. Never throws: a
 * failure to open is reported on the port. Resolves when the port is done.
 */
export async function bridgeWebSocket(
  open: (signal: AbortSignal) => Promise<WebSocketLike>,
  port: PortLike,
  describeError: (e: unknown) => { message: string; code?: string } = (e) => ({ message: e instanceof Error ? e.message : String(e) }),
): Promise<void> {
  const post = (m: WorkerToPageMessage, transfer: Transferable[] = []): void => {
    try {
      port.postMessage(m, transfer);
    } catch {
      // The page went away; the connection's close takes care of the rest.
    }
  };
  const opening = new AbortController();
  let ws: WebSocketLike | undefined;
  let accepted = 0;
  let done = false;
  const pending: ({ type: 'send'; data: string | ArrayBuffer } | { type: 'close'; code?: number; reason?: string })[] = [];

  const finish = (info: { code: number; reason: string; wasClean: boolean }): void => {
    if (done) return;
    done = true;
    post({ type: 'close', code: info.code, reason: info.reason, wasClean: info.wasClean });
    port.onmessage = null;
    port.close();
  };

  const apply = (m: (typeof pending)[number]): void => {
    if (!ws) return;
    if (m.type === 'send') {
      const data = typeof m.data === 'string' ? m.data : new Uint8Array(m.data);
      accepted += typeof data === 'string' ? new TextEncoder().encode(data).length : data.length;
      ws.send(data);
      return;
    }
    try {
      ws.close(m.code, m.reason);
    } catch (e) {
      // The page validated already (PortWebSocket.close throws first); anything else closes as 1000.
      void e;
      ws.close(1000);
    }
  };

  port.onmessage = (event: MessageEvent) => {
    const m = event.data;
    if (!isPageToWorkerMessage(m) || done) return;
    if (ws) apply(m);
    else if (m.type === 'close') opening.abort();
    else pending.push(m);
  };

  try {
    ws = await open(opening.signal);
  } catch (e) {
    if (opening.signal.aborted) post({ type: 'error', message: 'the WebSocket was closed before it opened' });
    else post({ type: 'error', ...describeError(e) });
    finish({ code: ABNORMAL_CLOSURE, reason: '', wasClean: false });
    return;
  }
  const conn = ws;
  if (opening.signal.aborted) {
    // The page gave up while the handshake was completing.
    conn.abort();
    post({ type: 'error', message: 'the WebSocket was closed before it opened' });
    finish({ code: ABNORMAL_CLOSURE, reason: '', wasClean: false });
    return;
  }
  conn.onmessage = (data) => {
    if (typeof data === 'string') post({ type: 'message', data });
    else {
      const buffer = ownBuffer(data);
      post({ type: 'message', data: buffer }, [buffer]);
    }
  };
  conn.onerror = (message) => post({ type: 'error', message });
  conn.onclosing = () => post({ type: 'closing' });
  conn.ondrain = () => post({ type: 'written', total: accepted - conn.bufferedAmount });
  post({ type: 'open', protocol: conn.protocol, extensions: conn.extensions });
  for (const m of pending.splice(0)) apply(m);
  finish(await conn.closed);
}
