/**
 * The wgweb relay wire protocol, shared by the relay (Node) and the client transport (browser or
 * Node). Isomorphic: no DOM and no Node APIs.
 *
 * One WebSocket session carries one UDP flow to one WireGuard endpoint that the client names in
 * the upgrade request:
 *
 *   GET /wg?to=<host:port>          (IPv6 as [v6]:port; the value URL-encoded)
 *   Sec-WebSocket-Protocol: wgweb.v3, wgweb.v2, wgweb.v1[, wgweb.token.<token>]
 *
 * A relay with authentication (docs/relay.md, "Authentication") reads the client's token from an
 * extra offered subprotocol `wgweb.token.<token>`, never from the URL: request lines end up in
 * proxy and server logs, while the Sec-WebSocket-Protocol header is not logged by default and is
 * the one header a browser lets a page set on a WebSocket. The relay never selects it.
 *
 * The subprotocol the relay selects (RFC 6455 §4.2.2) fixes the framing of binary messages:
 * `wgweb.v1`, every message is exactly one UDP datagram; `wgweb.v2` (opt-in: only when offered),
 * every message is a batch of length-prefixed datagrams (src/shared/datagram-batch.ts); `wgweb.v3`
 * (opt-in), the same records, but a relay → client batch may be four times larger (256 KiB, 256
 * datagrams; client → relay keeps the `wgweb.v2` bounds, so the relay's per-session receive buffer
 * does not grow). Text messages
 * are a protocol error. The relay closes a session with one of the {@link RelayCloseCode}s and a short
 * reason; the table is stable (documented in docs/relay.md) so clients can react to it.
 */

import { formatEndpoint, parseEndpoint, tryParseIp, type Endpoint } from './ip-address.ts';

/** The HTTP path of the WebSocket endpoint. */
export const RELAY_PATH = '/wg';
/** The query parameter that names the WireGuard endpoint. */
export const RELAY_ENDPOINT_PARAM = 'to';
/**
 * The WebSocket subprotocol of the original framing, one message = one datagram (RFC 6455 §1.9).
 * Every relay speaks it; it is what a client gets unless it offers {@link RELAY_SUBPROTOCOL_V2}.
 */
export const RELAY_SUBPROTOCOL = 'wgweb.v1';
/** The batched framing: one message = one or more `[u16 length][datagram]` records. */
export const RELAY_SUBPROTOCOL_V2 = 'wgweb.v2';
/**
 * The batched framing with bigger downstream messages: `wgweb.v2` records, relay → client batches up
 * to {@link RELAY_V3_MAX_DOWNSTREAM_MESSAGE} bytes (#19: a browser pays per WebSocket message, and a
 * 256 KiB message costs the renderer about a third of a 64 KiB one per byte).
 */
export const RELAY_SUBPROTOCOL_V3 = 'wgweb.v3';
/** The subprotocols a relay speaks, preferred first. */
export const RELAY_SUBPROTOCOLS: readonly string[] = [RELAY_SUBPROTOCOL_V3, RELAY_SUBPROTOCOL_V2, RELAY_SUBPROTOCOL];
/** The framing a session speaks. */
export type RelaySubprotocol = typeof RELAY_SUBPROTOCOL | typeof RELAY_SUBPROTOCOL_V2 | typeof RELAY_SUBPROTOCOL_V3;

/** The subprotocol named by a selected `Sec-WebSocket-Protocol` value; anything else is `wgweb.v1`. */
export function relaySubprotocolOf(selected: string | undefined): RelaySubprotocol {
  return selected === RELAY_SUBPROTOCOL_V3 ? RELAY_SUBPROTOCOL_V3 : selected === RELAY_SUBPROTOCOL_V2 ? RELAY_SUBPROTOCOL_V2 : RELAY_SUBPROTOCOL;
}

/** Prefix of the offered subprotocol that carries an access token (never selected by the relay). */
export const RELAY_TOKEN_PROTOCOL_PREFIX = 'wgweb.token.';

/** RFC 7230 §3.2.6 `token` characters: what a Sec-WebSocket-Protocol value may hold (RFC 6455 §4.1). */
const TCHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The subprotocol value that carries `token` to the relay.
 * @throws {TypeError} when `token` is empty or holds characters a subprotocol cannot carry (a JWT
 *   and the hex/base64url tokens `wgweb token` prints can always be carried).
 */
export function relayTokenProtocol(token: string): string {
  if (typeof token !== 'string' || token.length === 0 || token.length > 4096 || !TCHARS.test(token)) {
    throw new TypeError('a relay token must be 1 to 4096 characters of letters, digits and !#$%&\'*+-.^_`|~ (a JWT or a base64url string)');
  }
  return RELAY_TOKEN_PROTOCOL_PREFIX + token;
}

/**
 * The token a client offered in a Sec-WebSocket-Protocol header, or undefined when none.
 * More than one token is treated as none offered (`ambiguous`).
 */
export function readRelayToken(header: string | undefined): { token?: string; ambiguous?: true } {
  if (!header) return {};
  const tokens = header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(RELAY_TOKEN_PROTOCOL_PREFIX))
    .map((p) => p.slice(RELAY_TOKEN_PROTOCOL_PREFIX.length));
  if (tokens.length > 1) return { ambiguous: true };
  return tokens[0] ? { token: tokens[0] } : {};
}

/**
 * Largest `wgweb.v2` message, in bytes. Fixed by the protocol, not by `--max-message` (which bounds
 * each datagram), so a client never needs to know a relay's setting to batch: 64 KiB amortises the
 * per-message cost (one browser task, one WebSocket frame) over ~45 full-size datagrams.
 */
export const RELAY_V2_MAX_MESSAGE = 65535;
/** Most datagrams in one `wgweb.v2` message (bounds the work one message can cause). */
export const RELAY_V2_MAX_DATAGRAMS = 64;
/** Largest relay → client `wgweb.v3` message (client → relay stays at {@link RELAY_V2_MAX_MESSAGE}). */
export const RELAY_V3_MAX_DOWNSTREAM_MESSAGE = 262144;
/** Most datagrams in one relay → client `wgweb.v3` message (a full one holds ~180 of 1452 bytes). */
export const RELAY_V3_MAX_DOWNSTREAM_DATAGRAMS = 256;

/** The bounds of one batch message: bytes, and records. */
export interface BatchLimits {
  readonly maxMessage: number;
  readonly maxDatagrams: number;
}

/** `wgweb.v2` both ways, and `wgweb.v3` client → relay. */
export const V2_BATCH_LIMITS: BatchLimits = { maxMessage: RELAY_V2_MAX_MESSAGE, maxDatagrams: RELAY_V2_MAX_DATAGRAMS };
/** `wgweb.v3` relay → client. */
export const V3_DOWNSTREAM_BATCH_LIMITS: BatchLimits = { maxMessage: RELAY_V3_MAX_DOWNSTREAM_MESSAGE, maxDatagrams: RELAY_V3_MAX_DOWNSTREAM_DATAGRAMS };

/**
 * The bounds of a batch of `protocol` going `direction` (`up`: client → relay, `down`: relay →
 * client), or undefined for `wgweb.v1` (one datagram per message).
 */
export function batchLimits(protocol: RelaySubprotocol, direction: 'up' | 'down'): BatchLimits | undefined {
  if (protocol === RELAY_SUBPROTOCOL_V3) return direction === 'down' ? V3_DOWNSTREAM_BATCH_LIMITS : V2_BATCH_LIMITS;
  return protocol === RELAY_SUBPROTOCOL_V2 ? V2_BATCH_LIMITS : undefined;
}

/**
 * WebSocket close codes used by the relay. 1000–1011 are RFC 6455 §7.4.1 codes; 4000–4999 is the
 * range RFC 6455 §7.4.2 leaves to applications. Stable: never renumber, only add.
 */
export const RelayCloseCode = {
  /** Normal closure (the client or relay ended the session on purpose). */
  NORMAL: 1000,
  /** The relay is shutting down or restarting; reconnecting later is expected to work. */
  GOING_AWAY: 1001,
  /** A text message arrived; the relay only carries binary datagrams. */
  UNSUPPORTED_DATA: 1003,
  /** A `wgweb.v2`/`wgweb.v3` message broke the framing (truncated record, zero length, too many records). */
  INVALID_PAYLOAD: 1007,
  /** A message was larger than the relay's --max-message. */
  MESSAGE_TOO_BIG: 1009,
  /** The relay failed internally (e.g. its UDP socket broke). */
  INTERNAL_ERROR: 1011,
  /** Service restart (IANA WebSocket close code registry): the relay drains; move to another relay now. */
  SERVICE_RESTART: 1012,
  /** The upgrade request was malformed: no or bad `to`, or none of `wgweb.v1`, `wgweb.v2`, `wgweb.v3` offered. */
  BAD_REQUEST: 4000,
  /** The relay's --allow rules do not permit this destination. */
  DESTINATION_NOT_ALLOWED: 4001,
  /** The relay could not resolve the endpoint's host name. */
  RESOLVE_FAILED: 4002,
  /** The relay already serves --max-sessions sessions. */
  TOO_MANY_SESSIONS: 4003,
  /** Nothing was forwarded in either direction for --idle-timeout. */
  IDLE_TIMEOUT: 4004,
  /** The client kept sending far above --max-pps. */
  RATE_LIMITED: 4005,
  /** The relay could not open a UDP socket to the endpoint (e.g. no route from the relay). */
  DESTINATION_UNREACHABLE: 4006,
  /** The page's origin (or the host name it used) may not use this relay (cross-site use, DNS rebinding). */
  ORIGIN_NOT_ALLOWED: 4007,
  /** This client address already holds as many sessions or pending upgrades as the relay allows one client. */
  CLIENT_LIMIT: 4008,
  /** The relay requires a token (--auth static|signed) and the client offered none. */
  AUTH_REQUIRED: 4009,
  /** The token is unknown, malformed, tampered with, expired, or not valid for this endpoint. */
  AUTH_FAILED: 4010,
  /** The (signed) token already carries as many sessions as it allows. */
  TOKEN_SESSION_LIMIT: 4011,
} as const;

export type RelayCloseCode = (typeof RelayCloseCode)[keyof typeof RelayCloseCode];

/**
 * What a client should do after a close:
 * - `never`: the relay refused this request; retrying the same request cannot succeed;
 * - `backoff`: transient; reconnect with exponential backoff;
 * - `on-demand`: reconnect when there is something to send (idle timeout);
 * - `now`: reconnect at once, without backoff (the relay drains: 1012); a client with several
 *   relays moves to the next one.
 */
export type RelayRetryPolicy = 'never' | 'backoff' | 'on-demand' | 'now';

/** A row of the close code table. */
export interface RelayCloseInfo {
  readonly code: number;
  readonly name: string;
  /** A user-facing explanation that says what to check. */
  readonly explanation: string;
  readonly retry: RelayRetryPolicy;
}

const CLOSE_TABLE: readonly RelayCloseInfo[] = [
  { code: 1000, name: 'NORMAL', explanation: 'The session was closed normally.', retry: 'never' },
  {
    code: 1001,
    name: 'GOING_AWAY',
    explanation: 'The relay is shutting down or restarting; wgweb reconnects automatically.',
    retry: 'backoff',
  },
  {
    code: 1003,
    name: 'UNSUPPORTED_DATA',
    explanation: 'The relay only accepts binary WebSocket messages (one per WireGuard datagram); the client sent text.',
    retry: 'never',
  },
  {
    code: 1007,
    name: 'INVALID_PAYLOAD',
    explanation: 'The client sent a malformed wgweb.v2/v3 batch (a bug in the client); reload, or force wgweb.v1.',
    retry: 'never',
  },
  {
    code: 1009,
    name: 'MESSAGE_TOO_BIG',
    explanation: 'A datagram (or a wgweb.v2 batch above 65535 bytes) was larger than the relay allows (--max-message); lower the MTU in the config or raise the limit on the relay.',
    retry: 'never',
  },
  {
    code: 1011,
    name: 'INTERNAL_ERROR',
    explanation: 'The relay hit an internal error; wgweb reconnects automatically. See the relay log.',
    retry: 'backoff',
  },
  {
    code: 1012,
    name: 'SERVICE_RESTART',
    explanation: 'The relay is restarting (draining its sessions); wgweb reconnects at once, to another relay if it has one.',
    retry: 'now',
  },
  {
    code: 4000,
    name: 'BAD_REQUEST',
    explanation: 'The relay could not read the endpoint from the request; check the Endpoint (host:port, [v6]:port for IPv6) and that the client speaks wgweb.v1, wgweb.v2 or wgweb.v3.',
    retry: 'never',
  },
  {
    code: 4001,
    name: 'DESTINATION_NOT_ALLOWED',
    explanation: "The relay does not allow this endpoint; check the Endpoint in the config or ask the relay's operator to --allow it.",
    retry: 'never',
  },
  {
    code: 4002,
    name: 'RESOLVE_FAILED',
    explanation: "The relay could not resolve the endpoint's host name; check the Endpoint's spelling or use an IP address.",
    retry: 'never',
  },
  {
    code: 4003,
    name: 'TOO_MANY_SESSIONS',
    explanation: 'The relay is full (--max-sessions); wgweb retries with backoff.',
    retry: 'backoff',
  },
  {
    code: 4004,
    name: 'IDLE_TIMEOUT',
    explanation: 'Nothing was sent for a while, so the relay closed the session; wgweb reconnects on the next packet (PersistentKeepalive keeps it open).',
    retry: 'on-demand',
  },
  {
    code: 4005,
    name: 'RATE_LIMITED',
    explanation: 'The client sent far more datagrams per second than the relay allows (--max-pps); wgweb retries with backoff.',
    retry: 'backoff',
  },
  {
    code: 4006,
    name: 'DESTINATION_UNREACHABLE',
    explanation: 'The relay has no route to the endpoint; check the Endpoint address and the network of the relay.',
    retry: 'never',
  },
  {
    code: 4007,
    name: 'ORIGIN_NOT_ALLOWED',
    explanation: "The relay only serves its own pages: open wgweb from the relay's address, or ask its operator to --allow-origin this site.",
    retry: 'never',
  },
  {
    code: 4008,
    name: 'CLIENT_LIMIT',
    explanation: 'Your address already has as many relay sessions as one client may hold (--max-sessions-per-client); close other tunnels or wait. wgweb retries with backoff.',
    retry: 'backoff',
  },
  {
    code: 4009,
    name: 'AUTH_REQUIRED',
    explanation: 'This relay requires an access token: pass --token (CLI) or fill in the relay token field; ask the relay\'s operator for one.',
    retry: 'never',
  },
  {
    code: 4010,
    name: 'AUTH_FAILED',
    explanation: 'The relay did not accept the access token (unknown, expired, altered, or not valid for this endpoint); ask the relay\'s operator for a new one.',
    retry: 'never',
  },
  {
    code: 4011,
    name: 'TOKEN_SESSION_LIMIT',
    explanation: 'The access token already carries as many sessions as it allows; close other tunnels that use it or wait. wgweb retries with backoff.',
    retry: 'backoff',
  },
];

/** Every close code the relay uses, with its name, explanation and retry policy. */
export const RELAY_CLOSE_CODES: readonly RelayCloseInfo[] = CLOSE_TABLE;

/**
 * The table row for `code`. Codes outside the table (e.g. 1006, an abnormal drop without a close
 * frame) are described as transient.
 */
export function describeCloseCode(code: number): RelayCloseInfo {
  const row = CLOSE_TABLE.find((r) => r.code === code);
  if (row) return row;
  if (code === 1006) {
    return {
      code,
      name: 'ABNORMAL_CLOSURE',
      explanation: 'The connection to the relay dropped without a close frame; check the relay URL and that the relay runs.',
      retry: 'backoff',
    };
  }
  return { code, name: 'UNKNOWN', explanation: `The relay closed the session with code ${code}.`, retry: 'backoff' };
}

/** RFC 6455 §5.5: a control frame payload is ≤ 125 bytes, 2 of which hold the close code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Cuts `reason` so its UTF-8 form fits a close frame (never splitting a character). */
export function truncateCloseReason(reason: string): string {
  const enc = new TextEncoder();
  if (enc.encode(reason).length <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const ch of reason) {
    const n = enc.encode(ch).length;
    if (bytes + n > MAX_CLOSE_REASON_BYTES - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}...`;
}

// --- Sizes -------------------------------------------------------------------------------------

/** WireGuard message types and fixed sizes (WireGuard paper §5.4.2–§5.4.7). */
export const WG_MESSAGE_INITIATION_SIZE = 148;
export const WG_MESSAGE_RESPONSE_SIZE = 92;
export const WG_MESSAGE_COOKIE_REPLY_SIZE = 64;
/** Transport header: type+reserved (4), receiver index (4), counter (8). */
export const WG_TRANSPORT_HEADER_SIZE = 16;
/** Smallest transport message: header plus the Poly1305 tag of an empty (keepalive) payload. */
export const WG_TRANSPORT_MIN_SIZE = 32;

/**
 * The largest message the relay can ever forward: a WebSocket message becomes one UDP datagram,
 * and `--max-message` may not exceed this. (IPv4 UDP carries at most 65507 payload bytes; larger
 * datagrams are refused by the kernel and counted as send errors.)
 */
export const RELAY_MAX_MESSAGE_LIMIT = 65535;
/**
 * Default `--max-message`. Generous on purpose: a WireGuard interface MTU can legitimately be far
 * above 1420 (wg-quick derives it from the route MTU), and an oversize message closes the whole
 * session with 1009. Memory stays bounded by --max-sessions × this.
 */
export const RELAY_DEFAULT_MAX_MESSAGE = 65535;

// --- WireGuard shape check -----------------------------------------------------------------------

/** The four WireGuard message kinds. */
export type WireguardMessageShape = 'initiation' | 'response' | 'cookie' | 'transport';

/**
 * Classifies `bytes` by the WireGuard framing rules alone (no cryptography): the first byte is the
 * message type and the next three are reserved zeros (paper §5.4); handshake initiation (1),
 * response (2) and cookie reply (3) have fixed sizes of 148, 92 and 64 bytes; a transport message
 * (4) has a 16-byte header and at least a 16-byte tag.
 *
 * The transport length is deliberately not required to be 16 + a multiple of 16: the paper pads
 * the plaintext to a multiple of 16, but both wireguard-go and the Linux module cap the padded
 * length at the interface MTU, so with the default MTU 1420 a full-size packet is 16+1420+16 = 1452
 * bytes. Requiring the multiple would drop real traffic.
 *
 * @returns the shape, or `undefined` when `bytes` cannot be a WireGuard message.
 */
export function wireguardMessageShape(bytes: Uint8Array): WireguardMessageShape | undefined {
  const n = bytes.length;
  if (n < WG_TRANSPORT_MIN_SIZE) return undefined;
  if (bytes[1] !== 0 || bytes[2] !== 0 || bytes[3] !== 0) return undefined;
  switch (bytes[0]) {
    case 1:
      return n === WG_MESSAGE_INITIATION_SIZE ? 'initiation' : undefined;
    case 2:
      return n === WG_MESSAGE_RESPONSE_SIZE ? 'response' : undefined;
    case 3:
      return n === WG_MESSAGE_COOKIE_REPLY_SIZE ? 'cookie' : undefined;
    case 4:
      return 'transport';
    default:
      return undefined;
  }
}

// --- Naming the endpoint -------------------------------------------------------------------------

const LABEL = /^[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/**
 * Validates the host part of a relay endpoint: an IPv4 literal, an IPv6 literal without a zone, or
 * a DNS name (RFC 1123 labels, ≤ 253 characters). A name whose last label is numeric must be a
 * dotted-quad IPv4 address, so legacy forms such as `127.1` or `0x7f.1` never reach a resolver.
 *
 * @returns an error message, or `undefined` when the host is acceptable.
 */
export function checkEndpointHost(host: string): string | undefined {
  if (host.includes(':')) {
    if (host.includes('%')) return `IPv6 zone identifiers are not supported ("${host}")`;
    return tryParseIp(host) ? undefined : `"${host}" is not an IPv6 address`;
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0 || name.length > 253) return `"${host}" is not a valid host name`;
  const labels = name.split('.');
  const last = labels[labels.length - 1];
  if (/^[0-9]+$/.test(last) || /^0x[0-9a-f]*$/i.test(last)) {
    return tryParseIp(name) ? undefined : `"${host}" is not a valid IPv4 address`;
  }
  for (const label of labels) if (!LABEL.test(label)) return `"${host}" is not a valid host name`;
  return undefined;
}

/**
 * Parses the `to` value of a relay request: `host:port` or `[v6]:port`, with the host checked by
 * {@link checkEndpointHost}.
 * @throws {RangeError} naming the problem.
 */
export function parseRelayEndpoint(text: string): Endpoint {
  if (text.length > 300) throw new RangeError('the endpoint is too long');
  if (text.trim() !== text) throw new RangeError(`"${text}" has surrounding white space`);
  const ep = parseEndpoint(text);
  const problem = checkEndpointHost(ep.host);
  if (problem) throw new RangeError(problem);
  return ep;
}

/**
 * The WebSocket URL for a session to `endpoint` through the relay at `base`.
 *
 * `base` may be the relay's page URL (`http://relay:8080/`, mapped to `ws:`; `https:` to `wss:`), a
 * `ws:`/`wss:` URL, or already end in `/wg`. A path prefix (a relay behind a reverse proxy at
 * `https://host/wgweb/`) is kept: the session URL becomes `wss://host/wgweb/wg?to=...`.
 *
 * @throws {TypeError} when `base` is not an http(s)/ws(s) URL.
 * @throws {RangeError} when `endpoint` is not a valid endpoint.
 */
export function buildRelayUrl(base: string, endpoint: Endpoint | string): string {
  const url = relayWebSocketBase(base);
  const ep = typeof endpoint === 'string' ? parseRelayEndpoint(endpoint) : endpoint;
  const problem = checkEndpointHost(ep.host);
  if (problem) throw new RangeError(problem);
  if (!Number.isInteger(ep.port) || ep.port < 1 || ep.port > 65535) throw new RangeError(`${ep.port} is not a port (1 to 65535)`);
  if (!url.pathname.endsWith(RELAY_PATH)) {
    url.pathname = (url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`) + RELAY_PATH.slice(1);
  }
  url.hash = '';
  url.searchParams.set(RELAY_ENDPOINT_PARAM, formatEndpoint(ep));
  return url.toString();
}

/**
 * A relay URL as given (page, ws(s) or `/wg` URL) as a WebSocket URL: `http:` → `ws:`, `https:` →
 * `wss:`; the path is left for the caller (buildRelayUrl, buildSpeedUrl in speed-protocol.ts).
 * @throws {TypeError} when `base` is not an http(s)/ws(s) URL.
 */
export function relayWebSocketBase(base: string): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new TypeError(`"${base}" is not a URL; a relay URL looks like ws://127.0.0.1:8080 or https://relay.example`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`"${base}" is not a relay URL: use ws:, wss:, http: or https:`);
  }
  return url;
}

/** The outcome of {@link parseRelayRequest}. */
export type RelayRequest =
  | { readonly ok: true; readonly endpoint: Endpoint }
  | {
      readonly ok: false;
      /** 404: not the relay path at all (answer over HTTP); 400: the relay path with a bad request. */
      readonly status: 404 | 400;
      /** For status 400, the close code to send after accepting the upgrade (so browsers see it). */
      readonly closeCode: number;
      readonly reason: string;
    };

/**
 * Reads an upgrade request target (`/wg?to=...`, or an absolute URL). Never throws.
 */
export function parseRelayRequest(url: string): RelayRequest {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://relay.invalid');
  } catch {
    return { ok: false, status: 400, closeCode: RelayCloseCode.BAD_REQUEST, reason: 'malformed request URL' };
  }
  if (parsed.pathname !== RELAY_PATH) {
    return { ok: false, status: 404, closeCode: RelayCloseCode.BAD_REQUEST, reason: `no relay at ${parsed.pathname}` };
  }
  const values = parsed.searchParams.getAll(RELAY_ENDPOINT_PARAM);
  if (values.length === 0) {
    return { ok: false, status: 400, closeCode: RelayCloseCode.BAD_REQUEST, reason: 'missing ?to=host:port' };
  }
  if (values.length > 1) {
    return { ok: false, status: 400, closeCode: RelayCloseCode.BAD_REQUEST, reason: 'more than one ?to=' };
  }
  try {
    return { ok: true, endpoint: parseRelayEndpoint(values[0]) };
  } catch (e) {
    return {
      ok: false,
      status: 400,
      closeCode: RelayCloseCode.BAD_REQUEST,
      reason: truncateCloseReason(`bad endpoint: ${(e as Error).message}`),
    };
  }
}
