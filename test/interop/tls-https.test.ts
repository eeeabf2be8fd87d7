/**
 * HTTPS through the whole stack: wgweb's Session (TLS client over its own TCP/IP) reaching real
 * `openssl s_server`s inside the wireguard-go namespace, through the real relay.
 *
 *   Session.fetch('https://server.wgweb.test…') ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel TCP ── openssl s_server
 *
 * Certificates are the harness PKI's (root + intermediate + leaf for server.wgweb.test and the
 * tunnel address). Certificate *checking* is covered by the verifier's own suites; here requests
 * run with `insecure: true` unless the trust store is wired.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { TestPki, type TestCert } from '../../harness/test-pki.ts';
import { startOpensslServer, type OpensslServer } from '../../harness/openssl-server.ts';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import type { SessionEvent } from '../../src/session/session-types.ts';
import type { HttpTiming } from '../../src/protocols/http/http-timing.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { digestBody, startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };

describe('HTTPS through the tunnel to openssl s_server behind wireguard-go', { skip: interopSkipReason(['openssl']) }, () => {
  let fx: SessionFixture;
  let pki: TestPki;
  let leaf: TestCert;
  let rsaLeaf: TestCert;
  let rootPem: string;
  let files: string;
  const servers: OpensslServer[] = [];
  const events: SessionEvent[] = [];
  const payload = randomBytes(512 * 1024);

  async function serve(port: number, args: string[], cert: TestCert = leaf): Promise<void> {
    servers.push(await startOpensslServer({ site: fx.peer, host: fx.peer.tunnelAddress4!, port, cert, args, cwd: files }));
  }

  before(async () => {
    pki = await TestPki.create();
    const root = pki.ca('root');
    rootPem = root.certPem;
    const inter = pki.ca('inter', { issuer: root });
    fx = await startSessionFixture({ name: 'tls', servers: ['dns'] });
    leaf = pki.leaf('server', { issuer: inter, dns: ['server.wgweb.test'], ips: [fx.peer.tunnelAddress4!] });
    files = mkdtempSync(join(tmpdir(), 'wgweb-tls-files-'));
    writeFileSync(join(files, 'payload.bin'), payload);
    fx.session.onEvent((e) => events.push(e));
    await serve(443, ['-tls1_3', '-WWW']);
    await serve(8443, ['-tls1_2', '-WWW']);
    await serve(9443, ['-tls1_3', '-groups', 'P-384', '-www']);
    // An old appliance: TLS 1.2 with RSA key exchange only.
    rsaLeaf = pki.leaf('legacy', { issuer: inter, key: 'rsa-2048', dns: ['legacy.wgweb.test', 'server.wgweb.test'] });
    await serve(7443, ['-tls1_2', '-cipher', 'AES128-GCM-SHA256:@SECLEVEL=0', '-www'], rsaLeaf);
  }, SLOW);

  after(async () => {
    for (const s of servers) await s.close();
    await fx?.close();
    await closeAllNamespaces();
    pki?.cleanup();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  for (const [port, version] of [
    [443, 'TLS 1.3'],
    [8443, 'TLS 1.2'],
  ] as const) {
    test(`a 512 KiB download over ${version} arrives intact, by host name (SNI) and by address`, SLOW, async () => {
      for (const host of ['server.wgweb.test', fx.peer.tunnelAddress4!]) {
        const before = events.length;
        const res = await fx.session.fetch(`https://${host}:${port}/payload.bin`, { insecure: true });
        assert.equal(res.status, 200);
        const got = await digestBody(res.body);
        assert.equal(got.length, payload.length);
        assert.equal(got.sha256, createHash('sha256').update(payload).digest('hex'));
        const tls = events.slice(before).filter((e) => e.type.startsWith('tls-'));
        assert.ok(tls.some((e) => e.type === 'tls-client-hello' && (host.includes(':') || /\d$/.test(host) ? /no SNI/ : /SNI server\.wgweb\.test/).test(e.message)), JSON.stringify(tls));
        assert.ok(tls.some((e) => e.type === 'tls-established' && e.message.includes(version)), JSON.stringify(tls));
      }
    });
  }

  test('a server that only accepts P-384 gets it after a HelloRetryRequest', SLOW, async () => {
    const before = events.length;
    const res = await fx.session.fetch('https://server.wgweb.test:9443/', { insecure: true });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /s_server/);
    const tls = events.slice(before);
    assert.ok(tls.some((e) => e.type === 'tls-hello-retry-request'));
    assert.ok(tls.some((e) => e.type === 'tls-established' && /P-384/.test(e.message)));
  });

  test('without trust the certificate is refused (TLS_CERT_UNTRUSTED); after addTrustedCertificate(root CA) the same URL works', SLOW, async () => {
    await assert.rejects(fx.session.fetch('https://server.wgweb.test/payload.bin'), (e: WgwebError) => {
      assert.equal(e.code, ErrorCode.TLS_CERT_UNTRUSTED, e.message);
      return true;
    });
    const added = await fx.session.addTrustedCertificate(rootPem);
    assert.equal(added.length, 1);
    const res = await fx.session.fetch('https://server.wgweb.test/payload.bin');
    assert.equal(res.status, 200);
    assert.equal((await digestBody(res.body)).length, payload.length);
  });

  test('a legacy-only server (RSA key exchange) is refused until legacy TLS is allowed for its host, and its chain is still checked', SLOW, async () => {
    const url = 'https://server.wgweb.test:7443/';
    await assert.rejects(fx.session.fetch(url), (e: WgwebError) => {
      assert.equal(e.code, ErrorCode.TLS_HANDSHAKE_FAILED, e.message);
      assert.match(e.message, /legacy TLS/);
      return true;
    });
    fx.session.allowLegacyTls('server.wgweb.test');
    try {
      const before = events.length;
      // The root CA was trusted by the previous test: a verified chain, no `insecure`.
      let timing: HttpTiming | undefined;
      const res = await fx.session.fetch(url, { onTiming: (t) => (timing = t) });
      assert.equal(res.status, 200);
      assert.match(await res.text(), /s_server/);
      const done = events.slice(before).find((e) => e.type === 'tls-established');
      assert.match(done?.message ?? '', /TLS 1\.2, TLS_RSA_WITH_AES_128_GCM_SHA256/);
      // The connection says it is legacy: a warning in the event log and in the request's timing (the HTTP tool shows it).
      assert.match(done?.message ?? '', /LEGACY TLS: RSA key exchange \(no forward secrecy\)/);
      assert.equal(done?.level, 'warn');
      assert.deepEqual(timing?.tls, { version: 'TLS 1.2', cipherSuite: 'TLS_RSA_WITH_AES_128_GCM_SHA256', legacy: ['RSA key exchange (no forward secrecy)'] });
      // The certificate names no address: by address the chain verifies but the name does not.
      const byAddress = fx.peer.tunnelAddress4!;
      fx.session.allowLegacyTls(byAddress);
      await assert.rejects(fx.session.fetch(`https://${byAddress}:7443/`), (e: WgwebError) => e.code === ErrorCode.TLS_HOSTNAME_MISMATCH);
    } finally {
      fx.session.allowLegacyTls('server.wgweb.test', false);
      fx.session.allowLegacyTls(fx.peer.tunnelAddress4!, false);
    }
  });

  test('legacy TLS allowed in the trust settings (the Certificates tab, wgweb.allowLegacyTls) works the same; a modern server is not marked legacy', SLOW, async () => {
    await fx.session.setTrust({ version: 1, certificates: [rootPem], pins: {}, insecureHosts: [], legacyTlsHosts: ['Server.WGWEB.test'] });
    try {
      let timing: HttpTiming | undefined;
      const res = await fx.session.fetch('https://server.wgweb.test:7443/', { onTiming: (t) => (timing = t) });
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      assert.deepEqual(timing?.tls?.legacy, ['RSA key exchange (no forward secrecy)']);
      const modern = await fx.session.fetch('https://server.wgweb.test:8443/payload.bin', { onTiming: (t) => (timing = t) });
      await modern.arrayBuffer();
      assert.equal(timing?.tls?.version, 'TLS 1.2');
      assert.equal(timing?.tls?.legacy, undefined);
    } finally {
      await fx.session.setTrust({ version: 1, certificates: [rootPem], pins: {}, insecureHosts: [] });
    }
    await assert.rejects(fx.session.fetch('https://server.wgweb.test:7443/'), (e: WgwebError) => e.code === ErrorCode.TLS_HANDSHAKE_FAILED);
  });

  test('the session keeps the TLS secrets in SSLKEYLOGFILE form', () => {
    const lines = fx.session.tlsKeyLogLines();
    assert.ok(lines.some((l) => /^CLIENT_TRAFFIC_SECRET_0 [0-9a-f]{64} [0-9a-f]{64,96}$/.test(l)));
    assert.ok(lines.some((l) => /^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/.test(l)));
  });

  test('https to a port without a server is CONNECTION_REFUSED, as for http', SLOW, async () => {
    await assert.rejects(fx.session.fetch('https://server.wgweb.test:4444/', { insecure: true }), (e: WgwebError) => e.code === ErrorCode.CONNECTION_REFUSED);
  });

  // The CLI runs as the fixture's second client (configFile()); its runs share that client's key.
  test('wgweb fetch --allow-legacy-tls HOST reaches the RSA-key-exchange-only server, warns on stderr, and fails without it', SLOW, async () => {
    const caFile = join(files, 'root.pem');
    writeFileSync(caFile, rootPem);
    const run = async (...args: string[]) => {
      const io = createMemoryIo();
      const code = await main(['fetch', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, '--cacert', caFile, ...args, 'https://server.wgweb.test:7443/'], io);
      return { code, io };
    };
    const refused = await run();
    assert.equal(refused.code, 1, refused.io.stdoutText() + refused.io.stderrText());
    assert.match(refused.io.stderrText(), /legacy TLS/);
    await new Promise((r) => setTimeout(r, 50)); // a new handshake with the same key: past wireguard-go's flood limit
    const allowed = await run('--allow-legacy-tls', 'server.wgweb.test');
    assert.equal(allowed.code, 0, allowed.io.stderrText());
    assert.match(allowed.io.stdoutText(), /s_server/);
    assert.match(allowed.io.stderrText(), /warning: legacy TLS with server\.wgweb\.test: RSA key exchange \(no forward secrecy\)/);
  });
});
