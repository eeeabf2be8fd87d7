/**
 * DNS messages on the wire (RFC 1035 §4.1), smoltcp style: {@link DnsPacket} is a checked view over
 * a message's fixed header, {@link DnsMessage} the parsed representation with
 * {@link parseDnsMessage} / {@link emitDnsMessage}.
 *
 *   bytes ──parseDnsMessage──▶ DnsMessage (names decompressed, A/AAAA/CNAME/NS/PTR/SOA typed)
 *   DnsMessage ──emitDnsMessage──▶ bytes (optionally with name compression, RFC 1035 §4.1.4)
 *
 * Network input never throws here: a malformed message yields `{ ok: false, reason }` so the
 * resolver can drop and count it.
 */
import type { IpAddress } from '../../shared/ip-address.ts';

/** Fixed header length (RFC 1035 §4.1.1). */
export const DNS_HEADER_LENGTH = 12;
/** Longest name on the wire, length octets included (RFC 1035 §2.3.4). */
export const DNS_MAX_NAME_WIRE_LENGTH = 255;
/** Longest label (RFC 1035 §2.3.4). */
export const DNS_MAX_LABEL_LENGTH = 63;
/** Largest message a plain UDP query/answer may carry without EDNS (RFC 1035 §4.2.1). */
export const DNS_UDP_PLAIN_LIMIT = 512;

/** Record types this stack names (RFC 1035 §3.2.2, RFC 3596 §2.1, RFC 2782, RFC 6891 §6.1.1, RFC 8659). */
export const DnsType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  CAA: 257,
} as const;

/** Class IN (RFC 1035 §3.2.4). */
export const DNS_CLASS_IN = 1;

/** Response codes (RFC 1035 §4.1.1). */
export const DnsRcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

/** `SERVFAIL` for 2 and so on; `RCODE 9` for codes without a name here. */
export function rcodeName(rcode: number): string {
  for (const [name, value] of Object.entries(DnsRcode)) if (value === rcode) return name;
  return `RCODE ${rcode}`;
}

/** `AAAA` for 28; `TYPE99` (RFC 3597 §5) for types without a name here. */
export function typeName(type: number): string {
  for (const [name, value] of Object.entries(DnsType)) if (value === type) return name;
  return `TYPE${type}`;
}

/** Header flags (RFC 1035 §4.1.1; AD/CD from RFC 4035 §3.2). */
export interface DnsFlags {
  /** Response (true) or query. */
  qr: boolean;
  opcode: number;
  /** Authoritative answer. */
  aa: boolean;
  /** Truncated: the answer did not fit; ask again over TCP (RFC 7766 §5). */
  tc: boolean;
  /** Recursion desired. */
  rd: boolean;
  /** Recursion available. */
  ra: boolean;
  ad: boolean;
  cd: boolean;
  rcode: number;
}

export interface DnsQuestion {
  /** Presentation form without the trailing dot; the root is `.`. */
  name: string;
  type: number;
  class: number;
}

/** SOA RDATA (RFC 1035 §3.3.13); `minimum` bounds negative caching (RFC 2308 §4). */
export interface DnsSoa {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

/**
 * RDATA by kind: addresses for A/AAAA, a name for CNAME/NS/PTR, SOA fields, MX (RFC 1035
 * §3.3.9), TXT character-strings (§3.3.14), SRV (RFC 2782), CAA (RFC 8659 §4.1), otherwise raw.
 */
export type DnsRdata =
  | { kind: 'address'; address: IpAddress }
  | { kind: 'name'; name: string }
  | { kind: 'soa'; soa: DnsSoa }
  | { kind: 'mx'; preference: number; exchange: string }
  | { kind: 'txt'; strings: Uint8Array[] }
  | { kind: 'srv'; priority: number; weight: number; port: number; target: string }
  | { kind: 'caa'; flags: number; tag: string; value: Uint8Array }
  | { kind: 'raw'; bytes: Uint8Array };

export interface DnsRecord {
  name: string;
  type: number;
  class: number;
  /** Seconds; an unsigned 32-bit value on the wire, values with the top bit set are read as 0 (RFC 2181 §8). */
  ttl: number;
  data: DnsRdata;
}

export interface DnsMessage {
  id: number;
  flags: DnsFlags;
  questions: DnsQuestion[];
  answers: DnsRecord[];
  authorities: DnsRecord[];
  additionals: DnsRecord[];
}

/** Why a message could not be parsed (the resolver counts drops by these). */
export type DnsParseFailure =
  | 'too-short'
  | 'truncated-name'
  | 'bad-label-type'
  | 'bad-pointer'
  | 'name-too-long'
  | 'truncated-record'
  | 'bad-rdata';

export type DnsParseResult = { ok: true; message: DnsMessage } | { ok: false; reason: DnsParseFailure };

/** A checked view over a message's fixed header: cheap ID/flag checks before a full parse. */
export class DnsPacket {
  private constructor(readonly bytes: Uint8Array) {}

  /** A view, or `undefined` when `bytes` is shorter than the fixed header. */
  static view(bytes: Uint8Array): DnsPacket | undefined {
    return bytes.length >= DNS_HEADER_LENGTH ? new DnsPacket(bytes) : undefined;
  }

  private u16(offset: number): number {
    return (this.bytes[offset] << 8) | this.bytes[offset + 1];
  }

  get id(): number {
    return this.u16(0);
  }
  get isResponse(): boolean {
    return (this.bytes[2] & 0x80) !== 0;
  }
  get opcode(): number {
    return (this.bytes[2] >> 3) & 0x0f;
  }
  get truncated(): boolean {
    return (this.bytes[2] & 0x02) !== 0;
  }
  get rcode(): number {
    return this.bytes[3] & 0x0f;
  }
  get questionCount(): number {
    return this.u16(4);
  }
  get answerCount(): number {
    return this.u16(6);
  }
  get authorityCount(): number {
    return this.u16(8);
  }
  get additionalCount(): number {
    return this.u16(10);
  }
}

class ParseError extends Error {
  constructor(readonly reason: DnsParseFailure) {
    super(reason);
  }
}

/** Presentation form of one label: printable ASCII as is, `.` and `\` escaped, the rest as `\DDD`. */
function labelText(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + c.toString().padStart(3, '0');
  }
  return s;
}

/**
 * Reads a possibly compressed name at `offset`. Returns the name and the offset just after it in
 * the original position. A pointer must point strictly before the pointer itself: this forbids
 * loops (and forward references, which RFC 1035 §4.1.4 never needs: "a prior occurrence").
 */
function readName(bytes: Uint8Array, offset: number, limit: number): { name: string; next: number } {
  const labels: string[] = [];
  let wireLength = 1; // the terminating root label
  let pos = offset;
  let next = -1;
  let end = limit;
  for (;;) {
    if (pos >= end) throw new ParseError('truncated-name');
    const len = bytes[pos];
    if (len === 0) {
      if (next < 0) next = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (pos + 1 >= end) throw new ParseError('truncated-name');
      const target = ((len & 0x3f) << 8) | bytes[pos + 1];
      if (target >= pos) throw new ParseError('bad-pointer');
      if (next < 0) next = pos + 2;
      pos = target;
      // After a jump the name may lie anywhere earlier in the message, not only inside the RDATA.
      end = bytes.length;
      continue;
    }
    if (kind !== 0) throw new ParseError('bad-label-type'); // 0x40/0x80: extended/obsolete label types
    wireLength += len + 1;
    if (wireLength > DNS_MAX_NAME_WIRE_LENGTH) throw new ParseError('name-too-long');
    if (pos + 1 + len > end) throw new ParseError('truncated-name');
    labels.push(labelText(bytes, pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return { name: labels.length === 0 ? '.' : labels.join('.'), next };
}

function u16(bytes: Uint8Array, o: number): number {
  return (bytes[o] << 8) | bytes[o + 1];
}

function u32(bytes: Uint8Array, o: number): number {
  return ((bytes[o] << 24) >>> 0) + ((bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]);
}

function readRecord(bytes: Uint8Array, offset: number): { record: DnsRecord; next: number } {
  const { name, next: afterName } = readName(bytes, offset, bytes.length);
  if (afterName + 10 > bytes.length) throw new ParseError('truncated-record');
  const type = u16(bytes, afterName);
  const cls = u16(bytes, afterName + 2);
  const rawTtl = u32(bytes, afterName + 4);
  const ttl = rawTtl > 0x7fffffff ? 0 : rawTtl;
  const rdlength = u16(bytes, afterName + 8);
  const start = afterName + 10;
  const end = start + rdlength;
  if (end > bytes.length) throw new ParseError('truncated-record');
  let data: DnsRdata;
  switch (type) {
    case DnsType.A:
    case DnsType.AAAA: {
      const want = type === DnsType.A ? 4 : 16;
      if (rdlength !== want || cls !== DNS_CLASS_IN) {
        data = { kind: 'raw', bytes: bytes.slice(start, end) };
        if (cls === DNS_CLASS_IN) throw new ParseError('bad-rdata');
      } else {
        data = { kind: 'address', address: bytes.slice(start, end) };
      }
      break;
    }
    case DnsType.CNAME:
    case DnsType.NS:
    case DnsType.PTR: {
      const n = readName(bytes, start, end);
      if (n.next !== end) throw new ParseError('bad-rdata');
      data = { kind: 'name', name: n.name };
      break;
    }
    case DnsType.SOA: {
      const m = readName(bytes, start, end);
      const r = readName(bytes, m.next, end);
      if (r.next + 20 !== end) throw new ParseError('bad-rdata');
      const o = r.next;
      data = {
        kind: 'soa',
        soa: {
          mname: m.name,
          rname: r.name,
          serial: u32(bytes, o),
          refresh: u32(bytes, o + 4),
          retry: u32(bytes, o + 8),
          expire: u32(bytes, o + 12),
          minimum: u32(bytes, o + 16),
        },
      };
      break;
    }
    case DnsType.MX: {
      if (rdlength < 3) throw new ParseError('bad-rdata');
      const n = readName(bytes, start + 2, end);
      if (n.next !== end) throw new ParseError('bad-rdata');
      data = { kind: 'mx', preference: u16(bytes, start), exchange: n.name };
      break;
    }
    case DnsType.TXT: {
      // One or more <character-string>s: a length byte and that many bytes (RFC 1035 §3.3).
      const strings: Uint8Array[] = [];
      let o = start;
      while (o < end) {
        const len = bytes[o];
        if (o + 1 + len > end) throw new ParseError('bad-rdata');
        strings.push(bytes.slice(o + 1, o + 1 + len));
        o += 1 + len;
      }
      if (strings.length === 0) throw new ParseError('bad-rdata');
      data = { kind: 'txt', strings };
      break;
    }
    case DnsType.SRV: {
      if (rdlength < 7) throw new ParseError('bad-rdata');
      const n = readName(bytes, start + 6, end);
      if (n.next !== end) throw new ParseError('bad-rdata');
      data = { kind: 'srv', priority: u16(bytes, start), weight: u16(bytes, start + 2), port: u16(bytes, start + 4), target: n.name };
      break;
    }
    case DnsType.CAA: {
      // Flags, tag length (1-15 per RFC 8659 §4.1, not enforced on input), tag, value to the end.
      if (rdlength < 2) throw new ParseError('bad-rdata');
      const tagLength = bytes[start + 1];
      if (tagLength === 0 || start + 2 + tagLength > end) throw new ParseError('bad-rdata');
      const tag = String.fromCharCode(...bytes.subarray(start + 2, start + 2 + tagLength));
      data = { kind: 'caa', flags: bytes[start], tag, value: bytes.slice(start + 2 + tagLength, end) };
      break;
    }
    default:
      data = { kind: 'raw', bytes: bytes.slice(start, end) };
  }
  return { record: { name, type, class: cls, ttl, data }, next: end };
}

/** Parses a whole message. Bytes after the last counted record are ignored. */
export function parseDnsMessage(bytes: Uint8Array): DnsParseResult {
  const view = DnsPacket.view(bytes);
  if (!view) return { ok: false, reason: 'too-short' };
  try {
    const b2 = bytes[2];
    const b3 = bytes[3];
    const flags: DnsFlags = {
      qr: (b2 & 0x80) !== 0,
      opcode: (b2 >> 3) & 0x0f,
      aa: (b2 & 0x04) !== 0,
      tc: (b2 & 0x02) !== 0,
      rd: (b2 & 0x01) !== 0,
      ra: (b3 & 0x80) !== 0,
      ad: (b3 & 0x20) !== 0,
      cd: (b3 & 0x10) !== 0,
      rcode: b3 & 0x0f,
    };
    let pos = DNS_HEADER_LENGTH;
    const questions: DnsQuestion[] = [];
    for (let i = 0; i < view.questionCount; i++) {
      const { name, next } = readName(bytes, pos, bytes.length);
      if (next + 4 > bytes.length) throw new ParseError('truncated-record');
      questions.push({ name, type: u16(bytes, next), class: u16(bytes, next + 2) });
      pos = next + 4;
    }
    const section = (count: number): DnsRecord[] => {
      const out: DnsRecord[] = [];
      for (let i = 0; i < count; i++) {
        const { record, next } = readRecord(bytes, pos);
        out.push(record);
        pos = next;
      }
      return out;
    };
    const answers = section(view.answerCount);
    const authorities = section(view.authorityCount);
    const additionals = section(view.additionalCount);
    return { ok: true, message: { id: view.id, flags, questions, answers, authorities, additionals } };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, reason: e.reason };
    throw e;
  }
}

/**
 * Splits a name in presentation form into wire labels. The inverse of what the parser produces:
 * `\.` and `\\` are a literal dot and backslash inside a label, `\DDD` is the byte DDD (RFC 1035
 * §5.1), so a label of arbitrary bytes (RFC 1035 §3.1, RFC 4343 §2.1) survives parse then emit.
 * @throws {RangeError} for empty labels, labels over 63 bytes, names over 255 bytes on the wire, a
 *   broken escape, or unescaped characters outside printable ASCII (use punycode for international
 *   names).
 */
export function nameToLabels(name: string): Uint8Array[] {
  if (name === '.' || name === '') return [];
  const labels: Uint8Array[] = [];
  let wire = 1;
  let label: number[] = [];
  const bad = (why: string): never => {
    throw new RangeError(`"${printable(name)}" is not a valid DNS name: ${why}`);
  };
  const endLabel = (): void => {
    if (label.length === 0) bad('it has an empty label');
    if (label.length > DNS_MAX_LABEL_LENGTH) bad(`a label is longer than ${DNS_MAX_LABEL_LENGTH} characters`);
    labels.push(Uint8Array.from(label));
    wire += label.length + 1;
    label = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0x2e) {
      endLabel();
      // A trailing dot marks the name as absolute; it adds no label.
      if (i === name.length - 1) return checked(labels, wire, bad);
    } else if (c === 0x5c) {
      const d = /^[0-9]{3}/.exec(name.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) bad(`the escape \\${d[0]} is not a byte (\\000 to \\255)`);
        label.push(v);
        i += 3;
      } else {
        const next = name.charCodeAt(i + 1);
        if (Number.isNaN(next) || next <= 0x20 || next >= 0x7f) bad('a backslash escape must be followed by a printable character or three digits');
        label.push(next);
        i += 1;
      }
    } else if (c <= 0x20 || c >= 0x7f) {
      bad('use printable ASCII (punycode for international names)');
    } else label.push(c);
  }
  endLabel();
  return checked(labels, wire, bad);
}

function checked(labels: Uint8Array[], wire: number, bad: (why: string) => never): Uint8Array[] {
  if (wire > DNS_MAX_NAME_WIRE_LENGTH) bad('it is longer than 253 characters');
  return labels;
}

/** A name shortened and stripped of control characters for an error message. */
function printable(name: string): string {
  const s = name.replace(/[^\x20-\x7e]/g, '?');
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * A key for a label sequence that no other label sequence shares: lengths prefix the labels, and
 * ASCII letters fold to lower case (RFC 4343 §3: only A-Z and a-z compare case-insensitively).
 */
export function labelsKey(labels: readonly Uint8Array[]): string {
  let key = '';
  for (const l of labels) {
    key += String.fromCharCode(l.length);
    for (const b of l) key += String.fromCharCode(b >= 0x41 && b <= 0x5a ? b | 0x20 : b);
  }
  return key;
}

/** Growable output buffer with the compression table of RFC 1035 §4.1.4. */
class Writer {
  private buf = new Uint8Array(512);
  length = 0;
  private readonly offsets = new Map<string, number>();

  constructor(private readonly compress: boolean) {}

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.length++] = v >> 8;
    this.buf[this.length++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16(Math.floor(v / 0x10000) & 0xffff);
    this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  setU16(at: number, v: number): void {
    this.buf[at] = v >> 8;
    this.buf[at + 1] = v & 0xff;
  }

  name(name: string): void {
    const labels = nameToLabels(name);
    for (let i = 0; i < labels.length; i++) {
      if (this.compress) {
        // Names compare case-insensitively (RFC 1035 §2.3.3), so the table is keyed in lower case.
        const key = labelsKey(labels.slice(i));
        const at = this.offsets.get(key);
        if (at !== undefined) {
          this.u16(0xc000 | at);
          return;
        }
        if (this.length < 0x4000) this.offsets.set(key, this.length);
      }
      this.u8(labels[i].length);
      this.bytes(labels[i]);
    }
    this.u8(0);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

function emitRecord(w: Writer, r: DnsRecord): void {
  w.name(r.name);
  w.u16(r.type);
  w.u16(r.class);
  w.u32(r.ttl);
  const lengthAt = w.length;
  w.u16(0);
  const start = w.length;
  const d = r.data;
  switch (d.kind) {
    case 'address':
      w.bytes(d.address);
      break;
    case 'name':
      w.name(d.name);
      break;
    case 'soa':
      w.name(d.soa.mname);
      w.name(d.soa.rname);
      w.u32(d.soa.serial);
      w.u32(d.soa.refresh);
      w.u32(d.soa.retry);
      w.u32(d.soa.expire);
      w.u32(d.soa.minimum);
      break;
    case 'mx':
      w.u16(d.preference);
      w.name(d.exchange);
      break;
    case 'txt':
      for (const s of d.strings) {
        if (s.length > 255) throw new RangeError(`a TXT string holds at most 255 bytes, not ${s.length}`);
        w.u8(s.length);
        w.bytes(s);
      }
      break;
    case 'srv':
      w.u16(d.priority);
      w.u16(d.weight);
      w.u16(d.port);
      // RFC 2782: the target is not compressed.
      for (const label of nameToLabels(d.target)) {
        w.u8(label.length);
        w.bytes(label);
      }
      w.u8(0);
      break;
    case 'caa':
      if (d.tag.length < 1 || d.tag.length > 15 || !/^[A-Za-z0-9]+$/.test(d.tag)) throw new RangeError(`a CAA tag is 1 to 15 letters and digits, not "${d.tag}"`);
      w.u8(d.flags);
      w.u8(d.tag.length);
      w.bytes(new TextEncoder().encode(d.tag));
      w.bytes(d.value);
      break;
    case 'raw':
      w.bytes(d.bytes);
      break;
  }
  const rdlength = w.length - start;
  if (rdlength > 0xffff) throw new RangeError(`RDATA of ${rdlength} bytes does not fit a DNS record`);
  w.setU16(lengthAt, rdlength);
}

/**
 * Serializes a message. `compress` replaces repeated name suffixes with pointers (RFC 1035
 * §4.1.4), also inside CNAME/NS/PTR/SOA RDATA, which RFC 3597 §4 allows for those well-known types.
 * @throws {RangeError} for invalid names or counts over 65535.
 */
export function emitDnsMessage(message: DnsMessage, options: { compress?: boolean } = {}): Uint8Array {
  const w = new Writer(options.compress ?? false);
  const f = message.flags;
  w.u16(message.id & 0xffff);
  w.u8((f.qr ? 0x80 : 0) | ((f.opcode & 0x0f) << 3) | (f.aa ? 0x04 : 0) | (f.tc ? 0x02 : 0) | (f.rd ? 0x01 : 0));
  w.u8((f.ra ? 0x80 : 0) | (f.ad ? 0x20 : 0) | (f.cd ? 0x10 : 0) | (f.rcode & 0x0f));
  for (const n of [message.questions.length, message.answers.length, message.authorities.length, message.additionals.length]) {
    if (n > 0xffff) throw new RangeError(`a DNS section holds at most 65535 entries, not ${n}`);
    w.u16(n);
  }
  for (const q of message.questions) {
    w.name(q.name);
    w.u16(q.type);
    w.u16(q.class);
  }
  for (const r of message.answers) emitRecord(w, r);
  for (const r of message.authorities) emitRecord(w, r);
  for (const r of message.additionals) emitRecord(w, r);
  return w.result();
}

/** Default flags: a standard query with recursion desired. */
export function queryFlags(): DnsFlags {
  return { qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 };
}

/**
 * An EDNS(0) OPT pseudo-record (RFC 6891 §6.1.2) advertising `udpPayloadSize`: its CLASS field
 * carries the size and its TTL field the extended RCODE/version/flags (all zero here).
 */
export function ednsOptRecord(udpPayloadSize: number): DnsRecord {
  return { name: '.', type: DnsType.OPT, class: udpPayloadSize, ttl: 0, data: { kind: 'raw', bytes: new Uint8Array(0) } };
}

/**
 * Name equality as DNS defines it (RFC 1035 §2.3.3, RFC 4343): label by label, ASCII letters
 * without regard to case, escapes decoded (`\\065` is `A`; `a\\.b` is one label, not `a.b`).
 * Trailing dots are ignored. A string that is not a valid name equals nothing.
 */
export function namesEqual(a: string, b: string): boolean {
  try {
    return labelsKey(nameToLabels(a)) === labelsKey(nameToLabels(b));
  } catch {
    return false;
  }
}
