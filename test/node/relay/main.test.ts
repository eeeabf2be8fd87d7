/**
 * `wgweb relay` as a command: argument errors in-process through the CLI's main (usage errors exit
 * 2 with the same wording as every command), and a real spawned `node bin/wgweb.js relay` that
 * serves, forwards and shuts down cleanly on SIGTERM and SIGINT.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildRelayUrl, RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import { main } from '../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';
import { markerOf, sendBinary, testRelay, transportMessage, udpPeer, waitUntil, wsClient } from './relay-fixtures.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Runs `wgweb relay ARGS` in memory (only for runs that return on their own). */
async function runCaptured(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = createMemoryIo();
  const code = await main(['relay', ...args], io);
  return { code, out: io.stdoutText(), err: io.stderrText() };
}

describe('wgweb relay arguments', () => {
  test('--help prints the usage and exits 0', async () => {
    const r = await runCaptured(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^Usage: wgweb relay \[options\]\n/);
    assert.match(r.out, /--allow RULE/);
    assert.match(r.out, /HOSTNAME\[:PORT\]/, 'the rule grammar');
  });

  const bad: [string[], RegExp][] = [
    [['--allow', '10.0.0.0/33'], /--allow 10\.0\.0\.0\/33: "\/33" is not a prefix length/],
    [['--allow', 'bad host:1'], /not a valid host name/],
    [['--listen', 'nowhere'], /--listen nowhere: write host:port/],
    [['--listen', '127.0.0.1:99999'], /not a port/],
    [['--listen', '::1:8080'], /brackets/],
    [['--max-sessions', '0'], /--max-sessions must be a whole number of at least 1/],
    [['--max-pps', 'lots'], /--max-pps must be a whole number/],
    [['--idle-timeout', 'soon'], /--idle-timeout must be a duration/],
    [['--max-message', '100'], /at least 148/],
    [['--max-message', '70000'], /1 to 65535/],
    [['--log-level', 'chatty'], /--log-level must be/],
    [['--static', '/nonexistent/wgweb'], /no such directory/],
    [['--bogus'], /unknown option --bogus/],
    [['extra'], /unexpected argument "extra"/],
  ];
  for (const [args, re] of bad) {
    test(`${args.join(' ')} → exit 2 with a message`, async () => {
      const r = await runCaptured(args);
      assert.equal(r.code, 2);
      assert.match(r.err, re);
      assert.match(r.err, /^wgweb: relay: /);
      assert.match(r.err, /Try 'wgweb relay --help'\.\n$/);
    });
  }

  test('a port in use → exit 1 naming the address', async () => {
    const other = await testRelay();
    const r = await runCaptured(['--listen', `127.0.0.1:${other.port}`, '--log-level', 'silent']);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${other.port}: the address is already in use`));
    await other.close();
  });
});

/** Spawns `node bin/wgweb.js relay ARGS` and waits for its URL on stdout. */
async function spawnRelay(args: string[]) {
  const child = spawn(process.execPath, ['bin/wgweb.js', 'relay', '--listen', '127.0.0.1:0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  try {
    await waitUntil(() => /listening on (http:\/\/\S+)/.test(out) || child.exitCode !== null, 'the relay to start', 60_000);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const m = /listening on (http:\/\/\S+) \(WebSocket (ws:\/\/\S+)\)/.exec(out);
  assert.ok(m, `startup line on stdout; stderr: ${err}`);
  return { child, url: m[1], exited, stderr: () => err, stdout: () => out };
}

describe('a spawned `wgweb relay`', () => {
  test('forwards, then drains on SIGTERM: sessions get 1012 (move), exit code 0 once they are gone', async () => {
    const peer = await udpPeer(4);
    const relay = await spawnRelay(['--allow', `127.0.0.1:${peer.port}`]);
    try {
      const page = await fetch(`${relay.url}healthz`);
      assert.equal(page.status, 200);
      const c = wsClient(buildRelayUrl(relay.url, `127.0.0.1:${peer.port}`));
      await c.opened;
      await sendBinary(c.ws, transportMessage(148, 5));
      await waitUntil(() => peer.received.some((r) => markerOf(r.data) === 5), 'a datagram through the spawned relay');

      relay.child.kill('SIGTERM');
      const closed = await c.closed;
      assert.equal(closed.code, RelayCloseCode.SERVICE_RESTART);
      const { code, signal } = await relay.exited;
      assert.equal(signal, null);
      assert.equal(code, 0, relay.stderr());
      const events = relay
        .stderr()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { msg: string; signal?: string });
      assert.deepEqual(
        events.map((e) => e.msg).filter((m) => m.startsWith('relay.')),
        ['relay.listening', 'relay.shutdown', 'relay.draining', 'relay.drained', 'relay.stopped'],
      );
      assert.equal(events.find((e) => e.msg === 'relay.shutdown')?.signal, 'SIGTERM');
    } finally {
      if (relay.child.exitCode === null) relay.child.kill('SIGKILL');
      await peer.close();
    }
  });

  test('without --allow it warns that every session will be refused, and SIGINT also exits 0', async () => {
    // --no-demo: the built-in demo peer (on by default on loopback) would add its own rule.
    const relay = await spawnRelay(['--no-demo']);
    try {
      await waitUntil(() => relay.stderr().includes('relay.no_allow_rules'), 'the warning');
      assert.match(relay.stderr(), /every session will be refused/);
      const c = wsClient(buildRelayUrl(relay.url, '127.0.0.1:51820'));
      assert.equal((await c.closed).code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
      relay.child.kill('SIGINT');
      const { code } = await relay.exited;
      assert.equal(code, 0, relay.stderr());
    } finally {
      if (relay.child.exitCode === null) relay.child.kill('SIGKILL');
    }
  });
});
