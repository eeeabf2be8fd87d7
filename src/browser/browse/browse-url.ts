/**
 * How intranet URLs live on the browse origin, and how links are mapped into that space.
 *
 *   http://10.0.0.1:8080/app/?q=1   ⇄   <browse origin>/browse/<session>/http/10.0.0.1:8080/app/?q=1
 *   https://nas.corp/x              ⇄   <browse origin>/browse/<session>/https/nas.corp/x
 *   an address outside AllowedIPs   →   <browse origin>/__wgweb/outside?url=<percent-encoded>
 *   <browse origin>/__wgweb/…       the browse view's own files (bridge, Service Worker, frame agent)
 *
 * The session names the app tab whose tunnel and cookie jar serve the page: two wgweb tabs (two
 * tunnels, perhaps) share one Service Worker, and their pages must never be served by the other's.
 * The scheme gets a path segment of its own so the mapping stays unambiguous for every host form
 * (names, IPv4, bracketed IPv6, ports), and so an https page stays https: its relative links,
 * root-absolute URLs its scripts build, its `Secure` cookies and its redirects keep the scheme
 * (https is carried by the tunnel worker's own TLS client, src/protocols/tls/). Link mapping works on the attribute text itself rather than
 * through `new URL()`: path and query bytes pass through untouched, so a document keeps its
 * charset and its percent-encoding (see html-rewriter.ts, which feeds it Latin-1 "byte strings").
 */
import type { TunnelScope } from './tunnel-scope.ts';

/** Intranet pages live below this path of the browse origin. */
export const BROWSE_PREFIX = '/browse/';
/** The browse view's own resources on the browse origin; never forwarded into the tunnel. */
export const CONTROL_PREFIX = '/__wgweb/';
/** The interstitial for links that leave the tunnel. */
export const OUTSIDE_PATH = `${CONTROL_PREFIX}outside`;
/** The Service Worker script (scope `/`, so the relay sends `Service-Worker-Allowed: /`). */
export const SERVICE_WORKER_PATH = `${CONTROL_PREFIX}browse-sw.js`;
/** The hidden page the app embeds to reach the Service Worker. */
export const BRIDGE_PATH = `${CONTROL_PREFIX}bridge.html`;
export const BRIDGE_SCRIPT_PATH = `${CONTROL_PREFIX}bridge.js`;
/** The small script injected into framed documents (address bar, title, load reports). */
export const FRAME_AGENT_PATH = `${CONTROL_PREFIX}frame-agent.js`;

/** A browse session id: one app tab (random, lower-case letters and digits). */
export const SESSION_ID = /^[a-z0-9]{8,32}$/;
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
/** What HTML strips around URL attribute values, and the URL parser inside them. */
const EDGE_SPACE = /^[\x00-\x20]+|[\x00-\x20]+$/g;
const INNER_TAB_NEWLINE = /[\t\n\r]/g;

/**
 * A host of "." or ".." (also spelled `%2e`) is a valid URL host, but behind the browse prefix it
 * is a dot segment: the browser would resolve `/browse/<s>/http/../x` to `/browse/<s>/x`.
 */
function isDotSegmentHost(host: string): boolean {
  return host === '.' || host === '..';
}

/** The schemes the tunnel carries (https through the worker's TLS client). */
export function isBrowsableScheme(protocol: string): protocol is 'http:' | 'https:' {
  return protocol === 'http:' || protocol === 'https:';
}

function schemePrefix(session: string, scheme: 'http' | 'https'): string {
  if (!SESSION_ID.test(session)) throw new RangeError(`"${session}" is not a browse session id`);
  return `${BROWSE_PREFIX}${session}/${scheme}/`;
}

/** An intranet URL and the browse session (app tab) it belongs to. */
export interface BrowseLocation {
  session: string;
  url: URL;
}

/**
 * The browse path of an intranet URL: `/browse/<session>/<http|https>/<host[:port]><path>?<query>#<fragment>`.
 * @throws {RangeError} for anything but an http: or https: URL with a host, or a malformed session id.
 */
export function browsePath(url: URL | string, session: string): string {
  const u = typeof url === 'string' ? new URL(url) : url;
  if (!isBrowsableScheme(u.protocol) || !u.host || isDotSegmentHost(u.host)) {
    throw new RangeError(`only http:// and https:// URLs with a host can be browsed through the tunnel, not ${u.href}`);
  }
  return `${schemePrefix(session, u.protocol === 'https:' ? 'https' : 'http')}${u.host}${u.pathname}${u.search}${u.hash}`;
}

/**
 * The session and intranet URL a browse path stands for (`pathname + search [+ hash]` of a
 * browse-origin URL), or `undefined` when it is not one. `/browse/<s>/http/host` means `http://host/`.
 */
export function parseBrowsePath(pathAndQuery: string): BrowseLocation | undefined {
  if (!pathAndQuery.startsWith(BROWSE_PREFIX)) return undefined;
  const slash = pathAndQuery.indexOf('/', BROWSE_PREFIX.length);
  if (slash < 0) return undefined;
  const session = pathAndQuery.slice(BROWSE_PREFIX.length, slash);
  const scheme = pathAndQuery.startsWith('/http/', slash) ? 'http' : pathAndQuery.startsWith('/https/', slash) ? 'https' : undefined;
  if (!SESSION_ID.test(session) || !scheme) return undefined;
  const rest = pathAndQuery.slice(slash + scheme.length + 2);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  // User info or backslashes in the authority would let the URL parser pick a different host.
  if (authority === '' || /[@\\\s]/.test(authority)) return undefined;
  const tail = end < 0 ? '/' : rest[end] === '/' ? rest.slice(end) : `/${rest.slice(end)}`;
  try {
    const u = new URL(`${scheme}://${authority}${tail}`);
    return u.host && !isDotSegmentHost(u.host) ? { session, url: u } : undefined;
  } catch {
    return undefined;
  }
}

/** The session and intranet URL of a page on the browse origin (e.g. a Service Worker client's URL). */
export function browseLocationOf(url: string | URL, browseOrigin: string): BrowseLocation | undefined {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return undefined;
  }
  if (u.origin !== browseOrigin) return undefined;
  return parseBrowsePath(u.pathname + u.search + u.hash);
}

/** The interstitial's path for a URL that leaves the tunnel. */
export function outsidePath(url: string): string {
  return `${OUTSIDE_PATH}?url=${encodeBytes(url)}`;
}

/**
 * What a user typed into the address bar, as an intranet URL: `10.0.0.1:8080/x` means
 * `http://10.0.0.1:8080/x`; `https://…` is kept.
 * @throws {RangeError} with a sentence for the user (not a URL, another scheme).
 */
export function parseAddressInput(text: string): URL {
  const t = String(text ?? '').trim();
  if (t === '') throw new RangeError('Type the address of a web server inside the tunnel, e.g. http://10.0.0.1/');
  const withScheme = SCHEME.test(t) && /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : `http://${t}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new RangeError(`"${t}" is not a web address (write it like http://10.0.0.1:8080/path)`);
  }
  if (!isBrowsableScheme(u.protocol)) throw new RangeError(`${u.href}: only http:// and https:// addresses can be browsed through the tunnel`);
  if (!u.host) throw new RangeError(`"${t}" has no host name or address`);
  u.username = '';
  u.password = '';
  return u;
}

/**
 * Maps a navigational URL found in a document (an `<a href>`, a form action, a frame source, a
 * `<base href>`, a refresh target) into the browse space of `session`, or returns `undefined` to
 * leave it as written. `value` is the attribute text; `base` is the document's intranet base URL.
 *
 * - relative (`page.html`, `../x`, `?q`, `#top`): left alone; it resolves inside the browse path
 * - root-absolute (`/x`): the base's host, inside the browse path
 * - `http://host/…`, `https://host/…` and `//host/…`: inside the browse path (scheme kept), unless
 *   the host is an IP address outside AllowedIPs; host names stay in the tunnel (its DNS decides
 *   when followed)
 * - addresses outside AllowedIPs: the outside interstitial
 * - every other scheme (`mailto:`, `javascript:`, `data:`): left alone
 */
export function mapLink(value: string, base: URL, scope: TunnelScope, session: string): string | undefined {
  const v = value.replace(EDGE_SPACE, '').replace(INNER_TAB_NEWLINE, '');
  if (v === '') return undefined;
  let scheme: string;
  let rest: string;
  const m = SCHEME.exec(v);
  if (m) {
    scheme = m[1].toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') return undefined;
    rest = v.slice(m[0].length);
    // "http:page" is relative to an http: base (URL standard, special-relative state): leave it.
    if (!/^[/\\]{2}/.test(rest)) return undefined;
    rest = rest.slice(2);
  } else if (/^[/\\]{2}/.test(v)) {
    scheme = base.protocol.slice(0, -1);
    rest = v.slice(2);
  } else if (v[0] === '/' || v[0] === '\\') {
    if (!isBrowsableScheme(base.protocol)) return undefined;
    return `${schemePrefix(session, base.protocol === 'https:' ? 'https' : 'http')}${base.host}${resolveDotSegments(v)}`;
  } else {
    return undefined;
  }
  const end = rest.search(/[/\\?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const tail = end < 0 ? '' : rest.slice(end);
  let parsed: URL;
  try {
    parsed = new URL(`${scheme}://${authority}/`);
  } catch {
    return undefined;
  }
  if (!parsed.host || isDotSegmentHost(parsed.host)) return undefined;
  if (scope.place(parsed.hostname) === 'outside') {
    return outsidePath(`${scheme}://${parsed.host}${tail.startsWith('/') || tail === '' ? tail || '/' : `/${tail}`}`);
  }
  return `${schemePrefix(session, scheme === 'https' ? 'https' : 'http')}${parsed.host}${resolveDotSegments(tail)}`;
}

/**
 * A link's path (and query) with its dot segments resolved as the browser would resolve them on
 * the intranet host (URL standard path state: `.`, `..` and their `%2e` spellings, `\` as `/`),
 * bytes otherwise untouched. Left raw behind the browse prefix, `http://host/../../x` would climb
 * out of that host's part of the browse space (to another host, another session or /__wgweb/)
 * once the browser resolved it, instead of stopping at the host's root.
 */
function resolveDotSegments(tail: string): string {
  const cut = tail.search(/[?#]/);
  const path = cut < 0 ? tail : tail.slice(0, cut);
  const segments = path.replace(/\\/g, '/').split('/').slice(1);
  const out: string[] = [];
  segments.forEach((segment, i) => {
    const s = segment.toLowerCase();
    const last = i === segments.length - 1;
    if (s === '..' || s === '.%2e' || s === '%2e.' || s === '%2e%2e') {
      out.pop();
      if (last) out.push('');
    } else if (s === '.' || s === '%2e') {
      if (last) out.push('');
    } else out.push(segment);
  });
  return `/${out.join('/')}${cut < 0 ? '' : tail.slice(cut)}`;
}

/**
 * Maps a redirect's `Location` (absolute or relative to the response URL) into the browse space:
 * an absolute browse-origin path, or the outside interstitial.
 * @returns `undefined` when the Location is not a URL at all.
 */
export function mapLocation(location: string, responseUrl: URL, scope: TunnelScope, session: string): string | undefined {
  let u: URL;
  try {
    u = new URL(location, responseUrl);
  } catch {
    return undefined;
  }
  if (isBrowsableScheme(u.protocol) && u.host && !isDotSegmentHost(u.host) && scope.place(u.hostname) !== 'outside') {
    u.username = '';
    u.password = '';
    return browsePath(u, session);
  }
  return outsidePath(u.href);
}

/** The URL an outside-interstitial path carries, or `undefined`. */
export function parseOutsidePath(pathAndQuery: string): string | undefined {
  if (!pathAndQuery.startsWith(`${OUTSIDE_PATH}?`)) return undefined;
  const url = new URLSearchParams(pathAndQuery.slice(OUTSIDE_PATH.length + 1)).get('url');
  if (!url) return undefined;
  try {
    const u = new URL(url);
    return isBrowsableScheme(u.protocol) ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const KEEP = /[A-Za-z0-9\-._~!$'()*,;:@/]/;

/**
 * Percent-encodes a string whose characters are bytes (Latin-1 code points, as the HTML rewriter
 * sees documents): every byte outside a small safe set becomes `%XX`, so UTF-8 bytes stay UTF-8.
 */
export function encodeBytes(text: string): string {
  let out = '';
  // By code point: a character beyond U+FFFF is one UTF-8 sequence, not two halves.
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 && KEEP.test(ch)) out += ch;
    else if (c < 0x100) out += `%${c.toString(16).toUpperCase().padStart(2, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff) out += '%EF%BF%BD'; // a lone surrogate has no UTF-8 form: U+FFFD, as TextEncoder writes it
    else out += encodeURIComponent(ch);
  }
  return out;
}
