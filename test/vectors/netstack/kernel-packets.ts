/**
 * Loader for kernel-packets.json: real packets captured from a Linux TUN device by
 * capture-kernel-packets.py (provenance in test/vectors/README.md).
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '../../../src/shared/bytes.ts';

interface Fixture {
  description: string;
  hex: string[];
}

const file = JSON.parse(readFileSync(new URL('./kernel-packets.json', import.meta.url), 'utf8')) as {
  meta: { kernel: string; addresses: { kernel: string[]; peer: string[] } };
  packets: Record<string, Fixture>;
};

/** Kernel version the fixtures were captured on. */
export const capturedOnKernel = file.meta.kernel;

/** The packets of one capture (most captures hold one packet; fragment captures hold several). */
export function kernelPackets(name: string): Uint8Array[] {
  const f = file.packets[name];
  if (!f) throw new Error(`no kernel packet fixture named ${name}`);
  return f.hex.map((h) => fromHex(h));
}

/** The single packet of a capture. */
export function kernelPacket(name: string): Uint8Array {
  return kernelPackets(name)[0];
}
