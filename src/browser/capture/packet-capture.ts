/**
 * A bounded packet capture of the decrypted inner IP packets, for the packet list and the
 * .pcapng download. Sans-IO: the caller passes each packet with its time; nothing here reads a
 * clock or touches the DOM.
 *
 *   Session onPacket(direction, bytes, atEpochMs) ──▶ record() ──copy──▶ ring (oldest dropped, counted)
 *   rows({ offset, limit, filter }) ──▶ summaries for the live list (summarised once, on first use)
 *   writePcapng(sink) ──▶ SHB, one IDB per tunnel session that has packets, one EPB per packet
 *
 * Storage: packet bytes are copied into shared 256 KiB chunks and each packet's time, direction,
 * interface, chunk and offset sit in typed-array columns of a ring, so recording a packet creates no
 * JavaScript object at all (records for the list and the file are made on demand). The capture is
 * on by default and holds thousands of packets: one object per packet, each living long enough
 * to reach V8's old generation and then dying, cost the tunnel worker ≈ 10 ms per MB downloaded
 * (docs/benchmarks.md, #19).
 *
 * Limits: at most `maxPackets` packets and `maxBytes` bytes of packet data; when either would be
 * exceeded the oldest packets go first. Frame numbers (`index`) count from 1 since the last clear
 * and never repeat, so a list can ask for "from frame N" across evictions.
 */
import { formatIp, formatPrefix, prefixContains, type IpPrefix } from '../../shared/ip-address.ts';
import { compilePacketFilter } from './packet-filter.ts';
import { summarizePacket, tcpInfo, type PacketSummary } from './packet-summary.ts';
import { LinkType, PcapngWriter, concatBlocks } from './pcapng-writer.ts';

/** Default packet limit of a capture. */
export const DEFAULT_CAPTURE_PACKETS = 10_000;
/** Default byte limit of a capture (packet data only). */
export const DEFAULT_CAPTURE_BYTES = 32 * 1024 * 1024;

/** A peer of a captured interface: names the peer of each packet in the pcapng comments. */
export interface CapturePeer {
  publicKey: string;
  endpoint?: string;
  allowedIPs: IpPrefix[];
}

/** One tunnel session, written as one pcapng interface. */
export interface CaptureInterface {
  /** Short name, e.g. `wgweb0`. */
  name: string;
  /** Our tunnel addresses. */
  addresses: IpPrefix[];
  peers: CapturePeer[];
}

/** One captured packet. `data` is a private copy. */
export interface CaptureRecord {
  /** Frame number: 1, 2, ... since the last clear. */
  readonly index: number;
  /** Epoch milliseconds (fractional). */
  readonly at: number;
  readonly direction: 'in' | 'out';
  /** Index into the capture's interfaces. */
  readonly iface: number;
  /**
   * A view of the capture's copy (do not write to it), valid until the packet is evicted: its
   * chunk is then written again. Copy it to keep it.
   */
  readonly data: Uint8Array;
}

/** A row of the packet list: plain data, structured-clone safe. */
export interface CaptureRow {
  index: number;
  at: number;
  direction: 'in' | 'out';
  length: number;
  summary: PacketSummary;
}

/** Counters and limits. */
export interface CaptureStats {
  running: boolean;
  /** Packets held now. */
  packets: number;
  /** Bytes of packet data held now. */
  bytes: number;
  /** Packets recorded since the last clear (held + evicted). */
  recorded: number;
  /** Oldest packets dropped to stay within the limits. */
  evicted: number;
  /** Frame number of the oldest packet held (`nextIndex` when empty). */
  firstIndex: number;
  /** Frame number the next packet will get. */
  nextIndex: number;
  /** Time of frame 1 (epoch ms), the zero of the list's relative times; absent before it. */
  firstAt?: number;
  maxPackets: number;
  maxBytes: number;
}

export interface PacketCaptureOptions {
  maxPackets?: number;
  maxBytes?: number;
  /** Start recording right away (default false). */
  running?: boolean;
}

/** A page of the list, in filtered order. */
export interface CaptureRowsQuery {
  /** Position among the matching packets (0 = oldest); ignored with `tail`. */
  offset?: number;
  /** Rows wanted (default 100, at most 1000). */
  limit?: number;
  /** Filter box text (see packet-filter.ts). */
  filter?: string;
  /** The newest `limit` matching rows (a live list that follows the end). */
  tail?: boolean;
}

export interface CaptureRowsResult {
  rows: CaptureRow[];
  /** Position of `rows[0]` among the matching packets. */
  offset: number;
  /** How many packets match the filter (all packets held, without one). */
  matched: number;
}

export interface PcapngExportOptions {
  /** Only packets matching this filter text. */
  filter?: string;
  /** Section comment; a default one says what the file holds. */
  comment?: string;
  /** Application name for shb_userappl (default `wgweb`). */
  application?: string;
  /** TLS secrets (SSLKEYLOGFILE lines) to embed, so Wireshark decrypts the HTTPS in the file. */
  tlsKeyLog?: readonly string[];
}

const MAX_PAGE = 1000;

/**
 * Packet copies go into shared chunks of this size instead of one buffer each: a browser worker
 * pays several microseconds per ArrayBuffer allocation (docs/benchmarks.md, #19), and the capture
 * is on by default, so one allocation per packet was a cost on every packet of a download. A chunk
 * is let go once no held packet is in it, so the memory held stays within `maxBytes` plus one
 * partly evicted chunk and the one being filled. Once the capture is full (a download fills it in
 * seconds) the chunk let go is the next one written: in Chromium, writing fresh ArrayBuffer memory
 * cost ≈ 13 ms per MB in this project's VM (a page fault per 4 KiB), writing reused memory ≈ 0.7,
 * so a new chunk for every 256 KiB captured cost the tunnel worker about a fifth of a download's
 * CPU (docs/benchmarks.md #19 section 17). Records are views into the chunks: valid until their
 * packet is evicted.
 */
const SLAB_BYTES = 256 * 1024;
/** TCP initial sequence numbers remembered (one per direction of a connection), oldest forgotten. */
const MAX_ISNS = 4096;

function checkLimit(value: number | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${what} must be a positive integer, not ${value}`);
  return value;
}

/** See the module comment. */
export class PacketCapture {
  readonly maxPackets: number;
  readonly maxBytes: number;
  #running: boolean;
  /** The ring's columns, `#capacity` slots; the oldest packet held is at slot `#head`. */
  #capacity = 0;
  #at = new Float64Array(0);
  /** Bit 0: direction (1 = out); the rest: the interface index. */
  #flags = new Uint32Array(0);
  /** The chunk's sequence number (see `#chunks`), the offset in it and the length. */
  #chunkOf = new Uint32Array(0);
  #offset = new Uint32Array(0);
  #length = new Uint32Array(0);
  #head = 0;
  #size = 0;
  /**
   * The chunks still viewed by a held packet, oldest first; `#chunks[0]` has sequence number
   * `#chunkBase`. The last one is written to from `#chunkUsed` (see SLAB_BYTES).
   */
  #chunks: Uint8Array[] = [];
  #chunkBase = 0;
  #chunkUsed = 0;
  /** The last chunk the eviction let go, written again instead of a new one (see SLAB_BYTES). */
  #spare: Uint8Array | undefined;
  /** Summaries computed so far, by frame number (a list only summarises the rows it shows). */
  readonly #summaries = new Map<number, PacketSummary>();
  #bytes = 0;
  #nextIndex = 1;
  #evicted = 0;
  #firstAt: number | undefined;
  /** Initial sequence number per sending direction ("src|sport|dst|dport"), from SYNs recorded. */
  readonly #isns = new Map<string, number>();
  readonly #interfaces: CaptureInterface[] = [];

  constructor(options: PacketCaptureOptions = {}) {
    this.maxPackets = checkLimit(options.maxPackets, DEFAULT_CAPTURE_PACKETS, 'maxPackets');
    this.maxBytes = checkLimit(options.maxBytes, DEFAULT_CAPTURE_BYTES, 'maxBytes');
    this.#running = options.running ?? false;
  }

  get running(): boolean {
    return this.#running;
  }

  /** Packets held now. */
  get size(): number {
    return this.#size;
  }

  start(): void {
    this.#running = true;
  }

  stop(): void {
    this.#running = false;
  }

  /** Drops every packet and restarts frame numbers at 1 (interfaces are kept: sessions go on). */
  clear(): void {
    this.#head = 0;
    this.#size = 0;
    this.#bytes = 0;
    this.#chunks = [];
    this.#spare = undefined;
    this.#chunkBase = 0;
    this.#chunkUsed = 0;
    this.#summaries.clear();
    this.#nextIndex = 1;
    this.#evicted = 0;
    this.#firstAt = undefined;
    this.#isns.clear();
  }

  /** Declares a tunnel session; packets recorded afterwards belong to it by default. */
  addInterface(info: CaptureInterface): number {
    this.#interfaces.push({ name: info.name, addresses: [...info.addresses], peers: info.peers.map((p) => ({ ...p, allowedIPs: [...p.allowedIPs] })) });
    return this.#interfaces.length - 1;
  }

  /** The interfaces declared so far. */
  get interfaces(): readonly CaptureInterface[] {
    return this.#interfaces;
  }

  /**
   * Records a copy of `data` when running. Returns false when stopped. A packet larger than
   * `maxBytes` is kept alone (everything older goes).
   */
  record(direction: 'in' | 'out', data: Uint8Array, atEpochMs: number, iface?: number): boolean {
    if (!this.#running) return false;
    if (!(data instanceof Uint8Array)) return false;
    let ifaceId = iface ?? this.#interfaces.length - 1;
    if (ifaceId < 0 || ifaceId >= this.#interfaces.length) {
      ifaceId = this.addInterface({ name: 'wgweb', addresses: [], peers: [] });
    }
    if (this.#nextIndex === 1) this.#firstAt = atEpochMs;
    const n = data.length;
    // Room first, so that the copy never lands in a chunk the eviction is about to drop.
    while (this.#size > 0 && (this.#size >= this.maxPackets || this.#bytes + n > this.maxBytes)) this.#evictOldest();
    if (this.#size === this.#capacity) this.#grow();
    const slot = (this.#head + this.#size) % this.#capacity;
    this.#copy(data, slot);
    this.#at[slot] = atEpochMs;
    this.#flags[slot] = (ifaceId << 1) | (direction === 'out' ? 1 : 0);
    this.#size++;
    this.#nextIndex++;
    this.#bytes += n;
    this.#learnIsn(data);
    return true;
  }

  stats(): CaptureStats {
    const stats: CaptureStats = {
      running: this.#running,
      packets: this.size,
      bytes: this.#bytes,
      recorded: this.#nextIndex - 1,
      evicted: this.#evicted,
      firstIndex: this.#firstIndex,
      nextIndex: this.#nextIndex,
      maxPackets: this.maxPackets,
      maxBytes: this.maxBytes,
    };
    if (this.#firstAt !== undefined) stats.firstAt = this.#firstAt;
    return stats;
  }

  /** The packet with frame number `index`, if still held. */
  get(index: number): CaptureRecord | undefined {
    if (!Number.isInteger(index)) return undefined;
    const position = index - this.#firstIndex;
    return position >= 0 && position < this.#size ? this.#record(position) : undefined;
  }

  /** Packets with frame numbers in `[from, to)`, oldest first (clamped to what is held). */
  slice(from: number, to: number): CaptureRecord[] {
    const start = Math.max(0, Math.floor(from) - this.#firstIndex);
    const end = Math.min(this.#size, Math.ceil(to) - this.#firstIndex);
    const out: CaptureRecord[] = [];
    for (let p = start; p < end; p++) out.push(this.#record(p));
    return out;
  }

  /** Frame number of the oldest packet held (`#nextIndex` when empty). */
  get #firstIndex(): number {
    return this.#nextIndex - this.#size;
  }

  /** The record at `position` (0 = the oldest held), made now: a view of its copy. */
  #record(position: number): CaptureRecord {
    const slot = (this.#head + position) % this.#capacity;
    const flags = this.#flags[slot]!;
    const chunk = this.#chunks[this.#chunkOf[slot]! - this.#chunkBase]!;
    const at = this.#offset[slot]!;
    return {
      index: this.#firstIndex + position,
      at: this.#at[slot]!,
      direction: flags & 1 ? 'out' : 'in',
      iface: flags >>> 1,
      data: chunk.subarray(at, at + this.#length[slot]!),
    };
  }

  /** The summary of a held record (computed once), with relative TCP numbers when the SYNs were seen. */
  summary(rec: CaptureRecord): PacketSummary {
    const known = this.#summaries.get(rec.index);
    if (known) return known;
    const s = summarizePacket(rec.data);
    const tcp = s.tcp;
    if (tcp && s.srcPort !== undefined && s.dstPort !== undefined && !s.fragment) {
      const mine = this.#isns.get(`${s.src}|${s.srcPort}|${s.dst}|${s.dstPort}`);
      const theirs = this.#isns.get(`${s.dst}|${s.dstPort}|${s.src}|${s.srcPort}`);
      if (mine !== undefined) tcp.relativeSeq = (tcp.seq - mine) >>> 0;
      // The acknowledgement field means something only with ACK set (RFC 9293 §3.1).
      if (theirs !== undefined && tcp.flagNames.includes('ACK')) tcp.relativeAck = (tcp.ack - theirs) >>> 0;
      if ((mine !== undefined || theirs !== undefined) && !s.tls) s.info = tcpInfo(s.srcPort, s.dstPort, tcp);
    }
    if (this.get(rec.index)?.data.buffer === rec.data.buffer) this.#summaries.set(rec.index, s);
    return s;
  }

  /**
   * Remembers the initial sequence number of a SYN (RFC 9293 §3.4.1) so later segments of that
   * connection show relative numbers. Reads a few bytes only; IPv6 extension headers are skipped
   * over (such SYNs just keep absolute numbers).
   */
  #learnIsn(b: Uint8Array): void {
    const v = b.length ? b[0] >> 4 : 0;
    let at: number;
    if (v === 4 && b.length >= 20 && b[9] === 6 && (((b[6] << 8) | b[7]) & 0x3fff) === 0) at = (b[0] & 15) << 2;
    else if (v === 6 && b.length >= 40 && b[6] === 6) at = 40;
    else return;
    if (b.length < at + 14 || !(b[at + 13] & 0x02)) return; // not a SYN
    const src = v === 4 ? b.subarray(12, 16) : b.subarray(8, 24);
    const dst = v === 4 ? b.subarray(16, 20) : b.subarray(24, 40);
    const key = `${formatIp(src)}|${(b[at] << 8) | b[at + 1]}|${formatIp(dst)}|${(b[at + 2] << 8) | b[at + 3]}`;
    const isn = ((b[at + 4] << 24) | (b[at + 5] << 16) | (b[at + 6] << 8) | b[at + 7]) >>> 0;
    this.#isns.delete(key);
    this.#isns.set(key, isn);
    if (this.#isns.size > MAX_ISNS) this.#isns.delete(this.#isns.keys().next().value!);
  }

  /** A page of rows in filtered order (see {@link CaptureRowsQuery}). */
  rows(query: CaptureRowsQuery = {}): CaptureRowsResult {
    const limit = Math.max(0, Math.min(MAX_PAGE, Math.floor(query.limit ?? 100)));
    const filter = compilePacketFilter(query.filter ?? '');
    const toRow = (r: CaptureRecord): CaptureRow => ({ index: r.index, at: r.at, direction: r.direction, length: r.data.length, summary: this.summary(r) });
    if (filter.empty) {
      const matched = this.size;
      const offset = clampOffset(query, matched, limit);
      const out: CaptureRow[] = [];
      for (let i = 0; i < limit && offset + i < matched; i++) out.push(toRow(this.#record(offset + i)));
      return { rows: out, offset, matched };
    }
    const hits: CaptureRecord[] = [];
    for (let p = 0; p < this.#size; p++) {
      const r = this.#record(p);
      if (filter.matches({ direction: r.direction, summary: this.summary(r) })) hits.push(r);
    }
    const offset = clampOffset(query, hits.length, limit);
    return { rows: hits.slice(offset, offset + limit).map(toRow), offset, matched: hits.length };
  }

  /**
   * Writes the held packets (optionally filtered) as one pcapng section to `sink`, block by block.
   * Only interfaces that have packets in the file are written. Returns the number of packets.
   */
  writePcapng(sink: (block: Uint8Array) => void, options: PcapngExportOptions = {}): number {
    const filter = compilePacketFilter(options.filter ?? '');
    const stats = this.stats();
    const dropped = stats.evicted ? ` The buffer holds the newest ${stats.maxPackets.toLocaleString('en')} packets / ${Math.round(stats.maxBytes / 1048576)} MiB; ${stats.evicted} older packets were dropped before this export.` : '';
    const writer = new PcapngWriter(sink, {
      comment:
        options.comment ??
        `Decrypted inner IP packets of a WireGuard tunnel, captured inside wgweb's Web Worker (before encryption / after decryption).${options.filter ? ` Filter: ${options.filter}.` : ''}${dropped}`,
      userApplication: options.application ?? 'wgweb',
    });
    writer.writeTlsKeyLog(options.tlsKeyLog ?? []);
    const ids = new Map<number, number>();
    let n = 0;
    for (let p = 0; p < this.#size; p++) {
      const r = this.#record(p);
      if (!filter.empty && !filter.matches({ direction: r.direction, summary: this.summary(r) })) continue;
      let id = ids.get(r.iface);
      const info = this.#interfaces[r.iface];
      if (id === undefined) {
        id = writer.addInterface({ linkType: LinkType.RAW, name: info.name, description: describeInterface(info), timestampResolution: 'us' });
        ids.set(r.iface, id);
      }
      const peer = peerOf(info, r.direction, r.data);
      writer.writePacket({
        interfaceId: id,
        timestampMs: Math.max(0, r.at),
        data: r.data,
        direction: r.direction,
        comment: peer ? `${r.direction === 'in' ? 'from' : 'to'} peer ${peer.publicKey}${peer.endpoint ? ` at ${peer.endpoint}` : ''}` : undefined,
      });
      n++;
    }
    return n;
  }

  /** The whole pcapng file in one buffer. */
  toPcapng(options: PcapngExportOptions = {}): Uint8Array<ArrayBuffer> {
    const blocks: Uint8Array[] = [];
    this.writePcapng((b) => blocks.push(b), options);
    return concatBlocks(blocks);
  }

  /**
   * Copies `data` into the current chunk (a chunk of its own when larger than a quarter chunk) and
   * notes where in `slot`.
   */
  #copy(data: Uint8Array, slot: number): void {
    const n = data.length;
    let at = 0;
    if (n > SLAB_BYTES / 4) {
      this.#chunks.push(data.slice());
      this.#chunkUsed = Number.POSITIVE_INFINITY; // the next packet starts a new chunk
    } else {
      if (this.#chunks.length === 0 || this.#chunkUsed + n > this.#chunks[this.#chunks.length - 1]!.length) {
        this.#chunks.push(this.#spare ?? new Uint8Array(SLAB_BYTES));
        this.#spare = undefined;
        this.#chunkUsed = 0;
      }
      at = this.#chunkUsed;
      this.#chunks[this.#chunks.length - 1]!.set(data, at);
      // Keep the next copy 8-byte aligned, so readers may view it through wider typed arrays.
      this.#chunkUsed = (at + n + 7) & ~7;
    }
    this.#chunkOf[slot] = this.#chunkBase + this.#chunks.length - 1;
    this.#offset[slot] = at;
    this.#length[slot] = n;
  }

  /** Doubles the ring (up to maxPackets), keeping the packets in order from slot 0. */
  #grow(): void {
    const capacity = Math.min(this.maxPackets, Math.max(1024, this.#capacity * 2));
    const reorder = <T extends Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(column: T, next: T): T => {
      for (let p = 0; p < this.#size; p++) next[p] = column[(this.#head + p) % this.#capacity]!;
      return next;
    };
    this.#at = reorder(this.#at, new Float64Array(capacity));
    this.#flags = reorder(this.#flags, new Uint32Array(capacity));
    this.#chunkOf = reorder(this.#chunkOf, new Uint32Array(capacity));
    this.#offset = reorder(this.#offset, new Uint32Array(capacity));
    this.#length = reorder(this.#length, new Uint32Array(capacity));
    this.#capacity = capacity;
    this.#head = 0;
  }

  #evictOldest(): void {
    if (this.#size === 0) return;
    const slot = this.#head;
    if (this.#summaries.size) this.#summaries.delete(this.#firstIndex);
    this.#bytes -= this.#length[slot]!;
    this.#head = (this.#head + 1) % this.#capacity;
    this.#size--;
    this.#evicted++;
    // Chunks no held packet views any more go (the one being written to stays while empty).
    const oldest = this.#size ? this.#chunkOf[this.#head]! : this.#chunkBase + this.#chunks.length - 1;
    while (this.#chunkBase < oldest) {
      const gone = this.#chunks.shift()!;
      if (gone.length === SLAB_BYTES) this.#spare = gone;
      this.#chunkBase++;
    }
  }
}

function clampOffset(query: CaptureRowsQuery, matched: number, limit: number): number {
  if (query.tail) return Math.max(0, matched - limit);
  const o = Math.floor(query.offset ?? 0);
  return Number.isFinite(o) ? Math.max(0, Math.min(o, Math.max(0, matched - 1))) : 0;
}

/** if_description: what the interface was, in words a Wireshark user sees in the capture properties. */
function describeInterface(info: CaptureInterface): string {
  const ours = info.addresses.length ? info.addresses.map(formatPrefix).join(', ') : 'no address';
  const peers = info.peers.map((p) => `peer ${p.publicKey}${p.endpoint ? ` at ${p.endpoint}` : ''} (AllowedIPs ${p.allowedIPs.map(formatPrefix).join(', ') || 'none'})`);
  return `WireGuard tunnel in wgweb: ${ours}${peers.length ? `; ${peers.join('; ')}` : ''}`;
}

/**
 * The peer a packet went to or came from, by cryptokey routing (WireGuard paper §2): the longest
 * AllowedIPs prefix containing the destination (outbound) or source (inbound) address.
 */
function peerOf(info: CaptureInterface, direction: 'in' | 'out', data: Uint8Array): CapturePeer | undefined {
  if (info.peers.length === 0) return undefined;
  const v = data.length ? data[0] >> 4 : 0;
  let address: Uint8Array | undefined;
  if (v === 4 && data.length >= 20) address = direction === 'in' ? data.subarray(12, 16) : data.subarray(16, 20);
  else if (v === 6 && data.length >= 40) address = direction === 'in' ? data.subarray(8, 24) : data.subarray(24, 40);
  if (!address) return info.peers.length === 1 ? info.peers[0] : undefined;
  let best: CapturePeer | undefined;
  let bestLength = -1;
  for (const p of info.peers) {
    for (const prefix of p.allowedIPs) {
      if (prefix.address.length === address.length && prefix.prefixLength > bestLength && prefixContains(prefix, address)) {
        best = p;
        bestLength = prefix.prefixLength;
      }
    }
  }
  return best;
}
