/**
 * Session.ssh against real SSH servers inside the wireguard-go namespace: OpenSSH's sshd and
 * Dropbear, every byte through wgweb's TCP/IP stack, the relay and a real WireGuard tunnel.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go ── kernel TCP ── sshd :22 / dropbear :2222 / restricted sshds
 *
 * Proves: host key fingerprints as ssh-keygen prints them, unknown/changed keys refused, known_hosts
 * import, password / keyboard-interactive / each key type (and a passphrase-protected key), every
 * listed kex, host key, cipher and MAC against a server offering only that one, 50 MB intact,
 * flow control (a paused reader holds sshd at one window),
 * `stty size` following a resize, exit statuses, rekeying mid-session.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, run } from '../../harness/netns.ts';
import { startDropbear, startSshd, type SshServer } from '../../harness/ssh-servers.ts';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import type { SshConnection } from '../../src/protocols/ssh/ssh-connection.ts';
import { CHANNEL_WINDOW } from '../../src/protocols/ssh/ssh-client.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 180_000 };
const PASSWORD = 'wgweb-ssh-pw';
const BINARIES = ['sshd', 'ssh-keygen', 'dropbear', 'dropbearkey', 'unshare', 'mount', 'openssl'];

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

function rejectsWith(code: string, check?: (e: WgwebError) => void): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof WgwebError, `expected a WgwebError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  };
}

describe('Session.ssh through wireguard-go to sshd and dropbear', { skip: interopSkipReason(BINARIES) }, () => {
  let fx: SessionFixture;
  let sshd: SshServer;
  let dropbear: SshServer;
  let keyDir: string;
  const keys: Record<string, { privateKey: string; line: string }> = {};
  let host: string;

  before(async () => {
    keyDir = mkdtempSync(join(tmpdir(), 'wgweb-ssh-keys-'));
    const specs: [string, string[], string][] = [
      ['ed25519', ['-t', 'ed25519'], ''],
      ['ecdsa', ['-t', 'ecdsa', '-b', '256'], ''],
      ['rsa', ['-t', 'rsa', '-b', '2048'], ''],
      ['ed25519-pass', ['-t', 'ed25519', '-a', '4'], 'correct horse'],
    ];
    for (const [name, args, pass] of specs) {
      const file = join(keyDir, name);
      await run('ssh-keygen', ['-q', ...args, '-N', pass, '-C', `wgweb-${name}`, '-f', file]);
      keys[name] = { privateKey: readFileSync(file, 'utf8'), line: readFileSync(file + '.pub', 'utf8').trim() };
    }
    fx = await startSessionFixture({ name: 'ssh', servers: ['dns'] });
    host = fx.peer.tunnelAddress4!;
    const authorizedKeys = Object.values(keys).map((k) => k.line);
    sshd = await startSshd(fx.peer, { host, password: PASSWORD, authorizedKeys });
    dropbear = await startDropbear(fx.peer, { host, port: 2222, password: PASSWORD, authorizedKeys });
  }, SLOW);
  after(async () => {
    await sshd?.close();
    await dropbear?.close();
    await fx?.close();
    await closeAllNamespaces();
    if (keyDir) rmSync(keyDir, { recursive: true, force: true });
  });

  const ed25519Fp = (): string => sshd.hostKeys['ssh-ed25519']!.fingerprint;

  test('an unknown host key is refused with the fingerprint ssh-keygen prints; connecting with it records the key', SLOW, async () => {
    await assert.rejects(
      fx.session.ssh(host, { username: 'root', password: PASSWORD }),
      rejectsWith(ErrorCode.SSH_HOST_KEY_UNKNOWN, (e) => {
        assert.equal(e.detail.fingerprint, ed25519Fp());
        assert.match(e.message, new RegExp(ed25519Fp().replace(/[+/]/g, '\\$&')));
      }),
    );
    const conn = await fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: ed25519Fp() });
    assert.equal(conn.info.hostKeyFingerprint, ed25519Fp());
    conn.close();
    // Now on record: no hostKey needed.
    const again = await fx.session.ssh(host, { username: 'root', password: PASSWORD });
    assert.equal((await again.exec('echo known')).code, 0);
    again.close();
  });

  test('password through keyboard-interactive (sshd with PAM): exec returns stdout, stderr and the exit status', SLOW, async () => {
    const conn = await fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: ed25519Fp() });
    try {
      assert.match(conn.info.serverVersion, /^SSH-2\.0-OpenSSH/);
      assert.equal(conn.info.negotiated.strictKex, true);
      const r = await conn.exec('echo out; echo err >&2; printf "grüße ☃\\n"; exit 7');
      assert.equal(text(r.stdout), 'out\ngrüße ☃\n');
      assert.equal(text(r.stderr), 'err\n');
      assert.equal(r.code, 7);
      const sig = await conn.exec('kill -TERM $$');
      assert.equal(sig.code, null);
      assert.equal(sig.signal, 'TERM');
      const stdin = await conn.exec('tr a-z A-Z', { stdin: 'through stdin' });
      assert.equal(text(stdin.stdout), 'THROUGH STDIN');
    } finally {
      conn.close();
    }
  });

  test('a wrong password is SSH_AUTH_FAILED naming the methods the server accepts', SLOW, async () => {
    await assert.rejects(
      fx.session.ssh(host, { username: 'root', password: 'wrong', hostKey: ed25519Fp() }),
      rejectsWith(ErrorCode.SSH_AUTH_FAILED, (e) => assert.match(e.message, /publickey/)),
    );
  });

  for (const name of ['ed25519', 'ecdsa', 'rsa', 'ed25519-pass']) {
    test(`public key authentication with an OpenSSH ${name} key`, SLOW, async () => {
      const conn = await fx.session.ssh(host, {
        username: 'root',
        privateKey: keys[name]!.privateKey,
        passphrase: name.endsWith('-pass') ? 'correct horse' : undefined,
        hostKey: ed25519Fp(),
      });
      try {
        const r = await conn.exec('whoami');
        assert.equal(text(r.stdout), 'root\n');
      } finally {
        conn.close();
      }
      assert.match(sshd.output(), new RegExp(`Accepted publickey for root .*${name.startsWith('ecdsa') ? 'ECDSA' : name.startsWith('rsa') ? 'RSA' : 'ED25519'}`));
    });
  }

  test('a passphrase-protected key without (or with a wrong) passphrase is SSH_KEY_INVALID before any connection', async () => {
    await assert.rejects(fx.session.ssh(host, { username: 'root', privateKey: keys['ed25519-pass']!.privateKey }), rejectsWith(ErrorCode.SSH_KEY_INVALID, (e) => assert.match(e.message, /passphrase/)));
    await assert.rejects(
      fx.session.ssh(host, { username: 'root', privateKey: keys['ed25519-pass']!.privateKey, passphrase: 'nope' }),
      rejectsWith(ErrorCode.SSH_KEY_INVALID, (e) => assert.match(e.message, /wrong passphrase/)),
    );
  });

  test('a different host key than expected is SSH_HOST_KEY_CHANGED; an imported known_hosts line is trusted', SLOW, async () => {
    const other = sshd.hostKeys['ecdsa-sha2-nistp256']!.fingerprint;
    await assert.rejects(
      fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: other }),
      rejectsWith(ErrorCode.SSH_HOST_KEY_CHANGED, (e) => assert.equal(e.detail.fingerprint, ed25519Fp())),
    );
    const known = await fx.session.sshKnownHosts();
    assert.deepEqual(known.importLines(`[${host}]:2222 ${dropbear.hostKeys['ssh-ed25519']!.line}\n`), { added: 1, skipped: [] });
    const conn = await fx.session.ssh(host, { port: 2222, username: 'root', password: PASSWORD });
    assert.equal(conn.info.hostKeyFingerprint, dropbear.hostKeys['ssh-ed25519']!.fingerprint);
    conn.close();
  });

  test('a server that comes back with new host keys is refused hard (known hosts, no hostKey)', SLOW, async () => {
    const first = await startSshd(fx.peer, { host, port: 2200, password: PASSWORD, hostKeyTypes: ['ssh-ed25519'] });
    try {
      const c = await fx.session.ssh(host, { port: 2200, username: 'root', password: PASSWORD, hostKey: first.hostKeys['ssh-ed25519']!.fingerprint });
      c.close();
    } finally {
      await first.close();
    }
    const second = await startSshd(fx.peer, { host, port: 2200, password: PASSWORD, hostKeyTypes: ['ssh-ed25519'] });
    try {
      await assert.rejects(
        fx.session.ssh(host, { port: 2200, username: 'root', password: PASSWORD }),
        rejectsWith(ErrorCode.SSH_HOST_KEY_CHANGED, (e) => {
          assert.equal(e.detail.fingerprint, second.hostKeys['ssh-ed25519']!.fingerprint);
          assert.match(e.message, /REMOTE HOST IDENTIFICATION HAS CHANGED/);
        }),
      );
    } finally {
      await second.close();
    }
  });

  test('Dropbear: password and public keys (ed25519, ecdsa, rsa-sha2-256); it offers no keyboard-interactive', SLOW, async () => {
    const hostKey = dropbear.hostKeys['ssh-ed25519']!.fingerprint;
    const pw = await fx.session.ssh(host, { port: 2222, username: 'root', password: PASSWORD, hostKey });
    assert.match(pw.info.serverVersion, /dropbear/i);
    assert.equal(text((await pw.exec('echo dropbear')).stdout), 'dropbear\n');
    pw.close();
    for (const name of ['ed25519', 'ecdsa', 'rsa']) {
      const c = await fx.session.ssh(host, { port: 2222, username: 'root', privateKey: keys[name]!.privateKey, hostKey });
      assert.equal((await c.exec('true')).code, 0, name);
      c.close();
    }
    // Dropbear's server offers no keyboard-interactive (so that method is proven against sshd only).
    await assert.rejects(
      fx.session.ssh(host, { port: 2222, username: 'root', password: 'wrong', hostKey }),
      rejectsWith(ErrorCode.SSH_AUTH_FAILED, (e) => assert.deepEqual([...(e.detail.methods as string[])].sort(), ['password', 'publickey'])),
    );
  });

  test('wgweb ssh (CLI): exec with stdin, the remote exit status, an unknown host key exits 255 with the fingerprint, --accept-new', SLOW, async () => {
    const base = ['ssh', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, '--known-hosts', '/dev/null'];
    const io = createMemoryIo({ env: { WGWEB_SSH_PASSWORD: PASSWORD }, stdin: 'piped in\n' });
    const code = await main([...base, '--host-key', ed25519Fp(), `root@${host}`, '--', 'cat; echo to-stderr >&2; exit 3'], io);
    assert.equal(code, 3, io.stderrText());
    assert.equal(io.stdoutText(), 'piped in\n');
    assert.match(io.stderrText(), /to-stderr/);

    const unknown = createMemoryIo({ env: { WGWEB_SSH_PASSWORD: PASSWORD } });
    assert.equal(await main([...base, `root@${host}`, 'true'], unknown), 255);
    assert.match(unknown.stderrText(), new RegExp(`SSH_HOST_KEY_UNKNOWN|can't be established.*${ed25519Fp().replace(/[+/]/g, '\\$&')}`));

    const accept = createMemoryIo();
    assert.equal(await main([...base, '--accept-new', '-i', join(keyDir, 'ed25519'), `root@${host}`, 'echo', 'accepted'], accept), 0, accept.stderrText());
    assert.equal(accept.stdoutText(), 'accepted\n');
    assert.match(accept.stderrText(), new RegExp(`accepting the new host key .*${ed25519Fp().replace(/[+/]/g, '\\$&')}`));
  });

  test('50 MB through cat arrive intact (SHA-256)', SLOW, async () => {
    const file = '/tmp/wgweb-ssh-50m';
    await fx.peer.ns.exec('sh', ['-c', `head -c 52428800 /dev/urandom > ${file}`]);
    const expected = (await fx.peer.ns.exec('sha256sum', [file])).stdout.split(' ')[0];
    const conn = await fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: ed25519Fp() });
    try {
      const r = await conn.exec(`cat ${file}; rm -f ${file}`);
      assert.equal(r.code, 0);
      assert.equal(r.stdout.length, 52428800);
      assert.equal(createHash('sha256').update(r.stdout).digest('hex'), expected);
    } finally {
      conn.close();
    }
  });

  test('flow control: a paused reader holds sshd at one channel window; resumed, all of cat arrives intact', SLOW, async () => {
    const size = 16 * 1024 * 1024;
    const file = '/tmp/wgweb-ssh-flow';
    await fx.peer.ns.exec('sh', ['-c', `head -c ${size} /dev/urandom > ${file}`]);
    const expected = (await fx.peer.ns.exec('sha256sum', [file])).stdout.split(' ')[0];
    const conn = await fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: ed25519Fp() });
    try {
      const channel = await conn.shell({ pty: false, command: `cat ${file}; rm -f ${file}` });
      const hash = createHash('sha256');
      const held: (() => void)[] = [];
      let received = 0;
      // The consumer takes nothing in: every chunk stays undrained.
      channel.onData = (d) => {
        hash.update(d);
        received += d.length;
        return new Promise<void>((r) => held.push(r));
      };
      for (let i = 0; i < 600 && received < CHANNEL_WINDOW; i++) await new Promise((r) => setTimeout(r, 50));
      assert.equal(received, CHANNEL_WINDOW, 'sshd fills exactly the window we advertised');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(received, CHANNEL_WINDOW, 'and sends nothing more while the reader is paused');
      // The reader resumes: what was held is drained, the rest flows.
      channel.onData = (d) => {
        hash.update(d);
        received += d.length;
      };
      for (const r of held.splice(0)) r();
      assert.deepEqual(await channel.exit, { code: 0 });
      assert.equal(received, size);
      assert.equal(hash.digest('hex'), expected);
    } finally {
      conn.close();
    }
  });

  test('a PTY shell: stty size follows resize (window-change), exit status on exit', SLOW, async () => {
    const conn = await fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: ed25519Fp() });
    try {
      const shell = await conn.shell({ cols: 100, rows: 30 });
      let seen = '';
      shell.onData = (d) => (seen += text(d));
      const waitFor = async (re: RegExp): Promise<void> => {
        for (let i = 0; i < 300 && !re.test(seen); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(seen, re);
      };
      shell.write('stty size; echo MARK1\n');
      await waitFor(/30 100\r?\n(.*\r?\n)?MARK1/);
      shell.resize(120, 40);
      shell.write('stty size; echo MARK2\n');
      await waitFor(/40 120\r?\n(.*\r?\n)?MARK2/);
      shell.write('exit 5\n');
      assert.deepEqual(await shell.exit, { code: 5 });
    } finally {
      conn.close();
    }
  });

  test('rekeying mid-session keeps the session working', SLOW, async () => {
    const conn: SshConnection = await fx.session.ssh(host, { username: 'root', password: PASSWORD, hostKey: ed25519Fp() });
    try {
      assert.equal(conn.client.stats.kexCount, 1);
      conn.client.rekey();
      conn.flush();
      const r = await conn.exec('head -c 1000000 /dev/zero | wc -c');
      assert.equal(text(r.stdout).trim(), '1000000');
      assert.equal(conn.client.stats.kexCount, 2);
    } finally {
      conn.close();
    }
  });

  // One server per algorithm, offering only that one: proves each listed algorithm end to end.
  const restricted: [string, string, (n: SshConnection['info']['negotiated']) => string][] = [
    ['KexAlgorithms curve25519-sha256', 'curve25519-sha256', (n) => n.kex],
    ['KexAlgorithms ecdh-sha2-nistp256', 'ecdh-sha2-nistp256', (n) => n.kex],
    ['KexAlgorithms diffie-hellman-group14-sha256', 'diffie-hellman-group14-sha256', (n) => n.kex],
    ['HostKeyAlgorithms ssh-ed25519', 'ssh-ed25519', (n) => n.hostKey],
    ['HostKeyAlgorithms ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp256', (n) => n.hostKey],
    ['HostKeyAlgorithms rsa-sha2-512', 'rsa-sha2-512', (n) => n.hostKey],
    ['HostKeyAlgorithms rsa-sha2-256', 'rsa-sha2-256', (n) => n.hostKey],
    ['Ciphers chacha20-poly1305@openssh.com', 'chacha20-poly1305@openssh.com', (n) => n.cipherServerToClient],
    ['Ciphers aes128-gcm@openssh.com', 'aes128-gcm@openssh.com', (n) => n.cipherServerToClient],
    ['Ciphers aes256-gcm@openssh.com', 'aes256-gcm@openssh.com', (n) => n.cipherServerToClient],
    ['Ciphers aes128-ctr\nMACs hmac-sha2-256-etm@openssh.com', 'aes128-ctr hmac-sha2-256-etm@openssh.com', (n) => `${n.cipherServerToClient} ${n.macServerToClient}`],
    ['Ciphers aes256-ctr\nMACs hmac-sha2-512-etm@openssh.com', 'aes256-ctr hmac-sha2-512-etm@openssh.com', (n) => `${n.cipherServerToClient} ${n.macServerToClient}`],
    ['Ciphers aes128-ctr\nMACs hmac-sha2-256', 'aes128-ctr hmac-sha2-256', (n) => `${n.cipherServerToClient} ${n.macServerToClient}`],
    ['Ciphers aes256-ctr\nMACs hmac-sha2-512', 'aes256-ctr hmac-sha2-512', (n) => `${n.cipherServerToClient} ${n.macServerToClient}`],
  ];
  test('every listed algorithm against an sshd offering only that one (and 256 KiB intact through it)', SLOW, async (t) => {
    let port = 2300;
    for (const [config, expected, pick] of restricted) {
      await t.test(expected, async () => {
        const srv = await startSshd(fx.peer, { host, port: port++, password: PASSWORD, config: config.split('\n') });
        try {
          const hostKeyType = expected.startsWith('rsa-') ? 'ssh-rsa' : expected.startsWith('ecdsa') ? 'ecdsa-sha2-nistp256' : 'ssh-ed25519';
          const conn = await fx.session.ssh(host, { port: srv.port, username: 'root', password: PASSWORD, hostKey: srv.hostKeys[hostKeyType]!.fingerprint });
          try {
            assert.equal(pick(conn.info.negotiated), expected);
            const r = await conn.exec('head -c 262144 /dev/urandom | tee /dev/stderr | sha256sum');
            assert.equal(r.stderr.length, 262144);
            assert.equal(text(r.stdout).split(' ')[0], createHash('sha256').update(r.stderr).digest('hex'));
          } finally {
            conn.close();
          }
        } finally {
          await srv.close();
        }
      });
    }
  });
});
