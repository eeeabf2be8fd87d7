/**
 * The relay's Prometheus metrics (`GET /metrics`, text exposition format 0.0.4) and probes
 * (`/healthz` alive, `/readyz` accepting sessions), built on prom-client with a registry per relay.
 *
 *   scrape ──▶ collect(): copy RelayStats (sessions, counters summed over open and ended sessions,
 *                         drops and refusals by name) into the metrics ──▶ registry.metrics()
 *   session end ──▶ observeSessionEnd(ms) ──▶ wgweb_relay_session_duration_seconds histogram
 *
 * Counters are read from the relay's own tallies at scrape time rather than incremented on the
 * datagram path: the hot path keeps its plain integer adds, and a scrape costs O(open sessions).
 * Where it is served (docs/relay.md, "Metrics and probes"): on the main listener of a loopback
 * relay, else only on `--metrics-listen HOST:PORT`, so a public relay does not publish its numbers.
 *
 * Why prom-client: the de-facto Node client (process metrics, histogram maths, escaping, the
 * exposition format) for ~0.5 MB installed with its two small dependencies; the relay runs only
 * in Node, so the browser bundle is unaffected.
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { WgwebError } from '../../shared/errors.ts';
import { formatEndpoint } from '../../shared/ip-address.ts';
import { SESSION_DROP_REASONS } from './relay-session.ts';
import type { RelayStats } from './relay-server.ts';

/** What the metrics read from the relay at scrape time. */
export interface MetricsSource {
  stats(): RelayStats;
  readonly ready: boolean;
}

/** A relay's metrics registry. */
export class RelayMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram;

  constructor(source: () => MetricsSource | undefined, options: { processMetrics?: boolean } = {}) {
    const r = this.registry;
    const stats = (): RelayStats | undefined => source()?.stats();
    new Gauge({
      name: 'wgweb_relay_sessions',
      help: 'Relay sessions forwarding now.',
      registers: [r],
      collect() {
        this.set(stats()?.activeSessions ?? 0);
      },
    });
    new Gauge({
      name: 'wgweb_relay_ready',
      help: '1 while the relay accepts new sessions, 0 while draining or closing.',
      registers: [r],
      collect() {
        this.set(source()?.ready ? 1 : 0);
      },
    });
    // Counters are reset and re-set from the relay's totals on each scrape (collect()).
    const mirror = (name: string, help: string, labelNames: string[], values: (s: RelayStats) => [Record<string, string>, number][]): void => {
      new Counter({
        name,
        help,
        labelNames,
        registers: [r],
        collect() {
          const s = stats();
          this.reset();
          if (!s) return;
          for (const [labels, v] of values(s)) if (v > 0 || Object.keys(labels).length > 0) this.inc(labels, v);
        },
      });
    };
    mirror('wgweb_relay_sessions_opened_total', 'Relay sessions opened since start.', [], (s) => [[{}, s.openedSessions]]);
    mirror('wgweb_relay_datagrams_total', 'Datagrams forwarded, by direction.', ['direction'], (s) => [
      [{ direction: 'to_peer' }, s.totals.datagramsToPeer],
      [{ direction: 'from_peer' }, s.totals.datagramsFromPeer],
    ]);
    mirror('wgweb_relay_bytes_total', 'Datagram bytes forwarded, by direction.', ['direction'], (s) => [
      [{ direction: 'to_peer' }, s.totals.bytesToPeer],
      [{ direction: 'from_peer' }, s.totals.bytesFromPeer],
    ]);
    mirror('wgweb_relay_drops_total', 'Datagrams dropped, by reason (docs/relay.md, Limits).', ['reason'], (s) =>
      SESSION_DROP_REASONS.map((reason) => [{ reason }, s.totals.drops[reason]]),
    );
    mirror('wgweb_relay_udp_errors_total', 'UDP socket errors (e.g. ICMP port unreachable from an endpoint).', [], (s) => [[{}, s.totals.udpErrors]]);
    mirror('wgweb_relay_refusals_total', 'Sessions or connections refused, by close-code name (OVERLOAD, DRAINING: HTTP 503).', ['code'], (s) =>
      Object.entries(s.refused).map(([code, n]) => [{ code }, n]),
    );
    mirror('wgweb_relay_internal_errors_total', 'Errors contained at a session or upgrade boundary.', [], (s) => [[{}, s.internalErrors]]);
    this.duration = new Histogram({
      name: 'wgweb_relay_session_duration_seconds',
      help: 'How long relay sessions lasted, observed when they end.',
      // From a refused-right-away client to a working day.
      buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600],
      registers: [r],
    });
    if (options.processMetrics !== false) collectDefaultMetrics({ register: r });
  }

  /** Records an ended session. */
  observeSessionEnd(durationMs: number): void {
    this.duration.observe(durationMs / 1000);
  }

  /**
   * The HTTP handler for `/metrics` (true when it answered).
   */
  readonly route = (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return false;
    this.registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Cache-Control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (e: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end(`metrics failed: ${(e as Error).message}\n`);
      },
    );
    return true;
  };
}

/** A running `--metrics-listen` listener. */
export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * `--metrics-listen HOST:PORT`: a second, plain HTTP listener with `/metrics`, `/healthz` and
 * `/readyz` only (for Prometheus and orchestrator probes on a private address).
 * @throws {WgwebError} USAGE when the address cannot be bound.
 */
export function startMetricsListener(host: string, port: number, metrics: RelayMetrics, ready: () => boolean): Promise<MetricsListener> {
  const server = http.createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (req, res) => {
    if (metrics.route(req, res)) return;
    const path = (req.url ?? '/').split('?')[0];
    const text = (status: number, body: string): void => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(`${body}\n`);
    };
    if (path === '/healthz') text(200, 'ok');
    else if (path === '/readyz') ready() ? text(200, 'ready') : text(503, 'draining');
    else text(404, 'not found: /metrics, /healthz, /readyz');
  });
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new WgwebError('USAGE', `cannot listen on ${formatEndpoint({ host, port })} for metrics: ${err.code ?? err.message}`)),
    );
    server.listen({ host, port }, () => {
      const a = server.address();
      const bound = typeof a === 'object' && a ? a.port : port;
      resolve({
        url: `http://${formatEndpoint({ host, port: bound })}/metrics`,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}
