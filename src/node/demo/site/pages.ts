/**
 * The intranet site's HTML pages. Each one explains what the visitor is looking at, with the
 * live numbers of their own tunnel and TCP connection as the demo peer sees them. Public data
 * only: public keys, indexes, counters; never a private or session key.
 *
 *   /            welcome: who you are to the demo peer, where to go next
 *   /path        the path of this very request, hop by hop, with this connection's TCP numbers
 *   /handshake   your WireGuard handshake and session as the demo peer's Tunnel.stats() shows it
 *   /services    things to try: ping, DNS names, downloads, the upload form, echo/discard, the API
 *   /guestbook   a form (POST), a cookie and a redirect (303 See Other)
 */
import { formatBytes } from '../../../shared/format-bytes.ts';
import { formatEndpoint, formatIp } from '../../../shared/ip-address.ts';
import type { DemoSiteHost, DemoVisitor } from './site-host.ts';
import type { HttpRequest } from '../http/http-server.ts';
import { DEMO_ZONE, DISCARD_PORT, ECHO_PORT, MAX_BYTES_RESPONSE } from '../demo-constants.ts';
import { pathDiagram } from './drawings.ts';
import { html, type SafeHtml } from './html.ts';

/** What every page is rendered from. */
export interface PageContext {
  demo: DemoSiteHost;
  req: HttpRequest;
  visitor: DemoVisitor | undefined;
}

/** One guestbook entry. */
export interface GuestbookEntry {
  name: string;
  message: string;
  /** Epoch ms. */
  at: number;
  /** The poster's tunnel address. */
  from: string;
}

const NAV: [string, string][] = [
  ['/', 'Welcome'],
  ['/path', 'Your packets'],
  ['/handshake', 'Your handshake'],
  ['/services', 'Try things'],
  ['/guestbook', 'Guestbook'],
];

/** The page frame: header with navigation, main content, footer. */
export function layout(title: string, current: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · intranet.demo</title>
<link rel="stylesheet" href="/style.css">
<link rel="icon" href="/logo.svg" type="image/svg+xml">
</head>
<body>
<header class="top"><div class="bar">
<a class="brand" href="/"><img src="/logo.svg" alt="" width="32" height="32"><span>intranet.demo</span></a>
<nav aria-label="Site">${NAV.map(([href, label]) => html`<a href="${href}"${href === current ? html` aria-current="page"` : ''}>${label}</a>`)}</nav>
</div></header>
<main>
${body}
</main>
<footer>Served by the wgweb demo peer: WireGuard, IP, TCP and HTTP written in TypeScript, running inside the relay process. Nothing here left your machine.</footer>
</body>
</html>
`.text;
}

// ---------------------------------------------------------------------------------------------
// Formatting

export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** An index as the WireGuard messages carry it (32 bits, shown in hex like the event log). */
export function formatIndex(n: number | undefined): string {
  return n === undefined ? '—' : `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Epoch ms of a Tunnel `now` (the UdpPeer's loop runs on performance.now). */
export function tunnelTimeToEpoch(at: number): number {
  return performance.timeOrigin + at;
}

function visitorAddress(ctx: PageContext): string {
  return formatEndpoint({ host: formatIp(ctx.req.remoteAddress), port: ctx.req.remotePort });
}

function serverAddress(ctx: PageContext): string {
  return formatEndpoint({ host: formatIp(ctx.req.localAddress), port: ctx.req.localPort });
}

function relayEndpoint(v: DemoVisitor | undefined): string {
  const e = v?.stats?.endpoint;
  return e ? formatEndpoint(e) : 'the relay';
}

function unknownVisitor(ctx: PageContext): SafeHtml {
  return html`<p class="note">Your address ${formatIp(ctx.req.remoteAddress)} has no registration with this demo peer (it may
have expired). Get a fresh config from the wgweb start page, or <code>GET /api/demo/config</code> on the relay.</p>`;
}

// ---------------------------------------------------------------------------------------------
// Pages

export function homePage(ctx: PageContext, visits: number): string {
  const { demo, req, visitor } = ctx;
  const s = visitor?.stats;
  const body = html`
<h1>You made it through the tunnel.</h1>
<p class="lead">This page came to you over WireGuard from a peer that is nothing but TypeScript: the
handshake, the encryption, IP, TCP and this HTTP server are wgweb's own code, running inside the
relay process on this machine.</p>
<div class="cards">
  <div class="card"><h3>You are</h3><p><code>${formatIp(req.remoteAddress)}</code> port ${req.remotePort}</p>
    <p>${visitor ? html`also <code>${formatIp(req.remoteAddress.length === 4 ? visitor.registration.address6 : visitor.registration.address4)}</code>` : 'not registered'}</p></div>
  <div class="card"><h3>I am</h3><p><code>${formatIp(demo.address4)}</code> and <code>${formatIp(demo.address6)}</code></p><p>${DEMO_ZONE}, port ${req.localPort}</p></div>
  <div class="card"><h3>Our session</h3><p>${s?.latestHandshakeAt !== undefined ? html`<span class="ok">established</span>, handshake ${formatAge(performance.now() - s.latestHandshakeAt)} ago` : 'no handshake yet'}</p>
    <p>request ${req.sequence} on this TCP connection</p></div>
</div>
${visitor ? '' : unknownVisitor(ctx)}
<h2>Look around</h2>
<div class="cards two">
  <a class="card" href="/path"><h3>The path of your packets</h3><p>Browser, worker, WebSocket, relay, UDP, WireGuard, TCP, this page: every hop, with this request's numbers.</p></a>
  <a class="card" href="/handshake"><h3>Your handshake</h3><p>When it happened, the session indexes both sides picked, the counters. Public keys only.</p></a>
  <a class="card" href="/services"><h3>Try things</h3><p>Ping, DNS names, big downloads with a SHA-256 to check, uploads, echo and discard servers, a JSON API.</p></a>
  <a class="card" href="/guestbook"><h3>Guestbook</h3><p>A form sent with POST, a cookie, and a redirect: the HTTP basics, through the tunnel.</p></a>
</div>
<p>${visits > 1 ? html`Your browser has shown you ${visits} pages of this site (a cookie counts them).` : html`This site sets a cookie to count your visits; reload to see it come back.`}</p>
`;
  return layout('Welcome', '/', body);
}

export function pathPage(ctx: PageContext): string {
  const { demo, req, visitor } = ctx;
  const tcp = req.socket.stats();
  const you = visitorAddress(ctx);
  const relay = relayEndpoint(visitor);
  const peerUdp = formatEndpoint(demo.endpoint);
  const body = html`
<h1>The path of your packets</h1>
<p class="lead">Loading this page took a round trip through two complete network stacks. Here is
every hop of it, with the numbers of this very request.</p>
<figure class="diagram">${pathDiagram({ visitor: you, relayUdp: relay, peerUdp, server: serverAddress(ctx) })}
<figcaption>Top row: your side, in the browser. Bottom row: the demo peer, in the relay's Node process.</figcaption></figure>
<ol class="path">
  <li><b>Your browser tab asked for the page.</b> The wgweb UI does not use the browser's own network
  stack for tunnel addresses; it hands the request to its Web Worker.</li>
  <li><b>The worker's TCP/IP stack opened a connection</b> from <code>${you}</code> to
  <code>${serverAddress(ctx)}</code>: SYN, SYN-ACK, ACK, then the request bytes, cut into segments
  of at most ${tcp.mss} bytes to fit the tunnel's 1420-byte MTU.</li>
  <li><b>WireGuard encrypted each IP packet</b> with the session key from your handshake
  (ChaCha20-Poly1305), prefixed it with the receiver index
  <code>${formatIndex(visitor?.stats?.localIndex)}</code> and a counter, and padded it to a multiple of 16 bytes.</li>
  <li><b>The WebSocket carried each datagram</b> to the relay as one binary message. A browser
  cannot send UDP itself; that is what the relay is for.</li>
  <li><b>The relay sent it as UDP</b> from its socket <code>${relay}</code> to the demo peer at
  <code>${peerUdp}</code>. The relay only sees ciphertext.</li>
  <li><b>The demo peer's WireGuard</b> looked up the receiver index, checked the counter against its
  replay window, decrypted, and checked that the inner source address <code>${formatIp(req.remoteAddress)}</code>
  is inside your AllowedIPs: cryptokey routing. Anything else is dropped and counted.</li>
  <li><b>Its TCP/IP stack</b> handed the segments to the listener on port ${req.localPort}; this HTTP server
  read request ${req.sequence} of the connection (<code>${req.method} ${req.target}</code>) and wrote this page,
  which took the same path back.</li>
</ol>
<h2>This TCP connection, seen from the server</h2>
<table class="facts">
  <tr><th>State</th><td>${tcp.state}</td></tr>
  <tr><th>Smoothed round-trip time</th><td>${tcp.srttMs === undefined ? 'not measured yet' : `${tcp.srttMs.toFixed(1)} ms`}<small>retransmission timeout ${Math.round(tcp.rtoMs)} ms (RFC 6298)</small></td></tr>
  <tr><th>Maximum segment size</th><td>${tcp.mss} bytes</td></tr>
  <tr><th>Congestion window</th><td>${formatBytes(tcp.cwnd)}<small>slow-start threshold ${tcp.ssthresh >= 2 ** 30 ? 'not set yet' : formatBytes(tcp.ssthresh)}</small></td></tr>
  <tr><th>Windows</th><td>you let me send ${formatBytes(tcp.sendWindow)}; I let you send ${formatBytes(tcp.receiveWindow)}<small>window scale ${tcp.windowScale.send} / ${tcp.windowScale.receive} (RFC 7323)</small></td></tr>
  <tr><th>Options</th><td>SACK ${tcp.sack ? 'on' : 'off'}, timestamps ${tcp.timestamps ? 'on' : 'off'}</td></tr>
  <tr><th>So far</th><td>${formatBytes(tcp.bytesReceived)} in ${tcp.segmentsReceived} segments received, ${formatBytes(tcp.bytesSent)} in ${tcp.segmentsSent} sent<small>${tcp.retransmittedSegments} retransmitted</small></td></tr>
</table>
`;
  return layout('Your packets', '/path', body);
}

export function handshakePage(ctx: PageContext): string {
  const { demo, visitor } = ctx;
  if (!visitor) return layout('Your handshake', '/handshake', html`<h1>Your handshake</h1>${unknownVisitor(ctx)}`);
  const s = visitor.stats;
  const r = visitor.registration;
  const hsAt = s?.latestHandshakeAt;
  const body = html`
<h1>Your handshake</h1>
<p class="lead">WireGuard's handshake (Noise IKpsk2) is one round trip: your side sent a 148-byte
initiation, the demo peer answered with a 92-byte response, and both derived the same pair of
session keys without ever sending them.</p>
<table class="facts">
  <tr><th>Latest handshake</th><td>${hsAt === undefined ? 'none yet' : html`${new Date(tunnelTimeToEpoch(hsAt)).toISOString()}<small>${formatAge(performance.now() - hsAt)} ago; ${demo.handshakeCount(r.publicKey)} since your config was issued (a new one every 2 minutes while traffic flows)</small>`}</td></tr>
  <tr><th>Session</th><td>${s?.session ?? 'unknown'}${s?.currentKeyAgeMs !== undefined ? html`<small>current keys are ${formatAge(s.currentKeyAgeMs)} old; they are replaced after 120 s and never used after 180 s</small>` : ''}</td></tr>
  <tr><th>Index the demo peer chose</th><td><code>${formatIndex(s?.localIndex)}</code><small>your packets carry it as their receiver index, so the demo peer finds the right keys</small></td></tr>
  <tr><th>Index your side chose</th><td><code>${formatIndex(s?.remoteIndex)}</code><small>the demo peer puts it on every packet it sends you</small></td></tr>
  <tr><th>Received from you</th><td>${formatBytes(s?.rxBytes ?? 0)}<small>all datagrams, handshake included</small></td></tr>
  <tr><th>Sent to you</th><td>${formatBytes(s?.txBytes ?? 0)}${s?.sendCounter !== undefined ? html`<small>next send counter ${s.sendCounter}</small>` : ''}</td></tr>
  <tr><th>Your endpoint</th><td><code>${s?.endpoint ? formatEndpoint(s.endpoint) : 'unknown'}</code><small>where your datagrams come from (through wgweb: the relay's UDP socket); the demo peer learned it from your handshake and follows it if it changes (roaming)</small></td></tr>
  <tr><th>Your public key</th><td><code>${r.publicKey}</code></td></tr>
  <tr><th>Demo peer's public key</th><td><code>${demo.publicKey}</code></td></tr>
  <tr><th>Your AllowedIPs here</th><td><code>${formatIp(r.address4)}/32</code>, <code>${formatIp(r.address6)}/128</code></td></tr>
  <tr><th>Registration</th><td>ends ${formatAge(visitor.expiresAt - demo.now())} from now unless traffic keeps it alive<small>PersistentKeepalive = 25 in your config does that while the tunnel is up</small></td></tr>
</table>
<p class="note">Private keys never leave the side that owns them. The demo peer knows your public key
because the relay registered it when it made your config; your private key went to you and was
not kept.</p>
`;
  return layout('Your handshake', '/handshake', body);
}

export function servicesPage(ctx: PageContext): string {
  const { demo } = ctx;
  const a4 = formatIp(demo.address4);
  const a6 = formatIp(demo.address6);
  const body = html`
<h1>Try things</h1>
<p class="lead">Everything here is served by the demo peer's own stack. Use the wgweb tools, or any
WireGuard client with the same config.</p>
<h2>Ping</h2>
<p><code>${a4}</code> and <code>${a6}</code> answer ICMP and ICMPv6 echo requests.</p>
<h2>DNS</h2>
<p>The DNS server in your config, <code>${a4}</code> port 53 (UDP and TCP), knows these names; anything else is NXDOMAIN.</p>
<table class="facts">
  <tr><th><code>${DEMO_ZONE}</code></th><td>A ${a4}, AAAA ${a6}, plus NS, SOA and TXT</td></tr>
  <tr><th><code>www.${DEMO_ZONE}</code></th><td>CNAME ${DEMO_ZONE}</td></tr>
  <tr><th><code>echo.${DEMO_ZONE}</code>, <code>discard.${DEMO_ZONE}</code>, <code>dns.${DEMO_ZONE}</code></th><td>the demo peer again</td></tr>
  <tr><th><code>whoami.${DEMO_ZONE}</code></th><td>your own tunnel addresses</td></tr>
</table>
<h2>Downloads</h2>
<p><code>/bytes/N</code> streams N deterministic bytes (up to ${MAX_BYTES_RESPONSE / 2 ** 30} GiB) with their SHA-256 in the <code>x-sha256</code> header;
<code>/chunked/N</code> sends the same bytes with chunked transfer coding. Add <code>?seed=S</code> for other bytes, <code>?sha=0</code> to skip the hash.</p>
<p><a href="/bytes/1048576">1 MiB</a> · <a href="/bytes/10M">10 MiB</a> · <a href="/bytes/100M">100 MiB</a> · <a href="/chunked/1M">1 MiB chunked</a></p>
<h2>Upload</h2>
<form class="stack" method="post" action="/upload" enctype="multipart/form-data">
  <label for="file">A file to send through the tunnel</label>
  <input id="file" name="file" type="file">
  <button type="submit">Upload</button>
  <small>The answer is the length and SHA-256 of the whole request body (with a form, that includes the multipart wrapping). <code>curl --data-binary @file http://${DEMO_ZONE}/upload</code> hashes just the file.</small>
</form>
<h2>Echo and discard</h2>
<p>TCP and UDP port ${ECHO_PORT} send back what they get (RFC 862); port ${DISCARD_PORT} swallows it (RFC 863). Both are handy for throughput tests in each direction.</p>
<h2>JSON API</h2>
<ul>
  <li><a href="/api/whoami"><code>/api/whoami</code></a>: you, your handshake and this TCP connection</li>
  <li><a href="/api/peer"><code>/api/peer</code></a>: the demo peer, its services and counters</li>
  <li><a href="/api/headers"><code>/api/headers</code></a>: the request headers as the server received them</li>
  <li><a href="/api/time"><code>/api/time</code></a>: the server's clock</li>
</ul>
`;
  return layout('Try things', '/services', body);
}

export function guestbookPage(ctx: PageContext, entries: readonly GuestbookEntry[], name: string | undefined, posted: boolean): string {
  const body = html`
<h1>Guestbook</h1>
<p class="lead">Sign it: the form is sent with <code>POST</code>, the server remembers your name in a
cookie and answers <code>303 See Other</code>, so your browser comes back here with a
<code>GET</code> (and reloading does not post twice).</p>
${posted ? html`<p class="note">Thanks${name ? html`, ${name}` : ''}! That was a POST, a Set-Cookie and a redirect.</p>` : ''}
<form class="stack" method="post" action="/guestbook">
  <label for="name">Name</label>
  <input id="name" name="name" type="text" maxlength="40" required value="${name ?? ''}">
  <label for="message">Message</label>
  <textarea id="message" name="message" rows="3" maxlength="280" required></textarea>
  <button type="submit">Sign</button>
</form>
<h2>Entries</h2>
${entries.length === 0 ? html`<p>No entries yet.</p>` : html`<ul class="entries">${[...entries].reverse().map((e) => html`<li><div class="meta">${e.name} from ${e.from}, ${new Date(e.at).toISOString().slice(0, 19).replace('T', ' ')} UTC</div>${e.message}</li>`)}</ul>`}
`;
  return layout('Guestbook', '/guestbook', body);
}

export function notFoundPage(path: string): string {
  return layout(
    'Not found',
    '',
    html`<h1>Not found</h1><p>There is nothing at <code>${path}</code> on this intranet. <a href="/">Back to the start</a>.</p>`,
  );
}
