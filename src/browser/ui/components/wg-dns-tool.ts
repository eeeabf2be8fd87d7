/**
 * <wg-dns-tool>: A/AAAA lookups through the tunnel, asked of the DNS server in the config.
 */
import { LitElement, html, nothing } from 'lit';
import type { WgwebError } from '../../../shared/errors.ts';
import type { DnsRecordType, DnsResult } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { hintsForError } from '../lib/error-hints.ts';
import { formatMs } from '../lib/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import './wg-copy-button.ts';
import { renderTextField } from './text-field.ts';

export class WgDnsTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _name: { state: true },
    _type: { state: true },
    _result: { state: true },
    _running: { state: true },
    _error: { state: true },
  };
  static override styles = [sharedStyles, toolStyles];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _name: string;
  declare _type: DnsRecordType;
  declare _result: DnsResult | undefined;
  declare _running: boolean;
  declare _error: WgwebError | undefined;

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._name = '';
    this._type = 'A';
    this._result = undefined;
    this._running = false;
    this._error = undefined;
  }

  override render() {
    const r = this._result;
    const e = this._error;
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
          <button type="submit" class="primary" ?disabled=${!this.connected || !this._name.trim() || this._running}>
            ${this._running ? 'Looking up…' : 'Look up'}
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
      ${e
        ? html`<div class="alert err error" role="alert">
            ${e.message}
            ${hintsForError(e.code).length ? html`<ul>${hintsForError(e.code).map((h) => html`<li>${h}</li>`)}</ul>` : nothing}
          </div>`
        : nothing}
    `;
  }

  async #onSubmit(ev: Event) {
    ev.preventDefault();
    if (!this.tunnel || this._running) return;
    this._running = true;
    this._result = undefined;
    this._error = undefined;
    try {
      this._result = await this.tunnel.dns(this._name.trim(), this._type);
    } catch (err) {
      this._error = err as WgwebError;
    } finally {
      this._running = false;
    }
  }
}
customElements.define('wg-dns-tool', WgDnsTool);
