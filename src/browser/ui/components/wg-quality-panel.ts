/**
 * <wg-quality-panel .tunnel .connected>: the "Connection quality" card (issue #15 item 7).
 *
 *   every 5 s while connected: tunnel.quality() ──▶ qualityChartModel (src/session/quality-chart.ts,
 *   the same geometry the report's SVG uses) ──▶ one small SVG: received/sent throughput on top,
 *   round-trip time below, red ticks where something was lost, clock times under the axis
 *   Download report (HTML | JSON) ──▶ tunnel.report() ──▶ a Blob saved as wgweb-report-<time>.html/.json
 *   Tunnel vs direct: URL ──▶ tunnel.compare() ──▶ two bars (direct = 100 %) and the percentage
 *
 * No chart library: the chart is ~40 lines of Lit `svg` over the shared model (the whole card adds
 * a few KB to the page bundle).
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import type { DiagnosticReport, QualityHistorySnapshot, TunnelVsDirectResult } from '../../worker/tunnel-api.ts';
import { qualityChartModel, sampleRttMs } from '../../../session/quality-chart.ts';
import { formatBitrate } from '../../../shared/format-bytes.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { saveFile } from '../controllers/capture-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { renderToolError } from './tool-error.ts';

/** What the card needs from the TunnelController. */
export interface QualitySource {
  quality(): Promise<QualityHistorySnapshot | null>;
  report(): Promise<{ report: DiagnosticReport; html: string }>;
  compare(url: string, options?: { bytes?: number }): Promise<TunnelVsDirectResult>;
}

const POLL_MS = 5000;

const localClock = (t: number): string => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

export class WgQualityPanel extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _snapshot: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        /* Beside the status card's full width: the time axis reads better wide. */
        grid-column: 1 / -1;
        min-width: 0;
      }
      svg.chart {
        display: block;
        width: 100%;
        height: auto;
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
      }
      .rx {
        fill: var(--wg-accent);
        fill-opacity: 0.25;
        stroke: var(--wg-accent);
        stroke-width: 1;
      }
      .tx {
        fill: none;
        stroke: var(--wg-warn);
        stroke-width: 1.5;
      }
      .rtt {
        fill: none;
        stroke: var(--wg-ok);
        stroke-width: 1.5;
      }
      .loss {
        stroke: var(--wg-err);
        stroke-width: 2;
      }
      text {
        fill: var(--wg-muted);
        font-size: 10px;
        font-family: var(--wg-mono);
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 1rem;
        margin: 0.4rem 0 0;
        font-size: 0.8125rem;
      }
      .swatch {
        display: inline-block;
        width: 0.8rem;
        height: 0.5rem;
        margin-right: 0.3rem;
        border-radius: 2px;
      }
      .compare {
        margin-top: 1rem;
        padding-top: 0.75rem;
        border-top: 1px dashed var(--wg-border);
      }
      .compare form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: flex-end;
      }
      .compare label {
        flex: 1 1 14rem;
        display: grid;
        gap: 0.2rem;
        font-size: 0.8125rem;
      }
      .bars {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr) max-content;
        gap: 0.3rem 0.6rem;
        align-items: center;
        margin: 0.6rem 0 0.3rem;
        font-size: 0.8125rem;
      }
      .bar {
        height: 0.7rem;
        border-radius: 2px;
        background: var(--wg-accent);
      }
      .bar.direct {
        background: var(--wg-muted);
      }
      .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        margin-top: 0.75rem;
        align-items: center;
      }
    `,
  ];

  declare tunnel: QualitySource | undefined;
  declare connected: boolean;
  declare _snapshot: QualityHistorySnapshot | null;
  /** Tunnel vs direct, run like every tool (docs/ui.md): pending, result or error. */
  readonly #compare = new ToolRunController<TunnelVsDirectResult>(this);
  /** Making and saving the report: the buttons wait while it runs, a failure is shown. */
  readonly #report = new ToolRunController<void>(this);
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    super();
    this.connected = false;
    this._snapshot = null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopPolling();
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('connected') || changed.has('tunnel')) {
      // One fetch on every change (the last session's history stays readable after a disconnect).
      void this.refresh();
      if (this.connected) this.#startPolling();
      else this.#stopPolling();
    }
  }

  /** Fetches the samples now (the poll does it every 5 s). */
  async refresh(): Promise<void> {
    if (!this.tunnel) return;
    try {
      this._snapshot = await this.tunnel.quality();
    } catch {
      // The worker is gone or not ready: keep what is shown.
    }
  }

  #startPolling(): void {
    this.#timer ??= setInterval(() => void this.refresh(), POLL_MS);
  }

  #stopPolling(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  override render() {
    const samples = this._snapshot?.samples ?? [];
    return html`<section class="card" aria-labelledby="quality-title">
      <div class="card-head">
        <h2 id="quality-title">Connection quality</h2>
        <span class="spacer"></span>
        ${samples.length ? html`<span class="muted small mono" data-testid="quality-count">${samples.length} samples, every ${(this._snapshot!.intervalMs / 1000).toFixed(0)} s</span>` : nothing}
      </div>
      <div class="card-body">
        ${samples.length ? this.#renderChart() : html`<p class="empty">${this.connected ? 'The first sample comes within 5 s of connecting.' : 'Connect to record throughput, round-trip time and loss over time (the last hour is kept).'}</p>`}
        ${this.#renderCompare()}
        <div class="actions">
          <button type="button" data-testid="report-html" ?disabled=${this.#report.running} @click=${() => this.#download('html')}>Download report (HTML)</button>
          <button type="button" class="ghost" data-testid="report-json" ?disabled=${this.#report.running} @click=${() => this.#download('json')}>JSON</button>
          <span class="muted small">Config with keys removed, status, event log, each tool's last result, this history.</span>
        </div>
        ${renderToolError(this.#report.error && { ...this.#report.error, message: `Could not make the report: ${this.#report.error.message}` })}
      </div>
    </section>`;
  }

  #renderChart() {
    const samples = this._snapshot!.samples;
    // Wide: the card spans the page, and SVG text scales with the drawing.
    const m = qualityChartModel(samples, { width: 1000, clock: localClock });
    const t = m.throughputBand;
    const b = m.rttBand;
    const last = samples[samples.length - 1];
    const rtt = sampleRttMs(last);
    return html`<svg class="chart" data-testid="quality-chart" viewBox="0 0 ${m.width} ${m.height}" role="img" aria-label="Throughput and round-trip time, ${m.span}">
        <text x="4" y=${t.top + 10}>${formatBitrate(m.maxBps)}</text>
        <text x="4" y=${t.top + t.height}>0</text>
        <polygon class="rx" points=${m.rxArea}></polygon>
        <polyline class="tx" points=${m.txLine}></polyline>
        <text x="4" y=${b.top + 10}>${m.maxRttMs ? `${m.maxRttMs.toFixed(1)} ms` : 'no RTT'}</text>
        ${m.rttLine ? svg`<polyline class="rtt" points=${m.rttLine}></polyline>` : nothing}
        ${m.lossMarks.map((l) => svg`<line class="loss" x1=${l.x} x2=${l.x} y1=${b.top + b.height} y2=${b.top + b.height + 6}><title>${l.label}</title></line>`)}
        ${m.ticks.map((k, i) => svg`<text x=${k.x} y=${m.height - 4} text-anchor=${i === 0 ? 'start' : i === m.ticks.length - 1 ? 'end' : 'middle'}>${k.label}</text>`)}
      </svg>
      <p class="legend mono" data-testid="quality-now">
        <span><span class="swatch" style="background:var(--wg-accent)"></span>received ${formatBitrate(last.rxBps)}</span>
        <span><span class="swatch" style="background:var(--wg-warn)"></span>sent ${formatBitrate(last.txBps)}</span>
        <span><span class="swatch" style="background:var(--wg-ok)"></span>RTT ${rtt !== undefined ? `${rtt.toFixed(1)} ms` : '—'}</span>
        <span><span class="swatch" style="background:var(--wg-err)"></span>loss: ${last.tcpRetransmits} retransmits, ${last.relayDrops} relay drops</span>
        <span class="muted">${m.span}</span>
      </p>`;
  }

  #renderCompare() {
    const r = this.#compare.value;
    const comparing = this.#compare.running;
    const mbit = (bps: number): string => formatBitrate(bps);
    return html`<div class="compare">
      <form @submit=${this.#onCompare}>
        <label
          >Tunnel vs direct: a download inside the tunnel
          <input name="url" type="url" required placeholder="http://10.0.0.1/bytes/8388608" aria-label="Download URL inside the tunnel" ?disabled=${!this.connected || comparing} />
        </label>
        <button type="submit" data-testid="compare-run" ?disabled=${!this.connected || comparing}>${comparing ? 'Comparing…' : 'Compare'}</button>
      </form>
      ${r
        ? html`<div class="bars" data-testid="compare-result" role="group" aria-label="Tunnel vs direct">
              <span>direct (this browser ↔ relay)</span><span class="bar direct" style="width:100%"></span><span class="mono" data-testid="compare-direct">${mbit(r.direct.bitsPerSecond)}</span>
              <span>through the tunnel</span><span class="bar" style="width:${Math.min(100, Math.max(1, r.percent))}%"></span><span class="mono" data-testid="compare-tunnel">${mbit(r.tunnel.bitsPerSecond)}</span>
            </div>
            <p class="small" data-testid="compare-percent">The tunnel reaches <strong>${r.percent}%</strong> of the direct rate (${(r.bytes / 1048576).toFixed(r.bytes % 1048576 ? 2 : 0)} MiB each way, one after the other).</p>`
        : html`<p class="muted small">Times the same download straight from the relay (its /speed endpoint) and through the tunnel (8 MiB; the URL must serve at least that, e.g. /bytes/8388608 on the demo site).</p>`}
      ${renderToolError(this.#compare.error)}
    </div>`;
  }

  async #onCompare(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel) return;
    const url = String(new FormData(e.target as HTMLFormElement).get('url') ?? '').trim();
    await this.#compare.run(() => tunnel.compare(url, {}));
  }

  async #download(kind: 'html' | 'json'): Promise<void> {
    const tunnel = this.tunnel;
    if (!tunnel) return;
    await this.#report.run(async () => {
      const { report, html: page } = await tunnel.report();
      const stamp = report.generatedAt.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z').replace('T', '-');
      const text = kind === 'html' ? page : JSON.stringify(report, null, 2);
      saveFile(`wgweb-report-${stamp}.${kind}`, new TextEncoder().encode(text), kind === 'html' ? 'text/html;charset=utf-8' : 'application/json');
    });
  }
}
customElements.define('wg-quality-panel', WgQualityPanel);
