/**
 * A WebSocket test server for namespaces (the `ws` package, Node's most used implementation), run
 * by ns-server.ts as kind `websocket`, optionally behind TLS (wss:, `tls`) and with permessage-deflate
 * (`deflate`). Every connection on any path but /reject is accepted:
 *
 *   subprotocols   the first of "superchat", "chat", "echo" the client offers, in that (server) order
 *   text/binary    echoed back with the same type, except these text commands:
 *     "close CODE [REASON]"   the server starts the close handshake with that code
 *     "ping [DATA]"           the server pings; the client's pong is reported as an event
 *     "fragmented N"          N bytes (deterministic-bytes, seed 1) back as one message in 4 fragments
 *     "stream COUNT SIZE"     COUNT binary messages of SIZE bytes, then the text "done"
 *   /reject        403 to the upgrade
 *
 * Plain HTTP: GET /page is a small HTML page that sets the HttpOnly cookie `wsauth=ok` (the browse
 * view's tests open WebSockets from it and check the handshake's Origin and Cookie); GET /events is
 * a server-sent event stream (text/event-stream: "one", "two", "three" 100 ms apart, then open until
 * the client leaves, at most 60 s); anything else 426.
 *
 * Events (stdout, one JSON per line): ws-open {path, protocol, headers}, ws-pong {data},
 * ws-close {code, reason}, ws-message {binary, length}.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { WebSocketServer, type WebSocket } from 'ws';
import { deterministicBytes } from '../deterministic-bytes.ts';

const SERVER_PROTOCOLS = ['superchat', 'chat', 'echo'];

export interface WebSocketEchoConfig {
  readonly hosts: string[];
  readonly port: number;
  /** wss: serve TLS with this certificate chain and key (PEM files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** The `ws` package's perMessageDeflate option (RFC 7692); default off. */
  readonly deflate?: boolean | Record<string, unknown>;
}

function onConnection(ws: WebSocket, emit: (e: Record<string, unknown>) => void): void {
  ws.on('pong', (data) => emit({ event: 'ws-pong', data: data.toString() }));
  ws.on('close', (code, reason) => emit({ event: 'ws-close', code, reason: reason.toString() }));
  ws.on('error', (e) => emit({ event: 'ws-error', message: e.message }));
  ws.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    emit({ event: 'ws-message', binary: isBinary, length: buf.length });
    const text = isBinary ? '' : buf.toString();
    const [command, a, ...rest] = text.split(' ');
    if (!isBinary && command === 'close') ws.close(Number(a), rest.join(' '));
    else if (!isBinary && command === 'ping') ws.ping(a ?? '');
    else if (!isBinary && command === 'fragmented') {
      const bytes = deterministicBytes(Number(a), 1);
      const q = Math.ceil(bytes.length / 4);
      for (let i = 0; i < 4; i++) ws.send(bytes.subarray(i * q, Math.min(bytes.length, (i + 1) * q)), { binary: true, fin: i === 3 });
    } else if (!isBinary && command === 'stream') {
      const count = Number(a);
      const chunk = deterministicBytes(Number(rest[0]), 1);
      let sent = 0;
      const next = (): void => {
        // Respect the socket's buffer: write while it drains, like a real streaming server.
        while (sent < count && ws.bufferedAmount < 1 << 20) {
          ws.send(chunk, { binary: true });
          sent++;
        }
        if (sent < count) setTimeout(next, 1);
        else ws.send('done');
      };
      next();
    } else ws.send(buf, { binary: isBinary });
  });
}

/** Listens on every host; resolves with the HTTP servers once bound. */
export async function startWebSocketEcho(cfg: WebSocketEchoConfig, emit: (e: Record<string, unknown>) => void): Promise<Server[]> {
  const wss = new WebSocketServer({
    noServer: true,
    // Compress every message (threshold 0) so a test sees compressed frames for small ones too.
    perMessageDeflate: cfg.deflate ? { threshold: 0, ...(typeof cfg.deflate === 'object' ? cfg.deflate : {}) } : false,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => SERVER_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  return Promise.all(
    cfg.hosts.map(
      (host) =>
        new Promise<Server>((resolve, reject) => {
          const tls = cfg.tls ? { cert: readFileSync(cfg.tls.certFile), key: readFileSync(cfg.tls.keyFile) } : undefined;
          const handler: Parameters<typeof createServer>[1] = (req, res) => {
            if (req.url === '/page') {
              res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': 'wsauth=ok; Path=/; HttpOnly' });
              res.end('<!doctype html><html><head><title>WebSocket page</title></head><body><h1>WebSocket page</h1></body></html>\n');
              return;
            }
            if (req.url === '/events') {
              res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
              const timers = ['one', 'two', 'three'].map((word, i) => setTimeout(() => res.write(`data: ${word}\n\n`), 100 * i));
              const end = setTimeout(() => res.end(), 60_000);
              req.on('close', () => {
                for (const t of [...timers, end]) clearTimeout(t);
              });
              return;
            }
            res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
            res.end('this is a WebSocket server\n');
          };
          const server: Server = tls ? createTlsServer(tls, handler) : createServer(handler);
          server.on('upgrade', (req, socket, head) => {
            socket.on('error', () => socket.destroy());
            if (req.url === '/reject') {
              socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
              return;
            }
            wss.handleUpgrade(req, socket, head, (ws) => {
              emit({ event: 'ws-open', path: req.url, protocol: ws.protocol, headers: req.headers });
              onConnection(ws, emit);
            });
          });
          server.once('error', reject);
          server.listen({ host, port: cfg.port, ipv6Only: host.includes(':') }, () => resolve(server));
        }),
    ),
  );
}
