/**
 * A small multi-page "intranet" web site for the browse view's tests and bench, run as its own
 * Node process inside a test namespace (harness/intranet-site.ts starts it) and bound to the
 * WireGuard peer's tunnel addresses, so a browser can only reach it through the tunnel.
 *
 *   main host (http://MAIN/)                                  second host (http://SECOND/)
 *   /                 links of every kind, CSS, an image      /          cookies it got, link back
 *   /docs/            nested page; script fetches JSON (root-absolute, relative, absolute, XHR)
 *   /docs/page2.html  reached by relative and root-absolute links
 *   /about            absolute link target; shows the Referer it got
 *   /blank            target=_blank link, window.open (relative and absolute), form target=_blank
 *   /early            an inline script first in <head> records what it sees of cookies (window.__early)
 *   /old-docs         302 → /docs/ (relative Location);  /moved → 301 absolute Location
 *   /login            GET form; POST checks the password, sets cookies, 303 → /account
 *   /account          needs the session cookie (else 302 → /login);  /logout clears it
 *   /cookies, /headers, /api/data.json   what the server saw, as JSON
 *   /stream           HTML whose second half waits until GET /release (streaming test)
 *   /bench/page?n=N   a page with N subresources (CSS, images, scripts) for the bench
 *   second host: /secret (a page that stores into localStorage and sets cookies), /cors (JSON that
 *   only the main site may read: Access-Control-Allow-Origin)
 *
 *   node --import tsx intranet-site.ts '<json config>'     prints {"event":"ready"} once listening
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { deflateSync, crc32 } from 'node:zlib';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface IntranetSiteConfig {
  /** Listeners of the main site. */
  readonly main: { readonly hosts: readonly string[]; readonly port: number };
  /** Listeners of the second host. */
  readonly second: { readonly hosts: readonly string[]; readonly port: number };
  /** Base URLs the pages link to: main and second host, and one outside AllowedIPs. */
  readonly links: { readonly main: string; readonly second: string; readonly outside: string };
}

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

const [json] = process.argv.slice(2);
const cfg = JSON.parse(json ?? '{}') as IntranetSiteConfig;
const MAIN = cfg.links.main.replace(/\/$/, '');
const SECOND = cfg.links.second.replace(/\/$/, '');

/** A 2×3 red PNG, built at start (IHDR, IDAT, IEND with their CRCs). */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 4);
    for (let x = 0; x < width; x++) row.set([220, 30, 40, 255], 1 + x * 4);
    rows.push(row);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}
const LOGO = png(2, 3);

const CSS = `body { font: 16px/1.5 sans-serif; margin: 0; border-top: 7px solid rgb(12, 34, 56); }
main { padding: 1rem 2rem; }
h1 { color: rgb(12, 34, 56); }
nav a { display: inline-block; margin: 0 .8rem .4rem 0; }
.shade { background: rgb(250, 240, 200); padding: .5rem; }
`;

const APP_JS = `(() => {
  const show = (id, value) => { const el = document.getElementById(id); if (el) el.textContent = value; };
  fetch('/api/data.json').then((r) => r.json()).then((d) => show('out-root', d.items.join(',')), (e) => show('out-root', 'failed: ' + e));
  fetch('../api/data.json?via=relative').then((r) => r.json()).then((d) => show('out-relative', d.items.join(',')), (e) => show('out-relative', 'failed: ' + e));
  fetch('${MAIN}/api/data.json?via=absolute').then((r) => r.json()).then((d) => show('out-absolute', d.items.join(',')), (e) => show('out-absolute', 'failed: ' + e));
  const xhr = new XMLHttpRequest();
  xhr.open('GET', '/api/data.json?via=xhr');
  xhr.onload = () => show('out-xhr', JSON.parse(xhr.responseText).items.join(','));
  xhr.onerror = () => show('out-xhr', 'failed');
  xhr.send();
  fetch('/api/echo', { method: 'POST', headers: { 'content-type': 'application/json', 'x-intranet': 'yes' }, body: JSON.stringify({ hello: 'tunnel' }) })
    .then((r) => r.json()).then((d) => show('out-post', d.body + ' ' + d.header), (e) => show('out-post', 'failed: ' + e));
})();
`;

function page(title: string, body: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/static/site.css">${head}</head><body><main>${body}</main></body></html>\n`;
}

function send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string | string[]> = {}): void {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  res.writeHead(status, { 'content-type': type, 'content-length': b.length, 'cache-control': 'no-store', ...headers });
  res.end(b);
}

/** `body` whole (200) or the one byte range the request asks for (206, RFC 9110 §14), as a media server answers. */
function sendRange(req: IncomingMessage, res: ServerResponse, body: Buffer, type: string): void {
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
  if (!m || (m[1] === '' && m[2] === '')) {
    send(res, 200, body, type, { 'accept-ranges': 'bytes' });
    return;
  }
  const size = body.length;
  const start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
  const end = m[1] === '' || m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  if (start >= size || start > end) {
    send(res, 416, '', type, { 'content-range': `bytes */${size}` });
    return;
  }
  send(res, 206, body.subarray(start, end + 1), type, { 'accept-ranges': 'bytes', 'content-range': `bytes ${start}-${end}/${size}` });
}

/** 120 s of a 440 Hz tone, 8 kHz mono 16-bit PCM in a RIFF/WAVE file (1.9 MB): long enough that a seek asks for a range. */
const TONE_WAV = ((): Buffer => {
  const rate = 8000;
  const samples = rate * 120;
  const b = Buffer.alloc(44 + samples * 2);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + samples * 2, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28); // bytes per second
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return b;
})();

function html(res: ServerResponse, status: number, body: string, headers: Record<string, string | string[]> = {}): void {
  send(res, status, body, 'text/html; charset=utf-8', headers);
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const sessions = new Map<string, string>();
let gate: (() => void) | undefined;
let gateOpen = false;

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function mainSite(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://intranet');
  const path = url.pathname;
  emit({ event: 'request', site: 'main', method: req.method, path: path + url.search, cookie: req.headers.cookie ?? null, referer: req.headers.referer ?? null, range: req.headers.range ?? null });
  if (path === '/media') {
    // A media element that seeks: Chromium asks for the part it needs with Range (browse e2e).
    html(res, 200, page('Media', '<h1>Media</h1><audio id="tone" src="/media/tone.wav" preload="metadata" controls></audio>'));
    return;
  }
  if (path === '/media/tone.wav') {
    sendRange(req, res, TONE_WAV, 'audio/wav');
    return;
  }
  if (path === '/') {
    html(
      res,
      200,
      page(
        'Intranet home',
        `<h1>Intranet home</h1><img id="logo" src="/static/logo.png" alt="logo" width="20" height="30">
        <nav>
          <a id="rel" href="docs/">Docs (relative)</a>
          <a id="root" href="/docs/page2.html">Page 2 (root-absolute)</a>
          <a id="abs" href="${MAIN}/about">About (absolute)</a>
          <a id="second" href="${SECOND}/">Second host</a>
          <a id="old" href="/old-docs">Old docs (302)</a>
          <a id="moved" href="/moved">Moved (301, absolute)</a>
          <a id="login" href="/login">Sign in</a>
          <a id="account" href="/account">Account</a>
          <a id="outside" href="${cfg.links.outside}">Outside AllowedIPs</a>
          <a id="https" href="https://198.51.100.7/">198.51.100.7 (https, outside AllowedIPs)</a>
        </nav>`,
      ),
    );
    return;
  }
  if (path === '/docs/' || path === '/docs') {
    if (path === '/docs') {
      res.writeHead(301, { location: '/docs/', 'content-length': 0 });
      res.end();
      return;
    }
    html(
      res,
      200,
      page(
        'Docs',
        `<h1>Docs</h1><nav><a id="page2" href="page2.html">Page 2</a> <a id="up" href="../">Up</a></nav>
        <p>root-absolute fetch: <span id="out-root">…</span></p>
        <p>relative fetch: <span id="out-relative">…</span></p>
        <p>absolute fetch: <span id="out-absolute">…</span></p>
        <p>XHR: <span id="out-xhr">…</span></p>
        <p>POST: <span id="out-post">…</span></p>`,
        '<script src="/static/app.js" defer></script>',
      ),
    );
    return;
  }
  if (path === '/docs/page2.html') {
    html(
      res,
      200,
      page(
        'Page 2',
        `<h1>Page 2</h1><p class="shade">nested page</p><a id="home" href="/">Home</a>
        <button id="jsnav" type="button" onclick="location.href = '${SECOND}/'">To the second host by script</button>`,
      ),
    );
    return;
  }
  if (path === '/blank') {
    html(
      res,
      200,
      page(
        'New windows',
        `<h1>New windows</h1><a id="blank" href="/about" target="_blank">About, new window</a>
        <button id="open" onclick="window.open('/docs/')">open docs</button>
        <button id="open-second" onclick="window.open('${SECOND}/')">open second host</button>
        <form action="/about" target="_blank"><button id="submit">submit to a new window</button></form>`,
      ),
    );
    return;
  }
  if (path === '/early') {
    // An inline script before anything else: what it can see of cookies (browse-attacks e2e).
    html(
      res,
      200,
      '<!doctype html><html><head><script>' +
        'var proto;try{proto=Object.getOwnPropertyDescriptor(Document.prototype,"cookie").get.call(document)}catch(e){proto="threw"}' +
        'window.__early={cookie:document.cookie,proto:proto,store:typeof window.cookieStore};' +
        '</script><title>Early</title></head><body><h1>Early</h1></body></html>',
    );
    return;
  }
  if (path === '/app') {
    // A single-page app that rewrites its own address as it starts (as Prometheus' UI does with
    // its query): the document was still served as /app with 200 (browse e2e).
    html(res, 200, page('App', '<h1>App</h1><script>history.replaceState(null, "", "/app?view=graph&range=1h")</script>'));
    return;
  }
  if (path === '/about') {
    html(res, 200, page('About', `<h1>About</h1><p>Referer: <span id="referer">${escape(req.headers.referer ?? 'none')}</span></p>`));
    return;
  }
  if (path === '/old-docs') {
    res.writeHead(302, { location: 'docs/', 'content-length': 0 });
    res.end();
    return;
  }
  if (path === '/moved') {
    res.writeHead(301, { location: `${MAIN}/docs/page2.html`, 'content-length': 0 });
    res.end();
    return;
  }
  if (path === '/login' && req.method === 'GET') {
    const failed = url.searchParams.has('failed');
    html(
      res,
      200,
      page(
        'Sign in',
        `<h1>Sign in</h1>${failed ? '<p id="failed">Wrong password.</p>' : ''}
        <form method="post" action="/login"><label>User <input name="user" id="user"></label>
        <label>Password <input type="password" name="password" id="password"></label><button id="submit" type="submit">Sign in</button></form>`,
      ),
    );
    return;
  }
  if (path === '/login' && req.method === 'POST') {
    const form = new URLSearchParams(await body(req));
    if (form.get('password') !== 'secret') {
      res.writeHead(303, { location: '/login?failed=1', 'content-length': 0 });
      res.end();
      return;
    }
    const token = randomBytes(12).toString('hex');
    sessions.set(token, form.get('user') ?? 'nobody');
    res.writeHead(303, {
      location: '/account',
      'set-cookie': [`session=${token}; Path=/; HttpOnly; SameSite=Lax`, 'theme=dark; Path=/; Max-Age=3600'],
      'content-length': 0,
    });
    res.end();
    return;
  }
  if (path === '/account') {
    const user = sessions.get(cookies(req).get('session') ?? '');
    if (!user) {
      res.writeHead(302, { location: '/login?next=/account', 'content-length': 0 });
      res.end();
      return;
    }
    html(res, 200, page('Account', `<h1>Account</h1><p id="who">Signed in as ${escape(user)}</p><p id="theme">theme: ${escape(cookies(req).get('theme') ?? 'none')}</p><a id="logout" href="/logout">Sign out</a>`));
    return;
  }
  if (path === '/logout') {
    res.writeHead(302, { location: '/login', 'set-cookie': 'session=; Path=/; Max-Age=0', 'content-length': 0 });
    res.end();
    return;
  }
  if (path === '/cookies') {
    send(res, 200, JSON.stringify({ cookie: req.headers.cookie ?? null }), 'application/json');
    return;
  }
  if (path === '/headers') {
    send(res, 200, JSON.stringify(req.headers), 'application/json');
    return;
  }
  if (path.startsWith('/browse/')) {
    // An intranet app with a /browse/ route of its own (Jira has /browse/KEY-1).
    send(res, 200, JSON.stringify({ issue: path.slice('/browse/'.length) }), 'application/json');
    return;
  }
  if (path === '/api/data.json') {
    send(res, 200, JSON.stringify({ items: ['alpha', 'beta', 'gamma'], via: url.searchParams.get('via') ?? 'root' }), 'application/json');
    return;
  }
  if (path === '/api/echo' && req.method === 'POST') {
    const text = await body(req);
    send(res, 200, JSON.stringify({ body: JSON.parse(text).hello, header: req.headers['x-intranet'] ?? null }), 'application/json');
    return;
  }
  if (path === '/static/site.css') {
    send(res, 200, CSS, 'text/css; charset=utf-8');
    return;
  }
  if (path === '/static/logo.png') {
    send(res, 200, LOGO, 'image/png');
    return;
  }
  if (path === '/static/app.js') {
    send(res, 200, APP_JS, 'text/javascript; charset=utf-8');
    return;
  }
  if (path === '/stream') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.write(`<!doctype html><html><head><meta charset="utf-8"><title>Streaming</title></head><body><p id="part1">first part</p>${' '.repeat(2048)}\n`);
    emit({ event: 'stream-waiting' });
    if (!gateOpen) await new Promise<void>((r) => (gate = r));
    gateOpen = false;
    res.end('<p id="part2">second part</p></body></html>\n');
    return;
  }
  if (path === '/release') {
    gateOpen = gate === undefined;
    gate?.();
    gate = undefined;
    send(res, 200, 'released\n', 'text/plain');
    return;
  }
  if (path === '/bench/page') {
    const n = Math.min(200, Math.max(0, Number(url.searchParams.get('n') ?? '30') | 0));
    const tag = url.searchParams.get('tag') ?? '0';
    const parts: string[] = [];
    for (let i = 0; i < n; i++) {
      const kind = i % 3;
      if (kind === 0) parts.push(`<link rel="stylesheet" href="/bench/r/${i}.css?t=${tag}">`);
      else if (kind === 1) parts.push(`<img src="/bench/r/${i}.png?t=${tag}" width="2" height="3" alt="">`);
      else parts.push(`<script src="/bench/r/${i}.js?t=${tag}"></script>`);
    }
    html(res, 200, `<!doctype html><html><head><meta charset="utf-8"><title>Bench ${n}</title></head><body><h1>bench</h1>${parts.join('\n')}</body></html>\n`);
    return;
  }
  if (path.startsWith('/bench/r/')) {
    const name = path.slice('/bench/r/'.length);
    if (name.endsWith('.css')) send(res, 200, `.r${name.replace(/\D/g, '')} { color: rgb(1, 2, 3); }\n/* ${'x'.repeat(2000)} */\n`, 'text/css');
    else if (name.endsWith('.png')) send(res, 200, LOGO, 'image/png');
    else send(res, 200, `window.benchCount = (window.benchCount || 0) + 1; /* ${'y'.repeat(2000)} */\n`, 'text/javascript');
    return;
  }
  html(res, 404, page('Not found', `<h1>Not found</h1><p>${escape(path)}</p>`));
}

function secondSite(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://intranet');
  emit({ event: 'request', site: 'second', method: req.method, path: url.pathname, cookie: req.headers.cookie ?? null, referer: req.headers.referer ?? null });
  if (url.pathname === '/') {
    html(
      res,
      200,
      `<!doctype html><html><head><meta charset="utf-8"><title>Second host</title></head><body><h1>Second intranet host</h1>` +
        `<p>cookies: <span id="cookies">${escape(req.headers.cookie ?? 'none')}</span></p><a id="back" href="${MAIN}/">Back to the main site</a></body></html>\n`,
    );
    return;
  }
  if (url.pathname === '/secret') {
    // What another intranet site must not read (#14 item 3): its page, its storage, its cookies.
    res.setHeader('Set-Cookie', 'second_server=server-secret; Path=/');
    html(
      res,
      200,
      `<!doctype html><html><head><meta charset="utf-8"><title>Second secret</title></head><body><p id="secret">second-host-secret</p>` +
        `<script>localStorage.setItem('second-secret', 'S2'); document.cookie = 'second_js=script-secret; path=/';</script></body></html>\n`,
    );
    return;
  }
  if (url.pathname === '/cors') {
    // Readable by the main site only, as its CORS header says.
    res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': MAIN });
    res.end('{"shared":"with the main site"}\n');
    return;
  }
  html(res, 404, '<!doctype html><title>Not found</title><h1>Not found</h1>\n');
}

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((req, res) => {
      Promise.resolve(handler(req, res)).catch((e: Error) => {
        emit({ event: 'handler-error', message: e.message });
        if (!res.headersSent) html(res, 500, `<h1>error</h1><p>${escape(e.message)}</p>`);
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 30_000;
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: true }, () => resolve(server));
  });
}

try {
  const servers = await Promise.all([
    ...cfg.main.hosts.map((h) => listen(mainSite, h, cfg.main.port)),
    ...cfg.second.hosts.map((h) => listen(secondSite, h, cfg.second.port)),
  ]);
  emit({ event: 'ready', listening: servers.map((s) => s.address() as AddressInfo) });
} catch (e) {
  emit({ event: 'error', message: (e as Error).message });
  process.exit(1);
}
