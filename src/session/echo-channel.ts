/**
 * One ICMP echo socket used as request → outcome: the part ping and the MTU probe share. Each
 * request waits for its own reply, an ICMP error quoting it, or its timeout; a request the
 * netstack refuses to send unfragmented (`pmtuDiscovery: 'do'` over the path MTU) comes back as
 * `too-long` with that MTU, as ping(8) prints "local error: message too long, mtu=…".
 *
 *   send(target, seq, { payload, pmtuDiscovery }, timeoutMs)
 *     ──▶ socket.sendEcho ──▶ wake the event loop ──▶ … ──▶ onReadable: reply / error for seq
 *     ◀── { kind: 'reply' | 'error' | 'timeout' | 'too-long' }
 */
import type { IpAddress } from '../shared/ip-address.ts';
import { MessageTooLongError, type EchoError, type EchoReply, type IcmpEchoSocket, type PmtuDiscovery } from '../netstack/socket/icmp-socket.ts';

/** How one echo request ended. */
export type EchoOutcome =
  | { kind: 'reply'; event: EchoReply }
  | { kind: 'error'; event: EchoError }
  | { kind: 'timeout' }
  | { kind: 'too-long'; mtu: number };

/** Echo requests over one socket, each with its own wait. */
export class EchoChannel {
  readonly #socket: IcmpEchoSocket;
  readonly #wake: () => void;
  readonly #now: () => number;
  readonly #pending = new Map<number, (o: EchoOutcome) => void>();

  /** Takes over `socket.onReadable`; `wake` runs the event loop after a send; `now` is its clock. */
  constructor(socket: IcmpEchoSocket, wake: () => void, now: () => number) {
    this.#socket = socket;
    this.#wake = wake;
    this.#now = now;
    socket.onReadable = () => {
      for (let ev = socket.recv(); ev; ev = socket.recv()) {
        if (ev.kind === 'reply' && ev.duplicate) continue;
        const done = this.#pending.get(ev.sequence);
        if (!done) continue;
        this.#pending.delete(ev.sequence);
        done(ev.kind === 'reply' ? { kind: 'reply', event: ev } : { kind: 'error', event: ev });
      }
    };
  }

  /**
   * Sends one request and resolves with how it ended (never rejects for network outcomes).
   * @throws {RangeError} for a bad size or address (the caller's mistake), as `sendEcho` does.
   */
  send(target: IpAddress, sequence: number, options: { payload?: Uint8Array; pmtuDiscovery?: PmtuDiscovery; ttl?: number }, timeoutMs: number): Promise<EchoOutcome> {
    try {
      this.#socket.sendEcho(target, { sequence, payload: options.payload, pmtuDiscovery: options.pmtuDiscovery, ttl: options.ttl }, this.#now());
    } catch (e) {
      if (e instanceof MessageTooLongError) return Promise.resolve({ kind: 'too-long', mtu: e.mtu });
      return Promise.reject(e);
    }
    const outcome = new Promise<EchoOutcome>((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending.get(sequence) === settle) {
          this.#pending.delete(sequence);
          resolve({ kind: 'timeout' });
        }
      }, timeoutMs);
      const settle = (o: EchoOutcome): void => {
        clearTimeout(timer);
        resolve(o);
      };
      this.#pending.set(sequence, settle);
    });
    this.#wake();
    return outcome;
  }

  /** Ends every wait as a timeout and releases the socket. */
  close(): void {
    for (const done of this.#pending.values()) done({ kind: 'timeout' });
    this.#pending.clear();
    this.#socket.close();
  }
}

/** Echo data of `size` bytes in ping(8)'s pattern (0, 1, 2, … wrapping at 256). */
export function echoPayload(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => i & 0xff);
}
