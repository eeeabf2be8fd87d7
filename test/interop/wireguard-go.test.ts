/**
 * wgweb's WireGuard against a real wireguard-go, both directions:
 *
 *   wgweb Session ──WebSocket──▶ relay ──UDP──▶ wireguard-go (own namespace) ──▶ Linux ICMP
 *   wireguard-go ──UDP──▶ wgweb UdpPeer (root namespace, veth address) ──▶ wgweb ICMP echo
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { Session } from '../../src/session/session.ts';
import type { RelayWebSocketConstructor } from '../../src/engine/relay-transport.ts';
import { UdpPeer } from '../../src/node/udp-peer.ts';
import { parseWgQuickConfig } from '../../src/shared/wg-quick-config.ts';
import { formatKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { createLogger } from '../../src/node/relay/log.ts';

const skip = interopSkipReason();
const quietLogger = createLogger({ level: 'error', write: () => {} });
const WS = WebSocket as unknown as RelayWebSocketConstructor;

async function relayFor(peer: WgGoPeer): Promise<RelayHandle> {
  return startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint), formatEndpoint(peer.endpointV6)], logger: quietLogger });
}

describe('wgweb and a real wireguard-go', { skip }, () => {
  after(() => closeAllNamespaces());

  for (const withPsk of [false, true]) {
    test(`completes a handshake through the relay and pings IPv4 and IPv6 tunnel addresses (${withPsk ? 'with' : 'without'} PresharedKey)`, async (t) => {
      const peer = await startWireguardGoPeer({ name: withPsk ? 'psk' : 'nopsk' });
      t.after(() => peer.close());
      const relay = await relayFor(peer);
      t.after(() => relay.close());
      const client = await peer.addClient({ presharedKey: withPsk ? true : undefined });
      if (withPsk) assert.match(client.config, /PresharedKey = /);

      const session = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
      t.after(() => session.close());
      await session.waitForHandshake(15_000);

      const v4 = await session.ping(peer.tunnelAddress4!, { count: 3, intervalMs: 100 });
      assert.equal(v4.received, 3, 'every IPv4 echo request is answered by the Linux kernel behind wireguard-go');
      const v6 = await session.ping(peer.tunnelAddress6!, { count: 3, intervalMs: 100 });
      assert.equal(v6.received, 3, 'every IPv6 echo request is answered too');

      const seen = (await peer.show()).peers.find((p) => p.publicKey === client.publicKey);
      assert.ok(seen?.latestHandshake, 'wireguard-go records the handshake with our key');
      assert.ok((seen?.rxBytes ?? 0) > 0, 'wireguard-go received our data');
    });
  }

  test('the peer roams: the tunnel keeps working when the relay session is replaced', async (t) => {
    const peer = await startWireguardGoPeer({ name: 'roam' });
    t.after(() => peer.close());
    let relay = await relayFor(peer);
    const port = relay.port;
    const client = await peer.addClient();
    const session = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
    t.after(() => session.close());
    await session.waitForHandshake(15_000);
    assert.equal((await session.ping(peer.tunnelAddress4!, { count: 1 })).received, 1);

    await relay.close();
    relay = await startRelay({ port, allow: [formatEndpoint(peer.endpoint)], logger: quietLogger });
    t.after(() => relay.close());
    // The relay's new UDP socket has a new source port; wireguard-go learns it from our next
    // authenticated packet (roaming, WireGuard paper §2.1) without a new handshake.
    const again = await session.ping(peer.tunnelAddress4!, { count: 5, intervalMs: 300, timeoutMs: 3000 });
    assert.ok(again.received >= 1, 'pings succeed again after the relay restart');
  });

  test('wgweb ping prints replies and a ping-style summary and exits 0', async (t) => {
    const peer = await startWireguardGoPeer({ name: 'cli' });
    t.after(() => peer.close());
    const relay = await relayFor(peer);
    t.after(() => relay.close());
    const client = await peer.addClient();
    const dir = mkdtempSync(join(tmpdir(), 'wgweb-ping-'));
    const file = join(dir, 'wg0.conf');
    writeFileSync(file, client.config, { mode: 0o600 });

    const io = createMemoryIo();
    const code = await main(['ping', '--config', file, '--relay', relay.wsUrl, '-c', '2', '-i', '0.2', peer.tunnelAddress4!], io);
    assert.equal(code, 0, io.stderrText());
    assert.match(io.stdoutText(), /bytes from 10\.77\.\d+\.1: icmp_seq=1 ttl=64 time=/);
    assert.match(io.stdoutText(), /2 packets transmitted, 2 received, 0% packet loss/);
  });

  test('a wrong peer PublicKey ends in a clear handshake error after the retries', async (t) => {
    const peer = await startWireguardGoPeer({ name: 'badkey' });
    t.after(() => peer.close());
    const relay = await relayFor(peer);
    t.after(() => relay.close());
    const client = await peer.addClient();
    const wrong = formatKey(publicKeyFromPrivate(generatePrivateKey()));
    const config = client.config.replace(/PublicKey = .*/, `PublicKey = ${wrong}`);
    const session = await Session.start({ configText: config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
    t.after(() => session.close());
    await assert.rejects(session.waitForHandshake(6_000), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'HANDSHAKE_TIMEOUT');
      assert.match(e.message, /no handshake response from 10\.201\.\d+\.\d+:51820: \d+ initiations in \d+ s went unanswered, through a relay that works\. .*the peer's public key is /);
      return true;
    });
  });

  test('the relay refuses an endpoint that is not allowed, and the client says so', async (t) => {
    const peer = await startWireguardGoPeer({ name: 'deny' });
    t.after(() => peer.close());
    const relay = await startRelay({ port: 0, allow: ['127.0.0.1:9'], logger: quietLogger });
    t.after(() => relay.close());
    const client = await peer.addClient();
    // The relay completes the WebSocket upgrade and then closes with 4001 and a reason, so that a
    // browser can show why; the refusal surfaces from start() or from waitForHandshake().
    const attempt = async (): Promise<void> => {
      const session = await Session.start({ configText: client.config, relayUrl: relay.wsUrl, WebSocketImpl: WS });
      t.after(() => session.close());
      await session.waitForHandshake(10_000);
    };
    await assert.rejects(attempt(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'RELAY_REFUSED');
      assert.match(e.message, /not allowed/i);
      return true;
    });
  });

  test('wireguard-go initiates to wgweb listening on UDP, and pings its tunnel addresses', async (t) => {
    const peer = await startWireguardGoPeer({ name: 'rev' });
    t.after(() => peer.close());
    // wgweb as the listening side, on the root end of the namespace's veth.
    const ourPrivate = generatePrivateKey();
    const ourPublic = formatKey(publicKeyFromPrivate(ourPrivate));
    const n = /10\.77\.(\d+)\./.exec(peer.tunnelAddress4!)![1];
    const v6net = peer.tunnelAddress6!.replace(/::1$/, '::');
    const ours4 = `10.77.${n}.200`;
    const ours6 = `${v6net}c8`;
    const config = parseWgQuickConfig(
      [
        '[Interface]',
        `PrivateKey = ${formatKey(ourPrivate)}`,
        `Address = ${ours4}/24, ${ours6}/64`,
        '[Peer]',
        `PublicKey = ${peer.publicKey}`,
        `AllowedIPs = ${peer.tunnelAddress4}/32, ${peer.tunnelAddress6}/128`,
      ].join('\n'),
    ).config;
    const listener = await UdpPeer.start({ config, host: peer.ns.rootAddress4, port: 0 });
    t.after(() => listener.close());

    await peer.addPeer({
      publicKey: ourPublic,
      allowedIPs: [`${ours4}/32`, `${ours6}/128`],
      endpoint: { host: peer.ns.rootAddress4, port: listener.port },
    });
    const ping4 = await peer.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '3', ours4], { check: false, timeoutMs: 20_000 });
    assert.equal(ping4.code, 0, `ping ${ours4} from the namespace: ${ping4.stdout}${ping4.stderr}`);
    assert.match(ping4.stdout, /3 received/);
    const ping6 = await peer.ns.exec('ping', ['-6', '-c', '3', '-i', '0.2', '-W', '3', ours6], { check: false, timeoutMs: 20_000 });
    assert.equal(ping6.code, 0, `ping ${ours6} from the namespace: ${ping6.stdout}${ping6.stderr}`);

    const stats = listener.loop.tunnel.stats();
    assert.equal(stats.peers[0].session, 'established', 'wgweb completed the handshake as responder');
  });
});
