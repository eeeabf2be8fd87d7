/**
 * The run state every tool panel shares (ping, DNS, tcping, HTTP, and the tools to come): idle →
 * running → done or failed, one run at a time, a Stop/Cancel that aborts it, and the error to
 * show. Modelled on Lit's `Task` (@lit/task) with manual runs; our own ~80 lines rather than a new
 * dependency, because a tool also needs "aborted by the user" as its own outcome and no
 * arguments-changed auto-run.
 *
 *   submit ──▶ run(fn) ──▶ fn(signal) ──resolve──▶ value      (status 'done')
 *                                   └──reject──▶ error       (status 'failed')
 *                                   └──abort───▶ nothing, or the `abortedMessage` as an error
 *   Stop ──▶ abort()        host removed ──▶ abort()         every change ──▶ host.requestUpdate()
 *
 * Progress a tool streams while it runs (ping replies, an HTTP body) stays the tool's own state;
 * the controller owns only what is the same everywhere. Render the error with `renderToolError`
 * (components/tool-error.ts).
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ErrorCode } from '../../../shared/errors.ts';

/** What a tool shows when a run failed: a message and, for hints, a stable code. */
export interface ToolError {
  code?: string;
  message: string;
  /** The error's detail, when it has one (e.g. the refused certificate of a TLS error). */
  detail?: Record<string, unknown>;
}

/** Where a run stands. */
export type ToolRunStatus = 'idle' | 'running' | 'done' | 'failed';

/** Options of {@link ToolRunController}. */
export interface ToolRunOptions {
  /**
   * Shown as an `ABORTED` error when the user stops a run (the HTTP tool says "Cancelled.");
   * absent, a stopped run ends quietly with neither value nor error (ping keeps its replies).
   */
  abortedMessage?: string;
}

/** True for the ways a run can report that it was aborted (a coded WgwebError or a DOM AbortError). */
export function isAbortError(err: unknown): boolean {
  const e = err as { code?: unknown; name?: unknown } | null;
  return e?.code === ErrorCode.ABORTED || e?.name === 'AbortError';
}

/** One tool's run state, as a Lit reactive controller. */
export class ToolRunController<T> implements ReactiveController {
  /** Where the latest run stands. */
  get status(): ToolRunStatus {
    return this.#status;
  }

  /** True while a run is in progress (disable the submit button, show Stop). */
  get running(): boolean {
    return this.#status === 'running';
  }

  /** The latest run's result, once it is done. */
  get value(): T | undefined {
    return this.#value;
  }

  /** Why the latest run failed (or the aborted message). */
  get error(): ToolError | undefined {
    return this.#error;
  }

  readonly #host: ReactiveControllerHost;
  readonly #abortedMessage: string | undefined;
  #status: ToolRunStatus = 'idle';
  #value: T | undefined = undefined;
  #error: ToolError | undefined = undefined;
  #abort: AbortController | undefined = undefined;

  constructor(host: ReactiveControllerHost, options: ToolRunOptions = {}) {
    this.#host = host;
    this.#abortedMessage = options.abortedMessage;
    host.addController(this);
  }

  hostConnected(): void {}

  /** A tool taken off the page stops what it was doing. */
  hostDisconnected(): void {
    this.abort();
  }

  /**
   * Starts a run unless one is in progress (then does nothing and resolves at once). Clears the
   * previous value and error first; `fn` gets a signal that {@link abort} fires. Never rejects:
   * the outcome is in `status`, `value` and `error`.
   */
  async run(fn: (signal: AbortSignal) => Promise<T>): Promise<void> {
    if (this.#status === 'running') return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#status = 'running';
    this.#value = undefined;
    this.#error = undefined;
    this.#host.requestUpdate();
    try {
      const value = await fn(abort.signal);
      this.#value = value;
      this.#status = 'done';
    } catch (err) {
      if (isAbortError(err)) {
        this.#error = this.#abortedMessage === undefined ? undefined : { code: ErrorCode.ABORTED, message: this.#abortedMessage };
        this.#status = this.#error ? 'failed' : 'idle';
      } else {
        const e = err as Partial<ToolError> | null;
        this.#error = { code: typeof e?.code === 'string' ? e.code : undefined, message: typeof e?.message === 'string' ? e.message : String(err) };
        if (typeof e?.detail === 'object' && e.detail !== null && Object.keys(e.detail).length > 0) this.#error.detail = e.detail;
        this.#status = 'failed';
      }
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
      this.#host.requestUpdate();
    }
  }

  /** Stops the run in progress, if any (its function sees the signal fire). */
  abort(): void {
    this.#abort?.abort();
  }
}
