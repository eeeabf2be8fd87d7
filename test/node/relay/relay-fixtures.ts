/**
 * Shared fixtures for the relay tests (and the relay transport tests): a real UDP server on
 * loopback standing in for a WireGuard endpoint, WebSocket clients, and WireGuard-shaped bytes.
 * Everything talks to 127.0.0.1 / ::1 only.
 */

import dgram from 'node:dgram';
import { WebSocket } from 'ws';
import { fromHex } from '../../../src/shared/bytes.ts';
import { RELAY_SUBPROTOCOL } from '../../../src/shared/relay-protocol.ts';
import { silentLogger } from '../../../src/node/relay/log.ts';
import { startRelay, type RelayHandle, type RelayOptions } from '../../../src/node/relay/main.ts';

export { waitUntil } from '../../helpers/wait-until.ts';

/** `len` bytes: type byte, three zero reserved bytes, then `fill`. */
export function wgBytes(type: number, len: number, fill = 0xab): Uint8Array {
  const b = new Uint8Array(len).fill(fill);
  if (len > 0) b[0] = type;
  for (let i = 1; i < Math.min(4, len); i++) b[i] = 0;
  return b;
}

/** A transport-shaped message (type 4) of `len` bytes whose counter field carries `marker`. */
export function transportMessage(len: number, marker: number): Uint8Array {
  const b = wgBytes(4, len, 0x5a);
  new DataView(b.buffer).setUint32(8, marker, true);
  return b;
}

/** The marker of a {@link transportMessage}. */
export function markerOf(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(8, true);
}

/** Hex helper that also accepts `(n)xx` repetition shorthand: `04000000 (28)00` → 32 bytes. */
export function hexBytes(spec: string): Uint8Array {
  const expanded = spec.replace(/\((\d+)\)([0-9a-fA-F]{2})/g, (_, n: string, byte: string) => byte.repeat(Number(n)));
  return fromHex(expanded);
}

/** A UDP socket on loopback standing in for a WireGuard endpoint. */
export interface UdpPeer {
  readonly socket: dgram.Socket;
  readonly port: number;
  readonly address: string;
  /** Every datagram received, with its source. */
  readonly received: { data: Buffer; from: dgram.RemoteInfo }[];
  /** Echo every datagram back to its sender. */
  echo: boolean;
  close(): Promise<void>;
}

export async function udpPeer(family: 4 | 6 = 4, echo = false): Promise<UdpPeer> {
  const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  const address = family === 4 ? '127.0.0.1' : '::1';
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const received: UdpPeer['received'] = [];
  const peer: UdpPeer = {
    socket,
    port: socket.address().port,
    address,
    received,
    echo,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
  socket.on('message', (data, from) => {
    received.push({ data, from });
    if (peer.echo) socket.send(data, from.port, from.address);
  });
  return peer;
}

/** A raw WebSocket client with its received datagrams and its close event. */
export interface TestClient {
  readonly ws: WebSocket;
  readonly messages: Buffer[];
  /** Resolves on open; rejects when the connection fails before opening. */
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly protocol: () => string;
}

export function wsClient(url: string, protocols: string | string[] | undefined = RELAY_SUBPROTOCOL): TestClient {
  const ws = protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
  const messages: Buffer[] = [];
  ws.on('message', (data, isBinary) => {
    if (isBinary) messages.push(data as Buffer);
  });
  ws.on('error', () => {});
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('close', () => reject(new Error('closed before open')));
  });
  opened.catch(() => {});
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString('utf8') }));
  });
  return { ws, messages, opened, closed, protocol: () => ws.protocol };
}

/** startRelay on an ephemeral loopback port with a silent log, unless overridden. */
export function testRelay(options: RelayOptions = {}): Promise<RelayHandle> {
  return startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, warnIfNoRules: false, staticDirs: [], ...options });
}

/** Sends `data` and resolves once the ws library has handed it to the socket. */
export function sendBinary(ws: WebSocket, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => ws.send(data, { binary: true }, (err) => (err ? reject(err) : resolve())));
}

/** A raw TCP client speaking just enough HTTP/WebSocket to misbehave on purpose. */
export interface RawClient {
  readonly socket: import('node:net').Socket;
  /** Everything the server sent. */
  readonly received: () => Buffer;
  /** Resolves with the HTTP response head (status line and headers) once it is complete. */
  readonly head: Promise<string>;
  /** Resolves when the server closed or reset the connection. */
  readonly ended: Promise<void>;
}

/** Connects to 127.0.0.1:`port` and writes `request` verbatim. */
export async function rawClient(port: number, request: string | Buffer): Promise<RawClient> {
  const net = await import('node:net');
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const chunks: Buffer[] = [];
  let resolveHead: (h: string) => void = () => {};
  const head = new Promise<string>((r) => (resolveHead = r));
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    const all = Buffer.concat(chunks).toString('latin1');
    const end = all.indexOf('\r\n\r\n');
    if (end >= 0) resolveHead(all.slice(0, end));
  });
  const ended = new Promise<void>((r) => socket.once('close', () => r()));
  await new Promise<void>((r) => socket.once('connect', () => r()));
  if (request.length > 0) socket.write(request);
  return { socket, received: () => Buffer.concat(chunks), head, ended };
}

/** An HTTP upgrade request to the relay path. */
export function upgradeRequest(target: string, headers: Record<string, string | undefined> = {}): string {
  const h: Record<string, string | undefined> = {
    Host: 'relay.test',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Protocol': RELAY_SUBPROTOCOL,
    ...headers,
  };
  const lines = Object.entries(h)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`);
  return `GET ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

/** A masked client frame (RFC 6455 §5.2) with the given opcode; `rsv` sets the reserved bits. */
export function clientFrame(opcode: number, payload: Uint8Array, options: { fin?: boolean; rsv?: number } = {}): Buffer {
  const fin = options.fin ?? true;
  const len = payload.length;
  const header: number[] = [(fin ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | opcode];
  if (len < 126) header.push(0x80 | len);
  else if (len < 65536) header.push(0x80 | 126, len >> 8, len & 255);
  else header.push(0x80 | 127, 0, 0, 0, 0, (len >>> 24) & 255, (len >> 16) & 255, (len >> 8) & 255, len & 255);
  const mask = [0x12, 0x34, 0x56, 0x78];
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i] ^ mask[i & 3];
  return Buffer.concat([Buffer.from(header), Buffer.from(mask), body]);
}
