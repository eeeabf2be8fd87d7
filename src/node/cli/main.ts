/**
 * `wgweb <command> [args]`: the subcommand table, top-level help and version, and the one place
 * where errors become messages and exit codes.
 *
 *   argv ─▶ global flags (--help, --version) ─▶ COMMANDS[name].load() (lazy import: { spec, run })
 *        ─▶ `<command> --help`: formatCommandHelp(spec), exit 0 (the one place help is printed)
 *        ─▶ run(args, io) ─▶ exit code; any throw ─▶ reportError ─▶ "wgweb: <message>" on stderr + exit code
 *
 * Exit codes: 0 success; 1 a WgwebError (bad config, unreachable relay, ...); 2 usage error;
 * 70 an unexpected error (a bug, EX_SOFTWARE from sysexits.h); 130 interrupted by Ctrl-C.
 * Commands may return other codes of their own (ping: 1 when no reply came back).
 */
import { closestMatch } from '../../shared/closest-match.ts';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import { formatCommandHelp, table, UsageError, wantsHelp, type CommandSpec } from './args.ts';
import { createProcessIo, type CliIo } from './cli-io.ts';

/** A command's entry point: its arguments (after the command name) and the process boundary. */
export type CommandRun = (args: string[], io: CliIo) => Promise<number>;

/**
 * What every command module exports: its `spec` (options, help text) and `run`. `run` is called
 * only without `--help`; the help is printed here from the spec.
 */
export interface CommandModule {
  readonly spec: CommandSpec;
  readonly run: CommandRun;
}

/** One row of the subcommand table. */
export interface CommandEntry {
  readonly name: string;
  /** One line for `wgweb --help`. */
  readonly summary: string;
  /**
   * Imports the command's module only when it runs, so `wgweb genkey` never loads the relay. Each is
   * a static `import('./commands/x-command.ts')`, so the type checker and the bundler
   * (scripts/build.mjs) see every command module.
   */
  load(): Promise<CommandModule>;
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** EX_SOFTWARE (sysexits.h): an internal error, i.e. a bug in wgweb. */
export const EXIT_INTERNAL = 70;
/** 128 + SIGINT, what shells report for a command ended by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

/** The subcommands, in the order `wgweb --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'relay',
    summary: 'Run the WebSocket-to-UDP relay that browsers reach WireGuard peers through',
    load: () => import('./commands/relay-command.ts'),
  },
  {
    name: 'up',
    summary: 'Bring a tunnel up and show which peers are up, and why the others are not',
    load: () => import('./commands/up-command.ts'),
  },
  {
    name: 'ping',
    summary: 'Send ICMP echo requests through a WireGuard tunnel',
    load: () => import('./commands/ping-command.ts'),
  },
  {
    name: 'mtu',
    summary: 'Find the largest packet that reaches a host through a WireGuard tunnel unfragmented',
    load: () => import('./commands/mtu-command.ts'),
  },
  {
    name: 'traceroute',
    summary: 'Show the routers between a WireGuard tunnel and a host (UDP or ICMP probes, like traceroute)',
    load: () => import('./commands/traceroute-command.ts'),
  },
  {
    name: 'fetch',
    summary: 'Make an HTTP request through a WireGuard tunnel',
    load: () => import('./commands/fetch-command.ts'),
  },
  {
    name: 'dns',
    summary: 'Resolve a name with a DNS server inside a WireGuard tunnel',
    load: () => import('./commands/dns-command.ts'),
  },
  {
    name: 'tcping',
    summary: 'Time TCP connections through a WireGuard tunnel',
    load: () => import('./commands/tcping-command.ts'),
  },
  {
    name: 'ssh',
    summary: 'Run a command on an SSH server through a WireGuard tunnel',
    load: () => import('./commands/ssh-command.ts'),
  },
  {
    name: 'iperf3',
    summary: 'Measure TCP throughput against an iperf3 server through a WireGuard tunnel',
    load: () => import('./commands/iperf3-command.ts'),
  },
  {
    name: 'compare',
    summary: 'Compare a download through the tunnel with the same download straight from the relay',
    load: () => import('./commands/compare-command.ts'),
  },
  {
    name: 'report',
    summary: 'Check each peer and write a diagnostic report (HTML and JSON, keys left out)',
    load: () => import('./commands/report-command.ts'),
  },
  {
    name: 'peer',
    summary: "Listen as a WireGuard peer on a UDP port (wgweb's own implementation)",
    load: () => import('./commands/peer-command.ts'),
  },
  {
    name: 'token',
    summary: 'Print a signed, short-lived access token for a relay with --auth signed',
    load: () => import('./commands/token-command.ts'),
  },
  {
    name: 'genkey',
    summary: 'Print a new private key (like wg genkey)',
    load: () => import('./commands/genkey-command.ts'),
  },
  {
    name: 'pubkey',
    summary: 'Read a private key on stdin and print its public key (like wg pubkey)',
    load: () => import('./commands/pubkey-command.ts'),
  },
  {
    name: 'genpsk',
    summary: 'Print a new preshared key (like wg genpsk)',
    load: () => import('./commands/genpsk-command.ts'),
  },
];

/**
 * Runs `wgweb` with `argv` (the arguments after the program name) and resolves with the exit code.
 * Never rejects: every error is reported on `io.stderr` (and, with `--json`, as a JSON object on
 * `io.stdout`).
 * @param io defaults to the real process streams.
 */
export async function main(argv: string[], io?: CliIo): Promise<number> {
  const owned = io ? undefined : createProcessIo();
  try {
    return await runCommandLine(argv, io ?? owned!, COMMANDS);
  } finally {
    owned?.close();
  }
}

/**
 * {@link main} over an explicit command table (tests use fake commands to exercise error
 * reporting). Never rejects.
 */
export async function runCommandLine(argv: string[], cli: CliIo, commands: readonly CommandEntry[]): Promise<number> {
  let command = 'wgweb';
  try {
    if (!Array.isArray(argv)) throw new TypeError('argv must be an array of strings');
    const [first, ...rest] = argv;
    if (first === undefined) {
      await cli.stderr.write(topLevelHelp(commands));
      return EXIT_USAGE;
    }
    if (first === '--help' || first === '-h' || (first === 'help' && (rest.length === 0 || rest[0] === 'help'))) {
      await cli.stdout.write(topLevelHelp(commands));
      return EXIT_OK;
    }
    if (first === '--version' || first === '-V') {
      await cli.stdout.write(`wgweb ${await version()}\n`);
      return EXIT_OK;
    }
    if (first === 'help') {
      const entry = findCommand(commands, rest[0]);
      command = entry.name;
      return await runCommand(await entry.load(), ['--help'], cli);
    }
    if (first.startsWith('-')) throw new UsageError('wgweb', `unknown option ${first}; options go after the command (wgweb <command> --help)`);
    const entry = findCommand(commands, first);
    command = entry.name;
    return await runCommand(await entry.load(), rest, cli);
  } catch (err) {
    return reportError(err, cli, command, wantsJson(argv));
  }
}

/** `--help` from the spec, anything else through the command's `run`. */
async function runCommand(command: CommandModule, args: string[], io: CliIo): Promise<number> {
  if (wantsHelp(command.spec, args)) {
    await io.stdout.write(formatCommandHelp(command.spec));
    return EXIT_OK;
  }
  return command.run(args, io);
}

function findCommand(commands: readonly CommandEntry[], name: string): CommandEntry {
  const entry = commands.find((c) => c.name === name);
  if (entry) return entry;
  const guess = closestMatch(name, commands.map((c) => c.name));
  throw new UsageError('wgweb', `unknown command "${name}"${guess ? `; did you mean ${guess}?` : ''}`, { argument: name });
}

/** `--json` anywhere before a `--` terminator asks for machine-readable errors too. */
function wantsJson(argv: unknown): boolean {
  if (!Array.isArray(argv)) return false;
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/** Prints `err` for a human (and a script, with --json) and picks the exit code. */
async function reportError(err: unknown, io: CliIo, command: string, json: boolean): Promise<number> {
  const debug = io.env.WGWEB_DEBUG === '1' || io.env.WGWEB_DEBUG === 'true';
  try {
    if (err instanceof WgwebError && err.code === ErrorCode.ABORTED && io.signal.aborted) {
      // Ctrl-C (or the reader of stdout went away): the user knows; no message.
      if (debug) await io.stderr.write(`wgweb: ${err.message}\n`);
      return EXIT_INTERRUPTED;
    }
    if (err instanceof WgwebError) {
      let text = `wgweb: ${err.message}\n`;
      if (err instanceof UsageError) {
        const helpCommand = err.command === 'wgweb' ? 'wgweb --help' : `wgweb ${err.command} --help`;
        text += `Try '${helpCommand}'.\n`;
      }
      if (debug) text += debugText(err);
      await io.stderr.write(text);
      if (json) await io.stdout.write(jsonLine({ error: err.toJSON() }));
      if (err.code === ErrorCode.USAGE) return EXIT_USAGE;
      if (err.code === ErrorCode.INTERNAL) return EXIT_INTERNAL;
      return EXIT_FAILURE;
    }
    const message = err instanceof Error ? err.message : String(err);
    let text = `wgweb: internal error${command !== 'wgweb' ? ` in ${command}` : ''}: ${message}\n`;
    text += debug ? debugText(err) : 'wgweb: this is a bug in wgweb; run again with WGWEB_DEBUG=1 to see where, and please report it\n';
    await io.stderr.write(text);
    if (json) await io.stdout.write(jsonLine({ error: { code: ErrorCode.INTERNAL, message, detail: {} } }));
    return EXIT_INTERNAL;
  } catch {
    // Even printing failed (stderr closed): the exit code is all that is left.
    return err instanceof WgwebError ? (err.code === ErrorCode.USAGE ? EXIT_USAGE : EXIT_FAILURE) : EXIT_INTERNAL;
  }
}

function debugText(err: unknown): string {
  let text = '';
  let e: unknown = err;
  for (let depth = 0; e !== undefined && depth < 5; depth++) {
    text += `${depth > 0 ? 'caused by: ' : ''}${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`;
    e = e instanceof Error ? e.cause : undefined;
  }
  return text;
}

function jsonLine(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : typeof v === 'bigint' ? String(v) : v)) + '\n';
  } catch {
    return JSON.stringify({ error: { code: ErrorCode.INTERNAL, message: 'error detail could not be serialised', detail: {} } }) + '\n';
  }
}

function topLevelHelp(commands: readonly CommandEntry[]): string {
  return [
    'Usage: wgweb <command> [options]',
    '',
    'WireGuard in the browser: the relay that browsers use, and the same WireGuard tunnel from the',
    'command line (it reads wg-quick .conf files and talks to real WireGuard peers).',
    '',
    'Commands:',
    ...table([...commands.map((c) => [c.name, c.summary] as const), ['help', 'Show help for a command: wgweb help <command>']]),
    '',
    'Options:',
    ...table([
      ['-h, --help', 'Show this help'],
      ['-V, --version', 'Print the version'],
    ]),
    '',
    "Run 'wgweb <command> --help' for a command's options.",
    'Exit status: 0 ok, 1 error, 2 usage error, 70 internal error. WGWEB_DEBUG=1 prints stack traces.',
    '',
  ].join('\n');
}

async function version(): Promise<string> {
  const { packageVersion } = await import('../package-files.ts');
  return packageVersion();
}
