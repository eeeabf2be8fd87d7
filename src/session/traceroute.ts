/**
 * The walk behind `wgweb traceroute`: ICMP echo requests with a rising IPv4 TTL / IPv6 hop limit
 * (as `traceroute -I` sends them), one hop at a time, `probesPerHop` probes per hop. A router
 * where the TTL runs out answers with Time Exceeded (ICMPv4 type 11, RFC 792; ICMPv6 type 3,
 * RFC 4443 §3.3) and so names itself; the destination answers with an echo reply and ends the
 * walk; a hop that stays silent shows `*`.
 *
 *   ttl = 1 ─▶ probe × probesPerHop ─▶ hop { probes: [reply from R1 rtt | * | …] } ─▶ onHop
 *        └─ any probe reached the target (echo reply), or an unreachable came back ─▶ done
 *        └─ else ttl + 1, until maxHops
 *
 * Sans-IO apart from the `probe` callback (which owns sockets and clocks), so it is tested with a
 * scripted path and no network.
 */

/** What one probe with a given TTL saw. */
export type TraceProbeOutcome =
  | { kind: 'time-exceeded'; from: string; rttMs: number }
  | { kind: 'reply'; from: string; rttMs: number }
  | { kind: 'unreachable'; from: string; rttMs: number; code: number; icmpVersion: 4 | 6 }
  | { kind: 'timeout' };

/** One probe's line item, as traceroute(8) prints it (`*` when `kind` is `timeout`). */
export type TraceProbe = TraceProbeOutcome;

/** One hop: its TTL and its probes in the order sent. */
export interface TraceHop {
  ttl: number;
  probes: TraceProbe[];
}

/** What {@link runTraceroute} found. */
export interface TraceRunResult {
  hops: TraceHop[];
  /** True when an echo reply came back from the target. */
  reached: boolean;
}

export interface TraceRunOptions {
  /** Sends one echo with this TTL / hop limit and says what came back. */
  probe: (ttl: number) => Promise<TraceProbeOutcome>;
  /** Highest TTL tried (traceroute -m; default 30). */
  maxHops?: number;
  /** Probes per hop (traceroute -q; default 3). */
  probesPerHop?: number;
  /** Called after each hop. */
  onHop?: (hop: TraceHop) => void;
  signal?: AbortSignal;
}

/**
 * Walks the path.
 * @throws {RangeError} for maxHops outside 1..255 or probesPerHop outside 1..10.
 * @throws the signal's reason when aborted.
 */
export async function runTraceroute(o: TraceRunOptions): Promise<TraceRunResult> {
  const maxHops = o.maxHops ?? 30;
  const perHop = o.probesPerHop ?? 3;
  if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > 255) throw new RangeError(`maxHops must be 1 to 255, not ${maxHops}`);
  if (!Number.isInteger(perHop) || perHop < 1 || perHop > 10) throw new RangeError(`probesPerHop must be 1 to 10, not ${perHop}`);
  const hops: TraceHop[] = [];
  for (let ttl = 1; ttl <= maxHops; ttl++) {
    const hop: TraceHop = { ttl, probes: [] };
    for (let i = 0; i < perHop; i++) {
      o.signal?.throwIfAborted();
      hop.probes.push(await o.probe(ttl));
    }
    o.signal?.throwIfAborted();
    hops.push(hop);
    o.onHop?.(hop);
    // Like traceroute(8): stop at the hop where the target answered or something said "unreachable".
    if (hop.probes.some((p) => p.kind === 'reply')) return { hops, reached: true };
    if (hop.probes.some((p) => p.kind === 'unreachable')) return { hops, reached: false };
  }
  return { hops, reached: false };
}

/** traceroute(8)'s marks after an RTT for ICMP unreachable codes (!H host, !N net, !P protocol, !X admin). */
function unreachableMark(p: Extract<TraceProbe, { kind: 'unreachable' }>): string {
  const v4: Record<number, string> = { 0: '!N', 1: '!H', 2: '!P', 3: '', 4: '!F', 9: '!X', 10: '!X', 13: '!X' };
  const v6: Record<number, string> = { 0: '!N', 1: '!X', 3: '!H', 4: '' };
  const mark = (p.icmpVersion === 4 ? v4 : v6)[p.code];
  return mark ?? `!<${p.code}>`;
}

/**
 * One hop as traceroute(8) with `-n` prints it: ` 2  10.0.2.1  0.512 ms  0.430 ms *` (the hop
 * number in two columns, each new answering address once, `  RTT ms` per answer, ` *` per silent
 * probe, ` !H` and the like after an unreachable).
 */
export function formatTraceHop(hop: TraceHop): string {
  let line = `${String(hop.ttl).padStart(2)} `;
  let last: string | undefined;
  for (const p of hop.probes) {
    if (p.kind === 'timeout') {
      line += ' *';
      continue;
    }
    if (p.from !== last) {
      line += ` ${p.from}`;
      last = p.from;
    }
    line += `  ${p.rttMs.toFixed(3)} ms`;
    const mark = p.kind === 'unreachable' ? unreachableMark(p) : '';
    if (mark) line += ` ${mark}`;
  }
  return line;
}
