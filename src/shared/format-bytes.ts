/**
 * Amounts in human units, one home for every part that prints them: byte counts in binary units,
 * as `wg show` prints transfer totals (`1.21 KiB`, `3.40 MiB`), and bit rates in decimal units, as
 * iperf3 prints them (`76.1 Mbit/s`).
 */
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `0 B`, `1023 B`, `1.00 KiB`, `1.21 MiB`. Negative or non-finite input gives `—`. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${Math.floor(n)} B`;
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(2)} ${UNITS[unit]}`;
}

const RATE_UNITS = ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'];

/**
 * `999 bit/s`, `76.1 Mbit/s`, `1.50 Gbit/s`: decimal units like iperf3's `Mbits/sec`, three
 * significant digits. Negative or non-finite input gives `—`.
 */
export function formatBitrate(bitsPerSecond: number): string {
  if (!Number.isFinite(bitsPerSecond) || bitsPerSecond < 0) return '—';
  let v = bitsPerSecond;
  let u = 0;
  while (v >= 1000 && u < RATE_UNITS.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(u === 0 ? 0 : v < 10 ? 2 : 1)} ${RATE_UNITS[u]}`;
}
