/**
 * <wg-dns-tool>: A/AAAA lookups through the tunnel, asked of the DNS server in the config.
 */
import { LitElement, html, nothing } from 'lit';
import type { DnsRecordType, DnsResult } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { formatMs } from '../lib/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import './wg-copy-button.ts';
import { renderTextField } from './text-field.ts';
import { renderToolError } from './tool-error.ts';

export class WgDnsTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _name: { state: true },
    _type: { state: true },
  };
  static override styles = [sharedStyles, toolStyles];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _name: string;
  declare _type: DnsRecordType;
  readonly #run = new ToolRunController<DnsResult>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._name = '';
    this._type = 'A';
  }

  override render() {
    const r = this.#run.value;
    const running = this.#run.running;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({ id: 'dns-name', label: 'Name', value: this._name, placeholder: 'example.internal', onInput: (v) => (this._name = v) })}
        <div class="field narrow">
          <label for="dns-type">Type</label>
          <select id="dns-type" .value=${this._type} @change=${(ev: Event) => (this._type = (ev.target as HTMLSelectElement).value as DnsRecordType)}>
            <option value="A">A (IPv4)</option>
            <option value="AAAA">AAAA (IPv6)</option>
          </select>
        </div>
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${!this.connected || !this._name.trim() || running}>
            ${running ? 'Looking up…' : 'Look up'}
          </button>
        </div>
      </form>
      ${r
        ? html`<div class="result" role="status">
            <dl class="kv">
              <dt>${r.type} records</dt>
              <dd>
                ${r.addresses.length
                  ? html`${r.addresses.map((a) => html`<div>${a}</div>`)}`
                  : html`<span class="muted">none (the name exists but has no ${r.type} record)</span>`}
              </dd>
              <dt>ttl</dt>
              <dd>${r.ttl} s</dd>
              <dt>server</dt>
              <dd>${r.server}</dd>
              <dt>time</dt>
              <dd>${formatMs(r.elapsedMs)}</dd>
            </dl>
            ${r.addresses.length ? html`<div style="margin-top:0.6rem"><wg-copy-button .text=${r.addresses.join('\n')} label="Copy addresses"></wg-copy-button></div>` : nothing}
          </div>`
        : nothing}
      ${renderToolError(this.#run.error)}
    `;
  }

  #onSubmit(ev: Event) {
    ev.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel) return;
    const name = this._name.trim();
    const type = this._type;
    void this.#run.run(() => tunnel.dns(name, type));
  }
}
customElements.define('wg-dns-tool', WgDnsTool);
