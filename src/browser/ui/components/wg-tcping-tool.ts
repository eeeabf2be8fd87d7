/**
 * <wg-tcping-tool>: is a TCP port open behind the tunnel? Opens a connection through the
 * userspace TCP stack and reports open / refused / timeout / unreachable with the time taken.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { TcpingResult } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { describeTcping } from '../lib/activity-messages.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderTextField } from './text-field.ts';
import { renderToolError } from './tool-error.ts';

const OUTCOME_CLASS: Record<TcpingResult['result'], string> = { open: 'ok', refused: 'err', timeout: 'warn', unreachable: 'err' };

export class WgTcpingTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _host: { state: true },
    _port: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      .outcome {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
      }
      .outcome .pill {
        font-size: 0.8125rem;
        padding: 0.2rem 0.75rem;
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _host: string;
  declare _port: string;
  readonly #run = new ToolRunController<TcpingResult>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._host = '';
    this._port = '';
  }

  override render() {
    const port = Number(this._port);
    const portOk = Number.isInteger(port) && port >= 1 && port <= 65535;
    const r = this.#run.value;
    const running = this.#run.running;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({ id: 'tcp-host', label: 'Host', value: this._host, placeholder: '10.8.0.1', onInput: (v) => (this._host = v) })}
        <div class="field narrow">
          <label for="tcp-port">Port</label>
          <input
            id="tcp-port"
            type="number"
            min="1"
            max="65535"
            .value=${this._port}
            placeholder="22"
            aria-invalid=${this._port && !portOk ? 'true' : 'false'}
            @input=${(ev: Event) => (this._port = (ev.target as HTMLInputElement).value)}
          />
        </div>
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${!this.connected || !this._host.trim() || !portOk || running}>
            ${running ? 'Checking…' : 'Check port'}
          </button>
        </div>
      </form>
      ${r
        ? html`<div class="result outcome" role="status">
            <span class="pill ${OUTCOME_CLASS[r.result] ?? ''}">${r.result}</span>
            <span>${describeTcping(r)}</span>
          </div>`
        : nothing}
      ${renderToolError(this.#run.error)}
    `;
  }

  #onSubmit(ev: Event) {
    ev.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel) return;
    const host = this._host.trim();
    const port = Number(this._port);
    void this.#run.run(() => tunnel.tcping(host, port));
  }
}
customElements.define('wg-tcping-tool', WgTcpingTool);
