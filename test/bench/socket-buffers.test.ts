/**
 * bench/socket-buffers.ts: another process's UDP socket gets the buffer size asked for (the bench
 * gives every wireguard-go 7 MiB this way). A real child process with a real socket reports its own
 * SO_RCVBUF before and after; needs root (pidfd_getfd, SO_RCVBUFFORCE) and python3.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { forceUdpBuffers } from '../../bench/socket-buffers.ts';
import { binariesSkipReason } from '../../harness/requirements.ts';

/** A child that binds a UDP socket on loopback (or none) and prints its SO_RCVBUF for each stdin line. */
function startChild(withSocket: boolean): { child: ChildProcess; ask(): Promise<number> } {
  const script = withSocket
    ? `const s = require('node:dgram').createSocket('udp4');
       s.bind(0, '127.0.0.1', () => { console.log(s.getRecvBufferSize()); process.stdin.on('data', () => console.log(s.getRecvBufferSize())); });`
    : `console.log(0); process.stdin.on('data', () => console.log(0));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const queue: ((n: number) => void)[] = [];
  lines.on('line', (l) => queue.shift()?.(Number(l)));
  let first = true;
  return {
    child,
    ask: () =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the child did not answer within 10 s')), 10_000);
        queue.push((n) => {
          clearTimeout(timer);
          resolve(n);
        });
        if (!first) child.stdin!.write('?\n');
        first = false;
      }),
  };
}

describe('forceUdpBuffers', () => {
  test('refuses a pid or a size that cannot be meant', () => {
    assert.throws(() => forceUdpBuffers(0, 1 << 20), RangeError);
    assert.throws(() => forceUdpBuffers(123, 100), RangeError);
  });

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const skip = root ? binariesSkipReason(['python3'], 'socket-buffers') : 'needs root (pidfd_getfd, SO_RCVBUFFORCE)';
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) c.kill('SIGKILL');
  });

  test('sets the receive buffer of the other process\'s own socket, past net.core.rmem_max', { skip }, async () => {
    const { child, ask } = startChild(true);
    children.push(child);
    const before = await ask();
    const size = 6 << 20; // above the usual net.core.rmem_max (4 MiB here): only the FORCE option gets there
    const set = await forceUdpBuffers(child.pid!, size);
    assert.equal(set.length, 1);
    // The kernel doubles what it is asked for (socket(7)), and the child's socket reports the same.
    assert.equal(set[0]!.rcvbuf, 2 * size);
    const now = await ask();
    assert.equal(now, 2 * size);
    assert.notEqual(before, now);
  });

  test('a process without a UDP socket is an error that names it', { skip }, async () => {
    const { child, ask } = startChild(false);
    children.push(child);
    await ask();
    await assert.rejects(forceUdpBuffers(child.pid!, 1 << 20), new RegExp(`pid ${child.pid} has no UDP socket`));
  });
});
