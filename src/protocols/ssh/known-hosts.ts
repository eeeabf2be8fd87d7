/**
 * Known SSH host keys (OpenSSH sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"), per profile:
 *
 *   importLines(text) ──▶ entries: host patterns (`name`, `[name]:port`, `*`/`?` wildcards,
 *       `!negation`) or hashed names (`|1|salt|HMAC-SHA1(salt, name)`), key type, key blob;
 *       `@revoked` keys always refuse; `@cert-authority` lines are skipped (no certificates here)
 *   check(host, port, key) ──▶ 'match' | 'changed' | 'unknown' (+ the fingerprints on record)
 *   add(host, port, key) ──▶ a plain `host keytype base64` line (what TOFU records)
 *   toLines() / toJSON() / fromJSON() ──▶ persistence is the caller's (opt-in, like the config)
 *   list() / removeAt(i) ──▶ what a UI shows (hosts, type, fingerprint) and removes, hashed lines too
 *
 * A host known with a different key of the same type, or only with keys of other types, is
 * 'changed': the caller refuses hard (SSH_HOST_KEY_CHANGED) rather than ask.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { fromBase64, toBase64 } from '../../shared/bytes.ts';
import { fingerprint, parsePublicKey, type SshPublicKey } from './ssh-public-key.ts';

export interface KnownHostEntry {
  /** Comma-separated patterns, or a hashed name `|1|salt|hash`. */
  readonly hosts: string;
  readonly type: string;
  readonly blob: Uint8Array;
  readonly revoked: boolean;
}

export type KnownHostStatus = 'match' | 'changed' | 'unknown' | 'revoked';

export interface KnownHostResult {
  status: KnownHostStatus;
  /** Fingerprints on record for this host (for the refusal message). */
  known: string[];
}

/** The name OpenSSH looks up: `host` for port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port = 22): string {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return re.test(name);
}

function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (!salt || !hash) return false;
    try {
      const mac = hmac(sha1, fromBase64(salt), new TextEncoder().encode(name));
      return toBase64(mac) === hash;
    } catch {
      return false;
    }
  }
  let matched = false;
  for (const p of hosts.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), name)) return false;
    } else if (globMatch(p, name)) matched = true;
  }
  return matched;
}

/** A known-hosts list. */
export class KnownHosts {
  private entries: KnownHostEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  /**
   * Adds the lines of a known_hosts file. Returns how many keys were added and the lines skipped
   * (with why), so the UI can say what it did not understand.
   */
  importLines(text: string): { added: number; skipped: { line: number; reason: string }[] } {
    if (typeof text !== 'string') throw new TypeError('importLines(text): text must be a string');
    let added = 0;
    const skipped: { line: number; reason: string }[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const parts = line.split(/\s+/);
      let marker = '';
      if (parts[0]!.startsWith('@')) marker = parts.shift()!;
      if (marker === '@cert-authority') return void skipped.push({ line: i + 1, reason: 'certificate authorities are not supported' });
      if (marker && marker !== '@revoked') return void skipped.push({ line: i + 1, reason: `unknown marker ${marker}` });
      const [hosts, type, b64] = parts;
      if (!hosts || !type || !b64) return void skipped.push({ line: i + 1, reason: 'expected "hosts keytype base64"' });
      let blob: Uint8Array;
      try {
        blob = fromBase64(b64);
      } catch {
        return void skipped.push({ line: i + 1, reason: 'the key is not valid base64' });
      }
      const key = parsePublicKey(blob);
      if (!key || key.type !== type) return void skipped.push({ line: i + 1, reason: `unsupported or malformed ${type} key` });
      if (this.entries.some((e) => e.hosts === hosts && e.revoked === (marker === '@revoked') && sameBlob(e.blob, blob))) return;
      this.entries.push({ hosts, type, blob: key.blob, revoked: marker === '@revoked' });
      added++;
    });
    return { added, skipped };
  }

  /** Looks `host:port` up for `key`. */
  check(host: string, port: number, key: SshPublicKey): KnownHostResult {
    const name = knownHostName(host, port);
    const mine = this.entries.filter((e) => hostMatches(e.hosts, name));
    if (mine.some((e) => e.revoked && sameBlob(e.blob, key.blob))) return { status: 'revoked', known: [] };
    const valid = mine.filter((e) => !e.revoked);
    const known = valid.map((e) => fingerprint(e.blob));
    if (valid.some((e) => sameBlob(e.blob, key.blob))) return { status: 'match', known };
    return { status: valid.length ? 'changed' : 'unknown', known };
  }

  /** Key types on record for a host (the client offers those host key algorithms first). */
  knownTypes(host: string, port: number): string[] {
    const name = knownHostName(host, port);
    return [...new Set(this.entries.filter((e) => !e.revoked && hostMatches(e.hosts, name)).map((e) => e.type))];
  }

  /** Records `key` for `host:port` (trust on first use, or the user's explicit choice). */
  add(host: string, port: number, key: SshPublicKey): void {
    const hosts = knownHostName(host, port);
    if (this.entries.some((e) => e.hosts === hosts && !e.revoked && sameBlob(e.blob, key.blob))) return;
    this.entries.push({ hosts, type: key.type, blob: key.blob, revoked: false });
  }

  /** Forgets every key recorded for `host:port` exactly (not patterns or hashed lines). */
  remove(host: string, port: number): number {
    const hosts = knownHostName(host, port);
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.hosts !== hosts);
    return before - this.entries.length;
  }

  /** The entries in order, with each key's SHA256 fingerprint (what `ssh-keygen -l` prints). */
  list(): { hosts: string; type: string; fingerprint: string; revoked: boolean; line: string }[] {
    return this.entries.map((e) => ({ hosts: e.hosts, type: e.type, fingerprint: fingerprint(e.blob), revoked: e.revoked, line: lineOf(e) }));
  }

  /** Forgets the entry at `index` of {@link list} (any entry, hashed or pattern lines included). */
  removeAt(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.entries.length) throw new RangeError(`removeAt(${index}): no such entry (0..${this.entries.length - 1})`);
    this.entries.splice(index, 1);
  }

  /** In known_hosts format. */
  toLines(): string {
    return this.entries.map((e) => lineOf(e) + '\n').join('');
  }

  toJSON(): { version: 1; lines: string } {
    return { version: 1, lines: this.toLines() };
  }

  static fromJSON(json: unknown): KnownHosts {
    const k = new KnownHosts();
    const lines = (json as { lines?: unknown } | null)?.lines;
    if (typeof lines === 'string') k.importLines(lines);
    return k;
  }
}

function lineOf(e: KnownHostEntry): string {
  return `${e.revoked ? '@revoked ' : ''}${e.hosts} ${e.type} ${toBase64(e.blob)}`;
}

function sameBlob(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
