/**
 * Shared fixtures for the WireGuard tests: a seeded PRNG (deterministic keys, indices, jitter),
 * IP packet builders, and a two-tunnel harness that carries datagrams between in-memory peers.
 */
import { parsePrefix, type Endpoint } from '../../src/shared/ip-address.ts';
import { generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';
import { Tunnel, type TunnelOptions, type TunnelResult } from '../../src/wireguard/tunnel.ts';
import type { RandomBytes } from '../../src/shared/bytes.ts';

/** sfc32: a small, fast, seedable PRNG. Not cryptographic; only for reproducible tests. */
export function seededRandom(seed: number): RandomBytes {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 + seed;
  let c = 0xb7e15162 ^ (seed * 31);
  let d = 1;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 16; i++) next();
  return (length: number) => {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i += 4) {
      const v = next();
      for (let j = 0; j < 4 && i + j < length; j++) out[i + j] = v >>> (8 * j);
    }
    return out;
  };
}

/** A deterministic key pair. */
export function keyPair(random: RandomBytes): { privateKey: Uint8Array; publicKey: Uint8Array } {
  const privateKey = generatePrivateKey(random);
  return { privateKey, publicKey: publicKeyFromPrivate(privateKey) };
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

/** An IPv4 UDP packet from `src` to `dst` with `payloadLength` bytes of payload (checksums zero). */
export function ipv4Packet(src: string, dst: string, payloadLength = 8, fill = 0xab): Uint8Array {
  const total = 20 + 8 + payloadLength;
  const p = new Uint8Array(total);
  p[0] = 0x45;
  p[2] = total >> 8;
  p[3] = total & 255;
  p[8] = 64;
  p[9] = 17;
  p.set(ipv4Bytes(src), 12);
  p.set(ipv4Bytes(dst), 16);
  p[20] = 0x30; p[21] = 0x39; p[22] = 0x00; p[23] = 0x35;
  p[24] = (8 + payloadLength) >> 8;
  p[25] = (8 + payloadLength) & 255;
  p.fill(fill, 28);
  return p;
}

/** An IPv6 UDP packet from `src` to `dst` (addresses as text). */
export function ipv6Packet(src: string, dst: string, payloadLength = 8, fill = 0xcd): Uint8Array {
  const s = parsePrefix(src).address;
  const d = parsePrefix(dst).address;
  const p = new Uint8Array(40 + 8 + payloadLength);
  p[0] = 0x60;
  p[4] = (8 + payloadLength) >> 8;
  p[5] = (8 + payloadLength) & 255;
  p[6] = 17;
  p[7] = 64;
  p.set(s, 8);
  p.set(d, 24);
  p[44] = (8 + payloadLength) >> 8;
  p[45] = (8 + payloadLength) & 255;
  p.fill(fill, 48);
  return p;
}

export const ALICE_ENDPOINT: Endpoint = { host: '192.0.2.1', port: 51820 };
export const BOB_ENDPOINT: Endpoint = { host: '198.51.100.2', port: 51821 };

/** Two tunnels that know each other: alice (10.0.0.1, fd00::1) and bob (10.0.0.2, fd00::2). */
export function makePair(opts: { psk?: Uint8Array; seed?: number; alice?: TunnelOptions; bob?: TunnelOptions; aliceKeepalive?: number; bobKeepalive?: number; bobKnowsAlice?: boolean } = {}) {
  const random = seededRandom(opts.seed ?? 1);
  const a = keyPair(random);
  const b = keyPair(random);
  const alice = new Tunnel(
    {
      privateKey: a.privateKey,
      peers: [{ publicKey: b.publicKey, presharedKey: opts.psk, endpoint: BOB_ENDPOINT, allowedIPs: [parsePrefix('10.0.0.2/32'), parsePrefix('fd00::2/128')], persistentKeepalive: opts.aliceKeepalive }],
    },
    { randomBytes: seededRandom((opts.seed ?? 1) + 100), wallClockOffsetMs: 1_700_000_000_000, ...opts.alice },
  );
  const bob = new Tunnel(
    {
      privateKey: b.privateKey,
      peers: [{ publicKey: a.publicKey, presharedKey: opts.psk, endpoint: opts.bobKnowsAlice === false ? undefined : ALICE_ENDPOINT, allowedIPs: [parsePrefix('10.0.0.1/32'), parsePrefix('fd00::1/128')], persistentKeepalive: opts.bobKeepalive }],
    },
    { randomBytes: seededRandom((opts.seed ?? 1) + 200), wallClockOffsetMs: 1_700_000_000_000, ...opts.bob },
  );
  return { alice, bob, aliceKey: a, bobKey: b, aliceId: alice.publicKey, bobId: bob.publicKey };
}

/** Collected output while shuttling datagrams back and forth. */
export interface Trace {
  alice: TunnelResult[];
  bob: TunnelResult[];
}

/**
 * Delivers `first` (output of `from`) to the other tunnel, and keeps delivering replies both ways
 * until nothing is left. Returns everything each side produced (including `first` for its sender).
 */
export function shuttle(alice: Tunnel, bob: Tunnel, first: TunnelResult, firstFrom: 'alice' | 'bob', now: number): Trace {
  const trace: Trace = { alice: [], bob: [] };
  trace[firstFrom].push(first);
  let queue: { to: 'alice' | 'bob'; data: Uint8Array }[] = first.datagrams.map((d) => ({ to: firstFrom === 'alice' ? 'bob' : 'alice', data: d.data }));
  for (let rounds = 0; queue.length > 0 && rounds < 100; rounds++) {
    const nextQueue: typeof queue = [];
    for (const item of queue) {
      const target = item.to === 'alice' ? alice : bob;
      const from = item.to === 'alice' ? BOB_ENDPOINT : ALICE_ENDPOINT;
      const r = target.receiveDatagram(item.data, from, now);
      trace[item.to].push(r);
      for (const d of r.datagrams) nextQueue.push({ to: item.to === 'alice' ? 'bob' : 'alice', data: d.data });
    }
    queue = nextQueue;
  }
  return trace;
}

/** All events of one type in a list of results. */
export function eventsOf<T extends TunnelResult['events'][number]['type']>(results: TunnelResult[], type: T): Extract<TunnelResult['events'][number], { type: T }>[] {
  return results.flatMap((r) => r.events).filter((e) => e.type === type) as Extract<TunnelResult['events'][number], { type: T }>[];
}

/** All packets delivered in a list of results. */
export function packetsOf(results: TunnelResult[]): Uint8Array[] {
  return results.flatMap((r) => r.packets.map((p) => p.data));
}

/** Establishes a session (alice initiates) at `now`; returns the trace. */
export function establish(alice: Tunnel, bob: Tunnel, now: number): Trace {
  return shuttle(alice, bob, alice.connect(now), 'alice', now);
}
