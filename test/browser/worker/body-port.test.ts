/**
 * The response body's port between the tunnel worker and the page (body-port.ts), over a real
 * MessageChannel: bytes intact and in order, buffers transferred (not cloned), what queued tasks
 * deliver read as one chunk, the window bounding what the worker reads ahead, errors with their code, cancel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ACK_BYTES, BODY_WINDOW, bodyFromPort, sendBodyOverPort } from '../../../src/browser/worker/body-port.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';

const sha = (parts: Uint8Array[]): string => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
};

/** Waits (bounded) until `ok()` holds, letting messages and timers run; fails with what it saw. */
async function until(ok: () => boolean, what: () => string, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const reader = stream.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value);
  return out;
}

test('every byte arrives once and in order; whole-buffer chunks are transferred, views into larger buffers copied', async () => {
  const sent: Uint8Array[] = [];
  const whole: Uint8Array[] = [];
  const backing = new Uint8Array(64 * 1024).map((_, i) => (i * 7) & 0xff);
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (n === 300) return controller.close();
      // Alternate fresh buffers of odd sizes with views into one shared buffer.
      const chunk = n % 3 === 2 ? backing.subarray(n, n + 1000 + n) : new Uint8Array(1 + ((n * 7919) % 20_000)).map((_, i) => (i + n) & 0xff);
      if (chunk.byteLength === chunk.buffer.byteLength) whole.push(chunk);
      sent.push(chunk.slice());
      n++;
      controller.enqueue(chunk);
    },
  });
  const { port1, port2 } = new MessageChannel();
  sendBodyOverPort(body, port1);
  const got = await readAll(bodyFromPort(port2));
  assert.equal(got.reduce((a, c) => a + c.length, 0), sent.reduce((a, c) => a + c.length, 0));
  assert.equal(sha(got), sha(sent));
  assert.ok(whole.length > 150);
  assert.ok(whole.every((c) => c.buffer.byteLength === 0), 'a chunk that was its buffer moved to the page (detached in the worker)');
  assert.equal(backing.buffer.byteLength, 64 * 1024, 'a view into a larger buffer was copied, the buffer kept');
  assert.equal(backing[12_345], (12_345 * 7) & 0xff);
});

test('while relay messages keep arriving, the next read waits for them and takes them as one chunk', async () => {
  // A socket-like source: each read takes everything delivered so far.
  let delivered = 0;
  let waiter: (() => void) | undefined;
  const deliver = (n: number): void => {
    delivered += n;
    waiter?.();
  };
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (delivered === 0) await new Promise<void>((r) => (waiter = r));
        waiter = undefined;
        controller.enqueue(new Uint8Array(delivered));
        delivered = 0;
      },
    },
    { highWaterMark: 0 },
  );
  const { port1, port2 } = new MessageChannel();
  const sizes: number[] = [];
  port2.onmessage = (ev) => sizes.push((ev.data as { chunk: Uint8Array }).chunk.length);
  // 40 messages of 1000 bytes queued as tasks before the worker's first chunk has even been read.
  for (let i = 0; i < 40; i++) setTimeout(() => deliver(1000), 0);
  sendBodyOverPort(body, port1);
  await until(() => sizes.reduce((a, b) => a + b, 0) === 40_000, () => `chunks ${sizes.join(',')}`);
  assert.equal(sizes[0], 1000, 'the first bytes leave at once');
  assert.deepEqual(sizes.slice(1), [39_000], 'the rest, delivered by the tasks queued meanwhile, as one chunk');
  port2.close();
});

test('a page that does not read stops the worker after one window; reading lets it go on', async () => {
  let produced = 0;
  const chunk = 16 * 1024;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        produced += chunk;
        controller.enqueue(new Uint8Array(chunk));
      },
    },
    { highWaterMark: 0 },
  );
  const { port1, port2 } = new MessageChannel();
  sendBodyOverPort(body, port1);
  const stream = bodyFromPort(port2);
  await until(() => produced >= BODY_WINDOW, () => `produced ${produced}`);
  // Let messages, acks and timers run: nothing is read, so no more than a window (and the read
  // under way) may be taken from the body.
  for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(produced <= BODY_WINDOW + 2 * chunk, `read ahead ${produced} bytes with nobody reading`);
  const reader = stream.getReader();
  let read = 0;
  while (read < 2 * BODY_WINDOW) read += (await reader.read()).value!.length;
  assert.ok(produced >= 2 * BODY_WINDOW, `the worker went on once the page read (${produced})`);
  assert.ok(produced - read <= BODY_WINDOW + ACK_BYTES + 2 * chunk, `still bounded: ${produced - read} ahead`);
  await reader.cancel();
});

test("a failing body errors the page's stream with the same WgwebError code and message", async () => {
  let n = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (n++ < 3) controller.enqueue(new Uint8Array(10));
      else controller.error(new WgwebError(ErrorCode.HTTP_CLOSED_EARLY, 'the server closed the connection after 30 of 100 body bytes', { received: 30 }));
    },
  });
  const { port1, port2 } = new MessageChannel();
  sendBodyOverPort(body, port1);
  const reader = bodyFromPort(port2).getReader();
  let bytes = 0;
  const error = await (async () => {
    try {
      for (;;) {
        const r = await reader.read();
        if (r.done) return undefined;
        bytes += r.value.length;
      }
    } catch (e) {
      return e;
    }
  })();
  assert.equal(bytes, 30);
  assert.ok(error instanceof WgwebError);
  assert.equal(error.code, ErrorCode.HTTP_CLOSED_EARLY);
  assert.match(error.message, /30 of 100/);
  assert.deepEqual(error.detail, { received: 30 });
});

test("cancelling on the page cancels the worker's body with the reason", async () => {
  let cancelled: unknown;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(new Uint8Array(1000));
    },
    cancel(reason) {
      cancelled = reason;
    },
  });
  const { port1, port2 } = new MessageChannel();
  sendBodyOverPort(body, port1);
  const reader = bodyFromPort(port2).getReader();
  assert.equal((await reader.read()).value?.length, 1000);
  await reader.cancel('enough');
  await until(() => cancelled !== undefined, () => 'the body was not cancelled');
  assert.equal(cancelled, 'enough');
});
