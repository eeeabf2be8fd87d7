/**
 * The security headers on every HTTP response of the relay's app origin (the wgweb UI, its API
 * routes and error answers). The browse view's own origin (browse-origin.ts) sets its own.
 *
 *   Content-Security-Policy   the policy of the UI's <meta> (src/browser/ui/index.html) plus
 *                             `frame-ancestors 'self'`, which a <meta> policy cannot carry
 *                             (CSP Level 3 ignores frame-ancestors in a <meta> policy)
 *   X-Frame-Options           SAMEORIGIN: the same for browsers without frame-ancestors
 *                             (RFC 7034); no other site may frame the UI and click for the user
 *   X-Content-Type-Options    nosniff: a response is only ever what its Content-Type says
 *   Referrer-Policy           no-referrer: intranet URLs typed into the UI never leak onward
 */
import type { ServerResponse } from 'node:http';

/**
 * The UI's Content-Security-Policy, identical to its `<meta http-equiv>` (a unit test compares
 * them) so the header and the meta never disagree; the header adds `frame-ancestors`.
 * `'wasm-unsafe-eval'` lets the tunnel worker compile its WebAssembly ChaCha20-Poly1305
 * (src/wireguard/wasm/; the worker's script is served with this header, so this is its policy);
 * it allows compiling WebAssembly only, not `eval()` or `new Function()` (CSP Level 3 §8.4).
 * `connect-src … https:` lets the worker `fetch()` the downstream body (`wgweb.v3.stream`) of a
 * relay on another origin over TLS (the relays are the user's, not known here); plain `http:` is
 * left out, so the app cannot POST to http intranet devices, and a cross-origin plain-http relay
 * (development only) runs on the WebSocket alone (docs/security.md).
 */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self' ws: wss: https:; frame-src http: https:; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; form-action 'none'";

/** The headers, as set on each app response. */
export const APP_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': `${UI_CONTENT_SECURITY_POLICY}; frame-ancestors 'self'`,
  'X-Frame-Options': 'SAMEORIGIN',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** Sets {@link APP_SECURITY_HEADERS} on `res` (before any route writes its head). */
export function setAppSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(APP_SECURITY_HEADERS)) res.setHeader(name, value);
}
