/**
 * <wg-copy-button .text=${…} label="Copy stanza" [compact]>: copies text to the clipboard and says so
 * (politely, to screen readers too). `compact` fits it into a line of text (the status card's keys).
 */
import { LitElement, css, html, svg } from 'lit';
import { sharedStyles } from '../styles/shared-styles.ts';

export class WgCopyButton extends LitElement {
  static override properties = {
    text: { type: String },
    label: { type: String },
    compact: { type: Boolean, reflect: true },
    _copied: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: inline-block;
      }
      :host([compact]) button {
        min-height: 1.5rem;
        padding: 0.05rem 0.45rem;
      }
    `,
  ];

  declare text: string;
  declare label: string;
  declare compact: boolean;
  declare _copied: boolean | 'failed';
  #reset: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.text = '';
    this.label = 'Copy';
    this.compact = false;
    this._copied = false;
  }

  override render() {
    const word = this._copied === true ? 'Copied' : this._copied === 'failed' ? 'Copy failed' : this.label;
    return html`<button type="button" class="small" @click=${this.#copy}>
      <svg width="14" height="14" viewBox="0 0 16 16" aria-hidden="true" fill="none" stroke="currentColor" stroke-width="1.5">
        ${this._copied === true
          ? svg`<path d="M3 8.5l3 3 7-7" />`
          : svg`<rect x="5.5" y="5.5" width="8" height="8" rx="1.5" /><path d="M10.5 3.5v-.5A1.5 1.5 0 009 1.5H3A1.5 1.5 0 001.5 3v6A1.5 1.5 0 003 10.5h.5" />`}
      </svg>
      <span aria-live="polite">${word}</span>
    </button>`;
  }

  async #copy() {
    let ok = false;
    try {
      await navigator.clipboard.writeText(this.text);
      ok = true;
    } catch {
      // No async clipboard (insecure context): fall back to a selection copy.
      const area = document.createElement('textarea');
      area.value = this.text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.opacity = '0';
      this.renderRoot.appendChild(area);
      area.select();
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      area.remove();
    }
    this._copied = ok ? true : 'failed';
    clearTimeout(this.#reset);
    this.#reset = setTimeout(() => (this._copied = false), 1600);
  }
}
customElements.define('wg-copy-button', WgCopyButton);
