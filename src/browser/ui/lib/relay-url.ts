/**
 * The relay URL field: people type `/wg`, `relay.example.com/wg`, `https://…` or `wss://…`; the
 * Session needs an absolute `ws:`/`wss:` URL. The default is the page's own origin at `/wg`, which
 * is where `wgweb relay` serves both this UI and the WebSocket.
 */

/** The default shown in the field. */
export const DEFAULT_RELAY_PATH = '/wg';

/**
 * Resolves what the user typed against the page's location.
 * @throws {RangeError} with a message for the field when it cannot be a WebSocket URL.
 */
export function resolveRelayUrl(input: string, page: { protocol: string; host: string }): string {
  const text = input.trim() || DEFAULT_RELAY_PATH;
  const secure = page.protocol === 'https:';
  let candidate: string;
  if (text.startsWith('/')) {
    if (text.startsWith('//')) candidate = `${secure ? 'wss' : 'ws'}:${text}`;
    else candidate = `${secure ? 'wss' : 'ws'}://${page.host}${text}`;
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    candidate = text.replace(/^https:/i, 'wss:').replace(/^http:/i, 'ws:');
  } else {
    candidate = `${secure ? 'wss' : 'ws'}://${text}`;
  }
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new RangeError(`"${text}" is not a URL: use /wg for this server, or ws://host:port/wg`);
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new RangeError(`The relay URL must start with ws://, wss://, http:// or https://, not ${url.protocol}//`);
  }
  if (url.username || url.password) throw new RangeError('Leave credentials out of the relay URL: it is not secret.');
  if (url.hash) url.hash = '';
  if (secure && url.protocol === 'ws:' && !isLoopback(url.hostname)) {
    throw new RangeError('This page is served over HTTPS, so the browser blocks a ws:// relay: use wss://.');
  }
  return url.href;
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\./.test(hostname);
}

/**
 * A relay list as typed in the relay field: URLs separated by spaces, commas or new lines, in
 * failover order, each resolved like {@link resolveRelayUrl}. An empty field is the default relay.
 */
export function resolveRelayUrls(input: string, page: { protocol: string; host: string }): string[] {
  const parts = input.split(/[\s,]+/).filter(Boolean);
  return parts.length ? parts.map((p) => resolveRelayUrl(p, page)) : [resolveRelayUrl('', page)];
}
