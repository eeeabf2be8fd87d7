/**
 * The certificate decision for one TLS connection: is this server chain trusted for `serverName`?
 * And does the server's handshake signature verify with its certificate's key?
 *
 * Flow of {@link verifyServerCertificates}:
 *   decode the chain (TLS_CERT_INVALID if the leaf is unreadable; unreadable extras are ignored) →
 *   insecure (per call, or per host in the store) → accept →
 *   a TOFU pin for the host → accept exactly the pinned certificate, else TLS_PIN_CHANGED →
 *   a certificate the user imported as itself → dates, host name (CN allowed when no SAN) →
 *   RFC 5280 path to an imported CA (x509-path.ts) → host name from SANs only (hostname-match.ts).
 * Every rejection is a WgwebError whose `detail.certificate` summarises the leaf for the TOFU prompt
 * (`detail.reason` says what failed, `detail.hostnameMatches` whether the name would have matched).
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import { hostnameMatches, normalizeHost } from './hostname-match.ts';
import { schemeAlgorithm, verifySignature } from './signature-verify.ts';
import type { TrustStore } from './trust-store.ts';
import { buildAndValidatePath, type PathFailure } from './x509-path.ts';
import { formatFingerprint, parseCertificate, X509ParseError, type X509Certificate } from './x509-certificate.ts';
import { formatIp } from '../../shared/ip-address.ts';

export interface VerifyOptions {
  /** The host name or IP literal the user asked for (SNI name / URL host). */
  serverName: string;
  trust: TrustStore;
  now: Date;
  /** Skip every check (curl -k); the summary is still returned. */
  insecure?: boolean;
}

/** What the UI shows about a certificate (TOFU prompt, error details, the handshake view). */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** SHA-256 of the DER, lower-case hex (format with {@link formatFingerprint} for display). */
  sha256: string;
  /** `DNS:name` / `IP:addr` entries. */
  subjectAltNames: string[];
}

/** The summary of a decoded certificate. */
export function summarizeCertificate(c: X509Certificate): CertificateSummary {
  return {
    subject: c.subject,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    sha256: c.sha256,
    subjectAltNames: [...c.dnsNames.map((n) => `DNS:${n}`), ...c.ipAddresses.map((a) => `IP:${formatIp(a)}`)],
  };
}

function reject(code: ErrorCode, message: string, leaf: CertificateSummary, detail: Record<string, unknown> = {}): never {
  throw new WgwebError(code, message, { certificate: leaf, ...detail });
}

function failureError(f: PathFailure, host: string, leaf: CertificateSummary, hostOk: boolean): never {
  const trustHint = `import the CA that issued it (Trusted certificates), or trust this certificate for ${host} after checking its fingerprint ${formatFingerprint(leaf.sha256)}`;
  const detail = { reason: f.reason, failing: summarizeCertificate(f.certificate), hostnameMatches: hostOk };
  switch (f.kind) {
    case 'untrusted':
      return reject(ErrorCode.TLS_CERT_UNTRUSTED, `The certificate of ${host} is not trusted: ${f.reason}. To continue, ${trustHint}.`, leaf, detail);
    case 'expired':
      return reject(ErrorCode.TLS_CERT_EXPIRED, `The certificate of ${host} is out of date: ${f.reason}. Renew it on the server, or check this device's clock.`, leaf, detail);
    case 'not-yet-valid':
      return reject(ErrorCode.TLS_CERT_NOT_YET_VALID, `The certificate of ${host} is not valid yet: ${f.reason}. Check this device's clock and the server's certificate dates.`, leaf, detail);
    case 'invalid':
      return reject(ErrorCode.TLS_CERT_INVALID, `The certificate of ${host} was refused: ${f.reason}. The server needs a correctly issued certificate.`, leaf, detail);
  }
}

/**
 * Decides whether `chainDer` (leaf first, as in the TLS Certificate message) is trusted for
 * `o.serverName`. Resolves with the leaf's summary.
 * @throws {WgwebError} TLS_CERT_INVALID, TLS_CERT_UNTRUSTED, TLS_CERT_EXPIRED, TLS_CERT_NOT_YET_VALID,
 *   TLS_HOSTNAME_MISMATCH or TLS_PIN_CHANGED, with `detail.certificate` (the leaf's summary).
 */
export async function verifyServerCertificates(chainDer: readonly Uint8Array[], o: VerifyOptions): Promise<CertificateSummary> {
  const host = normalizeHost(o.serverName);
  if (chainDer.length === 0) {
    throw new WgwebError(ErrorCode.TLS_CERT_INVALID, `${host} sent no certificate. The server must present one for HTTPS.`, {});
  }
  let leaf: X509Certificate;
  try {
    leaf = parseCertificate(chainDer[0]);
  } catch (e) {
    if (!(e instanceof X509ParseError)) throw e;
    throw new WgwebError(ErrorCode.TLS_CERT_INVALID, `The certificate of ${host} cannot be read (${e.message}). The server needs a well-formed X.509 certificate.`, {});
  }
  const summary = summarizeCertificate(leaf);
  if (o.insecure || o.trust.isInsecure(host)) return summary;

  const pin = o.trust.pinOf(host);
  if (pin !== undefined) {
    if (pin === leaf.sha256) return summary;
    reject(
      ErrorCode.TLS_PIN_CHANGED,
      `The certificate of ${host} CHANGED since you trusted it (was ${formatFingerprint(pin)}, now ${formatFingerprint(leaf.sha256)}). ` +
        `This can be an attack. Only if the server's administrator confirms the new fingerprint, remove the old pin for ${host} and trust the new certificate.`,
      summary,
      { pinned: pin },
    );
  }

  if (o.trust.isTrustedCertificate(leaf.sha256)) {
    const now = o.now.getTime();
    if (now > leaf.notAfter.getTime()) failureError({ kind: 'expired', reason: `it expired on ${leaf.notAfter.toISOString()}`, certificate: leaf }, host, summary, true);
    if (now < leaf.notBefore.getTime()) failureError({ kind: 'not-yet-valid', reason: `it is not valid before ${leaf.notBefore.toISOString()}`, certificate: leaf }, host, summary, true);
    if (!hostnameMatches(leaf, host, true)) hostnameError(leaf, host, summary);
    return summary;
  }

  const pool: X509Certificate[] = [];
  for (const der of chainDer.slice(1)) {
    try {
      pool.push(parseCertificate(der));
    } catch (e) {
      // An unreadable extra certificate cannot help build a path; ignore it (the path may not need it).
      if (!(e instanceof X509ParseError)) throw e;
    }
  }
  const hostOk = hostnameMatches(leaf, host, false);
  const r = await buildAndValidatePath(leaf, pool, o.trust.anchors(), o.now);
  if (!r.ok) failureError(r.failure, host, summary, hostOk);
  if (!hostOk) hostnameError(leaf, host, summary);
  return summary;
}

function hostnameError(leaf: X509Certificate, host: string, summary: CertificateSummary): never {
  const names = summary.subjectAltNames.length ? summary.subjectAltNames.join(', ') : `no subjectAltName (CN: ${leaf.commonNames.join(', ') || 'none'})`;
  return reject(
    ErrorCode.TLS_HOSTNAME_MISMATCH,
    `The certificate presented by ${host} is for other names (${names}). Use one of those names in the URL, or have the server's certificate reissued with ${host} in its subjectAltName.`,
    summary,
    { reason: 'host name mismatch', hostnameMatches: false },
  );
}

/** Options for {@link verifyHandshakeSignature}. */
export interface HandshakeSignatureOptions {
  /** Accept rsa_pkcs1_sha1 / ecdsa_sha1 (TLS 1.2 legacy appliances only; off by default). */
  allowSha1?: boolean;
  /** TLS 1.3 binds ECDSA schemes to a curve (RFC 8446 §4.2.3); TLS 1.2 does not. Default false. */
  requireCurveMatch?: boolean;
}

/**
 * Verifies a TLS CertificateVerify (1.3) or ServerKeyExchange (1.2) signature made with the key of
 * `leafDer` under SignatureScheme `scheme`. `signedData` is exactly the bytes the scheme signs (the
 * caller builds the RFC 8446 §4.4.3 context string or the RFC 5246 randoms+params).
 * @returns false for an unknown/refused scheme, a key that does not fit it, or a bad signature.
 */
export async function verifyHandshakeSignature(
  leafDer: Uint8Array,
  scheme: number,
  signedData: Uint8Array,
  signature: Uint8Array,
  options: HandshakeSignatureOptions = {},
): Promise<boolean> {
  const s = schemeAlgorithm(scheme);
  if (!s || (s.legacy && !options.allowSha1)) return false;
  let leaf: X509Certificate;
  try {
    leaf = parseCertificate(leafDer);
  } catch (e) {
    if (e instanceof X509ParseError) return false;
    throw e;
  }
  const key = leaf.publicKey;
  // RFC 8446 §4.2.3: rsa_pss_rsae_* need an rsaEncryption key, rsa_pss_pss_* an RSASSA-PSS key.
  if (s.alg.kind === 'rsa-pss' && key.kind === 'rsa' && (key.pssOnly === true) !== (s.pssKey === true)) return false;
  if (options.requireCurveMatch && s.curve && (leaf.publicKey.kind !== 'ec' || leaf.publicKey.curve !== s.curve)) return false;
  return verifySignature(leaf, s.alg, signedData, signature);
}
