/**
 * What the network commands (`ping`, `dns`, `tcping`, `fetch`) share: the `--config`/`--relay`
 * options and bringing a {@link Session} up in Node, with the `ws` package as its WebSocket.
 *
 *   --config FILE ─▶ loadConfigFile ─▶ Session.start (relay) ─▶ waitForHandshake ─▶ command
 *   --verbose      ─▶ every session event on stderr, as the UI's event log shows it
 */
import WebSocket from 'ws';
import { Session } from '../../session/session.ts';
import type { RelayWebSocketConstructor } from '../../engine/relay-transport.ts';
import type { OptionSpec } from './args.ts';
import type { CliIo } from './cli-io.ts';
import { loadConfigFile } from './load-config-file.ts';

/** The relay `npm start` runs. */
export const DEFAULT_RELAY_URL = 'ws://127.0.0.1:8080';

/** Options every network command takes. */
export const TUNNEL_OPTIONS = {
  config: { type: 'string', valueName: 'FILE', description: 'wg-quick config of this client (required)' },
  relay: { type: 'string', valueName: 'URL', description: `relay to reach the peer through (default ${DEFAULT_RELAY_URL})` },
  'handshake-timeout': {
    type: 'number',
    valueName: 'SECONDS',
    min: 1,
    max: 90,
    description: 'give up when no handshake completes within this time (default 15)',
  },
  verbose: { type: 'boolean', short: 'v', description: 'print handshake and relay events on stderr' },
} as const satisfies Record<string, OptionSpec>;

export interface TunnelOptionValues {
  config?: string;
  relay?: string;
  'handshake-timeout'?: number;
  verbose: boolean;
}

/**
 * Loads the config, opens the relay and waits for the WireGuard handshake.
 * @throws {WgwebError} CONFIG_*, RELAY_REFUSED, RELAY_UNREACHABLE or HANDSHAKE_TIMEOUT.
 */
export async function openTunnel(command: string, values: TunnelOptionValues, io: CliIo): Promise<Session> {
  const { UsageError } = await import('./args.ts');
  if (!values.config) throw new UsageError(command, 'missing --config FILE (a wg-quick .conf for this client)');
  const config = await loadConfigFile(values.config, { onWarning: (m) => void io.stderr.write(`wgweb: warning: ${m}\n`) });
  const session = await Session.start({
    config,
    relayUrl: values.relay ?? DEFAULT_RELAY_URL,
    WebSocketImpl: WebSocket as unknown as RelayWebSocketConstructor,
    // ws hands over a socket read's messages in one burst already: v1 measured as fast or faster.
    relayBatching: false,
  });
  if (values.verbose) {
    session.onEvent((e) => void io.stderr.write(`[${new Date(e.at).toISOString().slice(11, 23)}] ${e.message}\n`));
  }
  const onAbort = (): void => void session.close();
  io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await session.waitForHandshake((values['handshake-timeout'] ?? 15) * 1000);
  } catch (e) {
    await session.close();
    throw e;
  }
  return session;
}
