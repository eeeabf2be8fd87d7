/**
 * What a Session needs to open an SSH connection, in one module loaded by dynamic `import()` so
 * the SSH code is its own chunk (nothing is paid until the first `ssh`):
 *
 *   connectSsh(dialer, address, {host, port, username, password | privateKey(+passphrase), hostKey?})
 *     ─▶ parse the private key (SSH_KEY_INVALID)         ─▶ dialer.connectTcp
 *     ─▶ SshConnection.connect with checkHostKey = hostKeyPolicy(known hosts, expected key):
 *          expected given:   must equal it              else SSH_HOST_KEY_CHANGED
 *          on record:        must be one of those keys  else SSH_HOST_KEY_CHANGED (hard, no prompt)
 *          not on record:    SSH_HOST_KEY_UNKNOWN with `detail.fingerprint` (the UI asks, then
 *                            retries with hostKey = that fingerprint: trust on first use)
 *     ─▶ the accepted key is recorded in the known hosts
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import type { IpAddress } from '../../shared/ip-address.ts';
import type { Dialer } from '../../engine/dialer.ts';
import { SshConnection, type ConnectSshOptions } from './ssh-connection.ts';
import { DEFAULT_ALGORITHMS, type SshEvent } from './ssh-client.ts';
import { parsePrivateKey } from './ssh-private-key.ts';
import { fingerprint, parsePublicKeyLine, type SshPublicKey } from './ssh-public-key.ts';
import { KnownHosts, knownHostName } from './known-hosts.ts';

export { SshConnection, SshChannel } from './ssh-connection.ts';
export { KnownHosts } from './known-hosts.ts';
export { generateEd25519Key, parsePrivateKey } from './ssh-private-key.ts';
export { fingerprint, parsePublicKeyLine } from './ssh-public-key.ts';

export interface SshConnectParams {
  /** The name the user typed (known hosts are keyed by it, as OpenSSH does). */
  host: string;
  port?: number;
  username: string;
  password?: string;
  /** OpenSSH private key text. */
  privateKey?: string;
  passphrase?: string;
  /** The expected host key: `SHA256:…` fingerprint or a `type base64` public key line. */
  hostKey?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Restrict algorithms (tests, old servers). */
  algorithms?: ConnectSshOptions['algorithms'];
  keepaliveIntervalMs?: number;
  onEvent?: (event: SshEvent) => void;
}

/** Whether `expected` (fingerprint or key line) names `key`. */
export function hostKeyMatches(expected: string, key: SshPublicKey): boolean {
  const e = expected.trim();
  if (/^SHA256:/i.test(e)) return e.replace(/=+$/, '') === fingerprint(key.blob);
  try {
    const parsed = parsePublicKeyLine(e);
    return fingerprint(parsed.blob) === fingerprint(key.blob);
  } catch {
    throw new TypeError('hostKey must be a SHA256:… fingerprint or a "keytype base64" public key line');
  }
}

/** Builds the client's `checkHostKey` (see the module comment). */
export function hostKeyPolicy(known: KnownHosts, host: string, port: number, expected: string | undefined): (key: SshPublicKey, fp: string) => void {
  if (expected !== undefined) checkExpectedSyntax(expected);
  return (key, fp) => {
    const name = knownHostName(host, port);
    if (expected !== undefined) {
      if (!hostKeyMatches(expected, key)) {
        throw new WgwebError(
          ErrorCode.SSH_HOST_KEY_CHANGED,
          `the host key of ${name} is ${fp}, not the expected ${expected.trim().slice(0, 80)}: refusing to connect (someone may be intercepting the connection)`,
          { host: name, fingerprint: fp, keyType: key.type, expected: expected.trim() },
        );
      }
      known.add(host, port, key);
      return;
    }
    const r = known.check(host, port, key);
    if (r.status === 'match') return;
    if (r.status === 'changed' || r.status === 'revoked') {
      throw new WgwebError(
        ErrorCode.SSH_HOST_KEY_CHANGED,
        r.status === 'revoked'
          ? `the host key of ${name} (${fp}) is marked @revoked in the known hosts: refusing to connect`
          : `REMOTE HOST IDENTIFICATION HAS CHANGED: ${name} now presents ${key.type} ${fp}, but the known hosts have ${r.known.join(', ')}. Someone may be intercepting the connection, or the host was reinstalled; refusing. Remove the old key from the known hosts only if you know why it changed.`,
        { host: name, fingerprint: fp, keyType: key.type, known: r.known },
      );
    }
    throw new WgwebError(
      ErrorCode.SSH_HOST_KEY_UNKNOWN,
      `the authenticity of ${name} can't be established: its ${key.type} key fingerprint is ${fp}. Check it with the host's administrator, then connect again with that fingerprint as the host key.`,
      { host: name, fingerprint: fp, keyType: key.type },
    );
  };
}

/** Validates the `expected` argument early: a caller mistake is a TypeError before any I/O. */
function checkExpectedSyntax(expected: string): void {
  if (typeof expected !== 'string') throw new TypeError('hostKey must be a string');
  const e = expected.trim();
  if (/^SHA256:/i.test(e)) {
    if (!/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(e)) throw new TypeError(`hostKey ${e.slice(0, 60)} is not a SHA256 fingerprint as ssh prints it (SHA256: and 43 base64 characters)`);
    return;
  }
  parsePublicKeyLine(e);
}

/**
 * Connects and authenticates.
 * @throws {WgwebError} SSH_KEY_INVALID, SSH_HOST_KEY_UNKNOWN, SSH_HOST_KEY_CHANGED, SSH_AUTH_FAILED,
 *   SSH_PROTOCOL, and the dialer's CONNECTION_REFUSED / TIMEOUT / HOST_UNREACHABLE / ABORTED.
 */
export async function connectSsh(dialer: Dialer, address: IpAddress, known: KnownHosts, p: SshConnectParams): Promise<SshConnection> {
  if (typeof p.username !== 'string' || p.username === '') throw new TypeError('ssh: username is required');
  if (p.password === undefined && p.privateKey === undefined) throw new TypeError('ssh: give a password or a privateKey');
  const port = p.port ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`ssh: port ${port} is not 1-65535`);
  const privateKey = p.privateKey !== undefined ? parsePrivateKey(p.privateKey, p.passphrase) : undefined;
  const checkHostKey = hostKeyPolicy(known, p.host, port, p.hostKey);
  // Offer the host key types on record first, so a host known by its RSA key is not asked for
  // (and then refused over) its Ed25519 key (what OpenSSH's HostKeyAlgorithms ordering does too).
  const knownTypes = known.knownTypes(p.host, port).flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [t]));
  const baseHostKeys = p.algorithms?.hostKey ?? DEFAULT_ALGORITHMS.hostKey;
  const hostKey = [...knownTypes.filter((t) => baseHostKeys.includes(t)), ...baseHostKeys.filter((t) => !knownTypes.includes(t))];
  const timeoutMs = p.timeoutMs ?? 30_000;
  const tcp = await dialer.connectTcp(address, port, { signal: p.signal, timeoutMs });
  return SshConnection.connect(tcp, {
    username: p.username,
    password: p.password,
    privateKey,
    checkHostKey,
    algorithms: { ...p.algorithms, hostKey },
    keepaliveIntervalMs: p.keepaliveIntervalMs,
    signal: p.signal,
    timeoutMs,
    onEvent: p.onEvent,
  });
}
