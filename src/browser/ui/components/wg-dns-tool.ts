/**
 * <wg-dns-tool>: a DNS query through the tunnel as dig makes it. Any record type (A, AAAA,
 * CNAME, MX, TXT, SRV, NS, SOA, PTR of an address, CAA), asked of the config's `DNS =` or of a
 * server typed in; the reply's answer, authority and additional sections as zone-file lines, the
 * CNAME chain it followed, the rcode (NXDOMAIN is a result, shown with the zone's SOA), the
 * server, transport and time. Stop cancels a query that waits for a silent server.
 *
 *   submit ──▶ TunnelTools.dnsQuery(name, type, { server }) ──▶ result table  |  error (alert)
 */
import { LitElement, css, html, nothing } from 'lit';
import type { DnsQueryResult, DnsRecordLine, LookupType } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { ToolRunController } from '../controllers/tool-run-controller.ts';
import { formatMs } from '../../../shared/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import './wg-copy-button.ts';
import { renderTextField } from './text-field.ts';
import { renderToolError } from './tool-error.ts';

/** The record types of the picker, in the order people reach for them, with a hint each. */
const TYPES = [
  ['A', 'A (IPv4)'],
  ['AAAA', 'AAAA (IPv6)'],
  ['CNAME', 'CNAME (alias)'],
  ['MX', 'MX (mail)'],
  ['TXT', 'TXT'],
  ['SRV', 'SRV (service)'],
  ['NS', 'NS (name servers)'],
  ['SOA', 'SOA (zone)'],
  ['PTR', 'PTR (address → name)'],
  ['CAA', 'CAA (certificate authorities)'],
] as const satisfies readonly (readonly [LookupType, string])[];

export class WgDnsTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _name: { state: true },
    _type: { state: true },
    _server: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      /* Wide enough for its longest label ("AAAA (IPv6)"): a narrow field cut "A (IPv4)" at the arrow. */
      form .field.type {
        flex: 0 0 8.75rem;
      }
      table.records {
        width: 100%;
        border-collapse: collapse;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
        margin: 0.25rem 0 0.75rem;
      }
      table.records caption {
        text-align: left;
        font-family: var(--wg-font);
        color: var(--wg-muted);
        font-size: 0.75rem;
        padding-bottom: 0.2rem;
      }
      table.records th {
        text-align: left;
        font-weight: 600;
        color: var(--wg-muted);
        font-size: 0.72rem;
        padding: 0.15rem 0.6rem 0.15rem 0;
      }
      table.records td {
        padding: 0.15rem 0.6rem 0.15rem 0;
        vertical-align: top;
        overflow-wrap: anywhere;
      }
      .rcode {
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
        padding: 0.15rem 0.6rem;
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _name: string;
  declare _type: LookupType;
  declare _server: string;
  readonly #run = new ToolRunController<DnsQueryResult>(this);

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._name = '';
    this._type = 'A';
    this._server = '';
  }

  override render() {
    const r = this.#run.value;
    const running = this.#run.running;
    return html`
      <form @submit=${this.#onSubmit}>
        ${renderTextField({
          id: 'dns-name',
          label: 'Name',
          value: this._name,
          placeholder: this._type === 'PTR' ? '10.8.0.1' : 'example.internal',
          onInput: (v) => (this._name = v),
        })}
        <div class="field type">
          <label for="dns-type">Type</label>
          <select id="dns-type" .value=${this._type} @change=${(ev: Event) => (this._type = (ev.target as HTMLSelectElement).value as LookupType)}>
            ${TYPES.map(([value, label]) => html`<option value=${value} ?selected=${value === this._type}>${label}</option>`)}
          </select>
        </div>
        ${renderTextField({ id: 'dns-server', label: 'Server', value: this._server, placeholder: 'DNS = of the config', onInput: (v) => (this._server = v) })}
        <div class="actions">
          ${running
            ? html`<button type="button" class="danger" @click=${() => this.#run.abort()}>Stop</button>`
            : html`<button type="submit" class="primary" ?disabled=${!this.connected || !this._name.trim()}>Look up</button>`}
        </div>
      </form>
      ${r ? this.#renderResult(r) : nothing}
      ${renderToolError(this.#run.error)}
    `;
  }

  #renderResult(r: DnsQueryResult) {
    const wanted = r.answers.filter((a) => a.type === r.type);
    const ok = r.rcode === 'NOERROR';
    const verdict = !ok
      ? r.rcode === 'NXDOMAIN'
        ? `${r.question} does not exist`
        : `the server answered ${r.rcode}`
      : wanted.length
        ? `${wanted.length} ${r.type} record${wanted.length === 1 ? '' : 's'}`
        : `${r.question} exists but has no ${r.type} record`;
    return html`<div class="result" role="status" aria-label="DNS answer">
      <p>
        <span class="pill rcode ${ok && wanted.length ? 'ok' : ok ? 'warn' : 'err'}">${r.rcode}</span>
        <span>${verdict}</span>
      </p>
      ${r.cnameChain.length ? html`<p>Alias: <span class="mono">${[r.question, ...r.cnameChain].join(' → ')}</span></p>` : nothing}
      ${this.#renderSection('Answer', r.answers)} ${this.#renderSection('Authority', r.authorities)} ${this.#renderSection('Additional', r.additionals)}
      <dl class="kv">
        <dt>asked</dt>
        <dd>${r.question} ${r.type}</dd>
        <dt>server</dt>
        <dd>${r.server} over ${r.transport.toUpperCase()}</dd>
        <dt>time</dt>
        <dd>${formatMs(r.elapsedMs)}${r.queries.length > 1 ? ` in ${r.queries.length} queries` : ''}</dd>
      </dl>
      ${wanted.length
        ? html`<div style="margin-top:0.6rem">
            <wg-copy-button .text=${wanted.map((a) => a.data).join('\n')} label="Copy ${r.type === 'A' || r.type === 'AAAA' ? 'addresses' : 'records'}"></wg-copy-button>
          </div>`
        : nothing}
    </div>`;
  }

  #renderSection(title: string, rows: DnsRecordLine[]) {
    if (!rows.length) return nothing;
    return html`<table class="records" aria-label="${title} section">
      <caption>
        ${title}
      </caption>
      <thead>
        <tr>
          <th scope="col">name</th>
          <th scope="col">ttl</th>
          <th scope="col">type</th>
          <th scope="col">data</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((a) => html`<tr><td>${a.name}</td><td>${a.ttl}</td><td>${a.type}</td><td>${a.data}</td></tr>`)}
      </tbody>
    </table>`;
  }

  #onSubmit(ev: Event) {
    ev.preventDefault();
    const tunnel = this.tunnel;
    if (!tunnel || this.#run.running) return;
    const name = this._name.trim();
    const type = this._type;
    const server = this._server.trim() || undefined;
    void this.#run.run((signal) => tunnel.dnsQuery(name, type, { server }, signal));
  }
}
customElements.define('wg-dns-tool', WgDnsTool);
