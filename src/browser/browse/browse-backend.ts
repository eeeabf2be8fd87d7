/**
 * The app-side end of the browse view: it answers the Service Worker's requests through the
 * tunnel worker, playing the browser's part for intranet sites (cookies, Referer, Origin).
 *
 *   MessagePort (from the Service Worker, via the bridge)
 *     └▶ fetch message ──validate──▶ tunnel up? IP inside AllowedIPs? ──▶ headers: + Cookie (jar),
 *        Referer, Origin of the *intranet* initiator ──▶ fetcher (TunnelController, redirect: manual)
 *     ◀── response: head (Set-Cookie taken into the jar, then removed) + body stream, transferred
 *     ◀── error: the worker's code (CONNECTION_REFUSED, DNS_NXDOMAIN, NOT_CONNECTED…), or "outside"
 *     401 + WWW-Authenticate (Basic/Digest) ──▶ the app's login dialog ──▶ the same request again with
 *        Authorization (browse-auth.ts: credentials per origin and realm, this tab only)
 *     https refused at the certificate (TLS_CERT_UNTRUSTED / TLS_PIN_CHANGED) ──▶ the app's certificate
 *        prompt ──▶ "Trust for HOST" pinned (the app's trust settings, then the worker) ──▶ the same
 *        request again; Cancel ──▶ the error page. Never accepted without the user.
 *     └▶ site message (a frame goes to another intranet site, #14 item 3) ──▶ resolveSite: that
 *        site's browse origin, its bridge bound ──▶ site-origin reply (the Service Worker redirects
 *        the frame there); the navigation's initiator is kept for its cookies and Referer
 *     └▶ websocket message (+ the page's socket port) ──validate──▶ headers: Origin and Cookie of the
 *        intranet document, as a browser's handshake carries them ──▶ openWebSocket(url, port)
 *
 * Redirects are not followed here: the Service Worker hands each 3xx (Location mapped into the
 * browse space) to the browser, which follows it as usual, so cookies set on a redirect are stored
 * before the next request, the address bar shows where the frame ended up, and 303/307 semantics
 * are the browser's own.
 *
 * DOM-free: tests drive it over a Node MessageChannel with a scripted fetcher.
 */
import { ErrorCode } from '../../shared/errors.ts';
import type { OpenWebSocketOptions } from '../worker/websocket-port-protocol.ts';
import { DOCUMENT_TOKEN, MAX_BROWSE_URL_LENGTH, newDocumentToken, type BrowseSiteMessage, type BrowseSiteOriginMessage, type BrowseWebSocketMessage, type BrowseAbortMessage, type BrowseErrorMessage, type BrowseFetchMessage, type BrowsePageMessage, type BrowseResponseMessage, type BrowseScopeMessage } from './browse-protocol.ts';
import type { Credentials } from '../../protocols/http/http-auth.ts';
import { BrowseAuth, type CredentialsRequest } from './browse-auth.ts';
import { CookieJar } from './cookie-jar.ts';
import { failPort } from './port-websocket.ts';
import { isBrowsableScheme } from './browse-url.ts';
import { requestHeaders } from './framed-response.ts';
import { TunnelScope } from './tunnel-scope.ts';

/** A response head as the tunnel worker reports it (src/browser/worker/tunnel-api.ts FetchResponseHead). */
export interface BrowseFetchHead {
  url: string;
  status: number;
  statusText: string;
  /** Lower-case names (what a `Response` shows: no Set-Cookie in browsers). */
  headers: [string, string][];
  /** As sent, Set-Cookie included, when the worker reports them. */
  rawHeaders?: [string, string][];
}

export interface BrowseFetchInit {
  method: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
  signal: AbortSignal;
}

/** Sends one request through the tunnel with `redirect: 'manual'`; rejects with a coded error. */
export type BrowseFetcher = (url: string, init: BrowseFetchInit) => Promise<{ head: BrowseFetchHead; body: ReadableStream<Uint8Array> | null }>;

/** What the browse view shows while pages load. */
export type BrowseActivity =
  | { type: 'request'; id: number; url: string; navigate: boolean; destination: string }
  | { type: 'response'; id: number; url: string; status: number; navigate: boolean }
  | { type: 'error'; id: number; url: string; code: string; message: string; navigate: boolean; outside: boolean }
  | { type: 'body'; id: number; bytes: number }
  | { type: 'done'; id: number; bytes: number; ok: boolean };

export interface BrowseBackendOptions {
  fetch: BrowseFetcher;
  /** The session now: up or not, and every peer's AllowedIPs. */
  tunnel: () => { connected: boolean; allowedIPs: readonly string[] };
  jar?: CookieJar;
  /** Epoch ms (cookie expiry). */
  now?: () => number;
  onActivity?: (activity: BrowseActivity) => void;
  /** The Service Worker accepted a port (its first message on it). */
  onBound?: () => void;
  /**
   * Opens a WebSocket through the tunnel and relays it over `port` (TunnelClient.openWebSocket);
   * without it, framed pages' WebSockets fail (error, then close 1006).
   */
  openWebSocket?: (url: string, options: OpenWebSocketOptions, port: MessagePort) => Promise<void>;
  /**
   * The app's login dialog for a 401 (Basic/Digest) of a navigation: resolves with what the user
   * typed, or undefined for Cancel (the server's 401 page is shown). Without it, 401s pass through.
   */
  askCredentials?: (request: CredentialsRequest) => Promise<Credentials | undefined>;
  /**
   * The app's certificate prompt for an https navigation refused at the certificate (an unknown
   * one, or a changed pin): resolves true once the user trusted it (pinned for the host, in the
   * worker), false for Cancel (the error page is shown). Without it, the error page is shown.
   */
  askTrust?: (request: CertificateRequest) => Promise<boolean>;
  /**
   * The browse origin that frames the intranet origin `origin` (one per site, #14 item 3), its
   * bridge bound to this app; rejects when there is none. Without it, site messages get ''.
   */
  resolveSite?: (origin: string) => Promise<string>;
}

/** What the certificate prompt shows: the host and the worker's TLS error (with `detail.certificate`). */
export interface CertificateRequest {
  /** The intranet origin (`https://nas.corp:8443`). */
  origin: string;
  /** The host name as the TLS client names it (IPv6 without brackets): what a pin is for. */
  host: string;
  error: { code: string; message: string; detail: Record<string, unknown> };
}

/** TLS refusals the user may answer with trust on first use (RFC 6125 names or dates are not). */
const TRUSTABLE = new Set<string>([ErrorCode.TLS_CERT_UNTRUSTED, ErrorCode.TLS_PIN_CHANGED]);

/** What a document token stands for: the document the app (or the Service Worker) served under it. */
export interface BrowseDocument {
  /** The intranet URL served ('' for the outside interstitial). */
  url: string;
  /** The address of the outside interstitial. */
  outside?: string;
  /** The error an error page shows. */
  error?: { code: string; message: string };
}

/** How many document tokens are remembered (a frame's messages name the newest ones). */
const MAX_DOCUMENTS = 128;

/** Largest request body accepted from the browse origin (forms, uploads). */
export const MAX_REQUEST_BODY = 64 * 1024 * 1024;
const MAX_HEADERS = 200;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const DOCUMENT_DESTINATIONS = new Set(['document', 'iframe', 'frame']);
/** 401s answered per request at most (URL credentials, a stale nonce, the user's tries). */
const MAX_AUTH_ATTEMPTS = 8;

/** See the module comment. One per app page; any number of ports (one per Service Worker instance). */
export class BrowseBackend {
  readonly jar: CookieJar;
  readonly #options: BrowseBackendOptions;
  readonly #now: () => number;
  readonly #ports = new Set<MessagePort>();
  readonly #inflight = new Map<string, AbortController>();
  #portCounter = 0;
  #lastScope = '';
  readonly #documents = new Map<string, BrowseDocument>();
  /** HTTP authentication: this tab's credentials per intranet origin (memory only). */
  readonly auth = new BrowseAuth();
  /** The login dialog open per origin. */
  readonly #prompts = new Map<string, Promise<Credentials | undefined>>();
  /** The certificate prompt open per host. */
  readonly #trustPrompts = new Map<string, Promise<boolean>>();
  /**
   * Navigations to another site's origin, by target URL → the document that started them (the
   * redirect between two browse origins carries no Referer): used once, by that navigation.
   */
  readonly #siteInitiators = new Map<string, string>();
  /** Per port, what to call when its Service Worker bound it. */
  readonly #onBound = new Map<MessagePort, () => void>();

  constructor(options: BrowseBackendOptions) {
    this.#options = options;
    this.jar = options.jar ?? new CookieJar();
    this.#now = options.now ?? (() => Date.now());
  }

  /** Serves requests arriving on `port` (the Service Worker's end was handed over by the bridge). */
  attach(port: MessagePort, onBound?: () => void): void {
    const portId = ++this.#portCounter;
    this.#ports.add(port);
    if (onBound) this.#onBound.set(port, onBound);
    port.onmessage = (event: MessageEvent) => this.#onMessage(port, portId, event.data);
    port.start?.();
    this.#sendScope(port);
  }

  /** Tells every attached Service Worker about new AllowedIPs (call on status changes). */
  refreshScope(): void {
    const scope = this.#scope();
    const key = scope.join(',');
    if (key === this.#lastScope) return;
    this.#lastScope = key;
    for (const port of this.#ports) this.#sendScope(port);
  }

  /** Cancels every request and closes every port. */
  close(): void {
    for (const c of this.#inflight.values()) c.abort();
    this.#inflight.clear();
    for (const port of this.#ports) port.close();
    this.#ports.clear();
  }

  /**
   * A cookie a framed page's script wrote (`document.cookie = line`, relayed by the frame agent)
   * for the document at `url`: stored like a browser would, HttpOnly cookies untouchable.
   */
  setScriptCookie(line: string, url: URL): boolean {
    if (typeof line !== 'string' || line.length > 8192 || !isBrowsableScheme(url.protocol)) return false;
    return this.jar.setCookie(line, url, this.#now(), { script: true });
  }

  /** The document a frame agent's token stands for, or undefined for a token this app never issued. */
  documentFor(token: string): BrowseDocument | undefined {
    return typeof token === 'string' && DOCUMENT_TOKEN.test(token) ? this.#documents.get(token) : undefined;
  }

  #remember(token: string, doc: BrowseDocument): void {
    this.#documents.set(token, doc);
    if (this.#documents.size > MAX_DOCUMENTS) this.#documents.delete(this.#documents.keys().next().value as string);
  }

  /** Requests in flight (head not yet answered, or body still streaming). */
  get inflight(): number {
    return this.#inflight.size;
  }

  #scope(): string[] {
    const t = this.#options.tunnel();
    return t.connected ? [...t.allowedIPs] : [];
  }

  #sendScope(port: MessagePort): void {
    const message: BrowseScopeMessage = { type: 'scope', allowedIPs: this.#scope() };
    port.postMessage(message);
  }

  #onMessage(port: MessagePort, portId: number, data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    const type = (data as { type?: unknown }).type;
    if (type === 'bound') {
      this.#onBound.get(port)?.();
      this.#onBound.delete(port);
      this.#options.onBound?.();
      return;
    }
    if (type === 'site') {
      void this.#site(port, data as BrowseSiteMessage);
      return;
    }
    if (type === 'page') {
      const page = data as Partial<BrowsePageMessage>;
      const okError = page.error === undefined || (typeof page.error?.code === 'string' && typeof page.error.message === 'string');
      if (typeof page.token === 'string' && DOCUMENT_TOKEN.test(page.token) && typeof page.url === 'string' && (page.outside === undefined || typeof page.outside === 'string') && okError) {
        const doc: BrowseDocument = { url: page.url };
        if (page.outside) doc.outside = page.outside;
        if (page.error) doc.error = { code: page.error.code, message: page.error.message };
        this.#remember(page.token, doc);
      }
      return;
    }
    if (type === 'websocket') {
      this.#webSocket(data as BrowseWebSocketMessage);
      return;
    }
    const id = (data as { id?: unknown }).id;
    if (!Number.isSafeInteger(id)) return;
    const key = `${portId}:${id as number}`;
    if (type === 'abort') {
      this.#inflight.get(key)?.abort();
      this.#inflight.delete(key);
      return;
    }
    if (type !== 'fetch') return;
    const problem = invalidFetch(data as BrowseFetchMessage);
    if (problem) {
      this.#replyError(port, id as number, ErrorCode.USAGE, problem, false);
      return;
    }
    void this.#fetch(port, key, data as BrowseFetchMessage);
  }

  async #fetch(port: MessagePort, key: string, m: BrowseFetchMessage): Promise<void> {
    const activity = this.#options.onActivity;
    const url = new URL(m.url);
    activity?.({ type: 'request', id: m.id, url: url.href, navigate: m.navigate, destination: m.destination });
    const fail = (code: string, message: string, outside: boolean): void => {
      activity?.({ type: 'error', id: m.id, url: url.href, code, message, navigate: m.navigate, outside });
      this.#replyError(port, m.id, code, message, outside);
    };
    const tunnel = this.#options.tunnel();
    if (!tunnel.connected) {
      fail(ErrorCode.NOT_CONNECTED, 'The tunnel is down: connect in wgweb first.', false);
      return;
    }
    const scope = TunnelScope.from(tunnel.allowedIPs);
    if (scope.place(url.hostname) === 'outside') {
      fail(ErrorCode.HOST_UNREACHABLE, `${url.host} is outside the tunnel: no peer's AllowedIPs include it.`, true);
      return;
    }
    const initiator = this.#initiatorOf(url, m);
    const credentials = withCredentials(m.credentials, url, initiator);
    const headers = this.#headersFor(url, m, initiator, credentials);
    const controller = new AbortController();
    this.#inflight.set(key, controller);
    let result: Awaited<ReturnType<BrowseFetcher>>;
    // The page's own Authorization wins; else the protection space's, once the user logged in.
    const ownAuthorization = headers.some(([n]) => n === 'authorization');
    for (let attempt = 0; ; attempt++) {
      const authorization = ownAuthorization || !credentials ? undefined : this.auth.authorization(url, m.method);
      const sent = authorization ? [...headers, ['authorization', authorization] as [string, string]] : headers;
      try {
        // A copy per attempt: the worker call may transfer (detach) the body, and a 401 sends it again.
        result = await this.#options.fetch(url.href, { method: m.method, headers: sent, body: m.body ? m.body.slice(0) : null, signal: controller.signal });
      } catch (e) {
        if (attempt < MAX_AUTH_ATTEMPTS && !controller.signal.aborted && (await this.#answerCertificate(url, m, e))) continue;
        this.#inflight.delete(key);
        const { code, message } = codeOf(e);
        fail(code, message, isOutside(code, message, e, scope));
        return;
      }
      const now = this.#now();
      // Fetch §4.6 step "HTTP-network fetch": a response to a request without credentials sets no cookies.
      for (const [name, value] of credentials ? (result.head.rawHeaders ?? result.head.headers) : []) {
        if (name.toLowerCase() === 'set-cookie') this.jar.setCookie(value, url, now);
      }
      if (result.head.status !== 401 || ownAuthorization || !credentials || attempt >= MAX_AUTH_ATTEMPTS || controller.signal.aborted) break;
      if (!(await this.#answer401(url, m, result.head, authorization))) break;
      void result.body?.cancel().catch(() => {});
    }
    const { head } = result;
    activity?.({ type: 'response', id: m.id, url: url.href, status: head.status, navigate: m.navigate });
    let body = result.body;
    if (body) {
      let bytes = 0;
      const done = (ok: boolean): void => {
        if (this.#inflight.get(key) === controller) this.#inflight.delete(key);
        activity?.({ type: 'done', id: m.id, bytes, ok });
      };
      const reader = body.getReader();
      body = new ReadableStream<Uint8Array>(
        {
          async pull(c) {
            let r: ReadableStreamReadResult<Uint8Array>;
            try {
              r = await reader.read();
            } catch (e) {
              c.error(e);
              done(false);
              return;
            }
            if (r.done) {
              c.close();
              done(true);
              return;
            }
            bytes += r.value.byteLength;
            activity?.({ type: 'body', id: m.id, bytes: r.value.byteLength });
            c.enqueue(r.value);
          },
          cancel: (reason) => {
            // The frame navigated away or the browser gave up: stop the transfer in the tunnel too.
            controller.abort();
            done(false);
            return reader.cancel(reason);
          },
        },
        { highWaterMark: 0 },
      );
    } else {
      this.#inflight.delete(key);
      activity?.({ type: 'done', id: m.id, bytes: 0, ok: true });
    }
    const message: BrowseResponseMessage = {
      type: 'response',
      id: m.id,
      url: head.url || url.href,
      status: head.status,
      statusText: head.statusText,
      headers: head.headers.filter(([n]) => n !== 'set-cookie' && n !== 'set-cookie2'),
      body,
      allowedIPs: [...scope.allowedIPs],
    };
    // A document gets the cookies its scripts may read (no HttpOnly): the frame agent serves them
    // as document.cookie, in place of the browse origin's own.
    if (m.navigate || DOCUMENT_DESTINATIONS.has(m.destination)) {
      message.scriptCookies = this.jar.cookieHeader(url, this.#now(), { script: true });
      message.httpOnlyCookies = this.jar.cookiesFor(url, this.#now()).filter((c) => c.httpOnly).map((c) => c.name);
      message.documentToken = newDocumentToken();
      this.#remember(message.documentToken, { url: url.href });
    }
    try {
      port.postMessage(message, body ? [body as unknown as Transferable] : []);
    } catch {
      // The Service Worker's end is gone: nobody will read the body.
      this.#inflight.delete(key);
      void body?.cancel().catch(() => {});
    }
  }

  /**
   * A 401 (RFC 9110 §11.6.1): true when the request should go again with credentials: the URL's,
   * a fresh Digest nonce for known ones, or what the user typed into the app's login dialog.
   * Only navigations ask the user (as browsers do for documents); one dialog per origin at a time,
   * and requests that arrive meanwhile wait for its answer. Cancel keeps the server's 401 page.
   */
  async #answer401(url: URL, m: BrowseFetchMessage, head: BrowseFetchHead, sent: string | undefined): Promise<boolean> {
    const challenges = head.headers.filter(([n]) => n === 'www-authenticate').map(([, v]) => v);
    const waiting = this.#prompts.get(url.origin);
    if (waiting) {
      await waiting;
      return this.auth.authorization(url, m.method) !== undefined;
    }
    const decision = this.auth.next(url, challenges, sent);
    if (decision.action === 'retry') return true;
    const ask = this.#options.askCredentials;
    if (decision.action !== 'ask' || !ask || !m.navigate) return false;
    const prompt = ask(decision.request).catch(() => undefined);
    this.#prompts.set(url.origin, prompt);
    let credentials: Credentials | undefined;
    try {
      credentials = await prompt;
    } finally {
      this.#prompts.delete(url.origin);
    }
    return !!credentials && this.auth.login(url, challenges, credentials);
  }

  /**
   * An https request refused at the certificate: true when it should go again because the user
   * trusted the certificate in the app's prompt (which pinned it before resolving). Only
   * navigations ask; requests for the same host that fail meanwhile wait for that answer.
   */
  async #answerCertificate(url: URL, m: BrowseFetchMessage, e: unknown): Promise<boolean> {
    const { code, message } = codeOf(e);
    const detail = (e as { detail?: unknown })?.detail;
    if (url.protocol !== 'https:' || !TRUSTABLE.has(code) || typeof detail !== 'object' || detail === null) return false;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const waiting = this.#trustPrompts.get(host);
    if (waiting) return waiting;
    const ask = this.#options.askTrust;
    if (!ask || !m.navigate) return false;
    const prompt = ask({ origin: url.origin, host, error: { code, message, detail: detail as Record<string, unknown> } }).catch(() => false);
    this.#trustPrompts.set(host, prompt);
    try {
      return await prompt;
    } finally {
      this.#trustPrompts.delete(host);
    }
  }

  /**
   * A framed page's WebSocket: the handshake carries what a browser's would (RFC 6455 §4.1): the
   * document's origin as Origin (servers such as Jupyter check it against Host) and the jar's
   * cookies for the socket's URL; the rest (Host, Sec-WebSocket-*) the worker's client adds.
   */
  #webSocket(m: BrowseWebSocketMessage): void {
    const port: unknown = m.port;
    if (typeof MessagePort === 'undefined' || !(port instanceof MessagePort)) return;
    const problem = invalidWebSocket(m);
    if (problem) return failPort(port, problem);
    const url = new URL(m.url);
    const initiator = new URL(m.initiator);
    const tunnel = this.#options.tunnel();
    if (!tunnel.connected) return failPort(port, 'The tunnel is down: connect in wgweb first.');
    if (TunnelScope.from(tunnel.allowedIPs).place(url.hostname) === 'outside') return failPort(port, `${url.host} is outside the tunnel: no peer's AllowedIPs include it.`);
    const open = this.#options.openWebSocket;
    if (!open) return failPort(port, 'This page cannot open WebSockets through the tunnel.');
    const httpUrl = new URL(url.href.replace(/^ws/, 'http'));
    const headers: [string, string][] = [['origin', initiator.origin]];
    const cookie = this.jar.cookieHeader(httpUrl, this.#now(), { initiatorHost: initiator.hostname, navigation: false, method: 'GET' });
    if (cookie) headers.push(['cookie', cookie]);
    open(url.href, { protocols: [...m.protocols], headers }, port).catch((e: unknown) => failPort(port, codeOf(e).message));
  }

  /** A frame goes to another site: that site's browse origin (bridge bound), or '' (see module comment). */
  async #site(port: MessagePort, m: BrowseSiteMessage): Promise<void> {
    if (!Number.isSafeInteger(m.id)) return;
    let origin = '';
    try {
      const url = new URL(m.url);
      if (!isBrowsableScheme(url.protocol) || !url.host || (m.initiator !== null && typeof m.initiator !== 'string') || m.url.length > MAX_BROWSE_URL_LENGTH) throw new RangeError('not an intranet URL');
      if (!this.#options.resolveSite) throw new Error('no sites');
      origin = await this.#options.resolveSite(url.origin);
      if (m.initiator) {
        this.#siteInitiators.delete(url.href);
        this.#siteInitiators.set(url.href, m.initiator);
        if (this.#siteInitiators.size > 32) this.#siteInitiators.delete(this.#siteInitiators.keys().next().value as string);
      }
    } catch {
      origin = '';
    }
    const reply: BrowseSiteOriginMessage = { type: 'site-origin', id: m.id, origin };
    try {
      port.postMessage(reply);
    } catch {
      // the Service Worker went away
    }
  }

  /** The intranet document that made the request, or undefined when the user did. */
  #initiatorOf(url: URL, m: BrowseFetchMessage): URL | undefined {
    let initiator: URL | undefined;
    // A navigation redirected here from another site's origin: its initiator came with the site message.
    const carried = m.navigate && m.initiator === null ? this.#siteInitiators.get(url.href) : undefined;
    if (carried !== undefined) this.#siteInitiators.delete(url.href);
    try {
      initiator = m.initiator ? new URL(m.initiator) : carried ? new URL(carried) : undefined;
    } catch {
      initiator = undefined;
    }
    if (initiator && !isBrowsableScheme(initiator.protocol)) initiator = undefined;
    return initiator;
  }

  /** The request as a browser would send it to the intranet host. */
  #headersFor(url: URL, m: BrowseFetchMessage, initiator: URL | undefined, credentials: boolean): [string, string][] {
    const headers = requestHeaders(m.headers);
    const cookie = credentials
      ? this.jar.cookieHeader(url, this.#now(), {
          initiatorHost: initiator?.hostname,
          navigation: m.navigate,
          method: m.method,
        })
      : '';
    if (cookie) headers.push(['cookie', cookie]);
    if (initiator) {
      // strict-origin-when-cross-origin (the Fetch default): the full URL within one origin, the origin across.
      const sameOrigin = initiator.origin === url.origin;
      initiator.hash = '';
      headers.push(['referer', sameOrigin ? initiator.href : `${initiator.origin}/`]);
      const method = m.method.toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') headers.push(['origin', initiator.origin]);
      else if (!sameOrigin && !m.navigate && m.destination === '') headers.push(['origin', initiator.origin]);
    }
    return headers;
  }

  #replyError(port: MessagePort, id: number, code: string, message: string, outside: boolean): void {
    const reply: BrowseErrorMessage = { type: 'error', id, code, message, outside, allowedIPs: this.#scope() };
    try {
      port.postMessage(reply);
    } catch {
      // closed
    }
  }
}

/**
 * Whether a request carries (and its response may set) cookies and stored HTTP credentials: the
 * Fetch standard's credentials mode (§2.2.5). `same-origin` compares the request with the intranet
 * document that made it; a request the user made (no initiator) is same-origin by definition.
 */
export function withCredentials(mode: RequestCredentials | undefined, url: URL, initiator: URL | undefined): boolean {
  if (mode === 'omit') return false;
  if (mode === 'same-origin') return initiator === undefined || initiator.origin === url.origin;
  return true;
}

/** Why a fetch message from the browse origin is refused, or undefined when it is well-formed. */
function invalidFetch(m: BrowseFetchMessage): string | undefined {
  if (typeof m.url !== 'string' || m.url.length > MAX_BROWSE_URL_LENGTH) return 'the request has no URL';
  let url: URL;
  try {
    url = new URL(m.url);
  } catch {
    return `"${m.url.slice(0, 200)}" is not a URL`;
  }
  if (!isBrowsableScheme(url.protocol)) return `only http:// and https:// can be fetched through the tunnel, not ${url.protocol}`;
  if (typeof m.method !== 'string' || !METHOD.test(m.method) || FORBIDDEN_METHODS.has(m.method.toUpperCase())) return 'the request method is not allowed';
  if (!Array.isArray(m.headers) || m.headers.length > MAX_HEADERS) return 'the request headers are malformed';
  for (const h of m.headers) {
    if (!Array.isArray(h) || h.length !== 2 || typeof h[0] !== 'string' || typeof h[1] !== 'string' || !METHOD.test(h[0])) return 'the request headers are malformed';
  }
  if (m.body !== null && !(m.body instanceof ArrayBuffer)) return 'the request body must be an ArrayBuffer';
  if (m.body && m.body.byteLength > MAX_REQUEST_BODY) return `the request body is larger than ${MAX_REQUEST_BODY} bytes`;
  if (m.body && (m.method.toUpperCase() === 'GET' || m.method.toUpperCase() === 'HEAD')) return 'a GET or HEAD request cannot have a body';
  if (m.initiator !== null && typeof m.initiator !== 'string') return 'the initiator must be a URL or null';
  if (m.credentials !== undefined && m.credentials !== 'omit' && m.credentials !== 'same-origin' && m.credentials !== 'include') return 'the credentials mode is not one of omit, same-origin, include';
  if (typeof m.navigate !== 'boolean' || typeof m.destination !== 'string') return 'the request kind is malformed';
  return undefined;
}

const WS_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Why a websocket message from the browse origin is refused, or undefined when it is well-formed. */
function invalidWebSocket(m: BrowseWebSocketMessage): string | undefined {
  if (typeof m.url !== 'string' || m.url.length > MAX_BROWSE_URL_LENGTH || typeof m.initiator !== 'string') return 'the WebSocket request is malformed';
  let url: URL;
  let initiator: URL;
  try {
    url = new URL(m.url);
    initiator = new URL(m.initiator);
  } catch {
    return 'the WebSocket URL is not a URL';
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') return `only ws:// and wss:// WebSockets can be opened, not ${url.protocol}`;
  if (url.hash) return 'a WebSocket URL has no fragment';
  if (!isBrowsableScheme(initiator.protocol)) return 'the WebSocket was opened by no intranet document';
  if (!Array.isArray(m.protocols) || m.protocols.length > 32 || m.protocols.some((p) => typeof p !== 'string' || !WS_TOKEN.test(p))) return 'the WebSocket subprotocols are malformed';
  return undefined;
}

function codeOf(e: unknown): { code: string; message: string } {
  const x = e as { code?: unknown; message?: unknown };
  const code = typeof x?.code === 'string' ? x.code : ErrorCode.INTERNAL;
  const message = typeof x?.message === 'string' && x.message ? x.message : String(e);
  return { code, message };
}

/**
 * The tunnel could not carry it, and the open web might: an address outside every AllowedIPs (a
 * name that resolved there), or a name while the config has no DNS server (wg-quick would resolve
 * it outside the tunnel too).
 */
function isOutside(code: string, message: string, e: unknown, scope: TunnelScope): boolean {
  if (code === ErrorCode.HOST_UNREACHABLE) {
    const address = (e as { detail?: { address?: unknown } })?.detail?.address;
    if (typeof address === 'string' && scope.place(address) === 'outside') return true;
    return /AllowedIPs/.test(message);
  }
  if (code === ErrorCode.DNS_FAILURE) return /no DNS/i.test(message);
  return false;
}
