/**
 * Test servers that run inside a network namespace (started by ../ns-servers.ts through
 * `ip netns exec ... node --import tsx ns-server.ts <kind> <json>`), bound to tunnel addresses so
 * that everything they serve has crossed a real WireGuard tunnel.
 *
 *   http  GET  /                    index page (text/html)
 *         GET  /hello.txt           "hello from the wgweb test server\n"
 *         GET  /json                who asked: method, url, remote/local address and port, headers
 *         GET  /bytes/N?seed=S      N deterministic bytes (deterministic-bytes.ts), Content-Length,
 *                                   x-sha256 (hex; omitted with sha=0 so a benchmark need not hash)
 *         GET  /chunked/N?seed=S    the same bytes, Transfer-Encoding: chunked
 *         GET  /close-mid-body/N    promises N bytes, sends N/2, then resets the connection
 *         GET  /status/NNN          that status code with a short text body
 *         GET  /redirect?to=PATH    302 to PATH (default /hello.txt)
 *         POST /upload              {"length":L,"sha256":"..."} of the request body
 *         POST /echo                the request body back, same Content-Type
 *   echo  TCP: every byte back; half-close is passed on (end after end)
 *   websocket  WebSocket echo and commands (servers/websocket-echo.ts)
 *   dns   UDP and TCP (RFC 1035 §4.2.2 length prefix): A/AAAA from the configured records with
 *         AA set, NOERROR with no answers for a known name and another type, NXDOMAIN otherwise,
 *         FORMERR for what cannot be parsed.
 *
 * Protocol with the parent: one JSON object per stdout line. First {"event":"ready",...} once every
 * listener is bound (or {"event":"error",...} and exit 1); then one event per request/query.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { deterministicChunks, deterministicSha256 } from '../deterministic-bytes.ts';
import { startWebSocketEcho } from './websocket-echo.ts';

interface CommonConfig {
  readonly hosts: string[];
  readonly port: number;
}
interface DnsConfig extends CommonConfig {
  readonly ttl: number;
  readonly records: Record<string, { A?: string[]; AAAA?: string[] }>;
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(event) + '\n');
}

function fail(message: string): never {
  emit({ event: 'error', message });
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// HTTP

const MAX_BYTES = 2 ** 40;
const shaCache = new Map<string, string>();

function sendText(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function parseCount(text: string | undefined): number | undefined {
  if (!text || !/^[0-9]{1,13}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_BYTES ? n : undefined;
}

async function readBody(req: IncomingMessage, onChunk: (b: Buffer) => void): Promise<void> {
  for await (const chunk of req) onChunk(chunk as Buffer);
}

async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://test');
  const parts = url.pathname.split('/').filter(Boolean);
  const seed = Number(url.searchParams.get('seed') ?? '1') | 0;
  emit({
    event: 'request',
    method: req.method,
    path: url.pathname + url.search,
    remoteAddress: req.socket.remoteAddress,
    remotePort: req.socket.remotePort,
  });
  if (req.method === 'POST' && url.pathname === '/upload') {
    const h = createHash('sha256');
    let length = 0;
    await readBody(req, (b) => {
      length += b.length;
      h.update(b);
    });
    sendText(res, 200, JSON.stringify({ length, sha256: h.digest('hex') }), 'application/json');
    return;
  }
  if (req.method === 'POST' && url.pathname === '/echo') {
    const chunks: Buffer[] = [];
    await readBody(req, (b) => chunks.push(b));
    const body = Buffer.concat(chunks);
    res.writeHead(200, { 'content-type': req.headers['content-type'] ?? 'application/octet-stream', 'content-length': body.length });
    res.end(body);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendText(res, 405, `method ${req.method} not allowed here\n`);
    return;
  }
  if (url.pathname === '/') {
    sendText(
      res,
      200,
      '<!doctype html><html><head><title>wgweb test server</title></head><body><h1>wgweb test server</h1>' +
        '<ul><li><a href="/hello.txt">hello.txt</a></li><li><a href="/json">json</a></li>' +
        '<li><a href="/bytes/1024">bytes/1024</a></li></ul></body></html>\n',
      'text/html; charset=utf-8',
    );
    return;
  }
  if (url.pathname === '/hello.txt') {
    sendText(res, 200, 'hello from the wgweb test server\n');
    return;
  }
  if (url.pathname === '/json') {
    const body = JSON.stringify({
      method: req.method,
      url: req.url,
      remoteAddress: req.socket.remoteAddress,
      remotePort: req.socket.remotePort,
      localAddress: req.socket.localAddress,
      localPort: req.socket.localPort,
      headers: req.headers,
    });
    sendText(res, 200, body, 'application/json');
    return;
  }
  if (parts[0] === 'status' && parts.length === 2 && /^[1-5][0-9][0-9]$/.test(parts[1])) {
    const status = Number(parts[1]);
    if (status < 200 || status === 204 || status === 304) {
      res.writeHead(status);
      res.end();
    } else {
      sendText(res, status, `status ${status}\n`);
    }
    return;
  }
  if (url.pathname === '/redirect') {
    const to = url.searchParams.get('to') ?? '/hello.txt';
    res.writeHead(302, { location: to, 'content-length': 0 });
    res.end();
    return;
  }
  const n = parseCount(parts[1]);
  if (parts.length === 2 && n !== undefined && (parts[0] === 'bytes' || parts[0] === 'chunked')) {
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
    if (url.searchParams.get('sha') !== '0') {
      const key = `${n}:${seed}`;
      let sha = shaCache.get(key);
      if (!sha) {
        sha = deterministicSha256(n, seed);
        shaCache.set(key, sha);
      }
      headers['x-sha256'] = sha;
    }
    if (parts[0] === 'bytes') headers['content-length'] = n;
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    await pipeline(Readable.from(deterministicChunks(n, seed), { objectMode: false }), res);
    return;
  }
  if (parts[0] === 'close-mid-body' && parts.length === 2 && n !== undefined) {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': n });
    const half = Math.floor(n / 2);
    let sent = 0;
    for (const c of deterministicChunks(half, seed)) {
      sent += c.length;
      if (!res.write(c)) await new Promise((r) => res.once('drain', r));
    }
    // Let what was written reach the wire, then reset instead of finishing the body.
    await new Promise<void>((r) => {
      if (res.socket?.writableLength === 0) r();
      else res.socket?.once('drain', () => r());
    });
    emit({ event: 'closed-mid-body', sent });
    res.socket?.resetAndDestroy();
    return;
  }
  sendText(res, 404, `no route for ${url.pathname}\n`);
}

async function startHttp(cfg: CommonConfig): Promise<Server[]> {
  return Promise.all(
    cfg.hosts.map(
      (host) =>
        new Promise<Server>((resolve, reject) => {
          const server = createHttpServer((req, res) => {
            handleHttp(req, res).catch((e: Error) => {
              emit({ event: 'handler-error', message: e.message });
              if (!res.headersSent) sendText(res, 500, `${e.message}\n`);
              else res.destroy();
            });
          });
          server.keepAliveTimeout = 30_000;
          server.once('error', reject);
          server.listen({ host, port: cfg.port, ipv6Only: true }, () => resolve(server));
        }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// TCP echo

async function startEcho(cfg: CommonConfig): Promise<Server[]> {
  return Promise.all(
    cfg.hosts.map(
      (host) =>
        new Promise<Server>((resolve, reject) => {
          const server = createTcpServer({ allowHalfOpen: true }, (socket: Socket) => {
            emit({ event: 'connection', remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
            socket.on('error', () => socket.destroy());
            socket.pipe(socket);
          });
          server.once('error', reject);
          server.listen({ host, port: cfg.port, ipv6Only: true }, () => resolve(server));
        }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// DNS (RFC 1035)

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const TYPE_NAMES: Record<number, string> = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 15: 'MX', 16: 'TXT', 255: 'ANY' };

function ipBytes(text: string): Buffer {
  if (!text.includes(':')) return Buffer.from(text.split('.').map(Number));
  // Expand :: for IPv6.
  const [head, rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

interface Question {
  readonly name: string;
  readonly type: number;
  readonly klass: number;
  /** Offset just past the question. */
  readonly end: number;
}

function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  if (msg.readUInt16BE(4) !== 1) return undefined; // QDCOUNT must be 1
  let off = 12;
  const labels: string[] = [];
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len > 63 || off + 1 + len > msg.length) return undefined; // no compression in questions
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
    if (off > 12 + 255) return undefined;
  }
  if (off + 4 > msg.length) return undefined;
  return { name: labels.join('.').toLowerCase(), type: msg.readUInt16BE(off), klass: msg.readUInt16BE(off + 2), end: off + 4 };
}

function answerDns(cfg: DnsConfig, msg: Buffer, transport: 'udp' | 'tcp'): Buffer | undefined {
  if (msg.length < 12) return undefined; // cannot even echo an id
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return undefined; // a response, not a query
  const opcode = (flags >> 11) & 0xf;
  const rd = flags & 0x0100;
  const q = opcode === 0 ? parseQuestion(msg) : undefined;
  const header = (rcode: number, qd: number, an: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeUInt16BE(id, 0);
    b.writeUInt16BE(0x8000 | (opcode << 11) | 0x0400 | rd | rcode, 2); // QR, AA
    b.writeUInt16BE(qd, 4);
    b.writeUInt16BE(an, 6);
    return b;
  };
  if (!q) {
    emit({ event: 'dns', transport, rcode: 'FORMERR' });
    return header(RCODE_FORMERR, 0, 0);
  }
  const question = msg.subarray(12, q.end);
  const name = q.name.replace(/\.$/, '');
  const rec = Object.prototype.hasOwnProperty.call(cfg.records, name) ? cfg.records[name] : undefined;
  const typeName = TYPE_NAMES[q.type] ?? String(q.type);
  if (!rec || q.klass !== CLASS_IN) {
    emit({ event: 'dns', transport, name, type: typeName, rcode: 'NXDOMAIN' });
    return Buffer.concat([header(RCODE_NXDOMAIN, 1, 0), question]);
  }
  const values = q.type === TYPE_A ? (rec.A ?? []) : q.type === TYPE_AAAA ? (rec.AAAA ?? []) : [];
  const answers = values.map((v) => {
    const data = ipBytes(v);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the name in the question (RFC 1035 §4.1.4)
    rr.writeUInt16BE(q.type, 2);
    rr.writeUInt16BE(CLASS_IN, 4);
    rr.writeUInt32BE(cfg.ttl, 6);
    rr.writeUInt16BE(data.length, 10);
    return Buffer.concat([rr, data]);
  });
  emit({ event: 'dns', transport, name, type: typeName, rcode: 'NOERROR', answers: values });
  return Buffer.concat([header(0, 1, answers.length), question, ...answers]);
}

async function startDns(cfg: DnsConfig): Promise<(Server | UdpSocket)[]> {
  const out: Promise<Server | UdpSocket>[] = [];
  for (const host of cfg.hosts) {
    out.push(
      new Promise((resolve, reject) => {
        const v6 = host.includes(':');
        const sock = createSocket(v6 ? { type: 'udp6', ipv6Only: true } : { type: 'udp4' });
        sock.once('error', reject);
        sock.on('message', (msg, rinfo) => {
          const reply = answerDns(cfg, msg, 'udp');
          if (reply) sock.send(reply, rinfo.port, rinfo.address);
        });
        sock.bind(cfg.port, host, () => {
          sock.removeListener('error', reject);
          sock.on('error', (e) => emit({ event: 'udp-error', message: e.message }));
          resolve(sock);
        });
      }),
    );
    out.push(
      new Promise((resolve, reject) => {
        const server = createTcpServer((socket) => {
          let buf = Buffer.alloc(0);
          socket.on('error', () => socket.destroy());
          socket.on('data', (d: Buffer) => {
            buf = Buffer.concat([buf, d]);
            while (buf.length >= 2) {
              const len = buf.readUInt16BE(0);
              if (buf.length < 2 + len) break;
              const reply = answerDns(cfg, buf.subarray(2, 2 + len), 'tcp');
              buf = buf.subarray(2 + len);
              if (!reply) continue;
              const prefix = Buffer.alloc(2);
              prefix.writeUInt16BE(reply.length);
              socket.write(Buffer.concat([prefix, reply]));
            }
          });
        });
        server.once('error', reject);
        server.listen({ host, port: cfg.port, ipv6Only: true }, () => resolve(server));
      }),
    );
  }
  return Promise.all(out);
}

// ---------------------------------------------------------------------------------------------

const [kind, json] = process.argv.slice(2);
let cfg: CommonConfig;
try {
  cfg = JSON.parse(json ?? '') as CommonConfig;
} catch {
  fail('usage: ns-server.ts http|echo|dns|websocket <json config>');
}
try {
  let listeners: (Server | UdpSocket)[];
  if (kind === 'http') listeners = await startHttp(cfg);
  else if (kind === 'echo') listeners = await startEcho(cfg);
  else if (kind === 'dns') listeners = await startDns(cfg as DnsConfig);
  else if (kind === 'websocket') listeners = await startWebSocketEcho(cfg, emit);
  else fail(`unknown server kind "${kind}"`);
  const listening = listeners.map((l) => {
    const a = l.address() as AddressInfo;
    return { host: a.address, port: a.port, transport: 'send' in l ? 'udp' : 'tcp' };
  });
  emit({ event: 'ready', kind, listening });
} catch (e) {
  fail(`could not listen: ${(e as Error).message}`);
}
