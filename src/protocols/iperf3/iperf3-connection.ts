/**
 * Runs one iperf3 TCP test over any {@link Dialer} (the tunnel's TCP in the worker and CLI, Node
 * sockets in tests): the thin I/O adapter around the sans-IO {@link Iperf3Client}.
 *
 *   runIperf3 ─▶ dialer.connectTcp (control) ─▶ read loop: control bytes ─▶ client.receive ─▶ pump
 *   pump: client.pollTransmit ─▶ control writes (in order)
 *         client.pollEvent:  create-streams ─▶ connect N data connections in order, cookie first
 *                            test-start     ─▶ per stream: write blocks (normal) / read and count (reverse)
 *                            interval       ─▶ onProgress (with retransmits sampled from our TCP)
 *                            test-end       ─▶ writers stop; unacked bytes reported to the client
 *                            done / error   ─▶ resolve / reject; every connection closed
 *         client.pollAt ─▶ one timer ─▶ client.handleTimeout
 *   abort ─▶ CLIENT_TERMINATE on the control connection, every connection reset, ABORTED
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import type { IpAddress } from '../../shared/ip-address.ts';
import { unrefTimer } from '../../shared/signal-scope.ts';
import { aborted, formatSocketAddress, type Dialer, type TcpConnection } from '../../engine/dialer.ts';
import { Iperf3Client, type Iperf3ClientOptions, type Iperf3Interval, type Iperf3StreamReport, type Iperf3Summary } from './iperf3-client.ts';
import { DEFAULT_IPERF3_PORT, Iperf3State } from './iperf3-messages.ts';

/** What the caller sees while a test runs. */
export type Iperf3Progress =
  | { readonly type: 'connected' }
  | { readonly type: 'streams'; readonly count: number }
  | { readonly type: 'started' }
  | { readonly type: 'interval'; readonly interval: Iperf3Interval & { readonly retransmits?: number } }
  | { readonly type: 'ended' };

/** The adapter's look into a connection's TCP (the netstack's socket); absent over Node sockets. */
export type TcpInspector = (conn: TcpConnection) => { unacknowledged: number; retransmits: number } | undefined;

export interface Iperf3RunOptions extends Omit<Iperf3ClientOptions, 'randomBytes'> {
  readonly dialer: Dialer;
  readonly address: IpAddress;
  /** Default 5201. */
  readonly port?: number;
  readonly signal?: AbortSignal;
  /** Monotonic ms (default performance.now). */
  readonly now?: () => number;
  /** Limit on each TCP connect (default 5 s). */
  readonly connectTimeoutMs?: number;
  /** Limit on the server's answers after the test (default 20 s past the test's end). */
  readonly graceMs?: number;
  readonly onProgress?: (p: Iperf3Progress) => void;
  readonly inspect?: TcpInspector;
  readonly randomBytes?: Iperf3ClientOptions['randomBytes'];
}

/**
 * Runs the test and resolves with iperf3's summary.
 * @throws {WgwebError} CONNECTION_REFUSED, TIMEOUT, HOST_UNREACHABLE, CONNECTION_RESET (from the
 *   dialer), IPERF3_FAILED (busy server, server error, not an iperf3 server), ABORTED.
 */
export async function runIperf3(options: Iperf3RunOptions): Promise<Iperf3Summary> {
  const client = new Iperf3Client(options);
  const now = options.now ?? (() => performance.now());
  const port = options.port ?? DEFAULT_IPERF3_PORT;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`iperf3 port must be 1 to 65535, not ${port}`);
  const where = formatSocketAddress(options.address, port);
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  const signal = options.signal;
  if (signal?.aborted) throw aborted('the iperf3 test', signal.reason);

  const control = await options.dialer.connectTcp(options.address, port, { timeoutMs: connectTimeoutMs, signal });
  options.onProgress?.({ type: 'connected' });
  const controlWriter = control.writable.getWriter();
  const data: TcpConnection[] = [];
  const block = new Uint8Array(client.blockSize);
  crypto.getRandomValues(block.subarray(0, Math.min(block.length, 65536)));
  let writeChain: Promise<void> = Promise.resolve();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  let lastRetransmits = 0;

  return new Promise<Iperf3Summary>((resolve, reject) => {
    const finish = (error: unknown, summary?: Iperf3Summary): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (deadline) clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      for (const c of data) c.abort();
      if (error) {
        control.abort();
        reject(error);
      } else {
        // IPERF_DONE is queued: close after it.
        void writeChain.finally(() => control.close());
        resolve(summary!);
      }
    };
    const onAbort = (): void => {
      // iperf3's client tells the server it gave up (CLIENT_TERMINATE) so the server is free again.
      void controlWriter.write(Uint8Array.of(Iperf3State.CLIENT_TERMINATE)).catch(() => {});
      finish(aborted('the iperf3 test', signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const retransmitsNow = (): number | undefined => {
      if (!options.inspect || client.reverse) return undefined;
      let sum = 0;
      for (const c of data) {
        const s = options.inspect(c);
        if (!s) return undefined;
        sum += s.retransmits;
      }
      return sum;
    };

    const pump = (): void => {
      if (settled) return;
      for (let tx = client.pollTransmit(); tx; tx = client.pollTransmit()) {
        const bytes = tx;
        writeChain = writeChain.then(() => controlWriter.write(bytes));
        writeChain.catch((e) => finish(e));
      }
      for (let ev = client.pollEvent(); ev && !settled; ev = client.pollEvent()) {
        switch (ev.type) {
          case 'create-streams':
            void openStreams(ev.count).catch((e) => finish(e));
            break;
          case 'test-start':
            options.onProgress?.({ type: 'started' });
            for (let i = 0; i < data.length; i++) void (client.reverse ? drain(i) : feed(i));
            break;
          case 'interval': {
            const r = retransmitsNow();
            const retransmits = r === undefined ? undefined : r - lastRetransmits;
            if (r !== undefined) lastRetransmits = r;
            options.onProgress?.({ type: 'interval', interval: { ...ev.interval, retransmits } });
            break;
          }
          case 'test-end':
            client.reportStreams(data.map((c): Iperf3StreamReport => options.inspect?.(c) ?? {}));
            options.onProgress?.({ type: 'ended' });
            deadline = setTimeout(
              () => finish(new WgwebError(ErrorCode.IPERF3_FAILED, `the iperf3 server at ${where} sent no results within ${Math.round((options.graceMs ?? 20_000) / 1000)} s of the test's end`)),
              options.graceMs ?? 20_000,
            );
            unrefTimer(deadline);
            break;
          case 'done':
            finish(undefined, ev.summary);
            break;
          case 'error':
            finish(ev.error);
            break;
        }
      }
      if (settled) return;
      if (timer) clearTimeout(timer);
      const at = client.pollAt();
      if (Number.isFinite(at)) {
        timer = setTimeout(() => {
          timer = undefined;
          client.handleTimeout(now());
          pump();
        }, Math.max(0, at - now()));
      }
    };

    // Streams connect one after another so the server numbers them as we do (iperf3-messages.ts).
    const openStreams = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const c = await options.dialer.connectTcp(options.address, port, { timeoutMs: connectTimeoutMs, signal });
        if (settled) {
          c.abort();
          return;
        }
        data.push(c);
        const w = c.writable.getWriter();
        await w.write(client.cookie);
        w.releaseLock();
      }
      options.onProgress?.({ type: 'streams', count });
    };

    const feed = async (i: number): Promise<void> => {
      const w = data[i].writable.getWriter();
      try {
        while (client.running && !settled) {
          await w.write(block);
          client.countBytes(i, block.length, now());
        }
      } catch (e) {
        if (client.running) finish(e);
      } finally {
        w.releaseLock();
      }
    };

    const drain = async (i: number): Promise<void> => {
      const r = data[i].readable.getReader();
      try {
        for (;;) {
          const { done, value } = await r.read();
          if (done || settled) break;
          client.countBytes(i, value.length, now());
        }
      } catch (e) {
        if (client.running) finish(e);
      }
    };

    void (async () => {
      const reader = control.readable.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (settled) return;
          if (done) break;
          client.receive(value, now());
          pump();
        }
        client.transportClosed();
      } catch (e) {
        if (!settled) finish(e);
        return;
      }
      pump();
    })();
    pump();
  });
}
