/**
 * `wgweb iperf3 HOST[:PORT]`: an iperf3 TCP test through the tunnel against a stock `iperf3 -s`,
 * printed as iperf3 prints it (one line per second, then the sender and receiver lines).
 * `-t`, `-R` and `-P` mean what they mean to iperf3. Exit 0 when the test finished.
 */
import { parseEndpoint } from '../../../shared/ip-address.ts';
import { IPERF3_HEADER, formatIperf3Interval, formatIperf3Summary } from '../../../protocols/iperf3/iperf3-format.ts';
import { DEFAULT_IPERF3_PORT, DEFAULT_IPERF3_SECONDS, DEFAULT_IPERF3_STREAMS } from '../../../protocols/iperf3/iperf3-messages.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'iperf3',
  summary: 'Measure TCP throughput through a WireGuard tunnel against an iperf3 server.',
  description: 'Runs an iperf3 test (the protocol of iperf3 -c) against a stock "iperf3 -s" inside the tunnel.\nHOST is an address or a name (config DNS); the port defaults to 5201.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + time + 40 s)' },
    time: { type: 'integer', short: 't', valueName: 'SECONDS', min: 1, max: 3600, description: `seconds of data (default ${DEFAULT_IPERF3_SECONDS})` },
    reverse: { type: 'boolean', short: 'R', description: 'reverse: the server sends, we receive' },
    parallel: { type: 'integer', short: 'P', valueName: 'STREAMS', min: 1, max: 16, description: `parallel streams (default ${DEFAULT_IPERF3_STREAMS})` },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  positionals: [{ name: 'HOST[:PORT]' }],
  examples: ['wgweb iperf3 --config wg0.conf 10.0.0.2', 'wgweb iperf3 --config wg0.conf -R -P 4 -t 5 10.0.0.2:5202'],
} as const satisfies CommandSpec;

/** `10.0.0.2`, `10.0.0.2:5202`, `[fd00::2]:5201`, `fd00::2`, `host`, `host:5202`. */
export function parseIperf3Target(text: string): { host: string; port: number } {
  if (/^\[.*\]:\d+$/.test(text) || /^[^:]+:\d+$/.test(text)) {
    const e = parseEndpoint(text);
    return { host: e.host, port: e.port };
  }
  if (text.length === 0) throw new UsageError('iperf3', 'HOST is empty');
  return { host: text.replace(/^\[|\]$/g, ''), port: DEFAULT_IPERF3_PORT };
}

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  let target;
  try {
    target = parseIperf3Target(positionals[0]);
  } catch (e) {
    throw e instanceof UsageError ? e : new UsageError('iperf3', (e as Error).message);
  }
  const seconds = values.time ?? DEFAULT_IPERF3_SECONDS;
  return guardTunnelCommand('iperf3', values, io, handshakeSeconds(values) + seconds + 40, async (io, track) => {
    const session = await openTunnel('iperf3', values, io, track);
    try {
      const text = !values.json;
      if (text) await io.stdout.write(`Connecting to host ${target.host}, port ${target.port}${values.reverse ? ' (reverse: the server sends)' : ''}\n`);
      const r = await session.iperf3(
        target.host,
        { seconds, reverse: values.reverse, streams: values.parallel ?? DEFAULT_IPERF3_STREAMS, port: target.port },
        (p) => {
          if (!text) return;
          if (p.type === 'started') void io.stdout.write(`${IPERF3_HEADER}\n`);
          else if (p.type === 'interval') void io.stdout.write(`${formatIperf3Interval(p.interval)}\n`);
        },
        io.signal,
      );
      if (values.json) {
        await io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      } else {
        await io.stdout.write(`- - - - - - - - - - - - - - - - - - - - - - - - -\n${IPERF3_HEADER}\n${formatIperf3Summary(r).join('\n')}\n\niperf Done.\n`);
      }
      return 0;
    } finally {
      await session.close();
    }
  });
}
