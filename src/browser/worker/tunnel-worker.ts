/**
 * The tunnel worker's entry point (a module worker; Vite bundles it from the page's
 * `new Worker(new URL('./tunnel-worker.ts', import.meta.url), { type: 'module' })`).
 *
 * It exposes one {@link TunnelService} over comlink, backed by the real {@link Session}: the page
 * talks to it only through the contract in `tunnel-api.ts`.
 *
 * "Connect" resolves once the tunnel is really up: the relay accepted the endpoint and the
 * WireGuard handshake completed. A refusal (RELAY_REFUSED) or a peer that never answers
 * (HANDSHAKE_TIMEOUT, with what to check) rejects it instead of leaving a dead session behind.
 */
import { expose } from 'comlink';
import { Session } from '../../session/session.ts';
import { TunnelService } from './tunnel-service.ts';

/** How long Connect waits for the first handshake (three initiations, REKEY_TIMEOUT apart). */
const CONNECT_HANDSHAKE_TIMEOUT_MS = 16_000;

expose(
  new TunnelService(async (options) => {
    const session = await Session.start(options);
    options.onSession?.(session);
    // Replays what happened so far, then follows: the page sees the handshake as it happens.
    if (options.onEvent) session.onEvent(options.onEvent);
    try {
      await session.waitForHandshake(CONNECT_HANDSHAKE_TIMEOUT_MS);
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }),
);
