/**
 * Session.start checks a config as `wgweb` checks a file (issue #18 item 6): every problem in one
 * CONFIG_INVALID, the interface's own public key as a peer key included, before any relay is tried.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../src/session/session.ts';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import { toBase64 } from '../../src/shared/bytes.ts';
import { generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';

const priv = generatePrivateKey();
const own = toBase64(publicKeyFromPrivate(priv));

test('a config whose [Peer] holds the interface\'s own public key is refused with every problem named, and no relay is contacted', async () => {
  let relayTried = false;
  const WebSocketImpl = function () {
    relayTried = true;
    throw new Error('no relay in this test');
  } as never;
  const configText = `[Interface]\nPrivateKey = ${toBase64(priv)}\nAddress = 10.0.0.2/33\n\n[Peer]\nPublicKey = ${own}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.0.0.0/24\n`;
  await assert.rejects(Session.start({ configText, relayUrl: 'ws://127.0.0.1:9/', WebSocketImpl }), (e: unknown) => {
    assert.ok(e instanceof WgwebError);
    assert.equal(e.code, ErrorCode.CONFIG_INVALID);
    assert.match(e.message, /^2 problems:\n {2}line 3: Address .* bad prefix length/);
    assert.match(e.message, /\n {2}line 6: PublicKey is this interface's own public key/);
    return true;
  });
  assert.equal(relayTried, false);
});
