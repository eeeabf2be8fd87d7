/**
 * Packet-sized byte buffers carved out of large shared ArrayBuffers ("slabs"), for hot paths that
 * used to allocate one ArrayBuffer per packet (#19).
 *
 *   take(n) ──▶ room left in the current slab? ──yes──▶ a fresh, zeroed view into it
 *                                               └─no──▶ a new slab (the old one lives on while
 *                                                       any view of it does; GC frees it after)
 *
 * Why: a Chromium dedicated worker pays several microseconds per ArrayBuffer above V8's on-heap
 * limit (64 bytes): an external backing store, its accounting and a background sweep per buffer
 * (bench/browser-js-probe.ts measured `new Uint8Array(1420)` 7–10× dearer than in Node). A view
 * (`new Uint8Array(buffer, offset, n)`) is an ordinary small heap object.
 *
 * A region is never handed out twice, so a view stays valid and zeroed exactly like
 * `new Uint8Array(n)`; the difference is only that its `buffer` is shared (never transfer or
 * detach it; `byteOffset` is not 0). The price is retention: one live view keeps its whole slab,
 * so use it only for buffers that die soon (packets on their way out), not for long-lived data.
 */

/**
 * Default slab size: about 180 full-size packets per ArrayBuffer. 256 KiB rather than 64 KiB: a
 * fresh ArrayBuffer costs a Chromium worker far more than its bytes (allocation, accounting, the
 * background sweep), and with three slabs on the upload's path (segments, IP packets, sealed
 * messages) 64 KiB slabs meant ≈ 50 of them per uploaded MB. A/B in Chromium (3 rounds, load
 * 36-49, docs/benchmarks.md #19 section 13): the upload's renderer 81/69/62 instead of 92/91/83
 * ms/MB, its V8 background (GC) threads 12-18 instead of 24-26.
 */
export const DEFAULT_SLAB_BYTES = 256 * 1024;

/** Hands out zeroed, never-reused views of shared slabs. */
export class ByteSlab {
  /** Size of each slab; requests above a quarter of it get their own buffer. */
  readonly slabBytes: number;
  private slab: ArrayBuffer;
  private used = 0;

  /** @throws {RangeError} for a slab size that is not a positive integer. */
  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes < 1) throw new RangeError(`slab size must be a positive integer, not ${slabBytes}`);
    this.slabBytes = slabBytes;
    this.slab = new ArrayBuffer(0);
  }

  /**
   * A zeroed `n`-byte view nobody else holds. Views are 8-byte aligned within the slab (so the
   * 32-bit word paths of checksum and AEAD can read them through aligned views).
   * @throws {RangeError} for a negative or non-integer `n`.
   */
  take(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`take(${n}): a byte count must be a non-negative integer`);
    // Big requests would waste most of a slab: they get a buffer of their own.
    if (n > this.slabBytes >>> 2) return new Uint8Array(n);
    if (this.used + n > this.slab.byteLength) {
      this.slab = new ArrayBuffer(this.slabBytes);
      this.used = 0;
    }
    const view = new Uint8Array(this.slab, this.used, n);
    this.used = (this.used + n + 7) & ~7;
    return view;
  }
}

/**
 * Like {@link ByteSlab}, but its memory is handed out again after {@link recycle}: for buffers the
 * caller is done with at a known point (a TCP table's segments once the next poll begins, #19).
 * Writing memory touched before costs a browser worker a fraction of writing fresh memory (in
 * Chromium on this project's VM ≈ 0.7 instead of ≈ 13 ms per MB, a page fault per 4 KiB), and the
 * slabs stop being garbage. Between two recycles the slabs grow as needed; after one, they are
 * written from the first again. Views are zeroed and 8-byte aligned as ByteSlab's.
 */
export class RecyclingSlab {
  /** Size of each slab; requests above a quarter of it get their own buffer. */
  readonly slabBytes: number;
  private readonly slabs: ArrayBuffer[] = [];
  /** The slab being written and the bytes taken from it. */
  private index = 0;
  private used = 0;

  /** @throws {RangeError} for a slab size that is not a positive integer. */
  constructor(slabBytes = DEFAULT_SLAB_BYTES) {
    if (!Number.isSafeInteger(slabBytes) || slabBytes < 1) throw new RangeError(`slab size must be a positive integer, not ${slabBytes}`);
    this.slabBytes = slabBytes;
  }

  /** Slabs allocated so far (they are kept and written again). */
  get slabCount(): number {
    return this.slabs.length;
  }

  /**
   * A zeroed `n`-byte view, valid until the next {@link recycle}.
   * @throws {RangeError} for a negative or non-integer `n`.
   */
  take(n: number): Uint8Array {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`take(${n}): a byte count must be a non-negative integer`);
    if (n > this.slabBytes >>> 2) return new Uint8Array(n);
    if (this.index < this.slabs.length && this.used + n > this.slabBytes) {
      this.index++;
      this.used = 0;
    }
    if (this.index === this.slabs.length) this.slabs.push(new ArrayBuffer(this.slabBytes));
    const view = new Uint8Array(this.slabs[this.index]!, this.used, n);
    view.fill(0);
    this.used = (this.used + n + 7) & ~7;
    return view;
  }

  /** Every view taken so far is dead: the next take writes the first slab from its start. */
  recycle(): void {
    this.index = 0;
    this.used = 0;
  }
}
