/**
 * The opening handshake of RFC 6455 §4, client side, sans-IO.
 *
 *   createHandshake(url, options, random) ──▶ { request bytes, key }
 *   server's response head ──validateHandshakeResponse──▶ { protocol, extensions } | failure text
 *
 * The request is an HTTP/1.1 GET with `Upgrade: websocket`, a fresh 16-byte base64 nonce in
 * `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13` (§4.1). The response must be 101 with
 * `Upgrade: websocket`, `Connection: Upgrade` and `Sec-WebSocket-Accept` equal to
 * base64(SHA-1(key + the §1.3 GUID)) (§4.2.2 step 5.4); a subprotocol or extension the client did
 * not offer fails the connection (§4.1, client steps 5 and 6).
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { toBase64 } from '../../shared/bytes.ts';
import { serializeRequestHead } from '../http/http-request-writer.ts';
import { headerList, type ResponseHead } from '../http/http-response-parser.ts';

/** §1.3: the GUID a server appends to the key. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** RFC 7230 token: what a subprotocol name must be (§4.1 "Sec-WebSocket-Protocol"). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Header names the handshake sets itself; a caller may not override them (Fetch forbids them too). */
const RESERVED_HEADERS = new Set([
  'host',
  'upgrade',
  'connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'sec-websocket-accept',
  'content-length',
  'transfer-encoding',
]);

/** What the client asks for. */
export interface HandshakeOptions {
  /** Subprotocols in order of preference (§1.9); each an RFC 7230 token, no duplicates. */
  readonly protocols?: readonly string[];
  /** Extra request headers (Origin, Cookie, Authorization, User-Agent...). */
  readonly headers?: Iterable<[string, string]> | Record<string, string>;
  /** The `Sec-WebSocket-Extensions` offer, already formatted (empty: no extensions). */
  readonly extensions?: string;
}

/** A handshake in progress. */
export interface ClientHandshake {
  /** The request to write. */
  readonly request: Uint8Array;
  /** The Sec-WebSocket-Key sent. */
  readonly key: string;
  /** The Sec-WebSocket-Accept the server must answer with. */
  readonly expectedAccept: string;
  readonly protocols: readonly string[];
}

/** The connection as the server agreed to it. */
export interface HandshakeResult {
  /** The chosen subprotocol, '' when none. */
  readonly protocol: string;
  /** The server's Sec-WebSocket-Extensions value, '' when none. */
  readonly extensions: string;
}

/** base64(SHA-1(key + GUID)): the §4.2.2 accept value for `key`. */
export function acceptFor(key: string): string {
  return toBase64(sha1(new TextEncoder().encode(key + WEBSOCKET_GUID)));
}

/**
 * Checks a subprotocol list as the WebSocket constructor does (WHATWG WebSockets §3.1 step 8):
 * tokens, no duplicates (case-insensitively). Throws SyntaxError-named errors via `fail`.
 */
export function checkProtocols(protocols: readonly string[], fail: (message: string) => Error = (m) => new TypeError(m)): void {
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !TOKEN.test(p)) throw fail(`${JSON.stringify(p)} is not a valid subprotocol name`);
    const lower = p.toLowerCase();
    if (seen.has(lower)) throw fail(`the subprotocol ${JSON.stringify(p)} is offered twice`);
    seen.add(lower);
  }
}

/**
 * Builds the opening handshake request for `url` (ws: or http: schemes; the request target is the
 * path and query, §3). `random` fills the 16-byte nonce.
 */
export function createHandshake(url: URL, options: HandshakeOptions, random: (n: number) => Uint8Array): ClientHandshake {
  const protocols = [...(options.protocols ?? [])];
  checkProtocols(protocols);
  const nonce = random(16);
  if (!(nonce instanceof Uint8Array) || nonce.length !== 16) throw new TypeError('the random source must return the requested number of bytes');
  const key = toBase64(nonce);
  const fields: [string, string][] = [
    ['Host', url.host],
    ['Upgrade', 'websocket'],
    ['Connection', 'Upgrade'],
    ['Sec-WebSocket-Key', key],
    ['Sec-WebSocket-Version', '13'],
  ];
  if (protocols.length) fields.push(['Sec-WebSocket-Protocol', protocols.join(', ')]);
  if (options.extensions) fields.push(['Sec-WebSocket-Extensions', options.extensions]);
  const extra = options.headers ? (Symbol.iterator in options.headers ? [...(options.headers as Iterable<[string, string]>)] : Object.entries(options.headers)) : [];
  for (const [name, value] of extra) {
    if (!TOKEN.test(name)) throw new TypeError(`${JSON.stringify(name)} is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new TypeError(`the value of header ${name} contains CR, LF or NUL`);
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TypeError(`the header ${name} is set by the WebSocket handshake itself`);
    fields.push([name, value]);
  }
  const target = `${url.pathname || '/'}${url.search}`;
  return { request: serializeRequestHead('GET', target, fields), key, expectedAccept: acceptFor(key), protocols };
}

/**
 * Validates the server's response head (§4.1, "the client MUST validate the server's response").
 * Returns the agreed parameters, or `{ failure }` with a sentence saying what was wrong.
 * `offeredExtensions` are the extension names the client offered.
 */
export function validateHandshakeResponse(
  handshake: ClientHandshake,
  head: ResponseHead,
  offeredExtensions: readonly string[] = [],
): HandshakeResult | { failure: string } {
  if (head.status !== 101) return { failure: `the server answered ${head.status} ${head.statusText} instead of 101 Switching Protocols` };
  const upgrade = headerList(head, 'upgrade').map((v) => v.toLowerCase());
  if (!upgrade.includes('websocket')) return { failure: 'the 101 response lacks "Upgrade: websocket"' };
  const connection = headerList(head, 'connection').map((v) => v.toLowerCase());
  if (!connection.includes('upgrade')) return { failure: 'the 101 response lacks "Connection: Upgrade"' };
  const accepts = head.headers.filter(([n]) => n.toLowerCase() === 'sec-websocket-accept').map(([, v]) => v.trim());
  if (accepts.length !== 1 || accepts[0] !== handshake.expectedAccept) {
    return { failure: `Sec-WebSocket-Accept is ${accepts.length ? JSON.stringify(accepts.join(', ')) : 'missing'}, expected ${handshake.expectedAccept} (RFC 6455 §4.2.2)` };
  }
  const chosen = headerList(head, 'sec-websocket-protocol');
  let protocol = '';
  if (chosen.length > 1) return { failure: `the server chose several subprotocols (${chosen.join(', ')})` };
  if (chosen.length === 1) {
    protocol = chosen[0];
    if (!handshake.protocols.includes(protocol)) {
      return { failure: `the server chose the subprotocol "${protocol}", which was not offered${handshake.protocols.length ? ` (offered: ${handshake.protocols.join(', ')})` : ''}` };
    }
  }
  const extensionValues = head.headers.filter(([n]) => n.toLowerCase() === 'sec-websocket-extensions').map(([, v]) => v.trim());
  const extensions = extensionValues.join(', ');
  for (const ext of headerList(head, 'sec-websocket-extensions')) {
    const name = ext.split(';')[0].trim().toLowerCase();
    if (!offeredExtensions.includes(name)) return { failure: `the server accepted the extension "${name}", which was not offered` };
  }
  return { protocol, extensions };
}
