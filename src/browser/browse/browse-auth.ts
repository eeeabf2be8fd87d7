/**
 * HTTP authentication for the browse view (#14 item 2): what a browser does for a 401 with
 * `WWW-Authenticate: Basic` (RFC 7617) or `Digest` (RFC 7616), since Chromium shows no login prompt
 * for a response a Service Worker made.
 *
 *   request ──▶ authorization(url, method): the protection space's answer, sent pre-emptively once
 *               the user logged in there (Basic: the same header; Digest: the next nc for the nonce)
 *   401 ──▶ next(url, challenges, sent) ──▶ 'retry' (URL credentials, or a stale Digest nonce: no prompt)
 *                                        └▶ 'ask' (the app shows its login dialog; wrong ones ask again)
 *   login(url, challenge, credentials) ──▶ remembered for this tab, per origin and realm
 *
 * Memory only: the credentials live as long as the app page (one tab) and are never written to
 * storage. One protection space per intranet origin is answered pre-emptively (the realm the user
 * logged in to last), as browsers reuse credentials for the paths under the one that asked.
 */
import { Authenticator, chooseChallenge, parseChallenges, type AuthChallenge, type Credentials } from '../../protocols/http/http-auth.ts';

/** What the login dialog shows: which host asks, for which realm, and whether a try failed. */
export interface CredentialsRequest {
  /** The intranet origin (`http://10.0.0.5:9091`). */
  origin: string;
  /** The realm the server named ('' when none). */
  realm: string;
  /** `basic` or `digest`. */
  scheme: string;
  /** The last credentials sent were refused. */
  failed: boolean;
  /** The user name to prefill (the refused one). */
  username: string;
}

/** What to do with a 401. */
export type BrowseAuthDecision = { action: 'retry' } | { action: 'ask'; request: CredentialsRequest } | { action: 'give-up' };

interface Space {
  realm: string;
  credentials: Credentials;
  authenticator: Authenticator | undefined;
}

/** See the module comment. One per BrowseBackend (one app tab). */
export class BrowseAuth {
  /** By intranet origin: the protection space last logged in to. */
  readonly #spaces = new Map<string, Space>();
  /** Credentials from a URL's userinfo (`http://user:pass@host/`), used on the origin's first 401. */
  readonly #pending = new Map<string, Credentials>();

  /** Credentials a URL carried (as curl and browsers take them): answer the origin's next challenge. */
  rememberUrlCredentials(url: URL): void {
    if (!url.username && !url.password) return;
    this.#pending.set(url.origin, { username: safeDecode(url.username), password: safeDecode(url.password) });
  }

  /** The `Authorization` value to send with a request to `url`, or undefined. */
  authorization(url: URL, method: string): string | undefined {
    const space = this.#spaces.get(url.origin);
    return space?.authenticator?.authorization(method, `${url.pathname}${url.search}`);
  }

  /**
   * What to do about a 401 whose `WWW-Authenticate` values are `challengeValues`, for a request
   * that carried `sent` as Authorization (undefined: none).
   */
  next(url: URL, challengeValues: readonly string[], sent: string | undefined): BrowseAuthDecision {
    const challenge = chooseChallenge(parseChallenges(challengeValues));
    if (!challenge) return { action: 'give-up' };
    const realm = challenge.params.realm ?? '';
    const fromUrl = this.#pending.get(url.origin);
    if (fromUrl) {
      this.#pending.delete(url.origin);
      if (this.#adopt(url, challenge, fromUrl)) return { action: 'retry' };
    }
    const space = this.#spaces.get(url.origin);
    if (space && space.realm === realm) {
      // A Digest nonce the server let expire (RFC 7616 §3.3 stale=TRUE): same credentials, new nonce.
      const stale = challenge.scheme === 'digest' && (challenge.params.stale ?? '').toLowerCase() === 'true';
      // Credentials known for this space but not sent with this request (another tab of the view
      // raced, or the server asked for a fresh nonce): answer without asking.
      if (stale || sent === undefined) {
        if (this.#adopt(url, challenge, space.credentials)) return { action: 'retry' };
      }
    }
    return {
      action: 'ask',
      request: { origin: url.origin, realm, scheme: challenge.scheme, failed: sent !== undefined, username: space?.realm === realm ? space.credentials.username : '' },
    };
  }

  /** The user logged in to `request`'s protection space (the dialog's answer). */
  login(url: URL, challengeValues: readonly string[], credentials: Credentials): boolean {
    const challenge = chooseChallenge(parseChallenges(challengeValues));
    return !!challenge && this.#adopt(url, challenge, credentials);
  }

  /** Forgets every credential (the user cleared them). */
  clear(): void {
    this.#spaces.clear();
    this.#pending.clear();
  }

  /** How many origins have credentials. */
  get size(): number {
    return this.#spaces.size;
  }

  #adopt(url: URL, challenge: AuthChallenge, credentials: Credentials): boolean {
    let authenticator: Authenticator;
    try {
      authenticator = new Authenticator(challenge, credentials);
      // A Basic user name with ':' cannot be sent (RFC 7617 §2): the dialog asks again.
      authenticator.authorization('GET', '/');
      authenticator = new Authenticator(challenge, credentials);
    } catch {
      return false;
    }
    this.#spaces.set(url.origin, { realm: challenge.params.realm ?? '', credentials, authenticator });
    return true;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
