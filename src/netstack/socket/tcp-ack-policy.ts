/**
 * When one TCP connection acknowledges (RFC 9293 §3.8.6.3, RFC 1122 §4.2.3.2, RFC 5681 §4.2):
 * the receiver's side of the ACK decision, kept apart from the state machine like smoltcp's
 * `ack_delay` handling. Sans-IO: the delayed-ACK timer is an absolute `deadline` the socket folds
 * into its `pollAt`; nothing here sends a segment.
 *
 *   in-order data ──▶ onInOrderData: quick ACK (first segments), every second full segment now,
 *                     otherwise arm the delayed-ACK deadline
 *   out-of-order / hole-filling / duplicate / FIN / window update ──▶ ackNow()
 *   dispatch(now) ──▶ onTimer(now): an expired deadline makes the ACK due
 *   any segment sent carries the ACK ──▶ onAckSent()
 *   RST/SYN/bad ACK in a synchronized state ──▶ allowChallengeAck(now) (RFC 5961 §7 rate limit)
 */
import { CHALLENGE_ACK_LIMIT_PER_SECOND, DELAYED_ACK_MS, QUICK_ACK_SEGMENTS } from './tcp-constants.ts';

/** The ACK decision of one connection. */
export class AckPolicy {
  /** Absolute ms at which a delayed ACK becomes due; Infinity when none is waiting. */
  get deadline(): number {
    return this._deadline;
  }

  /** True when an ACK must go out at the next dispatch (with data, or alone). */
  get due(): boolean {
    return this.immediate;
  }

  /** True when an ACK is owed, now or when the delayed-ACK deadline passes. */
  get pending(): boolean {
    return this.immediate || this._deadline !== Infinity;
  }

  private immediate = false;
  private _deadline = Infinity;
  /** Data segments still acknowledged at once (Linux's quick-ACK mode at the connection start). */
  private quickAcksLeft: number;
  /** In-order bytes received since the last ACK we sent. */
  private bytesUnacked = 0;
  private challengeWindowStart = 0;
  private challengeCount = 0;

  /**
   * @param delayMs how long an ACK for in-order data may wait (RFC 1122: under 500 ms)
   * @param quickAckSegments data segments at the start acknowledged at once, so slow start is not slowed
   */
  constructor(
    private readonly delayMs: number = DELAYED_ACK_MS,
    quickAckSegments: number = QUICK_ACK_SEGMENTS,
  ) {
    if (!(delayMs > 0)) throw new RangeError(`delayMs must be positive, not ${delayMs}`);
    if (!Number.isInteger(quickAckSegments) || quickAckSegments < 0) throw new RangeError(`quickAckSegments must be a non-negative integer, not ${quickAckSegments}`);
    this.quickAcksLeft = quickAckSegments;
  }

  /** An ACK must go out at the next dispatch (duplicates, out-of-order data, FIN, window updates). */
  ackNow(): void {
    this.immediate = true;
  }

  /**
   * In-order data of `bytes` arrived that filled no hole. RFC 9293 §3.8.6.3: acknowledge at least
   * every second full-sized segment (`rcvMss` is the largest seen from the peer), else within the
   * delay; the first segments of a connection are acknowledged at once.
   */
  onInOrderData(bytes: number, rcvMss: number, now: number): void {
    this.bytesUnacked += bytes;
    if (this.quickAcksLeft > 0) {
      this.quickAcksLeft--;
      this.immediate = true;
    } else if (this.bytesUnacked >= 2 * rcvMss) {
      this.immediate = true;
    } else if (this._deadline === Infinity) {
      this._deadline = now + this.delayMs;
    }
  }

  /** At dispatch: a delayed ACK whose deadline has passed becomes due. */
  onTimer(now: number): void {
    if (now >= this._deadline) {
      this._deadline = Infinity;
      this.immediate = true;
    }
  }

  /** A segment carrying the current RCV.NXT went out: nothing is owed any more. */
  onAckSent(): void {
    this.immediate = false;
    this._deadline = Infinity;
    this.bytesUnacked = 0;
  }

  /** Drops a waiting delayed ACK but keeps a due one (entering TIME-WAIT). */
  cancelDelayed(): void {
    this._deadline = Infinity;
  }

  /** Drops everything owed (the connection is closed). */
  cancel(): void {
    this.immediate = false;
    this._deadline = Infinity;
  }

  /**
   * RFC 5961 §7: challenge ACKs are bounded per second so an attacker cannot use us as a
   * reflector. True (and the ACK made due) when one more is allowed in the current second.
   */
  allowChallengeAck(now: number): boolean {
    if (now - this.challengeWindowStart >= 1000) {
      this.challengeWindowStart = now;
      this.challengeCount = 0;
    }
    if (this.challengeCount >= CHALLENGE_ACK_LIMIT_PER_SECOND) return false;
    this.challengeCount++;
    this.immediate = true;
    return true;
  }
}
