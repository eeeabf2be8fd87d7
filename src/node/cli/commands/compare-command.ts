/**
 * `wgweb compare --config F URL [--bytes N]`: tunnel vs direct (issue #15 item 1). Downloads N
 * bytes straight from the relay's `/speed` endpoint, then N bytes of URL (a host inside the
 * tunnel) through the tunnel (Session.tunnelVsDirect, src/session/direct-speed.ts), and prints
 * both rates and the tunnel as a percentage of direct. Exit 0 when both transfers completed.
 */
import { formatBitrate } from '../../../shared/format-bytes.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'compare',
  summary: 'Compare a download through the tunnel with the same download straight from the relay.',
  description:
    "Downloads BYTES straight from the relay's speed test (/speed) and then BYTES of URL through the\n" +
    'tunnel, one after the other, and prints both rates and the tunnel as a percentage of direct.\n' +
    'URL must serve at least BYTES bytes (the demo and test servers have /bytes/N).',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + 130 s)' },
    bytes: { type: 'integer', short: 'n', valueName: 'BYTES', min: 1024, max: 1024 ** 3, description: 'bytes each way (default 8388608, 8 MiB; the relay allows at most 64 MiB unless set otherwise)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  positionals: [{ name: 'URL' }],
  examples: ['wgweb compare --config wg0.conf http://10.0.0.1/bytes/8388608', 'wgweb compare --config wg0.conf -n 33554432 http://files.corp/big.iso'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const url = positionals[0];
  return guardTunnelCommand('compare', values, io, handshakeSeconds(values) + 130, async (io, track) => {
    const session = await openTunnel('compare', values, io, track);
    try {
      const r = await session.tunnelVsDirect(url, { bytes: values.bytes, signal: io.signal });
      if (values.json) {
        await io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return 0;
      }
      const line = (what: string, where: string, t: { bitsPerSecond: number; ms: number }): string => `  ${what}  ${formatBitrate(t.bitsPerSecond).padStart(15)} in ${t.ms.toFixed(1)} ms  ${where}`;
      await io.stdout.write(
        [
          `Tunnel vs direct, ${r.bytes} bytes each:`,
          line('direct', `${r.relay} (the relay's /speed, no tunnel)`, r.direct),
          line('tunnel', `${r.url} (through WireGuard)`, r.tunnel),
          `The tunnel reaches ${r.percent}% of the direct rate.`,
          '',
        ].join('\n'),
      );
      return 0;
    } finally {
      await session.close();
    }
  });
}
