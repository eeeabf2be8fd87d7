/**
 * HTTP authentication, client side: reading `WWW-Authenticate` challenges and answering them with
 * `Authorization` for Basic (RFC 7617) and Digest (RFC 7616).
 *
 *   WWW-Authenticate values ──parseChallenges──▶ [{ scheme, params, token68 }]   (RFC 9110 §11.2, §11.6.1)
 *        ──chooseChallenge──▶ the strongest one we can answer (Digest SHA-512-256 > SHA-256 > MD5, then Basic)
 *        ──Authenticator(challenge, credentials)──▶ .authorization(method, uri): the header value
 *          Digest keeps its nonce count (nc) across requests that reuse the nonce (RFC 7616 §3.4).
 *
 * Parsing never throws on what a server sent: malformed parts are skipped. Caller mistakes (a
 * Basic user name with a colon, RFC 7617 §2) are TypeErrors.
 */
import { md5 } from '@noble/hashes/legacy.js';
import { sha256, sha512_256 } from '@noble/hashes/sha2.js';
import { toBase64, toHex, webCryptoRandomBytes } from '../../shared/bytes.ts';

/** One challenge: the scheme (lower case), its parameters (names lower case) or its token68. */
export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
  readonly token68?: string;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** A cursor over one header value. */
class Scanner {
  i = 0;
  constructor(readonly s: string) {}
  get done(): boolean {
    return this.i >= this.s.length;
  }
  peek(): string {
    return this.s[this.i] ?? '';
  }
  skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
  }
  token(): string {
    const start = this.i;
    while (!this.done && TCHAR.test(this.peek())) this.i++;
    return this.s.slice(start, this.i);
  }
  /** RFC 9110 §5.6.4 quoted-string; undefined when unterminated. */
  quoted(): string | undefined {
    this.i++; // opening quote
    let out = '';
    while (!this.done) {
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c === '\\' && !this.done) out += this.s[this.i++];
      else out += c;
    }
    return undefined;
  }
  /** True when a `name =` follows (an auth-param, not the next challenge's scheme). */
  atParam(): boolean {
    const save = this.i;
    const name = this.token();
    this.skipSpace();
    const isParam = name !== '' && this.peek() === '=';
    this.i = save;
    return isParam;
  }
  skipPastComma(): void {
    while (!this.done && this.peek() !== ',') {
      if (this.peek() === '"') this.quoted();
      else this.i++;
    }
    if (this.peek() === ',') this.i++;
  }
}

/**
 * Parses `WWW-Authenticate` (or `Proxy-Authenticate`) values into challenges (RFC 9110 §11.6.1):
 * several challenges per value and several values, parameters with token or quoted-string values,
 * or a token68. Duplicate parameters keep the first; what cannot be parsed is skipped.
 */
export function parseChallenges(values: string | readonly string[]): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  for (const value of typeof values === 'string' ? [values] : values) {
    const s = new Scanner(value);
    for (;;) {
      while (s.peek() === ',' || s.peek() === ' ' || s.peek() === '\t') s.i++;
      if (s.done) break;
      const scheme = s.token();
      if (!scheme) {
        s.skipPastComma();
        continue;
      }
      s.skipSpace();
      const params: Record<string, string> = {};
      let token68: string | undefined;
      const rest = s.s.slice(s.i);
      const t68 = TOKEN68.exec(rest);
      if (t68) {
        const after = rest.slice(t68[0].length).replace(/^[ \t]*/, '');
        // A token68 (Negotiate's or Bearer's blob) stands alone; `name=value` is a parameter.
        if (after === '' || after.startsWith(',')) {
          token68 = t68[0];
          s.i += t68[0].length;
        }
      }
      if (token68 === undefined) {
        while (s.atParam()) {
          const name = s.token().toLowerCase();
          s.skipSpace();
          s.i++; // '='
          s.skipSpace();
          let v: string | undefined;
          if (s.peek() === '"') v = s.quoted();
          else v = s.token();
          if (v !== undefined && !(name in params)) params[name] = v;
          s.skipSpace();
          if (s.peek() !== ',') break;
          // A comma: another parameter of this challenge, or the next challenge.
          const save = s.i;
          s.i++;
          while (s.peek() === ',' || s.peek() === ' ' || s.peek() === '\t') s.i++;
          if (!s.atParam()) {
            s.i = save;
            break;
          }
        }
      }
      out.push(token68 === undefined ? { scheme: scheme.toLowerCase(), params } : { scheme: scheme.toLowerCase(), params, token68 });
      s.skipSpace();
      if (!s.done && s.peek() !== ',') s.skipPastComma();
    }
  }
  return out;
}

/** Digest algorithms (RFC 7616 §6.1) by strength; the -sess variants hash the A1 once per nonce. */
const DIGEST_HASHES: Record<string, (data: Uint8Array) => Uint8Array> = {
  'SHA-512-256': sha512_256,
  'SHA-256': sha256,
  MD5: md5,
};

function digestAlgorithm(c: AuthChallenge): { name: string; hash: (d: Uint8Array) => Uint8Array; sess: boolean } | undefined {
  const raw = (c.params.algorithm ?? 'MD5').toUpperCase();
  const sess = raw.endsWith('-SESS');
  const name = sess ? raw.slice(0, -5) : raw;
  const hash = Object.hasOwn(DIGEST_HASHES, name) ? DIGEST_HASHES[name] : undefined;
  return hash ? { name, hash, sess } : undefined;
}

function digestQop(c: AuthChallenge): 'auth' | 'none' | undefined {
  if (c.params.qop === undefined) return 'none'; // RFC 2069 style; RFC 7616 servers always send qop
  const options = c.params.qop.split(',').map((q) => q.trim().toLowerCase());
  return options.includes('auth') ? 'auth' : undefined; // auth-int would need the body: not offered
}

/** True for a challenge {@link Authenticator} can answer. */
export function canAnswer(c: AuthChallenge): boolean {
  if (c.scheme === 'basic') return true;
  if (c.scheme === 'digest') return c.params.nonce !== undefined && c.params.realm !== undefined && !!digestAlgorithm(c) && digestQop(c) !== undefined;
  return false;
}

/** The strongest challenge we can answer: Digest by algorithm strength, then Basic. */
export function chooseChallenge(challenges: readonly AuthChallenge[]): AuthChallenge | undefined {
  const rank = (c: AuthChallenge): number => {
    if (c.scheme === 'basic') return 1;
    const name = digestAlgorithm(c)!.name;
    return name === 'SHA-512-256' ? 4 : name === 'SHA-256' ? 3 : 2;
  };
  let best: AuthChallenge | undefined;
  for (const c of challenges) if (canAnswer(c) && (!best || rank(c) > rank(best))) best = c;
  return best;
}

/** `Basic base64(user:password)` in UTF-8 (RFC 7617 §2, §2.1). */
export function basicAuthorization(credentials: Credentials): string {
  if (credentials.username.includes(':')) throw new TypeError('a Basic user name cannot contain ":" (RFC 7617 §2)');
  return `Basic ${toBase64(new TextEncoder().encode(`${credentials.username}:${credentials.password}`))}`;
}

/** A quoted-string with `"` and `\` escaped (RFC 9110 §5.6.4). */
function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

export interface AuthenticatorOptions {
  /** Random bytes for the Digest cnonce (default crypto.getRandomValues). */
  random?: (n: number) => Uint8Array;
}

/**
 * Answers one challenge for one set of credentials, request after request (Digest counts `nc` up
 * while the server keeps the nonce; a new challenge needs a new Authenticator).
 */
export class Authenticator {
  readonly challenge: AuthChallenge;
  private readonly credentials: Credentials;
  private readonly random: (n: number) => Uint8Array;
  private nc = 0;
  private sessA1: string | undefined;
  private sessCnonce: string | undefined;

  constructor(challenge: AuthChallenge, credentials: Credentials, options: AuthenticatorOptions = {}) {
    if (!canAnswer(challenge)) throw new TypeError(`cannot answer a ${challenge.scheme} challenge`);
    this.challenge = challenge;
    this.credentials = credentials;
    this.random = options.random ?? webCryptoRandomBytes;
  }

  /** The realm the server named ('' when none). */
  get realm(): string {
    return this.challenge.params.realm ?? '';
  }

  /**
   * The `Authorization` value for a request. `uri` is the request target as sent (origin-form,
   * e.g. `/dir/index.html?x=1`), which Digest covers (RFC 7616 §3.4.3). `cnonce` is for tests.
   */
  authorization(method: string, uri: string, cnonce?: string): string {
    if (this.challenge.scheme === 'basic') return basicAuthorization(this.credentials);
    const c = this.challenge.params;
    const alg = digestAlgorithm(this.challenge)!;
    const qop = digestQop(this.challenge)!;
    const H = (s: string): string => toHex(alg.hash(new TextEncoder().encode(s)));
    const realm = c.realm;
    const nonce = c.nonce;
    this.nc++;
    const nc = this.nc.toString(16).padStart(8, '0');
    const cn = cnonce ?? this.sessCnonce ?? toBase64(this.random(24));
    let ha1: string;
    if (alg.sess) {
      // RFC 7616 §3.4.2: the -sess A1 is computed once, with the first cnonce, for the nonce's life.
      this.sessCnonce ??= cn;
      this.sessA1 ??= H(`${H(`${this.credentials.username}:${realm}:${this.credentials.password}`)}:${nonce}:${this.sessCnonce}`);
      ha1 = this.sessA1;
    } else {
      ha1 = H(`${this.credentials.username}:${realm}:${this.credentials.password}`);
    }
    const ha2 = H(`${method}:${uri}`);
    const response = qop === 'auth' ? H(`${ha1}:${nonce}:${nc}:${cn}:auth:${ha2}`) : H(`${ha1}:${nonce}:${ha2}`);
    const userhash = (c.userhash ?? '').toLowerCase() === 'true';
    const parts: string[] = [];
    if (userhash) parts.push(`username=${quote(H(`${this.credentials.username}:${realm}`))}`);
    else if (/^[\x20-\x7e]*$/.test(this.credentials.username)) parts.push(`username=${quote(this.credentials.username)}`);
    else parts.push(`username*=UTF-8''${encodeURIComponent(this.credentials.username)}`); // RFC 7616 §3.4.4, RFC 8187
    parts.push(`realm=${quote(realm)}`, `uri=${quote(uri)}`);
    if (c.algorithm !== undefined) parts.push(`algorithm=${c.algorithm}`);
    parts.push(`nonce=${quote(nonce)}`);
    if (qop === 'auth') parts.push(`nc=${nc}`, `cnonce=${quote(alg.sess ? this.sessCnonce! : cn)}`, 'qop=auth');
    parts.push(`response=${quote(response)}`);
    if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
    if (userhash) parts.push('userhash=true');
    return `Digest ${parts.join(', ')}`;
  }
}
