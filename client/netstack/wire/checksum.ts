/**
 * The Internet checksum (RFC 1071): one's-complement sum of 16-bit big-endian words.
 * Used by IPv4 headers, ICMPv4, and, over a pseudo-header, by UDP, TCP (RFC 9293 §3.1) and ICMPv6
 * (RFC 8200 §8.1).
 */

/**
 * Adds `bytes[start, end)` to a running 32-bit sum (not yet folded). An odd trailing byte is
 * padded with a zero byte, as RFC 1071 §4.1 specifies.
 */
export function sumBytes(bytes: Uint8Array, start = 0, end = bytes.length, sum = 0): number {
  let i = start;
  // Unrolled by 8 bytes: this is on the per-packet hot path for bulk TCP.
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
