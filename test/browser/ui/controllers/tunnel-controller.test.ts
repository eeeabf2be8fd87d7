/**
 * TunnelController in Node: a fake Lit host, and the real TunnelService behind a MessageChannel
 * standing in for the worker, with a scripted session. Checks what the UI relies on: status and
 * state, the event log in plain words (new array per change, capped), hints on failures, tool
 * results logged the same whether a click or a script ran them, and no hang when the worker dies.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { expose } from 'comlink';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WgwebError } from '../../../../src/shared/errors.ts';
import { TunnelController } from '../../../../src/browser/ui/controllers/tunnel-controller.ts';
import { TunnelService, type SessionLike, type StartSession } from '../../../../src/browser/worker/tunnel-service.ts';
import type { SessionEvent, TunnelStatus } from '../../../../src/browser/worker/tunnel-api.ts';

class FakeHost implements ReactiveControllerHost {
  controllers: ReactiveController[] = [];
  updates = 0;
  addController(c: ReactiveController) {
    this.controllers.push(c);
  }
  removeController() {}
  requestUpdate() {
    this.updates++;
  }
  get updateComplete() {
    return Promise.resolve(true);
  }
}

const STATUS: TunnelStatus = {
  state: 'handshaking',
  relay: { url: 'ws://127.0.0.1:1/wg', state: 'open' },
  interface: { publicKey: 'k', addresses: ['10.8.0.2/32'] },
  peers: [],
};

class Scripted implements SessionLike {
  listener?: (e: SessionEvent) => void;
  status() {
    return STATUS;
  }
  onEvent(l: (e: SessionEvent) => void) {
    this.listener = l;
    return () => (this.listener = undefined);
  }
  async ping(address: string) {
    return { address, transmitted: 2, received: 2, lossPercent: 0, rttMinMs: 1, rttAvgMs: 1, rttMaxMs: 1, rttMdevMs: 0 };
  }
  async dns(name: string): Promise<never> {
    throw new WgwebError('DNS_TIMEOUT', `no answer for ${name}`);
  }
  async tcping(host: string, port: number) {
    return { host, address: host, port, result: 'refused' as const, elapsedMs: 1 };
  }
  async fetch() {
    return new Response('hi');
  }
  async close() {}
}

/** A MessagePort dressed as a Worker, with the service exposed on the other end. */
function workerFor(start: StartSession) {
  const { port1, port2 } = new MessageChannel();
  expose(new TunnelService(start), port1 as unknown as Parameters<typeof expose>[1]);
  const worker = port2 as unknown as Worker;
  (worker as unknown as { terminate: () => void }).terminate = () => {
    port1.close();
    port2.close();
  };
  return worker;
}

async function until(cond: () => boolean, c: TunnelController): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) {
    await c.refreshStatus();
    await new Promise((r) => setImmediate(r));
  }
  assert.ok(cond(), 'condition never became true');
}

function setup(start: StartSession, logLimit = 500) {
  const host = new FakeHost();
  const c = new TunnelController(host, { createWorker: () => workerFor(start), pollMs: 3_600_000, logLimit });
  c.hostConnected();
  return { host, c, done: () => c.dispose() };
}

describe('TunnelController', () => {
  test('becomes ready with no session: state down, empty log', async () => {
    const { c, done } = setup(async () => new Scripted());
    await c.ready;
    assert.equal(c.status, null);
    assert.equal(c.state, 'down');
    assert.equal(c.connected, false);
    assert.deepEqual(c.log, []);
    await done();
  });

  test('connect shows the session\'s status and logs where it connects, without the relay\'s query string', async () => {
    const { c, host, done } = setup(async () => new Scripted());
    await c.ready;
    const before = host.updates;
    const status = await c.connect('cfg', 'ws://127.0.0.1:1/wg?token=x');
    assert.equal(status.state, 'handshaking');
    assert.equal(c.state, 'handshaking');
    assert.equal(c.connected, true);
    assert.equal(c.log[0].message, 'Connecting through the relay at ws://127.0.0.1:1/wg?……');
    assert.ok(host.updates > before);
    await done();
  });

  test('a failed connect keeps the coded error for the panel and logs it with what to check', async () => {
    const { c, done } = setup(async () => {
      throw new WgwebError('RELAY_UNREACHABLE', 'Cannot connect to the relay.');
    });
    await c.ready;
    await assert.rejects(c.connect('cfg', 'ws://127.0.0.1:1/wg'), (e: WgwebError) => e.code === 'RELAY_UNREACHABLE');
    assert.equal(c.lastError?.code, 'RELAY_UNREACHABLE');
    const last = c.log.at(-1)!;
    assert.equal(last.level, 'error');
    assert.equal(last.message, 'Could not connect: Cannot connect to the relay.');
    assert.match(last.hints?.join(' ') ?? '', /Is the relay running/);
    assert.equal(c.state, 'down');
    await done();
  });

  test('a connect cancelled by disconnect is not reported as a failure', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { c, done } = setup(async () => {
      await gate;
      return new Scripted();
    });
    await c.ready;
    const connecting = c.connect('cfg', 'ws://127.0.0.1:1/wg');
    assert.equal(c.state, 'connecting');
    // The worker has the connect waiting on the relay when the disconnect arrives.
    await c.disconnect();
    release();
    await assert.rejects(connecting, (e: WgwebError) => e.code === 'ABORTED');
    assert.equal(c.lastError, undefined);
    assert.ok(c.log.some((e) => e.message === 'Connect cancelled.'));
    await done();
  });

  test('session events append to the log as a new array, with hints on coded errors', async () => {
    const session = new Scripted();
    const { c, done } = setup(async () => session);
    await c.ready;
    await c.connect('cfg', 'ws://h/wg');
    const before = c.log;
    session.listener!({ at: 1, type: 'handshake-initiation-sent', level: 'info', message: 'Handshake initiation sent.' });
    session.listener!({ at: 2, type: 'handshake-timeout', level: 'error', message: 'No answer.', detail: { code: 'HANDSHAKE_TIMEOUT' } });
    await until(() => c.log.length === before.length + 2, c);
    assert.notEqual(c.log, before, 'a new array, so Lit sees the change');
    const err = c.log.at(-1)!;
    assert.equal(err.source, 'session');
    assert.match(err.hints?.join(' ') ?? '', /public key/);
    await done();
  });

  test('tools log their results in plain words; failures carry hints; the log is capped', async () => {
    const { c, done } = setup(async () => new Scripted(), 4);
    await c.ready;
    await c.connect('cfg', 'ws://h/wg');
    await c.ping('10.8.0.1');
    assert.equal(c.log.at(-1)?.message, 'Ping 10.8.0.1: 2 sent, 2 received, 0% loss, rtt min/avg/max 1.0/1.0/1.0 ms');
    await c.tcping('10.8.0.1', 22);
    assert.equal(c.log.at(-1)?.level, 'warn');
    await assert.rejects(c.dns('db.internal'), (e: WgwebError) => e.code === 'DNS_TIMEOUT');
    assert.equal(c.log.at(-1)?.message, 'DNS db.internal A failed: no answer for db.internal');
    assert.ok(c.log.at(-1)?.hints?.length);
    const r = await c.fetch('http://10.8.0.1/');
    assert.equal(await r.text(), 'hi');
    assert.equal(c.log.length, 4, 'oldest lines dropped past the limit');
    await done();
  });

  test('a worker that cannot start rejects ready and every call instead of hanging', async () => {
    const host = new FakeHost();
    const c = new TunnelController(host, {
      createWorker: () => {
        throw new Error('blocked by CSP');
      },
      pollMs: 3_600_000,
    });
    c.hostConnected();
    await assert.rejects(c.ready, (e: WgwebError) => e.code === 'INTERNAL' && /blocked by CSP/.test(e.message));
    assert.throws(() => c.generateKeyPair(), (e: WgwebError) => e.code === 'INTERNAL');
    await c.dispose();
  });

  test('a worker that errors before answering fails pending calls', async () => {
    const { port2 } = new MessageChannel(); // nobody answers on the other side
    const worker = port2 as unknown as Worker;
    (worker as unknown as { terminate: () => void }).terminate = () => port2.close();
    const c = new TunnelController(new FakeHost(), { createWorker: () => worker, pollMs: 3_600_000 });
    c.hostConnected();
    const pending = c.connect('cfg', 'ws://h/wg');
    (worker as unknown as EventTarget).dispatchEvent(new Event('error'));
    await assert.rejects(pending, (e: WgwebError) => e.code === 'INTERNAL');
    await assert.rejects(c.ready);
    assert.ok(c.log.some((e) => e.type === 'worker-error'));
    await c.dispose();
  });
});

test('TunnelController: a session that goes down by itself is explained with its last error', async () => {
  let state: TunnelStatus['state'] = 'connecting';
  const session = new (class extends Scripted {
    override status() {
      return { ...STATUS, state };
    }
  })();
  const { c, done } = setup(async () => session);
  await c.ready;
  await c.connect('cfg', 'ws://h/wg');
  session.listener!({ at: 1, type: 'relay-failed', level: 'error', message: 'The relay does not allow this endpoint.', detail: { code: 'RELAY_REFUSED' } });
  state = 'down';
  // Status and events travel on different ports; the explanation settles once both have arrived.
  await until(() => c.status?.state === 'down' && c.lastError?.code === 'RELAY_REFUSED', c);
  assert.equal(c.lastError?.code, 'RELAY_REFUSED');
  assert.equal(c.lastError?.message, 'The relay does not allow this endpoint.');
  assert.equal(c.lastErrorFromSession, true);
  assert.equal(c.connected, false);
  await done();
});
