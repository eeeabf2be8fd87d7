/**
 * Fuzz: the packet list's TLS recogniser (src/protocols/tls/tls-record-summary.ts) reads any TCP
 * payload an intranet server (or anything in between) may send. Starting from real openssl
 * handshakes, mutated and cut anywhere, it never throws, says `undefined` only for bytes that do
 * not start with a record header, and its summary is plain data whose counts agree with each other.
 * Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { summarizeTlsPayload } from '../../src/protocols/tls/tls-record-summary.ts';
import { summarizePacket } from '../../src/browser/capture/packet-summary.ts';
import { emitRecord } from '../../src/protocols/tls/tls-record.ts';
import { TcpFlag } from '../../src/netstack/wire/tcp.ts';
import { handshakeFlights } from '../protocols/tls/fixtures/openssl-handshakes.ts';
import { tcpPacket } from '../browser/capture/packet-fixtures.ts';
import { fuzzTest, property, type Rng } from '../helpers/fuzz.ts';

const CORPUS = (['tls13', 'tls12', 'hrr', 'untrusted'] as const).flatMap((n) => handshakeFlights(n).map((f) => f.bytes));

/** A few records of random types around handshake-looking bodies (types and 24-bit lengths that may lie). */
function generate(rng: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let n = 1 + rng.below(4); n > 0; n--) {
    const type = rng.pick([20, 21, 22, 22, 22, 23]);
    let body = rng.bytes(rng.size(300));
    if (type === 22 && body.length >= 4) {
      body[0] = rng.pick([1, 2, 4, 8, 11, 12, 14, 15, 16, 20, 99]);
      const len = rng.chance(0.7) ? body.length - 4 : rng.below(0x1000000);
      body.set([len >>> 16, (len >>> 8) & 0xff, len & 0xff], 1);
    }
    if (type === 21 && rng.chance(0.7)) body = Uint8Array.of(rng.pick([1, 2, 3]), rng.below(256));
    parts.push(emitRecord(type, rng.pick([0x0301, 0x0303, 0x0304]), body));
  }
  const all = Uint8Array.from(parts.flatMap((p) => [...p]));
  // Cut like a TCP segment boundary.
  return rng.chance(0.5) ? all.subarray(0, rng.below(all.length + 1)) : all;
}

describe('fuzz: TLS records in the packet list', () => {
  fuzzTest('the TLS recogniser never throws and its summary is consistent plain data', 'tls-record-summary', {
    corpus: CORPUS,
    generate,
    maxLength: 4096,
    check: (input) => {
      const s = summarizeTlsPayload(input);
      const header = input.length >= 5 && input[0]! >= 20 && input[0]! <= 23 && input[1] === 3;
      if (!header) property(s === undefined, 'no record header, no TLS summary');
      if (!s) return;
      property(s.records >= 1, 'at least the first record');
      property(s.messages.length >= 1, 'every record names what it carries');
      property(typeof s.info === 'string' && s.info.length > 0, 'an Info line');
      property(s.alert === undefined || s.messages.includes('Alert'), 'an alert is listed');
      property((s.version === undefined) === (s.cipherSuite === undefined), 'a ServerHello gives version and suite together');
      property(s.helloRetryRequest === undefined || s.messages.includes('Hello Retry Request'), 'a HelloRetryRequest is listed');
      structuredClone(s);
      // Through the packet summary too: a TLS row is TCP underneath.
      const row = summarizePacket(tcpPacket('10.8.0.1', '10.8.0.2', { srcPort: 443, dstPort: 51234, flags: TcpFlag.PSH | TcpFlag.ACK, payload: input }));
      property(row.protocol === 'TLS' && row.tcp !== undefined && row.info === s.info, 'the packet list row shows the TLS summary');
    },
  });
});
