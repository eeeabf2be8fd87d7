/**
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Used by IPv4 headers, ICMPv4, and, over a pseudo-header, by UDP, TCP (RFC 9293 §3.1) and ICMPv6
 * (RFC 8200 §8.1).
 */

const IS_LE = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Below this many bytes the 32-bit-word path does not pay for its view. */
const WORD_PATH_MIN = 32;
/** Words summed between folds: 8192 × (2 × 0xffff) stays below 2^30. */
const WORDS_PER_FOLD = 8192;

/**
 * Adds `bytes[start, end)` to a running sum of 16-bit big-endian words (not yet folded). An odd
 * trailing byte is padded with a zero byte, as RFC 1071 §4.1 specifies.
 *
 * Long runs starting at an even address are read as 32-bit words in the host's byte order and
 * the folded 16-bit sum is byte-swapped at the end: RFC 1071 §2(B) shows the one's-complement
 * sum does not depend on byte order except for that swap. This is on the per-segment hot path of
 * bulk TCP and measured about 1.7× faster than the byte-pair loop (docs/benchmarks.md).
 */
export function sumBytes(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  const at = bytes.byteOffset + i;
  if (IS_LE && (at & 1) === 0 && end - i >= WORD_PATH_MIN) {
    if (at & 2) {
      sum += (bytes[i] << 8) | bytes[i + 1];
      i += 2;
    }
    const count = (end - i) >>> 2;
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, count);
    let swapped = 0;
    for (let k = 0; k < count; ) {
      const stop = Math.min(count, k + WORDS_PER_FOLD);
      for (; k + 3 < stop; k += 4) {
        const a = w[k], b = w[k + 1], c = w[k + 2], d = w[k + 3];
        swapped += (a & 0xffff) + (a >>> 16) + (b & 0xffff) + (b >>> 16) + (c & 0xffff) + (c >>> 16) + (d & 0xffff) + (d >>> 16);
      }
      for (; k < stop; k++) swapped += (w[k] & 0xffff) + (w[k] >>> 16);
      swapped = (swapped & 0xffff) + (swapped >>> 16);
    }
    while (swapped > 0xffff) swapped = (swapped & 0xffff) + (swapped >>> 16);
    sum += ((swapped & 0xff) << 8) | (swapped >>> 8);
    i += count << 2;
  }
  // Unrolled by 8 bytes: short ranges, odd addresses, big-endian hosts.
  for (; i + 7 < end; i += 8) {
    sum += ((bytes[i] << 8) | bytes[i + 1]) + ((bytes[i + 2] << 8) | bytes[i + 3]) +
      ((bytes[i + 4] << 8) | bytes[i + 5]) + ((bytes[i + 6] << 8) | bytes[i + 7]);
    // Fold early so the sum stays a small integer (V8 keeps it a Smi).
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Folds a running sum to 16 bits and returns its one's complement: the value to store. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Checksum of `bytes[start, end)` alone (IPv4 header, ICMPv4). */
export function internetChecksum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return finishChecksum(sumBytes(bytes, start, end));
}

/**
 * Running sum of the pseudo-header for UDP/TCP/ICMPv6: source and destination addresses (4 or 16
 * bytes each), the upper-layer protocol number and the upper-layer length (RFC 9293 §3.1,
 * RFC 8200 §8.1). Add the upper-layer bytes with {@link sumBytes}, then {@link finishChecksum}.
 */
export function pseudoHeaderSum(source: Uint8Array, destination: Uint8Array, protocol: number, length: number): number {
  let sum = sumBytes(source) + sumBytes(destination) + protocol;
  sum += (length >>> 16) + (length & 0xffff);
  return sum;
}
