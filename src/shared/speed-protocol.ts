/**
 * The relay's speed-test endpoint, as both sides see it (issue #15 item 1, "tunnel vs direct"):
 * a WebSocket on `/speed` that streams or sinks a bounded number of bytes, so a client can time
 * the same transfer straight to the relay that it times through the tunnel.
 *
 *   ws(s)://relay/speed?down=N  ── relay sends N bytes (binary messages of ≤ 60 KiB, under the relay's 65535-byte frame limit), then one
 *                                 text message {"bytes":N,"ms":…} and closes 1000
 *   ws(s)://relay/speed?up=N    ── client sends N bytes; once the relay has them all it sends
 *                                 {"bytes":N,"ms":…} and closes 1000
 *   subprotocol `wgweb.speed.v1` (plus `wgweb.token.<T>` where the relay requires a token)
 *
 * Refusals are close codes after the upgrade (as for `/wg`, so a browser sees the reason).
 */
import { RELAY_PATH, relayWebSocketBase } from './relay-protocol.ts';

/** The endpoint's path, beside the relay's `/wg`. */
export const SPEED_PATH = '/speed';
/** The subprotocol a speed-test client offers. */
export const SPEED_SUBPROTOCOL = 'wgweb.speed.v1';
/** Largest transfer one request may ask for unless the relay sets another (`--speed-test-max`). */
export const DEFAULT_SPEED_MAX_BYTES = 64 * 1024 * 1024;
/** Size of each binary message the relay sends (and the largest it accepts). */
export const SPEED_CHUNK_BYTES = 60 * 1024;

export type SpeedDirection = 'down' | 'up';

/** What the relay reports when a transfer is complete (the text message). */
export interface SpeedReport {
  bytes: number;
  /** From the upgrade to the last byte, on the relay's clock. */
  ms: number;
}

/** The outcome of {@link parseSpeedRequest}. */
export type SpeedRequest = { readonly ok: true; readonly direction: SpeedDirection; readonly bytes: number } | { readonly ok: false; readonly reason: string };

/**
 * The speed-test URL on the relay at `base` (a page, ws(s) or `/wg` URL, as for buildRelayUrl):
 * `/wg` at the end is replaced by `/speed`, a path prefix is kept.
 * @throws {TypeError} when `base` is not an http(s)/ws(s) URL; RangeError for a bad byte count.
 */
export function buildSpeedUrl(base: string, direction: SpeedDirection, bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new RangeError(`the transfer size must be a positive whole number of bytes, not ${bytes}`);
  const url = relayWebSocketBase(base);
  let path = url.pathname;
  if (path.endsWith(RELAY_PATH)) path = path.slice(0, -RELAY_PATH.length);
  url.pathname = (path.endsWith('/') ? path : `${path}/`) + SPEED_PATH.slice(1);
  url.search = '';
  url.hash = '';
  url.searchParams.set(direction, String(bytes));
  return url.toString();
}

/** Reads `/speed?down=N` or `/speed?up=N` (N from 1 to `maxBytes`). Never throws. */
export function parseSpeedRequest(target: string, maxBytes: number): SpeedRequest {
  let url: URL;
  try {
    url = new URL(target, 'http://relay.invalid');
  } catch {
    return { ok: false, reason: 'malformed request URL' };
  }
  const down = url.searchParams.getAll('down');
  const up = url.searchParams.getAll('up');
  if (down.length + up.length !== 1) return { ok: false, reason: 'give exactly one of ?down=BYTES or ?up=BYTES' };
  const direction: SpeedDirection = down.length ? 'down' : 'up';
  const text = (down[0] ?? up[0])!;
  if (!/^[1-9]\d{0,15}$/.test(text)) return { ok: false, reason: `?${direction}= takes a number of bytes, not "${text.slice(0, 20)}"` };
  const bytes = Number(text);
  if (bytes > maxBytes) return { ok: false, reason: `at most ${maxBytes} bytes per speed test on this relay` };
  return { ok: true, direction, bytes };
}
