/**
 * What the user trusts for HTTPS inside the tunnel: imported certificates (internal CAs, or a
 * server's own self-signed certificate trusted as exactly that certificate), trust-on-first-use pins
 * per host (SHA-256 of the certificate, like SSH known_hosts), hosts marked insecure, and hosts
 * allowed legacy TLS 1.2 (RSA key exchange, CBC, SHA-1; a per-host opt-in for old appliances).
 *
 * Flow: `addPem` decodes every CERTIFICATE block of pasted text or a file → each becomes an entry
 * keyed by its SHA-256 → the verifier asks `anchors()` (every imported certificate, which path
 * validation then holds to CA rules) and `isTrustedCertificate()` (exact match). `pin`/`pinOf` hold
 * one fingerprint per host. `toJSON`/`fromJSON` round-trip everything as plain data (PEM text), so
 * the store can live with the profile under the same opt-in persistence as the config.
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import { normalizeHost } from './hostname-match.ts';
import { parsePemCertificates, toPem } from './pem.ts';
import { parseCertificate, X509ParseError, type X509Certificate } from './x509-certificate.ts';

/** What the UI lists for one imported certificate. */
export interface TrustedCertificateInfo {
  sha256: string;
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  /** A CA certificate (basicConstraints CA:TRUE): trusted as an issuer; else trusted as itself. */
  isCa: boolean;
  /** Subject and issuer are the same name. */
  selfSigned: boolean;
}

/** The plain-data form of a {@link TrustStore} (version 1). */
export interface TrustStoreJson {
  version: 1;
  certificates: string[];
  pins: Record<string, string>;
  insecureHosts: string[];
  /** Hosts allowed legacy TLS (absent in data saved before it existed). */
  legacyTlsHosts?: string[];
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

function info(c: X509Certificate): TrustedCertificateInfo {
  return {
    sha256: c.sha256,
    subject: c.subject,
    issuer: c.issuer,
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    isCa: c.basicConstraints?.cA === true,
    selfSigned: c.subjectKey === c.issuerKey,
  };
}

export class TrustStore {
  readonly #certs = new Map<string, X509Certificate>();
  readonly #pins = new Map<string, string>();
  readonly #insecure = new Set<string>();
  readonly #legacy = new Set<string>();
  readonly #listeners = new Set<() => void>();

  /**
   * Imports every certificate in PEM `pem` (one, or a bundle). Already-present ones are kept once.
   * @returns the certificates found (new and already present), in order.
   * @throws {WgwebError} `TLS_CERT_INVALID` when the text holds no readable certificate.
   */
  addPem(pem: string): TrustedCertificateInfo[] {
    if (typeof pem !== 'string') throw new TypeError('addPem expects PEM text');
    const ders = parsePemCertificates(pem);
    const out: TrustedCertificateInfo[] = [];
    let bad = 0;
    for (const der of ders) {
      try {
        out.push(this.#add(der));
      } catch (e) {
        if (!(e instanceof X509ParseError)) throw e;
        bad++;
      }
    }
    if (out.length === 0) {
      throw new WgwebError(
        ErrorCode.TLS_CERT_INVALID,
        ders.length === 0
          ? 'No certificate found: paste PEM text that contains "-----BEGIN CERTIFICATE-----" (a .crt/.pem file; convert DER files with "openssl x509 -inform der")'
          : `The certificate${ders.length > 1 ? 's' : ''} in this text could not be read (${bad} damaged); export it again as PEM`,
      );
    }
    this.#changed();
    return out;
  }

  /** Imports one DER certificate. @throws {WgwebError} `TLS_CERT_INVALID` when it cannot be decoded. */
  addDer(der: Uint8Array): TrustedCertificateInfo {
    try {
      const i = this.#add(der);
      this.#changed();
      return i;
    } catch (e) {
      if (e instanceof X509ParseError) throw new WgwebError(ErrorCode.TLS_CERT_INVALID, `This is not a readable X.509 certificate: ${e.message}`);
      throw e;
    }
  }

  #add(der: Uint8Array): TrustedCertificateInfo {
    const c = parseCertificate(der);
    if (!this.#certs.has(c.sha256)) this.#certs.set(c.sha256, c);
    return info(c);
  }

  /** Removes an imported certificate by SHA-256 (hex); true when it was there. */
  remove(sha256Hex: string): boolean {
    const ok = this.#certs.delete(sha256Hex.toLowerCase());
    if (ok) this.#changed();
    return ok;
  }

  /** Imported certificates, in import order. */
  list(): TrustedCertificateInfo[] {
    return [...this.#certs.values()].map(info);
  }

  /** Every imported certificate, as candidate trust anchors for path validation. */
  anchors(): X509Certificate[] {
    return [...this.#certs.values()];
  }

  /** True when exactly this certificate (by SHA-256) was imported. */
  isTrustedCertificate(sha256Hex: string): boolean {
    return this.#certs.has(sha256Hex.toLowerCase());
  }

  /**
   * Pins `host` to the certificate with SHA-256 `sha256Hex` (trust on first use). Replaces an old pin.
   * @throws {RangeError} when the fingerprint is not 64 hex digits (colons allowed) or the host is empty.
   */
  pin(host: string, sha256Hex: string): void {
    const h = normalizeHost(host);
    if (!h) throw new RangeError('pin needs a host name');
    const fp = sha256Hex.replace(/:/g, '').toLowerCase();
    if (!SHA256_HEX.test(fp)) throw new RangeError(`"${sha256Hex}" is not a SHA-256 fingerprint (64 hex digits)`);
    this.#pins.set(h, fp);
    this.#changed();
  }

  /** The pinned SHA-256 (lower-case hex) for `host`, if any. */
  pinOf(host: string): string | undefined {
    return this.#pins.get(normalizeHost(host));
  }

  /** Forgets the pin for `host`; true when there was one. */
  unpin(host: string): boolean {
    const ok = this.#pins.delete(normalizeHost(host));
    if (ok) this.#changed();
    return ok;
  }

  /** All pins as `[host, sha256]`. */
  pins(): [string, string][] {
    return [...this.#pins.entries()];
  }

  /** Marks `host` as insecure (certificate checks skipped) or clears that. */
  setInsecure(host: string, insecure: boolean): void {
    const h = normalizeHost(host);
    if (insecure) this.#insecure.add(h);
    else this.#insecure.delete(h);
    this.#changed();
  }

  /** True when the user turned certificate checks off for `host`. */
  isInsecure(host: string): boolean {
    return this.#insecure.has(normalizeHost(host));
  }

  /**
   * Allows `host` legacy TLS 1.2 (RSA key exchange without forward secrecy, CBC suites, SHA-1
   * signatures, no extended master secret) or takes that back. The user's choice, per host.
   * @throws {RangeError} when the host is empty.
   */
  setLegacyTls(host: string, allow: boolean): void {
    const h = normalizeHost(host);
    if (!h) throw new RangeError('setLegacyTls needs a host name');
    if (allow) this.#legacy.add(h);
    else this.#legacy.delete(h);
    this.#changed();
  }

  /** True when the user allowed legacy TLS for `host`. */
  allowsLegacyTls(host: string): boolean {
    return this.#legacy.has(normalizeHost(host));
  }

  /** Hosts allowed legacy TLS, in the order they were added. */
  legacyTlsHosts(): string[] {
    return [...this.#legacy];
  }

  /** Calls `listener` after every change (for persisting); returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }

  /** Plain data for storage: certificates as PEM, pins, insecure hosts, legacy-TLS hosts. */
  toJSON(): TrustStoreJson {
    return {
      version: 1,
      certificates: [...this.#certs.values()].map((c) => toPem(c.der)),
      pins: Object.fromEntries(this.#pins),
      insecureHosts: [...this.#insecure],
      legacyTlsHosts: [...this.#legacy],
    };
  }

  /**
   * Rebuilds a store from {@link toJSON} output. Storage can be stale or edited by hand: unreadable
   * entries are skipped rather than failing the whole profile; anything not an object gives an empty store.
   */
  static fromJSON(j: unknown): TrustStore {
    const t = new TrustStore();
    if (typeof j !== 'object' || j === null) return t;
    const o = j as Partial<Record<keyof TrustStoreJson, unknown>>;
    if (Array.isArray(o.certificates)) {
      for (const pem of o.certificates) {
        if (typeof pem !== 'string') continue;
        for (const der of parsePemCertificates(pem)) {
          try {
            t.#add(der);
          } catch {
            // skip an unreadable stored certificate
          }
        }
      }
    }
    if (typeof o.pins === 'object' && o.pins !== null) {
      for (const [host, fp] of Object.entries(o.pins)) {
        if (typeof fp === 'string' && SHA256_HEX.test(fp) && normalizeHost(host)) t.#pins.set(normalizeHost(host), fp);
      }
    }
    if (Array.isArray(o.insecureHosts)) {
      for (const h of o.insecureHosts) if (typeof h === 'string' && normalizeHost(h)) t.#insecure.add(normalizeHost(h));
    }
    if (Array.isArray(o.legacyTlsHosts)) {
      for (const h of o.legacyTlsHosts) if (typeof h === 'string' && normalizeHost(h)) t.#legacy.add(normalizeHost(h));
    }
    return t;
  }
}
