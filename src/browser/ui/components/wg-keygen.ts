/**
 * <wg-keygen .keys=${tunnel}>: make a new client key pair in the browser (in the worker, with the
 * same code the tunnel uses), then show the [Peer] stanza for the server, the client config and a
 * QR code of it. Emits `wg-use-config` ({ value }) when the user takes the generated config.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { TunnelKeys } from '../controllers/tunnel-controller.ts';
import {
  DEFAULT_KEYGEN_FIELDS,
  checkKeygenFields,
  keygenOutputs,
  type KeygenFields,
  type KeygenProblem,
} from '../lib/peer-stanza.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import './wg-copy-button.ts';
import './wg-qr-code.ts';

interface Outputs {
  clientConfig: string;
  peerStanza: string;
  wgSetCommand?: string;
  publicKey: string;
}

const FIELD_META: { id: keyof KeygenFields; label: string; help: string; placeholder: string; mono: boolean }[] = [
  { id: 'serverPublicKey', label: 'Server public key', help: 'Printed by wg show on the server.', placeholder: 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=', mono: true },
  { id: 'endpoint', label: 'Server endpoint', help: 'Host and UDP port the relay sends to.', placeholder: 'vpn.example.com:51820', mono: true },
  { id: 'addresses', label: 'Client address', help: 'This browser\'s address inside the tunnel.', placeholder: '10.8.0.2/32', mono: true },
  { id: 'dns', label: 'DNS server (optional)', help: 'Used by the DNS tool and for names in URLs.', placeholder: '10.8.0.1', mono: true },
  { id: 'allowedIPs', label: 'Route through the tunnel', help: 'AllowedIPs of the server peer.', placeholder: '0.0.0.0/0, ::/0', mono: true },
  { id: 'persistentKeepalive', label: 'Keepalive (s)', help: 'Empty for off.', placeholder: '25', mono: true },
];

export class WgKeygen extends LitElement {
  static override properties = {
    keys: { attribute: false },
    _fields: { state: true },
    _problems: { state: true },
    _withPsk: { state: true },
    _outputs: { state: true },
    _busy: { state: true },
    _error: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      form {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
        column-gap: 0.9rem;
      }
      form .wide {
        grid-column: 1 / -1;
      }
      .out {
        margin-top: 1.1rem;
        display: grid;
        gap: 1.1rem;
      }
      .step-head {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        margin-bottom: 0.4rem;
        flex-wrap: wrap;
      }
      .step-head h3 {
        margin: 0;
        font-size: 0.875rem;
        font-weight: 600;
        flex: 1;
      }
      pre.command {
        flex: 1;
        min-width: 0;
        white-space: pre-wrap;
        word-break: break-all;
      }
      .client {
        display: grid;
        grid-template-columns: auto minmax(0, 1fr);
        gap: 1rem;
        align-items: start;
        margin-top: 0.75rem;
      }
      .qr {
        width: 10.5rem;
      }
      @media (max-width: 30rem) {
        .client {
          grid-template-columns: 1fr;
        }
      }
    `,
  ];

  declare keys: TunnelKeys | undefined;
  declare _fields: KeygenFields;
  declare _problems: KeygenProblem[];
  declare _withPsk: boolean;
  declare _outputs: Outputs | undefined;
  declare _busy: boolean;
  declare _error: string;

  constructor() {
    super();
    this.keys = undefined;
    this._fields = { ...DEFAULT_KEYGEN_FIELDS };
    this._problems = [];
    this._withPsk = false;
    this._outputs = undefined;
    this._busy = false;
    this._error = '';
  }

  override render() {
    const o = this._outputs;
    return html`
      <p class="muted small" style="margin-top:0">
        Make a new key pair for this browser. The private key never leaves this page; the server only needs the public key.
      </p>
      <form @submit=${this.#onSubmit} novalidate>
        ${FIELD_META.map((f) => this.#renderField(f))}
        <div class="field wide">
          <label class="check">
            <input type="checkbox" .checked=${this._withPsk} @change=${(e: Event) => (this._withPsk = (e.target as HTMLInputElement).checked)} />
            <span>Also generate a preshared key (extra post-quantum protection; both sides need it)</span>
          </label>
        </div>
        <div class="actions wide">
          <button type="submit" class="primary" ?disabled=${this._busy || !this.keys}>${o ? 'Generate a new key pair' : 'Generate key pair'}</button>
        </div>
      </form>
      ${this._error ? html`<p class="alert err" role="alert">${this._error}</p>` : nothing}
      ${o ? this.#renderOutputs(o) : nothing}
    `;
  }

  #renderField(f: (typeof FIELD_META)[number]) {
    const problem = this._problems.find((p) => p.field === f.id);
    const id = `kg-${f.id}`;
    return html`<div class="field">
      <label for=${id}>${f.label}</label>
      <input
        id=${id}
        name=${f.id}
        class=${f.mono ? 'mono' : ''}
        type="text"
        inputmode=${f.id === 'persistentKeepalive' ? 'numeric' : 'text'}
        .value=${this._fields[f.id]}
        placeholder=${f.placeholder}
        spellcheck="false"
        autocomplete="off"
        autocapitalize="off"
        aria-invalid=${problem ? 'true' : 'false'}
        aria-describedby="${id}-help${problem ? ` ${id}-error` : ''}"
        @input=${(e: Event) => this.#onField(f.id, (e.target as HTMLInputElement).value)}
      />
      ${problem ? html`<div class="field-error" id="${id}-error">${problem.message}</div>` : nothing}
      <div class="help" id="${id}-help">${f.help}</div>
    </div>`;
  }

  #renderOutputs(o: Outputs) {
    return html`<div class="out" aria-live="polite">
      <section aria-labelledby="kg-step1">
        <div class="step-head">
          <h3 id="kg-step1">1. Add this peer to the server</h3>
          <wg-copy-button .text=${o.peerStanza} label="Copy [Peer]"></wg-copy-button>
        </div>
        <pre class="block" data-testid="peer-stanza">${o.peerStanza}</pre>
        <p class="help">
          Append it to the server's wg0.conf and reload (<code>wg syncconf wg0 &lt;(wg-quick strip wg0)</code>)${o.wgSetCommand
            ? html`, or apply it live:`
            : '.'}
        </p>
        ${o.wgSetCommand
          ? html`<div class="step-head" style="margin-top:0.4rem">
              <pre class="block command">${o.wgSetCommand}</pre>
              <wg-copy-button .text=${o.wgSetCommand} label="Copy command"></wg-copy-button>
            </div>`
          : nothing}
      </section>
      <section aria-labelledby="kg-step2">
        <div class="step-head">
          <h3 id="kg-step2">2. Your client config</h3>
          <wg-copy-button .text=${o.clientConfig} label="Copy config"></wg-copy-button>
          <button type="button" class="small" @click=${() => this.#download(o.clientConfig)}>Download .conf</button>
        </div>
        <pre class="block" data-testid="client-config">${o.clientConfig}</pre>
        <div class="client">
          <wg-qr-code class="qr" .text=${o.clientConfig} label="QR code of the client config"></wg-qr-code>
          <div>
            <p class="help" style="margin-top:0">
              Scan the QR code with the WireGuard mobile app to use the same config on a phone. It holds the private key:
              show it to no one.
            </p>
            <div class="actions" style="margin-top:0.75rem">
              <button type="button" class="primary" @click=${() => this.#use(o.clientConfig)}>Use this config</button>
              <span class="help" style="margin:0">Puts it in the editor; then press Connect.</span>
            </div>
          </div>
        </div>
      </section>
    </div>`;
  }

  #onField(id: keyof KeygenFields, value: string) {
    this._fields = { ...this._fields, [id]: value };
    // Once the user has tried to submit, keep the messages current as they fix things.
    if (this._problems.length) this._problems = checkKeygenFields(this._fields);
  }

  async #onSubmit(e: Event) {
    e.preventDefault();
    this._problems = checkKeygenFields(this._fields);
    if (this._problems.length) {
      await this.updateComplete;
      this.renderRoot.querySelector<HTMLInputElement>(`#kg-${this._problems[0].field}`)?.focus();
      return;
    }
    if (!this.keys) return;
    this._busy = true;
    this._error = '';
    try {
      const pair = await this.keys.generateKeyPair();
      const presharedKey = this._withPsk ? await this.keys.generatePresharedKey() : undefined;
      const out = keygenOutputs(this._fields, { ...pair, ...(presharedKey ? { presharedKey } : {}) });
      this._outputs = { ...out, publicKey: pair.publicKey };
    } catch (err) {
      this._error = `Could not generate keys: ${(err as Error).message}`;
    } finally {
      this._busy = false;
    }
  }

  #use(value: string) {
    this.dispatchEvent(new CustomEvent('wg-use-config', { detail: { value }, bubbles: true, composed: true }));
  }

  #download(text: string) {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'wgweb.conf';
    this.renderRoot.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }
}
customElements.define('wg-keygen', WgKeygen);
