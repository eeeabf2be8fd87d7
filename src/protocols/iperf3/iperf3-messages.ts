/**
 * The iperf3 control protocol's messages (esnet/iperf, src/iperf_api.h and iperf_api.c; there is
 * no RFC): the one-byte states the server announces, the 37-byte cookie that names a test, and
 * the length-prefixed JSON objects for the parameters and the results.
 *
 *   client ── cookie (36 chars + NUL) ──────────────▶ server      (control connection)
 *   client ◀─ PARAM_EXCHANGE ── client ── [u32 len][params JSON] ─▶
 *   client ◀─ CREATE_STREAMS ── client opens N data connections, each sends the cookie first
 *   client ◀─ TEST_START, TEST_RUNNING ── data flows for `time` s ── client ─ TEST_END ─▶
 *   client ◀─ EXCHANGE_RESULTS ── client ─ [len][our results] ─▶ ◀─ [len][server results]
 *   client ◀─ DISPLAY_RESULTS ── client ─ IPERF_DONE ─▶
 *
 * Stream ids follow iperf_add_stream(): the first stream is 1, the n-th (n ≥ 2) is n + 1; both
 * ends number their streams that way and the results are matched by id.
 */
import type { RandomBytes } from '../../shared/bytes.ts';

/** The state bytes (signed char on the wire; ACCESS_DENIED and SERVER_ERROR are negative). */
export const Iperf3State = {
  TEST_START: 1,
  TEST_RUNNING: 2,
  TEST_END: 4,
  PARAM_EXCHANGE: 9,
  CREATE_STREAMS: 10,
  SERVER_TERMINATE: 11,
  CLIENT_TERMINATE: 12,
  EXCHANGE_RESULTS: 13,
  DISPLAY_RESULTS: 14,
  IPERF_START: 15,
  IPERF_DONE: 16,
  ACCESS_DENIED: -1,
  SERVER_ERROR: -2,
} as const;

/** iperf3's COOKIE_SIZE: 36 characters and a terminating NUL. */
export const COOKIE_SIZE = 37;
/** The default TCP block (`-l`): 128 KiB. */
export const DEFAULT_BLOCK_SIZE = 128 * 1024;
/** The default iperf3 port. */
export const DEFAULT_IPERF3_PORT = 5201;
/** iperf3's defaults for a test: `-t 10` seconds of data over `-P 1` stream. */
export const DEFAULT_IPERF3_SECONDS = 10;
export const DEFAULT_IPERF3_STREAMS = 1;
/** Largest JSON object we accept from a server (a results object with server output can be large). */
export const MAX_JSON_BYTES = 1024 * 1024;
/** The version we announce as `client_version`. */
export const CLIENT_VERSION = 'wgweb-iperf3-1';

const COOKIE_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** A fresh cookie as iperf3's make_cookie() builds it: 36 base-32 characters and a NUL. */
export function makeCookie(randomBytes: RandomBytes): Uint8Array {
  const r = randomBytes(COOKIE_SIZE - 1);
  const out = new Uint8Array(COOKIE_SIZE);
  for (let i = 0; i < COOKIE_SIZE - 1; i++) out[i] = COOKIE_ALPHABET.charCodeAt(r[i] & 31);
  return out;
}

/** The id iperf3 gives the `index`-th stream (0-based): 1, 3, 4, 5, ... (see the module comment). */
export function streamId(index: number): number {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`stream index must be a non-negative integer, not ${index}`);
  return index === 0 ? 1 : index + 2;
}

/** `[u32 big-endian length][JSON text]`, as JSON_write() sends it. */
export function encodeJsonFrame(value: unknown): Uint8Array {
  const text = new TextEncoder().encode(JSON.stringify(value));
  const out = new Uint8Array(4 + text.length);
  new DataView(out.buffer).setUint32(0, text.length);
  out.set(text, 4);
  return out;
}

/** What the client asks for (send_parameters()). */
export interface Iperf3Params {
  /** Test length in seconds. */
  readonly time: number;
  /** Parallel streams. */
  readonly parallel: number;
  /** The server sends, the client receives. */
  readonly reverse: boolean;
  /** Bytes per write. */
  readonly len: number;
}

/** The parameters object for a TCP test with the given settings. */
export function paramsJson(p: Iperf3Params): Record<string, unknown> {
  const j: Record<string, unknown> = {
    tcp: true,
    omit: 0,
    time: p.time,
    num: 0,
    blockcount: 0,
    parallel: p.parallel,
    len: p.len,
    pacing_timer: 1000,
    client_version: CLIENT_VERSION,
  };
  if (p.reverse) j.reverse = true;
  return j;
}

/** One stream's line in a results object. */
export interface Iperf3StreamResult {
  readonly id: number;
  readonly bytes: number;
  /** -1 when that side does not count them (a receiver). */
  readonly retransmits: number;
  readonly startTime: number;
  readonly endTime: number;
}

/** A results object (send_results() / get_results()). */
export interface Iperf3Results {
  readonly cpuUtilTotal: number;
  readonly cpuUtilUser: number;
  readonly cpuUtilSystem: number;
  /** 1 when the sender counted retransmits, 0 when it could not, -1 from a receiver. */
  readonly senderHasRetransmits: number;
  readonly congestionUsed?: string;
  readonly streams: readonly Iperf3StreamResult[];
}

/** The JSON object for our results. */
export function resultsJson(r: Iperf3Results): Record<string, unknown> {
  const j: Record<string, unknown> = {
    cpu_util_total: r.cpuUtilTotal,
    cpu_util_user: r.cpuUtilUser,
    cpu_util_system: r.cpuUtilSystem,
    sender_has_retransmits: r.senderHasRetransmits,
  };
  if (r.congestionUsed) j.congestion_used = r.congestionUsed;
  j.streams = r.streams.map((s) => ({
    id: s.id,
    bytes: s.bytes,
    retransmits: s.retransmits,
    jitter: 0,
    errors: 0,
    omitted_errors: 0,
    packets: 0,
    omitted_packets: 0,
    start_time: s.startTime,
    end_time: s.endTime,
  }));
  return j;
}

/**
 * Reads a server's results object; undefined when a required field is missing or mistyped
 * (get_results() requires the same ones).
 */
export function parseResults(value: unknown): Iperf3Results | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const j = value as Record<string, unknown>;
  const num = (o: Record<string, unknown>, k: string): number | undefined => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : undefined);
  const total = num(j, 'cpu_util_total');
  const user = num(j, 'cpu_util_user');
  const system = num(j, 'cpu_util_system');
  const shr = num(j, 'sender_has_retransmits');
  if (total === undefined || user === undefined || system === undefined || shr === undefined || !Array.isArray(j.streams)) return undefined;
  const streams: Iperf3StreamResult[] = [];
  for (const s of j.streams as unknown[]) {
    if (typeof s !== 'object' || s === null) return undefined;
    const o = s as Record<string, unknown>;
    const id = num(o, 'id');
    const bytes = num(o, 'bytes');
    const retransmits = num(o, 'retransmits');
    if (id === undefined || bytes === undefined || retransmits === undefined) return undefined;
    streams.push({ id, bytes, retransmits, startTime: num(o, 'start_time') ?? 0, endTime: num(o, 'end_time') ?? 0 });
  }
  return {
    cpuUtilTotal: total,
    cpuUtilUser: user,
    cpuUtilSystem: system,
    senderHasRetransmits: shr,
    congestionUsed: typeof j.congestion_used === 'string' ? j.congestion_used : undefined,
    streams,
  };
}

/** What a state byte means, for messages. */
export function describeState(state: number): string {
  const name = Object.entries(Iperf3State).find(([, v]) => v === state)?.[0];
  return name ?? `unknown state ${state}`;
}
