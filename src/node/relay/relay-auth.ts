/**
 * Who may open relay sessions: `wgweb relay --auth none|static|signed` (docs/relay.md, "Authentication").
 *
 *   upgrade ──▶ token = the offered subprotocol `wgweb.token.<T>` (never the URL: logs)
 *           ──▶ none:   everyone (the loopback default)
 *               static: SHA-256(T) in the --token-file set? (reloaded on SIGHUP)
 *               signed: verifyRelayToken(secret, T): HS256, exp/nbf; then the endpoint against its
 *                       `allow` rules; then its `max_sessions` cap (acquire, released at session end)
 *           ──▶ AuthGrant (label for the log, cap key) or a refusal: 4009 no token, 4010 bad token
 *               or endpoint, 4011 over the token's cap
 *
 * Static tokens are kept only as SHA-256 digests, so a lookup's timing says nothing about the
 * tokens themselves, and the log names a token by the first 8 hex digits of its digest.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { WgwebError } from '../../shared/errors.ts';
import { prefixContains, type Endpoint } from '../../shared/ip-address.ts';
import { RelayCloseCode, readRelayToken } from '../../shared/relay-protocol.ts';
import { parseAllowRule, unmapIpv4 } from './destination-policy.ts';
import { checkTokenSecret, verifyRelayToken, type RelayTokenClaims } from './relay-token.ts';
import { tryParseIp } from '../../shared/ip-address.ts';

/** The authentication modes. */
export type AuthMode = 'none' | 'static' | 'signed';

export const AUTH_MODES: readonly AuthMode[] = ['none', 'static', 'signed'];

/** What an accepted token grants one session. */
export interface AuthGrant {
  /** For the log: `static:1a2b3c4d`, `signed:alice`, or `none`. */
  readonly label: string;
  /** Key of the per-token session cap, with the cap; absent when the token has none. */
  readonly cap?: { readonly key: string; readonly max: number };
}

/** The outcome of {@link RelayAuth.check}. */
export type AuthDecision = { readonly ok: true; readonly grant: AuthGrant } | { readonly ok: false; readonly code: number; readonly reason: string };

export interface RelayAuthOptions {
  readonly mode: AuthMode;
  /** static: the file with one token per line (`#` comments and blank lines ignored). */
  readonly tokenFile?: string;
  /** signed: the file whose content (trimmed) is the HMAC secret. */
  readonly secretFile?: string;
  /** signed: the secret itself (tests, embedding) instead of a file. */
  readonly secret?: Uint8Array;
  /** static: the tokens themselves (tests, embedding) instead of a file. */
  readonly tokens?: readonly string[];
  /** Wall clock in ms since the epoch (token expiry); default Date.now. */
  readonly clock?: () => number;
}

function digest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Shortest static token accepted (16 characters of a random base64 string are ~96 bits). */
export const MIN_STATIC_TOKEN_LENGTH = 16;

/**
 * Parses a token file's text into digests.
 * @throws {RangeError} naming the line of a token that is too short or not carriable.
 */
export function parseTokenFile(text: string, name = 'token file'): Set<string> {
  const out = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (line.length < MIN_STATIC_TOKEN_LENGTH) throw new RangeError(`${name} line ${i + 1}: a token needs at least ${MIN_STATIC_TOKEN_LENGTH} characters`);
    if (!/^[A-Za-z0-9._~+\-]+$/.test(line)) throw new RangeError(`${name} line ${i + 1}: use letters, digits and . _ ~ + - only (e.g. openssl rand -hex 24)`);
    out.add(digest(line));
  });
  return out;
}

/** True when an `--allow`-syntax rule covers the endpoint as the client named it. */
export function ruleCoversNamedEndpoint(ruleText: string, endpoint: Endpoint): boolean {
  let rule;
  try {
    rule = parseAllowRule(ruleText);
  } catch {
    return false;
  }
  if (endpoint.port < rule.ports.from || endpoint.port > rule.ports.to) return false;
  if (rule.kind === 'host') return rule.host === endpoint.host.toLowerCase().replace(/\.$/, '');
  const ip = tryParseIp(endpoint.host);
  return ip !== undefined && prefixContains(rule.prefix, unmapIpv4(ip));
}

/** The relay's authentication: one mode, its tokens or secret, and the per-token session counts. */
export class RelayAuth {
  readonly mode: AuthMode;
  private readonly tokenFile: string | undefined;
  private readonly clock: () => number;
  private digests = new Set<string>();
  private readonly secret: Uint8Array | undefined;
  private readonly held = new Map<string, number>();

  /**
   * Loads the token file or secret.
   * @throws {WgwebError} USAGE when a file is missing, unreadable or invalid, or the mode lacks its file.
   */
  constructor(options: RelayAuthOptions) {
    this.mode = options.mode;
    this.clock = options.clock ?? Date.now;
    this.tokenFile = options.tokenFile;
    if (!AUTH_MODES.includes(options.mode)) throw new WgwebError('USAGE', `--auth must be none, static or signed, not "${options.mode}"`);
    if (options.mode === 'static') {
      if (options.tokens) this.digests = new Set(options.tokens.map(digest));
      else if (options.tokenFile) this.reload();
      else throw new WgwebError('USAGE', '--auth static needs --token-file FILE (one token per line)');
    }
    if (options.mode === 'signed') {
      let secret = options.secret;
      if (!secret) {
        if (!options.secretFile) throw new WgwebError('USAGE', '--auth signed needs --token-secret-file FILE');
        secret = readSecretFile(options.secretFile);
      }
      try {
        checkTokenSecret(secret);
      } catch (e) {
        throw new WgwebError('USAGE', `--token-secret-file: ${(e as Error).message}`);
      }
      this.secret = secret;
    }
  }

  /** Static tokens loaded now. */
  get tokenCount(): number {
    return this.digests.size;
  }

  /**
   * Re-reads --token-file (SIGHUP). On any problem the old tokens stay and the error is thrown.
   * @throws {WgwebError} USAGE when the file cannot be read or has an invalid line.
   */
  reload(): number {
    if (this.mode !== 'static' || !this.tokenFile) return this.digests.size;
    let text: string;
    try {
      text = readFileSync(this.tokenFile, 'utf8');
    } catch (e) {
      throw new WgwebError('USAGE', `--token-file ${this.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      this.digests = parseTokenFile(text, `--token-file ${this.tokenFile}`);
    } catch (e) {
      throw new WgwebError('USAGE', (e as Error).message);
    }
    return this.digests.size;
  }

  /**
   * Decides whether the upgrade with this Sec-WebSocket-Protocol header may open a session to
   * `endpoint` (as the client named it). Does not take a cap slot: see {@link acquire}.
   */
  check(protocolHeader: string | undefined, endpoint: Endpoint): AuthDecision {
    const { decision, claims } = this.verify(protocolHeader);
    if (decision.ok && claims?.allow && !claims.allow.some((r) => ruleCoversNamedEndpoint(r, endpoint))) {
      return { ok: false, code: RelayCloseCode.AUTH_FAILED, reason: 'the token does not allow this endpoint' };
    }
    return decision;
  }

  /**
   * Decides whether a request that names no endpoint (the `/speed` test, relay-server.ts) carries
   * an acceptable token: {@link check} without a signed token's `allow` rules, which are about
   * WireGuard endpoints. Its `max_sessions` cap still counts (acquire).
   */
  checkToken(protocolHeader: string | undefined): AuthDecision {
    return this.verify(protocolHeader).decision;
  }

  /** The token checks both share; `claims` of a valid signed token. */
  private verify(protocolHeader: string | undefined): { decision: AuthDecision; claims?: RelayTokenClaims } {
    if (this.mode === 'none') return { decision: { ok: true, grant: { label: 'none' } } };
    const { token, ambiguous } = readRelayToken(protocolHeader);
    if (ambiguous) return { decision: { ok: false, code: RelayCloseCode.AUTH_FAILED, reason: 'more than one token offered' } };
    if (!token) return { decision: { ok: false, code: RelayCloseCode.AUTH_REQUIRED, reason: 'this relay requires an access token' } };
    if (this.mode === 'static') {
      const d = digest(token);
      if (!this.digests.has(d)) return { decision: { ok: false, code: RelayCloseCode.AUTH_FAILED, reason: 'unknown access token' } };
      return { decision: { ok: true, grant: { label: `static:${d.slice(0, 8)}` } } };
    }
    const v = verifyRelayToken(this.secret!, token, Math.floor(this.clock() / 1000));
    if (!v.ok) return { decision: { ok: false, code: RelayCloseCode.AUTH_FAILED, reason: v.problem } };
    const c = v.claims;
    const label = `signed:${(c.sub ?? c.jti ?? '?').slice(0, 64)}`;
    // Without a jti every token is its own key (its signature part).
    const key = c.jti ?? token.slice(token.lastIndexOf('.') + 1);
    return { decision: { ok: true, grant: { label, cap: c.max_sessions ? { key, max: c.max_sessions } : undefined } }, claims: c };
  }

  /** Takes one of the grant's session slots; false when its token is at its cap. */
  acquire(grant: AuthGrant): boolean {
    if (!grant.cap) return true;
    const n = this.held.get(grant.cap.key) ?? 0;
    if (n >= grant.cap.max) return false;
    this.held.set(grant.cap.key, n + 1);
    return true;
  }

  /** Gives back a slot taken by {@link acquire}. */
  release(grant: AuthGrant): void {
    if (!grant.cap) return;
    const n = this.held.get(grant.cap.key) ?? 0;
    if (n <= 1) this.held.delete(grant.cap.key);
    else this.held.set(grant.cap.key, n - 1);
  }
}

/**
 * Reads a secret file: its content without surrounding white space, as bytes.
 * @throws {WgwebError} USAGE when it cannot be read.
 */
export function readSecretFile(file: string): Uint8Array {
  try {
    return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
  } catch (e) {
    throw new WgwebError('USAGE', `cannot read the token secret ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
