/**
 * Styles every wg- component adopts: cards, form controls, buttons, tabs, and the monospace look
 * for keys and addresses. Colours come from the tokens in theme.css.
 */
import { css } from 'lit';

export const sharedStyles = css`
  :host {
    display: block;
    color: var(--wg-text);
    font: 14px/1.5 var(--wg-font);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  [hidden] {
    display: none !important;
  }
  .card {
    background: var(--wg-surface);
    border: 1px solid var(--wg-border);
    border-radius: var(--wg-radius);
    box-shadow: var(--wg-shadow);
  }
  .card-head {
    display: flex;
    align-items: center;
    gap: 0.75rem;
    padding: 0.75rem 1rem;
    border-bottom: 1px solid var(--wg-border);
    min-height: 3.25rem;
  }
  .card-head h2 {
    margin: 0;
    font-size: 0.95rem;
    font-weight: 600;
    letter-spacing: 0.01em;
  }
  .card-head .spacer {
    flex: 1;
  }
  .card-body {
    padding: 1rem;
  }
  .mono,
  code,
  pre,
  kbd {
    font-family: var(--wg-mono);
    font-size: 0.8125rem;
  }
  .muted {
    color: var(--wg-muted);
  }
  .small {
    font-size: 0.8125rem;
  }
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }

  /* Form controls */
  label,
  .label {
    display: block;
    font-weight: 500;
    font-size: 0.8125rem;
    margin-bottom: 0.3rem;
  }
  .field {
    margin-bottom: 0.85rem;
  }
  .field-row {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
    align-items: flex-end;
  }
  .field-row > .field {
    flex: 1 1 8rem;
    min-width: 0;
  }
  .field-row > .field.narrow {
    flex: 0 1 7rem;
  }
  .help {
    color: var(--wg-muted);
    font-size: 0.78rem;
    margin-top: 0.3rem;
  }
  .field-error {
    color: var(--wg-err);
    font-size: 0.78rem;
    margin-top: 0.3rem;
  }
  input[type='text'],
  input[type='url'],
  input[type='number'],
  input[type='password'],
  input:not([type]),
  select,
  textarea {
    width: 100%;
    font: inherit;
    color: var(--wg-text);
    background: var(--wg-surface);
    border: 1px solid var(--wg-border-strong);
    border-radius: var(--wg-radius-sm);
    padding: 0.45rem 0.6rem;
    min-height: 2.25rem;
    transition: border-color 0.12s, box-shadow 0.12s;
  }
  input:not([type='checkbox']):not([type='file']),
  select {
    height: 2.25rem;
  }
  textarea {
    resize: vertical;
    line-height: 1.5;
  }
  input.mono,
  input[type='number'],
  textarea.mono {
    font-family: var(--wg-mono);
    font-size: 0.8125rem;
  }
  input:focus-visible,
  select:focus-visible,
  textarea:focus-visible {
    outline: none;
    border-color: var(--wg-accent);
    box-shadow: var(--wg-focus);
  }
  [aria-invalid='true'] {
    border-color: var(--wg-err) !important;
  }
  input:disabled,
  select:disabled,
  textarea:disabled {
    opacity: 0.6;
    cursor: not-allowed;
  }
  input[type='checkbox'] {
    width: 1rem;
    height: 1rem;
    margin: 0.15rem 0 0;
    accent-color: var(--wg-accent);
    flex: none;
  }
  .check {
    display: flex;
    gap: 0.5rem;
    align-items: flex-start;
    font-weight: 400;
    font-size: 0.8125rem;
  }

  /* Buttons */
  button,
  .button {
    font: inherit;
    font-weight: 500;
    font-size: 0.8125rem;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 0.4rem;
    min-height: 2.25rem;
    padding: 0.4rem 0.9rem;
    border-radius: var(--wg-radius-sm);
    border: 1px solid var(--wg-border-strong);
    background: var(--wg-surface);
    color: var(--wg-text);
    cursor: pointer;
    white-space: nowrap;
    transition: background 0.12s, border-color 0.12s, color 0.12s;
    text-decoration: none;
  }
  button:hover:not(:disabled),
  .button:hover {
    background: var(--wg-surface-2);
  }
  button:focus-visible,
  .button:focus-visible,
  a:focus-visible,
  summary:focus-visible,
  [tabindex]:focus-visible {
    outline: none;
    box-shadow: var(--wg-focus);
  }
  button:disabled {
    opacity: 0.55;
    cursor: not-allowed;
  }
  button.primary {
    background: var(--wg-accent);
    border-color: var(--wg-accent);
    color: var(--wg-on-accent);
  }
  button.primary:hover:not(:disabled) {
    background: var(--wg-accent-hover);
    border-color: var(--wg-accent-hover);
  }
  button.danger {
    color: var(--wg-err);
    border-color: color-mix(in srgb, var(--wg-err) 45%, var(--wg-border));
  }
  button.danger:hover:not(:disabled) {
    background: var(--wg-err-soft);
  }
  button.ghost {
    border-color: transparent;
    background: transparent;
  }
  button.ghost:hover:not(:disabled) {
    background: var(--wg-surface-2);
  }
  button.small {
    min-height: 1.85rem;
    padding: 0.2rem 0.6rem;
    font-size: 0.78rem;
  }
  button.icon {
    padding: 0;
    width: 2.25rem;
  }
  .actions {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }

  /* Tabs (WAI-ARIA tabs pattern; arrow keys handled in code) */
  [role='tablist'] {
    display: flex;
    gap: 0.25rem;
    padding: 0.2rem;
    background: var(--wg-surface-2);
    border: 1px solid var(--wg-border);
    border-radius: var(--wg-radius-sm);
    width: fit-content;
    max-width: 100%;
    /* On a phone the tabs wrap to a second row: a strip that scrolls sideways hid the last tabs
       ("Throu…") with nothing showing that more were there. */
    flex-wrap: wrap;
  }
  [role='tab'] {
    border: 1px solid transparent;
    background: transparent;
    min-height: 1.9rem;
    padding: 0.2rem 0.75rem;
    color: var(--wg-muted);
  }
  [role='tab'][aria-selected='true'] {
    background: var(--wg-surface);
    color: var(--wg-text);
    border-color: var(--wg-border);
    box-shadow: var(--wg-shadow);
  }
  [role='tab']:hover:not([aria-selected='true']) {
    color: var(--wg-text);
    background: transparent;
  }

  /* Status colours */
  .pill {
    display: inline-flex;
    align-items: center;
    gap: 0.4rem;
    padding: 0.1rem 0.6rem;
    border-radius: 999px;
    font-size: 0.75rem;
    font-weight: 600;
    background: var(--wg-surface-2);
    color: var(--wg-muted);
    border: 1px solid var(--wg-border);
    white-space: nowrap;
  }
  .pill::before {
    content: '';
    width: 0.5rem;
    height: 0.5rem;
    border-radius: 50%;
    background: currentColor;
  }
  .pill.ok {
    color: var(--wg-ok);
    background: var(--wg-ok-soft);
    border-color: color-mix(in srgb, var(--wg-ok) 30%, transparent);
  }
  .pill.warn {
    color: var(--wg-warn);
    background: var(--wg-warn-soft);
    border-color: color-mix(in srgb, var(--wg-warn) 30%, transparent);
  }
  .pill.err {
    color: var(--wg-err);
    background: var(--wg-err-soft);
    border-color: color-mix(in srgb, var(--wg-err) 30%, transparent);
  }
  .pill.busy::before {
    animation: pulse 1.2s ease-in-out infinite;
  }
  @keyframes pulse {
    50% {
      opacity: 0.3;
    }
  }
  .alert {
    border-radius: var(--wg-radius-sm);
    padding: 0.6rem 0.8rem;
    border: 1px solid;
    font-size: 0.8125rem;
  }
  .alert.err {
    background: var(--wg-err-soft);
    border-color: color-mix(in srgb, var(--wg-err) 35%, transparent);
  }
  .alert.warn {
    background: var(--wg-warn-soft);
    border-color: color-mix(in srgb, var(--wg-warn) 35%, transparent);
  }
  .alert.info {
    background: var(--wg-accent-soft);
    border-color: color-mix(in srgb, var(--wg-accent) 30%, transparent);
  }
  .alert strong {
    display: block;
    margin-bottom: 0.15rem;
  }
  .alert ul {
    margin: 0.3rem 0 0;
    padding-left: 1.1rem;
  }
  pre.block {
    margin: 0;
    padding: 0.75rem;
    background: var(--wg-surface-2);
    border: 1px solid var(--wg-border);
    border-radius: var(--wg-radius-sm);
    overflow: auto;
    white-space: pre;
    line-height: 1.5;
  }
  .empty {
    color: var(--wg-muted);
    text-align: center;
    padding: 1.5rem 1rem;
    font-size: 0.8125rem;
  }
`;
