/**
 * The geometry of the quality chart, shared by the app's <wg-quality-chart> (Lit SVG) and the
 * report's inline SVG (report-html.ts), so both draw the same picture from the same samples.
 *
 *   QualitySample[] ──▶ qualityChartModel(samples, { width, clock }) ──▶
 *     top band: received (area) and sent (line) throughput, scaled to the largest
 *     bottom band: RTT (ping where pinged, else TCP SRTT), scaled to the largest
 *     loss marks: x of samples with TCP retransmits, relay drops or lost pings
 *     time axis: 5 ticks labelled with the clock time, and the span ("last 12 min")
 *
 * Pure numbers and strings: no DOM, no clock (the caller formats times).
 */
import type { QualitySample } from './quality-history.ts';

export interface QualityChartOptions {
  /** Drawing width in SVG units (default 600). */
  width?: number;
  /** Formats an epoch ms for the time axis (default: UTC HH:MM:SS). */
  clock?: (epochMs: number) => string;
}

export interface QualityChartModel {
  width: number;
  height: number;
  /** Throughput band: y from `top` to `top + height`. */
  throughputBand: { top: number; height: number };
  rttBand: { top: number; height: number };
  /** SVG `points` of the received area (closed to the base line) and the sent line. */
  rxArea: string;
  txLine: string;
  /** SVG `points` of the RTT line ('' when no sample has an RTT). */
  rttLine: string;
  /** The largest throughput (bit/s) and RTT (ms) drawn, for the band labels. */
  maxBps: number;
  maxRttMs: number;
  lossMarks: { x: number; label: string }[];
  ticks: { x: number; label: string }[];
  /** "last 12 min" / "last 45 s"; '' without samples. */
  span: string;
  /** Left edge of the plot (room for the band labels). */
  plotLeft: number;
}

const utcClock = (t: number): string => new Date(t).toISOString().slice(11, 19);

/** The RTT a sample shows: its ping average when it pinged, else its TCP SRTT. */
export function sampleRttMs(s: QualitySample): number | undefined {
  return s.pingRttMs ?? s.tcpRttMs;
}

/** See the module comment. */
export function qualityChartModel(samples: readonly QualitySample[], options: QualityChartOptions = {}): QualityChartModel {
  const width = options.width ?? 600;
  const clock = options.clock ?? utcClock;
  const plotLeft = 56;
  const throughputBand = { top: 8, height: 80 };
  const rttBand = { top: 104, height: 50 };
  const height = 176;
  const model: QualityChartModel = { width, height, throughputBand, rttBand, rxArea: '', txLine: '', rttLine: '', maxBps: 0, maxRttMs: 0, lossMarks: [], ticks: [], span: '', plotLeft };
  if (samples.length === 0) return model;
  const first = samples[0].at - samples[0].intervalMs;
  const last = samples[samples.length - 1].at;
  const spanMs = Math.max(1, last - first);
  const plotWidth = width - plotLeft - 8;
  const x = (t: number): number => round1(plotLeft + ((t - first) / spanMs) * plotWidth);
  model.maxBps = Math.max(1, ...samples.map((s) => Math.max(s.rxBps, s.txBps)));
  const rtts = samples.map(sampleRttMs).filter((r): r is number => r !== undefined);
  model.maxRttMs = rtts.length ? Math.max(...rtts) : 0;
  const yT = (bps: number): number => round1(throughputBand.top + throughputBand.height * (1 - bps / model.maxBps));
  const base = throughputBand.top + throughputBand.height;
  const rx = samples.map((s) => `${x(s.at)},${yT(s.rxBps)}`);
  model.rxArea = [`${x(first)},${base}`, `${x(first)},${yT(samples[0].rxBps)}`, ...rx, `${x(last)},${base}`].join(' ');
  model.txLine = [`${x(first)},${yT(samples[0].txBps)}`, ...samples.map((s) => `${x(s.at)},${yT(s.txBps)}`)].join(' ');
  if (model.maxRttMs > 0) {
    const yR = (ms: number): number => round1(rttBand.top + rttBand.height * (1 - ms / model.maxRttMs));
    model.rttLine = samples
      .filter((s) => sampleRttMs(s) !== undefined)
      .map((s) => `${x(s.at)},${yR(sampleRttMs(s)!)}`)
      .join(' ');
  }
  for (const s of samples) {
    const parts: string[] = [];
    if (s.tcpRetransmits) parts.push(`${s.tcpRetransmits} TCP retransmits`);
    if (s.relayDrops) parts.push(`${s.relayDrops} relay drops`);
    if (s.pingsLost) parts.push(`${s.pingsLost} of ${s.pingsSent} pings lost`);
    if (parts.length) model.lossMarks.push({ x: x(s.at), label: `${clock(s.at)}: ${parts.join(', ')}` });
  }
  for (let i = 0; i <= 4; i++) {
    const t = first + (spanMs * i) / 4;
    model.ticks.push({ x: x(t), label: clock(t) });
  }
  model.span = `last ${formatSpan(spanMs)}`;
  return model;
}

/** "45 s", "12 min", "1 h 5 min". */
export function formatSpan(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h${min % 60 ? ` ${min % 60} min` : ''}`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
