/**
 * Initial sequence numbers per RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * where M is a 4-microsecond clock and F a keyed hash (here BLAKE2s-MAC with a 32-byte key drawn from
 * the injected random source at construction). The same hash also yields a per-connection offset
 * for the TCP timestamps clock (RFC 7323 §5.4 recommends randomizing it), so TSvals do not reveal
 * uptime and differ between connections.
 */
import { blake2s } from '@noble/hashes/blake2.js';
import { ISN_TICKS_PER_MS } from './tcp-constants.ts';
import type { RandomBytes } from '../../shared/bytes.ts';


/** What a connection's 4-tuple hashes to. */
export interface IsnResult {
  /** Initial send sequence number. */
  isn: number;
  /** Offset added to the millisecond clock to form TSval. */
  tsOffset: number;
}

/** Keyed ISN generator shared by all connections of a table. */
export class IsnGenerator {
  private readonly key: Uint8Array;
  private readonly input = new Uint8Array(36);

  constructor(randomBytes: RandomBytes) {
    const key = randomBytes(32);
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('randomBytes(32) must return 32 bytes');
    this.key = Uint8Array.from(key);
  }

  /** ISN and timestamp offset for the connection `local:localPort ⇄ remote:remotePort` at time `now` (ms). */
  generate(local: Uint8Array, localPort: number, remote: Uint8Array, remotePort: number, now: number): IsnResult {
    const input = this.input;
    input.fill(0);
    input.set(local, 0);
    input.set(remote, 16);
    input[32] = localPort >> 8;
    input[33] = localPort & 255;
    input[34] = remotePort >> 8;
    input[35] = remotePort & 255;
    const h = blake2s(input, { key: this.key, dkLen: 8 });
    const f = ((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0;
    const tsOffset = ((h[4] << 24) | (h[5] << 16) | (h[6] << 8) | h[7]) >>> 0;
    // M: the 4 µs clock of RFC 6528 §3, modulo 2^32 (exact in doubles for any realistic uptime).
    const m = Math.floor(now * ISN_TICKS_PER_MS) % 0x1_0000_0000;
    return { isn: (m + f) >>> 0, tsOffset };
  }
}
