/**
 * A handshake that fails against a real wireguard-go shows every step as it happens and ends with
 * the likely cause (issue #15 item 6, #18 item 5): each initiation and retry is an event (the
 * event log, the timeline, `-v`), and when the wait gives up a `handshake-timeout` event and the
 * error say why: a wrong PublicKey and a dead endpoint both get no answer at all (WireGuard is
 * silent to what it cannot authenticate), so the message lists what to check with both keys; a
 * PresharedKey only the peer has gets an answer that does not authenticate, which is named as such.
 *
 *   Session ──ws──▶ relay (allow: the peer, and a port where nothing listens) ──UDP──▶ wireguard-go
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startWireguardGoPeer, type WgGoPeer } from '../../harness/wireguard-go-peer.ts';
import { startRelay, type RelayHandle } from '../../src/node/relay/main.ts';
import { createLogger } from '../../src/node/relay/log.ts';
import { Session } from '../../src/session/session.ts';
import type { SessionEvent } from '../../src/session/session-types.ts';
import { formatEndpoint } from '../../src/shared/ip-address.ts';
import { formatKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';
import { NodeWebSocket } from './session-fixture.ts';

const SLOW = { timeout: 60_000 };
const DEAD_PORT = 51999;

describe('handshake failures against wireguard-go, step by step and with the likely cause', { skip: interopSkipReason() }, () => {
  let peer: WgGoPeer;
  let relay: RelayHandle;
  before(async () => {
    peer = await startWireguardGoPeer({ name: 'hsfail', logLevel: 'error' });
    relay = await startRelay({ port: 0, allow: [formatEndpoint(peer.endpoint), `${peer.endpoint.host}:${DEAD_PORT}`], logger: createLogger({ level: 'error' }), demo: false });
  });
  after(async () => {
    await relay?.close();
    await peer?.close();
    await closeAllNamespaces();
  });

  /** Starts a session on `config`, waits `waitMs` for a handshake that must not come; returns the error and the events. */
  async function failedHandshake(config: string, waitMs: number): Promise<{ error: Error & { code?: string; detail?: Record<string, unknown> }; events: SessionEvent[] }> {
    const session = await Session.start({ configText: config, relayUrl: relay.wsUrl, WebSocketImpl: NodeWebSocket });
    const events: SessionEvent[] = [];
    session.onEvent((e) => events.push(e));
    try {
      const error = await session.waitForHandshake(waitMs).then(
        () => assert.fail('the handshake must not complete'),
        (e: unknown) => e as Error & { code?: string; detail?: Record<string, unknown> },
      );
      return { error, events };
    } finally {
      await session.close();
    }
  }

  function assertStepsAsTheyHappened(events: SessionEvent[]): void {
    const types = events.map((e) => e.type);
    const first = types.indexOf('handshake-initiation-sent');
    const retry = types.indexOf('handshake-retry');
    const second = types.indexOf('handshake-initiation-sent', retry);
    const gaveUp = types.indexOf('handshake-timeout');
    assert.ok(first >= 0 && retry > first && second > retry && gaveUp > second, `initiation, retry, initiation, timeout in order: ${types.join(', ')}`);
    assert.match(events[second].message, /attempt 2/);
    const timeout = events[gaveUp];
    assert.equal(timeout.level, 'error');
    assert.ok(events.slice(first, gaveUp).every((e, i, a) => i === 0 || e.at >= a[i - 1].at), 'timestamps in order');
  }

  test('a wrong peer PublicKey: no answer; the message names both keys to compare', SLOW, async () => {
    const client = await peer.addClient();
    const wrong = formatKey(publicKeyFromPrivate(generatePrivateKey()));
    const { error, events } = await failedHandshake(client.config.replace(/PublicKey = .*/, `PublicKey = ${wrong}`), 7_000);
    assert.equal(error.code, 'HANDSHAKE_TIMEOUT');
    assert.equal(error.detail?.cause, 'no-answer');
    assert.match(error.message, new RegExp(`the peer's public key is ${wrong.replace(/[+/]/g, '\\$&')}, as this config says`));
    assert.match(error.message, new RegExp(`this client's public key ${client.publicKey.replace(/[+/]/g, '\\$&')} as a \\[Peer\\]`));
    assertStepsAsTheyHappened(events);
    assert.match(events.find((e) => e.type === 'handshake-timeout')!.message, /Gave up waiting for the handshake after 7 s: .*went unanswered/);
  });

  test('a dead endpoint (nothing listens on the port): no answer; the message names the endpoint to check', SLOW, async () => {
    const client = await peer.addClient();
    const dead = `${peer.endpoint.host}:${DEAD_PORT}`;
    const { error, events } = await failedHandshake(client.config.replace(/Endpoint = .*/, `Endpoint = ${dead}`), 7_000);
    assert.equal(error.code, 'HANDSHAKE_TIMEOUT');
    assert.equal(error.detail?.cause, 'no-answer');
    assert.match(error.message, new RegExp(`no handshake response from ${dead.replace(/\./g, '\\.')}: .*WireGuard listens at ${dead.replace(/\./g, '\\.')}`));
    assertStepsAsTheyHappened(events);
  });

  test('a PresharedKey only the peer has: the peer answers, the response does not authenticate, and that is what the message says', SLOW, async () => {
    const client = await peer.addClient({ presharedKey: true });
    const withoutPsk = client.config.replace(/^PresharedKey = .*\n/m, '');
    assert.notEqual(withoutPsk, client.config);
    const { error, events } = await failedHandshake(withoutPsk, 7_000);
    assert.equal(error.code, 'HANDSHAKE_TIMEOUT');
    assert.equal(error.detail?.cause, 'key-mismatch');
    assert.match(error.message, /answered .*but its response did not authenticate: the peer uses a PresharedKey this config lacks/);
    assertStepsAsTheyHappened(events);
  });
});
