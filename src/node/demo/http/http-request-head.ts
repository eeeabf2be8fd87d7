/**
 * HTTP/1.1 request heads for the demo peer's web server (RFC 9112 §3 request line, §5 fields,
 * §6.3 message-body length), sans-IO: bytes in, a parsed head or a reasoned refusal out.
 *
 *   bytes ──findHeadEnd──▶ head length? ──parseRequestHead──▶ RequestHead | RequestHeadError
 *                                                   └──▶ body: none | length n | chunked
 *
 * The parser is strict where leniency has bitten servers before (request smuggling): a field name
 * followed by whitespace, obsolete line folding, a bare CR, conflicting Content-Length values, and
 * Content-Length together with Transfer-Encoding are all refused with 400 (RFC 9112 §5.1, §5.2,
 * §6.1, §6.3). Every refusal carries the status and a sentence for the client.
 */
import { findHeadEnd } from '../../../protocols/http/http-response-parser.ts';

export { findHeadEnd };

/** Limits on what one request head may hold. */
export interface RequestHeadLimits {
  /** Request line plus header section, terminating empty line included (default 16 KiB). */
  maxHeadBytes: number;
  /** Longest request target (default 8 KiB). */
  maxTargetLength: number;
  /** Field lines (default 100). */
  maxHeaderCount: number;
}

export const DEFAULT_REQUEST_HEAD_LIMITS: RequestHeadLimits = {
  maxHeadBytes: 16 * 1024,
  maxTargetLength: 8 * 1024,
  maxHeaderCount: 100,
};

/** How the request body is delimited (RFC 9112 §6.3, rules 4 to 6 for requests). */
export type RequestBodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent (origin-form `/path?query`, or `*`). */
  target: string;
  /** Path of the target, percent-encoding kept; `*` for OPTIONS *. */
  path: string;
  /** Query string without `?` ('' when absent). */
  query: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: number;
  /** Field lines in order, names lower-cased. */
  headers: [string, string][];
  body: RequestBodyFraming;
  /** True when the client asked to wait for `100 Continue` before sending the body. */
  expectContinue: boolean;
  /** Whether the client allows another request on this connection (RFC 9112 §9.3). */
  keepAlive: boolean;
}

/** A head that must be refused: the status to answer with and why. */
export interface RequestHeadError {
  status: 400 | 405 | 414 | 431 | 501 | 505 | 417;
  message: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII without space: what a request target may contain on the wire (RFC 3986 chars and more). */
const TARGET = /^[\x21-\x7e]+$/;

function latin1(buf: Uint8Array): string {
  let s = '';
  for (let i = 0; i < buf.length; i += 8192) s += String.fromCharCode(...buf.subarray(i, Math.min(buf.length, i + 8192)));
  return s;
}

function fail(status: RequestHeadError['status'], message: string): RequestHeadError {
  return { status, message };
}

/** Values of a field (lower-case name), comma lists split and trimmed. */
export function fieldValues(headers: readonly [string, string][], name: string): string[] {
  const out: string[] = [];
  for (const [n, v] of headers) {
    if (n !== name) continue;
    for (const part of v.split(',')) {
      const t = part.trim();
      if (t) out.push(t);
    }
  }
  return out;
}

/** The single value of a field, or undefined (first one when repeated). */
export function fieldValue(headers: readonly [string, string][], name: string): string | undefined {
  for (const [n, v] of headers) if (n === name) return v;
  return undefined;
}

/**
 * Parses `head`: the bytes up to and including the empty line ({@link findHeadEnd}). Leading empty
 * lines before the request line are skipped (RFC 9112 §2.2).
 */
export function parseRequestHead(head: Uint8Array, limits: RequestHeadLimits = DEFAULT_REQUEST_HEAD_LIMITS): RequestHead | RequestHeadError {
  if (head.length > limits.maxHeadBytes) return fail(431, `the request head is larger than ${limits.maxHeadBytes} bytes`);
  const text = latin1(head);
  const raw = text.split('\n');
  const lines: string[] = [];
  for (const l of raw) {
    const line = l.endsWith('\r') ? l.slice(0, -1) : l;
    // A bare CR is not a line end and may not appear anywhere else in a head (RFC 9112 §2.2).
    if (line.includes('\r')) return fail(400, 'the request head contains a bare CR');
    if (line.includes('\0')) return fail(400, 'the request head contains a NUL byte');
    lines.push(line);
  }
  while (lines.length > 0 && lines[0] === '') lines.shift();
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const requestLine = lines.shift();
  if (requestLine === undefined) return fail(400, 'the request has no request line');

  const parts = requestLine.split(' ');
  if (parts.length !== 3) return fail(400, 'the request line is not "METHOD target HTTP/1.1"');
  const [method, target, version] = parts;
  if (!TOKEN.test(method)) return fail(400, 'the request method is not a token');
  const vm = /^HTTP\/(\d)\.(\d)$/.exec(version);
  if (!vm) return fail(400, 'the request line does not end with an HTTP version');
  if (vm[1] !== '1') return fail(505, `HTTP/${vm[1]}.${vm[2]} is not supported here; use HTTP/1.1`);
  const minorVersion = Number(vm[2]) >= 1 ? 1 : 0;
  if (target.length > limits.maxTargetLength) return fail(414, `the request target is longer than ${limits.maxTargetLength} characters`);
  if (!TARGET.test(target)) return fail(400, 'the request target contains characters that are not allowed');

  let path: string;
  let query = '';
  if (target === '*') {
    if (method !== 'OPTIONS') return fail(400, 'the asterisk target is only for OPTIONS');
    path = '*';
  } else {
    let t = target;
    if (!t.startsWith('/')) {
      // absolute-form (RFC 9112 §3.2.2) must be accepted by servers; authority-form is for CONNECT.
      const m = /^https?:\/\/[^/?#]+(.*)$/i.exec(t);
      if (method === 'CONNECT') return fail(405, 'this server is not a proxy: CONNECT is not supported');
      if (!m) return fail(400, 'the request target is not a path (it should start with "/")');
      t = m[1] === '' ? '/' : m[1];
      if (!t.startsWith('/') && !t.startsWith('?')) return fail(400, 'the request target is not a path');
      if (t.startsWith('?')) t = `/${t}`;
    }
    const hash = t.indexOf('#');
    if (hash >= 0) return fail(400, 'a request target cannot contain a fragment (#)');
    const q = t.indexOf('?');
    path = q >= 0 ? t.slice(0, q) : t;
    query = q >= 0 ? t.slice(q + 1) : '';
  }

  const headers: [string, string][] = [];
  for (const line of lines) {
    if (line === '') return fail(400, 'the request head contains an empty line before its end');
    if (line[0] === ' ' || line[0] === '\t') return fail(400, 'obsolete line folding is not accepted in requests');
    const colon = line.indexOf(':');
    if (colon <= 0) return fail(400, 'a header line has no name and colon');
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return fail(400, `the header name ${JSON.stringify(name.slice(0, 40))} is not valid (no spaces before the colon)`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    headers.push([name.toLowerCase(), value]);
    if (headers.length > limits.maxHeaderCount) return fail(431, `the request has more than ${limits.maxHeaderCount} header lines`);
  }

  // RFC 9112 §3.2: HTTP/1.1 requests carry exactly one Host.
  const hosts = headers.filter(([n]) => n === 'host');
  if (minorVersion === 1 && hosts.length !== 1) return fail(400, hosts.length === 0 ? 'an HTTP/1.1 request needs a Host header' : 'the request has more than one Host header');

  // Body framing (RFC 9112 §6.1, §6.3).
  const te = fieldValues(headers, 'transfer-encoding').map((c) => c.toLowerCase());
  const cls = headers.filter(([n]) => n === 'content-length').flatMap(([, v]) => v.split(',').map((x) => x.trim()));
  let body: RequestBodyFraming = { kind: 'none' };
  // A Transfer-Encoding line counts even when its value is empty: a proxy in front may read it
  // differently, and a request framed two ways is how requests are smuggled (RFC 9112 §6.1, §11.2).
  if (headers.some(([n]) => n === 'transfer-encoding')) {
    if (cls.length > 0) return fail(400, 'a request cannot have both Content-Length and Transfer-Encoding');
    if (te.length === 0) return fail(400, 'the Transfer-Encoding header is empty');
    if (minorVersion === 0) return fail(400, 'Transfer-Encoding is not allowed in an HTTP/1.0 request');
    if (te[te.length - 1] !== 'chunked') return fail(400, 'the last transfer coding of a request must be chunked');
    if (te.length > 1) return fail(501, `the transfer coding ${te[0]} is not supported; send the body chunked or with Content-Length`);
    body = { kind: 'chunked' };
  } else if (cls.length > 0) {
    if (!cls.every((v) => /^[0-9]{1,15}$/.test(v))) return fail(400, 'Content-Length is not a number');
    if (!cls.every((v) => Number(v) === Number(cls[0]))) return fail(400, 'the request has conflicting Content-Length values');
    const length = Number(cls[0]);
    body = length > 0 ? { kind: 'length', length } : { kind: 'none' };
  }

  const expect = fieldValue(headers, 'expect');
  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.toLowerCase() !== '100-continue') return fail(417, `the expectation ${JSON.stringify(expect.slice(0, 40))} is not supported`);
    // RFC 9110 §10.1.1: a 100-continue from an HTTP/1.0 client is ignored.
    expectContinue = minorVersion === 1 && body.kind !== 'none';
  }

  const connection = fieldValues(headers, 'connection').map((c) => c.toLowerCase());
  const keepAlive = minorVersion === 1 ? !connection.includes('close') : connection.includes('keep-alive');
  return { method, target, path, query, minorVersion, headers, body, expectContinue, keepAlive };
}

/** True for a {@link RequestHeadError}. */
export function isRequestHeadError(r: RequestHead | RequestHeadError): r is RequestHeadError {
  return (r as RequestHeadError).status !== undefined && (r as RequestHead).method === undefined;
}
