/**
 * Signed relay tokens: what mintRelayToken writes is a standard HS256 JWT, and verifyRelayToken
 * refuses every token that was altered, signed otherwise, or is outside its validity period.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mintRelayToken, verifyRelayToken, TOKEN_LEEWAY_SECONDS } from '../../../src/node/relay/relay-token.ts';

const secret = new TextEncoder().encode('a-test-secret-that-is-long-enough-for-hs256');
const NOW = 1_800_000_000;

function b64(o: unknown): string {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

test('a minted token is a compact HS256 JWT whose signature any HMAC-SHA256 reproduces', () => {
  const t = mintRelayToken(secret, { exp: NOW + 60, allow: ['10.0.0.1:51820'], sub: 'alice' }, NOW);
  const [h, p, s] = t.split('.');
  assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' });
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  assert.equal(claims.exp, NOW + 60);
  assert.equal(claims.iat, NOW);
  assert.equal(typeof claims.jti, 'string');
  assert.equal(s, createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url'));
  const v = verifyRelayToken(secret, t, NOW);
  assert.ok(v.ok);
  assert.equal(v.claims.sub, 'alice');
});

test('a token made by another JWT implementation with the same secret is accepted', () => {
  const input = `${b64({ typ: 'JWT', alg: 'HS256' })}.${b64({ exp: NOW + 10, sub: 'x' })}`;
  const t = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  assert.ok(verifyRelayToken(secret, t, NOW).ok);
});

test('expired: refused once exp plus the leeway has passed, accepted just before', () => {
  const t = mintRelayToken(secret, { exp: NOW }, NOW - 100);
  assert.ok(verifyRelayToken(secret, t, NOW + TOKEN_LEEWAY_SECONDS - 1).ok);
  assert.deepEqual(verifyRelayToken(secret, t, NOW + TOKEN_LEEWAY_SECONDS), { ok: false, problem: 'the token has expired' });
});

test('not yet valid (nbf in the future) is refused', () => {
  const t = mintRelayToken(secret, { exp: NOW + 3600, nbf: NOW + 600 }, NOW);
  assert.equal(verifyRelayToken(secret, t, NOW).ok, false);
});

test('tampered: a changed payload, a changed signature or another secret is refused', () => {
  const t = mintRelayToken(secret, { exp: NOW + 60, allow: ['10.0.0.1:51820'] }, NOW);
  const [h, p, s] = t.split('.');
  const widened = b64({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), allow: ['0.0.0.0/0'] });
  assert.deepEqual(verifyRelayToken(secret, `${h}.${widened}.${s}`, NOW), { ok: false, problem: 'the token signature does not match' });
  const flipped = s.slice(0, -2) + (s.endsWith('AA') ? 'BA' : 'AA');
  assert.equal(verifyRelayToken(secret, `${h}.${p}.${flipped}`, NOW).ok, false);
  const other = new TextEncoder().encode('another-secret-that-is-long-enough-for-hs256!');
  assert.equal(verifyRelayToken(other, t, NOW).ok, false);
});

test('alg none and other algorithms are refused whatever the signature says', () => {
  const none = `${b64({ alg: 'none' })}.${b64({ exp: NOW + 60 })}.`;
  assert.equal(verifyRelayToken(secret, none, NOW).ok, false);
  const input = `${b64({ alg: 'HS512' })}.${b64({ exp: NOW + 60 })}`;
  const hs256OverOtherHeader = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  assert.deepEqual(verifyRelayToken(secret, hs256OverOtherHeader, NOW), { ok: false, problem: 'the token is not signed with HS256' });
});

test('garbage never throws: wrong part counts, non-base64url, non-JSON, no exp', () => {
  for (const t of ['', 'a', 'a.b', 'a.b.c.d', '!!.??.**', `${b64({ alg: 'HS256' })}.bm90IGpzb24.x`]) {
    assert.equal(verifyRelayToken(secret, t, NOW).ok, false, t);
  }
  const input = `${b64({ alg: 'HS256' })}.${b64({ sub: 'no expiry' })}`;
  const t = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  assert.deepEqual(verifyRelayToken(secret, t, NOW), { ok: false, problem: 'the token has no expiry (exp)' });
});

test('a short secret is a RangeError when minting', () => {
  assert.throws(() => mintRelayToken(new Uint8Array(16), { exp: NOW }), RangeError);
});
