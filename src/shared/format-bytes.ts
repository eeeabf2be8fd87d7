/**
 * Byte counts in binary units, as `wg show` prints transfer totals (`1.21 KiB`, `3.40 MiB`).
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
