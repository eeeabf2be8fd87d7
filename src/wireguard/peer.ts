/**
 * One WireGuard peer: its handshake, its keypairs (previous / current / next), its staged packets
 * and its timers, following the kernel's and wireguard-go's per-peer logic (paper §5–§6).
 *
 * Outgoing (Tunnel.sendPacket routed here by AllowedIPs):
 *   sendPacket ─ usable current keypair and nothing staged? ─ yes ─▶ sendTransport ─▶ datagram
 *              └ no ─▶ stage (≤ 128, oldest dropped) ─▶ sendStaged ─▶ no usable key ─▶ sendHandshakeInitiation
 *
 * Incoming (Tunnel.receiveDatagram found this peer by static key or receiver index):
 *   initiation ─▶ consumeInitiation ─▶ sendHandshakeResponse ─▶ new keypair in `next` (responder)
 *   response   ─▶ consumeResponse   ─▶ new keypair in `current` (initiator) ─▶ keepalive/staged data
 *   transport  ─▶ receiveTransport  ─▶ `next` confirmed → `current` ─▶ AllowedIPs source check ─▶ packet
 *   cookie     ─▶ consumeCookieReply (MAC2 for later handshake messages)
 *
 * Keypair rotation (paper §5.4.5, §6.1): the responder must not send with a new keypair until the
 * initiator has used it, so the responder parks it in `next` and promotes it on the first packet
 * received with it. The initiator uses its new keypair at once (after the response proved the
 * responder has it). `previous` keeps the last keypair alive for packets still in flight.
 *
 * Timers (timers.ts) run from runTimers(); their hooks are called at the kernel's points.
 */
import { formatEndpoint, type Endpoint, type IpPrefix } from '../shared/ip-address.ts';
import { toBase64 } from '../shared/bytes.ts';
import type { AllowedIps } from './allowed-ips.ts';
import { CookieGenerator } from './cookie.ts';
import {
  INITIATION_SIZE,
  KEEPALIVE_TIMEOUT_MS,
  MAX_STAGED_PACKETS,
  PADDING_MULTIPLE,
  REJECT_AFTER_TIME_MS,
  REKEY_AFTER_TIME_MS,
  REKEY_ATTEMPT_TIME_MS,
  REKEY_TIMEOUT_JITTER_MAX_MS,
  REKEY_TIMEOUT_MS,
  RESPONSE_SIZE,
} from './constants.ts';
import { Handshake, type DecryptedInitiation, type StaticIdentity } from './handshake.ts';
import type { IndexTable } from './index-table.ts';
import { Keypair } from './keypair.ts';
import type { CookieReplyView, ResponseView } from './messages.ts';
import { clampPrivateKey, KEY_LENGTH } from './noise-keys.ts';
import type { RandomBytes } from '../shared/bytes.ts';
import type { RandomPool } from './random-pool.ts';
import { tai64n } from './tai64n.ts';
import { PeerTimers } from './timers.ts';
import type { PeerConfig } from './tunnel-config.ts';
import type { DropReason, HandshakeTrigger, KeepaliveReason, PeerId, RekeyReason, TunnelEvent, TunnelResult } from './tunnel-result.ts';

/** What an index in the device's index table points at. */
export type IndexEntry = { readonly kind: 'handshake'; readonly peer: Peer } | { readonly kind: 'keypair'; readonly peer: Peer; readonly keypair: Keypair };

/** Device services a peer uses (implemented by Tunnel). */
export interface PeerHost {
  readonly identity: StaticIdentity;
  readonly randomBytes: RandomBytes;
  readonly pool: RandomPool;
  readonly mtu: number;
  readonly indices: IndexTable<IndexEntry>;
  readonly routes: AllowedIps<Peer>;
  /** Wall-clock ms for `now`, for TAI64N. */
  wallClockMs(now: number): number;
  /** Counts `count` drops under `reason`. */
  drop(reason: DropReason, count?: number): void;
}

/** wg-show style per-peer state, plus what the timeline needs. */
export interface PeerStats {
  publicKey: PeerId;
  endpoint: Endpoint | undefined;
  allowedIPs: IpPrefix[];
  hasPresharedKey: boolean;
  /** Seconds; 0 = off. */
  persistentKeepalive: number;
  /** `now` of the last completed handshake (response consumed, or responder confirmed). */
  latestHandshakeAt: number | undefined;
  /** Bytes of all datagrams received from / sent to this peer (handshakes included). */
  rxBytes: number;
  txBytes: number;
  /** Age of the current sending key, `undefined` without one. */
  currentKeyAgeMs: number | undefined;
  /** 'established' with a usable current keypair, 'handshaking' while a handshake is under way. */
  session: 'none' | 'handshaking' | 'established';
  /** Initiations sent in the current attempt series. */
  handshakeAttempts: number;
  /** Packets waiting for a session. */
  stagedPackets: number;
  /** Next send counter of the current keypair. */
  sendCounter: number | undefined;
  /** Our index of the current keypair and the peer's. */
  localIndex: number | undefined;
  remoteIndex: number | undefined;
  /** True while we hold a fresh cookie from this peer (its handshakes carry MAC2). */
  hasCookie: boolean;
}

interface StagedItem {
  readonly data: Uint8Array;
  readonly keepalive: KeepaliveReason | undefined;
}

const EMPTY = new Uint8Array(0);
const REKEY_REASONS: ReadonlySet<HandshakeTrigger> = new Set<RekeyReason>(['rekey-after-time', 'rekey-after-messages', 'rekey-before-reject', 'no-reply', 'key-expired']);

/**
 * Length after zero padding to a multiple of 16, never beyond the MTU (paper §5.4.6; the same
 * rule as wireguard-go, including its treatment of packets larger than the MTU).
 */
export function paddedLength(length: number, mtu: number): number {
  let last = length;
  if (mtu === 0) return length + (-length & (PADDING_MULTIPLE - 1));
  if (last > mtu) last %= mtu;
  let padded = (last + PADDING_MULTIPLE - 1) & ~(PADDING_MULTIPLE - 1);
  if (padded > mtu) padded = mtu;
  return length + (padded - last);
}

/** Protocol state of one configured peer. */
export class Peer {
  readonly id: PeerId;
  readonly publicKey: Uint8Array;
  endpoint: Endpoint | undefined;
  readonly handshake: Handshake;
  readonly cookies: CookieGenerator;
  readonly timers: PeerTimers;
  current: Keypair | undefined;
  previous: Keypair | undefined;
  next: Keypair | undefined;
  latestHandshakeAt: number | undefined;
  rxBytes = 0;
  txBytes = 0;

  private staged: StagedItem[] = [];
  private lastSentHandshakeAt = -Infinity;
  private attemptsStartedAt = -Infinity;
  private initiationSentAt: number | undefined;
  private readonly host: PeerHost;
  private readonly handshakeEntry: IndexEntry;

  /** @throws {RangeError} for a low-order public key (see {@link Handshake}). */
  constructor(config: PeerConfig, host: PeerHost) {
    this.host = host;
    this.publicKey = config.publicKey.slice();
    this.id = toBase64(this.publicKey);
    this.handshake = new Handshake(host.identity, this.publicKey, config.presharedKey);
    this.cookies = new CookieGenerator(this.publicKey);
    this.timers = new PeerTimers(() => host.pool.below(REKEY_TIMEOUT_JITTER_MAX_MS), (config.persistentKeepalive ?? 0) * 1000);
    this.endpoint = config.endpoint ? { host: config.endpoint.host, port: config.endpoint.port } : undefined;
    this.handshakeEntry = { kind: 'handshake', peer: this };
  }

  // -------------------------------------------------------------------------------------------
  // Sending
  // -------------------------------------------------------------------------------------------

  /**
   * An IP packet routed to this peer: encrypt now, or stage it (a copy) and start a handshake.
   * `inPlace`: the packet's bytes and the room around them may become the datagram (Keypair.seal).
   */
  sendPacket(packet: Uint8Array, now: number, out: TunnelResult, inPlace = false): void {
    const kp = this.current;
    if (this.staged.length === 0 && kp !== undefined && this.usable(kp, now)) {
      this.sendTransport(kp, packet, undefined, now, out, inPlace);
      this.keepKeyFreshSending(now, out);
      return;
    }
    if (!this.endpoint) {
      this.host.drop('no-endpoint');
      return;
    }
    this.stage({ data: packet.slice(), keepalive: undefined });
    this.sendStaged(now, out, 'data');
  }

  /** Starts a handshake now unless one was sent less than REKEY_TIMEOUT ago. */
  connect(now: number, out: TunnelResult): void {
    this.sendHandshakeInitiation(now, false, 'connect', out);
  }

  private usable(kp: Keypair, now: number): boolean {
    return !kp.sendExhausted && now - kp.createdAt < REJECT_AFTER_TIME_MS;
  }

  private stage(item: StagedItem): void {
    if (this.staged.length >= MAX_STAGED_PACKETS) {
      this.staged.shift();
      this.host.drop('queue-full');
    }
    this.staged.push(item);
  }

  private flushStaged(): void {
    const n = this.staged.length;
    this.staged = [];
    if (n > 0) this.host.drop('flushed', n);
  }

  /** Sends everything staged with the current keypair, or starts a handshake if there is none. */
  private sendStaged(now: number, out: TunnelResult, trigger: HandshakeTrigger): void {
    if (this.staged.length === 0) return;
    const kp = this.current;
    if (kp === undefined || !this.usable(kp, now)) {
      this.sendHandshakeInitiation(now, false, kp ? 'key-expired' : trigger, out);
      return;
    }
    const items = this.staged;
    this.staged = [];
    for (let i = 0; i < items.length; i++) {
      if (kp.sendExhausted) {
        // REJECT_AFTER_MESSAGES reached mid-batch: keep the rest for the next session.
        this.staged = items.slice(i);
        this.sendHandshakeInitiation(now, false, 'key-expired', out);
        return;
      }
      this.sendTransport(kp, items[i].data, items[i].keepalive, now, out);
    }
    this.keepKeyFreshSending(now, out);
  }

  private sendTransport(kp: Keypair, data: Uint8Array, keepalive: KeepaliveReason | undefined, now: number, out: TunnelResult, inPlace = false): void {
    const endpoint = this.endpoint;
    if (!endpoint) {
      this.host.drop('no-endpoint');
      return;
    }
    const counter = kp.sendCounter;
    const msg = kp.seal(data, paddedLength(data.length, this.host.mtu), inPlace);
    out.datagrams.push({ peer: this.id, endpoint, data: msg });
    this.txBytes += msg.length;
    this.timers.anyAuthenticatedPacketTraversal(now);
    this.timers.anyAuthenticatedPacketSent();
    if (data.length > 0) this.timers.dataSent(now);
    else this.event(out, now, { type: 'keepalive-sent', size: msg.length, receiverIndex: kp.remoteIndex, counter, reason: keepalive ?? 'passive' });
  }

  /**
   * Sends a keepalive now (or the queued data, which does the same job); without a usable session
   * this starts a handshake, which tells the peer our address just as well.
   */
  keepaliveNow(now: number, out: TunnelResult, reason: KeepaliveReason): void {
    this.sendKeepalive(now, out, reason);
  }

  /** Queues a keepalive unless data is already waiting (it would do the same job), then flushes. */
  private sendKeepalive(now: number, out: TunnelResult, reason: KeepaliveReason): void {
    if (this.staged.length === 0) this.stage({ data: EMPTY, keepalive: reason });
    this.sendStaged(now, out, reason === 'persistent' ? 'persistent-keepalive' : 'keepalive');
  }

  /** Rekey on the sending side (paper §6.2): after 2^60 messages, or initiator's key older than REKEY_AFTER_TIME. */
  private keepKeyFreshSending(now: number, out: TunnelResult): void {
    const kp = this.current;
    if (kp === undefined) return;
    if (kp.needsRekeyByMessages) this.sendHandshakeInitiation(now, false, 'rekey-after-messages', out);
    else if (kp.isInitiator && now - kp.createdAt > REKEY_AFTER_TIME_MS) this.sendHandshakeInitiation(now, false, 'rekey-after-time', out);
  }

  /**
   * Rekey on the receiving side (paper §6.2): an initiator still receiving with a key about to hit
   * REJECT_AFTER_TIME starts one handshake so the session does not lapse while traffic is one-way.
   */
  private keepKeyFreshReceiving(now: number, out: TunnelResult): void {
    if (this.timers.sentLastMinuteHandshake) return;
    const kp = this.current;
    if (kp !== undefined && kp.isInitiator && now - kp.createdAt > REJECT_AFTER_TIME_MS - KEEPALIVE_TIMEOUT_MS - REKEY_TIMEOUT_MS) {
      this.timers.sentLastMinuteHandshake = true;
      this.sendHandshakeInitiation(now, false, 'rekey-before-reject', out);
    }
  }

  /**
   * Builds and sends a handshake initiation (paper §5.4.2), at most one per REKEY_TIMEOUT.
   * A non-retry call starts a new attempt series (and so postpones giving up), like the kernel.
   */
  private sendHandshakeInitiation(now: number, isRetry: boolean, trigger: HandshakeTrigger, out: TunnelResult): void {
    if (!isRetry) {
      this.timers.handshakeAttempts = 0;
      this.attemptsStartedAt = now;
    }
    const endpoint = this.endpoint;
    if (!endpoint) return;
    if (now - this.lastSentHandshakeAt < REKEY_TIMEOUT_MS) return;
    this.lastSentHandshakeAt = now;

    if (REKEY_REASONS.has(trigger)) {
      const kp = this.current;
      this.event(out, now, { type: 'rekey-started', reason: trigger as RekeyReason, keyAgeMs: kp ? now - kp.createdAt : undefined });
    }
    const host = this.host;
    host.indices.delete(this.handshake.localIndex);
    const index = host.indices.allocate(this.handshakeEntry, host.pool);
    const ephemeral = clampPrivateKey(host.randomBytes(KEY_LENGTH));
    const msg = this.handshake.createInitiation(ephemeral, tai64n(host.wallClockMs(now)), index);
    const mac2 = this.cookies.addMacs(msg, now);
    this.timers.anyAuthenticatedPacketTraversal(now);
    this.timers.anyAuthenticatedPacketSent();
    out.datagrams.push({ peer: this.id, endpoint, data: msg });
    this.txBytes += msg.length;
    this.initiationSentAt = now;
    this.event(out, now, {
      type: 'handshake-initiation-sent',
      size: msg.length,
      senderIndex: index,
      attempt: this.timers.handshakeAttempts + 1,
      trigger,
      mac2,
      endpoint,
    });
    this.timers.handshakeInitiated(now);
  }

  /** Responder: answers the initiation just consumed and parks the new keypair in `next`. */
  private sendHandshakeResponse(now: number, out: TunnelResult): void {
    const host = this.host;
    const endpoint = this.endpoint;
    if (!endpoint) return;
    this.lastSentHandshakeAt = now;
    host.indices.delete(this.handshake.localIndex);
    const index = host.indices.allocate(this.handshakeEntry, host.pool);
    const ephemeral = clampPrivateKey(host.randomBytes(KEY_LENGTH));
    const receiverIndex = this.handshake.remoteIndex;
    const msg = this.handshake.createResponse(ephemeral, index);
    if (!msg) {
      host.indices.delete(index);
      this.handshake.clear();
      host.drop('handshake-decrypt');
      return;
    }
    const mac2 = this.cookies.addMacs(msg, now);
    const kp = this.beginSymmetricSession(now);
    this.timers.sessionDerived(now);
    this.timers.anyAuthenticatedPacketTraversal(now);
    this.timers.anyAuthenticatedPacketSent();
    out.datagrams.push({ peer: this.id, endpoint, data: msg });
    this.txBytes += msg.length;
    this.event(out, now, { type: 'handshake-response-sent', size: msg.length, senderIndex: index, receiverIndex, mac2, endpoint });
    if (kp) this.event(out, now, { type: 'session-established', role: 'responder', localIndex: kp.localIndex, remoteIndex: kp.remoteIndex });
  }

  // -------------------------------------------------------------------------------------------
  // Receiving
  // -------------------------------------------------------------------------------------------

  /** Responder, after the device decrypted the static key naming this peer. */
  consumeInitiation(d: DecryptedInitiation, from: Endpoint, now: number, out: TunnelResult): void {
    const rejection = this.handshake.consumeInitiation(d, now);
    if (rejection) {
      this.host.drop(rejection);
      return;
    }
    this.timers.anyAuthenticatedPacketTraversal(now);
    this.timers.anyAuthenticatedPacketReceived();
    this.event(out, now, { type: 'handshake-initiation-received', size: INITIATION_SIZE, senderIndex: d.senderIndex, endpoint: { host: from.host, port: from.port } });
    this.updateEndpoint(from, now, out);
    this.rxBytes += INITIATION_SIZE;
    this.sendHandshakeResponse(now, out);
  }

  /** Initiator, for a response whose receiver index named our pending handshake. */
  consumeResponse(msg: ResponseView, from: Endpoint, now: number, out: TunnelResult): void {
    if (!this.handshake.consumeResponse(msg)) {
      this.host.drop('handshake-decrypt');
      return;
    }
    this.event(out, now, {
      type: 'handshake-response-received',
      size: RESPONSE_SIZE,
      senderIndex: msg.senderIndex,
      receiverIndex: msg.receiverIndex,
      endpoint: { host: from.host, port: from.port },
      rttMs: this.initiationSentAt === undefined ? undefined : now - this.initiationSentAt,
    });
    this.updateEndpoint(from, now, out);
    this.rxBytes += RESPONSE_SIZE;
    this.timers.anyAuthenticatedPacketTraversal(now);
    this.timers.anyAuthenticatedPacketReceived();
    const kp = this.beginSymmetricSession(now);
    if (!kp) return;
    this.event(out, now, { type: 'session-established', role: 'initiator', localIndex: kp.localIndex, remoteIndex: kp.remoteIndex });
    this.timers.sessionDerived(now);
    this.timers.handshakeComplete();
    this.latestHandshakeAt = now;
    // Confirm the session to the responder right away (paper §5.4.5): data if any, else a keepalive.
    this.sendKeepalive(now, out, 'handshake-complete');
  }

  /** A cookie reply addressed to one of our indices. */
  consumeCookieReply(msg: CookieReplyView, from: Endpoint, now: number, out: TunnelResult): void {
    if (!this.cookies.consumeReply(msg, now)) {
      this.host.drop('cookie-decrypt');
      return;
    }
    this.event(out, now, { type: 'cookie-reply-received', size: msg.bytes.length, receiverIndex: msg.receiverIndex, endpoint: from });
  }

  /**
   * An authenticated, replay-checked transport message decrypted with `kp` (one of ours).
   * `plaintext` is the padded inner packet; `size` the datagram length.
   */
  receiveTransport(kp: Keypair, plaintext: Uint8Array, size: number, counter: number, from: Endpoint, now: number, out: TunnelResult): void {
    let confirmed = false;
    if (kp === this.next) {
      // The initiator used the new keypair: it has it, so we may send with it (paper §5.4.5).
      this.deleteKeypair(this.previous);
      this.previous = this.current;
      this.current = kp;
      this.next = undefined;
      this.timers.handshakeComplete();
      this.latestHandshakeAt = now;
      confirmed = true;
      this.event(out, now, { type: 'session-confirmed', localIndex: kp.localIndex, remoteIndex: kp.remoteIndex });
    }
    this.updateEndpoint(from, now, out);
    if (confirmed) this.sendStaged(now, out, 'data');
    this.rxBytes += size;
    this.keepKeyFreshReceiving(now, out);
    this.timers.anyAuthenticatedPacketTraversal(now);
    this.timers.anyAuthenticatedPacketReceived();
    if (plaintext.length === 0) {
      this.event(out, now, { type: 'keepalive-received', size, localIndex: kp.localIndex, counter });
      return;
    }
    this.timers.dataReceived(now);
    this.deliver(plaintext, out);
  }

  /** Strips padding by the IP length field and enforces cryptokey routing on the source. */
  private deliver(pt: Uint8Array, out: TunnelResult): void {
    const version = pt[0] >> 4;
    let length: number;
    let srcOffset: number;
    let family: 4 | 16;
    if (version === 4) {
      if (pt.length < 20) return this.host.drop('not-ip');
      length = (pt[2] << 8) | pt[3];
      if (length < 20 || length > pt.length) return this.host.drop('not-ip');
      srcOffset = 12;
      family = 4;
    } else if (version === 6) {
      if (pt.length < 40) return this.host.drop('not-ip');
      length = 40 + ((pt[4] << 8) | pt[5]);
      if (length > pt.length) return this.host.drop('not-ip');
      srcOffset = 8;
      family = 16;
    } else {
      return this.host.drop('not-ip');
    }
    if (this.host.routes.lookupAt(pt, srcOffset, family) !== this) return this.host.drop('source-not-allowed');
    out.packets.push({ peer: this.id, data: length === pt.length ? pt : pt.subarray(0, length) });
  }

  /** Roaming (paper §2.1): the source of an authenticated packet becomes the endpoint. */
  private updateEndpoint(from: Endpoint, now: number, out: TunnelResult): void {
    const old = this.endpoint;
    if (old && old.host === from.host && old.port === from.port) return;
    const to = { host: from.host, port: from.port };
    this.endpoint = to;
    this.event(out, now, { type: 'endpoint-changed', from: old, to });
  }

  // -------------------------------------------------------------------------------------------
  // Keypairs
  // -------------------------------------------------------------------------------------------

  /** Turns the finished handshake into a keypair and rotates previous/current/next. */
  private beginSymmetricSession(now: number): Keypair | undefined {
    const keys = this.handshake.deriveTransportKeys();
    if (!keys) return undefined;
    const kp = new Keypair(keys, now);
    this.host.indices.replace(keys.localIndex, { kind: 'keypair', peer: this, keypair: kp });
    if (keys.isInitiator) {
      const oldPrevious = this.previous;
      if (this.next) {
        // A responder-side keypair never confirmed: keep it as previous in case packets for it are in flight.
        this.previous = this.next;
        this.next = undefined;
        this.deleteKeypair(this.current);
      } else {
        this.previous = this.current;
      }
      this.deleteKeypair(oldPrevious);
      this.current = kp;
    } else {
      this.deleteKeypair(this.next);
      this.next = kp;
      this.deleteKeypair(this.previous);
      this.previous = undefined;
    }
    return kp;
  }

  private deleteKeypair(kp: Keypair | undefined): void {
    if (!kp) return;
    const entry = this.host.indices.get(kp.localIndex);
    if (entry && entry.kind === 'keypair' && entry.keypair === kp) this.host.indices.delete(kp.localIndex);
    kp.zero();
  }

  /** Erases every key and the handshake, drops staged packets (paper §6.3: 3 × REJECT_AFTER_TIME). */
  private zeroAll(): void {
    this.deleteKeypair(this.previous);
    this.deleteKeypair(this.current);
    this.deleteKeypair(this.next);
    this.previous = this.current = this.next = undefined;
    this.host.indices.delete(this.handshake.localIndex);
    this.handshake.clear();
    this.flushStaged();
  }

  // -------------------------------------------------------------------------------------------
  // Timers
  // -------------------------------------------------------------------------------------------

  /** Runs every timer due at `now`, then reports keypairs that just expired. */
  runTimers(now: number, out: TunnelResult): void {
    // Each expiry can re-arm timers, but only into the future: a handful of rounds suffices.
    for (let round = 0; round < 16; round++) {
      const name = this.timers.takeDue(now);
      if (!name) break;
      switch (name) {
        case 'retransmitHandshake':
          this.expiredRetransmitHandshake(now, out);
          break;
        case 'sendKeepalive':
          this.sendKeepalive(now, out, 'passive');
          if (this.timers.needAnotherKeepalive) {
            this.timers.needAnotherKeepalive = false;
            this.timers.sendKeepalive = now + KEEPALIVE_TIMEOUT_MS;
          }
          break;
        case 'newHandshake':
          this.sendHandshakeInitiation(now, false, 'no-reply', out);
          break;
        case 'zeroKeyMaterial':
          this.zeroAll();
          this.event(out, now, { type: 'keys-zeroed', idleMs: 3 * REJECT_AFTER_TIME_MS });
          break;
        case 'persistentKeepalive':
          if (this.timers.persistentKeepaliveMs > 0) this.sendKeepalive(now, out, 'persistent');
          break;
      }
    }
    this.reportExpiry(this.current, 'current', now, out);
    this.reportExpiry(this.previous, 'previous', now, out);
    this.reportExpiry(this.next, 'next', now, out);
  }

  private expiredRetransmitHandshake(now: number, out: TunnelResult): void {
    const elapsedMs = now - this.attemptsStartedAt;
    if (elapsedMs >= REKEY_ATTEMPT_TIME_MS) {
      // Give up (paper §6.4): drop what waited for this handshake, erase leftovers later.
      const endpoint = this.endpoint;
      this.event(out, now, {
        type: 'handshake-failed',
        attempts: this.timers.handshakeAttempts + 1,
        elapsedMs,
        endpoint,
        message: `no handshake response from ${endpoint ? formatEndpoint(endpoint) : 'the peer (no endpoint)'}: check the peer's PublicKey, Endpoint and firewall`,
      });
      this.timers.sendKeepalive = Infinity;
      this.flushStaged();
      if (this.timers.zeroKeyMaterial === Infinity) this.timers.zeroKeyMaterial = now + 3 * REJECT_AFTER_TIME_MS;
      return;
    }
    this.timers.handshakeAttempts++;
    this.event(out, now, { type: 'handshake-retry', attempt: this.timers.handshakeAttempts + 1, elapsedMs });
    this.sendHandshakeInitiation(now, true, 'retry', out);
  }

  private reportExpiry(kp: Keypair | undefined, slot: 'current' | 'previous' | 'next', now: number, out: TunnelResult): void {
    if (!kp || kp.expiryReported || now - kp.createdAt < REJECT_AFTER_TIME_MS) return;
    kp.expiryReported = true;
    this.event(out, now, { type: 'keys-expired', slot, localIndex: kp.localIndex, ageMs: now - kp.createdAt });
  }

  /** Earliest deadline of this peer (timers and keypair expiry reports); Infinity if none. */
  nextDeadline(): number {
    let at = this.timers.next();
    for (const kp of [this.current, this.previous, this.next]) {
      if (kp && !kp.expiryReported) at = Math.min(at, kp.createdAt + REJECT_AFTER_TIME_MS);
    }
    return at;
  }

  /** Changes PersistentKeepalive; turning it on sends a keepalive at the next tick, as wg does. */
  setPersistentKeepalive(seconds: number, now: number): void {
    const wasOff = this.timers.persistentKeepaliveMs === 0;
    this.timers.persistentKeepaliveMs = seconds * 1000;
    if (seconds === 0) this.timers.persistentKeepalive = Infinity;
    else if (wasOff && this.endpoint) this.timers.persistentKeepalive = now;
  }

  // -------------------------------------------------------------------------------------------
  // Introspection and teardown
  // -------------------------------------------------------------------------------------------

  /** wg-show style state at `now`. */
  stats(now: number): PeerStats {
    const kp = this.current;
    const usable = kp !== undefined && this.usable(kp, now);
    return {
      publicKey: this.id,
      endpoint: this.endpoint,
      allowedIPs: this.host.routes.entriesFor(this),
      hasPresharedKey: this.handshake.hasPresharedKey,
      persistentKeepalive: this.timers.persistentKeepaliveMs / 1000,
      latestHandshakeAt: this.latestHandshakeAt,
      rxBytes: this.rxBytes,
      txBytes: this.txBytes,
      currentKeyAgeMs: kp ? now - kp.createdAt : undefined,
      session: usable ? 'established' : this.timers.retransmitHandshake !== Infinity || this.next ? 'handshaking' : 'none',
      handshakeAttempts: this.timers.retransmitHandshake !== Infinity ? this.timers.handshakeAttempts + 1 : 0,
      stagedPackets: this.staged.length,
      sendCounter: kp?.sendCounter,
      localIndex: kp?.localIndex,
      remoteIndex: kp?.remoteIndex,
      hasCookie: this.cookies.hasFreshCookie(now),
    };
  }

  /** Zeroes all keys and state; the peer is unusable afterwards. */
  destroy(): void {
    this.zeroAll();
    this.timers.stopAll();
    this.handshake.destroy();
    this.cookies.destroy();
  }

  private event(out: TunnelResult, now: number, e: DistributiveOmit<TunnelEvent, 'peer' | 'at'>): void {
    out.events.push({ ...e, peer: this.id, at: now } as TunnelEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
