/**
 * The packet list's TLS recogniser reads real handshakes between openssl s_client and s_server
 * (fixtures/openssl-handshakes.ts) as a packet analyser would, names what our own client sends,
 * and says nothing (or names the problem) for bytes that are not TLS, never throwing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cipherSuiteName, summarizeTlsPayload, tlsVersionName } from '../../../src/protocols/tls/tls-record-summary.ts';
import { TlsClient } from '../../../src/protocols/tls/tls-client.ts';
import { emitHandshake, emitRecord } from '../../../src/protocols/tls/tls-record.ts';
import { handshakeFlight } from './fixtures/openssl-handshakes.ts';

const concat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('summarizeTlsPayload: real openssl handshakes', () => {
  test('a ClientHello names its SNI, the versions it offers (supported_versions) and ALPN', () => {
    const s = summarizeTlsPayload(handshakeFlight('tls13', 0))!;
    assert.equal(s.contentType, 'Handshake');
    assert.equal(s.recordVersion, 'TLS 1.0', 'openssl writes 3.1 in the first record header (RFC 8446 §5.1 allows it)');
    assert.deepEqual(s.messages, ['Client Hello']);
    assert.equal(s.sni, 'fixture.wgweb.test');
    assert.deepEqual(s.offeredVersions, ['TLS 1.3', 'TLS 1.2', 'TLS 1.1', 'TLS 1.0']);
    assert.deepEqual(s.alpn, ['http/1.1']);
    assert.equal(s.info, 'Client Hello (SNI=fixture.wgweb.test, TLS 1.3/1.2/1.1/1.0, ALPN http/1.1)');
    assert.equal(s.malformed, undefined);
  });

  test('a TLS 1.3 ServerHello gives the version from supported_versions (the legacy field says 1.2) and the suite by name', () => {
    const s = summarizeTlsPayload(handshakeFlight('tls13', 1))!;
    assert.equal(s.version, 'TLS 1.3');
    assert.equal(s.cipherSuite, 'TLS_AES_256_GCM_SHA384');
    assert.equal(s.helloRetryRequest, undefined);
    // The rest of the flight is the compatibility ChangeCipherSpec and encrypted records.
    assert.deepEqual(s.messages, ['Server Hello', 'Change Cipher Spec', 'Application Data', 'Application Data', 'Application Data', 'Application Data']);
    assert.equal(s.records, 6, 'one record per message here: the packet list prints the count');
    assert.match(s.info, /^Server Hello \(TLS 1\.3, TLS_AES_256_GCM_SHA384\), Change Cipher Spec, Application Data \(encrypted, 23 bytes\)/);
  });

  test('TLS 1.2: ServerHello, the Certificate in the clear with the leaf subject and issuer, ServerKeyExchange, ServerHelloDone', () => {
    const s = summarizeTlsPayload(handshakeFlight('tls12', 1))!;
    assert.deepEqual(s.messages, ['Server Hello', 'Certificate', 'Server Key Exchange', 'Server Hello Done']);
    assert.equal(s.version, 'TLS 1.2');
    assert.equal(s.cipherSuite, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    assert.equal(s.certificateSubject, 'fixture.wgweb.test');
    assert.equal(s.certificateIssuer, 'Fixture Teaching CA');
    assert.equal(
      s.info,
      'Server Hello (TLS 1.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256), Certificate (CN=fixture.wgweb.test, issued by CN=Fixture Teaching CA), Server Key Exchange, Server Hello Done',
    );
  });

  test('TLS 1.2: the Finished after ChangeCipherSpec is an encrypted handshake message', () => {
    assert.equal(summarizeTlsPayload(handshakeFlight('tls12', 2))!.info, 'Client Key Exchange, Change Cipher Spec, Encrypted Handshake Message');
    assert.equal(summarizeTlsPayload(handshakeFlight('tls12', 3))!.info, 'Change Cipher Spec, Encrypted Handshake Message');
    // close_notify under the record keys is 26 bytes, not 2: encrypted.
    assert.deepEqual(summarizeTlsPayload(handshakeFlight('tls12', 6))!.messages, ['Encrypted Alert']);
  });

  test('a HelloRetryRequest is recognised by its random and names the group it wants; the second ClientHello follows a ChangeCipherSpec in the clear', () => {
    const hrr = summarizeTlsPayload(handshakeFlight('hrr', 1))!;
    assert.equal(hrr.helloRetryRequest, true);
    assert.equal(hrr.retryGroup, 'secp384r1');
    assert.deepEqual(hrr.messages, ['Hello Retry Request', 'Change Cipher Spec']);
    assert.equal(hrr.info, 'Hello Retry Request (TLS 1.3, TLS_AES_256_GCM_SHA384, wants a secp384r1 key share), Change Cipher Spec');
    const second = summarizeTlsPayload(handshakeFlight('hrr', 2))!;
    assert.deepEqual(second.messages, ['Change Cipher Spec', 'Client Hello']);
    assert.equal(second.sni, 'fixture.wgweb.test');
  });

  test('a fatal alert in the clear names its level and description', () => {
    const s = summarizeTlsPayload(handshakeFlight('untrusted', 2))!;
    assert.deepEqual(s.alert, { level: 'fatal', description: 'unknown_ca' });
    assert.equal(s.info, 'Alert (fatal, unknown_ca)');
  });

  test('a record longer than the segment is labelled from its header and marked as continuing; the next segment is not TLS-labelled', () => {
    const flight = handshakeFlight('tls13', 3);
    const s = summarizeTlsPayload(flight)!;
    assert.equal(s.continues, true);
    assert.match(s.info, /Application Data \(encrypted, \d+ bytes\) \[continues\]$/);
    // A TLS 1.2 server flight cut inside the certificate: the names before the cut still read.
    const cut = summarizeTlsPayload(handshakeFlight('tls12', 1).subarray(0, 300))!;
    assert.deepEqual(cut.messages, ['Server Hello', 'Certificate']);
    assert.equal(cut.continues, true);
    // The middle of a record is ciphertext: no plausible header, no TLS label.
    assert.equal(summarizeTlsPayload(flight.subarray(700)), undefined);
  });
});

describe('summarizeTlsPayload: our own client', () => {
  test('our ClientHello to a name carries SNI and ALPN; to an IP literal no SNI (RFC 6066 §3)', () => {
    const named = new TlsClient({ serverName: 'intranet.test' });
    named.start();
    const s = summarizeTlsPayload(named.takeOutput()!)!;
    assert.equal(s.sni, 'intranet.test');
    assert.deepEqual(s.offeredVersions, ['TLS 1.3', 'TLS 1.2']);
    assert.deepEqual(s.alpn, ['http/1.1']);
    const literal = new TlsClient({ serverName: '10.8.0.1' });
    literal.start();
    const l = summarizeTlsPayload(literal.takeOutput()!)!;
    assert.equal(l.sni, undefined);
    assert.match(l.info, /^Client Hello \(no SNI, TLS 1\.3\/1\.2, ALPN http\/1\.1\)$/);
  });
});

describe('summarizeTlsPayload: not TLS, or broken', () => {
  test('HTTP, SSH banners, empty and short payloads are not TLS', () => {
    const enc = new TextEncoder();
    for (const text of ['GET / HTTP/1.1\r\n\r\n', 'HTTP/1.1 200 OK\r\n', 'SSH-2.0-OpenSSH_9.2\r\n', '', '\x16\x03\x03']) assert.equal(summarizeTlsPayload(enc.encode(text)), undefined, JSON.stringify(text));
    // Plausible type but a version other than 3.x, or an oversized or empty length.
    assert.equal(summarizeTlsPayload(Uint8Array.of(22, 2, 0, 0, 5, 1, 2, 3, 4, 5)), undefined);
    assert.equal(summarizeTlsPayload(Uint8Array.of(22, 3, 5, 0, 5, 1, 2, 3, 4, 5)), undefined, 'record version 3.5 is past TLS 1.3');
    assert.equal(summarizeTlsPayload(Uint8Array.of(23, 3, 3, 0xff, 0xff, 1)), undefined);
    assert.equal(summarizeTlsPayload(Uint8Array.of(23, 3, 3, 0, 0)), undefined);
  });

  test('a ClientHello with a broken extension list keeps its name and says what is malformed', () => {
    const hello = handshakeFlight('tls13', 0);
    const broken = hello.slice();
    // Grow the extensions length (right after compression methods) past the message.
    const body = broken.subarray(9);
    let at = 2 + 32;
    at += 1 + body[at]!;
    at += 2 + ((body[at]! << 8) | body[at + 1]!);
    at += 1 + body[at]!;
    body[at] = 0xff;
    const s = summarizeTlsPayload(broken)!;
    assert.deepEqual(s.messages, ['Client Hello']);
    assert.match(s.malformed ?? '', /truncated|outside/);
    assert.match(s.info, /malformed/);
  });

  test('a handshake record that does not frame as messages is an encrypted handshake message; junk after a record is named', () => {
    const opaque = emitRecord(22, 0x0303, new Uint8Array(40).fill(0xee));
    assert.deepEqual(summarizeTlsPayload(opaque)!.messages, ['Encrypted Handshake Message']);
    const tail = concat(emitRecord(21, 0x0303, Uint8Array.of(1, 0)), Uint8Array.of(0x47, 0x45, 0x54, 0x20, 0x2f, 0x20));
    const s = summarizeTlsPayload(tail)!;
    assert.equal(s.info, 'Alert (warning, close_notify)');
    assert.match(s.malformed ?? '', /not a TLS record header/);
  });

  test('a Certificate whose DER is garbage gives no names and does not throw', () => {
    const cert = emitHandshake(11, Uint8Array.of(0, 0, 8, 0, 0, 5, 0x30, 0x83, 0xff, 0xff, 0xff));
    const s = summarizeTlsPayload(emitRecord(22, 0x0303, cert))!;
    assert.deepEqual(s.messages, ['Certificate']);
    assert.equal(s.certificateSubject, undefined);
  });

  test('names: versions, suites, GREASE', () => {
    assert.equal(tlsVersionName(0x0304), 'TLS 1.3');
    assert.equal(tlsVersionName(0x0300), 'SSL 3.0');
    assert.equal(tlsVersionName(0x7a7a), 'GREASE');
    assert.equal(tlsVersionName(0x7f1c), '0x7f1c');
    assert.equal(cipherSuiteName(0x1303), 'TLS_CHACHA20_POLY1305_SHA256');
    assert.equal(cipherSuiteName(0xc02f), 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    assert.equal(cipherSuiteName(0x1234), '0x1234');
  });
});
