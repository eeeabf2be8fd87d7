/**
 * A QR code as one SVG path, for the generated client config (wg-quick mobile apps scan it).
 * Encoding is uqr's (a port of Nayuki's generator, ~4 kB gzip); this turns its module grid into
 * horizontal runs so a version-10 code is a few hundred path commands, not thousands of rects.
 */
import { encode } from 'uqr';

export interface QrMatrix {
  /** Modules per side, quiet zone included. */
  size: number;
  /** Dark modules as an SVG path in module units (viewBox 0 0 size size). */
  path: string;
  version: number;
}

/**
 * @param border quiet zone in modules; the standard asks for 4 (ISO/IEC 18004 §7.3.8).
 * @throws {RangeError} when `text` is too long for any QR version.
 */
export function qrMatrix(text: string, border = 4): QrMatrix {
  let qr: ReturnType<typeof encode>;
  try {
    qr = encode(text, { ecc: 'M', border });
  } catch (e) {
    throw new RangeError(`Too much text for a QR code (${text.length} characters): ${(e as Error).message}`);
  }
  let path = '';
  qr.data.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      path += `M${start} ${y}h${x - start}v1h${start - x}z`;
    }
  });
  return { size: qr.size, path, version: qr.version };
}
