/**
 * HTTPS through the whole stack against nginx (Debian nginx-light), a production TLS/HTTP server,
 * in the wireguard-go namespace:
 *
 *   Session.fetch('https://server.wgweb.test…') ──ws──▶ relay ──UDP──▶ wireguard-go ── nginx :443 (TLS 1.3) / :8443 (TLS 1.2)
 *
 * Certificates are checked for real: the harness CA (root → intermediate → leaf, nginx sends the
 * intermediate) is trusted through Session.addTrustedCertificate. Each TLS version: a large body
 * intact, several requests over one kept-alive TLS connection, a gzip body nginx sends chunked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { TestPki } from '../../harness/test-pki.ts';
import { startNginxTls, type NginxTlsServer } from '../../harness/nginx-tls.ts';
import type { HttpTiming } from '../../src/protocols/http/http-client.ts';
import type { SessionEvent } from '../../src/session/session-types.ts';
import { digestBody, startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 180_000 };

describe('HTTPS through the tunnel to nginx behind wireguard-go', { skip: interopSkipReason(['openssl', 'nginx']) }, () => {
  let fx: SessionFixture;
  let pki: TestPki;
  let nginx: NginxTlsServer;
  const events: SessionEvent[] = [];
  const big = randomBytes(4 * 1024 * 1024);
  // Compressible, so nginx gzips it (and, not knowing the compressed length, sends it chunked).
  const text = Buffer.from('wgweb through nginx\n'.repeat(20_000));

  before(async () => {
    pki = await TestPki.create();
    const root = pki.ca('nginx-root', { cn: 'Nginx Test Root' });
    const inter = pki.ca('nginx-inter', { issuer: root, cn: 'Nginx Test Intermediate' });
    fx = await startSessionFixture({ name: 'tlsngx', servers: ['dns'] });
    const leaf = pki.leaf('nginx-leaf', { issuer: inter, key: 'ec-p256', dns: ['server.wgweb.test'] });
    nginx = await startNginxTls(fx.peer, { cert: leaf, files: { 'big.bin': big, 'text.bin': text, 'small.txt': 'hello from nginx\n' } });
    await fx.session.addTrustedCertificate(root.certPem);
    fx.session.onEvent((e) => events.push(e));
  }, SLOW);

  after(async () => {
    await nginx?.close();
    await fx?.close();
    await closeAllNamespaces();
    pki?.cleanup();
  });

  for (const [version, key] of [
    ['TLS 1.3', 'tls13'],
    ['TLS 1.2', 'tls12'],
  ] as const) {
    const base = (): string => `https://server.wgweb.test:${nginx.ports[key]}`;

    test(`${version}: a 4 MiB file arrives intact through a verified chain with an intermediate`, SLOW, async () => {
      const before = events.length;
      const res = await fx.session.fetch(`${base()}/big.bin`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('server')?.startsWith('nginx'), true);
      const got = await digestBody(res.body);
      assert.equal(got.length, big.length);
      assert.equal(got.sha256, createHash('sha256').update(big).digest('hex'));
      const tls = events.slice(before).filter((e) => e.type === 'tls-established');
      assert.ok(tls.some((e) => e.message.includes(version)), JSON.stringify(tls));
    });

    test(`${version}: several requests share one kept-alive TLS connection`, SLOW, async () => {
      const timings: HttpTiming[] = [];
      for (let i = 0; i < 4; i++) {
        const res = await fx.session.fetch(`${base()}/small.txt`, { onTiming: (t) => timings.push(t) });
        assert.equal(await res.text(), 'hello from nginx\n');
      }
      assert.equal(timings.length, 4);
      assert.deepEqual(timings.slice(1).map((t) => t.reusedConnection), [true, true, true], JSON.stringify(timings.map((t) => t.reusedConnection)));
    });

    test(`${version}: a gzip body sent chunked is de-chunked and decoded to the file`, SLOW, async () => {
      let head: { headers: [string, string][] } | undefined;
      const res = await fx.session.fetch(`${base()}/text.bin`, { onResponseHead: (h) => (head = h) });
      const raw = new Map(head!.headers.map(([n, v]) => [n.toLowerCase(), v]));
      assert.equal(raw.get('transfer-encoding'), 'chunked');
      assert.equal(raw.get('content-encoding'), 'gzip');
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(body.length, text.length);
      assert.ok(body.equals(text));
      assert.ok(gzipSync(text).length < text.length / 10, 'the file compresses, so nginx really did gzip it');
    });
  }
});
