/**
 * `wgweb ssh`: runs a command on an SSH server behind the tunnel (exec mode, like `ssh host cmd`):
 * its stdout and stderr stream to ours, stdin is sent when piped, and the exit status is the
 * remote command's (255 for a failure or a remote signal, as ssh does).
 *
 *   USER@HOST [--] COMMAND… ─▶ openTunnel ─▶ Session.ssh (host key: --host-key, or the known hosts
 *   from --known-hosts / ~/.ssh/known_hosts, read only) ─▶ exec ─▶ exit status
 *
 * Secrets never go on the command line: the password comes from WGWEB_SSH_PASSWORD or
 * --password-file, a key passphrase from WGWEB_SSH_PASSPHRASE.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, WgwebError, hasErrorCode } from '../../../shared/errors.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'ssh',
  summary: 'Run a command on an SSH server through a WireGuard tunnel.',
  description:
    'The password is read from WGWEB_SSH_PASSWORD or --password-file (never from the command line), a key passphrase from WGWEB_SSH_PASSPHRASE. ' +
    'The host key must be on record in the known hosts (--known-hosts FILE, default ~/.ssh/known_hosts, never written) or given with --host-key; ' +
    'an unknown key prints its fingerprint and exits 255 unless --accept-new. Put -- before a command that has options of its own.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default 0)' },
    port: { type: 'integer', short: 'p', valueName: 'PORT', min: 1, max: 65535, description: 'SSH port (default 22)' },
    identity: { type: 'string', short: 'i', valueName: 'FILE', description: 'OpenSSH private key file for public key authentication' },
    'password-file': { type: 'string', valueName: 'FILE', description: 'read the password from the first line of FILE' },
    'host-key': { type: 'string', valueName: 'SHA256:…', description: 'the expected host key fingerprint (or "type base64" line)' },
    'known-hosts': { type: 'string', valueName: 'FILE', description: 'known_hosts file to check the host key against (read only)' },
    'accept-new': { type: 'boolean', description: 'accept a host key not yet on record (prints its fingerprint); a changed key is still refused' },
  },
  positionals: [{ name: '[USER@]HOST' }, { name: 'COMMAND', variadic: true, required: false }],
  examples: [
    "WGWEB_SSH_PASSWORD=… wgweb ssh --config wg0.conf admin@10.0.0.2 uptime",
    'wgweb ssh --config wg0.conf -i ~/.ssh/id_ed25519 --host-key SHA256:abc… root@db.corp -- df -h',
    'tar c dir | wgweb ssh --config wg0.conf -i key root@10.0.0.2 -- tar x -C /tmp',
  ],
} as const satisfies CommandSpec;

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new WgwebError(ErrorCode.USAGE, `ssh: cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const target = positionals[0]!;
  const command = positionals.slice(1).join(' ');
  if (!command) throw new UsageError('ssh', 'give a COMMAND to run (interactive shells are in the browser console)');
  const at = target.lastIndexOf('@');
  const username = at > 0 ? target.slice(0, at) : (io.env.USER ?? 'root');
  const host = at > 0 ? target.slice(at + 1) : target;
  if (!host) throw new UsageError('ssh', `"${target}" names no host`);
  const password = values['password-file'] !== undefined ? (await readText(values['password-file'], '--password-file')).split(/\r?\n/)[0] : io.env.WGWEB_SSH_PASSWORD;
  const privateKey = values.identity !== undefined ? await readText(values.identity, 'the key file') : undefined;
  if (password === undefined && privateKey === undefined) throw new UsageError('ssh', 'no credentials: set WGWEB_SSH_PASSWORD, or pass --password-file FILE or -i KEYFILE');
  const knownHostsFile = values['known-hosts'] ?? join(homedir(), '.ssh', 'known_hosts');
  const knownText = values['known-hosts'] !== undefined || existsSync(knownHostsFile) ? await readText(knownHostsFile, '--known-hosts') : '';

  return guardTunnelCommand('ssh', values, io, 0, async (io, track) => {
    const session = await openTunnel('ssh', values, io, track);
    try {
      (await session.sshKnownHosts()).importLines(knownText);
      const options = {
        port: values.port,
        username,
        password,
        privateKey,
        passphrase: io.env.WGWEB_SSH_PASSPHRASE,
        hostKey: values['host-key'],
        signal: io.signal,
      };
      let conn;
      try {
        conn = await session.ssh(host, options);
      } catch (e) {
        if (!(values['accept-new'] && hasErrorCode(e, ErrorCode.SSH_HOST_KEY_UNKNOWN))) throw e;
        const fp = (e as WgwebError).detail.fingerprint as string;
        await io.stderr.write(`wgweb: accepting the new host key of ${host}: ${(e as WgwebError).detail.keyType} ${fp}\n`);
        conn = await session.ssh(host, { ...options, hostKey: fp });
      }
      try {
        const channel = await conn.shell({ pty: false, command });
        const writes: Promise<void>[] = [];
        // The returned write tells the channel when stdout took the bytes: a slow pipe slows the server.
        channel.onData = (d, stderr) => {
          const w = (stderr ? io.stderr : io.stdout).write(d);
          writes.push(w);
          return w;
        };
        // Piped stdin goes to the command (bounded, as CliIo reads it); a terminal sends nothing.
        if (process.stdin.isTTY) channel.eof();
        else {
          void io
            .readStdin({ maxBytes: 256 * 1024 * 1024 })
            .then((data) => {
              if (data.length) channel.write(data);
            })
            .catch(() => {})
            .finally(() => channel.eof());
        }
        const onAbort = (): void => channel.close();
        io.signal.addEventListener('abort', onAbort, { once: true });
        const exit = await channel.exit;
        io.signal.removeEventListener('abort', onAbort);
        await Promise.all(writes);
        const error = await Promise.race([conn.closed, Promise.resolve(undefined)]);
        if (exit.code === null && error) throw error;
        if (exit.signal) await io.stderr.write(`wgweb: the remote command died by signal ${exit.signal}\n`);
        return exit.code ?? 255;
      } finally {
        conn.close();
      }
    } catch (e) {
      if (e instanceof WgwebError && e.code.startsWith('SSH_')) {
        await io.stderr.write(`wgweb: ssh: ${e.message}\n`);
        return 255;
      }
      throw e;
    } finally {
      await session.close();
    }
  });
}
