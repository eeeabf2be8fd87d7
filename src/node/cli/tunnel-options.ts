/**
 * What the network commands (`ping`, `dns`, `fetch`, `traceroute`, `report`, … every command that
 * opens a tunnel) share: the `--config`/`--relay`
 * options and bringing a {@link Session} up in Node, with the `ws` package as its WebSocket.
 *
 *   --config FILE ─▶ loadConfigFile ─▶ Session.start (relay) ─▶ waitForHandshake ─▶ command
 *   --verbose      ─▶ every session event on stderr, as the UI's event log shows it
 *   guardTunnelCommand ─▶ the command body raced against
 *                           --deadline (overall limit; per-command default) ─▶ TIMEOUT, exit 1
 *                           relay failing for RELAY_GIVE_UP_MS               ─▶ RELAY_*, exit 1
 *                         (the body gets a signal that aborts then; the race ends it even if it hangs)
 */
import WebSocket from 'ws';
import { Session } from '../../session/session.ts';
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import type { RelayWebSocketConstructor } from '../../engine/relay-transport.ts';
import { relayTokenProtocol } from '../../shared/relay-protocol.ts';
import type { OptionSpec } from './args.ts';
import type { CliIo } from './cli-io.ts';
import { loadConfigFile } from './load-config-file.ts';

/** The relay `npm start` runs. */
export const DEFAULT_RELAY_URL = 'ws://127.0.0.1:8080';

/** How long a command waits for the first handshake unless --handshake-timeout says otherwise. */
export const DEFAULT_HANDSHAKE_TIMEOUT_S = 15;

/** Options every network command takes. */
export const TUNNEL_OPTIONS = {
  config: { type: 'string', valueName: 'FILE', description: 'wg-quick config of this client (required)' },
  relay: {
    type: 'string',
    multiple: true,
    valueName: 'URL',
    description: `relay to reach the peer through (default ${DEFAULT_RELAY_URL}); give several for failover: the fastest is used, the next takes over when it fails`,
  },
  token: {
    type: 'string',
    valueName: 'TOKEN',
    description: 'access token for a relay that requires one (or set WGWEB_RELAY_TOKEN; sent as a WebSocket subprotocol value, never in the URL)',
  },
  'handshake-timeout': {
    type: 'number',
    valueName: 'SECONDS',
    min: 1,
    max: 90,
    description: `give up when no handshake completes within this time (default ${DEFAULT_HANDSHAKE_TIMEOUT_S})`,
  },
  deadline: {
    type: 'number',
    valueName: 'SECONDS',
    min: 0,
    description: 'end the whole command (exit 1) after this long; 0 for no limit (default per command, below)',
  },
  verbose: { type: 'boolean', short: 'v', description: 'print handshake and relay events on stderr' },
} as const satisfies Record<string, OptionSpec>;

export interface TunnelOptionValues {
  config?: string;
  relay?: string[];
  token?: string;
  'handshake-timeout'?: number;
  deadline?: number;
  verbose: boolean;
}

/** The handshake wait in seconds: --handshake-timeout or the default (commands add it to their deadline). */
export function handshakeSeconds(values: TunnelOptionValues): number {
  return values['handshake-timeout'] ?? DEFAULT_HANDSHAKE_TIMEOUT_S;
}

/**
 * Loads the config, opens the relay and waits for the WireGuard handshake.
 * @throws {WgwebError} CONFIG_*, RELAY_REFUSED, RELAY_UNREACHABLE or HANDSHAKE_TIMEOUT.
 */
export async function openTunnel(command: string, values: TunnelOptionValues, io: CliIo, onSession?: (s: Session) => void): Promise<Session> {
  const session = await startTunnelSession(command, values, io, onSession);
  try {
    await session.waitForHandshake(handshakeSeconds(values) * 1000);
  } catch (e) {
    await session.close();
    throw e;
  }
  return session;
}

/**
 * Loads the config and opens the relay sessions (handshakes start; nothing waits for them); with
 * --verbose every session event goes to stderr. Ctrl-C closes the session.
 * @throws {WgwebError} CONFIG_*, RELAY_REFUSED or RELAY_UNREACHABLE.
 */
export async function startTunnelSession(command: string, values: TunnelOptionValues, io: CliIo, onSession?: (s: Session) => void): Promise<Session> {
  const { UsageError } = await import('./args.ts');
  if (!values.config) throw new UsageError(command, 'missing --config FILE (a wg-quick .conf for this client)');
  const token = values.token ?? (process.env.WGWEB_RELAY_TOKEN || undefined);
  if (token !== undefined) {
    try {
      relayTokenProtocol(token);
    } catch (e) {
      throw new UsageError(command, `--token: ${(e as Error).message}`);
    }
  }
  const config = await loadConfigFile(values.config, { onWarning: (m) => void io.stderr.write(`wgweb: warning: ${m}\n`) });
  const session = await Session.start({
    config,
    relayUrl: values.relay?.length ? values.relay : DEFAULT_RELAY_URL,
    WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor,
    // ws hands over a socket read's messages in one burst already: v1 measured as fast or faster.
    relayBatching: false,
    relayToken: token,
  });
  onSession?.(session);
  if (values.verbose) {
    session.onEvent((e) => void io.stderr.write(`[${new Date(e.at).toISOString().slice(11, 23)}] ${e.message}\n`));
  }
  const onAbort = (): void => void session.close();
  io.signal.addEventListener('abort', onAbort, { once: true });
  return session;
}

/** A relay that fails (refuses, is full, unreachable) for this long ends a network command. */
export const RELAY_GIVE_UP_MS = 30_000;

/** How often the relay watchdog looks at the session. */
const WATCHDOG_INTERVAL_MS = 1_000;

/**
 * Runs a network command's body with an overall deadline and a relay watchdog, so that no command
 * hangs on a relay that is gone (issue #11): `--deadline` (or `defaultDeadlineS`; 0 = none) ends it
 * with TIMEOUT; a relay that has failed for {@link RELAY_GIVE_UP_MS} ends it with the relay's own
 * error (RELAY_FULL, RELAY_REFUSED, RELAY_UNREACHABLE). The body gets an `io` whose signal aborts
 * then (and on Ctrl-C); the race makes the command end even if the body ignores the signal.
 * @param body receives the guarded io and `track`, to hand over the session once it exists.
 */
export async function guardTunnelCommand(
  command: string,
  values: TunnelOptionValues,
  io: CliIo,
  defaultDeadlineS: number,
  body: (io: CliIo, track: (s: Session) => void) => Promise<number>,
): Promise<number> {
  const deadlineS = values.deadline ?? defaultDeadlineS;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(io.signal.reason);
  if (io.signal.aborted) onAbort();
  else io.signal.addEventListener('abort', onAbort, { once: true });
  let session: Session | undefined;
  let fail!: (e: WgwebError) => void;
  const failure = new Promise<never>((_, reject) => (fail = reject));
  const stop = (e: WgwebError): void => {
    if (controller.signal.aborted) return;
    controller.abort(e);
    fail(e);
  };
  const deadlineTimer =
    deadlineS > 0
      ? setTimeout(
          () =>
            stop(
              session?.relayProblem() ??
                new WgwebError(ErrorCode.TIMEOUT, `${command}: gave up after the --deadline of ${deadlineS} s; pass a larger --deadline (0 for none)`, { deadline: deadlineS }),
            ),
          deadlineS * 1000,
        )
      : undefined;
  const watchdog = setInterval(() => {
    const problem = session?.relayProblem();
    if (problem && (problem.detail.seconds as number) * 1000 >= RELAY_GIVE_UP_MS) stop(problem);
  }, WATCHDOG_INTERVAL_MS);
  const guarded: CliIo = Object.create(io, { signal: { value: controller.signal } });
  const run = body(guarded, (s) => (session = s));
  // The body may still reject after the race was lost: nobody waits for it then.
  run.catch(() => {});
  try {
    return await Promise.race([run, failure]);
  } finally {
    clearTimeout(deadlineTimer);
    clearInterval(watchdog);
    io.signal.removeEventListener('abort', onAbort);
    await session?.close();
  }
}
