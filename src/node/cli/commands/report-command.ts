/**
 * `wgweb report --config F [--relay URL] [-o FILE]`: connects, checks each peer briefly (did its
 * handshake complete; three pings to a host inside its AllowedIPs) and writes the diagnostic
 * report: one self-contained HTML page and the same data as JSON (src/session/diagnostic-report.ts,
 * report-html.ts), with PrivateKey and PresharedKey left out. What a user attaches to a ticket.
 *
 *   --config ─▶ Session.start ─▶ waitForHandshake (a failure is reported, not fatal)
 *     ─▶ per peer: handshake? ─▶ ping ×3 (--ping HOST, else the peer's first AllowedIPs host)
 *     ─▶ Session.report(runtime, checks) ─▶ FILE.html + FILE.json ─▶ one line per peer
 *
 * Exit 0 when every peer has a handshake and answered its pings, 1 otherwise (the report is
 * written either way: a failing tunnel is what a report is for).
 */
import { writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { formatIp, maskAddress, parsePrefix } from '../../../shared/ip-address.ts';
import { renderReportHtml } from '../../../session/report-html.ts';
import type { PeerCheck } from '../../../session/diagnostic-report.ts';
import type { Session } from '../../../session/session.ts';
import { parseCommandArgs, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { guardTunnelCommand, handshakeSeconds, startTunnelSession, TUNNEL_OPTIONS } from '../tunnel-options.ts';

export const spec = {
  name: 'report',
  summary: 'Check each peer and write a diagnostic report (HTML and JSON, keys left out).',
  description:
    'Connects through the relay, checks every peer (handshake, three pings to a host inside its AllowedIPs)\n' +
    'and writes a report to attach to a ticket: the config without PrivateKey and PresharedKey, relay and\n' +
    'peer status, the event log, the checks, the quality samples, versions and date. The report is\n' +
    'written even when the tunnel does not come up.',
  options: {
    ...TUNNEL_OPTIONS,
    deadline: { ...TUNNEL_OPTIONS.deadline, description: 'end the whole command (exit 1) after this long; 0 for no limit (default: handshake + 30 s)' },
    output: { type: 'string', short: 'o', valueName: 'FILE', description: 'the HTML file to write (default wgweb-report-<time>.html); the JSON goes beside it (.json)' },
    ping: { type: 'string', multiple: true, valueName: 'HOST', description: "ping HOST instead of each peer's first AllowedIPs host (repeat for several peers, in config order)" },
  },
  positionals: [],
  examples: ['wgweb report --config wg0.conf --relay wss://relay.example/wg', 'wgweb report --config wg0.conf -o ticket-4711.html --ping 10.0.0.1'],
} as const satisfies CommandSpec;

export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(spec, args);
  const handshakeS = handshakeSeconds(values);
  return guardTunnelCommand('report', values, io, handshakeS + 30, async (io, track) => {
    const session = await startTunnelSession('report', values, io, track);
    try {
      let handshakeError: string | undefined;
      try {
        await session.waitForHandshake(handshakeS * 1000);
      } catch (e) {
        handshakeError = (e as Error).message;
      }
      const checks = await checkPeers(session, values.ping ?? [], handshakeError, io.signal);
      const { packageVersion } = await import('../../package-files.ts');
      const report = session.report({ wgwebVersion: await packageVersion(), kind: 'node', userAgent: `node/${process.version} (${platform()} ${arch()})` }, checks);
      const htmlPath = values.output ?? `wgweb-report-${report.generatedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-')}.html`;
      const jsonPath = /\.json$/i.test(htmlPath) ? htmlPath.replace(/\.json$/i, '.html') : htmlPath.replace(/(\.html?)?$/i, '.json');
      const [html, json] = /\.json$/i.test(htmlPath) ? [jsonPath, htmlPath] : [htmlPath, jsonPath];
      await writeFile(html, renderReportHtml(report), { mode: 0o644 });
      await writeFile(json, `${JSON.stringify(report, null, 2)}\n`, { mode: 0o644 });
      const lines = checks.map((c) => `peer ${c.publicKey.slice(0, 8)}… (${c.endpoint}): handshake ${c.handshake}${c.pinged ? `, ping ${c.pinged} ${c.pingReceived}/${c.pingSent}${c.pingRttAvgMs !== undefined ? ` avg ${c.pingRttAvgMs.toFixed(2)} ms` : ''}` : ''}${c.note ? ` (${c.note})` : ''}`);
      await io.stdout.write(`${lines.join('\n')}\nReport written: ${html} (HTML), ${json} (JSON); PrivateKey and PresharedKey are not in it.\n`);
      const good = checks.length > 0 && checks.every((c) => c.handshake === 'done' && (c.pingReceived ?? 0) > 0);
      return good ? 0 : 1;
    } finally {
      await session.close();
    }
  });
}

/** The short check of each peer (see the module comment). */
async function checkPeers(session: Session, pingHosts: readonly string[], handshakeError: string | undefined, signal: AbortSignal): Promise<PeerCheck[]> {
  const checks: PeerCheck[] = [];
  const peers = session.status().peers;
  for (const [i, p] of peers.entries()) {
    const check: PeerCheck = { publicKey: p.publicKey, endpoint: p.endpoint, handshake: p.latestHandshakeAt !== undefined ? 'done' : 'no answer' };
    checks.push(check);
    if (check.handshake !== 'done') {
      check.note = p.problem?.message ?? handshakeError ?? 'no handshake';
      continue;
    }
    const target = pingHosts[i] ?? hostIn(p.allowedIPs[0]);
    if (!target) {
      check.note = 'no AllowedIPs host to ping (give --ping HOST)';
      continue;
    }
    check.pinged = target;
    try {
      const s = await session.ping(target, { count: 3, intervalMs: 200, timeoutMs: 1000 }, undefined, signal);
      check.pingSent = s.transmitted;
      check.pingReceived = s.received;
      if (s.rttAvgMs !== undefined) check.pingRttAvgMs = s.rttAvgMs;
      if (!s.received) check.note = `${target} did not answer ping (it may not answer ICMP; give --ping HOST)`;
    } catch (e) {
      check.note = (e as Error).message;
    }
  }
  return checks;
}

/** A host to ping inside `prefix`: the address of a host prefix, else the network's first host (.1). */
export function hostIn(prefix: string | undefined): string | undefined {
  if (!prefix) return undefined;
  let p;
  try {
    p = parsePrefix(prefix);
  } catch {
    return undefined;
  }
  const bits = p.address.length * 8;
  if (p.prefixLength === bits) return formatIp(p.address);
  if (p.prefixLength === 0) return undefined;
  const first = maskAddress(p.address, p.prefixLength);
  first[first.length - 1] |= 1;
  return formatIp(first);
}
