/**
 * The probe bench/browser-js-probe.ts runs both in a Chromium worker and in Node: the WireGuard
 * data path and the primitives it is made of, in tight loops, best of 3 rounds each.
 *
 *   tunnelMBs        Tunnel.sendPacket + the peer's receiveDatagram, 1420-byte packets
 *   receiveMBs       receiveDatagram alone (messages sealed beforehand), a plaintext buffer per packet
 *   receiveInPlaceMBs the same with TunnelOptions.decryptInPlace (what the Session uses)
 *   aeadMBs          the TypeScript transport AEAD alone, seal + open in place (1420 B)
 *   aead{Ts,Wasm}{64,1420,16384}MBs  the TypeScript and the WebAssembly SIMD AEAD (src/wireguard/wasm/),
 *                    seal + open in place at three sizes (#19 item 4)
 *   alloc1420Ns      new Uint8Array(1420) (a backing store off the V8 heap; the GC it causes included)
 *   alloc48Ns        new Uint8Array(48) (small enough to live on the V8 heap)
 *   set1420Ns        copying 1420 bytes with set()
 */
import { parsePrefix } from '../src/shared/ip-address.ts';
import { generatePrivateKey, publicKeyFromPrivate } from '../src/wireguard/noise-keys.ts';
import { Tunnel, type TunnelOptions } from '../src/wireguard/tunnel.ts';
import { TransportAead } from '../src/wireguard/transport-aead.ts';
import { WasmTransportAead, wasmTransportAeadStatus } from '../src/wireguard/wasm/wasm-transport-aead.ts';
import { rate } from './op-rate.ts';

declare const PROBE_IN_WORKER: boolean;

const ALICE = { host: '192.0.2.1', port: 51820 };
const BOB = { host: '192.0.2.2', port: 51820 };
const SIZE = 1420;

function pair(bob: TunnelOptions): { send: () => void; receiveRate: (ms: number) => number } {
  const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
  const a = generatePrivateKey(random);
  const b = generatePrivateKey(random);
  const at = { randomBytes: random, wallClockOffsetMs: 1.7e12 };
  const alice = new Tunnel({ privateKey: a, peers: [{ publicKey: publicKeyFromPrivate(b), endpoint: BOB, allowedIPs: [parsePrefix('10.0.0.2/32')] }] }, at);
  const bobT = new Tunnel({ privateKey: b, peers: [{ publicKey: publicKeyFromPrivate(a), endpoint: ALICE, allowedIPs: [parsePrefix('10.0.0.1/32')] }] }, { ...at, ...bob });
  const init = alice.connect(1000);
  const resp = bobT.receiveDatagram(init.datagrams[0].data, ALICE, 1000);
  const done = alice.receiveDatagram(resp.datagrams[0].data, BOB, 1000);
  bobT.receiveDatagram(done.datagrams[0].data, ALICE, 1000);
  const p = new Uint8Array(SIZE);
  p[0] = 0x45;
  p[2] = SIZE >> 8;
  p[3] = SIZE & 0xff;
  p[8] = 64;
  p[9] = 17;
  p.set([10, 0, 0, 1], 12);
  p.set([10, 0, 0, 2], 16);
  return {
    // Sealed beforehand in rounds of 512, outside the clock, so only the receiving side is timed.
    receiveRate: (ms: number) => {
      let packets = 0;
      let spent = 0;
      while (spent < ms) {
        const sealed = Array.from({ length: 512 }, () => alice.sendPacket(p, 2000).datagrams[0].data);
        const t0 = performance.now();
        for (const m of sealed) packets += bobT.receiveDatagram(m, ALICE, 2000).packets.length;
        spent += performance.now() - t0;
      }
      return (packets * 1000) / spent;
    },
    send: () => {
      const out = alice.sendPacket(p, 2000);
      if (bobT.receiveDatagram(out.datagrams[0].data, ALICE, 2000).packets.length !== 1) throw new Error('probe: a packet was lost');
    },
  };
}

/** Runs every probe; rates in MB/s, costs in ns. */
export function runProbe(): Record<string, number> {
  const plain = pair({});
  const inPlace = pair({ decryptInPlace: true });
  const aead = new TransportAead(crypto.getRandomValues(new Uint8Array(32)));
  const buf = new Uint8Array(SIZE + 32);
  let counter = 0;
  const sealOpen = (): void => {
    aead.seal(buf, 16, SIZE, counter, 0);
    if (!aead.open(buf, 16, SIZE, buf, 16, counter++, 0)) throw new Error('probe: open failed');
  };
  const wasmStatus = wasmTransportAeadStatus();
  if (!wasmStatus.available) throw new Error(`probe: the WebAssembly AEAD does not run here: ${wasmStatus.reason}`);
  const key = crypto.getRandomValues(new Uint8Array(32));
  const sized = [64, 1420, 16384].flatMap((size) => {
    const b = new Uint8Array(16 + size + 16);
    const loop = (a: TransportAead | WasmTransportAead): (() => void) => {
      let n = 0;
      return () => {
        a.seal(b, 16, size, n, 0);
        if (!a.open(b, 16, size, b, 16, n++, 0)) throw new Error('probe: open failed');
      };
    };
    return [
      { k: `aeadTs${size}MBs`, size, fn: loop(new TransportAead(key)) },
      { k: `aeadWasm${size}MBs`, size, fn: loop(new WasmTransportAead(key)) },
    ];
  });
  let sink = 0;
  const src = new Uint8Array(SIZE).fill(3);
  const dst = new Uint8Array(SIZE);
  const r: Record<string, number> = {};
  const mbs = (k: string, fn: () => void): void => void (r[k] = Math.max(r[k] ?? 0, (rate(fn, 300, 200) * SIZE) / 1e6));
  const ns = (k: string, fn: () => void): void => void (r[k] = Math.min(r[k] ?? Infinity, 1e9 / rate(fn, 150, 200)));
  for (let round = 0; round < 3; round++) {
    mbs('tunnelMBs', plain.send);
    r.receiveMBs = Math.max(r.receiveMBs ?? 0, (plain.receiveRate(300) * SIZE) / 1e6);
    r.receiveInPlaceMBs = Math.max(r.receiveInPlaceMBs ?? 0, (inPlace.receiveRate(300) * SIZE) / 1e6);
    mbs('aeadMBs', sealOpen);
    for (const { k, size, fn } of sized) r[k] = Math.max(r[k] ?? 0, (rate(fn, 300, 200) * size) / 1e6);
    ns('alloc1420Ns', () => void (sink += new Uint8Array(SIZE).length));
    ns('alloc48Ns', () => void (sink += new Uint8Array(48).length));
    ns('set1420Ns', () => dst.set(src));
  }
  if (sink === 0) throw new Error('probe: nothing allocated');
  return r;
}

if (PROBE_IN_WORKER) {
  (self as unknown as { onmessage: () => void }).onmessage = () => {
    let result: Record<string, number | string>;
    try {
      result = runProbe();
    } catch (e) {
      result = { error: String(e) };
    }
    (self as unknown as { postMessage(m: unknown): void }).postMessage(result);
  };
}
