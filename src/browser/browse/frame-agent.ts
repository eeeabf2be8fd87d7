/**
 * The frame agent: a small script the Service Worker injects into every framed document (and its
 * own error pages). In the top framed document only (the one whose parent is the app), it tells
 * the app what the frame shows, since a cross-origin frame's URL and title are otherwise hidden:
 *
 *   committed (script ran) · url (same-document navigation: pushState, #hash) · title (changed)
 *   navigating (leaving the page) · loaded (load event; with the error code on error pages)
 *
 * and it carries out back/forward/reload for the address bar. In every framed document it also
 * serves document.cookie from the app's cookie jar (see shadowCookies), keeps scripted
 * navigations and history entries inside the browse space (keepNavigationsInside,
 * keepHistoryInside), and replaces `WebSocket` with one
 * whose connection runs through the tunnel (tunnelWebSockets). It reads nothing else and
 * needs no permission; a page whose CSP forbids it simply reports nothing (the app falls back on
 * what the Service Worker saw).
 *
 * It is injected as a classic, non-async script before the page's first element that can run
 * anything, so it runs before every page script (#11). Every message carries the document's token,
 * which the Service Worker put in this script's own scope (`__wgwebToken`), not in the DOM; the app
 * believes a message only about the intranet origin it minted that token for. Messages go to
 * `top` (unforgeable, unlike `parent`), so a page that fools the agent of a nested frame into
 * posting gets nothing: the app takes messages only from the viewport's own window.
 */
import { BROWSE_MESSAGE_TAG, type FrameCommand, type FrameMessage, type FrameWebSocketMessage } from './browse-protocol.ts';
import { PortWebSocket, failPort } from './port-websocket.ts';

/** Set by the Service Worker around this script (see browse-sw.ts agentScript); absent otherwise. */
declare const __wgwebToken: string | undefined;
import { BROWSE_PREFIX, OUTSIDE_PATH, browsePath, isBrowsableScheme, parseBrowsePath } from './browse-url.ts';

interface NavigateEventLike extends Event {
  readonly cancelable: boolean;
  readonly hashChange: boolean;
  readonly formData: FormData | null;
  readonly downloadRequest: string | null;
  readonly destination: { readonly url: string };
}

/**
 * Navigations a script starts to an absolute URL (`location.href = 'http://10.0.0.9/'`, a link it
 * built and clicked) would leave the browse space, and the browse origin's Service Worker would
 * never see them: through the Navigation API they are turned into the same navigation inside it
 * (http and https; the Service Worker shows the interstitial when the host is outside the tunnel).
 * Links in the HTML were rewritten already; form posts are left alone (their body cannot be re-sent
 * from here).
 */
function keepNavigationsInside(): void {
  const navigation = (window as unknown as { navigation?: EventTarget }).navigation;
  const here = parseBrowsePath(location.pathname + location.search);
  if (!navigation || !here) return;
  const { session } = here;
  navigation.addEventListener('navigate', (event) => {
    const e = event as NavigateEventLike;
    if (!e.cancelable || e.hashChange || e.formData !== null || e.downloadRequest !== null) return;
    let url: URL;
    try {
      url = new URL(e.destination.url);
    } catch {
      return;
    }
    if (url.origin === location.origin || !isBrowsableScheme(url.protocol) || !url.host) return;
    e.preventDefault();
    location.assign(browsePath(url, session));
  });
}

/**
 * New windows stay in the browse view (#14): a link or form with `target="_blank"` (or a target
 * name no frame has), and `window.open(url)`, load in the viewport instead of a browser tab of the
 * browse origin, as a one-tab browser would. The outside interstitial's own "open outside" link and
 * targets naming a frame of the page keep the browser's behaviour.
 */
function keepNewWindowsInside(): void {
  /** The viewport's document window: the highest same-origin ancestor (or this one). */
  const viewport = (): Window => {
    let w: Window = window;
    while (w.parent !== w) {
      try {
        void w.parent.location.href;
        w = w.parent;
      } catch {
        break;
      }
    }
    return w;
  };
  const newWindowTarget = (target: string): boolean => {
    const t = target.trim().toLowerCase();
    if (t === '' || t === '_self' || t === '_parent' || t === '_top') return false;
    if (t === '_blank') return true;
    // A name: a frame of this page with it keeps the browser's behaviour.
    for (let i = 0; i < window.length; i++) {
      try {
        if (window[i].name === target) return false;
      } catch {
        // cross-origin child: its name is still readable in browsers; if not, treat as new
      }
    }
    return true;
  };
  const here = parseBrowsePath(location.pathname + location.search);
  const session = here?.session;
  /** `href` as a URL of the browse space (an absolute intranet http(s) URL mapped into it), or undefined. */
  const inBrowseSpace = (href: string): URL | undefined => {
    let u: URL;
    try {
      u = new URL(href, document.baseURI);
    } catch {
      return undefined;
    }
    if (u.origin === location.origin) {
      if (u.pathname.startsWith(BROWSE_PREFIX) || u.pathname === OUTSIDE_PATH) return u;
      // A root-absolute URL a script built (`/docs/`): on this document's intranet host.
      if (!here || u.pathname.startsWith('/__wgweb/')) return undefined;
      return new URL(browsePath(new URL(u.pathname + u.search + u.hash, here.url.origin), here.session), location.origin);
    }
    if (!session || !isBrowsableScheme(u.protocol) || !u.host) return undefined;
    return new URL(browsePath(u, session), location.origin);
  };
  window.addEventListener('click', (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    const link = (e.target as Element | null)?.closest?.('a[href], area[href]') as HTMLAnchorElement | HTMLAreaElement | null;
    if (!link || link.hasAttribute('data-wgweb-outside') || link.hasAttribute('download')) return;
    const base = document.querySelector('base[target]')?.getAttribute('target') ?? '';
    if (!newWindowTarget(link.getAttribute('target') ?? base)) return;
    const url = inBrowseSpace(link.href);
    if (!url) return;
    e.preventDefault();
    viewport().location.assign(url.href);
  });
  document.addEventListener('submit', (e) => {
    const form = e.target as HTMLFormElement | null;
    if (!form || !newWindowTarget(form.getAttribute('target') ?? '')) return;
    // The viewport's own document: the form's response replaces it.
    if (viewport() === window) form.target = '_self';
  }, true);
  const open = window.open;
  window.open = function (url?: string | URL, target?: string, features?: string): Window | null {
    const u = url === undefined || url === '' ? undefined : inBrowseSpace(String(url));
    if (u && newWindowTarget(target ?? '_blank')) {
      const w = viewport();
      w.location.assign(u.href);
      return w;
    }
    return open.call(window, url, target, features);
  };
}

/**
 * Synchronous XHR runs asynchronously. Chromium never hands a synchronous XHR to a Service Worker
 * (crbug.com/602051), so it would leave the tunnel and reach the browse origin's own listener (404).
 * Most pages that ask for one take the answer in a callback (jQuery's `$.ajax({ async: false,
 * success })`, as Transmission's web UI does): opened asynchronously, the request goes through the
 * tunnel and the same load/readystatechange callbacks fire, a moment later. Code that reads the
 * response right after `send()` sees none (as before: it got the listener's 404).
 */
function asyncXhr(): void {
  const open = XMLHttpRequest.prototype.open as (this: XMLHttpRequest, ...args: unknown[]) => void;
  XMLHttpRequest.prototype.open = function (this: XMLHttpRequest, ...args: unknown[]): void {
    if (args.length >= 3 && !args[2]) args[2] = true;
    open.apply(this, args);
  } as XMLHttpRequest['open'];
}

/**
 * Same-document address changes stay in the browse space: a single-page app's router calls
 * `history.pushState(state, '', '/graph?x=1')` with a root-absolute path (or its own absolute
 * URL), which on the browse origin would leave the browse path (the address bar and a reload would
 * then show the wrong page, or none). The URL is resolved against the document's intranet URL and
 * mapped into the browse path; query-only and relative URLs already resolve inside it.
 */
function keepHistoryInside(): void {
  const here = parseBrowsePath(location.pathname + location.search);
  if (!here) return;
  const intranet = here.url.origin; // a same-document change never changes the origin
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, data: unknown, unused: string, url?: string | URL | null) {
      if (url === undefined || url === null) return original.call(this, data, unused);
      let mapped: string | URL = url;
      try {
        const u = new URL(String(url), document.baseURI);
        if (u.origin === location.origin && !u.pathname.startsWith(BROWSE_PREFIX) && u.pathname !== OUTSIDE_PATH && !u.pathname.startsWith('/__wgweb/')) {
          mapped = browsePath(new URL(u.pathname + u.search + u.hash, intranet), here.session);
        } else if (u.origin === intranet) mapped = browsePath(u, here.session);
      } catch {
        // not a URL: the browser throws as it would have
      }
      return original.call(this, data, unused, mapped);
    };
  }
}

/**
 * `WebSocket` for intranet scripts (#14): a Service Worker never sees WebSocket connections, so the
 * page's `WebSocket` becomes a {@link PortWebSocket} (same events, readyState, protocol,
 * bufferedAmount, close codes) whose connection the app opens in the tunnel worker. Its port goes
 * to this origin's Service Worker, which knows the document by its client URL and hands the port
 * to the document's app tab (browse-backend.ts adds Origin and the jar's cookies).
 *
 * URLs are mapped as links are: the browse origin's own host (apps build `ws://${location.host}/api/…`,
 * as Jupyter does) means the document's intranet origin (wss:// for an https document, whose
 * server speaks TLS only; apps that pick the scheme from `location.protocol` see the browse
 * origin's `http:`), a browse path names its origin, anything else is taken as written.
 * `url` still reads as the page gave it.
 */
function tunnelWebSockets(): void {
  const here = parseBrowsePath(location.pathname + location.search);
  const container = navigator.serviceWorker;
  if (!here || !container) return;
  const intranetUrl = (href: string): string => {
    const u = new URL(href);
    if (u.host !== location.host) return u.href;
    const inside = parseBrowsePath(u.pathname + u.search);
    const target = inside ? inside.url : new URL(u.pathname + u.search, here.url.origin);
    return `${target.protocol === 'https:' ? 'wss' : 'ws'}:${target.href.slice(target.protocol.length)}`;
  };
  const open = (request: { url: string; protocols: string[] }, port: MessagePort): void => {
    const controller = container.controller;
    if (!controller) return failPort(port, 'This page is not served through the tunnel any more: reload it.');
    const message: FrameWebSocketMessage = { wgweb: BROWSE_MESSAGE_TAG, type: 'websocket', url: intranetUrl(request.url), protocols: request.protocols };
    controller.postMessage(message, [port]);
  };
  class WebSocket extends PortWebSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols ?? [], { base: document.baseURI, open });
    }
  }
  Object.defineProperty(window, 'WebSocket', { configurable: true, writable: true, enumerable: false, value: WebSocket });
}

/**
 * document.cookie for intranet scripts: the app's jar (non-HttpOnly cookies of this document's
 * intranet URL, handed in by the Service Worker) instead of the browse origin's own cookies, which
 * belong to the browse origin's host (shared with every other service on it) and must not show.
 * Writes update the view and go to the jar. Shadowed on the document and on Document.prototype
 * (so the native getter cannot simply be called on the document), and the async Cookie Store API
 * (`cookieStore`) is removed.
 */
function shadowCookies(initial: string, httpOnly: ReadonlySet<string>, report: (line: string) => void): void {
  const jar = new Map<string, string>();
  for (const part of initial.split(';')) {
    const t = part.trim();
    if (!t) continue;
    const eq = t.indexOf('=');
    jar.set(eq < 0 ? '' : t.slice(0, eq), eq < 0 ? t : t.slice(eq + 1));
  }
  const descriptor: PropertyDescriptor = {
    configurable: false,
    get: () => [...jar].map(([n, v]) => (n ? `${n}=${v}` : v)).join('; '),
    set: (value: unknown) => {
      const line = String(value);
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = eq < 0 ? '' : pair.slice(0, eq).trim();
      const v = (eq < 0 ? pair : pair.slice(eq + 1)).trim();
      const lower = attrs.map((a) => a.trim().toLowerCase());
      // Scripts cannot create HttpOnly cookies, nor replace one (RFC 6265 §5.3 steps 10-11).
      if (lower.some((a) => a === 'httponly') || httpOnly.has(name)) return;
      const maxAge = lower.find((a) => a.startsWith('max-age='));
      const expires = lower.find((a) => a.startsWith('expires='));
      const gone = (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) || (expires !== undefined && Date.parse(expires.slice(8)) <= Date.now());
      if (gone) jar.delete(name);
      else jar.set(name, v);
      report(line);
    },
  };
  for (const target of [Document.prototype, HTMLDocument.prototype, document]) {
    try {
      Object.defineProperty(target, 'cookie', descriptor);
    } catch {
      // Already locked (a second agent in the same document): the first one's view stands.
    }
  }
  for (const target of [window, Window.prototype]) {
    try {
      Object.defineProperty(target, 'cookieStore', { configurable: false, get: () => undefined });
    } catch {
      // not there
    }
  }
}

(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  const token = typeof __wgwebToken === 'string' ? __wgwebToken : '';
  // Captured before any page script can replace them.
  const appWindow = window.top;
  const postToApp = (message: FrameMessage, origin: string): void => appWindow?.postMessage(message, origin);
  let topFramed = false;
  // Every framed document (also one opened in a tab of its own) sees the jar, not the browse
  // origin's cookies; only the app's own frame can report writes back to the jar.
  let httpOnly: string[] = [];
  try {
    const parsed: unknown = JSON.parse(script?.dataset.httponly ?? '[]');
    if (Array.isArray(parsed)) httpOnly = parsed.filter((n): n is string => typeof n === 'string');
  } catch {
    // none
  }
  shadowCookies(script?.dataset.cookies ?? '', new Set(httpOnly), (line) => {
    if (topFramed) postToApp({ wgweb: 'browse-frame', type: 'cookie', url: location.href, title: document.title, cookie: line, token }, appOrigin());
  });
  keepNavigationsInside();
  keepNewWindowsInside();
  keepHistoryInside();
  asyncXhr();
  tunnelWebSockets();
  if (window.parent === window || !appWindow || appWindow === window) return;
  const appOrigin = (): string => {
    const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
    return ancestors && ancestors.length > 0 ? ancestors[ancestors.length - 1] : '*';
  };
  // Only the viewport's document (its parent is the app) speaks for the frame; nested intranet
  // frames stay quiet, whether they share its browse origin or have their own (#14 item 3).
  if (window.parent !== appWindow) return;
  topFramed = true;

  const errorOf = (): FrameMessage['error'] => {
    const code = document.querySelector<HTMLMetaElement>('meta[name="wgweb-error"]')?.content;
    if (!code) return undefined;
    return { code, message: document.querySelector<HTMLMetaElement>('meta[name="wgweb-error-message"]')?.content ?? '' };
  };
  const post = (type: FrameMessage['type']): void => {
    const message: FrameMessage = { wgweb: 'browse-frame', type, url: location.href, title: document.title, token };
    const error = type === 'loaded' || type === 'committed' ? errorOf() : undefined;
    if (error) message.error = error;
    postToApp(message, appOrigin());
  };

  post('committed');
  if (document.readyState === 'complete') queueMicrotask(() => post('loaded'));
  else window.addEventListener('load', () => post('loaded'), { once: true });
  window.addEventListener('pagehide', () => post('navigating'));
  window.addEventListener('hashchange', () => post('url'));
  window.addEventListener('popstate', () => post('url'));
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      const r = original.apply(this, args);
      post('url');
      return r;
    };
  }
  let lastTitle = document.title;
  new MutationObserver(() => {
    if (document.title !== lastTitle) {
      lastTitle = document.title;
      post('title');
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });

  window.addEventListener('message', (e: MessageEvent) => {
    if (e.source !== appWindow || (appOrigin() !== '*' && e.origin !== appOrigin())) return;
    const c = e.data as Partial<FrameCommand>;
    if (c?.wgweb !== 'browse-command') return;
    if (c.command === 'back') history.back();
    else if (c.command === 'forward') history.forward();
    else if (c.command === 'reload') location.reload();
  });
})();
