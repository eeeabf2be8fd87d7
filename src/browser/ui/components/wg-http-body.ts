/**
 * <wg-http-body .bytes .contentType .truncated>: a response body as text, pretty JSON, a hex
 * dump, or a preview: HTML rendered in a sandbox="" iframe (no scripts, no network, opaque origin)
 * and images through a blob: URL.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { classifyBody, decodeText, mediaType, prettyJson, sandboxedSrcdoc, type BodyKind } from '../lib/http-body.ts';
import { formatBytes } from '../../../shared/format-bytes.ts';
import { hexDump } from '../lib/hex-dump.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { panelId, renderTablist, tabId } from './tablist.ts';
import './wg-copy-button.ts';

type View = 'text' | 'json' | 'hex' | 'preview';

/** Text views stop here: a browser tab is not a pager for huge bodies. */
const TEXT_LIMIT = 1024 * 1024;

export class WgHttpBody extends LitElement {
  static override properties = {
    bytes: { attribute: false },
    contentType: { attribute: false },
    truncated: { attribute: false },
    _view: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .bar {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        flex-wrap: wrap;
        margin-bottom: 0.5rem;
      }
      .bar .spacer {
        flex: 1;
      }
      pre.block {
        max-height: 26rem;
        font-size: 0.78rem;
      }
      pre.wrap {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      iframe {
        width: 100%;
        height: 26rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        background: #fff;
      }
      .image {
        padding: 0.75rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        background: repeating-conic-gradient(var(--wg-surface-2) 0% 25%, var(--wg-surface) 0% 50%) 50% / 16px 16px;
        text-align: center;
      }
      .image img {
        max-width: 100%;
        max-height: 24rem;
      }
    `,
  ];

  declare bytes: Uint8Array;
  declare contentType: string | null;
  declare truncated: boolean;
  declare _view: View;
  #kind: BodyKind = 'empty';
  #text = '';
  #json: string | undefined;
  #imageUrl: string | undefined;

  constructor() {
    super();
    this.bytes = new Uint8Array();
    this.contentType = null;
    this.truncated = false;
    this._view = 'text';
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (!changed.has('bytes') && !changed.has('contentType')) return;
    this.#kind = classifyBody(this.contentType, this.bytes);
    this.#text = this.#kind === 'binary' || this.#kind === 'image' ? '' : decodeText(this.bytes.subarray(0, TEXT_LIMIT), this.contentType);
    this.#json = this.#kind === 'json' ? prettyJson(this.#text) : undefined;
    this.#revokeImage();
    if (this.#kind === 'image') {
      this.#imageUrl = URL.createObjectURL(new Blob([this.bytes as Uint8Array<ArrayBuffer>], { type: mediaType(this.contentType) }));
    }
    this._view = this.#kind === 'image' || this.#kind === 'html' ? 'preview' : this.#kind === 'json' && this.#json ? 'json' : this.#kind === 'binary' ? 'hex' : 'text';
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#revokeImage();
  }

  override render() {
    if (this.#kind === 'empty') return html`<p class="muted small">No body.</p>`;
    const tabs: { id: View; label: string }[] = [];
    if (this.#kind === 'image' || this.#kind === 'html') tabs.push({ id: 'preview', label: this.#kind === 'image' ? 'Image' : 'Rendered' });
    if (this.#json) tabs.push({ id: 'json', label: 'JSON' });
    if (this.#kind !== 'binary' && this.#kind !== 'image') tabs.push({ id: 'text', label: 'Text' });
    tabs.push({ id: 'hex', label: 'Hex' });
    return html`
      <div class="bar">
        ${renderTablist({ label: 'Body view', tabs, selected: this._view, idPrefix: 'body', onSelect: (id) => (this._view = id as View) })}
        <span class="spacer"></span>
        <span class="muted small">${formatBytes(this.bytes.length)}${this.truncated ? ' (truncated)' : ''}</span>
        ${this._view === 'text' || this._view === 'json'
          ? html`<wg-copy-button .text=${this._view === 'json' ? (this.#json ?? '') : this.#text} label="Copy"></wg-copy-button>`
          : nothing}
      </div>
      <div role="tabpanel" id=${panelId('body', this._view)} aria-labelledby=${tabId('body', this._view)}>${this.#renderView()}</div>
    `;
  }

  #renderView() {
    switch (this._view) {
      case 'preview':
        if (this.#kind === 'image') {
          return html`<div class="image"><img src=${this.#imageUrl ?? ''} alt="Image from the response (${mediaType(this.contentType)})" /></div>`;
        }
        return html`<iframe
          title="Rendered response (no scripts, no network)"
          sandbox=""
          referrerpolicy="no-referrer"
          .srcdoc=${sandboxedSrcdoc(this.#text)}
        ></iframe>`;
      case 'json':
        return html`<pre class="block" tabindex="0">${this.#json}</pre>`;
      case 'hex': {
        const dump = hexDump(this.bytes);
        return html`<pre class="block" tabindex="0" aria-label="Hex dump">${dump.text}</pre>
          ${dump.truncated ? html`<p class="help">Showing the first ${formatBytes(64 * 1024)}.</p>` : nothing}`;
      }
      default:
        return html`<pre class="block wrap" tabindex="0">${this.#text}</pre>
          ${this.bytes.length > TEXT_LIMIT ? html`<p class="help">Showing the first ${formatBytes(TEXT_LIMIT)}.</p>` : nothing}`;
    }
  }

  #revokeImage() {
    if (this.#imageUrl) URL.revokeObjectURL(this.#imageUrl);
    this.#imageUrl = undefined;
  }
}
customElements.define('wg-http-body', WgHttpBody);
