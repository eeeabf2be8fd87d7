/**
 * An SSH-2 client (RFC 4251-4254), sans-IO: bytes and `now` in; bytes, events and a next wake-up
 * out (like boringtun's `Tunn` or smoltcp's `poll`/`poll_at`). The stream adapter is
 * ssh-connection.ts.
 *
 *   start ──▶ version line + KEXINIT (with kex-strict-c-v00@openssh.com and ext-info-c)
 *   receive(bytes):
 *     version exchange (RFC 4253 §4.2; lines before "SSH-" are ignored, bounded)
 *     binary packets (§6) ──▶ opener (ssh-packet-cipher.ts) ──▶ dispatch by message number
 *     transport:   KEXINIT ─▶ negotiate (§7.1) ─▶ ECDH/DH init ─▶ reply: host key checked by the
 *                  caller's `checkHostKey`, signature over H verified ─▶ NEWKEYS both ways (§7.3);
 *                  strict KEX (OpenSSH PROTOCOL "kex-strict", the Terrapin fix): sequence numbers
 *                  reset at NEWKEYS and any unexpected message during the first exchange is fatal
 *     auth (RFC 4252): none ─▶ publickey (§7) ─▶ keyboard-interactive (RFC 4256) ─▶ password (§8)
 *     connection (RFC 4254): session channels, pty-req / shell / exec / window-change, data with
 *                  windows both ways, exit-status / exit-signal, EOF and close
 *   pollAt / handleTimeout: keepalives (keepalive@openssh.com) and time-based rekeying; volume-based
 *     rekeying starts a new KEXINIT after `rekeyBytes` (RFC 4253 §9, RFC 4344 §3.2)
 *
 * Bad network input never throws out of `receive`: the client counts it, sends DISCONNECT and moves
 * to `failed` with a WgwebError (SSH_PROTOCOL, SSH_AUTH_FAILED, or what `checkHostKey` threw).
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { constantTimeEqual, type RandomBytes } from '../../shared/bytes.ts';
import { SshReader, SshWriter, SshDecodeError, sshPayload } from './ssh-codec.ts';
import { createKeyExchange, deriveKey, exchangeHash, KEX_ALGORITHMS, type KeyExchange } from './ssh-kex.ts';
import {
  NoneOpener,
  NoneSealer,
  SUPPORTED_CIPHERS,
  SUPPORTED_MACS,
  cipherKeySizes,
  createOpener,
  createSealer,
  isAead,
  openerAlignment,
  type DirectionKeys,
  type PacketOpener,
  type PacketSealer,
} from './ssh-packet-cipher.ts';
import { HOST_KEY_ALGORITHMS, fingerprint, parsePublicKey, type SshPublicKey } from './ssh-public-key.ts';
import type { SshPrivateKey } from './ssh-private-key.ts';

/** Message numbers (RFC 4250 §4.1.2, RFC 8308 for EXT_INFO). */
export const Msg = {
  DISCONNECT: 1,
  IGNORE: 2,
  UNIMPLEMENTED: 3,
  DEBUG: 4,
  SERVICE_REQUEST: 5,
  SERVICE_ACCEPT: 6,
  EXT_INFO: 7,
  KEXINIT: 20,
  NEWKEYS: 21,
  KEX_INIT: 30,
  KEX_REPLY: 31,
  USERAUTH_REQUEST: 50,
  USERAUTH_FAILURE: 51,
  USERAUTH_SUCCESS: 52,
  USERAUTH_BANNER: 53,
  USERAUTH_60: 60,
  USERAUTH_INFO_RESPONSE: 61,
  GLOBAL_REQUEST: 80,
  REQUEST_SUCCESS: 81,
  REQUEST_FAILURE: 82,
  CHANNEL_OPEN: 90,
  CHANNEL_OPEN_CONFIRMATION: 91,
  CHANNEL_OPEN_FAILURE: 92,
  CHANNEL_WINDOW_ADJUST: 93,
  CHANNEL_DATA: 94,
  CHANNEL_EXTENDED_DATA: 95,
  CHANNEL_EOF: 96,
  CHANNEL_CLOSE: 97,
  CHANNEL_REQUEST: 98,
  CHANNEL_SUCCESS: 99,
  CHANNEL_FAILURE: 100,
} as const;

/** Disconnect reason codes used here (RFC 4250 §4.2.2). */
const Reason = { PROTOCOL_ERROR: 2, KEY_EXCHANGE_FAILED: 3, MAC_ERROR: 5, HOST_KEY_NOT_VERIFIABLE: 9, BY_APPLICATION: 11, NO_MORE_AUTH: 14 } as const;

const STRICT_CLIENT = 'kex-strict-c-v00@openssh.com';
const STRICT_SERVER = 'kex-strict-s-v00@openssh.com';
const EXT_INFO_CLIENT = 'ext-info-c';
/** RFC 4253 §6.1: implementations must take 35000-byte packets; OpenSSH sends up to 256 KiB. */
const MAX_PACKET = 256 * 1024 + 1024;
const MAX_PRE_VERSION_BYTES = 64 * 1024;
/**
 * The receive window we advertise per channel (RFC 4254 §5.1): the most channel data the server
 * may send that our consumer has not drained. We give window back only for drained bytes
 * ({@link SshClient.consume}), so a slow reader holds at most this much per channel.
 */
export const CHANNEL_WINDOW = 2 * 1024 * 1024;
const CHANNEL_MAX_PACKET = 32 * 1024;

/** Algorithm lists the client offers (each list in preference order). */
export interface SshAlgorithms {
  kex: readonly string[];
  hostKey: readonly string[];
  cipher: readonly string[];
  mac: readonly string[];
}

/**
 * A KEXINIT payload (RFC 4253 §7.1): `cookie` (16 random bytes), the same cipher and MAC lists
 * both ways, no compression, no languages, no guessed first packet.
 */
export function kexinitMessage(cookie: Uint8Array, a: SshAlgorithms): Uint8Array {
  return sshPayload((w) =>
    w
      .byte(Msg.KEXINIT)
      .raw(cookie)
      .nameList(a.kex)
      .nameList(a.hostKey)
      .nameList(a.cipher)
      .nameList(a.cipher)
      .nameList(a.mac)
      .nameList(a.mac)
      .nameList(['none'])
      .nameList(['none'])
      .nameList([])
      .nameList([])
      .boolean(false)
      .uint32(0),
  );
}

export const DEFAULT_ALGORITHMS: SshAlgorithms = {
  kex: KEX_ALGORITHMS,
  hostKey: HOST_KEY_ALGORITHMS,
  cipher: ['chacha20-poly1305@openssh.com', 'aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes256-ctr'],
  mac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
};

/** One prompt of a keyboard-interactive round (RFC 4256 §3.2). */
export interface SshPrompt {
  prompt: string;
  echo: boolean;
}

export interface SshClientOptions {
  username: string;
  password?: string;
  privateKey?: SshPrivateKey;
  /** Answers keyboard-interactive prompts; default: the password for every non-echoed prompt. */
  answerPrompts?: (name: string, instruction: string, prompts: SshPrompt[]) => string[];
  /**
   * Judges the server's host key at every key exchange (RFC 4251 §4.1); throw (a WgwebError) to
   * refuse. Rekeys must present the same key, which the client checks itself.
   */
  checkHostKey: (key: SshPublicKey, fingerprint: string) => void;
  random?: RandomBytes;
  /** Restricts or reorders the offered algorithms (tests, old servers). */
  algorithms?: Partial<SshAlgorithms>;
  /** keepalive@openssh.com after this much silence from the server; 0 disables. Default 30 s. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before giving up. Default 3. */
  keepaliveMaxMissed?: number;
  /** New keys after this many bytes either way. Default 1 GiB. */
  rekeyBytes?: number;
  /** New keys after this long. Default 1 h. */
  rekeyIntervalMs?: number;
  /** Our software version in the identification string. */
  softwareVersion?: string;
}

/** What was negotiated in the last key exchange. */
export interface SshNegotiated {
  kex: string;
  hostKey: string;
  cipherClientToServer: string;
  cipherServerToClient: string;
  macClientToServer: string;
  macServerToClient: string;
  strictKex: boolean;
}

export type SshEvent =
  | { readonly type: 'kex-done'; readonly negotiated: SshNegotiated; readonly rekey: boolean }
  | { readonly type: 'banner'; readonly text: string }
  | { readonly type: 'authenticated'; readonly method: string }
  | { readonly type: 'auth-attempt'; readonly method: string; readonly accepted: boolean }
  | { readonly type: 'channel-open'; readonly channel: number }
  | { readonly type: 'channel-open-failed'; readonly channel: number; readonly reason: number; readonly description: string }
  | { readonly type: 'channel-data'; readonly channel: number; readonly data: Uint8Array; readonly stderr: boolean }
  | { readonly type: 'channel-request-result'; readonly channel: number; readonly request: string; readonly success: boolean }
  | { readonly type: 'exit-status'; readonly channel: number; readonly code: number }
  | { readonly type: 'exit-signal'; readonly channel: number; readonly signal: string; readonly message: string }
  | { readonly type: 'channel-eof'; readonly channel: number }
  | { readonly type: 'channel-close'; readonly channel: number }
  | { readonly type: 'closed'; readonly error?: WgwebError };

export type SshClientState = 'handshake' | 'auth' | 'open' | 'closed' | 'failed';

/** Counters for the teaching view and tests. */
export interface SshClientStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  kexCount: number;
  keepalivesSent: number;
  ignoredMessages: number;
}

interface Channel {
  local: number;
  remote: number;
  state: 'opening' | 'open' | 'closing' | 'closed';
  remoteWindow: number;
  remoteMaxPacket: number;
  localWindow: number;
  /** Bytes the consumer drained that we have not given back as window yet. */
  consumed: number;
  pending: Uint8Array[];
  eofPending: boolean;
  eofSent: boolean;
  closeSent: boolean;
  /** Requests made before the server confirmed the channel (its id is needed to send them). */
  held: ((remote: number) => Uint8Array)[];
  /** Names of sent requests awaiting CHANNEL_SUCCESS/FAILURE, in order (RFC 4254 §5.4). */
  awaiting: string[];
}

interface KexState {
  ourInit: Uint8Array;
  theirInit?: Uint8Array;
  method?: KeyExchange;
  negotiated?: SshNegotiated;
  sentNewKeys: boolean;
  pendingIn?: DirectionKeys;
  ignoreNextKexPacket: boolean;
}

/** Builds a WgwebError SSH_PROTOCOL. */
export function sshProtocolError(message: string, detail: Record<string, unknown> = {}): WgwebError {
  return new WgwebError(ErrorCode.SSH_PROTOCOL, message, detail);
}

const encoder = new TextEncoder();

/** The sans-IO SSH client. */
export class SshClient {
  state: SshClientState = 'handshake';
  error: WgwebError | undefined;
  /** The server's identification string (without CR LF). */
  serverVersion = '';
  readonly clientVersion: string;
  /** The host key accepted at the first exchange. */
  hostKey: SshPublicKey | undefined;
  negotiated: SshNegotiated | undefined;
  /** Server signature algorithms from EXT_INFO (RFC 8308 §3.1). */
  serverSigAlgs: string[] | undefined;
  readonly stats: SshClientStats = { packetsIn: 0, packetsOut: 0, bytesIn: 0, bytesOut: 0, kexCount: 0, keepalivesSent: 0, ignoredMessages: 0 };

  private readonly random: RandomBytes;
  private readonly algorithms: SshAlgorithms;
  private out: Uint8Array[] = [];
  private events: SshEvent[] = [];
  private inBuf: Uint8Array = new Uint8Array(0);
  private sealer: PacketSealer;
  private opener: PacketOpener;
  private openerKeys: DirectionKeys | undefined;
  private seqIn = 0;
  private seqOut = 0;
  private pendingLength: number | undefined;
  private kex: KexState | undefined;
  private firstKex = true;
  private strict = false;
  private sessionId: Uint8Array | undefined;
  /** Connection-layer messages held while a key exchange runs (RFC 4253 §7.1). */
  private held: Uint8Array[] = [];
  private authMethods: string[] = [];
  private authTried = new Set<string>();
  private authMethod = '';
  private authFailures: string[] = [];
  private channels = new Map<number, Channel>();
  private nextChannel = 0;
  private globalReplies = 0;
  private lastHeard = 0;
  private missedKeepalives = 0;
  private bytesSinceKex = 0;
  private kexAt = 0;
  private now = 0;

  constructor(private readonly options: SshClientOptions) {
    if (typeof options.username !== 'string' || options.username === '') throw new TypeError('SshClient: username is required');
    if (typeof options.checkHostKey !== 'function') throw new TypeError('SshClient: checkHostKey is required');
    this.random = options.random ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
    this.algorithms = { ...DEFAULT_ALGORITHMS, ...options.algorithms };
    for (const c of this.algorithms.cipher) if (!SUPPORTED_CIPHERS.includes(c)) throw new RangeError(`unsupported cipher ${c}`);
    for (const m of this.algorithms.mac) if (!SUPPORTED_MACS.includes(m)) throw new RangeError(`unsupported MAC ${m}`);
    this.clientVersion = `SSH-2.0-wgweb_${options.softwareVersion ?? '0.1'}`;
    this.sealer = new NoneSealer(this.random);
    this.opener = new NoneOpener();
  }

  /** Sends the identification string and our KEXINIT. */
  start(now: number): void {
    this.now = now;
    this.lastHeard = now;
    this.kexAt = now;
    this.out.push(encoder.encode(this.clientVersion + '\r\n'));
    this.startKex();
  }

  /** Bytes that must go to the server, or null. */
  takeOutput(): Uint8Array | null {
    if (this.out.length === 0) return null;
    if (this.out.length === 1) return this.out.pop()!;
    let n = 0;
    for (const c of this.out) n += c.length;
    const all = new Uint8Array(n);
    let o = 0;
    for (const c of this.out) {
      all.set(c, o);
      o += c.length;
    }
    this.out = [];
    return all;
  }

  /** The next event, or undefined. */
  pollEvent(): SshEvent | undefined {
    return this.events.shift();
  }

  /** Absolute ms of the next timer (keepalive, time-based rekey), Infinity when none. */
  pollAt(): number {
    if (this.state !== 'open') return Infinity;
    let at = this.kexAt + (this.options.rekeyIntervalMs ?? 3_600_000);
    const ka = this.options.keepaliveIntervalMs ?? 30_000;
    if (ka > 0) at = Math.min(at, this.lastHeard + ka * (this.missedKeepalives + 1));
    return at;
  }

  /** Runs due timers. */
  handleTimeout(now: number): void {
    this.now = now;
    if (this.state !== 'open') return;
    const ka = this.options.keepaliveIntervalMs ?? 30_000;
    if (ka > 0 && now >= this.lastHeard + ka * (this.missedKeepalives + 1)) {
      if (this.missedKeepalives >= (this.options.keepaliveMaxMissed ?? 3)) {
        this.fail(sshProtocolError(`the SSH server stopped answering (${this.missedKeepalives} keepalives unanswered over ${Math.round((now - this.lastHeard) / 1000)} s)`), Reason.BY_APPLICATION);
        return;
      }
      this.missedKeepalives++;
      this.stats.keepalivesSent++;
      this.globalReplies++;
      this.send(sshPayload((w) => w.byte(Msg.GLOBAL_REQUEST).string('keepalive@openssh.com').boolean(true)));
    }
    if (!this.kex && now >= this.kexAt + (this.options.rekeyIntervalMs ?? 3_600_000)) this.startKex();
  }

  /** Bytes from the server. Never throws for bad input. */
  receive(data: Uint8Array, now: number): void {
    this.now = now;
    if (this.state === 'closed' || this.state === 'failed') return;
    this.lastHeard = now;
    this.missedKeepalives = 0;
    this.append(data);
    try {
      if (!this.serverVersion && !this.readVersion()) return;
      this.readPackets();
    } catch (e) {
      if (e instanceof WgwebError) this.fail(e, e.code === ErrorCode.SSH_HOST_KEY_CHANGED || e.code === ErrorCode.SSH_HOST_KEY_UNKNOWN ? Reason.HOST_KEY_NOT_VERIFIABLE : Reason.PROTOCOL_ERROR);
      else if (e instanceof SshDecodeError) this.fail(sshProtocolError(`the SSH server sent a malformed message (${e.message})`), Reason.PROTOCOL_ERROR);
      else throw e;
    }
  }

  /** The transport closed under us. */
  transportClosed(): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    if (this.state === 'open') {
      this.state = 'closed';
      this.events.push({ type: 'closed' });
    } else {
      this.fail(sshProtocolError(this.serverVersion ? 'the SSH server closed the connection during the handshake' : 'the server closed the connection before sending an SSH version (is it an SSH server?)'), undefined, false);
    }
  }

  /** Opens a session channel (RFC 4254 §6.1); returns its local id. */
  openSession(): number {
    this.checkOpen();
    const local = this.nextChannel++;
    this.channels.set(local, {
      local,
      remote: -1,
      state: 'opening',
      remoteWindow: 0,
      remoteMaxPacket: 0,
      localWindow: CHANNEL_WINDOW,
      consumed: 0,
      pending: [],
      eofPending: false,
      eofSent: false,
      closeSent: false,
      held: [],
      awaiting: [],
    });
    this.send(sshPayload((w) => w.byte(Msg.CHANNEL_OPEN).string('session').uint32(local).uint32(CHANNEL_WINDOW).uint32(CHANNEL_MAX_PACKET)));
    return local;
  }

  /** pty-req (RFC 4254 §6.2) with the terminal size in characters. */
  requestPty(channel: number, term: string, cols: number, rows: number, modes: Uint8Array = Uint8Array.of(0)): void {
    this.channelRequest(channel, 'pty-req', true, (w) => w.string(term).uint32(cols).uint32(rows).uint32(0).uint32(0).string(modes));
  }

  /** shell (RFC 4254 §6.5). */
  requestShell(channel: number): void {
    this.channelRequest(channel, 'shell', true, () => {});
  }

  /** exec (RFC 4254 §6.5). */
  requestExec(channel: number, command: string): void {
    this.channelRequest(channel, 'exec', true, (w) => w.string(command));
  }

  /** env (RFC 4254 §6.4); servers usually accept only a few names (AcceptEnv). */
  requestEnv(channel: number, name: string, value: string): void {
    this.channelRequest(channel, 'env', false, (w) => w.string(name).string(value));
  }

  /** window-change (RFC 4254 §6.7). */
  windowChange(channel: number, cols: number, rows: number): void {
    this.channelRequest(channel, 'window-change', false, (w) => w.uint32(cols).uint32(rows).uint32(0).uint32(0));
  }

  /** Queues data on a channel; it goes out as the server's window allows (RFC 4254 §5.2). */
  write(channel: number, data: Uint8Array): void {
    const c = this.requireChannel(channel);
    if (c.eofPending || c.eofSent || c.closeSent) throw new TypeError('write after end of the channel');
    if (data.length) c.pending.push(data.slice());
    this.pump(c);
  }

  /**
   * The consumer drained `bytes` of a channel's data (the terminal wrote them, a stream reader took
   * them): that much window goes back to the server (RFC 4254 §5.2), in adjustments of at least a
   * quarter of the window so a steady stream costs few messages. Never stalls: with everything
   * drained and no adjustment due, the server still has three quarters of the window.
   */
  consume(channel: number, bytes: number): void {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`consume(${bytes}): bytes must be a whole number`);
    const c = this.channels.get(channel);
    if (!c || c.state !== 'open' || c.closeSent) return;
    c.consumed += bytes;
    if (c.consumed < CHANNEL_WINDOW / 4) return;
    const add = Math.min(c.consumed, CHANNEL_WINDOW - c.localWindow);
    c.consumed = 0;
    if (add <= 0) return;
    c.localWindow += add;
    this.send(sshPayload((w) => w.byte(Msg.CHANNEL_WINDOW_ADJUST).uint32(c.remote).uint32(add)));
  }

  /** Bytes queued on a channel that the server's window has not admitted yet. */
  pendingBytes(channel: number): number {
    const c = this.channels.get(channel);
    return c ? c.pending.reduce((n, b) => n + b.length, 0) : 0;
  }

  /** Sends EOF after queued data (RFC 4254 §5.3). */
  eof(channel: number): void {
    const c = this.requireChannel(channel);
    c.eofPending = true;
    this.pump(c);
  }

  /** Closes a channel (RFC 4254 §5.3). */
  closeChannel(channel: number): void {
    const c = this.channels.get(channel);
    if (!c || c.closeSent || c.state === 'closed') return;
    if (c.state === 'opening') {
      c.state = 'closing';
      return;
    }
    c.closeSent = true;
    c.state = 'closing';
    this.send(sshPayload((w) => w.byte(Msg.CHANNEL_CLOSE).uint32(c.remote)));
  }

  /** Sends DISCONNECT and ends (RFC 4253 §11.1). */
  close(): void {
    if (this.state === 'closed' || this.state === 'failed') return;
    this.sendNow(sshPayload((w) => w.byte(Msg.DISCONNECT).uint32(Reason.BY_APPLICATION).string('closed by the user').string('')));
    this.state = 'closed';
    this.events.push({ type: 'closed' });
  }

  /** Starts a key exchange now (tests; the client rekeys by itself by volume and time). */
  rekey(): void {
    if (this.state !== 'open' || this.kex) return;
    this.startKex();
  }

  // --- input ---

  private append(data: Uint8Array): void {
    if (this.inBuf.length === 0) {
      this.inBuf = data.slice();
      return;
    }
    const next = new Uint8Array(this.inBuf.length + data.length);
    next.set(this.inBuf, 0);
    next.set(data, this.inBuf.length);
    this.inBuf = next;
  }

  /** RFC 4253 §4.2: the server may send other lines before its "SSH-" line. */
  private readVersion(): boolean {
    for (;;) {
      const nl = this.inBuf.indexOf(0x0a);
      if (nl < 0) {
        if (this.inBuf.length > MAX_PRE_VERSION_BYTES) throw sshProtocolError('the server sent no SSH version line (is it an SSH server?)');
        return false;
      }
      const line = new TextDecoder().decode(this.inBuf.subarray(0, nl)).replace(/\r$/, '');
      this.inBuf = this.inBuf.subarray(nl + 1);
      if (line.startsWith('SSH-')) {
        if (!line.startsWith('SSH-2.0-') && !line.startsWith('SSH-1.99-')) throw sshProtocolError(`the server speaks an SSH version wgweb does not (${line.slice(0, 40)})`);
        if (line.length > 253) throw sshProtocolError('the server version line is too long');
        this.serverVersion = line;
        return true;
      }
    }
  }

  private readPackets(): void {
    while (this.state !== 'failed' && this.state !== 'closed') {
      if (this.pendingLength === undefined) {
        if (this.inBuf.length < this.opener.lengthBytes) return;
        const len = this.opener.packetLength(this.seqIn, this.inBuf);
        const { block, lengthIncluded } = openerAlignment(this.openerKeys);
        if (len < 5 || len > MAX_PACKET || (len + (lengthIncluded ? 4 : 0)) % block !== 0) {
          this.fail(sshProtocolError(`the SSH server sent a packet with a bad length (${len}); the connection is corrupt or not SSH`), Reason.PROTOCOL_ERROR);
          return;
        }
        this.pendingLength = len;
      }
      const total = 4 + this.pendingLength + this.opener.macLength;
      if (this.inBuf.length < total) return;
      const packet = this.inBuf.subarray(0, total);
      this.inBuf = this.inBuf.subarray(total);
      this.pendingLength = undefined;
      const plain = this.opener.open(this.seqIn, packet);
      if (!plain) {
        this.fail(sshProtocolError('an SSH packet failed its integrity check (MAC); the connection was tampered with or corrupted'), Reason.MAC_ERROR);
        return;
      }
      const padding = plain[0]!;
      // RFC 4253 §6: at least 4 bytes of padding, and a payload of at least the message number.
      if (padding < 4 || plain.length - 1 - padding < 1) {
        this.fail(sshProtocolError('the SSH server sent a packet with bad padding'), Reason.PROTOCOL_ERROR);
        return;
      }
      const payload = plain.subarray(1, plain.length - padding);
      this.seqIn = (this.seqIn + 1) >>> 0;
      this.stats.packetsIn++;
      this.stats.bytesIn += total;
      this.countBytes(total);
      this.dispatch(payload);
    }
  }

  private dispatch(p: Uint8Array): void {
    const type = p[0]!;
    const r = new SshReader(p, 1);
    // Strict KEX: during the first exchange only KEXINIT/kex/NEWKEYS may arrive, and the
    // server's KEXINIT must be its very first packet (OpenSSH PROTOCOL, "kex-strict").
    if (this.firstKex && this.strict && !(type === Msg.KEXINIT || type === Msg.NEWKEYS || type === Msg.DISCONNECT || (type >= 30 && type <= 49))) {
      throw sshProtocolError(`strict key exchange: unexpected message ${type} during the first key exchange (possible prefix truncation attack)`);
    }
    switch (type) {
      case Msg.DISCONNECT: {
        const code = r.uint32();
        const text = r.text();
        this.fail(sshProtocolError(`the SSH server disconnected: ${sanitize(text) || 'no reason given'} (reason ${code})`, { reason: code }), undefined, false);
        return;
      }
      case Msg.IGNORE:
      case Msg.DEBUG:
        this.stats.ignoredMessages++;
        return;
      case Msg.UNIMPLEMENTED:
        return;
      case Msg.KEXINIT:
        return this.onKexinit(p);
      case Msg.NEWKEYS:
        return this.onNewKeys();
      case Msg.KEX_REPLY:
        return this.onKexReply(r);
      case Msg.EXT_INFO:
        return this.onExtInfo(r);
      case Msg.SERVICE_ACCEPT:
        return this.onServiceAccept(r);
    }
    if (type >= 30 && type <= 49) {
      if (this.kex?.ignoreNextKexPacket) {
        this.kex.ignoreNextKexPacket = false;
        return;
      }
      throw sshProtocolError(`unexpected key exchange message ${type}`);
    }
    if (type >= 50 && type <= 79) return this.onAuth(type, r);
    if (type >= 80 && type <= 127) {
      if (this.state !== 'open') throw sshProtocolError(`connection message ${type} before authentication`);
      return this.onConnection(type, r);
    }
    // RFC 4253 §11.4: answer unknown messages with UNIMPLEMENTED.
    this.send(sshPayload((w) => w.byte(Msg.UNIMPLEMENTED).uint32((this.seqIn - 1) >>> 0)));
  }

  // --- key exchange ---

  private kexinitPayload(): Uint8Array {
    const a = this.algorithms;
    return kexinitMessage(this.random(16), { ...a, kex: this.firstKex ? [...a.kex, EXT_INFO_CLIENT, STRICT_CLIENT] : [...a.kex] });
  }

  private startKex(): void {
    const ourInit = this.kexinitPayload();
    this.kex = { ourInit, sentNewKeys: false, ignoreNextKexPacket: false };
    this.sendNow(ourInit);
  }

  private onKexinit(p: Uint8Array): void {
    if (this.kex?.theirInit) throw sshProtocolError('the server sent a second KEXINIT during a key exchange');
    const firstPacket = this.seqIn === 1;
    if (!this.kex) this.startKex();
    const kex = this.kex!;
    kex.theirInit = p.slice();
    const r = new SshReader(p, 17);
    const lists = Array.from({ length: 10 }, () => r.nameList());
    const firstFollows = r.boolean();
    r.uint32();
    const [kexS, hostKeyS, cipherCS, cipherSC, macCS, macSC] = lists as [string[], string[], string[], string[], string[], string[]];
    if (this.firstKex && kexS.includes(STRICT_SERVER)) {
      this.strict = true;
      if (!firstPacket) throw sshProtocolError('strict key exchange: the server\'s KEXINIT was not its first packet (possible prefix truncation attack)');
    }
    const a = this.algorithms;
    const pick = (ours: readonly string[], theirs: string[], what: string): string => {
      const found = ours.find((x) => theirs.includes(x));
      if (!found) {
        throw sshProtocolError(`no common ${what} with the SSH server: it offers ${theirs.filter((t) => !t.startsWith('kex-strict') && !t.startsWith('ext-info')).join(', ') || 'nothing'}; wgweb offers ${ours.join(', ')}`, {
          what,
          server: theirs,
          client: [...ours],
        });
      }
      return found;
    };
    const kexName = pick(a.kex, kexS, 'key exchange method');
    const hostKey = pick(a.hostKey, hostKeyS, 'host key algorithm');
    const cCS = pick(a.cipher, cipherCS, 'cipher (client to server)');
    const cSC = pick(a.cipher, cipherSC, 'cipher (server to client)');
    const mCS = isAead(cCS) ? '' : pick(a.mac, macCS, 'MAC (client to server)');
    const mSC = isAead(cSC) ? '' : pick(a.mac, macSC, 'MAC (server to client)');
    // RFC 4253 §7: a guessed first kex packet is ignored when the guess was wrong.
    if (firstFollows && (kexS[0] !== kexName || hostKeyS[0] !== hostKey)) kex.ignoreNextKexPacket = true;
    kex.negotiated = { kex: kexName, hostKey, cipherClientToServer: cCS, cipherServerToClient: cSC, macClientToServer: mCS, macServerToClient: mSC, strictKex: this.strict };
    kex.method = createKeyExchange(kexName, this.random);
    const method = kex.method;
    this.sendNow(
      sshPayload((w) => {
        w.byte(Msg.KEX_INIT);
        if (method.mpintValues) w.mpintFromUnsigned(method.clientPublic);
        else w.string(method.clientPublic);
      }),
    );
  }

  private onKexReply(r: SshReader): void {
    const kex = this.kex;
    if (!kex?.method || !kex.negotiated || !kex.theirInit) throw sshProtocolError('unexpected key exchange reply');
    if (kex.ignoreNextKexPacket) {
      kex.ignoreNextKexPacket = false;
      return;
    }
    const hostKeyBlob = r.string().slice();
    const serverPublic = kex.method.mpintValues ? mpintMagnitude(r.string()) : r.string().slice();
    const signature = r.string().slice();
    const secret = kex.method.finish(serverPublic);
    if (!secret) throw new WgwebError(ErrorCode.SSH_PROTOCOL, `the SSH server sent an invalid ${kex.method.name} public value`);
    const key = parsePublicKey(hostKeyBlob);
    const negotiated = kex.negotiated;
    const hostKeyType = negotiated.hostKey.startsWith('rsa-sha2-') ? 'ssh-rsa' : negotiated.hostKey;
    if (!key || key.type !== hostKeyType) throw sshProtocolError(`the SSH server's host key is not a valid ${negotiated.hostKey} key`);
    const h = exchangeHash({
      clientVersion: this.clientVersion,
      serverVersion: this.serverVersion,
      clientKexinit: kex.ourInit,
      serverKexinit: kex.theirInit,
      hostKey: hostKeyBlob,
      clientPublic: kex.method.clientPublic,
      serverPublic,
      mpintValues: kex.method.mpintValues,
      sharedSecret: secret,
    });
    // RFC 4253 §8: the signature over H proves the server holds the host key's private half.
    if (!key.verify(signature, h, [negotiated.hostKey])) {
      throw new WgwebError(ErrorCode.SSH_PROTOCOL, `the SSH server's ${negotiated.hostKey} signature over the key exchange does not verify: someone may be intercepting the connection`);
    }
    if (this.firstKex) {
      this.options.checkHostKey(key, fingerprint(hostKeyBlob));
      this.hostKey = key;
      this.sessionId = h;
    } else if (!this.hostKey || !constantTimeEqual(this.hostKey.blob, hostKeyBlob)) {
      throw new WgwebError(ErrorCode.SSH_HOST_KEY_CHANGED, `the SSH server presented a different host key when rekeying (${fingerprint(hostKeyBlob)}): refusing`, { fingerprint: fingerprint(hostKeyBlob) });
    }
    const sid = this.sessionId!;
    const dir = (cipher: string, mac: string, ivL: string, keyL: string, macL: string): DirectionKeys => {
      const sizes = cipherKeySizes(cipher, mac);
      return {
        cipher,
        mac,
        iv: deriveKey(secret, h, ivL, sid, sizes.iv),
        key: deriveKey(secret, h, keyL, sid, sizes.key),
        macKey: deriveKey(secret, h, macL, sid, sizes.macKey),
      };
    };
    const outKeys = dir(negotiated.cipherClientToServer, negotiated.macClientToServer, 'A', 'C', 'E');
    kex.pendingIn = dir(negotiated.cipherServerToClient, negotiated.macServerToClient, 'B', 'D', 'F');
    this.sendNow(Uint8Array.of(Msg.NEWKEYS));
    this.sealer = createSealer(outKeys, this.random);
    if (this.strict) this.seqOut = 0;
    kex.sentNewKeys = true;
  }

  private onNewKeys(): void {
    const kex = this.kex;
    if (!kex?.pendingIn || !kex.negotiated) throw sshProtocolError('NEWKEYS before the key exchange finished');
    this.opener = createOpener(kex.pendingIn);
    this.openerKeys = kex.pendingIn;
    if (this.strict) this.seqIn = 0;
    const rekey = !this.firstKex;
    this.negotiated = kex.negotiated;
    this.kex = undefined;
    this.stats.kexCount++;
    this.bytesSinceKex = 0;
    this.kexAt = this.now;
    this.events.push({ type: 'kex-done', negotiated: this.negotiated, rekey });
    if (this.firstKex) {
      this.firstKex = false;
      this.state = 'auth';
      this.sendNow(sshPayload((w) => w.byte(Msg.SERVICE_REQUEST).string('ssh-userauth')));
    }
    for (const m of this.held.splice(0)) this.sendNow(m);
  }

  private onExtInfo(r: SshReader): void {
    const n = r.uint32();
    for (let i = 0; i < n && i < 64; i++) {
      const name = r.text();
      const value = r.string();
      if (name === 'server-sig-algs') this.serverSigAlgs = new TextDecoder().decode(value).split(',');
    }
  }

  // --- authentication (RFC 4252) ---

  private onServiceAccept(r: SshReader): void {
    if (this.state !== 'auth') throw sshProtocolError('unexpected SERVICE_ACCEPT');
    if (r.remaining && r.text() !== 'ssh-userauth') throw sshProtocolError('the server accepted a service we did not ask for');
    this.authMethod = 'none';
    this.sendAuth('none', () => {});
  }

  private sendAuth(method: string, body: (w: SshWriter) => void): void {
    this.authMethod = method;
    this.authTried.add(method);
    this.send(sshPayload((w) => {
      w.byte(Msg.USERAUTH_REQUEST).string(this.options.username).string('ssh-connection').string(method);
      body(w);
    }));
  }

  private onAuth(type: number, r: SshReader): void {
    if (this.state !== 'auth') {
      if (type === Msg.USERAUTH_BANNER) return;
      throw sshProtocolError(`authentication message ${type} outside authentication`);
    }
    switch (type) {
      case Msg.USERAUTH_BANNER:
        this.events.push({ type: 'banner', text: r.text() });
        return;
      case Msg.USERAUTH_SUCCESS:
        this.events.push({ type: 'auth-attempt', method: this.authMethod, accepted: true });
        this.state = 'open';
        this.lastHeard = this.now;
        this.events.push({ type: 'authenticated', method: this.authMethod });
        return;
      case Msg.USERAUTH_FAILURE: {
        this.authMethods = r.nameList();
        const partial = r.boolean();
        if (this.authMethod !== 'none') this.events.push({ type: 'auth-attempt', method: this.authMethod, accepted: partial });
        if (this.authMethod !== 'none' && !partial) this.authFailures.push(this.authMethod);
        return this.nextAuth();
      }
      case Msg.USERAUTH_60:
        if (this.authMethod === 'keyboard-interactive') return this.onInfoRequest(r);
        if (this.authMethod === 'password') {
          this.fail(new WgwebError(ErrorCode.SSH_AUTH_FAILED, 'the SSH server requires a password change; change it with a desktop ssh client first'), Reason.NO_MORE_AUTH);
          return;
        }
        return; // PK_OK: we always send signed requests, so nothing to do.
      default:
        throw sshProtocolError(`unexpected authentication message ${type}`);
    }
  }

  private nextAuth(): void {
    const can = (m: string) => this.authMethods.includes(m) && !this.authTried.has(m);
    const key = this.options.privateKey;
    if (key && can('publickey')) {
      const alg = this.pickKeyAlgorithm(key);
      const signed = sshPayload((w) =>
        w.string(this.sessionId!).byte(Msg.USERAUTH_REQUEST).string(this.options.username).string('ssh-connection').string('publickey').boolean(true).string(alg).string(key.publicKey.blob),
      );
      const sig = key.sign(signed, alg);
      this.sendAuth('publickey', (w) => w.boolean(true).string(alg).string(key.publicKey.blob).string(sig));
      return;
    }
    const password = this.options.password;
    if ((password !== undefined || this.options.answerPrompts) && can('keyboard-interactive')) {
      this.sendAuth('keyboard-interactive', (w) => w.string('').string(''));
      return;
    }
    if (password !== undefined && can('password')) {
      this.sendAuth('password', (w) => w.boolean(false).string(password));
      return;
    }
    const offered = [key ? 'publickey' : '', password !== undefined ? 'password, keyboard-interactive' : ''].filter(Boolean).join(', ') || 'no credentials';
    this.fail(
      new WgwebError(
        ErrorCode.SSH_AUTH_FAILED,
        `the SSH server refused ${this.options.username}: tried ${this.authFailures.join(', ') || offered}; the server accepts ${this.authMethods.join(', ') || 'nothing'} (check the user name, password or key)`,
        { methods: this.authMethods, tried: [...this.authFailures] },
      ),
      Reason.NO_MORE_AUTH,
    );
  }

  private pickKeyAlgorithm(key: SshPrivateKey): string {
    const server = this.serverSigAlgs;
    if (key.publicKey.type === 'ssh-rsa') {
      if (server) return key.algorithms.find((a) => server.includes(a)) ?? 'rsa-sha2-256';
      return 'rsa-sha2-256';
    }
    return key.algorithms[0]!;
  }

  private onInfoRequest(r: SshReader): void {
    const name = r.text();
    const instruction = r.text();
    r.text();
    const n = r.uint32();
    if (n > 64) throw sshProtocolError('too many keyboard-interactive prompts');
    const prompts: SshPrompt[] = [];
    for (let i = 0; i < n; i++) prompts.push({ prompt: r.text(), echo: r.boolean() });
    const answers = this.options.answerPrompts
      ? this.options.answerPrompts(name, instruction, prompts)
      : prompts.map((p) => (p.echo ? '' : (this.options.password ?? '')));
    this.send(sshPayload((w) => {
      w.byte(Msg.USERAUTH_INFO_RESPONSE).uint32(prompts.length);
      for (let i = 0; i < prompts.length; i++) w.string(answers[i] ?? '');
    }));
  }

  // --- connection (RFC 4254) ---

  private onConnection(type: number, r: SshReader): void {
    switch (type) {
      case Msg.GLOBAL_REQUEST: {
        r.text();
        if (r.boolean()) this.send(Uint8Array.of(Msg.REQUEST_FAILURE));
        return;
      }
      case Msg.REQUEST_SUCCESS:
      case Msg.REQUEST_FAILURE:
        if (this.globalReplies > 0) this.globalReplies--;
        return;
      case Msg.CHANNEL_OPEN: {
        r.text();
        const sender = r.uint32();
        // RFC 4254 §5.1: we never asked for forwarded channels; 1 = administratively prohibited.
        this.send(sshPayload((w) => w.byte(Msg.CHANNEL_OPEN_FAILURE).uint32(sender).uint32(1).string('not supported').string('')));
        return;
      }
    }
    const c = this.channels.get(r.uint32());
    if (!c) throw sshProtocolError(`the server named a channel that does not exist (message ${type})`);
    switch (type) {
      case Msg.CHANNEL_OPEN_CONFIRMATION: {
        if (c.state !== 'opening' && c.state !== 'closing') throw sshProtocolError('duplicate channel confirmation');
        c.remote = r.uint32();
        c.remoteWindow = r.uint32();
        c.remoteMaxPacket = Math.max(1, Math.min(r.uint32(), CHANNEL_MAX_PACKET));
        if (c.state === 'closing') {
          c.closeSent = true;
          this.send(sshPayload((w) => w.byte(Msg.CHANNEL_CLOSE).uint32(c.remote)));
          return;
        }
        c.state = 'open';
        this.events.push({ type: 'channel-open', channel: c.local });
        for (const build of c.held.splice(0)) this.send(build(c.remote));
        this.pump(c);
        return;
      }
      case Msg.CHANNEL_OPEN_FAILURE: {
        const reason = r.uint32();
        const description = r.text();
        c.state = 'closed';
        this.channels.delete(c.local);
        this.events.push({ type: 'channel-open-failed', channel: c.local, reason, description: sanitize(description) });
        return;
      }
      case Msg.CHANNEL_WINDOW_ADJUST: {
        c.remoteWindow = Math.min(c.remoteWindow + r.uint32(), 0xffffffff);
        this.pump(c);
        return;
      }
      case Msg.CHANNEL_DATA:
      case Msg.CHANNEL_EXTENDED_DATA: {
        const stderr = type === Msg.CHANNEL_EXTENDED_DATA;
        if (stderr) r.uint32();
        const data = r.string();
        if (data.length > c.localWindow) throw sshProtocolError('the server sent more channel data than the window allows');
        c.localWindow -= data.length;
        // The window re-opens only as the consumer drains this (consume), RFC 4254 §5.2.
        this.events.push({ type: 'channel-data', channel: c.local, data: data.slice(), stderr });
        return;
      }
      case Msg.CHANNEL_EOF:
        this.events.push({ type: 'channel-eof', channel: c.local });
        return;
      case Msg.CHANNEL_CLOSE:
        if (!c.closeSent) {
          c.closeSent = true;
          this.send(sshPayload((w) => w.byte(Msg.CHANNEL_CLOSE).uint32(c.remote)));
        }
        c.state = 'closed';
        this.channels.delete(c.local);
        this.events.push({ type: 'channel-close', channel: c.local });
        return;
      case Msg.CHANNEL_REQUEST: {
        const name = r.text();
        const wantReply = r.boolean();
        if (name === 'exit-status') this.events.push({ type: 'exit-status', channel: c.local, code: r.uint32() });
        else if (name === 'exit-signal') {
          const signal = r.text();
          r.boolean();
          const message = r.text();
          this.events.push({ type: 'exit-signal', channel: c.local, signal, message: sanitize(message) });
        }
        if (wantReply) this.send(sshPayload((w) => w.byte(Msg.CHANNEL_FAILURE).uint32(c.remote)));
        return;
      }
      case Msg.CHANNEL_SUCCESS:
      case Msg.CHANNEL_FAILURE: {
        const request = c.awaiting.shift() ?? '';
        this.events.push({ type: 'channel-request-result', channel: c.local, request, success: type === Msg.CHANNEL_SUCCESS });
        return;
      }
    }
  }

  private channelRequest(channel: number, name: string, wantReply: boolean, body: (w: SshWriter) => void): void {
    const c = this.requireChannel(channel);
    const build = (remote: number) => sshPayload((w) => {
      w.byte(Msg.CHANNEL_REQUEST).uint32(remote).string(name).boolean(wantReply);
      body(w);
    });
    if (c.state === 'closed' || c.closeSent) throw new TypeError(`the SSH channel ${channel} is closed`);
    if (wantReply) c.awaiting.push(name);
    if (c.state === 'opening') {
      // Sent once the server confirms the channel (we do not know its id yet).
      c.held.push(build);
      return;
    }
    this.send(build(c.remote));
  }

  /** Sends queued channel data within the window and packet size; then a pending EOF. */
  private pump(c: Channel): void {
    if (c.state !== 'open') return;
    while (c.pending.length && c.remoteWindow > 0) {
      const head = c.pending[0]!;
      const n = Math.min(head.length, c.remoteWindow, c.remoteMaxPacket);
      const chunk = head.subarray(0, n);
      if (n === head.length) c.pending.shift();
      else c.pending[0] = head.subarray(n);
      c.remoteWindow -= n;
      this.send(sshPayload((w) => w.byte(Msg.CHANNEL_DATA).uint32(c.remote).string(chunk)));
    }
    if (c.eofPending && !c.pending.length && !c.eofSent) {
      c.eofSent = true;
      this.send(sshPayload((w) => w.byte(Msg.CHANNEL_EOF).uint32(c.remote)));
    }
  }

  // --- output ---

  /** Sends a connection/auth message, holding it while a key exchange runs (RFC 4253 §7.1). */
  private send(payload: Uint8Array): void {
    if (this.kex && !this.kex.sentNewKeys && payload[0]! >= 50) {
      this.held.push(payload);
      return;
    }
    if (this.kex && this.kex.sentNewKeys && payload[0]! >= 50 && this.held.length) {
      this.held.push(payload);
      return;
    }
    this.sendNow(payload);
  }

  private sendNow(payload: Uint8Array): void {
    const wire = this.sealer.seal(this.seqOut, payload);
    this.seqOut = (this.seqOut + 1) >>> 0;
    this.stats.packetsOut++;
    this.stats.bytesOut += wire.length;
    this.out.push(wire);
    this.countBytes(wire.length);
  }

  private countBytes(n: number): void {
    this.bytesSinceKex += n;
    if (this.state === 'open' && !this.kex && this.bytesSinceKex > (this.options.rekeyBytes ?? 1 << 30)) this.startKex();
  }

  private fail(error: WgwebError, reason?: number, notify = true): void {
    if (this.state === 'failed' || this.state === 'closed') return;
    if (notify && reason !== undefined) {
      try {
        this.sendNow(sshPayload((w) => w.byte(Msg.DISCONNECT).uint32(reason).string(error.message.slice(0, 200)).string('')));
      } catch {
        // nothing more to say
      }
    }
    this.error = error;
    this.state = 'failed';
    this.events.push({ type: 'closed', error });
  }

  private checkOpen(): void {
    if (this.state !== 'open') throw new TypeError(`the SSH connection is ${this.state}, not open`);
  }

  private requireChannel(channel: number): Channel {
    const c = this.channels.get(channel);
    if (!c) throw new TypeError(`no SSH channel ${channel}`);
    return c;
  }
}

/** The magnitude of an mpint's bytes (RFC 4251 §5): its leading zero bytes dropped, at least one byte kept. */
function mpintMagnitude(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.slice(i);
}

/** Server text shown to the user: no control characters except newlines and tabs (RFC 4251 §9.2). */
export function sanitize(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').slice(0, 2000);
}
