/**
 * `wgweb token`: mints a signed, short-lived relay access token (an HS256 JWT, src/node/relay/relay-token.ts)
 * for a relay started with `--auth signed --token-secret-file F` (docs/relay.md, "Authentication").
 *
 *   --secret-file F ─▶ secret  ┐
 *   --allow E (repeatable), --ttl, --max-sessions, --subject ─▶ claims ─▶ mintRelayToken ─▶ stdout
 */
import { parseCommandArgs, UsageError, type CommandSpec } from '../args.ts';
import type { CliIo } from '../cli-io.ts';
import { parseAllowRule } from '../../relay/destination-policy.ts';
import { readSecretFile } from '../../relay/relay-auth.ts';
import { mintRelayToken } from '../../relay/relay-token.ts';

export const spec = {
  name: 'token',
  summary: 'Print a signed, short-lived access token for a relay with --auth signed.',
  description:
    'The token is an HS256 JWT signed with the relay\'s --token-secret-file. It lets its holder open\n' +
    'sessions to the --allow endpoints (matched against the endpoint as the client names it) until it\n' +
    'expires; the relay checks it when a session opens. Pass it to clients with --token or the\n' +
    'relay token field of the page.',
  options: {
    'secret-file': { type: 'string', valueName: 'FILE', description: 'the relay\'s --token-secret-file (required)' },
    allow: { type: 'string', multiple: true, valueName: 'ENDPOINT', description: 'an endpoint the token may open, in --allow syntax (required)' },
    ttl: { type: 'string', valueName: 'DURATION', description: 'how long the token is valid: 90s, 30m, 1h, 7d (default 1h)' },
    'max-sessions': { type: 'integer', min: 1, max: 10000, valueName: 'N', description: 'sessions the token may hold at once on one relay (default no cap)' },
    subject: { type: 'string', valueName: 'NAME', description: 'who the token is for; the relay logs it with each session' },
  },
  examples: [
    'wgweb token --secret-file /etc/wgweb/relay.secret --allow vpn.example.com:51820 --ttl 8h --subject alice',
  ],
} as const satisfies CommandSpec;

/**
 * A duration such as `90s`, `30m`, `1h`, `7d` (or plain seconds), in seconds.
 * @throws {RangeError} for anything else.
 */
export function parseTtl(text: string): number {
  const m = /^([0-9]+)(s|m|h|d)?$/.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a duration (90s, 30m, 1h, 7d)`);
  const n = Number(m[1]) * ({ s: 1, m: 60, h: 3600, d: 86400 } as const)[(m[2] ?? 's') as 's'];
  if (n < 1 || n > 366 * 86400) throw new RangeError(`--ttl ${text}: from 1 s to 366 days`);
  return n;
}

/** Runs `wgweb token [args]`. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(spec, args); // --help is printed by main from the spec
  if (!values['secret-file']) throw new UsageError('token', 'missing --secret-file FILE (the relay\'s --token-secret-file)');
  const allow = values.allow ?? [];
  if (allow.length === 0) throw new UsageError('token', 'missing --allow ENDPOINT (e.g. --allow vpn.example.com:51820)');
  let ttl: number;
  try {
    for (const a of allow) parseAllowRule(a);
    ttl = parseTtl(values.ttl ?? '1h');
  } catch (e) {
    throw new UsageError('token', (e as Error).message);
  }
  const secret = readSecretFile(values['secret-file']);
  const now = Math.floor(Date.now() / 1000);
  let token: string;
  try {
    token = mintRelayToken(secret, { exp: now + ttl, allow, max_sessions: values['max-sessions'], sub: values.subject }, now);
  } catch (e) {
    throw new UsageError('token', (e as Error).message);
  }
  await io.stdout.write(`${token}\n`);
  return 0;
}
