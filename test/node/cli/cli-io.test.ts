import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { REPO_ROOT, runShell } from './run-cli.ts';

describe('createMemoryIo', () => {
  test('collects text and bytes written to stdout and stderr', async () => {
    const io = createMemoryIo();
    await io.stdout.write('héllo ');
    await io.stdout.write(new Uint8Array([0x77, 0x67]));
    await io.stderr.write('oops\n');
    assert.equal(io.stdoutText(), 'héllo wg');
    assert.deepEqual(Array.from(io.stdoutBytes().subarray(-2)), [0x77, 0x67]);
    assert.equal(io.stderrText(), 'oops\n');
    assert.equal(io.stdout.isTTY, false);
  });

  test('stdin: returns the given bytes; enforces maxBytes; abort() rejects with ABORTED', async () => {
    const io = createMemoryIo({ stdin: 'abc', env: { A: '1' } });
    assert.deepEqual(Array.from(await io.readStdin()), [97, 98, 99]);
    await assert.rejects(io.readStdin({ maxBytes: 2 }), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.USAGE);
    assert.equal(io.env.A, '1');
    assert.equal(io.signal.aborted, false);
    io.abort();
    assert.equal(io.signal.aborted, true);
    await assert.rejects(io.readStdin(), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.ABORTED);
  });
});

describe('createProcessIo (real child processes)', () => {
  test('when the reader of stdout goes away (EPIPE), the signal aborts instead of the process crashing', async () => {
    const r = await runShell('node --import tsx test/node/cli/fixtures/flood-stdout.ts | head -c 10 > /dev/null');
    assert.equal(r.status, 0);
    assert.equal(r.stderr, 'stopped: ABORTED stdout was closed\n');
  });

  test('stdin larger than the limit: pubkey refuses it and the process still exits', async () => {
    const r = await runShell('head -c 200000 /dev/zero | node bin/wgweb.js pubkey');
    assert.equal(r.status, 1);
    assert.equal(r.stderr, 'wgweb: pubkey: stdin is not a 32-byte base64 private key\n');
  });

  test('Ctrl-C while a command waits on stdin ends it with 130 and no message', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/node/cli/fixtures/wait-stdin.ts'], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    const ready = new Promise<void>((resolve) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        if (stderr.includes('ready\n')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await ready;
    child.kill('SIGINT'); // stdin stays open: only the signal can end the read
    assert.equal(await exited, 130);
    assert.equal(stderr, 'ready\n');
    child.stdin.destroy();
  });
});
