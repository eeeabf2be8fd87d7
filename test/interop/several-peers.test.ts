/**
 * Two real wireguard-go peers, each in its own namespace, one config with both as [Peer]s, and a
 * relay whose --allow names only the first one's endpoint (issue #11 item 13): the refused peer
 * fails alone, with the relay's reason in the Session status and in `wgweb up`; the other peer's
 * tunnel carries pings (Session and `wgweb ping`) all along.
 *
 *   Session / wgweb ──ws──▶ relay (allow = A) ──UDP──▶ wireguard-go A (namespace): 10.77.X.1
 *                                  ╳ 4001 ──────────▶ wireguard-go B (namespace): never reached
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgClient, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { NodeWebSocket } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };
const escape = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('two wireguard-go peers, the relay refuses the second', { skip: interopSkipReason() }, () => {
  let a: WgGoPeer;
  let b: WgGoPeer;
  let client: WgClient;
  let relay: RelayHandle;
  let config: string;
  let dir: string;
  let file: string;
  before(async () => {
    a = await startWireguardGoPeer({ name: 'twoa', logLevel: 'error' });
    b = await startWireguardGoPeer({ name: 'twob', logLevel: 'error' });
    client = await a.addClient({ address6: null });
    // B knows us too, so only the relay stands between us: its refusal is the one cause.
    await b.addPeer({ publicKey: client.publicKey, allowedIPs: [client.address4!] });
    config = `${client.config}\n[Peer]\nPublicKey = ${b.publicKey}\nAllowedIPs = ${b.tunnelNetworks[0]}\nEndpoint = ${formatEndpoint(b.endpoint)}\n`;
    relay = await startRelay({ port: 0, allow: [formatEndpoint(a.endpoint)], logger: createLogger({ level: 'error' }), demo: false });
    dir = mkdtempSync(join(tmpdir(), 'wgweb-two-peers-'));
    file = join(dir, 'two.conf');
    writeFileSync(file, config, { mode: 0o600 });
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await relay?.close();
    await a?.close();
    await b?.close();
    await closeAllNamespaces();
  });

  test('the Session: peer A up and pingable, peer B down with the relay reason, the tunnel up', SLOW, async () => {
    const session = await Session.start({ configText: config, relayUrl: relay.wsUrl, WebSocketImpl: NodeWebSocket });
    try {
      await session.waitForHandshake(30_000);
      const ok = await session.ping(a.tunnelAddress4!, { count: 3, intervalMs: 100 });
      assert.equal(ok.received, 3);
      const status = session.status();
      assert.equal(status.state, 'up');
      const [pa, pb] = status.peers;
      assert.deepEqual([pa.publicKey, pa.state, pa.problem], [a.publicKey, 'up', undefined]);
      assert.deepEqual([pb.publicKey, pb.state, pb.problem?.code], [b.publicKey, 'down', 'RELAY_REFUSED']);
      assert.match(pb.problem!.message, new RegExp(`${escape(formatEndpoint(b.endpoint))} is not allowed`));
      await assert.rejects(session.ping(b.tunnelAddress4!, { count: 1 }), { code: 'RELAY_REFUSED' });
      assert.equal((await a.show()).peers.find((p) => p.publicKey === client.publicKey)!.latestHandshake > 0, true, 'wireguard-go A saw the handshake');
      assert.equal((await b.show()).peers[0].latestHandshake, 0, 'wireguard-go B never heard from us');
    } finally {
      await session.close();
    }
  });

  test('wgweb up lists A as up and B as down with the reason; exit 1', SLOW, async () => {
    const io = createMemoryIo();
    const code = await main(['up', '--config', file, '--relay', relay.wsUrl], io);
    assert.equal(code, 1, io.stderrText());
    const out = io.stdoutText();
    assert.match(out, new RegExp(`peer: ${escape(a.publicKey)} \\(up\\)`));
    assert.match(out, new RegExp(`peer: ${escape(b.publicKey)} \\(down\\)\\n  endpoint: ${escape(formatEndpoint(b.endpoint))}`));
    assert.match(out, /why not up: The relay at .* has refused this session/);
    assert.match(out, /1 of 2 peers up\./);
  });
});
