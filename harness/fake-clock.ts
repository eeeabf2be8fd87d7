/**
 * A controllable monotonic clock for sans-IO tests: the cores take `now` (ms) as an argument, so a
 * test advances this clock and passes `clock.now` instead of waiting for real time.
 *
 * ```ts
 * const clock = new FakeClock();
 * tunnel.sendPacket(packet, clock.now);
 * clock.advance(REKEY_TIMEOUT_MS);
 * tunnel.tick(clock.now);
 * ```
 */
export class FakeClock {
  private current: number;

  /** @param start initial time in ms (default 0; some tests prefer a large value to catch `now || x` bugs). */
  constructor(start = 0) {
    FakeClock.check(start, 'start');
    this.current = start;
  }

  /** Current time in ms. */
  get now(): number {
    return this.current;
  }

  /**
   * Moves time forward by `ms` and returns the new time.
   * @throws {RangeError} for negative or non-finite `ms` (a monotonic clock never goes back).
   */
  advance(ms: number): number {
    FakeClock.check(ms, 'advance');
    this.current += ms;
    return this.current;
  }

  /**
   * Moves time forward to `at` (absolute ms) and returns it; e.g. `clock.advanceTo(tunnel.nextWakeAt())`.
   * @throws {RangeError} when `at` is in the past or not finite.
   */
  advanceTo(at: number): number {
    if (!Number.isFinite(at) || at < this.current) {
      throw new RangeError(`advanceTo(${at}): the clock is at ${this.current} and only moves forward`);
    }
    this.current = at;
    return at;
  }

  private static check(ms: number, what: string): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`${what} must be a finite, non-negative number of ms, got ${ms}`);
  }
}
