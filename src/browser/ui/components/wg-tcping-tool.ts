/**
 * <wg-tcping-tool>: which TCP ports answer behind the tunnel? Takes one port, a list or ranges
 * (`22,80,8000-8100`, at most 1024, parsed by src/shared/port-list.ts), opens connections
 * through the userspace TCP stack (8 at once, paced) and lists each port as it is decided:
 * open (SYN-ACK, with the connect time), closed (RST), filtered (no answer: a firewall drops the
 * SYN) or unreachable. Stop ends the check; the ports decided so far stay.
 *
 *   submit ──▶ TunnelTools.tcpingPorts(host, ports, {}, onResult) ──▶ one row per port as it comes
 *                                                                └──▶ counts by outcome at the end
 */
import { LitElement, css, html, nothing } from 'lit';
import type { PortCheckResult, TcpingResult } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { compactPorts } from '../lib/activity-messages.ts';
import { formatMs } from '../../../shared/format-time.ts';
import { parsePortList } from '../../../shared/port-list.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderTextField } from './text-field.ts';
import { renderToolError } from './tool-error.ts';

const OUTCOME_CLASS: Record<TcpingResult['result'], string> = { open: 'ok', refused: 'err', timeout: 'warn', unreachable: 'err' };
/** The words of the port list: what a person calls each outcome. */
const OUTCOME_WORD: Record<TcpingResult['result'], string> = { open: 'open', refused: 'closed', timeout: 'filtered', unreachable: 'unreachable' };
const OUTCOME_WHY: Record<TcpingResult['result'], string> = {
  open: 'connected',
  refused: 'RST: nothing listens',
  timeout: 'no answer: dropped by a firewall, or the host is down',
  unreachable: 'ICMP unreachable',
};

export class WgTcpingTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _host: { state: true },
    _ports: { state: true },
    _rows: { state: true },
    _total: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      form .field.ports {
        flex: 0 1 12rem;
      }
      .ports-list {
        max-height: 16rem;
      }
      .ports-list li {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        padding: 0.1rem 0;
      }
      .ports-list .port {
        min-width: 3.2rem;
        text-align: right;
        font-weight: 600;
      }
      .ports-list .pill {
        font-size: 0.72rem;
        padding: 0.05rem 0.5rem;
        min-width: 4.8rem;
      }
      .ports-list .why {
        color: var(--wg-muted);
      }
      .summary {
        margin: 0.6rem 0 0;
        font-size: 0.8125rem;
      }
      .hint {
        font-size: 0.75rem;
        color: var(--wg-muted);
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _host: string;
  declare _ports: string;
  /** The ports decided so far, in the order they were decided. */
  declare _rows: TcpingResult[];
  /** How many ports the current (or last) check covers. */
  declare _total: number;
  /** The run: its value has the ports by outcome; a stopped run keeps its rows and shows no error. */
  readonly #run = new ToolRunController<PortCheckResult>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._host = '';
    this._ports = '';
    this._rows = [];
    this._total = 0;
  }

  /** The parsed list, or why it is not one (shown under the field). */
  #parsed(): { ports: number[] } | { error: string } | undefined {
    if (!this._ports.trim()) return undefined;
    try {
      return { ports: parsePortList(this._ports) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  }

  override render() {
    const parsed = this.#parsed();
    const bad = parsed && 'error' in parsed ? parsed.error : undefined;
    const count = parsed && 'ports' in parsed ? parsed.ports.length : 0;
    const running = this.#run.running;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({ id: 'tcp-host', label: 'Host', value: this._host, placeholder: '10.8.0.1', onInput: (v) => (this._host = v) })}
        <div class="field ports">
          <label for="tcp-port">Ports</label>
          <input
            id="tcp-port"
            class="mono"
            type="text"
            inputmode="numeric"
            spellcheck="false"
            autocomplete="off"
            .value=${this._ports}
            placeholder="22,80,8000-8100"
            aria-invalid=${bad ? 'true' : 'false'}
            aria-describedby="tcp-port-hint"
            @input=${(ev: Event) => (this._ports = (ev.target as HTMLInputElement).value)}
          />
          <div id="tcp-port-hint" class="hint">${bad ?? (count > 1 ? `${count} ports` : 'one port, a list or ranges')}</div>
        </div>
        <div class="actions">
          ${running
            ? html`<button type="button" class="danger" @click=${() => this.#run.abort()}>Stop</button>`
            : html`<button type="submit" class="primary" ?disabled=${!this.connected || !this._host.trim() || count === 0}>
                ${count > 1 ? 'Check ports' : 'Check port'}
              </button>`}
        </div>
      </form>
      ${this.#renderRows()} ${renderToolError(this.#run.error)}
    `;
  }

  #renderRows() {
    const rows = this._rows;
    if (!rows.length && !this.#run.running) return nothing;
    const by = (o: TcpingResult['result']) => rows.filter((r) => r.result === o).map((r) => r.port);
    const open = by('open');
    const closed = by('refused');
    const filtered = by('timeout');
    const unreachable = by('unreachable');
    const running = this.#run.running;
    const stopped = !running && !this.#run.value && !this.#run.error && rows.length < this._total;
    const parts = [`${open.length} open${open.length ? ` (${compactPorts(open)})` : ''}`, `${closed.length} closed`, `${filtered.length} filtered`];
    if (unreachable.length) parts.push(`${unreachable.length} unreachable`);
    const sorted = [...rows].sort((a, b) => a.port - b.port);
    return html`<div class="result">
      <ol class="result-list ports-list" aria-label="Port results">
        ${sorted.map(
          (r) => html`<li>
            <span class="port">${r.port}</span>
            <span class="pill ${OUTCOME_CLASS[r.result] ?? ''}">${OUTCOME_WORD[r.result] ?? r.result}</span>
            <span class="why">${OUTCOME_WHY[r.result] ?? ''}${r.result === 'open' || r.result === 'refused' ? ` in ${formatMs(r.elapsedMs)}` : ''}</span>
          </li>`,
        )}
      </ol>
      <p class="summary" role="status" aria-label="Port summary">
        ${running ? `Checking ${rows.length} of ${this._total}… ` : stopped ? `Stopped after ${rows.length} of ${this._total}: ` : `${rows.length} ports: `}${parts.join(', ')}
      </p>
    </div>`;
  }

  #onSubmit(ev: Event) {
    ev.preventDefault();
    const tunnel = this.tunnel;
    const parsed = this.#parsed();
    if (!tunnel || this.#run.running || !parsed || !('ports' in parsed)) return;
    const host = this._host.trim();
    this._rows = [];
    this._total = parsed.ports.length;
    void this.#run.run((signal) => tunnel.tcpingPorts(host, parsed.ports, {}, (r) => (this._rows = [...this._rows, r]), signal));
  }
}
customElements.define('wg-tcping-tool', WgTcpingTool);
