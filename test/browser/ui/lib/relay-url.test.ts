import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { resolveRelayUrl, resolveRelayUrls } from '../../../../src/browser/ui/lib/relay-url.ts';

const http = { protocol: 'http:', host: '127.0.0.1:8080' };
const https = { protocol: 'https:', host: 'wg.example.com' };

describe('resolveRelayUrl', () => {
  test('empty means this server at /wg', () => assert.equal(resolveRelayUrl('', http), 'ws://127.0.0.1:8080/wg'));
  test('a path is on this server, wss under https', () => {
    assert.equal(resolveRelayUrl('/wg', http), 'ws://127.0.0.1:8080/wg');
    assert.equal(resolveRelayUrl('/relay/wg', https), 'wss://wg.example.com/relay/wg');
  });
  test('http(s) URLs become ws(s)', () => {
    assert.equal(resolveRelayUrl('http://10.0.0.5:8080/wg', http), 'ws://10.0.0.5:8080/wg');
    assert.equal(resolveRelayUrl('https://relay.example/wg', https), 'wss://relay.example/wg');
  });
  test('ws and wss URLs are kept', () => assert.equal(resolveRelayUrl(' wss://relay.example/wg ', https), 'wss://relay.example/wg'));
  test('a bare host gets the page\'s scheme', () => assert.equal(resolveRelayUrl('relay.example:8443/wg', https), 'wss://relay.example:8443/wg'));
  test('other schemes are refused with a message', () => assert.throws(() => resolveRelayUrl('ftp://x/wg', http), /ws:\/\/, wss:\/\//));
  test('credentials are refused', () => assert.throws(() => resolveRelayUrl('ws://u:p@x/wg', http), /credentials/));
  test('ws:// from an https page is refused (mixed content) except to loopback', () => {
    assert.throws(() => resolveRelayUrl('ws://relay.example/wg', https), /wss:\/\//);
    assert.equal(resolveRelayUrl('ws://127.0.0.1:8080/wg', https), 'ws://127.0.0.1:8080/wg');
  });
});

describe('resolveRelayUrls (the relay field as a failover list)', () => {
  test('URLs separated by spaces, commas or lines, in order, each resolved', () =>
    assert.deepEqual(resolveRelayUrls(' /wg, ws://10.0.0.5:8080/wg\nrelay.example/wg ', http), ['ws://127.0.0.1:8080/wg', 'ws://10.0.0.5:8080/wg', 'ws://relay.example/wg']));
  test('an empty field is this server at /wg', () => assert.deepEqual(resolveRelayUrls('  ', http), ['ws://127.0.0.1:8080/wg']));
  test('one bad URL refuses the list', () => assert.throws(() => resolveRelayUrls('/wg ftp://x/wg', http), /ws:\/\//));
});
