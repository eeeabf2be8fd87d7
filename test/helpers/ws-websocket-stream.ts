/**
 * Test-only: a `WebSocketStream` (the WHATWG streams interface Chromium ships) built on the `ws`
 * package, so the WebSocketStream carrier of the relay transport can run against the real relay
 * in Node, which has no WebSocketStream of its own.
 *
 *   new WsWebSocketStream(url, { protocols, signal })
 *     'open'    ──▶ opened: { readable (one ArrayBuffer or string per message), writable, protocol }
 *     'close'   ──▶ closed: { closeCode, reason }; the readable ends
 *     'error' before open / abort ──▶ opened and closed reject
 *     writer.write(bytes) ──▶ ws.send, resolved when `ws` has written it
 */
import { WebSocket } from 'ws';
import type { WebSocketStreamCloseInfo, WebSocketStreamConnection, WebSocketStreamLike } from '../../src/engine/websocket-stream-socket.ts';

export class WsWebSocketStream implements WebSocketStreamLike {
  readonly opened: Promise<WebSocketStreamConnection>;
  readonly closed: Promise<WebSocketStreamCloseInfo>;
  readonly #ws: WebSocket;
  /** Every chunk written, for assertions. */
  readonly written: Uint8Array[] = [];

  constructor(url: string, options: { protocols?: string[]; signal?: AbortSignal } = {}) {
    const ws = new WebSocket(url, options.protocols ?? []);
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    let controller!: ReadableStreamDefaultController<ArrayBuffer | string>;
    const readable = new ReadableStream<ArrayBuffer | string>({ start: (c) => void (controller = c) });
    const writable = new WritableStream<Uint8Array | ArrayBuffer | string>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          if (chunk instanceof Uint8Array) this.written.push(chunk);
          ws.send(chunk, (err) => (err ? reject(err) : resolve()));
        }),
    });
    let opened = false;
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => {
        opened = true;
        resolve({ readable, writable, protocol: ws.protocol });
      });
      ws.once('error', (e) => {
        if (!opened) reject(e);
      });
      options.signal?.addEventListener('abort', () => {
        if (opened) return;
        reject(new DOMException('aborted', 'AbortError'));
        ws.terminate();
      });
    });
    this.closed = new Promise((resolve, reject) => {
      ws.once('close', (code, reason) => {
        try {
          controller.close();
        } catch {
          // already closed
        }
        if (!opened) reject(new Error('the WebSocket never opened'));
        else resolve({ closeCode: code, reason: reason.toString() });
      });
    });
    this.opened.catch(() => {});
    this.closed.catch(() => {});
    ws.on('message', (data, isBinary) => controller.enqueue(isBinary ? (data as ArrayBuffer) : data.toString()));
  }

  close(info: { closeCode?: number; reason?: string } = {}): void {
    this.#ws.close(info.closeCode, info.reason);
  }
}
