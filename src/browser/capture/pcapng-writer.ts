/**
 * pcapng files (IETF draft-ietf-opsawg-pcapng, "PCAP Next Generation Dump File Format") for the
 * packet capture: Wireshark and tshark open them.
 *
 *   Section Header Block (byte-order magic, version 1.0, length unknown, comment, application)
 *   Interface Description Block per tunnel session (LINKTYPE_RAW, name, description, if_tsresol)
 *   Decryption Secrets Block (TLS key log, SSLKEYLOGFILE format) when HTTPS ran in the tunnel (§4.7)
 *   Enhanced Packet Block per packet (interface, timestamp, lengths, data, epb_flags, comment)
 *
 * Streaming: every block is a self-contained byte string handed to the sink in file order, and the
 * section length is written as -1 ("not specified", §4.1), so a writer never goes back to patch
 * anything. Blocks are written in little-endian order; the byte-order magic tells readers so.
 */

/** Block types (draft-ietf-opsawg-pcapng §11.1). */
export const PcapngBlockType = {
  SectionHeader: 0x0a0d0d0a,
  InterfaceDescription: 0x00000001,
  InterfaceStatistics: 0x00000005,
  EnhancedPacket: 0x00000006,
  DecryptionSecrets: 0x0000000a,
} as const;

/** Secrets type of a Decryption Secrets Block holding an NSS/SSLKEYLOGFILE TLS key log ("TLSK", §4.7). */
export const SECRETS_TYPE_TLS_KEY_LOG = 0x544c534b;

/** The byte-order magic of a Section Header Block (§4.1). */
export const PCAPNG_BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Link types (the tcpdump.org LINKTYPE_ registry the draft refers to). */
export const LinkType = {
  /** Raw IP: the packet starts with an IPv4 or IPv6 header (the version nibble tells which). */
  RAW: 101,
  IPV4: 228,
  IPV6: 229,
} as const;

/** Option codes (§3.5 common options, §4.2 IDB, §4.3 EPB, §4.1 SHB). */
const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const SHB_HARDWARE = 2;
const SHB_OS = 3;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;

/** epb_flags direction bits (§4.3.1): 01 inbound, 10 outbound. */
const EPB_INBOUND = 0b01;
const EPB_OUTBOUND = 0b10;

export interface SectionHeaderOptions {
  comment?: string;
  hardware?: string;
  os?: string;
  /** The application that wrote the file. */
  userApplication?: string;
}

export interface InterfaceOptions {
  /** Default {@link LinkType.RAW}. */
  linkType?: number;
  /** Largest number of bytes captured per packet; 0 = no limit (default). */
  snapLength?: number;
  name?: string;
  description?: string;
  comment?: string;
  /** Timestamp units: microseconds (the format's default) or nanoseconds. Default `'us'`. */
  timestampResolution?: 'us' | 'ns';
}

export interface PcapngPacket {
  /** Index returned by {@link PcapngWriter.addInterface}. */
  interfaceId: number;
  /** Milliseconds since the Unix epoch; fractions are kept down to the interface's resolution. */
  timestampMs: number;
  data: Uint8Array;
  /** Length on the wire when `data` was truncated; default `data.length`. */
  originalLength?: number;
  /** Sets epb_flags' direction: `in` = inbound (from the peer), `out` = outbound. */
  direction?: 'in' | 'out';
  comment?: string;
}

const utf8 = new TextEncoder();

const pad4 = (n: number): number => (n + 3) & ~3;

interface Option {
  code: number;
  value: Uint8Array;
}

function stringOption(code: number, text: string | undefined): Option[] {
  if (text === undefined || text === '') return [];
  const value = utf8.encode(text);
  // An option's length field is 16 bits; keep whole characters by cutting the string, not bytes.
  if (value.length > 0xfff0) return stringOption(code, text.slice(0, Math.floor(text.length / 2)));
  return [{ code, value }];
}

function optionsLength(options: Option[]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const o of options) n += 4 + pad4(o.value.length);
  return n;
}

function writeOptions(view: DataView, bytes: Uint8Array, offset: number, options: Option[]): number {
  if (options.length === 0) return offset;
  for (const o of options) {
    view.setUint16(offset, o.code, true);
    view.setUint16(offset + 2, o.value.length, true);
    bytes.set(o.value, offset + 4);
    offset += 4 + pad4(o.value.length);
  }
  view.setUint16(offset, OPT_ENDOFOPT, true);
  view.setUint16(offset + 2, 0, true);
  return offset + 4;
}

/** Frames a block: type, total length, body (already padded), total length again (§3.1). */
function block(type: number, bodyLength: number, fill: (view: DataView, bytes: Uint8Array, offset: number) => void): Uint8Array {
  const total = 12 + bodyLength;
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, total, true);
  fill(view, bytes, 8);
  view.setUint32(total - 4, total, true);
  return bytes;
}

/** A Section Header Block with an unspecified section length (§4.1). */
export function encodeSectionHeaderBlock(o: SectionHeaderOptions = {}): Uint8Array {
  const options = [
    ...stringOption(OPT_COMMENT, o.comment),
    ...stringOption(SHB_HARDWARE, o.hardware),
    ...stringOption(SHB_OS, o.os),
    ...stringOption(SHB_USERAPPL, o.userApplication),
  ];
  return block(PcapngBlockType.SectionHeader, 16 + optionsLength(options), (view, bytes, at) => {
    view.setUint32(at, PCAPNG_BYTE_ORDER_MAGIC, true);
    view.setUint16(at + 4, 1, true); // major version
    view.setUint16(at + 6, 0, true); // minor version
    view.setUint32(at + 8, 0xffffffff, true); // section length -1: not specified
    view.setUint32(at + 12, 0xffffffff, true);
    writeOptions(view, bytes, at + 16, options);
  });
}

/** An Interface Description Block (§4.2). */
export function encodeInterfaceDescriptionBlock(o: InterfaceOptions = {}): Uint8Array {
  const linkType = o.linkType ?? LinkType.RAW;
  if (!Number.isInteger(linkType) || linkType < 0 || linkType > 0xffff) throw new RangeError(`link type must be 0 to 65535, not ${linkType}`);
  const snap = o.snapLength ?? 0;
  if (!Number.isInteger(snap) || snap < 0 || snap > 0xffffffff) throw new RangeError(`snap length must be 0 to 2^32-1, not ${snap}`);
  const options = [
    ...stringOption(OPT_COMMENT, o.comment),
    ...stringOption(IF_NAME, o.name),
    ...stringOption(IF_DESCRIPTION, o.description),
    // if_tsresol: a power of ten, most significant bit clear (§4.2).
    { code: IF_TSRESOL, value: Uint8Array.of(o.timestampResolution === 'ns' ? 9 : 6) },
  ];
  return block(PcapngBlockType.InterfaceDescription, 8 + optionsLength(options), (view, bytes, at) => {
    view.setUint16(at, linkType, true);
    view.setUint16(at + 2, 0, true); // reserved
    view.setUint32(at + 4, snap, true);
    writeOptions(view, bytes, at + 8, options);
  });
}

/** Timestamp units since 1970 for `ms`, as a 64-bit value (BigInt keeps nanoseconds exact). */
export function timestampUnits(ms: number, resolution: 'us' | 'ns'): bigint {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`timestamp must be a non-negative number of ms since 1970, not ${ms}`);
  const whole = Math.floor(ms);
  const perMs = resolution === 'ns' ? 1_000_000 : 1_000;
  const fraction = Math.round((ms - whole) * perMs);
  return BigInt(whole) * BigInt(perMs) + BigInt(fraction);
}

/** An Enhanced Packet Block (§4.3). */
export function encodeEnhancedPacketBlock(p: PcapngPacket, resolution: 'us' | 'ns' = 'us'): Uint8Array {
  if (!Number.isInteger(p.interfaceId) || p.interfaceId < 0) throw new RangeError(`interfaceId must be a non-negative integer, not ${p.interfaceId}`);
  if (!(p.data instanceof Uint8Array)) throw new TypeError('packet data must be a Uint8Array');
  const original = p.originalLength ?? p.data.length;
  if (!Number.isInteger(original) || original < p.data.length) throw new RangeError(`originalLength ${original} is shorter than the ${p.data.length} captured bytes`);
  const ts = timestampUnits(p.timestampMs, resolution);
  const options: Option[] = [...stringOption(OPT_COMMENT, p.comment)];
  if (p.direction) {
    const flags = new Uint8Array(4);
    new DataView(flags.buffer).setUint32(0, p.direction === 'in' ? EPB_INBOUND : EPB_OUTBOUND, true);
    options.push({ code: EPB_FLAGS, value: flags });
  }
  const dataLength = pad4(p.data.length);
  return block(PcapngBlockType.EnhancedPacket, 20 + dataLength + optionsLength(options), (view, bytes, at) => {
    view.setUint32(at, p.interfaceId, true);
    view.setUint32(at + 4, Number(ts >> 32n), true);
    view.setUint32(at + 8, Number(ts & 0xffffffffn), true);
    view.setUint32(at + 12, p.data.length, true);
    view.setUint32(at + 16, original, true);
    bytes.set(p.data, at + 20);
    writeOptions(view, bytes, at + 20 + dataLength, options);
  });
}

/**
 * A Decryption Secrets Block (§4.7): secrets type, length, the secrets padded to 32 bits. With
 * {@link SECRETS_TYPE_TLS_KEY_LOG}, Wireshark decrypts the TLS sessions in the file.
 */
export function encodeDecryptionSecretsBlock(secretsType: number, secrets: Uint8Array): Uint8Array {
  return block(PcapngBlockType.DecryptionSecrets, 8 + pad4(secrets.length), (view, bytes, offset) => {
    view.setUint32(offset, secretsType, true);
    view.setUint32(offset + 4, secrets.length, true);
    bytes.set(secrets, offset + 8);
  });
}

/**
 * Writes one section block by block to a sink (a stream, an array of chunks). Interfaces may be
 * added at any point after the header; packets name an interface added before them.
 *
 * ```ts
 * const chunks: Uint8Array[] = [];
 * const w = new PcapngWriter((b) => chunks.push(b), { userApplication: 'wgweb' });
 * const wg = w.addInterface({ name: 'wg0' });
 * w.writePacket({ interfaceId: wg, timestampMs: Date.now(), data: ipPacket, direction: 'out' });
 * ```
 */
export class PcapngWriter {
  readonly #sink: (block: Uint8Array) => void;
  readonly #resolutions: ('us' | 'ns')[] = [];
  #bytes = 0;
  #packets = 0;

  /** Writes the Section Header Block right away. */
  constructor(sink: (block: Uint8Array) => void, section: SectionHeaderOptions = {}) {
    if (typeof sink !== 'function') throw new TypeError('PcapngWriter needs a sink function');
    this.#sink = sink;
    this.#emit(encodeSectionHeaderBlock(section));
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#bytes;
  }

  /** Packets written so far. */
  get packetsWritten(): number {
    return this.#packets;
  }

  /** Writes an Interface Description Block; returns its interface id (0, 1, ...). */
  addInterface(o: InterfaceOptions = {}): number {
    this.#emit(encodeInterfaceDescriptionBlock(o));
    this.#resolutions.push(o.timestampResolution ?? 'us');
    return this.#resolutions.length - 1;
  }

  /** Writes a TLS key log (SSLKEYLOGFILE lines) as a Decryption Secrets Block; put it before the packets it decrypts. */
  writeTlsKeyLog(lines: readonly string[]): void {
    if (lines.length === 0) return;
    this.#emit(encodeDecryptionSecretsBlock(SECRETS_TYPE_TLS_KEY_LOG, new TextEncoder().encode(`${lines.join('\n')}\n`)));
  }

  /** Writes an Enhanced Packet Block. */
  writePacket(p: PcapngPacket): void {
    const resolution = this.#resolutions[p.interfaceId];
    if (resolution === undefined) throw new RangeError(`interface ${p.interfaceId} was not added (there are ${this.#resolutions.length})`);
    this.#emit(encodeEnhancedPacketBlock(p, resolution));
    this.#packets++;
  }

  #emit(b: Uint8Array): void {
    this.#bytes += b.length;
    this.#sink(b);
  }
}

/** Concatenates the blocks a writer produced into one file (no argument spread: any count works). */
export function concatBlocks(blocks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const b of blocks) length += b.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}
