/**
 * Real SSH servers inside a test namespace: OpenSSH's `sshd` and Dropbear, run directly (no
 * systemd), each in its own mount namespace so that nothing on the machine changes:
 *
 *   unshare -m ─▶ tmpfs on /run (sshd's privilege separation dir), a temporary /etc/shadow with
 *   root's test password, a temporary /root (authorized_keys, nothing else), for sshd a PAM stack
 *   of pam_unix (keyboard-interactive) ─▶ exec sshd -D -e -f CONFIG | dropbear -F -E
 *
 * ```ts
 * const srv = await startSshd(peer, { host: peer.tunnelAddress4!, password: 'pw', authorizedKeys: [line],
 *                                     config: ['Ciphers aes128-ctr', 'MACs hmac-sha2-256'] });
 * srv.hostKeys['ssh-ed25519'] // { line, fingerprint } as ssh-keygen -l prints it
 * ```
 * Host keys are fresh per server (ssh-keygen / dropbearkey in a temp dir). `close()` stops the
 * server by pid and removes the temp dir; the namespace's close kills any session processes.
 */
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, chmodSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, waitFor, type Namespace, type NsProcess } from './netns.ts';

export type SshHostKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ssh-rsa';

export interface SshServerOptions {
  /** Address to listen on inside the namespace (e.g. the peer's tunnel address). */
  host: string;
  port?: number;
  /** root's password (crypt SHA-512 in a private /etc/shadow). */
  password?: string;
  /** authorized_keys lines for root. */
  authorizedKeys?: readonly string[];
  /** Host key types to generate (default all three). */
  hostKeyTypes?: readonly SshHostKeyType[];
  /** Extra sshd_config lines (sshd) or extra arguments (dropbear). */
  config?: readonly string[];
}

export interface SshServer {
  host: string;
  port: number;
  /** Per host key type: the public key line and its fingerprint as `ssh-keygen -l` prints it. */
  hostKeys: Partial<Record<SshHostKeyType, { line: string; fingerprint: string }>>;
  /** Adds an authorized_keys line for root (read by the server at the next authentication). */
  authorize(line: string): void;
  /** Server log lines. */
  output(): string;
  close(): Promise<void>;
}

const KEYGEN_TYPE: Record<SshHostKeyType, string[]> = {
  'ssh-ed25519': ['-t', 'ed25519'],
  'ecdsa-sha2-nistp256': ['-t', 'ecdsa', '-b', '256'],
  'ssh-rsa': ['-t', 'rsa', '-b', '2048'],
};

const DROPBEAR_TYPE: Record<SshHostKeyType, string[]> = {
  'ssh-ed25519': ['-t', 'ed25519'],
  'ecdsa-sha2-nistp256': ['-t', 'ecdsa', '-s', '256'],
  'ssh-rsa': ['-t', 'rsa', '-s', '2048'],
};

function siteNs(site: Namespace | { readonly ns: Namespace }): Namespace {
  return 'ns' in site ? site.ns : site;
}

/** Prepares the temp dir: shadow, root home with authorized_keys. */
async function prepare(o: SshServerOptions, label: string): Promise<{ dir: string; home: string; shadow: string }> {
  const dir = mkdtempSync(join(tmpdir(), `wgweb-${label}-`));
  chmodSync(dir, 0o700);
  const home = join(dir, 'root');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  chmodSync(home, 0o700);
  writeFileSync(join(home, '.ssh', 'authorized_keys'), (o.authorizedKeys ?? []).join('\n') + '\n', { mode: 0o600 });
  let hash = '*';
  if (o.password !== undefined) hash = (await run('openssl', ['passwd', '-6', '-stdin'], { input: o.password })).stdout.trim();
  const shadow = join(dir, 'shadow');
  writeFileSync(shadow, `root:${hash}:19000:0:99999:7:::\n`, { mode: 0o600 });
  return { dir, home, shadow };
}

function appendAuthorizedKey(home: string, line: string): void {
  if (/[\r\n]/.test(line.trim())) throw new TypeError('authorize: one authorized_keys line, without line breaks');
  appendFileSync(join(home, '.ssh', 'authorized_keys'), line.trim() + '\n');
}

async function publicLine(file: string): Promise<{ line: string; fingerprint: string }> {
  const line = readFileSync(file + '.pub', 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const fp = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', file + '.pub'])).stdout.trim().split(/\s+/)[1]!;
  return { line, fingerprint: fp };
}

function startInMountNs(ns: Namespace, script: string, ready: RegExp, what: string, lines: string[]): Promise<NsProcess> {
  const proc = ns.spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    onLine: (l) => {
      lines.push(l);
      if (lines.length > 400) lines.shift();
    },
  });
  return waitFor(`${what} to listen`, () => {
    if (proc.exitInfo) throw new Error(`${what} exited early:\n${lines.join('\n')}`);
    return lines.some((l) => ready.test(l)) ? proc : undefined;
  }, { timeoutMs: 15_000 }).catch(async (e: unknown) => {
    await proc.stop(500);
    throw e;
  });
}

/** OpenSSH's sshd in `site`'s namespace. */
export async function startSshd(site: Namespace | { readonly ns: Namespace }, o: SshServerOptions): Promise<SshServer> {
  const ns = siteNs(site);
  const port = o.port ?? 22;
  const { dir, home, shadow } = await prepare(o, 'sshd');
  const hostKeys: SshServer['hostKeys'] = {};
  const keyLines: string[] = [];
  for (const type of o.hostKeyTypes ?? (['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa'] as const)) {
    const file = join(dir, `host_${type}`);
    await run('ssh-keygen', ['-q', ...KEYGEN_TYPE[type], '-N', '', '-C', '', '-f', file]);
    hostKeys[type] = await publicLine(file);
    keyLines.push(`HostKey ${file}`);
  }
  const pam = join(dir, 'pam-sshd');
  writeFileSync(pam, 'auth required pam_unix.so\naccount required pam_permit.so\npassword required pam_deny.so\nsession required pam_permit.so\n');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress ${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`,
      ...keyLines,
      'PermitRootLogin yes',
      'PasswordAuthentication yes',
      'KbdInteractiveAuthentication yes',
      'UsePAM yes',
      'PubkeyAuthentication yes',
      'AuthorizedKeysFile /root/.ssh/authorized_keys',
      'StrictModes no',
      'PidFile none',
      'PrintMotd no',
      'LogLevel VERBOSE',
      'MaxStartups 50',
      ...(o.config ?? []),
      '',
    ].join('\n'),
  );
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    'mkdir -m 755 /run/sshd',
    `mount --bind ${shadow} /etc/shadow`,
    `mount --bind ${home} /root`,
    `mount --bind ${pam} /etc/pam.d/sshd`,
    `exec /usr/sbin/sshd -D -e -f ${config}`,
  ].join('; ');
  const lines: string[] = [];
  const proc = await startInMountNs(ns, script, /Server listening on/, 'sshd', lines);
  return {
    host: o.host,
    port,
    hostKeys,
    authorize: (line) => appendAuthorizedKey(home, line),
    output: () => lines.join('\n'),
    close: async () => {
      await proc.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Dropbear in `site`'s namespace (password and public key auth; no keyboard-interactive). */
export async function startDropbear(site: Namespace | { readonly ns: Namespace }, o: SshServerOptions): Promise<SshServer> {
  const ns = siteNs(site);
  const port = o.port ?? 22;
  const { dir, home, shadow } = await prepare(o, 'dropbear');
  const hostKeys: SshServer['hostKeys'] = {};
  const keyArgs: string[] = [];
  for (const type of o.hostKeyTypes ?? (['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ssh-rsa'] as const)) {
    const file = join(dir, `host_${type}`);
    const out = (await run('dropbearkey', [...DROPBEAR_TYPE[type], '-f', file])).stdout;
    const pub = out.split('\n').find((l) => l.startsWith(type === 'ssh-rsa' ? 'ssh-rsa ' : `${type} `))!;
    writeFileSync(file + '.pub', pub + '\n');
    hostKeys[type] = await publicLine(file);
    keyArgs.push('-r', file);
  }
  const bind = o.host.includes(':') ? `[${o.host}]:${port}` : `${o.host}:${port}`;
  const script = [
    'set -e',
    `mount --bind ${shadow} /etc/shadow`,
    `mount --bind ${home} /root`,
    `exec dropbear -F -E -P ${join(dir, 'pid')} -p ${bind} ${keyArgs.join(' ')} ${(o.config ?? []).join(' ')}`,
  ].join('; ');
  const lines: string[] = [];
  const proc = await startInMountNs(ns, script, /Not backgrounding|Running in background/, 'dropbear', lines);
  return {
    host: o.host,
    port,
    hostKeys,
    authorize: (line) => appendAuthorizedKey(home, line),
    output: () => lines.join('\n'),
    close: async () => {
      await proc.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
