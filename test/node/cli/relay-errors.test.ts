/**
 * Network commands name the real cause when the relay is full or gone, and never hang (issue #11
 * item 11): real `ws` servers on loopback play a full relay (accepts, then closes with 4003), a relay
 * that accepts and never forwards, and a closed port.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { main } from '../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';

const KEY_A = Buffer.alloc(32, 7).toString('base64');
const KEY_B = Buffer.alloc(32, 9).toString('base64');

async function wgweb(argv: string[]) {
  const io = createMemoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

/** A loopback `ws` server that treats each relay session as `onSession` says. */
async function startServer(onSession: (ws: import('ws').WebSocket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (p) => [...p][0] ?? false });
  wss.on('connection', onSession);
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const { port } = wss.address() as { port: number };
  return {
    url: `ws://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  };
}

/** A loopback port with nothing listening (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('network commands when the relay fails', () => {
  let dir: string;
  let config: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-relay-errors-'));
    config = join(dir, 'wg0.conf');
    writeFileSync(
      config,
      `[Interface]\nPrivateKey = ${KEY_A}\nAddress = 10.77.0.2/32\n\n[Peer]\nPublicKey = ${KEY_B}\nEndpoint = 127.0.0.1:51999\nAllowedIPs = 10.77.0.0/24\n`,
      { mode: 0o600 },
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('dns through a full relay (4003) says the relay is full, with its URL, not the handshake hint', async () => {
    const relay = await startServer((ws) => ws.close(4003, 'relay is full (1 sessions)'));
    try {
      const r = await wgweb(['dns', '--config', config, '--relay', relay.url, '--handshake-timeout', '2', '--json', 'example.test']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /relay at ws:\/\/127\.0\.0\.1:\d+\/wg is full/);
      assert.match(r.stderr, /since \d\d:\d\d:\d\d UTC/);
      assert.doesNotMatch(r.stderr, /PublicKey, Endpoint and firewall/);
      assert.match(r.stdout, /"code": ?"RELAY_FULL"/);
    } finally {
      await relay.close();
    }
  });

  test('ping against a closed relay port says the relay cannot be reached (RELAY_UNREACHABLE)', async () => {
    const port = await closedPort();
    const r = await wgweb(['ping', '--config', config, '--relay', `ws://127.0.0.1:${port}`, '10.77.0.1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`relay at ws://127\\.0\\.0\\.1:${port}`));
    assert.match(r.stderr, /Cannot connect to the relay/);
  });

  test('fetch through a relay that never forwards ends by itself at --deadline with exit 1', async () => {
    const relay = await startServer(() => {});
    try {
      const r = await wgweb(['fetch', '--config', config, '--relay', relay.url, '--handshake-timeout', '60', '--deadline', '1', 'http://10.77.0.1/']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /fetch: gave up after the --deadline of 1 s/);
    } finally {
      await relay.close();
    }
  });

  test('every network command documents --deadline in its --help', async () => {
    for (const command of ['ping', 'fetch', 'dns', 'tcping']) {
      const r = await wgweb([command, '--help']);
      assert.match(r.stdout, /--deadline SECONDS/, command);
    }
  });
});
