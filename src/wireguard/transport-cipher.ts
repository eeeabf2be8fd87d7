/**
 * Picks the ChaCha20-Poly1305 that seals and opens WireGuard transport messages (paper §5.4.6):
 *
 *   createTransportCipher(key) ─ backend 'auto' (default) or 'wasm' ─ WebAssembly usable here? ─yes─▶ WasmTransportAead
 *                                                                                              └no──▶ TransportAead (TypeScript)
 *                              ─ backend 'js' ─────────────────────────────────────────────────────▶ TransportAead
 *
 * Both produce the same bytes (RFC 8439; tests compare them). The WebAssembly one (wasm/) is the
 * faster in Node and in Chromium's worker (docs/benchmarks.md, "WebAssembly ChaCha20-Poly1305");
 * it is skipped where WebAssembly, its SIMD, or a CSP allowing 'wasm-unsafe-eval' is missing, and
 * then the TypeScript AEAD carries the traffic unchanged.
 */
import { TransportAead, type WireGuardTransportAead } from './transport-aead.ts';
import { WasmTransportAead, wasmTransportAeadStatus } from './wasm/wasm-transport-aead.ts';

/** What Keypair needs from an AEAD: seal/open/zero of {@link WireGuardTransportAead}, which both extend. */
export type TransportCipher = WireGuardTransportAead;

/** 'auto': WebAssembly where it runs, else TypeScript; 'js': always TypeScript; 'wasm': as auto (falls back too). */
export type TransportCipherBackend = 'auto' | 'wasm' | 'js';

let backend: TransportCipherBackend = 'auto';

/**
 * Chooses the implementation for keypairs created from now on (benchmarks and A/B runs; the
 * default 'auto' is what the product uses).
 * @throws {TypeError} for anything but 'auto', 'wasm' or 'js'.
 */
export function setTransportCipherBackend(b: TransportCipherBackend): void {
  if (b !== 'auto' && b !== 'wasm' && b !== 'js') throw new TypeError(`transport cipher backend must be 'auto', 'wasm' or 'js', not ${String(b)}`);
  backend = b;
}

/** The implementation createTransportCipher uses now: 'wasm' or 'js'. */
export function transportCipherImplementation(): 'wasm' | 'js' {
  return backend !== 'js' && wasmTransportAeadStatus().available ? 'wasm' : 'js';
}

/** A ChaCha20-Poly1305 under `key` for one direction of a keypair. */
export function createTransportCipher(key: Uint8Array): TransportCipher {
  return transportCipherImplementation() === 'wasm' ? new WasmTransportAead(key) : new TransportAead(key);
}
