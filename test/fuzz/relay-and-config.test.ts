/**
 * Fuzz: what reaches the relay (wgweb.v2 batches, the WireGuard shape check, request URLs) and
 * the wg-quick parser (any text a user pastes). Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import { DatagramBatchWriter, parseDatagramBatch } from '../../src/shared/datagram-batch.ts';
import { DatagramStreamReader } from '../../src/shared/datagram-stream-reader.ts';
import { parseRelayRequest, RELAY_V2_MAX_DATAGRAMS, wireguardMessageShape } from '../../src/shared/relay-protocol.ts';
import { checkWgQuickConfig, formatWgQuickConfig, redactKeys } from '../../src/shared/wg-quick-config.ts';
import { fuzzTest, property, sameBytes, utf8, type Rng } from '../helpers/fuzz.ts';

const KEY_A = 'WAC5Q8HtooNmrK54XVHGptbvJsUm5IqVzBWa7SgoqGk=';
const KEY_B = '7vaHKfLOYVtQPB/Q3S0HQAp70mnrSa1lSVb9WrXpKHQ=';
const CONFIGS = [
  `[Interface]\nPrivateKey = ${KEY_A}\nAddress = 10.0.0.2/32, fd00::2/128\nDNS = 10.0.0.1, corp.example\nMTU = 1380\n\n[Peer]\nPublicKey = ${KEY_B}\nPresharedKey = ${KEY_A}\nEndpoint = vpn.example.com:51820\nAllowedIPs = 0.0.0.0/0, ::/0\nPersistentKeepalive = 25\n`,
  `\ufeff[interface]\r\nprivatekey=${KEY_A}\r\nListenPort = 51820 # comment\r\n[Peer]\r\nPublicKey=${KEY_B}\r\nAllowedIPs=10.0.0.0/24\r\nEndpoint=[fe80::1%eth0]:51820\r\n`,
  `[Interface]\nPrivateKey = ${KEY_A}\nPostUp = iptables -A FORWARD\nJc = 4\n[Peer]\nPublicKey = ${KEY_B}\nAllowedIP = 10.0.0.0/8\n${KEY_A}\n[${KEY_B}]\n`,
];

/** A config assembled from real keys and values with odd spacing, case, comments and misplaced keys. */
function generateConfig(rng: Rng): Uint8Array {
  const keys = ['PrivateKey', 'Address', 'DNS', 'MTU', 'ListenPort', 'FwMark', 'PublicKey', 'PresharedKey', 'Endpoint', 'AllowedIPs', 'PersistentKeepalive', 'Table', 'privatekey', 'AllowedIP'];
  const values = [KEY_A, KEY_B, KEY_A.slice(0, 43), '10.0.0.2/32', 'fd00::1/64', '0.0.0.0/0, ::/0', 'vpn.example.com:51820', '[2001:db8::1]:51820', '1.2.3.4:0', 'off', '0', '65535', '0x10', '', '"quoted"', 'a b c', '1.2.3.4/33'];
  let s = '';
  for (let n = rng.range(1, 14); n > 0; n--) {
    if (rng.chance(0.25)) s += rng.pick(['[Interface]', '[Peer]', '[ Peer ]', '[peer', '[Other]']) + '\n';
    else s += `${rng.pick(keys)}${rng.pick([' = ', '=', ' =\t', ' '])}${rng.pick(values)}${rng.pick(['', ' # c', ' ; c'])}${rng.pick(['\n', '\r\n'])}`;
  }
  return utf8.encode(s);
}

describe('fuzz: relay frames and the wg-quick parser', () => {
  fuzzTest('wgweb.v2 batches: parse never throws; what parses is rebuilt byte for byte by the writer', 'relay-batch', {
    corpus: [Uint8Array.of(0, 4, 4, 0, 0, 0), Uint8Array.of(0, 1, 9, 0, 2, 1, 2)],
    generate(rng) {
      const w = new DatagramBatchWriter();
      for (let n = rng.range(1, 5); n > 0; n--) w.add(rng.bytes(rng.range(1, 200)));
      return w.take()!;
    },
    maxLength: 4096,
    check(input) {
      const shape = wireguardMessageShape(input);
      property(shape === undefined || input.length >= 32, 'a WireGuard shape is at least 32 bytes');
      const r = parseDatagramBatch(input);
      if (!r.ok) return;
      property(r.datagrams.length >= 1 && r.datagrams.length <= RELAY_V2_MAX_DATAGRAMS, 'a batch holds 1 to 64 datagrams');
      const w = new DatagramBatchWriter();
      for (const d of r.datagrams) w.add(d);
      property(sameBytes(w.take()!, input), 'the writer rebuilds the same message');
    },
  });

  fuzzTest('fetch-stream bodies: any bytes in any chunks never throw and give the records of the whole body at once', 'relay-stream-body', {
    corpus: [Uint8Array.of(0, 4, 4, 0, 0, 0, 0, 1, 9), Uint8Array.of(0, 1, 9, 0, 0, 1)],
    generate(rng) {
      const parts: Uint8Array[] = [];
      for (let n = rng.range(1, 8); n > 0; n--) {
        const w = new DatagramBatchWriter();
        w.add(rng.bytes(rng.range(1, 300)));
        parts.push(w.take()!);
      }
      return Uint8Array.from(parts.flatMap((p) => [...p]));
    },
    maxLength: 4096,
    check(input) {
      // Small record limits so that the splitting of a chunk's records is exercised too.
      const limits = { maxMessage: 65537, maxDatagrams: 3 };
      const run = (cut: (i: number) => number): { ok: boolean; datagrams: Uint8Array[] } => {
        const reader = new DatagramStreamReader(limits);
        const datagrams: Uint8Array[] = [];
        let ok = true;
        for (let at = 0, i = 0; at < input.length && ok; i++) {
          const n = cut(i);
          ok = reader.push(input.slice(at, at + n), (span) => {
            const p = parseDatagramBatch(span, limits);
            property(p.ok, 'every span is a batch within the limits');
            datagrams.push(...p.datagrams.map((d) => d.slice()));
          });
          at += n;
          property(reader.pendingBytes <= 65537, 'at most one record is held between chunks');
        }
        return { ok, datagrams };
      };
      const whole = run(() => input.length);
      const cut = run((i) => 1 + (input[i % input.length] % 37));
      property(whole.ok === cut.ok, 'the framing breaks in both or in neither');
      property(whole.datagrams.length === cut.datagrams.length && whole.datagrams.every((d, i) => sameBytes(d, cut.datagrams[i])), 'the same records whatever the chunks');
    },
  });

  fuzzTest('relay request URLs: never throw; an accepted one names one endpoint with a port', 'relay-request', {
    corpus: ['/wg?to=vpn.example.com:51820', '/wg?to=[2001:db8::1]:51820', '/wg?to=10.0.0.1:51820&to=x', '/wg?to=%5B::1%5D:1', '//x/wg?to=a:1'].map(utf8.encode),
    maxLength: 512,
    check(input) {
      const r = parseRelayRequest(utf8.decode(input));
      if (r.ok) property(r.endpoint.port >= 1 && r.endpoint.port <= 65535 && r.endpoint.host !== '', 'an accepted endpoint has a host and a port');
      else if (r.status === 400) property(new TextEncoder().encode(r.reason).length <= 123, 'a refusal sent as a close reason fits one');
    },
  });

  fuzzTest('wg-quick configs: never throw; valid ones format and parse back equal; no message quotes a key', 'wg-quick-config', {
    corpus: CONFIGS.map(utf8.encode),
    generate: generateConfig,
    maxLength: 4096,
    check(input) {
      const { config, errors, warnings } = checkWgQuickConfig(utf8.decode(input));
      for (const i of [...errors, ...warnings]) property(redactKeys(i.message) === i.message, `a message quotes key material: ${i.message}`);
      if (!config) return;
      const again = checkWgQuickConfig(formatWgQuickConfig(config));
      property(again.config !== undefined && isDeepStrictEqual(again.config, config), 'format → parse gives the same config');
    },
  });
});
