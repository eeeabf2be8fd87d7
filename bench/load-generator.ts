/**
 * A load generator for WebSocket ⇄ UDP relays: N WebSocket clients, each one relay session to a
 * UDP echo, sending WireGuard-shaped datagrams (type 4, reserved bytes zero, receiver index and
 * counter filled in) so that the wgweb relay's shape check passes them like real traffic.
 *
 * It speaks the framing the server selects from what it offers (RFC 6455 §4.2.2), as the client's
 * RelayTransport does: offer [wgweb.v3, wgweb.v2, wgweb.v1] and a session whose server chose v2 or
 * v3 batches its datagrams (docs/relay.md): what a session sends in one task leaves as one message
 * of `[u16 length][datagram]` records in a microtask (or sooner when the batch is full), and every
 * received message is split into its records. With v1 one message is one datagram.
 *
 *   const load = new LoadGenerator((i) => `${wsUrl}?to=127.0.0.1:${echoPort}`, 'wgweb.v1');
 *   await load.grow(100);                                        // 100 sessions open
 *   const r = await load.paced({ perSessionPps: 10, durationMs: 3000 });   // open loop
 *   const s = await load.saturate({ window: 2, durationMs: 3000 });        // closed loop
 *   await load.close();
 *
 * `paced` is open loop (a fixed offered rate, like many light users); `saturate` is closed loop
 * (each session keeps `window` datagrams in flight and sends one per echo: the capacity).
 * Everything runs in this process's event loop; the caller measures the relay's process alone.
 */
import WebSocket from 'ws';
import { DatagramBatchWriter, parseDatagramBatch } from '../src/shared/datagram-batch.ts';
import { batchLimits, relaySubprotocolOf, type BatchLimits } from '../src/shared/relay-protocol.ts';

/** A full-size transport datagram with MTU 1420 (16 header + 1420 + 16 tag). */
export const FULL_DATAGRAM = 1452;

/**
 * The sizes a paced session cycles through: full-size data, an encrypted TCP ACK (16 + 64 + 16),
 * a ping-sized message (16 + 96 + 16) and a keepalive (16 + 0 + 16).
 */
export const MIXED_SIZES: readonly number[] = [FULL_DATAGRAM, 96, FULL_DATAGRAM, 128, 32];

export interface LoadResult {
  /** Datagrams sent over all sessions during the measured window. */
  readonly sent: number;
  /** Datagrams that came back (echoed) during the measured window. */
  readonly received: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  /** Length of the measured window, s. */
  readonly seconds: number;
  /** Sessions the server closed while the generator ran. */
  readonly closedByServer: number;
  /**
   * Datagrams of this run (warm-up included) whose echo had not come back 1 s after the run: lost
   * on the way (dropped by the server, a socket buffer or the echo), as opposed to merely late.
   * Datagrams carry their run's number in the counter field, so late echoes count for their run.
   */
  readonly lost: number;
  /** Datagrams of this run, warm-up included (the base of {@link lost}). */
  readonly sentTotal: number;
  /** WebSocket messages sent and received during the measured window (batched: several datagrams each). */
  readonly messagesSent: number;
  readonly messagesReceived: number;
}

/** Loopback address of client `index` (127.1.0.0/16: Linux answers the whole of 127/8 on lo). */
export function loopbackClient(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 0xffff) throw new RangeError(`client index ${index} is outside 0..65535`);
  return `127.1.${index >> 8}.${index & 0xff}`;
}

/** A type-4 message of `size` bytes for session `index` (receiver index = index, counter = run). */
export function transportDatagram(size: number, index: number, run = 0): Buffer {
  if (!Number.isInteger(size) || size < 32) throw new RangeError(`a transport datagram has at least 32 bytes, not ${size}`);
  const b = Buffer.alloc(size, 0x5a);
  b[0] = 4;
  b[1] = b[2] = b[3] = 0;
  b.writeUInt32LE(index >>> 0, 4);
  b.writeBigUInt64LE(BigInt(run), 8);
  return b;
}

interface Client {
  readonly ws: WebSocket;
  readonly index: number;
  inFlight: number;
  lastReply: number;
  open: boolean;
  /** wgweb.v2/v3: the batch being filled (client → server); undefined with v1. */
  batch?: DatagramBatchWriter;
  /** wgweb.v2/v3: the bounds of the server's batches. */
  down?: BatchLimits;
  flushQueued: boolean;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export class LoadGenerator {
  readonly #url: (index: number) => string;
  readonly #protocol: string | readonly string[] | undefined;
  readonly #clients: Client[] = [];
  #received = 0;
  #bytesReceived = 0;
  #messagesSent = 0;
  #messagesReceived = 0;
  #malformed = 0;
  #closedByServer = 0;
  #closing = false;
  #run = 0;
  /** Echoes received per run number (the counter field of the datagram). */
  readonly #echoesByRun = new Map<number, number>();
  /** Called for every echo (closed-loop mode refills the window here). */
  #onReply: ((c: Client) => void) | undefined;

  readonly #sourceAddress: ((index: number) => string) | undefined;

  /**
   * @param url the WebSocket URL of session `index`.
   * @param protocol the subprotocol(s) to offer, preferred first (the wgweb relay requires one of
   *   `wgweb.v1`/`v2`/`v3`); a session batches when the server selects `wgweb.v2` or `wgweb.v3`.
   * @param sourceAddress the local address session `index` connects from; {@link loopbackClient}
   *   makes each session a client of its own, as on a public relay (the relay limits what one
   *   client address may hold).
   */
  constructor(url: (index: number) => string, protocol?: string | readonly string[], sourceAddress?: (index: number) => string) {
    this.#url = url;
    this.#protocol = protocol;
    this.#sourceAddress = sourceAddress;
  }

  /** Open sessions. */
  get sessions(): number {
    return this.#clients.filter((c) => c.open).length;
  }

  /** The framing each open session's server selected, counted ('wgweb.v1' when it selected none). */
  get protocols(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.#clients) if (c.open) out[relaySubprotocolOf(c.ws.protocol)] = (out[relaySubprotocolOf(c.ws.protocol)] ?? 0) + 1;
    return out;
  }

  /** Batch messages from the server that broke the framing (dropped whole); 0 in a sound run. */
  get malformed(): number {
    return this.#malformed;
  }

  /** Sends one datagram on `c`: a message of its own (v1) or a record of the session's batch. */
  #send(c: Client, d: Uint8Array): void {
    const batch = c.batch;
    if (!batch) {
      c.ws.send(d);
      this.#messagesSent++;
      return;
    }
    if (!batch.fits(d.length)) this.#flush(c);
    batch.add(d);
    if (!c.flushQueued) {
      c.flushQueued = true;
      queueMicrotask(() => this.#flush(c));
    }
  }

  #flush(c: Client): void {
    c.flushQueued = false;
    const message = c.batch?.take();
    if (!message || c.ws.readyState !== WebSocket.OPEN) return;
    c.ws.send(message);
    this.#messagesSent++;
  }

  /** One echoed datagram: counted for its run (the counter field), then the closed loop's refill. */
  #echo(c: Client, d: Uint8Array): void {
    this.#received++;
    this.#bytesReceived += d.length;
    if (d.length >= 16) {
      const run = d[8] | (d[9] << 8) | (d[10] << 16) | (d[11] << 24);
      this.#echoesByRun.set(run, (this.#echoesByRun.get(run) ?? 0) + 1);
    }
    c.lastReply = performance.now();
    this.#onReply?.(c);
  }

  /**
   * Opens sessions until `total` are open, `concurrency` at a time. A session is open once a
   * first (keepalive-sized) datagram came back through it.
   * @throws {Error} when a session is refused (with its close code and reason) or stays silent.
   */
  async grow(total: number, concurrency = 50): Promise<void> {
    if (!Number.isInteger(total) || total < 0) throw new RangeError(`total must be a whole number, not ${total}`);
    while (this.#clients.length < total) {
      const batch = Math.min(concurrency, total - this.#clients.length);
      const start = this.#clients.length;
      await Promise.all(Array.from({ length: batch }, (_, k) => this.#openOne(start + k)));
    }
  }

  #wsOptions(index: number): WebSocket.ClientOptions {
    const localAddress = this.#sourceAddress?.(index);
    return localAddress === undefined ? { perMessageDeflate: false } : { perMessageDeflate: false, localAddress };
  }

  #openOne(index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = this.#protocol
        ? new WebSocket(this.#url(index), typeof this.#protocol === 'string' ? this.#protocol : [...this.#protocol], this.#wsOptions(index))
        : new WebSocket(this.#url(index), this.#wsOptions(index));
      const client: Client = { ws, index, inFlight: 0, lastReply: 0, open: false, flushQueued: false };
      const timer = setTimeout(() => {
        stopRetry();
        ws.terminate();
        reject(new Error(`session ${index} did not open and echo a first datagram within 20 s`));
      }, 20_000);
      // A relay refuses after the upgrade (with a close code), so a session counts as open only
      // once a first datagram has come back through it. That datagram is UDP on the far side: on a
      // loaded machine a socket buffer may drop it, so it is sent again every second until an echo
      // comes back (within the 20 s above), as WireGuard retries a handshake.
      let verified = false;
      let retry: ReturnType<typeof setInterval> | undefined;
      const stopRetry = (): void => {
        if (retry !== undefined) clearInterval(retry);
        retry = undefined;
      };
      ws.once('open', () => {
        client.open = true;
        // RFC 6455 §4.1: the framing the server selected from the offer.
        const protocol = relaySubprotocolOf(ws.protocol);
        const up = batchLimits(protocol, 'up');
        if (up) {
          client.batch = new DatagramBatchWriter(up);
          client.down = batchLimits(protocol, 'down');
        }
        const probe = transportDatagram(32, index);
        this.#send(client, probe);
        retry = setInterval(() => {
          if (!verified && ws.readyState === WebSocket.OPEN) this.#send(client, probe);
        }, 1000);
      });
      ws.on('message', (data: Buffer) => {
        if (!verified) {
          verified = true;
          stopRetry();
          clearTimeout(timer);
          this.#clients.push(client);
          resolve();
          return;
        }
        this.#messagesReceived++;
        if (!client.down) {
          this.#echo(client, data);
          return;
        }
        const batch = parseDatagramBatch(data, client.down);
        if (!batch.ok) {
          this.#malformed++;
          return;
        }
        for (const d of batch.datagrams) this.#echo(client, d);
      });
      ws.on('error', (err) => {
        if (verified) return;
        clearTimeout(timer);
        reject(new Error(`session ${index}: ${err.message}`));
      });
      ws.on('close', (code, reason) => {
        client.open = false;
        stopRetry();
        if (!verified) {
          clearTimeout(timer);
          reject(new Error(`session ${index} was refused: ${code} ${reason.toString()}`));
          return;
        }
        if (!this.#closing) this.#closedByServer++;
      });
    });
  }

  /**
   * Open loop: every session sends `perSessionPps` datagrams per second (sizes cycling through
   * `sizes`), spread evenly over time and sessions, for `warmupMs` unmeasured and then
   * `durationMs` measured.
   */
  async paced(options: {
    perSessionPps: number;
    durationMs: number;
    warmupMs?: number;
    sizes?: readonly number[];
    /** Called when the measured window starts and ends (to sample the server's CPU and RSS). */
    onWindow?: (phase: 'start' | 'end') => void;
  }): Promise<LoadResult> {
    const clients = this.#clients.filter((c) => c.open);
    if (clients.length === 0) throw new Error('paced load: no open sessions');
    const sizes = options.sizes ?? MIXED_SIZES;
    const run = ++this.#run;
    const datagrams = clients.map((c) => sizes.map((s) => transportDatagram(s, c.index, run)));
    let sentTotal = 0;
    const rate = options.perSessionPps * clients.length;
    const warmupMs = options.warmupMs ?? 500;
    let sent = 0;
    let measuredSent = 0;
    let measuredBytes = 0;
    const started = performance.now();
    const tick = (): void => {
      const due = Math.floor(((performance.now() - started) * rate) / 1000);
      for (; sent < due; sent++) {
        // Round robin over sessions; each session cycles through the sizes.
        const k = sent % clients.length;
        const c = clients[k];
        if (!c.open) continue;
        const d = datagrams[k][Math.floor(sent / clients.length) % sizes.length];
        this.#send(c, d);
        sentTotal++;
        measuredSent++;
        measuredBytes += d.length;
      }
    };
    const timer = setInterval(tick, 5);
    try {
      await sleep(warmupMs);
      const r0 = this.#received;
      const ms0 = this.#messagesSent;
      const mr0 = this.#messagesReceived;
      const b0 = this.#bytesReceived;
      const c0 = this.#closedByServer;
      measuredSent = 0;
      measuredBytes = 0;
      options.onWindow?.('start');
      const t0 = performance.now();
      await sleep(options.durationMs);
      const t1 = performance.now();
      options.onWindow?.('end');
      const result = {
        sent: measuredSent,
        received: this.#received - r0,
        messagesSent: this.#messagesSent - ms0,
        messagesReceived: this.#messagesReceived - mr0,
        bytesSent: measuredBytes,
        bytesReceived: this.#bytesReceived - b0,
        seconds: (t1 - t0) / 1000,
        closedByServer: this.#closedByServer - c0,
      };
      clearInterval(timer);
      await sleep(1000); // late echoes still count for this run
      return { ...result, sentTotal, lost: Math.max(0, sentTotal - (this.#echoesByRun.get(run) ?? 0)) };
    } finally {
      clearInterval(timer);
      this.#echoesByRun.delete(run);
    }
  }

  /**
   * Closed loop: every session keeps `window` datagrams of `size` bytes in flight and sends one
   * more per echo. A session without an echo for 250 ms (a datagram dropped on a saturated
   * loopback) has its window refilled.
   */
  async saturate(options: {
    window: number;
    durationMs: number;
    warmupMs?: number;
    size?: number;
    onWindow?: (phase: 'start' | 'end') => void;
  }): Promise<LoadResult> {
    const clients = this.#clients.filter((c) => c.open);
    if (clients.length === 0) throw new Error('saturated load: no open sessions');
    const size = options.size ?? FULL_DATAGRAM;
    const run = ++this.#run;
    const datagrams = new Map(clients.map((c) => [c, transportDatagram(size, c.index, run)]));
    let sent = 0;
    let bytesSent = 0;
    const fill = (c: Client): void => {
      const d = datagrams.get(c);
      if (!d || !c.open) return;
      while (c.inFlight < options.window) {
        this.#send(c, d);
        c.inFlight++;
        sent++;
        bytesSent += d.length;
      }
    };
    this.#onReply = (c) => {
      c.inFlight = Math.max(0, c.inFlight - 1);
      fill(c);
    };
    const now = performance.now();
    for (const c of clients) {
      c.inFlight = 0;
      c.lastReply = now;
      fill(c);
    }
    const watchdog = setInterval(() => {
      const t = performance.now();
      for (const c of clients) {
        if (t - c.lastReply > 250) {
          c.inFlight = 0;
          c.lastReply = t;
          fill(c);
        }
      }
    }, 100);
    try {
      await sleep(options.warmupMs ?? 500);
      const s0 = sent;
      const sb0 = bytesSent;
      const r0 = this.#received;
      const ms0 = this.#messagesSent;
      const mr0 = this.#messagesReceived;
      const b0 = this.#bytesReceived;
      const c0 = this.#closedByServer;
      options.onWindow?.('start');
      const t0 = performance.now();
      await sleep(options.durationMs);
      const t1 = performance.now();
      options.onWindow?.('end');
      const result = {
        sent: sent - s0,
        received: this.#received - r0,
        messagesSent: this.#messagesSent - ms0,
        messagesReceived: this.#messagesReceived - mr0,
        bytesSent: bytesSent - sb0,
        bytesReceived: this.#bytesReceived - b0,
        seconds: (t1 - t0) / 1000,
        closedByServer: this.#closedByServer - c0,
      };
      clearInterval(watchdog);
      this.#onReply = undefined;
      await sleep(1000); // drain the windows; late echoes still count for this run
      return { ...result, sentTotal: sent, lost: Math.max(0, sent - (this.#echoesByRun.get(run) ?? 0)) };
    } finally {
      clearInterval(watchdog);
      this.#onReply = undefined;
      this.#echoesByRun.delete(run);
      for (const c of clients) c.inFlight = 0;
    }
  }

  /** Closes every session (close handshake, then terminate after 5 s). Idempotent. */
  async close(): Promise<void> {
    this.#closing = true;
    const clients = this.#clients.splice(0);
    await Promise.all(
      clients.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.ws.readyState === WebSocket.CLOSED) return resolve();
            const timer = setTimeout(() => {
              c.ws.terminate();
              resolve();
            }, 5000);
            c.ws.once('close', () => {
              clearTimeout(timer);
              resolve();
            });
            c.ws.close(1000);
          }),
      ),
    );
    this.#closing = false;
  }
}
