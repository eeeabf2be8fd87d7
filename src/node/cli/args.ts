/**
 * The argument parser every `wgweb` command uses, and the help text it generates.
 *
 *   args ─▶ node:util parseArgs (tokens only: -abc groups, -c5, --opt=value, --) ─▶ our checks
 *        ─▶ typed values (boolean / string / integer / number, repeatable) + positionals
 *
 * parseArgs does the tokenizing; we do the checking, so every mistake becomes a {@link UsageError}
 * that names the command and the option ("ping: unknown option --cout; did you mean --count?")
 * instead of Node's generic wording.
 *
 * ```ts
 * const spec = {
 *   name: 'ping', summary: 'Ping a host through the tunnel', usage: '[options] HOST',
 *   options: { count: { type: 'integer', short: 'c', valueName: 'N', min: 1, description: 'Stop after N replies' },
 *              header: { type: 'string', short: 'H', multiple: true, valueName: 'LINE', description: 'Add a header' } },
 *   positionals: [{ name: 'HOST' }],
 * } as const satisfies CommandSpec;
 * // main prints `--help` from the spec (wantsHelp + formatCommandHelp); run() only parses:
 * const { values, positionals } = parseCommandArgs(spec, args);  // values.count: number | undefined
 * ```
 */
import { parseArgs } from 'node:util';
import { closestMatch } from '../../shared/closest-match.ts';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';

/** A usage mistake on the command line; the CLI prints it with a pointer to --help and exits 2. */
export class UsageError extends WgwebError {
  /** The command whose arguments were wrong ("ping"), or "wgweb" for the top level (then no prefix). */
  readonly command: string;

  constructor(command: string, message: string, detail: Record<string, unknown> = {}) {
    super(ErrorCode.USAGE, command === 'wgweb' ? message : `${command}: ${message}`, { command, ...detail });
    this.name = 'UsageError';
    this.command = command;
  }
}

/** One option. Long names are the keys of {@link CommandSpec.options} (kebab-case, no dashes). */
export interface OptionSpec {
  readonly type: 'boolean' | 'string' | 'integer' | 'number';
  /** One-letter alias: `-c`. */
  readonly short?: string;
  /** May be given several times (`-H a -H b`); the value is then an array in command-line order. */
  readonly multiple?: boolean;
  /** Placeholder in help and messages: `--count N`. Defaults to VALUE. */
  readonly valueName?: string;
  /** Bounds for integer/number options (inclusive). */
  readonly min?: number;
  readonly max?: number;
  readonly description: string;
}

/** A positional argument, for help text and count checks. */
export interface PositionalSpec {
  /** Upper-case placeholder: HOST, URL. */
  readonly name: string;
  /** Defaults to true. */
  readonly required?: boolean;
  /** Takes all remaining arguments (must be last). */
  readonly variadic?: boolean;
}

/** A command's arguments and help. */
export interface CommandSpec {
  /** The subcommand name, used in messages and help ("ping"). */
  readonly name: string;
  /** One line for `wgweb --help`. */
  readonly summary: string;
  /** What follows `wgweb <name>` in the usage line; derived from options/positionals when absent. */
  readonly usage?: string;
  /** Paragraphs shown after the usage line. */
  readonly description?: string;
  readonly options: Readonly<Record<string, OptionSpec>>;
  readonly positionals?: readonly PositionalSpec[];
  readonly examples?: readonly string[];
}

type Scalar<O extends OptionSpec> = O['type'] extends 'boolean' ? boolean : O['type'] extends 'string' ? string : number;

/**
 * Parsed option values: booleans are always present (false when absent), repeatable options are
 * always arrays, others are `undefined` when not given.
 */
export type OptionValues<S extends CommandSpec> = {
  -readonly [K in keyof S['options']]: S['options'][K]['multiple'] extends true
    ? Scalar<S['options'][K]>[]
    : S['options'][K]['type'] extends 'boolean'
      ? boolean
      : Scalar<S['options'][K]> | undefined;
};

/** The result of {@link parseCommandArgs}. */
export interface ParsedArgs<S extends CommandSpec> {
  /** True when -h/--help was given: print {@link formatCommandHelp} and exit 0; nothing else was checked. */
  help: boolean;
  values: OptionValues<S>;
  positionals: string[];
}

const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'Show this help' };

/**
 * Parses `args` (the words after the command name) against `spec`.
 * @throws {UsageError} for an unknown option, a missing or malformed value, a repeated
 *   non-repeatable option, or missing/extra positional arguments.
 * @throws {TypeError} when `spec` itself is malformed (a programming error).
 */
export function parseCommandArgs<S extends CommandSpec>(spec: S, args: readonly string[]): ParsedArgs<S> {
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new TypeError('args must be an array of strings');
  const options = allOptions(spec);
  const cmd = spec.name;
  const nodeOptions: Record<string, { type: 'boolean' | 'string'; short?: string; multiple?: boolean }> = {};
  for (const [name, o] of Object.entries(options)) {
    nodeOptions[name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) };
  }
  const tokens = tokenize(nodeOptions, args);
  if (helpAsked(tokens)) return { help: true, values: emptyValues(spec), positionals: [] };

  const values = emptyValues(spec) as Record<string, unknown>;
  const seen = new Set<string>();
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const o = options[t.name];
    if (!o || (t.rawName.startsWith('--') && t.rawName !== `--${t.name}`) || (!t.rawName.startsWith('--') && o.short !== t.rawName.slice(1))) {
      throw unknownOption(spec, t.rawName);
    }
    const label = `--${t.name}`;
    if (o.type === 'boolean') {
      if (t.value !== undefined) throw new UsageError(cmd, `${label} does not take a value`, { option: label });
      values[t.name] = true;
    } else {
      const placeholder = o.valueName ?? 'VALUE';
      if (t.value === undefined) throw new UsageError(cmd, `${t.rawName} needs a value (${placeholder})`, { option: label });
      // "--count --json" would otherwise silently take "--json" as the count.
      if (!t.inlineValue && t.value.startsWith('-') && !/^-[0-9.]/.test(t.value)) {
        throw new UsageError(cmd, `${t.rawName} needs a value (${placeholder}); to pass one that starts with "-", write ${label}=${t.value}`, { option: label });
      }
      if (!o.multiple && seen.has(t.name)) throw new UsageError(cmd, `${label} is given more than once`, { option: label });
      const v = convert(cmd, label, o, t.value);
      if (o.multiple) (values[t.name] as unknown[]).push(v);
      else values[t.name] = v;
    }
    seen.add(t.name);
  }

  checkPositionals(spec, positionals);
  return { help: false, values: values as OptionValues<S>, positionals };
}

/**
 * True when `args` ask for help (-h/--help before any `--`), whatever else they hold: the CLI
 * then prints {@link formatCommandHelp} instead of running the command.
 */
export function wantsHelp(spec: CommandSpec, args: readonly string[]): boolean {
  const nodeOptions: Record<string, { type: 'boolean' | 'string'; short?: string }> = {};
  for (const [name, o] of Object.entries(allOptions(spec))) nodeOptions[name] = { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) };
  return helpAsked(tokenize(nodeOptions, args));
}

type Tokens = ReturnType<typeof parseArgs>['tokens'] & object;

/** parseArgs as a tokenizer only; strict: false turns Node's own errors off, tokens still follow the option types. */
function tokenize(nodeOptions: Record<string, { type: 'boolean' | 'string'; short?: string }>, args: readonly string[]): Tokens {
  return parseArgs({ args: [...args], options: nodeOptions, strict: false, allowPositionals: true, tokens: true }).tokens;
}

function helpAsked(tokens: Tokens): boolean {
  for (const t of tokens) {
    if (t.kind === 'option-terminator') return false;
    if (t.kind === 'option' && t.name === 'help') return true;
  }
  return false;
}

/** The `--help` text for `spec`: usage line, description, options, examples. */
export function formatCommandHelp(spec: CommandSpec): string {
  const out: string[] = [`Usage: wgweb ${spec.name}${usageTail(spec) ? ' ' + usageTail(spec) : ''}`, '', spec.summary];
  if (spec.description) out.push('', spec.description.trimEnd());
  const rows: [string, string][] = Object.entries(allOptions(spec)).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'boolean' ? '' : ` ${o.valueName ?? 'VALUE'}`}`;
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')];
  });
  out.push('', 'Options:', ...table(rows));
  if (spec.examples?.length) out.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return out.join('\n') + '\n';
}

/** Aligns two columns for help output. */
export function table(rows: readonly (readonly [string, string])[], indent = 2): string[] {
  const width = Math.max(0, ...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `${' '.repeat(indent)}${a.padEnd(width)}   ${b}`.trimEnd());
}

function usageTail(spec: CommandSpec): string {
  if (spec.usage !== undefined) return spec.usage;
  const parts: string[] = [];
  if (Object.keys(spec.options).length > 0) parts.push('[options]');
  for (const p of spec.positionals ?? []) {
    const word = p.variadic ? `${p.name}...` : p.name;
    parts.push(p.required === false ? `[${word}]` : word);
  }
  return parts.join(' ');
}

function allOptions(spec: CommandSpec): Record<string, OptionSpec> {
  if (typeof spec !== 'object' || spec === null || typeof spec.name !== 'string') throw new TypeError('spec must be a CommandSpec');
  const all: Record<string, OptionSpec> = {};
  const shorts = new Set<string>(['h']);
  for (const [name, o] of Object.entries(spec.options)) {
    if (name === 'help') throw new TypeError(`${spec.name}: --help is built in`);
    if (o.short !== undefined) {
      if (o.short.length !== 1 || shorts.has(o.short)) throw new TypeError(`${spec.name}: short option -${o.short} is invalid or used twice`);
      shorts.add(o.short);
    }
    all[name] = o;
  }
  all.help = HELP_OPTION;
  return all;
}

function emptyValues<S extends CommandSpec>(spec: S): OptionValues<S> {
  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(spec.options)) {
    if (o.multiple) values[name] = [];
    else if (o.type === 'boolean') values[name] = false;
  }
  return values as OptionValues<S>;
}

function unknownOption(spec: CommandSpec, raw: string): UsageError {
  const names = Object.keys(allOptions(spec)).map((n) => `--${n}`);
  const guess = raw.startsWith('--') ? closestMatch(raw, names) : undefined;
  const hint = guess ? `; did you mean ${guess}?` : '';
  return new UsageError(spec.name, `unknown option ${raw}${hint}`, { option: raw });
}

function convert(cmd: string, label: string, o: OptionSpec, text: string): string | number {
  if (o.type === 'string') return text;
  const min = o.min ?? -Infinity;
  const max = o.max ?? Infinity;
  const n = o.type === 'integer' ? (/^-?[0-9]+$/.test(text) ? Number(text) : NaN) : /^-?([0-9]+\.?[0-9]*|\.[0-9]+)$/.test(text) ? Number(text) : NaN;
  if (Number.isFinite(n) && n >= min && n <= max && (o.type !== 'integer' || Number.isSafeInteger(n))) return n;
  const kind = o.type === 'integer' ? 'a whole number' : 'a number';
  const range = Number.isFinite(min) && Number.isFinite(max) ? ` from ${min} to ${max}` : Number.isFinite(min) ? ` of at least ${min}` : Number.isFinite(max) ? ` of at most ${max}` : '';
  throw new UsageError(cmd, `${label} must be ${kind}${range}, not "${text}"`, { option: label });
}

function checkPositionals(spec: CommandSpec, positionals: string[]): void {
  const specs = spec.positionals ?? [];
  const variadic = specs.some((p) => p.variadic);
  const required = specs.filter((p) => p.required !== false);
  if (positionals.length < required.length) {
    throw new UsageError(spec.name, `missing ${required[positionals.length].name}`, { missing: required[positionals.length].name });
  }
  if (!variadic && positionals.length > specs.length) {
    throw new UsageError(spec.name, `unexpected argument "${positionals[specs.length]}"`, { argument: positionals[specs.length] });
  }
}
