/**
 * Whether `wgweb relay` starts the built-in demo peer, from its flags and listen address. Kept
 * free of heavy imports: the relay command loads it on every start, the demo itself only when on.
 *
 *   --demo + --no-demo, --demo + --public   ─▶ usage error
 *   --public                                 ─▶ off (a public relay must not hand out configs)
 *   --no-demo                                ─▶ off
 *   --demo                                   ─▶ on, whatever the listen address (with a warning)
 *   loopback listen (127.0.0.0/8, ::1, localhost) ─▶ on: `npm start` just works
 *   any other listen address                 ─▶ off: reachable from other machines, so only on request
 *
 * When off, `/api/demo/*` answers 404 with a JSON reason the UI can show (see {@link demoDisabledRoutes}).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tryParseIp } from '../../shared/ip-address.ts';

/** The relay flags that decide. */
export interface DemoFlags {
  /** `--demo`. */
  demo?: boolean;
  /** `--no-demo`. */
  noDemo?: boolean;
  /** `--public`: the relay faces the internet. */
  public?: boolean;
}

/** The decision and, when off, why (shown to the user and by `/api/demo/info`). */
export type DemoDecision = { enabled: true; warning?: string } | { enabled: false; reason: string };

/** True for loopback listen hosts: `localhost`, 127.0.0.0/8, ::1 (and IPv4-mapped loopback). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  const ip = tryParseIp(h);
  if (!ip) return false;
  if (ip.length === 4) return ip[0] === 127;
  const mapped = ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
  if (mapped) return ip[12] === 127;
  return ip.subarray(0, 15).every((b) => b === 0) && ip[15] === 1;
}

/**
 * Decides from the flags and the listen host.
 * @throws {RangeError} for contradictory flags (a usage error).
 */
export function decideDemoMode(flags: DemoFlags, listenHost: string): DemoDecision {
  if (flags.demo && flags.noDemo) throw new RangeError('--demo and --no-demo contradict each other; give one of them');
  if (flags.demo && flags.public) {
    throw new RangeError('--demo cannot be used with --public: the demo peer gives a WireGuard config to anyone who asks, which a relay on the internet must not do');
  }
  if (flags.public) return { enabled: false, reason: 'this relay was started with --public, which turns the demo peer off' };
  if (flags.noDemo) return { enabled: false, reason: 'this relay was started with --no-demo' };
  if (flags.demo) {
    return isLoopbackHost(listenHost)
      ? { enabled: true }
      : { enabled: true, warning: `the demo peer is on although the relay listens on ${listenHost}: anyone who reaches it can get a demo config` };
  }
  if (isLoopbackHost(listenHost)) return { enabled: true };
  return {
    enabled: false,
    reason: `the relay listens on ${listenHost}, not on loopback, so the demo peer is off (start the relay with --demo to turn it on anyway)`,
  };
}

/** Routes answering `/api/demo/*` with 404 and the reason, for a relay without the demo. */
export function demoDisabledRoutes(reason: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/demo' && !path.startsWith('/api/demo/')) return false;
    // `info` is a question the UI asks on every page load: "no demo here" is a normal answer
    // (200), not an error a browser would log; everything else under /api/demo is 404.
    const status = path === '/api/demo/info' ? 200 : 404;
    const body = JSON.stringify({ enabled: false, error: { code: 'DEMO_DISABLED', message: reason } }) + '\n';
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
