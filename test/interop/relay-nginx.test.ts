/**
 * The shipped nginx configuration (deploy/nginx/wgweb-relays.conf, Debian nginx-light) in front of
 * two real `wgweb relay` processes, on loopback: TLS with a test CA, the WebSocket upgrade,
 * least_conn, /metrics hidden; then the relay carrying a 50 MB download is killed with SIGKILL and
 * the download completes through the other relay (the client knows only nginx's URL).
 *
 *   Session ──wss──▶ nginx 127.0.0.1:P (TLS) ──ws──▶ relay A | relay B ──UDP──▶ wireguard-go (namespace)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { binariesSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, waitFor } from '../../harness/netns.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { startRelayProcess, type RelayProcess } from '../../harness/relay-process.ts';
import { TestPki } from '../../harness/test-pki.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '(no nginx error log)';
  }
}

const CONF = fileURLToPath(new URL('../../deploy/nginx/wgweb-relays.conf', import.meta.url));
const MB = 1024 * 1024;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The shipped config with this test's ports and certificate. */
function renderConfig(relays: RelayProcess[], port: number, cert: string, key: string): string {
  const text = readFileSync(CONF, 'utf8')
    .replace('server 127.0.0.1:8081', `server 127.0.0.1:${relays[0].port}`)
    .replace('server 127.0.0.1:8082', `server 127.0.0.1:${relays[1].port}`)
    .replace('listen 443 ssl;', `listen 127.0.0.1:${port} ssl;`)
    .replace(/\n\s*listen \[::\]:443 ssl;/, '')
    .replace('/etc/ssl/wgweb/fullchain.pem', cert)
    .replace('/etc/ssl/wgweb/privkey.pem', key);
  assert.ok(!/8081|8082|:443|\/etc\/ssl/.test(text.replace(/#.*$/gm, '')), 'every site-specific value was substituted');
  return text;
}

describe('nginx (deploy/nginx/wgweb-relays.conf) in front of two relays', { skip: interopSkipReason(['setpriv']) ?? binariesSkipReason(['nginx', 'openssl'], 'relay-nginx') }, () => {
  let fx: SessionFixture;
  let pki: TestPki;
  let dir: string;
  let relays: RelayProcess[] = [];
  let nginx: ChildProcess | undefined;
  let url: string;
  let Wss: RelayWebSocketConstructor;
  let rootPem: string;

  before(async () => {
    fx = await startSessionFixture({ name: 'nginx', servers: ['http'], session: false });
    pki = await TestPki.create();
    const root = pki.ca('root');
    const leaf = pki.leaf('relay', { issuer: root, dns: ['vpn.example.com'], ips: ['127.0.0.1'] });
    const allow = [formatEndpoint(fx.endpoint)];
    relays = await Promise.all([0, 1].map(() => startRelayProcess({ allow, args: ['--trust-proxy'] })));
    dir = mkdtempSync(join(tmpdir(), 'wgweb-nginx-'));
    mkdirSync(join(dir, 'tmp'));
    const port = await freePort();
    writeFileSync(join(dir, 'relays.conf'), renderConfig(relays, port, leaf.chainFile, leaf.keyFile));
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;\nworker_processes 1;\nuser root;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\n` +
        `events { worker_connections 256; }\n` +
        `http {\n  access_log ${dir}/access.log;\n  client_body_temp_path ${dir}/tmp/body;\n  proxy_temp_path ${dir}/tmp/proxy;\n  include ${dir}/relays.conf;\n}\n`,
    );
    nginx = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'nginx', '-p', `${dir}/`, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
    url = `https://127.0.0.1:${port}/`;
    const ca = root.certPem;
    Wss = class extends WebSocket {
      constructor(u: string, protocols?: string | string[]) {
        super(u, protocols, { ca });
      }
    } as unknown as RelayWebSocketConstructor;
    rootPem = ca;
    await waitFor(
      'nginx to answer',
      async () => {
        try {
          return (await nginxGet('/readyz', ca)) === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: 20_000, context: () => readLog(join(dir, 'error.log')) },
    );
  });
  after(async () => {
    // SIGTERM lets nginx's master stop its worker too (a SIGKILL left the worker running, orphaned).
    if (nginx && nginx.exitCode === null && nginx.signalCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      nginx.kill('SIGKILL');
    }
    await Promise.all(relays.map((r) => r.close()));
    await fx?.close();
    pki?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await closeAllNamespaces();
  });

  async function nginxGet(path: string, ca: string): Promise<number> {
    const https = await import('node:https');
    return new Promise((resolve, reject) => {
      https.get(`${url}${path.slice(1)}`, { ca }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject);
    });
  }

  test('TLS with the test CA: /readyz answers through the proxy, /metrics is not forwarded, another CA is refused', async () => {
    assert.equal(await nginxGet('/readyz', rootPem), 200);
    assert.equal(await nginxGet('/metrics', rootPem), 404);
    const stranger = pki.ca('stranger').certPem;
    await assert.rejects(nginxGet('/readyz', stranger), /certificate/);
  });

  test('SIGKILL of the relay carrying a 50 MB download: it completes through the other, SHA-256 matches', { timeout: 240_000 }, async (t) => {
    const session = await Session.start({ configText: fx.configText, relayUrl: url, WebSocketImpl: Wss });
    t.after(() => session.close());
    await session.waitForHandshake(30_000);
    // The relay's log line travels through a pipe: it may arrive a moment after the handshake.
    let carrying = relays.find((r) => r.stderr().includes('"msg":"session.open"'));
    for (let i = 0; i < 50 && !carrying; i++) {
      await new Promise((r) => setTimeout(r, 100));
      carrying = relays.find((r) => r.stderr().includes('"msg":"session.open"'));
    }
    assert.ok(carrying, 'one relay took the session through nginx');
    const other = relays.find((r) => r !== carrying)!;
    const size = 50 * MB;
    const res = await session.fetch(fx.http.url(`/bytes/${size}?seed=23`));
    assert.equal(res.status, 200);
    const hash = createHash('sha256');
    const reader = res.body!.getReader();
    let length = 0;
    let last = performance.now();
    let stall = 0;
    let killed = false;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const now = performance.now();
      if (killed) stall = Math.max(stall, now - last);
      last = now;
      hash.update(value);
      length += value.length;
      if (!killed && length >= 10 * MB) {
        killed = true;
        carrying.signal('SIGKILL');
      }
    }
    assert.equal(length, size);
    assert.equal(hash.digest('hex'), deterministicSha256(size, 23));
    assert.match(other.stderr(), /"msg":"session.open"/, 'the other relay carried the rest');
    t.diagnostic(`SIGKILL behind nginx: largest stall ${Math.round(stall)} ms after the kill`);
  });
});
