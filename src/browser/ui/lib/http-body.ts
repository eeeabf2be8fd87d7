/**
 * How the HTTP tool reads a request it is given and shows a response body: header lines, content
 * type sniffing, text decoding, JSON pretty-printing and the sandboxed HTML preview document.
 */

export type BodyKind = 'empty' | 'json' | 'html' | 'image' | 'text' | 'binary';

/** `text/html; charset=utf-8` → `text/html`. */
export function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

/** The charset parameter, lower-cased, or undefined. */
export function charsetOf(contentType: string | null | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

/** True when the first bytes decode as UTF-8 with no control characters besides tab/CR/LF/FF. */
export function looksLikeText(bytes: Uint8Array, sample = 4096): boolean {
  const head = bytes.subarray(0, sample);
  let text: string;
  try {
    // A cut in the middle of a multi-byte sequence at the sample's end is not a reason to say binary.
    text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: head.length < bytes.length });
  } catch {
    return false;
  }
  return !/[\u0000-\u0008\u000b\u000e-\u001f\u007f]/.test(text);
}

/** Which view suits the body best, from the declared type, then from the bytes. */
export function classifyBody(contentType: string | null | undefined, bytes: Uint8Array): BodyKind {
  if (bytes.length === 0) return 'empty';
  const type = mediaType(contentType);
  if (type.startsWith('image/')) return 'image';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'text/html' || type === 'application/xhtml+xml') return 'html';
  if (!looksLikeText(bytes)) return 'binary';
  if (!type || type === 'text/plain' || type === 'application/octet-stream') {
    const start = decodeText(bytes.subarray(0, 64), undefined).trimStart();
    if ((start.startsWith('{') || start.startsWith('[')) && prettyJson(decodeText(bytes, contentType)) !== undefined) return 'json';
    if (/^<(!doctype html|html|head|body)\b/i.test(start)) return 'html';
  }
  return 'text';
}

/** Decodes with the declared charset when the browser knows it, else UTF-8; never throws. */
export function decodeText(bytes: Uint8Array, contentType: string | null | undefined): string {
  const label = charsetOf(contentType) ?? 'utf-8';
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label);
  } catch {
    decoder = new TextDecoder('utf-8');
  }
  return decoder.decode(bytes);
}

/** Two-space indented JSON, or undefined when `text` is not JSON. */
export function prettyJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return undefined;
  }
}

export interface HeaderLines {
  headers: [string, string][];
  problems: { line: number; message: string }[];
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses the request-headers box: one `Name: value` per line; blank lines and `#` comments skipped. */
export function parseHeaderLines(text: string): HeaderLines {
  const headers: [string, string][] = [];
  const problems: { line: number; message: string }[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      problems.push({ line: i + 1, message: `"${line}" is not Name: value` });
      return;
    }
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) {
      problems.push({ line: i + 1, message: `"${name}" is not a valid header name` });
      return;
    }
    if (/[\r\n\0]/.test(value)) {
      problems.push({ line: i + 1, message: `the value of ${name} has a control character` });
      return;
    }
    headers.push([name, value]);
  });
  return { headers, problems };
}

/**
 * The `srcdoc` for previewing an HTML body. The iframe is `sandbox=""` (no scripts, no forms, an
 * opaque origin); the CSP added here also stops the preview from loading anything over the
 * network, outside the tunnel, so a page cannot phone home from the viewer's real address.
 */
export function sandboxedSrcdoc(html: string): string {
  const csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:";
  return `<meta http-equiv="Content-Security-Policy" content="${csp}"><base target="_blank">` + html;
}
