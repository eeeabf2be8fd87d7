/**
 * <wg-iperf3-tool>: throughput through the tunnel against a stock `iperf3 -s`: host and port,
 * seconds (-t), parallel streams (-P), reverse (-R). While it runs: a live bar chart of Mbit/s per
 * one-second interval with retransmits; at the end, iperf3's sender and receiver lines. Stop
 * ends the test (the server is told, CLIENT_TERMINATE).
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import type { Iperf3Interval, Iperf3Result } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { IPERF3_HEADER, formatIperf3Interval, formatIperf3Summary } from '../../../protocols/iperf3/iperf3-format.ts';
import { DEFAULT_IPERF3_PORT, DEFAULT_IPERF3_SECONDS, DEFAULT_IPERF3_STREAMS } from '../../../protocols/iperf3/iperf3-messages.ts';
import { formatBitrate } from '../../../shared/format-bytes.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { renderToolError } from './tool-error.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderTextField } from './text-field.ts';

type Phase = 'idle' | 'connecting' | 'streams' | 'running' | 'results';
const PHASE_TEXT: Record<Phase, string> = {
  idle: '',
  connecting: 'Connecting to the iperf3 server…',
  streams: 'Opening the data streams…',
  running: 'Measuring…',
  results: 'Exchanging results with the server…',
};

type LiveInterval = Iperf3Interval & { retransmits?: number };

export class WgIperf3Tool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _host: { state: true },
    _port: { state: true },
    _seconds: { state: true },
    _streams: { state: true },
    _reverse: { state: true },
    _intervals: { state: true },
    _phase: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      .check {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        flex: none;
        padding-bottom: 0.45rem;
      }
      .chart {
        display: block;
        width: 100%;
        height: 6rem;
        margin: 0.6rem 0 0.2rem;
      }
      .chart rect {
        fill: var(--wg-accent);
        opacity: 0.85;
      }
      .chart circle {
        fill: var(--wg-warn);
      }
      .chart-legend {
        display: flex;
        justify-content: space-between;
        font-size: 0.75rem;
        color: var(--wg-muted);
      }
      pre.lines {
        margin: 0.5rem 0 0;
        padding: 0.5rem 0.75rem;
        font-family: var(--wg-mono);
        font-size: 0.78rem;
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        max-height: 14rem;
        overflow: auto;
      }
      .stats {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(8rem, 1fr));
        gap: 0.4rem;
        margin-top: 0.75rem;
      }
      .stat {
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        padding: 0.35rem 0.5rem;
      }
      .stat .k {
        font-size: 0.72rem;
        color: var(--wg-muted);
        display: block;
      }
      .stat .v {
        font-family: var(--wg-mono);
        font-size: 0.9rem;
        font-weight: 600;
      }
      .phase {
        font-size: 0.8125rem;
        color: var(--wg-muted);
        margin: 0.6rem 0 0;
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _host: string;
  declare _port: string;
  declare _seconds: string;
  declare _streams: string;
  declare _reverse: boolean;
  declare _intervals: LiveInterval[];
  declare _phase: Phase;
  readonly #run = new ToolRunController<Iperf3Result>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._host = '';
    this._port = String(DEFAULT_IPERF3_PORT);
    this._seconds = String(DEFAULT_IPERF3_SECONDS);
    this._streams = String(DEFAULT_IPERF3_STREAMS);
    this._reverse = false;
    this._intervals = [];
    this._phase = 'idle';
  }

  override render() {
    const int = (v: string, lo: number, hi: number) => Number.isInteger(Number(v)) && Number(v) >= lo && Number(v) <= hi;
    const ok = this._host.trim() !== '' && int(this._port, 1, 65535) && int(this._seconds, 1, 3600) && int(this._streams, 1, 16);
    const running = this.#run.running;
    const result = this.#run.value;
    const num = (id: string, label: string, value: string, min: number, max: number, set: (v: string) => void) =>
      html`<div class="field narrow">
        <label for=${id}>${label}</label>
        <input id=${id} type="number" min=${min} max=${max} .value=${value} aria-invalid=${int(value, min, max) ? 'false' : 'true'} @input=${(ev: Event) => set((ev.target as HTMLInputElement).value)} />
      </div>`;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({ id: 'iperf3-host', label: 'iperf3 server', value: this._host, placeholder: '10.8.0.1', onInput: (v) => (this._host = v) })}
        ${num('iperf3-port', 'Port', this._port, 1, 65535, (v) => (this._port = v))}
        ${num('iperf3-seconds', 'Seconds', this._seconds, 1, 3600, (v) => (this._seconds = v))}
        ${num('iperf3-streams', 'Streams', this._streams, 1, 16, (v) => (this._streams = v))}
        <label class="check"><input type="checkbox" .checked=${this._reverse} @change=${(ev: Event) => (this._reverse = (ev.target as HTMLInputElement).checked)} /> Reverse (server sends)</label>
        <div class="actions">
          ${running
            ? html`<button type="button" class="danger" @click=${() => this.#run.abort()}>Stop</button>`
            : html`<button type="submit" class="primary" ?disabled=${!this.connected || !ok}>Start</button>`}
        </div>
      </form>
      ${running ? html`<p class="phase" role="status">${PHASE_TEXT[this._phase]}</p>` : nothing}
      ${this._intervals.length || result ? html`<div class="result">${this.#renderChart(result)} ${this.#renderLines(result)}</div>` : nothing}
      ${result ? this.#renderSummary(result) : nothing} ${renderToolError(this.#run.error)}
    `;
  }

  #renderChart(result: Iperf3Result | undefined) {
    const iv = this._intervals;
    const total = Math.max(iv.length, Number(result?.seconds ?? this._seconds) || 10);
    const max = Math.max(1, ...iv.map((i) => i.bitsPerSecond));
    const w = 100 / total;
    const maxRetr = Math.max(1, ...iv.map((i) => i.retransmits ?? 0));
    return html`<svg class="chart" viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="Throughput per second, highest ${formatBitrate(max)}">
        ${iv.map((i, k) => {
          const h = Math.max(0.8, (i.bitsPerSecond / max) * 38);
          return svg`<rect x=${k * w + w * 0.12} y=${40 - h} width=${w * 0.76} height=${h} rx="0.5"><title>${formatIperf3Interval(i)}</title></rect>`;
        })}
        ${iv.map((i, k) => (i.retransmits ? svg`<circle cx=${k * w + w / 2} cy=${2 + 6 * (1 - i.retransmits / maxRetr)} r="0.9"></circle>` : nothing))}
      </svg>
      <div class="chart-legend"><span>0 s</span><span>bars: Mbit/s per second (top ${formatBitrate(max)}); dots: retransmits</span><span>${total} s</span></div>`;
  }

  #renderLines(result: Iperf3Result | undefined) {
    const lines = [IPERF3_HEADER, ...this._intervals.map((i) => formatIperf3Interval(i))];
    if (result) lines.push('- - - - - - - - - - - - - - - - - - - - - - - - -', ...formatIperf3Summary(result));
    return html`<pre class="lines" aria-label="iperf3 report">${lines.join('\n')}</pre>`;
  }

  #renderSummary(r: Iperf3Result) {
    const stat = (k: string, v: string) => html`<div class="stat"><span class="k">${k}</span><span class="v">${v}</span></div>`;
    const who = r.reverse ? ['server', 'this tab'] : ['this tab', 'server'];
    return html`<div class="stats" role="status" aria-label="iperf3 summary">
      ${stat(`sender (${who[0]})`, formatBitrate(r.sender.bitsPerSecond))} ${stat(`receiver (${who[1]})`, formatBitrate(r.receiver.bitsPerSecond))}
      ${stat('retransmits', r.sender.retransmits === undefined ? '—' : String(r.sender.retransmits))}
      ${stat('streams', String(r.streams))} ${stat('server', `${r.address}:${r.port}`)}
    </div>`;
  }

  #onSubmit(e: Event) {
    e.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel?.iperf3 || this.#run.running) return;
    const host = this._host.trim();
    const options = { port: Number(this._port), seconds: Number(this._seconds), streams: Number(this._streams), reverse: this._reverse };
    this._intervals = [];
    this._phase = 'connecting';
    void this.#run
      .run(async (signal) => {
        const r = await tunnel.iperf3!(
          host,
          options,
          (p) => {
            if (p.type === 'connected') this._phase = 'streams';
            else if (p.type === 'started') this._phase = 'running';
            else if (p.type === 'interval') this._intervals = [...this._intervals, p.interval];
            else if (p.type === 'ended') this._phase = 'results';
          },
          signal,
        );
        // The live lines carry retransmits; the result's are the same intervals without them.
        if (this._intervals.length === 0) this._intervals = [...r.intervals];
        return r;
      })
      .finally(() => (this._phase = 'idle'));
  }
}
customElements.define('wg-iperf3-tool', WgIperf3Tool);
