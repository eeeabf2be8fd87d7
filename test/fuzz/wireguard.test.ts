/**
 * Fuzz: WireGuard messages (views, parse/emit round trips) and Tunnel.receiveDatagram, which takes
 * every datagram the relay hands the browser. Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { COOKIE_REPLY_SIZE, INITIATION_SIZE, RESPONSE_SIZE } from '../../src/wireguard/constants.ts';
import {
  CookieReplyView,
  emitCookieReply,
  emitInitiation,
  emitResponse,
  emitTransport,
  InitiationView,
  messageType,
  parseCookieReply,
  parseInitiation,
  parseResponse,
  parseTransport,
  ResponseView,
  TransportView,
} from '../../src/wireguard/messages.ts';
import type { Tunnel } from '../../src/wireguard/tunnel.ts';
import { fuzzTest, property, sameBytes, type Rng } from '../helpers/fuzz.ts';
import { ALICE_ENDPOINT, establish, ipv4Packet, makePair } from '../wireguard/helpers.ts';

/** A real exchange between two tunnels: initiation, response, transport data, a keepalive. */
function exchange(): { bob: Tunnel; corpus: Uint8Array[]; now: number } {
  const { alice, bob } = makePair({ seed: 11 });
  const now = 1000;
  const trace = establish(alice, bob, now);
  const corpus = [...trace.alice, ...trace.bob].flatMap((r) => r.datagrams.map((d) => d.data));
  for (const size of [0, 40, 1200]) corpus.push(...alice.sendPacket(ipv4Packet('10.0.0.1', '10.0.0.2', size), now).datagrams.map((d) => d.data));
  corpus.push(emitCookieReply({ receiverIndex: 1, nonce: new Uint8Array(24), encryptedCookie: new Uint8Array(32) }));
  return { bob, corpus, now };
}

/** A message of each type with random fields (valid framing, garbage crypto). */
function generateMessage(rng: Rng): Uint8Array {
  const index = rng.u32();
  switch (rng.below(4)) {
    case 0:
      return emitInitiation({ senderIndex: index, ephemeral: rng.bytes(32), encryptedStatic: rng.bytes(48), encryptedTimestamp: rng.bytes(28), mac1: rng.bytes(16), mac2: rng.bytes(16) });
    case 1:
      return emitResponse({ senderIndex: index, receiverIndex: rng.u32(), ephemeral: rng.bytes(32), encryptedNothing: rng.bytes(16), mac1: rng.bytes(16), mac2: rng.bytes(16) });
    case 2:
      return emitCookieReply({ receiverIndex: index, nonce: rng.bytes(24), encryptedCookie: rng.bytes(32) });
    default:
      return emitTransport({ receiverIndex: index, counter: BigInt(rng.u32()) * BigInt(rng.range(0, 3)), encryptedPacket: rng.bytes(16 + rng.size(1400)) });
  }
}

describe('fuzz: WireGuard', () => {
  const { bob, corpus, now } = exchange();

  fuzzTest('messages: parse never throws, and what parses emits back to the same bytes', 'wireguard-messages', {
    corpus,
    generate: generateMessage,
    maxLength: 2048,
    check(input) {
      const type = messageType(input);
      const [i, r, c, t] = [parseInitiation(input), parseResponse(input), parseCookieReply(input), parseTransport(input)];
      property([i, r, c, t].filter((p) => p !== undefined).length <= 1, 'at most one message type parses');
      if (i) property(type === 1 && sameBytes(emitInitiation(i), input), 'initiation round trip');
      if (r) property(type === 2 && sameBytes(emitResponse(r), input), 'response round trip');
      if (c) property(type === 3 && sameBytes(emitCookieReply(c), input), 'cookie reply round trip');
      if (t) property(type === 4 && sameBytes(emitTransport(t), input), 'transport round trip');
      // The views throw RangeError for a wrong size, and only then.
      const sizes: [new (b: Uint8Array) => unknown, number][] = [[InitiationView, INITIATION_SIZE], [ResponseView, RESPONSE_SIZE], [CookieReplyView, COOKIE_REPLY_SIZE]];
      for (const [View, size] of sizes) {
        try {
          new View(input);
          property(input.length === size, `${View.name} accepts only ${size} bytes`);
        } catch (e) {
          property(e instanceof RangeError && input.length !== size, `${View.name} throws RangeError for a wrong size only`);
        }
      }
      if (input.length >= 32) new TransportView(input).counter;
    },
  });

  let clock = now;
fuzzTest('Tunnel.receiveDatagram: never throws, every datagram is handled or counted as one drop, never an internal error', 'tunnel-receive', {
    corpus,
    generate: generateMessage,
    maxLength: 2048,
    maxInputs: 20_000,
    check(input, rng) {
      clock += rng.below(3) === 0 ? rng.below(200_000) : 1;
      const before = bob.stats(clock).drops;
      const result = bob.receiveDatagram(input.slice(), ALICE_ENDPOINT, clock);
      const after = bob.stats(clock).drops;
      const added = Object.keys(after).reduce((n, k) => n + after[k as keyof typeof after] - before[k as keyof typeof before], 0);
      property(after['internal-error'] === 0, 'no exception escaped into the internal-error counter');
      property(added <= 1, `one datagram is at most one drop (got ${added})`);
      property(added === 1 || result.packets.length + result.datagrams.length + result.events.length > 0 || input.length >= 32, 'a datagram that does nothing is counted as a drop');
      // Timers run too, so handshakes and sessions the fuzzer creates age out as they would.
      bob.tick(clock);
    },
  });
});
