/**
 * lighttpd (Debian's package, mod_auth + mod_authn_file) inside a namespace as a real HTTP
 * authentication server: Basic and Digest (MD5, SHA-256) realms, one user. An independent
 * implementation of RFC 7617 / RFC 7616 to test wgweb's client against.
 *
 *   /basic/index.txt          Basic, realm "basic realm"
 *   /digest-md5/index.txt     Digest algorithm=MD5, realm "md5 realm"
 *   /digest-sha256/index.txt  Digest algorithm=SHA-256, realm "sha256 realm"
 *   each file: "secret <path>\n"; anything else 404. Default port 8081, the peer's IPv4 address.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespace, NsProcess } from './netns.ts';
import { waitForListener } from './intranet-apps.ts';

export const AUTH_USER = { username: 'alice', password: 'wonder land' } as const;
export const AUTH_AREAS = ['basic', 'digest-md5', 'digest-sha256'] as const;

export interface LighttpdAuthServer {
  readonly host: string;
  readonly port: number;
  readonly process: NsProcess;
  /** `http://[user:pass@]host:port/<area>/index.txt` */
  url(area: (typeof AUTH_AREAS)[number], credentials?: { username: string; password: string }): string;
  close(): Promise<void>;
}

/** Starts lighttpd in `site`'s namespace on its tunnel address; resolves once it answers. */
export async function startLighttpdAuth(site: { readonly ns: Namespace; readonly tunnelAddress4?: string }, options: { port?: number } = {}): Promise<LighttpdAuthServer> {
  const host = site.tunnelAddress4;
  if (!host) throw new RangeError('the site has no IPv4 tunnel address');
  const port = options.port ?? 8081;
  const dir = mkdtempSync(join(tmpdir(), 'wgwh-lighttpd-'));
  for (const area of AUTH_AREAS) {
    mkdirSync(join(dir, 'www', area), { recursive: true });
    writeFileSync(join(dir, 'www', area, 'index.txt'), `secret /${area}/index.txt\n`);
  }
  // The "plain" backend keeps the password itself, so every Digest algorithm can be checked.
  writeFileSync(join(dir, 'users'), `${AUTH_USER.username}:${AUTH_USER.password}\n`, { mode: 0o600 });
  const conf = [
    `server.document-root = "${join(dir, 'www')}"`,
    `server.bind = "${host}"`,
    `server.port = ${port}`,
    `server.errorlog = "${join(dir, 'error.log')}"`,
    'server.modules = ( "mod_auth", "mod_authn_file" )',
    'mimetype.assign = ( ".txt" => "text/plain" )',
    'auth.backend = "plain"',
    `auth.backend.plain.userfile = "${join(dir, 'users')}"`,
    'auth.require = (',
    '  "/basic/" => ( "method" => "basic", "realm" => "basic realm", "require" => "valid-user" ),',
    '  "/digest-md5/" => ( "method" => "digest", "algorithm" => "MD5", "realm" => "md5 realm", "require" => "valid-user" ),',
    '  "/digest-sha256/" => ( "method" => "digest", "algorithm" => "SHA-256", "realm" => "sha256 realm", "require" => "valid-user" ),',
    ')',
  ].join('\n');
  writeFileSync(join(dir, 'lighttpd.conf'), conf + '\n');
  const proc = site.ns.spawn('lighttpd', ['-D', '-f', join(dir, 'lighttpd.conf')]);
  const close = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when something listens: lighttpd prints nothing on success in -D mode.
  try {
    await waitForListener(site, host, port, proc, 15_000);
  } catch (e) {
    await close();
    throw e;
  }
  return {
    host,
    port,
    process: proc,
    url(area, credentials) {
      const userinfo = credentials ? `${encodeURIComponent(credentials.username)}:${encodeURIComponent(credentials.password)}@` : '';
      return `http://${userinfo}${host}:${port}/${area}/index.txt`;
    },
    close,
  };
}
