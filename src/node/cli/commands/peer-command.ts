/**
 * `wgweb peer`: run wgweb's own WireGuard implementation as an ordinary listening peer on a UDP
 * port, like `wg-quick up` on a server. It answers handshakes and ICMP echo on its tunnel
 * addresses; handy for demos, teaching, and interop checks against kernel wg or wireguard-go.
 */
import { parseEndpoint } from '../../../shared/ip-address.ts';
import { describeTunnelEvent } from '../../../session/tunnel-event-text.ts';
import { formatKey, publicKeyFromPrivate } from '../../../wireguard/noise-keys.ts';
import { UdpPeer } from '../../udp-peer.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { loadConfigFile } from '../load-config-file.ts';

export const spec = {
  name: 'peer',
  summary: 'Listen as a WireGuard peer on a UDP port (wgweb\'s own implementation).',
  options: {
    config: { type: 'string', valueName: 'FILE', description: 'wg-quick config of this peer (required; ListenPort is used)' },
    listen: { type: 'string', valueName: 'HOST:PORT', description: 'UDP address to bind (default 0.0.0.0:<ListenPort>)' },
    quiet: { type: 'boolean', short: 'q', description: 'do not print protocol events' },
  },
  examples: ['wgweb peer --config server.conf', 'wgweb peer --config server.conf --listen 127.0.0.1:51820'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(spec, args);
  if (!values.config) throw new UsageError('peer', 'missing --config FILE (a wg-quick .conf for this peer)');
  const config = await loadConfigFile(values.config, {
    role: 'listener',
    onWarning: (m) => void io.stderr.write(`wgweb: warning: ${m}\n`),
  });
  let host: string | undefined;
  let port: number | undefined;
  if (values.listen) {
    try {
      ({ host, port } = parseEndpoint(values.listen));
    } catch (e) {
      throw new UsageError('peer', `--listen: ${(e as Error).message}`);
    }
  }
  const peer = await UdpPeer.start({
    config,
    host,
    port,
    onTunnelEvent: values.quiet
      ? undefined
      : (e) => void io.stdout.write(`[${new Date().toISOString().slice(11, 23)}] ${describeTunnelEvent(e).message}\n`),
  });
  const pub = formatKey(publicKeyFromPrivate(config.interface.privateKey));
  await io.stdout.write(`wgweb peer listening on udp ${peer.endpoint.host}:${peer.port}, public key ${pub}\n`);
  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await peer.close();
  return 0;
}
