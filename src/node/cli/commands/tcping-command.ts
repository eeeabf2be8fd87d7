/**
 * `wgweb tcping`: opens TCP connections to HOST:PORT through the tunnel and reports each as
 * open (with the connect time), refused (RST) or no answer. Exit 0 when the port was open.
 */
import { formatEndpoint, parseEndpoint } from '../../../shared/ip-address.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'tcping',
  summary: 'Time TCP connections through a WireGuard tunnel.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + count × timeout + 10 s)' },
    count: { type: 'integer', short: 'c', valueName: 'COUNT', min: 1, max: 10000, description: 'connection attempts (default 1)' },
    timeout: { type: 'number', short: 'W', valueName: 'SECONDS', min: 0.1, max: 120, description: 'wait for each connection (default 5)' },
  },
  positionals: [{ name: 'HOST:PORT' }],
  examples: ['wgweb tcping --config wg0.conf 10.0.0.2:22', 'wgweb tcping --config wg0.conf -c 5 [fd00::2]:443'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  let target;
  try {
    target = parseEndpoint(positionals[0]);
  } catch (e) {
    throw new UsageError('tcping', `${(e as Error).message}`);
  }
  return guardTunnelCommand('tcping', values, io, (values['handshake-timeout'] ?? 15) + (values.count ?? 1) * (values.timeout ?? 5) + 10, async (io, track) => {
  const session = await openTunnel('tcping', values, io, track);
  let open = 0;
  try {
    const count = values.count ?? 1;
    for (let i = 0; i < count && !io.signal.aborted; i++) {
      const r = await session.tcping(target.host, target.port, { timeoutMs: (values.timeout ?? 5) * 1000 }, io.signal);
      const where = formatEndpoint({ host: r.address, port: r.port });
      const text =
        r.result === 'open'
          ? `${where} is open: connected in ${r.elapsedMs.toFixed(2)} ms`
          : r.result === 'refused'
            ? `${where} refused the connection (RST after ${r.elapsedMs.toFixed(2)} ms): nothing listens there`
            : r.result === 'timeout'
              ? `${where}: no answer within ${(r.elapsedMs / 1000).toFixed(1)} s (filtered, or the host is down)`
              : `${where} is unreachable`;
      await io.stdout.write(`${text}\n`);
      if (r.result === 'open') open++;
    }
  } finally {
    await session.close();
  }
  return open > 0 ? 0 : 1;
  });
}
