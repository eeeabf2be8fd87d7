/**
 * `wgweb traceroute HOST`: the routers between the tunnel and HOST, printed like traceroute(8):
 * UDP datagrams to ports 33434, 33435, … (-U, the default) or ICMP echo requests (-I) with a
 * rising TTL / hop limit (Session.traceroute, src/session/traceroute.ts), one line per hop as it
 * completes, `name (address)` from a PTR lookup through the tunnel's DNS unless -n, `*` for a
 * probe nobody answered. Exit 0 when HOST answered, 1 when it was not reached within `-m` hops.
 */
import { TRACEROUTE_BASE_PORT, TRACEROUTE_DEFAULTS, formatTraceHop } from '../../../session/traceroute.ts';
import { UsageError, parseCommandArgs, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'traceroute',
  summary: 'Show the routers between a WireGuard tunnel and a host (UDP or ICMP probes, like traceroute).',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + max hops × (probes × wait + a name lookup) + 10 s)' },
    'max-hops': { type: 'integer', short: 'm', valueName: 'N', min: 1, max: 255, description: `highest TTL / hop limit tried (default ${TRACEROUTE_DEFAULTS.maxHops})` },
    queries: { type: 'integer', short: 'q', valueName: 'N', min: 1, max: 10, description: `probes per hop (default ${TRACEROUTE_DEFAULTS.probesPerHop})` },
    wait: { type: 'number', short: 'w', valueName: 'SECONDS', min: 0.01, max: 60, description: `wait for each probe (default ${TRACEROUTE_DEFAULTS.timeoutMs / 1000})` },
    icmp: { type: 'boolean', short: 'I', description: 'probe with ICMP echo requests' },
    udp: { type: 'boolean', short: 'U', description: 'probe with UDP datagrams to rising ports (the default)' },
    port: { type: 'integer', short: 'p', valueName: 'PORT', min: 1, max: 65535, description: `first UDP destination port, one more per probe (default ${TRACEROUTE_BASE_PORT})` },
    numeric: { type: 'boolean', short: 'n', description: 'print addresses only, no reverse DNS names' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  positionals: [{ name: 'HOST' }],
  examples: ['wgweb traceroute --config wg0.conf 10.0.0.2', 'wgweb traceroute --config wg0.conf -I -n -m 8 -q 1 -w 1 fd00::2'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const host = positionals[0].replace(/^\[|\]$/g, '');
  const maxHops = values['max-hops'] ?? TRACEROUTE_DEFAULTS.maxHops;
  const probesPerHop = values.queries ?? TRACEROUTE_DEFAULTS.probesPerHop;
  const wait = values.wait ?? TRACEROUTE_DEFAULTS.timeoutMs / 1000;
  if (values.icmp && values.udp) throw new UsageError('traceroute', '-I (ICMP) and -U (UDP) exclude each other');
  const method = values.icmp ? 'icmp' : 'udp';
  // Each hop may also wait for one PTR lookup (Session.traceroute bounds it to min(wait, 2 s)).
  const names = values.numeric ? 0 : maxHops * Math.min(wait, TRACEROUTE_DEFAULTS.nameLookupMs / 1000);
  return guardTunnelCommand('traceroute', values, io, handshakeSeconds(values) + maxHops * probesPerHop * wait + names + 10, async (io, track) => {
    const session = await openTunnel('traceroute', values, io, track);
    try {
      const probes = method === 'icmp' ? 'ICMP echo' : `UDP to port ${values.port ?? TRACEROUTE_BASE_PORT}+`;
      if (!values.json) await io.stdout.write(`traceroute to ${host} through ${session.currentRelayUrl()}, ${maxHops} hops max, ${probes}\n`);
      const options = { maxHops, probesPerHop, timeoutMs: wait * 1000, method, port: values.port, resolveNames: !values.numeric, signal: io.signal } as const;
      const r = await session.traceroute(host, options, (hop) => {
        if (!values.json) void io.stdout.write(`${formatTraceHop(hop)}\n`);
      });
      if (values.json) await io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else if (!r.reached) await io.stderr.write(`traceroute: ${r.address} not reached within ${maxHops} hops\n`);
      return r.reached ? 0 : 1;
    } finally {
      await session.close();
    }
  });
}
