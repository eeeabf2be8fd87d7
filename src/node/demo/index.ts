/**
 * The built-in demo peer's public API (docs/demo.md), as the relay loads it lazily:
 *
 *   DemoPeer.start(options) ─▶ demo.register() / demo.info() / demo.sweep() / demo.close()
 *   createDemoRoutes(demo)  ─▶ relay routes for GET /api/demo/config and /api/demo/info
 */
export { DemoPeer, DemoFullError, type DemoClientConfig, type DemoInfo, type DemoLogger, type DemoPeerOptions, type DemoVisitor } from './demo-peer.ts';
export { createDemoRoutes, DEMO_CONFIG_PATH, DEMO_INFO_PATH, type DemoApiErrorCode, type DemoApiOptions } from './demo-routes.ts';
export { decideDemoMode, demoDisabledRoutes, isLoopbackHost, type DemoDecision, type DemoFlags } from './demo-mode.ts';

import type { DemoApiOptions } from './demo-routes.ts';
import type { DemoPeerOptions } from './demo-peer.ts';

/** What `startRelay({ demo })` takes: the peer's options plus the API's. */
export interface DemoOptions extends DemoPeerOptions {
  api?: DemoApiOptions;
}
