import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_KEYGEN_FIELDS,
  buildPeerStanza,
  buildWgSetCommand,
  checkKeygenFields,
  hostPrefixes,
  keygenOutputs,
  splitList,
} from '../../../../src/browser/ui/lib/peer-stanza.ts';
import { checkWgQuickConfig } from '../../../../src/shared/wg-quick-config.ts';

const SERVER_PUB = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const CLIENT = { privateKey: 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=', publicKey: 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=' };
const PSK = 'P'.repeat(42) + 'M=';
const fields = { ...DEFAULT_KEYGEN_FIELDS, serverPublicKey: SERVER_PUB, endpoint: 'vpn.example.com:51820', dns: '10.8.0.1' };

describe('the [Peer] stanza for the server', () => {
  test('names the client\'s public key and routes only its own addresses to it', () => {
    assert.equal(
      buildPeerStanza({ publicKey: CLIENT.publicKey, addresses: ['10.8.0.2/24', 'fd00::2/64'], comment: 'wgweb browser client' }),
      '[Peer]\n# wgweb browser client\nPublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\nAllowedIPs = 10.8.0.2/32, fd00::2/128\n',
    );
  });

  test('carries the preshared key when there is one', () => {
    assert.match(buildPeerStanza({ publicKey: CLIENT.publicKey, presharedKey: PSK, addresses: ['10.8.0.2'] }), /PresharedKey = P{42}M=/);
  });

  test('a comment cannot break out of its line', () => {
    assert.equal(buildPeerStanza({ publicKey: 'k', addresses: ['10.0.0.2'], comment: 'a\n[Interface]' }).split('\n')[1], '# a [Interface]');
  });

  test('the wg set one-liner is offered only without a preshared key (keys stay out of shell history)', () => {
    assert.equal(
      buildWgSetCommand({ publicKey: CLIENT.publicKey, addresses: ['10.8.0.2/32', 'fd00::2/128'] }),
      'wg set wg0 peer HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw= allowed-ips 10.8.0.2/32,fd00::2/128',
    );
    assert.equal(buildWgSetCommand({ publicKey: 'k', presharedKey: 'p', addresses: ['10.8.0.2'] }), undefined);
  });

  test('hostPrefixes reduces any prefix to the single host', () => {
    assert.deepEqual(hostPrefixes(['10.8.0.2/24', '10.8.0.3', 'FD00:0::2/64']), ['10.8.0.2/32', '10.8.0.3/32', 'fd00::2/128']);
  });
});

describe('the generated client config', () => {
  test('parses cleanly with the project\'s own wg-quick parser, with every field in place', () => {
    const { clientConfig } = keygenOutputs(fields, { ...CLIENT, presharedKey: PSK });
    const checked = checkWgQuickConfig(clientConfig);
    assert.deepEqual(checked.errors, []);
    assert.deepEqual(checked.warnings, []);
    assert.equal(checked.config?.peers.length, 1);
    assert.equal(checked.config?.peers[0].persistentKeepalive, 25);
    assert.equal(checked.config?.peers[0].allowedIPs.length, 2);
    assert.match(clientConfig, /^\[Interface\]\nPrivateKey = yAnz5/);
    assert.match(clientConfig, /DNS = 10\.8\.0\.1\n/);
  });

  test('empty keepalive leaves the line out', () => {
    const { clientConfig } = keygenOutputs({ ...fields, persistentKeepalive: '' }, CLIENT);
    assert.doesNotMatch(clientConfig, /PersistentKeepalive/);
  });
});

describe('checking the key-generation form', () => {
  test('a complete form has no problems', () => assert.deepEqual(checkKeygenFields(fields), []));

  test('names the field and says what to enter', () => {
    const problems = checkKeygenFields({ ...DEFAULT_KEYGEN_FIELDS, addresses: '10.8.0.300/32', persistentKeepalive: 'soon' });
    assert.deepEqual(
      problems.map((p) => p.field),
      ['serverPublicKey', 'endpoint', 'addresses', 'persistentKeepalive'],
    );
    assert.match(problems[0].message, /server's public key/);
    assert.match(problems[2].message, /10\.8\.0\.300/);
  });

  test('a truncated key and an endpoint without a port are caught', () => {
    const problems = checkKeygenFields({ ...fields, serverPublicKey: SERVER_PUB.slice(1), endpoint: 'vpn.example.com' });
    assert.deepEqual(problems.map((p) => p.field), ['serverPublicKey', 'endpoint']);
  });

  test('splitList accepts commas and spaces', () => assert.deepEqual(splitList(' 0.0.0.0/0,::/0  10.0.0.0/8 '), ['0.0.0.0/0', '::/0', '10.0.0.0/8']));
});
