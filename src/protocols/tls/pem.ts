/**
 * PEM text (RFC 7468) ⇄ DER bytes, for certificates the user pastes or picks as a file.
 *
 * Flow: find every `-----BEGIN X-----` … `-----END X-----` block → strip whitespace → strict
 * base64 decode. Text outside the blocks (the "subject=…" lines OpenSSL prints, comments in CA
 * bundles) is ignored, as RFC 7468 §2 allows. Malformed blocks are skipped, never thrown on, so a
 * bundle with one damaged entry still yields the others; the caller decides what "none" means.
 */
import { fromBase64, toBase64 } from '../../shared/bytes.ts';

/** One decoded PEM block. */
export interface PemBlock {
  /** The label between `BEGIN ` and the dashes, e.g. `CERTIFICATE`. */
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]{1,64})-----([\s\S]*?)-----END \1-----/g;

/** Every well-formed PEM block in `text`, in order. Never throws on content (only on a non-string). */
export function parsePemBlocks(text: string): PemBlock[] {
  if (typeof text !== 'string') throw new TypeError('PEM input must be a string');
  const out: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const body = m[2].replace(/\s+/g, '');
    // RFC 7468 §3 allows only base64 between the boundaries (no RFC 1421 headers for certificates).
    if (body.length === 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(body) || body.length % 4 !== 0) continue;
    try {
      out.push({ label: m[1], der: fromBase64(body) });
    } catch {
      // not valid base64 after all: skip this block
    }
  }
  return out;
}

/** The DER of every `CERTIFICATE` block (and the legacy `X509 CERTIFICATE` label). */
export function parsePemCertificates(text: string): Uint8Array[] {
  return parsePemBlocks(text)
    .filter((b) => b.label === 'CERTIFICATE' || b.label === 'X509 CERTIFICATE')
    .map((b) => b.der);
}

/** PEM text for `der` with 64-column lines (RFC 7468 §2). */
export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = toBase64(der);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
