/**
 * Tunnel vs direct (issue #15 item 1): the same download timed straight from this browser (or
 * CLI) to the relay's `/speed` endpoint (src/shared/speed-protocol.ts) and through the tunnel
 * from a host inside it, shown side by side with the tunnel as a percentage of direct — as the
 * seed's walkthrough compared the VPN against the physical link.
 *
 *   measureDirect: WebSocket ws(s)://relay/speed?down=N ─▶ count binary bytes from open to the
 *                  relay's closing report ─▶ { bytes, ms, bitsPerSecond }
 *   Session.tunnelVsDirect(url): measureDirect(N) and then Session.fetch(url) reading N bytes
 *                  ─▶ { direct, tunnel, percent }
 *
 * The two run one after the other (never at once: they share the same uplink), direct first.
 * The direct path carries the relay's WebSocket framing and TLS where wss is used; the tunnel adds
 * WireGuard's encryption, our TCP and the far host. The ratio is what the tunnel costs.
 */
import { ErrorCode, WgwebError } from '../shared/errors.ts';
import { relayTokenProtocol } from '../shared/relay-protocol.ts';
import { SPEED_SUBPROTOCOL, buildSpeedUrl, type SpeedReport } from '../shared/speed-protocol.ts';
import type { RelayWebSocketConstructor } from '../engine/relay-transport.ts';

/** One timed transfer. */
export interface TransferTiming {
  bytes: number;
  ms: number;
  bitsPerSecond: number;
}

/** What {@link Session.tunnelVsDirect} resolves with. */
export interface TunnelVsDirectResult {
  /** Bytes each side moved (the same). */
  bytes: number;
  /** The relay measured, and the URL fetched through the tunnel (query left out). */
  relay: string;
  url: string;
  direct: TransferTiming;
  tunnel: TransferTiming;
  /** tunnel ÷ direct throughput, in percent (one decimal). */
  percent: number;
}

export interface MeasureDirectOptions {
  relayUrl: string;
  bytes: number;
  WebSocketImpl?: RelayWebSocketConstructor;
  token?: string;
  now: () => number;
  signal?: AbortSignal;
  /** Whole-transfer limit (default 60 s). */
  timeoutMs?: number;
}

/**
 * Downloads `bytes` from the relay's `/speed` endpoint and times it (from the WebSocket's open to
 * the last byte).
 * @throws {WgwebError} RELAY_REFUSED with the relay's reason (disabled, token, limit), RELAY_UNREACHABLE,
 *   TIMEOUT, ABORTED.
 */
export function measureDirect(o: MeasureDirectOptions): Promise<TransferTiming> {
  const WS = o.WebSocketImpl ?? (globalThis as { WebSocket?: RelayWebSocketConstructor }).WebSocket;
  if (!WS) throw new TypeError('measureDirect: no WebSocket implementation');
  const url = buildSpeedUrl(o.relayUrl, 'down', o.bytes);
  const protocols = [SPEED_SUBPROTOCOL, ...(o.token ? [relayTokenProtocol(o.token)] : [])];
  return new Promise((resolve, reject) => {
    const ws = new WS(url, protocols);
    ws.binaryType = 'arraybuffer';
    let opened: number | undefined;
    let received = 0;
    let lastByteAt = 0;
    let report: SpeedReport | undefined;
    let settled = false;
    const done = (e?: WgwebError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      if (e) {
        try {
          ws.close();
        } catch {
          // already closing
        }
        reject(e);
        return;
      }
      const ms = Math.max(0.001, lastByteAt - opened!);
      resolve({ bytes: received, ms: Math.round(ms * 10) / 10, bitsPerSecond: Math.round((received * 8 * 1000) / ms) });
    };
    const onAbort = (): void => done(new WgwebError(ErrorCode.ABORTED, 'The comparison was stopped.'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => done(new WgwebError(ErrorCode.TIMEOUT, `the direct download of ${o.bytes} bytes from the relay took longer than ${Math.round((o.timeoutMs ?? 60_000) / 1000)} s`)), o.timeoutMs ?? 60_000);
    ws.onopen = () => {
      opened = o.now();
    };
    ws.onmessage = (event: { data: unknown }) => {
      if (typeof event.data === 'string') {
        try {
          report = JSON.parse(event.data) as SpeedReport;
        } catch {
          // not ours; the close tells
        }
        return;
      }
      received += (event.data as ArrayBuffer).byteLength;
      lastByteAt = o.now();
    };
    ws.onerror = () => {};
    ws.onclose = (event: { code: number; reason: string }) => {
      if (settled) return;
      if (event.code === 1000 && report && received === o.bytes) return done();
      if (opened === undefined && !event.reason) {
        return done(new WgwebError(ErrorCode.RELAY_UNREACHABLE, `cannot reach the relay's speed test at ${url.split('?')[0]} (WebSocket closed ${event.code})`, { url: url.split('?')[0] }));
      }
      done(new WgwebError(ErrorCode.RELAY_REFUSED, `the relay's speed test ended early (${event.code}${event.reason ? `: ${event.reason}` : ''}) after ${received} of ${o.bytes} bytes`, { closeCode: event.code, closeReason: event.reason }));
    };
  });
}
