import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { COMMANDS, main, runCommandLine, type CommandEntry, type CommandModule, type CommandRun } from '../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../src/node/cli/cli-io.ts';
import { UsageError } from '../../../src/node/cli/args.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { REPO_ROOT, runShell } from './run-cli.ts';

const VERSION = (JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')) as { version: string }).version;

async function wgweb(argv: string[], env: Record<string, string> = {}) {
  const io = createMemoryIo({ env });
  const code = await main(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

/** A command table whose commands fail in chosen ways. */
const fakeModule = (name: string, run: CommandRun): CommandModule => ({ spec: { name, summary: name, options: {} }, run });
const FAKES: CommandEntry[] = [
  { name: 'ok', summary: 'Succeeds', load: async () => fakeModule('ok', async (args, io) => (await io.stdout.write(`ok ${args.join(' ')}\n`), 0)) },
  {
    name: 'refused',
    summary: 'Throws a WgwebError',
    load: async () =>
      fakeModule('refused', async () => {
        throw new WgwebError(ErrorCode.RELAY_REFUSED, 'relay ws://127.0.0.1:8080 refused 192.0.2.1:51820: not allowed by --allow', { closeCode: 4003 });
      }),
  },
  { name: 'usage', summary: 'Throws a UsageError', load: async () => fakeModule('usage', async () => { throw new UsageError('usage', '--count must be a whole number'); }) },
  { name: 'bug', summary: 'Throws a TypeError', load: async () => fakeModule('bug', async () => { throw new TypeError("Cannot read properties of undefined (reading 'x')"); }) },
  { name: 'bad-load', summary: 'Fails to load', load: async () => { throw new WgwebError(ErrorCode.INTERNAL, 'the bad-load command is not available in this build (src/node/cli/commands/bad-load-command.ts is missing)'); } },
  { name: 'exit3', summary: 'Returns 3', load: async () => fakeModule('exit3', async () => 3) },
];

async function fake(argv: string[], env: Record<string, string> = {}) {
  const io = createMemoryIo({ env });
  const code = await runCommandLine(argv, io, FAKES);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('top level: help, version, usage errors', () => {
  test('--help, -h and "help" list every command on stdout and exit 0', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['help', 'help']]) {
      const r = await wgweb(argv);
      assert.equal(r.code, 0);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^Usage: wgweb <command> \[options\]\n/);
      for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`\\n  ${c.name} +${c.summary.replace(/[()]/g, '\\$&')}\\n`));
    }
  });

  test('no arguments: the same help on stderr, exit 2', async () => {
    const r = await wgweb([]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^Usage: wgweb <command>/);
  });

  test('--version and -V print the package.json version', async () => {
    assert.deepEqual(await wgweb(['--version']), { code: 0, stdout: `wgweb ${VERSION}\n`, stderr: '' });
    assert.deepEqual(await wgweb(['-V']), { code: 0, stdout: `wgweb ${VERSION}\n`, stderr: '' });
  });

  test('the command table has the required commands', () => {
    assert.deepEqual(COMMANDS.map((c) => c.name).sort(), ['compare', 'dns', 'fetch', 'genkey', 'genpsk', 'iperf3', 'mtu', 'peer', 'ping', 'pubkey', 'relay', 'report', 'ssh', 'tcping', 'token', 'traceroute', 'up']);
  });

  test('an unknown command is a usage error with a suggestion, exit 2', async () => {
    assert.deepEqual(await wgweb(['pign']), { code: 2, stdout: '', stderr: 'wgweb: unknown command "pign"; did you mean ping?\nTry \'wgweb --help\'.\n' });
    assert.deepEqual(await wgweb(['frobnicate']), { code: 2, stdout: '', stderr: 'wgweb: unknown command "frobnicate"\nTry \'wgweb --help\'.\n' });
  });

  test('an unknown top-level option is a usage error, exit 2', async () => {
    const r = await wgweb(['--verbose', 'genkey']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, "wgweb: unknown option --verbose; options go after the command (wgweb <command> --help)\nTry 'wgweb --help'.\n");
  });

  test('"help <command>" and "<command> --help" print the same text', async () => {
    for (const name of ['genkey', 'pubkey', 'genpsk']) {
      const a = await wgweb(['help', name]);
      const b = await wgweb([name, '--help']);
      assert.equal(a.code, 0);
      assert.equal(a.stdout, b.stdout);
      assert.match(a.stdout, new RegExp(`^Usage: wgweb ${name}\\n`));
    }
    assert.equal((await wgweb(['help', 'pign'])).code, 2);
  });

  test('every command in the table loads its module and shows its own help', async () => {
    assert.deepEqual(COMMANDS.map((c) => c.name), ['relay', 'up', 'ping', 'mtu', 'traceroute', 'fetch', 'dns', 'tcping', 'ssh', 'iperf3', 'compare', 'report', 'peer', 'token', 'genkey', 'pubkey', 'genpsk']);
    for (const { name } of COMMANDS) {
      const r = await wgweb(['help', name]);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: wgweb ${name}\\b`));
      // args.ts adds "(repeatable)" to repeatable options; a description must not say it again.
      for (const line of r.stdout.split('\n')) assert.doesNotMatch(line, /repeatable.*repeatable/i, `${name} --help: ${line}`);
    }
  });
});

describe('errors become one line on stderr and an exit code', () => {
  test('success passes arguments through and returns the command\'s code', async () => {
    assert.deepEqual(await fake(['ok', 'a', '-b']), { code: 0, stdout: 'ok a -b\n', stderr: '' });
    assert.equal((await fake(['exit3'])).code, 3);
  });

  test('a WgwebError: "wgweb: <message>", exit 1, no stack', async () => {
    assert.deepEqual(await fake(['refused']), {
      code: 1,
      stdout: '',
      stderr: 'wgweb: relay ws://127.0.0.1:8080 refused 192.0.2.1:51820: not allowed by --allow\n',
    });
  });

  test('with --json, the error is also a JSON object with its code on stdout', async () => {
    const r = await fake(['refused', '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'wgweb: relay ws://127.0.0.1:8080 refused 192.0.2.1:51820: not allowed by --allow\n');
    assert.deepEqual(JSON.parse(r.stdout), {
      error: { code: 'RELAY_REFUSED', message: 'relay ws://127.0.0.1:8080 refused 192.0.2.1:51820: not allowed by --allow', detail: { closeCode: 4003 } },
    });
    assert.equal((await fake(['refused', '--', '--json'])).stdout, '', '--json after -- is an argument, not a flag');
  });

  test('a UsageError from a command: exit 2 and a pointer to that command\'s help', async () => {
    assert.deepEqual(await fake(['usage']), { code: 2, stdout: '', stderr: "wgweb: usage: --count must be a whole number\nTry 'wgweb usage --help'.\n" });
  });

  test('an unexpected error: a short message, exit 70, no stack', async () => {
    const r = await fake(['bug']);
    assert.equal(r.code, 70);
    assert.equal(r.stderr, "wgweb: internal error in bug: Cannot read properties of undefined (reading 'x')\nwgweb: this is a bug in wgweb; run again with WGWEB_DEBUG=1 to see where, and please report it\n");
    const json = await fake(['bug', '--json']);
    assert.equal(JSON.parse(json.stdout).error.code, 'INTERNAL');
  });

  test('WGWEB_DEBUG=1 adds the stack trace', async () => {
    const r = await fake(['bug'], { WGWEB_DEBUG: '1' });
    assert.equal(r.code, 70);
    assert.match(r.stderr, /^wgweb: internal error in bug: .*\nTypeError: Cannot read properties.*\n\s+at /);
    const w = await fake(['refused'], { WGWEB_DEBUG: '1' });
    assert.match(w.stderr, /\n\s+at /);
  });

  test('a command that cannot be loaded: exit 70 with the reason', async () => {
    assert.deepEqual(await fake(['bad-load']), {
      code: 70,
      stdout: '',
      stderr: 'wgweb: the bad-load command is not available in this build (src/node/cli/commands/bad-load-command.ts is missing)\n',
    });
  });

  test('main never rejects, even for a non-array argv', async () => {
    const io = createMemoryIo();
    assert.equal(await main('genkey' as unknown as string[], io), 70);
    assert.match(io.stderrText(), /argv must be an array of strings/);
  });
});

describe('as a real process (bin/wgweb.js)', () => {
  test('exit codes and streams: help 0, usage 2', async () => {
    const help = await runShell('node bin/wgweb.js --help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /^Usage: wgweb <command>/);
    const usage = await runShell('node bin/wgweb.js genkey --bogus');
    assert.equal(usage.status, 2);
    assert.equal(usage.stdout, '');
    assert.equal(usage.stderr, "wgweb: genkey: unknown option --bogus\nTry 'wgweb genkey --help'.\n");
  });

  test('--version', async () => {
    const r = await runShell('node bin/wgweb.js --version');
    assert.deepEqual([r.status, r.stdout], [0, `wgweb ${VERSION}\n`]);
  });

  test('help relay reaches the relay command through the lazy import', async () => {
    const r = await runShell('node bin/wgweb.js help relay');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: wgweb relay/);
  });
});
