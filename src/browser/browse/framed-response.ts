/**
 * Header policy of the browse view, both ways, as pure functions over header lists.
 *
 *   framed page's request headers ──requestHeaders──▶ into the tunnel
 *       (no Cookie, no Host/Origin/Referer of the browse origin: the app adds intranet ones)
 *   intranet response head ──planFramedResponse──▶ what the Service Worker answers the frame with
 *       Set-Cookie, Clear-Site-Data, HSTS, X-Frame-Options… removed; Location/Refresh mapped into the
 *       browse space; the intranet CSP kept, minus what would break framing (frame-ancestors,
 *       sandbox) plus the frame agent's script; our own frame-ancestors (the app only)
 *
 * Why each header goes is in the tables below; docs/browse.md explains the model.
 */
import { FRAME_AGENT_PATH, mapLocation } from './browse-url.ts';
import type { TunnelScope } from './tunnel-scope.ts';

/**
 * Request headers that never go into the tunnel: cookies of the browse origin (the app's jar sends
 * intranet ones), hop-by-hop fields (RFC 9110 §7.6.1), fields the HTTP client sets itself (Host,
 * Content-Length, Accept-Encoding: it decodes gzip/deflate only), and browser-private ones.
 */
const DROP_REQUEST = new Set([
  'cookie',
  'cookie2',
  'host',
  'origin',
  'referer',
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'accept-encoding',
  'service-worker',
  'service-worker-navigation-preload',
]);

/** The request headers of a framed page that may go into the tunnel (names lower-cased). */
export function requestHeaders(headers: Iterable<[string, string]>): [string, string][] {
  const out: [string, string][] = [];
  for (const [rawName, value] of headers) {
    const name = rawName.toLowerCase();
    if (DROP_REQUEST.has(name) || name.startsWith('sec-') || name.startsWith('proxy-')) continue;
    if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > 16384) continue;
    out.push([name, value]);
  }
  return out;
}

/**
 * Response headers the frame never gets:
 * - set-cookie/set-cookie2: intranet cookies live in the app's jar, never in the browser (and so
 *   never on the browse or app origin);
 * - clear-site-data: would let one intranet page wipe the browse origin (and its Service Worker);
 * - strict-transport-security, public-key-pins*, alt-svc: would change how the browser talks to
 *   the browse origin itself;
 * - x-frame-options: the page is framed by the app on purpose (our frame-ancestors replaces it);
 * - service-worker-allowed: intranet content must not widen Service Worker scopes here;
 * - content-length, content-encoding (gzip/deflate, already decoded in the worker), transfer-encoding
 *   and hop-by-hop fields: the body is re-framed (and possibly rewritten) in the browser;
 * - content-location, content-security-policy-report-only, report-to, reporting-endpoints, nel:
 *   URLs of the intranet origin that mean nothing (or leak) on the browse origin;
 * - referrer-policy: replaced (see planFramedResponse).
 */
const DROP_RESPONSE = new Set([
  'set-cookie',
  'set-cookie2',
  'clear-site-data',
  'strict-transport-security',
  'public-key-pins',
  'public-key-pins-report-only',
  'alt-svc',
  'x-frame-options',
  'service-worker-allowed',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'trailer',
  'upgrade',
  'content-location',
  'content-security-policy-report-only',
  'report-to',
  'reporting-endpoints',
  'nel',
  'referrer-policy',
]);
/** Codings the tunnel's HTTP client decodes (src/protocols/http/http-body-stream.ts). */
const DECODED_CODINGS = new Set(['gzip', 'x-gzip', 'deflate']);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Document types besides HTML that can run script when navigated to. */
const SCRIPTABLE_NON_HTML = /xml|svg|xsl/i;
/** Destinations of documents (HTML rewriting and the frame agent apply to these only). */
const DOCUMENT_DESTINATIONS = new Set(['document', 'iframe', 'frame']);

export interface FramedResponseInput {
  /** The intranet URL that was fetched (the base of a relative Location). */
  url: URL;
  method: string;
  /** `Request.destination` of the framed request. */
  destination: string;
  status: number;
  statusText: string;
  /** Lower-case names. */
  headers: readonly [string, string][];
  scope: TunnelScope;
  /** The browse session (app tab) the page belongs to: redirects stay in it. */
  session: string;
  /** The app's origin: the only one (besides the browse origin) allowed to frame intranet pages. */
  appOrigin: string;
  /** Further CSP sources that may frame the page: the app's other browse origins (space-separated). */
  frameAncestors?: string;
  /** Origin of the browse origin, for the agent's CSP source. */
  browseOrigin: string;
  /** A fresh nonce for the injected agent script. */
  nonce: string;
}

export interface FramedResponsePlan {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** Pipe the body through the HTML rewriter with the frame agent injected. */
  rewriteHtml: boolean;
  /** The status (or HEAD) has no body. */
  nullBody: boolean;
}

/** What the Service Worker answers a framed request with, given the intranet response head. */
export function planFramedResponse(input: FramedResponseInput): FramedResponsePlan {
  const { status } = input;
  const nullBody = NULL_BODY.has(status) || input.method.toUpperCase() === 'HEAD';
  const contentType = input.headers.find(([n]) => n === 'content-type')?.[1] ?? '';
  const disposition = input.headers.find(([n]) => n === 'content-disposition')?.[1] ?? '';
  const isRedirect = REDIRECTS.has(status);
  const rewriteHtml =
    !nullBody && !isRedirect && DOCUMENT_DESTINATIONS.has(input.destination) && isHtml(contentType) && !/^\s*attachment/i.test(disposition);
  const agentSource = `${input.browseOrigin}${FRAME_AGENT_PATH}`;
  const headers: [string, string][] = [];
  for (const [name, value] of input.headers) {
    if (DROP_RESPONSE.has(name)) continue;
    if (name === 'content-encoding') {
      const codings = value.toLowerCase().split(',').map((c) => c.trim()).filter(Boolean);
      if (codings.every((c) => DECODED_CODINGS.has(c) || c === 'identity')) continue;
    }
    if (name === 'location') {
      if (!isRedirect) continue;
      const mapped = mapLocation(value.trim(), input.url, input.scope, input.session);
      if (mapped !== undefined) headers.push(['location', mapped]);
      continue;
    }
    if (name === 'refresh') {
      const mapped = mapRefreshHeader(value, input.url, input.scope, input.session);
      if (mapped !== undefined) headers.push(['refresh', mapped]);
      continue;
    }
    if (name === 'content-security-policy') {
      const edited = editContentSecurityPolicy(value, rewriteHtml ? { source: agentSource, nonce: input.nonce } : undefined);
      if (edited) headers.push([name, edited]);
      continue;
    }
    headers.push([name, value]);
  }
  // A document the agent is not in but that can run script (SVG, XHTML, XML with XSLT): no script
  // at all and an opaque origin, so it never sees the browse host's own cookies or the other pages.
  if (DOCUMENT_DESTINATIONS.has(input.destination) && !rewriteHtml && !isRedirect && !nullBody && SCRIPTABLE_NON_HTML.test(contentType)) {
    headers.push(['content-security-policy', 'sandbox']);
  }
  // Only the app (and the browse origin itself, for nested intranet frames) may frame intranet pages.
  // With one origin per intranet site (#14 item 3), the app's other browse origins too: a site's page
  // may frame another site's, which then runs on that site's own origin.
  headers.push(['content-security-policy', `frame-ancestors ${input.appOrigin || "'none'"} 'self'${input.frameAncestors ? ` ${input.frameAncestors}` : ''}`]);
  // Referers stay on the browse origin: a browse URL names intranet hosts and paths, and the open
  // web must not learn them from a followed link. The app computes intranet Referers itself.
  headers.push(['referrer-policy', 'same-origin']);
  return { status, statusText: input.statusText, headers, rewriteHtml, nullBody };
}

function isHtml(contentType: string): boolean {
  return /^\s*text\/html\s*(;|$)/i.test(contentType);
}

/** `Refresh: 5; url=/next` with the URL mapped like a Location. */
function mapRefreshHeader(value: string, base: URL, scope: TunnelScope, session: string): string | undefined {
  const m = /^(\s*[0-9.]+\s*[;,]?\s*(?:url\s*=\s*)?)(['"]?)(.*?)\2\s*$/i.exec(value);
  if (!m) return undefined;
  if (m[3] === '') return value;
  const mapped = mapLocation(m[3], base, scope, session);
  return mapped === undefined ? undefined : `${m[1]}${mapped}`;
}

/** Directives removed from intranet policies (why: see planFramedResponse and docs/browse.md). */
const DROP_DIRECTIVES = new Set(['frame-ancestors', 'sandbox', 'report-uri', 'report-to']);

/**
 * An intranet `Content-Security-Policy` value (one header may hold several comma-separated
 * policies) for the browse origin: `frame-ancestors` and `sandbox` removed (the app frames the page;
 * a sandboxed document would get an opaque origin and leave the Service Worker's control), report
 * endpoints removed, and, when `agent` is given, the frame agent allowed to run: by nonce where the
 * policy already uses nonces, hashes or 'strict-dynamic' (a host source would be ignored there), else
 * by its URL (adding a nonce would switch off an 'unsafe-inline' the page relies on).
 * @returns the edited value, or '' when nothing is left.
 */
export function editContentSecurityPolicy(value: string, agent?: { source: string; nonce: string }): string {
  const policies: string[] = [];
  for (const policy of value.split(',')) {
    const directives: [string, string[]][] = [];
    const seen = new Set<string>();
    for (const part of policy.split(';')) {
      const tokens = part.trim().split(/\s+/).filter(Boolean);
      if (tokens.length === 0) continue;
      const name = tokens[0].toLowerCase();
      // CSP3 §2.2.1: only the first of a duplicated directive counts.
      if (seen.has(name)) continue;
      seen.add(name);
      if (DROP_DIRECTIVES.has(name)) continue;
      directives.push([name, tokens.slice(1)]);
    }
    if (agent) allowAgent(directives, agent);
    if (directives.length) policies.push(directives.map(([n, v]) => [n, ...v].join(' ')).join('; '));
  }
  return policies.join(', ');
}

function allowAgent(directives: [string, string[]][], agent: { source: string; nonce: string }): void {
  // The directive that governs <script src> (CSP3 §6.1.2 fallback list for script-src-elem).
  const order = ['script-src-elem', 'script-src', 'default-src'];
  const found = order.map((n) => directives.find(([d]) => d === n)).find((d) => d !== undefined);
  if (!found) return;
  let [name, sources] = found;
  if (name === 'default-src') {
    // Add a script-src copied from default-src instead of widening every other resource type.
    sources = [...sources];
    directives.push(['script-src', sources]);
    name = 'script-src';
  }
  const lower = sources.map((s) => s.toLowerCase());
  if (lower.length === 1 && lower[0] === "'none'") sources.length = 0;
  const usesNonceOrHash = lower.some((s) => s === "'strict-dynamic'" || /^'(nonce|sha256|sha384|sha512)-/.test(s));
  sources.push(usesNonceOrHash ? `'nonce-${agent.nonce}'` : agent.source);
  const entry = directives.find(([d]) => d === name);
  if (entry) entry[1] = sources;
}

/**
 * The `<script>` tag of the frame agent, injected into framed documents; `cookies` is what the
 * document's scripts see as document.cookie. ASCII only (non-ASCII as character references), so it
 * fits a document of any charset. Not `async`: the agent runs before any script of the page (#11),
 * so no page script sees the browse host's own cookies or an unwrapped History API. `ticket` (one
 * use) lets the Service Worker serve this document's agent with its token inside the script, where
 * page scripts cannot read it (the DOM only ever shows the spent ticket).
 */
export function frameAgentTag(nonce: string, cookies = '', httpOnlyNames: readonly string[] = [], ticket = ''): string {
  const attr = (text: string) => text.replace(/[&<>"'\u0080-\uffff]/g, (c) => `&#${c.charCodeAt(0)};`);
  const httpOnly = httpOnlyNames.length ? ` data-httponly="${attr(JSON.stringify(httpOnlyNames))}"` : '';
  const src = ticket ? `${FRAME_AGENT_PATH}?t=${encodeURIComponent(ticket)}` : FRAME_AGENT_PATH;
  return `<script src="${attr(src)}" nonce="${nonce}" data-cookies="${attr(cookies)}"${httpOnly}></script>`;
}
