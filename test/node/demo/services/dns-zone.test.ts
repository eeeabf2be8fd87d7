/**
 * The demo peer's DNS answers: queries in, parsed responses checked field by field. One query is
 * a byte fixture captured from a real client (provenance below); the rest are built with the
 * netstack's own DNS emitter.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DnsZone } from '../../../../src/node/demo/services/dns-zone.ts';
import { reverseName } from '../../../../src/protocols/dns/dns-presentation.ts';
import { DNS_CLASS_IN, DnsRcode, DnsType, emitDnsMessage, parseDnsMessage, queryFlags, type DnsMessage } from '../../../../src/protocols/dns/dns-message.ts';
import { fromHex } from '../../../../src/shared/bytes.ts';
import { formatIp, parseIp } from '../../../../src/shared/ip-address.ts';

const zone = new DnsZone({
  zone: 'intranet.demo',
  address4: parseIp('10.44.0.1'),
  address6: parseIp('fd44::1'),
  clientAddresses: (a) => (formatIp(a) === '10.44.0.7' || formatIp(a) === 'fd44::7' ? { address4: parseIp('10.44.0.7'), address6: parseIp('fd44::7') } : undefined),
});
const asker = parseIp('10.44.0.7');

function query(name: string, type: number, extra: Partial<DnsMessage> = {}): Uint8Array {
  return emitDnsMessage({
    id: 0x1234,
    flags: queryFlags(),
    questions: [{ name, type, class: DNS_CLASS_IN }],
    answers: [],
    authorities: [],
    additionals: [],
    ...extra,
  });
}

function ask(bytes: Uint8Array, transport: 'udp' | 'tcp' = 'udp', from = asker): DnsMessage {
  const out = zone.answer(bytes, from, transport);
  assert.ok(out, 'an answer');
  const r = parseDnsMessage(out);
  assert.ok(r.ok, `the answer parses (${r.ok ? '' : r.reason})`);
  return r.message;
}

const addresses = (m: DnsMessage): string[] => m.answers.flatMap((r) => (r.data.kind === 'address' ? [formatIp(r.data.address)] : []));

describe('DnsZone answers', () => {
  test('a dig query (byte fixture) for www.intranet.demo AAAA: CNAME then AAAA, id and question echoed, EDNS answered', () => {
    // Captured from `dig @127.0.0.1 -p 15353 www.intranet.demo AAAA` (DiG 9.18.49, Debian 12):
    // RD and AD set, one OPT record (payload 1232) with a DNS COOKIE option.
    const fixture = fromHex(
      '0276012000010000000000010377777708696e7472616e65740464656d6f00001c000100002904d000000000000c000a0008754403a23741dd70',
    );
    const m = ask(fixture);
    assert.equal(m.id, 0x0276);
    assert.equal(m.flags.qr, true);
    assert.equal(m.flags.aa, true);
    assert.equal(m.flags.rd, true, 'RD is copied from the query');
    assert.equal(m.flags.ra, false, 'this server does not recurse');
    assert.equal(m.flags.rcode, DnsRcode.NOERROR);
    assert.deepEqual(m.questions, [{ name: 'www.intranet.demo', type: DnsType.AAAA, class: DNS_CLASS_IN }]);
    assert.deepEqual(
      m.answers.map((r) => [r.name, r.type]),
      [
        ['www.intranet.demo', DnsType.CNAME],
        ['intranet.demo', DnsType.AAAA],
      ],
    );
    assert.deepEqual(addresses(m), ['fd44::1']);
    assert.deepEqual(m.additionals.map((r) => [r.type, r.class]), [[DnsType.OPT, 1232]], 'an OPT record back, payload 1232');
  });

  test('A and AAAA of the apex and the service names', () => {
    for (const name of ['intranet.demo', 'echo.intranet.demo', 'discard.intranet.demo', 'dns.intranet.demo']) {
      assert.deepEqual(addresses(ask(query(name, DnsType.A))), ['10.44.0.1'], name);
      assert.deepEqual(addresses(ask(query(name, DnsType.AAAA))), ['fd44::1'], name);
    }
  });

  test('names match case-insensitively, and the question keeps the asker’s case (0x20)', () => {
    const m = ask(query('InTrAnEt.DeMo', DnsType.A));
    assert.equal(m.questions[0].name, 'InTrAnEt.DeMo');
    assert.equal(m.answers[0].name, 'InTrAnEt.DeMo');
    assert.deepEqual(addresses(m), ['10.44.0.1']);
  });

  test('whoami answers with the asker’s registered addresses, in both families', () => {
    assert.deepEqual(addresses(ask(query('whoami.intranet.demo', DnsType.A))), ['10.44.0.7']);
    assert.deepEqual(addresses(ask(query('whoami.intranet.demo', DnsType.AAAA))), ['fd44::7']);
    assert.deepEqual(addresses(ask(query('whoami.intranet.demo', DnsType.AAAA), 'udp', parseIp('10.44.0.99'))), [], 'an unknown IPv4 asker: no AAAA');
  });

  test('NXDOMAIN with the SOA for an unknown name in the zone; NXDOMAIN without authority outside it', () => {
    const inside = ask(query('nope.intranet.demo', DnsType.A));
    assert.equal(inside.flags.rcode, DnsRcode.NXDOMAIN);
    assert.equal(inside.flags.aa, true);
    assert.deepEqual(inside.authorities.map((r) => r.type), [DnsType.SOA]);
    const outside = ask(query('example.com', DnsType.A));
    assert.equal(outside.flags.rcode, DnsRcode.NXDOMAIN);
    assert.equal(outside.flags.aa, false);
    assert.equal(outside.authorities.length, 0);
  });

  test('NODATA (NOERROR, no answers, SOA) for an existing name without that type', () => {
    const m = ask(query('echo.intranet.demo', DnsType.MX));
    assert.equal(m.flags.rcode, DnsRcode.NOERROR);
    assert.equal(m.answers.length, 0);
    assert.deepEqual(m.authorities.map((r) => r.type), [DnsType.SOA]);
  });

  test('NS, SOA and TXT at the apex; PTR for the demo peer’s reverse names', () => {
    const ns = ask(query('intranet.demo', DnsType.NS));
    assert.deepEqual(ns.answers.map((r) => (r.data.kind === 'name' ? r.data.name : '')), ['dns.intranet.demo']);
    assert.equal(ask(query('intranet.demo', DnsType.SOA)).answers[0].data.kind, 'soa');
    assert.equal(ask(query('intranet.demo', DnsType.TXT)).answers.length, 1);
    assert.equal(reverseName(parseIp('10.44.0.1')), '1.0.44.10.in-addr.arpa');
    assert.equal(reverseName(parseIp('fd44::1')), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.4.4.d.f.ip6.arpa');
    for (const a of ['10.44.0.1', 'fd44::1']) {
      const m = ask(query(reverseName(parseIp(a)), DnsType.PTR));
      assert.deepEqual(m.answers.map((r) => (r.data.kind === 'name' ? r.data.name : '')), ['intranet.demo']);
    }
  });

  test('ANY is answered with the name’s addresses (RFC 8482 allows a subset)', () => {
    assert.deepEqual(addresses(ask(query('intranet.demo', 255))).sort(), ['10.44.0.1', 'fd44::1']);
  });
});

describe('DnsZone refuses', () => {
  test('1. a response (QR set) is dropped, never answered', () => {
    const bytes = query('intranet.demo', DnsType.A);
    bytes[2] |= 0x80;
    assert.equal(zone.answer(bytes, asker, 'udp'), undefined);
  });

  test('2. fewer than 12 bytes are dropped', () => {
    assert.equal(zone.answer(new Uint8Array(5), asker, 'udp'), undefined);
    assert.ok((zone.stats().drops['too-short'] ?? 0) >= 1);
  });

  test('3. a question that does not parse is FORMERR with the id echoed', () => {
    const bytes = query('intranet.demo', DnsType.A).subarray(0, 20);
    const m = ask(bytes);
    assert.equal(m.id, 0x1234);
    assert.equal(m.flags.rcode, DnsRcode.FORMERR);
  });

  test('4. two questions are FORMERR', () => {
    const two = emitDnsMessage({
      id: 1,
      flags: queryFlags(),
      questions: [
        { name: 'a.intranet.demo', type: 1, class: 1 },
        { name: 'b.intranet.demo', type: 1, class: 1 },
      ],
      answers: [],
      authorities: [],
      additionals: [],
    });
    assert.equal(ask(two).flags.rcode, DnsRcode.FORMERR);
  });

  test('5. an opcode other than QUERY is NOTIMP', () => {
    const bytes = query('intranet.demo', DnsType.A);
    bytes[2] |= 2 << 3; // STATUS
    assert.equal(ask(bytes).flags.rcode, DnsRcode.NOTIMP);
  });

  test('6. class CH is REFUSED', () => {
    const m = ask(emitDnsMessage({ id: 2, flags: queryFlags(), questions: [{ name: 'version.bind', type: DnsType.TXT, class: 3 }], answers: [], authorities: [], additionals: [] }));
    assert.equal(m.flags.rcode, DnsRcode.REFUSED);
  });
});

describe('DnsZone and names made of arbitrary bytes (RFC 1035 §3.1, RFC 4343 §2.1)', () => {
  /** A query whose question name is the given wire labels, built byte by byte (no emitter). */
  function rawQuery(labels: number[][], type: number = DnsType.A): Uint8Array {
    const name = labels.flatMap((l) => [l.length, ...l]);
    return new Uint8Array([0x43, 0x21, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, type >> 8, type & 0xff, 0, 1]);
  }
  const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
  const intranet = [ascii('intranet'), ascii('demo')];
  /** The question section of a query or response (after the 12-byte header, through QCLASS). */
  const questionBytes = (m: Uint8Array): number[] => {
    let p = 12;
    while (m[p] !== 0) p += m[p] + 1;
    return [...m.subarray(12, p + 5)];
  };
  const hostile: [string, number[][]][] = [
    ['40 backslashes, then intranet.demo', [new Array(40).fill(0x5c), ...intranet]],
    ['a label holding dots: "echo.intranet" then demo', [ascii('echo.intranet'), ascii('demo')]],
    ['one label "echo.intranet.demo"', [ascii('echo.intranet.demo')]],
    ['a label ending in a dot', [ascii('x.'), ...intranet]],
    ['a label that is only a dot', [[0x2e], ...intranet]],
    ['NUL, DEL, 0xff and spaces', [[0, 0x7f, 0xff, 0x20, 0x20], ...intranet]],
    ['a 63-byte label of 0xff (252 characters in presentation form)', [new Array(63).fill(0xff), ...intranet]],
    ['a label whose bytes imitate a length-prefixed "intranet"', [[0x58, 8, ...ascii('intranet')], ascii('demo')]],
    ['backslash-digit look-alikes', [ascii('\\065\\'), ...intranet]],
    ['whoami with a trailing-dot label', [ascii('whoami.'), ...intranet]],
  ];
  for (const transport of ['udp', 'tcp'] as const) {
    for (const [what, labels] of hostile) {
      test(`${transport}: ${what}: answered, question echoed byte for byte, and never taken for another name`, () => {
        const q = rawQuery(labels);
        const out = zone.answer(q, asker, transport);
        assert.ok(out, 'an answer');
        assert.deepEqual(questionBytes(out), questionBytes(q), 'the question section is the query’s own bytes');
        const r = parseDnsMessage(out);
        assert.ok(r.ok);
        assert.equal(r.message.flags.rcode, DnsRcode.NXDOMAIN, 'none of these names exists');
        assert.equal(r.message.answers.length, 0);
        const underZone = labels.length > 2 && labels.slice(-2).every((l, i) => String.fromCharCode(...l) === ['intranet', 'demo'][i]);
        assert.equal(r.message.flags.aa, underZone, 'authoritative only for names below intranet.demo');
      });
    }
  }

  test('real names still answer after the hostile ones, case-insensitively', () => {
    const m = ask(rawQuery([ascii('ECHO'), ascii('Intranet'), ascii('DEMO')]));
    assert.deepEqual(addresses(m), ['10.44.0.1']);
    assert.equal(m.answers[0].name, 'ECHO.Intranet.DEMO', 'the owner keeps the asker’s case');
  });

  test('an error inside the zone becomes SERVFAIL for that query, counted, never an exception', () => {
    const broken = new DnsZone({
      zone: 'intranet.demo',
      address4: parseIp('10.44.0.1'),
      address6: parseIp('fd44::1'),
      clientAddresses: () => {
        throw new Error('registry exploded');
      },
    });
    const out = broken.answer(query('whoami.intranet.demo', DnsType.A), parseIp('fd44::9'), 'udp');
    assert.ok(out);
    const r = parseDnsMessage(out);
    assert.ok(r.ok);
    assert.equal(r.message.id, 0x1234);
    assert.equal(r.message.flags.rcode, DnsRcode.SERVFAIL);
    assert.equal(broken.stats().answers.SERVFAIL, 1);
    assert.equal(broken.stats().drops['internal-error'], undefined);
    assert.deepEqual(addresses(ask(query('echo.intranet.demo', DnsType.A))), ['10.44.0.1']);
  });
});
