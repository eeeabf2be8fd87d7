/**
 * The relay's fetch-stream downstream (`wgweb.v3.stream`, src/shared/relay-stream-protocol.ts): a
 * session's datagrams for the client as one never-ending HTTP response body instead of WebSocket
 * messages (#19 item 3). The upstream stays on the session's WebSocket.
 *
 *   session opens (wgweb.v3.stream) ─▶ offer(session, client) ─▶ one-time id, sent in-band by the server
 *   POST /relay/stream/<id> ─▶ method POST?            (else 405)
 *                           ─▶ Host served, Origin allowed? (else 403; same checks as the WebSocket)
 *                           ─▶ id known, unused, same client address, session open?
 *                                                      (else 404, one answer for every case)
 *                           ─▶ 200 application/octet-stream, headers flushed
 *                              (X-Accel-Buffering: no, so nginx-style proxies pass it unbuffered)
 *                           ─▶ session.attachDownstream(body): batches are written into it; the
 *                              body's backlog counts against --max-buffer (drops, `backpressure`);
 *                              after the first write, text "stream written" on the WebSocket,
 *                              then "stream written <ms>" every second for 10 s (writtenNotices)
 *   body closed by the client ─▶ session.detachDownstream: back to the WebSocket
 *   session ends ─▶ end(session): the body ends, an unused id is void
 *
 * Token and per-client limits: the id is issued only to a session that passed them (auth, allow
 * list, session caps); it names that session alone, is good once, only from the address that opened
 * the session, and only while it lives. The stream adds no session: its connection counts in the
 * per-client connection cap like any other. The id never appears in a URL the page shows; a page of
 * another origin that guessed one is refused by the Origin check before the id is looked at.
 */

import type http from 'node:http';
import { randomBytes } from 'node:crypto';
import { STREAM_NOTICE_COUNT, STREAM_NOTICE_INTERVAL_MS, streamIdOfPath, streamWrittenNotice } from '../../shared/relay-stream-protocol.ts';
import type { OriginPolicy } from './origin-policy.ts';
import type { Logger } from './log.ts';
import type { ClientDownstream, RelaySession } from './relay-session.ts';
import { sendText } from './static-files.ts';
import { requestClient } from './client-limits.ts';

interface StreamEntry {
  readonly id: string;
  readonly session: RelaySession;
  /** The client address (per-client key) that opened the session. */
  readonly client: string;
  /** The response carrying the stream, once claimed. */
  res?: http.ServerResponse;
  /** Sends a text message on the session's WebSocket (the "stream written" notice). */
  readonly notify: (text: string) => void;
}

/** Settings of {@link RelayStreams}. */
export interface RelayStreamsConfig {
  readonly origins: OriginPolicy;
  readonly trustProxy: boolean;
  readonly log: Logger;
  /** Counts a refusal by name (the relay's `refused` stats). */
  readonly refused: (name: string) => void;
  /** The clock of the "stream written" notices (ms); default `performance.now`. */
  readonly now?: () => number;
  /** Timers of the notices (a fake clock in tests); default the platform's. */
  readonly timers?: NoticeTimers;
}

/** Timer functions the notices use. */
export interface NoticeTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const platformTimers: NoticeTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * The relay's side of the hold-back check (relay-stream-protocol.ts): sends "stream written" at
 * once (the first write just happened), then every {@link STREAM_NOTICE_INTERVAL_MS} a notice with
 * the ms since, {@link STREAM_NOTICE_COUNT} times. The client compares the relay's clock, carried on
 * the WebSocket, with what its body delivered: a client too loaded to read for seconds reads the
 * notices late as well, so only a body held back while the WebSocket flows looks like a proxy that
 * buffers. Returns a stop function (the body closed, the session ended).
 */
export function writtenNotices(notify: (text: string) => void, now: () => number, timers: NoticeTimers = platformTimers): () => void {
  const first = now();
  let sent = 0;
  let handle: unknown;
  const next = (): void => {
    handle = timers.setTimeout(() => {
      handle = undefined;
      sent++;
      // The relay's own elapsed time: a late timer (a busy relay) says so, never less.
      notify(streamWrittenNotice(Math.max(1, Math.round(now() - first))));
      if (sent < STREAM_NOTICE_COUNT) next();
    }, STREAM_NOTICE_INTERVAL_MS);
  };
  notify(streamWrittenNotice(0));
  next();
  return () => {
    if (handle !== undefined) timers.clearTimeout(handle);
    handle = undefined;
  };
}

/** Counters for stats and tests. */
export interface RelayStreamStats {
  /** Ids issued and not claimed yet. */
  readonly offered: number;
  /** Streams carrying a downstream now. */
  readonly active: number;
  /** Streams opened since start. */
  readonly opened: number;
}

/** The fetch-stream downstreams of one relay's sessions. */
export class RelayStreams {
  private readonly cfg: RelayStreamsConfig;
  private readonly byId = new Map<string, StreamEntry>();
  private readonly bySession = new Map<RelaySession, StreamEntry>();
  private opened = 0;

  constructor(cfg: RelayStreamsConfig) {
    this.cfg = cfg;
  }

  /**
   * A fresh one-time id for `session`'s stream; `client` is the per-client key of its opener;
   * `notify` sends a text message on its WebSocket.
   */
  offer(session: RelaySession, client: string, notify: (text: string) => void): string {
    const id = randomBytes(16).toString('base64url');
    const entry: StreamEntry = { id, session, client, notify };
    this.byId.set(id, entry);
    this.bySession.set(session, entry);
    return id;
  }

  /** The session ended: its id is void and its body ends. */
  end(session: RelaySession): void {
    const entry = this.bySession.get(session);
    if (!entry) return;
    this.bySession.delete(session);
    this.byId.delete(entry.id);
    entry.res?.end();
  }

  stats(): RelayStreamStats {
    let active = 0;
    for (const e of this.bySession.values()) if (e.res) active++;
    return { offered: this.byId.size, active, opened: this.opened };
  }

  /** Answers a request under `/relay/stream/` (see the module comment). */
  serve(req: http.IncomingMessage, res: http.ServerResponse, path: string): void {
    const refuse = (status: number, name: string, text: string, extra: Record<string, string> = {}): void => {
      this.cfg.refused(name);
      this.cfg.log.info('stream.refused', { client: req.socket.remoteAddress ?? '?', status, name });
      req.resume();
      sendText(res, status, text, { 'Cache-Control': 'no-store', ...extra });
    };
    if (req.method !== 'POST') return refuse(405, 'STREAM_METHOD', 'use POST', { Allow: 'POST' });
    const origin = req.headers.origin;
    const problem = this.cfg.origins.hostProblem(req.headers.host) ?? (origin === undefined ? undefined : this.cfg.origins.originProblem(origin, req.headers.host));
    if (problem) return refuse(403, 'ORIGIN_NOT_ALLOWED', problem);
    const id = streamIdOfPath(path);
    const entry = id === undefined ? undefined : this.byId.get(id);
    // One answer for an unknown, used, foreign or ended id: nothing about other sessions leaks.
    if (!entry || entry.res || entry.session.isEnded || entry.client !== requestClient(req, this.cfg.trustProxy)) {
      return refuse(404, 'STREAM_NOT_FOUND', 'not found');
    }
    this.byId.delete(entry.id);
    entry.res = res;
    this.opened++;
    req.resume();
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Cache-Control': 'no-store',
      // nginx (and proxies that follow it) pass this response on as it comes instead of buffering
      // it; a proxy that buffers anyway is detected by the client (the "stream written" notice).
      'X-Accel-Buffering': 'no',
      // A cross-origin page the relay allows (--allow-origin) may read the body; the request is a
      // CORS "simple" one (POST without a body type), so no preflight.
      ...(origin !== undefined ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {}),
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    let stopNotices: (() => void) | undefined;
    let closed = false;
    const sink: ClientDownstream = {
      get bufferedBytes() {
        return res.writableLength;
      },
      write: (records) => {
        res.write(records);
        if (stopNotices || closed) return;
        // On the WebSocket: the client now expects bytes on the body, and if a proxy holds them
        // back it gives the body up (and this relay, seeing it close, uses the WebSocket).
        stopNotices = writtenNotices(entry.notify, this.cfg.now ?? (() => performance.now()), this.cfg.timers);
      },
    };
    entry.session.attachDownstream(sink);
    this.cfg.log.info('stream.open', { id: entry.session.id, client: entry.session.client });
    res.on('close', () => {
      closed = true;
      stopNotices?.();
      entry.session.detachDownstream(sink);
      if (this.bySession.get(entry.session) === entry) this.bySession.delete(entry.session);
      this.cfg.log.info('stream.close', { id: entry.session.id, sessionOpen: !entry.session.isEnded });
    });
  }
}
