/**
 * The HTTP tool's waterfall: an exchange's timing marks (src/protocols/http/http-timing.ts) as
 * consecutive phases, in the order Resource Timing draws them.
 */
import type { FetchTiming } from '../../worker/tunnel-api.ts';

export interface TimingPhase {
  id: 'dns' | 'connect' | 'send' | 'wait' | 'download';
  label: string;
  /** ms after the exchange started. */
  start: number;
  end: number;
}

/** Phases that happened, skipping those without both marks (a reused connection has no DNS or connect). */
export function timingPhases(t: FetchTiming): TimingPhase[] {
  const out: TimingPhase[] = [];
  const add = (id: TimingPhase['id'], label: string, start: number | undefined, end: number | undefined) => {
    if (start !== undefined && end !== undefined && end >= start) out.push({ id, label, start, end });
  };
  add('dns', 'DNS lookup', t.dnsStart, t.dnsEnd);
  add('connect', 'TCP connect', t.connectStart, t.connectEnd);
  add('send', 'Request sent', t.connectEnd ?? (t.reusedConnection ? 0 : undefined), t.requestSent);
  add('wait', 'Waiting (first byte)', t.requestSent, t.firstByte);
  add('download', 'Body download', t.firstByte, t.done);
  return out;
}

/** The exchange's total duration, or undefined while it is not over. */
export function timingTotal(t: FetchTiming): number | undefined {
  return t.done;
}
