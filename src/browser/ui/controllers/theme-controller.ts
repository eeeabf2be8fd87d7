/**
 * Light/dark theme: follows prefers-color-scheme until the user presses the toggle; the choice is
 * stored (not secret) and applied as data-theme on <html>, which theme.css keys its tokens on.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { SettingsStore, ThemeChoice } from '../lib/settings-store.ts';

export class ThemeController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  readonly #settings: SettingsStore;
  readonly #media: MediaQueryList | undefined;
  #choice: ThemeChoice;
  readonly #onSystemChange = () => this.#host.requestUpdate();

  constructor(host: ReactiveControllerHost, settings: SettingsStore) {
    this.#host = host;
    this.#settings = settings;
    this.#choice = settings.theme;
    this.#media = globalThis.matchMedia?.('(prefers-color-scheme: dark)');
    host.addController(this);
  }

  hostConnected(): void {
    this.#media?.addEventListener('change', this.#onSystemChange);
    this.#apply();
  }

  hostDisconnected(): void {
    this.#media?.removeEventListener('change', this.#onSystemChange);
  }

  /** The theme in effect. */
  get effective(): 'light' | 'dark' {
    if (this.#choice !== 'system') return this.#choice;
    return this.#media?.matches ? 'dark' : 'light';
  }

  /** Flips light/dark; picking what the system prefers goes back to following the system. */
  toggle(): void {
    const next = this.effective === 'dark' ? 'light' : 'dark';
    const system = this.#media?.matches ? 'dark' : 'light';
    this.#choice = next === system ? 'system' : next;
    this.#settings.theme = this.#choice;
    this.#apply();
    this.#host.requestUpdate();
  }

  #apply(): void {
    const root = globalThis.document?.documentElement;
    if (!root) return;
    if (this.#choice === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.#choice;
  }
}
