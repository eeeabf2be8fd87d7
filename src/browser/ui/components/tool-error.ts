/**
 * The failure box every tool panel shows under its results: the error's message and the hints
 * for its code (lib/error-hints.ts), as one `role="alert"`.
 */
import { html, nothing, type TemplateResult } from 'lit';
import type { ToolError } from '../controllers/tool-run-controller.ts';
import { hintsForError } from '../lib/error-hints.ts';

/** The alert for `error`, or nothing when there is none. */
export function renderToolError(error: ToolError | undefined): TemplateResult | typeof nothing {
  if (!error) return nothing;
  const hints = hintsForError(error.code);
  return html`<div class="alert err error" role="alert">
    ${error.message}
    ${hints.length ? html`<ul>${hints.map((h) => html`<li>${h}</li>`)}</ul>` : nothing}
  </div>`;
}
