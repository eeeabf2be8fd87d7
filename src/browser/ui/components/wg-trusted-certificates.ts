/**
 * <wg-trusted-certificates .trustJson=${json}>: the "Trusted certificates" list. Import a CA (or a
 * server's own certificate) by pasting PEM or opening a .pem/.crt/.cer file (PEM or DER), see each
 * one's subject, kind, expiry and SHA-256 fingerprint, remove it; see and remove host pins (trust on
 * first use) and hosts with checks turned off; allow legacy TLS 1.2 per host (old appliances: RSA key
 * exchange without forward secrecy, CBC, SHA-1), with the warning next to the button.
 *
 * Data flow: `trustJson` (TrustStore.toJSON() form, owned by the parent so it can persist it with
 * the profile) → a TrustStore here → every change raises `wg-trust-change { json }` with the new
 * plain data. This module loads the X.509 decoder, so the parent imports it lazily.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { TrustStore, type TrustStoreJson } from '../../../protocols/tls/trust-store.ts';
import { formatFingerprint } from '../../../protocols/tls/fingerprint.ts';
import { sharedStyles } from '../styles/shared-styles.ts';

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export class WgTrustedCertificates extends LitElement {
  static override properties = {
    trustJson: { attribute: false },
    _pem: { state: true },
    _error: { state: true },
    _notice: { state: true },
    _version: { state: true },
    _legacyHost: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      textarea {
        width: 100%;
        min-height: 6rem;
        font-family: var(--wg-mono);
        font-size: 0.75rem;
      }
      .row {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        flex-wrap: wrap;
        margin-top: 0.5rem;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0.5rem 0 1rem;
        display: grid;
        gap: 0.5rem;
      }
      li {
        display: grid;
        grid-template-columns: 1fr auto;
        gap: 0.15rem 0.75rem;
        padding: 0.5rem 0.7rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        background: var(--wg-surface-2);
        font-size: 0.85rem;
      }
      li .fp {
        grid-column: 1;
        font-family: var(--wg-mono);
        font-size: 0.72rem;
        color: var(--wg-muted);
        overflow-wrap: anywhere;
      }
      li button {
        grid-column: 2;
        grid-row: 1 / span 3;
        align-self: center;
      }
      .expired {
        color: var(--wg-err);
        font-weight: 600;
      }
      h3 {
        font-size: 0.85rem;
        margin: 1rem 0 0.25rem;
      }
    `,
  ];

  declare trustJson: unknown;
  declare _pem: string;
  declare _error: string;
  declare _notice: string;
  declare _version: number;
  declare _legacyHost: string;
  #store = new TrustStore();
  #emitted: unknown;

  constructor() {
    super();
    this.trustJson = undefined;
    this._pem = '';
    this._error = '';
    this._notice = '';
    this._version = 0;
    this._legacyHost = '';
  }

  /** The store this list edits (for the parent and tests). */
  get store(): TrustStore {
    return this.#store;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    // Our own change coming back down from the parent must not rebuild the store.
    if (changed.has('trustJson') && this.trustJson !== this.#emitted) this.#store = TrustStore.fromJSON(this.trustJson);
  }

  override render() {
    const certs = this.#store.list();
    const pins = this.#store.pins();
    const insecure = (this.#store.toJSON() as TrustStoreJson).insecureHosts;
    const now = Date.now();
    return html`<div data-testid="trusted-certificates">
      <p class="help" style="margin-top:0">
        HTTPS inside the tunnel trusts only what you add here: your organisation's CA certificate, or a server's own
        self-signed certificate. Public web CAs are not trusted by default.
      </p>
      <label for="pem">Import a certificate (PEM)</label>
      <textarea
        id="pem"
        spellcheck="false"
        placeholder="-----BEGIN CERTIFICATE-----"
        .value=${this._pem}
        @input=${(e: Event) => (this._pem = (e.target as HTMLTextAreaElement).value)}
      ></textarea>
      <div class="row">
        <button type="button" class="primary" ?disabled=${!this._pem.trim()} @click=${() => this.#importText(this._pem)}>Import</button>
        <label class="button">
          Open a file…
          <input type="file" accept=".pem,.crt,.cer,.der,.ca-bundle" hidden @change=${this.#openFile} />
        </label>
      </div>
      ${this._error ? html`<div class="field-error" role="alert">${this._error}</div>` : nothing}
      ${this._notice ? html`<div class="help" role="status">${this._notice}</div>` : nothing}

      <h3>Trusted certificates (${certs.length})</h3>
      ${certs.length === 0
        ? html`<p class="help">None yet.</p>`
        : html`<ul data-testid="trusted-list">
            ${certs.map(
              (c) => html`<li>
                <span><strong>${c.subject}</strong> <span class="muted">${c.isCa ? 'CA' : 'server certificate'}</span></span>
                <span class="small"
                  >${c.selfSigned ? 'self-signed' : `issued by ${c.issuer}`} · expires ${day(c.notAfter)}
                  ${now > c.notAfter.getTime() ? html`<span class="expired">expired</span>` : nothing}</span
                >
                <span class="fp" title="SHA-256">${formatFingerprint(c.sha256)}</span>
                <button type="button" class="small" aria-label="Remove ${c.subject}" @click=${() => this.#store.remove(c.sha256) && this.#changed(`Removed ${c.subject}.`)}>
                  Remove
                </button>
              </li>`,
            )}
          </ul>`}
      ${pins.length
        ? html`<h3>Pinned servers (${pins.length})</h3>
            <ul data-testid="pin-list">
              ${pins.map(
                ([host, fp]) => html`<li>
                  <span><strong class="mono">${host}</strong></span>
                  <span class="fp" title="SHA-256">${formatFingerprint(fp)}</span>
                  <button type="button" class="small" aria-label="Forget the pin for ${host}" @click=${() => this.#store.unpin(host) && this.#changed(`Forgot the pin for ${host}.`)}>
                    Forget
                  </button>
                </li>`,
              )}
            </ul>`
        : nothing}
      ${insecure.length
        ? html`<h3>Certificate checks turned off (${insecure.length})</h3>
            <ul>
              ${insecure.map(
                (host) => html`<li>
                  <span><strong class="mono">${host}</strong> <span class="expired">not checked</span></span>
                  <button type="button" class="small" @click=${() => (this.#store.setInsecure(host, false), this.#changed(`Checks are on again for ${host}.`))}>
                    Check again
                  </button>
                </li>`,
              )}
            </ul>`
        : nothing}
      ${this.#renderLegacy()}
    </div>`;
  }

  #renderLegacy() {
    const hosts = this.#store.legacyTlsHosts();
    const host = this._legacyHost.trim();
    return html`<h3>Legacy TLS for old appliances (${hosts.length})</h3>
      <p class="help" id="legacy-warning">
        Some old appliances (printers, UPSes, switches, BMCs) only speak TLS 1.2 with the RSA key exchange or CBC
        suites. Allowing legacy TLS for a host accepts them for that host only: <strong>no forward secrecy</strong>
        (anyone who later gets the server's private key can decrypt recorded traffic), CBC encryption whose checks
        are not constant-time, SHA-1 signatures, and no extended master secret. Certificates are still checked.
      </p>
      <div class="row">
        <input
          type="text"
          spellcheck="false"
          aria-label="Host to allow legacy TLS for"
          aria-describedby="legacy-warning"
          placeholder="printer.corp or 10.0.0.9"
          .value=${this._legacyHost}
          @input=${(e: Event) => (this._legacyHost = (e.target as HTMLInputElement).value)}
          @keydown=${(e: KeyboardEvent) => e.key === 'Enter' && host && this.#allowLegacy(host)}
        />
        <button type="button" class="danger" data-testid="allow-legacy-tls" ?disabled=${!host} @click=${() => this.#allowLegacy(host)}>
          Allow legacy TLS for ${host || 'this host'}
        </button>
      </div>
      ${hosts.length
        ? html`<ul data-testid="legacy-tls-list">
            ${hosts.map(
              (h) => html`<li>
                <span><strong class="mono">${h}</strong> <span class="expired">legacy TLS allowed</span></span>
                <button type="button" class="small" aria-label="Turn off legacy TLS for ${h}" @click=${() => (this.#store.setLegacyTls(h, false), this.#changed(`Legacy TLS is off again for ${h}.`))}>
                  Turn off
                </button>
              </li>`,
            )}
          </ul>`
        : nothing}`;
  }

  #allowLegacy(host: string) {
    try {
      this.#store.setLegacyTls(host, true);
      this._legacyHost = '';
      this.#changed(`Legacy TLS allowed for ${host}: no forward secrecy; turn it off when the appliance is updated.`);
    } catch (e) {
      this._notice = '';
      this._error = e instanceof Error ? e.message : String(e);
    }
  }

  #importText(text: string) {
    try {
      const added = this.#store.addPem(text);
      this._pem = '';
      this.#changed(`Imported ${added.map((a) => a.subject).join('; ')}.`);
    } catch (e) {
      this._notice = '';
      this._error = e instanceof Error ? e.message : String(e);
    }
  }

  async #openFile(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    const text = new TextDecoder().decode(bytes);
    if (text.includes('-----BEGIN')) return this.#importText(text);
    // A binary .cer/.der file: one DER certificate.
    try {
      const i = this.#store.addDer(bytes);
      this.#changed(`Imported ${i.subject}.`);
    } catch (err) {
      this._notice = '';
      this._error = err instanceof Error ? err.message : String(err);
    }
  }

  #changed(notice: string) {
    this._error = '';
    this._notice = notice;
    this._version++;
    this.#emitted = this.#store.toJSON();
    this.trustJson = this.#emitted;
    this.dispatchEvent(new CustomEvent('wg-trust-change', { detail: { json: this.#emitted }, bubbles: true, composed: true }));
  }
}
customElements.define('wg-trusted-certificates', WgTrustedCertificates);
