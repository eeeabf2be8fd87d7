import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { promises as nodeDns } from 'node:dns';
import * as dgram from 'node:dgram';
import { fromHex, toHex } from '../../../src/shared/bytes.ts';
import { formatIp } from '../../../src/shared/ip-address.ts';
import {
  DNS_CLASS_IN,
  DnsPacket,
  DnsRcode,
  DnsType,
  emitDnsMessage,
  nameToLabels,
  namesEqual,
  parseDnsMessage,
  queryFlags,
  rcodeName,
  typeName,
  type DnsMessage,
} from '../../../src/protocols/dns/dns-message.ts';

/*
 * Fixtures: real messages captured on loopback on 2026-11-24 with a logging UDP proxy between
 * clients and dnsmasq 2.90 (Debian 12), configured with
 *   --host-record=host.example.test,10.0.0.2,fd00::2 --cname=www.example.test,host.example.test
 *   --auth-zone=example.test --auth-server=ns.example.test,127.0.0.1
 *   --auth-soa=2024010101,hostmaster.example.test,1200,120,1209600,600 --auth-ttl=300
 * Queries came from `dig 9.18.49 +noedns` (flags RD AD) and from Node 20's c-ares (flags RD).
 */
const FIXTURES = {
  /** dig www.example.test A */
  digQueryA: '5a310120000100000000000003777777076578616d706c6504746573740000010001',
  /** dnsmasq's answer: CNAME (RDATA written out in full), then A whose owner is a pointer into that RDATA (0xc02e). */
  cnameAnswerA:
    '5a318580000100020000000003777777076578616d706c6504746573740000010001c00c000500010000012c00130468' +
    '6f7374076578616d706c65047465737400c02e000100010000012c00040a000002',
  /** the same for AAAA */
  cnameAnswerAAAA:
    '146d8580000100020000000003777777076578616d706c65047465737400001c0001c00c000500010000012c00130468' +
    '6f7374076578616d706c65047465737400c02e001c00010000012c0010fd000000000000000000000000000002',
  /** c-ares (Node dns.Resolver) host.example.test A */
  caresQueryA: '92920100000100000000000004686f7374076578616d706c6504746573740000010001',
  /** dnsmasq's answer to it: the A owner is a pointer to the question name (0xc00c). */
  caresAnswerA: '92928580000100010000000004686f7374076578616d706c6504746573740000010001c00c000100010000012c00040a000002',
  /** authoritative NXDOMAIN with the zone's SOA in the authority section (RFC 2308 §2.1 type 2) */
  nxdomainWithSoa:
    'a0be84030001000000010000046e6f7065076578616d706c6504746573740000010001076578616d706c6504746573740000' +
    '0600010000012c003e026e73076578616d706c650474657374000a686f73746d6173746572076578616d706c650474657374' +
    '0078a3f175000004b000000078001275000000012c',
};

function parse(hex: string): DnsMessage {
  const r = parseDnsMessage(fromHex(hex));
  assert.ok(r.ok, `parse failed: ${!r.ok && r.reason}`);
  return r.message;
}

describe('DnsPacket header view', () => {
  test('refuses fewer than 12 bytes', () => {
    assert.equal(DnsPacket.view(new Uint8Array(11)), undefined);
  });

  test('reads ID, QR, opcode, TC, RCODE and counts from a real NXDOMAIN', () => {
    const v = DnsPacket.view(fromHex(FIXTURES.nxdomainWithSoa))!;
    assert.equal(v.id, 0xa0be);
    assert.equal(v.isResponse, true);
    assert.equal(v.opcode, 0);
    assert.equal(v.truncated, false);
    assert.equal(v.rcode, DnsRcode.NXDOMAIN);
    assert.deepEqual([v.questionCount, v.answerCount, v.authorityCount, v.additionalCount], [1, 0, 1, 0]);
  });
});

describe('parsing real messages', () => {
  test("dig's query: one question, RD and AD set", () => {
    const m = parse(FIXTURES.digQueryA);
    assert.equal(m.id, 0x5a31);
    assert.equal(m.flags.qr, false);
    assert.equal(m.flags.rd, true);
    assert.equal(m.flags.ad, true);
    assert.deepEqual(m.questions, [{ name: 'www.example.test', type: DnsType.A, class: DNS_CLASS_IN }]);
  });

  test('a CNAME chain whose A owner points into the CNAME RDATA', () => {
    const m = parse(FIXTURES.cnameAnswerA);
    assert.equal(m.flags.qr && m.flags.aa && m.flags.rd && m.flags.ra, true);
    assert.equal(m.answers.length, 2);
    assert.deepEqual(m.answers[0], { name: 'www.example.test', type: DnsType.CNAME, class: 1, ttl: 300, data: { kind: 'name', name: 'host.example.test' } });
    assert.equal(m.answers[1].name, 'host.example.test');
    assert.equal(m.answers[1].data.kind, 'address');
    assert.equal(formatIp((m.answers[1].data as { address: Uint8Array }).address), '10.0.0.2');
  });

  test('AAAA records carry 16-byte addresses', () => {
    const m = parse(FIXTURES.cnameAnswerAAAA);
    assert.equal(formatIp((m.answers[1].data as { address: Uint8Array }).address), 'fd00::2');
  });

  test('an A owner that points back to the question name', () => {
    const m = parse(FIXTURES.caresAnswerA);
    assert.equal(m.answers[0].name, 'host.example.test');
  });

  test('NXDOMAIN with an SOA: every SOA field, for negative caching', () => {
    const m = parse(FIXTURES.nxdomainWithSoa);
    assert.equal(m.flags.rcode, DnsRcode.NXDOMAIN);
    assert.equal(rcodeName(m.flags.rcode), 'NXDOMAIN');
    const soa = m.authorities[0];
    assert.equal(soa.name, 'example.test');
    assert.equal(typeName(soa.type), 'SOA');
    assert.deepEqual(soa.data, {
      kind: 'soa',
      soa: { mname: 'ns.example.test', rname: 'hostmaster.example.test', serial: 2024010101, refresh: 1200, retry: 120, expire: 1209600, minimum: 300 },
    });
  });
});

describe('emitting', () => {
  test("a query built from fields is byte-identical to c-ares' query", () => {
    const bytes = emitDnsMessage({
      id: 0x9292,
      flags: queryFlags(),
      questions: [{ name: 'host.example.test', type: DnsType.A, class: DNS_CLASS_IN }],
      answers: [],
      authorities: [],
      additionals: [],
    });
    assert.equal(toHex(bytes), FIXTURES.caresQueryA);
  });

  test("parse then emit reproduces dig's query (and its AD flag)", () => {
    assert.equal(toHex(emitDnsMessage(parse(FIXTURES.digQueryA))), FIXTURES.digQueryA);
  });

  test("parse then emit with compression reproduces dnsmasq's A answer (same pointer choices)", () => {
    assert.equal(toHex(emitDnsMessage(parse(FIXTURES.caresAnswerA), { compress: true })), FIXTURES.caresAnswerA);
  });

  test('compressed output is shorter and parses back to the same message', () => {
    for (const hex of [FIXTURES.cnameAnswerA, FIXTURES.cnameAnswerAAAA, FIXTURES.nxdomainWithSoa]) {
      const m = parse(hex);
      const plain = emitDnsMessage(m);
      const packed = emitDnsMessage(m, { compress: true });
      assert.ok(packed.length < plain.length);
      assert.deepEqual(parse(toHex(packed)), m);
      assert.deepEqual(parse(toHex(plain)), m);
    }
  });

  test('names are compared case-insensitively when compressing', () => {
    const m: DnsMessage = {
      id: 1,
      flags: { ...queryFlags(), qr: true },
      questions: [{ name: 'Host.Example.TEST', type: DnsType.A, class: 1 }],
      answers: [{ name: 'host.example.test', type: DnsType.A, class: 1, ttl: 5, data: { kind: 'address', address: new Uint8Array([1, 2, 3, 4]) } }],
      authorities: [],
      additionals: [],
    };
    const bytes = emitDnsMessage(m, { compress: true });
    // header 12 + question (19 + 4) + answer (2-byte pointer + 10 + 4)
    assert.equal(bytes.length, 12 + 23 + 16);
  });
});

describe('hostile and broken input is refused, never thrown', () => {
  const real = fromHex(FIXTURES.cnameAnswerA);

  test('every truncation of a real answer fails cleanly', () => {
    for (let n = 0; n < real.length; n++) {
      const r = parseDnsMessage(real.subarray(0, n));
      assert.equal(r.ok, false, `prefix of ${n} bytes`);
    }
  });

  test('every single-byte corruption parses or fails without throwing', () => {
    for (let i = 0; i < real.length; i++) {
      for (const v of [0x00, 0x3f, 0x40, 0xc0, 0xff]) {
        const b = real.slice();
        b[i] = v;
        parseDnsMessage(b);
      }
    }
  });

  const header = (qd: number, an = 0) => [0, 1, 0x81, 0x80, 0, qd, 0, an, 0, 0, 0, 0];

  test('a pointer to itself is a loop', () => {
    const r = parseDnsMessage(new Uint8Array([...header(1), 0xc0, 12, 0, 1, 0, 1]));
    assert.deepEqual(r, { ok: false, reason: 'bad-pointer' });
  });

  test('a forward pointer is refused', () => {
    const r = parseDnsMessage(new Uint8Array([...header(1), 0xc0, 14, 0, 1, 0, 1, 1, 0x61, 0]));
    assert.deepEqual(r, { ok: false, reason: 'bad-pointer' });
  });

  test('a backward pointer that re-enters its own labels ends as "name too long"', () => {
    // question 1 = "a"; question 2 = label "b" then a pointer back to that same label "b".
    const r = parseDnsMessage(new Uint8Array([...header(2), 1, 0x61, 0, 0, 1, 0, 1, 1, 0x62, 0xc0, 19, 0, 1, 0, 1]));
    assert.deepEqual(r, { ok: false, reason: 'name-too-long' });
  });

  test('extended label types (0x40, 0x80) are refused', () => {
    assert.deepEqual(parseDnsMessage(new Uint8Array([...header(1), 0x41, 0, 0, 1, 0, 1])), { ok: false, reason: 'bad-label-type' });
    assert.deepEqual(parseDnsMessage(new Uint8Array([...header(1), 0x81, 0, 0, 1, 0, 1])), { ok: false, reason: 'bad-label-type' });
  });

  test('an A record with 5 bytes of RDATA is refused', () => {
    const bytes = [...header(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 5, 0, 5, 1, 2, 3, 4, 5];
    assert.deepEqual(parseDnsMessage(new Uint8Array(bytes)), { ok: false, reason: 'bad-rdata' });
  });

  test('TTLs with the top bit set read as 0 (RFC 2181 §8)', () => {
    const bytes = [...header(0, 1), 0, 0, 1, 0, 1, 0x80, 0, 0, 0, 0, 4, 1, 2, 3, 4];
    const r = parseDnsMessage(new Uint8Array(bytes));
    assert.ok(r.ok);
    assert.equal(r.message.answers[0].ttl, 0);
  });

  test('odd bytes in labels come back escaped', () => {
    const r = parseDnsMessage(new Uint8Array([...header(1), 3, 0x61, 0x2e, 0x00, 0, 0, 1, 0, 1]));
    assert.ok(r.ok);
    assert.equal(r.message.questions[0].name, 'a\\.\\000');
  });
});

describe('names from callers', () => {
  test('labels, trailing dot and root', () => {
    assert.deepEqual(nameToLabels('a.bc.').map((l) => l.length), [1, 2]);
    assert.deepEqual(nameToLabels('.'), []);
  });

  test('bad names throw RangeError naming the problem', () => {
    assert.throws(() => nameToLabels('a..b'), /empty label/);
    assert.throws(() => nameToLabels(`${'x'.repeat(64)}.example`), /longer than 63/);
    assert.throws(() => nameToLabels(Array(50).fill('abcde').join('.')), /longer than 253/);
    assert.throws(() => nameToLabels('bücher.example'), /punycode/);
  });

  test('presentation escapes map back to the exact label bytes (RFC 1035 §5.1): \\. \\\\ \\DDD', () => {
    assert.deepEqual(nameToLabels('a\\.b.c').map((l) => [...l]), [[0x61, 0x2e, 0x62], [0x63]]);
    assert.deepEqual(nameToLabels('\\\\\\000\\255.x').map((l) => [...l]), [[0x5c, 0, 255], [0x78]]);
    assert.throws(() => nameToLabels('a\\256.b'), /escape/);
    assert.throws(() => nameToLabels('a\\'), /escape/);
  });

  test('every byte value in every label position survives parse then emit, byte for byte', () => {
    for (let b = 0; b < 256; b++) {
      // Labels: [b, 'x', b] then a 63-byte label of b, then 'demo' (wire length stays under 255).
      const name = [3, b, 0x78, b, 63, ...new Array(63).fill(b), 4, 0x64, 0x65, 0x6d, 0x6f, 0];
      const wire = new Uint8Array([0, 1, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 1, 0, 1]);
      const r = parseDnsMessage(wire);
      assert.ok(r.ok, `byte ${b} parses`);
      assert.deepEqual([...emitDnsMessage(r.message)], [...wire], `byte ${b} round-trips`);
      assert.deepEqual([...emitDnsMessage(r.message, { compress: true })], [...wire], `byte ${b} round-trips with compression`);
    }
  });

  test('a label holding a dot never compresses against the two labels it looks like', () => {
    const m: DnsMessage = {
      id: 1,
      flags: queryFlags(),
      questions: [{ name: 'a\\.b', type: 1, class: 1 }, { name: 'a.b', type: 1, class: 1 }],
      answers: [],
      authorities: [],
      additionals: [],
    };
    const r = parseDnsMessage(emitDnsMessage(m, { compress: true }));
    assert.ok(r.ok);
    assert.deepEqual(r.message.questions.map((q) => q.name), ['a\\.b', 'a.b']);
  });

  test('namesEqual compares label bytes: \\065 is A, a\\.b is not a.b', () => {
    assert.equal(namesEqual('\\065bc.test', 'abc.TEST'), true);
    assert.equal(namesEqual('a\\.b', 'a.b'), false);
  });

  test('namesEqual ignores case and a trailing dot', () => {
    assert.equal(namesEqual('WWW.Example.test.', 'www.example.TEST'), true);
    assert.equal(namesEqual('www.example.test', 'ww.example.test'), false);
  });
});

describe("cross-check: Node's c-ares decodes what emitDnsMessage writes", () => {
  test('a compressed CNAME + A + AAAA answer served on loopback', async () => {
    const server = dgram.createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      const q = parseDnsMessage(new Uint8Array(msg));
      if (!q.ok) return;
      const question = q.message.questions[0];
      const answers =
        question.type === DnsType.A
          ? [{ name: 'host.example.test', type: DnsType.A, class: 1, ttl: 60, data: { kind: 'address' as const, address: new Uint8Array([10, 0, 0, 7]) } }]
          : [{ name: 'host.example.test', type: DnsType.AAAA, class: 1, ttl: 60, data: { kind: 'address' as const, address: fromHex('fd000000000000000000000000000007') } }];
      const reply = emitDnsMessage(
        {
          id: q.message.id,
          flags: { ...q.message.flags, qr: true, ra: true },
          questions: [question],
          answers: [{ name: question.name, type: DnsType.CNAME, class: 1, ttl: 60, data: { kind: 'name', name: 'host.example.test' } }, ...answers],
          authorities: [],
          additionals: [],
        },
        { compress: true },
      );
      server.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    try {
      const resolver = new nodeDns.Resolver({ tries: 1, timeout: 5000 });
      resolver.setServers([`127.0.0.1:${server.address().port}`]);
      assert.deepEqual(await resolver.resolve4('www.example.test'), ['10.0.0.7']);
      assert.deepEqual(await resolver.resolve6('www.example.test'), ['fd00::7']);
      assert.deepEqual(await resolver.resolveCname('www.example.test'), ['host.example.test']);
    } finally {
      server.close();
    }
  });
});

test('constants match RFC 1035 / RFC 3596', () => {
  assert.equal(DnsType.A, 1);
  assert.equal(DnsType.AAAA, 28);
  assert.equal(DnsRcode.SERVFAIL, 2);
  assert.equal(typeName(99), 'TYPE99');
});

describe('names with dots, backslashes and other bytes inside labels (found by test/fuzz/dns.test.ts)', () => {
  // Header (1 question) + QNAME a\.b . <40 backslashes> . \000\127\255 . demo + QTYPE A, QCLASS IN.
  const wire = fromHex(
    '123401000001000000000000' +
      '03612e62' +
      '28' + '5c'.repeat(40) +
      '03007fff' +
      '0464656d6f00' +
      '00010001',
  );
  const name = `a\\.b.${'\\\\'.repeat(40)}.\\000\\127\\255.demo`;

  test('parse writes them in RFC 1035 §5.1 escapes', () => {
    const r = parseDnsMessage(wire);
    assert.ok(r.ok);
    assert.equal(r.message.questions[0].name, name);
  });

  test('emit reads the escapes back: parse → emit gives the same bytes (the demo DNS crash of issue #11 item 1)', () => {
    const r = parseDnsMessage(wire);
    assert.ok(r.ok);
    assert.equal(toHex(emitDnsMessage(r.message)), toHex(wire));
    assert.equal(toHex(emitDnsMessage(r.message, { compress: true })), toHex(wire));
  });

  test('nameToLabels decodes \\. \\\\ and \\DDD, and rejects bad escapes', () => {
    assert.deepEqual(nameToLabels('a\\.b.c').map((l) => String.fromCharCode(...l)), ['a.b', 'c']);
    assert.deepEqual(nameToLabels('\\065\\\\.x.').map((l) => Array.from(l)), [[0x41, 0x5c], [0x78]]);
    assert.throws(() => nameToLabels('a\\256'), RangeError);
    assert.throws(() => nameToLabels('a\\'), RangeError);
    assert.throws(() => nameToLabels(`${'\\\\'.repeat(64)}.demo`), RangeError);
  });

  test('compression never merges a label holding a "." byte with two labels', () => {
    const labelWithDot = emitDnsMessage(
      { id: 1, flags: queryFlags(), questions: [{ name: 'a\\.b', type: DnsType.A, class: 1 }, { name: 'a.b', type: DnsType.A, class: 1 }], answers: [], authorities: [], additionals: [] },
      { compress: true },
    );
    const r = parseDnsMessage(labelWithDot);
    assert.ok(r.ok);
    assert.deepEqual(r.message.questions.map((q) => q.name), ['a\\.b', 'a.b']);
  });
});
