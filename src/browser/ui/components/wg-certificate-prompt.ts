/**
 * <wg-certificate-prompt .host=${'nas.lan'} .error=${wgwebErrorOrItsJson}>: what the user sees when
 * an HTTPS request stopped at the certificate. Shows the server certificate (subject, issuer,
 * validity, names, SHA-256 fingerprint as `AB:CD:…`) from `error.detail.certificate`, says why it was
 * refused, and offers trust on first use:
 *
 *   TLS_CERT_UNTRUSTED  → "Trust for HOST" (pins this certificate for this host only)
 *   TLS_PIN_CHANGED     → loud warning with old and new fingerprints; replacing the pin needs an
 *                         explicit "I checked the new fingerprint" tick
 *   other codes         → details only (an expired or misnamed certificate is not fixed by trust)
 *
 * Events (bubbling, composed): `wg-certificate-trust { host, sha256 }`, `wg-certificate-dismiss`.
 * Works on plain data (the error may have crossed the worker boundary as JSON, dates as strings).
 */
import { LitElement, css, html, nothing } from 'lit';
import { formatFingerprint } from '../../../protocols/tls/fingerprint.ts';
import { sharedStyles } from '../styles/shared-styles.ts';

/** The parts of a certificate summary the prompt shows (dates as Date or ISO text). */
export interface PromptCertificate {
  subject: string;
  issuer: string;
  notBefore: Date | string;
  notAfter: Date | string;
  sha256: string;
  subjectAltNames?: string[];
}

/** A WgwebError or its JSON form. */
export interface PromptError {
  code: string;
  message: string;
  detail?: Record<string, unknown>;
}

function asDate(d: Date | string): Date {
  return d instanceof Date ? d : new Date(d);
}

function day(d: Date): string {
  return Number.isNaN(d.getTime()) ? '?' : d.toISOString().slice(0, 10);
}

export class WgCertificatePrompt extends LitElement {
  static override properties = {
    host: { type: String },
    error: { attribute: false },
    _confirmed: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.3rem 0.9rem;
        margin: 0.75rem 0;
        font-size: 0.85rem;
      }
      dt {
        color: var(--wg-muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .fp {
        font-family: var(--wg-mono);
        font-size: 0.78rem;
        user-select: all;
      }
      .bad {
        color: var(--wg-err);
        font-weight: 600;
      }
      .actions {
        display: flex;
        gap: 0.6rem;
        flex-wrap: wrap;
        align-items: center;
        margin-top: 0.75rem;
      }
    `,
  ];

  declare host: string;
  declare error: PromptError | undefined;
  declare _confirmed: boolean;

  constructor() {
    super();
    this.host = '';
    this.error = undefined;
    this._confirmed = false;
  }

  /** The certificate the error is about, if it carries one. */
  get certificate(): PromptCertificate | undefined {
    const c = this.error?.detail?.certificate as PromptCertificate | undefined;
    return c && typeof c.sha256 === 'string' ? c : undefined;
  }

  override render() {
    const e = this.error;
    const c = this.certificate;
    if (!e) return nothing;
    const changed = e.code === 'TLS_PIN_CHANGED';
    const canTrust = c !== undefined && (e.code === 'TLS_CERT_UNTRUSTED' || changed);
    const now = Date.now();
    const nb = c ? asDate(c.notBefore) : undefined;
    const na = c ? asDate(c.notAfter) : undefined;
    const pinned = typeof e.detail?.pinned === 'string' ? (e.detail.pinned as string) : undefined;
    return html`<div class="alert ${changed ? 'err' : 'warn'}" role="alert" data-testid="certificate-prompt">
      <strong>${changed ? `The certificate of ${this.host} has CHANGED` : `The certificate of ${this.host} was not accepted`}</strong>
      <div>${e.message}</div>
      ${c && nb && na
        ? html`<dl>
            <dt>Subject</dt>
            <dd>${c.subject}</dd>
            <dt>Issuer</dt>
            <dd>${c.issuer}${c.issuer === c.subject ? html` <span class="muted">(self-signed)</span>` : nothing}</dd>
            <dt>Valid</dt>
            <dd>
              ${day(nb)} to ${day(na)}
              ${now > na.getTime() ? html`<span class="bad">expired</span>` : now < nb.getTime() ? html`<span class="bad">not yet valid</span>` : nothing}
            </dd>
            ${c.subjectAltNames?.length ? html`<dt>Names</dt><dd class="mono">${c.subjectAltNames.join(', ')}</dd>` : nothing}
            ${pinned ? html`<dt>Pinned SHA-256</dt><dd class="fp" data-testid="old-fingerprint">${formatFingerprint(pinned)}</dd>` : nothing}
            <dt>${pinned ? 'New SHA-256' : 'SHA-256'}</dt>
            <dd class="fp" data-testid="fingerprint">${formatFingerprint(c.sha256)}</dd>
          </dl>`
        : nothing}
      ${canTrust
        ? html`<p class="small">
              ${changed
                ? 'A changed certificate can mean someone is intercepting the connection. Replace the pin only if the server’s administrator confirms the new fingerprint.'
                : 'Trust it only if you have checked this fingerprint with the server’s administrator or on the device itself. wgweb will then accept exactly this certificate for this host, and warn loudly if it ever changes.'}
            </p>
            ${changed
              ? html`<label class="check"
                  ><input type="checkbox" .checked=${this._confirmed} @change=${(ev: Event) => (this._confirmed = (ev.target as HTMLInputElement).checked)} />
                  <span>I checked the new fingerprint</span></label
                >`
              : nothing}`
        : nothing}
      <div class="actions">
        ${canTrust
          ? html`<button
              type="button"
              class=${changed ? 'danger' : 'primary'}
              data-testid="trust-certificate"
              ?disabled=${changed && !this._confirmed}
              @click=${this.#trust}
            >
              ${changed ? `Replace the pin for ${this.host}` : `Trust for ${this.host}`}
            </button>`
          : nothing}
        <button type="button" @click=${() => this.#emit('wg-certificate-dismiss', {})}>${canTrust ? 'Cancel' : 'Close'}</button>
      </div>
    </div>`;
  }

  #trust() {
    const c = this.certificate;
    if (!c) return;
    this.#emit('wg-certificate-trust', { host: this.host, sha256: c.sha256 });
  }

  #emit(type: string, detail: object) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
customElements.define('wg-certificate-prompt', WgCertificatePrompt);
