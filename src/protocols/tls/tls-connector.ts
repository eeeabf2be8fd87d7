/**
 * HTTPS for the HTTP client: the {@link TlsConnector} a Session hands to its HttpClient. Binds the
 * TLS client to the session's trust settings and ticket cache, and to the certificate verifier.
 * Loaded with a dynamic `import()` on the first https URL so the TLS code is its own chunk.
 *
 *   HttpClient.open(https) ─▶ connector(tcp, {host, port, insecure})
 *       ─▶ connectTls(tcp, SNI/ALPN, ticket key host:port[#insecure], legacy per host)
 *            └▶ verify: verifyServerCertificates(chain) + verifyHandshakeSignature(leaf, …)
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import type { TcpConnection } from '../../engine/dialer.ts';
import type { TlsConnectParams, TlsConnector } from '../http/http-client.ts';
import { connectTls } from './tls-connection.ts';
import type { TlsEvent, VerificationRequest } from './tls-client.ts';
import { TlsTicketCache } from './tls-ticket-cache.ts';
import { verifyHandshakeSignature, verifyServerCertificates } from './certificate-verifier.ts';
import { TrustStore } from './trust-store.ts';
import { normalizeHost } from './hostname-match.ts';

export interface TlsConnectorSettings {
  /** The trust store certificates are checked against (CAs and pins); none = an empty store (trust nothing). */
  trust: TrustStore | undefined;
  /** Shared across connections so they resume; cleared by the caller when trust changes. */
  ticketCache?: TlsTicketCache;
  /** Hosts (lower-case names or addresses) for which legacy TLS 1.2 suites are enabled. */
  legacyHosts?: ReadonlySet<string>;
  /** Teaching-view events, with the host they belong to. */
  onEvent?: (host: string, port: number, event: TlsEvent) => void;
  /** SSLKEYLOGFILE lines. */
  onKeyLog?: (line: string) => void;
  /** Wall clock for validity checks (default `new Date()`). */
  now?: () => Date;
}

const EMPTY_TRUST = new TrustStore();

/** Checks what the TLS client asks to be checked: the chain, then the server's signature with the leaf key. */
export async function verifyRequest(
  request: VerificationRequest,
  trust: TrustStore | undefined,
  insecure: boolean,
  now: Date,
  legacy = false,
): Promise<unknown> {
  const summary = await verifyServerCertificates(request.chain, { serverName: request.serverName, trust: trust ?? EMPTY_TRUST, now, insecure });
  if (request.signature) {
    const { scheme, signedData, signature } = request.signature;
    // SHA-1 schemes are offered only to legacy hosts; TLS 1.3 binds ECDSA schemes to a curve (RFC 8446 §4.2.3).
    const ok = await verifyHandshakeSignature(request.chain[0]!, scheme, signedData, signature, { allowSha1: legacy || request.legacy, requireCurveMatch: request.tls13 });
    if (!ok) {
      throw new WgwebError(
        ErrorCode.TLS_HANDSHAKE_FAILED,
        `the server ${request.serverName} could not prove it holds the key of its certificate (the handshake signature does not verify); something may be intercepting the connection`,
        { serverName: request.serverName, reason: 'signature' },
      );
    }
  }
  return summary;
}

export function createTlsConnector(settings: TlsConnectorSettings): TlsConnector {
  const tickets = settings.ticketCache ?? new TlsTicketCache();
  // One spelling per host (case, brackets, trailing dot, IPv6 forms), as the trust store keeps them.
  const legacyHosts = new Set([...(settings.legacyHosts ?? [])].map(normalizeHost));
  return async (tcp: TcpConnection, p: TlsConnectParams): Promise<TcpConnection> => {
    const host = p.host.toLowerCase();
    const legacy = legacyHosts.has(normalizeHost(p.host));
    return connectTls(tcp, {
      serverName: p.host,
      alpn: ['http/1.1'],
      legacy,
      ticketCache: tickets,
      // An unchecked session must never be resumed by a checked request.
      ticketKey: `${host}:${p.port}${p.insecure ? '#insecure' : ''}`,
      signal: p.signal,
      onKeyLog: settings.onKeyLog,
      onEvent: settings.onEvent ? (e) => settings.onEvent!(p.host, p.port, e) : undefined,
      verify: (request) => verifyRequest(request, settings.trust, p.insecure, settings.now?.() ?? new Date(), legacy),
    });
  };
}
