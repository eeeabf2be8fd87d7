/**
 * Replays a captured exchange with a real wireguard-go (test/vectors/wireguard/wireguard-go-exchange.json):
 * with the same keys, clock and random bytes our Tunnel must produce the very datagrams that
 * wireguard-go accepted, and must accept and decrypt what wireguard-go sent back.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromHex, toHex } from '../../src/shared/bytes.ts';
import { parsePrefix } from '../../src/shared/ip-address.ts';
import { parseKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';
import { Tunnel, type TunnelResult } from '../../src/wireguard/tunnel.ts';
import type { RandomBytes } from '../../src/shared/bytes.ts';

const vector = JSON.parse(readFileSync(new URL('../vectors/wireguard/wireguard-go-exchange.json', import.meta.url), 'utf8'));

function replayRandom(recorded: string[]): RandomBytes {
  let i = 0;
  return (n) => {
    assert.ok(i < recorded.length, `more randomness requested than recorded (call ${i + 1})`);
    const b = fromHex(recorded[i++]);
    assert.equal(b.length, n, `random call ${i} asked for ${n} bytes, the capture had ${b.length}`);
    return b;
  };
}

for (const role of ['initiator', 'responder'] as const) {
  describe(`wireguard-go exchange: wgweb as ${role}`, () => {
    const side = vector[role];
    test('the recorded keys belong together', () => {
      assert.equal(publicKeyFromPrivate(parseKey(side.privateKey)).join(), parseKey(side.publicKey).join());
      assert.equal(publicKeyFromPrivate(parseKey(vector.wireguardGo.privateKey)).join(), parseKey(vector.wireguardGo.publicKey).join());
    });

    test('replaying the capture reproduces our datagrams and decrypts wireguard-go’s', () => {
      const tunnel = new Tunnel(
        {
          privateKey: parseKey(side.privateKey),
          peers: [
            {
              publicKey: parseKey(vector.wireguardGo.publicKey),
              presharedKey: side.presharedKey ? parseKey(side.presharedKey) : undefined,
              endpoint: side.peerEndpoint ?? undefined,
              allowedIPs: side.peerAllowedIPs.map(parsePrefix),
            },
          ],
        },
        { randomBytes: replayRandom(side.random), wallClockOffsetMs: side.wallClockOffsetMs },
      );
      for (const [i, step] of side.steps.entries()) {
        let r: TunnelResult;
        if (step.call === 'connect') r = tunnel.connect(step.now);
        else if (step.call === 'sendPacket') r = tunnel.sendPacket(fromHex(step.input), step.now);
        else r = tunnel.receiveDatagram(fromHex(step.input), step.from, step.now);
        assert.deepEqual(r.datagrams.map((d) => toHex(d.data)), step.datagrams, `step ${i + 1} (${step.call}) datagrams`);
        assert.deepEqual(r.packets.map((p) => toHex(p.data)), step.packets, `step ${i + 1} (${step.call}) packets`);
        assert.deepEqual(r.events.map((e) => e.type), step.events, `step ${i + 1} (${step.call}) events`);
      }
      const drops = Object.entries(tunnel.stats().drops).filter(([, n]) => n > 0);
      assert.deepEqual(drops, []);
      assert.equal(tunnel.stats().peers[0].session, 'established');
    });
  });
}
