/**
 * <wg-config-editor .value .diagnosis>: a plain-text editor for a wg-quick config with line
 * numbers, problems marked in the gutter and listed underneath (click one to jump to its line),
 * drag-and-drop or "Open file…" for .conf files. Emits `wg-config-input` ({ value }) on every change.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { ConfigDiagnosis, Diagnostic } from '../lib/config-diagnostics.ts';
import { diagnosticLocation } from '../lib/config-diagnostics.ts';
import { sharedStyles } from '../styles/shared-styles.ts';

/** Larger than any real config; anything bigger is the wrong file. */
const MAX_CONFIG_BYTES = 64 * 1024;
const PLACEHOLDER = `[Interface]
PrivateKey = …
Address = 10.8.0.2/32

[Peer]
PublicKey = …
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = vpn.example.com:51820`;

export class WgConfigEditor extends LitElement {
  static override properties = {
    value: { type: String },
    diagnosis: { attribute: false },
    _dragging: { state: true },
    _fileError: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .frame {
        position: relative;
        display: grid;
        grid-template-columns: auto 1fr;
        /* The row is as tall as the textarea; the gutter never stretches it (see .gutter). */
        align-items: stretch;
        border: 1px solid var(--wg-border-strong);
        border-radius: var(--wg-radius-sm);
        background: var(--wg-surface);
        overflow: hidden;
        transition: border-color 0.12s, box-shadow 0.12s;
      }
      .frame:focus-within {
        border-color: var(--wg-accent);
        box-shadow: var(--wg-focus);
      }
      .frame.invalid {
        border-color: color-mix(in srgb, var(--wg-err) 60%, var(--wg-border-strong));
      }
      .frame.dragging {
        border-color: var(--wg-accent);
        border-style: dashed;
        background: var(--wg-accent-soft);
      }
      /* The gutter and the textarea share one font, size and line height (the --editor-* values),
         so line n of the gutter sits beside line n of the text. The gutter takes no height of its
         own (height 0, min-height 100%): it is clipped to the textarea's height, and #syncScroll
         moves it with the textarea's scrollTop. */
      .frame {
        --editor-font: var(--wg-mono);
        --editor-size: 0.8125rem;
        --editor-line: 1.5;
        --editor-pad-y: 0.5rem;
      }
      .gutter {
        font-family: var(--editor-font);
        font-size: var(--editor-size);
        line-height: var(--editor-line);
        /* Extra room at the bottom so the gutter can scroll as far as the textarea, whose
           horizontal scrollbar adds to its scroll range. */
        padding: var(--editor-pad-y) 0 calc(var(--editor-pad-y) + 2rem);
        height: 0;
        min-height: 100%;
        box-sizing: border-box;
        background: var(--wg-surface-2);
        border-right: 1px solid var(--wg-border);
        color: var(--wg-muted);
        text-align: right;
        user-select: none;
        overflow: hidden;
        min-width: 2.75rem;
      }
      .gutter div {
        padding: 0 0.5rem 0 0.6rem;
        position: relative;
      }
      .gutter .err {
        color: var(--wg-err);
        font-weight: 700;
        background: var(--wg-err-soft);
      }
      .gutter .warn {
        color: var(--wg-warn);
        font-weight: 700;
        background: var(--wg-warn-soft);
      }
      textarea {
        border: 0;
        border-radius: 0;
        box-shadow: none !important;
        min-height: 15.5rem;
        height: 15.5rem;
        font-family: var(--editor-font);
        font-size: var(--editor-size);
        line-height: var(--editor-line);
        padding: var(--editor-pad-y) 0.75rem;
        white-space: pre;
        overflow: auto;
        tab-size: 4;
        background: transparent;
      }
      .drop-hint {
        position: absolute;
        inset: 0;
        display: grid;
        place-items: center;
        font-weight: 600;
        color: var(--wg-accent);
        pointer-events: none;
      }
      .toolbar {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 0.5rem;
        margin-bottom: 0.4rem;
        flex-wrap: wrap;
      }
      .toolbar label {
        margin: 0;
      }
      .summary {
        margin: 0.5rem 0 0;
        font-size: 0.8125rem;
        display: flex;
        align-items: center;
        gap: 0.4rem;
      }
      .summary.ok {
        color: var(--wg-ok);
      }
      .summary.err {
        color: var(--wg-err);
      }
      .summary.muted {
        color: var(--wg-muted);
      }
      ul.diags {
        list-style: none;
        margin: 0.4rem 0 0;
        padding: 0;
        display: grid;
        gap: 0.25rem;
        max-height: 11rem;
        overflow: auto;
      }
      ul.diags button {
        width: 100%;
        justify-content: flex-start;
        text-align: left;
        white-space: normal;
        font-weight: 400;
        min-height: 0;
        padding: 0.3rem 0.5rem;
        border-color: transparent;
        gap: 0.6rem;
        align-items: baseline;
      }
      ul.diags .err button {
        background: var(--wg-err-soft);
      }
      ul.diags .warning button {
        background: var(--wg-warn-soft);
      }
      .loc {
        font-family: var(--wg-mono);
        font-size: 0.75rem;
        font-weight: 600;
        flex: none;
        min-width: 4.2rem;
      }
      .err .loc {
        color: var(--wg-err);
      }
      .warning .loc {
        color: var(--wg-warn);
      }
      input[type='file'] {
        display: none;
      }
    `,
  ];

  declare value: string;
  declare diagnosis: ConfigDiagnosis | undefined;
  declare _dragging: boolean;
  declare _fileError: string;

  constructor() {
    super();
    this.value = '';
    this.diagnosis = undefined;
    this._dragging = false;
    this._fileError = '';
  }

  /** Moves the caret to the start of `line` (1-based) and scrolls it into view. */
  goToLine(line: number): void {
    const area = this.renderRoot.querySelector('textarea');
    if (!area) return;
    const lines = this.value.split('\n');
    const target = Math.min(Math.max(line, 1), lines.length);
    let start = 0;
    for (let i = 0; i < target - 1; i++) start += lines[i].length + 1;
    area.focus();
    area.setSelectionRange(start, start + lines[target - 1].length);
    const lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 20;
    area.scrollTop = Math.max(0, (target - 3) * lineHeight);
    this.#syncScroll();
  }

  override render() {
    const d = this.diagnosis;
    const lineCount = Math.max(1, this.value.split('\n').length);
    const invalid = !!d && !d.empty && d.errorCount > 0;
    const summaryClass = !d || d.empty ? 'muted' : d.errorCount ? 'err' : 'ok';
    return html`
      <div class="toolbar">
        <label for="config">wg-quick config</label>
        <div class="actions">
          <button type="button" class="small" @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click()}>
            Open .conf file…
          </button>
          <input type="file" accept=".conf,text/plain" aria-label="Open a .conf file" @change=${this.#onFilePicked} />
        </div>
      </div>
      <div
        class="frame ${invalid ? 'invalid' : ''} ${this._dragging ? 'dragging' : ''}"
        @dragenter=${this.#onDragOver}
        @dragover=${this.#onDragOver}
        @dragleave=${this.#onDragLeave}
        @drop=${this.#onDrop}
      >
        <div class="gutter" aria-hidden="true">
          ${Array.from({ length: lineCount }, (_, i) => {
            const n = i + 1;
            const cls = d?.errorLines.has(n) ? 'err' : d?.warningLines.has(n) ? 'warn' : '';
            return html`<div class=${cls}>${n}</div>`;
          })}
        </div>
        <textarea
          id="config"
          class="mono"
          .value=${this.value}
          placeholder=${PLACEHOLDER}
          wrap="off"
          spellcheck="false"
          autocomplete="off"
          autocapitalize="off"
          autocorrect="off"
          data-gramm="false"
          aria-describedby="summary diag-list"
          aria-invalid=${invalid ? 'true' : 'false'}
          @input=${this.#onInput}
          @scroll=${this.#syncScroll}
        ></textarea>
        ${this._dragging ? html`<div class="drop-hint">Drop the .conf file to load it</div>` : nothing}
      </div>
      ${this._fileError ? html`<p class="field-error" role="alert">${this._fileError}</p>` : nothing}
      <p id="summary" class="summary ${summaryClass}" role="status">${d ? d.summary : ''}</p>
      ${d && d.diagnostics.length
        ? html`<ul class="diags" id="diag-list" aria-label="Problems in the config">
            ${d.diagnostics.map((x) => this.#renderDiagnostic(x))}
          </ul>`
        : nothing}
    `;
  }

  #renderDiagnostic(d: Diagnostic) {
    const cls = d.severity === 'error' ? 'err' : 'warning';
    const kind = d.severity === 'error' ? 'Error' : 'Warning';
    return html`<li class=${cls}>
      <button type="button" @click=${() => (d.line > 0 ? this.goToLine(d.line) : this.goToLine(1))}>
        <span class="loc">${diagnosticLocation(d)}</span>
        <span><span class="visually-hidden">${kind}: </span>${d.message}</span>
      </button>
    </li>`;
  }

  override updated(): void {
    this.#syncScroll();
  }

  #syncScroll() {
    const area = this.renderRoot.querySelector('textarea');
    const gutter = this.renderRoot.querySelector<HTMLElement>('.gutter');
    if (area && gutter) gutter.scrollTop = area.scrollTop;
  }

  #emit(value: string) {
    this.value = value;
    this.dispatchEvent(new CustomEvent('wg-config-input', { detail: { value }, bubbles: true, composed: true }));
  }

  #onInput(e: Event) {
    this._fileError = '';
    this.#emit((e.target as HTMLTextAreaElement).value);
  }

  async #load(file: File | undefined) {
    this._dragging = false;
    if (!file) return;
    if (file.size > MAX_CONFIG_BYTES) {
      this._fileError = `${file.name} is ${Math.round(file.size / 1024)} KiB: a WireGuard config is a few hundred bytes. Is it the right file?`;
      return;
    }
    const text = await file.text();
    if (text.includes('\u0000')) {
      this._fileError = `${file.name} is not a text file: a wg-quick config is plain text with [Interface] and [Peer] sections.`;
      return;
    }
    this._fileError = '';
    this.#emit(text.replace(/\r\n/g, '\n'));
  }

  #onFilePicked(e: Event) {
    const input = e.target as HTMLInputElement;
    void this.#load(input.files?.[0]);
    input.value = '';
  }

  #onDragOver(e: DragEvent) {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    this._dragging = true;
  }

  #onDragLeave(e: DragEvent) {
    if (e.currentTarget === e.target || !(e.currentTarget as Node).contains(e.relatedTarget as Node)) this._dragging = false;
  }

  #onDrop(e: DragEvent) {
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    void this.#load(e.dataTransfer.files[0]);
  }
}
customElements.define('wg-config-editor', WgConfigEditor);
