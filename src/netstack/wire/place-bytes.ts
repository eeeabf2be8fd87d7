/**
 * Copying a payload into an emit buffer only when it is not already there, so that a caller who
 * builds the payload in place (right after the header room) pays no copy.
 */

/** Copies `data` to `buffer[offset..)` unless it already lives exactly there. */
export function placeBytes(buffer: Uint8Array, offset: number, data: Uint8Array): void {
  if (data.buffer === buffer.buffer && data.byteOffset === buffer.byteOffset + offset) return;
  // TypedArray.prototype.set copies correctly even when source and target overlap.
  buffer.set(data, offset);
}
