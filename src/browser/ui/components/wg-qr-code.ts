/**
 * <wg-qr-code .text=${config} label="…">: the text as a QR code, dark on white whatever the theme
 * (scanners expect that), crisp at any size.
 */
import { LitElement, css, html, svg } from 'lit';
import { qrMatrix, type QrMatrix } from '../lib/qr-matrix.ts';
import { sharedStyles } from '../styles/shared-styles.ts';

export class WgQrCode extends LitElement {
  static override properties = {
    text: { type: String },
    label: { type: String },
  };
  static override styles = [
    sharedStyles,
    css`
      svg {
        display: block;
        width: 100%;
        height: auto;
        max-width: 16rem;
        border-radius: var(--wg-radius-sm);
        border: 1px solid var(--wg-border);
        background: #fff;
      }
    `,
  ];

  declare text: string;
  declare label: string;
  #cache: { text: string; qr: QrMatrix | Error } | undefined;

  constructor() {
    super();
    this.text = '';
    this.label = 'QR code';
  }

  override render() {
    if (!this.text) return html``;
    if (this.#cache?.text !== this.text) {
      let qr: QrMatrix | Error;
      try {
        qr = qrMatrix(this.text);
      } catch (e) {
        qr = e as Error;
      }
      this.#cache = { text: this.text, qr };
    }
    const qr = this.#cache.qr;
    if (qr instanceof Error) return html`<p class="field-error">${qr.message}</p>`;
    return html`<svg role="img" aria-label=${this.label} viewBox="0 0 ${qr.size} ${qr.size}" shape-rendering="crispEdges">
      ${svg`<rect width=${qr.size} height=${qr.size} fill="#fff"></rect><path d=${qr.path} fill="#000"></path>`}
    </svg>`;
  }
}
customElements.define('wg-qr-code', WgQrCode);
