import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { run, spec } from '../../../../src/node/cli/commands/ssh-command.ts';
import { UsageError, formatCommandHelp } from '../../../../src/node/cli/args.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';

const fails = (args: string[], env: Record<string, string> = {}) => run(args, createMemoryIo({ env })).then(() => undefined, (e: unknown) => e);

describe('wgweb ssh: arguments', () => {
  test('a COMMAND is required: interactive shells live in the browser console', async () => {
    const e = await fails(['root@10.0.0.2'], { WGWEB_SSH_PASSWORD: 'pw' });
    assert.ok(e instanceof UsageError && /give a COMMAND/.test(e.message), String(e));
  });

  test('without a password (env or file) or a key it stops before connecting, naming the three ways', async () => {
    const e = await fails(['root@10.0.0.2', 'uptime']);
    assert.ok(e instanceof UsageError && /WGWEB_SSH_PASSWORD.*--password-file.*-i KEYFILE/.test(e.message), String(e));
  });

  test('credentials given, it gets past argument checking and stops at the missing --config', async () => {
    const e = await fails(['root@10.0.0.2', 'uptime'], { WGWEB_SSH_PASSWORD: 'pw' });
    assert.ok(e instanceof UsageError && /--config/.test(e.message), String(e));
  });

  test('the help says where secrets come from and that -- protects a command\'s own options', () => {
    const help = formatCommandHelp(spec);
    assert.match(help, /WGWEB_SSH_PASSWORD/);
    assert.match(help, /Put -- before a command/);
    assert.doesNotMatch(help, /--password /);
  });
});
