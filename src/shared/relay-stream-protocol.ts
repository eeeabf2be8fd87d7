/**
 * The relay's fetch-stream downstream (`wgweb.v3.stream`): the names and formats both sides share.
 * Isomorphic.
 *
 *   client ──WebSocket /wg?to=…, offers wgweb.v3.stream, wgweb.v3, …──▶ relay selects wgweb.v3.stream
 *   relay  ──first message, text: "stream <id>"──▶ client              (one-time id, 128 random bits)
 *   client ──POST /relay/stream/<id> (empty body)──▶ relay
 *   relay  ──200 application/octet-stream, never-ending body: record record …──▶ client
 *            record = length (u16 BE, 1..65535) datagram   (the wgweb.v2 record, back to back)
 *   relay  ──right after its first write into the body, text: "stream written"──▶ client
 *          ──then every second for 10 s, text: "stream written <ms>" (ms since that write, the
 *            relay's clock)──▶ client
 *            (on the WebSocket: a client that gets a notice sent 5 s after the relay's first write
 *            and has still seen no body byte knows a proxy buffers the response, drops the body and
 *            gets its downstream on the WebSocket again; the relay's own clock, delivered on the
 *            WebSocket, not the client's, so a loaded client that is merely slow to read both
 *            channels does not give the stream up; clients that do not know a notice ignore it)
 *
 * Upstream stays on the WebSocket in the `wgweb.v2` framing; downstream moves to the body once the
 * relay has it, and back to the WebSocket (the `wgweb.v3` framing) when the body ends while the
 * session lives. A relay that does not know `wgweb.v3.stream` selects `wgweb.v3` and nothing changes.
 *
 * Why (#19 item 3): a browser pays per WebSocket message; a streaming response body reaches the page
 * in large chunks through the network service's data pipe. The id travels in-band on the session's own
 * WebSocket, never in a URL a page shows or shares, and is good for one stream of that session only.
 */

import { RELAY_PATH } from './relay-protocol.ts';

/** The subprotocol a client offers (before `wgweb.v3`) to get its downstream as a fetch stream. */
export const RELAY_SUBPROTOCOL_V3_STREAM = 'wgweb.v3.stream';

/** The path prefix of a session's downstream body; the id follows. */
export const RELAY_STREAM_PATH_PREFIX = '/relay/stream/';

/** The control message's prefix (a text message, the first the relay sends in this framing). */
const CONTROL_PREFIX = 'stream ';

/** Ids are base64url of 16 random bytes: 22 characters. */
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/**
 * The relay's text message right after it first wrote records into the body (never a valid
 * control message: the id pattern cannot match "written"); later notices add the ms since.
 */
export const STREAM_WRITTEN_NOTICE = 'stream written';

/** The relay sends a timed notice this often after its first write into the body (ms)… */
export const STREAM_NOTICE_INTERVAL_MS = 1000;
/** …this many times (so for 10 s; a client's hold-back deadline must lie inside). */
export const STREAM_NOTICE_COUNT = 10;

/** The notice that the relay first wrote into the body `msSince` ago (0: the first notice). */
export function streamWrittenNotice(msSince: number): string {
  if (!Number.isInteger(msSince) || msSince < 0) throw new RangeError('msSince is a whole number of ms, 0 or more');
  return msSince === 0 ? STREAM_WRITTEN_NOTICE : `${STREAM_WRITTEN_NOTICE} ${msSince}`;
}

/** The ms since the relay's first write of a "stream written" notice, or undefined. Never throws. */
export function parseStreamWrittenNotice(text: string): number | undefined {
  if (text === STREAM_WRITTEN_NOTICE) return 0;
  if (!text.startsWith(STREAM_WRITTEN_NOTICE + ' ')) return undefined;
  const digits = text.slice(STREAM_WRITTEN_NOTICE.length + 1);
  return /^[0-9]{1,9}$/.test(digits) ? Number(digits) : undefined;
}

/** The text message that announces a session's stream id. */
export function streamControlMessage(id: string): string {
  if (!ID_PATTERN.test(id)) throw new RangeError('a stream id is 22 base64url characters');
  return CONTROL_PREFIX + id;
}

/** The id of a control message, or undefined when `text` is not one. Never throws. */
export function parseStreamControlMessage(text: string): string | undefined {
  if (!text.startsWith(CONTROL_PREFIX)) return undefined;
  const id = text.slice(CONTROL_PREFIX.length);
  return ID_PATTERN.test(id) ? id : undefined;
}

/** The id in a request path (`/relay/stream/<id>`), or undefined. Never throws. */
export function streamIdOfPath(path: string): string | undefined {
  if (!path.startsWith(RELAY_STREAM_PATH_PREFIX)) return undefined;
  const id = path.slice(RELAY_STREAM_PATH_PREFIX.length);
  return ID_PATTERN.test(id) ? id : undefined;
}

/**
 * The stream URL for `id` beside a session URL (`ws(s)://host/prefix/wg?to=…` →
 * `http(s)://host/prefix/relay/stream/<id>`): the same relay, the same path prefix behind a proxy.
 * @throws {TypeError} for a URL that is not a ws(s) session URL.
 */
export function relayStreamUrl(sessionUrl: string, id: string): string {
  const url = new URL(sessionUrl);
  if (url.protocol === 'ws:') url.protocol = 'http:';
  else if (url.protocol === 'wss:') url.protocol = 'https:';
  else throw new TypeError(`${sessionUrl} is not a ws(s): URL`);
  if (!url.pathname.endsWith(RELAY_PATH)) throw new TypeError(`${sessionUrl} is not a relay session URL (…${RELAY_PATH})`);
  url.pathname = url.pathname.slice(0, -RELAY_PATH.length) + RELAY_STREAM_PATH_PREFIX + streamControlMessage(id).slice(CONTROL_PREFIX.length);
  url.search = '';
  url.hash = '';
  return url.toString();
}
