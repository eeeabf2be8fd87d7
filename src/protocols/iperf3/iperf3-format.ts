/**
 * iperf3's report lines in text, shared by the CLI (printed) and the UI (the card's table):
 * one line per interval and the final sender / receiver lines, in iperf3's columns
 * (Interval, Transfer, Bitrate, Retr), with decimal bit rates as iperf3 prints them.
 */
import { formatBitrate, formatBytes } from '../../shared/format-bytes.ts';
import type { Iperf3Interval, Iperf3Summary, Iperf3Total } from './iperf3-client.ts';

/** The column heads. */
export const IPERF3_HEADER = 'Interval           Transfer      Bitrate          Retr';

function row(start: number, end: number, bytes: number, bps: number, retr: number | undefined, tail = ''): string {
  const interval = `${start.toFixed(2).padStart(6)}-${end.toFixed(2).padEnd(6)} sec`;
  return `${interval}  ${formatBytes(bytes).padStart(11)}  ${formatBitrate(bps).padStart(14)}  ${retr === undefined ? '    ' : String(retr).padStart(4)}${tail}`.trimEnd();
}

/** One interval line: `  0.00-1.00   sec    9.12 MiB     76.5 Mbit/s     3`. */
export function formatIperf3Interval(i: Iperf3Interval & { retransmits?: number }): string {
  return row(i.start, i.end, i.bytes, i.bitsPerSecond, i.retransmits);
}

function totalLine(t: Iperf3Total, who: 'sender' | 'receiver'): string {
  return row(0, t.seconds, t.bytes, t.bitsPerSecond, who === 'sender' ? t.retransmits : undefined, `  ${who}`);
}

/** The two closing lines, sender first, as iperf3 prints them. */
export function formatIperf3Summary(s: Iperf3Summary): string[] {
  return [totalLine(s.sender, 'sender'), totalLine(s.receiver, 'receiver')];
}
