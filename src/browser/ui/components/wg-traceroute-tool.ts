/**
 * <wg-traceroute-tool>: the routers between the tunnel and a host, like traceroute(8) (Session
 * .traceroute through the worker): UDP probes by default or ICMP echoes (-I), max hops (-m),
 * probes per hop (-q), and reverse DNS names unless "Names" is off (-n). Each hop appears as it
 * completes — its number, who answered (`name (address)`), one RTT or `*` per probe, and
 * traceroute's `!H`/`!N`/`!X` marks — with the hop being probed shown underneath; Stop ends the
 * walk and keeps the hops seen so far.
 *
 *   submit ──▶ tunnel.traceroute(host, options, onHop, signal) ──▶ onHop: append the hop
 *          ──▶ result: "reached in N hops" / "not reached within N hops"
 */
import { LitElement, css, html, nothing } from 'lit';
import type { TraceHop, TracerouteResult } from '../../worker/tunnel-api.ts';
import { TRACEROUTE_BASE_PORT, TRACEROUTE_DEFAULTS, traceProbeMark } from '../../../session/traceroute.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { formatMs } from '../../../shared/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderTextField } from './text-field.ts';
import { renderToolError } from './tool-error.ts';

/** The answering hosts of a hop, each once, as `name (address)` or the bare address. */
function hopHosts(hop: TraceHop): string[] {
  const seen = new Map<string, string>();
  for (const p of hop.probes) if (p.kind !== 'timeout' && !seen.has(p.from)) seen.set(p.from, p.name ? `${p.name} (${p.from})` : p.from);
  return [...seen.values()];
}

export class WgTracerouteTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _host: { state: true },
    _method: { state: true },
    _maxHops: { state: true },
    _probes: { state: true },
    _names: { state: true },
    _hops: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      label.check {
        display: flex;
        align-items: center;
        gap: 0.35rem;
        font-size: 0.8125rem;
        padding-bottom: 0.45rem;
      }
      table.hops {
        width: 100%;
        border-collapse: collapse;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
      }
      table.hops th,
      table.hops td {
        text-align: left;
        padding: 0.3rem 0.6rem;
        vertical-align: top;
        border-bottom: 1px solid var(--wg-border);
      }
      table.hops th {
        font-family: inherit;
        font-weight: 600;
        color: var(--wg-muted);
        font-size: 0.75rem;
      }
      table.hops td.ttl {
        width: 2.5rem;
        text-align: right;
        color: var(--wg-muted);
      }
      table.hops td.host {
        overflow-wrap: anywhere;
      }
      table.hops .star,
      table.hops .mark {
        color: var(--wg-warn);
      }
      table.hops tr.probing td {
        color: var(--wg-muted);
        font-style: italic;
      }
      .outcome {
        margin: 0.6rem 0 0;
        font-size: 0.875rem;
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _host: string;
  /** `udp` (traceroute's default) or `icmp` (-I). */
  declare _method: 'udp' | 'icmp';
  declare _maxHops: string;
  declare _probes: string;
  /** Reverse DNS names of the hops (off: traceroute -n). */
  declare _names: boolean;
  /** The hops seen so far, in order. */
  declare _hops: TraceHop[];
  readonly #run = new ToolRunController<TracerouteResult>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._host = '';
    this._method = 'udp';
    this._maxHops = String(TRACEROUTE_DEFAULTS.maxHops);
    this._probes = String(TRACEROUTE_DEFAULTS.probesPerHop);
    this._names = true;
    this._hops = [];
  }

  override render() {
    const maxHops = Number(this._maxHops);
    const hopsOk = Number.isInteger(maxHops) && maxHops >= 1 && maxHops <= 255;
    const probes = Number(this._probes);
    const probesOk = Number.isInteger(probes) && probes >= 1 && probes <= 10;
    const canRun = !!this.tunnel?.traceroute && this.connected && !!this._host.trim() && hopsOk && probesOk;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({ id: 'trace-host', label: 'Host', value: this._host, placeholder: '10.8.0.9 or fd00::9', onInput: (v) => (this._host = v) })}
        <div class="field narrow">
          <label for="trace-method">Probes</label>
          <select id="trace-method" .value=${this._method} @change=${(e: Event) => (this._method = (e.target as HTMLSelectElement).value as 'udp' | 'icmp')}>
            <option value="udp" ?selected=${this._method === 'udp'} title="UDP to ports ${TRACEROUTE_BASE_PORT} and up, like traceroute">UDP</option>
            <option value="icmp" ?selected=${this._method === 'icmp'} title="ICMP echo requests, like traceroute -I">ICMP</option>
          </select>
        </div>
        <div class="field narrow">
          <label for="trace-max-hops">Max hops</label>
          <input id="trace-max-hops" type="number" min="1" max="255" .value=${this._maxHops} aria-invalid=${hopsOk ? 'false' : 'true'} @input=${(e: Event) => (this._maxHops = (e.target as HTMLInputElement).value)} />
        </div>
        <div class="field narrow">
          <label for="trace-probes">Per hop</label>
          <input id="trace-probes" type="number" min="1" max="10" title="Probes per hop (traceroute -q)" .value=${this._probes} aria-invalid=${probesOk ? 'false' : 'true'} @input=${(e: Event) => (this._probes = (e.target as HTMLInputElement).value)} />
        </div>
        <label class="check" title="Look up each router's name (PTR) through the tunnel's DNS; off is traceroute -n">
          <input id="trace-names" type="checkbox" .checked=${this._names} @change=${(e: Event) => (this._names = (e.target as HTMLInputElement).checked)} />
          Names
        </label>
        <div class="actions">
          ${this.#run.running
            ? html`<button type="button" class="danger" @click=${() => this.#run.abort()}>Stop</button>`
            : html`<button type="submit" class="primary" ?disabled=${!canRun}>Trace</button>`}
        </div>
      </form>
      ${this.#renderHops()} ${this.#renderOutcome()} ${renderToolError(this.#run.error)}
    `;
  }

  #renderHops() {
    if (!this._hops.length && !this.#run.running) return nothing;
    const next = (this._hops.at(-1)?.ttl ?? 0) + 1;
    return html`<div class="result">
      <table class="hops" aria-label="Hops">
        <thead>
          <tr><th>hop</th><th>router</th><th>round trips</th></tr>
        </thead>
        <tbody>
          ${this._hops.map((h) => this.#renderHop(h))}
          ${this.#run.running ? html`<tr class="probing" data-testid="trace-probing"><td class="ttl">${next}</td><td colspan="2">probing…</td></tr>` : nothing}
        </tbody>
      </table>
    </div>`;
  }

  #renderHop(hop: TraceHop) {
    const hosts = hopHosts(hop);
    return html`<tr data-ttl=${hop.ttl}>
      <td class="ttl">${hop.ttl}</td>
      <td class="host">${hosts.length ? hosts.join(', ') : html`<span class="star">*</span>`}</td>
      <td class="rtts">
        ${hop.probes.map((p, i) => {
          const sep = i ? ' ' : '';
          if (p.kind === 'timeout') return html`${sep}<span class="star" title="no answer">*</span>`;
          const mark = traceProbeMark(p);
          return html`${sep}${formatMs(p.rttMs)}${mark ? html` <span class="mark" title="ICMP unreachable">${mark}</span>` : nothing}`;
        })}
      </td>
    </tr>`;
  }

  #renderOutcome() {
    const r = this.#run.value;
    if (!r) return nothing;
    const target = r.host === r.address ? r.address : `${r.host} (${r.address})`;
    const how = r.method === 'icmp' ? 'ICMP echo' : `UDP from port ${r.port ?? TRACEROUTE_BASE_PORT}`;
    const text = r.reached
      ? `${target} reached in ${r.hops.length} hop${r.hops.length === 1 ? '' : 's'} (${how}).`
      : `${target} not reached within ${r.hops.length} hops (${how}): the path stops after the last router that answered.`;
    return html`<p class="outcome" role="status" data-testid="trace-outcome">${text}</p>`;
  }

  #onSubmit(e: Event) {
    e.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel?.traceroute || this.#run.running) return;
    const trace = tunnel.traceroute.bind(tunnel);
    const host = this._host.trim();
    const options = { method: this._method, maxHops: Number(this._maxHops), probesPerHop: Number(this._probes), resolveNames: this._names };
    this._hops = [];
    void this.#run.run((signal) => trace(host, options, (hop) => (this._hops = [...this._hops, hop]), signal));
  }
}
customElements.define('wg-traceroute-tool', WgTracerouteTool);
