import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { recordType, run, spec } from '../../../../src/node/cli/commands/dns-command.ts';
import { UsageError, formatCommandHelp } from '../../../../src/node/cli/args.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';

describe('wgweb dns: the record type', () => {
  test('is A when neither --type nor TYPE is given', () => {
    assert.equal(recordType(undefined, undefined), 'A');
  });

  test('comes after NAME the way dig takes it, in any case', () => {
    assert.equal(recordType(undefined, 'AAAA'), 'AAAA');
    assert.equal(recordType(undefined, 'aaaa'), 'AAAA');
  });

  test('--type keeps working, and agrees with a TYPE that says the same', () => {
    assert.equal(recordType('AAAA', undefined), 'AAAA');
    assert.equal(recordType('aaaa', 'AAAA'), 'AAAA');
  });

  test('two different types, or a type other than A/AAAA, are usage errors that say so', () => {
    assert.throws(() => recordType('A', 'AAAA'), (e: unknown) => e instanceof UsageError && /two record types/.test(e.message));
    assert.throws(() => recordType(undefined, 'MX'), (e: unknown) => e instanceof UsageError && /must be A or AAAA, not "MX"/.test(e.message));
    assert.throws(() => recordType('TXT', undefined), (e: unknown) => e instanceof UsageError && /not "TXT"/.test(e.message));
  });

  test('`wgweb dns NAME AAAA` gets past argument checking; `NAME MX` and a third argument do not', async () => {
    // Without --config the command stops at the config, after the arguments were accepted.
    const accepted = await run(['wiki.corp', 'AAAA'], createMemoryIo()).catch((e: unknown) => e);
    assert.ok(accepted instanceof Error);
    assert.doesNotMatch(accepted.message, /record type|unexpected argument/);
    await assert.rejects(run(['wiki.corp', 'MX'], createMemoryIo()), /must be A or AAAA, not "MX"/);
    await assert.rejects(run(['wiki.corp', 'AAAA', 'extra'], createMemoryIo()), /unexpected argument "extra"/);
  });

  test('the help shows TYPE in the usage line and a dig-style example', () => {
    const help = formatCommandHelp(spec);
    assert.match(help, /^Usage: wgweb dns \[options\] NAME \[TYPE\]$/m);
    assert.match(help, /wgweb dns --config wg0\.conf wiki\.corp AAAA$/m);
  });
});
