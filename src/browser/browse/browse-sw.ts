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
  readonly #pending = new Map<number, (reply: Reply) => void>();
  #nextId = 1;
  #closed = false;

  constructor(port: MessagePort, bridgeId: string, session: string) {
    this.port = port;
    this.bridgeId = bridgeId;
    this.session = session;
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

  /** The app went away: every waiting request gets an error. */
  fail(): void {
    this.#closed = true;
    for (const [id, resolve] of this.#pending) resolve(unavailable(id));
    this.#pending.clear();
  }

  #onMessage(m: BackendToServiceWorker): void {
    if (typeof m !== 'object' || m === null) return;
    if (Array.isArray((m as { allowedIPs?: unknown }).allowedIPs)) {
      scopes.set(this.session, TunnelScope.from(m.allowedIPs));
    }
    if (m.type === 'scope') return;
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
const genuineBridges = new Map<string, { session: string; appOrigin: string }>();

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
  if (response.status === 200 && event.resultingClientId && SESSION_ID.test(session) && /^https?:\/\/[^/]+$/.test(app) && app !== ORIGIN && referrerOrigin === app) {
    genuineBridges.set(event.resultingClientId, { session, appOrigin: app });
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
  const link = new BackendLink(port, source.id, session);
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
  const headers = requestHeaders(request.headers);
  if (!headers.some(([n]) => n === 'user-agent')) headers.push(['user-agent', sw.navigator.userAgent]);
  if (!headers.some(([n]) => n === 'accept-language') && sw.navigator.languages?.length) {
    headers.push(['accept-language', sw.navigator.languages.map((l, i) => (i === 0 ? l : `${l};q=${Math.max(0.1, 1 - i * 0.1).toFixed(1)}`)).join(', ')]);
  }
  const method = request.method;
  const body = method === 'GET' || method === 'HEAD' ? null : await request.arrayBuffer();
  const reply = await link.request(
    { url: target.href, method, headers, body, initiator: initiator?.href ?? null, navigate, destination },
    request.signal,
  );
  if (reply.type === 'error') {
    if (reply.outside) {
      if (!navigate && options.mayLeave) return fetch(request);
      return outsideResponse(target.href, reply.code === ErrorCode.DNS_FAILURE ? 'no-dns' : 'allowed-ips', scopeOf(session), reply.message, session);
    }
    return failure(event, location, reply.code, reply.message);
  }
  const n = nonce();
  const plan = planFramedResponse({
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
