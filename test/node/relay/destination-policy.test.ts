import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, formatPrefix, parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { RelayCloseCode } from '../../../src/shared/relay-protocol.ts';
import { classifyAddress, DestinationPolicy, parseAllowRule, type Resolver } from '../../../src/node/relay/destination-policy.ts';

/** A resolver from a table: no real DNS in tests. */
function tableResolver(table: Record<string, string[]>, calls: string[] = []): Resolver {
  return async (host) => {
    calls.push(host);
    const list = table[host];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return list.map(parseIp);
  };
}

function describeRule(text: string): string {
  const r = parseAllowRule(text);
  const target = r.kind === 'prefix' ? formatPrefix(r.prefix) : `host ${r.host}`;
  return `${target} ports ${r.ports.from}-${r.ports.to}`;
}

describe('--allow rules parse', () => {
  const rows: [string, string][] = [
    ['192.0.2.10:51820', '192.0.2.10/32 ports 51820-51820'],
    ['192.0.2.10', '192.0.2.10/32 ports 1-65535'],
    ['10.0.0.0/8', '10.0.0.0/8 ports 1-65535'],
    ['10.0.0.0/8:51820-51830', '10.0.0.0/8 ports 51820-51830'],
    ['10.0.0.0/8:*', '10.0.0.0/8 ports 1-65535'],
    ['0.0.0.0/0:51820', '0.0.0.0/0 ports 51820-51820'],
    ['2001:db8::/32', '2001:db8::/32 ports 1-65535'],
    ['::1', '::1/128 ports 1-65535'],
    ['[2001:db8::/32]:51820', '2001:db8::/32 ports 51820-51820'],
    ['[2001:db8::]/32:51820', '2001:db8::/32 ports 51820-51820'],
    ['[::1]:51820', '::1/128 ports 51820-51820'],
    ['[::ffff:192.0.2.1]:1', '192.0.2.1/32 ports 1-1'],
    ['vpn.example.com:51820', 'host vpn.example.com ports 51820-51820'],
    ['VPN.Example.com', 'host vpn.example.com ports 1-65535'],
    ['localhost:51820', 'host localhost ports 51820-51820'],
    ['  192.0.2.10:51820  ', '192.0.2.10/32 ports 51820-51820'],
  ];
  for (const [i, [text, expected]] of rows.entries()) {
    test(`${i + 1}. "${text}" → ${expected}`, () => assert.equal(describeRule(text), expected));
  }

  const bad: [string, RegExp][] = [
    ['', /needs a value/],
    ['10.0.0.0/33', /prefix length/],
    ['10.0.0.0/8:0', /ports must be/],
    ['10.0.0.0/8:65536', /ports must be/],
    ['10.0.0.0/8:51830-51820', /ports must be/],
    ['10.0.0.0/8:abc', /not a port/],
    ['[2001:db8::1', /missing "]"/],
    ['[2001:db8::1]51820', /expected ":port"/],
    ['[192.0.2.1]:1', /brackets are for IPv6/],
    ['127.1:51820', /not a valid IPv4/],
    ['bad host:1', /not a valid host name/],
    [':51820', /missing address/],
    ['fe80::1%eth0', /zone/],
  ];
  for (const [text, re] of bad) {
    test(`"${text}" is refused with a RangeError naming the problem`, () => {
      assert.throws(() => parseAllowRule(text), (e: unknown) => e instanceof RangeError && re.test(e.message));
    });
  }
});

describe('special addresses', () => {
  const rows: [string, string][] = [
    ['0.0.0.0', 'forbidden'],
    ['0.1.2.3', 'forbidden'],
    ['224.0.0.1', 'forbidden'],
    ['239.255.255.250', 'forbidden'],
    ['255.255.255.255', 'forbidden'],
    ['240.0.0.1', 'forbidden'],
    ['::', 'forbidden'],
    ['ff02::1', 'forbidden'],
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['192.0.2.1', 'normal'],
    ['10.1.2.3', 'private'],
    ['100.64.0.1', 'private'],
    ['2001:db8::1', 'normal'],
    // IPv6 forms that carry an IPv4 address are classified by that address (issue #11 item 12).
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::224.0.0.1', 'forbidden'],
    ['64:ff9b::192.0.2.1', 'normal'],
    ['64:ff9b:1:7f00:0:1::', 'loopback'], // RFC 6052 /48 layout: 127.0 | u octet | 0.1
    ['64:ff9b:1:c0a8:1:1::', 'private'], // 192.168.1.1
    ['2002:7f00:1::1', 'loopback'],
    ['2002:a9fe:a9fe::', 'link-local'],
    ['2002:c000:201::', 'normal'],
    ['::127.0.0.1', 'loopback'],
    ['::10.9.8.7', 'private'],
    ['::ffff:10.9.8.7', 'private'],
  ];
  for (const [addr, cls] of rows) test(`${addr} is ${cls}`, () => assert.equal(classifyAddress(parseIp(addr)), cls));
});

describe('DestinationPolicy.allows', () => {
  const p = new DestinationPolicy(['10.0.0.0/8:51820-51830', '192.0.2.10:51820', '[2001:db8::/32]:443', '0.0.0.0/0:9999', '127.0.0.1:7777']);
  const rows: [string, number, boolean, string][] = [
    ['10.1.2.3', 51820, true, 'inside the prefix and range'],
    ['10.1.2.3', 51830, true, 'range upper bound'],
    ['10.1.2.3', 51831, false, 'port above the range'],
    ['11.1.2.3', 51820, false, 'outside the prefix'],
    ['192.0.2.10', 51820, true, 'exact address'],
    ['192.0.2.11', 51820, false, 'neighbour address'],
    ['2001:db8:1::5', 443, true, 'IPv6 prefix'],
    ['2001:db9::5', 443, false, 'outside the IPv6 prefix'],
    ['::ffff:192.0.2.10', 51820, true, 'IPv4-mapped IPv6 counts as IPv4'],
    ['203.0.113.7', 9999, true, 'a broad rule covers ordinary addresses'],
    ['127.0.0.1', 9999, false, 'a broad rule never covers loopback'],
    ['169.254.169.254', 9999, false, 'a broad rule never covers link-local (cloud metadata)'],
    ['224.0.0.1', 9999, false, 'multicast is never relayed'],
    ['0.0.0.0', 9999, false, 'the unspecified address is never relayed'],
    ['127.0.0.1', 7777, true, 'an explicit loopback rule'],
    ['127.0.0.2', 7777, false, 'another loopback address'],
  ];
  for (const [i, [addr, port, expected, why]] of rows.entries()) {
    test(`${i + 1}. ${addr} port ${port}: ${expected ? 'allowed' : 'refused'} (${why})`, async () => {
      assert.equal(await p.allows(parseIp(addr), port), expected);
    });
  }

  test('an empty policy refuses everything', async () => {
    assert.equal(await new DestinationPolicy().allows(parseIp('192.0.2.1'), 51820), false);
  });
});

describe('a broad IPv6 rule does not reach loopback or private IPv4 through NAT64, 6to4 or IPv4-compatible forms', () => {
  const broad = new DestinationPolicy(['[::/0]:51820', '[2000::/3]:51821', '0.0.0.0/0:51822']);
  const refused = [
    '64:ff9b::127.0.0.1',
    '64:ff9b::10.0.0.1',
    '64:ff9b::172.16.5.4',
    '64:ff9b::192.168.1.1',
    '64:ff9b::169.254.169.254',
    '64:ff9b:1:7f00:0:1::',
    '64:ff9b:1:a00:0:1::',
    '::127.0.0.1',
    '::10.0.0.1',
    '::ffff:127.0.0.1',
  ];
  for (const addr of refused) {
    test(`[::/0]:51820 refuses ${addr}`, async () => assert.equal(await broad.allows(parseIp(addr), 51820), false));
  }
  for (const addr of ['2002:7f00:1::', '2002:a00:1::1', '2002:c0a8:101::', '2002:a9fe:a9fe::']) {
    test(`[2000::/3]:51821 refuses the 6to4 address ${addr}`, async () => assert.equal(await broad.allows(parseIp(addr), 51821), false));
  }
  test('public IPv4 in those forms stays reachable under the broad rule', async () => {
    assert.equal(await broad.allows(parseIp('64:ff9b::192.0.2.1'), 51820), true);
    assert.equal(await broad.allows(parseIp('2002:c000:201::1'), 51821), true);
    assert.equal(await broad.allows(parseIp('2001:db8::1'), 51820), true);
  });
  test('a private IPv4 address itself stays reachable through an IPv4 rule that covers it', async () => {
    assert.equal(await broad.allows(parseIp('10.0.0.1'), 51822), true);
    assert.equal(await broad.allows(parseIp('127.0.0.1'), 51822), false);
  });
  test('a rule inside the translated range reaches exactly that range', async () => {
    const p = new DestinationPolicy(['[64:ff9b::10.0.0.0/104]:51820', '[2002:7f00:1::/48]:51820']);
    assert.equal(await p.allows(parseIp('64:ff9b::10.1.2.3'), 51820), true);
    assert.equal(await p.allows(parseIp('64:ff9b::192.168.0.1'), 51820), false);
    assert.equal(await p.allows(parseIp('2002:7f00:1::5'), 51820), true);
  });
  test('decide refuses a name that resolves to a NAT64 form of loopback', async () => {
    const p = new DestinationPolicy(['[::/0]:51820'], { resolve: tableResolver({ 'sneaky.test': ['64:ff9b::127.0.0.1'] }) });
    const d = await p.decide({ host: 'sneaky.test', port: 51820 });
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.equal(d.code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
  });
  test('decide refuses the literal, and says what rule would allow it', async () => {
    const d = await new DestinationPolicy(['[::/0]:51820']).decide({ host: '64:ff9b::7f00:1', port: 51820 });
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.match(d.reason, /loopback needs an explicit rule like --allow \[64:ff9b::7f00:1\]:51820/);
  });
});

describe('an empty policy', () => {
  test('refuses everything', async () => {
    assert.equal(await new DestinationPolicy().allows(parseIp('192.0.2.1'), 51820), false);
  });
});

describe('DestinationPolicy.decide resolves names and checks the resolved address', () => {
  const resolver = tableResolver({
    'peer.test': ['192.0.2.10'],
    'multi.test': ['198.51.100.1', '192.0.2.10'],
    'v6.test': ['2001:db8::7'],
    'evil.test': ['127.0.0.1'],
    'allowed.test': ['192.0.2.20', '192.0.2.21'],
    'empty.test': [],
  });

  test('a literal allowed address is chosen as is', async () => {
    const d = await new DestinationPolicy(['192.0.2.10:51820'], { resolve: resolver }).decide({ host: '192.0.2.10', port: 51820 });
    assert.ok(d.allowed);
    if (d.allowed) assert.equal(formatIp(d.address), '192.0.2.10');
  });

  test('a client host name is resolved and its address must be allowed', async () => {
    const p = new DestinationPolicy(['192.0.2.10:51820'], { resolve: resolver });
    const d = await p.decide({ host: 'peer.test', port: 51820 });
    assert.ok(d.allowed);
    const e = await p.decide({ host: 'v6.test', port: 51820 });
    assert.equal(e.allowed, false);
    if (!e.allowed) {
      assert.equal(e.code, RelayCloseCode.DESTINATION_NOT_ALLOWED);
      assert.match(e.reason, /v6\.test:51820 is not allowed/);
      assert.doesNotMatch(e.reason, /2001:db8/, 'what the name resolves to is not the client\'s business');
      assert.deepEqual(e.logDetail, { resolved: ['2001:db8::7'] }, 'the log keeps it');
    }
  });

  test('the first allowed address of several is chosen', async () => {
    const d = await new DestinationPolicy(['192.0.2.10:51820'], { resolve: resolver }).decide({ host: 'multi.test', port: 51820 });
    assert.ok(d.allowed);
    if (d.allowed) assert.equal(formatIp(d.address), '192.0.2.10');
  });

  test('a name that resolves to loopback is not let through a broad rule (rebinding to the relay host)', async () => {
    const d = await new DestinationPolicy(['0.0.0.0/0:51820'], { resolve: resolver }).decide({ host: 'evil.test', port: 51820 });
    assert.equal(d.allowed, false);
    if (!d.allowed) {
      assert.match(d.reason, /^evil\.test:51820 is not allowed by this relay$/);
      assert.doesNotMatch(d.reason, /127\.|::1|loopback/, 'no hint that betrays the resolved address');
    }
  });

  test('a host-name rule allows exactly the addresses the name resolves to', async () => {
    const calls: string[] = [];
    const p = new DestinationPolicy(['allowed.test:51820'], { resolve: tableResolver({ 'allowed.test': ['192.0.2.20', '192.0.2.21'] }, calls) });
    assert.equal(await p.allows(parseIp('192.0.2.21'), 51820), true);
    assert.equal(await p.allows(parseIp('192.0.2.22'), 51820), false);
    assert.equal(await p.allows(parseIp('192.0.2.20'), 51821), false);
    assert.deepEqual(calls, ['allowed.test'], 'the rule is resolved once and cached');
  });

  test('a host-name rule that does not resolve matches nothing (and does not throw)', async () => {
    const p = new DestinationPolicy(['nowhere.test:51820'], { resolve: resolver });
    assert.equal(await p.allows(parseIp('192.0.2.1'), 51820), false);
  });

  test('a client name that does not resolve is RESOLVE_FAILED', async () => {
    const p = new DestinationPolicy(['0.0.0.0/0'], { resolve: resolver });
    for (const host of ['nowhere.test', 'empty.test']) {
      const d = await p.decide({ host, port: 1 });
      assert.equal(d.allowed, false);
      if (!d.allowed) {
        assert.equal(d.code, RelayCloseCode.RESOLVE_FAILED);
        assert.match(d.reason, new RegExp(`cannot resolve ${host.replace('.', '\\.')}`));
      }
    }
  });

  test('a lookup that hangs is cut off by the timeout', async () => {
    const p = new DestinationPolicy(['0.0.0.0/0'], { resolve: () => new Promise<IpAddress[]>(() => {}), resolveTimeoutMs: 20 });
    const d = await p.decide({ host: 'slow.test', port: 1 });
    assert.equal(d.allowed, false);
    if (!d.allowed) assert.match(d.reason, /timed out/);
  });

  test('rules can be added and removed at runtime', async () => {
    const p = new DestinationPolicy([], { resolve: resolver });
    assert.equal((await p.decide({ host: '192.0.2.5', port: 1 })).allowed, false);
    const rule = p.add('192.0.2.5:1');
    assert.equal((await p.decide({ host: '192.0.2.5', port: 1 })).allowed, true);
    assert.equal(p.remove(rule), true);
    assert.equal(p.size, 0);
    p.add('192.0.2.5:1');
    assert.equal(p.remove('192.0.2.5:1'), true);
    assert.equal(p.remove('192.0.2.5:1'), false);
  });
});
