/**
 * The last result of each diagnostic tool, kept by the Session for the diagnostic report
 * (issue #15 item 7): what was asked, when, whether it worked, one line a person reads at a
 * glance, and the result itself (plain data) or the error's code and message.
 *
 *   Session.ping / dnsQuery / tcpingPorts / mtu / traceroute / iperf3 / fetch
 *     ──▶ toolRecord(tool, target, startedAt, result | error) ──▶ { tool, at, target, ok, summary, … }
 *
 * The summaries hold text that came from the network (DNS names, HTTP status text): whoever
 * renders them escapes them (report-html.ts does).
 */
import { formatBitrate } from '../shared/format-bytes.ts';
import type { DnsQueryResult, DnsResult, Iperf3Result, MtuResult, PingSummary, PortCheckResult, TcpingResult, TracerouteResult } from './session-types.ts';
import type { TunnelVsDirectResult } from './direct-speed.ts';

/** The tools whose last result the report shows, in the order it shows them. */
export const TOOL_NAMES = ['ping', 'dns', 'ports', 'mtu', 'traceroute', 'iperf3', 'http', 'compare'] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** What an HTTP exchange leaves for the report (the body is the caller's). */
export interface HttpToolResult {
  method: string;
  url: string;
  status: number;
  statusText: string;
  contentType?: string;
  server?: string;
  elapsedMs: number;
}

/** One tool's last run. */
export interface ToolRecord {
  tool: ToolName;
  /** Epoch ms when it started. */
  at: number;
  /** What it was pointed at (host, name, URL). */
  target: string;
  ok: boolean;
  /** One line in plain words. */
  summary: string;
  /** The tool's result (plain data), when it finished. */
  result?: unknown;
  error?: { code: string; message: string };
}

/** A record for a finished run. */
export function toolRecord(tool: ToolName, target: string, at: number, result: unknown): ToolRecord {
  return { tool, at, target, ok: toolSucceeded(tool, result), summary: summarizeTool(tool, target, result), result };
}

/** A record for a run that threw. */
export function toolFailure(tool: ToolName, target: string, at: number, error: unknown): ToolRecord {
  const e = error as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : error instanceof RangeError || error instanceof TypeError ? 'USAGE' : 'INTERNAL';
  const message = typeof e?.message === 'string' ? e.message : String(error);
  return { tool, at, target, ok: false, summary: `${target}: failed: ${message}`, error: { code, message } };
}

function toolSucceeded(tool: ToolName, r: unknown): boolean {
  switch (tool) {
    case 'ping':
      return (r as PingSummary).received > 0;
    case 'traceroute':
      return (r as TracerouteResult).reached;
    case 'http':
      return (r as HttpToolResult).status < 500;
    case 'dns':
      return 'rcode' in (r as object) ? ['NOERROR', 'NXDOMAIN'].includes((r as DnsQueryResult).rcode) : true;
    default:
      return true;
  }
}

const ms = (n: number | undefined): string => `${(n ?? 0).toFixed(n !== undefined && n < 10 ? 2 : 1)} ms`;

/** The one line for a result (see the module comment). */
export function summarizeTool(tool: ToolName, target: string, r: unknown): string {
  switch (tool) {
    case 'ping': {
      const p = r as PingSummary;
      const rtt = p.received ? `, rtt min/avg/max ${ms(p.rttMinMs)} / ${ms(p.rttAvgMs)} / ${ms(p.rttMaxMs)}` : '';
      return `${p.address}: ${p.received} of ${p.transmitted} answered, ${p.lossPercent}% loss${rtt}`;
    }
    case 'dns': {
      if ('rcode' in (r as object)) {
        const d = r as DnsQueryResult;
        const data = d.answers.slice(0, 3).map((a) => `${a.type} ${a.data}`).join('; ');
        return `${d.question} ${d.type}: ${d.rcode}, ${d.answers.length} answer${d.answers.length === 1 ? '' : 's'}${data ? ` (${data}${d.answers.length > 3 ? '; …' : ''})` : ''} from ${d.server} in ${ms(d.elapsedMs)}`;
      }
      const d = r as DnsResult;
      return `${d.name} ${d.type}: ${d.addresses.join(', ') || 'no addresses'} from ${d.server} in ${ms(d.elapsedMs)}`;
    }
    case 'ports': {
      if ('port' in (r as object)) {
        const t = r as TcpingResult;
        return `${t.address}:${t.port} ${t.result === 'refused' ? 'closed' : t.result === 'timeout' ? 'filtered' : t.result} in ${ms(t.elapsedMs)}`;
      }
      const p = r as PortCheckResult;
      const part = (name: string, list: number[]): string | undefined => (list.length ? `${list.length} ${name} (${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''})` : undefined);
      const parts = [part('open', p.open), part('closed', p.closed), part('filtered', p.filtered), part('unreachable', p.unreachable)].filter(Boolean);
      return `${p.address}: ${p.results.length} port${p.results.length === 1 ? '' : 's'}: ${parts.join(', ') || 'none decided'}${p.skipped ? `, ${p.skipped} not checked` : ''}`;
    }
    case 'mtu': {
      const m = r as MtuResult;
      return `${m.address}: path MTU ${m.pathMtu} (tunnel MTU ${m.interfaceMtu}${m.reportedMtu !== undefined ? `, reported ${m.reportedMtu}` : ''})`;
    }
    case 'traceroute': {
      const t = r as TracerouteResult;
      return t.reached ? `${t.address} reached in ${t.hops.length} hop${t.hops.length === 1 ? '' : 's'}` : `${t.address} not reached within ${t.hops.length} hops`;
    }
    case 'iperf3': {
      const i = r as Iperf3Result;
      const retr = i.sender.retransmits !== undefined ? `, ${i.sender.retransmits} retransmits` : '';
      return `${i.address}:${i.port} ${i.reverse ? 'download (-R)' : 'upload'}, ${i.streams} stream${i.streams === 1 ? '' : 's'}, ${i.seconds} s: sender ${formatBitrate(i.sender.bitsPerSecond)}, receiver ${formatBitrate(i.receiver.bitsPerSecond)}${retr}`;
    }
    case 'http': {
      const h = r as HttpToolResult;
      return `${h.method} ${h.url}: ${h.status} ${h.statusText}${h.contentType ? `, ${h.contentType}` : ''} in ${ms(h.elapsedMs)}`;
    }
    case 'compare': {
      const c = r as TunnelVsDirectResult;
      return `tunnel ${formatBitrate(c.tunnel.bitsPerSecond)} (${c.url}) vs direct ${formatBitrate(c.direct.bitsPerSecond)} (${c.relay}), ${c.bytes} bytes each: the tunnel is ${c.percent}% of direct`;
    }
    default:
      return target;
  }
}
