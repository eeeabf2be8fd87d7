/**
 * Starts the test intranet (servers/intranet-site.ts) behind a wireguard-go peer: the main site on
 * the peer's tunnel addresses (port 80), and a second host on an extra address added to the peer's
 * WireGuard interface inside its namespace (`ip addr add 10.77.X.200/32 dev wgwh…`), port 8080.
 * Both are only reachable through the tunnel.
 *
 * ```ts
 * const site = await startIntranetSite(peer);
 * site.main        // "http://10.77.X.1"
 * site.second      // "http://10.77.X.200:8080"
 * site.events()    // what the servers saw (path, Cookie, Referer) — to check nothing leaked
 * ```
 */
import { fileURLToPath } from 'node:url';
import type { WgGoPeer } from './wireguard-go-peer.ts';
import type { NsProcess } from './netns.ts';

const SCRIPT = fileURLToPath(new URL('./servers/intranet-site.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A request as the intranet servers logged it. */
export interface IntranetRequest {
  readonly event: 'request';
  readonly site: 'main' | 'second';
  readonly method: string;
  readonly path: string;
  readonly cookie: string | null;
  readonly referer: string | null;
  /** The Range header, when there was one (main site). */
  readonly range?: string | null;
}

export interface IntranetSite {
  /** Base URL of the main site, no trailing slash. */
  readonly main: string;
  /** Base URL of the second host, no trailing slash. */
  readonly second: string;
  /** The second host's address (added to the peer's interface). */
  readonly secondAddress: string;
  /** An http address outside the client's AllowedIPs (never contacted by the tests). */
  readonly outside: string;
  readonly process: NsProcess;
  /** Requests the servers logged since start. */
  events(): IntranetRequest[];
  close(): Promise<void>;
}

export interface IntranetSiteOptions {
  /** Host octet of the second address in the peer's IPv4 /24 (default 200). */
  readonly secondHost?: number;
  readonly timeoutMs?: number;
}

/** See the module comment. */
export async function startIntranetSite(peer: WgGoPeer, options: IntranetSiteOptions = {}): Promise<IntranetSite> {
  const v4 = peer.tunnelAddress4;
  if (!v4) throw new Error('the intranet site needs a peer with an IPv4 tunnel address');
  const secondAddress = `${v4.split('.').slice(0, 3).join('.')}.${options.secondHost ?? 200}`;
  await peer.ns.exec('ip', ['addr', 'add', `${secondAddress}/32`, 'dev', peer.ifname]);
  const main = `http://${v4}`;
  const second = `http://${secondAddress}:8080`;
  // TEST-NET-2 (RFC 5737): outside the tunnel and never routed anywhere; no test follows it.
  const outside = 'http://198.51.100.7/';
  const config = {
    main: { hosts: [v4, ...(peer.tunnelAddress6 ? [peer.tunnelAddress6] : [])], port: 80 },
    second: { hosts: [secondAddress], port: 8080 },
    links: { main, second, outside },
  };
  const events: IntranetRequest[] = [];
  let onReady: ((ok: boolean, message?: string) => void) | undefined;
  const proc = peer.ns.spawn(process.execPath, ['--import', 'tsx', SCRIPT, JSON.stringify(config)], {
    cwd: REPO_ROOT,
    onLine: (line, stream) => {
      if (stream !== 'stdout' || !line.startsWith('{')) return;
      let e: { event?: string; message?: string };
      try {
        e = JSON.parse(line) as { event?: string };
      } catch {
        return;
      }
      if (e.event === 'ready') onReady?.(true);
      else if (e.event === 'error') onReady?.(false, e.message);
      else if (e.event === 'request') {
        events.push(e as IntranetRequest);
        if (events.length > 10_000) events.splice(0, 1000);
      }
    },
  });
  const timeoutMs = options.timeoutMs ?? 20_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void proc.stop();
      reject(new Error(`the intranet site did not start within ${timeoutMs} ms:\n${proc.output(20)}`));
    }, timeoutMs);
    onReady = (ok, message) => {
      clearTimeout(timer);
      if (ok) resolve();
      else reject(new Error(`the intranet site failed: ${message}`));
    };
    void proc.exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`the intranet site exited (code ${info.code}) before listening:\n${proc.output(20)}`));
    });
  });
  return {
    main,
    second,
    secondAddress,
    outside,
    process: proc,
    events: () => [...events],
    close: async () => {
      await proc.stop();
    },
  };
}
