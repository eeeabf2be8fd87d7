/**
 * A timeline of one upload through the tunnel, sampled twice a second: where the queue sits and
 * where datagrams are lost (#19 item 5, docs/benchmarks.md #19 section 16).
 *
 *   every 500 ms ──▶ the client (a callback: the page's wgweb.report(), or a Node Session's)
 *                      TCP: acknowledged bytes, in flight, cwnd, RTT, retransmissions, recoveries, RTOs
 *                      relay WebSocket: bufferedAmount now and its peak (the local send queue)
 *                ──▶ the relay's /metrics: datagrams to the peer, drops by reason
 *                ──▶ /proc/<pid>/net of the relay and of wireguard-go (their namespaces): UDP
 *                      receive/send buffer errors, each process's own UDP sockets' drops, the
 *                      tunnel interface's drops, the receiving kernel's TCP queue drops
 *                ──▶ CPU ms of every process of this bench (bench-child.ts)
 *   stop() ──▶ one line per second (deltas) and the totals
 *
 * Reading another process's /proc/<pid>/net shows the network namespace that process lives in,
 * so nothing needs to run inside the peer's namespace.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { descendantCpu } from './bench-child.ts';
import { parseNetDevDrops, parseProcNetTable } from './kernel-baseline.ts';

/** What the client reports in one sample (a subset of DiagnosticReport counters). */
export interface ClientSample {
  /** The upload's TCP connection (TcpSocketStats), if it exists yet. */
  tcp?: {
    bytesSent: number;
    inFlight: number;
    cwnd: number;
    srttMs?: number;
    latestRttMs?: number;
    retransmittedSegments: number;
    fastRecoveries: number;
    timeouts: number;
    sendLimitedMs: { cwnd: number; rwnd: number; app: number };
  };
  /** The relay WebSocket's bufferedAmount now and its peak so far, bytes. */
  bufferedAmount?: number;
  bufferedAmountPeak?: number;
  /** The client transport's own drops (backpressure, queueFull, ...). */
  transportDrops?: Record<string, number>;
}

export interface UploadTraceOptions {
  /** Reads the client's counters. */
  client: () => Promise<ClientSample>;
  /** The relay's /metrics URL (loopback). */
  relayMetricsUrl?: string;
  relayPid?: number;
  wireguardGoPid?: number;
  /** wireguard-go's interface inside its namespace. */
  wireguardIfname?: string;
  intervalMs?: number;
}

interface Sample {
  t: number;
  client: ClientSample;
  relay: Record<string, number>;
  relayUdp: Record<string, number>;
  peerUdp: Record<string, number>;
  peerTcp: Record<string, number>;
  relaySocketDrops: number;
  peerSocketDrops: number;
  tunDrops: number;
  cpu: Map<string, number>;
}

/** One table of /proc/PID/net/snmp or /proc/PID/net/netstat ({} once the process is gone). */
function procTable(path: string, prefix: string): Record<string, number> {
  try {
    return parseProcNetTable(readFileSync(path, 'utf8'), prefix);
  } catch {
    return {}; // process gone
  }
}

/** Drops counted on the UDP sockets the process `pid` holds (/proc/net/udp's last column). */
function socketDrops(pid: number): number {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
          } catch {
            return undefined;
          }
        })
        .filter((x): x is string => x !== undefined),
    );
  } catch {
    return NaN;
  }
  let drops = 0;
  for (const file of ['udp', 'udp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 13 && inodes.has(f[9])) drops += Number(f[12]);
    }
  }
  return drops;
}

/** rx_drop + tx_drop of one interface in the namespace of `pid` (/proc/net/dev); NaN when unreadable. */
function interfaceDrops(pid: number, ifname: string): number {
  try {
    return parseNetDevDrops(readFileSync(`/proc/${pid}/net/dev`, 'utf8'), ifname);
  } catch {
    return NaN;
  }
}

/** `wgweb_relay_drops_total{reason="X"} N` lines of the relay's /metrics → { X: N }. */
export function parseDropMetrics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^wgweb_relay_drops_total\{reason="(\w+)"\} (\d+)/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

/** The counters of a Prometheus text page we read: drops by reason and datagrams to the peer. */
async function relayMetrics(url: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  try {
    const text = await (await fetch(url)).text();
    Object.assign(out, parseDropMetrics(text));
    const to = /^wgweb_relay_datagrams_total\{direction="to_peer"\} (\d+)/m.exec(text);
    if (to) out.datagramsToPeer = Number(to[1]);
  } catch {
    // relay gone
  }
  return out;
}

/** Samples the upload path until stop(); see the module comment. */
export class UploadTracer {
  private readonly samples: Sample[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private busy: Promise<void> = Promise.resolve();
  private readonly t0 = performance.now();

  constructor(private readonly o: UploadTraceOptions) {}

  /** Takes the first sample now and then one every intervalMs. */
  start(): void {
    const tick = (): void => {
      this.busy = this.sample().then(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.o.intervalMs ?? 500);
      });
    };
    tick();
  }

  /** Takes a last sample and returns the timeline as text. */
  async stop(): Promise<string> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.busy;
    await this.sample();
    return this.format();
  }

  private async sample(): Promise<void> {
    const { o } = this;
    const [client, relay] = await Promise.all([o.client().catch(() => ({}) as ClientSample), o.relayMetricsUrl ? relayMetrics(o.relayMetricsUrl) : {}]);
    const cpu = new Map<string, number>();
    for (const p of descendantCpu().values()) cpu.set(p.label, (cpu.get(p.label) ?? 0) + p.cpuMs);
    this.samples.push({
      t: performance.now() - this.t0,
      client,
      relay,
      relayUdp: o.relayPid ? procTable(`/proc/${o.relayPid}/net/snmp`, 'Udp') : {},
      peerUdp: o.wireguardGoPid ? procTable(`/proc/${o.wireguardGoPid}/net/snmp`, 'Udp') : {},
      peerTcp: o.wireguardGoPid ? procTable(`/proc/${o.wireguardGoPid}/net/netstat`, 'TcpExt') : {},
      relaySocketDrops: o.relayPid ? socketDrops(o.relayPid) : NaN,
      peerSocketDrops: o.wireguardGoPid ? socketDrops(o.wireguardGoPid) : NaN,
      tunDrops: o.wireguardGoPid && o.wireguardIfname ? interfaceDrops(o.wireguardGoPid, o.wireguardIfname) : NaN,
      cpu,
    });
  }

  /** One line per sample interval with deltas; then the totals. */
  format(): string {
    const s = this.samples;
    if (s.length < 2) return '  (no samples)';
    const lines: string[] = [];
    const d = (a: number | undefined, b: number | undefined): number => (a ?? 0) - (b ?? 0);
    const cpuLabels = ['chromium renderer', 'chromium network service', 'relay', 'wireguard-go', 'HTTP server', 'bench driver'];
    lines.push(
      '  t(s)  acked MB/s  inflight KB  cwnd KB  srtt/last ms  wsBuf KB (peak)  retx  rec  rto  cwnd/app-lim ms  relay drops(rate/udpQ)  udp rcvbuf err relay/peer  sock drops relay/peer  tun drops  TCPRcvQDrop/Backlog  CPU% ' +
        cpuLabels.map((l) => l.replace('chromium ', '')).join('/'),
    );
    for (let i = 1; i < s.length; i++) {
      const a = s[i - 1];
      const b = s[i];
      const dt = (b.t - a.t) / 1000;
      const ta = a.client.tcp;
      const tb = b.client.tcp;
      const ackedA = ta ? ta.bytesSent - ta.inFlight : 0;
      const ackedB = tb ? tb.bytesSent - tb.inFlight : 0;
      const sameConn = ta !== undefined && tb !== undefined && tb.bytesSent >= ta.bytesSent;
      const cpu = cpuLabels.map((l) => ((d(b.cpu.get(l), a.cpu.get(l)) / (dt * 1000)) * 100).toFixed(0)).join('/');
      lines.push(
        [
          (b.t / 1000).toFixed(1).padStart(6),
          (sameConn ? (ackedB - ackedA) / dt / 1e6 : NaN).toFixed(2).padStart(10),
          (tb ? tb.inFlight / 1024 : NaN).toFixed(0).padStart(11),
          (tb ? tb.cwnd / 1024 : NaN).toFixed(0).padStart(8),
          `${tb?.srttMs?.toFixed(0) ?? '-'}/${tb?.latestRttMs?.toFixed(0) ?? '-'}`.padStart(13),
          `${((b.client.bufferedAmount ?? NaN) / 1024).toFixed(0)} (${((b.client.bufferedAmountPeak ?? NaN) / 1024).toFixed(0)})`.padStart(16),
          String(sameConn ? tb.retransmittedSegments - ta.retransmittedSegments : '-').padStart(5),
          String(sameConn ? tb.fastRecoveries - ta.fastRecoveries : '-').padStart(4),
          String(sameConn ? tb.timeouts - ta.timeouts : '-').padStart(4),
          (sameConn ? `${(tb.sendLimitedMs.cwnd - ta.sendLimitedMs.cwnd).toFixed(0)}/${(tb.sendLimitedMs.app - ta.sendLimitedMs.app).toFixed(0)}` : '-').padStart(16),
          `${d(b.relay.rateLimited, a.relay.rateLimited)}/${d(b.relay.udpQueueFull, a.relay.udpQueueFull)}`.padStart(23),
          `${d(b.relayUdp.RcvbufErrors, a.relayUdp.RcvbufErrors) + d(b.relayUdp.SndbufErrors, a.relayUdp.SndbufErrors)}/${d(b.peerUdp.RcvbufErrors, a.peerUdp.RcvbufErrors)}`.padStart(27),
          `${b.relaySocketDrops - a.relaySocketDrops}/${b.peerSocketDrops - a.peerSocketDrops}`.padStart(22),
          String(b.tunDrops - a.tunDrops).padStart(10),
          `${d(b.peerTcp.TCPRcvQDrop, a.peerTcp.TCPRcvQDrop)}/${d(b.peerTcp.TCPBacklogDrop, a.peerTcp.TCPBacklogDrop)}`.padStart(20),
          ' ' + cpu,
        ].join(' '),
      );
    }
    const first = s[0];
    const last = s[s.length - 1];
    const drops = Object.entries(last.relay)
      .filter(([k]) => k !== 'datagramsToPeer')
      .map(([k, v]) => `${k} ${v - (first.relay[k] ?? 0)}`)
      .join(', ');
    lines.push(
      `  totals: relay drops {${drops}}, client transport drops ${JSON.stringify(last.client.transportDrops ?? {})}, ` +
        `UDP errors relay ns ${JSON.stringify(diff(last.relayUdp, first.relayUdp, ['InErrors', 'RcvbufErrors', 'SndbufErrors']))}, ` +
        `peer ns ${JSON.stringify(diff(last.peerUdp, first.peerUdp, ['InErrors', 'RcvbufErrors', 'SndbufErrors']))}, ` +
        `socket drops relay ${last.relaySocketDrops - first.relaySocketDrops} peer ${last.peerSocketDrops - first.peerSocketDrops}, tun drops ${last.tunDrops - first.tunDrops}, ` +
        `receiver TcpExt ${JSON.stringify(diff(last.peerTcp, first.peerTcp, ['TCPRcvQDrop', 'TCPBacklogDrop', 'TCPOFOQueue', 'TCPOFODrop', 'TCPRcvPruned', 'TCPSackRecovery', 'TCPDSACKRecv', 'TCPDSACKOfoRecv']))}, ` +
        `wsBuf peak ${((last.client.bufferedAmountPeak ?? NaN) / 1024).toFixed(0)} KB`,
    );
    return lines.join('\n');
  }
}

function diff(a: Record<string, number>, b: Record<string, number>, keys: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) if (k in a) out[k] = a[k] - (b[k] ?? 0);
  return out;
}
