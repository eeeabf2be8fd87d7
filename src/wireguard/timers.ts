/**
 * The per-peer timer state machine of WireGuard (paper §6; the kernel's timers.c), as absolute
 * deadlines in `now` milliseconds instead of OS timers. The hooks are called by peer.ts at the
 * same points as the kernel calls its timer hooks; peer.ts also runs the expired timers.
 *
 *   retransmitHandshake  REKEY_TIMEOUT + jitter after an initiation; retry, or give up after REKEY_ATTEMPT_TIME
 *   sendKeepalive        KEEPALIVE_TIMEOUT after data was received and nothing was sent back (passive keepalive)
 *   newHandshake         KEEPALIVE + REKEY_TIMEOUT + jitter after data was sent and nothing came back
 *   zeroKeyMaterial      3 × REJECT_AFTER_TIME after the last new session: erase every key
 *   persistentKeepalive  PersistentKeepalive seconds after any authenticated packet either way
 */
import { KEEPALIVE_TIMEOUT_MS, REJECT_AFTER_TIME_MS, REKEY_TIMEOUT_JITTER_MAX_MS, REKEY_TIMEOUT_MS } from './constants.ts';

/** Names of the per-peer timers. */
export type TimerName = 'retransmitHandshake' | 'sendKeepalive' | 'newHandshake' | 'zeroKeyMaterial' | 'persistentKeepalive';

/** Timer order used when several are due at once. */
const TIMER_ORDER: readonly TimerName[] = ['zeroKeyMaterial', 'retransmitHandshake', 'newHandshake', 'sendKeepalive', 'persistentKeepalive'];

/** Deadlines (Infinity = not pending) and the counters that go with them. */
export class PeerTimers {
  retransmitHandshake = Infinity;
  sendKeepalive = Infinity;
  newHandshake = Infinity;
  zeroKeyMaterial = Infinity;
  persistentKeepalive = Infinity;

  /** Retransmissions since the last non-retry initiation. */
  handshakeAttempts = 0;
  /** Data arrived while a passive keepalive was already pending: send another after it. */
  needAnotherKeepalive = false;
  /** The initiator already started a handshake because its key is about to be rejected. */
  sentLastMinuteHandshake = false;
  /** PersistentKeepalive interval in ms (0 = off). */
  persistentKeepaliveMs: number;

  private readonly jitter: () => number;

  /** @param jitter returns a uniform integer in [0, REKEY_TIMEOUT_JITTER_MAX_MS) */
  constructor(jitter: () => number, persistentKeepaliveMs = 0) {
    this.jitter = jitter;
    this.persistentKeepaliveMs = persistentKeepaliveMs;
  }

  /** After an authenticated data packet (not a keepalive) was sent. */
  dataSent(now: number): void {
    if (this.newHandshake === Infinity) this.newHandshake = now + KEEPALIVE_TIMEOUT_MS + REKEY_TIMEOUT_MS + this.jitter();
  }

  /** After an authenticated data packet (not a keepalive) was received. */
  dataReceived(now: number): void {
    if (this.sendKeepalive === Infinity) this.sendKeepalive = now + KEEPALIVE_TIMEOUT_MS;
    else this.needAnotherKeepalive = true;
  }

  /** After any authenticated packet was sent: it doubles as the keepalive. */
  anyAuthenticatedPacketSent(): void {
    this.sendKeepalive = Infinity;
  }

  /** After any authenticated packet was received: the peer is alive. */
  anyAuthenticatedPacketReceived(): void {
    this.newHandshake = Infinity;
  }

  /** Before sending or after receiving any authenticated packet. */
  anyAuthenticatedPacketTraversal(now: number): void {
    if (this.persistentKeepaliveMs > 0) this.persistentKeepalive = now + this.persistentKeepaliveMs;
  }

  /** After a handshake initiation was sent. */
  handshakeInitiated(now: number): void {
    this.retransmitHandshake = now + REKEY_TIMEOUT_MS + this.jitter();
  }

  /** After a response was consumed, or the responder's session was confirmed by the first data. */
  handshakeComplete(): void {
    this.retransmitHandshake = Infinity;
    this.handshakeAttempts = 0;
    this.sentLastMinuteHandshake = false;
  }

  /** After new transport keys were derived (either role). */
  sessionDerived(now: number): void {
    this.zeroKeyMaterial = now + 3 * REJECT_AFTER_TIME_MS;
  }

  /** The earliest pending deadline, Infinity if none. */
  next(): number {
    return Math.min(this.retransmitHandshake, this.sendKeepalive, this.newHandshake, this.zeroKeyMaterial, this.persistentKeepalive);
  }

  /** Takes (un-arms) the earliest timer due at `now`, or returns `undefined`. */
  takeDue(now: number): TimerName | undefined {
    let best: TimerName | undefined;
    let bestAt = Infinity;
    for (const name of TIMER_ORDER) {
      const at = this[name];
      if (at <= now && at < bestAt) {
        best = name;
        bestAt = at;
      }
    }
    if (best) this[best] = Infinity;
    return best;
  }

  /** Disarms every timer. */
  stopAll(): void {
    this.retransmitHandshake = this.sendKeepalive = this.newHandshake = this.zeroKeyMaterial = this.persistentKeepalive = Infinity;
    this.handshakeAttempts = 0;
    this.needAnotherKeepalive = false;
    this.sentLastMinuteHandshake = false;
  }
}
