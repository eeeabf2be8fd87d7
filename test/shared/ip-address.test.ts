/**
 * Addresses, prefixes and endpoints in text: parsing per RFC 4291 §2.2 (and dotted quads without
 * octal-looking zeros), formatting per RFC 5952 (the canonical IPv6 text every log and config
 * line shows), prefix containment as cryptokey routing and the relay's destination policy use it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatEndpoint,
  formatIp,
  formatPrefix,
  ipEquals,
  ipVersion,
  maskAddress,
  parseEndpoint,
  parseIp,
  parsePrefix,
  prefixContains,
  tryParseIp,
} from '../../src/shared/ip-address.ts';

const canon = (text: string): string => formatIp(parseIp(text));

describe('formatIp writes IPv6 as RFC 5952 says', () => {
  const cases: [string, string, string][] = [
    ['§4.1 leading zeros in a group are dropped', '2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['§4.2.1 the longest run of zero groups becomes ::', '2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['§4.2.2 a single zero group is not shortened', '2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['§4.2.3 of two runs the longer one is shortened', '2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['§4.2.3 of two equally long runs the first one is shortened', '2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['§4.3 hex digits are lower case', '2001:DB8::AB:CDEF', '2001:db8::ab:cdef'],
    ['the unspecified address is ::', '0:0:0:0:0:0:0:0', '::'],
    ['the loopback address is ::1', '0:0:0:0:0:0:0:1', '::1'],
    ['a run at the end', '1:0:0:0:0:0:0:0', '1::'],
    ['no zero group: eight groups', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['§5 an IPv4-mapped address keeps its dotted tail', '::ffff:c000:0201', '::ffff:192.0.2.1'],
  ];
  for (const [name, input, expected] of cases) {
    test(`${name}: ${input} → ${expected}`, () => assert.equal(canon(input), expected));
  }

  test('IPv4 is a dotted quad', () => assert.equal(formatIp(new Uint8Array([192, 0, 2, 255])), '192.0.2.255'));

  test('an address of another length is a RangeError', () => {
    assert.throws(() => formatIp(new Uint8Array(5)), RangeError);
    assert.throws(() => ipVersion(new Uint8Array(0)), RangeError);
  });
});

describe('parseIp', () => {
  test('reads IPv4 into 4 bytes and IPv6 into 16, in network order', () => {
    assert.deepEqual([...parseIp('10.1.2.3')], [10, 1, 2, 3]);
    assert.deepEqual([...parseIp('fd00::102')], [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]);
    assert.equal(ipVersion(parseIp('0.0.0.0')), 4);
    assert.equal(ipVersion(parseIp('::')), 6);
  });

  test('reads an embedded IPv4 tail as the last two groups (RFC 4291 §2.2 form 3)', () => {
    assert.equal(canon('64:ff9b::192.0.2.33'), '64:ff9b::c000:221');
    assert.equal(canon('::ffff:10.0.0.1'), '::ffff:10.0.0.1');
    assert.equal(canon('1:2:3:4:5:6:1.2.3.4'), '1:2:3:4:5:6:102:304');
  });

  test(':: may stand for a single zero group when reading', () => {
    assert.equal(canon('1:2:3:4:5:6:7::'), '1:2:3:4:5:6:7:0');
  });

  test('drops a zone index and surrounding white space', () => {
    assert.equal(canon('fe80::1%eth0'), 'fe80::1');
    assert.equal(canon('  10.0.0.1\n'), '10.0.0.1');
  });

  const refused = [
    ['an IPv4 octet with a leading zero (octal in some stacks)', '010.0.0.1'],
    ['an IPv4 octet above 255', '10.0.0.256'],
    ['three IPv4 parts', '10.0.1'],
    ['five IPv4 parts', '10.0.0.1.5'],
    ['an empty IPv4 part', '10..0.1'],
    ['two ::', '1::2::3'],
    [':::', ':::'],
    ['nine groups', '1:2:3:4:5:6:7:8:9'],
    ['seven groups without ::', '1:2:3:4:5:6:7'],
    [':: with eight groups beside it', '1:2:3:4::5:6:7:8'],
    ['a group of five digits', '12345::'],
    ['a non-hex group', 'fd00::g'],
    ['a bad IPv4 tail', '::ffff:1.2.3'],
    ['an IPv4 tail before the last group', '::1.2.3.4:1'],
    ['brackets', '[::1]'],
    ['a host name', 'example.com'],
    ['an empty string', ''],
  ];
  for (const [name, text] of refused) {
    test(`refuses ${name}: ${JSON.stringify(text)}`, () => {
      assert.equal(tryParseIp(text), undefined);
      assert.throws(() => parseIp(text), RangeError);
    });
  }
});

describe('prefixes', () => {
  test('parsePrefix reads address/len, and a bare address as a host prefix', () => {
    assert.equal(formatPrefix(parsePrefix('10.0.0.0/24')), '10.0.0.0/24');
    assert.equal(formatPrefix(parsePrefix('10.0.0.7')), '10.0.0.7/32');
    assert.equal(formatPrefix(parsePrefix('FD00:0::/64')), 'fd00::/64');
    assert.equal(formatPrefix(parsePrefix('::1')), '::1/128');
    assert.equal(parsePrefix('0.0.0.0/0').prefixLength, 0);
  });

  test('parsePrefix keeps host bits as written (wg-quick does too)', () => {
    assert.equal(formatPrefix(parsePrefix('10.0.0.7/24')), '10.0.0.7/24');
  });

  test('parsePrefix refuses lengths beyond the family and non-numbers, naming the range', () => {
    assert.throws(() => parsePrefix('10.0.0.0/33'), /0 to 32/);
    assert.throws(() => parsePrefix('fd00::/129'), /0 to 128/);
    assert.throws(() => parsePrefix('10.0.0.0/-1'), RangeError);
    assert.throws(() => parsePrefix('10.0.0.0/'), RangeError);
    assert.throws(() => parsePrefix('10.0.0.0/2a'), RangeError);
    assert.throws(() => parsePrefix('nope/24'), /not an IPv4 or IPv6 address/);
  });

  test('maskAddress clears the host bits, also inside a byte', () => {
    assert.equal(formatIp(maskAddress(parseIp('10.1.2.255'), 25)), '10.1.2.128');
    assert.equal(formatIp(maskAddress(parseIp('fd00::ffff'), 120)), 'fd00::ff00');
    assert.equal(formatIp(maskAddress(parseIp('10.1.2.3'), 0)), '0.0.0.0');
    const a = parseIp('10.1.2.3');
    maskAddress(a, 8);
    assert.equal(formatIp(a), '10.1.2.3', 'returns a copy');
  });

  test('prefixContains checks the prefix bits only, and never across families', () => {
    const p = parsePrefix('10.1.2.128/25');
    assert.equal(prefixContains(p, parseIp('10.1.2.128')), true);
    assert.equal(prefixContains(p, parseIp('10.1.2.255')), true);
    assert.equal(prefixContains(p, parseIp('10.1.2.127')), false);
    assert.equal(prefixContains(parsePrefix('0.0.0.0/0'), parseIp('203.0.113.9')), true);
    assert.equal(prefixContains(parsePrefix('0.0.0.0/0'), parseIp('::1')), false);
    assert.equal(prefixContains(parsePrefix('::/0'), parseIp('10.0.0.1')), false);
    assert.equal(prefixContains(parsePrefix('fd00::/8'), parseIp('fdff::1')), true);
    assert.equal(prefixContains(parsePrefix('fd00::/8'), parseIp('fe00::1')), false);
    assert.equal(prefixContains(parsePrefix('10.0.0.1/32'), parseIp('10.0.0.2')), false);
  });

  test('ipEquals compares bytes and lengths', () => {
    assert.equal(ipEquals(parseIp('::ffff:10.0.0.1'), parseIp('::ffff:a00:1')), true);
    assert.equal(ipEquals(parseIp('10.0.0.1'), parseIp('::ffff:10.0.0.1')), false);
  });
});

describe('endpoints', () => {
  test('parseEndpoint reads host:port, v4:port and [v6]:port; formatEndpoint writes them back', () => {
    for (const text of ['vpn.example.com:51820', '192.0.2.1:1', '[2001:db8::1]:65535']) {
      assert.equal(formatEndpoint(parseEndpoint(text)), text);
    }
    assert.deepEqual(parseEndpoint('[fd00::1]:51820'), { host: 'fd00::1', port: 51820 });
  });

  test('formatEndpoint brackets any IPv6 literal', () => {
    assert.equal(formatEndpoint({ host: '::1', port: 53 }), '[::1]:53');
  });

  const refused: [string, string, RegExp][] = [
    ['no port', 'example.com', /no port/],
    ['an IPv6 address without brackets', '2001:db8::1:51820', /brackets/],
    ['port 0', 'h:0', /1 to 65535/],
    ['port 65536', 'h:65536', /1 to 65535/],
    ['a non-numeric port', 'h:http', /not a port/],
    ['an empty host in brackets', '[]:1', RangeError as unknown as RegExp],
    ['a bracketed non-IPv6', '[10.0.0.1]:1', /not an IPv6 address/],
    ['a missing colon after the bracket', '[::1]1', /host:port/],
  ];
  for (const [name, text, err] of refused) {
    test(`parseEndpoint refuses ${name}: ${text}`, () => assert.throws(() => parseEndpoint(text), err));
  }
});
