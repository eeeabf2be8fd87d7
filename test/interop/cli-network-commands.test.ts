/**
 * `wgweb fetch|ping|dns|tcping` as a user runs them: a wg-quick file on disk, a relay URL, a real
 * wireguard-go peer in a namespace with the kernel's servers behind it. Most cases run `main()`
 * in-process with a memory CliIo (what it printed, its exit code); one spawns `node bin/wgweb.js`
 * to prove the real executable streams a body to stdout and exits with the right status.
 *
 *   wgweb (main / bin/wgweb.js) ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel ── HTTP, DNS, ICMP
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { deterministicSha256 } from '../../harness/deterministic-bytes.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo, type MemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 120_000 };
const BIN = fileURLToPath(new URL('../../bin/wgweb.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

async function sha256File(path: string): Promise<{ length: number; sha256: string }> {
  const h = createHash('sha256');
  let length = 0;
  for await (const chunk of createReadStream(path)) {
    h.update(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return { length, sha256: h.digest('hex') };
}

let lastRun = 0;
async function pauseBetweenHandshakes(): Promise<void> {
  const wait = lastRun + 50 - performance.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  lastRun = performance.now();
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('wgweb network commands against wireguard-go through the relay', { skip: interopSkipReason() }, () => {
  let fx: SessionFixture;
  let config: string;
  let relay: string;
  let out: string;
  before(async () => {
    fx = await startSessionFixture({ name: 'cli', servers: ['http', 'dns'], session: false });
    config = fx.configFile();
    relay = fx.relay.wsUrl;
    out = mkdtempSync(join(tmpdir(), 'wgweb-cli-out-'));
  });
  after(async () => {
    if (out) rmSync(out, { recursive: true, force: true });
    await fx?.close();
    await closeAllNamespaces();
  });

  /**
   * Runs `wgweb ARGS` in-process; the tunnel options come first, as a user would type them.
   *
   * Every run is a new WireGuard session with the same key. A responder ignores an initiation
   * whose whitened TAI64N timestamp (~16.8 ms steps) is not newer than the last one, or that
   * comes within 20 ms of it (wireguard-go's flood limit, 50/s); the client would then wait out
   * REKEY_TIMEOUT (5 s) before retrying. A short pause keeps back-to-back runs off that path.
   */
  async function wgweb(command: string, ...args: string[]): Promise<{ code: number; io: MemoryIo }> {
    await pauseBetweenHandshakes();
    const io = createMemoryIo();
    const code = await main([command, '--config', config, '--relay', relay, ...args], io);
    return { code, io };
  }

  test('wgweb fetch -o FILE writes exactly the served bytes and exits 0', SLOW, async () => {
    const size = 8 * 1024 * 1024 + 11;
    const file = join(out, 'body.bin');
    const { code, io } = await wgweb('fetch', '-o', file, fx.http.url(`/bytes/${size}?seed=4`));
    assert.equal(code, 0, io.stderrText());
    assert.equal(io.stdoutText(), '', 'with -o nothing goes to stdout');
    assert.deepEqual(await sha256File(file), { length: size, sha256: deterministicSha256(size, 4) });
  });

  test('wgweb fetch of a 404 exits 1 and says what the server answered', SLOW, async () => {
    const url = fx.http.url('/status/404');
    const { code, io } = await wgweb('fetch', url);
    assert.equal(code, 1);
    assert.match(io.stderrText(), new RegExp(`${escape(url)} answered 404`));
  });

  test('the real executable (node bin/wgweb.js fetch URL) streams the body to stdout and exits 0', SLOW, async () => {
    const size = 3 * 1024 * 1024 + 1;
    await pauseBetweenHandshakes();
    const child = spawn(process.execPath, [BIN, 'fetch', '--config', config, '--relay', relay, fx.http.url(`/bytes/${size}?seed=5`)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const h = createHash('sha256');
    let length = 0;
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      h.update(b);
      length += b.length;
    });
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    clearTimeout(timer);
    assert.equal(code, 0, stderr);
    assert.equal(length, size);
    assert.equal(h.digest('hex'), deterministicSha256(size, 5));
  });

  test('wgweb ping exits 0 and prints ping-style replies and summary', SLOW, async () => {
    const target = fx.peer.tunnelAddress4!;
    const { code, io } = await wgweb('ping', '-c', '3', '-i', '0.1', target);
    const text = io.stdoutText();
    assert.equal(code, 0, `${text}\n${io.stderrText()}`);
    assert.match(text, new RegExp(`^PING ${escape(target)} through `, 'm'));
    assert.equal(text.match(new RegExp(`^\\d+ bytes from ${escape(target)}: icmp_seq=\\d ttl=\\d+ time=[\\d.]+ ms$`, 'gm'))?.length, 3, text);
    assert.match(text, new RegExp(`^--- ${escape(target)} ping statistics ---$`, 'm'));
    assert.match(text, /^3 packets transmitted, 3 received, 0% packet loss$/m);
    assert.match(text, /^rtt min\/avg\/max\/mdev = [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ ms$/m);
  });

  test('wgweb ping over IPv6 inside the tunnel exits 0', SLOW, async () => {
    const { code, io } = await wgweb('ping', '-c', '2', '-i', '0.1', fx.peer.tunnelAddress6!);
    assert.equal(code, 0, io.stderrText());
    assert.match(io.stdoutText(), /^2 packets transmitted, 2 received, 0% packet loss$/m);
  });

  test('wgweb dns prints the address the DNS server inside the tunnel gave (A and AAAA)', SLOW, async () => {
    const a = await wgweb('dns', 'server.wgweb.test');
    assert.equal(a.code, 0, a.io.stderrText());
    assert.match(a.io.stdoutText(), new RegExp(`^server\\.wgweb\\.test\\t\\d+\\tIN\\tA\\t${escape(fx.peer.tunnelAddress4!)}$`, 'm'));
    const aaaa = await wgweb('dns', '--type', 'AAAA', 'server.wgweb.test');
    assert.equal(aaaa.code, 0, aaaa.io.stderrText());
    assert.match(aaaa.io.stdoutText(), new RegExp(`\\tIN\\tAAAA\\t${escape(fx.peer.tunnelAddress6!)}$`, 'm'));
  });

  test('wgweb dns of an unknown name exits 1 and names it', SLOW, async () => {
    const { code, io } = await wgweb('dns', 'missing.wgweb.test');
    assert.equal(code, 1);
    assert.match(io.stderrText(), /missing\.wgweb\.test/);
  });

  test('wgweb tcping: an open port exits 0, a closed one exits 1 saying it was refused', SLOW, async () => {
    const v4 = fx.peer.tunnelAddress4!;
    const open = await wgweb('tcping', `${v4}:80`);
    assert.equal(open.code, 0, open.io.stderrText());
    assert.match(open.io.stdoutText(), new RegExp(`^${escape(v4)}:80 is open: connected in [\\d.]+ ms$`, 'm'));
    const closed = await wgweb('tcping', `${v4}:81`);
    assert.equal(closed.code, 1);
    assert.match(closed.io.stdoutText(), /refused the connection/);
  });

  test('a config path that does not exist exits 1 with "cannot read config" and the path', SLOW, async () => {
    const io = createMemoryIo();
    const missing = join(out, 'nope', 'wg0.conf');
    const code = await main(['ping', '--config', missing, '--relay', relay, fx.peer.tunnelAddress4!], io);
    assert.equal(code, 1);
    assert.match(io.stderrText(), new RegExp(`cannot read config ${escape(missing)}`));
    assert.equal(io.stdoutText(), '');
  });
});
