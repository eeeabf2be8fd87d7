/**
 * The messages of the browse view, between three realms on two origins:
 *
 *   app page (app origin)                 bridge page (browse origin, hidden iframe)     Service Worker (browse origin)
 *   ┌──────────────────────┐  postMessage   ┌──────────────────────┐  postMessage          ┌──────────────────────────┐
 *   │ wg-browse            │ ◀── ready ──── │ registers the SW     │ ◀── need-port ─────── │ fetch event: no backend? │
 *   │ BrowseBackend ◀─port─┼─── port ─────▶ │ hands the port on    │ ──── port ──────────▶ │ BackendLink(port)        │
 *   │ (cookie jar,         │                └──────────────────────┘                       │                          │
 *   │  TunnelController)   │ ◀════════ MessagePort: fetch / abort ⇄ response (+ transferred body stream) / error ════│
 *   └──────────────────────┘                                                               └──────────────────────────┘
 *          ▲ frame events (url, title, loaded, error) from the frame agent in the framed document
 *
 * Everything that arrives from the browse origin is untrusted (intranet pages share that origin)
 * and is validated by the receiver. The only capability the app hands over is "fetch this http
 * URL through the tunnel"; keys, config and the rest of the tunnel API never cross.
 */

/** Marks every window message of the browse view (`{ wgweb: 'browse', ... }`). */
export const BROWSE_MESSAGE_TAG = 'browse';

/** Bridge → app: the Service Worker is active. */
export interface BridgeReadyMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'ready';
}

/** Bridge → app: the Service Worker needs a (new) backend port. */
export interface BridgeNeedPortMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'need-port';
}

/** Bridge → app: load me again (the Service Worker did not see this load, so it would refuse my port). */
export interface BridgeReloadMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'reload';
}

/** Bridge → app: the Service Worker could not be registered. */
export interface BridgeFailedMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'failed';
  message: string;
}

/**
 * App → bridge → Service Worker, with the port transferred. The Service Worker takes the session and
 * app origin from what it saw of the bridge's navigation, never from a message.
 */
export interface PortMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'port';
}

/** Service Worker → bridge. */
export interface NeedPortMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'need-port';
}

/**
 * Frame agent → app: what the framed top document is and does. `url` is its browse-origin URL.
 * `token` names the document: the app minted it (or the Service Worker announced it, for its own
 * pages) for the URL it served, and the agent got it inside its script, never in the page's DOM. The
 * app believes a message only about that document's intranet origin (#11: a page posting another
 * host's URL cannot plant cookies for it or put it in the address bar).
 */
export interface FrameMessage {
  wgweb: 'browse-frame';
  type: 'committed' | 'loaded' | 'url' | 'title' | 'navigating' | 'cookie';
  url: string;
  title: string;
  token: string;
  /** For `cookie`: what a script assigned to document.cookie. */
  cookie?: string;
  /** Set on in-frame error pages. */
  error?: { code: string; message: string };
}

/** App → frame agent. */
export interface FrameCommand {
  wgweb: 'browse-command';
  command: 'back' | 'forward' | 'reload';
}

// ---- over the backend MessagePort ----------------------------------------------------------------

/** Service Worker → app: one request to send through the tunnel. */
export interface BrowseFetchMessage {
  type: 'fetch';
  id: number;
  /** The intranet URL (http:). */
  url: string;
  method: string;
  /** Already filtered by the Service Worker (requestHeaders in framed-response.ts); filtered again by the app. */
  headers: [string, string][];
  /** Request body (forms, uploads), buffered; null for GET/HEAD. */
  body: ArrayBuffer | null;
  /** The intranet URL of the document that made the request (Referer, Origin, SameSite); null when the user did. */
  initiator: string | null;
  /** A navigation of a frame (not a subresource). */
  navigate: boolean;
  /** `Request.destination` (document, iframe, image, script, style, empty…). */
  destination: string;
  /**
   * `Request.credentials` (Fetch §2.2.5 credentials mode): `omit` sends and keeps no cookies and no
   * stored HTTP credentials, `same-origin` only when the request stays on the initiator's origin.
   * Absent means `include` (navigations, `<img>`, `<script>`…).
   */
  credentials?: RequestCredentials;
}

/** Service Worker → app: the page went away or cancelled the request. */
export interface BrowseAbortMessage {
  type: 'abort';
  id: number;
}

/** Service Worker → app, first message on a port it accepted: the port is bound to the session. */
export interface BrowseBoundMessage {
  type: 'bound';
}

/**
 * Service Worker → app: a page the Service Worker made itself (error page, interstitial) is shown
 * under `token`, for the intranet `url` (error pages) or the outside address (`outside`).
 */
export interface BrowsePageMessage {
  type: 'page';
  token: string;
  url: string;
  outside?: string;
  error?: { code: string; message: string };
}

/**
 * Frame agent → Service Worker (with the socket's MessagePort transferred): a framed page's script
 * opened a WebSocket. The Service Worker takes the document from the message's sender (its client
 * URL), never from the message, and passes the request on as a {@link BrowseWebSocketMessage}.
 */
export interface FrameWebSocketMessage {
  wgweb: typeof BROWSE_MESSAGE_TAG;
  type: 'websocket';
  /** The intranet ws:// URL (the agent mapped browse-origin URLs onto the document's intranet host). */
  url: string;
  protocols: string[];
}

/**
 * Service Worker → app (with the socket's MessagePort transferred): open a WebSocket through the
 * tunnel for the document at `initiator` and relay it over the port (websocket-port-protocol.ts).
 */
export interface BrowseWebSocketMessage {
  type: 'websocket';
  url: string;
  protocols: string[];
  /** The intranet URL of the document that opened it (Origin, cookies). */
  initiator: string;
  /** The page's socket port (transferred with the message). */
  port: MessagePort;
}

/**
 * Service Worker → app: a frame of this browse origin navigates to another intranet site (`url`),
 * which has a browse origin of its own (#14 item 3). The app makes sure that origin's bridge is
 * bound, remembers `initiator` for the navigation's cookies and Referer, and answers with a
 * {@link BrowseSiteOriginMessage}.
 */
export interface BrowseSiteMessage {
  type: 'site';
  id: number;
  url: string;
  /** The intranet URL of the document that started the navigation, when known. */
  initiator: string | null;
}

export type ServiceWorkerToBackend = BrowseFetchMessage | BrowseAbortMessage | BrowseBoundMessage | BrowsePageMessage | BrowseWebSocketMessage | BrowseSiteMessage;

/** App → Service Worker: the head of a response; the body stream is transferred beside it. */
export interface BrowseResponseMessage {
  type: 'response';
  id: number;
  url: string;
  status: number;
  statusText: string;
  /** Lower-case names; Set-Cookie already removed (the jar took it). */
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | null;
  /** AllowedIPs of the tunnel now (for link mapping). */
  allowedIPs: string[];
  /** For documents: what `document.cookie` shows their scripts (the jar's non-HttpOnly cookies). */
  scriptCookies?: string;
  /** For documents: names of the HttpOnly cookies that apply (scripts cannot overwrite them). */
  httpOnlyCookies?: string[];
  /** For documents: the token the frame agent speaks for this document with (see FrameMessage). */
  documentToken?: string;
}

/** App → Service Worker: the request failed, with the worker's error code. */
export interface BrowseErrorMessage {
  type: 'error';
  id: number;
  code: string;
  message: string;
  /** The destination is outside the tunnel (AllowedIPs, or no DNS in the tunnel for a name). */
  outside: boolean;
  allowedIPs: string[];
}

/** App → Service Worker, right after a port is attached and when AllowedIPs change. */
export interface BrowseScopeMessage {
  type: 'scope';
  allowedIPs: string[];
}

/** App → Service Worker: the browse origin of a {@link BrowseSiteMessage}'s site, '' when there is none. */
export interface BrowseSiteOriginMessage {
  type: 'site-origin';
  id: number;
  origin: string;
}

export type BackendToServiceWorker = BrowseResponseMessage | BrowseErrorMessage | BrowseScopeMessage | BrowseSiteOriginMessage;

/** Error code of the browse view itself: the app page that carries the tunnel is not open. */
export const BROWSE_UNAVAILABLE = 'BROWSE_UNAVAILABLE';

/** Error code of the browse view itself: the frame's page did not come through the Service Worker. */
export const BROWSE_NOT_SERVED = 'BROWSE_NOT_SERVED';

/**
 * Longest URL a browse message may carry (UTF-16 units); a message with a longer one is refused
 * as malformed, by the frame-message check and by the backend alike.
 */
export const MAX_BROWSE_URL_LENGTH = 16384;

/** A document token: 128 random bits, hex. */
export const DOCUMENT_TOKEN = /^[0-9a-f]{32}$/;

/** A fresh document token (crypto random). */
export function newDocumentToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** True for a `{ wgweb: 'browse', type }` window message. */
export function isBrowseMessage(data: unknown): data is { wgweb: 'browse'; type: string } {
  return typeof data === 'object' && data !== null && (data as { wgweb?: unknown }).wgweb === BROWSE_MESSAGE_TAG && typeof (data as { type?: unknown }).type === 'string';
}

/** True for a frame agent message with the expected field types. */
export function isFrameMessage(data: unknown): data is FrameMessage {
  if (typeof data !== 'object' || data === null) return false;
  const m = data as Partial<FrameMessage>;
  return (
    m.wgweb === 'browse-frame' &&
    ['committed', 'loaded', 'url', 'title', 'navigating', 'cookie'].includes(m.type as string) &&
    typeof m.url === 'string' &&
    m.url.length <= MAX_BROWSE_URL_LENGTH &&
    typeof m.token === 'string' &&
    DOCUMENT_TOKEN.test(m.token) &&
    typeof m.title === 'string' &&
    (m.cookie === undefined || (typeof m.cookie === 'string' && m.cookie.length < 8192)) &&
    (m.error === undefined || (typeof m.error === 'object' && m.error !== null && typeof m.error.code === 'string' && typeof m.error.message === 'string'))
  );
}
