/**
 * `wgweb fetch`: an HTTP/1.1 request (http or https) through the tunnel, like a small curl. The body goes to
 * stdout (or `-o FILE`) as it streams; `-i` prints the response head first. Exit status 0 for a
 * 2xx/3xx response, 1 for 4xx/5xx or a failure.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ErrorCode, WgwebError } from '../../../shared/errors.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'fetch',
  summary: 'Make an HTTP request through a WireGuard tunnel.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default 300, or --max-time plus the handshake time)' },
    request: { type: 'string', short: 'X', valueName: 'METHOD', description: 'request method (default GET, or POST with --data)' },
    header: { type: 'string', short: 'H', multiple: true, valueName: "'Name: value'", description: 'add a request header' },
    data: { type: 'string', short: 'd', valueName: '@FILE|TEXT', description: 'request body: text, or @FILE to send a file' },
    output: { type: 'string', short: 'o', valueName: 'FILE', description: 'write the body to FILE instead of stdout' },
    include: { type: 'boolean', short: 'i', description: 'print the status line and headers before the body' },
    'max-time': { type: 'number', short: 'm', valueName: 'SECONDS', min: 0.1, description: 'give up after this long' },
    'no-follow': { type: 'boolean', description: 'do not follow redirects' },
    insecure: { type: 'boolean', short: 'k', description: 'https: accept any server certificate (no checks)' },
    cacert: { type: 'string', multiple: true, valueName: 'FILE', description: 'https: trust the CA or server certificate(s) in this PEM file' },
    'allow-legacy-tls': {
      type: 'string',
      multiple: true,
      valueName: 'HOST',
      description: 'https: allow legacy TLS 1.2 for HOST (old appliances: RSA key exchange without forward secrecy, CBC, SHA-1); certificates are still checked',
    },
  },
  positionals: [{ name: 'URL' }],
  examples: [
    'wgweb fetch --config wg0.conf http://10.0.0.2/',
    'wgweb fetch --config wg0.conf -o big.iso http://files.corp/big.iso',
    'wgweb fetch --config wg0.conf -k https://10.0.0.2/',
    'wgweb fetch --config wg0.conf --cacert corp-ca.pem https://intranet.corp/',
    'wgweb fetch --config wg0.conf --cacert corp-ca.pem --allow-legacy-tls ups.corp https://ups.corp/',
    "wgweb fetch --config wg0.conf -X POST -H 'Content-Type: application/json' --data @req.json http://10.0.0.2/api",
  ],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const url = positionals[0];
  const headers: [string, string][] = [];
  for (const h of values.header) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError('fetch', `-H "${h}" is not 'Name: value'`);
    headers.push([h.slice(0, colon).trim(), h.slice(colon + 1).trim()]);
  }
  let body: Uint8Array | string | undefined;
  if (values.data !== undefined) {
    if (values.data.startsWith('@')) {
      const file = values.data.slice(1);
      try {
        body = new Uint8Array(await readFile(file));
      } catch (e) {
        throw new WgwebError(ErrorCode.USAGE, `fetch: cannot read --data file ${file}: ${(e as Error).message}`);
      }
    } else body = values.data;
  }
  const method = values.request ?? (body !== undefined ? 'POST' : 'GET');
  const trusted: string[] = [];
  for (const file of values.cacert ?? []) {
    try {
      trusted.push(await readFile(file, 'utf8'));
    } catch (e) {
      throw new WgwebError(ErrorCode.USAGE, `fetch: cannot read --cacert file ${file}: ${(e as Error).message}`);
    }
  }
  return guardTunnelCommand('fetch', values, io, (values['max-time'] !== undefined ? values['max-time'] + handshakeSeconds(values) + 5 : 300), async (io, track) => {
  const session = await openTunnel('fetch', values, io, track);
  // A connection that used what only the legacy opt-in allows is said on stderr, like a warning.
  const stopWatching = session.onEvent((e) => {
    const legacy = e.type === 'tls-established' ? /; LEGACY TLS: (.*)$/.exec(e.message) : null;
    if (legacy) void io.stderr.write(`wgweb: fetch: warning: legacy TLS with ${String((e.detail as { host?: unknown } | undefined)?.host)}: ${legacy[1]}\n`);
  });
  try {
    for (const pem of trusted) await session.addTrustedCertificate(pem);
    for (const host of values['allow-legacy-tls'] ?? []) session.allowLegacyTls(host);
    const res = await session.fetch(url, {
      method,
      headers,
      body,
      redirect: values['no-follow'] ? 'manual' : 'follow',
      signal: io.signal,
      timeoutMs: values['max-time'] !== undefined ? values['max-time'] * 1000 : undefined,
      insecure: values.insecure === true,
    });
    if (values.include) {
      const head = [`HTTP/1.1 ${res.status} ${res.statusText}`];
      res.headers.forEach((v, k) => head.push(`${k}: ${v}`));
      await io.stdout.write(`${head.join('\r\n')}\r\n\r\n`);
    }
    if (res.body) {
      if (values.output) {
        const sink = Writable.toWeb(createWriteStream(values.output)) as WritableStream<Uint8Array>;
        await res.body.pipeTo(sink);
      } else {
        const reader = res.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await io.stdout.write(value);
        }
      }
    }
    if (res.status >= 400) {
      await io.stderr.write(`wgweb: fetch: ${url} answered ${res.status} ${res.statusText}\n`);
      return 1;
    }
    return 0;
  } finally {
    stopWatching();
    await session.close();
  }
  });
}
