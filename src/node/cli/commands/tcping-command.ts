/**
 * `wgweb tcping`: opens TCP connections to HOST:PORT through the tunnel and reports each as
 * open (with the connect time), refused (RST) or no answer. Exit 0 when the port was open.
 * `wgweb tcping HOST 22,80,8000-8100` checks a port list instead (paced, at most 8 at once):
 * one line per port as it is decided, then the ports by outcome (open / closed / filtered).
 */
import { formatEndpoint, parseEndpoint } from '../../../shared/ip-address.ts';
import { parsePortList } from '../../../shared/port-list.ts';
import type { TcpingResult } from '../../../session/session-types.ts';
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { TCPING_DEFAULTS } from '../../../session/tool-defaults.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'tcping',
  summary: 'Time TCP connections through a WireGuard tunnel.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + count × timeout + 10 s)' },
    count: { type: 'integer', short: 'c', valueName: 'COUNT', min: 1, max: 10000, description: `connection attempts (default ${TCPING_DEFAULTS.count})` },
    timeout: { type: 'number', short: 'W', valueName: 'SECONDS', min: 0.1, max: 120, description: `wait for each connection (default ${TCPING_DEFAULTS.timeoutMs / 1000}; ${TCPING_DEFAULTS.portListTimeoutMs / 1000} for a port list)` },
  },
  positionals: [{ name: 'HOST[:PORT]' }, { name: 'PORTS', required: false }],
  examples: ['wgweb tcping --config wg0.conf 10.0.0.2:22', 'wgweb tcping --config wg0.conf -c 5 [fd00::2]:443', 'wgweb tcping --config wg0.conf 10.0.0.2 22,80,8000-8100'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  if (positionals[1] !== undefined) return runPortList(positionals[0], positionals[1], values, io);
  let target;
  try {
    target = parseEndpoint(positionals[0]);
  } catch (e) {
    throw new UsageError('tcping', `${(e as Error).message}`);
  }
  return guardTunnelCommand('tcping', values, io, handshakeSeconds(values) + (values.count ?? TCPING_DEFAULTS.count) * (values.timeout ?? TCPING_DEFAULTS.timeoutMs / 1000) + 10, async (io, track) => {
  const session = await openTunnel('tcping', values, io, track);
  let open = 0;
  try {
    const count = values.count ?? TCPING_DEFAULTS.count;
    for (let i = 0; i < count && !io.signal.aborted; i++) {
      const r = await session.tcping(target.host, target.port, { timeoutMs: (values.timeout ?? TCPING_DEFAULTS.timeoutMs / 1000) * 1000 }, io.signal);
      await io.stdout.write(`${describe(r)}\n`);
      if (r.result === 'open') open++;
    }
  } finally {
    await session.close();
  }
  return open > 0 ? 0 : 1;
  });
}

function describe(r: TcpingResult): string {
  const where = formatEndpoint({ host: r.address, port: r.port });
  return r.result === 'open'
    ? `${where} is open: connected in ${r.elapsedMs.toFixed(2)} ms`
    : r.result === 'refused'
      ? `${where} refused the connection (RST after ${r.elapsedMs.toFixed(2)} ms): nothing listens there`
      : r.result === 'timeout'
        ? `${where}: no answer within ${(r.elapsedMs / 1000).toFixed(1)} s (filtered, or the host is down)`
        : `${where} is unreachable`;
}

type Values = ReturnType<typeof parseCommandArgs<typeof spec>>['values'];

/** `wgweb tcping HOST PORTS`: the port list, each port once (-c does not apply). */
async function runPortList(hostText: string, portsText: string, values: Values, io: CliIo): Promise<number> {
  let ports: number[];
  try {
    ports = parsePortList(portsText);
  } catch (e) {
    throw new UsageError('tcping', (e as Error).message);
  }
  const host = hostText.replace(/^\[|\]$/g, '');
  const timeout = values.timeout ?? TCPING_DEFAULTS.portListTimeoutMs / 1000;
  // 8 at once, each at most `timeout`: the list takes about ports / 8 × timeout at worst.
  return guardTunnelCommand('tcping', values, io, handshakeSeconds(values) + Math.ceil(ports.length / 8) * timeout + 10, async (io, track) => {
    const session = await openTunnel('tcping', values, io, track);
    try {
      const r = await session.tcpingPorts(host, ports, { timeoutMs: timeout * 1000 }, (x) => void io.stdout.write(`${describe(x)}\n`), io.signal);
      const list = (name: string, p: number[]): string => `${p.length} ${name}${p.length ? ` (${p.join(',')})` : ''}`;
      const parts = [list('open', r.open), list('closed', r.closed), list('filtered', r.filtered)];
      if (r.unreachable.length) parts.push(list('unreachable', r.unreachable));
      if (r.skipped) parts.push(`${r.skipped} not tried`);
      await io.stdout.write(`--- ${host}: ${ports.length} ports: ${parts.join(', ')}\n`);
      return r.open.length > 0 ? 0 : 1;
    } finally {
      await session.close();
    }
  });
}
