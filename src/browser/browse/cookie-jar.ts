/**
 * A cookie jar for intranet sites browsed through the tunnel (RFC 6265, with the SameSite and
 * insecure-Secure rules of RFC 6265bis). The browser never sees these cookies: the browse view's
 * Service Worker answers every framed request itself, so Set-Cookie from an intranet server would
 * be ignored by the browser anyway, and the app's own cookies are never sent into the tunnel.
 * This jar, held by the app page, plays the browser's part instead.
 *
 *   response Set-Cookie lines ──▶ setCookie(line, requestUrl, now) ──▶ store (§5.3)
 *   request ──▶ cookieHeader(url, now, context) ──▶ "a=1; b=2" (§5.4: domain, path, expiry, SameSite)
 *
 * Cookies are scoped by host as RFC 6265 says (ports do not separate them: §8.5), so two intranet
 * hosts never see each other's cookies while two ports of one host share theirs, as in a browser.
 * Sans-IO: the caller passes `now` (epoch ms). No public-suffix list: a Domain attribute is only
 * checked against the request host (intranet names rarely sit under a public suffix).
 */

/** One stored cookie (RFC 6265 §5.3 storage model). */
export interface StoredCookie {
  name: string;
  value: string;
  /** Lower-case domain; for host-only cookies the exact request host. */
  domain: string;
  hostOnly: boolean;
  path: string;
  /** Epoch ms; `Infinity` for session cookies. */
  expiresAt: number;
  persistent: boolean;
  secure: boolean;
  httpOnly: boolean;
  sameSite: 'strict' | 'lax' | 'none' | 'default';
  createdAt: number;
  lastAccessAt: number;
}

/** Why a Set-Cookie line was not stored (counted, for diagnostics). */
export type CookieRejection =
  | 'malformed'
  | 'too-large'
  | 'domain-mismatch'
  | 'secure-over-http'
  | 'prefix-rules'
  | 'httponly-from-script'
  | 'expired';

/** The request a cookie header is computed for (RFC 6265bis §5.2: "same-site" and "cross-site"). */
export interface CookieRequestContext {
  /** The host of the document that made the request; absent for the user's own navigation. */
  initiatorHost?: string;
  /** A navigation of a frame (SameSite=Lax cookies go along with GET navigations). */
  navigation?: boolean;
  method?: string;
  /** Script access (document.cookie): HttpOnly cookies are left out. Default false (HTTP). */
  script?: boolean;
}

export interface CookieJarOptions {
  /** Cookies kept in total (RFC 6265 §6.1 asks for at least 3000). */
  maxCookies?: number;
  /** Cookies kept per domain (at least 50). */
  maxPerDomain?: number;
}

/** RFC 6265 §6.1: at least 4096 bytes per cookie (name + value + attributes). */
const MAX_COOKIE_BYTES = 4096;
/** RFC 6265bis §5.5: Max-Age and Expires are capped at 400 days. */
const MAX_AGE_CAP_MS = 400 * 24 * 3600 * 1000;

/** See the module comment. */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>();
  readonly #maxCookies: number;
  readonly #maxPerDomain: number;
  readonly #rejected = new Map<CookieRejection, number>();

  constructor(options: CookieJarOptions = {}) {
    this.#maxCookies = options.maxCookies ?? 3000;
    this.#maxPerDomain = options.maxPerDomain ?? 180;
    if (!Number.isInteger(this.#maxCookies) || this.#maxCookies < 1) throw new RangeError(`maxCookies must be a positive integer, not ${options.maxCookies}`);
    if (!Number.isInteger(this.#maxPerDomain) || this.#maxPerDomain < 1) throw new RangeError(`maxPerDomain must be a positive integer, not ${options.maxPerDomain}`);
  }

  /**
   * Stores the cookie of one `Set-Cookie` field value received for `requestUrl` (§5.2, §5.3).
   * @returns true when the jar changed (stored, replaced or deleted), false when the line was ignored.
   */
  setCookie(line: string, requestUrl: URL | string, now: number, options: { script?: boolean } = {}): boolean {
    const url = typeof requestUrl === 'string' ? new URL(requestUrl) : requestUrl;
    const host = canonicalHost(url.hostname);
    const parsed = parseSetCookie(line);
    if (!parsed) return this.#reject('malformed');
    if (byteLength(line) > MAX_COOKIE_BYTES) return this.#reject('too-large');
    const { name, value, attributes } = parsed;

    let expiresAt = Infinity;
    let persistent = false;
    const maxAge = attributes.get('max-age');
    const expires = attributes.get('expires');
    // §5.3 step 3: Max-Age wins over Expires.
    if (maxAge !== undefined && /^-?[0-9]+$/.test(maxAge)) {
      const seconds = Number(maxAge);
      persistent = true;
      expiresAt = seconds <= 0 ? -Infinity : now + Math.min(seconds * 1000, MAX_AGE_CAP_MS);
    } else if (expires !== undefined) {
      const at = parseCookieDate(expires);
      if (at !== undefined) {
        persistent = true;
        expiresAt = Math.min(at, now + MAX_AGE_CAP_MS);
      }
    }

    let domain = host;
    let hostOnly = true;
    const domainAttr = attributes.get('domain');
    if (domainAttr !== undefined && domainAttr !== '') {
      const d = canonicalHost(domainAttr.replace(/^\./, ''));
      // An IP address can only name itself (§5.1.3: no suffix matching for IP addresses).
      if (!domainMatches(host, d)) return this.#reject('domain-mismatch');
      domain = d;
      hostOnly = false;
    }

    const pathAttr = attributes.get('path');
    const path = pathAttr !== undefined && pathAttr.startsWith('/') ? pathAttr : defaultPath(url.pathname);
    const secure = attributes.has('secure');
    const httpOnly = attributes.has('httponly');
    const sameSiteText = (attributes.get('samesite') ?? '').toLowerCase();
    const sameSite: StoredCookie['sameSite'] = sameSiteText === 'strict' || sameSiteText === 'lax' || sameSiteText === 'none' ? sameSiteText : 'default';

    // RFC 6265bis §5.7 step 8: a Secure cookie only from a secure origin; the tunnel is plain http.
    if (secure && url.protocol !== 'https:') return this.#reject('secure-over-http');
    // §4.1.3 cookie name prefixes.
    if (/^__secure-/i.test(name) && !secure) return this.#reject('prefix-rules');
    if (/^__host-/i.test(name) && (!secure || !hostOnly || path !== '/')) return this.#reject('prefix-rules');
    if (httpOnly && options.script) return this.#reject('httponly-from-script');

    const key = cookieKey(name, domain, path);
    const old = this.#cookies.get(key);
    if (old?.httpOnly && options.script) return this.#reject('httponly-from-script');
    if (expiresAt <= now) {
      // §5.3 step 12: an expired cookie deletes the stored one and is not stored.
      if (old) {
        this.#cookies.delete(key);
        return true;
      }
      return this.#reject('expired');
    }
    this.#cookies.set(key, {
      name,
      value,
      domain,
      hostOnly,
      path,
      expiresAt,
      persistent,
      secure,
      httpOnly,
      sameSite,
      createdAt: old?.createdAt ?? now,
      lastAccessAt: now,
    });
    this.#evict(domain, now);
    return true;
  }

  /**
   * The `Cookie` header value for a request to `url` (§5.4), or `''` when no cookie applies.
   * Longer paths first, then older cookies first.
   */
  cookieHeader(url: URL | string, now: number, context: CookieRequestContext = {}): string {
    return this.cookiesFor(url, now, context)
      .map((c) => (c.name === '' ? c.value : `${c.name}=${c.value}`))
      .join('; ');
  }

  /** The cookies that go with a request to `url`, in header order; touches their access time. */
  cookiesFor(url: URL | string, now: number, context: CookieRequestContext = {}): StoredCookie[] {
    const u = typeof url === 'string' ? new URL(url) : url;
    const host = canonicalHost(u.hostname);
    const path = u.pathname || '/';
    const secureRequest = u.protocol === 'https:';
    const crossSite = context.initiatorHost !== undefined && canonicalHost(context.initiatorHost) !== host;
    const safeMethod = ['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes((context.method ?? 'GET').toUpperCase());
    this.#expire(now);
    const out: StoredCookie[] = [];
    for (const c of this.#cookies.values()) {
      if (c.hostOnly ? c.domain !== host : !domainMatches(host, c.domain)) continue;
      if (!pathMatches(path, c.path)) continue;
      if (c.secure && !secureRequest) continue;
      if (c.httpOnly && context.script) continue;
      if (crossSite) {
        // RFC 6265bis §5.8.3: Strict never crosses sites; Lax only with safe top-level-like navigations.
        if (c.sameSite === 'strict') continue;
        if ((c.sameSite === 'lax' || c.sameSite === 'default') && !(context.navigation && safeMethod)) continue;
      }
      out.push(c);
    }
    out.sort((a, b) => b.path.length - a.path.length || a.createdAt - b.createdAt);
    for (const c of out) c.lastAccessAt = now;
    return out;
  }

  /** Every live cookie (copies), e.g. for a "cookies of this site" view. */
  list(now: number, host?: string): StoredCookie[] {
    this.#expire(now);
    const h = host === undefined ? undefined : canonicalHost(host);
    return [...this.#cookies.values()].filter((c) => h === undefined || (c.hostOnly ? c.domain === h : domainMatches(h, c.domain))).map((c) => ({ ...c }));
  }

  /** Number of live cookies. */
  size(now: number): number {
    this.#expire(now);
    return this.#cookies.size;
  }

  /** Removes every cookie, or those a request to `host` would carry. */
  clear(host?: string): void {
    if (host === undefined) {
      this.#cookies.clear();
      return;
    }
    const h = canonicalHost(host);
    for (const [key, c] of this.#cookies) if (c.hostOnly ? c.domain === h : domainMatches(h, c.domain)) this.#cookies.delete(key);
  }

  /** Set-Cookie lines ignored so far, by reason. */
  rejections(): Record<string, number> {
    return Object.fromEntries(this.#rejected);
  }

  #reject(reason: CookieRejection): false {
    this.#rejected.set(reason, (this.#rejected.get(reason) ?? 0) + 1);
    return false;
  }

  #expire(now: number): void {
    for (const [key, c] of this.#cookies) if (c.expiresAt <= now) this.#cookies.delete(key);
  }

  /** §5.3 step 12 / §6.1: expired first, then the least recently used, per domain and in total. */
  #evict(domain: string, now: number): void {
    this.#expire(now);
    const lru = (list: [string, StoredCookie][]) => list.sort((a, b) => a[1].lastAccessAt - b[1].lastAccessAt);
    const inDomain = [...this.#cookies].filter(([, c]) => c.domain === domain);
    if (inDomain.length > this.#maxPerDomain) {
      for (const [key] of lru(inDomain).slice(0, inDomain.length - this.#maxPerDomain)) this.#cookies.delete(key);
    }
    if (this.#cookies.size > this.#maxCookies) {
      for (const [key] of lru([...this.#cookies]).slice(0, this.#cookies.size - this.#maxCookies)) this.#cookies.delete(key);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 6265 §5.2: parsing Set-Cookie

interface ParsedSetCookie {
  name: string;
  value: string;
  /** Lower-case attribute names; the last occurrence wins (§5.3 "last attribute"). */
  attributes: Map<string, string>;
}

/** §5.2: name-value pair up to the first ';', then attributes. `undefined` when the line must be ignored. */
export function parseSetCookie(line: string): ParsedSetCookie | undefined {
  if (typeof line !== 'string') return undefined;
  // RFC 6265bis §5.6 step 1: control characters (other than tab) make the whole line invalid.
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(line)) return undefined;
  const semi = line.indexOf(';');
  const pair = semi < 0 ? line : line.slice(0, semi);
  const eq = pair.indexOf('=');
  // RFC 6265bis: a pair without '=' is a cookie with an empty name.
  const name = eq < 0 ? '' : pair.slice(0, eq).trim();
  const value = (eq < 0 ? pair : pair.slice(eq + 1)).trim();
  if (name === '' && value === '') return undefined;
  const attributes = new Map<string, string>();
  if (semi >= 0) {
    for (const part of line.slice(semi + 1).split(';')) {
      const aeq = part.indexOf('=');
      const key = (aeq < 0 ? part : part.slice(0, aeq)).trim().toLowerCase();
      const val = aeq < 0 ? '' : part.slice(aeq + 1).trim();
      if (key === '') continue;
      if (byteLength(val) > 1024) continue; // RFC 6265bis §5.6: oversized attribute values are ignored
      attributes.set(key, val);
    }
  }
  return { name, value, attributes };
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/**
 * RFC 6265 §5.1.1 cookie-date parsing (tolerant of every date format seen in the wild).
 * @returns epoch ms, or `undefined` when the text is not a valid date.
 */
export function parseCookieDate(text: string): number | undefined {
  const tokens = text.split(/[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/).filter(Boolean);
  let time: [number, number, number] | undefined;
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  for (const token of tokens) {
    if (time === undefined) {
      const m = /^([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9]|$)/.exec(token);
      if (m) {
        time = [Number(m[1]), Number(m[2]), Number(m[3])];
        continue;
      }
    }
    if (day === undefined) {
      const m = /^([0-9]{1,2})(?:[^0-9]|$)/.exec(token);
      if (m) {
        day = Number(m[1]);
        continue;
      }
    }
    if (month === undefined) {
      const i = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
      if (i >= 0) {
        month = i;
        continue;
      }
    }
    if (year === undefined) {
      const m = /^([0-9]{2,4})(?:[^0-9]|$)/.exec(token);
      if (m) {
        year = Number(m[1]);
        continue;
      }
    }
  }
  if (year !== undefined && year >= 70 && year <= 99) year += 1900;
  if (year !== undefined && year >= 0 && year <= 69) year += 2000;
  if (time === undefined || day === undefined || month === undefined || year === undefined) return undefined;
  if (day < 1 || day > 31 || year < 1601 || time[0] > 23 || time[1] > 59 || time[2] > 59) return undefined;
  const at = Date.UTC(year, month, day, time[0], time[1], time[2]);
  // Date.UTC rolls "Feb 31" over into March: such a date does not exist.
  if (new Date(at).getUTCDate() !== day) return undefined;
  return at;
}

// ---------------------------------------------------------------------------------------------
// RFC 6265 §5.1.3 / §5.1.4: domain and path matching

function canonicalHost(host: string): string {
  const h = host.toLowerCase();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h.replace(/\.$/, '');
}

function isIpHost(host: string): boolean {
  return host.includes(':') || /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host);
}

/** §5.1.3: identical, or a dot-separated suffix of a host name (never of an IP address). */
export function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  return !isIpHost(host) && host.endsWith(domain) && host[host.length - domain.length - 1] === '.';
}

/** §5.1.4: the directory of the request path. */
export function defaultPath(pathname: string): string {
  if (!pathname.startsWith('/')) return '/';
  const last = pathname.lastIndexOf('/');
  return last <= 0 ? '/' : pathname.slice(0, last);
}

/** §5.1.4 path-match. */
export function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

function cookieKey(name: string, domain: string, path: string): string {
  return `${domain}\n${path}\n${name}`;
}

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}
