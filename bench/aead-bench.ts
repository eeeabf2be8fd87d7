/**
 * The transport AEADs side by side (#19 item 4), each against a baseline measured in the same run:
 *
 *   crypto.aead-wasm-{64,1420,16384}        the WebAssembly SIMD AEAD (src/wireguard/wasm/, what
 *                                           Keypair uses where it runs) against node:crypto
 *                                           (OpenSSL: the native ceiling, not available in a browser)
 *   crypto.aead-wasm-vs-ts-{64,1420,16384}  the same against the TypeScript AEAD (the fallback)
 *
 * Each is seal + open in place of one reused message (Keypair's receive path decrypts in place),
 * WireGuard's nonce, no AD; 64 B is an ACK, 1420 B a full packet. Rounds alternate the three
 * candidates and keep each one's best. The same two AEADs in a Chromium worker:
 * bench/browser-js-probe.ts.
 *
 *   node --import tsx bench/aead-bench.ts [--quick]      (or npm run bench -- --only aead)
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { AEAD_TAG_SIZE } from '../src/wireguard/constants.ts';
import { TransportAead } from '../src/wireguard/transport-aead.ts';
import { WasmTransportAead } from '../src/wireguard/wasm/wasm-transport-aead.ts';
import { bestOf } from './op-rate.ts';
import { higherIsBetter, runWhenMain, type BenchEntry, type BenchModule, type BenchOptions } from './bench-entry.ts';

/**
 * The WebAssembly AEAD against node:crypto (native) and against the TypeScript AEAD, seal + open in
 * place of one reused message buffer, at 64 B (an ACK), 1420 B (a full packet) and 16 KiB.
 */
function benchAeads(opts: BenchOptions): BenchEntry[] {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const entries: BenchEntry[] = [];
  for (const size of [64, 1420, 16384]) {
    const buf = crypto.getRandomValues(new Uint8Array(16 + size + AEAD_TAG_SIZE));
    const sealOpen = (aead: TransportAead | WasmTransportAead): (() => void) => {
      let counter = 0;
      return () => {
        aead.seal(buf, 16, size, counter, 0);
        if (!aead.open(buf, 16, size, buf, 16, counter++, 0)) throw new Error('aead bench: open failed');
      };
    };
    const nonce = new Uint8Array(12);
    const nonceView = new DataView(nonce.buffer);
    let nativeCounter = 0;
    const native = (): void => {
      nonceView.setUint32(4, nativeCounter++, true);
      const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      const ct = c.update(buf.subarray(16, 16 + size));
      c.final();
      const tag = c.getAuthTag();
      const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
      d.setAuthTag(tag);
      d.update(ct);
      d.final();
    };
    const [wasmRate, tsRate, nativeRate] = bestOf([sealOpen(new WasmTransportAead(key)), sealOpen(new TransportAead(key)), native], opts.quick ? 3 : 6, opts.quick ? 300 : 1000);
    const mbps = (r: number) => (r * size) / 1e6;
    const wasm = { label: 'wgweb WebAssembly SIMD AEAD', value: mbps(wasmRate), unit: 'MB/s' };
    const measured = `ChaCha20-Poly1305 seal + open in place of ${size}-byte messages (WireGuard nonce, no AD)`;
    entries.push(
      {
        name: `crypto.aead-wasm-${size}`,
        measured: `${measured}: src/wireguard/wasm/ vs node:crypto createCipheriv/createDecipheriv (native, not available in a browser)`,
        ours: wasm,
        baseline: { label: 'node:crypto chacha20-poly1305 (OpenSSL)', value: mbps(nativeRate), unit: 'MB/s' },
        ratio: higherIsBetter(wasmRate, nativeRate),
        goal: 'informational (the native ceiling)',
      },
      {
        name: `crypto.aead-wasm-vs-ts-${size}`,
        measured: `${measured}: src/wireguard/wasm/ vs src/wireguard/transport-aead.ts (the fallback)`,
        ours: wasm,
        baseline: { label: 'wgweb TypeScript AEAD', value: mbps(tsRate), unit: 'MB/s' },
        ratio: higherIsBetter(wasmRate, tsRate),
        goal: 'ratio ≥ 1.2 (else the TypeScript AEAD stays the default)',
      },
    );
  }
  return entries;
}

/** The AEAD bench module. */
export const bench: BenchModule = {
  title: 'Transport AEAD (WebAssembly SIMD, TypeScript, node:crypto)',
  async run(options: BenchOptions): Promise<BenchEntry[]> {
    return benchAeads(options);
  },
};

runWhenMain(import.meta.url, (options) => bench.run(options));
