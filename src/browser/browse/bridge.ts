/**
 * The bridge page (browse origin, embedded hidden by the app): registers the browse view's
 * Service Worker and hands it the MessagePort the app sends, since a Service Worker can only be
 * reached from a page of its own origin.
 *
 *   app ──navigates──▶ bridge.html?app=…&session=…&n=…   (the Service Worker sees this navigation and
 *                                                          notes the new document as a genuine bridge)
 *   bridge ──ready──▶ app ──port──▶ bridge ──port──▶ Service Worker ──bound──▶ (on the port) app
 *   Service Worker ──need-port──▶ bridge ──need-port──▶ app ──navigates the bridge again──▶ …
 *
 * Only the app may provide a session's backend (#11): the relay serves this page only with
 * `frame-ancestors <app origin>`, for an app origin it served /api/browse to; this script refuses
 * any other embedding (`location.ancestorOrigins`); and the Service Worker takes one port from each
 * bridge document whose navigation it saw coming from the app (its Referer), never from a page that
 * merely has the bridge's URL. A bridge that was loaded before the Service Worker controlled it
 * asks the app to load it again.
 *
 * With one browse origin per intranet site (#14 item 3) the app loads one bridge per site origin,
 * naming the site (`site=`, which the Service Worker binds the port to) and the app's other browse
 * origins (`frames=`, which may frame this one's pages). `wipe=1` (a pooled origin handed from one
 * intranet site to another) first clears what the previous site stored here: localStorage, this
 * tab's sessionStorage, IndexedDB, Cache Storage (cookies live in the app's jar, not here).
 *
 * On every start it also re-claims the origin: any other Service Worker registration (a framed page
 * may have registered a copy at another scope) is removed.
 */
import { BROWSE_MESSAGE_TAG, isBrowseMessage, type BridgeFailedMessage, type BridgeNeedPortMessage, type BridgeReadyMessage, type BridgeReloadMessage, type PortMessage } from './browse-protocol.ts';
import { SERVICE_WORKER_PATH, SESSION_ID } from './browse-url.ts';

const params = new URLSearchParams(location.search);
const appOrigin = params.get('app') ?? '';
/** The app tab's browse session (the Service Worker asks the bridge of the right tab for ports). */
const session = params.get('session') ?? '';
/** Whether a Service Worker answered this page's own navigation (only then can it vouch for it). */
const controlledAtLoad = !!navigator.serviceWorker?.controller;

function toApp(message: BridgeReadyMessage | BridgeNeedPortMessage | BridgeFailedMessage | BridgeReloadMessage): void {
  window.parent.postMessage(message, appOrigin);
}

/** Framed directly by the app origin, and by nothing else (Chromium tells; elsewhere the relay's CSP does). */
function framedByApp(): boolean {
  if (window.parent === window || window.parent !== window.top) return false;
  const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
  return ancestors === undefined || (ancestors.length === 1 && ancestors[0] === appOrigin);
}

/** Removes every registration of this origin but the browse view's own (scope `/`, exact script URL). */
async function reclaim(): Promise<void> {
  const ownScript = new URL(SERVICE_WORKER_PATH, location.origin).href;
  const ownScope = new URL('/', location.origin).href;
  for (const r of await navigator.serviceWorker.getRegistrations()) {
    const script = (r.active ?? r.waiting ?? r.installing)?.scriptURL;
    if (r.scope !== ownScope || (script !== undefined && script !== ownScript)) await r.unregister().catch(() => false);
  }
}

/** Clears the storage a previous intranet site left on this origin (see the module comment). */
async function wipe(): Promise<void> {
  for (const storage of ['localStorage', 'sessionStorage'] as const) {
    try {
      globalThis[storage].clear();
    } catch {
      // storage refused: nothing stored either
    }
  }
  try {
    const idb = indexedDB as IDBFactory & { databases?: () => Promise<{ name?: string }[]> };
    // Waited for, so the next site's pages never see a database still being deleted.
    const deleting = ((await idb.databases?.()) ?? []).map(
      (db) =>
        new Promise<void>((resolve) => {
          if (!db.name) return resolve();
          const request = idb.deleteDatabase(db.name);
          request.onsuccess = request.onerror = request.onblocked = () => resolve();
        }),
    );
    await Promise.all(deleting);
  } catch {
    // no IndexedDB here
  }
  try {
    for (const key of await caches.keys()) await caches.delete(key);
  } catch {
    // no Cache Storage (insecure context)
  }
}

async function start(): Promise<void> {
  if (!/^https?:\/\/[^/]+$/.test(appOrigin) || !SESSION_ID.test(session) || !framedByApp()) {
    document.body.textContent = 'This page connects the wgweb app to its browse view; it does nothing on its own.';
    return;
  }
  if (!('serviceWorker' in navigator)) {
    toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'failed', message: 'This browser has no Service Workers here (a private window, or an insecure origin).' });
    return;
  }
  let registration: ServiceWorkerRegistration;
  if (params.get('wipe') === '1') await wipe();
  try {
    await reclaim();
    registration = await navigator.serviceWorker.register(SERVICE_WORKER_PATH, { scope: '/', updateViaCache: 'none' });
    await navigator.serviceWorker.ready;
  } catch (e) {
    toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'failed', message: `The browse Service Worker could not be registered: ${(e as Error).message}` });
    return;
  }
  if (!controlledAtLoad) {
    // The worker did not see this page's navigation, so it would not take a port from it.
    toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'reload' });
    return;
  }
  const active = async (): Promise<ServiceWorker | null> => (await navigator.serviceWorker.getRegistration('/'))?.active ?? registration.active;
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (isBrowseMessage(e.data) && e.data.type === 'need-port') toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'need-port' });
  });
  window.addEventListener('message', (e) => {
    if (e.origin !== appOrigin || e.source !== window.parent || !isBrowseMessage(e.data) || e.data.type !== 'port' || !e.ports[0]) return;
    const port = e.ports[0];
    void active().then((sw) => {
      const message: PortMessage = { wgweb: BROWSE_MESSAGE_TAG, type: 'port' };
      if (sw) sw.postMessage(message, [port]);
      else port.close();
    });
  });
  toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'ready' });
}

void start();
