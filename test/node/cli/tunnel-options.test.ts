/**
 * The network commands' guard (guardTunnelCommand, issue #11 item 11) on a fake clock: the relay
 * watchdog ends a command once the relay has failed for RELAY_GIVE_UP_MS (30 s) and not a second
 * earlier, starts over when the relay recovers in between, and --deadline ends it with TIMEOUT.
 * node:test's mock timers drive setInterval/setTimeout/Date, so no test waits 30 s. The session is
 * a stand-in whose relayProblem() reports, like Session's, how many seconds the relay has failed.
 */
import { afterEach, beforeEach, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';
import { guardTunnelCommand, RELAY_GIVE_UP_MS } from '../../../src/node/cli/tunnel-options.ts';
import type { Session } from '../../../src/session/session.ts';

/** A session whose relay fails from `failingSince` (ms epoch) on, until `recover()`. */
class RelayFailingSession {
  failingSince: number | undefined;
  closed = false;
  fail(at = Date.now()): void {
    this.failingSince = at;
  }
  recover(): void {
    this.failingSince = undefined;
  }
  relayProblem(at = Date.now()): WgwebError | undefined {
    if (this.failingSince === undefined) return undefined;
    const seconds = Math.round((at - this.failingSince) / 1000);
    return new WgwebError(ErrorCode.RELAY_REFUSED, `The relay has refused this session (${seconds} s)`, { seconds });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** Lets promise callbacks run between clock ticks. */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/** Starts a guarded command whose body never ends by itself; returns how it settled (so far). */
function startHangingCommand(session: RelayFailingSession, deadlineS: number) {
  const io = createMemoryIo();
  let bodySignal: AbortSignal | undefined;
  const outcome: { code?: number; error?: WgwebError } = {};
  void guardTunnelCommand('ping', { verbose: false }, io, deadlineS, async (guarded, track) => {
    bodySignal = guarded.signal;
    track(session as unknown as Session);
    await new Promise(() => {});
    return 0;
  }).then(
    (code) => (outcome.code = code),
    (e: WgwebError) => (outcome.error = e),
  );
  return { outcome, signal: () => bodySignal };
}

beforeEach(() => mock.timers.enable({ apis: ['setInterval', 'setTimeout', 'Date'], now: 1_000_000 }));
afterEach(() => mock.timers.reset());

test('the watchdog ends a command when the relay has failed for 30 s, not a second earlier', async () => {
  assert.equal(RELAY_GIVE_UP_MS, 30_000);
  const session = new RelayFailingSession();
  const run = startHangingCommand(session, 0);
  await flush();
  session.fail();
  mock.timers.tick(29_000);
  await flush();
  assert.deepEqual(run.outcome, {}, 'still running after 29 s of relay failure');
  assert.equal(run.signal()?.aborted, false);
  mock.timers.tick(1_000);
  await flush();
  assert.equal(run.outcome.error?.code, ErrorCode.RELAY_REFUSED, 'ended with the relay\'s own error');
  assert.match(run.outcome.error!.message, /refused this session \(30 s\)/);
  assert.equal(run.signal()?.aborted, true, 'the body\'s signal aborts so it can stop its work');
  await flush();
  assert.equal(session.closed, true, 'the session is closed on the way out');
});

test('a relay that recovers in between starts the 30 s over', async () => {
  const session = new RelayFailingSession();
  const run = startHangingCommand(session, 0);
  await flush();
  session.fail();
  mock.timers.tick(20_000);
  session.recover();
  mock.timers.tick(5_000);
  session.fail();
  mock.timers.tick(25_000);
  await flush();
  assert.deepEqual(run.outcome, {}, '50 s in, but only 25 s of the current failure');
  mock.timers.tick(5_000);
  await flush();
  assert.equal(run.outcome.error?.code, ErrorCode.RELAY_REFUSED);
});

test('--deadline ends a command with TIMEOUT while the relay is fine, and names the relay when it is not', async () => {
  const fine = startHangingCommand(new RelayFailingSession(), 12);
  await flush();
  mock.timers.tick(11_999);
  await flush();
  assert.deepEqual(fine.outcome, {});
  mock.timers.tick(1);
  await flush();
  assert.equal(fine.outcome.error?.code, ErrorCode.TIMEOUT);
  assert.match(fine.outcome.error!.message, /gave up after the --deadline of 12 s/);

  const failing = new RelayFailingSession();
  const troubled = startHangingCommand(failing, 12);
  await flush();
  failing.fail();
  mock.timers.tick(12_000);
  await flush();
  assert.equal(troubled.outcome.error?.code, ErrorCode.RELAY_REFUSED, 'at the deadline the relay is named as the cause');
});
