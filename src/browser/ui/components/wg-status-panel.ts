/**
 * <wg-status-panel .status .now .state>: the live view, laid out like `wg show`: the interface
 * (addresses, MTU, DNS, relay), then each peer with its own state (up, handshaking, down) and,
 * when it is not up, why (the relay refused its endpoint, no handshake answer: issue #11 item 13),
 * endpoint, allowed IPs, latest handshake ("12 s ago"), transfer, persistent keepalive and key age.
 * Re-rendered by the controller's 1 s poll.
 */
import { LitElement, css, html, nothing } from 'lit';
import type { PeerStatus, TunnelStatus } from '../../worker/tunnel-api.ts';
import { formatBytes } from '../../../shared/format-bytes.ts';
import { formatAgo, formatDuration, relayRttText } from '../lib/format-time.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
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
    css`
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
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
        font-weight: 600;
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
          ? html`${this.#renderInterface(s)} ${s.peers.map((p) => this.#renderPeer(p))}`
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
        <dd>${s.interface.publicKey}</dd>
        <dt>addresses</dt>
        <dd>${s.interface.addresses.join(', ') || '(none)'}</dd>
        ${s.interface.mtu ? html`<dt>mtu</dt><dd data-testid="status-mtu">${s.interface.mtu}</dd>` : nothing}
        <dt>dns</dt>
        <dd data-testid="status-dns">${s.interface.dns?.length ? s.interface.dns.join(', ') : html`<span class="muted">(none: names do not resolve; add DNS = to [Interface])</span>`}</dd>
        <dt>relay</dt>
        <dd>${s.relay.url} <span class="muted">(${s.relay.state})</span></dd>
        ${s.relay.rttMs !== undefined
          ? html`<dt>relay rtt</dt>
              <dd data-testid="status-relay-rtt">${relayRttText(s.relay.url, s.relay.rttMs)}</dd>`
          : nothing}
      </dl>
    </div>`;
  }

  #renderPeer(p: PeerStatus) {
    const since = p.latestHandshakeAt ? this.now - p.latestHandshakeAt : undefined;
    const handshakeClass = since === undefined ? 'stale' : since > STALE_HANDSHAKE_MS ? 'stale' : 'good';
    return html`<div class="section">
      <p class="title">
        <span class="kind">peer:</span><span class="key" title=${p.publicKey}>${p.publicKey}</span>
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
