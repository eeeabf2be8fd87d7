/**
 * The transport AEAD (same API and bytes as ../transport-aead.ts) on the WebAssembly SIMD
 * ChaCha20-Poly1305 of chacha20-poly1305-wasm-module.ts.
 *
 *   seal(buf, off, len, lo, hi)   key + nonce 0⁴ ‖ lo ‖ hi ─▶ module memory; buf[off, +len) ─copy─▶ DATA
 *                                 ─ module.seal ─▶ ciphertext ‖ tag ─copy back─▶ buf[off, +len+16)
 *   open(src, off, len, out, o)   src[off, +len+16) ─copy─▶ DATA ─ module.open ─▶ only when the tag
 *                                 verifies: plaintext ─copy─▶ out[o, +len); otherwise `out` is untouched
 *
 * One module instance serves every key in the thread: each call writes its key and nonce into the
 * module's memory and the module wipes them (and its keystream and Poly1305 state) before it
 * returns, so no key stays in the shared memory between calls. Copying in and out costs two
 * memcpy per packet and measured cheaper than anything that avoids it (bench/wireguard-bench.ts).
 *
 * The module is built and instantiated synchronously on first use ({@link wasmTransportAeadStatus}):
 * it is small, and synchronous compilation is allowed in workers and Node. It is not used when
 * WebAssembly or its SIMD is missing, when a Content-Security-Policy without 'wasm-unsafe-eval'
 * refuses the compilation, or when a known-answer check against the TypeScript AEAD disagrees;
 * the caller (transport-cipher.ts) then falls back to the TypeScript AEAD.
 */
import { AEAD_TAG_SIZE } from '../constants.ts';
import { TransportAead, WireGuardTransportAead } from '../transport-aead.ts';
import { buildChacha20Poly1305Module, INITIAL_PAGES, LAYOUT } from './chacha20-poly1305-wasm-module.ts';

interface ModuleExports {
  readonly memory: WebAssembly.Memory;
  seal(data: number, len: number, aad: number, aadLen: number): void;
  open(data: number, len: number, aad: number, aadLen: number): number;
  block4(counter: number): void;
  poly1305(msg: number, len: number): void;
}

/** The instantiated module and views of its memory (renewed when the memory grows). */
class Runtime {
  bytes: Uint8Array;
  view: DataView;

  constructor(readonly exports: ModuleExports) {
    this.bytes = new Uint8Array(exports.memory.buffer);
    this.view = new DataView(exports.memory.buffer);
  }

  /** Makes room for a message of `len` bytes, its tag and `aadLen` bytes of AAD; returns the AAD's address. */
  reserve(len: number, aadLen: number): number {
    const aadAt = (LAYOUT.DATA + len + AEAD_TAG_SIZE + 15) & ~15;
    const need = aadAt + aadLen;
    if (need > this.bytes.length) {
      this.exports.memory.grow(Math.ceil((need - this.bytes.length) / 65536));
      this.bytes = new Uint8Array(this.exports.memory.buffer);
      this.view = new DataView(this.exports.memory.buffer);
    }
    return aadAt;
  }

  /** Writes the key and the three nonce words (little-endian, RFC 8439 §2.3). */
  keyAndNonce(key: Uint8Array, n0: number, n1: number, n2: number): void {
    this.bytes.set(key, LAYOUT.KEY);
    this.view.setUint32(LAYOUT.NONCE, n0, true);
    this.view.setUint32(LAYOUT.NONCE + 4, n1, true);
    this.view.setUint32(LAYOUT.NONCE + 8, n2, true);
  }
}

/** Whether the module runs here, and why not. */
export interface WasmAeadStatus {
  readonly available: boolean;
  /** Why it is not available (the engine's message), when it is not. */
  readonly reason?: string;
}

let runtime: Runtime | undefined;
let status: WasmAeadStatus | undefined;

/** Builds, instantiates and checks the module once; later calls return the first answer. */
export function wasmTransportAeadStatus(): WasmAeadStatus {
  if (status) return status;
  try {
    if (typeof WebAssembly !== 'object' || typeof WebAssembly.Module !== 'function') throw new Error('WebAssembly is not available');
    const module = new WebAssembly.Module(buildChacha20Poly1305Module());
    const instance = new WebAssembly.Instance(module, {});
    runtime = new Runtime(instance.exports as unknown as ModuleExports);
    knownAnswerCheck();
    status = { available: true };
  } catch (e) {
    runtime = undefined;
    status = { available: false, reason: e instanceof Error ? e.message : String(e) };
  }
  return status;
}

/**
 * Seals one message of 300 bytes (past the first four blocks, with a partial block and AAD) with
 * both implementations and opens it again: an engine that miscompiles SIMD must not carry traffic.
 */
function knownAnswerCheck(): void {
  const key = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const aad = Uint8Array.of(1, 2, 3);
  const a = new Uint8Array(300 + AEAD_TAG_SIZE).map((_, i) => i);
  const b = a.slice();
  new TransportAead(key).sealWithNonce(a, 0, 300, 1, 2, 3, aad);
  const wasm = new WasmTransportAead(key);
  wasm.sealWithNonce(b, 0, 300, 1, 2, 3, aad);
  if (a.some((x, i) => x !== b[i])) throw new Error('the WebAssembly AEAD disagrees with the TypeScript one');
  if (!wasm.openWithNonce(b, 0, 300, b, 0, 1, 2, 3, aad) || b[299] !== 299 % 256) throw new Error('the WebAssembly AEAD does not open its own message');
}

function requireRuntime(): Runtime {
  if (!runtime && !wasmTransportAeadStatus().available) throw new Error(`WebAssembly AEAD unavailable: ${status?.reason}`);
  return runtime as Runtime;
}

/**
 * ChaCha20-Poly1305 under one key, computed by the WebAssembly module. Same methods, arguments
 * and output as {@link TransportAead}; `open` leaves `out` untouched when the tag does not verify
 * (the module checks the tag on its own copy).
 * @throws {Error} from the constructor when the module is unavailable (check {@link wasmTransportAeadStatus}).
 */
export class WasmTransportAead extends WireGuardTransportAead {
  private readonly key = new Uint8Array(32);
  private readonly rt: Runtime;

  /** @throws {TypeError} unless `key` is a 32-byte Uint8Array. */
  constructor(key: Uint8Array) {
    super();
    if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('ChaCha20-Poly1305 key must be a 32-byte Uint8Array');
    this.rt = requireRuntime();
    this.key.set(key);
  }

  /** Zeroes the key; the instance must not be used afterwards. */
  zero(): void {
    this.key.fill(0);
  }

  /** @internal The general RFC 8439 §2.8 AEAD (any nonce, optional AAD); see {@link TransportAead.sealWithNonce}. */
  sealWithNonce(buf: Uint8Array, offset: number, length: number, n0: number, n1: number, n2: number, aad: Uint8Array | undefined): void {
    const rt = this.rt;
    const aadLen = aad?.length ?? 0;
    const aadAt = rt.reserve(length, aadLen);
    rt.keyAndNonce(this.key, n0, n1, n2);
    const mem = rt.bytes;
    mem.set(buf.subarray(offset, offset + length), LAYOUT.DATA);
    if (aad) mem.set(aad, aadAt);
    rt.exports.seal(LAYOUT.DATA, length, aadAt, aadLen);
    buf.set(mem.subarray(LAYOUT.DATA, LAYOUT.DATA + length + AEAD_TAG_SIZE), offset);
  }

  /** @internal The general RFC 8439 §2.8 AEAD open; see {@link sealWithNonce}. */
  openWithNonce(
    src: Uint8Array,
    offset: number,
    length: number,
    out: Uint8Array,
    outOffset: number,
    n0: number,
    n1: number,
    n2: number,
    aad: Uint8Array | undefined,
  ): boolean {
    const rt = this.rt;
    const aadLen = aad?.length ?? 0;
    const aadAt = rt.reserve(length, aadLen);
    rt.keyAndNonce(this.key, n0, n1, n2);
    const mem = rt.bytes;
    mem.set(src.subarray(offset, offset + length + AEAD_TAG_SIZE), LAYOUT.DATA);
    if (aad) mem.set(aad, aadAt);
    if (rt.exports.open(LAYOUT.DATA, length, aadAt, aadLen) !== 1) return false;
    out.set(mem.subarray(LAYOUT.DATA, LAYOUT.DATA + length), outOffset);
    return true;
  }
}

/** @internal For tests: four ChaCha20 blocks (RFC 8439 §2.3) from block `counter`, 256 bytes. */
export function wasmChacha20Blocks(key: Uint8Array, nonce: Uint8Array, counter: number): Uint8Array {
  const rt = requireRuntime();
  rt.bytes.set(key, LAYOUT.KEY);
  rt.bytes.set(nonce, LAYOUT.NONCE);
  rt.exports.block4(counter);
  const out = rt.bytes.slice(LAYOUT.KS, LAYOUT.KS + 256);
  rt.bytes.fill(0, 0, LAYOUT.KS + 256);
  return out;
}

/** @internal For tests: raw Poly1305 (RFC 8439 §2.5) of `message` under a 32-byte one-time key. */
export function wasmPoly1305(oneTimeKey: Uint8Array, message: Uint8Array): Uint8Array {
  const rt = requireRuntime();
  rt.reserve(message.length, 0);
  rt.bytes.set(oneTimeKey, LAYOUT.KS);
  rt.bytes.set(message, LAYOUT.DATA);
  rt.exports.poly1305(LAYOUT.DATA, message.length);
  const tag = rt.bytes.slice(LAYOUT.TAG, LAYOUT.TAG + 16);
  rt.bytes.fill(0, 0, LAYOUT.KS + 256);
  return tag;
}

/** The number of 64 KiB pages the module's memory has now (tests: growth for long messages). */
export function wasmMemoryPages(): number {
  return runtime ? runtime.exports.memory.buffer.byteLength / 65536 : INITIAL_PAGES;
}

/** @internal For tests: a copy of the module memory where keys and keystream live during a call. */
export function wasmSecretArea(): Uint8Array {
  return requireRuntime().bytes.slice(0, LAYOUT.KS + 256);
}
