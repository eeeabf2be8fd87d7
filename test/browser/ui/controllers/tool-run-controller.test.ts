/**
 * The run state shared by the tool panels: a run goes running → done or failed, a second submit
 * while running is ignored, Stop aborts through the signal, a stopped run is quiet or says its
 * aborted message, removing the tool aborts, and every change asks the host to render.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ToolRunController } from '../../../../src/browser/ui/controllers/tool-run-controller.ts';
import { ErrorCode, WgwebError } from '../../../../src/shared/errors.ts';

class FakeHost implements ReactiveControllerHost {
  controllers: ReactiveController[] = [];
  updates = 0;
  addController(c: ReactiveController): void {
    this.controllers.push(c);
  }
  removeController(): void {}
  requestUpdate(): void {
    this.updates++;
  }
  get updateComplete(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('ToolRunController', () => {
  test('registers with its host and starts idle', () => {
    const host = new FakeHost();
    const run = new ToolRunController<number>(host);
    assert.deepEqual(host.controllers, [run]);
    assert.equal(run.status, 'idle');
    assert.equal(run.running, false);
  });

  test('a run is running until it resolves, then done with its value; the host re-renders at each step', async () => {
    const host = new FakeHost();
    const run = new ToolRunController<number>(host);
    const d = deferred<number>();
    const finished = run.run(() => d.promise);
    assert.equal(run.running, true);
    assert.equal(host.updates, 1);
    d.resolve(42);
    await finished;
    assert.equal(run.status, 'done');
    assert.equal(run.value, 42);
    assert.equal(run.error, undefined);
    assert.equal(host.updates, 2);
  });

  test('a failure keeps the message and the code (for hints)', async () => {
    const run = new ToolRunController<number>(new FakeHost());
    await run.run(async () => {
      throw new WgwebError(ErrorCode.DNS_TIMEOUT, 'the DNS server did not answer');
    });
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.error, { code: ErrorCode.DNS_TIMEOUT, message: 'the DNS server did not answer' });
  });

  test("a failure with a detail keeps it (the HTTP tool's certificate prompt reads the refused certificate there)", async () => {
    const run = new ToolRunController<number>(new FakeHost());
    const certificate = { subject: 'CN=nas', sha256: 'ab'.repeat(32) };
    await run.run(async () => {
      throw new WgwebError(ErrorCode.TLS_CERT_UNTRUSTED, 'not trusted', { certificate });
    });
    assert.deepEqual(run.error, { code: ErrorCode.TLS_CERT_UNTRUSTED, message: 'not trusted', detail: { certificate } });
  });

  test('a submit while a run is in progress is ignored', async () => {
    const run = new ToolRunController<number>(new FakeHost());
    const d = deferred<number>();
    const first = run.run(() => d.promise);
    let secondCalled = false;
    await run.run(async () => {
      secondCalled = true;
      return 2;
    });
    assert.equal(secondCalled, false);
    d.resolve(1);
    await first;
    assert.equal(run.value, 1);
  });

  test('a new run clears the previous value and error', async () => {
    const run = new ToolRunController<number>(new FakeHost());
    await run.run(async () => {
      throw new Error('first');
    });
    const d = deferred<number>();
    const second = run.run(() => d.promise);
    assert.equal(run.error, undefined);
    assert.equal(run.value, undefined);
    d.resolve(3);
    await second;
  });

  test('abort fires the signal; a stopped run without an aborted message ends quietly', async () => {
    const run = new ToolRunController<number>(new FakeHost());
    let seen: AbortSignal | undefined;
    const finished = run.run(
      (signal) =>
        new Promise<number>((_, reject) => {
          seen = signal;
          signal.addEventListener('abort', () => reject(new WgwebError(ErrorCode.ABORTED, 'aborted')));
        }),
    );
    run.abort();
    await finished;
    assert.equal(seen?.aborted, true);
    assert.equal(run.status, 'idle');
    assert.equal(run.error, undefined);
  });

  test('with an aborted message, a stopped run (DOM AbortError too) shows it as an ABORTED error', async () => {
    const run = new ToolRunController<void>(new FakeHost(), { abortedMessage: 'Cancelled.' });
    const finished = run.run(
      (signal) => new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new DOMException('stop', 'AbortError')))),
    );
    run.abort();
    await finished;
    assert.equal(run.status, 'failed');
    assert.deepEqual(run.error, { code: ErrorCode.ABORTED, message: 'Cancelled.' });
  });

  test('a tool taken off the page aborts its run', async () => {
    const run = new ToolRunController<number>(new FakeHost());
    let seen: AbortSignal | undefined;
    const finished = run.run((signal) => {
      seen = signal;
      return new Promise<number>((_, reject) => signal.addEventListener('abort', () => reject(new WgwebError(ErrorCode.ABORTED, 'aborted'))));
    });
    run.hostDisconnected();
    await finished;
    assert.equal(seen?.aborted, true);
  });
});
