/**
 * The browse view's engine on the app page: finds the browse origin, embeds the bridge (which
 * registers the Service Worker there), hands the Service Worker its backend port, drives the
 * viewport frame and keeps the state the address bar and the progress line show.
 *
 *   start():     GET /api/browse ──▶ the browse origins: one per intranet site (a pool of relay ports,
 *                or a wildcard name; #14 item 3), else one shared by all sites
 *   bridge(o):   hidden <iframe o/bridge.html?app=…&session=…&n=…[&site=…&frames=…&wipe=1]> ──ready──▶
 *                port ──▶ (Service Worker of o: bound to the site) ──▶ ready. One per browse origin,
 *                loaded lazily, at most MAX_BRIDGES (least recently used out). Every further port (the
 *                worker was stopped and asks again) comes with a fresh load of that bridge: the worker
 *                takes one port per bridge load it saw the app start (#11).
 *   navigate(u): the site's origin o, its bridge bound ──▶ viewport.src = o/browse/<session>/http/…
 *                ──▶ (Service Worker ⇄ BrowseBackend ⇄ tunnel)
 *                ──▶ iframe load + frame agent "loaded" ──▶ resolves { url, title, status, error? }
 *   frame agent: committed / url / title / navigating / loaded ──▶ view state (address bar, title)
 *   tunnelUp():  the tunnel is back (reconnected) ──▶ a frame showing an error page loads its URL again
 *   backend activity: requests, bytes ──▶ progress line
 *   backend "site": a frame moves to another site ──▶ that site's origin, its bridge bound
 *
 * Messages are only taken from the browse origin *and* from the exact window expected (the
 * bridge's or the viewport's), so another frame cannot pose as either; and a viewport message
 * speaks only for the document its token was minted for (the backend knows which intranet URL
 * that is): claims about another host are ignored.
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import type { TunnelStatus } from '../worker/tunnel-api.ts';
import type { OpenWebSocketOptions } from '../worker/websocket-port-protocol.ts';
import { BrowseBackend, type BrowseActivity, type BrowseBackendOptions, type BrowseFetchHead } from './browse-backend.ts';
import { BROWSE_MESSAGE_TAG, BROWSE_NOT_SERVED, isBrowseMessage, isFrameMessage, type FrameCommand, type FrameMessage, type PortMessage } from './browse-protocol.ts';
import { BRIDGE_PATH, browseLocationOf, browsePath, parseOutsidePath } from './browse-url.ts';
import { SITE_TEMPLATE, SitePool, siteOriginFromTemplate, type SiteStore } from '../../shared/site-origin.ts';

/** The page's side of a fetch through the tunnel (TunnelClient.fetchWithHead's shape). */
export interface BrowseFetchWithHead {
  fetchWithHead(
    url: string,
    init: { method: string; headers: [string, string][]; body?: ArrayBuffer; redirect: 'manual'; signal: AbortSignal },
  ): Promise<{ response: Response; head: BrowseFetchHead }>;
}

/** Opens a tunnel WebSocket relayed over `port` (TunnelClient.openWebSocket's shape). */
export interface BrowseWebSocketOpener {
  openWebSocket(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void>;
}

/** What the browse view needs from the app's TunnelController. */
export interface BrowseTunnel extends BrowseFetchWithHead {
  readonly connected: boolean;
  readonly status: TunnelStatus | null;
  /** The worker client, when the controller exposes it: browse traffic then skips the event log. */
  readonly client?: BrowseFetchWithHead & Partial<BrowseWebSocketOpener>;
  /**
   * Trust on first use (TunnelController.pinCertificate): pins the certificate with SHA-256
   * `sha256` for `host` in the profile's trust settings and the worker.
   */
  pinCertificate?(host: string, sha256: string): Promise<void>;
}

/** What `navigate()` (and `window.wgweb.browse`) resolves with. */
export interface BrowseResult {
  /** The intranet URL the frame shows (after redirects). */
  url: string;
  title: string;
  /** HTTP status of the document, when the app saw it. */
  status?: number;
  /** Set when the frame shows an error page (tunnel down, refused, DNS…) instead of the site. */
  error?: { code: string; message: string };
  /** Set when the frame shows the "leaves the tunnel" interstitial for this address. */
  outside?: string;
}

/** Where the relay lets the app frame intranet pages (GET /api/browse). */
export interface BrowseOrigins {
  /** The shared browse origin: every intranet site, when there is nothing below. */
  origin: string;
  /** A pool of browse origins (the relay's loopback ports), one intranet site each at a time. */
  sites?: string[];
  /** `https://*.browse.example.com`: one name per intranet site (the operator's wildcard). */
  siteTemplate?: string;
}

export interface BrowseViewState {
  phase: 'idle' | 'starting' | 'ready' | 'failed';
  setupError?: string;
  /** The shared browse origin (all sites, when `isolation` is 'shared'). */
  browseOrigin?: string;
  /** 'site': each intranet site has a browser origin of its own; 'shared': all share one. */
  isolation?: 'site' | 'shared';
  /** Intranet URL of the framed document ('' before the first page). */
  url: string;
  title: string;
  loading: boolean;
  error?: { code: string; message: string };
  outside?: string;
  /** Requests of the current page load, and their body bytes. */
  requests: number;
  bytes: number;
  /** Requests in flight. */
  active: number;
}

export interface BrowseHostOptions {
  tunnel: () => BrowseTunnel | undefined;
  /** Where the hidden bridge frame goes. */
  bridgeParent: () => HTMLElement | null;
  viewport: () => HTMLIFrameElement | null;
  onChange: () => void;
  /** Finds the browse origins; default GET /api/browse on this page's origin (the relay). */
  discover?: () => Promise<string | BrowseOrigins>;
  /** Where site assignments of a pool are kept (shared by the app's tabs); default localStorage. */
  siteStore?: SiteStore;
  /** The login dialog for a 401 of a framed page (BrowseBackendOptions.askCredentials). */
  askCredentials?: BrowseBackendOptions['askCredentials'];
  /** The certificate prompt for an https page (BrowseBackendOptions.askTrust). */
  askTrust?: BrowseBackendOptions['askTrust'];
}

/** How long after the frame's load event the agent's own "loaded" report is awaited. */
const AGENT_GRACE_MS = 250;
/** At most one bridge load per this long when the Service Worker (or anyone) asks for a port. */
const BRIDGE_RELOAD_MIN_MS = 500;
/** Bridges (browse origins bound to this tab) kept at once; the least recently used go first. */
const MAX_BRIDGES = 17;

/** One browse origin's bridge frame and the wait for its port to be bound. */
interface Bridge {
  readonly origin: string;
  /** The intranet origin it stands for ('' = shared by all). */
  site: string;
  /** Its next load clears the storage a previous site left (a pooled origin changed hands). */
  wipe: boolean;
  frame?: HTMLIFrameElement;
  bound?: Promise<void>;
  resolve?: () => void;
  reject?: (e: Error) => void;
  /** A bridge load (and port) is under way for navigate(): later callers wait for it. */
  ready?: Promise<void>;
  /** A port of it was bound since its site was set. */
  live: boolean;
  lastLoad: number;
  used: number;
}

/** See the module comment. One per browse view. */
export class BrowseHost {
  readonly backend: BrowseBackend;
  /** This tab's browse session: its frames are served by this tab's tunnel and cookie jar only. */
  readonly session = randomSession();
  readonly state: BrowseViewState = { phase: 'idle', url: '', title: '', loading: false, requests: 0, bytes: 0, active: 0 };
  readonly #options: BrowseHostOptions;
  #starting: Promise<void> | undefined;
  #origins: BrowseOrigins | undefined;
  #pool: SitePool | undefined;
  readonly #bridges = new Map<string, Bridge>();
  #bridgeUse = 0;
  /** The browse origin of the viewport's document (where frame commands go). */
  #viewportOrigin: string | undefined;
  #waiters: { resolve: (r: BrowseResult) => void; reject: (e: Error) => void }[] = [];
  /** Counts page loads (a navigation started, in the frame or by navigate()). */
  #load = 0;
  /** navigate() set a new source and its document has not committed yet. */
  #awaitingCommit = false;
  #agentLoaded = false;
  #agentCommitted = false;
  #statusByUrl = new Map<string, number>();
  #lastNavigation: string | undefined;
  /**
   * Status of the last document (non-redirect) response of this load: the status of a page whose
   * script rewrote its address (history.replaceState/pushState, as single-page apps do) before
   * it reported, when its new URL was never fetched.
   */
  #loadStatus: number | undefined;
  /** The backend saw a document navigation during this load (else the Service Worker did not serve it). */
  #navigationSeen = false;
  /** Origins whose last load was not served through the Service Worker: load the bridge again (re-claim) first. */
  readonly #reclaim = new Set<string>();
  #bridgeLoads = 0;
  readonly #onMessage = (e: MessageEvent): void => this.#message(e);
  readonly #onLoad = (): void => void this.#frameLoaded();
  #viewportSeen: HTMLIFrameElement | null = null;

  constructor(options: BrowseHostOptions) {
    this.#options = options;
    this.backend = new BrowseBackend({
      fetch: async (url, init) => {
        const tunnel = options.tunnel();
        if (!tunnel) throw new WgwebError(ErrorCode.NOT_CONNECTED, 'The tunnel worker is not running.');
        const via = tunnel.client ?? tunnel;
        const { response, head } = await via.fetchWithHead(url, {
          method: init.method,
          headers: init.headers,
          ...(init.body ? { body: init.body } : {}),
          redirect: 'manual',
          signal: init.signal,
        });
        return { head, body: response.body };
      },
      tunnel: () => {
        const t = options.tunnel();
        const status = t?.status;
        return { connected: !!t?.connected && !!status, allowedIPs: status ? status.peers.flatMap((p) => p.allowedIPs) : [] };
      },
      openWebSocket: async (url, init, port) => {
        const client = options.tunnel()?.client;
        if (!client?.openWebSocket) throw new WgwebError(ErrorCode.NOT_CONNECTED, 'The tunnel worker is not running.');
        await client.openWebSocket(url, init, port);
      },
      askCredentials: options.askCredentials,
      askTrust: options.askTrust,
      onActivity: (a) => this.#activity(a),
      resolveSite: (origin) => this.#siteOrigin(origin),
    });
    window.addEventListener('message', this.#onMessage);
  }

  /** Finds the browse origin and brings up the bridge; resolves once the Service Worker is active. */
  start(): Promise<void> {
    this.#starting ??= this.#start().catch((e: Error) => {
      this.state.phase = 'failed';
      this.state.setupError = e.message;
      this.#starting = undefined;
      this.#removeBridges();
      this.#options.onChange();
      throw e;
    });
    return this.#starting;
  }

  /** Shows `url` (an intranet http: or https: URL) in the viewport; resolves when the document has loaded. */
  async navigate(url: URL): Promise<BrowseResult> {
    await this.start();
    const origin = await this.#siteOrigin(url.origin);
    const bridge = this.#bridges.get(origin);
    if (bridge && this.#reclaim.delete(origin)) await this.#reloadBridge(bridge, true).catch(() => {});
    const viewport = this.#viewport();
    if (!viewport) throw new WgwebError(ErrorCode.INTERNAL, 'The browse view is not on the page.');
    const result = new Promise<BrowseResult>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    this.#beginLoad();
    // Until the new document commits, a late "loaded" from the one being replaced (its message
    // can still be in flight) must not resolve this navigation with the old page.
    this.#awaitingCommit = true;
    this.state.url = url.href;
    this.state.title = '';
    this.#options.onChange();
    this.#viewportOrigin = origin;
    viewport.src = `${origin}${browsePath(url, this.session)}`;
    return result;
  }

  /**
   * The tunnel came up again (connected after a disconnect or a lost relay). A frame that shows an
   * in-frame error page (the tunnel was down, the host did not answer meanwhile) loads its page
   * again, so the user sees the site without navigating (issue #18 item 4). A frame showing a
   * page is left alone: reloading it would throw away what the user typed into it.
   * @returns whether the frame was reloaded.
   */
  tunnelUp(): boolean {
    const s = this.state;
    if (s.phase !== 'ready' || !s.url || s.loading || s.outside || !s.error) return false;
    let url: URL;
    try {
      url = new URL(s.url);
    } catch {
      return false;
    }
    void this.navigate(url).catch(() => {});
    return true;
  }

  /** Back, forward or reload inside the frame (carried out by the frame agent). */
  command(command: FrameCommand['command']): void {
    const viewport = this.#viewport();
    const origin = this.#viewportOrigin ?? this.state.browseOrigin;
    if (!viewport?.contentWindow || !origin) return;
    if (command === 'reload' && this.state.url && !this.#agentCommitted) {
      void this.navigate(new URL(this.state.url)).catch(() => {});
      return;
    }
    const message: FrameCommand = { wgweb: 'browse-command', command };
    viewport.contentWindow.postMessage(message, origin);
  }

  /** Cookies the jar holds for the framed host. */
  cookieCount(): number {
    if (!this.state.url) return 0;
    try {
      return this.backend.jar.list(Date.now(), new URL(this.state.url).hostname).length;
    } catch {
      return 0;
    }
  }

  dispose(): void {
    window.removeEventListener('message', this.#onMessage);
    this.#viewportSeen?.removeEventListener('load', this.#onLoad);
    this.backend.close();
    this.#removeBridges();
    for (const w of this.#waiters.splice(0)) w.reject(new WgwebError(ErrorCode.ABORTED, 'The browse view was closed.'));
  }

  async #start(): Promise<void> {
    this.state.phase = 'starting';
    this.state.setupError = undefined;
    this.#options.onChange();
    const found = await (this.#options.discover ?? discoverBrowseOrigin)();
    const origins: BrowseOrigins = typeof found === 'string' ? { origin: found } : found;
    this.#origins = origins;
    this.state.browseOrigin = origins.origin;
    this.#pool = origins.sites && origins.sites.length > 0 && !origins.siteTemplate ? new SitePool(origins.sites, this.#options.siteStore ?? appStorage()) : undefined;
    this.state.isolation = origins.siteTemplate || this.#pool ? 'site' : 'shared';
    // One shared origin: its bridge now, as every page needs it. Site origins come per site.
    if (this.state.isolation === 'shared') await this.#ensureBridge(origins.origin, '', false);
    this.state.phase = 'ready';
    this.#options.onChange();
  }

  /**
   * The browse origin that frames the intranet origin `site`, with its bridge bound: the site's own
   * (a pooled port, or its name under the wildcard), or the shared one.
   */
  async #siteOrigin(site: string): Promise<string> {
    const origins = this.#origins;
    if (!origins) throw new WgwebError(ErrorCode.INTERNAL, 'The browse view has not found its origins yet.');
    if (this.state.isolation !== 'site') {
      await this.#ensureBridge(origins.origin, '', false);
      return origins.origin;
    }
    let origin: string;
    let wipe = false;
    if (origins.siteTemplate) origin = siteOriginFromTemplate(origins.siteTemplate, site);
    else ({ origin, wipe } = this.#pool!.assign(site));
    await this.#ensureBridge(origin, site, wipe);
    return origin;
  }

  /** The bridge of `origin`, bound to `site` (loaded, or loaded again for another site). */
  async #ensureBridge(origin: string, site: string, wipe: boolean): Promise<void> {
    let bridge = this.#bridges.get(origin);
    if (!bridge) {
      bridge = { origin, site, wipe, live: false, lastLoad: 0, used: 0 };
      this.#bridges.set(origin, bridge);
    } else if (bridge.site !== site) {
      // A pooled origin now stands for another site (another tab took it, or it was reused).
      bridge.site = site;
      bridge.wipe ||= wipe;
      bridge.live = false;
    } else bridge.wipe ||= wipe;
    bridge.used = ++this.#bridgeUse;
    this.#evictBridges();
    if (bridge.live && bridge.frame?.isConnected && !bridge.wipe) return;
    const b = bridge;
    b.ready ??= this.#reloadBridge(b, true).then(
      () => {
        b.live = true;
        b.ready = undefined;
      },
      (e: Error) => {
        b.ready = undefined;
        throw e;
      },
    );
    await b.ready;
  }

  /** Keeps at most MAX_BRIDGES bridges: the least recently used go, never the viewport's. */
  #evictBridges(): void {
    while (this.#bridges.size > MAX_BRIDGES) {
      let oldest: Bridge | undefined;
      for (const b of this.#bridges.values()) if (b.origin !== this.#viewportOrigin && (!oldest || b.used < oldest.used)) oldest = b;
      if (!oldest) return;
      oldest.frame?.remove();
      oldest.reject?.(new Error('The browse bridge was closed.'));
      this.#bridges.delete(oldest.origin);
    }
  }

  #removeBridges(): void {
    for (const b of this.#bridges.values()) b.frame?.remove();
    this.#bridges.clear();
  }

  /** CSP sources of the app's browse origins, which may frame each other's pages. */
  #frameSources(): string {
    const origins = this.#origins;
    if (!origins || this.state.isolation !== 'site') return '';
    return origins.siteTemplate ?? (origins.sites ?? []).join(' ');
  }

  /**
   * (Re)loads a bridge with a fresh URL; with `wait`, resolves once the Service Worker has bound
   * a port from it. The worker takes a port only from a bridge load it saw this page start.
   */
  async #reloadBridge(bridge: Bridge, wait: boolean): Promise<void> {
    const origin = bridge.origin;
    const parent = this.#options.bridgeParent();
    if (!parent) throw new Error('The browse view is not on the page.');
    bridge.lastLoad = Date.now();
    // One pending wait for a bound port, whichever load of this bridge brings it.
    bridge.bound ??= new Promise<void>((resolve, reject) => {
      bridge.resolve = () => {
        bridge.bound = undefined;
        resolve();
      };
      bridge.reject = (e) => {
        bridge.bound = undefined;
        reject(e);
      };
    });
    const ready = bridge.bound;
    let frame = bridge.frame;
    if (!frame || !frame.isConnected) {
      frame = document.createElement('iframe');
      frame.hidden = true;
      frame.title = 'wgweb browse bridge';
      frame.setAttribute('aria-hidden', 'true');
      frame.tabIndex = -1;
      // The Service Worker checks that the app started the bridge's navigation by its Referer.
      frame.referrerPolicy = 'origin';
      bridge.frame = frame;
      parent.append(frame);
    }
    let src = `${origin}${BRIDGE_PATH}?app=${encodeURIComponent(location.origin)}&session=${this.session}&n=${++this.#bridgeLoads}`;
    if (bridge.site) src += `&site=${encodeURIComponent(bridge.site)}&frames=${encodeURIComponent(this.#frameSources())}`;
    if (bridge.wipe) src += '&wipe=1';
    bridge.wipe = false;
    frame.src = src;
    if (!wait) {
      void ready.catch(() => {});
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`The browse origin ${origin} did not answer: is the wgweb relay running it?`)), 20_000);
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #viewport(): HTMLIFrameElement | null {
    const v = this.#options.viewport();
    if (v !== this.#viewportSeen) {
      this.#viewportSeen?.removeEventListener('load', this.#onLoad);
      v?.addEventListener('load', this.#onLoad);
      this.#viewportSeen = v;
    }
    return v;
  }

  #sendPort(bridge: Bridge): void {
    const target = bridge.frame?.contentWindow;
    if (!target) return;
    const { port1, port2 } = new MessageChannel();
    this.backend.attach(port1, () => bridge.resolve?.());
    const message: PortMessage = { wgweb: BROWSE_MESSAGE_TAG, type: 'port' };
    target.postMessage(message, bridge.origin, [port2]);
  }

  #message(e: MessageEvent): void {
    if (!e.source) return;
    for (const bridge of this.#bridges.values()) {
      if (!bridge.frame || e.source !== bridge.frame.contentWindow) continue;
      if (e.origin !== bridge.origin || !isBrowseMessage(e.data)) return;
      if (e.data.type === 'ready') {
        this.#sendPort(bridge);
      } else if (e.data.type === 'reload') {
        void this.#reloadBridge(bridge, false);
      } else if (e.data.type === 'need-port') {
        if (Date.now() - bridge.lastLoad >= BRIDGE_RELOAD_MIN_MS) void this.#reloadBridge(bridge, false);
      } else if (e.data.type === 'failed') {
        const text = (e.data as unknown as { message?: unknown }).message;
        const message = typeof text === 'string' ? text : 'the bridge failed';
        bridge.reject?.(new Error(message));
      }
      return;
    }
    // The viewport's document, on one of this app's browse origins (it moves between them).
    const ours = e.origin === this.state.browseOrigin || this.#bridges.has(e.origin);
    const viewport = this.#viewport();
    if (ours && viewport && e.source === viewport.contentWindow && isFrameMessage(e.data)) {
      this.#viewportOrigin = e.origin;
      this.#frame(e.data, e.origin);
    }
  }

  #frame(m: FrameMessage, origin: string): void {
    // The document the token was minted for is what this frame shows; a token this app never
    // issued (or none: the agent ran without the Service Worker) speaks for nothing.
    const doc = this.backend.documentFor(m.token);
    if (!doc) return;
    const docUrl = doc.url ? new URL(doc.url) : undefined;
    // The frame's own URL may move within its origin (pushState, #hash); a claim about any other
    // host (or session) is not believed.
    const where = browseLocationOf(m.url, origin);
    const claimed = where?.session === this.session ? where.url : undefined;
    const intranet = docUrl && claimed && claimed.origin === docUrl.origin ? claimed : docUrl;
    const outside = doc.outside;
    if (m.type === 'cookie') {
      if (intranet && !outside && m.cookie !== undefined && this.backend.setScriptCookie(m.cookie, intranet)) this.#options.onChange();
      return;
    }
    if (m.type === 'navigating') {
      this.#beginLoad();
      this.#options.onChange();
      return;
    }
    if (m.type === 'committed') {
      // A page the Service Worker made itself (interstitial, error page) comes without a tunnel
      // request; if the old page's "navigating" was lost, start the count here.
      if (!this.state.loading) this.#beginLoad();
      this.#agentCommitted = true;
      this.#awaitingCommit = false;
      this.state.error = doc.error;
    }
    if (this.#awaitingCommit) return; // a message of the document navigate() is replacing
    if (intranet) this.state.url = intranet.href;
    this.state.outside = outside;
    if (outside) this.state.url = outside;
    this.state.title = m.title;
    if (m.type === 'loaded') {
      this.#agentLoaded = true;
      this.state.error = doc.error;
      this.#finish();
    }
    this.#options.onChange();
  }

  #beginLoad(): void {
    this.#load++;
    this.state.loading = true;
    this.state.requests = 0;
    this.state.bytes = 0;
    this.state.error = undefined;
    this.state.outside = undefined;
    this.#agentLoaded = false;
    this.#agentCommitted = false;
    this.#navigationSeen = false;
    this.#loadStatus = undefined;
  }

  async #frameLoaded(): Promise<void> {
    const viewport = this.#viewportSeen;
    if (!viewport || !viewport.src || viewport.src === 'about:blank') return;
    if (!this.#agentLoaded) {
      // The agent reports right before the frame's load event; give its message a moment. A page
      // whose CSP keeps the agent out reports nothing: what the Service Worker saw has to do.
      const load = this.#load;
      await new Promise((r) => setTimeout(r, this.#agentCommitted ? AGENT_GRACE_MS * 4 : AGENT_GRACE_MS));
      // A newer load began meanwhile: this one is not its end.
      if (load !== this.#load) return;
      if (!this.#agentLoaded) {
        if (!this.#agentCommitted && !this.#navigationSeen) {
          // Neither the agent nor a tunnel request: the browse Service Worker did not answer this
          // navigation (unregistered, or displaced by another registration). Say so, and load the
          // bridge again (which re-claims the origin) before the next navigation.
          this.state.error = {
            code: BROWSE_NOT_SERVED,
            message: 'The page was not loaded through the tunnel: the browse view\'s Service Worker did not answer. Try again; if it persists, reload wgweb.',
          };
          this.#reclaim.add(this.#viewportOrigin ?? this.state.browseOrigin ?? '');
        } else if (!this.#agentCommitted && this.#lastNavigation) this.state.url = this.#lastNavigation;
        this.#awaitingCommit = false; // a page the agent cannot run in: its load event ends it
        this.#finish();
      }
    }
  }

  #finish(): void {
    if (!this.state.loading && this.#waiters.length === 0) return;
    this.state.loading = false;
    const result: BrowseResult = { url: this.state.url, title: this.state.title };
    const status = this.#statusByUrl.get(this.state.url) ?? this.#loadStatus;
    if (status !== undefined) result.status = status;
    if (this.state.error) result.error = { ...this.state.error };
    if (this.state.outside) result.outside = this.state.outside;
    for (const w of this.#waiters.splice(0)) w.resolve(result);
    this.#options.onChange();
  }

  #activity(a: BrowseActivity): void {
    switch (a.type) {
      case 'request':
        if (a.navigate && (a.destination === 'iframe' || a.destination === 'document')) {
          if (!this.state.loading) this.#beginLoad();
          this.#navigationSeen = true;
        }
        this.state.requests++;
        this.state.active = this.backend.inflight + 1;
        break;
      case 'response':
        if (a.navigate) {
          this.#statusByUrl.set(a.url, a.status);
          if (this.#statusByUrl.size > 50) this.#statusByUrl.delete(this.#statusByUrl.keys().next().value as string);
          if (a.status < 300 || a.status >= 400) {
            this.#lastNavigation = a.url;
            this.#loadStatus = a.status;
          }
        }
        break;
      case 'body':
        this.state.bytes += a.bytes;
        break;
      case 'error':
      case 'done':
        this.state.active = this.backend.inflight;
        break;
    }
    this.#options.onChange();
  }
}

function randomSession(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The app origin's localStorage (site assignments shared by its tabs), when the browser allows it. */
function appStorage(): SiteStore | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}

/** The browse origins the relay offers next to this page (GET /api/browse → { origin, sites | siteTemplate }). */
export async function discoverBrowseOrigin(): Promise<BrowseOrigins> {
  let response: Response;
  try {
    response = await fetch(new URL('api/browse', location.href), { headers: { accept: 'application/json' }, cache: 'no-store' });
  } catch (e) {
    throw new Error(`The wgweb relay could not be asked for its browse origin: ${(e as Error).message}`);
  }
  if (!response.ok) {
    throw new Error('This server does not offer a browse origin: the browse view needs the wgweb relay (npm start or wgweb relay), not a plain file server.');
  }
  const body = (await response.json().catch(() => ({}))) as { origin?: unknown; sites?: unknown; siteTemplate?: unknown };
  const isOrigin = (o: unknown): o is string => typeof o === 'string' && /^https?:\/\/[^/]+$/.test(o);
  if (!isOrigin(body.origin)) throw new Error('The relay gave no usable browse origin.');
  const origins: BrowseOrigins = { origin: body.origin };
  if (Array.isArray(body.sites) && body.sites.length > 0 && body.sites.every(isOrigin)) origins.sites = [...new Set(body.sites)];
  if (typeof body.siteTemplate === 'string' && SITE_TEMPLATE.test(body.siteTemplate)) origins.siteTemplate = body.siteTemplate;
  // Intranet pages must never run on the app's own origin (they could script the app).
  if ([origins.origin, ...(origins.sites ?? [])].includes(location.origin)) throw new Error('The browse origin must differ from the app origin (intranet pages must not be able to script the app).');
  return origins;
}
