/**
 * The tunnel worker's entry point (a module worker; Vite bundles it from the page's
 * `new Worker(new URL('../worker/tunnel-worker.ts', import.meta.url), { type: 'module' })`).
 *
 * It exposes one {@link TunnelService} over comlink, backed by the real {@link Session}: the page
 * talks to it only through the contract in `tunnel-api.ts`.
 */
import { expose } from 'comlink';
import { Session } from './session.ts';
import { TunnelService } from './tunnel-service.ts';

expose(new TunnelService((options) => Session.start(options)));
