/**
 * The pages the Service Worker shows inside the frame itself: an error page for a navigation that
 * failed in the tunnel (tunnel down, host refused, DNS…, from the worker's error codes), and the
 * interstitial for a link that leaves the tunnel. Plain HTML with inline styles, no script of their
 * own (the frame agent reports them to the app), under a strict CSP.
 */
import { ErrorCode } from '../../shared/errors.ts';
import { escapeHtml } from '../../shared/escape-html.ts';
import { BROWSE_UNAVAILABLE } from './browse-protocol.ts';
import { frameAgentTag } from './framed-response.ts';

/** The CSP of these pages: nothing but their inline style and the agent. */
export function ownPageCsp(appOrigin: string, nonce: string): string {
  return `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors ${appOrigin || "'none'"} 'self'`;
}

interface Explanation {
  title: string;
  /** What to check, in words. */
  advice: string;
}

/** Headline and advice per worker error code. */
export function explainError(code: string): Explanation {
  switch (code) {
    case ErrorCode.NOT_CONNECTED:
    case ErrorCode.HANDSHAKE_TIMEOUT:
    case ErrorCode.RELAY_CLOSED:
    case ErrorCode.RELAY_REFUSED:
    case ErrorCode.RELAY_UNREACHABLE:
      return { title: 'The tunnel is down', advice: 'Connect with your WireGuard config in wgweb (the Configuration card), then reload this page.' };
    case ErrorCode.CONNECTION_REFUSED:
      return { title: 'The host refused the connection', advice: 'The host is reachable through the tunnel, but nothing listens on that port. Check the port number and that the web server runs.' };
    case ErrorCode.DNS_NXDOMAIN:
      return { title: 'No such host', advice: "The tunnel's DNS server does not know this name. Check the spelling, or use the host's IP address." };
    case ErrorCode.DNS_FAILURE:
    case ErrorCode.DNS_TIMEOUT:
      return { title: 'The name could not be resolved in the tunnel', advice: 'Check the DNS = line of your config (a DNS server inside the tunnel), or use the IP address.' };
    case ErrorCode.HOST_UNREACHABLE:
    case ErrorCode.NO_ROUTE:
      return { title: 'The host is unreachable', advice: "The address is not reachable through the tunnel. Check it, and the peer's AllowedIPs." };
    case ErrorCode.TIMEOUT:
      return { title: 'The host did not answer in time', advice: 'The host may be down or filtered. Check that it is up and that AllowedIPs on both sides cover it.' };
    case ErrorCode.CONNECTION_RESET:
    case ErrorCode.HTTP_CLOSED_EARLY:
      return { title: 'The connection broke', advice: 'The server closed the connection before the page was complete. Try again.' };
    case ErrorCode.HTTP_PROTOCOL:
      return { title: 'The server did not answer in HTTP', advice: 'Is this port a web server? wgweb speaks plain http:// inside the tunnel (no TLS).' };
    case ErrorCode.USAGE:
      return { title: 'This address cannot be browsed', advice: 'Only http:// addresses can be browsed through the tunnel.' };
    case BROWSE_UNAVAILABLE:
      return { title: 'wgweb is not open', advice: 'Pages in this view are fetched by the wgweb app through its tunnel. Open wgweb (or reload it) and browse from there.' };
    default:
      return { title: 'The page could not be loaded', advice: 'The event log in wgweb may tell more.' };
  }
}

const STYLE = `
  :root { color-scheme: light dark; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0; padding: 2.5rem 1.5rem; display: grid; place-items: start center; }
  main { max-width: 38rem; }
  h1 { font-size: 1.35rem; margin: 0 0 .5rem; }
  .badge { display: inline-block; font: 600 .72rem/1 ui-monospace, monospace; letter-spacing: .04em; padding: .3rem .45rem; border-radius: .3rem; background: #fde8e8; color: #9b1c1c; margin-bottom: .9rem; }
  .outside .badge { background: #fff4d6; color: #7a4b00; }
  code, .url { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; word-break: break-all; }
  .detail { color: #555; background: #f5f6f8; border-radius: .4rem; padding: .6rem .75rem; }
  a.button { display: inline-block; margin-top: 1rem; padding: .5rem .9rem; border-radius: .45rem; background: #2f5bd3; color: #fff; text-decoration: none; font-weight: 600; }
  .outside a.button { background: #8a5a00; }
  @media (prefers-color-scheme: dark) { .detail { background: #1c2128; color: #adbac7; } .badge { background: #3d1d1d; color: #ffb4b4; } .outside .badge { background: #3b2e10; color: #f5d38a; } }
`;

function page(options: { title: string; body: string; nonce: string; ticket?: string; className?: string; meta?: string }): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `${options.meta ?? ''}<title>${escapeHtml(options.title)}</title><style>${STYLE}</style>${frameAgentTag(options.nonce, '', [], options.ticket ?? '')}</head>` +
    `<body class="${options.className ?? ''}"><main>${options.body}</main></body></html>`
  );
}

/**
 * The in-frame page for a failed navigation: the headline for the code, the worker's own sentence,
 * the address, and a retry link. `retryPath` is the browse path to load again.
 */
export function errorPage(options: { code: string; message: string; url: string; retryPath?: string; nonce: string; ticket?: string }): string {
  const { title, advice } = explainError(options.code);
  const body =
    `<span class="badge">${escapeHtml(options.code)}</span><h1>${escapeHtml(title)}</h1>` +
    `<p>${escapeHtml(advice)}</p>` +
    `<p class="detail">${escapeHtml(options.message)}</p>` +
    `<p>Address: <span class="url">${escapeHtml(options.url)}</span></p>` +
    (options.retryPath ? `<a class="button" href="${escapeHtml(options.retryPath)}">Try again</a>` : '');
  const meta = `<meta name="wgweb-error" content="${escapeHtml(options.code)}"><meta name="wgweb-error-message" content="${escapeHtml(options.message)}">`;
  return page({ title: `${title} — wgweb`, body, nonce: options.nonce, ticket: options.ticket, meta });
}

/** Why a link leaves the tunnel, for the interstitial. */
export type OutsideReason = 'allowed-ips' | 'no-dns' | 'other';

/**
 * The interstitial for a link that leaves the tunnel: it says so plainly, and opens the address
 * only on request, in a new tab, outside the tunnel (no referrer, no opener).
 */
export function outsidePage(options: { url: string; reason: OutsideReason; detail?: string; nonce: string; ticket?: string }): string {
  const why =
    options.reason === 'allowed-ips'
      ? "Its address is not in any peer's AllowedIPs, so the tunnel does not carry it."
      : options.reason === 'no-dns'
        ? 'Its name cannot be resolved inside the tunnel (the config has no DNS server), so it would be looked up and reached outside.'
        : 'It is not an address inside the tunnel.';
  const body =
    `<span class="badge">OUTSIDE THE TUNNEL</span><h1>This link leaves the tunnel</h1>` +
    `<p class="url">${escapeHtml(options.url)}</p><p>${escapeHtml(why)}</p>` +
    (options.detail ? `<p class="detail">${escapeHtml(options.detail)}</p>` : '') +
    `<p>Opening it connects <strong>directly from your browser</strong>, not through WireGuard: the site sees your own network address.</p>` +
    `<a class="button" href="${escapeHtml(options.url)}" target="_blank" rel="noopener noreferrer" data-wgweb-outside="">Open outside the tunnel ↗</a>`;
  return page({
    title: 'Outside the tunnel — wgweb',
    body,
    nonce: options.nonce,
    ticket: options.ticket,
    className: 'outside',
    meta: `<meta name="wgweb-outside" content="${escapeHtml(options.url)}">`,
  });
}
