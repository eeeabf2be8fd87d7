/**
 * HTML for the intranet site without a template engine: a tagged template that escapes every
 * interpolated value unless it is already {@link SafeHtml} (built by this same tag), so a
 * visitor's guestbook entry can never become markup.
 *
 *   html`<p>${name}</p>` ──▶ SafeHtml("<p>&lt;b&gt;…</p>")     arrays are joined, null/false vanish
 */
import { escapeHtml } from '../../../shared/escape-html.ts';

/** Markup known to be safe (built by {@link html} or {@link raw}). */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.text;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** The tag: `html\`<b>${text}</b>\``. */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Trusted markup written in this code base (SVG drawings), never input. */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}
