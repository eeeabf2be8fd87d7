import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Authenticator, basicAuthorization, chooseChallenge, parseChallenges, type AuthChallenge } from '../../../src/protocols/http/http-auth.ts';

// RFC 7616 §3.9.1: the example exchange (user Mufasa, password "Circle of Life").
const RFC7616 = {
  realm: 'http-auth@example.org',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
};
const MUFASA = { username: 'Mufasa', password: 'Circle of Life' };
const HEADER =
  `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=SHA-256, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}", ` +
  `Digest realm="${RFC7616.realm}", qop="auth, auth-int", algorithm=MD5, nonce="${RFC7616.nonce}", opaque="${RFC7616.opaque}"`;

function param(header: string, name: string): string | undefined {
  return parseChallenges(header)[0].params[name];
}

describe('parsing WWW-Authenticate (RFC 9110 §11.6.1)', () => {
  test('the RFC 7616 §3.9.1 header holds two Digest challenges, SHA-256 then MD5', () => {
    const cs = parseChallenges(HEADER);
    assert.deepEqual(cs.map((c) => [c.scheme, c.params.algorithm, c.params.qop, c.params.nonce, c.params.opaque]), [
      ['digest', 'SHA-256', 'auth, auth-int', RFC7616.nonce, RFC7616.opaque],
      ['digest', 'MD5', 'auth, auth-int', RFC7616.nonce, RFC7616.opaque],
    ]);
  });

  test('the RFC 7235 §4.1 example: a new scheme with three parameters, then Basic', () => {
    const cs = parseChallenges('Newauth realm="apps", type=1,\t title="Login to \\"apps\\"", Basic realm="simple"');
    assert.deepEqual(cs, [
      { scheme: 'newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'basic', params: { realm: 'simple' } },
    ]);
  });

  test('token68, bare schemes, several header lines, odd spacing and case', () => {
    assert.deepEqual(parseChallenges(['Negotiate a87421000492aa874209af8bc028==', 'Bearer, BASIC Realm = "x"  ,  charset="UTF-8"']), [
      { scheme: 'negotiate', params: {}, token68: 'a87421000492aa874209af8bc028==' },
      { scheme: 'bearer', params: {} },
      { scheme: 'basic', params: { realm: 'x', charset: 'UTF-8' } },
    ]);
  });

  test('garbage is skipped without throwing, and quoted commas do not split challenges', () => {
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges(', ,'), []);
    assert.equal(param('Basic realm="a, b=c"', 'realm'), 'a, b=c');
    assert.equal(parseChallenges('Basic realm="unterminated').length, 1);
    assert.doesNotThrow(() => parseChallenges('=== , "x" Digest realm="r"'));
  });
});

describe('Basic (RFC 7617)', () => {
  test('the §2 example: Aladdin / open sesame', () => {
    assert.equal(basicAuthorization({ username: 'Aladdin', password: 'open sesame' }), 'Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==');
  });
  test('UTF-8 as §2.1 shows (test / 123£)', () => {
    assert.equal(basicAuthorization({ username: 'test', password: '123£' }), 'Basic dGVzdDoxMjPCow==');
  });
  test('a user name with a colon is a caller mistake', () => {
    assert.throws(() => basicAuthorization({ username: 'a:b', password: '' }), TypeError);
  });
});

describe('Digest (RFC 7616)', () => {
  const [sha, md5] = parseChallenges(HEADER);

  test('§3.9.1: the SHA-256 response is 753927fa…b6c1', () => {
    const h = new Authenticator(sha, MUFASA).authorization('GET', '/dir/index.html', RFC7616.cnonce);
    assert.equal(param(h, 'response'), '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
    assert.deepEqual(parseChallenges(h)[0].params, {
      username: 'Mufasa',
      realm: RFC7616.realm,
      uri: '/dir/index.html',
      algorithm: 'SHA-256',
      nonce: RFC7616.nonce,
      nc: '00000001',
      cnonce: RFC7616.cnonce,
      qop: 'auth',
      response: '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      opaque: RFC7616.opaque,
    });
  });

  test('§3.9.1: the MD5 response is 8ca523f5…dbec', () => {
    const h = new Authenticator(md5, MUFASA).authorization('GET', '/dir/index.html', RFC7616.cnonce);
    assert.equal(param(h, 'response'), '8ca523f5e9506fed4657c9700eebdbec');
  });

  test('RFC 2617 §3.5 (no algorithm, qop=auth): the response is 6629fae4…',
    () => {
      const c = parseChallenges('Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"')[0];
      const h = new Authenticator(c, { username: 'Mufasa', password: 'Circle Of Life' }).authorization('GET', '/dir/index.html', '0a4f113b');
      assert.equal(param(h, 'response'), '6629fae49393a05397450978507c4ef1');
      assert.equal(param(h, 'algorithm'), undefined, 'no algorithm is echoed when the server named none');
    },
  );

  test('nc counts up while the nonce is reused, and each request gets a fresh cnonce', () => {
    let n = 0;
    const a = new Authenticator(sha, MUFASA, { random: (len) => new Uint8Array(len).fill(++n) });
    const one = parseChallenges(a.authorization('GET', '/a'))[0].params;
    const two = parseChallenges(a.authorization('GET', '/b'))[0].params;
    assert.deepEqual([one.nc, two.nc], ['00000001', '00000002']);
    assert.notEqual(one.cnonce, two.cnonce);
    assert.notEqual(one.response, two.response);
  });

  test('-sess variants hash A1 with the first cnonce for the whole nonce (§3.4.2)', () => {
    const c: AuthChallenge = { scheme: 'digest', params: { realm: 'r', nonce: 'n', qop: 'auth', algorithm: 'MD5-sess' } };
    const a = new Authenticator(c, MUFASA);
    const one = parseChallenges(a.authorization('GET', '/', 'first'))[0].params;
    const two = parseChallenges(a.authorization('GET', '/'))[0].params;
    assert.equal(one.algorithm, 'MD5-sess');
    assert.equal(two.cnonce, 'first');
    // H(A1) = MD5(MD5("Mufasa:r:Circle of Life") ":n:first"); the response must differ from plain MD5's.
    const plain = new Authenticator({ ...c, params: { ...c.params, algorithm: 'MD5' } }, MUFASA).authorization('GET', '/', 'first');
    assert.notEqual(one.response, param(plain, 'response'));
  });

  test('userhash=true sends H(user:realm) instead of the name (§3.4.4)', () => {
    const c: AuthChallenge = { scheme: 'digest', params: { ...sha.params, userhash: 'true' } };
    const h = parseChallenges(new Authenticator(c, MUFASA).authorization('GET', '/dir/index.html', RFC7616.cnonce))[0].params;
    // RFC 7616 §3.9.2 gives this value for "J\u00e4s\u00f8n Doe"; here SHA-256("Mufasa:http-auth@example.org").
    assert.match(h.username, /^[0-9a-f]{64}$/);
    assert.equal(h.userhash, 'true');
  });

  test('a non-ASCII user name goes as username* (RFC 8187)', () => {
    const h = new Authenticator(sha, { username: 'Jäsøn Doe', password: 'x' }).authorization('GET', '/');
    assert.match(h, /username\*=UTF-8''J%C3%A4s%C3%B8n%20Doe/);
  });

  test('the strongest answerable challenge wins; auth-int only and unknown algorithms are not answered', () => {
    const basic: AuthChallenge = { scheme: 'basic', params: { realm: 'b' } };
    assert.equal(chooseChallenge([basic, md5, sha]), sha);
    assert.equal(chooseChallenge([basic, md5]), md5);
    const authInt: AuthChallenge = { scheme: 'digest', params: { realm: 'r', nonce: 'n', qop: 'auth-int' } };
    const odd: AuthChallenge = { scheme: 'digest', params: { realm: 'r', nonce: 'n', qop: 'auth', algorithm: 'SHA-1' } };
    assert.equal(chooseChallenge([authInt, odd, basic]), basic);
    assert.equal(chooseChallenge([authInt, { scheme: 'negotiate', params: {} }]), undefined);
  });
});
