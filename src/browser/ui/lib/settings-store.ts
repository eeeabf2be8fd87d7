/**
 * What the UI remembers between visits, in localStorage. Nothing secret is stored by default: the
 * config (with its private key) only when the user ticks "Remember on this device", after a plain
 * warning; unticking deletes it at once. Storage may be missing or full: every access is guarded.
 */

/** The subset of `Storage` used (so tests can pass a Map-backed fake). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = {
  relayUrl: 'wgweb.relayUrl',
  theme: 'wgweb.theme',
  config: 'wgweb.config',
  trust: 'wgweb.trust',
  sshKnownHosts: 'wgweb.sshKnownHosts',
  relayToken: 'wgweb.relayToken',
} as const;

export class SettingsStore {
  readonly #storage: StorageLike | undefined;

  constructor(storage: StorageLike | undefined) {
    this.#storage = storage;
  }

  get relayUrl(): string | undefined {
    return this.#get(KEY.relayUrl) ?? undefined;
  }

  set relayUrl(value: string | undefined) {
    this.#put(KEY.relayUrl, value?.trim() ? value.trim() : undefined);
  }

  get theme(): ThemeChoice {
    const t = this.#get(KEY.theme);
    return t === 'light' || t === 'dark' ? t : 'system';
  }

  set theme(value: ThemeChoice) {
    this.#put(KEY.theme, value === 'system' ? undefined : value);
  }

  /** True when the user opted in to keeping the config (a config is stored). */
  get remembersConfig(): boolean {
    return this.#get(KEY.config) !== null;
  }

  /** The remembered config text, if the user opted in. */
  get rememberedConfig(): string | undefined {
    return this.#get(KEY.config) ?? undefined;
  }

  /** Stores the config (private key included). Returns false if storage refused it. */
  rememberConfig(text: string): boolean {
    return this.#put(KEY.config, text);
  }

  forgetConfig(): void {
    this.#put(KEY.config, undefined);
  }

  /**
   * The remembered HTTPS trust (TrustStore.toJSON() data: imported certificates, host pins), kept
   * under the same opt-in as the config; `undefined` when none or unreadable.
   */
  get rememberedTrust(): unknown {
    return this.#getJson(KEY.trust);
  }

  /** Stores the trust data (call only when the user opted in to remembering). False if refused. */
  rememberTrust(json: unknown): boolean {
    return this.#put(KEY.trust, JSON.stringify(json));
  }

  forgetTrust(): void {
    this.#put(KEY.trust, undefined);
  }

  /**
   * The remembered SSH known hosts (known_hosts lines the user accepted or imported), kept under
   * the same opt-in as the config; `undefined` when none or unreadable.
   */
  get rememberedSshKnownHosts(): string | undefined {
    const j = this.#getJson(KEY.sshKnownHosts) as { lines?: unknown } | undefined;
    return typeof j?.lines === 'string' ? j.lines : undefined;
  }

  /** Stores the known_hosts lines (call only when the user opted in to remembering). False if refused. */
  rememberSshKnownHosts(lines: string): boolean {
    return this.#put(KEY.sshKnownHosts, JSON.stringify({ version: 1, lines }));
  }

  /** The remembered relay access token (a secret: stored only under the config's opt-in). */
  get rememberedRelayToken(): string | undefined {
    return this.#get(KEY.relayToken) ?? undefined;
  }

  /** Stores the relay token (call only when the user opted in); an empty token deletes it. */
  rememberRelayToken(token: string): boolean {
    return this.#put(KEY.relayToken, token || undefined);
  }

  forgetRelayToken(): void {
    this.#put(KEY.relayToken, undefined);
  }

  forgetSshKnownHosts(): void {
    this.#put(KEY.sshKnownHosts, undefined);
  }

  #getJson(key: string): unknown {
    const t = this.#get(key);
    if (t === null) return undefined;
    try {
      return JSON.parse(t);
    } catch {
      return undefined;
    }
  }

  #get(key: string): string | null {
    try {
      return this.#storage?.getItem(key) ?? null;
    } catch {
      return null;
    }
  }

  #put(key: string, value: string | undefined): boolean {
    if (!this.#storage) return false;
    try {
      if (value === undefined) this.#storage.removeItem(key);
      else this.#storage.setItem(key, value);
      return true;
    } catch {
      return false;
    }
  }
}

/** `window.localStorage`, or undefined where reading it throws (sandboxed frames, disabled storage). */
export function browserStorage(): StorageLike | undefined {
  try {
    return globalThis.localStorage ?? undefined;
  } catch {
    return undefined;
  }
}
