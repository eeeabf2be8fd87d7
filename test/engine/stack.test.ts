/**
 * createStack: one wg-quick config becomes the tunnel and the interface both runtimes drive,
 * with the config's MTU (or wg-quick's 1420) on the tunnel, the interface and TCP alike.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createStack } from '../../src/engine/stack.ts';
import { DEFAULT_MTU, parseWgQuickConfig } from '../../src/shared/wg-quick-config.ts';
import { formatPrefix } from '../../src/shared/ip-address.ts';
import { formatKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';

const priv = generatePrivateKey();
const peerKey = formatKey(publicKeyFromPrivate(generatePrivateKey()));
const config = (extra = ''): string =>
  `[Interface]\nPrivateKey = ${formatKey(priv)}\nAddress = 10.9.0.2/24, fd09::2/64\n${extra}\n[Peer]\nPublicKey = ${peerKey}\nAllowedIPs = 10.9.0.0/24\nEndpoint = 192.0.2.1:51820\n`;

describe('createStack', () => {
  test('the tunnel has the interface key and the interface the configured addresses', () => {
    const { tunnel, net } = createStack(parseWgQuickConfig(config()).config);
    assert.equal(tunnel.publicKey, formatKey(publicKeyFromPrivate(priv)));
    assert.deepEqual(net.addresses.map(formatPrefix), ['10.9.0.2/24', 'fd09::2/64']);
  });

  test('without an MTU line, tunnel and interface use wg-quick\'s 1420', () => {
    const s = createStack(parseWgQuickConfig(config()).config);
    assert.deepEqual([s.mtu, s.tunnel.mtu, s.net.mtu], [DEFAULT_MTU, DEFAULT_MTU, DEFAULT_MTU]);
  });

  test('an MTU line sizes tunnel, interface and TCP alike', () => {
    const s = createStack(parseWgQuickConfig(config('MTU = 1280')).config);
    assert.deepEqual([s.mtu, s.tunnel.mtu, s.net.mtu], [1280, 1280, 1280]);
  });
});
