/**
 * Session indices (WireGuard paper §5.4.1): every handshake and every keypair gets a random 32-bit
 * index, unique on this device, that the peer echoes as "receiver" so we find the state for a
 * message without trying keys. Random (not sequential) so indices reveal nothing across sessions.
 */
import type { RandomPool } from './random-pool.ts';

/** Maps live local indices to their owners. */
export class IndexTable<T> {
  private readonly entries = new Map<number, T>();

  /** Allocates a fresh random index not in use and maps it to `value`. */
  allocate(value: T, random: RandomPool): number {
    for (;;) {
      const index = random.uint32();
      if (!this.entries.has(index)) {
        this.entries.set(index, value);
        return index;
      }
    }
  }

  /** The owner of `index`. */
  get(index: number): T | undefined {
    return this.entries.get(index);
  }

  /** Re-maps an allocated index (a handshake's index becomes its keypair's). */
  replace(index: number, value: T): void {
    this.entries.set(index, value);
  }

  /** Frees `index` (no-op for `undefined` or unknown indices). */
  delete(index: number | undefined): void {
    if (index !== undefined) this.entries.delete(index);
  }

  /** Number of live indices. */
  get size(): number {
    return this.entries.size;
  }

  /** Frees everything. */
  clear(): void {
    this.entries.clear();
  }
}
