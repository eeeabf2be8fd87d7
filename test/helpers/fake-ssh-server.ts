/**
 * A fake SSH server, sans-IO, for tests of the client's connection layer without a real sshd:
 * version exchange, a curve25519-sha256 key exchange signed by an Ed25519 host key, then
 * chacha20-poly1305@openssh.com both ways (our own packet cipher, whose interop with OpenSSH is
 * proven in test/interop/session-ssh.test.ts), any authentication accepted, session channels
 * confirmed and their requests answered.
 *
 *   receive(client bytes) ─▶ version / packets ─▶ replies queued ─▶ takeOutput()
 *   global requests (keepalive@openssh.com) recorded and answered with REQUEST_FAILURE, or not
 *     (`answerGlobalRequests = false`: a server gone silent)
 *   flood(channel, bytes) ─▶ CHANNEL_DATA as the client's window allows (RFC 4254 §5.2), more
 *     after each CHANNEL_WINDOW_ADJUST; `ignoreWindow` sends past it (a misbehaving server)
 *   connection() ─▶ a TcpConnection whose other end is this server (for SshConnection)
 *
 * Test-only: it trusts its input (a malformed client packet throws).
 */
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import type { TcpConnection } from '../../src/engine/dialer.ts';
import { Msg, kexinitMessage } from '../../src/protocols/ssh/ssh-client.ts';
import { SshReader, SshWriter, sshPayload } from '../../src/protocols/ssh/ssh-codec.ts';
import { deriveKey, exchangeHash } from '../../src/protocols/ssh/ssh-kex.ts';
import { NoneOpener, NoneSealer, createOpener, createSealer, type PacketOpener, type PacketSealer } from '../../src/protocols/ssh/ssh-packet-cipher.ts';
import { concatBytes } from '../../src/shared/bytes.ts';
import { parseIp } from '../../src/shared/ip-address.ts';

const CIPHER = 'chacha20-poly1305@openssh.com';
const SERVER_VERSION = 'SSH-2.0-FakeSsh_1.0';
const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

export interface FakeChannel {
  /** The client's channel id (recipient of what we send). */
  readonly clientId: number;
  /** Bytes the client still lets us send (its window). */
  window: number;
  readonly maxPacket: number;
  /** Bytes waiting to be flooded. */
  flooding: number;
  /** Every CHANNEL_WINDOW_ADJUST amount the client sent, in order. */
  readonly adjusts: number[];
  /** Bytes of CHANNEL_DATA sent so far. */
  sent: number;
}

export class FakeSshServer {
  readonly channels: FakeChannel[] = [];
  /** Send CHANNEL_DATA past the client's window (to test that the client refuses it). */
  ignoreWindow = false;
  /** Names of the global requests the client sent (e.g. keepalive@openssh.com), in order. */
  readonly globalRequests: string[] = [];
  /** Answer global requests that want a reply (with REQUEST_FAILURE, as sshd answers keepalives); false: a server gone silent. */
  answerGlobalRequests = true;
  private readonly hostSecret = random(32);
  private readonly hostBlob = new SshWriter().string('ssh-ed25519').string(ed25519.getPublicKey(this.hostSecret)).finish();
  private out: Uint8Array[] = [];
  private inBuf = new Uint8Array(0);
  private clientVersion: string | undefined;
  private clientKexinit: Uint8Array | undefined;
  private serverKexinit: Uint8Array | undefined;
  private sealer: PacketSealer = new NoneSealer(random);
  private opener: PacketOpener = new NoneOpener();
  private pendingOpener: PacketOpener | undefined;
  private seqIn = 0;
  private seqOut = 0;

  constructor() {
    this.out.push(new TextEncoder().encode(`${SERVER_VERSION}\r\n`));
    this.serverKexinit = kexinitMessage(random(16), { kex: ['curve25519-sha256'], hostKey: ['ssh-ed25519'], cipher: [CIPHER], mac: ['hmac-sha2-256'] });
    this.send(this.serverKexinit);
  }

  /** Bytes for the client. */
  takeOutput(): Uint8Array | undefined {
    if (!this.out.length) return undefined;
    const all = concatBytes(...this.out);
    this.out = [];
    return all;
  }

  /** Queues `bytes` of data on `channel`, sent as the client's window allows. */
  flood(channel: FakeChannel, bytes: number): void {
    channel.flooding += bytes;
    this.pump(channel);
  }

  receive(bytes: Uint8Array): void {
    this.inBuf = concatBytes(this.inBuf, bytes);
    if (this.clientVersion === undefined) {
      const nl = this.inBuf.indexOf(0x0a);
      if (nl < 0) return;
      this.clientVersion = new TextDecoder().decode(this.inBuf.subarray(0, nl)).trim();
      this.inBuf = this.inBuf.subarray(nl + 1);
    }
    for (;;) {
      if (this.inBuf.length < this.opener.lengthBytes) return;
      const len = this.opener.packetLength(this.seqIn, this.inBuf);
      const total = 4 + len + this.opener.macLength;
      if (this.inBuf.length < total) return;
      const plain = this.opener.open(this.seqIn++, this.inBuf.subarray(0, total));
      if (!plain) throw new Error('fake SSH server: bad MAC from the client');
      this.inBuf = this.inBuf.subarray(total);
      this.handle(plain.subarray(1, plain.length - plain[0]!));
    }
  }

  /** A TcpConnection to this server: what the client writes is received, replies are readable. */
  connection(): TcpConnection {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let resolveClosed!: () => void;
    const closed = new Promise<void>((r) => (resolveClosed = r));
    let scheduled = false;
    let open = true;
    const deliver = (): void => {
      scheduled = false;
      const out = this.takeOutput();
      if (out && open) controller.enqueue(out);
    };
    // Replies arrive on a later turn, like a network's.
    this.notify = () => {
      if (!scheduled) setTimeout(deliver, 0);
      scheduled = true;
    };
    const readable = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
        deliver();
      },
    });
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        if (open) this.receive(chunk);
      },
    });
    const end = (): void => {
      open = false;
      try {
        controller.close();
      } catch {
        // already closed
      }
      resolveClosed();
    };
    return { readable, writable, remoteAddress: parseIp('10.0.0.2'), remotePort: 22, close: end, abort: end, closed };
  }

  private handle(p: Uint8Array): void {
    const r = new SshReader(p, 1);
    switch (p[0]) {
      case Msg.KEXINIT:
        this.clientKexinit = p.slice();
        return;
      case Msg.KEX_INIT:
        return this.kexReply(r.string().slice());
      case Msg.NEWKEYS:
        this.opener = this.pendingOpener!;
        return;
      case Msg.SERVICE_REQUEST:
        return this.send(sshPayload((w) => w.byte(Msg.SERVICE_ACCEPT).string(r.text())));
      case Msg.USERAUTH_REQUEST:
        return this.send(Uint8Array.of(Msg.USERAUTH_SUCCESS));
      case Msg.CHANNEL_OPEN: {
        r.text();
        const ch: FakeChannel = { clientId: r.uint32(), window: r.uint32(), maxPacket: r.uint32(), flooding: 0, adjusts: [], sent: 0 };
        this.channels.push(ch);
        const id = this.channels.length - 1;
        return this.send(sshPayload((w) => w.byte(Msg.CHANNEL_OPEN_CONFIRMATION).uint32(ch.clientId).uint32(id).uint32(2 * 1024 * 1024).uint32(32 * 1024)));
      }
      case Msg.CHANNEL_REQUEST: {
        const ch = this.channels[r.uint32()]!;
        r.text();
        if (r.boolean()) this.send(sshPayload((w) => w.byte(Msg.CHANNEL_SUCCESS).uint32(ch.clientId)));
        return;
      }
      case Msg.GLOBAL_REQUEST: {
        this.globalRequests.push(r.text());
        if (r.boolean() && this.answerGlobalRequests) this.send(Uint8Array.of(Msg.REQUEST_FAILURE));
        return;
      }
      case Msg.CHANNEL_WINDOW_ADJUST: {
        const ch = this.channels[r.uint32()]!;
        const add = r.uint32();
        ch.adjusts.push(add);
        ch.window += add;
        return this.pump(ch);
      }
      default:
        return; // data, EOF, close: nothing to answer here
    }
  }

  private pump(ch: FakeChannel): void {
    while (ch.flooding > 0 && (this.ignoreWindow || ch.window > 0)) {
      const n = Math.min(ch.flooding, ch.maxPacket, this.ignoreWindow ? Infinity : ch.window);
      const data = new Uint8Array(n).map((_, i) => (ch.sent + i) & 0xff);
      this.send(sshPayload((w) => w.byte(Msg.CHANNEL_DATA).uint32(ch.clientId).string(data)));
      ch.flooding -= n;
      ch.window -= n;
      ch.sent += n;
    }
  }

  private kexReply(clientPublic: Uint8Array): void {
    const secret = random(32);
    const serverPublic = x25519.getPublicKey(secret);
    const k = new SshWriter().mpintFromUnsigned(x25519.getSharedSecret(secret, clientPublic)).finish();
    const h = exchangeHash({
      clientVersion: this.clientVersion!,
      serverVersion: SERVER_VERSION,
      clientKexinit: this.clientKexinit!,
      serverKexinit: this.serverKexinit!,
      hostKey: this.hostBlob,
      clientPublic,
      serverPublic,
      mpintValues: false,
      sharedSecret: k,
    });
    const sig = new SshWriter().string('ssh-ed25519').string(ed25519.sign(h, this.hostSecret)).finish();
    this.send(sshPayload((w) => w.byte(Msg.KEX_REPLY).string(this.hostBlob).string(serverPublic).string(sig)));
    this.send(Uint8Array.of(Msg.NEWKEYS));
    const keys = (keyLetter: string) => ({ cipher: CIPHER, mac: 'hmac-sha2-256', iv: new Uint8Array(0), key: deriveKey(k, h, keyLetter, h, 64), macKey: new Uint8Array(0) });
    this.sealer = createSealer(keys('D'), random);
    this.pendingOpener = createOpener(keys('C'));
  }

  private send(payload: Uint8Array): void {
    this.out.push(this.sealer.seal(this.seqOut++, payload));
    this.notify?.();
  }

  /** Set by connection(): hands queued output to the client on a later turn. */
  private notify: (() => void) | undefined;
}
