/**
 * A sans-IO TLS client: TLS 1.3 (RFC 8446) and TLS 1.2 (RFC 5246). Bytes from the server go in
 * ({@link TlsClient.receive}), records to send come out ({@link TlsClient.takeOutput}), application
 * data is written with {@link TlsClient.write} and read with {@link TlsClient.read}. No timers, no
 * I/O, no promises: the stream adapter (tls-connection.ts) moves the bytes.
 *
 *   start ─▶ ClientHello ─▶ ServerHello ─┬─ HelloRetryRequest ─▶ ClientHello 2 ─▶ ServerHello
 *                                        ├─ 1.3: EncryptedExtensions [CertificateRequest] Certificate
 *                                        │       CertificateVerify ─▶ (verifying) ─▶ Finished
 *                                        │       ─▶ [Certificate∅] Finished ─▶ open
 *                                        │       (PSK resumption: EncryptedExtensions Finished)
 *                                        └─ 1.2: Certificate ServerKeyExchange [CertificateRequest]
 *                                                ServerHelloDone ─▶ (verifying) ─▶ [Certificate∅]
 *                                                ClientKeyExchange CCS Finished ─▶ [NewSessionTicket]
 *                                                CCS Finished ─▶ open (ticket resumption: abbreviated)
 *   open: application data both ways; 1.3 NewSessionTicket ─▶ ticket cache; KeyUpdate (either side);
 *         1.2 HelloRequest ─▶ no_renegotiation warning (renegotiation is refused, RFC 5746 §4.2)
 *   close ─▶ close_notify; close_notify received ─▶ read() ends
 *
 * Certificate checking is asynchronous (WebCrypto), so the core stops in state `verifying` with a
 * {@link VerificationRequest}; the caller checks the chain and the handshake signature and calls
 * {@link TlsClient.completeVerification}. Records arriving meanwhile wait in the buffer.
 *
 * Bad bytes from the network never throw out of `receive`: they end the connection with a fatal
 * alert (RFC 8446 §6.2) and {@link TlsClient.error} says why as a {@link WgwebError}.
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { concatBytes, constantTimeEqual, toHex } from '../../shared/bytes.ts';
import { tryParseIp } from '../../shared/ip-address.ts';
import { randomBytes } from '@noble/hashes/utils.js';
import {
  AlertDescription,
  ContentType,
  DOWNGRADE_TLS11,
  DOWNGRADE_TLS12,
  ExtensionType,
  HandshakeType,
  MAX_CIPHERTEXT_12,
  MAX_CIPHERTEXT_13,
  MAX_PLAINTEXT,
  NamedGroup,
  SignatureScheme,
  TLS12,
  TLS13,
  alertName,
} from './tls-constants.ts';
import { TlsDecodeError, TlsReader, TlsWriter } from './tls-codec.ts';
import { HandshakeBuffer, RecordBuffer, emitHandshake, emitRecord } from './tls-record.ts';
import { cipherSuite, offeredSuites, type CipherSuite } from './tls-cipher-suites.ts';
import {
  Tls13KeySchedule,
  finishedVerifyData,
  nextTrafficSecret,
  ticketPsk,
  tls12Prf,
  trafficKeys,
} from './tls-key-schedule.ts';
import { Tls12AeadRecordCipher, Tls12CbcRecordCipher, Tls13RecordCipher, type RecordCipher } from './tls-record-protection.ts';
import { SUPPORTED_GROUPS, generateKeyShare, groupName, type KeyShare } from './tls-key-exchange.ts';
import {
  certificateVerifyContent,
  emitClientHello,
  parseAlpn,
  parseCertificateMessage,
  parseCertificateRequest13,
  parseCertificateVerify,
  parseExtensions,
  parseKeyUpdate,
  parseNewSessionTicket12,
  parseNewSessionTicket13,
  parseRecordSizeLimit,
  parseServerHello,
  parseServerKeyExchangeEcdhe,
  parseServerKeyShare,
  type ServerHello,
} from './tls-handshake-messages.ts';
import type { SessionTicket, TlsTicketCache } from './tls-ticket-cache.ts';
import { rsaKeyExchange } from './rsa-key-exchange.ts';

/** Signature schemes we accept in CertificateVerify / ServerKeyExchange, best first. */
const SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.ed25519,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
  SignatureScheme.rsa_pss_pss_sha256,
  SignatureScheme.rsa_pss_pss_sha384,
  SignatureScheme.rsa_pss_pss_sha512,
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
];
/** Only legacy hosts may sign TLS 1.2 key exchanges with SHA-1. */
const LEGACY_SIGNATURE_SCHEMES: readonly number[] = [SignatureScheme.rsa_pkcs1_sha1, SignatureScheme.ecdsa_sha1];
/** RFC 8446 §4.4.3: TLS 1.3 CertificateVerify must not use PKCS#1 v1.5 or SHA-1. */
const TLS13_FORBIDDEN = new Set<number>([
  SignatureScheme.rsa_pkcs1_sha256,
  SignatureScheme.rsa_pkcs1_sha384,
  SignatureScheme.rsa_pkcs1_sha512,
  ...LEGACY_SIGNATURE_SCHEMES,
]);

export interface TlsClientOptions {
  /** The host as written in the URL: a DNS name (sent as SNI) or an IP literal (not sent, RFC 6066 §3). */
  serverName: string;
  /** ALPN protocols to offer (default `['http/1.1']`); an empty list sends no ALPN. */
  alpn?: readonly string[];
  /** Offer TLS 1.3 (default true). */
  tls13?: boolean;
  /** Offer TLS 1.2 (default true). */
  tls12?: boolean;
  /** Also offer legacy TLS 1.2: CBC suites, SHA-1 signatures, encrypt_then_mac (default false). */
  legacy?: boolean;
  /** Restrict / reorder the cipher suites offered (code points). */
  cipherSuites?: readonly number[];
  /** Groups for the first key share, in order (default x25519); all supported groups are listed. */
  keyShareGroups?: readonly number[];
  /** Randomness (default @noble's CSPRNG); tests pass fixed bytes. */
  random?: (n: number) => Uint8Array;
  /** Fixed ephemeral secrets per group (RFC 8448 traces). */
  keyShareSecrets?: ReadonlyMap<number, Uint8Array>;
  /** Where tickets are taken from and stored; keyed by {@link ticketKey}. */
  ticketCache?: TlsTicketCache;
  /** Cache key, normally `host:port` plus trust options (default the server name). */
  ticketKey?: string;
  /** Epoch milliseconds, for ticket ages (default `Date.now`). */
  now?: () => number;
  /** Receives SSLKEYLOGFILE lines (for a pcapng Decryption Secrets Block). */
  onKeyLog?: (line: string) => void;
}

/** What the caller must check before the handshake can go on. */
export interface VerificationRequest {
  serverName: string;
  /** DER certificates, leaf first. */
  chain: Uint8Array[];
  /** The server's proof of key possession: absent only when a legacy RSA key exchange has none. */
  signature?: { scheme: number; signedData: Uint8Array; signature: Uint8Array };
  /** TLS 1.3 binds ECDSA schemes to a curve (RFC 8446 §4.2.3); TLS 1.2 does not. */
  tls13: boolean;
  /** Legacy mode: SHA-1 signatures were offered (TLS 1.2 only). */
  legacy: boolean;
}

/** Teaching-view events, in order. */
export interface TlsEvent {
  kind:
    | 'client-hello'
    | 'hello-retry-request'
    | 'server-hello'
    | 'certificate'
    | 'certificate-verified'
    | 'certificate-refused'
    | 'established'
    | 'alert-sent'
    | 'alert-received'
    | 'key-update'
    | 'ticket';
  /** One line in plain words. */
  text: string;
  /**
   * The facts the teaching timeline draws: `sni`, `offered` ("TLS 1.3/TLS 1.2"), `alpn`, `version`,
   * `cipherSuite`, `group`, `resumed`, `alert`, and for the certificate `subject`, `issuer`, `verdict`.
   */
  detail?: Record<string, string | boolean>;
  /** Worth a warning (an `established` event of a connection that uses legacy TLS). */
  warn?: boolean;
}

export type TlsState = 'idle' | 'handshaking' | 'verifying' | 'open' | 'closed' | 'failed';

/** What was negotiated; complete once the state is `open`. */
export interface TlsSessionInfo {
  version?: 'TLS 1.3' | 'TLS 1.2';
  cipherSuite?: string;
  group?: string;
  alpn?: string;
  resumed: boolean;
  helloRetry: boolean;
  /** From the verifier (or, when resumed, from the ticket). */
  certificate?: unknown;
  extendedMasterSecret?: boolean;
  encryptThenMac?: boolean;
  /**
   * What this connection uses that only the per-host legacy opt-in allows, in plain words (RSA key
   * exchange, CBC, a SHA-1 signature, no extended master secret, no renegotiation_info); absent
   * when nothing legacy was used. The UI and CLI show it as a warning.
   */
  legacy?: string[];
}

/** Counted, never thrown: things we ignored. */
export interface TlsDropStats {
  changeCipherSpecIgnored: number;
  warningAlertsIgnored: number;
  renegotiationRefused: number;
  ticketsIgnored: number;
}

/** An internal fatal condition: the alert we send and the error the caller sees. */
class TlsFatal extends Error {
  constructor(
    readonly alert: number,
    readonly error: WgwebError,
  ) {
    super(error.message);
  }
}

type Phase13 = 'encrypted-extensions' | 'certificate' | 'certificate-verify' | 'finished' | 'done';
type Phase12 = 'certificate' | 'server-key-exchange' | 'server-hello-done' | 'ticket' | 'ccs' | 'finished' | 'done';

export class TlsClient {
  state: TlsState = 'idle';
  /** Why the connection failed (state `failed`), or what the peer's fatal alert was. */
  error: WgwebError | undefined;
  /** The server sent close_notify: {@link read} returns what is left, then nothing more comes. */
  peerClosed = false;
  readonly info: TlsSessionInfo = { resumed: false, helloRetry: false };
  readonly drops: TlsDropStats = { changeCipherSpecIgnored: 0, warningAlertsIgnored: 0, renegotiationRefused: 0, ticketsIgnored: 0 };
  /** Set in state `verifying`. */
  pendingVerification: VerificationRequest | undefined;

  private readonly o: Required<Pick<TlsClientOptions, 'alpn' | 'tls13' | 'tls12' | 'legacy'>> & TlsClientOptions;
  private readonly sni: string | undefined;
  private readonly random: (n: number) => Uint8Array;
  private readonly now: () => number;
  private readonly records = new RecordBuffer();
  private readonly handshakes = new HandshakeBuffer();
  private out: Uint8Array[] = [];
  private appIn: Uint8Array[] = [];
  private events: TlsEvent[] = [];
  private transcript: Uint8Array[] = [];
  private readCipher: RecordCipher | undefined;
  private writeCipher: RecordCipher | undefined;
  private recordVersionOut = 0x0301;
  /** Largest plaintext per record we send (RFC 8449 record_size_limit from the server). */
  private maxFragmentOut = MAX_PLAINTEXT;

  private clientRandom!: Uint8Array;
  private sessionId!: Uint8Array;
  private offered: CipherSuite[] = [];
  private keyShares: KeyShare[] = [];
  private suite: CipherSuite | undefined;
  private serverHelloSeen = false;
  private retried = false;
  private version: number | undefined;
  private offeredTicket: SessionTicket | undefined;

  // TLS 1.3
  private phase13: Phase13 = 'encrypted-extensions';
  private schedule: Tls13KeySchedule | undefined;
  private clientHsSecret: Uint8Array | undefined;
  private serverHsSecret: Uint8Array | undefined;
  private clientAppSecret: Uint8Array | undefined;
  private serverAppSecret: Uint8Array | undefined;
  private resumptionSecret: Uint8Array | undefined;
  private certRequestContext: Uint8Array | undefined;
  private serverChain: Uint8Array[] = [];
  private pskAccepted = false;

  // TLS 1.2
  private phase12: Phase12 = 'certificate';
  private serverRandom!: Uint8Array;
  private masterSecret: Uint8Array | undefined;
  private ems = false;
  private etm = false;
  private serverKx: { group: number; publicKey: Uint8Array } | undefined;
  private certRequested12 = false;
  private expectTicket12 = false;
  private pendingReadCipher12: RecordCipher | undefined;
  private resuming12 = false;
  private pendingTicket12: { lifetime: number; ticket: Uint8Array } | undefined;

  constructor(options: TlsClientOptions) {
    if (!options || typeof options.serverName !== 'string' || options.serverName === '') throw new TypeError('TlsClient needs a serverName');
    this.o = { alpn: ['http/1.1'], tls13: true, tls12: true, legacy: false, ...options };
    if (!this.o.tls13 && !this.o.tls12) throw new RangeError('TlsClient: enable at least one of tls13 and tls12');
    const host = options.serverName.replace(/^\[|\]$/g, '');
    // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName"; no trailing dot.
    this.sni = tryParseIp(host) ? undefined : host.replace(/\.$/, '').toLowerCase();
    this.random = options.random ?? ((n) => randomBytes(n));
    this.now = options.now ?? (() => Date.now());
  }

  /** The server name as given (for messages and the verifier). */
  get serverName(): string {
    return this.o.serverName;
  }

  /** True once the handshake completed and application data may flow. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Queues the ClientHello. */
  start(): void {
    if (this.state !== 'idle') throw new Error('TlsClient.start called twice');
    this.state = 'handshaking';
    this.clientRandom = this.random(32);
    // RFC 8446 §D.4 middlebox compatibility: a non-empty legacy_session_id.
    this.sessionId = this.random(32);
    this.offered = offeredSuites({ tls13: this.o.tls13, tls12: this.o.tls12, legacy: this.o.legacy });
    if (this.o.cipherSuites) {
      const want = this.o.cipherSuites;
      this.offered = want.map((id) => this.offered.find((s) => s.id === id)).filter((s): s is CipherSuite => s !== undefined);
      if (this.offered.length === 0) throw new RangeError('TlsClient: none of the requested cipher suites is available');
    }
    const first = this.o.keyShareGroups ?? [NamedGroup.x25519];
    this.keyShares = this.o.tls13 ? first.map((g) => generateKeyShare(g, this.o.keyShareSecrets?.get(g))) : [];
    if (this.o.ticketCache) this.offeredTicket = this.o.ticketCache.take(this.ticketKey, this.now());
    if (this.offeredTicket && !this.offered.some((s) => s.id === this.offeredTicket!.cipherSuite)) this.offeredTicket = undefined;
    if (this.offeredTicket?.version === 'tls13' && !this.o.tls13) this.offeredTicket = undefined;
    this.sendClientHello();
  }

  private get ticketKey(): string {
    return this.o.ticketKey ?? this.o.serverName;
  }

  /** Feeds bytes received from the server (taken over, not copied). Never throws for their content. */
  receive(bytes: Uint8Array): void {
    this.buffer(bytes);
    this.process();
  }

  /**
   * Keeps bytes from the server without processing them yet; {@link process} does. Lets an adapter
   * open the complete records ahead ({@link recordsToPreopen}) between the two.
   */
  buffer(bytes: Uint8Array): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.records.push(bytes);
  }

  /** Processes what {@link buffer} kept. Never throws for its content. */
  process(): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.pump();
  }

  /**
   * Once open: the complete records waiting and the cipher that will open them, for
   * `cipher.preopen(records)` (asynchronous AES-GCM on WebCrypto). Undefined when there is nothing
   * to gain (not open, a cipher without preopen, no complete record).
   */
  recordsToPreopen(): { cipher: RecordCipher & Required<Pick<RecordCipher, 'preopen'>>; records: { type: number; body: Uint8Array }[] } | undefined {
    const cipher = this.readCipher;
    if (this.state !== 'open' || !cipher?.preopen) return undefined;
    let records: { type: number; body: Uint8Array }[];
    try {
      records = this.records.peekComplete();
    } catch {
      return undefined;
    }
    return records.length ? { cipher: cipher as RecordCipher & Required<Pick<RecordCipher, 'preopen'>>, records } : undefined;
  }

  /**
   * The server closed its side of the TCP connection. During the handshake that is a failure; once
   * open without close_notify it is a truncation the caller may tolerate (HTTP framing decides).
   */
  receiveEnd(): void {
    if (this.state === 'handshaking' || this.state === 'verifying' || this.state === 'idle') {
      const partial = this.records.pending > 0 ? ' in the middle of a record' : '';
      this.failWith(
        new WgwebError(
          ErrorCode.TLS_HANDSHAKE_FAILED,
          `the server ${this.o.serverName} closed the connection during the TLS handshake${partial} (is this port speaking TLS? does the server accept TLS 1.2/1.3 clients without a certificate?)`,
          { serverName: this.o.serverName, reason: 'closed' },
        ),
        undefined,
      );
    } else if (this.state === 'open') {
      this.peerClosed = true;
    }
  }

  /** Bytes to send to the server, concatenated; undefined when there is nothing. */
  takeOutput(): Uint8Array | undefined {
    if (this.out.length === 0) return undefined;
    const b = this.out.length === 1 ? this.out[0]! : concatBytes(...this.out);
    this.out = [];
    return b;
  }

  /** Decrypted application data received so far; undefined when none is waiting. */
  read(): Uint8Array | undefined {
    if (this.appIn.length === 0) return undefined;
    const b = this.appIn.length === 1 ? this.appIn[0]! : concatBytes(...this.appIn);
    this.appIn = [];
    return b;
  }

  /** Events since the last call. */
  takeEvents(): TlsEvent[] {
    const e = this.events;
    this.events = [];
    return e;
  }

  /** Encrypts application data (state `open` only). */
  write(data: Uint8Array): void {
    if (this.state !== 'open') throw new Error(`cannot write TLS application data in state ${this.state}`);
    for (let off = 0; off < data.length; off += this.maxFragmentOut) {
      this.out.push(this.writeCipher!.seal(ContentType.applicationData, data.subarray(off, Math.min(data.length, off + this.maxFragmentOut))));
    }
  }

  /** Sends close_notify (RFC 8446 §6.1); no more writes after it. */
  close(): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    this.sendAlert(1, AlertDescription.closeNotify);
    this.state = 'closed';
  }

  /** TLS 1.3: rolls our sending keys forward, optionally asking the server to do the same (RFC 8446 §4.6.3). */
  updateKeys(requestPeerUpdate = false): void {
    if (this.state !== 'open' || this.version !== TLS13) throw new Error('KeyUpdate needs an open TLS 1.3 connection');
    this.sendHandshake(HandshakeType.keyUpdate, Uint8Array.of(requestPeerUpdate ? 1 : 0), false);
    this.rollWriteKey();
  }

  /**
   * Resumes after {@link VerificationRequest}: `undefined` when the chain and signature are good
   * (with `certificate` as the summary to report), else the verifier's error.
   */
  completeVerification(result: { error: WgwebError } | { certificate?: unknown }): void {
    if (this.state !== 'verifying') throw new Error('completeVerification without a pending verification');
    this.pendingVerification = undefined;
    if ('error' in result) {
      this.failWith(result.error, alertForCertificateError(result.error));
      return;
    }
    this.info.certificate = result.certificate;
    this.state = 'handshaking';
    try {
      if (this.version === TLS13) this.phase13 = 'finished';
      else this.phase12Continue();
    } catch (e) {
      this.failFrom(e);
      return;
    }
    this.pump();
  }

  // ────────────────────────────── input ──────────────────────────────

  private pump(): void {
    try {
      for (;;) {
        if (this.state === 'verifying' || this.state === 'failed') return;
        // Handshake messages already reassembled go first.
        if (this.drainHandshakes()) continue;
        if (this.isPaused()) return;
        const rec = this.records.next();
        if (!rec) return;
        this.onRecord(rec.type, rec.body);
      }
    } catch (e) {
      this.failFrom(e);
    }
  }

  /** Re-reads the state (TypeScript narrows it across the calls above otherwise). */
  private isPaused(): boolean {
    return this.state === 'verifying' || this.state === 'failed';
  }

  private onRecord(type: number, body: Uint8Array): void {
    if (type === ContentType.changeCipherSpec) {
      // RFC 8446 §5: in TLS 1.3 a CCS of one byte 0x01 is ignored during the handshake.
      if (body.length !== 1 || body[0] !== 1) throw new TlsDecodeError('malformed change_cipher_spec', 10);
      if (this.version === TLS12 && this.phase12 === 'ccs') {
        if (!this.handshakes.empty) throw new TlsDecodeError('change_cipher_spec in the middle of a handshake message', 10);
        this.readCipher = this.pendingReadCipher12;
        this.phase12 = 'finished';
        return;
      }
      if (this.version !== TLS12 && this.state === 'handshaking') {
        this.drops.changeCipherSpecIgnored++;
        return;
      }
      throw new TlsDecodeError('unexpected change_cipher_spec', 10);
    }
    let plain = { type, data: body };
    if (this.readCipher) {
      const opened = this.readCipher.open(type, body);
      if (!opened) throw new TlsDecodeError('a record failed authentication (bad_record_mac)', AlertDescription.badRecordMac);
      plain = opened;
      if (plain.data.length > MAX_PLAINTEXT + (this.version === TLS13 ? 0 : 1024)) throw new TlsDecodeError('a decrypted record is longer than 2^14 bytes', 22);
    } else if (type === ContentType.applicationData) {
      throw new TlsDecodeError('application data before the handshake finished', 10);
    }
    switch (plain.type) {
      case ContentType.alert:
        this.onAlert(plain.data);
        return;
      case ContentType.handshake:
        if (plain.data.length === 0) throw new TlsDecodeError('an empty handshake record', 10);
        this.handshakes.push(plain.data);
        return;
      case ContentType.applicationData:
        if (this.state !== 'open') throw new TlsDecodeError('application data before the handshake finished', 10);
        if (!this.handshakes.empty) throw new TlsDecodeError('application data in the middle of a handshake message', 10);
        if (plain.data.length) this.appIn.push(plain.data.slice());
        return;
      default:
        throw new TlsDecodeError(`a record of content type ${plain.type} inside the encryption`, 10);
    }
  }

  private onAlert(data: Uint8Array): void {
    if (data.length !== 2) throw new TlsDecodeError('a malformed alert', 50);
    const level = data[0]!;
    const desc = data[1]!;
    if (desc !== AlertDescription.closeNotify) {
      this.events.push({ kind: 'alert-received', text: `TLS alert from the server: ${alertName(desc)}${level === 1 ? ' (warning)' : ''}`, detail: { alert: alertName(desc), fatal: level !== 1 } });
    }
    if (desc === AlertDescription.closeNotify) {
      if (this.state === 'open' || this.state === 'closed') {
        this.peerClosed = true;
        return;
      }
      throw new TlsFatal(-1, handshakeError(this.o.serverName, 'closed the TLS connection (close_notify) before the handshake finished', 'close_notify'));
    }
    // RFC 8446 §6: in TLS 1.3 every alert but close_notify/user_canceled is fatal; TLS 1.2 warnings are ignored.
    if (desc === AlertDescription.userCanceled || (level === 1 && this.version !== TLS13)) {
      this.drops.warningAlertsIgnored++;
      return;
    }
    throw new TlsFatal(-1, alertError(this.o.serverName, desc, this.state === 'open'));
  }

  /** Processes whole handshake messages; true when one was handled. */
  private drainHandshakes(): boolean {
    const m = this.handshakes.next();
    if (!m) return false;
    this.onHandshake(m.type, m.body, m.raw);
    return true;
  }

  private onHandshake(type: number, body: Uint8Array, raw: Uint8Array): void {
    if (!this.serverHelloSeen) {
      if (type !== HandshakeType.serverHello) throw unexpected(type, 'ServerHello');
      this.onServerHello(body, raw);
      return;
    }
    if (this.version === TLS13) this.onHandshake13(type, body, raw);
    else this.onHandshake12(type, body, raw);
  }

  // ────────────────────────────── ClientHello / ServerHello ──────────────────────────────

  private schemes(): number[] {
    return this.o.legacy ? [...SIGNATURE_SCHEMES, ...LEGACY_SIGNATURE_SCHEMES] : [...SIGNATURE_SCHEMES];
  }

  private sendClientHello(cookie?: Uint8Array): void {
    const ticket = this.offeredTicket;
    const t13 = ticket?.version === 'tls13' ? ticket : undefined;
    const t12 = ticket?.version === 'tls12' ? ticket : undefined;
    const pskSuite = t13 ? cipherSuite(t13.cipherSuite)! : undefined;
    // RFC 8446 §4.2.11: after a HelloRetryRequest, keep the PSK only when its hash matches the suite.
    const keepPsk = t13 && (!this.suite || this.suite.hash === pskSuite!.hash);
    const { body, binderOffset } = emitClientHello({
      random: this.clientRandom,
      sessionId: t12 && !this.retried ? (this.sessionId = this.random(32)) : this.sessionId,
      cipherSuites: this.retried && this.suite ? [this.suite.id, ...this.offered.filter((s) => s !== this.suite).map((s) => s.id)] : this.offered.map((s) => s.id),
      serverName: this.sni,
      groups: SUPPORTED_GROUPS,
      keyShares: this.keyShares.map((k) => ({ group: k.group, publicKey: k.publicKey })),
      signatureSchemes: this.schemes(),
      alpn: this.o.alpn,
      tls13: this.o.tls13,
      tls12: this.o.tls12 && !this.retried,
      sessionTicket: t12?.ticket,
      encryptThenMac: this.o.legacy,
      recordSizeLimit: MAX_PLAINTEXT + (this.o.tls13 ? 1 : 0),
      cookie,
      psk: keepPsk
        ? { identity: t13!.ticket, obfuscatedAge: ((this.now() - t13!.receivedAt + t13!.ageAdd) >>> 0) % 0x100000000, binderLength: pskSuite!.hash.outputLen }
        : undefined,
    });
    const msg = emitHandshake(HandshakeType.clientHello, body);
    if (keepPsk && binderOffset !== undefined) {
      // RFC 8446 §4.2.11.2: the binder MACs the transcript up to (not including) the binders list.
      const hash = pskSuite!.hash;
      const truncated = msg.subarray(0, 4 + binderOffset - 3);
      const binderKey = new Tls13KeySchedule(hash, t13!.psk).resumptionBinderKey();
      const th = hash.create();
      for (const t of this.transcript) th.update(t);
      th.update(truncated);
      msg.set(finishedVerifyData(hash, binderKey, th.digest()), 4 + binderOffset);
    } else if (t13) {
      this.offeredTicket = undefined;
    }
    this.transcript.push(msg);
    this.out.push(emitRecord(ContentType.handshake, this.recordVersionOut, msg));
    this.recordVersionOut = TLS12;
    const what = [this.sni ? `SNI ${this.sni}` : 'no SNI (IP address)', this.o.alpn.length ? `ALPN ${this.o.alpn.join(',')}` : '', this.keyShares.length ? `key share ${this.keyShares.map((k) => groupName(k.group)).join(',')}` : ''].filter(Boolean);
    const offeredVersions = `${this.o.tls13 ? 'TLS 1.3' : ''}${this.o.tls13 && this.o.tls12 ? '/' : ''}${this.o.tls12 ? 'TLS 1.2' : ''}`;
    this.events.push({
      kind: 'client-hello',
      text: `ClientHello${this.retried ? ' (retry)' : ''}: ${offeredVersions}, ${this.offered.length} cipher suites, ${what.join(', ')}${ticket ? ', resuming a session' : ''}`,
      detail: {
        ...(this.sni ? { sni: this.sni } : {}),
        offered: offeredVersions,
        ...(this.o.alpn.length ? { alpn: this.o.alpn.join(',') } : {}),
        ...(this.retried ? { retry: true } : {}),
        ...(ticket ? { resuming: true } : {}),
      },
    });
  }

  private onServerHello(body: Uint8Array, raw: Uint8Array): void {
    const sh = parseServerHello(body);
    if (sh.version === TLS13 && this.o.tls13) {
      if (sh.legacyVersion !== TLS12) throw new TlsDecodeError('TLS 1.3 ServerHello with a legacy_version other than 1.2', 47);
      this.onServerHello13(sh, raw);
      return;
    }
    if (sh.version === TLS12 && this.o.tls12 && !this.retried && !sh.extensions.has(ExtensionType.supportedVersions)) {
      this.onServerHello12(sh, raw);
      return;
    }
    throw new TlsFatal(
      AlertDescription.protocolVersion,
      new WgwebError(
        ErrorCode.TLS_PROTOCOL_VERSION,
        `the server ${this.o.serverName} chose ${versionName(sh.version)}, which wgweb does not speak (it offers ${this.o.tls13 ? 'TLS 1.3' : ''}${this.o.tls13 && this.o.tls12 ? ' and ' : ''}${this.o.tls12 ? 'TLS 1.2' : ''}); update the server's TLS settings`,
        { serverName: this.o.serverName, version: sh.version },
      ),
    );
  }

  private checkEcho(sh: ServerHello): void {
    if (!constantTimeEqual(sh.sessionId, this.sessionId)) throw new TlsDecodeError('the ServerHello does not echo our legacy_session_id', 47);
  }

  private chooseSuite(id: number, version: 'tls13' | 'tls12'): CipherSuite {
    const s = this.offered.find((c) => c.id === id && c.version === version);
    if (!s) throw new TlsDecodeError(`the server chose cipher suite 0x${id.toString(16).padStart(4, '0')}, which was not offered`, 47);
    return s;
  }

  private onServerHello13(sh: ServerHello, raw: Uint8Array): void {
    this.checkEcho(sh);
    const suite = this.chooseSuite(sh.cipherSuite, 'tls13');
    if (this.suite && this.suite !== suite) throw new TlsDecodeError('the ServerHello cipher suite differs from the HelloRetryRequest', 47);
    this.suite = suite;
    this.version = TLS13;
    if (sh.isHelloRetryRequest) {
      if (this.retried) throw new TlsDecodeError('a second HelloRetryRequest', 10);
      this.retried = true;
      this.info.helloRetry = true;
      const ksData = sh.extensions.get(ExtensionType.keyShare);
      const cookie = sh.extensions.get(ExtensionType.cookie);
      let parsedCookie: Uint8Array | undefined;
      if (cookie) parsedCookie = new TlsReader(cookie, 'cookie').vector(2, 1).slice();
      if (!ksData && !parsedCookie) throw new TlsDecodeError('a HelloRetryRequest that would not change the ClientHello', 47);
      if (ksData) {
        const { group } = parseServerKeyShare(ksData, true);
        // RFC 8446 §4.2.8: the group must be one we support and not one we already sent a share for.
        if (!SUPPORTED_GROUPS.includes(group) || this.keyShares.some((k) => k.group === group)) {
          throw new TlsDecodeError(`the HelloRetryRequest asks for ${groupName(group)}, which is unsupported or already offered`, 47);
        }
        this.keyShares = [generateKeyShare(group, this.o.keyShareSecrets?.get(group))];
      }
      // RFC 8446 §4.4.1: the first ClientHello is replaced by message_hash(Hash(ClientHello1)).
      const ch1Hash = suite.hash(this.transcript[0]!);
      this.transcript = [concatBytes(Uint8Array.of(HandshakeType.messageHash, 0, 0, ch1Hash.length), ch1Hash), raw];
      const wanted = ksData ? groupName(parseServerKeyShare(ksData, true).group) : undefined;
      this.events.push({
        kind: 'hello-retry-request',
        text: `HelloRetryRequest: the server wants ${wanted ? `a ${wanted} key share` : 'its cookie back'}`,
        detail: { version: 'TLS 1.3', cipherSuite: suite.name, ...(wanted ? { group: wanted } : {}) },
      });
      // RFC 8446 §D.4: a compatibility CCS before the second flight.
      this.out.push(emitRecord(ContentType.changeCipherSpec, TLS12, Uint8Array.of(1)));
      this.sendClientHello(parsedCookie);
      return;
    }
    this.serverHelloSeen = true;
    this.serverRandom = sh.random.slice();
    this.transcript.push(raw);
    const ksData = sh.extensions.get(ExtensionType.keyShare);
    const pskData = sh.extensions.get(ExtensionType.preSharedKey);
    let psk: Uint8Array | undefined;
    if (pskData) {
      const r = new TlsReader(pskData, 'pre_shared_key');
      const selected = r.u16();
      r.end();
      const t = this.offeredTicket;
      if (selected !== 0 || t?.version !== 'tls13' || cipherSuite(t.cipherSuite)!.hash !== suite.hash) throw new TlsDecodeError('the server selected a PSK we did not offer', 47);
      psk = t.psk;
      this.pskAccepted = true;
      this.info.resumed = true;
      this.info.certificate = t.certificate;
    }
    if (!ksData) throw new TlsDecodeError('a TLS 1.3 ServerHello without key_share (psk_ke is not offered)', AlertDescription.missingExtension);
    const ks = parseServerKeyShare(ksData, false);
    const mine = this.keyShares.find((k) => k.group === ks.group);
    if (!mine) throw new TlsDecodeError(`the server answered with a ${groupName(ks.group)} key share we did not send`, 47);
    const shared = mine.agree(ks.publicKey!);
    this.info.group = groupName(ks.group);
    this.info.version = 'TLS 1.3';
    this.info.cipherSuite = suite.name;
    const schedule = new Tls13KeySchedule(suite.hash, psk);
    schedule.enterHandshake(shared);
    this.schedule = schedule;
    const th = this.transcriptHash();
    this.clientHsSecret = schedule.derive('c hs traffic', th);
    this.serverHsSecret = schedule.derive('s hs traffic', th);
    this.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', this.clientHsSecret);
    this.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', this.serverHsSecret);
    const sk = trafficKeys(suite.hash, this.serverHsSecret, suite.keyLength, suite.ivLength);
    this.readCipher = new Tls13RecordCipher(suite, sk.key, sk.iv);
    this.records.maxBody = MAX_CIPHERTEXT_13;
    this.phase13 = 'encrypted-extensions';
    this.events.push({
      kind: 'server-hello',
      text: `ServerHello: TLS 1.3, ${suite.name}, ${groupName(ks.group)}${this.pskAccepted ? ', session resumed' : ''}`,
      detail: { version: 'TLS 1.3', cipherSuite: suite.name, group: groupName(ks.group), resumed: this.pskAccepted },
    });
  }

  private onServerHello12(sh: ServerHello, raw: Uint8Array): void {
    if (this.o.tls13) {
      // RFC 8446 §4.1.3: a 1.3-capable server negotiating lower must set a sentinel; we offered 1.3.
      const tail = sh.random.subarray(24);
      if (constantTimeEqual(tail, DOWNGRADE_TLS12) || constantTimeEqual(tail, DOWNGRADE_TLS11)) {
        throw new TlsFatal(
          AlertDescription.illegalParameter,
          handshakeError(this.o.serverName, 'signalled a downgrade from TLS 1.3 (something between wgweb and the server interfered with the handshake)', 'downgrade'),
        );
      }
    }
    const suite = this.chooseSuite(sh.cipherSuite, 'tls12');
    this.suite = suite;
    this.version = TLS12;
    this.serverHelloSeen = true;
    this.serverRandom = sh.random.slice();
    this.info.version = 'TLS 1.2';
    this.info.cipherSuite = suite.name;
    if (suite.kx === 'rsa') this.noteLegacy('RSA key exchange (no forward secrecy)');
    if (suite.cipher.endsWith('cbc')) this.noteLegacy('CBC encryption');
    const ext = sh.extensions;
    for (const t of ext.keys()) {
      if (![ExtensionType.serverName, ExtensionType.ecPointFormats, ExtensionType.alpn, ExtensionType.extendedMasterSecret, ExtensionType.renegotiationInfo, ExtensionType.sessionTicket, ExtensionType.encryptThenMac, ExtensionType.recordSizeLimit, ExtensionType.statusRequest, ExtensionType.maxFragmentLength].includes(t as never)) {
        throw new TlsDecodeError(`the server sent extension ${t}, which we did not ask for`, AlertDescription.unsupportedExtension);
      }
    }
    const reneg = ext.get(ExtensionType.renegotiationInfo);
    if (reneg && !(reneg.length === 1 && reneg[0] === 0)) throw new TlsFatal(AlertDescription.handshakeFailure, handshakeError(this.o.serverName, 'sent a non-empty renegotiation_info on the initial handshake (RFC 5746 §3.4)', 'renegotiation_info'));
    if (!reneg && !this.o.legacy) {
      throw new TlsFatal(AlertDescription.handshakeFailure, handshakeError(this.o.serverName, 'does not support secure renegotiation (RFC 5746); enable legacy TLS for this host if it is an old appliance you trust', 'renegotiation_info'));
    }
    if (!reneg) this.noteLegacy('no secure renegotiation');
    this.ems = ext.has(ExtensionType.extendedMasterSecret);
    if (!this.ems) this.noteLegacy('no extended master secret');
    if (!this.ems && !this.o.legacy) {
      throw new TlsFatal(AlertDescription.handshakeFailure, handshakeError(this.o.serverName, 'does not support the extended master secret (RFC 7627); enable legacy TLS for this host if it is an old appliance you trust', 'extended_master_secret'));
    }
    this.etm = ext.has(ExtensionType.encryptThenMac) && suite.cipher.endsWith('cbc');
    this.info.extendedMasterSecret = this.ems;
    this.info.encryptThenMac = this.etm;
    const alpn = ext.get(ExtensionType.alpn);
    if (alpn) this.acceptAlpn(parseAlpn(alpn));
    const rsl = ext.get(ExtensionType.recordSizeLimit);
    if (rsl) this.maxFragmentOut = Math.min(MAX_PLAINTEXT, parseRecordSizeLimit(rsl));
    this.expectTicket12 = ext.has(ExtensionType.sessionTicket);
    this.transcript.push(raw);
    const t12 = this.offeredTicket?.version === 'tls12' ? this.offeredTicket : undefined;
    if (t12 && sh.sessionId.length > 0 && constantTimeEqual(sh.sessionId, this.sessionId)) {
      // RFC 5077 §3.4: the server echoed our session ID: it accepted the ticket (abbreviated handshake).
      if (t12.cipherSuite !== suite.id || t12.extendedMasterSecret !== this.ems) throw new TlsDecodeError('the resumed session does not match the ticket', 47);
      this.resuming12 = true;
      this.masterSecret = t12.masterSecret;
      this.info.resumed = true;
      this.info.certificate = t12.certificate;
      this.keyLog('CLIENT_RANDOM', this.masterSecret);
      this.installKeys12();
      this.phase12 = this.expectTicket12 ? 'ticket' : 'ccs';
    } else {
      this.phase12 = 'certificate';
    }
    this.events.push({
      kind: 'server-hello',
      text: `ServerHello: TLS 1.2, ${suite.name}${this.resuming12 ? ', session resumed' : ''}${this.ems ? '' : ', no extended master secret'}`,
      detail: { version: 'TLS 1.2', cipherSuite: suite.name, resumed: this.resuming12 },
    });
  }

  private acceptAlpn(p: string): void {
    if (!this.o.alpn.includes(p)) throw new TlsFatal(AlertDescription.illegalParameter, handshakeError(this.o.serverName, `chose the application protocol "${p}", which was not offered`, 'alpn'));
    this.info.alpn = p;
  }

  // ────────────────────────────── TLS 1.3 ──────────────────────────────

  private onHandshake13(type: number, body: Uint8Array, raw: Uint8Array): void {
    const suite = this.suite!;
    if (this.state === 'open') {
      this.onPostHandshake13(type, body);
      return;
    }
    switch (this.phase13) {
      case 'encrypted-extensions': {
        if (type !== HandshakeType.encryptedExtensions) throw unexpected(type, 'EncryptedExtensions');
        const ext = parseExtensions(new TlsReader(body, 'EncryptedExtensions'));
        for (const t of ext.keys()) {
          if (t === ExtensionType.keyShare || t === ExtensionType.supportedVersions || t === ExtensionType.preSharedKey || t === ExtensionType.signatureAlgorithms) {
            throw new TlsDecodeError(`extension ${t} is not allowed in EncryptedExtensions`, AlertDescription.illegalParameter);
          }
        }
        const alpn = ext.get(ExtensionType.alpn);
        if (alpn) this.acceptAlpn(parseAlpn(alpn));
        const rsl = ext.get(ExtensionType.recordSizeLimit);
        // RFC 8449 §4: in TLS 1.3 the limit counts the inner content type byte.
        if (rsl) this.maxFragmentOut = Math.min(MAX_PLAINTEXT, parseRecordSizeLimit(rsl) - 1);
        this.transcript.push(raw);
        this.phase13 = this.pskAccepted ? 'finished' : 'certificate';
        return;
      }
      case 'certificate': {
        if (type === HandshakeType.certificateRequest && this.certRequestContext === undefined) {
          this.certRequestContext = parseCertificateRequest13(body).context;
          this.transcript.push(raw);
          return;
        }
        if (type !== HandshakeType.certificate) throw unexpected(type, 'Certificate');
        const { context, chain } = parseCertificateMessage(body, true);
        if (context.length) throw new TlsDecodeError('a server Certificate with a request context', 47);
        if (chain.length === 0) throw new TlsFatal(AlertDescription.decodeError, handshakeError(this.o.serverName, 'sent no certificate', 'no_certificate'));
        this.serverChain = chain;
        this.transcript.push(raw);
        this.events.push({ kind: 'certificate', text: `Certificate: a chain of ${chain.length} certificate${chain.length === 1 ? '' : 's'} (${chain.reduce((n, c) => n + c.length, 0)} bytes)` });
        this.phase13 = 'certificate-verify';
        return;
      }
      case 'certificate-verify': {
        if (type !== HandshakeType.certificateVerify) throw unexpected(type, 'CertificateVerify');
        const { scheme, signature } = parseCertificateVerify(body);
        if (!SIGNATURE_SCHEMES.includes(scheme) || TLS13_FORBIDDEN.has(scheme)) {
          throw new TlsDecodeError(`CertificateVerify uses signature scheme 0x${scheme.toString(16)}, which was not offered`, AlertDescription.illegalParameter);
        }
        const signedData = certificateVerifyContent(this.transcriptHash());
        this.transcript.push(raw);
        this.state = 'verifying';
        this.pendingVerification = { serverName: this.o.serverName, chain: this.serverChain, signature: { scheme, signedData, signature }, tls13: true, legacy: false };
        return;
      }
      case 'finished': {
        if (type !== HandshakeType.finished) throw unexpected(type, 'Finished');
        const expected = finishedVerifyData(suite.hash, this.serverHsSecret!, this.transcriptHash());
        if (!constantTimeEqual(expected, body)) {
          throw new TlsFatal(AlertDescription.decryptError, handshakeError(this.o.serverName, "sent a Finished message that does not match the handshake (the handshake was tampered with, or a key schedule bug)", 'finished'));
        }
        this.transcript.push(raw);
        // RFC 8446 §7.1: application secrets from the transcript through the server Finished.
        this.schedule!.enterMaster();
        const th = this.transcriptHash();
        this.clientAppSecret = this.schedule!.derive('c ap traffic', th);
        this.serverAppSecret = this.schedule!.derive('s ap traffic', th);
        this.keyLog('CLIENT_TRAFFIC_SECRET_0', this.clientAppSecret);
        this.keyLog('SERVER_TRAFFIC_SECRET_0', this.serverAppSecret);
        // Our second flight goes out under the client handshake keys.
        if (!this.retried) this.out.push(emitRecord(ContentType.changeCipherSpec, TLS12, Uint8Array.of(1)));
        const ck = trafficKeys(suite.hash, this.clientHsSecret!, suite.keyLength, suite.ivLength);
        this.writeCipher = new Tls13RecordCipher(suite, ck.key, ck.iv);
        if (this.certRequestContext !== undefined) {
          // No client certificate: an empty list echoing the request context (RFC 8446 §4.4.2).
          this.sendHandshake(HandshakeType.certificate, new TlsWriter().vector(1, this.certRequestContext).u24(0).finish(), true);
        }
        this.sendHandshake(HandshakeType.finished, finishedVerifyData(suite.hash, this.clientHsSecret!, this.transcriptHash()), true);
        this.resumptionSecret = this.schedule!.derive('res master', this.transcriptHash());
        const sk = trafficKeys(suite.hash, this.serverAppSecret, suite.keyLength, suite.ivLength);
        this.readCipher = new Tls13RecordCipher(suite, sk.key, sk.iv);
        const cak = trafficKeys(suite.hash, this.clientAppSecret, suite.keyLength, suite.ivLength);
        this.writeCipher = new Tls13RecordCipher(suite, cak.key, cak.iv);
        this.phase13 = 'done';
        this.established();
        return;
      }
      default:
        throw unexpected(type, 'nothing');
    }
  }

  private onPostHandshake13(type: number, body: Uint8Array): void {
    const suite = this.suite!;
    switch (type) {
      case HandshakeType.newSessionTicket: {
        const t = parseNewSessionTicket13(body);
        // RFC 8446 §4.6.1: lifetime at most 7 days; 0 means do not cache.
        if (!this.o.ticketCache || t.lifetime === 0 || t.lifetime > 604800) {
          this.drops.ticketsIgnored++;
          return;
        }
        this.o.ticketCache.put(this.ticketKey, {
          version: 'tls13',
          cipherSuite: suite.id,
          ticket: t.ticket,
          psk: ticketPsk(suite.hash, this.resumptionSecret!, t.nonce),
          ageAdd: t.ageAdd,
          receivedAt: this.now(),
          lifetimeSeconds: t.lifetime,
          certificate: this.info.certificate,
        });
        this.events.push({ kind: 'ticket', text: `NewSessionTicket: the next connection can resume (valid ${t.lifetime} s)` });
        return;
      }
      case HandshakeType.keyUpdate: {
        const { updateRequested } = parseKeyUpdate(body);
        // RFC 8446 §4.6.3: the server's keys move on; answer a request with our own update.
        this.serverAppSecret = nextTrafficSecret(suite.hash, this.serverAppSecret!);
        const k = trafficKeys(suite.hash, this.serverAppSecret, suite.keyLength, suite.ivLength);
        this.readCipher = new Tls13RecordCipher(suite, k.key, k.iv);
        this.events.push({ kind: 'key-update', text: `KeyUpdate from the server${updateRequested ? ' (asks us to update too)' : ''}` });
        if (updateRequested) {
          this.sendHandshake(HandshakeType.keyUpdate, Uint8Array.of(0), false);
          this.rollWriteKey();
        }
        return;
      }
      case HandshakeType.certificateRequest:
        // Post-handshake authentication was not offered (no post_handshake_auth extension).
        throw new TlsDecodeError('a post-handshake CertificateRequest although we did not offer post_handshake_auth', 10);
      default:
        throw unexpected(type, 'NewSessionTicket or KeyUpdate');
    }
  }

  private rollWriteKey(): void {
    const suite = this.suite!;
    this.clientAppSecret = nextTrafficSecret(suite.hash, this.clientAppSecret!);
    const k = trafficKeys(suite.hash, this.clientAppSecret, suite.keyLength, suite.ivLength);
    this.writeCipher = new Tls13RecordCipher(suite, k.key, k.iv);
  }

  // ────────────────────────────── TLS 1.2 ──────────────────────────────

  private onHandshake12(type: number, body: Uint8Array, raw: Uint8Array): void {
    if (this.state === 'open') {
      if (type === HandshakeType.helloRequest && body.length === 0) {
        // RFC 5746 §4.2 / RFC 5246 §7.4.1.1: refuse renegotiation with a warning.
        this.drops.renegotiationRefused++;
        this.sendAlert(1, AlertDescription.noRenegotiation);
        return;
      }
      throw unexpected(type, 'nothing (the TLS 1.2 handshake is over)');
    }
    if (type === HandshakeType.helloRequest) {
      // RFC 5246 §7.4.1.1: ignored during a handshake; not part of the transcript.
      return;
    }
    switch (this.phase12) {
      case 'certificate': {
        if (type !== HandshakeType.certificate) throw unexpected(type, 'Certificate');
        const { chain } = parseCertificateMessage(body, false);
        if (chain.length === 0) throw new TlsFatal(AlertDescription.decodeError, handshakeError(this.o.serverName, 'sent no certificate', 'no_certificate'));
        this.serverChain = chain;
        this.transcript.push(raw);
        this.events.push({ kind: 'certificate', text: `Certificate: a chain of ${chain.length} certificate${chain.length === 1 ? '' : 's'} (${chain.reduce((n, c) => n + c.length, 0)} bytes)` });
        if (this.suite!.kx === 'rsa') {
          // RFC 5246 §7.4.3: no ServerKeyExchange with RSA key exchange; the chain is checked before
          // the premaster secret is encrypted to its key.
          this.state = 'verifying';
          this.pendingVerification = { serverName: this.o.serverName, chain, tls13: false, legacy: this.o.legacy };
          this.phase12 = 'server-hello-done';
          return;
        }
        this.phase12 = 'server-key-exchange';
        return;
      }
      case 'server-key-exchange': {
        if (type === HandshakeType.certificateStatus) {
          this.transcript.push(raw); // OCSP stapling we did not ask for: tolerated, unused
          return;
        }
        if (type !== HandshakeType.serverKeyExchange) throw unexpected(type, 'ServerKeyExchange');
        const ske = parseServerKeyExchangeEcdhe(body);
        if (!SUPPORTED_GROUPS.includes(ske.group)) throw new TlsDecodeError(`the server chose ${groupName(ske.group)}, which was not offered`, AlertDescription.illegalParameter);
        if (!this.schemes().includes(ske.scheme)) throw new TlsDecodeError(`ServerKeyExchange is signed with scheme 0x${ske.scheme.toString(16)}, which was not offered`, AlertDescription.illegalParameter);
        const isEcdsaScheme = (ske.scheme & 0xff) === 3 || ske.scheme === SignatureScheme.ed25519;
        if ((this.suite!.kx === 'ecdhe-ecdsa') !== isEcdsaScheme) throw new TlsDecodeError('the ServerKeyExchange signature does not match the cipher suite', AlertDescription.illegalParameter);
        if (LEGACY_SIGNATURE_SCHEMES.includes(ske.scheme)) this.noteLegacy('a SHA-1 signature');
        this.serverKx = { group: ske.group, publicKey: ske.publicKey };
        this.transcript.push(raw);
        this.info.group = groupName(ske.group);
        this.state = 'verifying';
        this.pendingVerification = {
          serverName: this.o.serverName,
          chain: this.serverChain,
          signature: { scheme: ske.scheme, signedData: concatBytes(this.clientRandom, this.serverRandom, ske.params), signature: ske.signature },
          tls13: false,
          legacy: this.o.legacy,
        };
        this.phase12 = 'server-hello-done';
        return;
      }
      case 'server-hello-done': {
        if (type === HandshakeType.certificateRequest && !this.certRequested12) {
          this.certRequested12 = true;
          this.transcript.push(raw);
          return;
        }
        if (type !== HandshakeType.serverHelloDone) throw unexpected(type, 'ServerHelloDone');
        if (body.length !== 0) throw new TlsDecodeError('a ServerHelloDone with a body', 50);
        this.transcript.push(raw);
        this.sendClientFlight12();
        return;
      }
      case 'ticket': {
        // RFC 5077 §3.3: the server acknowledged session_ticket, so a NewSessionTicket precedes its CCS.
        if (type !== HandshakeType.newSessionTicket) throw unexpected(type, 'NewSessionTicket');
        this.pendingTicket12 = parseNewSessionTicket12(body);
        this.transcript.push(raw);
        this.phase12 = 'ccs';
        return;
      }
      case 'ccs':
        throw unexpected(type, 'ChangeCipherSpec');
      case 'finished': {
        if (type !== HandshakeType.finished) throw unexpected(type, 'Finished');
        const expected = tls12Prf(this.suite!.hash, this.masterSecret!, 'server finished', this.transcriptHash(), 12);
        if (!constantTimeEqual(expected, body)) {
          throw new TlsFatal(AlertDescription.decryptError, handshakeError(this.o.serverName, 'sent a Finished message that does not match the handshake', 'finished'));
        }
        this.transcript.push(raw);
        if (this.resuming12) this.sendFinished12();
        this.storeTicket12();
        this.phase12 = 'done';
        this.established();
        return;
      }
      default:
        throw unexpected(type, 'nothing');
    }
  }

  /** After the certificate and ServerKeyExchange were verified. */
  private phase12Continue(): void {
    // Nothing to send yet: ServerHelloDone (maybe after a CertificateRequest) follows.
  }

  private sendClientFlight12(): void {
    const suite = this.suite!;
    if (this.certRequested12) this.sendHandshake(HandshakeType.certificate, Uint8Array.of(0, 0, 0), true);
    let pms: Uint8Array;
    if (suite.kx === 'rsa') {
      // RFC 5246 §7.4.7.1: EncryptedPreMasterSecret, a 2-byte length then the RSA ciphertext.
      let kx: { premaster: Uint8Array; encrypted: Uint8Array };
      try {
        kx = rsaKeyExchange(this.serverChain[0]!, this.random);
      } catch (e) {
        throw new TlsFatal(AlertDescription.unsupportedCertificate, handshakeError(this.o.serverName, `chose RSA key exchange, but ${e instanceof Error ? e.message : String(e)}`, 'rsa_key'));
      }
      pms = kx.premaster;
      this.sendHandshake(HandshakeType.clientKeyExchange, new TlsWriter().vector(2, kx.encrypted).finish(), true);
    } else {
      if (!this.serverKx) throw unexpected(HandshakeType.serverHelloDone, 'ServerKeyExchange');
      const share = generateKeyShare(this.serverKx.group, this.o.keyShareSecrets?.get(this.serverKx.group));
      pms = share.agree(this.serverKx.publicKey);
      this.sendHandshake(HandshakeType.clientKeyExchange, new TlsWriter().vector(1, share.publicKey).finish(), true);
    }
    // RFC 7627 §4: the master secret binds the whole handshake so far (session_hash).
    this.masterSecret = this.ems
      ? tls12Prf(suite.hash, pms, 'extended master secret', this.transcriptHash(), 48)
      : tls12Prf(suite.hash, pms, 'master secret', concatBytes(this.clientRandom, this.serverRandom), 48);
    this.keyLog('CLIENT_RANDOM', this.masterSecret);
    this.installKeys12();
    this.sendFinished12();
    this.phase12 = this.expectTicket12 ? 'ticket' : 'ccs';
  }

  private installKeys12(): void {
    const suite = this.suite!;
    const macLen = suite.cipher.endsWith('cbc') ? suite.macLength! : 0;
    const block = tls12Prf(suite.hash, this.masterSecret!, 'key expansion', concatBytes(this.serverRandom, this.clientRandom), 2 * (macLen + suite.keyLength + suite.ivLength));
    let at = 0;
    const take = (n: number): Uint8Array => block.slice(at, (at += n));
    const cMac = take(macLen);
    const sMac = take(macLen);
    const cKey = take(suite.keyLength);
    const sKey = take(suite.keyLength);
    const cIv = take(suite.ivLength);
    const sIv = take(suite.ivLength);
    if (macLen) {
      this.pendingWrite12 = new Tls12CbcRecordCipher(suite, cKey, cMac, this.etm, this.random);
      this.pendingReadCipher12 = new Tls12CbcRecordCipher(suite, sKey, sMac, this.etm, this.random);
    } else {
      this.pendingWrite12 = new Tls12AeadRecordCipher(suite, cKey, cIv);
      this.pendingReadCipher12 = new Tls12AeadRecordCipher(suite, sKey, sIv);
    }
  }

  private pendingWrite12: RecordCipher | undefined;

  private sendFinished12(): void {
    this.out.push(emitRecord(ContentType.changeCipherSpec, TLS12, Uint8Array.of(1)));
    this.writeCipher = this.pendingWrite12;
    const verify = tls12Prf(this.suite!.hash, this.masterSecret!, 'client finished', this.transcriptHash(), 12);
    this.sendHandshake(HandshakeType.finished, verify, true);
  }

  private storeTicket12(): void {
    const t = this.pendingTicket12;
    if (!t || !this.o.ticketCache) return;
    if (t.ticket.length === 0) return; // RFC 5077 §3.3: an empty ticket means "no ticket after all"
    this.o.ticketCache.put(this.ticketKey, {
      version: 'tls12',
      cipherSuite: this.suite!.id,
      ticket: t.ticket,
      masterSecret: this.masterSecret!,
      extendedMasterSecret: this.ems,
      encryptThenMac: this.etm,
      receivedAt: this.now(),
      lifetimeSeconds: t.lifetime || 300,
      certificate: this.info.certificate,
    });
    this.events.push({ kind: 'ticket', text: `NewSessionTicket: the next connection can resume (TLS 1.2)` });
  }

  // ────────────────────────────── output helpers ──────────────────────────────

  private established(): void {
    this.state = 'open';
    this.events.push({
      kind: 'established',
      text: `TLS established: ${this.info.version}, ${this.info.cipherSuite}${this.info.group ? `, ${this.info.group}` : ''}${this.info.alpn ? `, ALPN ${this.info.alpn}` : ''}${this.info.resumed ? ', resumed' : ''}${this.info.legacy ? `; LEGACY TLS: ${this.info.legacy.join(', ')}` : ''}`,
      ...(this.info.legacy ? { warn: true } : {}),
      detail: {
        version: this.info.version ?? '',
        cipherSuite: this.info.cipherSuite ?? '',
        ...(this.info.alpn ? { alpn: this.info.alpn } : {}),
        resumed: this.info.resumed,
        ...(this.info.legacy ? { legacy: this.info.legacy.join(', ') } : {}),
      },
    });
  }

  /** Records a weakness only the legacy opt-in allows (shown with the connection). */
  private noteLegacy(what: string): void {
    (this.info.legacy ??= []).push(what);
  }

  private transcriptHash(): Uint8Array {
    const h = this.suite!.hash.create();
    for (const t of this.transcript) h.update(t);
    return h.digest();
  }

  private sendHandshake(type: number, body: Uint8Array, inTranscript: boolean): void {
    const msg = emitHandshake(type, body);
    if (inTranscript) this.transcript.push(msg);
    for (let off = 0; off < msg.length || off === 0; off += this.maxFragmentOut) {
      const frag = msg.subarray(off, Math.min(msg.length, off + this.maxFragmentOut));
      this.out.push(this.writeCipher ? this.writeCipher.seal(ContentType.handshake, frag) : emitRecord(ContentType.handshake, this.recordVersionOut, frag));
      if (msg.length === 0) break;
    }
  }

  private sendAlert(level: 1 | 2, desc: number): void {
    const body = Uint8Array.of(level, desc);
    this.out.push(this.writeCipher ? this.writeCipher.seal(ContentType.alert, body) : emitRecord(ContentType.alert, this.recordVersionOut, body));
    if (desc !== AlertDescription.closeNotify) this.events.push({ kind: 'alert-sent', text: `TLS alert sent: ${alertName(desc)}`, detail: { alert: alertName(desc), fatal: level === 2 } });
  }

  private keyLog(label: string, secret: Uint8Array): void {
    this.o.onKeyLog?.(`${label} ${toHex(this.clientRandom)} ${toHex(secret)}`);
  }

  private failFrom(e: unknown): void {
    if (e instanceof TlsFatal) {
      this.failWith(e.error, e.alert >= 0 ? e.alert : undefined);
    } else if (e instanceof TlsDecodeError) {
      const open = this.state === 'open';
      this.failWith(
        new WgwebError(
          open ? ErrorCode.TLS_PROTOCOL : ErrorCode.TLS_HANDSHAKE_FAILED,
          `TLS ${open ? 'connection' : 'handshake'} with ${this.o.serverName} failed: ${e.message} (wgweb sent ${alertName(e.alert)}); the server may be misbehaving or not speak TLS here`,
          { serverName: this.o.serverName, alert: alertName(e.alert) },
          { cause: e },
        ),
        e.alert,
      );
    } else {
      const err = new WgwebError(ErrorCode.INTERNAL, `TLS client error with ${this.o.serverName}: ${e instanceof Error ? e.message : String(e)}`, { serverName: this.o.serverName }, { cause: e });
      this.failWith(err, AlertDescription.internalError);
    }
  }

  private failWith(error: WgwebError, alert: number | undefined): void {
    if (this.state === 'failed') return;
    if (alert !== undefined) {
      try {
        this.sendAlert(2, alert);
      } catch {
        // cannot even seal the alert: just stop
      }
    }
    this.pendingVerification = undefined;
    this.error = error;
    this.state = 'failed';
  }
}

function versionName(v: number): string {
  if (v === TLS13) return 'TLS 1.3';
  if (v === TLS12) return 'TLS 1.2';
  if (v === 0x0302) return 'TLS 1.1';
  if (v === 0x0301) return 'TLS 1.0';
  if (v === 0x0300) return 'SSL 3.0';
  return `version 0x${v.toString(16)}`;
}

const HANDSHAKE_NAMES: Record<number, string> = {
  0: 'HelloRequest',
  1: 'ClientHello',
  2: 'ServerHello',
  4: 'NewSessionTicket',
  8: 'EncryptedExtensions',
  11: 'Certificate',
  12: 'ServerKeyExchange',
  13: 'CertificateRequest',
  14: 'ServerHelloDone',
  15: 'CertificateVerify',
  16: 'ClientKeyExchange',
  20: 'Finished',
  22: 'CertificateStatus',
  24: 'KeyUpdate',
};

function unexpected(type: number, expected: string): TlsDecodeError {
  return new TlsDecodeError(`received ${HANDSHAKE_NAMES[type] ?? `handshake message ${type}`} where ${expected} was expected`, AlertDescription.unexpectedMessage);
}

function handshakeError(serverName: string, what: string, reason: string): WgwebError {
  return new WgwebError(ErrorCode.TLS_HANDSHAKE_FAILED, `TLS handshake with ${serverName} failed: the server ${what}`, { serverName, reason });
}

/** A fatal alert from the server, in words that say what to check. */
function alertError(serverName: string, desc: number, open: boolean): WgwebError {
  const name = alertName(desc);
  const detail = { serverName, alert: name };
  if (desc === AlertDescription.protocolVersion) {
    return new WgwebError(ErrorCode.TLS_PROTOCOL_VERSION, `${serverName} refused the TLS versions wgweb offers (protocol_version alert): the server may require an older TLS version (enable legacy TLS for this host) or a newer one`, detail);
  }
  if (desc === AlertDescription.handshakeFailure || desc === AlertDescription.insufficientSecurity) {
    return new WgwebError(ErrorCode.TLS_HANDSHAKE_FAILED, `${serverName} refused the TLS handshake (${name}): it shares no cipher suite, group or signature scheme with wgweb; if it is an old appliance, enable legacy TLS for this host`, detail);
  }
  if (desc === AlertDescription.certificateRequired) {
    return new WgwebError(ErrorCode.TLS_HANDSHAKE_FAILED, `${serverName} requires a client certificate (certificate_required alert); wgweb does not send client certificates`, detail);
  }
  if (desc === AlertDescription.unrecognizedName) {
    return new WgwebError(ErrorCode.TLS_HANDSHAKE_FAILED, `${serverName} does not know the name ${serverName} (unrecognized_name alert): check the host name in the URL`, detail);
  }
  return new WgwebError(open ? ErrorCode.TLS_PROTOCOL : ErrorCode.TLS_HANDSHAKE_FAILED, `${serverName} ended the TLS ${open ? 'connection' : 'handshake'} with a fatal ${name} alert`, detail);
}

/** The alert we send when certificate checks fail (RFC 8446 §6.2). */
function alertForCertificateError(e: WgwebError): number {
  switch (e.code) {
    case ErrorCode.TLS_CERT_UNTRUSTED:
    case ErrorCode.TLS_PIN_CHANGED:
      return AlertDescription.unknownCa;
    case ErrorCode.TLS_CERT_EXPIRED:
    case ErrorCode.TLS_CERT_NOT_YET_VALID:
      return AlertDescription.certificateExpired;
    case ErrorCode.TLS_HANDSHAKE_FAILED:
      return AlertDescription.decryptError;
    default:
      return AlertDescription.badCertificate;
  }
}
