/**
 * Relays in production: two real `wgweb relay` processes, a Session that knows both, and a 50 MB
 * download from a wireguard-go peer's kernel TCP that must survive the relay in use draining
 * (SIGTERM) or dying (SIGKILL) mid-way.
 *
 *   Session ──ws──▶ relay A (process) ──UDP──┐
 *           └─ws─▶ relay B (process) ──UDP──┴─▶ wireguard-go (namespace) ── HTTP /bytes/N
 *
 * Asserted: the download completes with the right length and SHA-256, through the other relay.
 * Reported, not asserted (the machine is shared): the largest gap between two body chunks.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { startRelayProcess, type RelayProcess } from '../../harness/relay-process.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { Session } from '../../src/session/session.ts';
import { NodeWebSocket, startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 240_000 };
const MB = 1024 * 1024;

/** Downloads `size` bytes; calls `midway` once `at` bytes arrived; returns digest and the largest gap. */
async function download(session: Session, url: string, size: number, at: number, midway: () => void) {
  const res = await session.fetch(url);
  assert.equal(res.status, 200);
  const hash = createHash('sha256');
  const reader = res.body!.getReader();
  let length = 0;
  let last = performance.now();
  let maxGapMs = 0;
  let fired = false;
  let gapAfterMove = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const t = performance.now();
    const gap = t - last;
    maxGapMs = Math.max(maxGapMs, gap);
    if (fired) gapAfterMove = Math.max(gapAfterMove, gap);
    last = t;
    hash.update(value);
    length += value.length;
    if (!fired && length >= at) {
      fired = true;
      midway();
    }
  }
  assert.ok(fired, 'the relay was stopped during the download');
  return { length, sha256: hash.digest('hex'), maxGapMs, gapAfterMove, expected: res.headers.get('x-sha256') };
}

describe('a download survives the relay in use draining or dying (two relay processes)', { skip: interopSkipReason(['setpriv']) }, () => {
  let fx: SessionFixture;
  before(async () => {
    fx = await startSessionFixture({ name: 'fover', servers: ['http'], session: false });
  });
  after(async () => {
    await fx?.close();
    await closeAllNamespaces();
  });

  async function run(t: TestContext, sig: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const allow = [formatEndpoint(fx.endpoint)];
    const relays: RelayProcess[] = await Promise.all([startRelayProcess({ allow, args: ['--drain-timeout', '10'] }), startRelayProcess({ allow })]);
    t.after(() => Promise.all(relays.map((r) => r.close())));
    const session = await Session.start({ configText: fx.configText, relayUrl: relays.map((r) => r.wsUrl), WebSocketImpl: NodeWebSocket });
    t.after(() => session.close());
    await session.waitForHandshake(30_000);
    const inUse = relays.find((r) => session.currentRelayUrl().startsWith(r.wsUrl));
    assert.ok(inUse, `the session uses one of the relays (${session.currentRelayUrl()})`);
    const other = relays.find((r) => r !== inUse)!;
    const size = 50 * MB;
    const got = await download(session, fx.http.url(`/bytes/${size}?seed=17`), size, 10 * MB, () => inUse.signal(sig));
    assert.equal(got.length, size);
    assert.equal(got.sha256, got.expected);
    assert.equal(got.sha256, deterministicSha256(size, 17));
    assert.ok(session.currentRelayUrl().startsWith(other.wsUrl), 'the download finished through the other relay');
    const exit = await inUse.exited;
    if (sig === 'SIGTERM') {
      assert.deepEqual(exit, { code: 0, signal: null }, 'the drained relay exited cleanly');
      assert.match(inUse.stderr(), /"msg":"relay.draining"/);
      assert.match(inUse.stderr(), /"msg":"relay.drained","activeSessions":0/);
    } else assert.equal(exit.signal, 'SIGKILL');
    const moves = (session.diagnostics().relay as { relayMoves: number }[])[0].relayMoves;
    t.diagnostic(`${sig}: largest stall ${Math.round(got.gapAfterMove)} ms after the stop (whole download: ${Math.round(got.maxGapMs)} ms); relay moves ${moves}`);
  }

  test('SIGTERM (drain, 1012) during a 50 MB download: completes on the second relay, SHA-256 matches', SLOW, (t) => run(t, 'SIGTERM'));
  test('SIGKILL (crash) during a 50 MB download: completes on the second relay, SHA-256 matches', SLOW, (t) => run(t, 'SIGKILL'));
});
