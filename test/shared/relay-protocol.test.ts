import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromHex } from '../../src/shared/bytes.ts';
import {
  readRelayToken,
  relayTokenProtocol,
  buildRelayUrl,
  checkEndpointHost,
  describeCloseCode,
  MAX_CLOSE_REASON_BYTES,
  parseRelayEndpoint,
  parseRelayRequest,
  RELAY_CLOSE_CODES,
  RELAY_PATH,
  RELAY_SUBPROTOCOL,
  RelayCloseCode,
  truncateCloseReason,
  wireguardMessageShape,
} from '../../src/shared/relay-protocol.ts';

/** `(n)xx` repeats byte xx n times, so fixtures stay readable. */
function hex(spec: string): Uint8Array {
  return fromHex(spec.replace(/\((\d+)\)([0-9a-fA-F]{2})/g, (_, n: string, b: string) => b.repeat(Number(n))));
}

describe('wireguardMessageShape classifies datagrams by type, reserved bytes and length', () => {
  // [row, hex, expected, why]
  const rows: [number, string, string | undefined, string][] = [
    [1, '01000000 (144)11', 'initiation', 'type 1 is exactly 148 bytes'],
    [2, '01000000 (143)11', undefined, 'type 1 of 147 bytes'],
    [3, '01000000 (145)11', undefined, 'type 1 of 149 bytes'],
    [4, '01000100 (144)11', undefined, 'type 1 with a non-zero reserved byte'],
    [5, '02000000 (88)22', 'response', 'type 2 is exactly 92 bytes'],
    [6, '02000000 (89)22', undefined, 'type 2 of 93 bytes'],
    [7, '03000000 (60)33', 'cookie', 'type 3 is exactly 64 bytes'],
    [8, '03000000 (44)33', undefined, 'type 3 of 48 bytes'],
    [9, '04000000 (28)44', 'transport', 'type 4 keepalive: 16-byte header + 16-byte tag'],
    [10, '04000000 (27)44', undefined, 'type 4 of 31 bytes (shorter than header + tag)'],
    [11, '04000000 (1448)44', 'transport', 'type 4 of 1452 bytes: MTU 1420 payload, padding capped at the MTU'],
    [12, '04000000 (44)44', 'transport', 'type 4 of 48 bytes (16 + 16 padded + 16)'],
    [13, '04000000 (45)44', 'transport', 'type 4 of 49 bytes (padding capped at a small MTU)'],
    [14, '04000001 (28)44', undefined, 'type 4 with a non-zero reserved byte'],
    [15, '05000000 (28)55', undefined, 'type 5 does not exist'],
    [16, '00000000 (28)00', undefined, 'type 0 does not exist'],
    [17, '', undefined, 'empty'],
    [18, '01', undefined, 'one byte'],
    [19, '01000000 (144)11 00', undefined, 'initiation with a trailing byte'],
    [20, '47455420 2f776720 48545450 2f312e31 0d0a0d0a (12)41', undefined, 'text ("GET /wg HTTP/1.1") of 32 bytes'],
  ];
  for (const [row, h, expected, why] of rows) {
    test(`${row}. ${why} → ${expected ?? 'not WireGuard'}`, () => {
      assert.equal(wireguardMessageShape(hex(h)), expected);
    });
  }

  test('21. a subarray view is classified by its own bytes, not its buffer', () => {
    const big = hex('ff 01000000 (144)11 ff');
    assert.equal(wireguardMessageShape(big.subarray(1, 149)), 'initiation');
  });
});

describe('close codes are a stable, documented table', () => {
  test('the numbers never change', () => {
    assert.deepEqual(
      { ...RelayCloseCode },
      {
        NORMAL: 1000,
        GOING_AWAY: 1001,
        UNSUPPORTED_DATA: 1003,
        INVALID_PAYLOAD: 1007,
        MESSAGE_TOO_BIG: 1009,
        INTERNAL_ERROR: 1011,
        SERVICE_RESTART: 1012,
        BAD_REQUEST: 4000,
        DESTINATION_NOT_ALLOWED: 4001,
        RESOLVE_FAILED: 4002,
        TOO_MANY_SESSIONS: 4003,
        IDLE_TIMEOUT: 4004,
        RATE_LIMITED: 4005,
        DESTINATION_UNREACHABLE: 4006,
        ORIGIN_NOT_ALLOWED: 4007,
        CLIENT_LIMIT: 4008,
        AUTH_REQUIRED: 4009,
        AUTH_FAILED: 4010,
        TOKEN_SESSION_LIMIT: 4011,
      },
    );
  });

  test('every code has one table row with its constant name and an explanation', () => {
    for (const [name, code] of Object.entries(RelayCloseCode)) {
      const rows = RELAY_CLOSE_CODES.filter((r) => r.code === code);
      assert.equal(rows.length, 1, `one row for ${code}`);
      assert.equal(rows[0].name, name);
      assert.ok(rows[0].explanation.length > 20);
    }
    assert.equal(RELAY_CLOSE_CODES.length, Object.keys(RelayCloseCode).length);
  });

  test('application codes are in the 4000-4999 range', () => {
    for (const r of RELAY_CLOSE_CODES) if (r.code >= 4000) assert.ok(r.code <= 4999);
  });

  test('refusals are final, restarts and overload are retried, idle reconnects on demand', () => {
    assert.equal(describeCloseCode(4001).retry, 'never');
    assert.equal(describeCloseCode(4000).retry, 'never');
    assert.equal(describeCloseCode(1009).retry, 'never');
    assert.equal(describeCloseCode(1001).retry, 'backoff');
    assert.equal(describeCloseCode(4003).retry, 'backoff');
    assert.equal(describeCloseCode(4004).retry, 'on-demand');
    assert.equal(describeCloseCode(1012).retry, 'now', 'a draining relay asks clients to move at once');
    assert.equal(describeCloseCode(4009).retry, 'never');
    assert.equal(describeCloseCode(4010).retry, 'never');
    assert.equal(describeCloseCode(4011).retry, 'backoff');
  });

  test('unknown codes and 1006 are described as transient', () => {
    assert.equal(describeCloseCode(1006).name, 'ABNORMAL_CLOSURE');
    assert.equal(describeCloseCode(1006).retry, 'backoff');
    assert.equal(describeCloseCode(4999).name, 'UNKNOWN');
  });

  test('close reasons are cut to fit a control frame without splitting characters', () => {
    assert.equal(truncateCloseReason('short'), 'short');
    const long = 'é'.repeat(100);
    const cut = truncateCloseReason(long);
    assert.ok(new TextEncoder().encode(cut).length <= MAX_CLOSE_REASON_BYTES);
    assert.ok(cut.endsWith('...'));
    assert.ok(!cut.includes('\ufffd'));
  });
});

describe('buildRelayUrl names the endpoint in the query', () => {
  test('a ws: base gets /wg and an encoded ?to=', () => {
    assert.equal(buildRelayUrl('ws://127.0.0.1:8080', '192.0.2.1:51820'), 'ws://127.0.0.1:8080/wg?to=192.0.2.1%3A51820');
  });
  test('http: maps to ws: and https: to wss:', () => {
    assert.equal(buildRelayUrl('http://relay:8080/', { host: 'vpn.example.com', port: 51820 }), 'ws://relay:8080/wg?to=vpn.example.com%3A51820');
    assert.ok(buildRelayUrl('https://relay.example', '192.0.2.1:1').startsWith('wss://relay.example/wg?'));
  });
  test('IPv6 endpoints are bracketed', () => {
    assert.equal(buildRelayUrl('ws://[::1]:8080', { host: '2001:db8::1', port: 51820 }), 'ws://[::1]:8080/wg?to=%5B2001%3Adb8%3A%3A1%5D%3A51820');
  });
  test('a path prefix (reverse proxy) is kept, and a full /wg URL is reused', () => {
    assert.equal(buildRelayUrl('https://h/wgweb/', '192.0.2.1:1'), 'wss://h/wgweb/wg?to=192.0.2.1%3A1');
    assert.equal(buildRelayUrl('https://h/wgweb', '192.0.2.1:1'), 'wss://h/wgweb/wg?to=192.0.2.1%3A1');
    assert.equal(buildRelayUrl('wss://h/wg?to=old:1', '192.0.2.1:1'), 'wss://h/wg?to=192.0.2.1%3A1');
  });
  test('bad input throws TypeError (URL) or RangeError (endpoint)', () => {
    assert.throws(() => buildRelayUrl('relay:8080x', '192.0.2.1:1'), TypeError);
    assert.throws(() => buildRelayUrl('ftp://h', '192.0.2.1:1'), TypeError);
    assert.throws(() => buildRelayUrl('not a url', '192.0.2.1:1'), TypeError);
    assert.throws(() => buildRelayUrl('ws://h', '192.0.2.1'), RangeError);
    assert.throws(() => buildRelayUrl('ws://h', { host: 'a b', port: 1 }), RangeError);
    assert.throws(() => buildRelayUrl('ws://h', { host: 'h', port: 0 }), RangeError);
  });
});

describe('parseRelayRequest reads the upgrade target and never throws', () => {
  test('round trip through buildRelayUrl, v4, v6 and names', () => {
    for (const ep of ['192.0.2.1:51820', '[2001:db8::1]:51820', 'vpn.example.com:443', 'localhost:1']) {
      const r = parseRelayRequest(buildRelayUrl('ws://relay', ep));
      assert.ok(r.ok, ep);
      if (r.ok) assert.equal(r.endpoint.host, ep.startsWith('[') ? '2001:db8::1' : ep.split(':')[0]);
    }
  });
  test('another path is a 404; a bad or missing ?to= is a 400 with BAD_REQUEST', () => {
    const cases: [string, number][] = [
      ['/', 404],
      ['/wg/', 404],
      ['/WG?to=1.2.3.4:1', 404],
      ['/wg', 400],
      ['/wg?to=', 400],
      ['/wg?to=1.2.3.4', 400],
      ['/wg?to=1.2.3.4:0', 400],
      ['/wg?to=1.2.3.4:65536', 400],
      ['/wg?to=2001:db8::1:51820', 400],
      ['/wg?to=%5B2001:db8::1%5D', 400],
      ['/wg?to=%5Bfe80::1%25eth0%5D:1', 400],
      ['/wg?to=127.1:51820', 400],
      ['/wg?to=0x7f.1:51820', 400],
      ['/wg?to=a..b:1', 400],
      ['/wg?to=-a.b:1', 400],
      ['/wg?to=%20a:1', 400],
      ['/wg?to=a%00b:1', 400],
      ['/wg?to=1.2.3.4:1&to=1.2.3.4:2', 400],
      [`/wg?to=${'a'.repeat(400)}:1`, 400],
      ['/wg?to=%E0%A4%A', 400],
    ];
    for (const [url, status] of cases) {
      const r = parseRelayRequest(url);
      assert.equal(r.ok, false, url);
      if (!r.ok) {
        assert.equal(r.status, status, url);
        assert.equal(r.closeCode, RelayCloseCode.BAD_REQUEST);
        assert.ok(new TextEncoder().encode(r.reason).length <= MAX_CLOSE_REASON_BYTES, url);
      }
    }
  });
  test('absolute URLs are accepted too', () => {
    assert.ok(parseRelayRequest('http://relay:8080/wg?to=192.0.2.1%3A51820').ok);
  });
  test('the path and subprotocol constants', () => {
    assert.equal(RELAY_PATH, '/wg');
    assert.equal(RELAY_SUBPROTOCOL, 'wgweb.v1');
  });
});

describe('endpoint hosts', () => {
  test('accepted: dotted quads, IPv6 without zone, DNS names', () => {
    for (const h of ['192.0.2.1', '2001:db8::1', '::ffff:192.0.2.1', 'localhost', 'vpn.example.com', 'vpn.example.com.', 'a-b.c_d.example', 'x1.y2']) {
      assert.equal(checkEndpointHost(h), undefined, h);
    }
  });
  test('refused: legacy IPv4 forms, zones, bad labels', () => {
    for (const h of ['127.1', '0x7f000001', '1.2.3.256', '01.2.3.4', 'fe80::1%eth0', 'a..b', '.a', 'a-.b', 'a b', '', 'é.example', `${'a'.repeat(64)}.b`]) {
      assert.notEqual(checkEndpointHost(h), undefined, h);
    }
  });
  test('parseRelayEndpoint rejects surrounding white space', () => {
    assert.throws(() => parseRelayEndpoint(' 1.2.3.4:1'), RangeError);
    assert.deepEqual(parseRelayEndpoint('1.2.3.4:1'), { host: '1.2.3.4', port: 1 });
  });
});

describe('the access token travels as a subprotocol value', () => {
  test('relayTokenProtocol prefixes it; readRelayToken finds it among the offered values', () => {
    assert.equal(relayTokenProtocol('abc.def-_'), 'wgweb.token.abc.def-_');
    assert.deepEqual(readRelayToken('wgweb.v2, wgweb.v1, wgweb.token.abc.def-_'), { token: 'abc.def-_' });
    assert.deepEqual(readRelayToken('wgweb.v1'), {});
    assert.deepEqual(readRelayToken(undefined), {});
    assert.deepEqual(readRelayToken('wgweb.token.a, wgweb.token.b'), { ambiguous: true });
  });

  test('a token a header cannot carry is a TypeError', () => {
    for (const bad of ['', 'a b', 'a,b', 'ä', 'a"b', 'x'.repeat(4097)]) assert.throws(() => relayTokenProtocol(bad), TypeError, JSON.stringify(bad));
  });
});
