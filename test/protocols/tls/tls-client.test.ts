/**
 * The sans-IO client in memory: what its ClientHello says (SNI only for names, ALPN, versions),
 * and that bad bytes from the network end the connection with an alert and an error, never an
 * exception out of receive().
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { TlsClient } from '../../../src/protocols/tls/tls-client.ts';
import { TlsReader } from '../../../src/protocols/tls/tls-codec.ts';
import { parseExtensions } from '../../../src/protocols/tls/tls-handshake-messages.ts';
import { RecordBuffer } from '../../../src/protocols/tls/tls-record.ts';
import { ExtensionType } from '../../../src/protocols/tls/tls-constants.ts';
import { ErrorCode } from '../../../src/shared/errors.ts';

/** Starts a client and parses its ClientHello's extensions. */
function helloOf(serverName: string, options: Partial<ConstructorParameters<typeof TlsClient>[0]> = {}): { client: TlsClient; ext: Map<number, Uint8Array>; record: Uint8Array } {
  const client = new TlsClient({ serverName, ...options });
  client.start();
  const record = client.takeOutput()!;
  assert.equal(record[0], 22, 'a handshake record');
  const body = record.subarray(5 + 4);
  const r = new TlsReader(body);
  r.u16();
  r.take(32);
  r.vector(1);
  r.vector(2);
  r.vector(1);
  return { client, ext: parseExtensions(r), record };
}

describe('ClientHello', () => {
  test('carries SNI for a host name, ALPN http/1.1, TLS 1.3 and 1.2, and an x25519 key share', () => {
    const { ext } = helloOf('Intranet.Example.');
    const sni = new TextDecoder().decode(ext.get(ExtensionType.serverName)!.subarray(5));
    assert.equal(sni, 'intranet.example');
    assert.match(new TextDecoder().decode(ext.get(ExtensionType.alpn)!), /http\/1\.1/);
    assert.deepEqual([...ext.get(ExtensionType.supportedVersions)!], [4, 3, 4, 3, 3]);
    assert.ok(ext.has(ExtensionType.keyShare));
    assert.ok(ext.has(ExtensionType.extendedMasterSecret));
    assert.ok(ext.has(ExtensionType.renegotiationInfo));
    assert.ok(!ext.has(ExtensionType.encryptThenMac), 'legacy extensions stay off by default');
  });

  test('sends no SNI for IPv4 and IPv6 literals (RFC 6066 §3)', () => {
    assert.ok(!helloOf('10.0.0.2').ext.has(ExtensionType.serverName));
    assert.ok(!helloOf('[fd00::1]').ext.has(ExtensionType.serverName));
  });

  test('TLS 1.2 only: no supported_versions, no key share', () => {
    const { ext } = helloOf('a.test', { tls13: false });
    assert.ok(!ext.has(ExtensionType.supportedVersions));
    assert.ok(!ext.has(ExtensionType.keyShare));
  });

  test('legacy mode offers CBC suites and encrypt_then_mac', () => {
    const normal = helloOf('a.test').record;
    const { ext, record } = helloOf('a.test', { legacy: true });
    assert.ok(ext.has(ExtensionType.encryptThenMac));
    assert.ok(record.length > normal.length);
  });
});

describe('bad bytes from the server', () => {
  const cases: [string, number[]][] = [
    ['an unknown record type', [99, 3, 3, 0, 1, 0]],
    ['a record longer than TLS allows', [22, 3, 3, 0xff, 0xff]],
    ['application data before the handshake', [23, 3, 3, 0, 1, 0]],
    ['a handshake message that is not ServerHello', [22, 3, 3, 0, 4, 11, 0, 0, 0]],
    ['a ServerHello cut short inside its record', [22, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3]],
    ['a malformed alert', [21, 3, 3, 0, 3, 2, 40, 0]],
  ];
  for (const [what, bytes] of cases) {
    test(`${what}: the client fails with a fatal alert and a TLS_HANDSHAKE_FAILED error, without throwing`, () => {
      const client = new TlsClient({ serverName: 'a.test' });
      client.start();
      client.takeOutput();
      assert.doesNotThrow(() => client.receive(Uint8Array.from(bytes)));
      assert.equal(client.state, 'failed');
      assert.ok([ErrorCode.TLS_HANDSHAKE_FAILED, ErrorCode.TLS_PROTOCOL_VERSION].includes(client.error!.code as never), client.error!.message);
      const alert = client.takeOutput();
      assert.ok(alert && alert[0] === 21 && alert[5] === 2, 'a fatal alert record goes out');
    });
  }

  test('random garbage never throws out of receive (1000 seeded inputs)', () => {
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    for (let i = 0; i < 1000; i++) {
      const client = new TlsClient({ serverName: 'a.test' });
      client.start();
      const len = 5 + (rnd() % 60);
      const bytes = Uint8Array.from({ length: len }, rnd);
      if (i % 2 === 0) bytes.set([22, 3, 3, 0, len - 5]);
      assert.doesNotThrow(() => client.receive(bytes));
      assert.notEqual(client.state, 'open');
    }
  });
});

describe('RecordBuffer', () => {
  test('cuts records across arbitrary chunk boundaries', () => {
    const rb = new RecordBuffer();
    const stream = [22, 3, 3, 0, 2, 1, 2, 23, 3, 3, 0, 1, 9];
    for (const b of stream) rb.push(Uint8Array.of(b));
    assert.deepEqual([...rb.next()!.body], [1, 2]);
    assert.deepEqual([...rb.next()!.body], [9]);
    assert.equal(rb.next(), undefined);
  });
});
