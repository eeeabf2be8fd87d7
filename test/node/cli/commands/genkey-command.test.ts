import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../../../src/node/cli/commands/genkey-command.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { fromBase64 } from '../../../../src/shared/bytes.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { wg, wgSkipReason } from '../wg-tool.ts';
import { runShell } from '../run-cli.ts';

describe('wgweb genkey', () => {
  test('prints 44 characters of base64 and a newline: a clamped 32-byte X25519 key', async () => {
    const io = createMemoryIo();
    assert.equal(await run([], io), 0);
    const out = io.stdoutText();
    assert.match(out, /^[A-Za-z0-9+/]{43}=\n$/);
    const key = fromBase64(out.trim());
    assert.equal(key.length, 32);
    assert.equal(key[0] & 7, 0, 'low three bits cleared (RFC 7748 §5)');
    assert.equal(key[31] & 0xc0, 0x40, 'top bit cleared, second-highest set');
    assert.equal(io.stderrText(), '');
  });

  test('two runs give different keys', async () => {
    const a = createMemoryIo();
    const b = createMemoryIo();
    await run([], a);
    await run([], b);
    assert.notEqual(a.stdoutText(), b.stdoutText());
  });

  test('warns, like wg, when the key goes to a file other users can read', async () => {
    const io = createMemoryIo({ worldAccessibleStdout: true });
    assert.equal(await run([], io), 0);
    assert.match(io.stderrText(), /^wgweb: warning: writing a secret key to a file other users can read; run "umask 077" first\n$/);
    assert.match(io.stdoutText(), /^[A-Za-z0-9+/]{43}=\n$/);
  });

  test('--help prints usage; an argument is a usage error (exit 2)', async () => {
    const help = createMemoryIo();
    assert.equal(await main(['genkey', '--help'], help), 0);
    assert.match(help.stdoutText(), /^Usage: wgweb genkey\n/);
    const bad = createMemoryIo();
    assert.equal(await main(['genkey', 'extra'], bad), 2);
    assert.equal(bad.stderrText(), 'wgweb: genkey: unexpected argument "extra"\nTry \'wgweb genkey --help\'.\n');
    assert.equal(bad.stdoutText(), '');
  });

  describe('against the real wg tool', { skip: wgSkipReason() }, () => {
    test('wg pubkey accepts our key and agrees with wgweb pubkey', async () => {
      for (let i = 0; i < 5; i++) {
        const gen = createMemoryIo();
        await run([], gen);
        const theirs = wg(['pubkey'], gen.stdoutText());
        assert.equal(theirs.status, 0, theirs.stderr);
        const ours = createMemoryIo({ stdin: gen.stdoutText() });
        assert.equal(await main(['pubkey'], ours), 0);
        assert.equal(ours.stdoutText(), theirs.stdout);
      }
    });

    test('a real pipeline: node bin/wgweb.js genkey | node bin/wgweb.js pubkey', async () => {
      const r = await runShell('umask 077; d=$(mktemp -d); node bin/wgweb.js genkey | tee "$d/key" | node bin/wgweb.js pubkey; cat "$d/key"; rm -r "$d"');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      const [publicKey, privateKey] = r.stdout.split('\n');
      assert.match(privateKey, /^[A-Za-z0-9+/]{43}=$/);
      assert.equal(`${publicKey}\n`, wg(['pubkey'], `${privateKey}\n`).stdout);
    });
  });
});
