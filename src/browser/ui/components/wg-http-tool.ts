/**
 * <wg-http-tool>: an HTTP request through the tunnel (wgweb's own HTTP/1.1 client on its own TCP
 * stack): method, URL, headers and body in; status, headers, timing and the body out. The body
 * streams from the worker (a transferred ReadableStream) and is read here with a progress count.
 *
 * An https request refused at the certificate shows <wg-certificate-prompt> (subject, issuer,
 * validity, SHA-256) instead of a bare error: "Trust for HOST" pins that certificate for that host
 * (tunnel.pinCertificate: the profile's trust settings, then the worker) and sends the request again.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { FetchResponseHead, FetchTiming } from '../../worker/tunnel-api.ts';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { isAbortError, ToolRunController, type ToolError } from '../controllers/tool-run-controller.ts';
import type { TunnelRequestInit } from '../tunnel-client.ts';
import { formatBytes } from '../../../shared/format-bytes.ts';
import { formatMs } from '../../../shared/format-time.ts';
import { parseHeaderLines } from '../lib/http-body.ts';
import { timingPhases } from '../lib/timing-phases.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toolStyles } from './tool-styles.ts';
import { renderToolError } from './tool-error.ts';
import './wg-http-body.ts';
import './wg-certificate-prompt.ts';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** Bodies beyond this are cut off (and the download cancelled) to keep the page responsive. */
const BODY_LIMIT = 16 * 1024 * 1024;

interface Exchange {
  head: FetchResponseHead;
  bytes: Uint8Array;
  received: number;
  done: boolean;
  truncated: boolean;
  downloadMs?: number;
  /** The final exchange's marks, when the HTTP client reports them (after the body). */
  timing?: FetchTiming;
  hops: number;
}

export class WgHttpTool extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    connected: { type: Boolean },
    _method: { state: true },
    _url: { state: true },
    _headers: { state: true },
    _body: { state: true },
    _timeout: { state: true },
    _exchange: { state: true },
    _dismissed: { state: true },
  };
  static override styles = [
    sharedStyles,
    toolStyles,
    css`
      .field.method {
        flex: 0 0 7.5rem;
      }
      .field.url {
        flex: 1 1 16rem;
      }
      details.more {
        margin-top: 0.75rem;
      }
      details.more summary {
        cursor: pointer;
        font-size: 0.8125rem;
        font-weight: 500;
        width: fit-content;
        border-radius: 4px;
      }
      .more-grid {
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr));
        gap: 0.75rem;
        margin-top: 0.6rem;
      }
      .more-grid textarea {
        min-height: 5.5rem;
      }
      .statusline {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        flex-wrap: wrap;
        margin-bottom: 0.75rem;
      }
      .code {
        font-family: var(--wg-mono);
        font-weight: 700;
        font-size: 0.9rem;
        padding: 0.15rem 0.6rem;
        border-radius: var(--wg-radius-sm);
      }
      .s2 {
        color: var(--wg-ok);
        background: var(--wg-ok-soft);
      }
      .s3 {
        color: var(--wg-accent);
        background: var(--wg-accent-soft);
      }
      .s4 {
        color: var(--wg-warn);
        background: var(--wg-warn-soft);
      }
      .s5 {
        color: var(--wg-err);
        background: var(--wg-err-soft);
      }
      .legacy {
        color: var(--wg-err);
      }
      .timing {
        margin: 0 0 1rem;
      }
      .bar {
        display: flex;
        height: 0.5rem;
        border-radius: 999px;
        overflow: hidden;
        background: var(--wg-surface-3);
        margin: 0.35rem 0;
      }
      .bar .wait {
        background: var(--wg-accent);
      }
      .bar .dl {
        background: var(--wg-ok);
      }
      .legend {
        display: flex;
        gap: 1rem;
        flex-wrap: wrap;
        font-size: 0.78rem;
        color: var(--wg-muted);
      }
      .legend i {
        display: inline-block;
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 2px;
        margin-right: 0.3rem;
        vertical-align: -1px;
      }
      h3 {
        font-size: 0.8125rem;
        margin: 1rem 0 0.4rem;
      }
      table {
        width: 100%;
        border-collapse: collapse;
        font-family: var(--wg-mono);
        font-size: 0.78rem;
      }
      th,
      td {
        text-align: left;
        vertical-align: top;
        padding: 0.25rem 0.5rem;
        border-bottom: 1px solid var(--wg-border);
        overflow-wrap: anywhere;
      }
      th {
        color: var(--wg-muted);
        font-weight: 500;
        width: 32%;
      }
      table.waterfall {
        font-family: var(--wg-font);
        margin-bottom: 0.4rem;
      }
      table.waterfall th,
      table.waterfall td {
        border: 0;
        padding: 0.15rem 0.5rem 0.15rem 0;
        font-size: 0.78rem;
      }
      table.waterfall th {
        width: 10rem;
        white-space: nowrap;
      }
      table.waterfall td.ms {
        width: 5rem;
        text-align: right;
        font-family: var(--wg-mono);
      }
      td.track {
        position: relative;
        background: linear-gradient(var(--wg-surface-3), var(--wg-surface-3)) center / 100% 1px no-repeat;
      }
      .seg {
        position: absolute;
        top: 50%;
        height: 0.55rem;
        transform: translateY(-50%);
        border-radius: 3px;
        background: var(--wg-accent);
      }
      .seg.dns {
        background: #8b5cf6;
      }
      .seg.connect {
        background: #f59e0b;
      }
      .seg.send {
        background: var(--wg-muted);
      }
      .seg.download {
        background: var(--wg-ok);
      }
      .headers-wrap {
        max-height: 14rem;
        overflow: auto;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare connected: boolean;
  declare _method: string;
  declare _url: string;
  declare _headers: string;
  declare _body: string;
  declare _timeout: string;
  /** The exchange streams in as tool state while it runs; Cancel shows "Cancelled.". */
  declare _exchange: Exchange | undefined;
  /** A certificate prompt the user closed (the run's error it was shown for). */
  declare _dismissed: ToolError | undefined;
  readonly #run = new ToolRunController<void>(this, { abortedMessage: 'Cancelled.' });

  constructor() {
    super();
    this.tunnel = undefined;
    this.connected = false;
    this._method = 'GET';
    this._url = '';
    this._headers = '';
    this._body = '';
    this._timeout = '30';
    this._exchange = undefined;
    this._dismissed = undefined;
  }

  override render() {
    const headerCheck = parseHeaderLines(this._headers);
    const bodyAllowed = this._method !== 'GET' && this._method !== 'HEAD';
    const urlProblem = this.#urlProblem();
    return html`
      <form @submit=${this.#onSubmit}>
        <div class="field method">
          <label for="http-method">Method</label>
          <select id="http-method" .value=${this._method} @change=${(e: Event) => (this._method = (e.target as HTMLSelectElement).value)}>
            ${METHODS.map((m) => html`<option value=${m} ?selected=${m === this._method}>${m}</option>`)}
          </select>
        </div>
        <div class="field url">
          <label for="http-url">URL</label>
          <input
            id="http-url"
            class="mono"
            type="text"
            inputmode="url"
            .value=${this._url}
            placeholder="http://10.8.0.1/"
            spellcheck="false"
            autocomplete="off"
            autocapitalize="off"
            aria-invalid=${this._url && urlProblem ? 'true' : 'false'}
            aria-describedby=${this._url && urlProblem ? 'http-url-error' : nothing}
            @input=${(e: Event) => (this._url = (e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="actions">
          ${this.#run.running
            ? html`<button type="button" class="danger" @click=${() => this.#run.abort()}>Cancel</button>`
            : html`<button type="submit" class="primary" ?disabled=${!this.connected || !!urlProblem || headerCheck.problems.length > 0}>Send</button>`}
        </div>
      </form>
      ${this._url && urlProblem ? html`<div class="field-error" id="http-url-error">${urlProblem}</div>` : nothing}
      <details class="more">
        <summary>Headers, body and timeout</summary>
        <div class="more-grid">
          <div class="field">
            <label for="http-headers">Request headers</label>
            <textarea
              id="http-headers"
              class="mono"
              .value=${this._headers}
              placeholder="Accept: application/json"
              spellcheck="false"
              aria-describedby="http-headers-help"
              aria-invalid=${headerCheck.problems.length ? 'true' : 'false'}
              @input=${(e: Event) => (this._headers = (e.target as HTMLTextAreaElement).value)}
            ></textarea>
            ${headerCheck.problems.map((p) => html`<div class="field-error">Line ${p.line}: ${p.message}</div>`)}
            <div class="help" id="http-headers-help">One "Name: value" per line.</div>
          </div>
          <div class="field">
            <label for="http-body">Request body</label>
            <textarea
              id="http-body"
              class="mono"
              .value=${this._body}
              ?disabled=${!bodyAllowed}
              placeholder=${bodyAllowed ? '{"hello": "world"}' : `${this._method} requests have no body`}
              spellcheck="false"
              @input=${(e: Event) => (this._body = (e.target as HTMLTextAreaElement).value)}
            ></textarea>
          </div>
          <div class="field" style="max-width:9rem">
            <label for="http-timeout">Timeout (s)</label>
            <input id="http-timeout" type="number" min="1" max="600" .value=${this._timeout} @input=${(e: Event) => (this._timeout = (e.target as HTMLInputElement).value)} />
          </div>
        </div>
      </details>
      ${this._exchange ? this.#renderExchange(this._exchange) : nothing}
      ${certificateProblem(this.#run.error)
        ? this.#run.error === this._dismissed
          ? nothing
          : html`<wg-certificate-prompt
              .host=${this.#host()}
              .error=${this.#run.error}
              @wg-certificate-trust=${this.#onTrust}
              @wg-certificate-dismiss=${() => (this._dismissed = this.#run.error)}
            ></wg-certificate-prompt>`
        : renderToolError(this.#run.error)}
    `;
  }

  /** The URL's host as the TLS client names it (IPv6 without brackets). */
  #host(): string {
    try {
      return new URL(this._url.trim()).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return '';
    }
  }

  /** "Trust for HOST": pin the certificate (profile trust, then the worker), then send again. */
  #onTrust(e: CustomEvent<{ host: string; sha256: string }>) {
    e.stopPropagation();
    const tunnel = this.tunnel;
    if (!tunnel?.pinCertificate) return;
    const { headers } = parseHeaderLines(this._headers);
    this._exchange = undefined;
    void this.#run.run(async (signal) => {
      await tunnel.pinCertificate!(e.detail.host, e.detail.sha256);
      await this.#exchange(tunnel, headers, signal);
    });
  }

  #urlProblem(): string | undefined {
    const text = this._url.trim();
    if (!text) return 'Enter a URL.';
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'Enter a full URL, e.g. http://10.8.0.1/';
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Only http:// and https:// URLs.';
    return undefined;
  }

  #renderExchange(x: Exchange) {
    const h = x.head;
    const wait = h.timing.headersMs;
    const dl = x.downloadMs ?? 0;
    const total = wait + dl;
    const contentType = h.headers.find(([n]) => n === 'content-type')?.[1] ?? null;
    return html`<div class="result" aria-live="polite">
      <div class="statusline">
        <span class="code s${String(h.status)[0]}" data-testid="http-status">${h.status}</span>
        <span>${h.statusText}</span>
        <span class="muted small">${formatBytes(x.received)}${x.done ? '' : ' so far…'}</span>
        ${x.done ? html`<span class="muted small">${formatMs(x.timing?.done ?? total)}</span>` : nothing}
        ${h.redirected ? html`<span class="muted small">after a redirect to <code>${h.url}</code></span>` : nothing}
      </div>
      ${x.timing ? this.#renderWaterfall(x.timing, x.hops) : this.#renderSimpleTiming(x, wait, dl, total)}
      <h3>Response headers (${h.headers.length})</h3>
      <div class="headers-wrap" tabindex="0" role="region" aria-label="Response headers">
        <table>
          <tbody>
            ${h.headers.map(([n, v]) => html`<tr><th scope="row">${n}</th><td>${v}</td></tr>`)}
          </tbody>
        </table>
      </div>
      <h3>Body</h3>
      ${x.done
        ? html`<wg-http-body .bytes=${x.bytes} .contentType=${contentType} .truncated=${x.truncated}></wg-http-body>`
        : html`<p class="muted small">Receiving… ${formatBytes(x.received)}</p>`}
    </div>`;
  }

  #renderSimpleTiming(x: Exchange, wait: number, dl: number, total: number) {
    const pct = (v: number) => (total > 0 ? `${(v / total) * 100}%` : '0');
    return html`<div class="timing" aria-label="Timing">
      <div class="bar" aria-hidden="true"><span class="wait" style="width:${pct(wait)}"></span><span class="dl" style="width:${pct(dl)}"></span></div>
      <div class="legend">
        <span><i style="background:var(--wg-accent)"></i>until headers ${formatMs(wait)}</span>
        <span><i style="background:var(--wg-ok)"></i>body ${x.done ? formatMs(dl) : '…'}</span>
        ${x.done ? html`<span>total ${formatMs(total)}</span>` : nothing}
      </div>
    </div>`;
  }

  #renderWaterfall(t: FetchTiming, hops: number) {
    const phases = timingPhases(t);
    const total = Math.max(t.done ?? 0, ...phases.map((p) => p.end), 0.001);
    return html`<div class="timing">
      <table class="waterfall" aria-label="Timing">
        <tbody>
          ${phases.map(
            (p) => html`<tr>
              <th scope="row">${p.label}</th>
              <td class="track" aria-hidden="true">
                <span class="seg ${p.id}" style="left:${(p.start / total) * 100}%;width:${Math.max(0.5, ((p.end - p.start) / total) * 100)}%"></span>
              </td>
              <td class="ms">${formatMs(p.end - p.start)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <div class="legend">
        <span>total ${formatMs(t.done)}</span>
        ${t.remoteAddress ? html`<span>to ${t.remoteAddress}</span>` : nothing}
        ${t.reusedConnection ? html`<span>reused a kept-alive connection</span>` : nothing}
        ${hops > 1 ? html`<span>final hop of ${hops} (redirects)</span>` : nothing}
      </div>
      ${t.tls
        ? html`<div class="legend" data-testid="http-tls">
            <span>${t.tls.version} · <code>${t.tls.cipherSuite}</code></span>
            ${t.tls.legacy
              ? html`<span class="legacy" role="note" data-testid="http-tls-legacy"
                  ><strong>legacy TLS</strong>: ${t.tls.legacy.join(', ')} (allowed for this host in Certificates)</span
                >`
              : nothing}
          </div>`
        : nothing}
    </div>`;
  }

  #onSubmit(e: Event) {
    e.preventDefault();
    this.#send();
  }

  #send() {
    const tunnel = this.tunnel;
    if (!tunnel || this.#run.running || this.#urlProblem()) return;
    const { headers, problems } = parseHeaderLines(this._headers);
    if (problems.length) return;
    this._exchange = undefined;
    void this.#run.run((signal) => this.#exchange(tunnel, headers, signal));
  }

  /** One request: the head, then the body read into `_exchange` as it arrives. */
  async #exchange(tunnel: TunnelTools, headers: [string, string][], signal: AbortSignal): Promise<void> {
    const timeoutS = Number(this._timeout);
    try {
      let hops = 0;
      let latestTiming: FetchTiming | undefined;
      const onTiming = (t: FetchTiming) => {
        hops++;
        latestTiming = t;
        if (this._exchange && this._exchange.done) this._exchange = { ...this._exchange, timing: t, hops };
      };
      const init: TunnelRequestInit = { method: this._method, headers, signal, onTiming };
      if (this._method !== 'GET' && this._method !== 'HEAD' && this._body) init.body = this._body;
      if (Number.isFinite(timeoutS) && timeoutS > 0) init.timeoutMs = timeoutS * 1000;
      const { response, head } = await tunnel.fetchWithHead(this._url.trim(), init);
      const started = performance.now();
      const exchange: Exchange = { head, bytes: new Uint8Array(), received: 0, done: false, truncated: false, hops: 0 };
      this._exchange = exchange;
      await this.#readBody(response, exchange);
      this._exchange = { ...exchange, done: true, downloadMs: performance.now() - started, timing: latestTiming, hops };
    } catch (err) {
      // Cancelled mid-body: what arrived so far is shown as the final state (the controller says "Cancelled.").
      if (isAbortError(err) && this._exchange) this._exchange = { ...this._exchange, done: true };
      throw err;
    }
  }

  async #readBody(response: Response, x: Exchange): Promise<void> {
    if (!response.body) return;
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let lastPaint = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const room = BODY_LIMIT - x.received;
      chunks.push(value.length > room ? value.subarray(0, room) : value);
      x.received += Math.min(value.length, room);
      if (value.length >= room) {
        x.truncated = true;
        await reader.cancel('wgweb: body display limit reached');
        break;
      }
      const now = performance.now();
      if (now - lastPaint > 100) {
        lastPaint = now;
        this._exchange = { ...x };
      }
    }
    const bytes = new Uint8Array(x.received);
    let offset = 0;
    for (const c of chunks) {
      bytes.set(c, offset);
      offset += c.length;
    }
    x.bytes = bytes;
  }
}
customElements.define('wg-http-tool', WgHttpTool);

/** A refused server certificate the user can look at (the error carries its summary). */
function certificateProblem(e: ToolError | undefined): e is ToolError {
  if (!e) return false;
  const c = (e.detail as { certificate?: { sha256?: unknown } } | undefined)?.certificate;
  return typeof e.code === 'string' && e.code.startsWith('TLS_') && typeof c?.sha256 === 'string';
}
