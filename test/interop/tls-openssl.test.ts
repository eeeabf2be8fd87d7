/**
 * The TLS client against a real `openssl s_server` on loopback: every supported version, suite,
 * group and key type; HelloRetryRequest; client-certificate requests; long chains; resumption;
 * and the ways a handshake breaks. HTTPS goes through the real HttpClient + TLS connector.
 * It lives with the interop suites because it starts dozens of real servers (slow on a loaded machine);
 * the same server behind wireguard-go runs in tls-https.test.ts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { once } from 'node:events';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import { parseIp } from '../../src/shared/ip-address.ts';
import { HttpClient } from '../../src/protocols/http/http-client.ts';
import { createTlsConnector } from '../../src/protocols/tls/tls-connector.ts';
import { connectTls } from '../../src/protocols/tls/tls-connection.ts';
import type { TlsEvent, VerificationRequest } from '../../src/protocols/tls/tls-client.ts';
import { TlsTicketCache } from '../../src/protocols/tls/tls-ticket-cache.ts';
import { TrustStore } from '../../src/protocols/tls/trust-store.ts';
import { NodeDialer } from '../helpers/node-dialer.ts';
import { TestPki, type KeyType, type TestCert } from '../../harness/test-pki.ts';
import { startOpensslServer, type OpensslServer } from '../../harness/openssl-server.ts';
import { binariesSkipReason } from '../../harness/requirements.ts';

const skip = binariesSkipReason(['openssl'], 'TLS against openssl');
const dialer = new NodeDialer();
const loopback = parseIp('127.0.0.1');
let pki: TestPki;
const certs = new Map<string, TestCert>();
const servers: OpensslServer[] = [];

function leafOf(key: KeyType): TestCert {
  let c = certs.get(key);
  if (!c) {
    c = pki.leaf(`leaf-${key}`, { issuer: certs.get('root')!, key, dns: ['intranet.test'], ips: ['127.0.0.1'] });
    certs.set(key, c);
  }
  return c;
}

async function server(args: string[], cert: TestCert = leafOf('ec-p256')): Promise<OpensslServer> {
  const s = await startOpensslServer({ cert, args: [...args, '-www'] });
  servers.push(s);
  return s;
}

/** An HttpClient whose https goes through the TLS connector (certificates unchecked: this suite is about the protocol). */
function httpsClient(events: TlsEvent[], tickets = new TlsTicketCache()): HttpClient {
  return new HttpClient({
    dialer,
    resolver: { lookup: async () => [loopback] },
    tls: createTlsConnector({ trust: undefined, ticketCache: tickets, onEvent: (_h, _p, e) => events.push(e) }),
  });
}

async function get(srv: OpensslServer, tickets?: TlsTicketCache): Promise<{ text: string; events: TlsEvent[] }> {
  const events: TlsEvent[] = [];
  const c = httpsClient(events, tickets);
  try {
    const r = await c.fetch(`https://intranet.test:${srv.port}/`, { insecure: true });
    assert.equal(r.status, 200);
    return { text: await r.text(), events };
  } finally {
    c.close();
  }
}

function established(events: TlsEvent[]): string {
  const e = events.find((x) => x.kind === 'established');
  assert.ok(e, `no established event in ${JSON.stringify(events)}`);
  return e.text;
}

describe('TLS client against openssl s_server (loopback)', { skip }, () => {
  before(async () => {
    pki = await TestPki.create();
    certs.set('root', pki.ca('root'));
  });
  after(async () => {
    for (const s of servers) await s.close();
    dialer.destroyAll();
    pki?.cleanup();
  });

  const matrix: { name: string; args: string[]; key?: KeyType; expect: RegExp }[] = [
    { name: 'TLS 1.3 only, ECDSA P-256', args: ['-tls1_3'], expect: /TLS 1\.3, TLS_AES_128_GCM_SHA256, x25519/ },
    { name: 'TLS 1.3 with AES-256-GCM-SHA384', args: ['-tls1_3', '-ciphersuites', 'TLS_AES_256_GCM_SHA384'], expect: /TLS 1\.3, TLS_AES_256_GCM_SHA384/ },
    { name: 'TLS 1.3 preferring ChaCha20', args: ['-tls1_3', '-ciphersuites', 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256', '-serverpref'], expect: /TLS_CHACHA20_POLY1305_SHA256/ },
    { name: 'TLS 1.3, RSA 2048 (RSA-PSS CertificateVerify)', args: ['-tls1_3'], key: 'rsa-2048', expect: /TLS 1\.3/ },
    { name: 'TLS 1.3, RSA 4096', args: ['-tls1_3'], key: 'rsa-4096', expect: /TLS 1\.3/ },
    { name: 'TLS 1.3, Ed25519 certificate', args: ['-tls1_3'], key: 'ed25519', expect: /TLS 1\.3/ },
    { name: 'TLS 1.3, ECDSA P-384 certificate', args: ['-tls1_3'], key: 'ec-p384', expect: /TLS 1\.3/ },
    { name: 'TLS 1.2 only, ECDHE-ECDSA AES-128-GCM', args: ['-tls1_2'], expect: /TLS 1\.2, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, x25519/ },
    { name: 'TLS 1.2, ECDHE-RSA AES-256-GCM (RSA 2048)', args: ['-tls1_2', '-cipher', 'ECDHE-RSA-AES256-GCM-SHA384'], key: 'rsa-2048', expect: /TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384/ },
    { name: 'TLS 1.2, ECDHE-ECDSA ChaCha20-Poly1305', args: ['-tls1_2', '-cipher', 'ECDHE-ECDSA-CHACHA20-POLY1305'], expect: /TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256/ },
    { name: 'TLS 1.2, ECDHE-RSA ChaCha20-Poly1305 (RSA 4096)', args: ['-tls1_2', '-cipher', 'ECDHE-RSA-CHACHA20-POLY1305'], key: 'rsa-4096', expect: /TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256/ },
    { name: 'TLS 1.2 over P-384 ECDHE', args: ['-tls1_2', '-groups', 'P-384'], expect: /TLS 1\.2, .*P-384/ },
    { name: 'a server with only P-384 forces a HelloRetryRequest', args: ['-tls1_3', '-groups', 'P-384'], expect: /TLS 1\.3, .*P-384/ },
    { name: 'a server with only P-256 forces a HelloRetryRequest', args: ['-tls1_3', '-groups', 'P-256'], expect: /TLS 1\.3, .*P-256/ },
    { name: 'a server asking for an optional client certificate (TLS 1.3) gets none', args: ['-tls1_3', '-verify', '1'], expect: /TLS 1\.3/ },
    { name: 'a server asking for an optional client certificate (TLS 1.2) gets none', args: ['-tls1_2', '-verify', '1'], expect: /TLS 1\.2/ },
  ];
  for (const m of matrix) {
    test(`HTTPS works: ${m.name}`, async () => {
      const srv = await server(m.args, leafOf(m.key ?? 'ec-p256'));
      const { text, events } = await get(srv);
      assert.match(text, /s_server/);
      assert.match(established(events), m.expect);
      if (m.args.includes('-groups') && m.args.includes('-tls1_3')) assert.ok(events.some((e) => e.kind === 'hello-retry-request'));
      await srv.close();
    });
  }

  test('a certificate chain larger than one record (5 intermediates padded with 3 kB comments, leaf) is reassembled', async () => {
    let issuer = certs.get('root')!;
    const padding = [`nsComment=${'wgweb '.repeat(500)}`];
    for (let i = 0; i < 5; i++) issuer = pki.ca(`big-inter-${i}`, { issuer, extensions: padding });
    const leaf = pki.leaf('big-leaf', { issuer, dns: ['intranet.test'], extensions: padding });
    for (const args of [['-tls1_3'], ['-tls1_2']]) {
      const srv = await server(args, leaf);
      const { events } = await get(srv);
      const cert = events.find((e) => e.kind === 'certificate');
      assert.match(cert?.text ?? '', /a chain of 6 certificates/);
      const bytes = Number(/\((\d+) bytes\)/.exec(cert!.text)![1]);
      assert.ok(bytes > 16384, `the chain (${bytes} bytes) must not fit one record`);
      await srv.close();
    }
  });

  for (const version of ['-tls1_3', '-tls1_2']) {
    test(`a second connection resumes the session with a ticket (${version})`, async () => {
      const srv = await server([version]);
      const tickets = new TlsTicketCache();
      const first = await get(srv, tickets);
      assert.doesNotMatch(established(first.events), /resumed/);
      assert.ok(tickets.size > 0, 'the server sent a ticket');
      const second = await get(srv, tickets);
      assert.match(established(second.events), /resumed/);
      assert.ok(!second.events.some((e) => e.kind === 'certificate'), 'no certificate in a resumed handshake');
      await srv.close();
    });
  }

  test('a server speaking only TLS 1.3 refuses a TLS-1.2-only client: TLS_PROTOCOL_VERSION', async () => {
    const srv = await server(['-tls1_3']);
    const tcp = await dialer.connectTcp(loopback, srv.port);
    await assert.rejects(connectTls(tcp, { serverName: 'intranet.test', tls13: false, verify: async () => ({}) }), (e: WgwebError) => {
      assert.equal(e.code, ErrorCode.TLS_PROTOCOL_VERSION, e.message);
      assert.match(e.message, /protocol_version/);
      return true;
    });
    await srv.close();
  });

  for (const [cipher, extra] of [['ECDHE-ECDSA-AES128-SHA', []], ['ECDHE-ECDSA-AES256-SHA', ['-no_etm']], ['ECDHE-ECDSA-AES128-SHA256', []]] as const) {
    test(`legacy CBC suites work only when enabled: ${cipher}${extra.length ? ' without encrypt_then_mac' : ''}`, async () => {
      const srv = await server(['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`, ...extra]);
      const refused = await dialer.connectTcp(loopback, srv.port);
      await assert.rejects(connectTls(refused, { serverName: 'intranet.test', verify: async () => ({}) }), (e: WgwebError) => e.code === ErrorCode.TLS_HANDSHAKE_FAILED);
      const tcp = await dialer.connectTcp(loopback, srv.port);
      const tls = await connectTls(tcp, { serverName: 'intranet.test', legacy: true, verify: async () => ({}) });
      assert.equal(tls.info.encryptThenMac, extra.length === 0);
      const w = tls.writable.getWriter();
      await w.write(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
      const text = await new Response(tls.readable).text();
      assert.match(text, /^HTTP\/1\.0 200 ok/);
      await srv.close();
    });
  }

  for (const cipher of ['AES128-GCM-SHA256', 'AES256-SHA256', 'AES128-SHA']) {
    test(`RSA key exchange (no forward secrecy) works only when legacy is enabled: ${cipher} with an RSA 2048 certificate`, async () => {
      const srv = await server(['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`], leafOf('rsa-2048'));
      const refused = await dialer.connectTcp(loopback, srv.port);
      await assert.rejects(connectTls(refused, { serverName: 'intranet.test', verify: async () => ({}) }), (e: WgwebError) => e.code === ErrorCode.TLS_HANDSHAKE_FAILED);
      const tcp = await dialer.connectTcp(loopback, srv.port);
      let checked: VerificationRequest | undefined;
      const tls = await connectTls(tcp, { serverName: 'intranet.test', legacy: true, verify: async (r) => void (checked = r) });
      assert.equal(tls.info.cipherSuite, `TLS_RSA_WITH_${cipher.replace(/^AES(\d+)-(GCM-)?SHA(\d*)$/, (_m, bits, gcm, sha) => `AES_${bits}_${gcm ? 'GCM' : 'CBC'}_SHA${sha}`)}`);
      assert.equal(checked?.signature, undefined, 'no ServerKeyExchange signature: the chain alone was checked, before the premaster secret went out');
      assert.equal(checked?.chain.length, 1);
      const w = tls.writable.getWriter();
      await w.write(new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'));
      const text = await new Response(tls.readable).text();
      assert.match(text, /^HTTP\/1\.0 200 ok/);
      assert.match(text, new RegExp(`Cipher is ${cipher}|${cipher}`));
      await srv.close();
    });
  }

  test('RSA key exchange needs keyEncipherment when the certificate has a keyUsage (RFC 5246 §7.4.2): refused without it, accepted with no keyUsage at all', async () => {
    const signOnly = pki.leaf('rsa-sign-only', { issuer: certs.get('root')!, key: 'rsa-2048', dns: ['intranet.test'], keyUsage: 'critical,digitalSignature' });
    const srv = await server(['-tls1_2', '-cipher', 'AES128-GCM-SHA256:@SECLEVEL=0'], signOnly);
    const tcp = await dialer.connectTcp(loopback, srv.port);
    await assert.rejects(connectTls(tcp, { serverName: 'intranet.test', legacy: true, verify: async () => ({}) }), (e: WgwebError) => {
      assert.equal(e.code, ErrorCode.TLS_HANDSHAKE_FAILED);
      assert.match(e.message, /keyUsage does not allow key encipherment/);
      return true;
    });
    await srv.close();
    const unrestricted = pki.leaf('rsa-no-ku', { issuer: certs.get('root')!, key: 'rsa-2048', dns: ['intranet.test'], keyUsage: null });
    const srv2 = await server(['-tls1_2', '-cipher', 'AES128-GCM-SHA256:@SECLEVEL=0'], unrestricted);
    const tls = await connectTls(await dialer.connectTcp(loopback, srv2.port), { serverName: 'intranet.test', legacy: true, verify: async () => ({}) });
    assert.equal(tls.info.cipherSuite, 'TLS_RSA_WITH_AES_128_GCM_SHA256');
    tls.close();
    await srv2.close();
  });

  test('RSA key exchange with an ECDSA certificate is refused with a reason', async () => {
    // openssl would not even offer an RSA suite with an EC key; a raw check of our side instead.
    const { rsaPublicKeyOf } = await import('../../src/protocols/tls/rsa-key-exchange.ts');
    assert.throws(() => rsaPublicKeyOf(leafOf('ec-p256').der), /not an RSA encryption key/);
  });

  test('KeyUpdate from a real server: s_server asks for an update (K), wgweb answers with its own, data flows both ways under the new keys', async () => {
    const srv = await startOpensslServer({ cert: leafOf('ec-p256'), args: ['-tls1_3'] });
    servers.push(srv);
    const tcp = await dialer.connectTcp(loopback, srv.port);
    const events: TlsEvent[] = [];
    const tls = await connectTls(tcp, { serverName: 'intranet.test', verify: async () => ({}), onEvent: (e) => events.push(e) });
    const reader = tls.readable.getReader();
    const writer = tls.writable.getWriter();
    // Every wait is bounded and says what it saw, so a lost line fails the test instead of hanging it.
    const readUntil = async (want: string): Promise<string> => {
      let got = '';
      const deadline = Date.now() + 10_000;
      while (!got.includes(want)) {
        const left = deadline - Date.now();
        const next = await Promise.race([
          reader.read(),
          new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), Math.max(0, left))),
        ]);
        if (next === 'timeout') assert.fail(`no "${want}" within 10 s; read ${JSON.stringify(got)}; s_server said:\n${srv.output()}`);
        if (next.done) break;
        got += new TextDecoder().decode(next.value);
      }
      return got;
    };
    const waitOutput = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !re.test(srv.output()); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(srv.output(), re);
    };
    const waitEvent = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !events.some((e) => re.test(e.text)); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(events.some((e) => re.test(e.text)), `no event matching ${re}: ${JSON.stringify(events)}`);
    };
    // Let s_server finish its side of the handshake (it reports the session first).
    await writer.write(new TextEncoder().encode('before the update\n'));
    await waitOutput(/before the update/);
    // s_server takes a stdin read that starts with "K\n" as the command and drops the rest of that
    // read, so the next line goes only after our side has seen the KeyUpdate (CI lost it once).
    const reading = readUntil('after the server update');
    srv.send('K');
    await waitEvent(/asks us to update too/);
    srv.send('after the server update');
    assert.match(await reading, /after the server update/);
    assert.ok(events.some((e) => e.kind === 'key-update' && /asks us to update too/.test(e.text)), JSON.stringify(events));
    // Our reply rolled our sending keys: the server still reads us.
    await writer.write(new TextEncoder().encode('after our update\n'));
    await waitOutput(/after our update/);
    // And our own KeyUpdate, unasked.
    tls.client.updateKeys(false);
    await tls.flush();
    await writer.write(new TextEncoder().encode('after a client-initiated update\n'));
    await waitOutput(/after a client-initiated update/);
    tls.abort();
    await srv.close();
  });

  test('ALPN: the server picking http/1.1 is recorded', async () => {
    const srv = await server(['-tls1_3', '-alpn', 'http/1.1']);
    const { events } = await get(srv);
    assert.match(established(events), /ALPN http\/1\.1/);
    await srv.close();
  });

  test('a certificate refused by the verifier ends the handshake with its error and an alert', async () => {
    const srv = await server(['-tls1_3']);
    const tcp = await dialer.connectTcp(loopback, srv.port);
    const refusal = new WgwebError(ErrorCode.TLS_CERT_UNTRUSTED, 'not trusted (test)');
    const events: TlsEvent[] = [];
    await assert.rejects(
      connectTls(tcp, { serverName: 'intranet.test', verify: async () => Promise.reject(refusal), onEvent: (e) => events.push(e) }),
      (e) => e === refusal,
    );
    assert.ok(events.some((e) => e.kind === 'alert-sent' && /unknown_ca/.test(e.text)));
    await srv.close();
  });

  test('the teaching events: ClientHello (SNI, ALPN), ServerHello (version, suite), the certificate with its subject, issuer and verdict, established; a refused certificate says why', async () => {
    const srv = await server(['-tls1_3', '-alpn', 'http/1.1']);
    const trust = new TrustStore();
    trust.addPem(certs.get('root')!.certPem);
    const events: TlsEvent[] = [];
    const client = new HttpClient({ dialer, resolver: { lookup: async () => [loopback] }, tls: createTlsConnector({ trust, onEvent: (_h, _p, e) => events.push(e) }) });
    try {
      const r = await client.fetch(`https://intranet.test:${srv.port}/`);
      assert.equal(r.status, 200);
      // Read the page: s_server -www serves one connection at a time, and the next request waits for this one.
      assert.match(await r.text(), /s_server/);
    } finally {
      client.close();
    }
    assert.deepEqual(
      events.map((e) => e.kind).filter((k) => k !== 'ticket'),
      ['client-hello', 'server-hello', 'certificate', 'certificate-verified', 'established'],
    );
    const [hello, serverHello, , verified, done] = events;
    assert.deepEqual(hello.detail, { sni: 'intranet.test', offered: 'TLS 1.3/TLS 1.2', alpn: 'http/1.1' });
    assert.deepEqual(serverHello.detail, { version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'x25519', resumed: false });
    assert.match(verified.detail!.subject as string, /CN=leaf-ec-p256/);
    assert.match(verified.detail!.issuer as string, /CN=root/);
    assert.equal(verified.detail!.verdict, 'verified (chain to a trusted CA)');
    assert.match(verified.text, /^Certificate: CN=leaf-ec-p256.*, issued by CN=root.*, verified/);
    assert.deepEqual(done.detail, { version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', alpn: 'http/1.1', resumed: false });

    // The same server with nothing trusted: refused, with the leaf's names and the alert we sent.
    const refused: TlsEvent[] = [];
    const bare = new HttpClient({ dialer, resolver: { lookup: async () => [loopback] }, tls: createTlsConnector({ trust: new TrustStore(), onEvent: (_h, _p, e) => refused.push(e) }) });
    try {
      await assert.rejects(bare.fetch(`https://intranet.test:${srv.port}/`), (e: WgwebError) => e.code === ErrorCode.TLS_CERT_UNTRUSTED);
    } finally {
      bare.close();
    }
    const no = refused.find((e) => e.kind === 'certificate-refused');
    assert.ok(no, JSON.stringify(refused));
    assert.equal(no.detail!.code, 'TLS_CERT_UNTRUSTED');
    assert.match(no.text, /^Certificate: CN=leaf-ec-p256.*refused \(TLS_CERT_UNTRUSTED\)/);
    assert.ok(refused.some((e) => e.kind === 'alert-sent' && e.detail?.alert === 'unknown_ca'), JSON.stringify(refused));
    await srv.close();
  });
});

/** A TCP server on loopback that answers a connection with `reply` (bytes or a function of the first chunk) and closes. */
async function rawServer(reply: (first: Buffer) => Buffer | undefined): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = net.createServer((sock) => {
    sock.once('data', (d) => {
      const r = reply(d);
      if (r) sock.end(r);
      else sock.end();
    });
    sock.on('error', () => {});
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

describe('TLS handshakes that break (loopback raw servers)', () => {
  after(() => dialer.destroyAll());

  async function handshake(port: number): Promise<WgwebError> {
    const tcp = await dialer.connectTcp(loopback, port);
    try {
      await connectTls(tcp, { serverName: 'broken.test', verify: async () => ({}) });
    } catch (e) {
      assert.ok(e instanceof WgwebError, String(e));
      return e;
    }
    assert.fail('the handshake should fail');
  }

  test('a server that closes after the ClientHello: TLS_HANDSHAKE_FAILED saying it closed', async () => {
    const s = await rawServer(() => undefined);
    const e = await handshake(s.port);
    assert.equal(e.code, ErrorCode.TLS_HANDSHAKE_FAILED);
    assert.match(e.message, /closed the connection during the TLS handshake/);
    await s.close();
  });

  test('a truncated ServerHello record, then close: TLS_HANDSHAKE_FAILED "in the middle of a record"', async () => {
    const s = await rawServer(() => Buffer.from([22, 3, 3, 0, 90, 2, 0, 0, 86, 3, 3, 1, 2, 3]));
    const e = await handshake(s.port);
    assert.equal(e.code, ErrorCode.TLS_HANDSHAKE_FAILED);
    assert.match(e.message, /in the middle of a record/);
    await s.close();
  });

  test('a plain HTTP server on the port: TLS_HANDSHAKE_FAILED asking whether this is a TLS server', async () => {
    const s = await rawServer(() => Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n'));
    const e = await handshake(s.port);
    assert.equal(e.code, ErrorCode.TLS_HANDSHAKE_FAILED);
    assert.match(e.message, /is this a TLS server/);
    await s.close();
  });

  test('a fatal handshake_failure alert from the server is explained', async () => {
    const s = await rawServer(() => Buffer.from([21, 3, 3, 0, 2, 2, 40]));
    const e = await handshake(s.port);
    assert.equal(e.code, ErrorCode.TLS_HANDSHAKE_FAILED);
    assert.match(e.message, /refused the TLS handshake \(handshake_failure\).*legacy TLS/);
    await s.close();
  });
});
