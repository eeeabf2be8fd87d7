/**
 * One X.509 certificate (RFC 5280 §4), decoded into the facts path validation and the UI need.
 *
 * Flow: DER → `@peculiar/asn1-x509` schema decode (the library does all ASN.1/DER work; nothing here
 * walks bytes by hand) → pick out names, validity, key, signature algorithm and the extensions we
 * act on (basicConstraints, keyUsage, extKeyUsage, subjectAltName, nameConstraints) → list the
 * critical extensions we do not understand, which RFC 5280 §4.2 obliges a verifier to refuse.
 *
 * Network bytes never throw anything but {@link X509ParseError}; callers turn it into
 * `TLS_CERT_INVALID`.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  KeyUsage,
  NameConstraints,
  SubjectAlternativeName,
  SubjectPublicKeyInfo,
  type GeneralName,
  type GeneralSubtrees,
  type Name,
} from '@peculiar/asn1-x509';
import { ECParameters } from '@peculiar/asn1-ecc';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../shared/bytes.ts';
import { tryParseIp, parsePrefix, type IpAddress, type IpPrefix } from '../../shared/ip-address.ts';

/** The certificate bytes could not be decoded as an X.509 v1–v3 certificate. */
export class X509ParseError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'X509ParseError';
  }
}

export type HashName = 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** A signature algorithm we can verify (RFC 4055, RFC 5758, RFC 8410). */
export type SignatureAlgorithm =
  | { kind: 'rsa-pkcs1'; hash: HashName }
  | { kind: 'rsa-pss'; hash: HashName; saltLength: number }
  | { kind: 'ecdsa'; hash: HashName }
  | { kind: 'ed25519' };

/** The subject public key, as far as signature verification needs it. */
export type PublicKeyKind =
  /** `pssOnly`: an id-RSASSA-PSS key (RFC 4055), usable only for PSS signatures. */
  | { kind: 'rsa'; pssOnly?: true }
  | { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' }
  | { kind: 'ed25519'; raw: Uint8Array }
  | { kind: 'unsupported'; oid: string };

/** RFC 5280 §4.2.1.10 subtrees of the kinds we enforce (DNS names and IP ranges); others are kept as `other`. */
export interface NameSubtrees {
  dns: string[];
  ip: IpPrefix[];
  /** An iPAddress subtree was present but unreadable: IP names are constrained and this one matches nothing. */
  ipMalformed: boolean;
  /** GeneralName kinds present that we do not evaluate (e.g. `directoryName`, `rfc822Name`). */
  other: string[];
}

export type KeyUsageName =
  | 'digitalSignature'
  | 'nonRepudiation'
  | 'keyEncipherment'
  | 'dataEncipherment'
  | 'keyAgreement'
  | 'keyCertSign'
  | 'crlSign'
  | 'encipherOnly'
  | 'decipherOnly';

/** A decoded certificate. Byte fields are views; do not mutate. */
export interface X509Certificate {
  der: Uint8Array;
  /** The signed part (TBSCertificate), exactly as received. */
  tbsDer: Uint8Array;
  version: number;
  serialHex: string;
  /** RFC 4514-style display strings, most significant RDN last as OpenSSL prints them (`CN=…, O=…`). */
  subject: string;
  issuer: string;
  /** Comparison keys for name chaining (RFC 5280 §7.1: case- and space-insensitive on strings). */
  subjectKey: string;
  issuerKey: string;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Uint8Array;
  publicKey: PublicKeyKind;
  /** Outer signatureAlgorithm OID, and the algorithm when we support it. */
  signatureOid: string;
  signatureAlgorithm: SignatureAlgorithm | undefined;
  /** The outer and inner (TBS) signature AlgorithmIdentifiers agree (RFC 5280 §4.1.1.2). */
  signatureFieldsMatch: boolean;
  signature: Uint8Array;
  basicConstraints: { cA: boolean; pathLen: number | undefined } | undefined;
  keyUsage: ReadonlySet<KeyUsageName> | undefined;
  extKeyUsage: readonly string[] | undefined;
  /** subjectAltName present at all (then the CN is never used for host matching, RFC 9525 §6.3). */
  hasSubjectAltName: boolean;
  dnsNames: string[];
  ipAddresses: IpAddress[];
  commonNames: string[];
  nameConstraints: { permitted: NameSubtrees | undefined; excluded: NameSubtrees | undefined } | undefined;
  /** OIDs of critical extensions not processed here (RFC 5280 §4.2: such a certificate must be rejected). */
  unhandledCritical: string[];
  /** SHA-256 of the DER, lower-case hex. */
  sha256: string;
}

const OID = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha1WithRsa: '1.2.840.113549.1.1.5',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  sha384WithRsa: '1.2.840.113549.1.1.12',
  sha512WithRsa: '1.2.840.113549.1.1.13',
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaSha1: '1.2.840.10045.4.1',
  ecdsaSha256: '1.2.840.10045.4.3.2',
  ecdsaSha384: '1.2.840.10045.4.3.3',
  ecdsaSha512: '1.2.840.10045.4.3.4',
  ed25519: '1.3.101.112',
  p256: '1.2.840.10045.3.1.7',
  p384: '1.3.132.0.34',
  p521: '1.3.132.0.35',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  nameConstraints: '2.5.29.30',
  commonName: '2.5.4.3',
} as const;

/** Critical extensions whose semantics we honour or which are safe to accept as critical for a TLS client. */
const HANDLED = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID.nameConstraints,
  // certificatePolicies: we do not constrain policies (no initial-policy-set, RFC 5280 §6.1.1 c: any-policy),
  // so a critical policies extension is acceptable as CAs routinely mark it (CA/B Forum BR §7.1.2).
  '2.5.29.32',
  // subjectKeyIdentifier / authorityKeyIdentifier are informational (never critical per RFC 5280, tolerated).
  '2.5.29.14',
  '2.5.29.35',
]);

const ATTR_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'serialNumber',
  '0.9.2342.19200300.100.1.25': 'DC',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

const HASH_OF: Record<string, HashName> = {
  [OID.sha1]: 'SHA-1',
  [OID.sha256]: 'SHA-256',
  [OID.sha384]: 'SHA-384',
  [OID.sha512]: 'SHA-512',
};

function bytes(b: ArrayBuffer | ArrayBufferView): Uint8Array {
  return b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function attrValue(v: { toString(): string }): string {
  return v.toString();
}

function nameToString(name: Name): string {
  // OpenSSL's one-line form lists RDNs in encoding order; we show the most specific (CN) first,
  // as browsers do, by reversing.
  const parts: string[] = [];
  for (const rdn of name) {
    for (const atv of rdn) parts.push(`${ATTR_NAMES[atv.type] ?? atv.type}=${attrValue(atv.value)}`);
  }
  return parts.reverse().join(', ');
}

function nameKey(name: Name): string {
  const parts: string[] = [];
  for (const rdn of name) {
    const set = [...rdn].map((atv) => `${atv.type}=${attrValue(atv.value).trim().replace(/\s+/g, ' ').toLowerCase()}`);
    parts.push(set.sort().join('+'));
  }
  return parts.join('/');
}

function commonNamesOf(name: Name): string[] {
  const out: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === OID.commonName) out.push(attrValue(atv.value));
  return out;
}

function parseSignatureAlgorithm(oid: string, params: ArrayBuffer | null | undefined): SignatureAlgorithm | undefined {
  switch (oid) {
    case OID.sha1WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-1' };
    case OID.sha256WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-256' };
    case OID.sha384WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-384' };
    case OID.sha512WithRsa:
      return { kind: 'rsa-pkcs1', hash: 'SHA-512' };
    case OID.ecdsaSha1:
      return { kind: 'ecdsa', hash: 'SHA-1' };
    case OID.ecdsaSha256:
      return { kind: 'ecdsa', hash: 'SHA-256' };
    case OID.ecdsaSha384:
      return { kind: 'ecdsa', hash: 'SHA-384' };
    case OID.ecdsaSha512:
      return { kind: 'ecdsa', hash: 'SHA-512' };
    case OID.ed25519:
      return { kind: 'ed25519' };
    case OID.rsassaPss: {
      // RFC 4055 §3.1: parameters are required here; defaults are SHA-1/MGF1-SHA-1/salt 20.
      if (!params) return undefined;
      const p = AsnConvert.parse(params, RsaSaPssParams);
      const hash = HASH_OF[p.hashAlgorithm.algorithm];
      if (!hash) return undefined;
      // We only support MGF1 with the same hash (what every real issuer uses; WebCrypto cannot do otherwise).
      if (p.maskGenAlgorithm.algorithm !== '1.2.840.113549.1.1.8' || !p.maskGenAlgorithm.parameters) return undefined;
      const mgfHash = AsnConvert.parse(p.maskGenAlgorithm.parameters, AlgorithmIdentifier);
      if (mgfHash.algorithm !== p.hashAlgorithm.algorithm) return undefined;
      if (p.trailerField !== 1) return undefined;
      return { kind: 'rsa-pss', hash, saltLength: p.saltLength };
    }
    default:
      return undefined;
  }
}

function parsePublicKey(spki: Certificate['tbsCertificate']['subjectPublicKeyInfo']): PublicKeyKind {
  const oid = spki.algorithm.algorithm;
  if (oid === OID.rsaEncryption) return { kind: 'rsa' };
  if (oid === OID.rsassaPss) return { kind: 'rsa', pssOnly: true };
  if (oid === OID.ed25519) return { kind: 'ed25519', raw: bytes(spki.subjectPublicKey) };
  if (oid === OID.ecPublicKey && spki.algorithm.parameters) {
    const curve = AsnConvert.parse(spki.algorithm.parameters, ECParameters).namedCurve;
    if (curve === OID.p256) return { kind: 'ec', curve: 'P-256' };
    if (curve === OID.p384) return { kind: 'ec', curve: 'P-384' };
    if (curve === OID.p521) return { kind: 'ec', curve: 'P-521' };
    return { kind: 'unsupported', oid: `${oid}/${curve ?? 'explicit-curve'}` };
  }
  return { kind: 'unsupported', oid };
}

/**
 * The SPKI DER WebCrypto can import. An id-RSASSA-PSS key (RFC 4055 §1.2) carries the same
 * RSAPublicKey as rsaEncryption, but browsers import RSA keys only under rsaEncryption: re-label it
 * (the PSS-only restriction is enforced by `pssOnly`, not by WebCrypto).
 */
function webCryptoSpki(spki: SubjectPublicKeyInfo): Uint8Array {
  if (spki.algorithm.algorithm !== OID.rsassaPss) return bytes(AsnConvert.serialize(spki));
  const relabelled = new SubjectPublicKeyInfo({
    algorithm: new AlgorithmIdentifier({ algorithm: OID.rsaEncryption, parameters: null }),
    subjectPublicKey: spki.subjectPublicKey,
  });
  return bytes(AsnConvert.serialize(relabelled));
}

function generalNameKind(g: GeneralName): string {
  for (const k of ['otherName', 'rfc822Name', 'dNSName', 'x400Address', 'directoryName', 'ediPartyName', 'uniformResourceIdentifier', 'iPAddress', 'registeredID'] as const) {
    if (g[k] !== undefined) return k;
  }
  return 'unknown';
}

function subtrees(list: GeneralSubtrees | undefined): NameSubtrees | undefined {
  if (!list) return undefined;
  const out: NameSubtrees = { dns: [], ip: [], ipMalformed: false, other: [] };
  for (const st of list) {
    const g = st.base;
    if (g.dNSName !== undefined) out.dns.push(g.dNSName.toLowerCase());
    else if (g.iPAddress !== undefined) {
      // The library renders an address+mask pair as "addr/len"; a malformed one is flagged so an
      // unreadable permitted range never widens what is allowed.
      try {
        out.ip.push(parsePrefix(g.iPAddress));
      } catch {
        out.ipMalformed = true;
      }
    } else out.other.push(generalNameKind(g));
  }
  return out;
}

/**
 * Decodes one DER certificate.
 * @throws {X509ParseError} when `der` is not a well-formed certificate (the only exception thrown).
 */
export function parseCertificate(der: Uint8Array): X509Certificate {
  if (!(der instanceof Uint8Array)) throw new TypeError('certificate must be a Uint8Array');
  try {
    return decode(der);
  } catch (e) {
    if (e instanceof X509ParseError) throw e;
    throw new X509ParseError(`not a valid X.509 certificate: ${(e as Error)?.message ?? String(e)}`, { cause: e });
  }
}

function decode(der: Uint8Array): X509Certificate {
  const cert = AsnConvert.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  if (!cert.tbsCertificateRaw) throw new X509ParseError('no TBSCertificate');
  const ext = new Map<string, { critical: boolean; value: Uint8Array }>();
  const unhandledCritical: string[] = [];
  for (const e of tbs.extensions ?? []) {
    // RFC 5280 §4.2: a certificate must not include more than one instance of an extension.
    if (ext.has(e.extnID)) throw new X509ParseError(`extension ${e.extnID} appears twice`);
    ext.set(e.extnID, { critical: e.critical, value: bytes(e.extnValue) });
    if (e.critical && !HANDLED.has(e.extnID)) unhandledCritical.push(e.extnID);
  }
  const bcRaw = ext.get(OID.basicConstraints);
  const bc = bcRaw ? AsnConvert.parse(bcRaw.value, BasicConstraints) : undefined;
  const kuRaw = ext.get(OID.keyUsage);
  const ku = kuRaw ? new Set(AsnConvert.parse(kuRaw.value, KeyUsage).toJSON() as KeyUsageName[]) : undefined;
  const ekuRaw = ext.get(OID.extKeyUsage);
  const eku = ekuRaw ? [...AsnConvert.parse(ekuRaw.value, ExtendedKeyUsage)] : undefined;
  const sanRaw = ext.get(OID.subjectAltName);
  const dnsNames: string[] = [];
  const ipAddresses: IpAddress[] = [];
  if (sanRaw) {
    for (const g of AsnConvert.parse(sanRaw.value, SubjectAlternativeName)) {
      if (g.dNSName !== undefined) dnsNames.push(g.dNSName);
      else if (g.iPAddress !== undefined) {
        const ip = tryParseIp(g.iPAddress);
        if (ip) ipAddresses.push(ip);
      }
    }
  }
  const ncRaw = ext.get(OID.nameConstraints);
  const nc = ncRaw ? AsnConvert.parse(ncRaw.value, NameConstraints) : undefined;
  const outerAlg = cert.signatureAlgorithm;
  const innerAlg = tbs.signature;
  const tbsDer = bytes(cert.tbsCertificateRaw);
  return {
    der,
    tbsDer,
    version: tbs.version + 1,
    serialHex: toHex(bytes(tbs.serialNumber)),
    subject: nameToString(tbs.subject),
    issuer: nameToString(tbs.issuer),
    subjectKey: nameKey(tbs.subject),
    issuerKey: nameKey(tbs.issuer),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    spkiDer: webCryptoSpki(tbs.subjectPublicKeyInfo),
    publicKey: parsePublicKey(tbs.subjectPublicKeyInfo),
    signatureOid: outerAlg.algorithm,
    signatureAlgorithm: parseSignatureAlgorithm(outerAlg.algorithm, outerAlg.parameters),
    signatureFieldsMatch: outerAlg.isEqual(innerAlg),
    signature: bytes(cert.signatureValue),
    basicConstraints: bc ? { cA: bc.cA, pathLen: bc.pathLenConstraint } : undefined,
    keyUsage: ku,
    extKeyUsage: eku,
    hasSubjectAltName: sanRaw !== undefined,
    dnsNames,
    ipAddresses,
    commonNames: commonNamesOf(tbs.subject),
    nameConstraints: nc ? { permitted: subtrees(nc.permittedSubtrees), excluded: subtrees(nc.excludedSubtrees) } : undefined,
    unhandledCritical,
    sha256: toHex(sha256(der)),
  };
}

export { formatFingerprint } from './fingerprint.ts';
