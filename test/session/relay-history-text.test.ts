/** The status card's relay history lines in words (#17 item 4). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relayHost, relayMoveText } from '../../src/session/relay-history-text.ts';

test('the first pick of a list says it was the fastest, with its open time', () => {
  assert.equal(relayMoveText({ at: 0, url: 'ws://a:1/wg', reason: 'start', of: 2, rttMs: 3.14 }), 'fastest of 2 relays, opened in 3.1 ms');
  assert.equal(relayMoveText({ at: 0, url: 'ws://a:1/wg', reason: 'start' }), 'connected');
});

test('a move names the relay left behind and why: drained with 1012, lost without a close frame', () => {
  assert.equal(
    relayMoveText({ at: 0, url: 'ws://b:2/wg', reason: 'drained', closeCode: 1012, from: 'ws://a:1/wg', rttMs: 4.2 }),
    'a:1 drained (1012 service restart); moved here, opened in 4.2 ms',
  );
  assert.equal(relayMoveText({ at: 0, url: 'ws://b:2/wg', reason: 'lost', closeCode: 1006, from: 'ws://a:1/wg' }), 'a:1 lost (1006 no close frame); moved here');
});

test('a reconnect to the same relay says so', () => {
  assert.equal(relayMoveText({ at: 0, url: 'ws://a:1/wg', reason: 'lost', closeCode: 4999 }), 'connection lost (4999); reconnected');
  assert.equal(relayMoveText({ at: 0, url: 'ws://a:1/wg', reason: 'lost' }), 'connection lost; reconnected');
});

test('relayHost: host and port of a URL, the text itself when it is not one', () => {
  assert.equal(relayHost('wss://relay.example:8443/wg'), 'relay.example:8443');
  assert.equal(relayHost('/wg'), '/wg');
});
