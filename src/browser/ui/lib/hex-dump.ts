/**
 * A canonical hex dump (the layout of `hexdump -C`): offset, 16 bytes in two groups of 8, and the
 * printable-ASCII column, for the HTTP tool's "Hex" body view.
 */

export interface HexDump {
  text: string;
  /** True when `bytes` was longer than `maxBytes` and the dump stops early. */
  truncated: boolean;
}

/**
 * @param maxBytes dump at most this many bytes (default 64 KiB) so huge bodies stay responsive.
 */
export function hexDump(bytes: Uint8Array, maxBytes = 64 * 1024): HexDump {
  if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError('maxBytes must be a non-negative integer');
  const n = Math.min(bytes.length, maxBytes);
  const lines: string[] = [];
  for (let offset = 0; offset < n; offset += 16) {
    const end = Math.min(offset + 16, n);
    let hex = '';
    let ascii = '';
    for (let i = offset; i < offset + 16; i++) {
      if (i === offset + 8) hex += ' ';
      if (i < end) {
        const b = bytes[i];
        hex += b.toString(16).padStart(2, '0') + ' ';
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      } else {
        hex += '   ';
      }
    }
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${hex} |${ascii}|`);
  }
  lines.push(n.toString(16).padStart(8, '0'));
  return { text: lines.join('\n'), truncated: bytes.length > n };
}
