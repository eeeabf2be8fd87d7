/**
 * The labelled one-line text field the tools share (address, host, name): monospace, no spell
 * check, capitalisation or autocomplete, since what goes in is an address or a host name.
 * A render helper, not an element, so the input stays in the tool's own shadow root (its label,
 * form submission and tests keep working unchanged).
 */
import { html } from 'lit';

export interface TextFieldOptions {
  id: string;
  label: string;
  value: string;
  placeholder: string;
  onInput: (value: string) => void;
  /** `password` masks a secret (a token); default `text`. */
  type?: 'text' | 'password';
}

/** `<div class="field"><label/><input/></div>` for an address-like value. */
export function renderTextField(o: TextFieldOptions) {
  return html`<div class="field">
    <label for=${o.id}>${o.label}</label>
    <input
      id=${o.id}
      class="mono"
      type=${o.type ?? 'text'}
      .value=${o.value}
      placeholder=${o.placeholder}
      spellcheck="false"
      autocomplete="off"
      autocapitalize="off"
      @input=${(ev: Event) => o.onInput((ev.target as HTMLInputElement).value)}
    />
  </div>`;
}
