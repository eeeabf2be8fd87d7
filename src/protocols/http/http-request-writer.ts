/**
 * Serializes an HTTP/1.1 request (RFC 9112 §3 request line, §5 fields, §6 body framing) onto an
 * {@link HttpConnection}.
 *
 *   RequestBody ─▶ Content-Length (bytes known) or Transfer-Encoding: chunked (stream of unknown length)
 *   head + body ─▶ one write when small (fewer segments through the tunnel), else head then body
 */
import { REQUEST_COALESCE_LIMIT } from './http-constants.ts';
import type { HttpConnection } from './http-connection.ts';
import { concatBytes } from '../../shared/bytes.ts';

/** Request body as the client holds it: replayable bytes, or a one-shot stream. */
export type RequestBody =
  | { kind: 'none' }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'stream'; stream: ReadableStream<Uint8Array>; length?: number };

/** Thrown (wrapped) when the caller's request-body stream fails or lies about its length. */
export class RequestBodyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RequestBodyError';
  }
}


const encoder = new TextEncoder();

function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/**
 * The request head. `fields` are already validated (a Fetch `Headers` guarantees ByteStrings
 * without CR/LF); `target` is origin-form (RFC 9112 §3.2.1).
 */
export function serializeRequestHead(method: string, target: string, fields: [string, string][]): Uint8Array {
  let s = `${method} ${target} HTTP/1.1\r\n`;
  for (const [name, value] of fields) s += `${name}: ${value}\r\n`;
  s += '\r\n';
  return latin1Bytes(s);
}

/** Writes head and body; resolves once the last byte was handed to the connection. */
export async function writeRequest(conn: HttpConnection, head: Uint8Array, body: RequestBody): Promise<void> {
  if (body.kind === 'none') {
    await conn.write(head);
    return;
  }
  if (body.kind === 'bytes') {
    if (body.bytes.length <= REQUEST_COALESCE_LIMIT) {
      await conn.write(concatBytes(head, body.bytes));
    } else {
      await conn.write(head);
      await conn.write(body.bytes);
    }
    return;
  }
  await conn.write(head);
  const reader = body.stream.getReader();
  let sent = 0;
  try {
    for (;;) {
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        throw new RequestBodyError(`reading the request body failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (r.done) break;
      const chunk = r.value;
      if (!(chunk instanceof Uint8Array)) throw new RequestBodyError('the request body stream must yield Uint8Array chunks');
      if (chunk.length === 0) continue;
      sent += chunk.length;
      if (body.length !== undefined) {
        if (sent > body.length) throw new RequestBodyError(`the request body stream produced more than the ${body.length} bytes its Content-Length announced`);
        await conn.write(chunk);
      } else {
        // chunk-size CRLF data CRLF (RFC 9112 §7.1), one chunk per stream chunk.
        const prefix = encoder.encode(`${chunk.length.toString(16)}\r\n`);
        const framed = new Uint8Array(prefix.length + chunk.length + 2);
        framed.set(prefix);
        framed.set(chunk, prefix.length);
        framed[framed.length - 2] = 0x0d;
        framed[framed.length - 1] = 0x0a;
        await conn.write(framed);
      }
    }
    if (body.length !== undefined) {
      if (sent !== body.length) throw new RequestBodyError(`the request body stream produced ${sent} bytes, but its Content-Length announced ${body.length}`);
    } else {
      await conn.write(encoder.encode('0\r\n\r\n'));
    }
  } catch (e) {
    reader.cancel(e).catch(() => {});
    throw e;
  } finally {
    reader.releaseLock();
  }
}
