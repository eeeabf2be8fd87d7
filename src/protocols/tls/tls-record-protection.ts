/**
 * Record protection: turns plaintext fragments into protected records and back.
 *
 * - TLS 1.3 (RFC 8446 §5.2-5.3): TLSInnerPlaintext (content ‖ type ‖ zero padding) sealed with the
 *   suite's AEAD; nonce = IV XOR 64-bit sequence number; AAD = the record header; outer type 23.
 * - TLS 1.2 AES-GCM (RFC 5288 §3): nonce = 4-byte salt ‖ 8-byte explicit part (sent in the record,
 *   we use the sequence number); AAD = seq ‖ type ‖ version ‖ plaintext length (RFC 5246 §6.2.3.3).
 * - TLS 1.2 ChaCha20-Poly1305 (RFC 7905 §2): 1.3-style nonce, 1.2-style AAD, nothing explicit.
 * - TLS 1.2 CBC + HMAC (legacy; RFC 5246 §6.2.3.2), MAC-then-encrypt or encrypt-then-MAC (RFC 7366).
 *   Padding and MAC checks are not constant-time: that is one reason the CBC suites are opt-in.
 *
 * `open` returns undefined when authentication fails; the caller sends bad_record_mac.
 *
 * AES-GCM records can also be opened ahead, asynchronously, with WebCrypto (native AES, many times
 * faster than the pure-JS cipher): the stream adapter calls {@link RecordCipher.preopen} with the
 * complete records waiting, then the state machine's synchronous `open` takes the results by
 * sequence number. A record that was not (or could not be) opened ahead, e.g. after a KeyUpdate
 * replaced the cipher mid-batch, is opened synchronously as before; WebCrypto failures are never
 * trusted as verdicts, only successes are used.
 */
import { gcm, cbc } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { concatBytes, constantTimeEqual } from '../../shared/bytes.ts';
import { ContentType, TLS12 } from './tls-constants.ts';
import type { CipherSuite } from './tls-cipher-suites.ts';
import { RECORD_HEADER_BYTES, emitRecord } from './tls-record.ts';

const TAG = 16;

/** One direction's record protection. */
export interface RecordCipher {
  /** A complete protected record carrying `plaintext` of content type `type`. */
  seal(type: number, plaintext: Uint8Array): Uint8Array;
  /** The plaintext and its real content type, or undefined when the record does not authenticate. */
  open(type: number, body: Uint8Array): { type: number; data: Uint8Array } | undefined;
  /** Bytes a record adds to its plaintext at most (for sizing fragments). */
  readonly overhead: number;
  /**
   * Opens `records` (the next ones this cipher will see, in order) ahead with WebCrypto, so that
   * `open` finds them done. Only where it pays (AES-GCM, WebCrypto present); never rejects.
   */
  preopen?(records: readonly { type: number; body: Uint8Array }[]): Promise<void>;
}

/** Byte equality of public data (ciphertexts); the same view of the same memory is equal at once. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Records smaller than this are opened synchronously: a WebCrypto call costs more than it saves. */
const PREOPEN_MIN_BYTES = 512;

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
}

/**
 * AES-GCM results computed ahead by WebCrypto, by sequence number. A result is used only for a
 * record whose ciphertext is byte for byte the one that was decrypted and authenticated.
 */
class Preopened {
  private key: Promise<CryptoKey> | undefined;
  private readonly done = new Map<number, { ct: Uint8Array; data: Uint8Array }>();

  constructor(private readonly raw: Uint8Array) {}

  static usable(suite: CipherSuite): boolean {
    return suite.cipher !== 'chacha20-poly1305' && !suite.cipher.endsWith('cbc') && subtle() !== undefined;
  }

  /**
   * Opens the application-data records among `records` (sequence numbers from `firstSeq`) that are
   * big enough to pay and not done yet, in parallel; `job` gives each one's nonce, AAD and
   * ciphertext. Only successes are kept: failures are left for the synchronous path to judge.
   */
  async openAhead(
    records: readonly { type: number; body: Uint8Array }[],
    firstSeq: number,
    job: (seq: number, type: number, body: Uint8Array) => { nonce: Uint8Array; aad: Uint8Array; ct: Uint8Array },
  ): Promise<void> {
    const jobs: { seq: number; nonce: Uint8Array; aad: Uint8Array; ct: Uint8Array }[] = [];
    records.forEach(({ type, body }, i) => {
      // Only application data: a record of another type may change the keys (a Finished) first.
      if (type === ContentType.applicationData && body.length >= PREOPEN_MIN_BYTES && !this.done.has(firstSeq + i)) jobs.push({ seq: firstSeq + i, ...job(firstSeq + i, type, body) });
    });
    const s = subtle();
    if (!s || jobs.length === 0) return;
    try {
      this.key ??= s.importKey('raw', this.raw as BufferSource, { name: 'AES-GCM' }, false, ['decrypt']);
      const key = await this.key;
      await Promise.all(
        jobs.map(async (j) => {
          try {
            const plain = new Uint8Array(await s.decrypt({ name: 'AES-GCM', iv: j.nonce as BufferSource, additionalData: j.aad as BufferSource, tagLength: 128 }, key, j.ct as BufferSource));
            this.done.set(j.seq, { ct: j.ct, data: plain });
          } catch {
            // not authentic under this key (or a KeyUpdate came first): the sync path decides
          }
        }),
      );
    } catch {
      this.key = undefined;
    }
  }

  /** The result for record `seq` with ciphertext `ct`, taken out; undefined when not done ahead. */
  take(seq: number, ct: Uint8Array): Uint8Array | undefined {
    const r = this.done.get(seq);
    if (!r) return undefined;
    this.done.delete(seq);
    return sameBytes(r.ct, ct) ? r.data : undefined;
  }
}

function seqBytes(seq: number): Uint8Array {
  const b = new Uint8Array(8);
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  b[0] = hi >>> 24;
  b[1] = hi >>> 16;
  b[2] = hi >>> 8;
  b[3] = hi;
  b[4] = lo >>> 24;
  b[5] = lo >>> 16;
  b[6] = lo >>> 8;
  b[7] = lo;
  return b;
}

function xorNonce(iv: Uint8Array, seq: number): Uint8Array {
  const nonce = iv.slice();
  const s = seqBytes(seq);
  for (let i = 0; i < 8; i++) nonce[nonce.length - 8 + i]! ^= s[i]!;
  return nonce;
}

function aead(suite: CipherSuite, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  return suite.cipher === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
}

function header(type: number, length: number): Uint8Array {
  return Uint8Array.of(type, 3, 3, length >>> 8, length & 0xff);
}

/** TLS 1.3 record protection for one traffic secret generation. */
export class Tls13RecordCipher implements RecordCipher {
  private seq = 0;
  readonly overhead = 1 + TAG;
  private readonly ahead: Preopened | undefined;
  constructor(
    private readonly suite: CipherSuite,
    private readonly key: Uint8Array,
    private readonly iv: Uint8Array,
  ) {
    if (Preopened.usable(suite)) this.ahead = new Preopened(key);
  }

  preopen(records: readonly { type: number; body: Uint8Array }[]): Promise<void> {
    return this.ahead?.openAhead(records, this.seq, (seq, type, body) => ({ nonce: xorNonce(this.iv, seq), aad: header(type, body.length), ct: body })) ?? Promise.resolve();
  }

  seal(type: number, plaintext: Uint8Array): Uint8Array {
    const inner = new Uint8Array(plaintext.length + 1);
    inner.set(plaintext);
    inner[plaintext.length] = type;
    const hdr = header(ContentType.applicationData, inner.length + TAG);
    const ct = aead(this.suite, this.key, xorNonce(this.iv, this.seq++), hdr).encrypt(inner);
    const out = new Uint8Array(RECORD_HEADER_BYTES + ct.length);
    out.set(hdr);
    out.set(ct, RECORD_HEADER_BYTES);
    return out;
  }

  open(type: number, body: Uint8Array): { type: number; data: Uint8Array } | undefined {
    if (type !== ContentType.applicationData || body.length < TAG + 1) return undefined;
    let inner = this.ahead?.take(this.seq, body);
    if (!inner) {
      try {
        inner = aead(this.suite, this.key, xorNonce(this.iv, this.seq), header(type, body.length)).decrypt(body);
      } catch {
        return undefined;
      }
    }
    this.seq++;
    // Strip the zero padding; the last non-zero byte is the real content type (RFC 8446 §5.4).
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) return { type: 0, data: new Uint8Array(0) };
    return { type: inner[end]!, data: inner.subarray(0, end) };
  }
}

/** TLS 1.2 AEAD record protection (AES-GCM or ChaCha20-Poly1305). */
export class Tls12AeadRecordCipher implements RecordCipher {
  private seq = 0;
  readonly overhead: number;
  private readonly explicitNonce: boolean;
  private readonly ahead: Preopened | undefined;
  constructor(
    private readonly suite: CipherSuite,
    private readonly key: Uint8Array,
    private readonly iv: Uint8Array,
  ) {
    this.explicitNonce = suite.cipher !== 'chacha20-poly1305';
    this.overhead = TAG + (this.explicitNonce ? 8 : 0);
    if (Preopened.usable(suite)) this.ahead = new Preopened(key);
  }

  preopen(records: readonly { type: number; body: Uint8Array }[]): Promise<void> {
    return (
      this.ahead?.openAhead(records, this.seq, (seq, type, body) => {
        const nonce = new Uint8Array(12);
        nonce.set(this.iv);
        nonce.set(body.subarray(0, 8), 4);
        const ct = body.subarray(8);
        return { nonce, aad: this.aad(seqBytes(seq), type, ct.length - TAG), ct };
      }) ?? Promise.resolve()
    );
  }

  private aad(seq: Uint8Array, type: number, length: number): Uint8Array {
    const a = new Uint8Array(13);
    a.set(seq);
    a[8] = type;
    a[9] = 3;
    a[10] = 3;
    a[11] = length >>> 8;
    a[12] = length & 0xff;
    return a;
  }

  seal(type: number, plaintext: Uint8Array): Uint8Array {
    const seq = seqBytes(this.seq);
    const nonce = this.explicitNonce ? new Uint8Array([...this.iv, ...seq]) : xorNonce(this.iv, this.seq);
    this.seq++;
    const ct = aead(this.suite, this.key, nonce, this.aad(seq, type, plaintext.length)).encrypt(plaintext);
    return emitRecord(type, TLS12, this.explicitNonce ? concatBytes(seq, ct) : ct);
  }

  open(type: number, body: Uint8Array): { type: number; data: Uint8Array } | undefined {
    const seq = seqBytes(this.seq);
    let nonce: Uint8Array;
    let ct: Uint8Array;
    if (this.explicitNonce) {
      if (body.length < 8 + TAG) return undefined;
      nonce = new Uint8Array(12);
      nonce.set(this.iv);
      nonce.set(body.subarray(0, 8), 4);
      ct = body.subarray(8);
    } else {
      if (body.length < TAG) return undefined;
      nonce = xorNonce(this.iv, this.seq);
      ct = body;
    }
    try {
      const data = this.ahead?.take(this.seq, ct) ?? aead(this.suite, this.key, nonce, this.aad(seq, type, ct.length - TAG)).decrypt(ct);
      this.seq++;
      return { type, data };
    } catch {
      return undefined;
    }
  }
}

/** TLS 1.2 CBC + HMAC record protection (legacy suites only). */
export class Tls12CbcRecordCipher implements RecordCipher {
  private seq = 0;
  readonly overhead: number;
  private readonly macLength: number;
  constructor(
    private readonly suite: CipherSuite,
    private readonly key: Uint8Array,
    private readonly macKey: Uint8Array,
    private readonly encryptThenMac: boolean,
    private readonly random: (n: number) => Uint8Array,
  ) {
    this.macLength = suite.macLength!;
    this.overhead = 16 + this.macLength + 16;
  }

  private mac(seq: Uint8Array, type: number, data: Uint8Array): Uint8Array {
    const m = new Uint8Array(13 + data.length);
    m.set(seq);
    m[8] = type;
    m[9] = 3;
    m[10] = 3;
    m[11] = data.length >>> 8;
    m[12] = data.length & 0xff;
    m.set(data, 13);
    return hmac(this.suite.mac!, this.macKey, m);
  }

  private pad(data: Uint8Array): Uint8Array {
    const padLen = 15 - (data.length % 16);
    const out = new Uint8Array(data.length + padLen + 1);
    out.set(data);
    out.fill(padLen, data.length);
    return out;
  }

  seal(type: number, plaintext: Uint8Array): Uint8Array {
    const seq = seqBytes(this.seq++);
    const iv = this.random(16);
    if (this.encryptThenMac) {
      const ct = cbc(this.key, iv, { disablePadding: true }).encrypt(this.pad(plaintext));
      const body = new Uint8Array(16 + ct.length + this.macLength);
      body.set(iv);
      body.set(ct, 16);
      body.set(this.mac(seq, type, body.subarray(0, 16 + ct.length)), 16 + ct.length);
      return emitRecord(type, TLS12, body);
    }
    const inner = concatBytes(plaintext, this.mac(seq, type, plaintext));
    return emitRecord(type, TLS12, concatBytes(iv, cbc(this.key, iv, { disablePadding: true }).encrypt(this.pad(inner))));
  }

  open(type: number, body: Uint8Array): { type: number; data: Uint8Array } | undefined {
    const seq = seqBytes(this.seq);
    try {
      if (this.encryptThenMac) {
        const macAt = body.length - this.macLength;
        if (macAt < 32 || (macAt - 16) % 16 !== 0) return undefined;
        if (!constantTimeEqual(this.mac(seq, type, body.subarray(0, macAt)), body.subarray(macAt))) return undefined;
        const padded = cbc(this.key, body.subarray(0, 16), { disablePadding: true }).decrypt(body.subarray(16, macAt));
        const padLen = padded[padded.length - 1]!;
        if (padLen + 1 > padded.length) return undefined;
        for (let i = padded.length - 1 - padLen; i < padded.length; i++) if (padded[i] !== padLen) return undefined;
        this.seq++;
        return { type, data: padded.subarray(0, padded.length - 1 - padLen) };
      }
      if (body.length < 32 || body.length % 16 !== 0) return undefined;
      const padded = cbc(this.key, body.subarray(0, 16), { disablePadding: true }).decrypt(body.subarray(16));
      const padLen = padded[padded.length - 1]!;
      if (padLen + 1 + this.macLength > padded.length) return undefined;
      let ok = true;
      for (let i = padded.length - 1 - padLen; i < padded.length; i++) if (padded[i] !== padLen) ok = false;
      const dataLen = padded.length - 1 - padLen - this.macLength;
      const data = padded.subarray(0, dataLen);
      const mac = this.mac(seq, type, data);
      if (!constantTimeEqual(mac, padded.subarray(dataLen, dataLen + this.macLength)) || !ok) return undefined;
      this.seq++;
      return { type, data };
    } catch {
      return undefined;
    }
  }
}
