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
