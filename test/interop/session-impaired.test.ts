/**
 * wgweb's TCP recovers from a bad path: an impairment hop between the relay and wireguard-go drops,
 * duplicates and reorders the encrypted datagrams (seeded, so a failure replays), and a download
 * must still arrive byte for byte against the kernel's TCP on the far side.
 *
 *   Session ──ws──▶ relay ──UDP──▶ hop (127.0.0.1: 3% loss, 1% duplication, 2% reordering, each way)
 *                                   ──UDP──▶ wireguard-go ── kernel TCP ── HTTP server
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { deterministicChunks, deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { digestBody, startSessionFixture, streamOf } from './session-fixture.ts';

const SLOW = { timeout: 300_000 };
const MB = 1024 * 1024;

describe('Session through a lossy, duplicating, reordering path', { skip: interopSkipReason() }, () => {
  after(closeAllNamespaces);

  test('a 20 MB download completes with a matching SHA-256 despite 3% loss, 1% duplication and reordering', SLOW, async (t) => {
    const fx = await startSessionFixture({
      name: 'lossy',
      servers: ['http'],
      hop: { seed: 20, loss: 0.03, duplicate: 0.01, reorder: 0.02 },
    });
    t.after(() => fx.close());
    const size = 20 * MB;
    const res = await fx.session.fetch(fx.http.url(`/bytes/${size}?seed=33`), { timeoutMs: 240_000 });
    assert.equal(res.status, 200);
    const got = await digestBody(res.body);
    assert.equal(got.length, size);
    assert.equal(got.sha256, deterministicSha256(size, 33));

    const s = fx.hop!.stats();
    const both = (k: 'lost' | 'duplicated' | 'reordered'): number => s.toTarget[k] + s.toClient[k];
    assert.ok(both('lost') > 100, `the hop dropped datagrams: ${JSON.stringify(s)}`);
    assert.ok(both('duplicated') > 10, 'the hop duplicated datagrams');
    assert.ok(both('reordered') > 10, 'the hop reordered datagrams');
  });

  test('a 4 MB streamed upload through the same kind of path reaches the server whole', SLOW, async (t) => {
    const fx = await startSessionFixture({
      name: 'lossyup',
      servers: ['http'],
      hop: { seed: 21, loss: 0.03, duplicate: 0.01, reorder: 0.02 },
    });
    t.after(() => fx.close());
    const size = 4 * MB;
    const res = await fx.session.fetch(fx.http.url('/upload'), { method: 'POST', body: streamOf(deterministicChunks(size, 44)), timeoutMs: 240_000 });
    const report = (await res.json()) as { length: number; sha256: string };
    assert.equal(report.length, size);
    assert.equal(report.sha256, deterministicSha256(size, 44));
    assert.ok(fx.hop!.stats().toTarget.lost > 0, 'data segments were lost on the way and retransmitted');
  });
});
