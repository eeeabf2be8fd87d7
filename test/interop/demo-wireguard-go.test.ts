/**
 * The demo peer as a server for Linux: a real wireguard-go in a namespace is an ordinary client of
 * the demo peer (config from DemoPeer.register), and the kernel's own tools reach the demo's
 * services through the kernel's TCP/IP and the wg interface.
 *
 *   curl / ping / dig / node (namespace) ──▶ kernel TCP/IP ──▶ wireguard-go ──UDP──▶
 *       DemoPeer (root namespace, bound to the veth address) ──▶ wgweb Tunnel ──▶ wgweb TCP/UDP/ICMP
 *
 * This proves wgweb as WireGuard responder and wgweb's TCP as the server side against Linux.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { deterministicBytes, deterministicSha256, sha256Hex } from '../../harness/deterministic-bytes.ts';
import { DemoPeer, type DemoClientConfig } from '../../src/node/demo/demo-peer.ts';
import { parseWgQuickConfig } from '../../src/shared/wg-quick-config.ts';
import { formatIp } from '../../src/shared/ip-address.ts';

const skip = interopSkipReason(['curl', 'ping', 'dig']);

describe('the demo peer serving a real wireguard-go client (Linux TCP/IP on the other side)', { skip }, () => {
  let wg: WgGoPeer;
  let demo: DemoPeer;
  let client: DemoClientConfig;
  let tmp: string;
  const a4 = '10.44.0.1';
  const a6 = 'fd44::1';

  const curl = async (args: readonly string[], timeoutMs = 30_000) => {
    const r = await wg.ns.exec('curl', ['--silent', '--show-error', '--max-time', String(timeoutMs / 1000 - 1), ...args], { timeoutMs, check: false });
    assert.equal(r.code, 0, `curl ${args.join(' ')} failed (${r.code}): ${r.stderr}\nwireguard-go:\n${wg.logs(10)}`);
    return r;
  };
  /** Runs a Node script inside the namespace (the kernel's TCP as the client). */
  const nodeInNs = (script: string, timeoutMs = 30_000) => wg.ns.exec(process.execPath, ['-e', script], { timeoutMs });

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'wgweb-demo-'));
    // wireguard-go first: the demo peer binds to the namespace's root-side veth address.
    wg = await startWireguardGoPeer({ name: 'demo', address4: null, address6: null, logLevel: 'error' });
    demo = await DemoPeer.start({ host: wg.ns.rootAddress4, port: 0 });
    client = demo.register('interop');
    const cfg = parseWgQuickConfig(client.config).config;
    assert.equal(cfg.peers[0].endpoint?.host, wg.ns.rootAddress4, 'the config names the address the demo peer is bound to');
    // Make wireguard-go the client the config describes: its key, its addresses, its one peer.
    const keyFile = join(tmp, 'client.key');
    writeFileSync(keyFile, client.privateKey + '\n', { mode: 0o600 });
    await wg.wg(['set', wg.ifname, 'private-key', keyFile]);
    await wg.ns.exec('ip', ['addr', 'add', client.address4, 'dev', wg.ifname]);
    await wg.ns.exec('ip', ['-6', 'addr', 'add', client.address6, 'dev', wg.ifname, 'nodad']);
    await wg.addPeer({
      publicKey: client.peerPublicKey,
      allowedIPs: cfg.peers[0].allowedIPs.map((p) => `${formatIp(p.address)}/${p.prefixLength}`),
      endpoint: client.endpoint,
      persistentKeepalive: 25,
    });
  });

  after(async () => {
    await demo?.close();
    await wg?.close();
    await closeAllNamespaces();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('ping reaches the demo peer on IPv4 and IPv6, and the demo peer answered the handshake as responder', async () => {
    const p4 = await wg.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '5', a4], { check: false, timeoutMs: 30_000 });
    assert.equal(p4.code, 0, `ping ${a4}: ${p4.stdout}${p4.stderr}`);
    assert.match(p4.stdout, /3 received/);
    const p6 = await wg.ns.exec('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '5', a6], { check: false, timeoutMs: 30_000 });
    assert.equal(p6.code, 0, `ping ${a6}: ${p6.stdout}${p6.stderr}`);
    const row = demo.peer.loop.tunnel.stats().peers.find((p) => p.publicKey === client.publicKey);
    assert.equal(row?.session, 'established');
    assert.ok(row?.latestHandshakeAt !== undefined);
    const seen = await wg.waitForHandshake(client.peerPublicKey);
    assert.ok(seen.latestHandshake > 0, 'wireguard-go records the handshake with the demo peer');
  });

  test('curl gets the welcome page, and a second request reuses the connection (keep-alive)', async () => {
    const page = await curl([`http://${a4}/`, '-D', '-']);
    assert.match(page.stdout, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(page.stdout, /content-type: text\/html; charset=utf-8/i);
    assert.match(page.stdout, /set-cookie: demo_visits=1;/i);
    assert.match(page.stdout, /You made it through the tunnel/);
    assert.match(page.stdout, new RegExp(client.address4.split('/')[0].replace(/\./g, '\\.')), 'the page names the visitor');
    // Two URLs in one curl: the second goes over the same connection, so it is request 2.
    const two = await curl([`http://${a4}/api/time`, `http://${a4}/api/whoami`]);
    const whoami = JSON.parse(two.stdout.slice(two.stdout.indexOf('}') + 1));
    assert.equal(whoami.request.sequence, 2, 'the second request came over the kept-alive connection');
    assert.equal(whoami.you.publicKey, client.publicKey);
    assert.equal(whoami.handshake.session, 'established');
    const paths = ['/path', '/handshake', '/services', '/guestbook', '/style.css', '/logo.svg', '/nope'];
    const pages = await curl(['-w', '%{http_code} ', ...paths.flatMap((p) => ['-o', '/dev/null', `http://${a4}${p}`])]);
    assert.equal(pages.stdout.trim(), '200 200 200 200 200 200 404');
  });

  test('the same site over IPv6', async () => {
    const page = await curl([`http://[${a6}]/handshake`]);
    assert.match(page.stdout, /Your handshake/);
    assert.match(page.stdout, new RegExp(client.publicKey.replace(/[+/]/g, '.')));
  });

  test('/bytes/N: 4 MiB arrive intact, matching the x-sha256 header and the shared definition of the bytes', async () => {
    const n = 4 * 1024 * 1024;
    const dir = mkdtempSync(join(tmp, 'dl-'));
    await curl([`http://${a4}/bytes/${n}?seed=7`, '-D', join(dir, 'h'), '-o', join(dir, 'b')], 120_000);
    const head = (await wg.ns.exec('cat', [join(dir, 'h')])).stdout;
    const body = (await wg.ns.exec('cat', [join(dir, 'b')], { maxStdoutBytes: n + 1 })).stdoutBytes;
    assert.match(head, new RegExp(`content-length: ${n}`, 'i'));
    const sha = /x-sha256: ([0-9a-f]{64})/i.exec(head)?.[1];
    assert.equal(body.length, n);
    assert.equal(sha256Hex(body), sha);
    assert.equal(sha, deterministicSha256(n, 7), 'the demo serves the same bytes as the test servers');
  });

  test('/chunked/N arrives intact with chunked transfer coding', async () => {
    const n = 1_500_000;
    const r = await curl([`http://${a4}/chunked/${n}`, '-D', join(tmp, 'ch')], 60_000);
    const head = (await wg.ns.exec('cat', [join(tmp, 'ch')])).stdout;
    assert.match(head, /transfer-encoding: chunked/i);
    assert.equal(r.stdoutBytes.length, n);
    assert.equal(sha256Hex(r.stdoutBytes), deterministicSha256(n, 1));
  });

  test('POST /upload: a 3 MB body with Content-Length, then chunked, is hashed on arrival', async () => {
    const data = deterministicBytes(3_000_000, 3);
    const file = join(tmp, 'up.bin');
    writeFileSync(file, data);
    const expected = sha256Hex(data);
    const plain = await curl(['--data-binary', `@${file}`, '-H', 'Content-Type: application/octet-stream', `http://${a4}/upload`], 120_000);
    assert.deepEqual(pick(JSON.parse(plain.stdout)), { length: data.length, sha256: expected });
    const chunked = await curl(['--data-binary', `@${file}`, '-H', 'Transfer-Encoding: chunked', `http://${a4}/upload`], 120_000);
    assert.deepEqual(pick(JSON.parse(chunked.stdout)), { length: data.length, sha256: expected });
  });

  test('the guestbook: a form POST, a cookie and a 303 redirect followed by curl', async () => {
    const jar = join(tmp, 'jar');
    const r = await curl(['-L', '-c', jar, '-b', jar, '--data-urlencode', 'name=Linux <kernel>', '--data-urlencode', 'message=hello from wireguard-go', `http://${a4}/guestbook`]);
    assert.match(r.stdout, /Thanks, Linux &lt;kernel&gt;!/, 'the name is escaped, never markup');
    assert.match(r.stdout, /hello from wireguard-go/);
    const cookies = (await wg.ns.exec('cat', [jar])).stdout;
    assert.match(cookies, /demo_name\tLinux%20%3Ckernel%3E/);
  });

  test('DNS over UDP and TCP: A, AAAA, CNAME, whoami and NXDOMAIN', async () => {
    const dig = async (...args: string[]) => (await wg.ns.exec('dig', [`@${a4}`, '+tries=2', '+time=3', ...args], { timeoutMs: 20_000 })).stdout;
    assert.equal((await dig('+short', 'intranet.demo', 'A')).trim(), a4);
    assert.equal((await dig('+short', 'intranet.demo', 'AAAA')).trim(), a6);
    assert.equal((await dig('+short', '+tcp', 'intranet.demo', 'AAAA')).trim(), a6, 'the same over TCP (our TCP server, Linux client)');
    assert.deepEqual((await dig('+short', 'www.intranet.demo', 'A')).trim().split('\n'), ['intranet.demo.', a4]);
    assert.equal((await dig('+short', 'whoami.intranet.demo', 'A')).trim(), client.address4.split('/')[0]);
    const nx = await dig('nope.intranet.demo', 'A');
    assert.match(nx, /status: NXDOMAIN/);
    assert.match(nx, /flags: qr aa/);
    assert.match(nx, /SOA/);
  });

  test('TCP echo returns 1 MB byte for byte and discard takes 1 MB, with the kernel as the client', async () => {
    const script = (port: number) => `
      const net = require('node:net'); const crypto = require('node:crypto');
      const data = crypto.createHash('sha256').update('x').digest(); const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < big.length; i++) big[i] = data[i % 32] ^ (i >> 8);
      const s = net.connect(${port}, '${a4}', () => s.end(big));
      const h = crypto.createHash('sha256'); let n = 0;
      s.on('data', (d) => { h.update(d); n += d.length; });
      s.on('end', () => { console.log(JSON.stringify({ n, sha: h.digest('hex'), want: crypto.createHash('sha256').update(big).digest('hex') })); });
      s.on('error', (e) => { console.error(e.message); process.exit(1); });`;
    const echo = JSON.parse((await nodeInNs(script(7), 60_000)).stdout);
    assert.equal(echo.n, 1 << 20);
    assert.equal(echo.sha, echo.want);
    const discard = JSON.parse((await nodeInNs(script(9), 60_000)).stdout);
    assert.equal(discard.n, 0, 'discard sends nothing back and closes after our FIN');
  });

  test('garbage on port 80 gets a 400 and a closed connection; the server keeps serving', async () => {
    const script = `
      const s = require('node:net').connect(80, '${a4}', () => s.write('HELLO THERE\\r\\n\\r\\n'));
      let out = ''; s.on('data', (d) => out += d); s.on('end', () => console.log(out)); s.on('error', (e) => { console.error(e.message); process.exit(1); });`;
    const r = await nodeInNs(script);
    assert.match(r.stdout, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.match(r.stdout, /Connection: close/);
    const again = await curl(['-o', '/dev/null', '-w', '%{http_code}', `http://${a4}/api/time`]);
    assert.equal(again.stdout, '200');
    assert.ok(demo.http.stats().badRequests >= 1);
  });
});

function pick(v: { length: number; sha256: string }): { length: number; sha256: string } {
  return { length: v.length, sha256: v.sha256 };
}
