/**
 * `wgweb up`: brings the tunnel of a config up through the relay and says, peer by peer, which
 * peers are up and why the others are not (the relay refused the endpoint, no handshake answer),
 * like `wg show` with reasons (issue #11 item 13). Exit 0 when every peer is up, 1 otherwise.
 *
 *   startTunnelSession ─▶ wait until every peer is settled (up or down) or --handshake-timeout
 *     ─▶ print the status (text, or --json) ─▶ --watch: keep the tunnel up, one line per peer
 *        state change and per relay move (as the UI's relay history says it), until Ctrl-C or --deadline
 */
import { formatBytes } from '../../../shared/format-bytes.ts';
import { formatMs, relayRttText } from '../../../shared/format-time.ts';
import { relayHost, relayMoveText } from '../../../session/relay-history-text.ts';
import type { PeerStatus, TunnelStatus } from '../../../session/session-types.ts';
import type { Session } from '../../../session/session.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, startTunnelSession, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'up',
  summary: 'Bring a tunnel up and show which peers are up, and why the others are not.',
  description:
    'Connects to every [Peer] of the config through the relay and prints the status of each, as wg show\n' +
    'does, with the reason for each peer that is not up (the relay refused its endpoint, no handshake\n' +
    'answer). One refused peer does not stop the others. Exit 0 when every peer is up, 1 otherwise.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + 10 s; none with --watch)' },
    watch: { type: 'boolean', short: 'w', description: 'keep the tunnel up and print each peer state change until Ctrl-C' },
    json: { type: 'boolean', description: 'print the status as JSON' },
  },
  positionals: [],
  examples: ['wgweb up --config wg0.conf', 'wgweb up --config two-sites.conf --watch'],
} as const satisfies CommandSpec;

/** How often the command looks at the peers while waiting (the status is a cheap snapshot). */
const POLL_MS = 100;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(spec, args);
  const handshakeS = handshakeSeconds(values);
  return guardTunnelCommand('up', values, io, values.watch ? 0 : handshakeS + 10, async (io, track) => {
    const session = await startTunnelSession('up', values, io, track);
    try {
      const status = await settle(session, handshakeS * 1000, io.signal);
      await io.stdout.write(values.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
      if (values.watch) await watch(session, status, io);
      return status.peers.every((p) => p.state === 'up') ? 0 : 1;
    } finally {
      await session.close();
    }
  });
}

/** Waits until every peer is up or down (or the time is up, or the signal aborts); returns the status then. */
async function settle(session: Session, timeoutMs: number, signal: AbortSignal): Promise<TunnelStatus> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const status = session.status();
    const settled = status.peers.every((p) => p.state === 'up' || p.state === 'down' || p.state === 'waiting');
    if (settled || signal.aborted || performance.now() >= end) return status;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** --watch: one line per peer whose state changed, until the signal aborts. */
async function watch(session: Session, first: TunnelStatus, io: CliIo): Promise<void> {
  const seen = new Map(first.peers.map((p) => [p.publicKey, p.state]));
  let lastMove = first.relay.history?.at(-1)?.at ?? 0;
  while (!io.signal.aborted) {
    await new Promise((r) => setTimeout(r, POLL_MS * 5));
    const status = session.status();
    for (const e of status.relay.history ?? []) {
      if (e.at <= lastMove) continue;
      lastMove = e.at;
      await io.stdout.write(`[${utcClock(e.at)}] relay ${relayHost(e.url)}: ${relayMoveText(e)}\n`);
    }
    for (const p of status.peers) {
      if (seen.get(p.publicKey) === p.state) continue;
      seen.set(p.publicKey, p.state);
      const time = utcClock(Date.now());
      await io.stdout.write(`[${time}] peer ${p.publicKey} (${p.endpoint}) is ${p.state}${p.problem ? `: ${p.problem.message}` : ''}\n`);
    }
  }
}

/** The status as `wg show` prints it, with each peer's state and the reason when it is not up. */
export function formatStatus(status: TunnelStatus, at = Date.now()): string {
  const lines = [
    `interface: ${status.interface.addresses.join(', ') || '(no address)'}`,
    `  public key: ${status.interface.publicKey}`,
    ...formatRelay(status.relay),
  ];
  for (const p of status.peers) lines.push('', ...formatPeer(p, at));
  const up = status.peers.filter((p) => p.state === 'up').length;
  lines.push('', `${up} of ${status.peers.length} ${status.peers.length === 1 ? 'peer' : 'peers'} up.`, '');
  return lines.join('\n');
}

/** `HH:MM:SS` in UTC, as every line of `--watch` starts. */
function utcClock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

/** The relay in use, its estimated RTT, the others of a list, and the history of moves (the status card's relay column). */
function formatRelay(r: TunnelStatus['relay']): string[] {
  const lines = [`  relay: ${r.url} (${r.state})`];
  if (r.rttMs !== undefined) lines.push(`    rtt: ${relayRttText(r.url, r.rttMs)}`);
  if (r.relays && r.relays.length > 1) {
    for (const c of r.relays) {
      const opened = c.rttMs !== undefined ? `opened in ${formatMs(c.rttMs)}` : 'not measured';
      lines.push(`    relay ${relayHost(c.url)}: ${opened}${c.failures ? `, ${c.failures} failed` : ''}${c.url === r.url ? ' (in use)' : ''}`);
    }
  }
  const history = r.history ?? [];
  if (history.length > 1 || history.some((e) => e.reason !== 'start')) {
    lines.push('    history (oldest first):');
    for (const e of history) lines.push(`      ${utcClock(e.at)} UTC  ${relayHost(e.url)}  ${relayMoveText(e)}`);
  }
  return lines;
}

function formatPeer(p: PeerStatus, at: number): string[] {
  const lines = [`peer: ${p.publicKey} (${p.state})`, `  endpoint: ${p.endpoint}`, `  allowed ips: ${p.allowedIPs.join(', ') || '(none)'}`];
  if (p.latestHandshakeAt !== undefined) lines.push(`  latest handshake: ${Math.max(0, Math.round((at - p.latestHandshakeAt) / 1000))} seconds ago`);
  if (p.rxBytes || p.txBytes) lines.push(`  transfer: ${formatBytes(p.rxBytes)} received, ${formatBytes(p.txBytes)} sent`);
  if (p.persistentKeepalive) lines.push(`  persistent keepalive: every ${p.persistentKeepalive} seconds`);
  if (p.state !== 'up') {
    const why = p.problem ? p.problem.message : p.state === 'handshaking' ? 'no handshake answer yet: check the peer\'s PublicKey, Endpoint and firewall' : `its relay session is ${p.relayState ?? p.state}`;
    lines.push(`  why not up: ${why}`);
  }
  return lines;
}
