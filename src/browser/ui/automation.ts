/**
 * `window.wgweb`: the page's automation surface for scripts and end-to-end tests. Every call goes
 * through the same TunnelController as the UI, so the status panel and the event log show what a
 * script did. Each method resolves with plain (structured-clone-safe) data, or rejects with a
 * `WgwebError` (an Error with a stable `code`).
 *
 *   await wgweb.connect(configText)            // relay defaults to the UI's relay field (/wg); a list = failover order
 *   await wgweb.ping('10.8.0.1', 3)            // { address, transmitted, received, …, replies }
 *   await wgweb.dns('corp.example', 'MX', { server: '10.8.0.53' })  // { rcode, answers, authorities, … }
 *   await wgweb.tcping('10.8.0.1', '22,80,8000-8100')               // { open, closed, filtered, results }
 *   await wgweb.traceroute('10.8.0.9', { method: 'icmp' }, (hop) => console.log(hop))  // { hops, reached }
 *   const r = await wgweb.fetch('http://10.8.0.1/'); await r.text()
 *   const ws = wgweb.webSocket('ws://10.8.0.1:8080/', ['chat'])  // a WebSocket-compatible PortWebSocket
 *   const sh = await wgweb.ssh('10.8.0.1', { username: 'root', password: '…', hostKey: 'SHA256:…' })
 *   await sh.exec('uname -a')  // { stdout, stderr, code };  sh.write('ls\n'); await sh.output(); sh.close()
 *   await wgweb.quality()      // { intervalMs, samples: [{ at, rxBps, txBps, tcpRttMs, pingRttMs, … }] }
 *   const { report, html } = await wgweb.report()   // the diagnostic report, keys redacted
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import type { DiagnosticReport, QualityHistorySnapshot, TunnelVsDirectResult } from '../worker/tunnel-api.ts';
import type { DnsQueryResult, DnsRecordType, DnsResult, Iperf3Options, LookupType, PortCheckResult, Iperf3Progress, Iperf3Result, PingReply, PingSummary, TcpingResult, SessionEvent, TraceHop, TracerouteCallOptions, TracerouteResult, TunnelStatus } from '../worker/tunnel-api.ts';
import { coded, toWgwebError, type TunnelRequestInit } from './tunnel-client.ts';
import { parsePortList } from '../../shared/port-list.ts';
import type { BrowseResult } from '../browse/browse-host.ts';
import { createCaptureAutomation, type WgwebCaptureAutomation } from './capture-automation.ts';
import type { CaptureController } from './controllers/capture-controller.ts';
import { PortWebSocket, failPort } from '../browse/port-websocket.ts';
import type { OpenWebSocketOptions } from '../worker/websocket-port-protocol.ts';
import type { SshOpenOptions, SshOpenResult, SshOutputEvent } from '../worker/tunnel-api.ts';
import { PING_DEFAULTS } from '../../session/tool-defaults.ts';

/** What the automation drives: implemented by <wg-app> on top of its TunnelController. */
export interface AutomationTarget {
  readonly ready: Promise<void>;
  connect(configText: string, relayUrl?: string | readonly string[], options?: WgwebConnectOptions): Promise<TunnelStatus>;
  disconnect(): Promise<void>;
  status(): Promise<TunnelStatus | null>;
  ping(address: string, options: { count: number }, onReply: (r: PingReply) => void): Promise<PingSummary>;
  dns(name: string, type: DnsRecordType): Promise<DnsResult>;
  tcping(host: string, port: number): Promise<TcpingResult>;
  /** Every record type, any server (TunnelController.dnsQuery); absent: only A/AAAA from the config's DNS. */
  dnsQuery?(name: string, type: LookupType, options: { server?: string }): Promise<DnsQueryResult>;
  /** A port list (TunnelController.tcpingPorts); absent: wgweb.tcping takes one port. */
  tcpingPorts?(host: string, ports: readonly number[]): Promise<PortCheckResult>;
  iperf3?(host: string, options: Iperf3Options, onProgress: (p: Iperf3Progress) => void): Promise<Iperf3Result>;
  /** Connection quality over time (TunnelController.quality); absent: wgweb.quality rejects. */
  quality?(): Promise<QualityHistorySnapshot | null>;
  /** The diagnostic report (TunnelController.report); absent: wgweb.report rejects. */
  report?(): Promise<{ report: DiagnosticReport; html: string }>;
  traceroute?(host: string, options: TracerouteCallOptions, onHop: (hop: TraceHop) => void): Promise<TracerouteResult>;
  /** Tunnel vs direct (TunnelController.compare); absent: wgweb.compare rejects. */
  compare?(url: string, options: { bytes?: number }): Promise<TunnelVsDirectResult>;
  addTrustedCertificate?(pem: string): Promise<{ subject: string; sha256: string }[]>;
  allowLegacyTls?(host: string, allow: boolean): Promise<void>;
  fetch(url: string, init: TunnelRequestInit): Promise<Response>;
  /** Hands `port` to the worker's openWebSocket (TunnelClient.openWebSocket). */
  openWebSocket?(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void>;
  events(): SessionEvent[];
  /** Opens the browse view at `url`; resolves when the document has loaded (src/browser/browse/browse-host.ts). */
  browse?(url: string): Promise<BrowseResult>;
  /** The packet capture behind `wgweb.capture` (absent: those calls reject). */
  readonly capture?: CaptureController;
  /** SSH consoles in the worker (TunnelClient.ssh*); absent: wgweb.ssh rejects. */
  readonly sshTarget?: SshTarget;
}

/** The worker's SSH calls as the page client offers them. */
export interface SshTarget {
  sshConnect(host: string, options: SshOpenOptions, onOutput?: (e: SshOutputEvent) => void | Promise<void>): Promise<SshOpenResult>;
  sshWrite(id: number, text: string): Promise<void>;
  sshResize(id: number, cols: number, rows: number): Promise<void>;
  sshOutput(id: number): Promise<string>;
  sshExec(id: number, command: string): Promise<{ stdout: string; stderr: string; code: number | null; signal?: string }>;
  sshClose(id: number): Promise<void>;
  sshKnownHosts(): Promise<string>;
  importKnownHosts(text: string): Promise<{ added: number; skipped: { line: number; reason: string }[] }>;
}

/** What `wgweb.ssh()` resolves to: one SSH connection with a shell on a PTY. */
export interface WgwebSsh {
  /** Server version, host key type and fingerprint, negotiated algorithms. */
  readonly info: Omit<SshOpenResult, 'id'>;
  /** Sends keystrokes to the shell ("ls\n"). */
  write(text: string): Promise<void>;
  /** What the terminal has shown so far (the last MiB, with the shell's escape sequences). */
  output(): Promise<string>;
  /** Runs a command on its own channel: `{ stdout, stderr, code }` (code null when killed by `signal`). */
  exec(command: string): Promise<{ stdout: string; stderr: string; code: number | null; signal?: string }>;
  /** The terminal's size in characters (window-change). */
  resize(cols: number, rows: number): Promise<void>;
  /** Resolves when the shell ends: its exit status (or signal, or the connection's error). */
  readonly exit: Promise<{ code: number | null; signal?: string; error?: { code: string; message: string } }>;
  close(): Promise<void>;
}

/** Options of `wgweb.ssh()`. */
export type WgwebSshOptions = Omit<SshOpenOptions, 'shell'>;

/** `wgweb.connect` options: the relay session's carrier (TunnelConnectOptions.relayCarrier). */
export interface WgwebConnectOptions {
  relayCarrier?: 'websocket' | 'websocketstream' | 'fetch-stream';
}

export interface WgwebAutomation {
  /** Resolves once the tunnel worker is up (the UI is usable). */
  readonly ready: Promise<void>;
  /**
   * Parses the config, opens the relay, starts the handshake. `relayUrl` defaults to the UI's field
   * (`/wg`); `options.relayCarrier` picks what carries the relay session (tests and benchmarks).
   */
  connect(configText: string, relayUrl?: string | readonly string[], options?: WgwebConnectOptions): Promise<TunnelStatus>;
  disconnect(): Promise<void>;
  /** The current `wg show`-like snapshot, or null without a session. */
  status(): Promise<TunnelStatus | null>;
  /** `count` (default 4) echo requests; resolves with the summary and every reply. */
  ping(address: string, count?: number): Promise<PingSummary & { replies: PingReply[] }>;
  /**
   * A standard Response; the body streams from the worker. https URLs are checked against the
   * trusted certificates; `insecure: true` skips the checks (like curl -k). TLS failures reject
   * with TLS_* codes.
   */
  fetch(url: string, init?: RequestInit & { timeoutMs?: number; insecure?: boolean }): Promise<Response>;
  /**
   * A DNS query through the tunnel: `type` is any of A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR
   * (give an address), CAA (default A); `options.server` asks that address inside the tunnel
   * instead of the config's `DNS =`. The name is asked as given (no search domains), like dig.
   * Resolves with every section of the reply (`answers`, `authorities`, `additionals` as
   * zone-file lines), `cnameChain`, `rcode`, `server`, `transport`, timings, and for A/AAAA the
   * `addresses` and their lowest `ttl`. A name that does not exist rejects with DNS_NXDOMAIN.
   */
  dns(name: string, type?: LookupType | Lowercase<LookupType>, options?: { server?: string }): Promise<WgwebDnsResult>;
  /** One port: open / refused / timeout / unreachable with the connect time. */
  tcping(host: string, port: number): Promise<TcpingResult>;
  /**
   * A port list (`'22,80,8000-8100'` or an array, at most 1024 ports, 8 at once, paced): each
   * port's outcome in `results`, and the ports by outcome (`open`, `closed`, `filtered`).
   */
  tcping(host: string, ports: string | number[]): Promise<PortCheckResult>;
  /**
   * An iperf3 TCP test against a stock `iperf3 -s` inside the tunnel (`host` or `host:port`
   * in `options.port`): `{ seconds = 10, reverse, streams = 1, port = 5201 }`. Resolves with
   * iperf3's sender and receiver lines, one entry per second in `intervals`, and `progress`, the
   * phases in order.
   */
  iperf3(host: string, options?: Iperf3Options): Promise<Iperf3Result & { progress: string[] }>;
  /**
   * Connection quality over time: `{ intervalMs, capacity, samples }`, one sample every 5 s for
   * the last hour (throughput, relay open time, TCP and ping RTT, retransmits, relay drops,
   * handshake age); null before any connect.
   */
  quality(): Promise<QualityHistorySnapshot | null>;
  /**
   * The diagnostic report of the current (or last) session: `{ report, html }`, the data with the
   * keys redacted and the self-contained HTML page the "Download report" button saves.
   */
  report(): Promise<{ report: DiagnosticReport; html: string }>;
  /**
   * The routers between the tunnel and `host`, like traceroute(8): `{ method: 'udp' | 'icmp'
   * (default udp; icmp is traceroute -I), maxHops = 30, probesPerHop = 3, timeoutMs = 3000,
   * port = 33434, resolveNames = true }`. `onHop` (optional) sees each hop as it completes:
   * `{ ttl, probes: [{ kind: 'time-exceeded' | 'reply' | 'unreachable', from, name?, rttMs } |
   * { kind: 'timeout' }] }`. Resolves with every hop and `reached`.
   */
  traceroute(host: string, options?: TracerouteCallOptions, onHop?: (hop: TraceHop) => void): Promise<TracerouteResult>;
  /**
   * Tunnel vs direct: `bytes` (default 8 MiB) straight from the relay's `/speed` endpoint, then the
   * same from `url` (inside the tunnel, e.g. `http://10.0.0.1/bytes/8388608`) through the tunnel.
   * Resolves with `{ direct, tunnel, percent }` (bits per second, ms, the tunnel as % of direct).
   */
  compare(url: string, options?: { bytes?: number }): Promise<TunnelVsDirectResult>;
  /**
   * A WebSocket through the tunnel that behaves as the browser's own (`readyState`, `send`,
   * `close`, open/message/error/close events). Throws a SyntaxError DOMException for a bad URL
   * or subprotocol, like `new WebSocket()`; connection failures arrive as error + close (1006).
   */
  webSocket(url: string, protocols?: string | string[]): PortWebSocket;
  /**
   * Trusts a CA or a self-signed server certificate (PEM text) for https in the tunnel; resolves
   * with `{ subject, sha256 }` per certificate added. Needs a connected session.
   */
  addTrustedCertificate(pem: string): Promise<{ subject: string; sha256: string }[]>;
  /**
   * Allows legacy TLS 1.2 for `host` (RSA key exchange without forward secrecy, CBC suites, SHA-1
   * signatures) for an old appliance, or takes it back with `allow = false`. Certificates are still
   * checked. Kept in the trust settings (listed in Configuration → Certificates).
   */
  allowLegacyTls(host: string, allow?: boolean): Promise<void>;
  /** A copy of the event log. */
  events(): SessionEvent[];
  /**
   * Opens the browse view at `url` (an http:// address inside the tunnel) and resolves when the
   * document has loaded: `{ url, title, status?, error?, outside? }`; an in-frame error page
   * (tunnel down, refused, DNS…) resolves too, with `error.code` saying why.
   */
  browse(url: string): Promise<BrowseResult>;
  /** The packet capture: start/stop/clear, packet summaries, the pcapng file (capture-automation.ts). */
  readonly capture: WgwebCaptureAutomation;
  /**
   * An SSH connection through the tunnel, with a shell on a PTY (`cols`×`rows`, default 80×24).
   * Authenticates with `password` (also answering keyboard-interactive) or `privateKey` (OpenSSH
   * text, `passphrase` if protected). The host key must be `hostKey` (a `SHA256:…` fingerprint or
   * a public key line) or on record; an unknown key rejects with SSH_HOST_KEY_UNKNOWN and
   * `detail.fingerprint`, a different one with SSH_HOST_KEY_CHANGED.
   */
  ssh(host: string, options: WgwebSshOptions): Promise<WgwebSsh>;
  /** The known SSH hosts (known_hosts format), and adding lines of an existing known_hosts file. */
  sshKnownHosts(): Promise<string>;
  importKnownHosts(text: string): Promise<{ added: number; skipped: { line: number; reason: string }[] }>;
}

/** What `wgweb.dns()` resolves to: the full query result plus, for A/AAAA, the addresses. */
export type WgwebDnsResult = DnsQueryResult & { addresses: string[]; ttl: number };

function usage(message: string): WgwebError {
  return new WgwebError(ErrorCode.USAGE, message);
}

/** An A/AAAA lookup's old-style result in the shape of a full query (targets without dnsQuery). */
function fromAddresses(r: DnsResult): WgwebDnsResult {
  const answers = r.addresses.map((data) => ({ name: r.name, type: r.type, ttl: r.ttl, data }));
  return {
    name: r.name,
    type: r.type,
    question: r.name,
    rcode: 'NOERROR',
    answers,
    authorities: [],
    additionals: [],
    cnameChain: [],
    server: r.server,
    transport: 'udp',
    elapsedMs: r.elapsedMs,
    queries: [{ name: r.name, elapsedMs: r.elapsedMs }],
    addresses: r.addresses,
    ttl: r.ttl,
  };
}

export function createAutomation(target: AutomationTarget): WgwebAutomation {
  const api: WgwebAutomation = {
    ready: target.ready,
    connect: (configText, relayUrl, options) =>
      coded(async () => {
        if (typeof configText !== 'string') throw usage('wgweb.connect(configText, relayUrl?): configText must be the text of a wg-quick config');
        const list = typeof relayUrl === 'string' || relayUrl === undefined ? [] : relayUrl;
        if ((relayUrl !== undefined && typeof relayUrl !== 'string' && !Array.isArray(relayUrl)) || list.some((u) => typeof u !== 'string')) {
          throw usage('wgweb.connect: relayUrl must be a string such as "/wg" or "ws://127.0.0.1:8080/wg", or a list of them (failover order)');
        }
        const carrier = options?.relayCarrier;
        if (carrier !== undefined && carrier !== 'websocket' && carrier !== 'websocketstream' && carrier !== 'fetch-stream') {
          throw usage("wgweb.connect: options.relayCarrier must be 'websocket', 'websocketstream' or 'fetch-stream'");
        }
        return carrier ? target.connect(configText, relayUrl, { relayCarrier: carrier }) : target.connect(configText, relayUrl);
      }),
    disconnect: () => coded(() => target.disconnect()),
    status: () => coded(() => target.status()),
    ping: (address, count = PING_DEFAULTS.count) =>
      coded(async () => {
        if (typeof address !== 'string' || !address.trim()) throw usage('wgweb.ping(address, count?): address must be an IPv4 or IPv6 address');
        if (!Number.isInteger(count) || count < 1 || count > 1000) throw usage('wgweb.ping: count must be a whole number from 1 to 1000');
        const replies: PingReply[] = [];
        const summary = await target.ping(address, { count }, (r) => replies.push(r));
        return { ...summary, replies: replies.sort((a, b) => a.seq - b.seq) };
      }),
    fetch: (url, init = {}) =>
      coded(async () => {
        if (typeof url !== 'string' && !((url as unknown) instanceof URL)) throw usage('wgweb.fetch(url, init?): url must be a string');
        return target.fetch(String(url), init);
      }),
    dns: (name, type = 'A', options = {}) =>
      coded(async (): Promise<WgwebDnsResult> => {
        if (typeof name !== 'string' || !name.trim()) throw usage('wgweb.dns(name, type?, { server }?): name must be a host name (or an address, for PTR)');
        if (typeof type !== 'string') throw usage('wgweb.dns: type must be a record type such as "A", "MX" or "PTR"');
        if (typeof options !== 'object' || options === null) throw usage("wgweb.dns: options must be an object such as { server: '10.8.0.53' }");
        if (options.server !== undefined && typeof options.server !== 'string') throw usage('wgweb.dns: server must be an IP address inside the tunnel');
        const upper = type.toUpperCase();
        if (!target.dnsQuery) {
          // A target without full queries (a test double): A/AAAA from the config's DNS only.
          if ((upper !== 'A' && upper !== 'AAAA') || options.server !== undefined) throw usage('wgweb.dns: this page can only look up A and AAAA records');
          return fromAddresses(await target.dns(name, upper as DnsRecordType));
        }
        const r = await target.dnsQuery(name.trim(), upper as LookupType, { server: options.server });
        if (r.rcode === 'NXDOMAIN') {
          throw new WgwebError(ErrorCode.DNS_NXDOMAIN, `${r.question}: no such name (NXDOMAIN from ${r.server})`, { name: r.question, server: r.server });
        }
        const own = r.type === 'A' || r.type === 'AAAA' ? r.answers.filter((a) => a.type === r.type) : [];
        return { ...r, addresses: own.map((a) => a.data), ttl: own.length ? Math.min(...own.map((a) => a.ttl)) : 0 };
      }),
    tcping: ((host: string, ports: number | string | number[]) =>
      coded(async () => {
        if (typeof host !== 'string' || !host.trim()) throw usage('wgweb.tcping(host, port | ports): host must be an address or name');
        if (typeof ports === 'number') {
          if (!Number.isInteger(ports) || ports < 1 || ports > 65535) throw usage('wgweb.tcping: port must be a whole number from 1 to 65535');
          return target.tcping(host, ports);
        }
        let list: number[];
        try {
          list = typeof ports === 'string' ? parsePortList(ports) : Array.isArray(ports) ? parsePortList(ports.join(',')) : [];
        } catch (e) {
          throw usage(`wgweb.tcping: ${(e as Error).message}`);
        }
        if (list.length === 0) throw usage("wgweb.tcping: give a port, a list such as '22,80,8000-8100', or an array of ports");
        if (!target.tcpingPorts) throw usage('wgweb.tcping: this page checks one port at a time');
        return target.tcpingPorts(host.trim(), list);
      })) as WgwebAutomation['tcping'],
    iperf3: (host, options = {}) =>
      coded(async () => {
        if (typeof host !== 'string' || !host.trim()) throw usage('wgweb.iperf3(host, options?): host must be the address or name of an iperf3 server');
        if (typeof options !== 'object' || options === null) throw usage('wgweb.iperf3: options must be an object such as { seconds: 5, reverse: true, streams: 2 }');
        if (!target.iperf3) throw usage('wgweb.iperf3 is not available here');
        const progress: string[] = [];
        const r = await target.iperf3(host, { ...options }, (p) => progress.push(p.type));
        return { ...structuredClone(r), progress };
      }),
    quality: () =>
      coded(async () => {
        if (!target.quality) throw usage('wgweb.quality is not available here');
        return target.quality();
      }),
    compare: (url, options = {}) =>
      coded(async () => {
        if (typeof url !== 'string' || !url.trim()) throw usage('wgweb.compare(url, { bytes }?): url must be a download inside the tunnel, e.g. http://10.0.0.1/bytes/8388608');
        if (typeof options !== 'object' || options === null) throw usage('wgweb.compare: options must be an object such as { bytes: 8388608 }');
        if (!target.compare) throw usage('wgweb.compare is not available here');
        return target.compare(url.trim(), { bytes: options.bytes });
      }),
    report: () =>
      coded(async () => {
        if (!target.report) throw usage('wgweb.report is not available here');
        return target.report();
      }),
    traceroute: (host, options = {}, onHop) =>
      coded(async () => {
        if (typeof host !== 'string' || !host.trim()) throw usage('wgweb.traceroute(host, options?, onHop?): host must be an address or name');
        if (typeof options !== 'object' || options === null) throw usage("wgweb.traceroute: options must be an object such as { method: 'icmp', maxHops: 10 }");
        if (onHop !== undefined && typeof onHop !== 'function') throw usage('wgweb.traceroute: onHop must be a function called with each hop');
        if (!target.traceroute) throw usage('wgweb.traceroute is not available here');
        const r = await target.traceroute(host.trim(), { ...options }, (hop) => {
          try {
            onHop?.(structuredClone(hop));
          } catch {
            // a script's callback error must not stop the trace
          }
        });
        return structuredClone(r);
      }),
    webSocket: (url, protocols = []) =>
      new PortWebSocket(url, protocols, {
        open: (request, port) => {
          if (!target.openWebSocket) return failPort(port, 'wgweb.webSocket: this page cannot open tunnel WebSockets');
          target.openWebSocket(request.url, { protocols: request.protocols }, port).catch((e) => failPort(port, toWgwebError(e).message));
        },
      }),
    addTrustedCertificate: (pem) =>
      coded(async () => {
        if (typeof pem !== 'string') throw usage('wgweb.addTrustedCertificate(pem): pem must be the text of a PEM certificate');
        if (!target.addTrustedCertificate) throw usage('wgweb.addTrustedCertificate is not available here');
        return target.addTrustedCertificate(pem);
      }),
    allowLegacyTls: (host, allow = true) =>
      coded(async () => {
        if (typeof host !== 'string' || host.trim() === '') throw usage('wgweb.allowLegacyTls(host, allow?): host must be a host name or address such as "printer.corp"');
        if (typeof allow !== 'boolean') throw usage('wgweb.allowLegacyTls(host, allow?): allow must be true or false');
        if (!target.allowLegacyTls) throw usage('wgweb.allowLegacyTls is not available here');
        await target.allowLegacyTls(host, allow);
      }),
    events: () => target.events().map((e) => structuredClone(e)),
    browse: (url) =>
      coded(async () => {
        if (typeof url !== 'string' && !((url as unknown) instanceof URL)) throw usage('wgweb.browse(url): url must be a string such as "http://10.0.0.1/"');
        if (!target.browse) throw usage('wgweb.browse: this page has no browse view');
        return structuredClone(await target.browse(String(url)));
      }),
    capture: createCaptureAutomation(target.capture),
    ssh: (host, options) =>
      coded(async () => {
        const t = target.sshTarget;
        if (!t) throw usage('wgweb.ssh is not available here');
        if (typeof host !== 'string' || !host.trim()) throw usage('wgweb.ssh(host, options): host must be an address or name');
        if (typeof options !== 'object' || options === null || typeof options.username !== 'string') throw usage('wgweb.ssh(host, options): options.username is required');
        if (options.password === undefined && options.privateKey === undefined) throw usage('wgweb.ssh: give options.password or options.privateKey');
        let resolveExit!: (e: Awaited<WgwebSsh['exit']>) => void;
        const exit = new Promise<Awaited<WgwebSsh['exit']>>((r) => (resolveExit = r));
        const { id, ...info } = await t.sshConnect(host, { ...options, shell: true }, (e) => {
          if ('exit' in e) resolveExit(structuredClone(e.exit));
        });
        const session: WgwebSsh = {
          info,
          write: (text) => coded(() => t.sshWrite(id, text)),
          output: () => coded(() => t.sshOutput(id)),
          exec: (command) => coded(() => t.sshExec(id, command)),
          resize: (cols, rows) => coded(() => t.sshResize(id, cols, rows)),
          exit,
          close: () => coded(() => t.sshClose(id)),
        };
        return Object.freeze(session);
      }),
    sshKnownHosts: () =>
      coded(async () => {
        if (!target.sshTarget) throw usage('wgweb.sshKnownHosts is not available here');
        return target.sshTarget.sshKnownHosts();
      }),
    importKnownHosts: (text) =>
      coded(async () => {
        if (!target.sshTarget) throw usage('wgweb.importKnownHosts is not available here');
        return target.sshTarget.importKnownHosts(text);
      }),
  };
  return Object.freeze(api);
}
