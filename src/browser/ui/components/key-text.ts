/**
 * A base64 key (44 characters) on one line at any width (#18: on a phone the public key wrapped
 * over three lines): monospace, and when the line is too narrow the middle is elided while the
 * last 8 characters stay, so the key is still recognisable at both ends. The full key stays in the
 * text (selection, copy, screen readers) and in the title.
 *
 *   renderKey(key, 'testid')  → <span class="key"><span class="head">…</span><span class="tail">…</span></span>
 *   keyStyles                  the CSS, adopted by the component that renders it
 */
import { css, html, nothing } from 'lit';

/** Characters kept at the end when the key is elided. */
const TAIL = 8;

export const keyStyles = css`
  .key {
    display: inline-flex;
    min-width: 0;
    max-width: 100%;
    white-space: nowrap;
    font-family: var(--wg-mono);
  }
  .key .head {
    overflow: hidden;
    text-overflow: ellipsis;
    min-width: 1ch;
  }
  .key .tail {
    flex: none;
  }
`;

/** The key as two spans: a head that shrinks with an ellipsis, and the last characters. */
export function renderKey(key: string, testId?: string) {
  return html`<span class="key" title=${key} data-testid=${testId ?? nothing}><span class="head">${key.slice(0, -TAIL)}</span><span class="tail">${key.slice(-TAIL)}</span></span>`;
}
