/**
 * <wg-config-panel>: the "Configuration" card. Paste, drop or open a wg-quick config (checked as
 * you type), or generate a new key pair; the relay URL; the opt-in to remember the config; and
 * Connect / Disconnect. Properties down, events up:
 *
 *   wg-config-input { value }   wg-relay-input { value }   wg-relay-token-input { value }   wg-remember-change { remember }
 *   wg-connect                  wg-disconnect               wg-trust-change { json } (from the
 *                                                            "Certificates" tab: HTTPS trust)
 *
 * "Try the demo" (shown when the relay runs its built-in demo peer) fetches a fresh client config
 * from the relay, then raises the same two events a user would: wg-config-input, wg-connect.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { WgwebError } from '../../../shared/errors.ts';
import type { TunnelKeys } from '../controllers/tunnel-controller.ts';
import { diagnoseConfig, findPrivateKey, type ConfigDiagnosis } from '../lib/config-diagnostics.ts';
import { hintsForError } from '../lib/error-hints.ts';
import { fetchDemoAvailability, fetchDemoConfig } from '../lib/demo-client.ts';
import { renderTextField } from './text-field.ts';
import { keyStyles, renderKey } from './key-text.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { panelId, renderTablist, tabId } from './tablist.ts';
import './wg-config-editor.ts';
import './wg-copy-button.ts';

export type PanelState = 'down' | 'connecting' | 'disconnecting' | 'handshaking' | 'up' | 'reconnecting';

export class WgConfigPanel extends LitElement {
  static override properties = {
    configText: { attribute: false },
    relayUrl: { attribute: false },
    relayToken: { attribute: false },
    relayError: { attribute: false },
    remember: { attribute: false },
    state: { attribute: false },
    lastError: { attribute: false },
    sessionEnded: { attribute: false },
    keys: { attribute: false },
    trustJson: { attribute: false },
    _tab: { state: true },
    _publicKey: { state: true },
    _demo: { state: true },
    _demoBusy: { state: true },
    _demoError: { state: true },
  };
  static override styles = [
    sharedStyles,
    keyStyles,
    css`
      .card-head {
        flex-wrap: wrap;
      }
      /* A config refused at connect lists every problem, one per line. */
      .error-message {
        white-space: pre-line;
      }
      .pub {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        flex-wrap: wrap;
        margin: 0.75rem 0 0;
        padding: 0.5rem 0.75rem;
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        font-size: 0.8125rem;
      }
      .pub code {
        flex: 1;
        display: flex;
        min-width: 0;
        user-select: all;
      }
      .connection {
        margin-top: 1rem;
        padding-top: 1rem;
        border-top: 1px solid var(--wg-border);
        display: grid;
        gap: 0.85rem;
      }
      .connection .field {
        margin: 0;
      }
      .warning {
        color: var(--wg-warn);
        font-size: 0.78rem;
        margin: 0.35rem 0 0 1.5rem;
      }
      .go {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .go button.primary,
      .go button.danger {
        min-width: 8.5rem;
      }
      .demo {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
        margin: 0 0 0.9rem;
        padding: 0.65rem 0.8rem;
        background: var(--wg-surface-2);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        font-size: 0.85rem;
      }
      .demo p {
        flex: 1;
        min-width: 12rem;
        margin: 0;
      }
      .demo .field-error {
        flex-basis: 100%;
      }
    `,
  ];

  declare configText: string;
  declare relayUrl: string;
  /** The relay access token (shown masked; the owner keeps it, in storage only with "remember"). */
  declare relayToken: string;
  declare relayError: string;
  declare remember: boolean;
  declare state: PanelState;
  declare lastError: WgwebError | undefined;
  /** lastError describes a session that ended by itself, not a connect that failed. */
  declare sessionEnded: boolean;
  declare keys: TunnelKeys | undefined;
  /** HTTPS trust (TrustStore.toJSON() data) shown and edited in the "Certificates" tab. */
  declare trustJson: unknown;
  declare _tab: 'file' | 'keygen' | 'certs';
  declare _publicKey: string;
  declare _demo: boolean;
  declare _demoBusy: boolean;
  declare _demoError: string;
  #diagnosis: ConfigDiagnosis = diagnoseConfig('');
  #derivingFor: string | undefined;
  #certsLoaded = false;

  constructor() {
    super();
    this.configText = '';
    this.relayUrl = '';
    this.relayToken = '';
    this.relayError = '';
    this.remember = false;
    this.state = 'down';
    this.lastError = undefined;
    this.sessionEnded = false;
    this.keys = undefined;
    this.trustJson = undefined;
    this._tab = 'file';
    this._publicKey = '';
    this._demo = false;
    this._demoBusy = false;
    this._demoError = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void fetchDemoAvailability().then((a) => (this._demo = a.enabled));
  }

  /** The current check result (for the app and tests). */
  get diagnosis(): ConfigDiagnosis {
    return this.#diagnosis;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('configText')) this.#diagnosis = diagnoseConfig(this.configText);
    if (changed.has('configText') || changed.has('keys')) this.#derivePublicKey();
  }

  override render() {
    const tabs = [
      { id: 'file', label: 'Config file' },
      { id: 'keygen', label: 'New key pair' },
      { id: 'certs', label: 'Certificates' },
    ];
    return html`<section class="card" aria-labelledby="config-title">
      <div class="card-head">
        <h2 id="config-title">Configuration</h2>
        <span class="spacer"></span>
        ${renderTablist({
          label: 'How to configure',
          tabs,
          selected: this._tab,
          idPrefix: 'cfg',
          onSelect: (id) => this.#selectTab(id as 'file' | 'keygen' | 'certs'),
        })}
      </div>
      <div class="card-body">
        <div role="tabpanel" id=${panelId('cfg', 'file')} aria-labelledby=${tabId('cfg', 'file')} ?hidden=${this._tab !== 'file'}>
          ${this.#renderDemo()}
          <wg-config-editor .value=${this.configText} .diagnosis=${this.#diagnosis}></wg-config-editor>
          ${this._publicKey
            ? html`<div class="pub">
                <span class="muted">Your public key</span>
                <code>${renderKey(this._publicKey, 'interface-public-key')}</code>
                <wg-copy-button .text=${this._publicKey} label="Copy"></wg-copy-button>
              </div>`
            : nothing}
          ${this.#renderConnection()}
        </div>
        <div role="tabpanel" id=${panelId('cfg', 'keygen')} aria-labelledby=${tabId('cfg', 'keygen')} ?hidden=${this._tab !== 'keygen'}>
          <wg-keygen .keys=${this.keys} @wg-use-config=${this.#onUseConfig}></wg-keygen>
        </div>
        <div role="tabpanel" id=${panelId('cfg', 'certs')} aria-labelledby=${tabId('cfg', 'certs')} ?hidden=${this._tab !== 'certs'}>
          ${this._tab === 'certs' || this.#certsLoaded
            ? html`<wg-trusted-certificates .trustJson=${this.trustJson}></wg-trusted-certificates>`
            : nothing}
        </div>
      </div>
    </section>`;
  }

  #renderDemo() {
    if (!this._demo || this.state !== 'down') return nothing;
    return html`<div class="demo">
      <p>No WireGuard server at hand? The relay runs a demo peer: get a fresh client config for it and connect.</p>
      <button type="button" class="primary" data-testid="try-demo" ?disabled=${this._demoBusy} @click=${this.#tryDemo}>
        ${this._demoBusy ? 'Getting a config…' : 'Try the demo'}
      </button>
      ${this._demoError ? html`<div class="field-error" role="alert">${this._demoError}</div>` : nothing}
    </div>`;
  }

  /** The demo config this page already got: clicking again reuses it (the relay keeps a few per address). */
  #demoConfig: string | undefined;

  async #tryDemo(): Promise<void> {
    // Never silently replace what the user typed or loaded.
    const current = this.configText.trim();
    if (current && current !== this.#demoConfig?.trim()) {
      const ok = window.confirm('Replace the config in the editor with the demo config?\n\nYour config is not saved anywhere else; copy it first if you need it.');
      if (!ok) return;
    }
    this._demoBusy = true;
    this._demoError = '';
    try {
      const text = this.#demoConfig ?? (await fetchDemoConfig());
      this.#demoConfig = text;
      this.#emit('wg-config-input', { value: text });
      await this.updateComplete;
      this.#emit('wg-connect', {});
    } catch (e) {
      this._demoError = e instanceof Error ? e.message : String(e);
    } finally {
      this._demoBusy = false;
    }
  }

  #renderConnection() {
    const connected = this.state !== 'down';
    const busy = this.state === 'connecting' || this.state === 'disconnecting';
    const canConnect = this.#diagnosis.valid && !this.relayError && !busy;
    const error = this.lastError;
    return html`<div class="connection">
      <div class="field">
        <label for="relay">Relay URL</label>
        <input
          id="relay"
          class="mono"
          type="text"
          inputmode="url"
          .value=${this.relayUrl}
          placeholder="/wg"
          spellcheck="false"
          autocomplete="off"
          autocapitalize="off"
          aria-invalid=${this.relayError ? 'true' : 'false'}
          aria-describedby="relay-help${this.relayError ? ' relay-error' : ''}"
          @input=${(e: Event) => this.#emit('wg-relay-input', { value: (e.target as HTMLInputElement).value })}
        />
        ${this.relayError ? html`<div class="field-error" id="relay-error">${this.relayError}</div>` : nothing}
        <div class="help" id="relay-help">
          The wgweb relay turns WebSocket messages into UDP. <code>/wg</code> is the server this page came from.
          Several URLs (separated by spaces) are tried in order: if the one in use fails, the tunnel moves to the next.
        </div>
      </div>
      ${renderTextField({
        id: 'relay-token',
        label: 'Relay token (only if the relay asks for one)',
        type: 'password',
        value: this.relayToken,
        placeholder: '',
        onInput: (value) => this.#emit('wg-relay-token-input', { value }),
      })}
      <div>
        <label class="check">
          <input
            type="checkbox"
            .checked=${this.remember}
            aria-describedby="remember-warning"
            @change=${(e: Event) => this.#emit('wg-remember-change', { remember: (e.target as HTMLInputElement).checked })}
          />
          <span>Remember this config on this device</span>
        </label>
        <p class="warning" id="remember-warning" ?hidden=${!this.remember}>
          The config, private key included, is kept unencrypted in this browser's local storage: anyone who can use this
          browser profile can read it. Untick to delete it. Do not use on a shared computer.
        </p>
      </div>
      <div class="go">
        ${connected
          ? html`<button type="button" class="danger" ?disabled=${this.state === 'disconnecting'} @click=${() => this.#emit('wg-disconnect', {})}>
              ${this.state === 'disconnecting' ? 'Disconnecting…' : this.state === 'connecting' ? 'Cancel' : 'Disconnect'}
            </button>`
          : html`<button type="button" class="primary" ?disabled=${!canConnect} @click=${() => this.#emit('wg-connect', {})}>Connect</button>`}
        ${!connected && !this.#diagnosis.valid
          ? html`<span class="help" style="margin:0">${this.#diagnosis.empty ? 'Add a config to connect.' : 'Fix the config to connect.'}</span>`
          : nothing}
      </div>
      ${error && this.state === 'down'
        ? html`<div class="alert err" role="alert">
            <strong>${this.sessionEnded ? 'The connection ended' : 'Could not connect'}</strong>
            <span class="error-message">${error.message}</span>
            ${hintsForError(error.code).length
              ? html`<ul>
                  ${hintsForError(error.code).map((h) => html`<li>${h}</li>`)}
                </ul>`
              : nothing}
          </div>`
        : nothing}
    </div>`;
  }

  /** Opens the "Certificates" tab (e.g. from a certificate prompt's "manage trust" link). */
  showCertificates(): void {
    this.#selectTab('certs');
  }

  #selectTab(id: 'file' | 'keygen' | 'certs') {
    // Key generation (and its QR encoder) is a separate chunk, loaded the first time it is shown;
    // so is the certificate list with its X.509 decoder.
    if (id === 'keygen') void import('./wg-keygen.ts');
    if (id === 'certs') {
      this.#certsLoaded = true;
      void import('./wg-trusted-certificates.ts');
    }
    this._tab = id;
  }

  #derivePublicKey() {
    const privateKey = findPrivateKey(this.configText);
    if (privateKey === this.#derivingFor && this.keys) return;
    this.#derivingFor = privateKey;
    if (!privateKey || !this.keys) {
      this._publicKey = '';
      return;
    }
    this.keys.derivePublicKey(privateKey).then(
      (pub) => {
        if (this.#derivingFor === privateKey) this._publicKey = pub;
      },
      () => {
        if (this.#derivingFor === privateKey) this._publicKey = '';
      },
    );
  }

  #onUseConfig(e: CustomEvent<{ value: string }>) {
    e.stopPropagation();
    this.#emit('wg-config-input', { value: e.detail.value });
    this._tab = 'file';
  }

  #emit(type: string, detail: object) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
customElements.define('wg-config-panel', WgConfigPanel);
