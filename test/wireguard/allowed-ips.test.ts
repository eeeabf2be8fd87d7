import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { formatPrefix, parseIp, parsePrefix } from '../../src/shared/ip-address.ts';
import { AllowedIps } from '../../src/wireguard/allowed-ips.ts';

function table(entries: [string, string][]): AllowedIps<string> {
  const t = new AllowedIps<string>();
  for (const [prefix, owner] of entries) t.insert(parsePrefix(prefix), owner);
  return t;
}

describe('AllowedIps (cryptokey routing)', () => {
  test('IPv4: the longest matching prefix wins', () => {
    const t = table([
      ['0.0.0.0/0', 'default'],
      ['10.0.0.0/8', 'ten'],
      ['10.1.0.0/16', 'ten-one'],
      ['10.1.2.3/32', 'host'],
      ['10.1.2.0/25', 'low-half'],
    ]);
    const cases: [string, string][] = [
      ['10.1.2.3', 'host'],
      ['10.1.2.4', 'low-half'],
      ['10.1.2.200', 'ten-one'],
      ['10.2.0.1', 'ten'],
      ['192.168.1.1', 'default'],
    ];
    for (const [addr, owner] of cases) assert.equal(t.lookup(parseIp(addr)), owner, addr);
  });

  test('IPv6: the longest matching prefix wins, and families never mix', () => {
    const t = table([
      ['::/0', 'v6-default'],
      ['fd00::/8', 'ula'],
      ['fd00:1::/32', 'site'],
      ['fd00:1::1/128', 'host'],
      ['10.0.0.0/8', 'v4'],
    ]);
    assert.equal(t.lookup(parseIp('fd00:1::1')), 'host');
    assert.equal(t.lookup(parseIp('fd00:1::2')), 'site');
    assert.equal(t.lookup(parseIp('fdff::1')), 'ula');
    assert.equal(t.lookup(parseIp('2001:db8::1')), 'v6-default');
    // ::ffff:10.0.0.1 is an IPv6 address: the IPv4 table is not consulted.
    assert.equal(t.lookup(parseIp('::ffff:10.0.0.1')), 'v6-default');
    assert.equal(table([['10.0.0.0/8', 'v4']]).lookup(parseIp('::1')), undefined);
  });

  test('no match gives undefined, and an empty table matches nothing', () => {
    assert.equal(table([['10.0.0.0/8', 'a']]).lookup(parseIp('11.0.0.1')), undefined);
    assert.equal(new AllowedIps<string>().lookup(parseIp('1.2.3.4')), undefined);
  });

  test('host bits are cleared on insertion, as wg does', () => {
    const t = table([['10.1.2.3/24', 'a']]);
    assert.deepEqual(t.entriesFor('a').map(formatPrefix), ['10.1.2.0/24']);
    assert.equal(t.lookup(parseIp('10.1.2.99')), 'a');
  });

  test('inserting a prefix another peer owns moves it; other prefixes stay', () => {
    const t = table([
      ['10.0.0.0/24', 'a'],
      ['10.0.1.0/24', 'a'],
    ]);
    t.insert(parsePrefix('10.0.0.0/24'), 'b');
    assert.equal(t.lookup(parseIp('10.0.0.1')), 'b');
    assert.equal(t.lookup(parseIp('10.0.1.1')), 'a');
    assert.deepEqual(t.entriesFor('a').map(formatPrefix), ['10.0.1.0/24']);
  });

  test('removing a peer removes all its prefixes and exposes shorter ones again', () => {
    const t = table([
      ['0.0.0.0/0', 'default'],
      ['10.0.0.0/8', 'a'],
      ['fd00::/8', 'a'],
      ['10.1.0.0/16', 'b'],
    ]);
    t.removeValue('a');
    assert.equal(t.lookup(parseIp('10.2.0.1')), 'default');
    assert.equal(t.lookup(parseIp('10.1.0.1')), 'b');
    assert.equal(t.lookup(parseIp('fd00::1')), undefined);
    assert.deepEqual(t.entriesFor('a'), []);
    t.remove(parsePrefix('10.1.0.0/16'), 'other');
    assert.equal(t.lookup(parseIp('10.1.0.1')), 'b', 'remove with another owner is a no-op');
    t.remove(parsePrefix('10.1.0.0/16'));
    assert.equal(t.lookup(parseIp('10.1.0.1')), 'default');
  });

  test('entriesFor lists a peer’s prefixes, IPv4 first', () => {
    const t = table([
      ['fd00::2/128', 'a'],
      ['10.0.0.2/32', 'a'],
      ['0.0.0.0/0', 'a'],
      ['192.168.0.0/16', 'b'],
    ]);
    assert.deepEqual(t.entriesFor('a').map(formatPrefix), ['0.0.0.0/0', '10.0.0.2/32', 'fd00::2/128']);
  });

  test('lookupAt reads the address in place from a packet', () => {
    const t = table([['10.0.0.0/8', 'a']]);
    const packet = new Uint8Array(20);
    packet.set([10, 9, 8, 7], 16);
    assert.equal(t.lookupAt(packet, 16, 4), 'a');
    assert.equal(t.lookupAt(packet, 12, 4), undefined);
  });

  test('bad prefixes are caller errors', () => {
    const t = new AllowedIps<string>();
    assert.throws(() => t.insert({ address: new Uint8Array(5), prefixLength: 8 }, 'x'), RangeError);
    assert.throws(() => t.insert({ address: new Uint8Array(4), prefixLength: 33 }, 'x'), RangeError);
  });

  test('matches a brute-force reference on random tables (seeded)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xffff;
    const prefixes: { p: ReturnType<typeof parsePrefix>; owner: string }[] = [];
    const t = new AllowedIps<string>();
    for (let i = 0; i < 200; i++) {
      const addr = `10.${rnd() & 3}.${rnd() & 255}.${rnd() & 255}`;
      const p = parsePrefix(`${addr}/${8 + (rnd() % 25)}`);
      const owner = `p${rnd() % 7}`;
      t.insert(p, owner);
      prefixes.push({ p, owner });
    }
    for (let i = 0; i < 2000; i++) {
      const a = parseIp(`10.${rnd() & 3}.${rnd() & 255}.${rnd() & 255}`);
      let best: { len: number; owner: string } | undefined;
      for (const { p, owner } of prefixes) {
        const bits = p.prefixLength;
        let match = true;
        for (let b = 0; b < bits; b++) if (((a[b >> 3] ^ p.address[b >> 3]) & (0x80 >> (b & 7))) !== 0) match = false;
        // Later inserts of the same prefix replace earlier owners.
        if (match && (!best || bits >= best.len)) best = { len: bits, owner };
      }
      assert.equal(t.lookup(a), best?.owner);
    }
  });
});
