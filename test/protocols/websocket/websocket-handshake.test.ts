import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { acceptFor, createHandshake, validateHandshakeResponse } from '../../../src/protocols/websocket/websocket-handshake.ts';
import { parseResponseHead } from '../../../src/protocols/http/http-response-parser.ts';
import { fromBase64 } from '../../../src/shared/bytes.ts';

// RFC 6455 §1.3's example: the nonce "the sample nonce" and the accept value it yields.
const SAMPLE_NONCE = fromBase64('dGhlIHNhbXBsZSBub25jZQ==');
const fixed = (): Uint8Array => SAMPLE_NONCE.slice();

function head(lines: string[]) {
  return parseResponseHead(new TextEncoder().encode(lines.join('\r\n') + '\r\n\r\n'), { maxHeaderBytes: 65536, maxHeaderCount: 100 });
}

const OK = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo='];

describe('the opening handshake (RFC 6455 §4)', () => {
  test('the accept value for the §1.3 sample key is s3pPLMBiTxaQ9kYGzzhZRbK+xOo=', () => {
    assert.equal(acceptFor('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('the request is a GET of the path with Upgrade, Connection, Key, Version 13, subprotocols and extra headers', () => {
    const h = createHandshake(new URL('ws://10.0.0.2:8080/chat?room=1'), { protocols: ['chat', 'superchat'], headers: { Origin: 'http://10.0.0.2:8080' } }, fixed);
    const text = new TextDecoder().decode(h.request);
    assert.equal(
      text,
      'GET /chat?room=1 HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n' +
        'Origin: http://10.0.0.2:8080\r\n\r\n',
    );
    assert.equal(h.expectedAccept, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  test('a fresh key per handshake from the random source', () => {
    let n = 0;
    const counter = (len: number): Uint8Array => new Uint8Array(len).fill(++n);
    const a = createHandshake(new URL('ws://h/'), {}, counter);
    const b = createHandshake(new URL('ws://h/'), {}, counter);
    assert.notEqual(a.key, b.key);
  });

  test('bad subprotocols and headers the handshake owns are caller mistakes (TypeError)', () => {
    assert.throws(() => createHandshake(new URL('ws://h/'), { protocols: ['a b'] }, fixed), TypeError);
    assert.throws(() => createHandshake(new URL('ws://h/'), { protocols: ['x', 'X'] }, fixed), /twice/);
    assert.throws(() => createHandshake(new URL('ws://h/'), { headers: { 'Sec-WebSocket-Key': 'x' } }, fixed), /set by the WebSocket handshake/);
    assert.throws(() => createHandshake(new URL('ws://h/'), { headers: { 'X-A': 'a\r\nb' } }, fixed), /CR, LF/);
  });

  test('a 101 with the right accept value is accepted; the chosen subprotocol must be one offered', () => {
    const h = createHandshake(new URL('ws://h/'), { protocols: ['chat', 'superchat'] }, fixed);
    assert.deepEqual(validateHandshakeResponse(h, head(OK)), { protocol: '', extensions: '' });
    assert.deepEqual(validateHandshakeResponse(h, head([...OK, 'Sec-WebSocket-Protocol: superchat'])), { protocol: 'superchat', extensions: '' });
    const other = validateHandshakeResponse(h, head([...OK, 'Sec-WebSocket-Protocol: mqtt']));
    assert.match((other as { failure: string }).failure, /"mqtt", which was not offered/);
  });

  test('every violation of §4.1 step 5 fails with a sentence', () => {
    const h = createHandshake(new URL('ws://h/'), {}, fixed);
    const cases: [string[], RegExp][] = [
      [['HTTP/1.1 200 OK'], /answered 200 OK instead of 101/],
      [OK.filter((l) => !l.startsWith('Upgrade')), /Upgrade: websocket/],
      [OK.filter((l) => !l.startsWith('Connection')), /Connection: Upgrade/],
      [[...OK.slice(0, 3), 'Sec-WebSocket-Accept: AAAA'], /expected s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/],
      [OK.slice(0, 3), /Sec-WebSocket-Accept is missing/],
      [[...OK, 'Sec-WebSocket-Protocol: chat'], /not offered/],
      [[...OK, 'Sec-WebSocket-Extensions: permessage-deflate'], /extension "permessage-deflate", which was not offered/],
    ];
    for (const [lines, message] of cases) {
      const r = validateHandshakeResponse(h, head(lines));
      assert.ok('failure' in r, lines.join(' | '));
      assert.match(r.failure, message);
    }
  });
});
