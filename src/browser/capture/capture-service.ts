/**
 * The worker's packet capture: one {@link PacketCapture} that outlives sessions, fed by each
 * Session's `onPacket` hook, answering the capture half of the worker contract (capture-api.ts).
 *
 *   TunnelService.connect ──▶ hookFor(configText) ──▶ a new pcapng interface + Session onPacket
 *   Session onPacket(direction, bytes, atEpochMs) ──▶ PacketCapture.record (a copy, bounded)
 *   startCapture / stopCapture / clearCapture / capturePage / capturedPacket / downloadCapture
 *
 * Recording is on from the start by default, so the packet list already shows the first packets
 * of a connection; the limits (10,000 packets / 32 MiB) bound what it can cost.
 */
import { formatEndpoint, type IpPrefix } from '../../shared/ip-address.ts';
import { parseWgQuickConfig } from '../../shared/wg-quick-config.ts';
import { formatKey } from '../../wireguard/noise-keys.ts';
import type { CaptureFile, CapturedPacket, CapturePage, CaptureStatus } from './capture-api.ts';
import { concatBlocks } from './pcapng-writer.ts';
import { PacketCapture, type CapturePeer, type CaptureRowsQuery, type PacketCaptureOptions } from './packet-capture.ts';

/** The `onPacket` option of a Session. */
export type PacketHook = (direction: 'in' | 'out', packet: Uint8Array, atEpochMs: number) => void;

export interface CaptureServiceOptions extends PacketCaptureOptions {
  /** Wall clock for file names (default Date.now). */
  now?: () => number;
}

/** See the module comment. */
export class CaptureService {
  readonly capture: PacketCapture;
  readonly #now: () => number;
  readonly #keyLogSources = new Set<() => readonly string[]>();

  constructor(options: CaptureServiceOptions = {}) {
    this.capture = new PacketCapture({ running: true, ...options });
    this.#now = options.now ?? Date.now;
  }

  /**
   * Declares the session about to start with `configText` (one pcapng interface per session, its
   * description naming our addresses and the peers) and returns the hook that records its packets.
   */
  hookFor(configText: string): PacketHook {
    let addresses: IpPrefix[] = [];
    let peers: CapturePeer[] = [];
    try {
      const { config } = parseWgQuickConfig(configText);
      addresses = config.interface.addresses;
      peers = config.peers.map((p) => ({
        publicKey: formatKey(p.publicKey),
        endpoint: p.endpoint ? formatEndpoint(p.endpoint) : undefined,
        allowedIPs: p.allowedIPs,
      }));
    } catch {
      // The session will refuse this config with the real error; the capture just knows less.
    }
    const iface = this.capture.addInterface({ name: `wgweb${this.capture.interfaces.length}`, addresses, peers });
    return (direction, packet, atEpochMs) => {
      this.capture.record(direction, packet, atEpochMs, iface);
    };
  }

  /** A session's TLS key log, embedded in downloads (Decryption Secrets Block); returns a remover. */
  addTlsKeyLogSource(source: () => readonly string[]): () => void {
    this.#keyLogSources.add(source);
    return () => this.#keyLogSources.delete(source);
  }

  start(): CaptureStatus {
    this.capture.start();
    return this.capture.stats();
  }

  stop(): CaptureStatus {
    this.capture.stop();
    return this.capture.stats();
  }

  clear(): CaptureStatus {
    this.capture.clear();
    return this.capture.stats();
  }

  status(): CaptureStatus {
    return this.capture.stats();
  }

  page(query: CaptureRowsQuery = {}): CapturePage {
    const q = typeof query === 'object' && query !== null ? query : {};
    return { ...this.capture.rows(q), status: this.capture.stats() };
  }

  /** One packet and a copy of its bytes (for transfer), or null when it is no longer held. */
  packet(index: number): CapturedPacket | null {
    const rec = this.capture.get(index);
    if (!rec) return null;
    const bytes = rec.data.slice().buffer;
    return { row: { index: rec.index, at: rec.at, direction: rec.direction, length: rec.data.length, summary: this.capture.summary(rec) }, bytes };
  }

  /** The capture as a pcapng file named after the current local time. */
  download(options: { filter?: string } = {}): CaptureFile {
    const filter = typeof options?.filter === 'string' ? options.filter : undefined;
    const blocks: Uint8Array[] = [];
    const tlsKeyLog = [...this.#keyLogSources].flatMap((s) => s());
    const packets = this.capture.writePcapng((b) => blocks.push(b), { filter, tlsKeyLog });
    const bytes = concatBlocks(blocks);
    return { filename: captureFileName(this.#now()), bytes: bytes.buffer, packets };
  }
}

/** `wgweb-YYYYMMDD-HHMMSS.pcapng` in local time. */
export function captureFileName(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `wgweb-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}.pcapng`;
}
