/**
 * <wg-ssh-tool .ssh .connected>: SSH consoles through the tunnel, one tab each.
 *
 *   form (host, port, user, password | OpenSSH private key + passphrase) ─▶ ssh.sshConnect
 *     SSH_HOST_KEY_UNKNOWN ─▶ "can't be established … SHA256:…" ─▶ Trust and connect (hostKey = it)
 *     SSH_HOST_KEY_CHANGED ─▶ a loud refusal, no way around it here
 *   console tab ─▶ xterm.js (loaded on the first console: its own chunk) ⇄ sshWrite / output events
 *     Ctrl+Shift+C copies the selection; paste is the browser's (Ctrl+Shift+V, context menu)
 *     FitAddon + ResizeObserver ─▶ sshResize (window-change); exit status shown when the shell ends
 *   "Generate key" ─▶ an Ed25519 key pair made in the page (the SSH chunk), with its authorized_keys line
 *   known hosts (`knownHosts`, owned by <wg-app>, which keeps them with the profile when the user
 *     opted in): listed with their fingerprints (the known-hosts code loads with the list), each
 *     removable (─▶ wg-ssh-known-hosts-change { lines }), exported as known_hosts lines; import
 *     lines of an existing known_hosts file
 */
import { LitElement, css, html, nothing } from 'lit';
import type { WgwebError } from '../../../shared/errors.ts';
import type { SshTarget } from '../automation.ts';
import type { SshOpenResult, SshOutputEvent } from '../../worker/tunnel-api.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderTextField } from './text-field.ts';

type KnownHostRow = { hosts: string; type: string; fingerprint: string; revoked: boolean };
type KnownHostsModule = typeof import('../../../protocols/ssh/known-hosts.ts');
let knownHostsCode: Promise<KnownHostsModule> | undefined;

interface ConsoleTab {
  key: number;
  id: number | undefined;
  title: string;
  info: SshOpenResult | undefined;
  ended: string | undefined;
  /** The ending in a word or two for the tab title: "exit 3", "KILL", "lost". */
  endedShort: string | undefined;
  element: HTMLDivElement;
  /** Freezes the terminal once the shell has ended: no cursor, no input (its text stays readable). */
  freeze?: () => void;
  /** Resolves once the terminal has processed the text (xterm's write callback). */
  write?: (text: string) => Promise<void>;
  dispose?: () => void;
}

type XtermModule = typeof import('@xterm/xterm');
type FitModule = typeof import('@xterm/addon-fit');
let xterm: Promise<{ xt: XtermModule; fit: FitModule; css: string }> | undefined;

/** Loads xterm.js, its fit addon and its stylesheet once (a lazy chunk: nothing until a console opens). */
function loadXterm(): Promise<{ xt: XtermModule; fit: FitModule; css: string }> {
  xterm ??= Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit'), import('@xterm/xterm/css/xterm.css?inline')]).then(([xt, fit, c]) => ({
    xt,
    fit,
    css: (c as { default: string }).default,
  }));
  return xterm;
}

export class WgSshTool extends LitElement {
  static override properties = {
    ssh: { attribute: false },
    knownHosts: { attribute: false },
    connected: { type: Boolean },
    _host: { state: true },
    _port: { state: true },
    _user: { state: true },
    _password: { state: true },
    _key: { state: true },
    _passphrase: { state: true },
    _useKey: { state: true },
    _busy: { state: true },
    _error: { state: true },
    _unknown: { state: true },
    _tabs: { state: true },
    _active: { state: true },
    _generated: { state: true },
    _knownText: { state: true },
    _knownResult: { state: true },
    _knownRows: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      .tabs {
        display: flex;
        gap: 0.25rem;
        flex-wrap: wrap;
        margin-top: 1rem;
      }
      .tabs button[aria-selected='true'] {
        font-weight: 600;
        border-bottom: 2px solid var(--wg-accent);
      }
      .term {
        margin-top: 0.5rem;
        height: 24rem;
        /* xterm.js's default theme background, so the padding does not frame the terminal. */
        background: #000;
        padding: 0.25rem;
        border-radius: 0.4rem;
      }
      .term[hidden] {
        display: none;
      }
      .fingerprint {
        font-family: var(--wg-mono, monospace);
        word-break: break-all;
      }
      textarea {
        width: 100%;
        min-height: 5rem;
        font-family: var(--wg-mono, monospace);
      }
      ul.known {
        padding-left: 1.1rem;
        font-size: 0.85rem;
      }
      ul.known li {
        margin-bottom: 0.3rem;
      }
      .status-line {
        margin-top: 0.4rem;
        font-size: 0.85rem;
        /* A SHA256 fingerprint is one long word: wrap it on a phone instead of cutting it off. */
        overflow-wrap: anywhere;
      }
    `,
  ];

  declare ssh: SshTarget | undefined;
  /** known_hosts lines (accepted and imported keys); the owner persists them. */
  declare knownHosts: string;
  declare connected: boolean;
  declare _host: string;
  declare _port: string;
  declare _user: string;
  declare _password: string;
  declare _key: string;
  declare _passphrase: string;
  declare _useKey: boolean;
  declare _busy: boolean;
  declare _error: WgwebError | undefined;
  declare _unknown: { host: string; fingerprint: string; keyType: string } | undefined;
  declare _tabs: ConsoleTab[];
  declare _active: number;
  declare _generated: string | undefined;
  declare _knownText: string;
  declare _knownResult: string | undefined;
  declare _knownRows: KnownHostRow[];
  #nextKey = 1;

  constructor() {
    super();
    this.ssh = undefined;
    this.knownHosts = '';
    this.connected = false;
    this._host = '';
    this._port = '22';
    this._user = 'root';
    this._password = '';
    this._key = '';
    this._passphrase = '';
    this._useKey = false;
    this._busy = false;
    this._error = undefined;
    this._unknown = undefined;
    this._tabs = [];
    this._active = 0;
    this._generated = undefined;
    this._knownText = '';
    this._knownResult = undefined;
    this._knownRows = [];
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('knownHosts')) void this.#listKnown(this.knownHosts);
  }

  override render() {
    const ready = this.connected && !!this._host.trim() && !!this._user.trim() && !this._busy && (this._useKey ? !!this._key.trim() : !!this._password);
    return html`
      <form @submit=${(e: Event) => this.#onSubmit(e)}>
        ${renderTextField({ id: 'ssh-host', label: 'Host', value: this._host, placeholder: '10.8.0.1', onInput: (v) => (this._host = v) })}
        <div class="field narrow">
          <label for="ssh-port">Port</label>
          <input id="ssh-port" type="number" min="1" max="65535" .value=${this._port} @input=${(e: Event) => (this._port = (e.target as HTMLInputElement).value)} />
        </div>
        ${renderTextField({ id: 'ssh-user', label: 'User', value: this._user, placeholder: 'root', onInput: (v) => (this._user = v) })}
        ${this._useKey
          ? nothing
          : html`<div class="field">
              <label for="ssh-password">Password</label>
              <input id="ssh-password" type="password" autocomplete="off" .value=${this._password} @input=${(e: Event) => (this._password = (e.target as HTMLInputElement).value)} />
            </div>`}
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${!ready}>${this._busy ? 'Connecting…' : 'Open console'}</button>
        </div>
      </form>
      <p>
        <label><input type="checkbox" .checked=${this._useKey} @change=${(e: Event) => (this._useKey = (e.target as HTMLInputElement).checked)} /> Use a private key</label>
        ${this._useKey ? html` <button type="button" @click=${() => this.#generate()}>Generate key</button>` : nothing}
      </p>
      ${this._useKey
        ? html`<div class="field">
              <label for="ssh-key">OpenSSH private key</label>
              <textarea id="ssh-key" spellcheck="false" placeholder="-----BEGIN OPENSSH PRIVATE KEY-----" .value=${this._key} @input=${(e: Event) => (this._key = (e.target as HTMLTextAreaElement).value)}></textarea>
            </div>
            <div class="field">
              <label for="ssh-passphrase">Passphrase (if the key has one)</label>
              <input id="ssh-passphrase" type="password" autocomplete="off" .value=${this._passphrase} @input=${(e: Event) => (this._passphrase = (e.target as HTMLInputElement).value)} />
            </div>`
        : nothing}
      ${this._generated
        ? html`<div class="alert info result">Add this line to <code>~/.ssh/authorized_keys</code> on the server:<div class="fingerprint">${this._generated}</div></div>`
        : nothing}
      ${this._unknown
        ? html`<div class="alert warn result" role="alert">
            The authenticity of <strong>${this._unknown.host}</strong> can't be established.<br />
            ${this._unknown.keyType} key fingerprint is <span class="fingerprint">${this._unknown.fingerprint}</span>.<br />
            Compare it with what the host's administrator (or <code>ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub</code> on the host) shows.
            <div class="actions">
              <button type="button" class="primary" @click=${() => this.#trust()}>Trust and connect</button>
              <button type="button" @click=${() => (this._unknown = undefined)}>Cancel</button>
            </div>
          </div>`
        : nothing}
      ${this._error
        ? html`<div class="alert err error" role="alert">${this._error.code === 'SSH_HOST_KEY_CHANGED' ? html`<strong>Host key changed: refused.</strong> ` : nothing}${this._error.message}</div>`
        : nothing}
      ${this._tabs.length
        ? html`<div class="tabs" role="tablist" aria-label="SSH consoles">
            ${this._tabs.map(
              (t) => html`<button type="button" role="tab" aria-selected=${t.key === this._active ? 'true' : 'false'} @click=${() => this.#select(t.key)}>
                ${t.title}${t.endedShort ? ` (${t.endedShort})` : ''} <span aria-label="close" @click=${(e: Event) => this.#closeTab(e, t.key)}>✕</span>
              </button>`,
            )}
          </div>`
        : nothing}
      ${this._tabs.map(
        (t) => html`<div ?hidden=${t.key !== this._active}>
          ${t.element}
          <div class="status-line">
            ${t.info ? html`${t.info.serverVersion} · ${t.info.hostKeyType} ${t.info.hostKeyFingerprint} · ${t.info.algorithms.kex}, ${t.info.algorithms.cipher}` : 'connecting…'}
            ${t.ended ? html`<br /><strong>${t.ended}</strong>` : nothing}
          </div>
        </div>`,
      )}
      <details class="result">
        <summary>Known hosts${this._knownRows.length ? ` (${this._knownRows.length})` : ''}</summary>
        ${this._knownRows.length
          ? html`<ul class="known" aria-label="Known hosts">
                ${this._knownRows.map(
                  (r, i) => html`<li>
                    ${r.revoked ? html`<strong>revoked</strong> ` : nothing}<code>${r.hosts.startsWith('|1|') ? '(hashed name)' : r.hosts}</code> ${r.type}
                    <span class="fingerprint">${r.fingerprint}</span>
                    <button type="button" aria-label="Remove ${r.hosts} ${r.type}" @click=${() => void this.#removeKnown(i)}>Remove</button>
                  </li>`,
                )}
              </ul>
              <label for="ssh-known-export">As known_hosts lines</label>
              <textarea id="ssh-known-export" readonly spellcheck="false" .value=${this.knownHosts}></textarea>`
          : html`<p>No known hosts yet: a host key you accept is listed here (and kept with the profile when you chose to remember it).</p>`}
        <p>Paste lines of an existing <code>known_hosts</code> file (hashed lines work too).</p>
        <textarea aria-label="known_hosts lines" .value=${this._knownText} @input=${(e: Event) => (this._knownText = (e.target as HTMLTextAreaElement).value)}></textarea>
        <button type="button" ?disabled=${!this.connected || !this._knownText.trim()} @click=${() => this.#importKnown()}>Import</button>
        ${this._knownResult ? html`<span role="status">${this._knownResult}</span>` : nothing}
      </details>
    `;
  }

  #onSubmit(e: Event, hostKey?: string) {
    e.preventDefault();
    void this.#open(hostKey);
  }

  #trust() {
    const fp = this._unknown?.fingerprint;
    this._unknown = undefined;
    void this.#open(fp);
  }

  async #open(hostKey?: string) {
    const ssh = this.ssh;
    if (!ssh || this._busy) return;
    this._busy = true;
    this._error = undefined;
    this._unknown = undefined;
    const host = this._host.trim();
    const port = Number(this._port) || 22;
    const tab: ConsoleTab = { key: this.#nextKey++, id: undefined, title: this.#titleFor(`${this._user.trim()}@${host}${port === 22 ? '' : ':' + port}`), info: undefined, ended: undefined, endedShort: undefined, element: document.createElement('div') };
    tab.element.className = 'term';
    const buffered: string[] = [];
    // Returning the terminal's write keeps the SSH window closed until xterm has caught up.
    const onOutput = (ev: SshOutputEvent): Promise<void> | undefined => {
      if ('text' in ev) {
        if (tab.write) return tab.write(ev.text);
        buffered.push(ev.text);
      } else {
        const x = ev.exit;
        tab.ended = x.error ? `Connection lost: ${x.error.message}` : x.signal ? `Ended by signal ${x.signal}` : `Exited with status ${x.code ?? '?'}`;
        tab.endedShort = x.error ? 'lost' : x.signal ? x.signal : `exit ${x.code ?? '?'}`;
        tab.freeze?.();
        this._tabs = [...this._tabs];
      }
      return undefined;
    };
    try {
      const [{ xt, fit, css: termCss }] = await Promise.all([loadXterm()]);
      this.#adoptCss(termCss);
      const info = await ssh.sshConnect(
        host,
        {
          port,
          username: this._user.trim(),
          ...(this._useKey ? { privateKey: this._key, passphrase: this._passphrase || undefined } : { password: this._password }),
          hostKey,
          cols: 80,
          rows: 24,
        },
        onOutput,
      );
      tab.id = info.id;
      tab.info = info;
      this._tabs = [...this._tabs, tab];
      this._active = tab.key;
      await this.updateComplete;
      const term = new xt.Terminal({ convertEol: false, scrollback: 5000, fontSize: 13, cursorBlink: true });
      const fitter = new fit.FitAddon();
      term.loadAddon(fitter);
      term.open(tab.element);
      tab.write = (text) => new Promise<void>((resolve) => term.write(text, resolve));
      for (const t of buffered.splice(0)) term.write(t);
      term.onData((d) => void ssh.sshWrite(info.id, d).catch(() => {}));
      // Copy as desktop terminals do: Ctrl+Shift+C copies the selection (Ctrl+C stays ^C for the
      // shell). Ctrl+Shift+V needs nothing: xterm.js leaves it to the browser, whose paste event it
      // takes (as for the context menu's Copy/Paste and ⌘C/⌘V).
      term.attachCustomKeyEventHandler((e) => {
        if (e.type !== 'keydown' || !e.ctrlKey || !e.shiftKey || e.altKey || e.metaKey || e.code !== 'KeyC' || !term.hasSelection()) return true;
        e.preventDefault();
        void navigator.clipboard?.writeText(term.getSelection()).catch(() => {});
        return false;
      });
      let last = '';
      const refit = (): void => {
        if (tab.element.offsetParent === null) return;
        fitter.fit();
        const size = `${term.cols}x${term.rows}`;
        if (size !== last && !tab.ended) {
          last = size;
          void ssh.sshResize(info.id, term.cols, term.rows).catch(() => {});
        }
      };
      const observer = new ResizeObserver(refit);
      observer.observe(tab.element);
      refit();
      term.focus();
      tab.freeze = () => {
        term.options.disableStdin = true;
        term.options.cursorBlink = false;
        term.write('\x1b[?25l'); // DECTCEM: hide the cursor of a shell that is gone
      };
      if (tab.ended) tab.freeze();
      tab.dispose = () => {
        observer.disconnect();
        term.dispose();
      };
    } catch (err) {
      const e = err as WgwebError;
      if (e.code === 'SSH_HOST_KEY_UNKNOWN') {
        const d = e.detail as { host?: string; fingerprint?: string; keyType?: string };
        this._unknown = { host: d.host ?? host, fingerprint: d.fingerprint ?? '', keyType: d.keyType ?? '' };
      } else this._error = e;
    } finally {
      this._busy = false;
    }
  }

  /** A tab title not in use: a second console to the same user@host is "user@host (2)". */
  #titleFor(base: string): string {
    const used = new Set(this._tabs.map((t) => t.title));
    let title = base;
    for (let n = 2; used.has(title); n++) title = `${base} (${n})`;
    return title;
  }

  #adoptCss(text: string) {
    const root = this.shadowRoot;
    if (!root || root.querySelector('style[data-xterm]')) return;
    const style = document.createElement('style');
    style.dataset.xterm = '';
    style.textContent = text;
    root.appendChild(style);
  }

  #select(key: number) {
    this._active = key;
  }

  #closeTab(e: Event, key: number) {
    e.stopPropagation();
    const tab = this._tabs.find((t) => t.key === key);
    if (!tab) return;
    if (tab.id !== undefined) void this.ssh?.sshClose(tab.id).catch(() => {});
    tab.dispose?.();
    this._tabs = this._tabs.filter((t) => t.key !== key);
    if (this._active === key) this._active = this._tabs[0]?.key ?? 0;
  }

  async #generate() {
    const { generateEd25519Key } = await import('../../../protocols/ssh/ssh-private-key.ts');
    const key = generateEd25519Key('wgweb');
    this._key = key.toOpenSsh();
    this._passphrase = '';
    this._generated = key.authorizedKeysLine();
  }

  async #listKnown(lines: string) {
    if (!lines.trim()) {
      this._knownRows = [];
      return;
    }
    const { KnownHosts } = await (knownHostsCode ??= import('../../../protocols/ssh/known-hosts.ts'));
    if (lines === this.knownHosts) this._knownRows = KnownHosts.fromJSON({ lines }).list();
  }

  async #removeKnown(index: number) {
    const { KnownHosts } = await (knownHostsCode ??= import('../../../protocols/ssh/known-hosts.ts'));
    const k = KnownHosts.fromJSON({ lines: this.knownHosts });
    if (index >= k.size) return;
    k.removeAt(index);
    this.dispatchEvent(new CustomEvent('wg-ssh-known-hosts-change', { detail: { lines: k.toLines() }, bubbles: true, composed: true }));
  }

  async #importKnown() {
    try {
      const r = await this.ssh!.importKnownHosts(this._knownText);
      this._knownResult = `${r.added} key(s) added${r.skipped.length ? `; skipped lines ${r.skipped.map((s) => `${s.line} (${s.reason})`).join(', ')}` : ''}`;
    } catch (err) {
      this._knownResult = (err as Error).message;
    }
  }
}
customElements.define('wg-ssh-tool', WgSshTool);
