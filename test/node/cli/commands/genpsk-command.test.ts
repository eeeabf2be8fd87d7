import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from '../../../../src/node/cli/commands/genpsk-command.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { fromBase64 } from '../../../../src/shared/bytes.ts';
import { parseWgQuickConfig } from '../../../../src/shared/wg-quick-config.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { wg, wgSkipReason } from '../wg-tool.ts';
import { runShell } from '../run-cli.ts';

describe('wgweb genpsk', () => {
  test('prints 32 random bytes as base64 and a newline, like wg genpsk', async () => {
    const io = createMemoryIo();
    assert.equal(await run([], io), 0);
    assert.match(io.stdoutText(), /^[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(fromBase64(io.stdoutText().trim()).length, 32);
    const again = createMemoryIo();
    await run([], again);
    assert.notEqual(again.stdoutText(), io.stdoutText());
  });

  test('the output is a valid PresharedKey line for a config', async () => {
    const io = createMemoryIo();
    await run([], io);
    const psk = io.stdoutText().trim();
    const { config } = parseWgQuickConfig(`[Interface]\nPrivateKey = WAC5Q8HtooNmrK54XVHGptbvJsUm5IqVzBWa7SgoqGk=\n[Peer]\nPublicKey = 7vaHKfLOYVtQPB/Q3S0HQAp70mnrSa1lSVb9WrXpKHQ=\nPresharedKey = ${psk}\n`);
    assert.deepEqual(config.peers[0].presharedKey, fromBase64(psk));
  });

  test('warns about a world-accessible output file; rejects arguments', async () => {
    const io = createMemoryIo({ worldAccessibleStdout: true });
    await run([], io);
    assert.match(io.stderrText(), /umask 077/);
    const bad = createMemoryIo();
    assert.equal(await main(['genpsk', '--bits', '256'], bad), 2);
    assert.match(bad.stderrText(), /^wgweb: genpsk: unknown option --bits\n/);
  });

  describe('against the real wg tool', { skip: wgSkipReason() }, () => {
    test('has the same shape as wg genpsk output', () => {
      const theirs = wg(['genpsk']);
      assert.equal(theirs.status, 0);
      assert.match(theirs.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
    });

    test('as a real process writing to a world-readable file, it warns like wg does', async () => {
      const r = await runShell('umask 022; d=$(mktemp -d); node bin/wgweb.js genpsk > "$d/psk"; s=$?; cat "$d/psk"; rm -r "$d"; exit $s');
      assert.equal(r.status, 0);
      assert.match(r.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
      assert.match(r.stderr, /^wgweb: warning: writing a secret key to a file other users can read/);
      const quiet = await runShell('umask 077; d=$(mktemp -d); node bin/wgweb.js genpsk > "$d/psk"; s=$?; rm -r "$d"; exit $s');
      assert.equal(quiet.status, 0);
      assert.equal(quiet.stderr, '');
    });
  });
});
