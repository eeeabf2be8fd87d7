/**
 * Record protection in memory: records sealed by one side open on the other for every AEAD suite,
 * and AES-GCM records opened ahead on WebCrypto (`preopen`) give the same plaintext as the
 * synchronous path, are used only for the exact record they were made for, and never turn a
 * forged record into an accepted one. The record buffer cuts records out of any chunking.
 */
import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cipherSuite } from '../../../src/protocols/tls/tls-cipher-suites.ts';
import { Tls12AeadRecordCipher, Tls13RecordCipher, type RecordCipher } from '../../../src/protocols/tls/tls-record-protection.ts';
import { RecordBuffer } from '../../../src/protocols/tls/tls-record.ts';
import { ContentType } from '../../../src/protocols/tls/tls-constants.ts';

const subtle = globalThis.crypto.subtle;
const realDecrypt = subtle.decrypt;
let webCryptoDecrypts = 0;
/** Counts WebCrypto decrypt calls (the record layer's only use of it). */
function countDecrypts(): void {
  webCryptoDecrypts = 0;
  subtle.decrypt = function (this: SubtleCrypto, ...args: Parameters<SubtleCrypto['decrypt']>) {
    webCryptoDecrypts++;
    return realDecrypt.apply(this, args);
  } as SubtleCrypto['decrypt'];
}
afterEach(() => {
  subtle.decrypt = realDecrypt;
});

const key16 = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const key32 = Uint8Array.from({ length: 32 }, (_, i) => 200 - i);
const iv12 = Uint8Array.from({ length: 12 }, (_, i) => 0xa0 + i);
const iv4 = iv12.subarray(0, 4);

function pair(id: number): { name: string; seal: RecordCipher; open: RecordCipher } {
  const suite = cipherSuite(id)!;
  const key = suite.keyLength === 16 ? key16 : key32;
  if (suite.version === 'tls13') return { name: suite.name, seal: new Tls13RecordCipher(suite, key, iv12), open: new Tls13RecordCipher(suite, key, iv12) };
  const iv = suite.ivLength === 4 ? iv4 : iv12;
  return { name: suite.name, seal: new Tls12AeadRecordCipher(suite, key, iv), open: new Tls12AeadRecordCipher(suite, key, iv) };
}

/** Cuts sealed records into { type, body } as the record buffer does. */
function bodies(records: Uint8Array[]): { type: number; body: Uint8Array }[] {
  const buf = new RecordBuffer();
  for (const r of records) buf.push(r);
  return buf.peekComplete().map(({ type, body }) => ({ type, body: body.slice() }));
}

const payloads = [new Uint8Array(16384).map((_, i) => i * 7), new Uint8Array(100).fill(9), new Uint8Array(3000).map((_, i) => i)];

describe('record protection', () => {
  for (const id of [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc030, 0xcca8]) {
    test(`${pair(id).name}: sealed records open in order, with and without opening ahead`, async () => {
      for (const ahead of [false, true]) {
        const { seal, open } = pair(id);
        const recs = bodies(payloads.map((p) => seal.seal(ContentType.applicationData, p)));
        if (ahead) await open.preopen?.(recs);
        recs.forEach((r, i) => assert.deepEqual(open.open(r.type, r.body)?.data, payloads[i]));
      }
    });
  }

  test('AES-GCM records of 512 bytes and more are opened ahead on WebCrypto, the small one synchronously', async () => {
    for (const id of [0x1301, 0xc02f]) {
      const { seal, open } = pair(id);
      const recs = bodies(payloads.map((p) => seal.seal(ContentType.applicationData, p)));
      countDecrypts();
      await open.preopen!(recs);
      assert.equal(webCryptoDecrypts, 2);
      recs.forEach((r, i) => assert.deepEqual(open.open(r.type, r.body)?.data, payloads[i]));
    }
  });

  test('ChaCha20-Poly1305 has nothing to open ahead (WebCrypto lacks it)', async () => {
    const { seal, open } = pair(0x1303);
    countDecrypts();
    await open.preopen?.(bodies([seal.seal(ContentType.applicationData, payloads[0]!)]));
    assert.equal(webCryptoDecrypts, 0);
  });

  test('a record changed after it was opened ahead is still refused (bad_record_mac), and the good one after it still opens', async () => {
    const { seal, open } = pair(0x1301);
    const recs = bodies([seal.seal(ContentType.applicationData, payloads[0]!)]);
    await open.preopen!(recs);
    const forged = recs[0]!.body.slice();
    forged[100]! ^= 1;
    assert.equal(open.open(ContentType.applicationData, forged), undefined);
    assert.deepEqual(open.open(ContentType.applicationData, recs[0]!.body)?.data, payloads[0]);
  });

  test('records sealed under other keys (a KeyUpdate mid-batch) fail ahead quietly and are judged by the synchronous path', async () => {
    const suite = cipherSuite(0x1301)!;
    const other = new Tls13RecordCipher(suite, key16.map((b) => b ^ 0xff), iv12);
    const recs = bodies([other.seal(ContentType.applicationData, payloads[0]!)]);
    const open = new Tls13RecordCipher(suite, key16, iv12);
    await open.preopen(recs);
    assert.equal(open.open(ContentType.applicationData, recs[0]!.body), undefined);
  });
});

describe('RecordBuffer', () => {
  test('cuts the same records out of one-byte chunks and one big chunk, and peeks without taking', () => {
    const { seal } = pair(0x1301);
    const wire = payloads.map((p) => seal.seal(ContentType.applicationData, p));
    const all = new Uint8Array(wire.reduce((n, r) => n + r.length, 0));
    let at = 0;
    for (const r of wire) all.set(r, (at += r.length) - r.length);
    const byByte = new RecordBuffer();
    for (const b of all) byByte.push(Uint8Array.of(b));
    const whole = new RecordBuffer();
    whole.push(all.subarray(0, all.length - 1));
    assert.equal(whole.peekComplete().length, 2, 'the last record is one byte short');
    whole.push(all.subarray(all.length - 1));
    assert.deepEqual(byByte.peekComplete().map((r) => r.body.length), wire.map((r) => r.length - 5));
    for (const buf of [byByte, whole]) {
      for (const r of wire) assert.deepEqual(buf.next()?.body, r.subarray(5));
      assert.equal(buf.next(), undefined);
      assert.equal(buf.pending, 0);
    }
  });

  test('refuses an unknown content type and an oversized record; peeking stops there quietly', () => {
    const buf = new RecordBuffer();
    buf.push(Uint8Array.of(99, 3, 3, 0, 1, 0));
    assert.deepEqual(buf.peekComplete(), []);
    assert.throws(() => buf.next(), /unknown content type 99/);
    const big = new RecordBuffer();
    big.maxBody = 10;
    big.push(Uint8Array.of(23, 3, 3, 0, 11));
    assert.throws(() => big.next(), /more than the 10 allowed/);
  });
});
