/**
 * The handshake timeline's model, fed what the page really receives: core TunnelEvents described
 * by the worker's describeTunnelEvent (so the `detail` contract between the two is tested too),
 * with `at` in epoch ms as Session emits them. A handshake under load (cookie reply, retry with
 * MAC2), keepalives folding, a rekey, and a reconnect that starts over.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { describeTunnelEvent } from '../../../../src/session/tunnel-event-text.ts';
import type { TunnelEvent as CoreEvent } from '../../../../src/wireguard/tunnel.ts';
import { HandshakeTimeline, TIMELINE_LIMIT, formatInterval, hexIndex, type TimelineInput } from '../../../../src/browser/ui/lib/handshake-timeline.ts';
import { describeTlsEvent } from '../../../../src/session/tls-event-text.ts';
import { TlsClient, type TlsEvent } from '../../../../src/protocols/tls/tls-client.ts';
import { certificateEvent } from '../../../../src/protocols/tls/tls-connector.ts';
import type { CertificateSummary } from '../../../../src/protocols/tls/certificate-verifier.ts';
import { ErrorCode, WgwebError } from '../../../../src/shared/errors.ts';

const PEER = 'xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=';
const ENDPOINT = { host: '192.0.2.1', port: 51820 };
/** The worker's performance.timeOrigin in this story: epoch = monotonic + ORIGIN (Session rounds it). */
const ORIGIN = 1_700_000_000_000.4;

let nextId = 1;
/** A core event without its peer (distributes over the union, unlike a plain Omit). */
type WithoutPeer<T> = T extends unknown ? Omit<T, 'peer'> : never;
/** An entry as the page's log holds it, from a core event at monotonic time `at`. */
function core(e: WithoutPeer<CoreEvent>): TimelineInput {
  const event = { peer: PEER, ...e } as CoreEvent;
  const text = describeTunnelEvent(event);
  return { id: nextId++, source: 'session', at: Math.round(ORIGIN + event.at), type: text.type, message: text.message, detail: text.detail };
}
function app(type: string, epoch: number): TimelineInput {
  return { id: nextId++, source: 'app', at: epoch, type, message: type };
}

/** connect → relay → initiation → cookie → initiation with MAC2 → response → keys → keepalive. */
function underLoad(): TimelineInput[] {
  return [
    app('connect', 1_700_000_000_100),
    { id: nextId++, source: 'session', at: 1_700_000_000_150, type: 'relay-open', message: '', detail: { endpoint: '192.0.2.1:51820' } },
    core({ type: 'handshake-initiation-sent', at: 150.25, size: 148, senderIndex: 0x1a2b3c4d, attempt: 1, trigger: 'connect', mac2: false, endpoint: ENDPOINT }),
    core({ type: 'cookie-reply-received', at: 151.5, size: 64, receiverIndex: 0x1a2b3c4d, endpoint: ENDPOINT }),
    core({ type: 'handshake-retry', at: 5150.25, attempt: 2, elapsedMs: 5000 }),
    core({ type: 'handshake-initiation-sent', at: 5150.25, size: 148, senderIndex: 0x0badf00d, attempt: 2, trigger: 'retry', mac2: true, endpoint: ENDPOINT }),
    core({ type: 'handshake-response-received', at: 5152, size: 92, senderIndex: 0xcafe0001, receiverIndex: 0x0badf00d, endpoint: ENDPOINT, rttMs: 1.75 }),
    core({ type: 'session-established', at: 5152, role: 'initiator', localIndex: 0x0badf00d, remoteIndex: 0xcafe0001 }),
    core({ type: 'keepalive-sent', at: 5152.125, size: 32, receiverIndex: 0xcafe0001, counter: 0, reason: 'handshake-complete' }),
  ];
}

describe('HandshakeTimeline: a handshake under load', () => {
  test('every message is a step with direction, type, size and indexes', () => {
    const tl = new HandshakeTimeline();
    assert.equal(tl.add(underLoad()), true);
    assert.deepEqual(
      tl.steps.map((s) => [s.type, s.direction, s.messageType, s.size, hexIndex(s.senderIndex), hexIndex(s.receiverIndex), s.highlight]),
      [
        ['connect', 'local', undefined, undefined, '', '', undefined],
        ['relay-open', 'local', undefined, undefined, '', '', undefined],
        ['handshake-initiation-sent', 'out', 1, 148, '0x1a2b3c4d', '', undefined],
        ['cookie-reply-received', 'in', 3, 64, '', '0x1a2b3c4d', 'warn'],
        ['handshake-retry', 'local', undefined, undefined, '', '', 'warn'],
        ['handshake-initiation-sent', 'out', 1, 148, '0x0badf00d', '', 'warn'],
        ['handshake-response-received', 'in', 2, 92, '0xcafe0001', '0x0badf00d', undefined],
        ['session-established', 'local', undefined, undefined, '', '', 'ok'],
        ['keepalive-sent', 'out', 4, 32, '', '0xcafe0001', undefined],
      ],
    );
    assert.equal(tl.peerEndpoint, '192.0.2.1:51820');
    const retry = tl.steps[5];
    assert.deepEqual(retry.facts, ['attempt 2', 'with MAC2 (cookie)']);
    assert.match(retry.explain, /MAC2/);
    assert.deepEqual(tl.steps[6].facts, ['round trip 1.8 ms']);
    assert.deepEqual(tl.steps[7].facts, ['we receive on 0x0badf00d', 'peer receives on 0xcafe0001']);
    for (const s of tl.steps) assert.ok(s.explain.length > 20, `${s.type} explains itself`);
  });

  test('timings: since connect in epoch ms, between protocol steps exact from the monotonic clock', () => {
    const tl = new HandshakeTimeline();
    tl.add(underLoad());
    const byType = (type: string, n = 0) => tl.steps.filter((s) => s.type === type)[n];
    assert.equal(tl.steps[0].t, 0);
    assert.equal(byType('relay-open').t, 50);
    // The first protocol event anchors the monotonic clock to its epoch time, which Session
    // rounds: 150.25 + ORIGIN = …150.65 → …151, so +51 ms after the connect.
    assert.equal(byType('handshake-initiation-sent').t, 51);
    assert.equal(byType('cookie-reply-received').dt, 1.25);
    assert.equal(byType('handshake-response-received').dt, 1.75);
    assert.equal(byType('keepalive-sent').dt, 0.125);
    assert.equal(byType('handshake-response-received').t, 51 + (5152 - 150.25));
    // From the first initiation of the series (attempt 1) to the keys.
    assert.equal(tl.handshakeMs, 5152 - 150.25);
  });

  test('entries already seen are skipped (the page hands over its whole log each time)', () => {
    const tl = new HandshakeTimeline();
    const entries = underLoad();
    tl.add(entries.slice(0, 4));
    assert.equal(tl.add(entries.slice(0, 4)), false);
    tl.add(entries);
    assert.equal(tl.steps.length, entries.length);
  });
});

describe('HandshakeTimeline: keepalives, rekeys and reconnects', () => {
  test('repeated keepalives fold into one step with a count; a different kind starts a new step', () => {
    const tl = new HandshakeTimeline();
    tl.add(underLoad());
    const before = tl.steps.length;
    tl.add([
      core({ type: 'keepalive-sent', at: 30_152, size: 32, receiverIndex: 1, counter: 1, reason: 'persistent' }),
      core({ type: 'keepalive-sent', at: 55_152, size: 32, receiverIndex: 1, counter: 2, reason: 'persistent' }),
      core({ type: 'keepalive-sent', at: 80_152, size: 32, receiverIndex: 1, counter: 3, reason: 'persistent' }),
      core({ type: 'keepalive-received', at: 80_160, size: 32, localIndex: 2, counter: 9 }),
      core({ type: 'keepalive-received', at: 90_160, size: 32, localIndex: 2, counter: 10 }),
      core({ type: 'keepalive-sent', at: 95_152, size: 32, receiverIndex: 1, counter: 4, reason: 'persistent' }),
    ]);
    const added = tl.steps.slice(before);
    assert.deepEqual(
      added.map((s) => [s.type, s.direction, s.count]),
      [
        ['keepalive-sent', 'out', 3],
        ['keepalive-received', 'in', 2],
        ['keepalive-sent', 'out', 1],
      ],
    );
    assert.equal(added[0].dt, 25_000, 'the interval of the latest repeat');
    assert.match(added[0].explain, /PersistentKeepalive/);
  });

  test('a rekey reads as a reason, then a new handshake; a responder handshake reads from the other side', () => {
    const tl = new HandshakeTimeline();
    tl.add(underLoad());
    tl.add([
      core({ type: 'rekey-started', at: 125_152, reason: 'rekey-after-time', keyAgeMs: 120_000 }),
      core({ type: 'handshake-initiation-received', at: 200_000, size: 148, senderIndex: 7, endpoint: ENDPOINT }),
      core({ type: 'handshake-response-sent', at: 200_001, size: 92, senderIndex: 8, receiverIndex: 7, mac2: false, endpoint: ENDPOINT }),
      core({ type: 'session-established', at: 200_001, role: 'responder', localIndex: 8, remoteIndex: 7 }),
      core({ type: 'session-confirmed', at: 200_003, localIndex: 8, remoteIndex: 7 }),
    ]);
    const tail = tl.steps.slice(-5);
    assert.deepEqual(tail.map((s) => [s.type, s.direction]), [
      ['rekey-started', 'local'],
      ['handshake-initiation-received', 'in'],
      ['handshake-response-sent', 'out'],
      ['session-established', 'local'],
      ['session-confirmed', 'local'],
    ]);
    assert.deepEqual(tail[0].facts, ['the keys are 120 s old (REKEY_AFTER_TIME)']);
    assert.match(tail[3].explain, /responder/);
  });

  test('a new connect starts a new timeline; a failure is an error step', () => {
    const tl = new HandshakeTimeline();
    tl.add(underLoad());
    tl.add([app('connect', 1_700_000_100_000), core({ type: 'handshake-failed', at: 190_000, attempts: 18, elapsedMs: 90_000, endpoint: ENDPOINT, message: 'gave up' })]);
    assert.deepEqual(tl.steps.map((s) => [s.type, s.highlight]), [
      ['connect', undefined],
      ['handshake-failed', 'error'],
    ]);
    assert.equal(tl.handshakeMs, undefined);
    // A 'connect' that is not the app's (some other source) does not reset.
    assert.equal(tl.add([{ id: nextId++, source: 'session', at: 1, type: 'connect' }]), false);
  });

  test('unknown event types are ignored; the number of steps is bounded', () => {
    const tl = new HandshakeTimeline();
    assert.equal(tl.add([{ at: 1, type: 'http' }, { at: 2, type: 'ping' }]), false);
    const many: TimelineInput[] = [];
    for (let i = 0; i < TIMELINE_LIMIT + 50; i++) many.push(core({ type: 'rekey-started', at: i, reason: 'no-reply', keyAgeMs: 1 }));
    tl.add(many);
    assert.equal(tl.steps.length, TIMELINE_LIMIT);
  });
});

describe('formatInterval and hexIndex', () => {
  const table: [number | undefined, string][] = [
    [0, '0.00 ms'],
    [0.125, '0.13 ms'],
    [1.75, '1.8 ms'],
    [99.94, '99.9 ms'],
    [142.4, '142 ms'],
    [1240, '1.24 s'],
    [25_000, '25.0 s'],
    [125_000, '2 min 5 s'],
    [undefined, '—'],
  ];
  for (const [ms, text] of table) test(`${ms} → ${text}`, () => assert.equal(formatInterval(ms), text));
  test('indexes are 8 hex digits', () => {
    assert.equal(hexIndex(0xabc), '0x00000abc');
    assert.equal(hexIndex(0xffffffff), '0xffffffff');
    assert.equal(hexIndex(undefined), '');
  });
});

describe('HandshakeTimeline: a handshake that gets no answer', () => {
  test('each initiation and retry is a step as it happens, then the give-up with the likely cause; the summary stops waiting', () => {
    const t = new HandshakeTimeline();
    t.add([
      app('connect', 1_700_000_000_100),
      core({ type: 'handshake-initiation-sent', at: 150, size: 148, senderIndex: 1, attempt: 1, trigger: 'connect', mac2: false, endpoint: ENDPOINT }),
    ]);
    assert.equal(t.failure, undefined, 'still waiting after the first initiation');
    t.add([
      core({ type: 'handshake-retry', at: 5150, attempt: 2, elapsedMs: 5000 }),
      core({ type: 'handshake-initiation-sent', at: 5150, size: 148, senderIndex: 2, attempt: 2, trigger: 'retry', mac2: false, endpoint: ENDPOINT }),
    ]);
    assert.deepEqual(t.steps.map((s) => s.type), ['connect', 'handshake-initiation-sent', 'handshake-retry', 'handshake-initiation-sent']);
    assert.equal(t.failure, undefined);
    const cause = 'Gave up waiting for the handshake after 16 s: no handshake response from 192.0.2.1:51820: 3 initiations in 16 s went unanswered, through a relay that works.';
    t.add([{ id: nextId++, source: 'session', at: 1_700_000_016_200, type: 'handshake-timeout', message: cause, detail: { cause: 'no-answer', code: 'HANDSHAKE_TIMEOUT' } }]);
    const last = t.steps[t.steps.length - 1];
    assert.deepEqual([last.title, last.facts, last.explain, last.highlight], ['No handshake', ['no answer'], cause, 'error']);
    assert.equal(t.failure, last, 'the summary shows the failure instead of "Waiting"');
    assert.equal(t.handshakeMs, undefined);
    t.add([app('connect', 1_700_000_020_000)]);
    assert.equal(t.failure, undefined, 'a new connect starts over');
  });
});

describe('HandshakeTimeline: TLS inside the tunnel', () => {
  /** What the page's log holds for a TLS event, through the Session's own describeTlsEvent. */
  const tlsEntry = (at: number, e: TlsEvent, host = 'intranet.test', port = 443): TimelineInput => {
    const text = describeTlsEvent(host, port, e);
    return { id: nextId++, source: 'session', at, type: text.type, message: text.message, detail: text.detail };
  };
  const leaf: CertificateSummary = {
    subject: 'CN=intranet.test, O=Example',
    issuer: 'CN=Example Root CA',
    notBefore: new Date(0),
    notAfter: new Date(2_000_000_000_000),
    sha256: '00'.repeat(32),
    subjectAltNames: ['DNS:intranet.test'],
  };
  /** Our real ClientHello event (from a started client), then what the client and connector report for a TLS 1.3 handshake. */
  function handshake13(t0: number): TimelineInput[] {
    const client = new TlsClient({ serverName: 'intranet.test' });
    client.start();
    const [hello] = client.takeEvents();
    return [
      tlsEntry(t0, hello),
      tlsEntry(t0 + 3, { kind: 'server-hello', text: 'ServerHello: TLS 1.3, TLS_AES_128_GCM_SHA256, x25519', detail: { version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'x25519', resumed: false } }),
      tlsEntry(t0 + 4, { kind: 'certificate', text: 'Certificate: a chain of 2 certificates (1200 bytes)' }),
      tlsEntry(t0 + 6, certificateEvent({ leaf, verdict: 'verified (chain to a trusted CA)' })),
      tlsEntry(t0 + 7, { kind: 'established', text: 'TLS established: …', detail: { version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', alpn: 'http/1.1', resumed: false } }),
      tlsEntry(t0 + 9, { kind: 'ticket', text: 'NewSessionTicket: …' }),
    ];
  }

  test('an https fetch adds one TLS step per handshake message: ClientHello with SNI, ServerHello with version and suite, the certificate, established with ALPN', () => {
    const tl = new HandshakeTimeline();
    tl.add([...underLoad(), ...handshake13(1_700_000_009_000)]);
    const tls = tl.steps.filter((s) => s.protocol === 'TLS');
    assert.deepEqual(
      tls.map((s) => [s.type, s.direction, s.title]),
      [
        ['tls-client-hello', 'out', 'TLS ClientHello to intranet.test (SNI intranet.test)'],
        ['tls-server-hello', 'in', 'TLS ServerHello: TLS 1.3, TLS_AES_128_GCM_SHA256'],
        ['tls-certificate-verified', 'in', 'Certificate: CN=intranet.test, O=Example'],
        ['tls-established', 'local', 'TLS established (ALPN http/1.1) with intranet.test'],
      ],
      'the chain size and the ticket stay in the event log',
    );
    assert.deepEqual(tls[0].facts, ['offers TLS 1.3/TLS 1.2', 'ALPN http/1.1']);
    assert.deepEqual(tls[2].facts, ['issued by CN=Example Root CA', 'verified (chain to a trusted CA)']);
    assert.equal(tls[2].highlight, 'ok');
    assert.deepEqual(tls[3].facts, ['TLS 1.3', 'TLS_AES_128_GCM_SHA256']);
    assert.equal(tls[1].dt, 3, 'timed like the WireGuard steps');
    // The WireGuard handshake summary is unaffected by the TLS steps after it.
    assert.equal(tl.handshakeMs, 5152 - 150.25);
  });

  test('an IP literal has no SNI; a refused certificate and the alert we send stand out', () => {
    const tl = new HandshakeTimeline();
    const client = new TlsClient({ serverName: '10.8.0.1' });
    client.start();
    const [hello] = client.takeEvents();
    const refusal = new WgwebError(ErrorCode.TLS_CERT_UNTRUSTED, 'The certificate of 10.8.0.1 is not trusted: no path to a trusted CA.', { certificate: leaf });
    tl.add([
      tlsEntry(1000, hello, '10.8.0.1', 8443),
      tlsEntry(1002, certificateEvent({ error: refusal }), '10.8.0.1', 8443),
      tlsEntry(1003, { kind: 'alert-sent', text: 'TLS alert sent: unknown_ca', detail: { alert: 'unknown_ca', fatal: true } }, '10.8.0.1', 8443),
    ]);
    const [first, cert, alert] = tl.steps;
    assert.equal(first.title, 'TLS ClientHello to 10.8.0.1:8443 (no SNI: an IP address)');
    assert.equal(cert.title, 'Certificate refused: CN=intranet.test, O=Example');
    assert.deepEqual(cert.facts, ['issued by CN=Example Root CA', 'TLS_CERT_UNTRUSTED']);
    assert.equal(cert.highlight, 'error');
    assert.match(cert.explain, /not trusted/);
    assert.deepEqual([alert.direction, alert.title, alert.highlight], ['out', 'TLS alert sent: unknown_ca', 'error']);
  });

  test('a HelloRetryRequest is a warning step naming the group; an insecure connection is marked', () => {
    const tl = new HandshakeTimeline();
    tl.add([
      tlsEntry(1, { kind: 'hello-retry-request', text: 'HelloRetryRequest: …', detail: { version: 'TLS 1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', group: 'P-384' } }),
      tlsEntry(2, certificateEvent({ leaf, verdict: 'not checked (insecure)' })),
    ]);
    assert.deepEqual(tl.steps[0].facts, ['wants a P-384 key share']);
    assert.equal(tl.steps[0].highlight, 'warn');
    assert.equal(tl.steps[1].highlight, 'warn');
  });
});
