import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatCommandHelp, parseCommandArgs, UsageError, type CommandSpec } from '../../../src/node/cli/args.ts';
import { ErrorCode } from '../../../src/shared/errors.ts';

const spec = {
  name: 'fetch',
  summary: 'Make an HTTP request through a WireGuard tunnel.',
  options: {
    config: { type: 'string', short: 'c', valueName: 'FILE', description: 'wg-quick config file' },
    header: { type: 'string', short: 'H', multiple: true, valueName: 'LINE', description: 'Add a request header' },
    count: { type: 'integer', short: 'n', valueName: 'N', min: 1, max: 1000, description: 'Repeat N times' },
    timeout: { type: 'number', valueName: 'SECS', min: 0, description: 'Give up after SECS seconds' },
    offset: { type: 'integer', valueName: 'N', description: 'Any whole number' },
    json: { type: 'boolean', description: 'Print JSON' },
    verbose: { type: 'boolean', short: 'v', description: 'Say more' },
  },
  positionals: [{ name: 'URL' }, { name: 'EXTRA', required: false, variadic: true }],
  examples: ['wgweb fetch -c wg0.conf http://10.0.0.1/'],
} as const satisfies CommandSpec;

const parse = (...args: string[]) => parseCommandArgs(spec, args);

/** The UsageError message `args` produce. */
function usageMessage(args: string[]): string {
  try {
    parseCommandArgs(spec, args);
  } catch (e) {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${String(e)}`);
    assert.equal(e.code, ErrorCode.USAGE);
    assert.equal(e.command, 'fetch');
    return e.message;
  }
  assert.fail(`no error for ${JSON.stringify(args)}`);
}

describe('parseCommandArgs: accepted forms', () => {
  test('defaults: booleans false, repeatables empty, others undefined', () => {
    const r = parse('http://x/');
    assert.equal(r.help, false);
    assert.deepEqual(r.values, { header: [], json: false, verbose: false });
    assert.deepEqual(r.positionals, ['http://x/']);
  });

  test('long, short, --opt=value, -c value, -cvalue, grouped short booleans', () => {
    const r = parse('--config', 'a.conf', '-n5', '--timeout=2.5', '-v', '--json', 'http://x/');
    assert.equal(r.values.config, 'a.conf');
    assert.equal(r.values.count, 5);
    assert.equal(r.values.timeout, 2.5);
    assert.equal(r.values.verbose, true);
    assert.equal(r.values.json, true);
    assert.equal(parse('-c', 'b.conf', 'u').values.config, 'b.conf');
    assert.equal(parse('-cb.conf', 'u').values.config, 'b.conf');
    assert.equal(parse('-vn', '3', 'u').values.count, 3);
  });

  test('repeatable options keep command-line order', () => {
    const r = parse('-H', 'Accept: */*', 'u', '--header=X-A: 1', '-HX-B: 2');
    assert.deepEqual(r.values.header, ['Accept: */*', 'X-A: 1', 'X-B: 2']);
  });

  test('options and positionals mix; "--" ends options', () => {
    const r = parse('u', '-v', 'extra1', '--', '--json', '-H');
    assert.deepEqual(r.positionals, ['u', 'extra1', '--json', '-H']);
    assert.equal(r.values.json, false);
  });

  test('negative numbers are values, and "=" passes a value that starts with "-"', () => {
    assert.equal(parse('--offset', '-3', 'u').values.offset, -3);
    assert.equal(parse('--config=-weird.conf', 'u').values.config, '-weird.conf');
  });

  test('-h/--help wins over everything else and skips all checks', () => {
    for (const args of [['--help'], ['-h'], ['--bogus', '--help'], ['-vh'], ['--count', 'x', '-h']]) {
      assert.equal(parseCommandArgs(spec, args).help, true, JSON.stringify(args));
    }
    assert.deepEqual(parse('u', '--', '--help').positionals, ['u', '--help']);
  });
});

describe('parseCommandArgs: usage errors name the command and the option', () => {
  const cases: [string[], string][] = [
    [['--bogus', 'u'], 'fetch: unknown option --bogus'],
    [['--jsn', 'u'], 'fetch: unknown option --jsn; did you mean --json?'],
    [['--heaer=a', 'u'], 'fetch: unknown option --heaer; did you mean --header?'],
    [['-x', 'u'], 'fetch: unknown option -x'],
    [['-vx', 'u'], 'fetch: unknown option -x'],
    [['-j', 'u'], 'fetch: unknown option -j'],
    [['u', '--config'], 'fetch: --config needs a value (FILE)'],
    [['u', '-c'], 'fetch: -c needs a value (FILE)'],
    [['u', '--config', '--json'], 'fetch: --config needs a value (FILE); to pass one that starts with "-", write --config=--json'],
    [['u', '--json=yes'], 'fetch: --json does not take a value'],
    [['u', '-c', 'a', '--config', 'b'], 'fetch: --config is given more than once'],
    [['u', '--count', 'many'], 'fetch: --count must be a whole number from 1 to 1000, not "many"'],
    [['u', '--count', '0'], 'fetch: --count must be a whole number from 1 to 1000, not "0"'],
    [['u', '--count', '2.5'], 'fetch: --count must be a whole number from 1 to 1000, not "2.5"'],
    [['u', '--count', '1e3'], 'fetch: --count must be a whole number from 1 to 1000, not "1e3"'],
    [['u', '--timeout', '-1'], 'fetch: --timeout must be a number of at least 0, not "-1"'],
    [['u', '--timeout', 'Infinity'], 'fetch: --timeout must be a number of at least 0, not "Infinity"'],
    [['u', '--offset', '99999999999999999999'], 'fetch: --offset must be a whole number, not "99999999999999999999"'],
    [[], 'fetch: missing URL'],
    [['-v'], 'fetch: missing URL'],
  ];
  cases.forEach(([args, message], i) => {
    test(`${i + 1}. ${JSON.stringify(args)}`, () => {
      assert.equal(usageMessage(args), message);
    });
  });

  test('extra positionals are reported when the spec has no variadic slot', () => {
    const one = { name: 'dns', summary: 's', options: {}, positionals: [{ name: 'NAME' }] } as const satisfies CommandSpec;
    assert.throws(() => parseCommandArgs(one, ['a', 'b']), { message: 'dns: unexpected argument "b"' });
    const none = { name: 'genkey', summary: 's', options: {} } as const satisfies CommandSpec;
    assert.throws(() => parseCommandArgs(none, ['x']), { message: 'genkey: unexpected argument "x"' });
  });

  test('detail carries the option for UIs and --json', () => {
    try {
      parse('u', '--count', 'x');
      assert.fail('no error');
    } catch (e) {
      assert.ok(e instanceof UsageError);
      assert.deepEqual(e.detail, { command: 'fetch', option: '--count' });
    }
  });
});

describe('parseCommandArgs: a malformed spec is a programming error', () => {
  test('TypeError for a duplicate short option, a --help option, or non-string args', () => {
    const dupe = { name: 'x', summary: 's', options: { a: { type: 'boolean', short: 'a', description: '' }, b: { type: 'boolean', short: 'a', description: '' } } } as const satisfies CommandSpec;
    assert.throws(() => parseCommandArgs(dupe, []), TypeError);
    const help = { name: 'x', summary: 's', options: { help: { type: 'boolean', description: '' } } } as const satisfies CommandSpec;
    assert.throws(() => parseCommandArgs(help, []), TypeError);
    const hShort = { name: 'x', summary: 's', options: { host: { type: 'string', short: 'h', description: '' } } } as const satisfies CommandSpec;
    assert.throws(() => parseCommandArgs(hShort, []), TypeError);
    assert.throws(() => parseCommandArgs(spec, [1 as unknown as string]), TypeError);
  });
});

describe('formatCommandHelp', () => {
  test('usage line from the positionals, aligned options, examples', () => {
    assert.equal(
      formatCommandHelp(spec),
      `Usage: wgweb fetch [options] URL [EXTRA...]

Make an HTTP request through a WireGuard tunnel.

Options:
  -c, --config FILE    wg-quick config file
  -H, --header LINE    Add a request header (repeatable)
  -n, --count N        Repeat N times
      --timeout SECS   Give up after SECS seconds
      --offset N       Any whole number
      --json           Print JSON
  -v, --verbose        Say more
  -h, --help           Show this help

Examples:
  wgweb fetch -c wg0.conf http://10.0.0.1/
`,
    );
  });

  test('an explicit usage string and description are used as given', () => {
    const s = { name: 'relay', summary: 'Run the relay.', usage: '--allow RULE [options]', description: 'Deny by default.', options: {} } as const satisfies CommandSpec;
    assert.match(formatCommandHelp(s), /^Usage: wgweb relay --allow RULE \[options\]\n\nRun the relay\.\n\nDeny by default\.\n\nOptions:\n  -h, --help   Show this help\n$/);
  });
});
