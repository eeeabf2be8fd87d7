/**
 * Timers on a fake clock for unit tests: `setTimeout`/`clearTimeout` in the shape the transport
 * and the relay take (TransportTimers, NoticeTimers); `advance(ms)` runs what falls due in time
 * order, each at its own time (so a timer that re-arms itself fires again within the same advance).
 */

/** A fake clock: `now` in ms, timers that fire only inside {@link advance}. */
export class FakeTimers {
  now = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { fn: () => void; at: number }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { fn, at: this.now + ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Timers waiting to fire. */
  get armed(): number {
    return this.pending.size;
  }

  /** Moves the clock on by `ms`, firing every timer that falls due, earliest first. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: [number, { fn: () => void; at: number }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (!due || e[1].at < due[1].at)) due = e;
      if (!due) break;
      this.pending.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}
