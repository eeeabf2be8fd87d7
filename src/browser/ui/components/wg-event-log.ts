/**
 * <wg-event-log .entries>: the session's story in plain words (handshake sent and answered,
 * cookies, rekeys, relay reconnects, and on failure what to check), plus what the tools did.
 * A polite live region; filter to problems; copy as text; clear (emits `wg-clear-log`).
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { LogEntry } from '../controllers/tunnel-controller.ts';
import { formatClock } from '../../../shared/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import './wg-copy-button.ts';

export class WgEventLog extends LitElement {
  static override properties = {
    entries: { attribute: false },
    _problemsOnly: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .list {
        list-style: none;
        margin: 0;
        padding: 0.25rem 0;
        max-height: 22rem;
        min-height: 8rem;
        overflow: auto;
        font-size: 0.8125rem;
      }
      li {
        display: grid;
        grid-template-columns: auto auto 1fr;
        gap: 0.6rem;
        padding: 0.3rem 1rem;
        align-items: baseline;
      }
      li + li {
        border-top: 1px solid color-mix(in srgb, var(--wg-border) 55%, transparent);
      }
      li.error {
        background: color-mix(in srgb, var(--wg-err-soft) 70%, transparent);
      }
      li.warn {
        background: color-mix(in srgb, var(--wg-warn-soft) 60%, transparent);
      }
      time {
        font-family: var(--wg-mono);
        font-size: 0.75rem;
        color: var(--wg-muted);
      }
      .lvl {
        font-family: var(--wg-mono);
        font-size: 0.6875rem;
        font-weight: 700;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        width: 2.6rem;
      }
      .lvl.info {
        color: var(--wg-muted);
      }
      .lvl.warn {
        color: var(--wg-warn);
      }
      .lvl.error {
        color: var(--wg-err);
      }
      .msg {
        min-width: 0;
        overflow-wrap: anywhere;
      }
      .msg ul {
        margin: 0.25rem 0 0;
        padding-left: 1.1rem;
        color: var(--wg-text);
      }
      details {
        margin-top: 0.2rem;
      }
      summary {
        cursor: pointer;
        color: var(--wg-muted);
        font-size: 0.75rem;
        width: fit-content;
        border-radius: 4px;
      }
      details pre {
        margin: 0.25rem 0 0;
        padding: 0.4rem 0.6rem;
        background: var(--wg-surface-2);
        border-radius: var(--wg-radius-sm);
        overflow: auto;
        font-size: 0.75rem;
      }
      .check {
        margin: 0;
      }
    `,
  ];

  declare entries: LogEntry[];
  declare _problemsOnly: boolean;
  #stickToBottom = true;

  constructor() {
    super();
    this.entries = [];
    this._problemsOnly = false;
  }

  override render() {
    const shown = this._problemsOnly ? this.entries.filter((e) => e.level !== 'info') : this.entries;
    return html`<section class="card" aria-labelledby="log-title">
      <div class="card-head">
        <h2 id="log-title">Event log</h2>
        <span class="spacer"></span>
        <label class="check">
          <input type="checkbox" .checked=${this._problemsOnly} @change=${(e: Event) => (this._problemsOnly = (e.target as HTMLInputElement).checked)} />
          <span>Problems only</span>
        </label>
        <wg-copy-button .text=${this.#asText(shown)} label="Copy"></wg-copy-button>
        <button type="button" class="small" ?disabled=${this.entries.length === 0} @click=${this.#clear}>Clear</button>
      </div>
      <ol class="list" role="log" aria-live="polite" aria-relevant="additions" aria-label="Events" tabindex="0" @scroll=${this.#onScroll}>
        ${shown.length === 0
          ? html`<li class="empty" style="display:block">${this.entries.length ? 'No problems so far.' : 'Nothing has happened yet.'}</li>`
          : shown.map((e) => this.#renderEntry(e))}
      </ol>
    </section>`;
  }

  #renderEntry(e: LogEntry) {
    const level = e.level === 'info' ? 'info' : e.level === 'warn' ? 'warn' : 'error';
    return html`<li class=${level}>
      <time datetime=${new Date(e.at).toISOString()}>${formatClock(e.at)}</time>
      <span class="lvl ${level}">${level === 'error' ? 'error' : level === 'warn' ? 'warn' : 'info'}</span>
      <div class="msg">
        ${e.message}
        ${e.hints?.length
          ? html`<ul aria-label="What to check">
              ${e.hints.map((h) => html`<li style="display:list-item;padding:0;border:0;background:none">${h}</li>`)}
            </ul>`
          : nothing}
        ${e.detail && Object.keys(e.detail).length
          ? html`<details>
              <summary>Details</summary>
              <pre>${safeJson(e.detail)}</pre>
            </details>`
          : nothing}
      </div>
    </li>`;
  }

  override updated(changed: PropertyValues<this>): void {
    if ((changed.has('entries') || changed.has('_problemsOnly')) && !this.#scrollQueued) {
      // Reading scrollHeight forces a layout; do it once per frame, when the browser lays out
      // anyway, instead of once per batch of events (a connect brings dozens of them).
      this.#scrollQueued = true;
      requestAnimationFrame(() => {
        this.#scrollQueued = false;
        const list = this.renderRoot.querySelector<HTMLElement>('.list');
        if (list && this.#stickToBottom) {
          list.scrollTop = list.scrollHeight;
          this.#autoScrollTop = list.scrollTop;
        }
      });
    }
  }

  #scrollQueued = false;

  /** Where the log last scrolled itself to (the newest entry). */
  #autoScrollTop = 0;

  #onScroll(e: Event) {
    const list = e.currentTarget as HTMLElement;
    // The scroll event for our own scroll arrives a frame later, when more entries may already
    // have made the list taller: that is not the user scrolling up. Only a move above where the
    // log put itself stops the following; scrolling back to the bottom resumes it.
    const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
    const userScrolledUp = list.scrollTop < this.#autoScrollTop - 1;
    this.#stickToBottom = atBottom || !userScrolledUp;
  }

  #clear() {
    this.dispatchEvent(new CustomEvent('wg-clear-log', { bubbles: true, composed: true }));
  }

  #asText(entries: LogEntry[]): string {
    return entries
      .map((e) => {
        const hints = e.hints?.length ? '\n' + e.hints.map((h) => `    - ${h}`).join('\n') : '';
        return `${new Date(e.at).toISOString()} ${e.level.toUpperCase().padEnd(5)} ${e.message}${hints}`;
      })
      .join('\n');
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
customElements.define('wg-event-log', WgEventLog);
