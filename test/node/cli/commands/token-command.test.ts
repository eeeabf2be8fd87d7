import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { parseTtl } from '../../../../src/node/cli/commands/token-command.ts';
import { RelayAuth } from '../../../../src/node/relay/relay-auth.ts';
import { relayTokenProtocol } from '../../../../src/shared/relay-protocol.ts';

describe('wgweb token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-token-'));
  const secretFile = join(dir, 'relay.secret');
  writeFileSync(secretFile, 'cli-token-test-secret-0123456789abcdefghij\n');
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('prints a token the relay with the same secret accepts for the allowed endpoint only', async () => {
    const io = createMemoryIo();
    assert.equal(await main(['token', '--secret-file', secretFile, '--allow', '192.0.2.1:51820', '--ttl', '10m', '--max-sessions', '3', '--subject', 'alice'], io), 0);
    const token = io.stdoutText().trim();
    const auth = new RelayAuth({ mode: 'signed', secretFile });
    const ok = auth.check(relayTokenProtocol(token), { host: '192.0.2.1', port: 51820 });
    assert.ok(ok.ok);
    assert.deepEqual(ok.grant.cap?.max, 3);
    assert.equal(ok.grant.label, 'signed:alice');
    assert.equal(auth.check(relayTokenProtocol(token), { host: '192.0.2.2', port: 51820 }).ok, false);
    const exp = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).exp;
    assert.ok(Math.abs(exp - (Date.now() / 1000 + 600)) < 5);
  });

  test('without --secret-file or --allow, or with a bad --ttl: usage errors (exit 2)', async () => {
    for (const args of [['--allow', '192.0.2.1'], ['--secret-file', secretFile], ['--secret-file', secretFile, '--allow', '192.0.2.1', '--ttl', '1y']]) {
      const io = createMemoryIo();
      assert.equal(await main(['token', ...args], io), 2, args.join(' '));
    }
  });

  test('durations: seconds, minutes, hours, days', () => {
    assert.deepEqual(['90', '90s', '30m', '1h', '7d'].map(parseTtl), [90, 90, 1800, 3600, 604800]);
    assert.throws(() => parseTtl('1.5h'), RangeError);
  });
});
