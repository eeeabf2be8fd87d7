/**
 * A small WebAssembly binary writer: just enough of the format (WebAssembly Core Specification
 * 2.0, §5 "Binary Format", plus the fixed-width SIMD instructions of §5.4.8) to emit one module
 * whose functions are written in TypeScript as instruction sequences. It exists so that the
 * WebAssembly AEAD is generated from source in this repository when it is first used, in every
 * runtime alike (Vite bundle, Node, tsx): no toolchain, no build step, no committed binary.
 *
 *   const m = new WasmModuleWriter();
 *   const f = m.func('add', [I32, I32], [I32]);   // a FunctionBuilder; params are locals 0..n-1
 *   f.get(0).get(1).op('i32.add');                 // instructions, in stack-machine order
 *   m.bytes({ memoryPages: 1 })                    // ─▶ the module: type, function, memory,
 *                                                  //    global, export and code sections
 *
 * Only what the AEAD needs is here: i32/i64/v128 values, locals and mutable i64 globals, one
 * exported memory, structured control flow, calls, loads/stores and the SIMD lane operations.
 * A mistake here shows up as a `WebAssembly.CompileError` naming the byte offset, and the RFC 8439
 * vectors in the tests pin the output.
 */

/** Value types (§5.3.1). */
export const I32 = 0x7f;
export const I64 = 0x7e;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof V128;

/** Plain opcodes without immediates (§5.4). */
const OPS = {
  'return': 0x0f,
  'drop': 0x1a,
  'select': 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_u': 0x49,
  'i32.gt_u': 0x4b,
  'i32.le_u': 0x4d,
  'i32.ge_u': 0x4f,
  'i64.eqz': 0x50,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_u': 0x76,
  'i64.add': 0x7c,
  'i64.sub': 0x7d,
  'i64.mul': 0x7e,
  'i64.and': 0x83,
  'i64.or': 0x84,
  'i64.xor': 0x85,
  'i64.shl': 0x86,
  'i64.shr_s': 0x87,
  'i64.shr_u': 0x88,
  'i32.wrap_i64': 0xa7,
  'i64.extend_i32_u': 0xad,
} as const;

/** Loads and stores: opcode and natural alignment as log2 bytes (§5.4.6). */
const MEMORY_OPS = {
  'i32.load': [0x28, 2],
  'i64.load': [0x29, 3],
  'i32.load8_u': [0x2d, 0],
  'i64.load32_u': [0x35, 2],
  'i32.store': [0x36, 2],
  'i64.store': [0x37, 3],
  'i32.store8': [0x3a, 0],
} as const;

/** SIMD opcodes after the 0xFD prefix (§5.4.8), without immediates. */
const SIMD_OPS = {
  'i32x4.splat': 0x11,
  'v128.not': 0x4d,
  'v128.and': 0x4e,
  'v128.or': 0x50,
  'v128.xor': 0x51,
  'i32x4.shl': 0xab,
  'i32x4.shr_u': 0xad,
  'i32x4.add': 0xae,
} as const;

/** SIMD memory opcodes after 0xFD, with their natural alignment. */
const SIMD_MEMORY_OPS = {
  'v128.load': [0x00, 4],
  'v128.load32_splat': [0x09, 2],
  'v128.store': [0x0b, 4],
} as const;

export type Op = keyof typeof OPS;
export type MemoryOp = keyof typeof MEMORY_OPS;
export type SimdOp = keyof typeof SIMD_OPS;
export type SimdMemoryOp = keyof typeof SIMD_MEMORY_OPS;

/** Appends the unsigned LEB128 encoding of `n` (§5.2.2). */
function uleb(out: number[], n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not a u32: ${n}`);
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
}

/** Appends the signed LEB128 encoding of `n` (§5.2.2). */
function sleb(out: number[], n: bigint): void {
  for (;;) {
    const byte = Number(n & 0x7fn);
    n >>= 7n;
    const done = (n === 0n && (byte & 0x40) === 0) || (n === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return;
  }
}

/** A vector: its length, then its items (§5.1.3). */
function vec(out: number[], items: readonly (readonly number[])[]): void {
  uleb(out, items.length);
  for (const item of items) out.push(...item);
}

function section(out: number[], id: number, body: number[]): void {
  out.push(id);
  uleb(out, body.length);
  out.push(...body);
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  const out: number[] = [];
  uleb(out, bytes.length);
  return out.concat(bytes);
}

/**
 * One function body under construction. Every method appends one instruction and returns `this`,
 * so code reads in the order the stack machine runs it.
 */
export class FunctionBuilder {
  /** @internal */
  readonly code: number[] = [];
  /** @internal Declared locals after the parameters. */
  readonly locals: ValType[] = [];
  private depth = 0;

  constructor(
    /** Its index in the module's function space. */
    readonly index: number,
    /** @internal */
    readonly params: readonly ValType[],
    /** @internal */
    readonly results: readonly ValType[],
  ) {}

  /** Declares a local of type `t` and returns its index. */
  local(t: ValType): number {
    this.locals.push(t);
    return this.params.length + this.locals.length - 1;
  }

  op(name: Op): this {
    this.code.push(OPS[name]);
    return this;
  }

  get(local: number): this {
    this.code.push(0x20);
    uleb(this.code, local);
    return this;
  }

  set(local: number): this {
    this.code.push(0x21);
    uleb(this.code, local);
    return this;
  }

  tee(local: number): this {
    this.code.push(0x22);
    uleb(this.code, local);
    return this;
  }

  globalGet(global: number): this {
    this.code.push(0x23);
    uleb(this.code, global);
    return this;
  }

  globalSet(global: number): this {
    this.code.push(0x24);
    uleb(this.code, global);
    return this;
  }

  i32(n: number): this {
    this.code.push(0x41);
    sleb(this.code, BigInt(n | 0));
    return this;
  }

  i64(n: number | bigint): this {
    this.code.push(0x42);
    sleb(this.code, BigInt.asIntN(64, BigInt(n)));
    return this;
  }

  /** A load or store with a constant byte offset added to the address operand. */
  mem(name: MemoryOp, offset = 0): this {
    const [opcode, align] = MEMORY_OPS[name];
    this.code.push(opcode, align);
    uleb(this.code, offset);
    return this;
  }

  simd(name: SimdOp): this {
    this.code.push(0xfd);
    uleb(this.code, SIMD_OPS[name]);
    return this;
  }

  simdMem(name: SimdMemoryOp, offset = 0): this {
    const [opcode, align] = SIMD_MEMORY_OPS[name];
    this.code.push(0xfd);
    uleb(this.code, opcode);
    this.code.push(align);
    uleb(this.code, offset);
    return this;
  }

  /** v128.const with four i32 lanes. */
  v128i32(a: number, b: number, c: number, d: number): this {
    this.code.push(0xfd);
    uleb(this.code, 0x0c);
    for (const x of [a, b, c, d]) this.code.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
    return this;
  }

  /** i8x16.shuffle: byte `i` of the result is byte `lanes[i]` of (first ‖ second). */
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16 || lanes.some((l) => !Number.isInteger(l) || l < 0 || l > 31)) throw new RangeError('a shuffle takes 16 lane indices below 32');
    this.code.push(0xfd);
    uleb(this.code, 0x0d);
    this.code.push(...lanes);
    return this;
  }

  /** `block` without a result; `br 0` inside jumps to its end. */
  block(): this {
    this.depth++;
    this.code.push(0x02, 0x40);
    return this;
  }

  /** `loop` without a result; `br 0` inside jumps back to its start. */
  loop(): this {
    this.depth++;
    this.code.push(0x03, 0x40);
    return this;
  }

  /** `if` without a result, on the i32 on the stack. */
  if(): this {
    this.depth++;
    this.code.push(0x04, 0x40);
    return this;
  }

  end(): this {
    if (this.depth === 0) throw new RangeError('end without block, loop or if');
    this.depth--;
    this.code.push(0x0b);
    return this;
  }

  br(depth: number): this {
    this.code.push(0x0c);
    uleb(this.code, depth);
    return this;
  }

  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(this.code, depth);
    return this;
  }

  call(f: FunctionBuilder): this {
    this.code.push(0x10);
    uleb(this.code, f.index);
    return this;
  }

  /** @internal The body: locals grouped by type, the code, `end`. */
  body(): number[] {
    if (this.depth !== 0) throw new RangeError(`function ${this.index} has ${this.depth} unclosed blocks`);
    const groups: number[][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const out: number[] = [];
    uleb(out, groups.length);
    for (const [n, t] of groups) {
      uleb(out, n);
      out.push(t);
    }
    out.push(...this.code, 0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }
}

/** A module: functions, mutable i64 globals, one memory, exports. */
export class WasmModuleWriter {
  private readonly funcs: FunctionBuilder[] = [];
  private readonly exported: { name: string; index: number }[] = [];
  private globalCount = 0;

  /** A new function; exported under `exportName` unless that is undefined. */
  func(exportName: string | undefined, params: readonly ValType[], results: readonly ValType[]): FunctionBuilder {
    const f = new FunctionBuilder(this.funcs.length, params, results);
    this.funcs.push(f);
    if (exportName !== undefined) this.exported.push({ name: exportName, index: f.index });
    return f;
  }

  /** A mutable i64 global initialised to 0; returns its index. */
  globalI64(): number {
    return this.globalCount++;
  }

  /** The module's bytes, with a memory of `memoryPages` 64 KiB pages exported as "memory". */
  bytes(options: { memoryPages: number }): Uint8Array<ArrayBuffer> {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    // Type section (1): one signature per function, deduplicated.
    const sigs: string[] = [];
    const sigOf = this.funcs.map((f) => {
      const key = JSON.stringify([f.params, f.results]);
      let i = sigs.indexOf(key);
      if (i < 0) i = sigs.push(key) - 1;
      return i;
    });
    const types = sigs.map((key) => {
      const [params, results] = JSON.parse(key) as [number[], number[]];
      const t = [0x60];
      vec(t, params.map((p) => [p]));
      vec(t, results.map((r) => [r]));
      return t;
    });
    const typeBody: number[] = [];
    vec(typeBody, types);
    section(out, 1, typeBody);
    // Function section (3): each function's signature index.
    const funcBody: number[] = [];
    vec(funcBody, sigOf.map((i) => { const b: number[] = []; uleb(b, i); return b; }));
    section(out, 3, funcBody);
    // Memory section (5): one memory, minimum pages, no maximum.
    const memBody: number[] = [1, 0x00];
    uleb(memBody, options.memoryPages);
    section(out, 5, memBody);
    // Global section (6): mutable i64 globals initialised by `i64.const 0; end`.
    if (this.globalCount > 0) {
      const g: number[][] = [];
      for (let i = 0; i < this.globalCount; i++) g.push([I64, 0x01, 0x42, 0x00, 0x0b]);
      const globalBody: number[] = [];
      vec(globalBody, g);
      section(out, 6, globalBody);
    }
    // Export section (7): the memory, then the exported functions.
    const exports = [[...name('memory'), 0x02, 0x00]];
    for (const e of this.exported) {
      const b = [...name(e.name), 0x00];
      uleb(b, e.index);
      exports.push(b);
    }
    const exportBody: number[] = [];
    vec(exportBody, exports);
    section(out, 7, exportBody);
    // Code section (10).
    const codeBody: number[] = [];
    vec(codeBody, this.funcs.map((f) => f.body()));
    section(out, 10, codeBody);
    return Uint8Array.from(out);
  }
}
