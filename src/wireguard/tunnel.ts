/**
 * The WireGuard device, sans-IO: several peers, the index table, cryptokey routing, the
 * responder's cookie/load defences and the drop counters. Bytes and `now` in, bytes and events
 * out; no sockets, timers or clocks (WireGuard paper §2–§6; docs/architecture.md).
 *
 *   sendPacket(ip, now)
 *     IPv4/IPv6 check ─▶ AllowedIPs longest prefix on the destination ─▶ Peer.sendPacket
 *                                                  (none: drop 'no-route')   (encrypt, or stage + handshake)
 *
 *   receiveDatagram(bytes, from, now)
 *     type/size check ─┬─ 4 transport ─▶ index → keypair ─▶ age ─▶ replay check ─▶ ChaCha20-Poly1305
 *                      │                 ─▶ replay accept ─▶ Peer.receiveTransport (confirm, roam, source check)
 *                      ├─ 1 initiation ┐
 *                      ├─ 2 response  ─┴▶ MAC1 ─▶ under load? MAC2 or cookie reply, per-source rate limit
 *                      │                  ─▶ 1: decrypt static key → peer → Peer.consumeInitiation → response
 *                      │                  ─▶ 2: receiver index → handshake → Peer.consumeResponse → keepalive
 *                      └─ 3 cookie     ─▶ receiver index → Peer.consumeCookieReply
 *
 *   tick(now) runs every peer's due timers; nextWakeAt() says when to call it again.
 *
 * Malformed, unauthenticated, replayed or misrouted input is dropped and counted in
 * `stats().drops`, never thrown; only bad caller input throws (TypeError/RangeError).
 */
import { constantTimeEqual, toBase64, webCryptoRandomBytes, zeroize } from '../shared/bytes.ts';
import type { Endpoint } from '../shared/ip-address.ts';
import { AllowedIps } from './allowed-ips.ts';
import {
  COOKIE_REPLY_SIZE,
  INITIATION_SIZE,
  KEEPALIVE_SIZE,
  MAX_PACKET_SIZE,
  MESSAGE_COOKIE_REPLY,
  MESSAGE_INITIATION,
  MESSAGE_RESPONSE,
  MESSAGE_TRANSPORT,
  REJECT_AFTER_TIME_MS,
  RESPONSE_SIZE,
} from './constants.ts';
import { CookieChecker, cookieSourceBytes } from './cookie.ts';
import { decryptInitiationStatic, staticIdentity, type StaticIdentity } from './handshake.ts';
import { IndexTable } from './index-table.ts';
import { LoadDetector } from './load-detector.ts';
import { CookieReplyView, InitiationView, messageType, readU32LE, ResponseView, TRANSPORT } from './messages.ts';
import type { RandomBytes } from '../shared/bytes.ts';
import { Peer, type IndexEntry, type PeerHost, type PeerStats } from './peer.ts';
import { RandomPool } from './random-pool.ts';
import { HandshakeRateLimiter } from './handshake-rate-limiter.ts';
import { validateEndpoint, validatePeerConfig, type PeerConfig, type TunnelConfig, type TunnelOptions } from './tunnel-config.ts';
import { emptyDropCounters, emptyResult, type DropReason, type PeerId, type TunnelResult } from './tunnel-result.ts';
import { DEFAULT_MTU } from '../shared/wg-quick-config.ts';

export type { PeerConfig, TunnelConfig, TunnelOptions } from './tunnel-config.ts';
export type { PeerStats } from './peer.ts';
export type {
  DropReason,
  HandshakeTrigger,
  IncomingPacket,
  KeepaliveReason,
  OutgoingDatagram,
  PeerId,
  RekeyReason,
  TunnelEvent,
  TunnelEventType,
  TunnelResult,
} from './tunnel-result.ts';
export { DROP_REASONS } from './tunnel-result.ts';

/** Device-wide state for the UI and `wg show`. */
export interface TunnelStats {
  /** Our public key (base64). */
  publicKey: PeerId;
  /** wgweb does not listen on a UDP port itself: datagrams travel through the relay. */
  listenPort: undefined;
  mtu: number;
  /** Whether the device currently demands cookies from initiators. */
  underLoad: boolean;
  peers: PeerStats[];
  /** Dropped datagrams/packets by reason. */
  drops: Record<DropReason, number>;
  /** Message of the last caught internal exception (a bug), if any. */
  lastInternalError: string | undefined;
}

/** A WireGuard interface with its peers. See the file header for the flow. */
export class Tunnel implements PeerHost {
  /** @internal Static key pair (PeerHost); zeroed by close(). */
  readonly identity: StaticIdentity;
  /** @internal */
  readonly randomBytes: RandomBytes;
  /** @internal */
  readonly pool: RandomPool;
  /** Tunnel MTU used to bound padding. */
  readonly mtu: number;
  /** @internal Receiver index → handshake or keypair. */
  readonly indices = new IndexTable<IndexEntry>();
  /** @internal Cryptokey routing table. */
  readonly routes = new AllowedIps<Peer>();

  private readonly peers = new Map<PeerId, Peer>();
  private readonly drops = emptyDropCounters();
  private readonly cookieChecker: CookieChecker;
  private readonly load = new LoadDetector();
  private readonly rateLimiter = new HandshakeRateLimiter();
  private readonly underLoadOverride: ((now: number) => boolean) | undefined;
  /** TunnelOptions.decryptInPlace. */
  private readonly decryptInPlace: boolean;
  /** TunnelOptions.sealInPlace. */
  private readonly sealInPlace: boolean;
  private wallClockOffsetMs: number | undefined;
  private lastNow = 0;
  private closed = false;
  private lastInternalError: string | undefined;

  /**
   * @throws {TypeError|RangeError} for a malformed config (key lengths, duplicate peers, bad
   *   AllowedIPs, PersistentKeepalive out of range, MTU out of range).
   */
  constructor(config: TunnelConfig, options: TunnelOptions = {}) {
    if (typeof config !== 'object' || config === null) throw new TypeError('tunnel config must be an object');
    if (!Array.isArray(config.peers)) throw new TypeError('tunnel config needs a peers array');
    if (options.randomBytes !== undefined && typeof options.randomBytes !== 'function') throw new TypeError('randomBytes must be a function');
    if (options.wallClockOffsetMs !== undefined && !Number.isFinite(options.wallClockOffsetMs)) throw new RangeError('wallClockOffsetMs must be a finite number');
    const mtu = options.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > MAX_PACKET_SIZE) throw new RangeError(`MTU must be an integer from 68 to ${MAX_PACKET_SIZE}, got ${mtu}`);
    if (options.underLoad !== undefined && typeof options.underLoad !== 'function') throw new TypeError('underLoad must be a function');

    this.identity = staticIdentity(config.privateKey);
    this.randomBytes = options.randomBytes ?? webCryptoRandomBytes;
    this.pool = new RandomPool(this.randomBytes);
    this.mtu = mtu;
    this.wallClockOffsetMs = options.wallClockOffsetMs;
    this.underLoadOverride = options.underLoad;
    this.decryptInPlace = options.decryptInPlace === true;
    this.sealInPlace = options.sealInPlace === true;
    this.cookieChecker = new CookieChecker(this.identity.publicKey);
    for (const p of config.peers) this.addPeer(p);
  }

  /** Our public key (base64). */
  get publicKey(): PeerId {
    return toBase64(this.identity.publicKey);
  }

  // -------------------------------------------------------------------------------------------
  // Peers
  // -------------------------------------------------------------------------------------------

  /**
   * Adds a peer and its AllowedIPs (taking over prefixes another peer had, like `wg set`).
   * With PersistentKeepalive and an Endpoint, a keepalive (hence a handshake) is due at once.
   * @throws {TypeError|RangeError} for a bad config, our own public key, or a duplicate peer.
   */
  addPeer(p: PeerConfig): PeerId {
    this.checkOpen();
    validatePeerConfig(p);
    if (constantTimeEqual(p.publicKey, this.identity.publicKey)) throw new RangeError("a peer's PublicKey cannot be the interface's own public key");
    const id = toBase64(p.publicKey);
    if (this.peers.has(id)) throw new RangeError(`peer ${id} is already configured`);
    const peer = new Peer(p, this);
    this.peers.set(id, peer);
    for (const prefix of p.allowedIPs) this.routes.insert(prefix, peer);
    if ((p.persistentKeepalive ?? 0) > 0 && peer.endpoint) peer.timers.persistentKeepalive = this.lastNow;
    return id;
  }

  /** Removes a peer, zeroing its keys. @throws {RangeError} for an unknown peer. */
  removePeer(id: PeerId): void {
    const peer = this.getPeer(id);
    this.routes.removeValue(peer);
    peer.destroy();
    this.peers.delete(id);
  }

  /** Sets where handshakes and data for a peer go. @throws {TypeError|RangeError} */
  setPeerEndpoint(id: PeerId, endpoint: Endpoint): void {
    const peer = this.getPeer(id);
    validateEndpoint(endpoint);
    const hadEndpoint = peer.endpoint !== undefined;
    peer.endpoint = { host: endpoint.host, port: endpoint.port };
    // PersistentKeepalive could not start without an endpoint: start it now, as on interface up.
    if (!hadEndpoint && peer.timers.persistentKeepaliveMs > 0 && peer.timers.persistentKeepalive === Infinity) {
      peer.timers.persistentKeepalive = this.lastNow;
    }
  }

  /** Sets PersistentKeepalive (seconds, 0 = off); turning it on sends a keepalive at the next tick. */
  setPeerPersistentKeepalive(id: PeerId, seconds: number): void {
    const peer = this.getPeer(id);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 65535) throw new RangeError(`PersistentKeepalive must be 0 to 65535 seconds, got ${seconds}`);
    peer.setPersistentKeepalive(seconds, this.lastNow);
  }

  /** Public keys of the configured peers. */
  peerIds(): PeerId[] {
    return [...this.peers.keys()];
  }

  // -------------------------------------------------------------------------------------------
  // Data path
  // -------------------------------------------------------------------------------------------

  /**
   * An IP packet from the local stack: encrypt it to the peer whose AllowedIPs hold its
   * destination (longest prefix), or stage it and start a handshake. The packet is not modified
   * or retained, unless the tunnel was built with `sealInPlace` (TunnelOptions): then its bytes
   * (and the room around them) may become the datagram.
   */
  sendPacket(packet: Uint8Array, now: number): TunnelResult {
    if (!(packet instanceof Uint8Array)) throw new TypeError('packet must be a Uint8Array');
    checkNow(now);
    const out = emptyResult();
    if (this.closed) {
      this.drop('closed');
      return out;
    }
    this.lastNow = now;
    try {
      const len = packet.length;
      if (len > MAX_PACKET_SIZE) {
        this.drop('too-big');
        return out;
      }
      const version = len > 0 ? packet[0] >> 4 : 0;
      let peer: Peer | undefined;
      if (version === 4 && len >= 20) peer = this.routes.lookupAt(packet, 16, 4);
      else if (version === 6 && len >= 40) peer = this.routes.lookupAt(packet, 24, 16);
      else {
        this.drop('not-ip');
        return out;
      }
      if (peer === undefined) {
        this.drop('no-route');
        return out;
      }
      peer.sendPacket(packet, now, out, this.sealInPlace);
    } catch (e) {
      this.internalError(e);
    }
    return out;
  }

  /**
   * Any datagram from the network, from `from`. Never throws for bad bytes: they are dropped and
   * counted. Returned packets are fresh buffers and `data` is not modified, unless the tunnel was
   * built with `decryptInPlace` (TunnelOptions): then an authenticated transport message is
   * decrypted over its own bytes and its packet is a view into `data`.
   */
  receiveDatagram(data: Uint8Array, from: Endpoint, now: number): TunnelResult {
    if (!(data instanceof Uint8Array)) throw new TypeError('datagram must be a Uint8Array');
    if (typeof from !== 'object' || from === null || typeof from.host !== 'string') throw new TypeError('from must be an Endpoint { host, port }');
    checkNow(now);
    const out = emptyResult();
    if (this.closed) {
      this.drop('closed');
      return out;
    }
    this.lastNow = now;
    try {
      this.receive(data, from, now, out);
    } catch (e) {
      this.internalError(e);
    }
    return out;
  }

  private receive(data: Uint8Array, from: Endpoint, now: number, out: TunnelResult): void {
    const len = data.length;
    if (len < 4) return this.drop('short');
    switch (messageType(data)) {
      case MESSAGE_TRANSPORT:
        if (len < KEEPALIVE_SIZE) return this.drop('short');
        return this.receiveTransport(data, from, now, out);
      case MESSAGE_INITIATION:
        if (len !== INITIATION_SIZE) return this.drop('bad-size');
        return this.receiveHandshake(data, MESSAGE_INITIATION, from, now, out);
      case MESSAGE_RESPONSE:
        if (len !== RESPONSE_SIZE) return this.drop('bad-size');
        return this.receiveHandshake(data, MESSAGE_RESPONSE, from, now, out);
      case MESSAGE_COOKIE_REPLY: {
        if (len !== COOKIE_REPLY_SIZE) return this.drop('bad-size');
        const view = new CookieReplyView(data);
        const entry = this.indices.get(view.receiverIndex);
        if (!entry) return this.drop('unknown-index');
        return entry.peer.consumeCookieReply(view, from, now, out);
      }
      default:
        return this.drop('unknown-type');
    }
  }

  private receiveTransport(data: Uint8Array, from: Endpoint, now: number, out: TunnelResult): void {
    const entry = this.indices.get(readU32LE(data, TRANSPORT.receiver));
    if (entry === undefined || entry.kind !== 'keypair') return this.drop('unknown-index');
    const kp = entry.keypair;
    if (now - kp.createdAt >= REJECT_AFTER_TIME_MS) return this.drop('expired-key');
    const lo = readU32LE(data, TRANSPORT.counter);
    const hi = readU32LE(data, TRANSPORT.counter + 4);
    // Cheap replay check first; the window itself only moves after authentication.
    if (!kp.replay.check(lo, hi)) return this.drop('replayed');
    const plaintext = kp.open(data, lo, hi, this.decryptInPlace);
    if (plaintext === undefined) return this.drop('decrypt-failed');
    if (!kp.replay.accept(lo, hi)) return this.drop('replayed');
    entry.peer.receiveTransport(kp, plaintext, data.length, hi * 2 ** 32 + lo, from, now, out);
  }

  private receiveHandshake(data: Uint8Array, type: number, from: Endpoint, now: number, out: TunnelResult): void {
    this.load.record(now);
    if (!this.cookieChecker.checkMac1(data)) return this.drop('bad-mac1');
    if (this.isUnderLoad(now)) {
      const source = cookieSourceBytes(from);
      if (!this.cookieChecker.checkMac2(data, source, now)) {
        // Paper §5.3: prove your address first; no DH work for unproven sources.
        const receiverIndex = readU32LE(data, 4);
        const reply = this.cookieChecker.createReply(data, receiverIndex, source, now, this.randomBytes);
        const endpoint = { host: from.host, port: from.port };
        out.datagrams.push({ peer: '', endpoint, data: reply });
        out.events.push({ type: 'cookie-reply-sent', peer: '', at: now, size: reply.length, receiverIndex, endpoint });
        return this.drop(CookieChecker.hasNoMac2(data) ? 'cookie-required' : 'bad-mac2');
      }
      if (!this.rateLimiter.allow(from.host, now)) return this.drop('rate-limited');
    }
    if (type === MESSAGE_INITIATION) {
      const decrypted = decryptInitiationStatic(this.identity, new InitiationView(data));
      if (!decrypted) return this.drop('handshake-decrypt');
      const peer = this.peers.get(toBase64(decrypted.remoteStatic));
      if (!peer) return this.drop('unknown-peer');
      peer.consumeInitiation(decrypted, from, now, out);
    } else {
      const view = new ResponseView(data);
      const entry = this.indices.get(view.receiverIndex);
      if (!entry || entry.kind !== 'handshake') return this.drop('unknown-index');
      entry.peer.consumeResponse(view, from, now, out);
    }
  }

  private isUnderLoad(now: number): boolean {
    return this.underLoadOverride ? this.underLoadOverride(now) : this.load.underLoad(now);
  }

  // -------------------------------------------------------------------------------------------
  // Timers and control
  // -------------------------------------------------------------------------------------------

  /** Runs every timer due at `now` (retransmits, keepalives, rekeys, key zeroing). */
  tick(now: number): TunnelResult {
    checkNow(now);
    const out = emptyResult();
    if (this.closed) return out;
    this.lastNow = now;
    try {
      for (const peer of this.peers.values()) peer.runTimers(now, out);
    } catch (e) {
      this.internalError(e);
    }
    return out;
  }

  /** Absolute `now` at which {@link tick} must run next; Infinity when nothing is pending. */
  nextWakeAt(): number {
    if (this.closed) return Infinity;
    let at = Infinity;
    for (const peer of this.peers.values()) {
      const t = peer.nextDeadline();
      if (t < at) at = t;
    }
    return at;
  }

  /**
   * Starts a handshake now with one peer, or with every peer that has an endpoint (at most one
   * initiation per peer per REKEY_TIMEOUT, as the protocol requires).
   * @throws {RangeError} for an unknown peer or a named peer without an endpoint.
   */
  connect(now: number, publicKey?: PeerId): TunnelResult {
    checkNow(now);
    const out = emptyResult();
    this.checkOpen();
    this.lastNow = now;
    if (publicKey !== undefined) {
      const peer = this.getPeer(publicKey);
      if (!peer.endpoint) throw new RangeError(`peer ${publicKey} has no Endpoint: set one before connecting`);
      peer.connect(now, out);
      return out;
    }
    for (const peer of this.peers.values()) if (peer.endpoint) peer.connect(now, out);
    return out;
  }

  /**
   * Sends a keepalive to one peer, or to every peer with an endpoint, right away: for when our
   * own outside address changed (the relay session reopened). See KeepaliveReason 'endpoint-changed'.
   * @throws {RangeError} for an unknown peer.
   */
  keepalive(now: number, publicKey?: PeerId): TunnelResult {
    checkNow(now);
    const out = emptyResult();
    this.checkOpen();
    this.lastNow = now;
    const peers = publicKey !== undefined ? [this.getPeer(publicKey)] : [...this.peers.values()];
    for (const peer of peers) if (peer.endpoint) peer.keepaliveNow(now, out, 'endpoint-changed');
    return out;
  }

  /** Per-peer `wg show` data and drop counters. `now` defaults to the latest time seen. */
  stats(now: number = this.lastNow): TunnelStats {
    return {
      publicKey: this.publicKey,
      listenPort: undefined,
      mtu: this.mtu,
      underLoad: this.isUnderLoad(now),
      peers: [...this.peers.values()].map((p) => p.stats(now)),
      drops: { ...this.drops },
      lastInternalError: this.lastInternalError,
    };
  }

  /** Zeroes every key (static, handshake, transport, cookies) and stops all timers. */
  close(): void {
    if (this.closed) return;
    for (const peer of this.peers.values()) peer.destroy();
    this.peers.clear();
    this.indices.clear();
    this.routes.clear();
    this.cookieChecker.destroy();
    zeroize(this.identity.privateKey);
    this.closed = true;
  }

  // -------------------------------------------------------------------------------------------
  // PeerHost
  // -------------------------------------------------------------------------------------------

  /** @internal */
  wallClockMs(now: number): number {
    // Read the real clock once if the embedder gave no offset: TAI64N must be real time (see TunnelOptions).
    this.wallClockOffsetMs ??= Date.now() - now;
    return now + this.wallClockOffsetMs;
  }

  /** @internal */
  drop(reason: DropReason, count = 1): void {
    this.drops[reason] += count;
  }

  private internalError(e: unknown): void {
    this.drops['internal-error']++;
    this.lastInternalError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  }

  private getPeer(id: PeerId): Peer {
    this.checkOpen();
    const peer = this.peers.get(id);
    if (!peer) throw new RangeError(`no peer with public key ${id}`);
    return peer;
  }

  private checkOpen(): void {
    if (this.closed) throw new RangeError('the tunnel is closed');
  }
}

/** `now` must be a finite number of milliseconds (a NaN would silently disable every timer). */
function checkNow(now: number): void {
  if (!Number.isFinite(now)) throw new RangeError(`now must be a finite number of milliseconds, got ${now}`);
}
