/**
 * Why a WireGuard handshake got no answer, in words a user can act on (issue #15 item 6, #18 item 5).
 * What the client can observe through the relay is little, so the facts are ranked:
 *
 *   a response came back but did not authenticate ─▶ 'key-mismatch' (PresharedKey differs, or the
 *       peer's key pair is not the one this config names): the peer knows us, the keys disagree
 *   a cookie reply came back, nothing else        ─▶ 'under-load' (WireGuard paper §5.4.7)
 *   other datagrams came back, no response        ─▶ 'key-mismatch' (something answers there, not for us)
 *   nothing came back at all                      ─▶ 'no-answer': the peer drops initiations it
 *       cannot authenticate without a word (paper §5.1, "silence is a virtue"), so a wrong
 *       PublicKey on either side, nothing listening, and a firewall all look the same from here;
 *       the message names each, with the keys to compare
 *
 * The relay's own failures (refused, full, unreachable) are reported before this, by the Session.
 */

/** What the Session knows about one peer's failed handshake. */
export interface HandshakeFacts {
  /** `host:port` the initiations went to. */
  endpoint: string;
  /** Initiations sent in this attempt series. */
  attempts: number;
  /** Since the first initiation of the series. */
  elapsedMs: number;
  /** This client's public key (what the peer must have as a [Peer]). */
  ourPublicKey: string;
  /** The PublicKey this config names for the peer. */
  peerPublicKey: string;
  /** Datagrams that came back from the endpoint through the relay. */
  datagramsFromEndpoint: number;
  /** Handshake messages that arrived but failed to authenticate (drop reason `handshake-decrypt`). */
  rejectedResponses: number;
  /** A cookie reply arrived (the peer is under load). */
  cookieReply: boolean;
  /** Whether this config sets a PresharedKey for the peer. */
  hasPresharedKey: boolean;
}

export type HandshakeCause = 'key-mismatch' | 'under-load' | 'no-answer';

/** The likely cause and a sentence that says what to check. */
export function diagnoseHandshake(f: HandshakeFacts): { cause: HandshakeCause; message: string } {
  const tries = `${f.attempts} initiation${f.attempts === 1 ? '' : 's'} in ${Math.round(f.elapsedMs / 1000)} s`;
  if (f.rejectedResponses > 0) {
    return {
      cause: 'key-mismatch',
      message:
        `the peer at ${f.endpoint} answered (${tries}), but its response did not authenticate: ` +
        (f.hasPresharedKey
          ? 'the PresharedKey differs between this config and the peer'
          : 'the peer uses a PresharedKey this config lacks (add PresharedKey = to this [Peer])') +
        `, or the peer's key pair is not the one whose PublicKey (${f.peerPublicKey}) this config names`,
    };
  }
  if (f.cookieReply) {
    return {
      cause: 'under-load',
      message: `the peer at ${f.endpoint} is under load and answered only with a cookie reply (${tries}); it should answer the next initiation, which carries the cookie: try again shortly`,
    };
  }
  if (f.datagramsFromEndpoint > 0) {
    return {
      cause: 'key-mismatch',
      message:
        `${f.endpoint} sent ${f.datagramsFromEndpoint} datagram${f.datagramsFromEndpoint === 1 ? '' : 's'} back, but no handshake response to us (${tries}): ` +
        `is it the WireGuard peer whose PublicKey is ${f.peerPublicKey}, and does it have this client's public key ${f.ourPublicKey} as a [Peer]?`,
    };
  }
  return {
    cause: 'no-answer',
    message:
      `${tries} went unanswered, through a relay that works. WireGuard drops what it cannot authenticate without a reply, so check: ` +
      `(1) the peer has this client's public key ${f.ourPublicKey} as a [Peer]; ` +
      `(2) the peer's public key is ${f.peerPublicKey}, as this config says; ` +
      `(3) WireGuard listens at ${f.endpoint} (address and port); ` +
      `(4) no firewall drops UDP to ${f.endpoint}`,
  };
}
