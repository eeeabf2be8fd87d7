/**
 * Cancellation plumbing shared by the resolver and the HTTP client: one AbortSignal that fires when
 * any parent signal fires or a deadline passes, with explicit disposal so no listener or timer
 * outlives the operation. (`AbortSignal.any` is not in every browser this runs in yet.)
 */

/** Lets a timer not keep a Node process alive; a no-op in browsers, where timers return numbers. */
export function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  (timer as { unref?: () => void }).unref?.();
}

/** An AbortController linked to parent signals and optional deadlines. */
export class SignalScope {
  private readonly controller = new AbortController();
  private readonly cleanups: (() => void)[] = [];

  constructor(...parents: (AbortSignal | undefined)[]) {
    for (const parent of parents) {
      if (!parent) continue;
      if (parent.aborted) {
        this.controller.abort(parent.reason);
        break;
      }
      const onAbort = (): void => this.abort(parent.reason);
      parent.addEventListener('abort', onAbort, { once: true });
      this.cleanups.push(() => parent.removeEventListener('abort', onAbort));
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Aborts with `reason()` after `ms` milliseconds unless disposed first. */
  deadline(ms: number, reason: () => unknown): void {
    if (!Number.isFinite(ms)) return;
    const t = setTimeout(() => this.abort(reason()), Math.max(0, ms));
    this.cleanups.push(() => clearTimeout(t));
  }

  abort(reason?: unknown): void {
    if (!this.controller.signal.aborted) this.controller.abort(reason);
  }

  /** Removes listeners and timers. The signal stays as it is. */
  dispose(): void {
    for (const c of this.cleanups.splice(0)) c();
  }
}

/**
 * Settles like `promise`, or rejects with `toError(signal.reason)` as soon as `signal` aborts.
 * The underlying operation is not cancelled: use this where the work is shared or bounded anyway.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined, toError: (reason: unknown) => unknown): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(toError(signal.reason));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      promise.catch(() => {});
      reject(toError(signal.reason));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
