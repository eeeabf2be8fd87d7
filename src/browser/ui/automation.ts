/**
 * `window.wgweb`: the page's automation surface for scripts and end-to-end tests. Every call goes
 * through the same TunnelController as the UI, so the status panel and the event log show what a
 * script did. Each method resolves with plain (structured-clone-safe) data, or rejects with a
 * `WgwebError` (an Error with a stable `code`).
 *
 *   await wgweb.connect(configText)            // relay defaults to the UI's relay field (/wg)
 *   await wgweb.ping('10.8.0.1', 3)            // { address, transmitted, received, …, replies }
 *   const r = await wgweb.fetch('http://10.8.0.1/'); await r.text()
 *   const ws = wgweb.webSocket('ws://10.8.0.1:8080/', ['chat'])  // a WebSocket-compatible PortWebSocket
 */
import { ErrorCode, WgwebError } from '../../shared/errors.ts';
import type { DnsRecordType, DnsResult, PingReply, PingSummary, TcpingResult, SessionEvent, TunnelStatus } from '../worker/tunnel-api.ts';
import { toWgwebError, type TunnelRequestInit } from './tunnel-client.ts';
import type { BrowseResult } from '../browse/browse-host.ts';
import { createCaptureAutomation, type WgwebCaptureAutomation } from './capture-automation.ts';
import type { CaptureController } from './controllers/capture-controller.ts';
import { PortWebSocket, failPort } from '../browse/port-websocket.ts';
import type { OpenWebSocketOptions } from '../worker/websocket-port-protocol.ts';

/** What the automation drives: implemented by <wg-app> on top of its TunnelController. */
export interface AutomationTarget {
  readonly ready: Promise<void>;
  connect(configText: string, relayUrl?: string): Promise<TunnelStatus>;
  disconnect(): Promise<void>;
  status(): Promise<TunnelStatus | null>;
  ping(address: string, options: { count: number }, onReply: (r: PingReply) => void): Promise<PingSummary>;
  dns(name: string, type: DnsRecordType): Promise<DnsResult>;
  tcping(host: string, port: number): Promise<TcpingResult>;
  addTrustedCertificate?(pem: string): Promise<{ subject: string; sha256: string }[]>;
  fetch(url: string, init: TunnelRequestInit): Promise<Response>;
  /** Hands `port` to the worker's openWebSocket (TunnelClient.openWebSocket). */
  openWebSocket?(url: string, options: OpenWebSocketOptions, port: MessagePort): Promise<void>;
  events(): SessionEvent[];
  /** Opens the browse view at `url`; resolves when the document has loaded (src/browser/browse/browse-host.ts). */
  browse?(url: string): Promise<BrowseResult>;
  /** The packet capture behind `wgweb.capture` (absent: those calls reject). */
  readonly capture?: CaptureController;
}

export interface WgwebAutomation {
  /** Resolves once the tunnel worker is up (the UI is usable). */
  readonly ready: Promise<void>;
  /** Parses the config, opens the relay, starts the handshake. `relayUrl` defaults to the UI's field (`/wg`). */
  connect(configText: string, relayUrl?: string): Promise<TunnelStatus>;
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
  dns(name: string, type?: DnsRecordType): Promise<DnsResult>;
  tcping(host: string, port: number): Promise<TcpingResult>;
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
}

function usage(message: string): WgwebError {
  return new WgwebError(ErrorCode.USAGE, message);
}

async function coded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toWgwebError(e);
  }
}

export function createAutomation(target: AutomationTarget): WgwebAutomation {
  const api: WgwebAutomation = {
    ready: target.ready,
    connect: (configText, relayUrl) =>
      coded(async () => {
        if (typeof configText !== 'string') throw usage('wgweb.connect(configText, relayUrl?): configText must be the text of a wg-quick config');
        if (relayUrl !== undefined && typeof relayUrl !== 'string') throw usage('wgweb.connect: relayUrl must be a string such as "/wg" or "ws://127.0.0.1:8080/wg"');
        return target.connect(configText, relayUrl);
      }),
    disconnect: () => coded(() => target.disconnect()),
    status: () => coded(() => target.status()),
    ping: (address, count = 4) =>
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
    dns: (name, type = 'A') =>
      coded(async () => {
        if (typeof name !== 'string' || !name.trim()) throw usage('wgweb.dns(name, type?): name must be a host name');
        if (type !== 'A' && type !== 'AAAA') throw usage('wgweb.dns: type must be "A" or "AAAA"');
        return target.dns(name, type);
      }),
    tcping: (host, port) =>
      coded(async () => {
        if (typeof host !== 'string' || !host.trim()) throw usage('wgweb.tcping(host, port): host must be an address or name');
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage('wgweb.tcping: port must be a whole number from 1 to 65535');
        return target.tcping(host, port);
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
    events: () => target.events().map((e) => structuredClone(e)),
    browse: (url) =>
      coded(async () => {
        if (typeof url !== 'string' && !((url as unknown) instanceof URL)) throw usage('wgweb.browse(url): url must be a string such as "http://10.0.0.1/"');
        if (!target.browse) throw usage('wgweb.browse: this page has no browse view');
        return structuredClone(await target.browse(String(url)));
      }),
    capture: createCaptureAutomation(target.capture),
  };
  return Object.freeze(api);
}
