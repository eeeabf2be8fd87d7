/**
 * <wg-ping-tool>: ICMP echo through the tunnel (IPv4 or IPv6): replies as they arrive, an RTT
 * chart, and the ping(8)-style summary. Size (ping -s) and Don't fragment (ping -M do: a router on
 * a smaller link answers with its MTU, shown on the reply line). Stop cancels the wait.
 */
import { LitElement, css, html, nothing, svg } from 'lit';
import type { PingReply, PingSummary } from '../../worker/tunnel-api.ts';
import { DEFAULT_ECHO_PAYLOAD_BYTES, MAX_ECHO_PAYLOAD_V4 } from '../../../netstack/netstack-constants.ts';
import { PING_DEFAULTS } from '../../../session/tool-defaults.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { describePingReply } from '../lib/activity-messages.ts';
import { formatMs } from '../../../shared/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderTextField } from './text-field.ts';
import { renderToolError } from './tool-error.ts';

export class WgPingTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _address: { state: true },
    _count: { state: true },
    _size: { state: true },
    _dontFragment: { state: true },
    _replies: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      .replies .lost {
        color: var(--wg-warn);
      }
      label.check {
        display: flex;
        align-items: center;
        gap: 0.35rem;
        font-size: 0.8125rem;
        padding-bottom: 0.45rem;
      }
      .chart {
        display: block;
        width: 100%;
        height: 3.5rem;
        margin: 0.6rem 0;
      }
      .chart rect {
        fill: var(--wg-accent);
        opacity: 0.8;
      }
      .chart rect.lost {
        fill: var(--wg-warn);
        opacity: 0.5;
      }
      .stats {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(4.6rem, 1fr));
        gap: 0.4rem;
        margin-top: 0.75rem;
      }
      .stat {
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        padding: 0.35rem 0.5rem;
        white-space: nowrap;
      }
      .stat .k {
        font-size: 0.72rem;
        color: var(--wg-muted);
        display: block;
      }
      .stat .v {
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
        font-weight: 600;
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _address: string;
  declare _count: string;
  /** Echo data bytes (ping -s). */
  declare _size: string;
  /** Don't Fragment, never fragmented here (ping -M do). */
  declare _dontFragment: boolean;
  declare _replies: PingReply[];
  /** The run: its value is the ping(8)-style summary; a stopped run shows no error. */
  readonly #run = new ToolRunController<PingSummary>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._address = '';
    this._count = String(PING_DEFAULTS.count);
    this._size = String(DEFAULT_ECHO_PAYLOAD_BYTES);
    this._dontFragment = false;
    this._replies = [];
  }

  override render() {
    const count = Number(this._count);
    const countOk = Number.isInteger(count) && count >= 1 && count <= 1000;
    const size = Number(this._size);
    const sizeOk = this._size.trim() !== '' && Number.isInteger(size) && size >= 0 && size <= MAX_ECHO_PAYLOAD_V4;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({ id: 'ping-address', label: 'Address', value: this._address, placeholder: '10.8.0.1 or fd00::1', onInput: (v) => (this._address = v) })}
        <div class="field narrow">
          <label for="ping-count">Count</label>
          <input
            id="ping-count"
            type="number"
            min="1"
            max="1000"
            .value=${this._count}
            aria-invalid=${countOk ? 'false' : 'true'}
            @input=${(e: Event) => (this._count = (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field narrow">
          <label for="ping-size">Size</label>
          <input
            id="ping-size"
            type="number"
            min="0"
            max=${MAX_ECHO_PAYLOAD_V4}
            title="Data bytes per request (ping -s); the IPv4 packet is 28 bytes more"
            .value=${this._size}
            aria-invalid=${sizeOk ? 'false' : 'true'}
            @input=${(e: Event) => (this._size = (e.target as HTMLInputElement).value)}
          />
        </div>
        <label class="check" title="ping -M do: a packet over the path MTU is refused here, or a router answers with its MTU">
          <input type="checkbox" .checked=${this._dontFragment} @change=${(e: Event) => (this._dontFragment = (e.target as HTMLInputElement).checked)} />
          Don't fragment
        </label>
        <div class="actions">
          ${this.#run.running
            ? html`<button type="button" class="danger" @click=${() => this.#run.abort()}>Stop</button>`
            : html`<button type="submit" class="primary" ?disabled=${!this.connected || !this._address.trim() || !countOk || !sizeOk}>Ping</button>`}
        </div>
      </form>
      ${this.#renderResults()}
    `;
  }

  #renderResults() {
    const summary = this.#run.value;
    return html`
      ${this._replies.length
        ? html`<div class="result">
            ${this.#renderChart()}
            <ol class="result-list replies" aria-label="Replies">
              ${this._replies.map((r) => html`<li class=${'rttMs' in r ? '' : 'lost'}>${describePingReply(r)}</li>`)}
            </ol>
          </div>`
        : nothing}
      ${summary ? this.#renderSummary(summary) : nothing}
      ${renderToolError(this.#run.error)}
    `;
  }

  #renderChart() {
    const rtts = this._replies.map((r) => ('rttMs' in r ? r.rttMs : undefined));
    const max = Math.max(1, ...rtts.filter((x): x is number => x !== undefined));
    const n = Math.max(rtts.length, 10);
    const w = 100 / n;
    return html`<svg class="chart" viewBox="0 0 100 40" preserveAspectRatio="none" role="img" aria-label="Round-trip times, tallest ${formatMs(max)}">
      ${rtts.map((rtt, i) =>
        rtt === undefined
          ? svg`<rect class="lost" x=${i * w + w * 0.15} y="36" width=${w * 0.7} height="4"></rect>`
          : svg`<rect x=${i * w + w * 0.15} y=${40 - Math.max(1.5, (rtt / max) * 38)} width=${w * 0.7} height=${Math.max(1.5, (rtt / max) * 38)} rx="0.6"></rect>`,
      )}
    </svg>`;
  }

  #renderSummary(s: PingSummary) {
    const stat = (k: string, v: string) => html`<div class="stat"><span class="k">${k}</span><span class="v">${v}</span></div>`;
    return html`<div class="stats" role="status" aria-label="Summary">
      ${stat('sent', String(s.transmitted))} ${stat('received', String(s.received))}
      ${stat('loss', `${Number(s.lossPercent.toFixed(1))}%`)} ${stat('min', formatMs(s.rttMinMs))} ${stat('avg', formatMs(s.rttAvgMs))}
      ${stat('max', formatMs(s.rttMaxMs))} ${stat('mdev', formatMs(s.rttMdevMs))}
    </div>`;
  }

  #onSubmit(e: Event) {
    e.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel || this.#run.running) return;
    const address = this._address.trim();
    const count = Number(this._count);
    const options = { count, size: Number(this._size), pmtuDiscovery: this._dontFragment ? ('do' as const) : ('want' as const) };
    this._replies = [];
    void this.#run.run((signal) => tunnel.ping(address, options, (r) => (this._replies = [...this._replies, r]), signal));
  }
}
customElements.define('wg-ping-tool', WgPingTool);
