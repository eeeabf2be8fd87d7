/**
 * The browse view's Service Worker, on the browse origin (scope `/`). It answers every request of
 * the framed intranet pages through the tunnel, which lives in the app page's worker: a Service
 * Worker cannot reach a dedicated worker, so the app hands it a MessagePort (via the bridge page)
 * and answers on it (src/browser/browse/browse-backend.ts).
 *
 *   install: refused unless at scope / with the exact script URL (a framed page may register copies)
 *   fetch event
 *     ├─ /__wgweb/outside?url=…        → the "leaves the tunnel" interstitial
 *     ├─ /__wgweb/bridge.html (navigation) → network; a 200 for a navigation the app started (its
 *     │                                  Referer) makes that document a genuine bridge: one port from it
 *     ├─ /__wgweb/frame-agent.js?t=…   → the agent, with the token of the document that holds ticket t
 *     ├─ /__wgweb/* (bridge, agent…)   → network (the relay's browse listener)
 *     ├─ /browse/<session>/http(s)/<host>/<path>  → the tunnel of that session's app tab (https: the
 *     │                                  worker's TLS client, with the app's trust settings)
 *     ├─ other paths of this origin    → root-absolute URL of a framed page: mapped onto the intranet
 *     │                                  origin (and session) of the requesting document (client URL,
 *     │                                  else Referer); navigations are redirected to the browse path
 *     ├─ http(s)://<address in AllowedIPs or a name>/…  (absolute URL of a subresource) → the tunnel
 *     └─ everything else (addresses outside AllowedIPs, names that resolve there) → network, the
 *                                        open web as usual
 *
 *   one origin per intranet site (#14 item 3): a port bound from a bridge for site S serves S only;
 *     a navigation to another site ─▶ the app names that site's origin (its bridge bound) ─▶ 302/307
 *     there; a subresource of another site: no-cors media/scripts/styles as before, cors only when
 *     the response's Access-Control-Allow-Origin lets this site read it, anything else a network error
 *
 *   message "websocket" (+ port) from a framed document ─▶ its session's app opens it through the tunnel
 *
 *   the tunnel: BackendLink.request ─▶ app: fetch through the worker ─▶ head + transferred body
 *     ─▶ planFramedResponse (headers, Location) ─▶ HTML? pipe through the rewriter + frame agent
 *     ─▶ respondWith(new Response(stream)): the body streams; nothing is buffered whole
 *     errors ─▶ in-frame error page for navigations, a network error for subresources
 */
import { ErrorCode } from '../../shared/errors.ts';
import {
  BROWSE_MESSAGE_TAG,
  BROWSE_UNAVAILABLE,
  type BackendToServiceWorker,
  type BrowseBoundMessage,
  type BrowseErrorMessage,
  type BrowseFetchMessage,
  type BrowsePageMessage,
  type BrowseResponseMessage,
  type BrowseSiteMessage,
  type BrowseWebSocketMessage,
  type FrameWebSocketMessage,
  type NeedPortMessage,
  newDocumentToken,
} from './browse-protocol.ts';
import {
  BRIDGE_PATH,
  FRAME_AGENT_PATH,
  SERVICE_WORKER_PATH,
  BROWSE_PREFIX,
  CONTROL_PREFIX,
  OUTSIDE_PATH,
  SESSION_ID,
  browseLocationOf,
  browsePath,
  isBrowsableScheme,
  mapLink,
  parseBrowsePath,
  parseOutsidePath,
  type BrowseLocation,
} from './browse-url.ts';
import { errorPage, outsidePage, ownPageCsp, type OutsideReason } from './error-page.ts';
import { frameAgentTag, planFramedResponse, requestHeaders } from './framed-response.ts';
import { htmlRewriteStream } from './html-rewriter.ts';
import { failPort } from './port-websocket.ts';
import { TunnelScope } from './tunnel-scope.ts';

// ---- the few Service Worker types the DOM lib lacks ------------------------------------------------

interface SwClient {
  readonly id: string;
  readonly url: string;
  readonly frameType: string;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}
interface SwClients {
  get(id: string): Promise<SwClient | undefined>;
  matchAll(options?: { includeUncontrolled?: boolean; type?: string }): Promise<readonly SwClient[]>;
  claim(): Promise<void>;
}
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  readonly clientId: string;
  readonly resultingClientId: string;
  respondWith(response: Response | Promise<Response>): void;
}
interface SwMessageEvent extends ExtendableEvent {
  readonly data: unknown;
  readonly ports: readonly MessagePort[];
  readonly source: SwClient | null;
}
interface SwScope {
  readonly location: Location;
  readonly registration: { readonly scope: string; unregister(): Promise<boolean> };
  readonly clients: SwClients;
  readonly navigator: Navigator;
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (e: FetchEvent) => void): void;
  addEventListener(type: 'message', listener: (e: SwMessageEvent) => void): void;
}

const sw = globalThis as unknown as SwScope;
const ORIGIN = sw.location.origin;
/** How long a request waits for the app to hand over a backend port. */
const PORT_WAIT_MS = 10_000;
const NAVIGATION_DESTINATIONS = new Set(['document', 'iframe', 'frame']);

/**
 * Each session's AllowedIPs, as its app tab reported them (tabs may be connected to different
 * tunnels). Absent until the tab said: "outside" cannot be decided before.
 */
const scopes = new Map<string, TunnelScope>();

function scopeOf(session: string): TunnelScope {
  return scopes.get(session) ?? TunnelScope.none;
}
/** The app's origin, as the genuine bridges' navigations showed it (frame-ancestors of framed pages). */
let appOrigin = '';
/** The latest framed document (the last resort for mapping a root-absolute navigation). */
let lastDocument: BrowseLocation | undefined;

// ---- the backend link ------------------------------------------------------------------------------

type Reply = BrowseResponseMessage | BrowseErrorMessage;

/** The Service Worker's end of one app tab's MessagePort. */
class BackendLink {
  readonly port: MessagePort;
  /** The bridge client that handed the port over (gone = the app page is gone). */
  readonly bridgeId: string;
  readonly session: string;
  /** The intranet origin this browse origin stands for ('' = every site shares it). */
  readonly site: string;
  /** The other browse origins of the app (CSP sources), which may frame this one's pages. */
  readonly frames: string;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  readonly #sites = new Map<number, (origin: string) => void>();
  #nextId = 1;
  #closed = false;

  constructor(port: MessagePort, bridgeId: string, session: string, site = '', frames = '') {
    this.port = port;
    this.bridgeId = bridgeId;
    this.session = session;
    this.site = site;
    this.frames = frames;
    port.onmessage = (e) => this.#onMessage(e.data as BackendToServiceWorker);
    port.addEventListener('close', () => this.fail());
    port.start();
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(message: Omit<BrowseFetchMessage, 'id' | 'type'>, signal: AbortSignal | undefined): Promise<Reply> {
    const id = this.#nextId++;
    return new Promise<Reply>((resolve) => {
      if (this.#closed) {
        resolve(unavailable(id));
        return;
      }
      this.#pending.set(id, resolve);
      const full: BrowseFetchMessage = { type: 'fetch', id, ...message };
      this.port.postMessage(full, full.body ? [full.body] : []);
      signal?.addEventListener(
        'abort',
        () => {
          if (!this.#pending.has(id)) return;
          this.port.postMessage({ type: 'abort', id });
        },
        { once: true },
      );
    });
  }

  /** The browse origin of another intranet site (its bridge bound by the app), or '' when none. */
  siteOrigin(url: URL, initiator: URL | undefined): Promise<string> {
    const id = this.#nextId++;
    return new Promise<string>((resolve) => {
      if (this.#closed) return resolve('');
      this.#sites.set(id, resolve);
      const message: BrowseSiteMessage = { type: 'site', id, url: url.href, initiator: initiator?.href ?? null };
      this.port.postMessage(message);
    });
  }

  /** The app went away: every waiting request gets an error. */
  fail(): void {
    this.#closed = true;
    for (const [id, resolve] of this.#pending) resolve(unavailable(id));
    this.#pending.clear();
    for (const resolve of this.#sites.values()) resolve('');
    this.#sites.clear();
  }

  #onMessage(m: BackendToServiceWorker): void {
    if (typeof m !== 'object' || m === null) return;
    const allowedIPs = (m as { allowedIPs?: unknown }).allowedIPs;
    if (Array.isArray(allowedIPs)) {
      scopes.set(this.session, TunnelScope.from(allowedIPs as string[]));
    }
    if (m.type === 'scope') return;
    if (m.type === 'site-origin') {
      const answer = this.#sites.get(m.id);
      this.#sites.delete(m.id);
      answer?.(typeof m.origin === 'string' && /^https?:\/\/[^/]+$/.test(m.origin) && m.origin !== ORIGIN ? m.origin : '');
      return;
    }
    const resolve = this.#pending.get(m.id);
    if (!resolve) {
      if (m.type === 'response') void m.body?.cancel().catch(() => {});
      return;
    }
    this.#pending.delete(m.id);
    resolve(m);
  }
}

function unavailable(id: number): BrowseErrorMessage {
  return {
    type: 'error',
    id,
    code: BROWSE_UNAVAILABLE,
    message: 'The wgweb page that carries the tunnel is closed or was reloaded.',
    outside: false,
    allowedIPs: [],
  };
}

/** Each app tab's backend, by browse session. */
const backends = new Map<string, BackendLink>();
const waiting = new Map<string, { promise: Promise<BackendLink>; resolve: (b: BackendLink) => void }>();

function bridgeSession(client: SwClient): string | undefined {
  const u = new URL(client.url);
  const session = u.searchParams.get('session') ?? '';
  return u.pathname === BRIDGE_PATH && SESSION_ID.test(session) ? session : undefined;
}

/** The session's backend, asking its app tab for a (new) port when there is none or its page is gone. */
async function getBackend(session: string): Promise<BackendLink | undefined> {
  const current = backends.get(session);
  if (current && !current.closed && (await sw.clients.get(current.bridgeId))) return current;
  current?.fail();
  backends.delete(session);
  let wait = waiting.get(session);
  if (!wait) {
    let resolve!: (b: BackendLink) => void;
    const promise = new Promise<BackendLink>((r) => (resolve = r));
    wait = { promise, resolve };
    waiting.set(session, wait);
  }
  const bridges = (await sw.clients.matchAll({ includeUncontrolled: true, type: 'window' })).filter(
    (c) => c.frameType === 'nested' && bridgeSession(c) === session,
  );
  if (bridges.length === 0) return undefined;
  const ask: NeedPortMessage = { wgweb: BROWSE_MESSAGE_TAG, type: 'need-port' };
  for (const b of bridges) b.postMessage(ask);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), PORT_WAIT_MS)));
  const got = await Promise.race([wait.promise, timeout]);
  clearTimeout(timer);
  return got;
}

/**
 * This worker only ever runs as the browse view's own: at scope `/`, from exactly its script URL.
 * A framed page can register the same script elsewhere (`/__wgweb/browse-sw.js` at scope
 * `/browse/`; the relay refuses other URLs): such a copy refuses to install and removes itself.
 */
function rightfulRegistration(): boolean {
  return sw.registration.scope === `${ORIGIN}/` && sw.location.href === `${ORIGIN}${SERVICE_WORKER_PATH}`;
}

sw.addEventListener('install', (e) => {
  if (!rightfulRegistration()) {
    void sw.registration.unregister().catch(() => false);
    e.waitUntil(Promise.reject(new Error('the browse Service Worker runs only at scope / from its own URL')));
    return;
  }
  e.waitUntil(sw.skipWaiting());
});
sw.addEventListener('activate', (e) => e.waitUntil(rightfulRegistration() ? sw.clients.claim() : sw.registration.unregister()));

/**
 * Bridge documents whose navigation this worker saw the app start (by client id): the only
 * senders a port is taken from, each once. A page cannot make itself one: changing its URL to the
 * bridge's (history.replaceState), or framing the bridge from the browse origin, is not such a
 * navigation (the relay serves the bridge only to the app's frame, and the Referer names who asked).
 */
const genuineBridges = new Map<string, { session: string; appOrigin: string; site: string; frames: string }>();

/** CSP sources of the app's other browse origins (`http://127.0.0.1:4001`, `https://*.browse.example.com`). */
const FRAME_SOURCE = /^https?:\/\/(\*\.)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$/;

/** The bridge URL's `site` (an http(s) origin) and `frames` (CSP sources), or undefined when malformed. */
function siteOfBridge(url: URL): { site: string; frames: string } | undefined {
  const site = url.searchParams.get('site') ?? '';
  const frames = (url.searchParams.get('frames') ?? '').split(' ').filter((f) => f !== '');
  if (site !== '') {
    try {
      const u = new URL(site);
      if (!isBrowsableScheme(u.protocol) || u.origin !== site) return undefined;
    } catch {
      return undefined;
    }
  }
  if (frames.length > 70 || !frames.every((f) => FRAME_SOURCE.test(f))) return undefined;
  return { site, frames: frames.join(' ') };
}

async function bridgeNavigation(event: FetchEvent, url: URL): Promise<Response> {
  const response = await fetch(event.request);
  const app = url.searchParams.get('app') ?? '';
  const session = url.searchParams.get('session') ?? '';
  let referrerOrigin = '';
  try {
    referrerOrigin = event.request.referrer ? new URL(event.request.referrer).origin : '';
  } catch {
    referrerOrigin = '';
  }
  const site = siteOfBridge(url);
  if (response.status === 200 && event.resultingClientId && SESSION_ID.test(session) && /^https?:\/\/[^/]+$/.test(app) && app !== ORIGIN && referrerOrigin === app && site) {
    genuineBridges.set(event.resultingClientId, { session, appOrigin: app, ...site });
    if (genuineBridges.size > 64) genuineBridges.delete(genuineBridges.keys().next().value as string);
  }
  return response;
}

sw.addEventListener('message', (e) => {
  const data = e.data as { wgweb?: unknown; type?: unknown } | null;
  if (data?.wgweb === BROWSE_MESSAGE_TAG && data.type === 'websocket') {
    e.waitUntil(webSocketFromFrame(e));
    return;
  }
  if (!data || data.wgweb !== BROWSE_MESSAGE_TAG || data.type !== 'port') return;
  const port = e.ports[0];
  const source = e.source;
  const bridge = source ? genuineBridges.get(source.id) : undefined;
  if (!port || !source || !bridge) {
    port?.close();
    return;
  }
  // One port per genuine bridge document: the app loads the bridge again for the next one.
  genuineBridges.delete(source.id);
  appOrigin = bridge.appOrigin;
  const { session } = bridge;
  // The previous link keeps serving the requests it already carries (its page may well be alive:
  // a second port also comes when a request asked for one while the first was on its way).
  const link = new BackendLink(port, source.id, session, bridge.site, bridge.frames);
  backends.set(session, link);
  port.postMessage({ type: 'bound' } satisfies BrowseBoundMessage);
  waiting.get(session)?.resolve(link);
  waiting.delete(session);
});

/**
 * A framed page's script opened a WebSocket (the frame agent's replacement of `WebSocket`, which
 * sends the socket's port here): passed on to the app of the document's session, which opens it
 * through the tunnel. The document (its session, and the intranet origin the handshake speaks for)
 * is the sender's own client URL, as for its fetches; the message names only the target.
 */
async function webSocketFromFrame(e: SwMessageEvent): Promise<void> {
  const port = e.ports[0];
  if (!port) return;
  const m = e.data as Partial<FrameWebSocketMessage>;
  const doc = e.source ? browseLocationOf(e.source.url, ORIGIN) : undefined;
  if (!doc) return failPort(port, 'Only pages browsed through the tunnel can open tunnel WebSockets.');
  const link = await getBackend(doc.session);
  if (!link || link.closed) return failPort(port, 'The wgweb page that carries the tunnel is closed or was reloaded.');
  const message: BrowseWebSocketMessage = {
    type: 'websocket',
    url: typeof m.url === 'string' ? m.url : '',
    protocols: Array.isArray(m.protocols) ? m.protocols.filter((p): p is string => typeof p === 'string') : [],
    initiator: doc.url.href,
    port,
  };
  try {
    link.port.postMessage(message, [port]);
  } catch {
    failPort(port, 'The wgweb page that carries the tunnel is closed or was reloaded.');
  }
}

// ---- routing ---------------------------------------------------------------------------------------

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    return;
  }
  if (url.origin === ORIGIN) {
    if (url.pathname === OUTSIDE_PATH) {
      event.respondWith(
        documentOf(event).then((doc) => outsideResponse(parseOutsidePath(url.pathname + url.search) ?? '', 'other', doc ? scopeOf(doc.session) : TunnelScope.none, undefined, doc?.session)),
      );
      return;
    }
    if (url.pathname === BRIDGE_PATH && request.mode === 'navigate') {
      event.respondWith(bridgeNavigation(event, url));
      return;
    }
    if (url.pathname === FRAME_AGENT_PATH && url.search !== '') {
      event.respondWith(agentScript(url.searchParams.get('t') ?? ''));
      return;
    }
    if (url.pathname.startsWith(CONTROL_PREFIX)) return;
    event.respondWith(ownOrigin(event, url));
    return;
  }
  if (!isBrowsableScheme(url.protocol)) return;
  // An absolute http(s) URL a framed page asked for: the tunnel when AllowedIPs (or DNS) say so.
  // Decided here only when every tab's tunnel leaves it out; else per session, below.
  if (scopes.size > 0 && [...scopes.values()].every((s) => s.place(url.hostname) === 'outside')) return;
  event.respondWith(
    documentOf(event).then((doc) => (doc ? intranet(event, { session: doc.session, url }, { mayLeave: true }) : fetch(event.request))),
  );
});

async function ownOrigin(event: FetchEvent, url: URL): Promise<Response> {
  const request = event.request;
  const navigate = request.mode === 'navigate';
  // A browse path; anything else (an intranet app's own /browse/KEY-1 included) is a root-absolute
  // URL of the page that asked for it.
  const location = url.pathname.startsWith(BROWSE_PREFIX) ? parseBrowsePath(url.pathname + url.search) : undefined;
  if (location) return intranet(event, location, { mayLeave: false });
  // A root-absolute URL (/x) of a framed page: the page's intranet origin, from the page itself.
  const doc = await documentOf(event);
  if (!doc) {
    if (!navigate) return new Response('not found\n', { status: 404, headers: { 'content-type': 'text/plain' } });
    return ownPage(errorPage({ code: ErrorCode.USAGE, message: `${url.pathname} does not belong to a page browsed through the tunnel.`, url: url.href, nonce: nonce() }), 404);
  }
  const target = new URL(url.pathname + url.search, doc.url.origin);
  if (navigate) {
    // Make the frame's URL canonical so its relative links resolve inside the browse path.
    // 307 keeps the method and body of a form post.
    const status = request.method === 'GET' || request.method === 'HEAD' ? 302 : 307;
    return new Response(null, { status, headers: { location: browsePath(target, doc.session), 'referrer-policy': 'same-origin' } });
  }
  return intranet(event, { session: doc.session, url: target }, { mayLeave: false });
}

/** The session and intranet URL of the document that made this request. */
async function documentOf(event: FetchEvent): Promise<BrowseLocation | undefined> {
  if (event.clientId) {
    const client = await sw.clients.get(event.clientId);
    const u = client ? browseLocationOf(client.url, ORIGIN) : undefined;
    if (u) return u;
  }
  const fromReferrer = event.request.referrer ? browseLocationOf(event.request.referrer, ORIGIN) : undefined;
  if (fromReferrer) return fromReferrer;
  return event.request.mode === 'navigate' ? lastDocument : undefined;
}

async function intranet(event: FetchEvent, location: BrowseLocation, options: { mayLeave: boolean }): Promise<Response> {
  const { session, url: target } = location;
  const request = event.request;
  const navigate = request.mode === 'navigate';
  const destination = request.destination;
  const link = await getBackend(session);
  if (!link) return failure(event, location, BROWSE_UNAVAILABLE, 'The wgweb page that carries the tunnel is not open: open wgweb and browse from its Browse view.');
  if (options.mayLeave && scopes.has(session) && scopeOf(session).place(target.hostname) === 'outside') return fetch(request);
  const initiatorDoc = navigate ? (request.referrer ? browseLocationOf(request.referrer, ORIGIN) : undefined) : await documentOf(event);
  // A document of another session (another app tab) is no initiator of this one's requests.
  const initiator = initiatorDoc?.session === session ? initiatorDoc.url : undefined;
  if (link.site && target.origin !== link.site) return otherSite(event, location, link, initiator);
  return serve(event, location, link, initiator, options.mayLeave);
}

/** Sends the request through the session's tunnel and frames the answer (see the module comment). */
async function serve(event: FetchEvent, location: BrowseLocation, link: BackendLink, initiator: URL | undefined, mayLeave: boolean): Promise<Response> {
  const { session, url: target } = location;
  const request = event.request;
  const navigate = request.mode === 'navigate';
  const destination = request.destination;
  const headers = requestHeaders(request.headers);
  if (!headers.some(([n]) => n === 'user-agent')) headers.push(['user-agent', sw.navigator.userAgent]);
  if (!headers.some(([n]) => n === 'accept-language') && sw.navigator.languages?.length) {
    headers.push(['accept-language', sw.navigator.languages.map((l, i) => (i === 0 ? l : `${l};q=${Math.max(0.1, 1 - i * 0.1).toFixed(1)}`)).join(', ')]);
  }
  const method = request.method;
  const body = method === 'GET' || method === 'HEAD' ? null : await request.arrayBuffer();
  const reply = await link.request(
    { url: target.href, method, headers, body, initiator: initiator?.href ?? null, navigate, destination, credentials: request.credentials },
    request.signal,
  );
  if (reply.type === 'error') {
    if (reply.outside) {
      if (!navigate && mayLeave) return fetch(request);
      return outsideResponse(target.href, reply.code === ErrorCode.DNS_FAILURE ? 'no-dns' : 'allowed-ips', scopeOf(session), reply.message, session);
    }
    return failure(event, location, reply.code, reply.message);
  }
  const n = nonce();
  const plan = planFramedResponse({
    frameAncestors: link.frames,
    url: target,
    method,
    destination,
    status: reply.status,
    statusText: reply.statusText,
    headers: reply.headers,
    scope: scopeOf(session),
    session,
    appOrigin,
    browseOrigin: ORIGIN,
    nonce: n,
  });
  let stream: ReadableStream<Uint8Array> | null = reply.body;
  if (plan.nullBody) {
    void stream?.cancel().catch(() => {});
    stream = null;
  } else if (stream && plan.rewriteHtml) {
    const scopeNow = scopeOf(session);
    stream = stream.pipeThrough(htmlRewriteStream({ documentUrl: target, mapUrl: (v, b) => mapLink(v, b, scopeNow, session), inject: frameAgentTag(n, reply.scriptCookies ?? '', reply.httpOnlyCookies ?? [], reply.documentToken ? ticketFor(reply.documentToken) : '') }));
  }
  if (navigate && NAVIGATION_DESTINATIONS.has(destination) && !plan.headers.some(([h]) => h === 'location')) lastDocument = location;
  try {
    return new Response(stream, { status: plan.status, statusText: plan.statusText, headers: plan.headers });
  } catch {
    // A status text outside the reason-phrase grammar: keep the response, drop the phrase.
    return new Response(stream, { status: plan.status, headers: plan.headers });
  }
}

/** Subresources of another site a browser loads without CORS (a page cannot read them by script). */
const NO_CORS_DESTINATIONS = new Set(['image', 'script', 'style', 'font', 'audio', 'video', 'track', 'manifest', 'xslt']);
/** Request headers a cross-origin request may carry without a preflight (Fetch §2.2.2, simplified: by name). */
const SAFELISTED_HEADERS = new Set(['accept', 'accept-language', 'content-language', 'content-type', 'range']);
/** Headers the browser itself puts on a page's request (a page cannot set them). */
const BROWSER_HEADERS = new Set(['user-agent', 'referer', 'origin', 'accept-encoding', 'cookie', 'dnt', 'upgrade-insecure-requests', 'priority', 'connection', 'host']);
const SIMPLE_CONTENT_TYPES = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\s*(;|$)/i;

/**
 * A request of this site's pages for another intranet site (#14 item 3). This origin stands for
 * one site only, so it never serves another's pages as its own: a navigation moves the frame to
 * that site's browse origin; a subresource is what a browser would give a cross-origin page.
 */
async function otherSite(event: FetchEvent, location: BrowseLocation, link: BackendLink, initiator: URL | undefined): Promise<Response> {
  const request = event.request;
  if (request.mode === 'navigate') {
    const origin = await link.siteOrigin(location.url, initiator);
    if (!origin) return failure(event, location, BROWSE_UNAVAILABLE, `The browse view has no origin for ${location.url.origin} (the wgweb page that carries the tunnel is closed, or was reloaded).`);
    // 307 keeps a form post's method and body.
    const status = request.method === 'GET' || request.method === 'HEAD' ? 302 : 307;
    return new Response(null, { status, headers: { location: `${origin}${browsePath(location.url, location.session)}`, 'referrer-policy': 'same-origin' } });
  }
  const site = link.site;
  if (request.mode === 'no-cors') {
    // <img>, <script>, <link rel=stylesheet> of another host: loaded, as a browser would. fetch()
    // with mode no-cors would get an opaque response in a browser, which a Service Worker cannot
    // make: refused instead (a readable response would hand the other site's data to this one).
    if (!NO_CORS_DESTINATIONS.has(request.destination)) return Response.error();
    return serve(event, location, link, initiator, false);
  }
  if (request.mode !== 'cors') return Response.error();
  const method = request.method.toUpperCase();
  // The page's own headers: those the browser adds (client hints, user-agent…) never ask for a preflight.
  const names = [...request.headers.keys()].map((n) => n.toLowerCase()).filter((n) => !n.startsWith('sec-') && !BROWSER_HEADERS.has(n));
  const simple =
    (method === 'GET' || method === 'HEAD' || method === 'POST') &&
    names.every((n) => SAFELISTED_HEADERS.has(n)) &&
    (!request.headers.has('content-type') || SIMPLE_CONTENT_TYPES.test(request.headers.get('content-type') ?? ''));
  const credentials = request.credentials === 'include';
  if (!simple) {
    // CORS preflight (Fetch §4.8): may this site send that method and those headers?
    const extra = names.filter((n) => !SAFELISTED_HEADERS.has(n) || n === 'content-type').sort();
    const headers: [string, string][] = [['access-control-request-method', method]];
    if (extra.length > 0) headers.push(['access-control-request-headers', extra.join(',')]);
    // A preflight never carries credentials (Fetch §4.8 step 1: credentials mode "same-origin" across origins).
    const pre = await link.request({ url: location.url.href, method: 'OPTIONS', headers, body: null, initiator: initiator?.href ?? null, navigate: false, destination: '', credentials: 'omit' }, request.signal);
    if (pre.type === 'error') return Response.error();
    void pre.body?.cancel().catch(() => {});
    const allowed = (name: string): string[] => (header(pre.headers, name) ?? '').split(',').map((v) => v.trim().toLowerCase()).filter((v) => v !== '');
    const methods = allowed('access-control-allow-methods');
    const allowHeaders = allowed('access-control-allow-headers');
    const wildcard = !credentials;
    const methodOk = method === 'GET' || method === 'HEAD' || method === 'POST' || methods.includes(method.toLowerCase()) || (wildcard && methods.includes('*'));
    const headersOk = extra.every((n) => allowHeaders.includes(n) || (wildcard && allowHeaders.includes('*') && n !== 'authorization'));
    if (pre.status < 200 || pre.status > 299 || !corsAllows(pre.headers, site, credentials) || !methodOk || !headersOk) return Response.error();
  }
  const response = await serve(event, location, link, initiator, false);
  // Redirects and errors of the other site are no more readable than its pages.
  if (response.type === 'error' || !corsAllows([...response.headers], site, credentials)) {
    void response.body?.cancel().catch(() => {});
    return Response.error();
  }
  return response;
}

/** Whether a response's Access-Control-Allow-Origin (and -Credentials) lets `site` read it (Fetch §4.9). */
function corsAllows(headers: readonly (readonly [string, string])[], site: string, credentials: boolean): boolean {
  const allow = header(headers, 'access-control-allow-origin')?.trim();
  if (allow === '*' && !credentials) return true;
  if (allow !== site) return false;
  return !credentials || header(headers, 'access-control-allow-credentials')?.trim() === 'true';
}

function header(headers: readonly (readonly [string, string])[], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** A failed request: an error page in the frame for a navigation, a network error otherwise. */
function failure(event: FetchEvent, location: BrowseLocation, code: string, message: string): Response {
  if (event.request.mode !== 'navigate') return Response.error();
  const ticket = announcePage(location.session, { url: location.url.href, error: { code, message } });
  return ownPage(errorPage({ code, message, url: location.url.href, retryPath: browsePath(location.url, location.session), nonce: nonce(), ticket }), 502);
}

// ---- document tokens (what the app believes a frame's messages about) ------------------------------

/** One-use tickets (in the agent's script URL) → the token of the document that holds them. */
const tickets = new Map<string, string>();
let agentSource: Promise<string> | undefined;

function ticketFor(token: string): string {
  const ticket = nonce();
  tickets.set(ticket, token);
  if (tickets.size > 256) tickets.delete(tickets.keys().next().value as string);
  return ticket;
}

/**
 * A page this worker made itself gets a token too, announced to the session's app over its port
 * (the app trusts its ports, not the frame); without a live port there is nobody to tell.
 */
function announcePage(session: string | undefined, page: Omit<BrowsePageMessage, 'type' | 'token'>): string {
  const link = session ? backends.get(session) : undefined;
  if (!link || link.closed) return '';
  const token = newDocumentToken();
  const message: BrowsePageMessage = { type: 'page', token, ...page };
  try {
    link.port.postMessage(message);
  } catch {
    return '';
  }
  return ticketFor(token);
}

/** The frame agent with the token of the document whose ticket this is, inside its own scope. */
async function agentScript(ticket: string): Promise<Response> {
  const token = tickets.get(ticket) ?? '';
  tickets.delete(ticket);
  agentSource ??= fetch(`${ORIGIN}${FRAME_AGENT_PATH}`, { cache: 'no-store' }).then((r) => (r.ok ? r.text() : Promise.reject(new Error(`frame agent: HTTP ${r.status}`))));
  let text: string;
  try {
    text = await agentSource;
  } catch {
    agentSource = undefined;
    return new Response('', { status: 503, headers: { 'content-type': 'text/javascript; charset=utf-8' } });
  }
  return new Response(`(function(){var __wgwebToken=${JSON.stringify(token)};\n${text}\n})();\n`, {
    headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
  });
}

function outsideResponse(url: string, reason: OutsideReason, scope: TunnelScope, detail?: string, session?: string): Response {
  let why = reason;
  if (reason === 'other' && /^https?:/.test(url)) {
    try {
      if (scope.place(new URL(url).hostname) === 'outside') why = 'allowed-ips';
    } catch {
      // not a URL: "other"
    }
  }
  if (!url) return ownPage(errorPage({ code: ErrorCode.USAGE, message: 'This interstitial has no address to open.', url: '', nonce: nonce() }), 400);
  const ticket = announcePage(session, { url: '', outside: url });
  return ownPage(outsidePage({ url, reason: why, detail, nonce: nonce(), ticket }), 200);
}

function ownPage(html: string, status: number): Response {
  const n = /nonce="([^"]+)"/.exec(html)?.[1] ?? '';
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': ownPageCsp(appOrigin, n),
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    },
  });
}

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}
