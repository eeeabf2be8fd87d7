/**
 * The search behind `wgweb mtu`: the largest ICMP echo payload that crosses the path with Don't
 * Fragment set, found by binary search over payload sizes (the way tracepath / `ping -M do -s`
 * by hand find it), using the path's own answers when it gives them:
 *
 *   probe(high = what the known path MTU allows) ── reply ─▶ done: the whole interface MTU passes
 *        └ too big / silence ─▶ probe(low) ── silence ─▶ the host does not answer pings at all
 *              └ reply ─▶ bisect (low, high):  reply ─▶ low = mid
 *                                               too big (mtu M) ─▶ high = M − headers + 1; try M − headers next
 *                                               silence (every try) ─▶ high = mid
 *
 * "Too big" is an ICMPv4 fragmentation-needed / ICMPv6 Packet Too Big from a router (RFC 1191,
 * RFC 8201), or our own stack refusing a packet over the path MTU it has learned from one. A
 * path that drops big packets silently (ICMP filtered: an RFC 4821 "black hole") still converges,
 * by timeouts, only slower. Sans-IO apart from the `probe` callback, so it is tested without a
 * network.
 */
import { MTU_DEFAULTS } from './tool-defaults.ts';

/** What one probe of `size` payload bytes saw. */
export type MtuProbeOutcome = { kind: 'ok'; rttMs: number; from: string } | { kind: 'too-big'; mtu: number; from?: string } | { kind: 'timeout' } | { kind: 'unreachable'; message: string };

/** One step of the search, in the order taken. */
export interface MtuSearchStep {
  /** ICMP echo payload bytes. */
  size: number;
  /** The whole IP packet: payload + ICMP header + IP header. */
  packetBytes: number;
  outcome: MtuProbeOutcome['kind'];
  /** For `too-big`: the MTU reported (or the path MTU our stack already knew). */
  mtu?: number;
  /** Who answered: the target (ok) or the router that reported too big. */
  from?: string;
  rttMs?: number;
  /** Tries this size took (more than one when the first went unanswered). */
  tries: number;
}

/** What {@link searchMtu} finds. */
export interface MtuSearchResult {
  /** Largest payload that got a reply with DF set. */
  largestPayload: number;
  /** Largest IP packet that passed: `largestPayload + headerBytes`. */
  largestPacket: number;
  /** The smallest MTU a router or our stack reported along the way, if any. */
  reportedMtu?: number;
  /** True when the largest size allowed by the interface MTU passed: the path may carry more. */
  limitedByInterface: boolean;
  steps: MtuSearchStep[];
}

export interface MtuSearchOptions {
  /** Sends one DF echo of `size` payload bytes and says what happened. */
  probe: (size: number) => Promise<MtuProbeOutcome>;
  /** IP + ICMP header bytes (28 for IPv4, 48 for IPv6). */
  headerBytes: number;
  /** The smallest payload to try: what the minimum MTU lets through (40 for IPv4's 68, 1232 for IPv6's 1280). */
  low: number;
  /** The largest payload to try: what the path MTU known now allows. */
  high: number;
  /** Attempts per size before silence counts as "too big" (default 2: one lost probe is not a verdict). */
  tries?: number;
  /** Called after each step. */
  onStep?: (step: MtuSearchStep) => void;
  signal?: AbortSignal;
}

/** Raised when even the smallest probe got no reply. */
export class MtuNoReplyError extends Error {
  readonly steps: MtuSearchStep[];
  readonly lastOutcome: MtuProbeOutcome;
  constructor(steps: MtuSearchStep[], lastOutcome: MtuProbeOutcome) {
    super('no echo reply even to the smallest probe');
    this.name = 'MtuNoReplyError';
    this.steps = steps;
    this.lastOutcome = lastOutcome;
  }
}

/**
 * Runs the search.
 * @throws {RangeError} when `low` > `high` or the sizes are not whole numbers.
 * @throws {MtuNoReplyError} when the smallest size got no reply (the host does not answer pings).
 * @throws the signal's reason when aborted.
 */
export async function searchMtu(o: MtuSearchOptions): Promise<MtuSearchResult> {
  const tries = o.tries ?? MTU_DEFAULTS.tries;
  if (!Number.isInteger(o.low) || !Number.isInteger(o.high) || o.low < 0 || o.low > o.high) throw new RangeError(`MTU search needs 0 <= low <= high, not ${o.low}..${o.high}`);
  if (!Number.isInteger(tries) || tries < 1 || tries > 10) throw new RangeError(`tries must be 1 to 10, not ${tries}`);
  const steps: MtuSearchStep[] = [];
  let reportedMtu: number | undefined;

  const test = async (size: number): Promise<MtuProbeOutcome> => {
    let outcome: MtuProbeOutcome = { kind: 'timeout' };
    let n = 0;
    while (n < tries) {
      o.signal?.throwIfAborted();
      n++;
      outcome = await o.probe(size);
      if (outcome.kind !== 'timeout') break;
    }
    o.signal?.throwIfAborted();
    const step: MtuSearchStep = { size, packetBytes: size + o.headerBytes, outcome: outcome.kind, tries: n };
    if (outcome.kind === 'ok') Object.assign(step, { rttMs: outcome.rttMs, from: outcome.from });
    if (outcome.kind === 'too-big') {
      step.mtu = outcome.mtu;
      if (outcome.from) step.from = outcome.from;
      reportedMtu = Math.min(reportedMtu ?? Infinity, outcome.mtu);
    }
    steps.push(step);
    o.onStep?.(step);
    return outcome;
  };
  const result = (largest: number, limitedByInterface: boolean): MtuSearchResult => {
    const r: MtuSearchResult = { largestPayload: largest, largestPacket: largest + o.headerBytes, limitedByInterface, steps };
    if (reportedMtu !== undefined) r.reportedMtu = reportedMtu;
    return r;
  };

  const top = await test(o.high);
  if (top.kind === 'ok') return result(o.high, true);
  if (top.kind === 'unreachable') throw new MtuNoReplyError(steps, top);
  const bottom = o.low === o.high ? top : await test(o.low);
  if (bottom.kind !== 'ok') throw new MtuNoReplyError(steps, bottom);
  let lo = o.low; // passes
  let hi = o.high; // does not
  let hint: number | undefined;
  // A reported MTU M says every payload over M − headers is too big (hi moves there at once) and
  // names the likely answer (tried next); a router that reports nonsense is only bisected around.
  const learn = (r: MtuProbeOutcome): void => {
    if (r.kind !== 'too-big') return;
    const fits = r.mtu - o.headerBytes;
    if (fits >= lo && fits < hi) {
      hi = fits + 1;
      hint = fits;
    }
  };
  learn(top);
  while (hi - lo > 1) {
    const mid = hint !== undefined && hint > lo && hint < hi ? hint : Math.floor((lo + hi) / 2);
    hint = undefined;
    const r = await test(mid);
    if (r.kind === 'ok') lo = mid;
    else {
      hi = mid;
      learn(r);
    }
  }
  return result(lo, false);
}
