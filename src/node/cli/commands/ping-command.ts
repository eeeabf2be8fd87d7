/**
 * `wgweb ping`: ICMP echo (v4 or v6) to an address inside the tunnel, through the relay, printed
 * like ping(8): `-s SIZE` data bytes, `-i SECONDS` between requests, `-M do|dont|want` for Don't
 * Fragment (do: never fragmented, "message too long" over the path MTU; a router on a smaller
 * link answers "fragmentation needed, mtu=…"). Exit status 0 when at least one reply came back.
 */
import { DEFAULT_ECHO_PAYLOAD_BYTES, MAX_ECHO_PAYLOAD_V4 } from '../../../netstack/netstack-constants.ts';
import { PING_DEFAULTS } from '../../../session/tool-defaults.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'ping',
  summary: 'Send ICMP echo requests through a WireGuard tunnel.',
  description: 'Connects through the relay, completes the WireGuard handshake, then pings ADDRESS (an IPv4 or\nIPv6 address inside the tunnel, or a name resolved with the config\'s DNS servers).',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + count × interval + timeout + 10 s)' },
    count: { type: 'integer', short: 'c', valueName: 'COUNT', min: 1, max: 100000, description: `stop after COUNT replies or timeouts (default ${PING_DEFAULTS.count})` },
    interval: { type: 'number', short: 'i', valueName: 'SECONDS', min: 0.01, max: 60, description: `wait between requests (default ${PING_DEFAULTS.intervalMs / 1000})` },
    timeout: { type: 'number', short: 'W', valueName: 'SECONDS', min: 0.01, max: 60, description: `wait for each reply (default ${PING_DEFAULTS.timeoutMs / 1000})` },
    size: { type: 'integer', short: 's', valueName: 'SIZE', min: 0, max: MAX_ECHO_PAYLOAD_V4, description: `data bytes per request (default ${DEFAULT_ECHO_PAYLOAD_BYTES}; the IPv4 packet is SIZE + 28)` },
    pmtudisc: { type: 'string', short: 'M', valueName: 'do|dont|want', description: "Don't Fragment: do = set, never fragment here; dont = clear; want = set unless too big (default)" },
  },
  positionals: [{ name: 'ADDRESS' }],
  examples: [
    'wgweb ping --config wg0.conf --relay ws://127.0.0.1:8080 10.0.0.1',
    'wgweb ping --config wg0.conf -c 10 -i 0.2 fd00::1',
    'wgweb ping --config wg0.conf -M do -s 1392 10.0.0.1     # does a 1420-byte packet pass?',
  ],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const target = positionals[0];
  const mode = values.pmtudisc ?? 'want';
  if (mode !== 'do' && mode !== 'dont' && mode !== 'want') throw new UsageError('ping', `-M takes do, dont or want, not "${mode}"`);
  const size = values.size ?? DEFAULT_ECHO_PAYLOAD_BYTES;
  return guardTunnelCommand('ping', values, io, handshakeSeconds(values) + (values.count ?? PING_DEFAULTS.count) * (values.interval ?? PING_DEFAULTS.intervalMs / 1000) + (values.timeout ?? PING_DEFAULTS.timeoutMs / 1000) + 10, async (io, track) => {
  const session = await openTunnel('ping', values, io, track);
  try {
    const count = values.count ?? PING_DEFAULTS.count;
    await io.stdout.write(`PING ${target} through ${session.currentRelayUrl()}: ${size} data bytes\n`);
    const summary = await session.ping(
      target,
      { count, intervalMs: (values.interval ?? PING_DEFAULTS.intervalMs / 1000) * 1000, timeoutMs: (values.timeout ?? PING_DEFAULTS.timeoutMs / 1000) * 1000, size, pmtuDiscovery: mode },
      (r) => {
        let line: string;
        if ('rttMs' in r) line = `${r.bytes} bytes from ${r.from}: icmp_seq=${r.seq} ttl=${r.ttl ?? '?'} time=${r.rttMs.toFixed(2)} ms`;
        else if ('timeout' in r) line = `no reply for icmp_seq=${r.seq}`;
        else line = `icmp_seq=${r.seq}: ${r.error}`;
        void io.stdout.write(`${line}\n`);
      },
      io.signal,
    );
    const lines = [
      '',
      `--- ${target} ping statistics ---`,
      `${summary.transmitted} packets transmitted, ${summary.received} received, ${summary.lossPercent}% packet loss`,
    ];
    if (summary.received) {
      const f = (n: number | undefined): string => (n ?? 0).toFixed(3);
      lines.push(`rtt min/avg/max/mdev = ${f(summary.rttMinMs)}/${f(summary.rttAvgMs)}/${f(summary.rttMaxMs)}/${f(summary.rttMdevMs)} ms`);
    }
    await io.stdout.write(`${lines.join('\n')}\n`);
    return summary.received > 0 ? 0 : 1;
  } finally {
    await session.close();
  }
  });
}
