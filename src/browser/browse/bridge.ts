/**
 * The bridge page (browse origin, embedded hidden by the app): registers the browse view's
 * Service Worker and hands it the MessagePorts the app sends, since a Service Worker can only be
 * reached from a page of its own origin.
 *
 *   app ──postMessage(port)──▶ bridge ──registration.active.postMessage(port)──▶ Service Worker
 *   Service Worker ──need-port──▶ bridge ──need-port──▶ app (a new port, e.g. after the worker restarted)
 *
 * The app's origin comes in the query (`?app=`); the relay serves this page with
 * `frame-ancestors <that origin>`, so only the app itself can embed it, and messages are only taken
 * from (and sent to) that origin.
 */
import { BROWSE_MESSAGE_TAG, isBrowseMessage, type BridgeFailedMessage, type BridgeNeedPortMessage, type BridgeReadyMessage, type PortMessage } from './browse-protocol.ts';
import { SERVICE_WORKER_PATH, SESSION_ID } from './browse-url.ts';

const params = new URLSearchParams(location.search);
const appOrigin = params.get('app') ?? '';
/** The app tab's browse session (the Service Worker asks the bridge of the right tab for ports). */
const session = params.get('session') ?? '';

function toApp(message: BridgeReadyMessage | BridgeNeedPortMessage | BridgeFailedMessage): void {
  window.parent.postMessage(message, appOrigin);
}

async function start(): Promise<void> {
  if (window.parent === window || !/^https?:\/\/[^/]+$/.test(appOrigin) || !SESSION_ID.test(session)) {
    document.body.textContent = 'This page connects the wgweb app to its browse view; it does nothing on its own.';
    return;
  }
  if (!('serviceWorker' in navigator)) {
    toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'failed', message: 'This browser has no Service Workers here (a private window, or an insecure origin).' });
    return;
  }
  let registration: ServiceWorkerRegistration;
  try {
    registration = await navigator.serviceWorker.register(SERVICE_WORKER_PATH, { scope: '/', updateViaCache: 'none' });
    await navigator.serviceWorker.ready;
  } catch (e) {
    toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'failed', message: `The browse Service Worker could not be registered: ${(e as Error).message}` });
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
      const message: PortMessage = { wgweb: BROWSE_MESSAGE_TAG, type: 'port', appOrigin, session };
      if (sw) sw.postMessage(message, [port]);
      else port.close();
    });
  });
  toApp({ wgweb: BROWSE_MESSAGE_TAG, type: 'ready' });
}

void start();
