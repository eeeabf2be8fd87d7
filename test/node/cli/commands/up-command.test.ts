/**
 * `wgweb up` says which peers are up and why the others are not (issue #11 item 13): a config with
 * two [Peer]s, a relay whose --allow names only the first one's endpoint. Real parts on loopback: a
 * DemoPeer (wgweb's own WireGuard peer) and the relay; `main()` runs in-process with a memory CliIo.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoPeer } from '../../../../src/node/demo/demo-peer.ts';
import { startRelay, type RelayHandle } from '../../../../src/node/relay/main.ts';
import { silentLogger } from '../../../../src/node/relay/log.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { formatStatus } from '../../../../src/node/cli/commands/up-command.ts';
import type { TunnelStatus } from '../../../../src/session/session-types.ts';
import { formatEndpoint } from '../../../../src/shared/ip-address.ts';

const OTHER_KEY = Buffer.alloc(32, 5).toString('base64');
const REFUSED = '127.0.0.1:9';

async function wgweb(argv: string[]) {
  const io = createMemoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('wgweb up with two peers, one refused by the relay', () => {
  let demo: DemoPeer;
  let relay: RelayHandle;
  let dir: string;
  let twoPeers: string;
  let onePeer: string;
  let demoKey: string;
  before(async () => {
    demo = await DemoPeer.start({ sweepIntervalMs: 0 });
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] });
    dir = mkdtempSync(join(tmpdir(), 'wgweb-up-'));
    const reg = demo.register('up-test');
    demoKey = /\[Peer\]\s*PublicKey = (\S+)/.exec(reg.config)![1];
    onePeer = join(dir, 'one.conf');
    writeFileSync(onePeer, reg.config, { mode: 0o600 });
    twoPeers = join(dir, 'two.conf');
    writeFileSync(twoPeers, `${reg.config}\n[Peer]\nPublicKey = ${OTHER_KEY}\nEndpoint = ${REFUSED}\nAllowedIPs = 10.99.0.0/24\n`, { mode: 0o600 });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await relay?.close();
    await demo?.close();
  });

  test('prints each peer with its state, the relay reason for the refused one, and exits 1', async () => {
    const r = await wgweb(['up', '--config', twoPeers, '--relay', relay.wsUrl]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, new RegExp(`peer: ${demoKey.replace(/[+/]/g, '\\$&')} \\(up\\)\\n  endpoint: ${formatEndpoint(demo.endpoint)}`));
    assert.match(r.stdout, new RegExp(`peer: ${OTHER_KEY.replace(/[+/]/g, '\\$&')} \\(down\\)\\n  endpoint: ${REFUSED}\\n  allowed ips: 10\\.99\\.0\\.0/24\\n`));
    assert.match(r.stdout, /why not up: The relay at ws:\/\/127\.0\.0\.1:\d+\/wg has refused this session .*not allowed/i);
    assert.match(r.stdout, /\n1 of 2 peers up\.\n$/);
  });

  test('--json gives the same per-peer states and reasons', async () => {
    const r = await wgweb(['up', '--config', twoPeers, '--relay', relay.wsUrl, '--json']);
    assert.equal(r.code, 1, r.stderr);
    const status = JSON.parse(r.stdout) as TunnelStatus;
    assert.equal(status.state, 'up');
    assert.deepEqual(status.peers.map((p) => [p.state, p.problem?.code]), [['up', undefined], ['down', 'RELAY_REFUSED']]);
  });

  test('a config whose peers all come up exits 0', async () => {
    const r = await wgweb(['up', '--config', onePeer, '--relay', relay.wsUrl]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(up\)\n[\s\S]*\n1 of 1 peer up\.\n$/);
  });

  test('ping through the working peer succeeds; ping to the refused peer fails at once with the reason', async () => {
    const ok = await wgweb(['ping', '--config', twoPeers, '--relay', relay.wsUrl, '-c', '1', '10.44.0.1']);
    assert.equal(ok.code, 0, ok.stderr);
    const refused = await wgweb(['ping', '--config', twoPeers, '--relay', relay.wsUrl, '-c', '1', '10.99.0.1']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`cannot ping 10\\.99\\.0\\.1: it is routed to peer .*\\(${REFUSED}\\), which is down\\. The relay .* has refused this session`));
  });
});

test('formatStatus explains a peer that is still handshaking', () => {
  const text = formatStatus(
    {
      state: 'handshaking',
      relay: { url: 'ws://r/wg', state: 'open' },
      interface: { publicKey: 'K', addresses: ['10.0.0.2/32'] },
      peers: [{ publicKey: 'P', endpoint: '192.0.2.1:51820', allowedIPs: ['10.0.0.0/24'], rxBytes: 0, txBytes: 148, state: 'handshaking', relayState: 'open' }],
    },
    0,
  );
  assert.match(text, /peer: P \(handshaking\)\n  endpoint: 192\.0\.2\.1:51820\n  allowed ips: 10\.0\.0\.0\/24\n  transfer: 0 B received, 148 B sent\n  why not up: no handshake answer yet/);
  assert.match(text, /0 of 1 peer up\.\n$/);
});

test('formatStatus shows the relay RTT, every relay of the list and the history of moves, as the status card does', () => {
  const at = Date.UTC(2026, 11, 7, 12, 0, 0);
  const text = formatStatus(
    {
      state: 'up',
      relay: {
        url: 'ws://b:8081/wg',
        state: 'open',
        rttMs: 4.2,
        relays: [
          { url: 'ws://a:8080/wg', rttMs: 3.1, failures: 1 },
          { url: 'ws://b:8081/wg', rttMs: 4.2, failures: 0 },
        ],
        history: [
          { at, url: 'ws://a:8080/wg', reason: 'start', of: 2, rttMs: 3.1 },
          { at: at + 65_000, url: 'ws://b:8081/wg', reason: 'drained', closeCode: 1012, from: 'ws://a:8080/wg', rttMs: 4.2 },
        ],
      },
      interface: { publicKey: 'K', addresses: ['10.0.0.2/32'] },
      peers: [],
    },
    at,
  );
  assert.match(text, /  relay: ws:\/\/b:8081\/wg \(open\)\n    rtt: ≈ 2\.1 ms \(WebSocket opened in 4\.2 ms, 2 round trips\)\n/);
  assert.match(text, /    relay a:8080: opened in 3\.1 ms, 1 failed\n    relay b:8081: opened in 4\.2 ms \(in use\)\n/);
  assert.match(text, /    history \(oldest first\):\n      12:00:00 UTC  a:8080  fastest of 2 relays, opened in 3\.1 ms\n      12:01:05 UTC  b:8081  a:8080 drained \(1012 service restart\); moved here, opened in 4\.2 ms\n/);
});

test('formatStatus leaves the history out while the first relay still carries the session', () => {
  const text = formatStatus(
    {
      state: 'up',
      relay: { url: 'ws://a/wg', state: 'open', history: [{ at: 1, url: 'ws://a/wg', reason: 'start' }] },
      interface: { publicKey: 'K', addresses: [] },
      peers: [],
    },
    0,
  );
  assert.doesNotMatch(text, /history/);
});
