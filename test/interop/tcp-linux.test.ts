/**
 * wgweb's TCP against the real Linux TCP stack: a TUN device inside a throwaway network namespace
 * (harness/servers/tcp-tun-bridge.py) carries IP packets between the namespace's kernel and
 * a TcpSocketTable driven here by the real clock. Downloads from a Linux sender (CUBIC, SACK,
 * timestamps, window scaling), uploads to a Linux receiver, a Linux client against our listener,
 * IPv4 and IPv6, with and without seeded packet loss, and with Linux's options turned off by sysctl.
 *
 *   Linux TCP ─ tun ─ bridge.py ═stdio═ this file: IPv4/IPv6 framing + loss ─ TcpSocketTable
 *
 * The minimal IP framing here stands in for NetInterface so this suite tests TCP alone.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseIp, type IpAddress } from '../../src/shared/ip-address.ts';
import { internetChecksum } from '../../src/netstack/wire/checksum.ts';
import { verifyTcpChecksum } from '../../src/netstack/wire/tcp.ts';
import { TcpSocketTable } from '../../src/netstack/socket/tcp-socket-table.ts';
import type { TcpSocket, TcpSocketOptions } from '../../src/netstack/socket/tcp-socket.ts';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, createNamespace, type Namespace } from '../../harness/netns.ts';
import { SeededRandom } from '../../harness/impairment-link.ts';

const BRIDGE = fileURLToPath(new URL('../../harness/servers/tcp-tun-bridge.py', import.meta.url));
const LINUX4 = '10.98.0.1';
const OURS4 = '10.98.0.2';
const LINUX6 = 'fd98::1';
const OURS6 = 'fd98::2';
const MTU = 1420;

function shake(seed: string, n: number): Buffer {
  return createHash('shake256', { outputLength: n }).update(seed).digest();
}

/** The Linux side: namespace + bridge process. */
class LinuxPeer {
  onPacket: (p: Uint8Array) => void = () => undefined;
  private readonly waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  private readonly events: Record<string, unknown>[] = [];
  private buf: Buffer = Buffer.alloc(0);
  private stderr = '';

  private constructor(
    readonly ns: Namespace,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (d: Buffer) => this.onData(d));
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
  }

  static async start(sysctls: string[] = []): Promise<LinuxPeer> {
    const ns = await createNamespace({ name: 'tcplinux' });
    const child = spawn(
      'ip',
      ['netns', 'exec', ns.name, 'setpriv', '--pdeathsig', 'KILL', '--', 'python3', '-u', BRIDGE, 'wgtcp0', `${LINUX4}/24`, `${LINUX6}/64`, String(MTU), ...sysctls],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    ns.onClose(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    const peer = new LinuxPeer(ns, child);
    await peer.waitEvent((e) => e.event === 'ready', 15_000);
    return peer;
  }

  send(packet: Uint8Array): void {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(packet.length, 0);
    head[4] = 0;
    this.child.stdin!.write(Buffer.concat([head, packet]));
  }

  command(obj: Record<string, unknown>): void {
    const body = Buffer.from(JSON.stringify(obj));
    const head = Buffer.alloc(5);
    head.writeUInt32BE(body.length, 0);
    head[4] = 1;
    this.child.stdin!.write(Buffer.concat([head, body]));
  }

  waitEvent(pred: (e: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>> {
    const found = this.events.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no bridge event within ${timeoutMs} ms; bridge stderr: ${this.stderr}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
    });
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    await this.ns.close();
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 5) {
      const n = this.buf.readUInt32BE(0);
      if (this.buf.length < 5 + n) break;
      const kind = this.buf[4];
      const body = this.buf.subarray(5, 5 + n);
      this.buf = this.buf.subarray(5 + n);
      if (kind === 0) this.onPacket(new Uint8Array(body));
      else if (kind === 2) {
        const e = JSON.parse(body.toString()) as Record<string, unknown>;
        this.events.push(e);
        for (let i = this.waiters.length - 1; i >= 0; i--) {
          if (this.waiters[i].pred(e)) this.waiters.splice(i, 1)[0].resolve(e);
        }
      }
    }
  }
}

/** Our stack on the real clock, with a minimal IP layer and optional seeded loss both ways. */
class LiveStack {
  readonly table: TcpSocketTable;
  private timer: NodeJS.Timeout | undefined;
  private readonly rng: SeededRandom;
  dropped = 0;

  constructor(
    private readonly peer: LinuxPeer,
    private readonly loss = 0,
    seed = 1,
    options?: TcpSocketOptions,
  ) {
    this.rng = new SeededRandom(seed);
    this.table = new TcpSocketTable({ mtu: MTU, socketOptions: options });
    peer.onPacket = (p) => this.input(p);
  }

  now(): number {
    return performance.now();
  }

  /** Runs after anything the application did, like the worker's event loop. */
  kick(): void {
    const now = this.now();
    for (const o of this.table.poll(now)) {
      if (this.loss > 0 && this.rng.next() < this.loss) {
        this.dropped++;
        continue;
      }
      this.peer.send(wrapIp(o.src, o.dst, o.segment));
    }
    if (this.timer) clearTimeout(this.timer);
    const at = this.table.pollAt();
    if (Number.isFinite(at)) this.timer = setTimeout(() => this.kick(), Math.max(0, at - this.now()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private input(p: Uint8Array): void {
    const parsed = unwrapIp(p);
    if (!parsed) return;
    if (this.loss > 0 && this.rng.next() < this.loss) {
      this.dropped++;
      return;
    }
    if (!verifyTcpChecksum(parsed.segment, parsed.src, parsed.dst)) throw new Error('Linux sent a TCP segment with a bad checksum?');
    this.table.receive(parsed.segment, parsed.src, parsed.dst, this.now());
    this.kick();
  }
}

function wrapIp(src: IpAddress, dst: IpAddress, seg: Uint8Array): Uint8Array {
  if (src.length === 4) {
    const p = new Uint8Array(20 + seg.length);
    p[0] = 0x45;
    p[2] = p.length >> 8;
    p[3] = p.length & 255;
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 6;
    p.set(src, 12);
    p.set(dst, 16);
    const c = internetChecksum(p, 0, 20);
    p[10] = c >> 8;
    p[11] = c & 255;
    p.set(seg, 20);
    return p;
  }
  const p = new Uint8Array(40 + seg.length);
  p[0] = 0x60;
  p[4] = seg.length >> 8;
  p[5] = seg.length & 255;
  p[6] = 6;
  p[7] = 64;
  p.set(src, 8);
  p.set(dst, 24);
  p.set(seg, 40);
  return p;
}

function unwrapIp(p: Uint8Array): { src: IpAddress; dst: IpAddress; segment: Uint8Array } | undefined {
  const v = p[0] >> 4;
  if (v === 4) {
    if (p[9] !== 6) return undefined;
    const ihl = (p[0] & 15) * 4;
    const total = (p[2] << 8) | p[3];
    return { src: p.slice(12, 16), dst: p.slice(16, 20), segment: p.subarray(ihl, total) };
  }
  if (v === 6) {
    if (p[6] !== 6) return undefined;
    const len = (p[4] << 8) | p[5];
    return { src: p.slice(8, 24), dst: p.slice(24, 40), segment: p.subarray(40, 40 + len) };
  }
  return undefined;
}

/** Resolves when `socket` reaches a state, rejects on its error. */
function until(stack: LiveStack, socket: TcpSocket, done: () => boolean, timeoutMs: number, what: string, onEvent?: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not done within ${timeoutMs} ms (state ${socket.state}, ${JSON.stringify(socket.stats())})`)), timeoutMs);
    const check = () => {
      try {
        onEvent?.();
        stack.kick();
        if (socket.error) throw new Error(`${what}: ${socket.error.code}: ${socket.error.message}`);
        if (done()) {
          clearTimeout(timer);
          resolve();
        }
      } catch (e) {
        clearTimeout(timer);
        reject(e as Error);
      }
    };
    socket.onEvent = check;
    check();
  });
}

async function download(stack: LiveStack, host: string, n: number, seed: string): Promise<TcpSocket> {
  const v6 = host.includes(':');
  const s = stack.table.connect({ localAddress: parseIp(v6 ? OURS6 : OURS4), remoteAddress: parseIp(host), remotePort: 9000 }, stack.now());
  const expected = shake(seed, n);
  let got = 0;
  let asked = false;
  const buf = new Uint8Array(1 << 20);
  await until(stack, s, () => got === n && s.readEnded, 120_000, `download of ${n} bytes`, () => {
    if (!asked && s.state === 'ESTABLISHED') {
      s.send(new TextEncoder().encode(`${n} ${seed}\n`));
      asked = true;
    }
    for (;;) {
      const k = s.recvInto(buf);
      if (k === 0) break;
      if (Buffer.compare(Buffer.from(buf.buffer, 0, k), expected.subarray(got, got + k)) !== 0) throw new Error(`byte mismatch at ${got}`);
      got += k;
    }
  });
  s.close();
  stack.kick();
  return s;
}

async function upload(stack: LiveStack, host: string, n: number, seed: string): Promise<TcpSocket> {
  const v6 = host.includes(':');
  const s = stack.table.connect({ localAddress: parseIp(v6 ? OURS6 : OURS4), remoteAddress: parseIp(host), remotePort: 9001 }, stack.now());
  const data = shake(seed, n);
  let sent = 0;
  let answer = '';
  await until(stack, s, () => s.readEnded, 120_000, `upload of ${n} bytes`, () => {
    if (s.state === 'ESTABLISHED' || s.state === 'CLOSE-WAIT') {
      while (sent < n) {
        const k = s.send(data.subarray(sent, Math.min(n, sent + (1 << 20))));
        if (k === 0) break;
        sent += k;
      }
      if (sent === n) s.shutdownWrite();
    }
    for (;;) {
      const chunk = s.recv();
      if (!chunk) break;
      answer += Buffer.from(chunk).toString();
    }
  });
  assert.equal(answer, createHash('sha256').update(data).digest('hex'), 'Linux received exactly what we sent');
  s.close();
  stack.kick();
  return s;
}

/** A Linux client connects to our listener and we echo its bytes back. */
async function echoForLinuxClient(peer: LinuxPeer, stack: LiveStack, v6: boolean, n: number): Promise<void> {
  const port = 9100 + (v6 ? 1 : 0);
  const listener = stack.table.listen({ port });
  const id = `echo-${port}-${n}`;
  const conns = new Set<TcpSocket>();
  listener.onEvent = () => {
    for (let s = listener.accept(); s; s = listener.accept()) {
      const sock = s;
      conns.add(sock);
      let pending: Uint8Array | undefined;
      sock.onEvent = () => {
        for (;;) {
          if (pending) {
            const k = sock.send(pending);
            pending = k < pending.length ? pending.subarray(k) : undefined;
            if (pending) break;
          }
          const chunk = sock.recv(256 * 1024);
          if (!chunk) break;
          pending = chunk;
        }
        if (!pending && sock.readEnded && sock.state === 'CLOSE-WAIT') sock.close();
        stack.kick();
      };
      sock.onEvent('readable', sock);
    }
  };
  peer.command({ cmd: 'client', id, host: v6 ? OURS6 : OURS4, port, bytes: n, seed: id });
  const done = await peer.waitEvent((e) => e.event === 'client-done' && e.id === id, 120_000);
  assert.equal(done.error, undefined, String(done.error));
  assert.equal(done.received, n);
  assert.equal(done.ok, true);
  listener.close();
}

describe('TCP against the Linux kernel stack over a TUN device', { skip: interopSkipReason(['python3']) }, () => {
  after(closeAllNamespaces);

  test('downloads, uploads and echoes over IPv4 and IPv6 with all options on (CUBIC, SACK, timestamps, window scaling)', async (t) => {
    const peer = await LinuxPeer.start();
    t.after(() => peer.close());
    const stack = new LiveStack(peer);
    t.after(() => stack.stop());
    const d = await download(stack, LINUX4, 20_000_000, 'down4');
    const st = d.stats();
    assert.equal(st.sack, true);
    assert.equal(st.timestamps, true);
    assert.ok(st.windowScale.send > 0, 'Linux offered window scaling');
    assert.equal(st.windowScale.receive, 7);
    assert.equal(st.mss, 1380 - 12);
    assert.ok(st.receiveBufferCapacity > 65536, `receive window grew to ${st.receiveBufferCapacity}`);
    await upload(stack, LINUX4, 10_000_000, 'up4');
    await echoForLinuxClient(peer, stack, false, 3_000_000);
    await download(stack, LINUX6, 5_000_000, 'down6');
    await upload(stack, LINUX6, 3_000_000, 'up6');
    await echoForLinuxClient(peer, stack, true, 1_000_000);
  });

  test('the same under 2% seeded loss in both directions: SACK recovery against a real sender and receiver', async (t) => {
    const peer = await LinuxPeer.start();
    t.after(() => peer.close());
    const stack = new LiveStack(peer, 0.02, 7);
    t.after(() => stack.stop());
    await download(stack, LINUX4, 5_000_000, 'lossy-down');
    const u = await upload(stack, LINUX4, 3_000_000, 'lossy-up');
    assert.ok(u.stats().retransmittedSegments > 0);
    await echoForLinuxClient(peer, stack, false, 1_000_000);
    assert.ok(stack.dropped > 100, `dropped ${stack.dropped}`);
  });

  test('a Linux peer with SACK, timestamps and window scaling disabled by sysctl', async (t) => {
    const peer = await LinuxPeer.start(['net.ipv4.tcp_sack=0', 'net.ipv4.tcp_timestamps=0', 'net.ipv4.tcp_window_scaling=0']);
    t.after(() => peer.close());
    const stack = new LiveStack(peer, 0.01, 3);
    t.after(() => stack.stop());
    const d = await download(stack, LINUX4, 3_000_000, 'plain-down');
    assert.equal(d.stats().sack, false);
    assert.equal(d.stats().timestamps, false);
    assert.deepEqual(d.stats().windowScale, { send: 0, receive: 0 });
    await upload(stack, LINUX4, 2_000_000, 'plain-up');
  });

  test('a closed Linux port answers our SYN with RST: connection refused', async (t) => {
    const peer = await LinuxPeer.start();
    t.after(() => peer.close());
    const stack = new LiveStack(peer);
    t.after(() => stack.stop());
    const s = stack.table.connect({ localAddress: parseIp(OURS4), remoteAddress: parseIp(LINUX4), remotePort: 9999 }, stack.now());
    await assert.rejects(until(stack, s, () => false, 10_000, 'connect'), /refused/);
    assert.equal(s.error?.code, 'refused');
  });
});
