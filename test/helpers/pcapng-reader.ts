/**
 * A small, strict pcapng reader (draft-ietf-opsawg-pcapng) for tests, written from the draft and
 * independent of src/browser/capture/pcapng-writer.ts: it checks what a writer must get right (block
 * framing, the trailing length, 32-bit alignment, option lists ending in opt_endofopt) and returns
 * every field. Also `tshark` helpers, for reading files with Wireshark's own parser.
 */
import { spawnSync } from 'node:child_process';
import { findBinary } from '../../harness/requirements.ts';

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

export interface PcapngInterface {
  linkType: number;
  snapLength: number;
  options: PcapngOption[];
  name?: string;
  description?: string;
  /** if_tsresol byte (6 when absent, as the draft says). */
  tsresol: number;
}

export interface PcapngPacketRecord {
  interfaceId: number;
  /** Units since 1970 at the interface's resolution. */
  timestamp: bigint;
  capturedLength: number;
  originalLength: number;
  data: Uint8Array;
  options: PcapngOption[];
  comment?: string;
  /** epb_flags, when present. */
  flags?: number;
}

export interface PcapngFile {
  littleEndian: boolean;
  version: { major: number; minor: number };
  /** -1n when not specified. */
  sectionLength: bigint;
  sectionOptions: PcapngOption[];
  interfaces: PcapngInterface[];
  packets: PcapngPacketRecord[];
  /** Block types in file order. */
  blockTypes: number[];
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function fail(message: string): never {
  throw new Error(`pcapng: ${message}`);
}

function readOptions(view: DataView, bytes: Uint8Array, start: number, end: number, le: boolean): PcapngOption[] {
  const out: PcapngOption[] = [];
  let at = start;
  if (at === end) return out; // options may be absent altogether
  for (;;) {
    if (at + 4 > end) fail(`option header at ${at} runs past the block`);
    const code = view.getUint16(at, le);
    const length = view.getUint16(at + 2, le);
    if (code === 0) {
      if (length !== 0) fail('opt_endofopt with a non-zero length');
      at += 4;
      break;
    }
    const padded = (length + 3) & ~3;
    if (at + 4 + padded > end) fail(`option ${code} runs past the block`);
    out.push({ code, value: bytes.slice(at + 4, at + 4 + length) });
    at += 4 + padded;
  }
  if (at !== end) fail(`${end - at} bytes after opt_endofopt`);
  return out;
}

const text = (o: PcapngOption | undefined): string | undefined => (o ? utf8.decode(o.value) : undefined);

/** Parses a whole single-section file. Throws on anything malformed. */
export function readPcapng(file: Uint8Array): PcapngFile {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 28) fail('shorter than a Section Header Block');
  if (view.getUint32(0, true) !== 0x0a0d0d0a) fail('does not start with a Section Header Block');
  const magic = view.getUint32(8, true);
  const le = magic === 0x1a2b3c4d ? true : magic === 0x4d3c2b1a ? false : fail(`bad byte-order magic 0x${magic.toString(16)}`);
  const out: PcapngFile = {
    littleEndian: le,
    version: { major: view.getUint16(12, le), minor: view.getUint16(14, le) },
    sectionLength: view.getBigInt64(16, le),
    sectionOptions: [],
    interfaces: [],
    packets: [],
    blockTypes: [],
  };
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length) fail(`truncated block header at ${at}`);
    const type = view.getUint32(at, le);
    const total = view.getUint32(at + 4, le);
    if (total % 4 !== 0) fail(`block at ${at} has length ${total}, not a multiple of 4`);
    if (total < 12 || at + total > file.length) fail(`block at ${at} has length ${total}, past the end of the file`);
    if (view.getUint32(at + total - 4, le) !== total) fail(`block at ${at}: trailing length differs from the leading one`);
    const body = at + 8;
    const end = at + total - 4;
    out.blockTypes.push(type);
    if (type === 0x0a0d0d0a) {
      if (at !== 0) fail('a second section (this reader handles one)');
      out.sectionOptions = readOptions(view, file, body + 16, end, le);
    } else if (type === 1) {
      const options = readOptions(view, file, body + 8, end, le);
      const tsresol = options.find((o) => o.code === 9);
      out.interfaces.push({
        linkType: view.getUint16(body, le),
        snapLength: view.getUint32(body + 4, le),
        options,
        name: text(options.find((o) => o.code === 2)),
        description: text(options.find((o) => o.code === 3)),
        tsresol: tsresol ? tsresol.value[0] : 6,
      });
    } else if (type === 6) {
      const interfaceId = view.getUint32(body, le);
      if (interfaceId >= out.interfaces.length) fail(`packet names interface ${interfaceId} before it was described`);
      const high = BigInt(view.getUint32(body + 4, le));
      const low = BigInt(view.getUint32(body + 8, le));
      const capturedLength = view.getUint32(body + 12, le);
      const originalLength = view.getUint32(body + 16, le);
      const dataEnd = body + 20 + ((capturedLength + 3) & ~3);
      if (dataEnd > end) fail(`packet data runs past its block at ${at}`);
      const options = readOptions(view, file, dataEnd, end, le);
      const flags = options.find((o) => o.code === 2);
      out.packets.push({
        interfaceId,
        timestamp: (high << 32n) | low,
        capturedLength,
        originalLength,
        data: file.slice(body + 20, body + 20 + capturedLength),
        options,
        comment: text(options.find((o) => o.code === 1)),
        flags: flags ? new DataView(flags.value.buffer).getUint32(0, le) : undefined,
      });
    }
    at += total;
  }
  return out;
}

/** Path of tshark, or undefined. */
export function tsharkPath(): string | undefined {
  return findBinary('tshark');
}

/**
 * Why a tshark check cannot run here, or undefined when it can. With `CI=true` a missing tshark
 * throws instead (CI installs it).
 */
export function tsharkSkipReason(): string | undefined {
  if (tsharkPath()) return undefined;
  if (process.env.CI === 'true') throw new Error('tshark is missing (CI=true: install the Debian tshark package)');
  return 'tshark is not installed (apt-get install tshark)';
}

/** `tshark -r file -T fields -e ...`: one row per packet, one column per field. */
export function tsharkFields(file: string, fields: string[]): string[][] {
  const args = ['-r', file, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])];
  const r = spawnSync(tsharkPath() ?? 'tshark', args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 512 * 1024 * 1024 });
  if (r.error || r.status !== 0) throw new Error(`tshark failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split('|'));
}
