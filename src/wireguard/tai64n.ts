/**
 * TAI64N timestamps (cr.yp.to/libtai/tai64.html) as carried, encrypted, in every handshake
 * initiation (WireGuard paper §5.1, §5.4.2): 8 bytes big-endian seconds label (2^62 + 10 + Unix
 * seconds, the TAI-UTC offset WireGuard uses) and 4 bytes big-endian nanoseconds.
 *
 * The responder keeps the greatest timestamp it accepted from each peer and rejects initiations
 * that are not strictly greater, which defeats replay of captured initiations. Like the kernel and
 * wireguard-go, the low 24 bits of the nanoseconds are cleared ("whitening") so the timestamp does
 * not leak a precise clock to an observer of the handshake; the result still increases fast
 * enough for the 50-per-second initiation limit.
 */
import { TAI64N_WHITENER_MASK, TIMESTAMP_SIZE } from './constants.ts';

/** 2^62 + 10: the TAI64 label of the Unix epoch as WireGuard writes it. High and low words. */
const LABEL_HI = 0x40000000;
const LABEL_LO_OFFSET = 10;

/**
 * The whitened TAI64N timestamp for a wall-clock time in milliseconds since the Unix epoch.
 * @throws {RangeError} for a negative, non-finite or absurdly large time.
 */
export function tai64n(wallClockMs: number): Uint8Array {
  if (!Number.isFinite(wallClockMs) || wallClockMs < 0 || wallClockMs > 2 ** 47) {
    throw new RangeError(`wall-clock time must be a non-negative number of milliseconds, got ${wallClockMs}`);
  }
  const ms = Math.floor(wallClockMs);
  const seconds = Math.floor(ms / 1000) + LABEL_LO_OFFSET;
  const nanos = ((ms % 1000) * 1_000_000) & ~TAI64N_WHITENER_MASK;
  const out = new Uint8Array(TIMESTAMP_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, LABEL_HI + Math.floor(seconds / 2 ** 32));
  view.setUint32(4, seconds >>> 0);
  view.setUint32(8, nanos >>> 0);
  return out;
}

/** Byte-wise comparison; big-endian fields make this the chronological order. */
export function compareTai64n(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < TIMESTAMP_SIZE; i++) {
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** Wall-clock milliseconds encoded in a timestamp (for display); `undefined` if the label is not WireGuard's. */
export function tai64nToWallClockMs(t: Uint8Array): number | undefined {
  if (t.length !== TIMESTAMP_SIZE) return undefined;
  const view = new DataView(t.buffer, t.byteOffset, TIMESTAMP_SIZE);
  const hi = view.getUint32(0) - LABEL_HI;
  if (hi < 0 || hi > 0xffff) return undefined;
  const seconds = hi * 2 ** 32 + view.getUint32(4) - LABEL_LO_OFFSET;
  return seconds * 1000 + Math.floor(view.getUint32(8) / 1_000_000);
}
