/**
 * `wgweb mtu HOST`: the largest packet that crosses the tunnel to HOST unfragmented, found the way
 * `ping -M do -s SIZE` by hand finds it: Don't Fragment echo requests in a binary search over
 * sizes, jumping to the MTU a router's "fragmentation needed" / Packet Too Big reports
 * (Session.mtu, src/session/mtu-search.ts). One line per size tried, then the path MTU and what
 * it means for `MTU =`. Exit 0 when a size passed, 1 when the host did not answer at all.
 */
import type { MtuSearchStep } from '../../../session/session-types.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { MTU_DEFAULTS } from '../../../session/tool-defaults.ts';
import { guardTunnelCommand, handshakeSeconds, openTunnel, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'mtu',
  summary: 'Find the largest packet that reaches a host through a WireGuard tunnel unfragmented.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + 30 probes × timeout × tries + 10 s)' },
    timeout: { type: 'number', short: 'W', valueName: 'SECONDS', min: 0.01, max: 60, description: `wait for each probe (default ${MTU_DEFAULTS.timeoutMs / 1000})` },
    tries: { type: 'integer', valueName: 'N', min: 1, max: 10, description: `probes per size before silence counts as too big (default ${MTU_DEFAULTS.tries})` },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  positionals: [{ name: 'HOST' }],
  examples: ['wgweb mtu --config wg0.conf 10.0.0.2', 'wgweb mtu --config wg0.conf -W 0.5 fd00::2'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, args);
  const host = positionals[0].replace(/^\[|\]$/g, '');
  const timeout = values.timeout ?? MTU_DEFAULTS.timeoutMs / 1000;
  const tries = values.tries ?? MTU_DEFAULTS.tries;
  return guardTunnelCommand('mtu', values, io, handshakeSeconds(values) + 30 * timeout * tries + 10, async (io, track) => {
    const session = await openTunnel('mtu', values, io, track);
    try {
      if (!values.json) await io.stdout.write(`MTU probe to ${host} through ${session.currentRelayUrl()}: Don't Fragment echo requests\n`);
      const r = await session.mtu(host, { timeoutMs: timeout * 1000, tries }, (step) => {
        if (!values.json) void io.stdout.write(`${formatMtuStep(step)}\n`);
      }, io.signal);
      if (values.json) {
        await io.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      } else {
        const reported = r.reportedMtu !== undefined ? `; reported: ${r.reportedMtu}` : '';
        await io.stdout.write(`--- ${r.address}: path MTU ${r.pathMtu} (${r.largestPayload} data bytes + ${r.pathMtu - r.largestPayload} of headers; tunnel MTU ${r.interfaceMtu}${reported})\n${r.advice}\n`);
      }
      return 0;
    } finally {
      await session.close();
    }
  });
}

/** `1392 bytes (1420-byte packet): too big, mtu 1300 from 10.77.1.1` and the like. */
export function formatMtuStep(s: MtuSearchStep): string {
  const what = `${String(s.size).padStart(5)} bytes (${s.packetBytes}-byte packet): `;
  const tries = s.tries > 1 ? ` after ${s.tries} tries` : '';
  switch (s.outcome) {
    case 'ok':
      return `${what}passes${s.rttMs !== undefined ? `, reply in ${s.rttMs.toFixed(2)} ms` : ''}`;
    case 'too-big':
      return `${what}too big, mtu ${s.mtu}${s.from ? ` from ${s.from}` : ' (known path MTU)'}`;
    case 'timeout':
      return `${what}no reply${tries} (dropped: too big on a path that sends no ICMP, or lost)`;
    default:
      return `${what}unreachable`;
  }
}
