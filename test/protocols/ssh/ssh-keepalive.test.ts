/**
 * Keepalives (OpenSSH's `keepalive@openssh.com` global request, as `ssh -o ServerAliveInterval`
 * sends it) on a fake clock: after 30 s without a byte from the server the client asks for a
 * reply; any byte from the server counts as an answer; three unanswered requests later the
 * connection fails with SSH_PROTOCOL saying the server stopped answering. What keeps a console
 * alive through a relay reconnect (docs/ssh.md) and ends one whose server is gone.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SshClient } from '../../../src/protocols/ssh/ssh-client.ts';
import { ErrorCode } from '../../../src/shared/errors.ts';
import { FakeSshServer } from '../../helpers/fake-ssh-server.ts';

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

/** Moves bytes both ways at `now` until neither side has anything to say. */
function exchange(c: SshClient, s: FakeSshServer, now: number): void {
  for (let i = 0; i < 100; i++) {
    const toServer = c.takeOutput();
    if (toServer) s.receive(toServer);
    const toClient = s.takeOutput();
    if (toClient) c.receive(toClient, now);
    if (!toServer && !toClient) return;
  }
  throw new Error('exchange did not settle');
}

function openClient(options: { keepaliveIntervalMs?: number } = {}): { c: SshClient; s: FakeSshServer } {
  const s = new FakeSshServer();
  const c = new SshClient({ username: 'root', password: 'pw', checkHostKey: () => {}, random, ...options });
  c.start(0);
  exchange(c, s, 0);
  assert.equal(c.state, 'open', c.error?.message);
  return { c, s };
}

describe('SSH keepalives (keepalive@openssh.com) on a fake clock', () => {
  test('after 30 s of silence the client sends keepalive@openssh.com, not before; the answer restarts the 30 s', () => {
    const { c, s } = openClient();
    assert.equal(c.pollAt(), 30_000);
    c.handleTimeout(29_999);
    exchange(c, s, 29_999);
    assert.deepEqual(s.globalRequests, [], 'nothing before 30 s');
    c.handleTimeout(30_000);
    exchange(c, s, 30_040); // the server's REQUEST_FAILURE arrives 40 ms later
    assert.deepEqual(s.globalRequests, ['keepalive@openssh.com']);
    assert.equal(c.stats.keepalivesSent, 1);
    assert.equal(c.pollAt(), 60_040, 'the next one 30 s after the answer');
    assert.equal(c.state, 'open');
  });

  test('any byte from the server counts as an answer: a chatty server gets no keepalives', () => {
    const { c, s } = openClient();
    const channel = c.openSession();
    exchange(c, s, 0);
    for (let now = 20_000; now <= 200_000; now += 20_000) {
      s.flood(s.channels[0]!, 100);
      exchange(c, s, now);
      c.handleTimeout(now);
      exchange(c, s, now);
      c.consume(channel, 100);
    }
    assert.deepEqual(s.globalRequests, []);
    assert.equal(c.state, 'open');
  });

  test('three unanswered keepalives, 30 s apart: at the fourth interval the connection fails with SSH_PROTOCOL', () => {
    const { c, s } = openClient();
    s.answerGlobalRequests = false;
    for (const at of [30_000, 60_000, 90_000]) {
      assert.equal(c.pollAt(), at);
      c.handleTimeout(at);
      exchange(c, s, at);
      assert.equal(c.state, 'open', `still open at ${at} ms`);
    }
    assert.deepEqual(s.globalRequests, ['keepalive@openssh.com', 'keepalive@openssh.com', 'keepalive@openssh.com']);
    assert.equal(c.pollAt(), 120_000);
    c.handleTimeout(120_000);
    assert.equal(c.state, 'failed');
    assert.equal(c.error?.code, ErrorCode.SSH_PROTOCOL);
    assert.match(c.error!.message, /stopped answering \(3 keepalives unanswered over 120 s\)/);
    assert.equal(c.stats.keepalivesSent, 3);
  });

  test('keepaliveIntervalMs: 0 turns them off (only the hourly rekey is due)', () => {
    const { c, s } = openClient({ keepaliveIntervalMs: 0 });
    assert.equal(c.pollAt(), 3_600_000);
    c.handleTimeout(600_000);
    exchange(c, s, 600_000);
    assert.deepEqual(s.globalRequests, []);
    assert.equal(c.state, 'open');
  });
});
