/**
 * The teaching timeline's model: session events (src/session/tunnel-event-text.ts, whose
 * `detail` carries the core TunnelEvent fields) become the steps of a sequence diagram between
 * "you" (wgweb) and the peer, with message types, sizes, indexes, timings and one line on what
 * each step does (WireGuard paper §5.4 for the handshake, §6 for timers and rekeying).
 *
 *   'connect' (app) ─▶ a new timeline
 *   relay-open, handshake-initiation-sent, cookie-reply-received, handshake-response-received,
 *   session-established, keepalive-sent (handshake-complete) ... ─▶ TimelineStep[]
 *
 * Times: an event's `at` is epoch ms rounded to the millisecond; protocol events also carry
 * `detail.monotonicMs`, the worker's unrounded clock, which gives exact intervals between steps.
 * Repeated keepalives fold into one step with a count, so hours of PersistentKeepalive stay short.
 *
 * TLS inside the tunnel (https fetches and browsing): the worker's TLS client reports each handshake
 * step (src/protocols/tls/tls-client.ts, tls-connector.ts; `detail` carries host, port, SNI,
 * version, suite, ALPN, the certificate's subject, issuer and verdict). They become steps with
 * `protocol: 'TLS'` between you and the server behind the peer (RFC 8446 §2 for the flow):
 *   tls-client-hello ─▶ tls-hello-retry-request? ─▶ tls-server-hello ─▶ tls-certificate-verified
 *   (or -refused) ─▶ tls-established; alerts either way. In TLS 1.3 the certificate is encrypted
 *   on the wire, so only this view (not the packet list) can show it.
 */

/** What the model reads from an event-log entry. */
export interface TimelineInput {
  /** Increasing per entry (the controller's log ids); entries at or below the last seen id are skipped. */
  id?: number;
  at: number;
  type: string;
  message?: string;
  detail?: Record<string, unknown>;
  source?: string;
}

export type StepDirection = 'out' | 'in' | 'local';

/** One row of the sequence diagram. */
export interface TimelineStep {
  id: number;
  /** The event type it came from. */
  type: string;
  /** `out`: you → peer; `in`: peer → you; `local`: something that happened on one side. */
  direction: StepDirection;
  title: string;
  /** WireGuard message type (1 initiation, 2 response, 3 cookie reply, 4 transport). */
  messageType?: 1 | 2 | 3 | 4;
  /** Bytes of the UDP payload. */
  size?: number;
  senderIndex?: number;
  receiverIndex?: number;
  /** Short facts: "attempt 2", "with MAC2", "round trip 1.8 ms". */
  facts: string[];
  /** One line on what the step does. */
  explain: string;
  /** Epoch ms (sub-millisecond when the event had a monotonic time). */
  at: number;
  /** ms since the timeline started (the connect). */
  t: number;
  /** ms since the previous step. */
  dt?: number;
  highlight?: 'ok' | 'warn' | 'error';
  /** Folded repeats (keepalives). */
  count: number;
  /** Set for steps of a TLS handshake inside the tunnel (the other side is the server, not the WireGuard peer). */
  protocol?: 'TLS';
}

/** What a step is made from; the model fills in ids, times and counts. */
type StepFields = Omit<TimelineStep, 'id' | 'type' | 'at' | 't' | 'dt' | 'count' | 'facts'> & { facts?: string[] };

/** Steps kept; older ones are dropped first. */
export const TIMELINE_LIMIT = 300;

const REKEY_WHY: Record<string, string> = {
  'rekey-after-time': 'the keys are 120 s old (REKEY_AFTER_TIME)',
  'rekey-after-messages': 'the keys protected 2^60 messages (REKEY_AFTER_MESSAGES)',
  'rekey-before-reject': 'the keys near REJECT_AFTER_TIME while data still arrives',
  'no-reply': 'data went out and nothing came back for 15 s',
  'key-expired': 'the keys expired before data could be sent',
};

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** `0x1a2b3c4d`: how indexes are shown. */
export function hexIndex(n: number | undefined): string {
  return n === undefined ? '' : `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}

/** Builds and keeps the steps of the latest connection. */
export class HandshakeTimeline {
  steps: TimelineStep[] = [];
  /** Epoch ms of the timeline's zero (the connect, or the first event seen). */
  startedAt: number | undefined;
  #lastId = -Infinity;
  #nextStep = 1;
  /** epoch − monotonic, learned from the first event that has both. */
  #offset: number | undefined;
  #peer: string | undefined;
  /** Fold key of the last step when it is a foldable keepalive. */
  #lastFold: string | undefined;

  /** The peer endpoint named by the latest relay or handshake event. */
  get peerEndpoint(): string | undefined {
    return this.#peer;
  }

  /** Adds new entries; returns true when the steps changed. */
  add(entries: readonly TimelineInput[]): boolean {
    let changed = false;
    for (const e of entries) {
      if (e.id !== undefined) {
        if (e.id <= this.#lastId) continue;
        this.#lastId = e.id;
      }
      if (this.#addOne(e)) changed = true;
    }
    if (this.steps.length > TIMELINE_LIMIT) this.steps = this.steps.slice(this.steps.length - TIMELINE_LIMIT);
    return changed;
  }

  /** Forgets every step (entries already seen stay seen). */
  clear(): void {
    this.steps = [];
    this.startedAt = undefined;
    this.#offset = undefined;
    this.#lastFold = undefined;
  }

  /**
   * The step that ended the latest connection attempt without a session (the handshake gave up, the
   * relay failed), if that is where it stands: the summary then says so instead of "Waiting".
   */
  get failure(): TimelineStep | undefined {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i];
      if (s.type === 'session-established' || s.type === 'connect') return undefined;
      if (s.type === 'handshake-timeout' || s.type === 'handshake-failed' || s.type === 'relay-failed') return s;
    }
    return undefined;
  }

  /** ms from the first initiation to the session being established, for the latest handshake. */
  get handshakeMs(): number | undefined {
    let end: TimelineStep | undefined;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const s = this.steps[i];
      if (!end && s.type === 'session-established') end = s;
      else if (end && s.type === 'handshake-initiation-sent') {
        // The first attempt of this series: walk back over retries.
        let first = s;
        for (let j = i - 1; j >= 0; j--) {
          const p = this.steps[j];
          if (p.type === 'session-established' || p.type === 'connect') break;
          if (p.type === 'handshake-initiation-sent') first = p;
        }
        return end.at - first.at;
      }
    }
    return undefined;
  }

  #time(e: TimelineInput): number {
    const mono = num(e.detail?.monotonicMs);
    if (mono === undefined) return e.at;
    this.#offset ??= e.at - mono;
    return mono + this.#offset;
  }

  #push(e: TimelineInput, step: StepFields): true {
    const at = this.#time(e);
    this.startedAt ??= at;
    this.#lastFold = undefined;
    const prev = this.steps[this.steps.length - 1];
    this.steps.push({
      id: this.#nextStep++,
      type: e.type,
      at,
      t: at - this.startedAt,
      dt: prev ? at - prev.at : undefined,
      count: 1,
      facts: [],
      ...step,
    });
    return true;
  }

  #addOne(e: TimelineInput): boolean {
    const d = e.detail ?? {};
    const endpoint = str(d.endpoint);
    switch (e.type) {
      case 'connect': {
        if (e.source !== undefined && e.source !== 'app') return false;
        this.clear();
        this.startedAt = e.at;
        return this.#push(e, {
          direction: 'local',
          title: 'Connect',
          explain: 'wgweb opens a WebSocket to the relay; the WireGuard protocol itself runs in this page’s Web Worker.',
        });
      }
      case 'relay-open':
        this.#peer = endpoint ?? this.#peer;
        return this.#push(e, {
          direction: 'local',
          title: 'Relay session open',
          facts: endpoint ? [`UDP to ${endpoint}`] : [],
          explain: 'From now on each binary WebSocket message is one UDP datagram to the peer, and back. The relay sees only ciphertext.',
        });
      case 'relay-reconnecting':
        return this.#push(e, { direction: 'local', title: 'Relay connection lost', explain: e.message ?? 'The WebSocket to the relay closed; wgweb reconnects.', highlight: 'warn' });
      case 'relay-reconnected':
        return this.#push(e, {
          direction: 'local',
          title: 'Relay reconnected',
          explain: 'A new WebSocket, so a new UDP source port: the peer learns it from our next authenticated packet (roaming), no new handshake needed.',
          highlight: 'ok',
        });
      case 'handshake-initiation-sent': {
        this.#peer = endpoint ?? this.#peer;
        const attempt = num(d.attempt) ?? 1;
        const mac2 = d.mac2 === true;
        const trigger = str(d.trigger);
        const facts: string[] = [];
        if (attempt > 1) facts.push(`attempt ${attempt}`);
        if (mac2) facts.push('with MAC2 (cookie)');
        if (trigger && trigger !== 'connect' && trigger !== 'retry') facts.push(`because: ${trigger}`);
        return this.#push(e, {
          direction: 'out',
          title: 'Handshake Initiation',
          messageType: 1,
          size: num(d.size),
          senderIndex: num(d.senderIndex),
          facts,
          explain: mac2
            ? 'The same initiation, now with MAC2 computed from the cookie: it proves we receive packets at our address, so the busy peer will answer.'
            : 'Our fresh ephemeral key, our static key and a TAI64N timestamp (both encrypted), and MAC1 keyed with the peer’s public key.',
          highlight: attempt > 1 || mac2 ? 'warn' : undefined,
        });
      }
      case 'handshake-retry':
        return this.#push(e, {
          direction: 'local',
          title: 'No answer: retrying',
          facts: [`attempt ${num(d.attempt) ?? '?'}`, `${((num(d.elapsedMs) ?? 0) / 1000).toFixed(0)} s since the first try`],
          explain: 'REKEY_TIMEOUT (5 s, plus jitter) passed without a response: a new initiation with a new ephemeral key goes out.',
          highlight: 'warn',
        });
      case 'cookie-reply-received':
        return this.#push(e, {
          direction: 'in',
          title: 'Cookie Reply',
          messageType: 3,
          size: num(d.size),
          receiverIndex: num(d.receiverIndex),
          explain: 'The peer is under load: instead of doing the expensive handshake it sends an encrypted cookie, valid 2 minutes, for our next initiation’s MAC2.',
          highlight: 'warn',
        });
      case 'handshake-response-received': {
        const rtt = num(d.rttMs);
        return this.#push(e, {
          direction: 'in',
          title: 'Handshake Response',
          messageType: 2,
          size: num(d.size),
          senderIndex: num(d.senderIndex),
          receiverIndex: num(d.receiverIndex),
          facts: rtt !== undefined ? [`round trip ${formatInterval(rtt)}`] : [],
          explain: 'The peer’s ephemeral key and an empty encrypted payload proving it holds its private key (and the preshared key, if any).',
        });
      }
      case 'session-established': {
        const initiator = str(d.role) !== 'responder';
        return this.#push(e, {
          direction: 'local',
          title: 'Session keys derived',
          facts: [`we receive on ${hexIndex(num(d.localIndex))}`, `peer receives on ${hexIndex(num(d.remoteIndex))}`],
          explain: initiator
            ? 'Noise IKpsk2 is complete: one key to send, one to receive. As the initiator we may send data right away.'
            : 'As the responder we wait: we may send with these keys only after the initiator’s first transport message.',
          highlight: 'ok',
        });
      }
      case 'keepalive-sent':
      case 'keepalive-received':
        return this.#keepalive(e, d);
      case 'handshake-initiation-received':
        this.#peer = endpoint ?? this.#peer;
        return this.#push(e, {
          direction: 'in',
          title: 'Handshake Initiation (from the peer)',
          messageType: 1,
          size: num(d.size),
          senderIndex: num(d.senderIndex),
          explain: 'This time the peer starts the handshake; we answer as the responder.',
        });
      case 'handshake-response-sent':
        return this.#push(e, {
          direction: 'out',
          title: 'Handshake Response',
          messageType: 2,
          size: num(d.size),
          senderIndex: num(d.senderIndex),
          receiverIndex: num(d.receiverIndex),
          facts: d.mac2 === true ? ['with MAC2 (cookie)'] : [],
          explain: 'Our ephemeral key and an empty encrypted payload: the peer can now derive the same keys.',
        });
      case 'cookie-reply-sent':
        return this.#push(e, {
          direction: 'out',
          title: 'Cookie Reply',
          messageType: 3,
          size: num(d.size),
          receiverIndex: num(d.receiverIndex),
          explain: 'We are under load: the sender must prove its address with MAC2 before we do a handshake.',
          highlight: 'warn',
        });
      case 'session-confirmed':
        return this.#push(e, {
          direction: 'local',
          title: 'Session confirmed',
          explain: 'The initiator’s first transport message arrived under the new keys: we may send with them now.',
          highlight: 'ok',
        });
      case 'rekey-started': {
        const reason = str(d.reason) ?? '';
        return this.#push(e, {
          direction: 'local',
          title: 'Rekey',
          facts: reason ? [REKEY_WHY[reason] ?? reason] : [],
          explain: 'Keys are replaced before they grow old (forward secrecy): a new handshake runs while the current keys still work.',
        });
      }
      case 'handshake-failed':
        return this.#push(e, {
          direction: 'local',
          title: 'Handshake gave up',
          facts: [`${num(d.attempts) ?? '?'} attempts`],
          explain: 'No response within REKEY_ATTEMPT_TIME (90 s). Check the peer’s public key, endpoint and firewall.',
          highlight: 'error',
        });
      case 'keys-expired':
        return this.#push(e, {
          direction: 'local',
          title: 'Keys expired',
          facts: [str(d.slot) ?? ''].filter(Boolean),
          explain: 'Session keys are never used past REJECT_AFTER_TIME (180 s); a new handshake replaces them when there is data.',
        });
      case 'keys-zeroed':
        return this.#push(e, { direction: 'local', title: 'Keys erased', explain: 'Nine minutes without a new handshake: every key is wiped from memory.' });
      case 'endpoint-changed':
        this.#peer = str(d.to) ?? this.#peer;
        return this.#push(e, {
          direction: 'local',
          title: 'Peer endpoint changed',
          facts: [str(d.to) ?? ''].filter(Boolean),
          explain: 'Roaming: an authenticated packet came from a new address, so replies go there now.',
        });
      case 'handshake-timeout':
        // The Session's likely cause (src/session/handshake-diagnosis.ts), as it gives up.
        return this.#push(e, {
          direction: 'local',
          title: 'No handshake',
          facts: [str(d.cause) === 'key-mismatch' ? 'keys disagree' : str(d.cause) === 'under-load' ? 'peer under load' : 'no answer'],
          explain: e.message ?? 'No handshake response: check the peer’s public key, endpoint and firewall.',
          highlight: 'error',
        });
      case 'relay-failed':
        return this.#push(e, { direction: 'local', title: 'Relay failed', explain: e.message ?? 'The relay refused or closed the session.', highlight: 'error' });
      case 'session-closed':
        return this.#push(e, { direction: 'local', title: 'Disconnected', explain: 'The session is closed and its keys are zeroed.' });
      default:
        return e.type.startsWith('tls-') ? this.#tls(e, d) : false;
    }
  }

  /** One step of a TLS handshake to a server inside the tunnel; tickets and the raw chain size are left to the event log. */
  #tls(e: TimelineInput, d: Record<string, unknown>): boolean {
    const host = str(d.host) ?? 'the server';
    const port = num(d.port);
    const where = port !== undefined && port !== 443 ? `${host}:${port}` : host;
    const tls = (step: StepFields): true => this.#push(e, { ...step, protocol: 'TLS' });
    const version = str(d.version);
    const suite = str(d.cipherSuite);
    switch (e.type) {
      case 'tls-client-hello': {
        const sni = str(d.sni);
        const alpn = str(d.alpn);
        return tls({
          direction: 'out',
          title: `TLS ClientHello to ${where}${sni ? ` (SNI ${sni})` : ' (no SNI: an IP address)'}`,
          facts: [`offers ${str(d.offered) ?? 'TLS'}`, alpn ? `ALPN ${alpn}` : '', d.retry === true ? 'second try' : '', d.resuming === true ? 'resuming a session' : ''].filter(Boolean),
          explain: 'Our first TLS message, readable by anyone on the path inside the tunnel: the versions and cipher suites we offer, a fresh key share, and the server name so the server can choose its certificate.',
        });
      }
      case 'tls-hello-retry-request':
        return tls({
          direction: 'in',
          title: 'TLS HelloRetryRequest',
          facts: [str(d.group) ? `wants a ${str(d.group)} key share` : 'wants its cookie back'],
          explain: 'The server supports none of the key shares we sent: one more round trip, and a second ClientHello with the group it asked for.',
          highlight: 'warn',
        });
      case 'tls-server-hello':
        return tls({
          direction: 'in',
          title: `TLS ServerHello: ${version ?? '?'}, ${suite ?? '?'}`,
          facts: [str(d.group) ? `key exchange ${str(d.group)}` : '', d.resumed === true ? 'session resumed' : ''].filter(Boolean),
          explain:
            version === 'TLS 1.3'
              ? 'The server picks the version and cipher suite and sends its key share. Both sides now derive handshake keys: everything after this, the certificate included, is encrypted.'
              : 'The server picks the version and cipher suite; in TLS 1.2 its certificate and key exchange follow in the clear.',
        });
      case 'tls-certificate-verified':
        return tls({
          direction: 'in',
          title: `Certificate: ${str(d.subject) ?? '?'}`,
          facts: [`issued by ${str(d.issuer) ?? '?'}`, str(d.verdict) ?? ''].filter(Boolean),
          explain: 'The server’s certificate chain, checked here in the worker: dates, host name, and a path to a CA you trust (or the pin you accepted). The server then proves it holds the certificate’s key by signing the handshake.',
          highlight: str(d.verdict)?.startsWith('not checked') ? 'warn' : 'ok',
        });
      case 'tls-certificate-refused':
        return tls({
          direction: 'in',
          title: `Certificate refused${str(d.subject) ? `: ${str(d.subject)}` : ''}`,
          facts: [str(d.issuer) ? `issued by ${str(d.issuer)}` : '', str(d.code) ?? ''].filter(Boolean),
          explain: e.message ?? 'The certificate is not trusted for this host; the connection ends with an alert.',
          highlight: 'error',
        });
      case 'tls-established': {
        const alpn = str(d.alpn);
        const legacy = str(d.legacy);
        return tls({
          direction: 'local',
          title: `TLS established${alpn ? ` (ALPN ${alpn})` : ''} with ${where}`,
          facts: [version ?? '', suite ?? '', d.resumed === true ? 'resumed' : '', legacy ? `legacy: ${legacy}` : ''].filter(Boolean),
          explain: 'Both Finished messages check out: application data (the HTTP request) now flows under the traffic keys, inside WireGuard’s own encryption.',
          highlight: legacy ? 'warn' : 'ok',
        });
      }
      case 'tls-alert-sent':
      case 'tls-alert-received': {
        const sent = e.type === 'tls-alert-sent';
        return tls({
          direction: sent ? 'out' : 'in',
          title: `TLS alert ${sent ? 'sent' : 'from the server'}: ${str(d.alert) ?? '?'}`,
          facts: [d.fatal === false ? 'warning' : 'fatal'],
          explain: sent ? 'We end the handshake and tell the server why.' : 'The server ended the handshake and says why.',
          highlight: d.fatal === false ? 'warn' : 'error',
        });
      }
      case 'tls-key-update':
        return tls({ direction: 'in', title: 'TLS KeyUpdate', explain: e.message ?? 'The server moves to new traffic keys.' });
      default:
        return false;
    }
  }

  /** Keepalives: the first one after a handshake is a step; repeats fold into the previous step. */
  #keepalive(e: TimelineInput, d: Record<string, unknown>): boolean {
    const sent = e.type === 'keepalive-sent';
    const reason = str(d.reason);
    if (sent && reason === 'handshake-complete') {
      return this.#push(e, {
        direction: 'out',
        title: 'Keepalive: session confirmation',
        messageType: 4,
        size: num(d.size),
        receiverIndex: num(d.receiverIndex),
        facts: [`counter ${num(d.counter) ?? 0}`],
        explain: 'An empty transport message under the new keys. The peer may only send once it has seen one: this confirms the session.',
      });
    }
    const key = sent ? `sent:${reason === 'persistent' ? 'persistent' : 'passive'}` : 'received';
    const last = this.steps[this.steps.length - 1];
    if (last && this.#lastFold === key) {
      const at = this.#time(e);
      last.count++;
      last.dt = at - last.at;
      last.at = at;
      last.t = at - (this.startedAt ?? at);
      return true;
    }
    this.#push(e, {
      direction: sent ? 'out' : 'in',
      title: 'Keepalive',
      messageType: 4,
      size: num(d.size),
      receiverIndex: sent ? num(d.receiverIndex) : undefined,
      facts: sent ? [reason === 'persistent' ? 'persistent' : 'passive'] : [],
      explain: !sent
        ? 'An empty transport message from the peer: it is alive and the session works.'
        : reason === 'persistent'
          ? 'PersistentKeepalive: sent on a schedule so NAT and firewall mappings on the way stay open.'
          : 'Data arrived and nothing went back for 10 s (KEEPALIVE_TIMEOUT): an empty message says we are still here.',
    });
    this.#lastFold = key;
    return true;
  }
}

/** `0.42 ms`, `12.3 ms`, `1.24 s`, `2 min 5 s`: intervals and offsets on the timeline. */
export function formatInterval(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1) return `${ms.toFixed(2)} ms`;
  if (a < 100) return `${ms.toFixed(1)} ms`;
  if (a < 1000) return `${Math.round(ms)} ms`;
  if (a < 60_000) return `${(ms / 1000).toFixed(a < 10_000 ? 2 : 1)} s`;
  const m = Math.floor(a / 60_000);
  const s = Math.round((a % 60_000) / 1000);
  return `${ms < 0 ? '-' : ''}${m} min ${s} s`;
}
