/**
 * Which relay carried the session, and why it changed (#17 item 4): a short, bounded list the
 * status card shows next to the relay in use (`Session.status().relay.history`).
 *
 *   transport 'reconnecting' (close code, idle?) ──▶ noteDrop: remembers why the relay went away
 *   transport 'open' (session URL, measured RTT)  ──▶ noteOpen: one entry, unless it is the same
 *                                                    relay reopening after an idle close
 *   entries()                                     ──▶ oldest first, at most `limit` (the newest kept)
 *
 * Relays hold no session state, so a move is WireGuard roaming (paper §2.1): the entry records the
 * relay, when it took over, why the previous one stopped (drained with 1012 "service restart", the
 * connection lost, or the first pick of a list) and the WebSocket-open time it was chosen on.
 * Sans-IO: the caller passes the time.
 */
import { describeCloseCode } from '../shared/relay-protocol.ts';

/** Why a relay took over: the first pick, the previous one drained (1012), or it was lost. */
export type RelayMoveReason = 'start' | 'drained' | 'lost';

/** One relay taking over the session. Plain data (structured-clone safe). */
export interface RelayHistoryEntry {
  /** Epoch ms when the session opened through this relay. */
  at: number;
  /** The relay's URL without the session query (`ws://host:port/wg`). */
  url: string;
  reason: RelayMoveReason;
  /** The close code that ended the previous relay session (1012 drained, 1006 dropped, …). */
  closeCode?: number;
  /** The relay the session came from, when it moved to another one. */
  from?: string;
  /** WebSocket-open time of this relay when it opened, ms (two round trips, three over TLS). */
  rttMs?: number;
  /** How many relays the list held at the first pick (the fastest of them won). */
  of?: number;
}

/** Entries kept by default: enough for a few moves back and forth, small enough for the card. */
export const RELAY_HISTORY_LIMIT = 6;

/** The relay URL without its query (the session's `?to=` endpoint). */
function relayBase(sessionUrl: string): string {
  const q = sessionUrl.indexOf('?');
  return q < 0 ? sessionUrl : sessionUrl.slice(0, q);
}

export class RelayHistory {
  readonly #limit: number;
  readonly #entries: RelayHistoryEntry[] = [];
  #drop: { closeCode?: number; idle: boolean } | undefined;
  #current: string | undefined;

  /** @throws {RangeError} unless `limit` is a positive integer. */
  constructor(limit = RELAY_HISTORY_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
    this.#limit = limit;
  }

  /**
   * The relay session in use went away (the transport reports 'reconnecting'). The first drop
   * since the last open counts: later retries through other relays keep the original cause.
   * @param idle the relay closed an idle session (it reopens on the next packet, not a move).
   */
  noteDrop(closeCode: number | undefined, idle = false): void {
    if (this.#current === undefined || this.#drop) return;
    this.#drop = { closeCode, idle };
  }

  /** A relay session opened through `sessionUrl` (with its measured open time) at epoch `at`. */
  noteOpen(sessionUrl: string, at: number, rttMs?: number, relays = 1): void {
    const url = relayBase(sessionUrl);
    const drop = this.#drop;
    const from = this.#current;
    this.#drop = undefined;
    this.#current = url;
    if (from !== undefined && drop?.idle && from === url) return;
    let entry: RelayHistoryEntry;
    if (from === undefined) entry = { at, url, reason: 'start', ...(relays > 1 ? { of: relays } : {}) };
    else {
      const drained = drop?.closeCode !== undefined && describeCloseCode(drop.closeCode).retry === 'now';
      entry = { at, url, reason: drained ? 'drained' : 'lost', ...(drop?.closeCode !== undefined ? { closeCode: drop.closeCode } : {}), ...(from !== url ? { from } : {}) };
    }
    if (rttMs !== undefined) entry.rttMs = rttMs;
    this.#entries.push(entry);
    if (this.#entries.length > this.#limit) this.#entries.splice(0, this.#entries.length - this.#limit);
  }

  /** Oldest first; copies. */
  entries(): RelayHistoryEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }
}
