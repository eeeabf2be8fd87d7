/**
 * The relay's `/speed` endpoint (src/shared/speed-protocol.ts): one accepted WebSocket streams or
 * sinks a bounded number of bytes so a client can time the straight browser ↔ relay path against
 * the same transfer through the tunnel (issue #15 item 1).
 *
 *   down: send N bytes in 60 KiB binary messages, at most WINDOW messages unsent in ws's
 *         buffer at a time (backpressure, not buffering) ─▶ text {"bytes":N,"ms":…} ─▶ close 1000
 *   up:   count binary bytes as they arrive ─▶ at N: text {"bytes":N,"ms":…} ─▶ close 1000;
 *         more than N, a text message or a larger message ─▶ close 1008 (POLICY) with the reason
 *   either: longer than `timeoutMs` ─▶ close 1008 "speed test took too long"
 *
 * The relay server decides whether the request may run at all (enabled, auth token, per-client
 * slot, see relay-server.ts); this module only moves the bytes and resolves when the socket is
 * closed, with what was moved.
 */
import type WebSocket from 'ws';
import { SPEED_CHUNK_BYTES, type SpeedDirection, type SpeedReport } from '../../shared/speed-protocol.ts';

/** Messages in flight in ws's send buffer before the sender waits for one to be written. */
const WINDOW = 16;

export interface SpeedTestOptions {
  readonly direction: SpeedDirection;
  readonly bytes: number;
  /** Whole test limit (default 120 s). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** What {@link serveSpeedTest} resolves with. */
export interface SpeedTestOutcome extends SpeedReport {
  readonly direction: SpeedDirection;
  /** True when all bytes moved and the report was sent. */
  readonly complete: boolean;
}

/** One random block, reused for every message (no compression happens; its content does not matter). */
let block: Buffer | undefined;

/** Runs one test on an open WebSocket; see the module comment. Never rejects. */
export function serveSpeedTest(ws: WebSocket, options: SpeedTestOptions): Promise<SpeedTestOutcome> {
  const now = options.now ?? (() => performance.now());
  const started = now();
  const { direction, bytes } = options;
  block ??= Buffer.from(crypto.getRandomValues(new Uint8Array(SPEED_CHUNK_BYTES)));
  let moved = 0;
  let complete = false;
  return new Promise((resolve) => {
    const finish = (code: number, reason: string): void => {
      clearTimeout(timer);
      if (ws.readyState === ws.OPEN) ws.close(code, reason);
    };
    const report = (): void => {
      complete = true;
      const r: SpeedReport = { bytes: moved, ms: Math.round((now() - started) * 10) / 10 };
      ws.send(JSON.stringify(r), () => finish(1000, 'done'));
    };
    const timer = setTimeout(() => finish(1008, 'speed test took too long'), options.timeoutMs ?? 120_000);
    timer.unref?.();
    ws.on('close', () => {
      clearTimeout(timer);
      resolve({ direction, bytes: moved, ms: Math.round((now() - started) * 10) / 10, complete });
    });
    ws.on('error', () => {});
    if (direction === 'up') {
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
        if (complete) return;
        const n = Array.isArray(data) ? data.reduce((a, b) => a + b.length, 0) : data.byteLength;
        if (!isBinary) return finish(1008, 'send binary messages only');
        if (n > SPEED_CHUNK_BYTES) return finish(1008, `messages of at most ${SPEED_CHUNK_BYTES} bytes`);
        moved += n;
        if (moved > bytes) return finish(1008, `more than the ${bytes} bytes announced`);
        if (moved === bytes) report();
      });
      return;
    }
    ws.on('message', () => finish(1008, 'this is a download: send nothing'));
    let inFlight = 0;
    const pump = (): void => {
      while (inFlight < WINDOW && moved < bytes && ws.readyState === ws.OPEN) {
        const n = Math.min(SPEED_CHUNK_BYTES, bytes - moved);
        moved += n;
        inFlight++;
        ws.send(n === SPEED_CHUNK_BYTES ? block! : block!.subarray(0, n), { binary: true }, () => {
          inFlight--;
          if (moved < bytes) pump();
          else if (inFlight === 0 && !complete && ws.readyState === ws.OPEN) report();
        });
      }
    };
    pump();
  });
}
