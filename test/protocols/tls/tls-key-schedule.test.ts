/**
 * The key schedule against RFC 8448 §3 ("Simple 1-RTT Handshake"): the trace's X25519 keys give
 * its shared secret, and every secret, key and IV down to the application traffic secrets matches.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { NamedGroup } from '../../../src/protocols/tls/tls-constants.ts';
import { generateKeyShare } from '../../../src/protocols/tls/tls-key-exchange.ts';
import { Tls13KeySchedule, hkdfExpandLabel, trafficKeys, tls12Prf, nextTrafficSecret } from '../../../src/protocols/tls/tls-key-schedule.ts';

// RFC 8448 §3 values.
const CLIENT_PRIVATE = '49af42ba7f7994852d713ef2784bcbcaa7911de26adc5642cb634540e7ea5005';
const SERVER_PUBLIC = 'c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f';
const SHARED = '8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d';
const EARLY = '33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a';
const HELLO_HASH = '860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8';
const C_HS = 'b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21';
const S_HS = 'b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38';

describe('TLS 1.3 key schedule (RFC 8448 §3)', () => {
  test("the trace's X25519 key pair agrees on the trace's shared secret", () => {
    const share = generateKeyShare(NamedGroup.x25519, fromHex(CLIENT_PRIVATE));
    assert.equal(toHex(share.agree(fromHex(SERVER_PUBLIC))), SHARED);
  });

  test('early secret, handshake traffic secrets, keys and IVs match the trace', () => {
    const ks = new Tls13KeySchedule(sha256);
    assert.equal(toHex(ks.earlySecret), EARLY);
    ks.enterHandshake(fromHex(SHARED));
    assert.equal(toHex(ks.derive('c hs traffic', fromHex(HELLO_HASH))), C_HS);
    assert.equal(toHex(ks.derive('s hs traffic', fromHex(HELLO_HASH))), S_HS);
    const server = trafficKeys(sha256, fromHex(S_HS), 16, 12);
    assert.equal(toHex(server.key), '3fce516009c21727d0f2e4e86ee403bc');
    assert.equal(toHex(server.iv), '5d313eb2671276ee13000b30');
    const client = trafficKeys(sha256, fromHex(C_HS), 16, 12);
    assert.equal(toHex(client.key), 'dbfaa693d1762c5b666af5d950258d01');
    assert.equal(toHex(client.iv), '5bd3c71b836e0b76bb73265f');
  });

  test("the server's finished_key matches the trace", () => {
    assert.equal(toHex(hkdfExpandLabel(sha256, fromHex(S_HS), 'finished', new Uint8Array(0), 32)), '008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8');
  });

  test('a KeyUpdate moves a traffic secret to a different one each time (RFC 8446 §7.2)', () => {
    const s1 = nextTrafficSecret(sha256, fromHex(C_HS));
    const s2 = nextTrafficSecret(sha256, s1);
    assert.notEqual(toHex(s1), C_HS);
    assert.notEqual(toHex(s2), toHex(s1));
    assert.deepEqual(s1, hkdfExpandLabel(sha256, fromHex(C_HS), 'traffic upd', new Uint8Array(0), 32));
  });
});

describe('TLS 1.2 PRF (RFC 5246 §5)', () => {
  test('P_SHA256 matches the widely used test vector', () => {
    // The IETF TLS WG's P_SHA256 vector (secret, "test label", seed) → first 100 bytes.
    const out = tls12Prf(sha256, fromHex('9bbe436ba940f017b17652849a71db35'), 'test label', fromHex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    assert.equal(
      toHex(out),
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });
});
