/**
 * An ICMP echo ("ping") socket for IPv4 and IPv6 (RFC 792, RFC 4443 §4), sans-IO. It owns one
 * echo identifier; replies carrying it, and ICMP errors quoting our echo requests, are queued as
 * {@link EchoEvent}s in arrival order, so a ping tool can print them as they come.
 *
 *   sendEcho(dst, { sequence }, now) ─▶ host.sendEchoRequest ─▶ NetInterface queue ─▶ poll()
 *   echo reply (our identifier) ───────▶ deliverReply ─┐
 *   ICMP error quoting our request ────▶ deliverError ─┴▶ queue ─▶ onReadable() ─▶ recv()
 *
 * Round-trip times: `sendEcho` remembers the caller's `now` per sequence number, and each event
 * carries `sentAt` and `receivedAt` in the caller's clock, so `rtt = receivedAt - sentAt`.
 */
import type { IpAddress } from '../../shared/ip-address.ts';
import { DEFAULT_ECHO_PAYLOAD_BYTES } from '../netstack-constants.ts';

/** An echo reply to one of our requests. */
export interface EchoReply {
  readonly kind: 'reply';
  /** Who answered. */
  readonly from: IpAddress;
  readonly identifier: number;
  readonly sequence: number;
  /** The echoed data (the socket's own copy). */
  readonly data: Uint8Array;
  /** TTL (IPv4) or hop limit (IPv6) of the reply as it arrived. */
  readonly ttl: number;
  /** `now` of the matching `sendEcho`, if this sequence number is still remembered. */
  readonly sentAt: number | undefined;
  readonly receivedAt: number;
  /** True when this sequence number was already answered (ping's "DUP!"). */
  readonly duplicate: boolean;
}

/** An ICMP error caused by one of our echo requests. */
export interface EchoError {
  readonly kind: 'error';
  /**
   * `unreachable` (host, net, admin ...), `packet-too-big` (with `mtu`), `time-exceeded` (TTL or
   * hop limit ran out, or reassembly timed out), `parameter-problem`.
   */
  readonly type: 'unreachable' | 'packet-too-big' | 'time-exceeded' | 'parameter-problem';
  readonly icmpVersion: 4 | 6;
  /** The ICMP code, to be read with `icmpVersion`. */
  readonly code: number;
  /** The router or host that reported the error. */
  readonly reporter: IpAddress;
  /** Where our request was going. */
  readonly destination: IpAddress;
  readonly sequence: number;
  readonly mtu?: number;
  readonly sentAt: number | undefined;
  readonly receivedAt: number;
}

/** What {@link IcmpEchoSocket.recv} returns. */
export type EchoEvent = EchoReply | EchoError;

/**
 * Path MTU discovery for one request, as Linux's IP_MTU_DISCOVER names it (ping -M):
 * - `want` (default): Don't Fragment set when the packet fits the path MTU, fragmented here when
 *   it does not (so an oversized ping still goes out, in pieces);
 * - `do`: Don't Fragment, and never fragmented here: a request larger than the known path MTU
 *   is refused with {@link MessageTooLongError} (ping's "local error: message too long"), and a
 *   router on a smaller link answers with "fragmentation needed" / Packet Too Big;
 * - `dont`: no Don't Fragment bit (IPv4), so routers may fragment; fragmented here when needed.
 * IPv6 routers never fragment (RFC 8200 §5), so there `dont` is the same as `want`.
 */
export type PmtuDiscovery = 'want' | 'do' | 'dont';

/** Options of {@link IcmpEchoSocket.sendEcho}. */
export interface SendEchoOptions {
  /** 0 to 65535; wraps like ping's icmp_seq. */
  sequence: number;
  /** Echo data (default: 56 bytes, like ping(8)). */
  payload?: Uint8Array;
  /** Don't Fragment and local fragmentation (default `want`). */
  pmtuDiscovery?: PmtuDiscovery;
  /** IPv4 TTL / IPv6 hop limit, 1 to 255 (default DEFAULT_TTL / DEFAULT_HOP_LIMIT); traceroute raises it hop by hop. */
  ttl?: number;
}

/**
 * A `pmtuDiscovery: 'do'` request larger than the path MTU known for its destination: nothing
 * was sent. `mtu` is that path MTU (the interface's, or a smaller one learned from ICMP).
 */
export class MessageTooLongError extends RangeError {
  readonly mtu: number;
  constructor(mtu: number, packetBytes: number) {
    super(`message too long: a ${packetBytes}-byte packet does not fit the path MTU of ${mtu} and Don't Fragment is asked for`);
    this.name = 'MessageTooLongError';
    this.mtu = mtu;
  }
}

/** What an {@link IcmpEchoSocket} needs from its interface; implemented by NetInterface. */
export interface IcmpEchoSocketHost {
  /**
   * Queues one echo request.
   * @throws {MessageTooLongError} for `do` over the path MTU.
   * @throws {RangeError} on a bad address or size, or no local address of that family.
   */
  sendEchoRequest(destination: IpAddress, identifier: number, sequence: number, payload: Uint8Array, pmtuDiscovery?: PmtuDiscovery, ttl?: number): void;
  /** Releases the identifier. */
  releaseEcho(socket: IcmpEchoSocket): void;
}

/** Options of `NetInterface.icmpEcho`. */
export interface IcmpEchoSocketOptions {
  /** Events held until `recv` (default 128; the oldest are dropped beyond). */
  queueLength?: number;
  /** Sequence numbers whose send time is remembered (default 1024). */
  rememberedSequences?: number;
}

const DEFAULT_PAYLOAD = Uint8Array.from({ length: DEFAULT_ECHO_PAYLOAD_BYTES }, (_, i) => i);

interface Sent {
  readonly at: number;
  answered: boolean;
}

/** A ping socket: one echo identifier, any destination, IPv4 or IPv6. */
export class IcmpEchoSocket {
  /** The echo identifier our requests carry and replies must match. */
  readonly identifier: number;
  /** Called (synchronously, inside `NetInterface.receive`) after an event is queued. */
  onReadable: (() => void) | undefined = undefined;

  private readonly host: IcmpEchoSocketHost;
  private readonly queue: EchoEvent[] = [];
  private readonly queueLength: number;
  private readonly remembered: number;
  private readonly sent = new Map<number, Sent>();
  private isClosed = false;
  private droppedEvents = 0;

  /** @internal Use `NetInterface.icmpEcho`. */
  constructor(host: IcmpEchoSocketHost, identifier: number, options: IcmpEchoSocketOptions = {}) {
    this.host = host;
    this.identifier = identifier;
    this.queueLength = positiveInt(options.queueLength ?? 128, 'queueLength');
    this.remembered = positiveInt(options.rememberedSequences ?? 1024, 'rememberedSequences');
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Events dropped because the queue was full. */
  get dropped(): number {
    return this.droppedEvents;
  }

  /**
   * Sends an echo request to `destination` (IPv4 or IPv6) and remembers `now` for its sequence.
   * Requests larger than the path MTU are fragmented, unless `pmtuDiscovery` is `do`.
   * @throws {TypeError} when the socket is closed.
   * @throws {MessageTooLongError} for `do` and a request over the path MTU (nothing is sent).
   * @throws {RangeError} on a bad sequence, an oversized payload or no local address of that family.
   */
  sendEcho(destination: IpAddress, options: SendEchoOptions, now: number): void {
    if (this.isClosed) throw new TypeError(`ICMP echo socket ${this.identifier} is closed`);
    const seq = options.sequence;
    if (!Number.isInteger(seq) || seq < 0 || seq > 0xffff) throw new RangeError(`an echo sequence number is 0 to 65535, not ${seq}`);
    const mode = options.pmtuDiscovery ?? 'want';
    if (mode !== 'want' && mode !== 'do' && mode !== 'dont') throw new RangeError(`pmtuDiscovery is want, do or dont, not ${String(mode)}`);
    this.host.sendEchoRequest(destination, this.identifier, seq, options.payload ?? DEFAULT_PAYLOAD, mode, options.ttl);
    // Re-inserting moves the sequence to the newest end, so the oldest is evicted first.
    this.sent.delete(seq);
    this.sent.set(seq, { at: now, answered: false });
    if (this.sent.size > this.remembered) {
      for (const k of this.sent.keys()) {
        this.sent.delete(k);
        break;
      }
    }
  }

  /** The oldest queued reply or error, or `undefined`. */
  recv(): EchoEvent | undefined {
    return this.queue.shift();
  }

  /** Releases the identifier; queued events stay readable. Idempotent. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.host.releaseEcho(this);
  }

  /** @internal An echo reply carrying our identifier arrived. */
  deliverReply(from: IpAddress, sequence: number, data: Uint8Array, ttl: number, now: number): void {
    const s = this.sent.get(sequence);
    const duplicate = s?.answered ?? false;
    if (s) s.answered = true;
    this.push({ kind: 'reply', from, identifier: this.identifier, sequence, data, ttl, sentAt: s?.at, receivedAt: now, duplicate });
  }

  /** @internal An ICMP error quoting one of our echo requests arrived. */
  deliverError(error: Omit<EchoError, 'kind' | 'sentAt'>): void {
    this.push({ kind: 'error', ...error, sentAt: this.sent.get(error.sequence)?.at });
  }

  private push(event: EchoEvent): void {
    if (this.queue.length >= this.queueLength) {
      this.queue.shift();
      this.droppedEvents++;
    }
    this.queue.push(event);
    this.onReadable?.();
  }
}

function positiveInt(n: number, name: string): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${name} must be a positive integer, not ${n}`);
  return n;
}
