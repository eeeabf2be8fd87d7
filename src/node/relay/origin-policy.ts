/**
 * Who may use the relay from a web page, and under which host names it answers.
 *
 *   request ──▶ Host header names this relay?  (no ─▶ refused: DNS rebinding, RFC 9110 §7.2)
 *           ──▶ Origin header?  absent ─▶ allowed (CLI, curl: not a web page; RFC 6454 §7.3)
 *                               same host:port as Host, or an --allow-origin ─▶ allowed
 *                               anything else ─▶ refused (a cross-site page, RFC 6455 §10.2)
 *
 * Browsers attach `Origin` to every WebSocket handshake and every cross-origin or non-GET
 * request; a page cannot forge or remove it. Without this check any site a user visits could
 * open sessions through their `npm start` relay. The Host check closes DNS rebinding: a page at
 * attacker.example whose name re-resolves to 127.0.0.1 is same-origin with itself, but its
 * requests carry `Host: attacker.example`, which this relay does not serve.
 *
 * Served host names: the listen address; `localhost` and the loopback addresses when listening
 * on loopback or on a wildcard; any IP literal when listening on a wildcard (a literal cannot be
 * rebound); and the host of each `--allow-origin`. A relay behind a reverse proxy under a name
 * therefore needs `--allow-origin https://that.name`.
 */
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export interface OriginPolicyOptions {
  /** The address the relay listens on (`127.0.0.1`, `::`, `0.0.0.0`, a host name). */
  listenHost: string;
  /** Extra origins allowed to use the relay (`https://vpn.example.com`), exactly as browsers send them. */
  allowOrigins?: readonly string[];
}

/**
 * Normalises an origin as browsers serialise it (RFC 6454 §6.2): scheme://host[:port], lower
 * case, default ports dropped.
 * @throws {RangeError} when `text` is not an http(s) origin.
 */
export function normaliseOrigin(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new RangeError(`--allow-origin ${text}: not an origin (write https://host[:port])`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RangeError(`--allow-origin ${text}: use an http:// or https:// origin`);
  if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) {
    throw new RangeError(`--allow-origin ${text}: an origin has no path, query or credentials (write ${u.origin})`);
  }
  return u.origin;
}

/** The decisions for one relay listener. */
export class OriginPolicy {
  private readonly origins: ReadonlySet<string>;
  private readonly names: ReadonlySet<string>;
  private readonly anyLiteral: boolean;

  /** @throws {RangeError} for an invalid `allowOrigins` entry. */
  constructor(options: OriginPolicyOptions) {
    this.origins = new Set((options.allowOrigins ?? []).map(normaliseOrigin));
    const listen = bareHost(options.listenHost);
    const wildcard = listen === '0.0.0.0' || listen === '::' || listen === '';
    const loopback = wildcard || listen === 'localhost' || listen === '::1' || /^127\./.test(listen);
    const names = new Set<string>([listen]);
    if (loopback) for (const n of ['localhost', '127.0.0.1', '::1']) names.add(n);
    if (wildcard) names.add(hostname().toLowerCase());
    for (const o of this.origins) names.add(bareHost(new URL(o).hostname));
    this.names = names;
    this.anyLiteral = wildcard;
  }

  /** The extra origins, normalised. */
  get allowedOrigins(): readonly string[] {
    return [...this.origins];
  }

  /** Why a request's `Host` header is not one this relay serves; undefined when it is. */
  hostProblem(hostHeader: string | undefined): string | undefined {
    if (!hostHeader) return 'the request has no Host header';
    const host = hostOf(hostHeader);
    if (host === undefined) return 'the Host header is malformed';
    if (this.names.has(host)) return undefined;
    if (/^127\./.test(host) && this.names.has('127.0.0.1')) return undefined;
    if (this.anyLiteral && isIP(host) !== 0) return undefined;
    return `this relay does not serve the host name in the request (add --allow-origin for a name it is reached by)`;
  }

  /** Why a request's `Origin` may not use the relay; undefined when it may. */
  originProblem(originHeader: string | undefined, hostHeader: string | undefined): string | undefined {
    if (originHeader === undefined) return undefined;
    let origin: URL;
    try {
      origin = new URL(originHeader);
    } catch {
      // `null` (sandboxed frames, file: pages, RFC 6454 §7.3) or garbage: not one of ours.
      return 'pages from an opaque origin may not use this relay (its operator can add --allow-origin)';
    }
    if (this.origins.has(origin.origin)) return undefined;
    // Same origin: the page was served by this relay under the host name it asked for.
    const host = hostHeader === undefined ? undefined : hostPort(hostHeader, origin.protocol);
    if ((origin.protocol === 'http:' || origin.protocol === 'https:') && host !== undefined && origin.host === host) return undefined;
    return `pages from ${origin.origin === 'null' ? 'an opaque origin' : origin.origin.slice(0, 60)} may not use this relay (its operator can add --allow-origin)`;
  }
}

/** `[::1]` → `::1`, lower case. */
function bareHost(h: string): string {
  const t = h.trim().toLowerCase();
  return t.startsWith('[') && t.endsWith(']') ? t.slice(1, -1) : t;
}

/** The host of a Host header (`example.com:8080` → `example.com`, `[::1]:80` → `::1`). */
function hostOf(header: string): string | undefined {
  try {
    return bareHost(new URL(`http://${header}`).hostname);
  } catch {
    return undefined;
  }
}

/** A Host header as URL.host would write it for `scheme` (default port dropped). */
function hostPort(header: string, scheme: string): string | undefined {
  try {
    const u = new URL(`${scheme}//${header}`);
    return u.username || u.password || u.pathname !== '/' ? undefined : u.host;
  } catch {
    return undefined;
  }
}
