/**
 * <wg-browse .tunnel .status ?connected>: the Browse card. An address bar and a frame that shows
 * intranet web apps through the tunnel: every request the framed site makes goes through the
 * tunnel worker, served to the frame by a Service Worker on a separate origin (src/browser/browse/,
 * docs/browse.md). The engine is BrowseHost; this element is its face.
 *
 *   address bar ──▶ BrowseHost.navigate(url) ──▶ frame (browse origin) ──▶ Service Worker ──▶ tunnel
 *   frame agent / backend activity ──▶ BrowseHost.state ──▶ address bar, progress line, title
 *   401 (Basic/Digest) of a page ──▶ the login dialog over the frame
 *   https page refused at the certificate ──▶ <wg-certificate-prompt> over the frame: "Trust for
 *     HOST" pins it (tunnel.pinCertificate: profile trust, then the worker) and the page loads;
 *     Cancel shows the error page (never a silent bypass)
 */
import { LitElement, css, html, nothing } from 'lit';
import { ErrorCode, WgwebError } from '../../../shared/errors.ts';
import { parseAddressInput } from '../../browse/browse-url.ts';
import { BrowseHost, type BrowseResult, type BrowseTunnel } from '../../browse/browse-host.ts';
import type { CredentialsRequest } from '../../browse/browse-auth.ts';
import type { CertificateRequest } from '../../browse/browse-backend.ts';
import type { Credentials } from '../../../protocols/http/http-auth.ts';
import type { TunnelStatus } from '../../worker/tunnel-api.ts';
import { formatBytes } from '../../../shared/format-bytes.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import './wg-certificate-prompt.ts';

/**
 * The viewport's sandbox: everything a web app needs, and its own origin kept (allow-same-origin:
 * an opaque origin would leave the Service Worker's control), but no navigating the app's page
 * away (no allow-top-navigation*). Links that leave the tunnel open unsandboxed in a new tab.
 */
const FRAME_SANDBOX =
  'allow-scripts allow-same-origin allow-forms allow-modals allow-popups allow-popups-to-escape-sandbox allow-downloads allow-pointer-lock';
/** Powerful features stay off for intranet pages (they are on the browse origin, not the app's). */
const FRAME_PERMISSIONS = "camera 'none'; microphone 'none'; geolocation 'none'; usb 'none'; serial 'none'; hid 'none'; payment 'none'";

export class WgBrowse extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    status: { attribute: false },
    connected: { type: Boolean },
    _address: { state: true },
    _inputError: { state: true },
    _tick: { state: true },
    _login: { state: true },
    _trust: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        /* Full width in wg-app's two-column grid. */
        grid-column: 1 / -1;
        min-width: 0;
        /* Below the sticky app header when scrolled into view (wgweb.browse). */
        scroll-margin-top: 4.5rem;
      }
      .card-head .note {
        font-size: 0.78rem;
      }
      form.bar {
        display: flex;
        gap: 0.4rem;
        align-items: center;
      }
      form.bar input {
        flex: 1 1 auto;
        min-width: 0;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
      }
      .nav {
        display: flex;
        gap: 0.15rem;
      }
      .progress {
        height: 3px;
        margin: 0.5rem 0 0;
        border-radius: 2px;
        background: var(--wg-surface-2);
        overflow: hidden;
        position: relative;
        visibility: hidden;
      }
      .progress.on {
        visibility: visible;
      }
      .progress.on::after {
        content: '';
        position: absolute;
        inset: 0 auto 0 0;
        width: 35%;
        background: var(--wg-accent);
        border-radius: 2px;
        animation: slide 1.1s ease-in-out infinite;
      }
      @media (prefers-reduced-motion: reduce) {
        .progress.on::after {
          animation: none;
          width: 100%;
          opacity: 0.6;
        }
      }
      @keyframes slide {
        from {
          transform: translateX(-100%);
        }
        to {
          transform: translateX(300%);
        }
      }
      .frame {
        margin-top: 0.5rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        overflow: hidden;
        background: #fff;
        height: clamp(24rem, 70vh, 52rem);
        position: relative;
      }
      .login {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        background: rgb(0 0 0 / 0.35);
      }
      .login wg-certificate-prompt {
        display: block;
        background: var(--wg-surface, #fff);
        border-radius: var(--wg-radius-sm);
        width: min(34rem, 92%);
        max-height: 92%;
        overflow: auto;
        overflow-wrap: anywhere;
        box-shadow: 0 0.5rem 2rem rgb(0 0 0 / 0.25);
      }
      .login form {
        background: var(--wg-surface, #fff);
        color: var(--wg-text, inherit);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        padding: 1rem 1.25rem;
        width: min(24rem, 90%);
        display: grid;
        gap: 0.5rem;
        box-shadow: 0 0.5rem 2rem rgb(0 0 0 / 0.25);
      }
      .login h3 {
        margin: 0;
        font-size: 1rem;
        overflow-wrap: anywhere;
      }
      .login label {
        display: grid;
        gap: 0.2rem;
      }
      .login .buttons {
        display: flex;
        gap: 0.5rem;
        justify-content: flex-end;
      }
      .frame iframe {
        display: block;
        width: 100%;
        height: 100%;
        border: 0;
        background: #fff;
      }
      .frame .placeholder {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        text-align: center;
        padding: 2rem;
        color: var(--wg-muted);
        background: var(--wg-surface);
        font-size: 0.875rem;
      }
      .statusline {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem 1rem;
        align-items: center;
        margin-top: 0.5rem;
        font-size: 0.78rem;
        color: var(--wg-muted);
        min-height: 1.85rem;
      }
      .statusline .title {
        color: var(--wg-text);
        font-weight: 500;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        max-width: 40ch;
      }
      .statusline .spacer {
        flex: 1;
      }
      .lock {
        display: inline-flex;
        align-items: center;
        gap: 0.3rem;
      }
      .alert {
        margin-bottom: 0.75rem;
      }
    `,
  ];

  declare tunnel: BrowseTunnel | undefined;
  declare status: TunnelStatus | null;
  declare connected: boolean;
  declare _address: string;
  declare _inputError: string;
  declare _tick: number;
  /** The login dialog for a 401, while it is open. */
  declare _login: { request: CredentialsRequest; answer: (c: Credentials | undefined) => void } | undefined;
  /** The certificate prompt for an https page, while it is open. */
  declare _trust: { request: CertificateRequest; answer: (trusted: boolean) => void } | undefined;
  readonly host: BrowseHost;
  #editing = false;

  constructor() {
    super();
    this.tunnel = undefined;
    this.status = null;
    this.connected = false;
    this._address = '';
    this._inputError = '';
    this._tick = 0;
    this._login = undefined;
    this._trust = undefined;
    this.host = new BrowseHost({
      askTrust: (request) =>
        new Promise<boolean>((resolve) => {
          this._trust?.answer(false);
          this._trust = {
            request,
            answer: (trusted) => {
              this._trust = undefined;
              resolve(trusted);
            },
          };
        }),
      askCredentials: (request) =>
        new Promise<Credentials | undefined>((resolve) => {
          this._login?.answer(undefined);
          this._login = {
            request,
            answer: (c) => {
              this._login = undefined;
              resolve(c);
            },
          };
        }),
      tunnel: () => this.tunnel,
      bridgeParent: () => this.renderRoot.querySelector<HTMLElement>('.bridges'),
      viewport: () => this.renderRoot.querySelector<HTMLIFrameElement>('iframe.viewport'),
      onChange: () => {
        if (!this.#editing) this._address = this.host.state.url;
        this._tick++;
      },
    });
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('status') || changed.has('connected')) this.host.backend.refreshScope();
    // Connected again, or the relay is back: an error page of the down tunnel gives way to the page
    // itself (#18 item 4).
    const was = changed.get('status') as TunnelStatus | null | undefined;
    const relayBack = changed.has('status') && was?.state === 'reconnecting' && this.status?.state === 'up';
    if (this.connected && (changed.get('connected') === false || relayBack)) this.host.tunnelUp();
  }

  /**
   * Opens `url` (an intranet http:// or https:// address) in the frame; resolves when the document has loaded,
   * also when it is an in-frame error page (then `error` says why).
   * @throws {WgwebError} USAGE for an address that cannot be browsed; INTERNAL when the browse
   *   origin is not available (not served by the wgweb relay).
   */
  async browse(url: string): Promise<BrowseResult> {
    let target: URL;
    try {
      // Credentials in the address (http://user:pass@host/) answer the host's login, as with curl.
      const given = /^https?:\/\//i.test(String(url).trim()) ? new URL(String(url).trim()) : undefined;
      if (given?.protocol === 'http:' || given?.protocol === 'https:') this.host.backend.auth.rememberUrlCredentials(given);
    } catch {
      // parseAddressInput says why below
    }
    try {
      target = parseAddressInput(url);
    } catch (e) {
      throw new WgwebError(ErrorCode.USAGE, (e as Error).message);
    }
    this._address = target.href;
    this._inputError = '';
    await this.updateComplete;
    try {
      return await this.host.navigate(target);
    } catch (e) {
      if (e instanceof WgwebError) throw e;
      throw new WgwebError(ErrorCode.INTERNAL, (e as Error).message);
    }
  }

  override render() {
    const s = this.host.state;
    const started = s.phase !== 'idle' && !!s.browseOrigin;
    const cookies = this.host.cookieCount();
    return html`<section class="card" aria-labelledby="browse-title">
      <div class="card-head">
        <h2 id="browse-title">Browse</h2>
        <span class="note muted">intranet web apps, every request through the tunnel</span>
        <span class="spacer"></span>
      </div>
      <div class="card-body">
        ${this.connected ? nothing : html`<p class="alert info">Connect first: pages are fetched through the tunnel.</p>`}
        ${s.phase === 'failed' ? html`<p class="alert err" role="alert">The browse view could not start: ${s.setupError}</p>` : nothing}
        <form class="bar" @submit=${this.#onSubmit} novalidate>
          <div class="nav">
            <button type="button" class="ghost icon" aria-label="Back" title="Back" ?disabled=${!started} @click=${() => this.host.command('back')}>
              <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M15 18l-6-6 6-6" /></svg>
            </button>
            <button type="button" class="ghost icon" aria-label="Forward" title="Forward" ?disabled=${!started} @click=${() => this.host.command('forward')}>
              <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M9 18l6-6-6-6" /></svg>
            </button>
            <button type="button" class="ghost icon" aria-label="Reload" title="Reload" ?disabled=${!started || !s.url} @click=${() => this.host.command('reload')}>
              <svg width="16" height="16" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"><path d="M20 11a8 8 0 10-2.3 5.7M20 4v7h-7" /></svg>
            </button>
          </div>
          <input
            type="text"
            aria-label="Browse address"
            placeholder="http://10.0.0.1/ — a web server inside the tunnel"
            spellcheck="false"
            autocomplete="off"
            .value=${this._address}
            aria-invalid=${this._inputError ? 'true' : 'false'}
            aria-describedby=${this._inputError ? 'browse-input-error' : nothing}
            @focus=${() => (this.#editing = true)}
            @blur=${() => (this.#editing = false)}
            @input=${(e: Event) => (this._address = (e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary">Go</button>
        </form>
        ${this._inputError ? html`<p class="field-error" id="browse-input-error" role="alert">${this._inputError}</p>` : nothing}
        <div
          class="progress ${s.loading ? 'on' : ''}"
          role="progressbar"
          aria-label="Page loading"
          aria-hidden=${s.loading ? 'false' : 'true'}
          data-testid="browse-progress"
        ></div>
        <div class="frame">
          <iframe
            class="viewport"
            title="Intranet page (through the tunnel)"
            referrerpolicy="no-referrer"
            sandbox=${FRAME_SANDBOX}
            allow=${FRAME_PERMISSIONS}
            ?hidden=${!started || !s.url}
          ></iframe>
          ${started && s.url
            ? nothing
            : html`<div class="placeholder">
                <div>
                  <p>Type the address of a web server inside the tunnel, e.g. <code>http://10.0.0.1/</code>.</p>
                  <p class="small">Pages load through WireGuard from this tab; links that leave the tunnel are marked before they open.</p>
                </div>
              </div>`}
          ${this._login ? this.#loginDialog(this._login.request) : nothing}
          ${this._trust
            ? html`<div class="login">
                <wg-certificate-prompt
                  .host=${this._trust.request.host}
                  .error=${this._trust.request.error}
                  @wg-certificate-trust=${this.#onTrust}
                  @wg-certificate-dismiss=${() => this._trust?.answer(false)}
                ></wg-certificate-prompt>
              </div>`
            : nothing}
        </div>
        <div class="statusline" data-testid="browse-status" aria-live="polite">
          ${s.title ? html`<span class="title" data-testid="browse-title" title=${s.title}>${s.title}</span>` : nothing}
          ${s.error ? html`<span class="pill err">${s.error.code}</span>` : nothing}
          ${s.outside ? html`<span class="pill warn">outside the tunnel</span>` : nothing}
          ${s.loading
            ? html`<span>Loading… ${s.requests} request${s.requests === 1 ? '' : 's'}, ${formatBytes(s.bytes)}</span>`
            : s.requests
              ? html`<span>${s.requests} request${s.requests === 1 ? '' : 's'}, ${formatBytes(s.bytes)} through the tunnel</span>`
              : nothing}
          <span class="spacer"></span>
          ${cookies
            ? html`<span>${cookies} cookie${cookies === 1 ? '' : 's'} for this host (kept in this tab)</span>
                <button type="button" class="small" @click=${this.#clearCookies}>Clear cookies</button>`
            : nothing}
        </div>
        ${s.isolation === 'shared'
          ? html`<p class="small muted" data-testid="browse-shared-origin">
              All intranet sites share one browser origin here (this relay offers no origin per site): a page of one site can
              read the pages and storage of the others you open. See <em>Isolation model</em> in docs/browse.md.
            </p>`
          : nothing}
        <div class="bridges" hidden></div>
      </div>
    </section>`;
  }

  /**
   * The app's own login dialog for a 401 (Chromium shows none for a Service Worker's response):
   * over the frame, never inside the framed page, naming the host and realm that ask.
   */
  #loginDialog(r: CredentialsRequest) {
    const submit = (e: Event): void => {
      e.preventDefault();
      const form = e.target as HTMLFormElement;
      const username = (form.elements.namedItem('username') as HTMLInputElement).value;
      const password = (form.elements.namedItem('password') as HTMLInputElement).value;
      this._login?.answer({ username, password });
    };
    return html`<div class="login">
      <form role="dialog" aria-modal="true" aria-labelledby="browse-login-title" @submit=${submit} data-testid="browse-login">
        <h3 id="browse-login-title">Sign in to ${r.origin}</h3>
        <p class="small">${r.realm ? html`The site asks for a user name and password for “${r.realm}”.` : 'The site asks for a user name and password.'}
          ${r.scheme === 'basic' ? 'It uses Basic authentication: the password travels unencrypted between the WireGuard peer and the site.' : ''}</p>
        ${r.failed ? html`<p class="alert err" role="alert">The user name or password was not accepted. Try again, or cancel to see the site's own page.</p>` : nothing}
        <label>User name <input name="username" autocomplete="off" spellcheck="false" .value=${r.username} required /></label>
        <label>Password <input name="password" type="password" autocomplete="off" /></label>
        <p class="small muted">Kept in this tab's memory only, for ${r.origin}.</p>
        <div class="buttons">
          <button type="button" @click=${() => this._login?.answer(undefined)}>Cancel</button>
          <button type="submit" class="primary">Sign in</button>
        </div>
      </form>
    </div>`;
  }

  /** "Trust for HOST": pinned in the profile's trust settings and the worker, then the page loads. */
  #onTrust(e: CustomEvent<{ host: string; sha256: string }>): void {
    e.stopPropagation();
    const trust = this._trust;
    const pin = this.tunnel?.pinCertificate;
    if (!trust || !pin) {
      trust?.answer(false);
      return;
    }
    pin.call(this.tunnel, e.detail.host, e.detail.sha256).then(
      () => trust.answer(true),
      () => trust.answer(false),
    );
  }

  #onSubmit(e: Event): void {
    e.preventDefault();
    this._inputError = '';
    (this.renderRoot.querySelector('input') as HTMLInputElement | null)?.blur();
    this.browse(this._address).catch((err: Error) => {
      this._inputError = err.message;
    });
  }

  #clearCookies(): void {
    try {
      this.host.backend.jar.clear(new URL(this.host.state.url).hostname);
    } catch {
      this.host.backend.jar.clear();
    }
    this._tick++;
  }
}
customElements.define('wg-browse', WgBrowse);
