/**
 * Plain-words lines for what the tools did, shared by the tool panels and the event log (so a
 * scripted `window.wgweb.ping()` shows up in the log just like a click does).
 */
import type { DnsQueryResult, DnsResult, Iperf3Result, PortCheckResult, PingReply, PingSummary, TcpingResult, TracerouteResult } from '../../worker/tunnel-api.ts';
import { formatBitrate } from '../../../shared/format-bytes.ts';
import { formatMs } from '../../../shared/format-time.ts';
import { formatEndpoint } from '../../../shared/ip-address.ts';

export function describePingReply(reply: PingReply): string {
  if ('timeout' in reply) return `seq ${reply.seq}: no reply (timed out)`;
  if ('error' in reply) return `seq ${reply.seq}: ${reply.error}`;
  const ttl = reply.ttl !== undefined ? ` ttl=${reply.ttl}` : '';
  return `${reply.bytes} bytes from ${reply.from}: seq=${reply.seq}${ttl} time=${formatMs(reply.rttMs)}`;
}

export function describePingSummary(s: PingSummary): string {
  const loss = `${Number(s.lossPercent.toFixed(1))}% loss`;
  let line = `Ping ${s.address}: ${s.transmitted} sent, ${s.received} received, ${loss}`;
  if (s.rttMinMs !== undefined && s.rttAvgMs !== undefined && s.rttMaxMs !== undefined) {
    line += `, rtt min/avg/max ${s.rttMinMs.toFixed(1)}/${s.rttAvgMs.toFixed(1)}/${s.rttMaxMs.toFixed(1)} ms`;
  }
  return line;
}

/** `iperf3 10.0.0.2:5201 (reverse, 2 streams, 5 s): sender 76.1 Mbit/s (227 retransmits), receiver 75.9 Mbit/s`. */
export function describeIperf3(r: Iperf3Result): string {
  const target = r.host === r.address ? r.address : `${r.host} (${r.address})`;
  const how = [r.reverse ? 'reverse' : '', r.streams > 1 ? `${r.streams} streams` : '', `${r.seconds} s`].filter(Boolean).join(', ');
  const retr = r.sender.retransmits !== undefined ? ` (${r.sender.retransmits} retransmits)` : '';
  return `iperf3 ${formatEndpoint({ host: target, port: r.port })} (${how}): sender ${formatBitrate(r.sender.bitsPerSecond)}${retr}, receiver ${formatBitrate(r.receiver.bitsPerSecond)}`;
}

/** `Traceroute 10.0.0.9 (UDP): reached in 3 hops, last 10.0.0.1 → 10.0.1.1 → far.lan (10.0.0.9)`; not reached says so. */
export function describeTraceroute(r: TracerouteResult): string {
  const target = r.host === r.address ? r.address : `${r.host} (${r.address})`;
  const path = r.hops.map((h) => {
    for (const p of h.probes) if (p.kind !== 'timeout') return p.name ? `${p.name} (${p.from})` : p.from;
    return '*';
  });
  const how = r.method === 'icmp' ? 'ICMP' : 'UDP';
  const outcome = r.reached ? `reached in ${r.hops.length} hop${r.hops.length === 1 ? '' : 's'}` : `not reached within ${r.hops.length} hops`;
  return `Traceroute ${target} (${how}): ${outcome}: ${path.join(' → ')}`;
}

export function describeDns(r: DnsResult): string {
  const answer = r.addresses.length ? r.addresses.join(', ') : 'no addresses';
  return `DNS ${r.name} ${r.type}: ${answer} (ttl ${r.ttl} s, from ${r.server}, ${formatMs(r.elapsedMs)})`;
}

/** `DNS example.test MX: 10 mail.example.test. (NOERROR from 10.0.0.53 over UDP, 3 ms)`; NXDOMAIN says so. */
export function describeDnsQuery(r: DnsQueryResult): string {
  const wanted = r.answers.filter((a) => a.type === r.type).map((a) => a.data);
  const answer = r.rcode !== 'NOERROR' ? r.rcode : wanted.length ? wanted.join(', ') : `no ${r.type} record`;
  const alias = r.cnameChain.length ? ` via ${r.cnameChain.join(' -> ')}` : '';
  return `DNS ${r.question} ${r.type}: ${answer}${alias} (${r.rcode} from ${r.server} over ${r.transport.toUpperCase()}, ${formatMs(r.elapsedMs)})`;
}

/** `TCP 10.0.0.2: 12 ports: 2 open (22,80), 9 closed, 1 filtered (8080)`: the ports by outcome. */
export function describePortCheck(r: PortCheckResult): string {
  const target = r.host === r.address ? r.address : `${r.host} (${r.address})`;
  const list = (name: string, p: number[], show: boolean): string => `${p.length} ${name}${show && p.length ? ` (${compactPorts(p)})` : ''}`;
  const parts = [list('open', r.open, true), list('closed', r.closed, false), list('filtered', r.filtered, true)];
  if (r.unreachable.length) parts.push(list('unreachable', r.unreachable, false));
  if (r.skipped) parts.push(`${r.skipped} not tried`);
  return `TCP ${target}: ${r.results.length + r.skipped} ports: ${parts.join(', ')}`;
}

/** Ports as a short list with runs folded: `22,80,8000-8003`. */
export function compactPorts(ports: readonly number[]): string {
  const sorted = [...ports].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(',');
}

const TCPING_WORDS: Record<TcpingResult['result'], string> = {
  open: 'is open',
  refused: 'refused the connection (nothing listens there)',
  timeout: 'did not answer (timed out; a firewall may drop it)',
  unreachable: 'is unreachable',
};

export function describeTcping(r: TcpingResult): string {
  const target = r.host === r.address ? r.address : `${r.host} (${r.address})`;
  const port = formatEndpoint({ host: target, port: r.port }); // brackets exactly when the address is IPv6
  return `TCP ${port} ${TCPING_WORDS[r.result] ?? r.result} after ${formatMs(r.elapsedMs)}`;
}

export function describeHttp(method: string, url: string, status: number, statusText: string, elapsedMs: number): string {
  return `HTTP ${method} ${redactUrl(url)}: ${status}${statusText ? ' ' + statusText : ''} (${formatMs(elapsedMs)})`;
}

/**
 * The URL without credentials, query or fragment: what is safe to keep in a log that people paste
 * into bug reports (tokens often live in query strings).
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    const query = u.search ? '?…' : '';
    return `${u.protocol}//${u.host}${u.pathname}${query}`;
  } catch {
    return url.replace(/[?#].*$/, '');
  }
}
