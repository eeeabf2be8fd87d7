/**
 * permessage-deflate (RFC 7692) for the WebSocket client: the offer, the check of the server's
 * answer, and inflating one received message with a size limit.
 *
 *   offer:    Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover
 *   answer:   parseDeflateResponse(params) ─▶ accepted parameters, or a failure sentence (§7.1)
 *   message:  RSV1 set on its first frame (§6) ─▶ reassembled ─▶ inflateMessage(bytes, limit)
 *             = DecompressionStream('deflate-raw') over bytes ‖ 00 00 ff ff (§7.2.2) ‖ 03 00
 *
 * Why this shape: inflating uses the platform's DecompressionStream ('deflate-raw', in Chromium,
 * Firefox, Safari and Node ≥ 18), so no zlib port ships in the bundle. A DecompressionStream cannot
 * be flushed at a message boundary and kept for the next message, so the offer asks the server for
 * `server_no_context_takeover` (§7.1.1.1): each message is then a deflate stream of its own, which
 * the appended empty final block (`03 00`: BFINAL=1, fixed Huffman, end of block) completes.
 * We send our own messages uncompressed (RSV1 clear), which §6 allows per message, so nothing of
 * the client_* parameters constrains us. A message that inflates beyond the limit (a decompression
 * bomb) is stopped as soon as the output passes it.
 */

import { concatBytes } from '../../shared/bytes.ts';

/** The extension token (RFC 7692 §7). */
export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/** What the client offers (one offer, §5.1). */
export const PERMESSAGE_DEFLATE_OFFER = `${PERMESSAGE_DEFLATE}; server_no_context_takeover`;

/** The accepted parameters (§7.1). */
export interface DeflateParameters {
  /** The server's LZ77 window (8-15, default 15): any fits the inflater, noted for the teaching views. */
  serverMaxWindowBits: number;
  /** The server asked us not to keep context between our messages (we never compress: no effect). */
  clientNoContextTakeover: boolean;
}

/** The sync-flush tail the sender removed (§7.2.1), then an empty final block that ends the stream. */
const TAIL = Uint8Array.of(0x00, 0x00, 0xff, 0xff, 0x03, 0x00);

/** Thrown by {@link inflateMessage} when the output passes the limit. */
export class InflateLimitError extends Error {}

/**
 * Checks the server's permessage-deflate response parameters (the text after the extension name,
 * e.g. `; server_no_context_takeover; server_max_window_bits=10`) against our offer (§7.1).
 */
export function parseDeflateResponse(params: string): DeflateParameters | { failure: string } {
  const seen = new Set<string>();
  let serverMaxWindowBits = 15;
  let clientNoContextTakeover = false;
  for (const raw of params.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : part.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    // §7: "a server MUST NOT include ... the same parameter more than once".
    if (seen.has(name)) return { failure: `permessage-deflate: the parameter ${name} appears twice` };
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== undefined) return { failure: `permessage-deflate: ${name} takes no value` };
        if (name === 'client_no_context_takeover') clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        // §7.1.2.1: a decimal 8-15 without leading zeros.
        if (value === undefined || !/^(8|9|1[0-5])$/.test(value)) return { failure: `permessage-deflate: server_max_window_bits=${value ?? ''} is not 8 to 15` };
        serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        // §7.1.2.2: only in answer to an offer that had it; ours does not.
        return { failure: 'permessage-deflate: client_max_window_bits in the answer, which was not offered' };
      default:
        return { failure: `permessage-deflate: unknown parameter ${name}` };
    }
  }
  // §7.1.1.1: a server accepting an offer with server_no_context_takeover MUST include it.
  if (!seen.has('server_no_context_takeover')) return { failure: 'permessage-deflate: the answer lacks server_no_context_takeover, which was offered' };
  return { serverMaxWindowBits, clientNoContextTakeover };
}

/**
 * Inflates one compressed message (§7.2.2).
 * @throws {InflateLimitError} once the output would exceed `limit` bytes (reading stops there).
 * @throws {TypeError} when the bytes are not valid deflate data.
 */
export async function inflateMessage(compressed: Uint8Array, limit: number): Promise<Uint8Array> {
  const stream = new DecompressionStream('deflate-raw');
  const writer = stream.writable.getWriter();
  // Errors surface on the reading side; the writes' own rejections are the same error.
  void writer.write(compressed as Uint8Array<ArrayBuffer>).catch(() => {});
  void writer.write(TAIL).catch(() => {});
  void writer.close().catch(() => {});
  const reader = stream.readable.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) {
      await reader.cancel().catch(() => {});
      throw new InflateLimitError(`the message inflates to more than ${limit} bytes`);
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : concatBytes(...parts);
}
