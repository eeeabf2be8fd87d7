/**
 * A small seeded, bounded fuzzer for the parsers that read bytes from the network or a user.
 *
 *   seed ─▶ PRNG per input (seed, index) ─▶ pick: corpus entry | structure-aware generator
 *        ─▶ 0..4 mutations (bit flips, interesting bytes, truncation, extension, splices,
 *           range copies/deletes, length-field lies) ─▶ target(input) ─▶ property checks
 *        ─▶ until the time budget or the input cap is spent
 *
 * Every input is a pure function of (seed, index), so a failure is replayed with
 * `WGWEB_FUZZ_SEED=<seed> WGWEB_FUZZ_ONLY=<index> npm test -- test/fuzz/<file>`; the failure
 * message also carries the input as hex, for a fixture-based regression test.
 *
 * Environment:
 *   WGWEB_FUZZ_SECONDS  time budget per target (default 1.5; CI keeps the default)
 *   WGWEB_FUZZ_SEED     base seed (default fixed, so CI runs are repeatable; "random" for a new one)
 *   WGWEB_FUZZ_ONLY     run only this input index (replay)
 *
 * "Never hangs" is enforced by a watchdog thread (plain JS, so it runs while the fuzzed code
 * blocks the main thread): when no input finishes for WGWEB_FUZZ_HANG_SECONDS (default 20), it
 * writes the seed, index and input hex to stderr and kills the process, which fails the file.
 */
import { AssertionError } from 'node:assert';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';

/** A deterministic PRNG (sfc32, seeded through splitmix32): fast, 128-bit state, good enough here. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform u32. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }

  /** A size that is usually small and sometimes large, as parsers' interesting cases are. */
  size(max: number): number {
    return this.chance(0.8) ? this.below(Math.min(max, 64) + 1) : this.below(max + 1);
  }
}

/** Values that tend to break length and offset arithmetic. */
const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0x3f, 0x40, 0xc0];
const INTERESTING_16 = [0, 1, 0x7fff, 0x8000, 0xffff, 0x00ff, 0x0100, 0xfffe];
const INTERESTING_32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x0000ffff, 0x00010000];

function writeUint(out: Uint8Array, at: number, value: number, width: 2 | 4, littleEndian: boolean): void {
  for (let i = 0; i < width && at + i < out.length; i++) {
    const shift = littleEndian ? i * 8 : (width - 1 - i) * 8;
    out[at + i] = (value >>> shift) & 0xff;
  }
}

/**
 * One random mutation of `input` (never changes `input` itself). `other` is another corpus entry
 * for splices.
 */
export function mutate(rng: Rng, input: Uint8Array, other: Uint8Array, maxLength: number): Uint8Array {
  let b = input.slice();
  const at = () => rng.below(Math.max(b.length, 1));
  switch (rng.below(11)) {
    case 0: // flip 1..8 bits
      for (let n = rng.range(1, 8); n > 0 && b.length > 0; n--) b[at()] ^= 1 << rng.below(8);
      break;
    case 1: // an interesting byte
      if (b.length > 0) b[at()] = rng.pick(INTERESTING_8);
      break;
    case 2: // a random byte
      if (b.length > 0) b[at()] = rng.below(256);
      break;
    case 3: // truncate
      b = b.slice(0, rng.below(b.length + 1));
      break;
    case 4: {
      // extend with random bytes
      const extra = rng.bytes(rng.size(256));
      const grown = new Uint8Array(b.length + extra.length);
      grown.set(b);
      grown.set(extra, b.length);
      b = grown;
      break;
    }
    case 5: {
      // splice: a prefix of this input and a suffix of another
      const cut = rng.below(b.length + 1);
      const from = rng.below(other.length + 1);
      const joined = new Uint8Array(cut + other.length - from);
      joined.set(b.subarray(0, cut));
      joined.set(other.subarray(from), cut);
      b = joined;
      break;
    }
    case 6: {
      // delete a range
      const s = at();
      const e = Math.min(b.length, s + rng.size(32));
      b = Uint8Array.from([...b.subarray(0, s), ...b.subarray(e)]);
      break;
    }
    case 7: {
      // duplicate a range in place (repeated fields, repeated headers)
      const s = at();
      const e = Math.min(b.length, s + rng.size(64));
      b = Uint8Array.from([...b.subarray(0, e), ...b.subarray(s, e), ...b.subarray(e)]);
      break;
    }
    case 8: // a length field that lies: 16 bits, either byte order
      if (b.length > 1) {
        const lie = rng.chance(0.5) ? rng.pick(INTERESTING_16) : (b.length + rng.range(-3, 3)) & 0xffff;
        writeUint(b, rng.below(b.length - 1), lie, 2, rng.chance(0.5));
      }
      break;
    case 9: // the same, 32 bits
      if (b.length > 3) writeUint(b, rng.below(b.length - 3), rng.pick(INTERESTING_32), 4, rng.chance(0.5));
      break;
    default: {
      // copy a range of the other input over this one
      if (other.length === 0 || b.length === 0) break;
      const s = rng.below(other.length);
      const n = Math.min(rng.size(32), other.length - s, b.length);
      b.set(other.subarray(s, s + n), rng.below(b.length - n + 1));
    }
  }
  return b.length > maxLength ? b.subarray(0, maxLength) : b;
}

/** Hex for failure reports; long inputs are cut (the seed and index replay them in full). */
export function toHex(bytes: Uint8Array, max = 4096): string {
  const hex = Buffer.from(bytes.subarray(0, max)).toString('hex');
  return bytes.length > max ? `${hex}… (${bytes.length} bytes)` : hex;
}

/** Text inputs (configs, URLs) travel as their UTF-8 bytes, and so do their mutations. */
export const utf8 = {
  encode: (s: string) => new TextEncoder().encode(s),
  decode: (b: Uint8Array) => new TextDecoder().decode(b),
};

export interface FuzzTarget {
  /** Valid inputs to start from (fixtures, emitted messages); at least one. */
  corpus: Uint8Array[];
  /** Builds a structured, mostly valid input (emit functions with random fields). */
  generate?: (rng: Rng) => Uint8Array;
  /**
   * Runs the parser on one input and checks its properties (round trips, counted drops); throws
   * an assertion error when a property fails. `rng` is there for targets that need randomness of
   * their own (clock steps, chunk splits), derived from the same seed and index.
   */
  check: (input: Uint8Array, rng: Rng) => void | Promise<void>;
  /**
   * Errors the parser documents for bad input (e.g. `RangeError` from a view constructor, or a
   * protocol error class). Anything else thrown is a failure. Default: none may be thrown.
   */
  allowed?: readonly (abstract new (...args: never[]) => Error)[];
  /** Longest input tried; default 2048 bytes. */
  maxLength?: number;
  /** Cap on inputs per run, for slow targets; default unlimited (the time budget decides). */
  maxInputs?: number;
}

export interface FuzzReport {
  inputs: number;
  /** Inputs on which the parser threw an allowed error. */
  rejected: number;
  seed: number;
}

const DEFAULT_SEED = 0x5eed_0b1e;

function envNumber(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`${name}=${v} is not a non-negative number`);
  return n;
}

/** The base seed: WGWEB_FUZZ_SEED, a fresh one for "random", else the fixed default. */
export function fuzzSeed(): number {
  const v = process.env.WGWEB_FUZZ_SEED;
  if (v === 'random') return (Math.random() * 0x1_0000_0000) >>> 0;
  return v ? Number(v) >>> 0 : DEFAULT_SEED;
}

/** Mixes the target's name into the seed so targets in one run explore different inputs. */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The input for (seed, index): a corpus entry or a generated one, then 0..4 mutations. */
export function fuzzInput(target: FuzzTarget, name: string, seed: number, index: number): { input: Uint8Array; rng: Rng } {
  const rng = new Rng((seed ^ nameHash(name)) >>> 0, index);
  const max = target.maxLength ?? 2048;
  const fromGenerator = target.generate && rng.chance(0.5);
  let input = fromGenerator ? target.generate!(rng) : rng.pick(target.corpus);
  for (let n = rng.below(5); n > 0; n--) input = mutate(rng, input, rng.pick(target.corpus), max);
  return { input: input.length > max ? input.subarray(0, max) : input, rng };
}

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const fs = require('node:fs');
const state = new Int32Array(workerData.shared, 0, 4);
const bytes = new Uint8Array(workerData.shared, 16);
let last = -1;
let since = Date.now();
setInterval(() => {
  const beat = Atomics.load(state, 0);
  if (beat !== last) { last = beat; since = Date.now(); return; }
  if (Atomics.load(state, 3) === 0 || Date.now() - since < workerData.hangMs) return;
  const len = Atomics.load(state, 2);
  const hex = Buffer.from(bytes.subarray(0, Math.min(len, bytes.length))).toString('hex');
  fs.writeSync(2, '\\nfuzz ' + workerData.name + ': no input finished for ' + workerData.hangMs + ' ms (a hang)\\n' +
    '  replay: WGWEB_FUZZ_SEED=' + workerData.seed + ' WGWEB_FUZZ_ONLY=' + Atomics.load(state, 1) + '\\n  input (' + len + ' bytes): ' + hex + '\\n');
  process.kill(process.pid, 'SIGKILL');
}, 200);
`;

/** A watchdog thread that kills the process when the fuzzed code stops making progress. */
class HangWatchdog {
  private readonly state: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly worker: Worker;

  constructor(name: string, seed: number, maxLength: number) {
    const shared = new SharedArrayBuffer(16 + maxLength);
    this.state = new Int32Array(shared, 0, 4);
    this.bytes = new Uint8Array(shared, 16);
    const hangMs = envNumber('WGWEB_FUZZ_HANG_SECONDS', 20) * 1000;
    this.worker = new Worker(WATCHDOG, { eval: true, workerData: { shared, name, seed, hangMs } });
    this.worker.unref();
  }

  /** Records the input about to run, so a hang report can show it. */
  starting(index: number, input: Uint8Array): void {
    this.bytes.set(input.subarray(0, this.bytes.length));
    Atomics.store(this.state, 2, input.length);
    Atomics.store(this.state, 1, index);
    Atomics.store(this.state, 3, 1);
  }

  finished(): void {
    Atomics.store(this.state, 3, 0);
    Atomics.add(this.state, 0, 1);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** What a failure looks like: enough to replay it and to paste it into a regression test. */
export class FuzzFailure extends Error {
  constructor(name: string, seed: number, index: number, input: Uint8Array, cause: unknown) {
    const what = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(
      `fuzz ${name}: input ${index} failed: ${what}\n` +
        `  replay: WGWEB_FUZZ_SEED=${seed} WGWEB_FUZZ_ONLY=${index}\n` +
        `  input (${input.length} bytes): ${toHex(input)}`,
      { cause },
    );
    this.name = 'FuzzFailure';
  }
}

/**
 * Runs `target` for the time budget (or only the replayed index) and throws a {@link FuzzFailure}
 * on the first input that breaks a property. The corpus runs first, unmutated.
 */
export async function runFuzz(name: string, target: FuzzTarget): Promise<FuzzReport> {
  if (target.corpus.length === 0) throw new RangeError(`fuzz ${name}: the corpus is empty`);
  const seed = fuzzSeed();
  const budgetMs = envNumber('WGWEB_FUZZ_SECONDS', 1.5) * 1000;
  const only = process.env.WGWEB_FUZZ_ONLY ? envNumber('WGWEB_FUZZ_ONLY', 0) : undefined;
  const maxLength = target.maxLength ?? 2048;
  const watchdog = new HangWatchdog(name, seed, Math.max(maxLength, ...target.corpus.map((c) => c.length)));
  const report: FuzzReport = { inputs: 0, rejected: 0, seed };
  const started = performance.now();
  try {
    // Corpus entries have negative indexes: -1 is corpus[0], and so on.
    const first = only ?? -target.corpus.length;
    for (let i = first; only === undefined || i === only; i++) {
      if (only === undefined && i >= 0) {
        if (performance.now() - started >= budgetMs || (target.maxInputs !== undefined && i >= target.maxInputs)) break;
      }
      const { input, rng } = i < 0 ? { input: target.corpus[-i - 1], rng: new Rng(seed, i) } : fuzzInput(target, name, seed, i);
      watchdog.starting(i, input);
      try {
        await target.check(input, rng);
      } catch (e) {
        const allowed = target.allowed?.some((t) => e instanceof t) && !(e instanceof FuzzPropertyError) && !(e instanceof AssertionError);
        if (!allowed) throw new FuzzFailure(name, seed, i, input, e);
        report.rejected++;
      } finally {
        watchdog.finished();
      }
      report.inputs++;
    }
  } finally {
    await watchdog.stop();
  }
  return report;
}

/** Thrown by a target's own property checks, so it is never mistaken for an allowed parser error. */
export class FuzzPropertyError extends Error {
  override name = 'FuzzPropertyError';
}

/** Asserts a property inside a target (a failed `assert` is an AssertionError, never allowed either). */
export function property(ok: unknown, message: string): asserts ok {
  if (!ok) throw new FuzzPropertyError(message);
}

/** Byte equality for round-trip checks. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A node:test test that runs one target and notes how many inputs it tried. */
export function fuzzTest(title: string, name: string, target: FuzzTarget | (() => FuzzTarget)): void {
  test(title, async (t) => {
    const r = await runFuzz(name, typeof target === 'function' ? target() : target);
    t.diagnostic(`${name}: ${r.inputs} inputs, ${r.rejected} refused with a documented error, seed ${r.seed}`);
  });
}
