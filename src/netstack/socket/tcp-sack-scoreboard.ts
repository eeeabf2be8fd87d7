/**
 * The sender's SACK scoreboard (RFC 6675 §3-4, RFC 2018): which bytes above SND.UNA the peer has
 * reported holding, and the RFC 6675 questions asked of it during loss recovery.
 *
 *   ACK with SACK blocks ──▶ update() ──▶ ranges
 *   loss recovery ──▶ lostBoundary() (IsLost) ──▶ pipe() (SetPipe) and nextLostHole()/nextHole() (NextSeg)
 *   SND.UNA advances ──▶ advance()
 *
 * Ranges are sequence numbers compared modulo 2^32; everything lives inside one send window.
 */
import { MAX_SCOREBOARD_RANGES } from './tcp-constants.ts';
import { seqGt, seqLe, seqLt } from './tcp-seq.ts';

/** A hole found by {@link SackScoreboard.nextLostHole} / {@link SackScoreboard.nextHole}. */
export interface Hole {
  start: number;
  end: number;
}

/** SACKed ranges above SND.UNA, sorted and disjoint. */
export class SackScoreboard {
  private starts: number[] = [];
  private ends: number[] = [];
  /** Bytes currently SACKed. */
  sacked = 0;

  /** Number of ranges held. */
  get rangeCount(): number {
    return this.starts.length;
  }

  /** Highest SACKed sequence number (exclusive end), or undefined when empty. */
  get highest(): number | undefined {
    return this.ends.length > 0 ? this.ends[this.ends.length - 1] : undefined;
  }

  /**
   * Merges SACK blocks from one ACK. Blocks outside (SND.UNA, SND.MAX], empty or inverted are
   * ignored (RFC 2018 §3; D-SACK blocks below SND.UNA, RFC 2883, are not used). Returns the
   * number of newly SACKed bytes.
   */
  update(blocks: number[], una: number, sndMax: number): number {
    let added = 0;
    for (let b = 0; b + 1 < blocks.length; b += 2) {
      let left = blocks[b];
      const right = blocks[b + 1];
      if (!seqLt(left, right) || seqGt(right, sndMax) || seqLe(right, una)) continue;
      if (seqLt(left, una)) left = una;
      added += this.insert(left, right);
    }
    return added;
  }

  /** Forgets everything below the new SND.UNA. */
  advance(una: number): void {
    const starts = this.starts;
    const ends = this.ends;
    let k = 0;
    while (k < starts.length && seqLe(ends[k], una)) {
      this.sacked -= (ends[k] - starts[k]) >>> 0;
      k++;
    }
    if (k > 0) {
      starts.splice(0, k);
      ends.splice(0, k);
    }
    if (starts.length > 0 && seqLt(starts[0], una)) {
      this.sacked -= (una - starts[0]) >>> 0;
      starts[0] = una;
    }
  }

  /** Empties the scoreboard (RFC 2018 §8: after a retransmission timeout SACK state is not trusted). */
  clear(): void {
    this.starts = [];
    this.ends = [];
    this.sacked = 0;
  }

  /** True when `seq` lies in a SACKed range. */
  isSacked(seq: number): boolean {
    for (let k = 0; k < this.starts.length; k++) {
      if (seqLt(seq, this.starts[k])) return false;
      if (seqLt(seq, this.ends[k])) return true;
    }
    return false;
  }

  /**
   * RFC 6675 IsLost as a boundary: every un-SACKed byte below the returned sequence number has
   * either `dupThresh` SACKed ranges or more than (dupThresh-1)*mss SACKed bytes above it.
   * Returns `una` when nothing is deemed lost.
   */
  lostBoundary(una: number, mss: number, dupThresh: number): number {
    let bytes = 0;
    let count = 0;
    const limit = (dupThresh - 1) * mss;
    for (let k = this.starts.length - 1; k >= 0; k--) {
      bytes += (this.ends[k] - this.starts[k]) >>> 0;
      count++;
      if (bytes > limit || count >= dupThresh) return this.starts[k];
    }
    return una;
  }

  /** SACKed bytes inside [from, to). */
  sackedIn(from: number, to: number): number {
    let n = 0;
    for (let k = 0; k < this.starts.length; k++) {
      const s = this.starts[k];
      const e = this.ends[k];
      if (seqLe(e, from)) continue;
      if (seqLe(to, s)) break;
      const a = seqLt(s, from) ? from : s;
      const b = seqLt(to, e) ? to : e;
      n += (b - a) >>> 0;
    }
    return n;
  }

  /**
   * RFC 6675 SetPipe: un-SACKed bytes in [una, sndMax) not deemed lost, plus un-SACKed bytes that
   * were retransmitted (below `rxtNext`).
   */
  pipe(una: number, sndMax: number, lost: number, rxtNext: number): number {
    let pipe = 0;
    const from = seqLt(lost, una) ? una : lost;
    if (seqLt(from, sndMax)) pipe += ((sndMax - from) >>> 0) - this.sackedIn(from, sndMax);
    if (seqLt(una, rxtNext)) pipe += ((rxtNext - una) >>> 0) - this.sackedIn(una, rxtNext);
    return pipe;
  }

  /** First un-SACKed stretch at or after `from` and before `limit` (NextSeg rules 1 and 3). */
  nextHole(from: number, limit: number): Hole | undefined {
    let s = from;
    for (let k = 0; k < this.starts.length; k++) {
      if (seqLe(this.ends[k], s)) continue;
      if (seqLe(this.starts[k], s)) {
        s = this.ends[k];
        continue;
      }
      // s lies before range k: the hole is [s, start_k).
      const end = seqLt(limit, this.starts[k]) ? limit : this.starts[k];
      return seqLt(s, end) ? { start: s, end } : undefined;
    }
    return seqLt(s, limit) ? { start: s, end: limit } : undefined;
  }

  private insert(left: number, right: number): number {
    const starts = this.starts;
    const ends = this.ends;
    let i = 0;
    while (i < starts.length && seqLt(ends[i], left)) i++;
    let j = i;
    while (j < starts.length && seqLe(starts[j], right)) j++;
    let before = 0;
    for (let k = i; k < j; k++) before += (ends[k] - starts[k]) >>> 0;
    const ns = j > i && seqLt(starts[i], left) ? starts[i] : left;
    const ne = j > i && seqGt(ends[j - 1], right) ? ends[j - 1] : right;
    if (j === i && starts.length >= MAX_SCOREBOARD_RANGES) return 0;
    starts.splice(i, j - i, ns);
    ends.splice(i, j - i, ne);
    const added = ((ne - ns) >>> 0) - before;
    this.sacked += added;
    return added;
  }
}
