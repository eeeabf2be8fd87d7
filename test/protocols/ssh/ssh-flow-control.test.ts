/**
 * Channel flow control (RFC 4254 §5.2) against a fake server that sends as fast as the window we
 * advertise lets it: the window re-opens only as the consumer drains, so a slow reader holds at
 * most CHANNEL_WINDOW per channel, and a server sending past the window is refused. The same with
 * a real sshd and `cat` of a big file: test/interop/session-ssh.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CHANNEL_WINDOW, SshClient, type SshEvent } from '../../../src/protocols/ssh/ssh-client.ts';
import { SshConnection } from '../../../src/protocols/ssh/ssh-connection.ts';
import { FakeSshServer } from '../../helpers/fake-ssh-server.ts';

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const MiB = 1024 * 1024;

/** Moves bytes both ways until neither side has anything to say. */
function exchange(c: SshClient, s: FakeSshServer): void {
  for (let i = 0; i < 100; i++) {
    const toServer = c.takeOutput();
    if (toServer) s.receive(toServer);
    const toClient = s.takeOutput();
    if (toClient) c.receive(toClient, 0);
    if (!toServer && !toClient) return;
  }
  throw new Error('exchange did not settle');
}

function dataBytes(c: SshClient): number {
  let n = 0;
  for (let e: SshEvent | undefined = c.pollEvent(); e; e = c.pollEvent()) if (e.type === 'channel-data') n += e.data.length;
  return n;
}

function openClient(): { c: SshClient; s: FakeSshServer; channel: number } {
  const s = new FakeSshServer();
  const c = new SshClient({ username: 'root', password: 'pw', checkHostKey: () => {}, random });
  c.start(0);
  exchange(c, s);
  assert.equal(c.state, 'open', c.error?.message);
  const channel = c.openSession();
  exchange(c, s);
  return { c, s, channel };
}

/** Lets timers and promise jobs run until `cond` holds; fails with what it saw after `turns`. */
async function until(what: string, cond: () => boolean, seen: () => unknown, turns = 2000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.fail(`${what}: not reached; saw ${JSON.stringify(seen())}`);
}

/** A few turns of the event loop: enough for anything already queued to have happened. */
async function settle(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 0));
}

describe('SSH channel flow control (RFC 4254 §5.2)', () => {
  test('the server may send one window; nothing more until the consumer drains, then window comes back in quarter-window steps', () => {
    const { c, s, channel } = openClient();
    const ch = s.channels[0]!;
    assert.equal(ch.window, CHANNEL_WINDOW);
    dataBytes(c);
    s.flood(ch, 8 * MiB);
    exchange(c, s);
    assert.equal(dataBytes(c), CHANNEL_WINDOW);
    assert.equal(ch.sent, CHANNEL_WINDOW);
    assert.deepEqual(ch.adjusts, [], 'no window before anything is drained');

    c.consume(channel, CHANNEL_WINDOW / 4 - 1);
    exchange(c, s);
    assert.deepEqual(ch.adjusts, [], 'less than a quarter drained: no adjustment yet');
    c.consume(channel, 1);
    exchange(c, s);
    assert.deepEqual(ch.adjusts, [CHANNEL_WINDOW / 4]);
    assert.equal(dataBytes(c), CHANNEL_WINDOW / 4, 'exactly what was given back arrives');
    assert.equal(ch.sent, CHANNEL_WINDOW + CHANNEL_WINDOW / 4);
  });

  test('data past the advertised window fails the connection with SSH_PROTOCOL', () => {
    const { c, s } = openClient();
    s.ignoreWindow = true;
    s.flood(s.channels[0]!, CHANNEL_WINDOW + 1);
    exchange(c, s);
    assert.equal(c.state, 'failed');
    assert.equal(c.error?.code, 'SSH_PROTOCOL');
    assert.match(c.error!.message, /more channel data than the window allows/);
  });

  test('a paused readable holds at most one window; reading it all gets every byte, in order', async () => {
    const s = new FakeSshServer();
    const conn = await SshConnection.connect(s.connection(), { username: 'root', password: 'pw', checkHostKey: () => {}, random, timeoutMs: 10_000 });
    try {
      const shell = await conn.shell({ pty: false });
      const ch = s.channels[0]!;
      const total = 8 * MiB;
      s.flood(ch, total);
      await until('the server filling the window', () => ch.sent === CHANNEL_WINDOW, () => ch);
      await settle();
      assert.equal(ch.sent, CHANNEL_WINDOW, 'nobody read: the server is held at one window');
      assert.deepEqual(ch.adjusts, []);

      const reader = shell.readable.getReader();
      let got = 0;
      let maxAhead = 0;
      while (got < total) {
        const r = await reader.read();
        assert.equal(r.done, false, `stream ended after ${got} bytes`);
        for (let i = 0; i < r.value!.length; i += 4099) assert.equal(r.value![i], (got + i) & 0xff, `byte ${got + i}`);
        got += r.value!.length;
        maxAhead = Math.max(maxAhead, ch.sent - got);
      }
      assert.equal(got, total);
      assert.ok(maxAhead <= CHANNEL_WINDOW, `sent ahead of the reader: ${maxAhead}`);
      assert.ok(ch.adjusts.length >= 3 && ch.adjusts.every((a) => a >= CHANNEL_WINDOW / 4), JSON.stringify(ch.adjusts));
    } finally {
      conn.close();
    }
  });

  test('onData returning a promise: the window re-opens only when the consumer says the bytes are drained', async () => {
    const s = new FakeSshServer();
    const conn = await SshConnection.connect(s.connection(), { username: 'root', password: 'pw', checkHostKey: () => {}, random, timeoutMs: 10_000 });
    try {
      const shell = await conn.shell({ pty: false });
      const held: (() => void)[] = [];
      let received = 0;
      shell.onData = (d) => {
        received += d.length;
        return new Promise<void>((r) => held.push(r));
      };
      const ch = s.channels[0]!;
      s.flood(ch, 4 * MiB);
      await until('a window of data', () => received === CHANNEL_WINDOW, () => ({ received, sent: ch.sent }));
      await settle();
      assert.equal(ch.sent, CHANNEL_WINDOW);
      assert.deepEqual(ch.adjusts, []);
      // The terminal catches up: window comes back, the rest arrives (each chunk drained at once now).
      shell.onData = () => {};
      for (const r of held.splice(0)) r();
      await until('all 4 MiB', () => ch.sent === 4 * MiB && ch.flooding === 0, () => ch);
      assert.ok(ch.adjusts.length > 0);
    } finally {
      conn.close();
    }
  });
});
