/**
 * A streaming HTML rewriter for framed intranet documents: it maps the URLs a *navigation* would
 * follow (links, form actions, frame sources, `<base href>`, refresh targets) into the browse
 * space, and inserts the frame agent's script tag once, near the top. Everything else passes
 * through byte for byte.
 *
 *   bytes ──latin1──▶ write(chunk) ─▶ data ─'<'─▶ tag? ─▶ rewrite its URL attribute ─▶ out
 *                                      │          comment / doctype / end tag ─▶ out unchanged
 *                                      └─ raw text (<script>, <style>, <textarea>, <title>…) until its end tag
 *
 * Subresources (images, scripts, styles, fetch/XHR) are not rewritten: the Service Worker sees
 * every request a controlled document makes, wherever it points, so only navigations (which the
 * Service Worker sees only inside its scope) need their URLs changed.
 *
 * The rewriter works on "byte strings" (one Latin-1 character per byte) so a document keeps its
 * charset whatever it is (UTF-8, windows-1252, Shift_JIS…): only ASCII markup is read, and the
 * path and query of a URL are copied as they were written. UTF-16 documents are not rewritten
 * correctly (they are rare on the web and the frame then shows them unmapped). Memory is bounded:
 * a tag longer than {@link MAX_PENDING_TAG} is passed through unrewritten instead of buffered.
 * Tokenizing follows the HTML standard's tokenizer (§13.2.5) closely enough for attribute
 * positions; it does not build a tree.
 */
import { OUTSIDE_PATH } from './browse-url.ts';

/** Longest tag (with its attributes) held back to be rewritten as a whole. */
export const MAX_PENDING_TAG = 64 * 1024;

export interface HtmlRewriterOptions {
  /** The document's intranet URL: the base of root-absolute links until a `<base href>` changes it. */
  documentUrl: URL;
  /**
   * Maps one navigational URL, as written in the attribute (character references not decoded),
   * against the current intranet base; `undefined` keeps it.
   */
  mapUrl: (value: string, base: URL) => string | undefined;
  /** Markup inserted once, before the first element that is not `<html>`, `<head>` or a charset `<meta>`. */
  inject?: string;
}

/** Navigational URL attributes, by element (HTML §4.6, §4.10, §4.8.5). */
const URL_ATTRIBUTES: Readonly<Record<string, readonly string[]>> = {
  a: ['href'],
  area: ['href'],
  form: ['action'],
  button: ['formaction'],
  input: ['formaction'],
  iframe: ['src'],
  frame: ['src'],
  base: ['href'],
};
/** Elements whose content the tokenizer reads as raw text or RCDATA (scripting is on). */
const RAW_TEXT = new Set(['script', 'style', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript', 'textarea', 'title']);
const WS = new Set(['\t', '\n', '\f', '\r', ' ']);

type State = 'data' | 'rawtext' | 'comment' | 'skiptag' | 'plaintext';

interface Attribute {
  /** Lower case. */
  name: string;
  /** Index of the value's first character in the tag text (after the quote), or -1 without a value. */
  valueStart: number;
  valueEnd: number;
  quote: '"' | "'" | '';
}

/** See the module comment. One instance per document. */
export class HtmlRewriter {
  readonly #options: HtmlRewriterOptions;
  #base: URL;
  #baseSeen = false;
  #injected = false;
  #state: State = 'data';
  #rawTag = '';
  /** Unprocessed input carried to the next write (an incomplete tag, a possible end tag). */
  #pending = '';
  /** Tokenizer state while skipping an oversized tag. */
  #skip: TagScanState = { mode: 0, quote: '' };

  constructor(options: HtmlRewriterOptions) {
    this.#options = options;
    this.#base = options.documentUrl;
  }

  /** The intranet base in effect (the document URL, or what `<base href>` set). */
  get base(): URL {
    return this.#base;
  }

  /** Feeds a chunk (a byte string); returns what can be emitted so far. */
  write(chunk: string): string {
    const s = this.#pending + chunk;
    this.#pending = '';
    let out = '';
    let i = 0;
    while (i < s.length) {
      switch (this.#state) {
        case 'plaintext':
          out += s.slice(i);
          i = s.length;
          break;
        case 'rawtext': {
          const re = new RegExp(`</${this.#rawTag}[\\t\\n\\f\\r />]`, 'ig');
          re.lastIndex = i;
          const m = re.exec(s);
          if (m) {
            out += s.slice(i, m.index);
            i = m.index;
            this.#state = 'data';
          } else {
            // Keep enough to recognise an end tag split across chunks.
            const keep = Math.min(s.length - i, this.#rawTag.length + 2);
            out += s.slice(i, s.length - keep);
            this.#pending = s.slice(s.length - keep);
            i = s.length;
          }
          break;
        }
        case 'comment': {
          const k = s.indexOf('-->', i);
          if (k < 0) {
            const keep = Math.min(s.length - i, 2);
            out += s.slice(i, s.length - keep);
            this.#pending = s.slice(s.length - keep);
            i = s.length;
          } else {
            out += s.slice(i, k + 3);
            i = k + 3;
            this.#state = 'data';
          }
          break;
        }
        case 'skiptag': {
          const end = this.#skipToTagEnd(s, i);
          if (end < 0) {
            out += s.slice(i);
            i = s.length;
          } else {
            out += s.slice(i, end + 1);
            i = end + 1;
            this.#state = 'data';
          }
          break;
        }
        case 'data': {
          const j = s.indexOf('<', i);
          if (j < 0) {
            out += s.slice(i);
            i = s.length;
            break;
          }
          out += s.slice(i, j);
          i = j;
          const r = this.#markup(s, i);
          if (r) {
            out += r.text;
            i = r.next;
          } else if (s.length - i > MAX_PENDING_TAG) {
            // Too long to hold back (a huge data: URL, say): pass the tag through as it is.
            this.#state = 'skiptag';
            this.#skip = { mode: 0, quote: '' };
          } else {
            this.#pending = s.slice(i);
            i = s.length;
          }
          break;
        }
      }
    }
    return out;
  }

  /** Ends the document: flushes what was held back, and the injection if no element came. */
  end(): string {
    let out = this.#pending;
    this.#pending = '';
    if (!this.#injected && this.#options.inject) {
      this.#injected = true;
      out += this.#options.inject;
    }
    return out;
  }

  /** One piece of markup at `s[i] === '<'`, or null when more input is needed. */
  #markup(s: string, i: number): { text: string; next: number } | null {
    if (i + 1 >= s.length) return null;
    const c = s[i + 1];
    if (c === '!') {
      if (s.startsWith('<!--', i)) {
        // "<!-->" and "<!--->" close at once (HTML §13.2.5.43, abrupt closing of empty comment).
        if (s.startsWith('<!-->', i)) return { text: '<!-->', next: i + 5 };
        if (s.startsWith('<!--->', i)) return { text: '<!--->', next: i + 6 };
        if (s.length - i < 6) return null;
        this.#state = 'comment';
        return { text: '<!--', next: i + 4 };
      }
      if (s.length - i < 4 && '<!--'.startsWith(s.slice(i))) return null;
      return this.#untilGt(s, i);
    }
    if (c === '?') return this.#untilGt(s, i);
    if (c === '/') {
      if (i + 2 >= s.length) return null;
      if (!isAsciiAlpha(s[i + 2])) return this.#untilGt(s, i);
      const end = this.#tagEnd(s, i + 2);
      if (end < 0) return null;
      const name = tagName(s, i + 2);
      let text = s.slice(i, end + 1);
      if (!this.#injected && (name === 'head' || name === 'body' || name === 'html')) text = this.#takeInjection() + text;
      return { text, next: end + 1 };
    }
    if (!isAsciiAlpha(c)) return { text: '<', next: i + 1 };
    const end = this.#tagEnd(s, i + 1);
    if (end < 0) return null;
    return { text: this.#startTag(s.slice(i, end + 1)), next: end + 1 };
  }

  #untilGt(s: string, i: number): { text: string; next: number } | null {
    const k = s.indexOf('>', i);
    if (k < 0) return null;
    return { text: s.slice(i, k + 1), next: k + 1 };
  }

  /** Index of the '>' closing a tag whose name starts at `from`, honouring quoted values; -1 if not here yet. */
  #tagEnd(s: string, from: number): number {
    return scanTag(s, from, { mode: 0, quote: '' });
  }

  /** Like #tagEnd, resumable across chunks, for an oversized tag being passed through. */
  #skipToTagEnd(s: string, from: number): number {
    return scanTag(s, from, this.#skip);
  }

  #takeInjection(): string {
    this.#injected = true;
    return this.#options.inject ?? '';
  }

  /** Rewrites one complete start tag (`<name ...>`); sets the raw-text state for its content. */
  #startTag(tag: string): string {
    const name = tagName(tag, 1);
    const attrs = parseAttributes(tag, 1 + name.length);
    let prefix = '';
    if (!this.#injected && name !== 'html' && name !== 'head' && !isCharsetMeta(tag, name, attrs)) prefix = this.#takeInjection();
    if (RAW_TEXT.has(name)) {
      this.#state = 'rawtext';
      this.#rawTag = name;
    } else if (name === 'plaintext') {
      this.#state = 'plaintext';
    }
    const edits: { start: number; end: number; quote: Attribute['quote']; value: string }[] = [];
    if (name === 'meta') {
      const equiv = attrs.find((a) => a.name === 'http-equiv');
      const content = attrs.find((a) => a.name === 'content');
      if (equiv && content && content.valueStart >= 0 && valueOf(tag, equiv).trim().toLowerCase() === 'refresh') {
        const mapped = this.#mapRefresh(valueOf(tag, content));
        if (mapped !== undefined) edits.push({ start: content.valueStart, end: content.valueEnd, quote: content.quote, value: mapped });
      }
    } else {
      const wanted = URL_ATTRIBUTES[name];
      if (wanted) {
        for (const a of attrs) {
          if (a.valueStart < 0 || !wanted.includes(a.name)) continue;
          if (edits.some((e) => e.start === a.valueStart)) continue;
          const raw = valueOf(tag, a);
          if (name === 'base') {
            if (this.#baseSeen) continue;
            this.#baseSeen = true;
            try {
              const b = new URL(decodeCharRefs(raw).trim(), this.#options.documentUrl);
              if (b.protocol === 'http:' || b.protocol === 'https:') this.#base = b;
            } catch {
              // An unusable base leaves the document URL in effect (HTML §4.2.3).
            }
          }
          const mapped = this.#map(raw, name === 'base' ? this.#options.documentUrl : this.#base);
          if (mapped !== undefined) edits.push({ start: a.valueStart, end: a.valueEnd, quote: a.quote, value: mapped });
          // Only the first of duplicated attributes counts (the tokenizer drops the others).
          break;
        }
      }
    }
    if (edits.length === 0) return prefix + tag;
    let out = '';
    let at = 0;
    for (const e of edits.sort((x, y) => x.start - y.start)) {
      if (e.quote) {
        out += tag.slice(at, e.start) + escapeFor(e.value, e.quote);
      } else {
        out += `${tag.slice(at, e.start)}"${escapeFor(e.value, '"')}"`;
      }
      at = e.end;
    }
    return prefix + out + tag.slice(at);
  }

  /** Maps a raw attribute value; an outside link is recomputed from the decoded text (it is re-encoded whole). */
  #map(raw: string, base: URL): string | undefined {
    const mapped = this.#options.mapUrl(raw, base);
    if (mapped !== undefined && raw.includes('&') && mapped.startsWith(OUTSIDE_PATH)) return this.#options.mapUrl(decodeCharRefs(raw), base);
    return mapped;
  }

  /** `<meta http-equiv=refresh content="5; url=/next">`: maps the URL part (HTML §4.2.5.3). */
  #mapRefresh(content: string): string | undefined {
    const m = /^(\s*[0-9.]*\s*[;,]?\s*(?:url\s*=\s*)?)(['"]?)([^'"]*)(['"]?\s*)$/i.exec(content);
    if (!m || m[3].trim() === '' || m[1].trim() === '') return undefined;
    const mapped = this.#map(m[3], this.#base);
    return mapped === undefined ? undefined : `${m[1]}${m[2]}${mapped}${m[4]}`;
  }
}

/** Where the tokenizer is inside a tag: 0 names, 1 before a value, 2 unquoted value, 3 quoted value. */
interface TagScanState {
  mode: 0 | 1 | 2 | 3;
  quote: string;
}

/** Scans to the '>' that ends a tag (HTML §13.2.5.32–§13.2.5.40), updating `st`; -1 when not in `s`. */
function scanTag(s: string, from: number, st: TagScanState): number {
  for (let k = from; k < s.length; k++) {
    const ch = s[k];
    switch (st.mode) {
      case 3:
        if (ch === st.quote) st.mode = 0;
        break;
      case 1:
        if (WS.has(ch)) break;
        if (ch === '"' || ch === "'") {
          st.mode = 3;
          st.quote = ch;
        } else if (ch === '>') {
          return k;
        } else {
          st.mode = 2;
        }
        break;
      case 2:
        if (WS.has(ch)) st.mode = 0;
        else if (ch === '>') return k;
        break;
      default:
        if (ch === '>') return k;
        if (ch === '=') st.mode = 1;
    }
  }
  return -1;
}

function isAsciiAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/** The lower-cased tag name starting at `from`. */
function tagName(s: string, from: number): string {
  let k = from;
  while (k < s.length && !WS.has(s[k]) && s[k] !== '/' && s[k] !== '>') k++;
  return s.slice(from, k).toLowerCase();
}

/** Attribute positions in a complete tag (HTML §13.2.5.32–§13.2.5.39). */
function parseAttributes(tag: string, from: number): Attribute[] {
  const out: Attribute[] = [];
  let p = from;
  const n = tag.length - 1; // the closing '>'
  while (p < n) {
    while (p < n && (WS.has(tag[p]) || tag[p] === '/')) p++;
    if (p >= n) break;
    const nameStart = p;
    if (tag[p] === '=') p++;
    while (p < n && !WS.has(tag[p]) && tag[p] !== '/' && tag[p] !== '=' && tag[p] !== '>') p++;
    const name = tag.slice(nameStart, p).toLowerCase();
    let q = p;
    while (q < n && WS.has(tag[q])) q++;
    if (tag[q] !== '=') {
      out.push({ name, valueStart: -1, valueEnd: -1, quote: '' });
      p = q;
      continue;
    }
    q++;
    while (q < n && WS.has(tag[q])) q++;
    const ch = tag[q];
    if (ch === '"' || ch === "'") {
      const close = tag.indexOf(ch, q + 1);
      const end = close < 0 ? n : close;
      out.push({ name, valueStart: q + 1, valueEnd: end, quote: ch });
      p = end + 1;
    } else {
      let e = q;
      while (e < n && !WS.has(tag[e])) e++;
      out.push({ name, valueStart: q, valueEnd: e, quote: '' });
      p = e;
    }
  }
  return out;
}

function valueOf(tag: string, a: Attribute): string {
  return a.valueStart < 0 ? '' : tag.slice(a.valueStart, a.valueEnd);
}

/** `<meta charset>` and `<meta http-equiv=content-type>` stay first (the 1024-byte charset prescan). */
function isCharsetMeta(tag: string, name: string, attrs: Attribute[]): boolean {
  if (name !== 'meta') return false;
  if (attrs.some((a) => a.name === 'charset')) return true;
  const equiv = attrs.find((a) => a.name === 'http-equiv');
  return !!equiv && valueOf(tag, equiv).trim().toLowerCase() === 'content-type';
}

/** The quote used around a value must not appear inside it; a bare `"` gets the same treatment in unquoted values. */
function escapeFor(value: string, quote: '"' | "'"): string {
  return quote === '"' ? value.replace(/"/g, '&quot;') : value.replace(/'/g, '&#39;');
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * Decodes the character references a URL is likely to hold (`&amp;` and friends, numeric ones up
 * to U+00FF so the result stays a byte string); others are left as written.
 */
export function decodeCharRefs(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);/g, (all, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code < 0x80 ? String.fromCharCode(code) : all;
    }
    return NAMED[ref] ?? all;
  });
}

/** Bytes → byte string (one Latin-1 character per byte). */
export function latin1Decode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return out;
}

/** Byte string → bytes (characters above U+00FF cannot occur: the rewriter only adds ASCII). */
export function latin1Encode(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** The rewriter as a byte stream transform (the Service Worker pipes framed HTML through it). */
export function htmlRewriteStream(options: HtmlRewriterOptions): TransformStream<Uint8Array, Uint8Array> {
  const rewriter = new HtmlRewriter(options);
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      const out = rewriter.write(latin1Decode(chunk));
      if (out) controller.enqueue(latin1Encode(out));
    },
    flush(controller) {
      const out = rewriter.end();
      if (out) controller.enqueue(latin1Encode(out));
    },
  });
}
