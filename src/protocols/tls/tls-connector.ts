/**
 * HTTPS for the HTTP client: the {@link TlsConnector} a Session hands to its HttpClient. Binds the
 * TLS client to the session's trust settings and ticket cache, and to the certificate verifier.
 * Loaded with a dynamic `import()` on the first https URL so the TLS code is its own chunk.
 *
 *   HttpClient.open(https) ─▶ connector(tcp, {host, port, insecure})
 *       ─▶ connectTls(tcp, SNI/ALPN, ticket key host:port[#insecure], legacy per host)
 *            └▶ verify: verifyServerCertificates(chain) + verifyHandshakeSignature(leaf, …)
 *                 └▶ teaching event: certificate-verified (subject, issuer, how it is trusted) or
 *                    certificate-refused (the reason), between the client's certificate and established events
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import type { TcpConnection } from '../../engine/dialer.ts';
import type { TlsConnectParams, TlsConnector } from '../http/http-client.ts';
import { connectTls } from './tls-connection.ts';
import type { TlsEvent, VerificationRequest } from './tls-client.ts';
import { TlsTicketCache } from './tls-ticket-cache.ts';
import { verifyHandshakeSignature, verifyServerCertificates, type CertificateSummary } from './certificate-verifier.ts';
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

/**
 * How a certificate that passed was trusted, in words: the user's exceptions first, as the
 * verifier decides them (insecure, then a pin, then an imported certificate, else a CA path).
 */
function trustVerdict(trust: TrustStore | undefined, host: string, insecure: boolean, leaf: CertificateSummary): string {
  const h = normalizeHost(host);
  if (insecure || trust?.isInsecure(h)) return 'not checked (insecure)';
  if (trust?.pinOf(h) !== undefined) return 'pinned (trusted on first use)';
  if (trust?.isTrustedCertificate(leaf.sha256)) return 'trusted (imported certificate)';
  return 'verified (chain to a trusted CA)';
}

/** The teaching event for a verification outcome (the TLS 1.3 certificate is encrypted on the wire: only we know it). */
export function certificateEvent(outcome: { leaf: CertificateSummary; verdict: string } | { error: unknown }): TlsEvent {
  if ('leaf' in outcome) {
    const { leaf, verdict } = outcome;
    return {
      kind: 'certificate-verified',
      text: `Certificate: ${leaf.subject}, issued by ${leaf.issuer}, ${verdict}`,
      detail: { subject: leaf.subject, issuer: leaf.issuer, verdict },
    };
  }
  const e = outcome.error;
  const leaf = e instanceof WgwebError ? (e.detail?.certificate as CertificateSummary | undefined) : undefined;
  const code = e instanceof WgwebError ? e.code : 'TLS_CERT_INVALID';
  const why = e instanceof Error ? e.message : String(e);
  return {
    kind: 'certificate-refused',
    text: `Certificate${leaf ? `: ${leaf.subject}, issued by ${leaf.issuer},` : ''} refused (${code}): ${why}`,
    warn: true,
    detail: { ...(leaf ? { subject: leaf.subject, issuer: leaf.issuer } : {}), verdict: 'refused', code },
  };
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
      verify: async (request) => {
        try {
          const leaf = (await verifyRequest(request, settings.trust, p.insecure, settings.now?.() ?? new Date(), legacy)) as CertificateSummary;
          settings.onEvent?.(p.host, p.port, certificateEvent({ leaf, verdict: trustVerdict(settings.trust, p.host, p.insecure, leaf) }));
          return leaf;
        } catch (error) {
          settings.onEvent?.(p.host, p.port, certificateEvent({ error }));
          throw error;
        }
      },
    });
  };
}
