/**
 * The walk behind `wgweb traceroute`: probes with a rising IPv4 TTL / IPv6 hop limit, one hop at
 * a time, `probesPerHop` probes per hop, as traceroute(8) sends them: UDP datagrams to ports
 * 33434, 33435, … by default, ICMP echo requests with `-I`. A router where the TTL runs out
 * answers with Time Exceeded (ICMPv4 type 11, RFC 792; ICMPv6 type 3, RFC 4443 §3.3) and so names
 * itself; the destination ends the walk with an echo reply (ICMP) or a Port Unreachable (UDP: no
 * one listens on such a high port, RFC 1122 §4.1.3.1); any other unreachable ends it too, marked
 * `!H`, `!N`, `!X`; a hop that stays silent shows `*`.
 *
 *   ttl = 1 ─▶ probe × probesPerHop ─▶ new addresses ─▶ resolveName (PTR) ─▶ hop ─▶ onHop
 *        └─ the target answered (echo reply / port unreachable), or another unreachable ─▶ done
 *        └─ else ttl + 1, until maxHops
 *
 * Sans-IO apart from the `probe` and `resolveName` callbacks (which own sockets and clocks), so it
 * is tested with a scripted path and no network.
 */

/**
 * What one probe with a given TTL saw. `name` is the answering address's reverse DNS name, filled
 * in by {@link runTraceroute} when one was found (a probe never sets it).
 */
export type TraceProbeOutcome =
  | { kind: 'time-exceeded'; from: string; rttMs: number; name?: string }
  | { kind: 'reply'; from: string; rttMs: number; name?: string }
  | { kind: 'unreachable'; from: string; rttMs: number; code: number; icmpVersion: 4 | 6; name?: string }
  | { kind: 'timeout' };

/** One probe's line item, as traceroute(8) prints it (`*` when `kind` is `timeout`). */
export type TraceProbe = TraceProbeOutcome;

/** One hop: its TTL and its probes in the order sent. */
export interface TraceHop {
  ttl: number;
  probes: TraceProbe[];
}

/** traceroute(8)'s first UDP destination port (-p); each probe uses the next one. */
export const TRACEROUTE_BASE_PORT = 33434;

/** traceroute(8)'s defaults, one place for the Session, the worker API, the CLI and the UI card. */
export const TRACEROUTE_DEFAULTS = {
  /** Highest TTL / hop limit tried (-m). */
  maxHops: 30,
  /** Probes per hop (-q). */
  probesPerHop: 3,
  /** Wait for each probe, ms (-w 3). */
  timeoutMs: 3000,
  /** Upper bound of one hop's PTR lookup, ms (at most the probe wait). */
  nameLookupMs: 2000,
} as const;

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
  /**
   * The reverse DNS name of an answering address (PTR), or undefined; asked once per address, and
   * must give up by itself within a bounded time (traceroute without `-n`). Absent: numbers only.
   */
  resolveName?: (address: string) => Promise<string | undefined>;
  /** Called after each hop. */
  onHop?: (hop: TraceHop) => void;
  signal?: AbortSignal;
}

/**
 * True when a probe's answer means it reached the destination: an echo reply, or a Port
 * Unreachable (ICMPv4 type 3 code 3, RFC 792; ICMPv6 type 1 code 4, RFC 4443 §3.1), the answer to
 * a UDP probe from the host itself.
 */
export function reachedTarget(p: TraceProbe): boolean {
  if (p.kind === 'reply') return true;
  return p.kind === 'unreachable' && p.code === (p.icmpVersion === 4 ? 3 : 4);
}

/**
 * Walks the path.
 * @throws {RangeError} for maxHops outside 1..255 or probesPerHop outside 1..10.
 * @throws the signal's reason when aborted.
 */
export async function runTraceroute(o: TraceRunOptions): Promise<TraceRunResult> {
  const maxHops = o.maxHops ?? TRACEROUTE_DEFAULTS.maxHops;
  const perHop = o.probesPerHop ?? TRACEROUTE_DEFAULTS.probesPerHop;
  if (!Number.isInteger(maxHops) || maxHops < 1 || maxHops > 255) throw new RangeError(`maxHops must be 1 to 255, not ${maxHops}`);
  if (!Number.isInteger(perHop) || perHop < 1 || perHop > 10) throw new RangeError(`probesPerHop must be 1 to 10, not ${perHop}`);
  const hops: TraceHop[] = [];
  const names = new Map<string, string | undefined>();
  for (let ttl = 1; ttl <= maxHops; ttl++) {
    const hop: TraceHop = { ttl, probes: [] };
    for (let i = 0; i < perHop; i++) {
      o.signal?.throwIfAborted();
      hop.probes.push(await o.probe(ttl));
    }
    if (o.resolveName) {
      for (const p of hop.probes) {
        if (p.kind === 'timeout') continue;
        if (!names.has(p.from)) names.set(p.from, await o.resolveName(p.from));
        const name = names.get(p.from);
        if (name !== undefined) p.name = name;
      }
    }
    o.signal?.throwIfAborted();
    hops.push(hop);
    o.onHop?.(hop);
    // Like traceroute(8): stop at the hop where the target answered or something said "unreachable".
    if (hop.probes.some(reachedTarget)) return { hops, reached: true };
    if (hop.probes.some((p) => p.kind === 'unreachable')) return { hops, reached: false };
  }
  return { hops, reached: false };
}

/** A probe outcome from an ICMP error about a probe: Time Exceeded names a router, the rest are unreachables. */
export function traceError(
  type: 'unreachable' | 'packet-too-big' | 'time-exceeded' | 'parameter-problem',
  from: string,
  rttMs: number,
  code: number,
  icmpVersion: 4 | 6,
): TraceProbeOutcome {
  if (type === 'time-exceeded') return { kind: 'time-exceeded', from, rttMs };
  return { kind: 'unreachable', from, rttMs, code, icmpVersion };
}

/**
 * traceroute(8)'s mark after a probe's RTT: for an ICMP unreachable `!N` net, `!H` host, `!P`
 * protocol, `!F` fragmentation needed, `!X` administratively prohibited, `!<code>` otherwise;
 * nothing for the target's own port unreachable or any other answer.
 */
export function traceProbeMark(p: TraceProbe): string {
  if (p.kind !== 'unreachable') return '';
  const v4: Record<number, string> = { 0: '!N', 1: '!H', 2: '!P', 3: '', 4: '!F', 9: '!X', 10: '!X', 13: '!X' };
  const v6: Record<number, string> = { 0: '!N', 1: '!X', 3: '!H', 4: '' };
  const mark = (p.icmpVersion === 4 ? v4 : v6)[p.code];
  return mark ?? `!<${p.code}>`;
}

/**
 * One hop as traceroute(8) prints it: ` 2  gw.lan (10.0.2.1)  0.512 ms  0.430 ms *` (the hop
 * number in two columns, each new answering address once, as `name (address)` when its reverse
 * name is known and as the bare address otherwise, like `-n`; `  RTT ms` per answer, ` *` per
 * silent probe, ` !H` and the like after an unreachable).
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
      line += p.name ? ` ${p.name} (${p.from})` : ` ${p.from}`;
      last = p.from;
    }
    line += `  ${p.rttMs.toFixed(3)} ms`;
    const mark = traceProbeMark(p);
    if (mark) line += ` ${mark}`;
  }
  return line;
}
