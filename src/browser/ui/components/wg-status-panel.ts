/**
 * <wg-status-panel .status .now .state>: the live view, laid out like `wg show`: the interface
 * (public key, addresses, MTU, DNS), then each peer with its own state (up, handshaking, down) and,
 * when it is not up, why (the relay refused its endpoint, no handshake answer: issue #11 item 13),
 * endpoint, allowed IPs, latest handshake ("12 s ago"), transfer, persistent keepalive and key age.
 * Beside them (below them on a narrow card) the relay: which one carries the session, its
 * round-trip time, the other relays of the list with theirs, and a short history of moves with
 * time and reason (#17 item 4). Re-rendered by the controller's 1 s poll.
 *
 *   card (a size container) ─▶ .layout: [interface, peers] | [relay, relays, history]
 *                              two columns once the card is 52rem wide (#18: no empty column)
 *
 * Keys read on one line at any width: monospace, the middle elided when it does not fit (the
 * full key stays in the text, its title and the copy button).
 */
import { LitElement, css, html, nothing } from 'lit';
import type { PeerStatus, TunnelStatus } from '../../worker/tunnel-api.ts';
import { formatBytes } from '../../../shared/format-bytes.ts';
import { formatAgo, formatClock, formatDuration, formatMs, relayRttText } from '../../../shared/format-time.ts';
import { relayHost, relayMoveText } from '../../../session/relay-history-text.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { keyStyles, renderKey } from './key-text.ts';
import './wg-copy-button.ts';

/** A handshake older than this means the session keys have expired (REJECT_AFTER_TIME, paper §6.1). */
const STALE_HANDSHAKE_MS = 180_000;


export class WgStatusPanel extends LitElement {
  static override properties = {
    status: { attribute: false },
    now: { attribute: false },
    state: { attribute: false },
  };
  static override styles = [
    sharedStyles,
    keyStyles,
    css`
      /* The whole width of the page's grid, not one column with nothing beside it (#18). */
      :host {
        grid-column: 1 / -1;
        min-width: 0;
      }
      .card {
        container-type: inline-size;
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(0, 1fr);
        gap: 1rem 1.5rem;
      }
      .side {
        min-width: 0;
      }
      .side + .side {
        padding-top: 1rem;
        border-top: 1px dashed var(--wg-border);
      }
      @container (min-width: 52rem) {
        .layout {
          grid-template-columns: minmax(0, 1.2fr) minmax(0, 1fr);
        }
        .side + .side {
          padding-top: 0;
          border-top: none;
          padding-left: 1.5rem;
          border-left: 1px dashed var(--wg-border);
        }
      }
      .section + .section {
        margin-top: 1rem;
        padding-top: 1rem;
        border-top: 1px dashed var(--wg-border);
      }
      .title {
        display: flex;
        align-items: baseline;
        gap: 0.5rem;
        margin: 0 0 0.5rem;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
        font-weight: 700;
        min-width: 0;
      }
      .title .kind {
        color: var(--wg-accent);
        flex: none;
      }
      .title .key {
        font-weight: 600;
      }
      .keyline {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        min-width: 0;
      }
      .keyline wg-copy-button {
        flex: none;
      }
      ol.history {
        list-style: none;
        margin: 0.6rem 0 0 1rem;
        padding: 0;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
      }
      ol.history li {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 0 0.75rem;
      }
      ol.history li + li {
        margin-top: 0.2rem;
      }
      ol.history time {
        color: var(--wg-muted);
      }
      ol.history .why {
        color: var(--wg-muted);
      }
      .subtitle {
        margin: 0.75rem 0 0 1rem;
        color: var(--wg-muted);
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
      }
      ul.relays {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      dl {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 0.2rem 1rem;
        margin: 0 0 0 1rem;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
      }
      dt {
        color: var(--wg-muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .good {
        color: var(--wg-ok);
      }
      .stale {
        color: var(--wg-warn);
      }
      .arrow {
        color: var(--wg-muted);
      }
      .peer-state {
        flex: none;
        font-weight: 600;
        color: var(--wg-muted);
      }
      .peer-state.up {
        color: var(--wg-ok);
      }
      .peer-state.down,
      .problem {
        color: var(--wg-err);
      }
    `,
  ];

  declare status: TunnelStatus | null;
  declare now: number;
  declare state: string;

  constructor() {
    super();
    this.status = null;
    this.now = Date.now();
    this.state = 'down';
  }

  override render() {
    const s = this.status;
    return html`<section class="card" aria-labelledby="status-title">
      <div class="card-head">
        <h2 id="status-title">Status</h2>
        <span class="spacer"></span>
        ${s ? html`<span class="muted small mono">updated every second</span>` : nothing}
      </div>
      <div class="card-body" data-testid="status">
        ${s
          ? html`<div class="layout">
              <div class="side">${this.#renderInterface(s)} ${s.peers.map((p) => this.#renderPeer(p))}</div>
              <div class="side">${this.#renderRelay(s)}</div>
            </div>`
          : html`<p class="empty">
              ${this.state === 'connecting' ? 'Connecting…' : 'Not connected. Add a config and press Connect to see the interface and its peers here.'}
            </p>`}
      </div>
    </section>`;
  }

  #renderInterface(s: TunnelStatus) {
    return html`<div class="section">
      <p class="title"><span class="kind">interface:</span><span>wgweb</span></p>
      <dl>
        <dt>public key</dt>
        <dd class="keyline">${renderKey(s.interface.publicKey, 'status-public-key')}<wg-copy-button compact .text=${s.interface.publicKey} label="Copy"></wg-copy-button></dd>
        <dt>addresses</dt>
        <dd>${s.interface.addresses.join(', ') || '(none)'}</dd>
        ${s.interface.mtu ? html`<dt>mtu</dt><dd data-testid="status-mtu">${s.interface.mtu}</dd>` : nothing}
        <dt>dns</dt>
        <dd data-testid="status-dns">${s.interface.dns?.length ? s.interface.dns.join(', ') : html`<span class="muted">(none: names do not resolve; add DNS = to [Interface])</span>`}</dd>
      </dl>
    </div>`;
  }

  /** The relay in use, its round-trip time, the others of the list, and the history of moves. */
  #renderRelay(s: TunnelStatus) {
    const r = s.relay;
    const history = r.history ?? [];
    const stateClass = r.state === 'open' ? 'up' : r.state === 'closed' ? 'down' : '';
    return html`<div class="section" data-testid="status-relay">
      <p class="title">
        <span class="kind">relay:</span><span class="key"><span class="head" title=${r.url}>${relayHost(r.url)}</span></span>
        <span class="peer-state ${stateClass}">${r.state}</span>
      </p>
      <dl>
        <dt>url</dt>
        <dd data-testid="status-relay-url">${r.url}</dd>
        ${r.rttMs !== undefined
          ? html`<dt>rtt</dt>
              <dd data-testid="status-relay-rtt">${relayRttText(r.url, r.rttMs)}</dd>`
          : nothing}
        ${r.relays && r.relays.length > 1
          ? html`<dt>relays</dt>
              <dd>
                <ul class="relays" data-testid="status-relays">
                  ${r.relays.map(
                    (c) =>
                      html`<li>
                        ${relayHost(c.url)}
                        <span class="muted"
                          >${c.rttMs !== undefined ? `opened in ${formatMs(c.rttMs)}` : 'not measured'}${c.failures ? `, ${c.failures} failed` : ''}${c.url === r.url ? ' (in use)' : ''}</span
                        >
                      </li>`,
                  )}
                </ul>
              </dd>`
          : nothing}
      </dl>
      ${history.length
        ? html`<p class="subtitle">history</p>
            <ol class="history" data-testid="relay-history" aria-label="Relay history, oldest first">
              ${history.map(
                (e) =>
                  html`<li>
                    <time datetime=${new Date(e.at).toISOString()}>${formatClock(e.at)}</time>
                    <span><span class="host">${relayHost(e.url)}</span> <span class="why">${relayMoveText(e)}</span></span>
                  </li>`,
              )}
            </ol>`
        : nothing}
    </div>`;
  }

  #renderPeer(p: PeerStatus) {
    const since = p.latestHandshakeAt ? this.now - p.latestHandshakeAt : undefined;
    const handshakeClass = since === undefined ? 'stale' : since > STALE_HANDSHAKE_MS ? 'stale' : 'good';
    return html`<div class="section">
      <p class="title">
        <span class="kind">peer:</span>${renderKey(p.publicKey)}
        ${p.state ? html`<span class="peer-state ${p.state}" data-testid="peer-state">${p.state}</span>` : nothing}
      </p>
      <dl>
        ${p.state && p.state !== 'up' && (p.problem || p.state === 'down')
          ? html`<dt>why not up</dt>
              <dd class="problem" data-testid="peer-problem">${p.problem?.message ?? 'no handshake answer'}</dd>`
          : nothing}
        <dt>endpoint</dt>
        <dd>${p.endpoint || '(none)'}</dd>
        <dt>allowed ips</dt>
        <dd>${p.allowedIPs.join(', ') || '(none)'}</dd>
        <dt>latest handshake</dt>
        <dd class=${handshakeClass} data-testid="latest-handshake">${formatAgo(p.latestHandshakeAt, this.now)}</dd>
        <dt>transfer</dt>
        <dd>
          ${formatBytes(p.rxBytes)} received<span class="arrow">,</span> ${formatBytes(p.txBytes)} sent
        </dd>
        ${p.persistentKeepalive
          ? html`<dt>persistent keepalive</dt>
              <dd>every ${formatDuration(p.persistentKeepalive * 1000)}</dd>`
          : nothing}
        ${p.keyAgeMs !== undefined
          ? html`<dt>key age</dt>
              <dd>${formatDuration(p.keyAgeMs)}</dd>`
          : nothing}
      </dl>
    </div>`;
  }
}
customElements.define('wg-status-panel', WgStatusPanel);

