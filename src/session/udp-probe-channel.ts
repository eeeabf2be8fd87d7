/**
 * One UDP socket used as probe → outcome, the way classic traceroute(8) sends UDP probes: each
 * probe goes to its own destination port (33434, 33435, …) with the TTL / hop limit asked for, and
 * waits for an ICMP error that quotes it (RFC 792 and RFC 4443 §2.4(c): an error carries the start
 * of the packet that caused it, so the quoted destination address and port say which probe it
 * was), for a UDP answer from that port, or for its timeout.
 *
 *   send(target, port, ttl, timeoutMs)
 *     ──▶ socket.send(…, { ttl }) ──▶ wake the event loop ──▶ … ──▶ onReadable:
 *           recvError(): Time Exceeded / Unreachable quoting (target, port) ─┐
 *           recv(): a datagram from (target, port)                         ─┴▶ that probe's outcome
 *     ◀── { kind: 'error' | 'answer' | 'timeout' }
 *
 * Errors or datagrams that match no waiting probe (a late answer to a probe that already timed
 * out, another destination) are ignored, as traceroute ignores them.
 */
import { formatIp, type IpAddress } from '../shared/ip-address.ts';
import type { ReceivedDatagram, UdpSocket, UdpSocketError } from '../netstack/socket/udp-socket.ts';

/** How one UDP probe ended; `sentAt` is the channel clock's time of the send. */
export type UdpProbeOutcome =
  | { kind: 'error'; error: UdpSocketError; sentAt: number }
  | { kind: 'answer'; datagram: ReceivedDatagram; sentAt: number }
  | { kind: 'timeout' };

interface Waiting {
  readonly sentAt: number;
  readonly settle: (o: UdpProbeOutcome) => void;
}

/** UDP probes over one socket, each with its own destination port and wait. */
export class UdpProbeChannel {
  readonly #socket: UdpSocket;
  readonly #wake: () => void;
  readonly #now: () => number;
  readonly #pending = new Map<string, Waiting>();

  /** Takes over `socket.onReadable`; `wake` runs the event loop after a send; `now` is its clock. */
  constructor(socket: UdpSocket, wake: () => void, now: () => number) {
    this.#socket = socket;
    this.#wake = wake;
    this.#now = now;
    socket.onReadable = () => {
      for (let error = socket.recvError(); error; error = socket.recvError()) {
        const w = this.#take(error.address, error.port);
        w?.settle({ kind: 'error', error, sentAt: w.sentAt });
      }
      for (let datagram = socket.recv(); datagram; datagram = socket.recv()) {
        const w = this.#take(datagram.address, datagram.port);
        w?.settle({ kind: 'answer', datagram, sentAt: w.sentAt });
      }
    };
  }

  /**
   * Sends one probe (`payloadBytes` zero bytes) to `target`:`port` with `ttl` and resolves with how
   * it ended (never rejects for network outcomes). One probe per (target, port) waits at a time.
   * @throws {RangeError} for a bad port, TTL or address (the caller's mistake), as `UdpSocket.send`
   * does, or a second probe to a (target, port) that is still waiting.
   */
  send(target: IpAddress, port: number, ttl: number, timeoutMs: number, payloadBytes = 32): Promise<UdpProbeOutcome> {
    const k = key(target, port);
    if (this.#pending.has(k)) throw new RangeError(`a probe to ${formatIp(target)} port ${port} is already waiting`);
    const sentAt = this.#now();
    this.#socket.send(target, port, new Uint8Array(payloadBytes), { ttl });
    const outcome = new Promise<UdpProbeOutcome>((resolve) => {
      const timer = setTimeout(() => {
        if (this.#pending.get(k) === waiting) {
          this.#pending.delete(k);
          resolve({ kind: 'timeout' });
        }
      }, timeoutMs);
      const waiting: Waiting = {
        sentAt,
        settle: (o) => {
          clearTimeout(timer);
          resolve(o);
        },
      };
      this.#pending.set(k, waiting);
    });
    this.#wake();
    return outcome;
  }

  /** Ends every wait as a timeout and releases the socket. */
  close(): void {
    for (const w of this.#pending.values()) w.settle({ kind: 'timeout' });
    this.#pending.clear();
    this.#socket.close();
  }

  #take(address: IpAddress, port: number): Waiting | undefined {
    const k = key(address, port);
    const w = this.#pending.get(k);
    if (w) this.#pending.delete(k);
    return w;
  }
}

function key(address: IpAddress, port: number): string {
  return `${formatIp(address)} ${port}`;
}
