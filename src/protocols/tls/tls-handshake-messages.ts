/**
 * Handshake message bodies (RFC 8446 §4, RFC 5246 §7.4): the ClientHello the client emits and
 * views over what servers send, parsed with checked lengths ({@link TlsReader}). Each parser takes
 * the body (after the 4-byte handshake header) and throws {@link TlsDecodeError} with the alert to
 * send when the bytes are malformed.
 */
import { ExtensionType, TLS12, TLS13, HELLO_RETRY_REQUEST_RANDOM } from './tls-constants.ts';
import { TlsDecodeError, TlsReader, TlsWriter } from './tls-codec.ts';
import { constantTimeEqual } from '../../shared/bytes.ts';

const utf8 = new TextEncoder();

export interface ClientHelloParams {
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuites: readonly number[];
  /** DNS name for SNI; absent for IP literals (RFC 6066 §3). */
  serverName?: string;
  groups: readonly number[];
  keyShares: readonly { group: number; publicKey: Uint8Array }[];
  signatureSchemes: readonly number[];
  alpn: readonly string[];
  tls13: boolean;
  tls12: boolean;
  /** TLS 1.2 session ticket to resume (RFC 5077 §3.1); an empty one asks for a ticket. */
  sessionTicket?: Uint8Array;
  encryptThenMac: boolean;
  /** Plaintext size we accept per record (RFC 8449). */
  recordSizeLimit?: number;
  /** From a HelloRetryRequest (RFC 8446 §4.2.2). */
  cookie?: Uint8Array;
  /** TLS 1.3 resumption: one identity; the binder is emitted zeroed and filled in by the TlsClient (RFC 8446 §4.2.11.2) at `binderOffset`. */
  psk?: { identity: Uint8Array; obfuscatedAge: number; binderLength: number };
}

/**
 * The ClientHello body. With `psk`, the pre_shared_key extension comes last (RFC 8446 §4.2.11) with
 * a zeroed binder; the returned `binderOffset` says where it sits.
 */
export function emitClientHello(p: ClientHelloParams): { body: Uint8Array; binderOffset?: number } {
  const w = new TlsWriter();
  w.u16(TLS12).bytes(p.random).vector(1, p.sessionId);
  w.begin(2);
  for (const s of p.cipherSuites) w.u16(s);
  w.end();
  w.vector(1, Uint8Array.of(0)); // compression: null only
  w.begin(2); // extensions
  if (p.serverName) {
    w.u16(ExtensionType.serverName).begin(2).begin(2).u8(0).vector(2, utf8.encode(p.serverName)).end().end();
  }
  w.u16(ExtensionType.supportedGroups).begin(2).begin(2);
  for (const g of p.groups) w.u16(g);
  w.end().end();
  if (p.tls12) w.u16(ExtensionType.ecPointFormats).begin(2).vector(1, Uint8Array.of(0)).end();
  w.u16(ExtensionType.signatureAlgorithms).begin(2).begin(2);
  for (const s of p.signatureSchemes) w.u16(s);
  w.end().end();
  if (p.alpn.length) {
    w.u16(ExtensionType.alpn).begin(2).begin(2);
    for (const a of p.alpn) w.vector(1, utf8.encode(a));
    w.end().end();
  }
  if (p.tls12) {
    w.u16(ExtensionType.extendedMasterSecret).u16(0);
    w.u16(ExtensionType.renegotiationInfo).begin(2).vector(1, new Uint8Array(0)).end();
    w.u16(ExtensionType.sessionTicket).vector(2, p.sessionTicket ?? new Uint8Array(0));
    if (p.encryptThenMac) w.u16(ExtensionType.encryptThenMac).u16(0);
  }
  if (p.recordSizeLimit !== undefined) w.u16(ExtensionType.recordSizeLimit).begin(2).u16(p.recordSizeLimit).end();
  if (p.tls13) {
    w.u16(ExtensionType.supportedVersions).begin(2).begin(1).u16(TLS13);
    if (p.tls12) w.u16(TLS12);
    w.end().end();
    w.u16(ExtensionType.pskKeyExchangeModes).begin(2).vector(1, Uint8Array.of(1)).end(); // psk_dhe_ke
    w.u16(ExtensionType.keyShare).begin(2).begin(2);
    for (const ks of p.keyShares) w.u16(ks.group).vector(2, ks.publicKey);
    w.end().end();
    if (p.cookie) w.u16(ExtensionType.cookie).begin(2).vector(2, p.cookie).end();
  }
  let binderOffset: number | undefined;
  if (p.tls13 && p.psk) {
    w.u16(ExtensionType.preSharedKey).begin(2);
    w.begin(2).vector(2, p.psk.identity).u32(p.psk.obfuscatedAge).end();
    w.begin(2).vector(1, new Uint8Array(p.psk.binderLength)).end();
    w.end();
  }
  w.end();
  const body = w.finish();
  if (p.tls13 && p.psk) binderOffset = body.length - p.psk.binderLength;
  return { body, binderOffset };
}

/** Extensions by type; a repeated type is illegal_parameter (RFC 8446 §4.2). */
export function parseExtensions(r: TlsReader): Map<number, Uint8Array> {
  const out = new Map<number, Uint8Array>();
  if (r.remaining === 0) return out; // TLS 1.2 ServerHello may omit the block
  const list = r.sub(2, 'extensions');
  while (list.remaining) {
    const type = list.u16();
    const data = list.vector(2);
    if (out.has(type)) throw new TlsDecodeError(`the server sent extension ${type} twice`, 47);
    out.set(type, data);
  }
  r.end();
  return out;
}

export interface ServerHello {
  legacyVersion: number;
  random: Uint8Array;
  sessionId: Uint8Array;
  cipherSuite: number;
  /** From supported_versions when present (TLS 1.3), else the legacy version. */
  version: number;
  isHelloRetryRequest: boolean;
  extensions: Map<number, Uint8Array>;
}

export function parseServerHello(body: Uint8Array): ServerHello {
  const r = new TlsReader(body, 'ServerHello');
  const legacyVersion = r.u16();
  const random = r.take(32);
  const sessionId = r.vector(1, 0, 32);
  const cipherSuite = r.u16();
  const compression = r.u8();
  if (compression !== 0) throw new TlsDecodeError(`the server chose compression method ${compression}`, 47);
  const extensions = parseExtensions(r);
  let version = legacyVersion;
  const sv = extensions.get(ExtensionType.supportedVersions);
  if (sv) {
    const vr = new TlsReader(sv, 'supported_versions');
    version = vr.u16();
    vr.end();
  }
  return {
    legacyVersion,
    random,
    sessionId,
    cipherSuite,
    version,
    isHelloRetryRequest: constantTimeEqual(random, HELLO_RETRY_REQUEST_RANDOM),
    extensions,
  };
}

/** The one protocol the server picked from our ALPN list (RFC 7301 §3.1). */
export function parseAlpn(data: Uint8Array): string {
  const r = new TlsReader(data, 'ALPN');
  const list = r.sub(2);
  const name = list.vector(1, 1);
  list.end();
  r.end();
  return new TextDecoder().decode(name);
}

/** key_share in a ServerHello: (group, key); in a HelloRetryRequest: the group only. */
export function parseServerKeyShare(data: Uint8Array, hrr: boolean): { group: number; publicKey?: Uint8Array } {
  const r = new TlsReader(data, 'key_share');
  const group = r.u16();
  if (hrr) {
    r.end();
    return { group };
  }
  const publicKey = r.vector(2, 1);
  r.end();
  return { group, publicKey };
}

/** record_size_limit (RFC 8449 §4): at least 64. */
export function parseRecordSizeLimit(data: Uint8Array): number {
  const r = new TlsReader(data, 'record_size_limit');
  const v = r.u16();
  r.end();
  if (v < 64) throw new TlsDecodeError(`the server's record_size_limit ${v} is below 64`, 47);
  return v;
}

/** A certificate chain, leaf first (RFC 8446 §4.4.2, RFC 5246 §7.4.2). */
export function parseCertificateMessage(body: Uint8Array, tls13: boolean): { context: Uint8Array; chain: Uint8Array[] } {
  const r = new TlsReader(body, 'Certificate');
  const context = tls13 ? r.vector(1) : new Uint8Array(0);
  const list = r.sub(3, 'certificate_list');
  const chain: Uint8Array[] = [];
  while (list.remaining) {
    chain.push(list.vector(3, 1).slice());
    if (tls13) list.vector(2); // per-certificate extensions (OCSP, SCT): not used
  }
  r.end();
  return { context, chain };
}

/** CertificateVerify / a TLS 1.2 digitally-signed struct: scheme and signature. */
export function parseSignature(r: TlsReader): { scheme: number; signature: Uint8Array } {
  const scheme = r.u16();
  const signature = r.vector(2, 1).slice();
  return { scheme, signature };
}

export function parseCertificateVerify(body: Uint8Array): { scheme: number; signature: Uint8Array } {
  const r = new TlsReader(body, 'CertificateVerify');
  const s = parseSignature(r);
  r.end();
  return s;
}

/** TLS 1.3 CertificateRequest: its context is echoed in our (empty) Certificate. */
export function parseCertificateRequest13(body: Uint8Array): { context: Uint8Array } {
  const r = new TlsReader(body, 'CertificateRequest');
  const context = r.vector(1).slice();
  r.vector(2);
  r.end();
  return { context };
}

/**
 * TLS 1.3 signed content for CertificateVerify (RFC 8446 §4.4.3): 64 spaces, the context string,
 * a zero byte, the transcript hash.
 */
export function certificateVerifyContent(transcriptHash: Uint8Array): Uint8Array {
  const label = utf8.encode('TLS 1.3, server CertificateVerify');
  const out = new Uint8Array(64 + label.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(label, 64);
  out.set(transcriptHash, 64 + label.length + 1);
  return out;
}

export interface NewSessionTicket13 {
  lifetime: number;
  ageAdd: number;
  nonce: Uint8Array;
  ticket: Uint8Array;
}

export function parseNewSessionTicket13(body: Uint8Array): NewSessionTicket13 {
  const r = new TlsReader(body, 'NewSessionTicket');
  const lifetime = r.u32();
  const ageAdd = r.u32();
  const nonce = r.vector(1).slice();
  const ticket = r.vector(2, 1).slice();
  r.vector(2);
  r.end();
  return { lifetime, ageAdd, nonce, ticket };
}

export function parseNewSessionTicket12(body: Uint8Array): { lifetime: number; ticket: Uint8Array } {
  const r = new TlsReader(body, 'NewSessionTicket');
  const lifetime = r.u32();
  const ticket = r.vector(2).slice();
  r.end();
  return { lifetime, ticket };
}

/** TLS 1.2 ECDHE ServerKeyExchange (RFC 8422 §5.4): params, then their signature. */
export function parseServerKeyExchangeEcdhe(body: Uint8Array): { group: number; publicKey: Uint8Array; params: Uint8Array; scheme: number; signature: Uint8Array } {
  const r = new TlsReader(body, 'ServerKeyExchange');
  const curveType = r.u8();
  if (curveType !== 3) throw new TlsDecodeError(`ServerKeyExchange curve type ${curveType} is not named_curve`, 47);
  const group = r.u16();
  const publicKey = r.vector(1, 1).slice();
  const params = body.slice(0, r.offset);
  const { scheme, signature } = parseSignature(r);
  r.end();
  return { group, publicKey, params, scheme, signature };
}

export function parseKeyUpdate(body: Uint8Array): { updateRequested: boolean } {
  const r = new TlsReader(body, 'KeyUpdate');
  const v = r.u8();
  r.end();
  if (v > 1) throw new TlsDecodeError(`KeyUpdate request_update ${v} is neither 0 nor 1`, 47);
  return { updateRequested: v === 1 };
}
