/**
 * Recognises TLS records in one TCP segment's payload and names what a reader can see without keys,
 * for the packet list of the teaching views (src/browser/capture/packet-summary.ts). Stateless and
 * sans-IO: bytes in, a plain summary out (or `undefined` when the bytes are not TLS).
 *
 *   payload ─▶ record header plausible? (type 20–23, version 3.x, length ≤ 2^14 + 2048; RFC 8446 §5.1)
 *     no  ─▶ undefined (a continuation segment of a longer record, or not TLS at all)
 *     yes ─▶ walk the records in the segment ─▶ per record:
 *             handshake in the clear ─▶ messages (RFC 8446 §4, RFC 5246 §7.4):
 *                 ClientHello: SNI, offered versions (supported_versions), ALPN
 *                 ServerHello: selected version (supported_versions, else legacy_version), cipher suite;
 *                              HelloRetryRequest by its special random (RFC 8446 §4.1.3)
 *                 Certificate (TLS 1.2, in the clear): the leaf's subject and issuer CN
 *                 others by name
 *             handshake records that do not frame as messages ─▶ "Encrypted Handshake Message"
 *             ChangeCipherSpec, Alert (level and description by name; encrypted when not 2 bytes),
 *             Application Data ("encrypted")
 *
 * A record cut by the end of the segment is labelled from what is there (the first record header
 * decides); the rest of it arrives in later segments, which are not TLS-labelled. Never throws:
 * unreadable parts are named in `malformed`. The leaf's names come from a small checked DER walk
 * (not the X.509 parser of the certificate verifier, which needs the whole certificate and lives in
 * the lazily loaded TLS chunk; a packet list must also label a certificate cut by a segment end).
 */
import { TlsReader } from './tls-codec.ts';
import { alertName, ContentType, ExtensionType, HandshakeType, HELLO_RETRY_REQUEST_RANDOM, MAX_CIPHERTEXT_12 } from './tls-constants.ts';

/** What one TCP payload shows of TLS. Plain data (structured-clone safe). */
export interface TlsPayloadSummary {
  /** Records whose header is in this payload. */
  records: number;
  /** The first record's content type name (`Handshake`, `Application Data`, …). */
  contentType: string;
  /** The first record's legacy version field, e.g. `TLS 1.2` (TLS 1.3 records say 1.2 on the wire, RFC 8446 §5.1). */
  recordVersion: string;
  /** What the records carry, in order: `Client Hello`, `Server Hello`, `Change Cipher Spec`, `Application Data`, … */
  messages: string[];
  /** ClientHello server_name (RFC 6066 §3). */
  sni?: string;
  /** ClientHello supported_versions (RFC 8446 §4.2.1), or its legacy_version when absent. */
  offeredVersions?: string[];
  /** ClientHello ALPN protocols (RFC 7301). */
  alpn?: string[];
  /** ServerHello: the version the server selected. */
  version?: string;
  /** ServerHello: the cipher suite by its IANA name. */
  cipherSuite?: string;
  /** The ServerHello is a HelloRetryRequest; `retryGroup` is the key share group it asks for. */
  helloRetryRequest?: boolean;
  retryGroup?: string;
  /** TLS 1.2 Certificate in the clear: the leaf's subject and issuer common names. */
  certificateSubject?: string;
  certificateIssuer?: string;
  /** An alert in the clear. */
  alert?: { level: 'warning' | 'fatal' | string; description: string };
  /** The last record continues in a later segment. */
  continues?: boolean;
  /** Why part of it could not be read. */
  malformed?: string;
  /** One line for the Info column, e.g. `Client Hello (SNI=intranet.test, TLS 1.3/1.2, ALPN http/1.1)`. */
  info: string;
}

const CONTENT_TYPE_NAMES: Record<number, string> = {
  [ContentType.changeCipherSpec]: 'Change Cipher Spec',
  [ContentType.alert]: 'Alert',
  [ContentType.handshake]: 'Handshake',
  [ContentType.applicationData]: 'Application Data',
};

const HANDSHAKE_NAMES: Record<number, string> = {
  [HandshakeType.helloRequest]: 'Hello Request',
  [HandshakeType.clientHello]: 'Client Hello',
  [HandshakeType.serverHello]: 'Server Hello',
  [HandshakeType.newSessionTicket]: 'New Session Ticket',
  [HandshakeType.endOfEarlyData]: 'End of Early Data',
  [HandshakeType.encryptedExtensions]: 'Encrypted Extensions',
  [HandshakeType.certificate]: 'Certificate',
  [HandshakeType.serverKeyExchange]: 'Server Key Exchange',
  [HandshakeType.certificateRequest]: 'Certificate Request',
  [HandshakeType.serverHelloDone]: 'Server Hello Done',
  [HandshakeType.certificateVerify]: 'Certificate Verify',
  [HandshakeType.clientKeyExchange]: 'Client Key Exchange',
  [HandshakeType.finished]: 'Finished',
  [HandshakeType.certificateStatus]: 'Certificate Status',
  [HandshakeType.keyUpdate]: 'Key Update',
};

/**
 * IANA names of the cipher suites a capture is likely to show (TLS 1.3, RFC 8446 §B.4; the common
 * TLS 1.2 ECDHE, DHE and RSA suites, RFC 5289, RFC 7905, RFC 5246). Others show as hex.
 */
const CIPHER_SUITE_NAMES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
  0x1304: 'TLS_AES_128_CCM_SHA256',
  0x1305: 'TLS_AES_128_CCM_8_SHA256',
  0xc02b: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
  0xc02c: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
  0xc02f: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
  0xc030: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384',
  0xcca9: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256',
  0xcca8: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xccaa: 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256',
  0xc023: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256',
  0xc024: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384',
  0xc027: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256',
  0xc028: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384',
  0xc009: 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA',
  0xc00a: 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA',
  0xc013: 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA',
  0xc014: 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA',
  0x009e: 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256',
  0x009f: 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384',
  0x009c: 'TLS_RSA_WITH_AES_128_GCM_SHA256',
  0x009d: 'TLS_RSA_WITH_AES_256_GCM_SHA384',
  0x003c: 'TLS_RSA_WITH_AES_128_CBC_SHA256',
  0x003d: 'TLS_RSA_WITH_AES_256_CBC_SHA256',
  0x002f: 'TLS_RSA_WITH_AES_128_CBC_SHA',
  0x0035: 'TLS_RSA_WITH_AES_256_CBC_SHA',
  0x000a: 'TLS_RSA_WITH_3DES_EDE_CBC_SHA',
  0x00ff: 'TLS_EMPTY_RENEGOTIATION_INFO_SCSV',
};

/** Named groups (RFC 8446 §4.2.7, RFC 7919, and the hybrid post-quantum group browsers send). */
const GROUP_NAMES: Record<number, string> = {
  0x0017: 'secp256r1',
  0x0018: 'secp384r1',
  0x0019: 'secp521r1',
  0x001d: 'x25519',
  0x001e: 'x448',
  0x0100: 'ffdhe2048',
  0x0101: 'ffdhe3072',
  0x11ec: 'X25519MLKEM768',
};

/** `TLS 1.3` for 0x0304, `SSL 3.0` for 0x0300, `GREASE` for RFC 8701 values, else hex. */
export function tlsVersionName(v: number): string {
  if (v >= 0x0301 && v <= 0x0304) return `TLS 1.${v - 0x0301}`;
  if (v === 0x0300) return 'SSL 3.0';
  if ((v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff)) return 'GREASE';
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** The IANA name of a cipher suite, or its hex code. */
export function cipherSuiteName(id: number): string {
  return CIPHER_SUITE_NAMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`;
}

function groupName(id: number): string {
  return GROUP_NAMES[id] ?? `group 0x${id.toString(16).padStart(4, '0')}`;
}

const HEADER = 5;

/** Whether `b` at `at` starts with a plausible record header (5 bytes available). */
function plausibleHeader(b: Uint8Array, at: number): boolean {
  const type = b[at]!;
  if (type < ContentType.changeCipherSpec || type > ContentType.applicationData) return false;
  // Version 3.1–3.4 (TLS 1.0–1.3; ClientHellos may say 3.1 in the record, RFC 8446 §5.1); 3.0 too (SSL 3).
  if (b[at + 1] !== 3 || b[at + 2]! > 4) return false;
  const length = (b[at + 3]! << 8) | b[at + 4]!;
  return length > 0 && length <= MAX_CIPHERTEXT_12;
}

/**
 * Summarises the TLS records at the start of `payload` (one TCP segment's data), or returns
 * `undefined` when it does not start with a plausible TLS record header. Never throws.
 */
export function summarizeTlsPayload(payload: Uint8Array): TlsPayloadSummary | undefined {
  if (payload.length < HEADER || !plausibleHeader(payload, 0)) return undefined;
  const s: TlsPayloadSummary = {
    records: 0,
    contentType: CONTENT_TYPE_NAMES[payload[0]!]!,
    recordVersion: tlsVersionName((payload[1]! << 8) | payload[2]!),
    messages: [],
    info: '',
  };
  const parts: string[] = [];
  let at = 0;
  while (at + HEADER <= payload.length) {
    if (!plausibleHeader(payload, at)) {
      s.malformed = `bytes after record ${s.records} are not a TLS record header`;
      break;
    }
    const type = payload[at]!;
    const length = (payload[at + 3]! << 8) | payload[at + 4]!;
    const body = payload.subarray(at + HEADER, Math.min(payload.length, at + HEADER + length));
    const complete = body.length === length;
    s.records++;
    try {
      switch (type) {
        case ContentType.changeCipherSpec:
          s.messages.push('Change Cipher Spec');
          parts.push('Change Cipher Spec');
          break;
        case ContentType.alert:
          // A clear alert is 2 bytes (RFC 8446 §6); a protected one is longer (AEAD tag, explicit nonce).
          if (length === 2 && complete) {
            const level = body[0] === 1 ? 'warning' : body[0] === 2 ? 'fatal' : `level ${body[0]}`;
            s.alert = { level, description: alertName(body[1]!) };
            s.messages.push('Alert');
            parts.push(`Alert (${level}, ${s.alert.description})`);
          } else {
            s.messages.push('Encrypted Alert');
            parts.push('Encrypted Alert');
          }
          break;
        case ContentType.applicationData:
          s.messages.push('Application Data');
          parts.push(`Application Data (encrypted, ${length} bytes)`);
          break;
        case ContentType.handshake:
          if (!handshakeMessages(s, parts, body, complete)) {
            s.messages.push('Encrypted Handshake Message');
            parts.push('Encrypted Handshake Message');
          }
          break;
      }
    } catch (e) {
      // A decode error in one message: say so, keep what was read.
      s.malformed = e instanceof Error ? e.message : String(e);
      parts.push(`[malformed: ${s.malformed}]`);
    }
    if (!complete) {
      s.continues = true;
      break;
    }
    at += HEADER + length;
  }
  s.info = parts.join(', ') + (s.continues ? ' [continues]' : '');
  return s;
}

/**
 * Reads the handshake messages of one record. Returns false when the body does not frame as
 * clear-text handshake messages (a TLS 1.2 Finished, encrypted after ChangeCipherSpec).
 */
function handshakeMessages(s: TlsPayloadSummary, parts: string[], body: Uint8Array, complete: boolean): boolean {
  if (!framesAsHandshake(body, complete)) return false;
  if (body.length < 4) {
    // The record is cut before its first message header: a handshake record, nothing more to say.
    s.messages.push('Handshake');
    parts.push('Handshake (continues)');
    return true;
  }
  for (let at = 0; at + 4 <= body.length; ) {
    const type = body[at]!;
    const length = (body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!;
    const name = HANDSHAKE_NAMES[type]!;
    const msg = body.subarray(at + 4, Math.min(body.length, at + 4 + length));
    s.messages.push(name);
    parts.push(describeHandshake(s, type, name, msg, msg.length === length));
    at += 4 + length;
  }
  return true;
}

/**
 * Whether a handshake record's body frames as clear-text messages: known types whose lengths fill
 * a complete record exactly. A TLS 1.2 Finished after ChangeCipherSpec is ciphertext and (but for
 * a 2^-24-ish chance) does not; a TLS 1.3 second ClientHello after the compatibility
 * ChangeCipherSpec (RFC 8446 §D.4) is clear and does, so the ChangeCipherSpec alone cannot decide.
 */
function framesAsHandshake(body: Uint8Array, complete: boolean): boolean {
  if (body.length < 4) return !complete;
  let at = 0;
  while (at + 4 <= body.length) {
    if (HANDSHAKE_NAMES[body[at]!] === undefined) return false;
    at += 4 + ((body[at + 1]! << 16) | (body[at + 2]! << 8) | body[at + 3]!);
  }
  return complete ? at === body.length : true;
}

/** The Info part of one handshake message; reads only what is there (`whole` false: cut by the segment end). */
function describeHandshake(s: TlsPayloadSummary, type: number, name: string, msg: Uint8Array, whole: boolean): string {
  switch (type) {
    case HandshakeType.clientHello:
      return whole ? clientHello(s, msg) : `${name} (continues)`;
    case HandshakeType.serverHello:
      return whole ? serverHello(s, msg) : `${name} (continues)`;
    case HandshakeType.certificate: {
      const names = certificateNames(msg);
      if (names.subject) s.certificateSubject = names.subject;
      if (names.issuer) s.certificateIssuer = names.issuer;
      if (!names.subject) return whole ? name : `${name} (continues)`;
      return `${name} (CN=${names.subject}${names.issuer ? `, issued by CN=${names.issuer}` : ''})`;
    }
    default:
      return name;
  }
}

/** ClientHello (RFC 8446 §4.1.2): SNI, offered versions, ALPN. */
function clientHello(s: TlsPayloadSummary, msg: Uint8Array): string {
  const r = new TlsReader(msg, 'ClientHello');
  const legacyVersion = r.u16();
  r.take(32);
  r.vector(1, 0, 32);
  r.vector(2, 2);
  r.vector(1, 1);
  let versions: string[] = [tlsVersionName(legacyVersion)];
  if (r.remaining > 0) {
    const exts = new TlsReader(r.vector(2), 'ClientHello extensions');
    while (exts.remaining > 0) {
      const type = exts.u16();
      const data = new TlsReader(exts.vector(2), 'extension');
      if (type === ExtensionType.serverName) {
        const list = new TlsReader(data.vector(2, 1), 'server_name');
        while (list.remaining > 0) {
          const kind = list.u8();
          const name = list.vector(2, 1);
          // host_name (0) is ASCII (RFC 6066 §3); anything unprintable is shown escaped.
          if (kind === 0 && s.sni === undefined) s.sni = printable(name);
        }
      } else if (type === ExtensionType.supportedVersions) {
        const list = new TlsReader(data.vector(1, 2), 'supported_versions');
        const offered: string[] = [];
        while (list.remaining >= 2) {
          const v = tlsVersionName(list.u16());
          if (v !== 'GREASE') offered.push(v);
        }
        versions = offered;
      } else if (type === ExtensionType.alpn) {
        const list = new TlsReader(data.vector(2, 2), 'ALPN');
        const protocols: string[] = [];
        while (list.remaining > 0) protocols.push(printable(list.vector(1, 1)));
        s.alpn = protocols;
      }
    }
  }
  s.offeredVersions = versions;
  const short = versions.map((v) => v.replace(/^TLS /, '')).join('/');
  const facts = [s.sni !== undefined ? `SNI=${s.sni}` : 'no SNI', `TLS ${short}`, s.alpn?.length ? `ALPN ${s.alpn.join(',')}` : ''].filter(Boolean);
  return `Client Hello (${facts.join(', ')})`;
}

/** ServerHello (RFC 8446 §4.1.3, RFC 5246 §7.4.1.3): selected version and suite; HelloRetryRequest. */
function serverHello(s: TlsPayloadSummary, msg: Uint8Array): string {
  const r = new TlsReader(msg, 'ServerHello');
  let version = r.u16();
  const random = r.take(32);
  r.vector(1, 0, 32);
  const suite = r.u16();
  r.u8();
  const hrr = random.every((b, i) => b === HELLO_RETRY_REQUEST_RANDOM[i]);
  if (r.remaining > 0) {
    const exts = new TlsReader(r.vector(2), 'ServerHello extensions');
    while (exts.remaining > 0) {
      const type = exts.u16();
      const data = new TlsReader(exts.vector(2), 'extension');
      if (type === ExtensionType.supportedVersions) version = data.u16();
      else if (type === ExtensionType.keyShare && hrr) s.retryGroup = groupName(data.u16());
    }
  }
  s.version = tlsVersionName(version);
  s.cipherSuite = cipherSuiteName(suite);
  if (hrr) {
    s.helloRetryRequest = true;
    s.messages[s.messages.length - 1] = 'Hello Retry Request';
    return `Hello Retry Request (${s.version}, ${s.cipherSuite}${s.retryGroup ? `, wants a ${s.retryGroup} key share` : ''})`;
  }
  return `Server Hello (${s.version}, ${s.cipherSuite})`;
}

/** Bytes as text with anything outside printable ASCII escaped (`\x00`). */
function printable(b: Uint8Array): string {
  let out = '';
  for (const c of b) out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}

// ─── a checked DER walk to the leaf's names (RFC 5280 §4.1) ───

interface Tlv {
  tag: number;
  /** Start and end of the value in the buffer. */
  start: number;
  end: number;
}

/** One DER TLV at `at` within `[.., limit)`; undefined when it does not fit. */
function tlv(b: Uint8Array, at: number, limit: number): Tlv | undefined {
  if (at + 2 > limit) return undefined;
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3 || start + n > limit) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  // A value cut by the segment end is kept (clamped), so the fields before the cut can be read.
  return { tag, start, end: Math.min(start + len, limit) };
}

const CN_OID = [0x55, 0x04, 0x03];

/** The common name in a Name (SEQUENCE OF SET OF SEQUENCE { OID, value }); the last CN wins, as printed. */
function commonName(b: Uint8Array, name: Tlv): string | undefined {
  let cn: string | undefined;
  for (let at = name.start; at < name.end; ) {
    const rdn = tlv(b, at, name.end);
    if (!rdn || rdn.tag !== 0x31) break;
    for (let a = rdn.start; a < rdn.end; ) {
      const atv = tlv(b, a, rdn.end);
      if (!atv || atv.tag !== 0x30) break;
      const oid = tlv(b, atv.start, atv.end);
      if (oid && oid.tag === 0x06 && oid.end - oid.start === 3 && CN_OID.every((x, i) => b[oid.start + i] === x)) {
        const value = tlv(b, oid.end, atv.end);
        if (value) cn = decodeString(value.tag, b.subarray(value.start, value.end));
      }
      a = atv.end;
    }
    at = rdn.end;
  }
  return cn;
}

function decodeString(tag: number, v: Uint8Array): string {
  if (tag === 0x1e) {
    // BMPString: UCS-2 big-endian.
    let out = '';
    for (let i = 0; i + 1 < v.length; i += 2) out += String.fromCharCode((v[i]! << 8) | v[i + 1]!);
    return out;
  }
  if (tag === 0x0c) return new TextDecoder('utf-8', { fatal: false }).decode(v);
  return printable(v);
}

/**
 * The subject and issuer CN of the first certificate of a TLS 1.2 Certificate message
 * (`certificate_list<3>` of `ASN.1Cert<3>`, RFC 5246 §7.4.2), read from what is present.
 */
function certificateNames(msg: Uint8Array): { subject?: string; issuer?: string } {
  // 3 bytes of list length, 3 of the first certificate's length, then its DER.
  if (msg.length < 6) return {};
  const der = msg.subarray(6);
  const cert = tlv(der, 0, der.length);
  if (!cert || cert.tag !== 0x30) return {};
  const tbs = tlv(der, cert.start, cert.end);
  if (!tbs || tbs.tag !== 0x30) return {};
  let at = tbs.start;
  const fields: Tlv[] = [];
  // [0] version (optional), serialNumber, signature, issuer, validity, subject.
  while (fields.length < 6 && at < tbs.end) {
    const f = tlv(der, at, tbs.end);
    if (!f) break;
    if (fields.length === 0 && f.tag !== 0xa0) fields.push({ tag: 0, start: at, end: at });
    fields.push(f);
    at = f.end;
  }
  const issuer = fields[3]?.tag === 0x30 ? commonName(der, fields[3]) : undefined;
  const subject = fields[5]?.tag === 0x30 ? commonName(der, fields[5]) : undefined;
  return { subject, issuer };
}
