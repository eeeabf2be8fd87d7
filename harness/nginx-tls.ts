/**
 * nginx (Debian's nginx-light) inside a namespace as a real HTTPS server, an implementation
 * independent of OpenSSL's s_server test mode: HTTP/1.1 keep-alive, static files of any size, gzip
 * (which nginx sends chunked, having no length up front).
 *
 *   https://HOST:443/   TLS 1.3 only       https://HOST:8443/  TLS 1.2 only (ECDHE, AES-GCM / ChaCha20)
 *   files from `files` (name → bytes); `gzip on` for application/octet-stream, min length 1 KiB
 *   optional: `serverConfig` (nginx directives, e.g. `location` blocks, in both TLS servers) and
 *   `plainHttp` (a plain http:// server on another port, e.g. redirecting to https)
 *
 * Runs in the foreground as one process (`master_process off`, so no user switch: the temporary
 * directory stays private), all paths under a temporary prefix; resolves once both ports accept.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Namespace, NsProcess } from './netns.ts';
import type { TestCert } from './test-pki.ts';

export interface NginxTlsServer {
  readonly host: string;
  /** TLS 1.3 port (443) and TLS 1.2 port (8443). */
  readonly ports: { tls13: number; tls12: number };
  readonly process: NsProcess;
  close(): Promise<void>;
}

export interface NginxTlsOptions {
  cert: TestCert;
  /** Files served from the document root. */
  files: Record<string, Uint8Array | string>;
  /** nginx directives added to both TLS `server` blocks (e.g. `location = /x { return 302 /y; }`). */
  serverConfig?: string;
  /** A plain-http `server` on `port` of the same address, with these directives. */
  plainHttp?: { port: number; config: string };
}

/** Starts nginx in `site`'s namespace on its IPv4 tunnel address. */
export async function startNginxTls(site: { readonly ns: Namespace; readonly tunnelAddress4?: string }, o: NginxTlsOptions): Promise<NginxTlsServer> {
  const host = site.tunnelAddress4;
  if (!host) throw new RangeError('the site has no IPv4 tunnel address');
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-nginx-'));
  const www = join(dir, 'www');
  mkdirSync(www);
  for (const [name, data] of Object.entries(o.files)) writeFileSync(join(www, name), data);
  const plain = o.plainHttp;
  // The server presents the leaf and its intermediates, as a real deployment would.
  const chain = join(dir, 'chain.pem');
  writeFileSync(chain, [o.cert.certPem, ...o.cert.chain.map((c) => c.certPem)].join(''));
  const ports = { tls13: 443, tls12: 8443 };
  const server = (port: number, protocols: string, extra: string): string => `
    server {
      listen ${host}:${port} ssl;
      ssl_certificate ${chain};
      ssl_certificate_key ${o.cert.keyFile};
      ssl_protocols ${protocols};
      ${extra}
      ${o.serverConfig ?? ''}
      root ${www};
      keepalive_requests 1000;
    }`;
  const conf = `
daemon off;
master_process off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  types { application/octet-stream bin; text/plain txt; text/html html; text/css css; text/javascript js; application/json json; image/svg+xml svg; video/mp4 mp4; }
  default_type application/octet-stream;
  gzip on;
  gzip_types application/octet-stream;
  gzip_min_length 1024;
  ${server(ports.tls13, 'TLSv1.3', '')}
  ${server(ports.tls12, 'TLSv1.2', 'ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256;')}
  ${plain ? `server { listen ${host}:${plain.port}; root ${www}; ${plain.config} }` : ''}
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = site.ns.spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')]);
  const close = async (): Promise<void> => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  // The namespace's children do not hold Node's event loop: without this, a caller with nothing
  // else running (no relay yet) would see its process end in the middle of the wait.
  const holdLoop = setInterval(() => {}, 1000);
  try {
    await waitListening();
  } finally {
    clearInterval(holdLoop);
  }
  return { host, ports, process: proc, close };

  async function waitListening(): Promise<void> {
    for (const port of [ports.tls13, ports.tls12, ...(plain ? [plain.port] : [])]) {
      for (;;) {
        const probe = site.ns.spawn('bash', ['-c', `exec 3<>/dev/tcp/${host}/${port}`]);
        if ((await probe.exited).code === 0) break;
        const exited = await Promise.race([proc.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 100))]);
        if (exited || Date.now() > deadline) {
          const out = proc.output(20);
          await close();
          throw new Error(`nginx did not start listening on ${host}:${port} in ${site.ns.name}: ${out}`);
        }
      }
    }
  }
}
