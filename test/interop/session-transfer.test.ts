/**
 * Bulk and many-connection transfers: wgweb's userspace TCP (in this process, behind the Session)
 * against the Linux kernel's TCP in a wireguard-go namespace, through the real relay.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel TCP ── HTTP server (harness/servers)
 *
 * Every body is hashed as it streams and compared with the SHA-256 the server computed, so a
 * single lost, duplicated or reordered byte fails the test.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, waitFor } from '../../harness/netns.ts';
import { deterministicChunks, deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { HttpClient } from '../../src/protocols/http/http-client.ts';
import { digestBody, startSessionFixture, streamOf, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 240_000 };
const MB = 1024 * 1024;

describe('Session transfers through the relay and wireguard-go, against the kernel TCP', { skip: interopSkipReason() }, () => {
  let fx: SessionFixture;
  before(async () => {
    fx = await startSessionFixture({ name: 'xfer', servers: ['http'] });
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  test('a 100 MB download arrives whole: the SHA-256 of the streamed body matches the server', SLOW, async () => {
    const size = 100 * MB;
    const res = await fx.session.fetch(fx.http.url(`/bytes/${size}?seed=100`));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(size));
    const got = await digestBody(res.body);
    assert.equal(got.length, size);
    assert.equal(got.sha256, res.headers.get('x-sha256'));
    assert.equal(got.sha256, deterministicSha256(size, 100));
  });

  test('a 20 MB upload streamed as the request body reaches the server whole (its SHA-256 matches)', SLOW, async () => {
    const size = 20 * MB;
    const res = await fx.session.fetch(fx.http.url('/upload'), {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: streamOf(deterministicChunks(size, 7)),
    });
    assert.equal(res.status, 200);
    const report = (await res.json()) as { length: number; sha256: string };
    assert.equal(report.length, size);
    assert.equal(report.sha256, deterministicSha256(size, 7));
  });

  test('100 concurrent requests over the keep-alive pool all get their own, correct body', SLOW, async () => {
    const sizes = Array.from({ length: 100 }, (_, i) => 1 + i * 4099);
    const results = await Promise.all(
      sizes.map(async (size, i) => {
        const res = await fx.session.fetch(fx.http.url(`/bytes/${size}?seed=${1000 + i}`));
        assert.equal(res.status, 200);
        return digestBody(res.body);
      }),
    );
    results.forEach((got, i) => {
      assert.equal(got.length, sizes[i], `request ${i}: length`);
      assert.equal(got.sha256, deterministicSha256(sizes[i], 1000 + i), `request ${i}: body`);
    });
  });

  test('100 requests on 100 simultaneous TCP connections (no pool limit) all get correct bodies', SLOW, async () => {
    const http = new HttpClient({ dialer: fx.session.dialer, maxConnectionsPerOrigin: 100 });
    try {
      const before = fx.http.events().filter((e) => e.event === 'request').length;
      const size = 256 * 1024 + 17;
      const results = await Promise.all(
        Array.from({ length: 100 }, async (_, i) => {
          const res = await http.fetch(fx.http.url(`/bytes/${size}?seed=${2000 + i}`));
          assert.equal(res.status, 200);
          return digestBody(res.body);
        }),
      );
      results.forEach((got, i) => {
        assert.equal(got.length, size, `connection ${i}: length`);
        assert.equal(got.sha256, deterministicSha256(size, 2000 + i), `connection ${i}: body`);
      });
      // The server reports requests on its stdout, which may trail the responses a little.
      const requests = await waitFor('the server to report 100 requests', () => {
        const r = fx.http.events().filter((e) => e.event === 'request').slice(before);
        return r.length >= 100 && r;
      });
      const ports = new Set(requests.map((e) => e.remotePort));
      assert.ok(ports.size > 6, `the server saw many client ports at once (${ports.size}), not one pooled connection`);
    } finally {
      http.close();
    }
  });

  test('a reader that stops for a while lets the window close; the transfer resumes and completes intact', SLOW, async () => {
    // While nothing is read, the socket's receive buffer fills and our advertised window drops to
    // zero; the kernel sender then probes the zero window (RFC 9293 §3.8.6.1) until reads reopen it.
    const size = 8 * MB;
    const res = await fx.session.fetch(fx.http.url(`/bytes/${size}?seed=12`));
    const reader = res.body!.getReader();
    const h = createHash('sha256');
    let length = 0;
    let paused = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      h.update(value);
      length += value.length;
      if (paused < 2 && length > (paused + 1) * 2 * MB) {
        paused++;
        await new Promise((r) => setTimeout(r, 1500));
      }
    }
    assert.equal(paused, 2);
    assert.equal(length, size);
    assert.equal(h.digest('hex'), deterministicSha256(size, 12));
  });

  test('a download aborted half-way rejects the body read with ABORTED, and the next request on the session works', SLOW, async () => {
    const controller = new AbortController();
    const res = await fx.session.fetch(fx.http.url(`/bytes/${50 * MB}?seed=13`), { signal: controller.signal });
    const reader = res.body!.getReader();
    let length = 0;
    let failure: unknown;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        length += value.length;
        if (length > 2 * MB) controller.abort();
      }
    } catch (e) {
      failure = e;
    }
    assert.ok(length < 50 * MB, 'the body did not run to its end');
    assert.equal((failure as { code?: string })?.code, 'ABORTED', String(failure));
    const next = await fx.session.fetch(fx.http.url('/bytes/100000?seed=14'));
    assert.equal((await digestBody(next.body)).sha256, deterministicSha256(100_000, 14));
  });

  test('IPv6 inside the tunnel: http://[fd77:…::1]/ serves the same bytes, and the server sees the client IPv6 address', SLOW, async () => {
    const size = 5 * MB + 3;
    const url = fx.http.url(`/bytes/${size}?seed=6`, 6);
    assert.match(url, /^http:\/\/\[fd77:[0-9a-f]+::1\]\//);
    const res = await fx.session.fetch(url);
    const got = await digestBody(res.body);
    assert.equal(got.length, size);
    assert.equal(got.sha256, deterministicSha256(size, 6));
    const path = `/bytes/${size}?seed=6`;
    const seen = await waitFor(`the server to report ${path}`, () => fx.http.events().find((e) => e.event === 'request' && e.path === path));
    assert.equal(seen.remoteAddress, fx.client.address6!.replace(/\/128$/, ''));
  });

  test('a chunked response (Transfer-Encoding: chunked) is decoded to the exact bytes', SLOW, async () => {
    const size = 3 * MB + 5;
    const res = await fx.session.fetch(fx.http.url(`/chunked/${size}?seed=8`));
    const got = await digestBody(res.body);
    assert.equal(got.length, size);
    assert.equal(got.sha256, deterministicSha256(size, 8));
  });
});
