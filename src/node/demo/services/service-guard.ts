/**
 * The boundary around each demo service: an error thrown while one service handles one datagram
 * or one connection is caught here, counted under the service's name and logged, and goes no
 * further. The other services, the other visitors and the relay carry on.
 *
 *   service callback ──guard(name, fn)──▶ fn() ──throws──▶ count[name]++ ─▶ log (first few, then
 *                                                          every 100th) ─▶ return as if handled
 *
 * Bad network input is normally a counted drop inside each service (docs/security.md); this guard
 * is for the bugs that input may still find.
 */
import { describeError } from '../../../shared/errors.ts';

/** Where contained errors are logged (the demo's logger). */
export interface ServiceGuardLogger {
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** Errors contained per service, and the wrapper that contains them. */
export class ServiceGuard {
  private readonly counts: Record<string, number> = {};
  private readonly logger: ServiceGuardLogger | undefined;

  constructor(logger?: ServiceGuardLogger) {
    this.logger = logger;
  }

  /** Errors contained so far, by service name. */
  stats(): Record<string, number> {
    return { ...this.counts };
  }

  /** Counts and logs one contained error of `service`. */
  record(service: string, error: unknown): void {
    const n = (this.counts[service] = (this.counts[service] ?? 0) + 1);
    if (n <= 5 || n % 100 === 0) {
      this.logger?.warn('demo.service_error', { service, count: n, error: describeError(error) });
    }
  }

  /** `fn` with its errors contained (counted under `service`); returns undefined when it threw. */
  wrap<A extends unknown[], R>(service: string, fn: (...args: A) => R): (...args: A) => R | undefined {
    return (...args: A) => {
      try {
        return fn(...args);
      } catch (e) {
        this.record(service, e);
        return undefined;
      }
    };
  }
}
