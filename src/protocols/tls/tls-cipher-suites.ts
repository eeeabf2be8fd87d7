/**
 * The cipher suites the client can negotiate, each with what the key schedule and the record layer
 * need: AEAD or CBC+HMAC, key and IV sizes, the PRF/HKDF hash, and (TLS 1.2) the key exchange.
 *
 * Default offer: the three TLS 1.3 suites (RFC 8446 §9.1) and the TLS 1.2 ECDHE suites with
 * AES-GCM (RFC 5289) and ChaCha20-Poly1305 (RFC 7905). The legacy set (RSA key exchange, CBC with
 * HMAC-SHA1/SHA-256) is only offered when a host's `legacy` option is on.
 */
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { sha1 } from '@noble/hashes/legacy.js';
import type { CHash } from '@noble/hashes/utils.js';

export type BulkCipher = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-cbc' | 'aes-256-cbc';
export type SuiteKeyExchange = 'tls13' | 'ecdhe-ecdsa' | 'ecdhe-rsa' | 'rsa';

export interface CipherSuite {
  id: number;
  name: string;
  version: 'tls13' | 'tls12';
  kx: SuiteKeyExchange;
  cipher: BulkCipher;
  keyLength: number;
  /** TLS 1.3 / 1.2 ChaCha: full 12-byte IV; 1.2 GCM: 4-byte implicit salt; CBC: 0 (explicit IV per record). */
  ivLength: number;
  /** Transcript / PRF / HKDF hash. */
  hash: CHash;
  hashName: 'sha256' | 'sha384';
  /** CBC suites: the record MAC (RFC 5246 §6.2.3.1). */
  mac?: CHash;
  macLength?: number;
  legacy: boolean;
}

const suites: CipherSuite[] = [];
function def(id: number, name: string, version: 'tls13' | 'tls12', kx: SuiteKeyExchange, cipher: BulkCipher, hashName: 'sha256' | 'sha384', mac?: 'sha1' | 'sha256' | 'sha384'): void {
  const keyLength = cipher === 'aes-128-gcm' || cipher === 'aes-128-cbc' ? 16 : 32;
  const ivLength = version === 'tls13' || cipher === 'chacha20-poly1305' ? 12 : cipher.endsWith('gcm') ? 4 : 0;
  suites.push({
    id,
    name,
    version,
    kx,
    cipher,
    keyLength,
    ivLength,
    hash: hashName === 'sha256' ? sha256 : sha384,
    hashName,
    mac: mac === 'sha1' ? sha1 : mac === 'sha256' ? sha256 : mac === 'sha384' ? sha384 : undefined,
    macLength: mac === 'sha1' ? 20 : mac === 'sha256' ? 32 : mac === 'sha384' ? 48 : undefined,
    legacy: kx === 'rsa' || cipher.endsWith('cbc'),
  });
}

// TLS 1.3 (RFC 8446 §B.4)
def(0x1301, 'TLS_AES_128_GCM_SHA256', 'tls13', 'tls13', 'aes-128-gcm', 'sha256');
def(0x1302, 'TLS_AES_256_GCM_SHA384', 'tls13', 'tls13', 'aes-256-gcm', 'sha384');
def(0x1303, 'TLS_CHACHA20_POLY1305_SHA256', 'tls13', 'tls13', 'chacha20-poly1305', 'sha256');
// TLS 1.2 forward-secret AEAD suites (RFC 5289, RFC 7905)
def(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'tls12', 'ecdhe-ecdsa', 'aes-128-gcm', 'sha256');
def(0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', 'tls12', 'ecdhe-ecdsa', 'aes-256-gcm', 'sha384');
def(0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'tls12', 'ecdhe-rsa', 'aes-128-gcm', 'sha256');
def(0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', 'tls12', 'ecdhe-rsa', 'aes-256-gcm', 'sha384');
def(0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'tls12', 'ecdhe-ecdsa', 'chacha20-poly1305', 'sha256');
def(0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', 'tls12', 'ecdhe-rsa', 'chacha20-poly1305', 'sha256');
// Legacy, off by default: CBC with HMAC (RFC 5246, RFC 5289) and RSA key exchange (no forward secrecy).
def(0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256', 'tls12', 'ecdhe-ecdsa', 'aes-128-cbc', 'sha256', 'sha256');
def(0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256', 'tls12', 'ecdhe-rsa', 'aes-128-cbc', 'sha256', 'sha256');
def(0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA', 'tls12', 'ecdhe-ecdsa', 'aes-128-cbc', 'sha256', 'sha1');
def(0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA', 'tls12', 'ecdhe-ecdsa', 'aes-256-cbc', 'sha256', 'sha1');
def(0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA', 'tls12', 'ecdhe-rsa', 'aes-128-cbc', 'sha256', 'sha1');
def(0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA', 'tls12', 'ecdhe-rsa', 'aes-256-cbc', 'sha256', 'sha1');
def(0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256', 'tls12', 'rsa', 'aes-128-gcm', 'sha256');
def(0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384', 'tls12', 'rsa', 'aes-256-gcm', 'sha384');
def(0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256', 'tls12', 'rsa', 'aes-128-cbc', 'sha256', 'sha256');
def(0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256', 'tls12', 'rsa', 'aes-256-cbc', 'sha256', 'sha256');
def(0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA', 'tls12', 'rsa', 'aes-128-cbc', 'sha256', 'sha1');
def(0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA', 'tls12', 'rsa', 'aes-256-cbc', 'sha256', 'sha1');

const byId = new Map(suites.map((s) => [s.id, s]));

/** The suite with this code point, if the client knows it. */
export function cipherSuite(id: number): CipherSuite | undefined {
  return byId.get(id);
}

/** Suites offered in a ClientHello, best first. */
export function offeredSuites(options: { tls13: boolean; tls12: boolean; legacy: boolean }): CipherSuite[] {
  return suites.filter((s) => (s.version === 'tls13' ? options.tls13 : options.tls12 && (options.legacy || !s.legacy)));
}

/** Every suite, for documentation and tests. */
export const ALL_CIPHER_SUITES: readonly CipherSuite[] = suites;
