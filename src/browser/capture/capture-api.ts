/**
 * The packet-capture half of the worker contract (see tunnel-api.ts, whose `TunnelApi` extends
 * {@link CaptureApi}). Plain data only; the page imports these as types.
 *
 *   page ──comlink──▶ TunnelService.startCapture / capturePage / downloadCapture ──▶ CaptureService ──▶ PacketCapture
 *        ◀── summaries (never packet bytes in bulk) · one pcapng file as a transferred ArrayBuffer
 */
import type { CaptureRow, CaptureRowsQuery, CaptureRowsResult, CaptureStats } from './packet-capture.ts';

export type { CaptureRow, CaptureRowsQuery } from './packet-capture.ts';
export type { DnsSummary, IcmpSummary, PacketProtocol, PacketSummary, TcpSummary } from './packet-summary.ts';

/** Counters and limits of the capture (packets held, evicted, frame numbers). */
export type CaptureStatus = CaptureStats;

/** A page of the packet list, with the status it was cut from. */
export interface CapturePage extends CaptureRowsResult {
  status: CaptureStatus;
}

/** One packet with its bytes (for a detail pane / hex dump). */
export interface CapturedPacket {
  row: CaptureRow;
  /** A copy, transferred. */
  bytes: ArrayBuffer;
}

/** A pcapng file of the capture. */
export interface CaptureFile {
  /** e.g. `wgweb-20250101-120000.pcapng`. */
  filename: string;
  /** Transferred, not copied. */
  bytes: ArrayBuffer;
  /** Packets in the file. */
  packets: number;
}

/** What the worker exposes for the packet capture. */
export interface CaptureApi {
  /** Starts (or resumes) recording inner packets. */
  startCapture(): Promise<CaptureStatus>;
  /** Stops recording; what was captured stays. */
  stopCapture(): Promise<CaptureStatus>;
  /** Drops every captured packet; frame numbers restart at 1. */
  clearCapture(): Promise<CaptureStatus>;
  captureStatus(): Promise<CaptureStatus>;
  /** Summaries of a range of (filtered) packets, for the live list. */
  capturePage(query?: CaptureRowsQuery): Promise<CapturePage>;
  /** One packet with its bytes, or null once it has been dropped. */
  capturedPacket(index: number): Promise<CapturedPacket | null>;
  /** The held packets (optionally filtered) as a pcapng file. */
  downloadCapture(options?: { filter?: string }): Promise<CaptureFile>;
}
