/**
 * Fuzz: DNS messages (the client's parser, parse → emit → parse) and the demo peer's DNS zone,
 * which answers whatever a tunnel client sends it. Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { parseIp } from '../../src/shared/ip-address.ts';
import { DNS_CLASS_IN, DnsType, emitDnsMessage, ednsOptRecord, parseDnsMessage, queryFlags, type DnsMessage } from '../../src/protocols/dns/dns-message.ts';
import { DnsZone } from '../../src/node/demo/services/dns-zone.ts';
import { fuzzTest, property, type Rng } from '../helpers/fuzz.ts';

const TYPES = [DnsType.A, DnsType.AAAA, DnsType.CNAME, DnsType.NS, DnsType.PTR, DnsType.SOA, DnsType.TXT, DnsType.OPT, 255, 0, 65535];

function message(name: string, type: number, extra: Partial<DnsMessage> = {}): DnsMessage {
  return { id: 0x1234, flags: queryFlags(), questions: [{ name, type, class: DNS_CLASS_IN }], answers: [], authorities: [], additionals: [], ...extra };
}

/** A wire label of random bytes: dots, backslashes and control bytes included (they are legal on the wire). */
function randomLabel(rng: Rng): number[] {
  const pool = [0x2e, 0x5c, 0x00, 0x20, 0x7f, 0xff, 0x41, 0x61, 0x30];
  return Array.from({ length: rng.range(1, rng.chance(0.1) ? 63 : 12) }, () => (rng.chance(0.5) ? rng.pick(pool) : rng.below(256)));
}

/** A query or response built on the wire directly, so names hold any bytes. */
function generate(rng: Rng): Uint8Array {
  const out: number[] = [rng.below(256), rng.below(256), rng.chance(0.5) ? 0x01 : 0x85, rng.below(256), 0, 1, 0, rng.below(3), 0, rng.below(2), 0, rng.below(2)];
  const name = () => {
    for (let n = rng.range(0, 4); n > 0; n--) {
      const l = randomLabel(rng);
      out.push(l.length, ...l);
    }
    if (out.length > 14 && rng.chance(0.3)) out.push(0xc0, 12); // a pointer to the question name
    else out.push(...(rng.chance(0.5) ? [12, ...new TextEncoder().encode('intranet'), 4, ...new TextEncoder().encode('demo')] : []), 0);
  };
  name();
  out.push(0, rng.pick(TYPES), 0, 1);
  for (let r = rng.below(4); r > 0; r--) {
    name();
    const rdata = rng.bytes(rng.pick([0, 4, 16, rng.size(64)]));
    out.push(0, rng.pick(TYPES), rng.below(256), rng.below(256), 0, 0, 0, 60, rdata.length >> 8, rdata.length & 0xff, ...rdata);
  }
  return Uint8Array.from(out);
}

const corpus = [
  emitDnsMessage(message('intranet.demo', DnsType.A)),
  emitDnsMessage(message('www.intranet.demo', DnsType.AAAA, { additionals: [ednsOptRecord(1232)] })),
  emitDnsMessage(message('1.0.44.10.in-addr.arpa', DnsType.PTR)),
  emitDnsMessage(message('whoami.intranet.demo', DnsType.TXT)),
  emitDnsMessage(message(`${'\\\\'.repeat(40)}.intranet.demo`, DnsType.A)), // issue #11 item 1
  emitDnsMessage(
    {
      ...message('intranet.demo', DnsType.A),
      flags: { ...queryFlags(), qr: true, aa: true },
      answers: [{ name: 'intranet.demo', type: DnsType.A, class: DNS_CLASS_IN, ttl: 60, data: { kind: 'address', address: parseIp('10.44.0.1') } }],
    },
    { compress: true },
  ),
];

/** Uint8Array fields compare by content. */
const comparable = (m: DnsMessage) => JSON.parse(JSON.stringify(m, (_, v) => (v instanceof Uint8Array ? Array.from(v) : v)));

describe('fuzz: DNS', () => {
  fuzzTest('messages: parse never throws; what parses emits and parses back to the same message', 'dns-message', {
    corpus,
    generate,
    maxLength: 1500,
    check(input) {
      const r = parseDnsMessage(input);
      if (!r.ok) return;
      for (const compress of [false, true]) {
        let again: ReturnType<typeof parseDnsMessage>;
        try {
          again = parseDnsMessage(emitDnsMessage(r.message, { compress }));
        } catch (e) {
          // Some parsed messages cannot be emitted (RDATA of a type whose parsed form is checked on
          // emit); that is a RangeError, never anything else, and never about a name.
          property(e instanceof RangeError && !/not a valid DNS name/.test(e.message), `emit failed: ${(e as Error).message}`);
          continue;
        }
        property(again.ok, `the emitted message parses (${again.ok ? '' : again.reason})`);
        property(isDeepStrictEqual(comparable(again.message), comparable(r.message)), 'parse → emit → parse is the identity');
      }
    },
  });

  const zone = new DnsZone({ zone: 'intranet.demo', address4: parseIp('10.44.0.1'), address6: parseIp('fd44::1') });
  const asker = parseIp('10.44.0.7');
  fuzzTest('the demo zone answers any bytes without throwing, within the size the asker can take', 'demo-dns-zone', {
    corpus,
    generate,
    maxLength: 1500,
    check(input, rng) {
      const transport = rng.chance(0.8) ? 'udp' : 'tcp';
      const out = zone.answer(input, asker, transport);
      if (!out) return;
      const r = parseDnsMessage(out);
      property(r.ok, 'the answer parses');
      property(r.message.flags.qr, 'the answer is a response');
      if (transport === 'udp') property(out.length <= 1232, `a UDP answer fits the EDNS limit (${out.length} bytes)`);
    },
  });
});
