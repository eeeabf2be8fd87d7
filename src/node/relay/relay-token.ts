/**
 * Signed relay access tokens: JWTs (RFC 7519) in compact JWS form (RFC 7515 §7.1) with HMAC-SHA256
 * ("HS256", RFC 7518 §3.2), minted by `wgweb token` and checked by `wgweb relay --auth signed`.
 *
 *   mintRelayToken(secret, claims) ──▶ base64url(header) . base64url(payload) . base64url(HMAC)
 *   verifyRelayToken(secret, token, nowSeconds)
 *       three parts? header {alg: HS256}? (no "none", no other alg: RFC 8725 §3.1)
 *       ──▶ HMAC matches (constant time)? ──▶ payload JSON with numeric exp? ──▶ exp/nbf against now
 *       ──▶ { claims } or { problem }
 *
 * Claims wgweb reads: `exp` (required: tokens are short-lived), `nbf`, `iat`, `sub` (logged),
 * `jti` (the per-token session cap counts by it), `allow` (endpoints the token may open, in the
 * `--allow` rule syntax, matched against the endpoint as the client names it) and `max_sessions`
 * (sessions the token may hold at once on one relay). Any JWT library that signs HS256 with the
 * same secret can mint them (docs/relay.md, "Authentication").
 *
 * Why no library: verification is only HS256 with one fixed algorithm (which also rules out the
 * algorithm-confusion attacks of generic JWT verifiers, RFC 8725 §2.1); node:crypto does the HMAC.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The claims of a relay token. */
export interface RelayTokenClaims {
  /** Expiry, seconds since the epoch (RFC 7519 §4.1.4). */
  readonly exp: number;
  /** Not before, seconds since the epoch. */
  readonly nbf?: number;
  /** Issued at, seconds since the epoch. */
  readonly iat?: number;
  /** Who the token is for (logged with each session). */
  readonly sub?: string;
  /** A unique id; the per-token session cap counts sessions by it. */
  readonly jti?: string;
  /** Endpoints the token may open (`--allow` rule syntax); absent: any the relay allows. */
  readonly allow?: readonly string[];
  /** Sessions this token may hold at once on one relay; absent: no cap besides the relay's. */
  readonly max_sessions?: number;
}

/** Clock skew tolerated on `exp` and `nbf` (RFC 7519 §4.1.4 allows "some small leeway"). */
export const TOKEN_LEEWAY_SECONDS = 30;

/** Shortest secret accepted: RFC 7518 §3.2 asks for a key at least as long as the hash (32 bytes). */
export const MIN_SECRET_BYTES = 32;

const HEADER = { alg: 'HS256', typ: 'JWT' } as const;

function b64url(bytes: Buffer | string): string {
  return Buffer.from(bytes).toString('base64url');
}

/** Strict base64url (no padding, no other characters), or undefined. */
function unb64url(text: string): Buffer | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  return Buffer.from(text, 'base64url');
}

function sign(secret: Uint8Array, signingInput: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest();
}

/**
 * Checks a secret's length.
 * @throws {RangeError} when it is shorter than {@link MIN_SECRET_BYTES}.
 */
export function checkTokenSecret(secret: Uint8Array): void {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new RangeError(`the token secret has ${secret.length} bytes; use at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 48 > relay.secret)`);
  }
}

/**
 * Mints a token. `jti` defaults to 16 random bytes, `iat` to now.
 * @throws {RangeError} for a short secret or an `exp` that is not a number.
 */
export function mintRelayToken(secret: Uint8Array, claims: RelayTokenClaims, nowSeconds = Math.floor(Date.now() / 1000)): string {
  checkTokenSecret(secret);
  if (!Number.isFinite(claims.exp)) throw new RangeError('a relay token needs a numeric exp');
  const payload = { iat: nowSeconds, jti: b64url(randomBytes(16)), ...claims };
  const input = `${b64url(JSON.stringify(HEADER))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(sign(secret, input))}`;
}

/** The outcome of {@link verifyRelayToken}. */
export type TokenVerification = { readonly ok: true; readonly claims: RelayTokenClaims } | { readonly ok: false; readonly problem: string };

/**
 * Verifies a token's form, signature and validity period. Never throws on the token (it comes from
 * the network); the problem is a short sentence for the close reason and the log.
 */
export function verifyRelayToken(secret: Uint8Array, token: string, nowSeconds: number): TokenVerification {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, problem: 'the token is not a signed JWT' };
  const [h, p, s] = parts;
  const headerBytes = unb64url(h);
  const mac = unb64url(s);
  if (!headerBytes || !mac || !unb64url(p)) return { ok: false, problem: 'the token is not base64url' };
  let header: unknown;
  try {
    header = JSON.parse(headerBytes.toString('utf8'));
  } catch {
    return { ok: false, problem: 'the token header is not JSON' };
  }
  // One algorithm, fixed by the relay, never taken from the token (RFC 8725 §3.1).
  if (typeof header !== 'object' || header === null || (header as { alg?: unknown }).alg !== 'HS256') {
    return { ok: false, problem: 'the token is not signed with HS256' };
  }
  const expected = sign(secret, `${h}.${p}`);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return { ok: false, problem: 'the token signature does not match' };
  let claims: unknown;
  try {
    claims = JSON.parse(unb64url(p)!.toString('utf8'));
  } catch {
    return { ok: false, problem: 'the token payload is not JSON' };
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return { ok: false, problem: 'the token payload is not an object' };
  const c = claims as Record<string, unknown>;
  if (typeof c.exp !== 'number' || !Number.isFinite(c.exp)) return { ok: false, problem: 'the token has no expiry (exp)' };
  if (c.nbf !== undefined && typeof c.nbf !== 'number') return { ok: false, problem: 'the token nbf is not a number' };
  if (c.allow !== undefined && (!Array.isArray(c.allow) || !c.allow.every((a) => typeof a === 'string'))) {
    return { ok: false, problem: 'the token allow claim is not a list of endpoints' };
  }
  if (c.max_sessions !== undefined && !(Number.isInteger(c.max_sessions) && (c.max_sessions as number) >= 1)) {
    return { ok: false, problem: 'the token max_sessions is not a positive integer' };
  }
  if (c.sub !== undefined && typeof c.sub !== 'string') return { ok: false, problem: 'the token sub is not a string' };
  if (c.jti !== undefined && typeof c.jti !== 'string') return { ok: false, problem: 'the token jti is not a string' };
  if (nowSeconds >= c.exp + TOKEN_LEEWAY_SECONDS) return { ok: false, problem: 'the token has expired' };
  if (typeof c.nbf === 'number' && nowSeconds < c.nbf - TOKEN_LEEWAY_SECONDS) return { ok: false, problem: 'the token is not valid yet' };
  return { ok: true, claims: c as unknown as RelayTokenClaims };
}
