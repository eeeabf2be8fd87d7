/**
 * The diagnostic report as one self-contained HTML page (issue #15 item 7): inline CSS, an inline
 * SVG chart, no script and no external resource, so it opens anywhere, offline, and reads the
 * same in a mail client's preview. The JSON beside it is the same data for machines.
 *
 *   DiagnosticReport ──▶ renderReportHtml ──▶ <!doctype html> … summary · config · relay and peers
 *     · peer checks · tools (last result each) · quality chart and table · event log · counters
 *
 * Every value is escaped (esc): the report shows text that came from the network (DNS names,
 * HTTP status lines, relay close reasons), and a hostile one must stay text, never markup.
 */
import type { DiagnosticReport } from './diagnostic-report.ts';
import { qualityChartModel, sampleRttMs } from './quality-chart.ts';
import type { QualitySample } from './quality-history.ts';
import { escapeHtml } from '../shared/escape-html.ts';
import { formatBitrate } from '../shared/format-bytes.ts';

/** Any value as escaped HTML text (numbers and strings alike). */
const esc = (value: unknown): string => escapeHtml(String(value));

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.25rem 3rem;color:#1d2430;background:#fff}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.8rem 0 .5rem;border-bottom:1px solid #d5dbe5;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;vertical-align:top;padding:.2rem .5rem;border-bottom:1px solid #eef1f5}
th{color:#5a6578;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre,code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f5f7fa;border:1px solid #e3e8ef;padding:.6rem .8rem;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.muted{color:#5a6578}.ok{color:#137333}.bad{color:#b3261e}.warn{color:#9a5b00}
.state{display:inline-block;padding:0 .5rem;border-radius:1rem;background:#eef1f5;font-weight:600}
details summary{cursor:pointer;color:#5a6578}svg{max-width:100%;height:auto;background:#fafbfc;border:1px solid #e3e8ef}
`;

/** See the module comment. */
export function renderReportHtml(r: DiagnosticReport): string {
  const s = r.status;
  const up = s.state === 'up';
  const parts: string[] = [];
  parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8">`);
  parts.push(`<meta name="viewport" content="width=device-width,initial-scale=1">`);
  parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
  parts.push(`<title>wgweb diagnostic report ${esc(r.generatedAt)}</title><style>${STYLE}</style></head><body>`);
  parts.push(`<h1>wgweb diagnostic report</h1>`);
  parts.push(`<p class="muted">Made ${esc(r.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))} by wgweb ${esc(r.runtime.wgwebVersion)} (${esc(r.runtime.kind)}) · ${esc(r.runtime.userAgent)}</p>`);
  parts.push(`<p>Tunnel: <span class="state ${up ? 'ok' : 'bad'}" id="tunnel-state">${esc(s.state)}</span> · relay ${esc(s.relay.url)} (${esc(s.relay.state)}${s.relay.rttMs !== undefined ? `, opened in ${esc(s.relay.rttMs)} ms` : ''}) · ${s.peers.length} peer${s.peers.length === 1 ? '' : 's'}</p>`);
  parts.push(`<p class="muted">Keys: ${esc(r.config.redacted.join(' and '))} ${r.config.redacted.length === 1 ? 'is' : 'are'} not in this report (shown as (redacted)); public keys are.</p>`);

  parts.push(section('config', 'Configuration', `<pre>${esc(r.config.text)}</pre>`));

  const relayRows = r.relays.map(
    (x) =>
      `<tr><td class="mono">${esc(x.url)}</td><td>${esc(x.state)}</td><td>${esc(x.protocol || '—')}</td><td class="num">${x.rttMs !== undefined ? `${esc(x.rttMs)} ms` : '—'}</td><td class="num">${esc(x.datagramsSent)} / ${esc(x.datagramsReceived)}</td><td class="num">${esc(formatBytesShort(x.bytesSent))} / ${esc(formatBytesShort(x.bytesReceived))}</td><td>${esc(dropsText(x.drops))}</td><td class="num">${esc(x.relayMoves)}</td></tr>`,
  );
  const peerRows = s.peers.map(
    (p) =>
      `<tr><td class="mono">${esc(p.publicKey)}</td><td class="${p.state === 'up' ? 'ok' : 'bad'}">${esc(p.state)}${p.problem ? `<br><span class="bad">${esc(p.problem.message)}</span>` : ''}</td><td class="mono">${esc(p.endpoint)}</td><td class="mono">${esc(p.allowedIPs.join(', '))}</td><td>${p.latestHandshakeAt ? `${esc(Math.round((Date.parse(r.generatedAt) - p.latestHandshakeAt) / 1000))} s ago` : 'never'}</td><td class="num">${esc(formatBytesShort(p.rxBytes))} / ${esc(formatBytesShort(p.txBytes))}</td></tr>`,
  );
  parts.push(
    section(
      'relay-peers',
      'Relay and peers',
      `<table><tr><th>relay session</th><th>state</th><th>framing</th><th>open time</th><th>datagrams out / in</th><th>bytes out / in</th><th>drops</th><th>moves</th></tr>${relayRows.join('') || '<tr><td colspan="8">none</td></tr>'}</table>` +
        `<p class="muted">Interface ${esc(s.interface.addresses.join(', '))}, MTU ${esc(s.interface.mtu ?? '—')}, DNS ${esc(s.interface.dns?.join(', ') || 'none')}, public key <span class="mono">${esc(s.interface.publicKey)}</span></p>` +
        `<table><tr><th>peer</th><th>state</th><th>endpoint</th><th>allowed IPs</th><th>latest handshake</th><th>received / sent</th></tr>${peerRows.join('')}</table>`,
    ),
  );

  if (r.checks.length) {
    const rows = r.checks.map(
      (c) =>
        `<tr><td class="mono">${esc(c.publicKey)}</td><td class="mono">${esc(c.endpoint)}</td><td class="${c.handshake === 'done' ? 'ok' : 'bad'}">${esc(c.handshake)}</td><td>${c.pinged ? `${esc(c.pinged)}: ${esc(c.pingReceived ?? 0)} of ${esc(c.pingSent ?? 0)} answered${c.pingRttAvgMs !== undefined ? `, avg ${esc(c.pingRttAvgMs.toFixed(2))} ms` : ''}` : '—'}</td><td>${esc(c.note ?? '')}</td></tr>`,
    );
    parts.push(section('checks', 'Peer checks', `<table><tr><th>peer</th><th>endpoint</th><th>handshake</th><th>ping</th><th>note</th></tr>${rows.join('')}</table>`));
  }

  const toolRows = r.tools.map(
    (t) =>
      `<tr><td>${esc(t.tool)}</td><td class="mono">${esc(clock(t.at))}</td><td class="${t.ok ? 'ok' : 'bad'}">${t.ok ? 'ok' : 'failed'}</td><td>${esc(t.summary)}${t.error ? ` <span class="muted">(${esc(t.error.code)})</span>` : ''}${t.result !== undefined ? `<details><summary>details</summary><pre>${esc(JSON.stringify(t.result, null, 2))}</pre></details>` : ''}</td></tr>`,
  );
  parts.push(section('tools', 'Tools (last result of each)', r.tools.length ? `<table><tr><th>tool</th><th>at (UTC)</th><th>outcome</th><th>result</th></tr>${toolRows.join('')}</table>` : '<p class="muted">No tool was run in this session.</p>'));

  parts.push(section('quality', 'Connection quality over time', qualityHtml(r.quality.samples, r.quality.intervalMs)));

  const events = r.events.map(
    (e) => `<tr><td class="mono">${esc(clock(e.at))}</td><td class="${e.level === 'error' ? 'bad' : e.level === 'warn' ? 'warn' : ''}">${esc(e.level)}</td><td class="mono">${esc(e.type)}</td><td>${esc(e.message)}</td></tr>`,
  );
  parts.push(section('events', `Event log (${r.events.length})`, `<table><tr><th>time (UTC)</th><th>level</th><th>type</th><th>message</th></tr>${events.join('')}</table>`));
  parts.push(section('counters', 'Counters', `<details><summary>every layer's counters (tunnel, IP stack, relay, DNS, HTTP)</summary><pre>${esc(JSON.stringify(r.counters, null, 2))}</pre></details>`));
  parts.push(`<p class="muted">The same data as JSON: the file saved beside this one (format ${esc(r.format)}).</p></body></html>\n`);
  return parts.join('\n');
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>${body}</section>`;
}

function clock(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(11, 19);
}

function dropsText(drops: Record<string, number>): string {
  const nonzero = Object.entries(drops).filter(([, n]) => n > 0);
  return nonzero.length ? nonzero.map(([k, n]) => `${k} ${n}`).join(', ') : 'none';
}

function formatBytesShort(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** The chart (inline SVG, the same geometry as the app's) and a table of the newest samples. */
function qualityHtml(samples: QualitySample[], intervalMs: number): string {
  if (samples.length === 0) return `<p class="muted">No samples yet (one every ${esc(intervalMs / 1000)} s while connected).</p>`;
  const m = qualityChartModel(samples, { width: 900 });
  const t = m.throughputBand;
  const b = m.rttBand;
  const svg = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${m.width} ${m.height}" width="${m.width}" height="${m.height}" role="img" aria-label="throughput and round-trip time, ${esc(m.span)}">`,
    `<text x="4" y="${t.top + 10}" font-size="10" fill="#5a6578">${esc(formatBitrate(m.maxBps))}</text>`,
    `<text x="4" y="${t.top + t.height}" font-size="10" fill="#5a6578">0</text>`,
    `<polygon points="${m.rxArea}" fill="#2f6fde" fill-opacity="0.25" stroke="#2f6fde" stroke-width="1"/>`,
    `<polyline points="${m.txLine}" fill="none" stroke="#d9822b" stroke-width="1.5"/>`,
    `<text x="4" y="${b.top + 10}" font-size="10" fill="#5a6578">${m.maxRttMs ? `${esc(m.maxRttMs.toFixed(1))} ms` : 'no RTT'}</text>`,
    m.rttLine ? `<polyline points="${m.rttLine}" fill="none" stroke="#7b3fb3" stroke-width="1.5"/>` : '',
    ...m.lossMarks.map((l) => `<line x1="${l.x}" x2="${l.x}" y1="${b.top + b.height}" y2="${b.top + b.height + 6}" stroke="#b3261e" stroke-width="2"><title>${esc(l.label)}</title></line>`),
    ...m.ticks.map((k, i) => `<text x="${k.x}" y="${m.height - 4}" font-size="10" fill="#5a6578" text-anchor="${i === 0 ? 'start' : i === m.ticks.length - 1 ? 'end' : 'middle'}">${esc(k.label)}</text>`),
    `</svg>`,
  ].join('');
  const legend = `<p class="muted">Top: <span style="color:#2f6fde">received</span> and <span style="color:#d9822b">sent</span> through the tunnel; bottom: <span style="color:#7b3fb3">round-trip time</span> (ping where pinged, else TCP smoothed RTT); red ticks: loss (TCP retransmits, relay drops, lost pings). Time in UTC, ${esc(m.span)}, one sample every ${esc(intervalMs / 1000)} s.</p>`;
  const rows = samples
    .slice(-60)
    .reverse()
    .map(
      (q) =>
        `<tr><td class="mono">${esc(clock(q.at))}</td><td class="num">${esc(formatBitrate(q.rxBps))}</td><td class="num">${esc(formatBitrate(q.txBps))}</td><td class="num">${sampleRttMs(q) !== undefined ? `${esc(sampleRttMs(q)!.toFixed(1))} ms` : '—'}</td><td class="num">${q.relayRttMs !== undefined ? `${esc(q.relayRttMs)} ms` : '—'}</td><td class="num">${esc(q.tcpRetransmits)}</td><td class="num">${esc(q.relayDrops)}</td><td class="num">${q.pingsSent ? `${esc(q.pingsLost)}/${esc(q.pingsSent)}` : '—'}</td><td class="num">${q.handshakeAgeMs !== undefined ? `${esc(Math.round(q.handshakeAgeMs / 1000))} s` : '—'}</td></tr>`,
    );
  return `${svg}${legend}<details><summary>the newest ${rows.length} of ${samples.length} samples</summary><table><tr><th>time (UTC)</th><th>received</th><th>sent</th><th>tunnel RTT</th><th>relay open time</th><th>TCP retransmits</th><th>relay drops</th><th>pings lost</th><th>handshake age</th></tr>${rows.join('')}</table></details>`;
}
