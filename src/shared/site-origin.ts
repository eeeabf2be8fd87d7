/**
 * One browser origin per intranet site (#14 item 3): which browse origin frames which intranet
 * origin (scheme, host, port), so the browser's same-origin policy separates two intranet sites'
 * DOM, storage and Service Worker clients as it would separate the sites themselves.
 *
 *   the relay offers (GET /api/browse)           the app picks, per intranet origin
 *   ─────────────────────────────────────────    ──────────────────────────────────────────────────
 *   siteTemplate  https://*.browse.example.com   https://<siteLabel(origin)>.browse.example.com
 *                 (operator: wildcard DNS+cert)  (a stable label: never shared, never reused)
 *   sites         [http://127.0.0.1:P1, …Pn]     SitePool: the origin this intranet origin had
 *                 (loopback pool, npm start)     before, else a free one, else the least recently
 *                                                used one, wiped first (its old site's storage)
 *   neither       (proxy without a wildcard)     the single shared browse origin (today's model)
 *
 * Chromium refuses Service Workers in cross-site frames, so every browse origin must be same-site
 * with the app: another port of the app's host, or a name under the app's registrable domain
 * (measured, docs/browse.md "Isolation model"). Isomorphic: the app picks, the relay checks templates. `<label>.localhost` is cross-site with
 * `localhost` (each is its own site), so `npm start` uses the port pool.
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** Longest readable part of a label (the whole label stays within DNS's 63 octets). */
const READABLE_MAX = 40;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** An intranet origin (`http://10.0.0.5`, `https://nas.corp:8443`) as `URL.origin` writes it. */
function intranetOrigin(origin: string): URL {
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new RangeError(`"${origin}" is not an origin (write it like http://10.0.0.5:8080)`);
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.host || u.origin !== origin) {
    throw new RangeError(`"${origin}" must be an http:// or https:// origin with nothing after the host and port`);
  }
  return u;
}

/**
 * The DNS label of an intranet origin under a browse domain: a readable part (the host, dots and
 * colons as `-`, truncated; `ipv6` for IPv6 addresses) and 16 base32 characters of the SHA-256
 * of the whole origin (80 bits: the readable part is lossy and truncated, the hash keeps two
 * origins apart, also ones chosen to collide). Stable: the same origin always gets the same label,
 * so its storage is found again, and no other origin ever gets it.
 * @throws {RangeError} for anything but an http(s) origin.
 */
export function siteLabel(origin: string): string {
  const u = intranetOrigin(origin);
  let readable = u.hostname.startsWith('[') ? 'ipv6' : u.hostname.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  if (u.port) readable += `-${u.port}`;
  if (u.protocol === 'https:') readable = `s-${readable}`;
  readable = readable.slice(0, READABLE_MAX).replace(/^-+|-+$/g, '');
  const digest = sha256(new TextEncoder().encode(u.origin));
  let bits = 0;
  let value = 0;
  let hash = '';
  for (const byte of digest.subarray(0, 10)) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      hash += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return readable ? `${readable}-${hash}` : hash;
}

/**
 * The browse origin of `origin` under a template such as `https://*.browse.example.com` (the
 * relay's `--browse-domain`).
 * @throws {RangeError} when the template has no single `*.` host label.
 */
export function siteOriginFromTemplate(template: string, origin: string): string {
  if (!SITE_TEMPLATE.test(template)) throw new RangeError(`"${template}" is not a site template (write it like https://*.browse.example.com)`);
  return template.replace('*', siteLabel(origin));
}

/** A site template: scheme, `*.` and a domain, an optional port. */
export const SITE_TEMPLATE = /^https?:\/\/\*\.[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$/;

/** The few Storage methods SitePool keeps its assignments with (the app origin's localStorage). */
export interface SiteStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/** What SitePool.assign answers. */
export interface SiteAssignment {
  /** The browse origin that now stands for the intranet origin. */
  origin: string;
  /**
   * The browse origin stood for another intranet origin before: its storage (localStorage,
   * IndexedDB, caches) must be wiped before this one's pages run there.
   */
  wipe: boolean;
}

const STORE_KEY = 'wgweb.browse.sites';
/** Intranet origins remembered besides the ones holding a pool origin. */
const MAX_ENTRIES = 256;

interface Entry {
  /** Index into the pool, or -1 when it holds none (forgotten when evicted). */
  i: number;
  /** Last use (a counter, not a clock: no time dependence). */
  t: number;
}

/**
 * Assigns a bounded pool of browse origins (the relay's loopback listeners) to intranet origins,
 * least recently used first out. The assignments live in the app origin's localStorage when one is
 * given, so every tab and every reload of the app gives an intranet origin the same browse origin
 * (two tabs must not put two sites on one origin), and an origin handed to another site is known
 * to need wiping.
 */
export class SitePool {
  readonly #pool: readonly string[];
  readonly #store: SiteStore | undefined;
  readonly #key: string;
  #memory: Record<string, Entry> = {};

  constructor(pool: readonly string[], store?: SiteStore) {
    if (pool.length === 0) throw new RangeError('a site pool needs at least one origin');
    this.#pool = [...pool];
    this.#store = store;
    // A pool with other origins (another relay, other ports) starts afresh.
    this.#key = `${STORE_KEY}:${pool.join(' ')}`;
  }

  get size(): number {
    return this.#pool.length;
  }

  /** Whether `origin` is one of the pool's browse origins. */
  has(origin: string): boolean {
    return this.#pool.includes(origin);
  }

  /** The pool's browse origins. */
  get origins(): readonly string[] {
    return this.#pool;
  }

  /**
   * The browse origin for the intranet origin `origin`: the one it had, else one no site holds,
   * else the least recently used site's (which then must be wiped).
   * @throws {RangeError} for anything but an http(s) origin.
   */
  assign(origin: string): SiteAssignment {
    intranetOrigin(origin);
    const table = this.#load();
    const clock = Math.max(0, ...Object.values(table).map((e) => e.t)) + 1;
    const had = table[origin];
    if (had && had.i >= 0 && had.i < this.#pool.length) {
      had.t = clock;
      this.#save(table);
      return { origin: this.#pool[had.i], wipe: false };
    }
    const holders = new Map<number, string>();
    for (const [site, e] of Object.entries(table)) if (e.i >= 0) holders.set(e.i, site);
    let index = this.#pool.findIndex((_, i) => !holders.has(i));
    let wipe = false;
    if (index < 0) {
      // Every origin holds a site: take the least recently used one's.
      let oldest = '';
      for (const [site, e] of Object.entries(table)) if (e.i >= 0 && (oldest === '' || e.t < table[oldest].t)) oldest = site;
      index = table[oldest].i;
      delete table[oldest];
      wipe = true;
    }
    table[origin] = { i: index, t: clock };
    this.#trim(table);
    this.#save(table);
    return { origin: this.#pool[index], wipe };
  }

  #trim(table: Record<string, Entry>): void {
    const sites = Object.keys(table);
    if (sites.length <= MAX_ENTRIES) return;
    sites.sort((a, b) => table[a].t - table[b].t);
    for (const site of sites.slice(0, sites.length - MAX_ENTRIES)) delete table[site];
  }

  #load(): Record<string, Entry> {
    if (!this.#store) return this.#memory;
    try {
      const parsed: unknown = JSON.parse(this.#store.getItem(this.#key) ?? '{}');
      const table: Record<string, Entry> = {};
      if (parsed && typeof parsed === 'object') {
        for (const [site, e] of Object.entries(parsed as Record<string, unknown>)) {
          const entry = e as Partial<Entry> | null;
          if (entry && Number.isSafeInteger(entry.i) && Number.isSafeInteger(entry.t)) table[site] = { i: entry.i!, t: entry.t! };
        }
      }
      return table;
    } catch {
      return {};
    }
  }

  #save(table: Record<string, Entry>): void {
    if (!this.#store) {
      this.#memory = table;
      return;
    }
    try {
      this.#store.setItem(this.#key, JSON.stringify(table));
    } catch {
      // A full or refused store: this tab still works, other tabs may pick differently.
      this.#memory = table;
    }
  }
}
