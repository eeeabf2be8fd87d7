/**
 * A page callback the worker calls while an operation runs (ping replies, port results, iperf3
 * intervals, traceroute hops), delivered in order and all of them before the operation's result.
 *
 *   operation ──▶ send(value) ──▶ comlink call on the callback's own port ──▶ page runs it
 *   operation ends ──▶ settle(): wait for every call's answer (bounded) ──▶ release the port
 *   ──▶ the result goes back on the API's port
 *
 * Why settle: the callback travels on its own MessagePort and the result on the API's, and the
 * HTML standard orders messages only within one port. Without waiting, a script could see the
 * result of a traceroute before its last hops (seen in CI). A page that never answers (frozen
 * tab, throwing callback) cannot hold the result back for longer than `settleMs`.
 */
import { releaseProxy } from 'comlink';

/** How long the result waits for the page to finish running earlier callbacks (implementation choice). */
export const CALLBACK_SETTLE_MS = 2_000;

/** One operation's page callback: `send` each value, `settle` once at the end. */
export class PageCallback<T> {
  readonly #callback: ((value: T) => unknown) | undefined;
  readonly #pending = new Set<Promise<unknown>>();
  #released = false;

  /** `callback` is the comlink proxy the page passed (or undefined: every call is a no-op). */
  constructor(callback: ((value: T) => unknown) | undefined) {
    this.#callback = callback;
  }

  /** Calls the page with `value`; a failure on the page side is ignored (it is the page's callback). */
  send(value: T): void {
    if (!this.#callback || this.#released) return;
    let call: Promise<unknown>;
    try {
      call = Promise.resolve(this.#callback(value)).catch(() => {});
    } catch {
      return;
    }
    this.#pending.add(call);
    void call.then(() => this.#pending.delete(call));
  }

  /** Waits (at most `settleMs`) until the page has run every value sent so far, then releases its port. */
  async settle(settleMs = CALLBACK_SETTLE_MS): Promise<void> {
    if (this.#released) return;
    if (this.#pending.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, settleMs)));
      await Promise.race([Promise.all(this.#pending), timeout]);
      clearTimeout(timer);
    }
    this.release();
  }

  /** Releases the page's callback port now; later sends are dropped. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    releaseCallback(this.#callback);
  }
}

/** Releases a comlink proxy the page passed (a no-op for plain functions or one already released). */
export function releaseCallback(callback: unknown): void {
  const r = (callback as { [releaseProxy]?: () => void } | undefined)?.[releaseProxy];
  if (typeof r !== 'function') return;
  try {
    r.call(callback);
  } catch {
    // Already released.
  }
}
