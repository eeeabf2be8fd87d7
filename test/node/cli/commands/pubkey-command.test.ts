import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrivateKeyInput, run } from '../../../../src/node/cli/commands/pubkey-command.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { ErrorCode, WgwebError } from '../../../../src/shared/errors.ts';
import { wg, wgSkipReason } from '../wg-tool.ts';
import { runShell } from '../run-cli.ts';

// From real `wg genkey | tee priv | wg pubkey` (wireguard-tools).
const PRIV = 'WAC5Q8HtooNmrK54XVHGptbvJsUm5IqVzBWa7SgoqGk=';
const PUB = 'y44zkZg8FuThpguATVahF3QCz0uM31+cpQIiJEUNhUE=';
const BAD = 'wgweb: pubkey: stdin is not a 32-byte base64 private key\n';

async function pubkey(stdin: string | Uint8Array): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = createMemoryIo({ stdin });
  const code = await main(['pubkey'], io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('wgweb pubkey', () => {
  test('prints the public key of the private key on stdin (fixture from wg)', async () => {
    assert.deepEqual(await pubkey(`${PRIV}\n`), { code: 0, stdout: `${PUB}\n`, stderr: '' });
  });

  // wg's rule: exactly 44 characters of canonical base64 first, then only whitespace or NUL.
  const inputs: [string, string | Uint8Array, boolean][] = [
    ['key without newline', PRIV, true],
    ['key with CRLF', `${PRIV}\r\n`, true],
    ['key with trailing spaces, tabs and blank lines', `${PRIV} \t\n\n\v\f`, true],
    ['key followed by NUL bytes', `${PRIV}\0\0`, true],
    ['leading space', ` ${PRIV}`, false],
    ['empty stdin', '', false],
    ['only a newline', '\n', false],
    ['43 characters', PRIV.slice(0, 43), false],
    ['missing "=" but 44 characters', `${PRIV.slice(0, 43)}A`, false],
    ['non-canonical last character', `${PRIV.slice(0, 42)}l=`, false],
    ['two keys', `${PRIV}\n${PRIV}\n`, false],
    ['trailing garbage', `${PRIV} x`, false],
    ['hex key', `${'ab'.repeat(32)}\n`, false],
    ['URL-safe base64', `${'_'.repeat(43)}=`, false],
    ['non-ASCII', `${PRIV.slice(0, 43)}é`, false],
    ['binary', new Uint8Array(100).fill(0xff), false],
  ];
  inputs.forEach(([name, stdin, ok], i) => {
    test(`${i + 1}. ${name}: ${ok ? 'accepted' : 'rejected with exit 1'}`, async () => {
      const r = await pubkey(stdin);
      if (ok) assert.deepEqual(r, { code: 0, stdout: `${PUB}\n`, stderr: '' });
      else assert.deepEqual(r, { code: 1, stdout: '', stderr: BAD });
    });
  });

  test('stdin larger than any key is rejected without reading it all', async () => {
    assert.deepEqual(await pubkey(`${PRIV}${' '.repeat(100_000)}`), { code: 1, stdout: '', stderr: BAD });
  });

  test('run() rejects with a KEY_INVALID WgwebError', async () => {
    await assert.rejects(run([], createMemoryIo({ stdin: 'nope' })), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.KEY_INVALID);
  });

  test('Ctrl-C while waiting for stdin ends quietly with 130', async () => {
    const io = createMemoryIo({ stdin: PRIV });
    io.abort();
    assert.equal(await main(['pubkey'], io), 130);
    assert.equal(io.stderrText(), '');
  });

  test('parsePrivateKeyInput returns the 32 bytes or undefined', () => {
    assert.equal(parsePrivateKeyInput(new TextEncoder().encode(`${PRIV}\n`))?.length, 32);
    assert.equal(parsePrivateKeyInput(new Uint8Array(0)), undefined);
  });

  describe('against the real wg tool', { skip: wgSkipReason() }, () => {
    test('agrees with wg pubkey on accept/reject and output for every input above', async () => {
      for (const [name, stdin] of inputs) {
        if (typeof stdin !== 'string') continue;
        const theirs = wg(['pubkey'], stdin);
        const ours = await pubkey(stdin);
        assert.equal(ours.code === 0, theirs.status === 0, `${name}: wg exited ${theirs.status}`);
        if (theirs.status === 0) assert.equal(ours.stdout, theirs.stdout, name);
      }
    });

    test('agrees with wg pubkey on fresh wg genkey keys', async () => {
      for (let i = 0; i < 10; i++) {
        const key = wg(['genkey']).stdout;
        assert.equal((await pubkey(key)).stdout, wg(['pubkey'], key).stdout);
      }
    });

    test('as a real process: bad stdin prints one line and exits 1', async () => {
      const r = await runShell('node bin/wgweb.js pubkey', { input: 'not a key\n' });
      assert.equal(r.status, 1);
      assert.equal(r.stderr, BAD);
      assert.equal(r.stdout, '');
    });
  });
});
