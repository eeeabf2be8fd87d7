/**
 * HTTP/1.1 response heads (RFC 9112 §4 status line, §5 fields) and message-body framing
 * (RFC 9112 §6.3), for the in-tunnel HTTP client.
 *
 *   bytes ──findHeadEnd──▶ head length? ──parseResponseHead──▶ ResponseHead
 *   (request method, ResponseHead) ──bodyFraming──▶ none | length n | chunked | until close
 *
 * Everything here is about bytes from the network: problems are reported as
 * {@link HttpProtocolError}s, which the client turns into a user-facing `HTTP_PROTOCOL` error
 * naming the server.
 */

/** Malformed or over-limit response data; `message` says what was wrong, without the server name. */
export class HttpProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpProtocolError';
  }
}

/** A parsed status line and header section. */
export interface ResponseHead {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later 1.x, RFC 9110 §2.5). */
  minorVersion: number;
  status: number;
  /** Reason phrase; characters a Fetch `Response` would refuse are dropped. */
  statusText: string;
  /** Field lines in order, names as sent; obsolete line folding replaced by a space (RFC 9112 §5.2). */
  headers: [string, string][];
}

export interface HeadLimits {
  /** Bytes of status line plus header section (terminating empty line included). */
  maxHeaderBytes: number;
  /** Number of field lines. */
  maxHeaderCount: number;
}

/**
 * Index just past the empty line that ends a head starting at 0, or -1 when more bytes are
 * needed. Recognizes CRLF and, as RFC 9112 §2.2 permits, bare LF line ends. `from` lets a caller
 * resume scanning where the previous call stopped.
 */
export function findHeadEnd(buf: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    // An LF followed by LF, or by CR LF, ends the head.
    if (i + 1 < buf.length && buf[i + 1] === 0x0a) return i + 2;
    if (i + 2 < buf.length && buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

/** Where a resumed {@link findHeadEnd} scan may safely start after `length` bytes were scanned. */
export function headScanResume(length: number): number {
  return Math.max(0, length - 3);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i += 8192) {
    s += String.fromCharCode(...buf.subarray(i, Math.min(end, i + 8192)));
  }
  return s;
}

/**
 * Parses `head` (the bytes up to and including the empty line, as found by {@link findHeadEnd}).
 * @throws {HttpProtocolError} for anything that is not an HTTP/1.x response head or breaks a limit.
 */
export function parseResponseHead(head: Uint8Array, limits: HeadLimits): ResponseHead {
  if (head.length > limits.maxHeaderBytes) throw headersTooLarge(limits.maxHeaderBytes);
  const text = latin1(head, 0, head.length);
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  // The last two entries are the empty line and what follows the final LF.
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const statusLine = lines.shift() ?? '';
  const m = /^HTTP\/1\.(\d) (\d{3})(?: (.*))?$/.exec(statusLine) ?? /^HTTP\/1\.(\d) (\d{3})$/.exec(statusLine.trimEnd());
  if (!m) {
    const shown = statusLine.length > 40 ? `${statusLine.slice(0, 40)}…` : statusLine;
    throw new HttpProtocolError(`the server did not answer with HTTP/1.x (its first line was ${JSON.stringify(shown)})`);
  }
  const minorVersion = Number(m[1]);
  const status = Number(m[2]);
  // Fetch's Response accepts only HTAB, SP, VCHAR and obs-text in a reason phrase.
  const statusText = (m[3] ?? '').replace(/[^\t\x20-\x7e\x80-\xff]/g, '').trim();
  const headers: [string, string][] = [];
  for (const line of lines) {
    if (line.length === 0) continue;
    if (line[0] === ' ' || line[0] === '\t') {
      // obs-fold (RFC 9112 §5.2): continue the previous value with a single space.
      const prev = headers[headers.length - 1];
      if (!prev) throw new HttpProtocolError('the response headers begin with a continuation line');
      prev[1] = `${prev[1]} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new HttpProtocolError(`a response header line has no name and colon (${JSON.stringify(line.slice(0, 40))})`);
    const name = line.slice(0, colon);
    // RFC 9112 §5.1: no whitespace between name and colon; a name is a token.
    if (!TOKEN.test(name)) throw new HttpProtocolError(`the response header name ${JSON.stringify(name.slice(0, 40))} is not valid`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (/[\x00\r\n]/.test(value)) throw new HttpProtocolError(`the response header ${name} contains a forbidden control character`);
    headers.push([name, value]);
    if (headers.length > limits.maxHeaderCount) {
      throw new HttpProtocolError(`the response has more than ${limits.maxHeaderCount} header lines (maxHeaderCount)`);
    }
  }
  return { minorVersion, status, statusText, headers };
}

/** The error for a head that outgrew `maxHeaderBytes`. */
export function headersTooLarge(maxHeaderBytes: number): HttpProtocolError {
  return new HttpProtocolError(`the response headers are larger than ${maxHeaderBytes} bytes (maxHeaderBytes)`);
}

/** All values of a header (case-insensitive name), each comma-separated list split and trimmed. */
export function headerList(head: ResponseHead, name: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (const [n, v] of head.headers) {
    if (n.toLowerCase() !== lower) continue;
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; length: number }
  | { kind: 'chunked' }
  | { kind: 'close' };

/**
 * Body framing for `head` answering a `method` request, plus whether the connection may carry
 * another request afterwards.
 * @throws {HttpProtocolError} for a bad or ambiguous Content-Length.
 */
export function bodyFraming(method: string, head: ResponseHead): { framing: BodyFraming; reusable: boolean } {
  const connection = headerList(head, 'connection').map((t) => t.toLowerCase());
  // RFC 9112 §9.3: 1.1 is persistent unless "close"; 1.0 only with "keep-alive" (RFC 2068 §19.7.1).
  let reusable = head.minorVersion >= 1 ? !connection.includes('close') : connection.includes('keep-alive') && !connection.includes('close');
  // §6.3 rule 1: HEAD, 1xx, 204 and 304 have no body whatever the fields say.
  if (method === 'HEAD' || (head.status >= 100 && head.status < 200) || head.status === 204 || head.status === 304) {
    return { framing: { kind: 'none' }, reusable };
  }
  const te = headerList(head, 'transfer-encoding').map((t) => t.toLowerCase());
  if (te.length > 0) {
    // Rule 3: chunked last means chunked; otherwise read until close. A Content-Length alongside
    // is ignored, and the connection must not be reused (a smuggling hazard).
    if (headerList(head, 'content-length').length > 0) reusable = false;
    if (te[te.length - 1] === 'chunked') return { framing: { kind: 'chunked' }, reusable };
    return { framing: { kind: 'close' }, reusable: false };
  }
  const cl = headerList(head, 'content-length');
  if (cl.length > 0) {
    // Rule 5: repeated identical values are one value; differing or non-numeric ones are an error.
    if (!cl.every((v) => /^\d+$/.test(v))) throw new HttpProtocolError(`the response has an invalid Content-Length (${JSON.stringify(cl.join(', '))})`);
    if (!cl.every((v) => BigInt(v) === BigInt(cl[0]))) {
      throw new HttpProtocolError(`the response has conflicting Content-Length values (${cl.join(', ')})`);
    }
    const length = Number(cl[0]);
    if (!Number.isSafeInteger(length)) throw new HttpProtocolError(`the response's Content-Length ${cl[0]} is too large`);
    return { framing: length === 0 ? { kind: 'none' } : { kind: 'length', length }, reusable };
  }
  // Rule 7: no framing fields: the body runs until the server closes.
  return { framing: { kind: 'close' }, reusable: false };
}
