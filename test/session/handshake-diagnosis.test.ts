/**
 * The likely cause of a handshake without a session, from what the client observed (issue #15
 * item 6): an answer that did not authenticate, a cookie reply, other datagrams, or silence.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnoseHandshake, type HandshakeFacts } from '../../src/session/handshake-diagnosis.ts';

const SILENCE: HandshakeFacts = {
  endpoint: '192.0.2.1:51820',
  attempts: 3,
  elapsedMs: 15_400,
  ourPublicKey: 'OURS',
  peerPublicKey: 'THEIRS',
  datagramsFromEndpoint: 0,
  rejectedResponses: 0,
  cookieReply: false,
  hasPresharedKey: false,
};

test('silence: what to check, with both keys and the endpoint', () => {
  const d = diagnoseHandshake(SILENCE);
  assert.equal(d.cause, 'no-answer');
  assert.equal(
    d.message,
    '3 initiations in 15 s went unanswered, through a relay that works. WireGuard drops what it cannot authenticate without a reply, so check: ' +
      "(1) the peer has this client's public key OURS as a [Peer]; (2) the peer's public key is THEIRS, as this config says; " +
      '(3) WireGuard listens at 192.0.2.1:51820 (address and port); (4) no firewall drops UDP to 192.0.2.1:51820',
  );
});

test('a response that did not authenticate: the PresharedKey (missing here, or different)', () => {
  const missing = diagnoseHandshake({ ...SILENCE, datagramsFromEndpoint: 3, rejectedResponses: 3 });
  assert.equal(missing.cause, 'key-mismatch');
  assert.match(missing.message, /the peer uses a PresharedKey this config lacks/);
  assert.match(diagnoseHandshake({ ...SILENCE, rejectedResponses: 1, hasPresharedKey: true }).message, /the PresharedKey differs between this config and the peer/);
});

test('a cookie reply only: the peer is under load', () => {
  const d = diagnoseHandshake({ ...SILENCE, datagramsFromEndpoint: 1, cookieReply: true });
  assert.equal(d.cause, 'under-load');
  assert.match(d.message, /under load and answered only with a cookie reply \(3 initiations in 15 s\)/);
});

test('datagrams that are no response to us: something else answers there', () => {
  const d = diagnoseHandshake({ ...SILENCE, datagramsFromEndpoint: 2 });
  assert.equal(d.cause, 'key-mismatch');
  assert.match(d.message, /192\.0\.2\.1:51820 sent 2 datagrams back, but no handshake response to us/);
});
