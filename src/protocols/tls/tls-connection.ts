/**
 * The stream adapter over the sans-IO {@link TlsClient}: takes an established {@link TcpConnection},
 * runs the handshake, and is itself a {@link TcpConnection} carrying plaintext, so the HTTP client
 * (and anything else written against the Dialer contract) works unchanged over TLS.
 *
 *   connectTls(tcp) ─▶ client.start ─▶ flush ─▶ read tcp ─▶ client.receive ─▶ flush ─┐
 *                       ▲                                                            │
 *                       └── state verifying: await verify(request) ─▶ completeVerification
 *                   ─▶ open: TlsConnection { readable (decrypted), writable (encrypted) }
 *   readable.pull ─▶ client.read │ tcp read ─▶ buffer ─▶ preopen (WebCrypto AES-GCM) ─▶ process
 *                                 ─▶ (post-handshake replies flushed)
 *   writable.write ─▶ client.write ─▶ tcp write;  close ─▶ close_notify + FIN
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import type { IpAddress } from '../../shared/ip-address.ts';
import { aborted, type TcpConnection } from '../../engine/dialer.ts';
import { TlsClient, type TlsClientOptions, type TlsEvent, type TlsSessionInfo, type VerificationRequest } from './tls-client.ts';

/** Checks a server's chain and handshake signature; resolves with a summary to report, rejects with a WgwebError. */
export type TlsVerifier = (request: VerificationRequest) => Promise<unknown>;

export interface ConnectTlsOptions extends TlsClientOptions {
  verify: TlsVerifier;
  signal?: AbortSignal;
  /** Teaching-view events as they happen. */
  onEvent?: (event: TlsEvent) => void;
}

/** Plaintext streams over a TLS session on a TCP connection. */
export class TlsConnection implements TcpConnection {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
  readonly closed: Promise<void>;

  constructor(
    private readonly tcp: TcpConnection,
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly writer: WritableStreamDefaultWriter<Uint8Array>,
    /** The sans-IO session (state, negotiated parameters, events). */
    readonly client: TlsClient,
    private readonly onEvent: ((e: TlsEvent) => void) | undefined,
  ) {
    this.remoteAddress = tcp.remoteAddress;
    this.remotePort = tcp.remotePort;
    this.closed = tcp.closed;
    this.readable = new ReadableStream<Uint8Array>(
      {
        pull: (controller) => this.pull(controller),
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
    this.writable = new WritableStream<Uint8Array>(
      {
        write: async (chunk) => {
          if (!(chunk instanceof Uint8Array)) throw new TypeError('a TLS stream takes Uint8Array chunks');
          if (this.client.state !== 'open') throw this.client.error ?? closedError(this.client.serverName);
          this.client.write(chunk);
          await this.flush();
        },
        close: async () => {
          this.client.close();
          await this.flush().catch(() => {});
          await this.writer.close().catch(() => {});
        },
        abort: (reason) => this.abort(reason),
      },
      { highWaterMark: 1 },
    );
  }

  /** What was negotiated. */
  get info(): TlsSessionInfo {
    return this.client.info;
  }

  close(): void {
    this.client.close();
    void this.flush().catch(() => {});
    this.tcp.close();
  }

  abort(reason?: unknown): void {
    this.tcp.abort(reason);
  }

  /** Sends whatever the client queued (records, alerts, KeyUpdate replies). */
  flush(): Promise<void> {
    const events = this.client.takeEvents();
    if (this.onEvent) for (const e of events) this.onEvent(e);
    const out = this.client.takeOutput();
    if (!out) return Promise.resolve();
    return this.writer.write(out);
  }

  private async pull(controller: ReadableStreamDefaultController<Uint8Array>): Promise<void> {
    for (;;) {
      const data = this.client.read();
      if (data) {
        controller.enqueue(data);
        return;
      }
      if (this.client.state === 'failed') {
        void this.flush().catch(() => {});
        controller.error(this.client.error);
        return;
      }
      if (this.client.peerClosed) {
        controller.close();
        return;
      }
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await this.reader.read();
      } catch (e) {
        controller.error(e);
        return;
      }
      if (r.done) {
        // TCP FIN without close_notify: a truncation; HTTP framing tells whether anything is missing.
        this.client.receiveEnd();
        const rest = this.client.read();
        if (rest) controller.enqueue(rest);
        controller.close();
        return;
      }
      this.client.buffer(r.value);
      // AES-GCM records are opened ahead on WebCrypto (native AES), in parallel, before the state
      // machine takes them in order; anything not done ahead is opened synchronously as before.
      const ahead = this.client.recordsToPreopen();
      if (ahead) await ahead.cipher.preopen(ahead.records);
      this.client.process();
      this.flush().catch(() => {});
    }
  }
}

function closedError(serverName: string): WgwebError {
  return new WgwebError(ErrorCode.CONNECTION_RESET, `the TLS connection to ${serverName} is closed`, { serverName });
}

/**
 * Runs a TLS handshake over `tcp` and resolves with the plaintext connection. On failure the TCP
 * connection is closed (after the fatal alert went out) and the promise rejects with the
 * {@link WgwebError} the client or the verifier produced.
 */
export async function connectTls(tcp: TcpConnection, options: ConnectTlsOptions): Promise<TlsConnection> {
  const { verify, signal, onEvent, ...clientOptions } = options;
  const client = new TlsClient(clientOptions);
  const reader = tcp.readable.getReader();
  const writer = tcp.writable.getWriter();
  reader.closed.catch(() => {});
  writer.closed.catch(() => {});
  const conn = new TlsConnection(tcp, reader, writer, client, onEvent);
  const onAbort = (): void => tcp.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    client.start();
    await conn.flush();
    for (;;) {
      if (signal?.aborted) throw aborted('the TLS handshake', signal.reason);
      if (client.state === 'verifying') {
        const request = client.pendingVerification!;
        let outcome: { error: WgwebError } | { certificate?: unknown };
        try {
          outcome = { certificate: await verify(request) };
        } catch (e) {
          outcome = {
            error:
              e instanceof WgwebError
                ? e
                : new WgwebError(ErrorCode.TLS_CERT_INVALID, `the certificate of ${client.serverName} could not be checked: ${e instanceof Error ? e.message : String(e)}`, { serverName: client.serverName }, { cause: e }),
          };
        }
        if (signal?.aborted) throw aborted('the TLS handshake', signal.reason);
        client.completeVerification(outcome);
        await conn.flush();
        continue;
      }
      if (client.state === 'open') break;
      if (client.state === 'failed') {
        await conn.flush().catch(() => {});
        throw client.error!;
      }
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (signal?.aborted) throw aborted('the TLS handshake', signal.reason);
        throw e instanceof WgwebError ? e : new WgwebError(ErrorCode.CONNECTION_RESET, `the connection to ${client.serverName} broke during the TLS handshake`, { serverName: client.serverName }, { cause: e });
      }
      if (r.done) client.receiveEnd();
      else client.receive(r.value);
      await conn.flush();
    }
  } catch (e) {
    signal?.removeEventListener('abort', onAbort);
    tcp.close();
    throw e;
  }
  signal?.removeEventListener('abort', onAbort);
  return conn;
}
