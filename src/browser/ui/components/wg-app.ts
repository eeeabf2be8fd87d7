/**
 * <wg-app>: the whole page. Owns the TunnelController (the worker), the theme, and the UI state
 * that outlives a tab switch (config text, relay field, "remember"), and implements the
 * automation target behind `window.wgweb`.
 *
 *   wg-config-panel ──events──▶ wg-app ──▶ TunnelController ──▶ worker
 *   TunnelController.status/log ──properties──▶ wg-status-panel, wg-event-log, wg-tools
 */
import type { TrustStore } from '../../../protocols/tls/trust-store.ts';
import { LitElement, css, html } from 'lit';
import type { DnsRecordType, LookupType, Iperf3Options, Iperf3Progress, PingReply, SessionEvent, TraceHop, TracerouteCallOptions, TunnelStatus } from '../../worker/tunnel-api.ts';
import { createAutomation, type AutomationTarget, type SshTarget, type WgwebAutomation } from '../automation.ts';
import { CaptureController } from '../controllers/capture-controller.ts';
import { ThemeController } from '../controllers/theme-controller.ts';
import { TunnelController } from '../controllers/tunnel-controller.ts';
import { DEFAULT_RELAY_PATH, resolveRelayUrls } from '../lib/relay-url.ts';
import { SettingsStore, browserStorage } from '../lib/settings-store.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import type { TunnelRequestInit } from '../tunnel-client.ts';
import './wg-config-panel.ts';
import './wg-event-log.ts';
import './wg-learn.ts';
import './wg-status-panel.ts';
import './wg-quality-panel.ts';
import './wg-tools.ts';
import './wg-browse.ts';
import type { WgBrowse } from './wg-browse.ts';
import type { BrowseResult } from '../../browse/browse-host.ts';
import type { OpenWebSocketOptions } from '../../worker/websocket-port-protocol.ts';
import { ErrorCode, WgwebError } from '../../../shared/errors.ts';

const STATE_BADGE: Record<string, { text: string; cls: string }> = {
  down: { text: 'Disconnected', cls: '' },
  connecting: { text: 'Connecting…', cls: 'warn busy' },
  handshaking: { text: 'Handshaking…', cls: 'warn busy' },
  up: { text: 'Connected', cls: 'ok' },
  reconnecting: { text: 'Reconnecting…', cls: 'warn busy' },
  disconnecting: { text: 'Disconnecting…', cls: 'busy' },
};

export class WgApp extends LitElement implements AutomationTarget {
  static override properties = {
    _configText: { state: true },
    _relayInput: { state: true },
    _remember: { state: true },
    _trustJson: { state: true },
    _sshKnownHosts: { state: true },
    _relayToken: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
      }
      .skip {
        position: absolute;
        left: 1rem;
        top: -3rem;
        z-index: 10;
        background: var(--wg-surface);
        padding: 0.5rem 0.75rem;
        border-radius: var(--wg-radius-sm);
        border: 1px solid var(--wg-border);
      }
      .skip:focus {
        top: 0.75rem;
      }
      header {
        position: sticky;
        top: 0;
        z-index: 5;
        display: flex;
        align-items: center;
        gap: 0.9rem;
        padding: 0.6rem clamp(1rem, 3vw, 2rem);
        background: color-mix(in srgb, var(--wg-surface) 88%, transparent);
        backdrop-filter: blur(8px);
        border-bottom: 1px solid var(--wg-border);
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 0.55rem;
        font-weight: 700;
        font-size: 1rem;
        letter-spacing: -0.01em;
      }
      .brand svg {
        flex: none;
      }
      .brand .sub {
        font-weight: 400;
        color: var(--wg-muted);
        font-size: 0.8125rem;
      }
      header .spacer {
        flex: 1;
      }
      main {
        max-width: 90rem;
        margin: 0 auto;
        padding: clamp(1rem, 2.5vw, 1.75rem) clamp(1rem, 3vw, 2rem) 2rem;
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        /* The status card comes right after the config in the page (a phone shows it there) and
           spans both columns on a wide screen; dense puts the tools column beside the config. */
        grid-auto-flow: row dense;
        gap: 1.25rem;
      }
      .col {
        display: grid;
        /* A fixed track: an implicit auto track would grow to fit long unbreakable lines. */
        grid-template-columns: minmax(0, 1fr);
        gap: 1.25rem;
        align-content: start;
        min-width: 0;
      }
      @media (min-width: 68rem) {
        main {
          grid-template-columns: minmax(0, 1fr) minmax(0, 1fr);
        }
      }
      @media (max-width: 36rem) {
        .brand .sub {
          display: none;
        }
      }
      footer {
        text-align: center;
        color: var(--wg-muted);
        font-size: 0.75rem;
        padding: 0 1rem 2rem;
      }
    `,
  ];

  declare _configText: string;
  declare _relayInput: string;
  declare _remember: boolean;
  /** HTTPS trust (TrustStore.toJSON() data), persisted with the config when the user opted in. */
  declare _trustJson: unknown;
  /** SSH known hosts (known_hosts lines), persisted with the config when the user opted in. */
  declare _sshKnownHosts: string;
  /** Relay access token (a secret: kept in storage only under the "remember" opt-in, never in a URL). */
  declare _relayToken: string;
  readonly tunnel: TunnelController;
  readonly automation: WgwebAutomation;
  /** The worker's packet capture (the packet list and `wgweb.capture`). */
  readonly capture: CaptureController;
  readonly #settings: SettingsStore;
  readonly #theme: ThemeController;

  /** @param createWorker makes the tunnel worker (main.ts passes the bundled module worker). */
  constructor(createWorker?: () => Worker) {
    super();
    this.#settings = new SettingsStore(browserStorage());
    this._configText = this.#settings.rememberedConfig ?? '';
    this._relayInput = this.#settings.relayUrl ?? DEFAULT_RELAY_PATH;
    this._remember = this.#settings.remembersConfig;
    this._trustJson = this.#settings.rememberedTrust;
    this._sshKnownHosts = this.#settings.rememberedSshKnownHosts ?? '';
    this._relayToken = this.#settings.rememberedRelayToken ?? '';
    this.#theme = new ThemeController(this, this.#settings);
    this.tunnel = new TunnelController(this, {
      createWorker:
        createWorker ??
        (() => {
          throw new Error('no worker factory: construct <wg-app> with new WgApp(createWorker)');
        }),
      onPinCertificate: (host, sha256) => this.#pinCertificate(host, sha256),
    });
    // The remembered trust reaches the worker before the first https request can be made.
    if (this._trustJson !== undefined) this.tunnel.setTrust(this._trustJson as object).catch(() => {});
    // Likewise the remembered SSH known hosts, before the first console can open.
    if (this._sshKnownHosts) this.tunnel.setSshKnownHosts(this._sshKnownHosts).catch(() => {});
    this.capture = new CaptureController(() => this.tunnel.client);
    this.automation = createAutomation(this);
  }

  // ---- AutomationTarget (window.wgweb) ----

  get ready(): Promise<void> {
    return this.tunnel.ready;
  }

  /** Connects with `configText`, showing it in the editor like a paste would; a relay list is failover order. */
  async connect(configText: string, relayUrl?: string | readonly string[], options: { relayCarrier?: 'websocket' | 'websocketstream' | 'fetch-stream' } = {}): Promise<TunnelStatus> {
    this.#setConfig(configText);
    if (relayUrl !== undefined) this.#setRelay(typeof relayUrl === 'string' ? relayUrl : relayUrl.join(' '));
    return this.tunnel.connect(configText, this.#resolvedRelays(), { ...this.#relayOptions(), ...options });
  }

  disconnect(): Promise<void> {
    return this.tunnel.disconnect();
  }

  status(): Promise<TunnelStatus | null> {
    return this.tunnel.refreshStatus();
  }

  ping(address: string, options: { count: number }, onReply: (r: PingReply) => void) {
    return this.tunnel.ping(address, options, onReply);
  }

  dns(name: string, type: DnsRecordType) {
    return this.tunnel.dns(name, type);
  }

  tcping(host: string, port: number) {
    return this.tunnel.tcping(host, port);
  }

  dnsQuery(name: string, type: LookupType, options: { server?: string }) {
    return this.tunnel.dnsQuery(name, type, options);
  }

  tcpingPorts(host: string, ports: readonly number[]) {
    return this.tunnel.tcpingPorts(host, ports);
  }

  quality() {
    return this.tunnel.quality();
  }

  report() {
    return this.tunnel.report();
  }

  compare(url: string, options: { bytes?: number }) {
    return this.tunnel.compare(url, options);
  }

  iperf3(host: string, options: Iperf3Options, onProgress: (p: Iperf3Progress) => void) {
    return this.tunnel.iperf3(host, options, onProgress);
  }

  traceroute(host: string, options: TracerouteCallOptions, onHop: (hop: TraceHop) => void) {
    return this.tunnel.traceroute(host, options, onHop);
  }

  addTrustedCertificate(pem: string) {
    return this.tunnel.addTrustedCertificate(pem);
  }

  fetch(url: string, init: TunnelRequestInit): Promise<Response> {
    return this.tunnel.fetch(url, init);
  }

  /**
   * wgweb.allowLegacyTls: allows (or takes back) legacy TLS for `host` in the profile's trust
   * settings, exactly as the Certificates tab does, so it is listed there and kept with the profile.
   */
  async allowLegacyTls(host: string, allow: boolean): Promise<void> {
    await this.tunnel.setTrust(await this.#editTrust((store) => store.setLegacyTls(host, allow)));
  }

  async openWebSocket(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void> {
    const client = this.tunnel.client;
    if (!client) throw new WgwebError(ErrorCode.NOT_CONNECTED, 'the tunnel worker is not running yet');
    return client.openWebSocket(url, options, port);
  }

  /** The worker's SSH calls (window.wgweb.ssh); the tunnel worker must be running. */
  get sshTarget(): SshTarget {
    return (this.#sshTarget ??= this.#makeSshTarget());
  }

  #sshTarget: SshTarget | undefined;

  #makeSshTarget(): SshTarget {
    const client = () => {
      const c = this.tunnel.client;
      if (!c) throw new WgwebError(ErrorCode.NOT_CONNECTED, 'the tunnel worker is not running yet');
      return c;
    };
    // A connection or an import may have added keys: the page's copy (and the profile) follow.
    const synced = async <T>(result: T): Promise<T> => {
      const lines = await client()
        .sshKnownHosts()
        .catch(() => undefined);
      if (lines !== undefined && lines !== this._sshKnownHosts) this.#keepSshKnownHosts(lines);
      return result;
    };
    return {
      sshConnect: async (host, options, onOutput) => synced(await client().sshConnect(host, options, onOutput)),
      sshWrite: (id, text) => client().sshWrite(id, text),
      sshResize: (id, cols, rows) => client().sshResize(id, cols, rows),
      sshOutput: (id) => client().sshOutput(id),
      sshExec: (id, command) => client().sshExec(id, command),
      sshClose: (id) => client().sshClose(id),
      sshKnownHosts: () => client().sshKnownHosts(),
      importKnownHosts: async (text) => synced(await client().importKnownHosts(text)),
    };
  }

  events(): SessionEvent[] {
    return this.tunnel.log;
  }

  /** Opens the Browse card at `url` (src/browser/browse/, docs/browse.md); resolves once the page has loaded. */
  async browse(url: string): Promise<BrowseResult> {
    await this.updateComplete;
    const view = this.renderRoot.querySelector<WgBrowse>('wg-browse');
    if (!view) throw new Error('the browse view is not on the page');
    view.scrollIntoView({ block: 'start' });
    return view.browse(url);
  }

  // ---- rendering ----

  override render() {
    const t = this.tunnel;
    const state = t.state;
    const badge = state === 'down' && t.lastError ? { text: 'Connection failed', cls: 'err' } : (STATE_BADGE[state] ?? STATE_BADGE.down);
    let relayError = '';
    try {
      resolveRelayUrls(this._relayInput, location);
    } catch (e) {
      relayError = (e as Error).message;
    }
    const dark = this.#theme.effective === 'dark';
    return html`
      <a class="skip button" href="#main" @click=${this.#skip}>Skip to content</a>
      <header>
        <div class="brand">
          <svg width="26" height="26" viewBox="0 0 32 32" aria-hidden="true">
            <rect width="32" height="32" rx="8" fill="var(--wg-accent)" />
            <path d="M8 11.5l3.2 9 3-7 1.8 4.2 1.8-4.2 3 7 3.2-9" fill="none" stroke="var(--wg-on-accent)" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round" />
          </svg>
          <span>wgweb</span>
          <span class="sub">WireGuard in the browser</span>
        </div>
        <span class="spacer"></span>
        <span class="pill ${badge.cls}" role="status" aria-label="Connection: ${badge.text}" data-testid="state">${badge.text}</span>
        <button
          type="button"
          class="ghost icon"
          aria-label=${dark ? 'Switch to light theme' : 'Switch to dark theme'}
          title=${dark ? 'Switch to light theme' : 'Switch to dark theme'}
          @click=${() => this.#theme.toggle()}
        >
          ${dark
            ? html`<svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round">
                <circle cx="12" cy="12" r="4.2" />
                <path d="M12 2.5v2.2M12 19.3v2.2M2.5 12h2.2M19.3 12h2.2M5.3 5.3l1.6 1.6M17.1 17.1l1.6 1.6M5.3 18.7l1.6-1.6M17.1 6.9l1.6-1.6" />
              </svg>`
            : html`<svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round">
                <path d="M20.5 14.5A8.5 8.5 0 019.5 3.5a8.5 8.5 0 1011 11z" />
              </svg>`}
        </button>
      </header>
      <main id="main" tabindex="-1">
        <div class="col">
          <wg-config-panel
            .configText=${this._configText}
            .relayUrl=${this._relayInput}
            .relayToken=${this._relayToken}
            @wg-relay-token-input=${(e: CustomEvent<{ value: string }>) => this.#setRelayToken(e.detail.value)}
            .relayError=${relayError}
            .remember=${this._remember}
            .state=${state}
            .lastError=${t.lastError}
            .sessionEnded=${t.lastErrorFromSession}
            .keys=${t}
            .trustJson=${this._trustJson}
            @wg-trust-change=${(e: CustomEvent<{ json: unknown }>) => this.#setTrust(e.detail.json)}
            @wg-config-input=${(e: CustomEvent<{ value: string }>) => this.#setConfig(e.detail.value)}
            @wg-relay-input=${(e: CustomEvent<{ value: string }>) => this.#setRelay(e.detail.value)}
            @wg-remember-change=${(e: CustomEvent<{ remember: boolean }>) => this.#setRemember(e.detail.remember)}
            @wg-connect=${this.#onConnect}
            @wg-disconnect=${this.#onDisconnect}
          ></wg-config-panel>
        </div>
        <wg-status-panel .status=${t.status} .now=${t.now} .state=${state}></wg-status-panel>
        <wg-quality-panel .tunnel=${t} ?connected=${t.connected}></wg-quality-panel>
        <div class="col">
          <wg-tools
            .tunnel=${t}
            .ssh=${this.sshTarget}
            .sshKnownHosts=${this._sshKnownHosts}
            ?connected=${t.connected}
            @wg-ssh-known-hosts-change=${(e: CustomEvent<{ lines: string }>) => this.#setSshKnownHosts(e.detail.lines)}
          ></wg-tools>
          <wg-event-log .entries=${t.log} @wg-clear-log=${() => t.clearLog()}></wg-event-log>
        </div>
        <wg-browse .tunnel=${t} .status=${t.status} ?connected=${t.connected}></wg-browse>
        <wg-learn .entries=${t.log} .capture=${this.capture} .localLabel=${t.status?.interface.addresses.join(', ') ?? ''}></wg-learn>
      </main>
      <footer>wgweb runs WireGuard in this page's Web Worker; the relay only sees encrypted packets. WireGuard is a registered trademark of Jason A. Donenfeld.</footer>
    `;
  }

  #resolvedRelays(): string[] {
    return resolveRelayUrls(this._relayInput, location);
  }

  #relayOptions(): { relayToken?: string } {
    return this._relayToken ? { relayToken: this._relayToken } : {};
  }

  #setRelayToken(value: string) {
    this._relayToken = value;
    if (this._remember) this.#settings.rememberRelayToken(value);
  }

  #setConfig(value: string) {
    this._configText = value;
    if (this._remember) this.#settings.rememberConfig(value);
  }

  #setRelay(value: string) {
    this._relayInput = value;
    this.#settings.relayUrl = value;
  }

  #setRemember(remember: boolean) {
    this._remember = remember;
    if (remember) {
      this.#settings.rememberConfig(this._configText);
      if (this._trustJson !== undefined) this.#settings.rememberTrust(this._trustJson);
      if (this._sshKnownHosts) this.#settings.rememberSshKnownHosts(this._sshKnownHosts);
      if (this._relayToken) this.#settings.rememberRelayToken(this._relayToken);
    } else {
      this.#settings.forgetRelayToken();
      this.#settings.forgetConfig();
      this.#settings.forgetTrust();
      this.#settings.forgetSshKnownHosts();
    }
  }

  /** The known hosts changed in the worker (a key accepted, lines imported): keep them. */
  #keepSshKnownHosts(lines: string) {
    this._sshKnownHosts = lines;
    if (this._remember) this.#settings.rememberSshKnownHosts(lines);
  }

  /** The user edited the list (removed an entry): keep it and hand it to the worker. */
  #setSshKnownHosts(lines: string) {
    this.#keepSshKnownHosts(lines);
    this.tunnel.setSshKnownHosts(lines).catch(() => {});
  }

  /** The HTTPS trust the user set up (imported certificates, pins): TrustStore.toJSON() data. */
  get trustJson(): unknown {
    return this._trustJson;
  }

  #setTrust(json: unknown) {
    this._trustJson = json;
    if (this._remember) this.#settings.rememberTrust(json);
    // The worker applies it to the running session and keeps it for the next ones.
    if (typeof json === 'object' && json !== null) this.tunnel.setTrust(json).catch(() => {});
  }

  /** Trust on first use from a certificate prompt: the pin joins the profile's trust settings. */
  #pinCertificate(host: string, sha256: string): Promise<object> {
    return this.#editTrust((store) => store.pin(host, sha256));
  }

  /** Applies `edit` to the profile's trust settings and keeps (and remembers) the result. */
  async #editTrust(edit: (store: TrustStore) => void): Promise<object> {
    // Loaded on demand: the X.509 code is its own chunk (like the Certificates tab).
    const { TrustStore } = await import('../../../protocols/tls/trust-store.ts');
    const store = TrustStore.fromJSON(this._trustJson);
    edit(store);
    const json = store.toJSON();
    this._trustJson = json;
    if (this._remember) this.#settings.rememberTrust(json);
    return json;
  }

  #onConnect() {
    let relays: string[];
    try {
      relays = this.#resolvedRelays();
    } catch {
      return;
    }
    // Failures are shown by the panel (lastError) and logged by the controller.
    this.tunnel.connect(this._configText, relays, this.#relayOptions()).catch(() => {});
  }

  #onDisconnect() {
    this.tunnel.disconnect().catch(() => {});
  }

  #skip(e: Event) {
    e.preventDefault();
    this.renderRoot.querySelector<HTMLElement>('main')?.focus();
  }
}
customElements.define('wg-app', WgApp);
