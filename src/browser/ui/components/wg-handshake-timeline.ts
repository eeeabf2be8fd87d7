/**
 * <wg-handshake-timeline .entries .localLabel>: the WireGuard handshake as a sequence diagram
 * between you (wgweb) and the peer, built from the session's events (lib/handshake-timeline.ts).
 * Each message is an arrow with its name, type, size, sender/receiver indexes in hex and timings
 * (since connect, and since the previous step), plus one line on what it does. Cookie replies,
 * retries and failures stand out; repeated keepalives fold into one row with a count. TLS
 * handshakes with servers inside the tunnel (https) appear as steps marked TLS: ClientHello (SNI),
 * ServerHello (version, suite), the certificate's subject, issuer and verdict, established (ALPN).
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { HandshakeTimeline, formatInterval, hexIndex, type TimelineInput, type TimelineStep } from '../lib/handshake-timeline.ts';
import { sharedStyles } from '../styles/shared-styles.ts';

const MESSAGES: { type: number; name: string; size: string; what: string }[] = [
  { type: 1, name: 'Handshake Initiation', size: '148 B', what: 'ephemeral key, encrypted static key + timestamp, MAC1/MAC2' },
  { type: 2, name: 'Handshake Response', size: '92 B', what: 'ephemeral key, encrypted empty payload, MAC1/MAC2' },
  { type: 3, name: 'Cookie Reply', size: '64 B', what: 'encrypted cookie from a peer under load' },
  { type: 4, name: 'Transport Data', size: '32 B + data', what: 'header, counter, encrypted padded IP packet; empty = keepalive' },
];

export class WgHandshakeTimeline extends LitElement {
  static override properties = {
    entries: { attribute: false },
    localLabel: { attribute: false },
    _version: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        --tl-out: var(--wg-accent);
        --tl-in: light-dark(#7246c9, #b69cff);
        --tl-line: var(--wg-border-strong);
        /* Distance of each lifeline from its side of the lane; the actor boxes are centred on it. */
        --tl-lifeline: 5.5rem;
        --tl-pad: 1.35rem;
      }
      .summary {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem 1rem;
        margin-bottom: 0.75rem;
        font-size: 0.8125rem;
      }
      .summary .spacer {
        flex: 1;
      }
      .diagram {
        max-width: 54rem;
        margin: 0 auto;
      }
      .row {
        display: grid;
        grid-template-columns: 6.25rem minmax(0, 1fr);
        column-gap: 0.75rem;
      }
      .lanes {
        position: sticky;
        top: 0;
        z-index: 1;
        background: var(--wg-surface);
        padding-bottom: 0.35rem;
      }
      .actors {
        display: flex;
        justify-content: space-between;
        gap: 1rem;
      }
      .actor {
        display: inline-flex;
        flex-direction: column;
        align-items: center;
        padding: 0.3rem 0.7rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        background: var(--wg-surface-2);
        font-weight: 600;
        font-size: 0.8125rem;
        line-height: 1.3;
        width: calc(2 * var(--tl-lifeline));
      }
      .actor small {
        font-family: var(--wg-mono);
        font-weight: 400;
        font-size: 0.72rem;
        color: var(--wg-muted);
        overflow-wrap: anywhere;
        text-align: center;
      }
      .timehead {
        align-self: end;
        font-size: 0.72rem;
        color: var(--wg-muted);
        text-transform: uppercase;
        letter-spacing: 0.04em;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
      }
      .time {
        font-family: var(--wg-mono);
        font-size: 0.75rem;
        text-align: right;
        padding-top: 0.55rem;
        line-height: 1.35;
      }
      .time .t {
        font-weight: 600;
      }
      .time .dt {
        color: var(--wg-muted);
        display: block;
      }
      /* The two lifelines: you on the left, the peer on the right. */
      .lane {
        position: relative;
        padding: 0.4rem var(--tl-pad) 0.55rem;
        background:
          linear-gradient(var(--tl-line), var(--tl-line)) left calc(var(--tl-lifeline) - 1px) top / 2px 100% no-repeat,
          linear-gradient(var(--tl-line), var(--tl-line)) right calc(var(--tl-lifeline) - 1px) top / 2px 100% no-repeat;
        min-width: 0;
      }
      li.warn .lane {
        background-color: color-mix(in srgb, var(--wg-warn-soft) 75%, transparent);
      }
      li.error .lane {
        background-color: color-mix(in srgb, var(--wg-err-soft) 75%, transparent);
      }
      li.warn .lane,
      li.error .lane {
        border-radius: var(--wg-radius-sm);
      }
      .label {
        display: flex;
        justify-content: center;
        align-items: baseline;
        flex-wrap: wrap;
        gap: 0.2rem 0.45rem;
        text-align: center;
      }
      .label strong {
        font-size: 0.875rem;
      }
      .mtype {
        font-family: var(--wg-mono);
        font-size: 0.68rem;
        font-weight: 700;
        padding: 0 0.35rem;
        border-radius: 4px;
        color: var(--wg-on-accent);
        background: var(--arrow);
      }
      .mtype.tls {
        color: light-dark(#6b4100, #1d1400);
        background: light-dark(#f6c768, #f2c46d);
      }
      .size {
        font-family: var(--wg-mono);
        font-size: 0.75rem;
        font-weight: 600;
        color: var(--arrow);
      }
      .count {
        font-family: var(--wg-mono);
        font-size: 0.72rem;
        color: var(--wg-muted);
      }
      .msg {
        --arrow: var(--tl-out);
      }
      .msg.in {
        --arrow: var(--tl-in);
      }
      li.warn .msg {
        --arrow: var(--wg-warn);
      }
      .arrow {
        position: relative;
        height: 2px;
        margin: 0.35rem calc(var(--tl-lifeline) - var(--tl-pad)) 0.3rem;
        background: var(--arrow);
      }
      .arrow::before,
      .arrow::after {
        content: '';
        position: absolute;
        top: 50%;
      }
      /* Tail dot on the sender's lifeline, head on the receiver's. */
      .arrow::before {
        width: 0.5rem;
        height: 0.5rem;
        border-radius: 50%;
        background: var(--arrow);
        transform: translate(-50%, -50%);
      }
      .arrow::after {
        border: 0.38rem solid transparent;
        transform: translateY(-50%);
      }
      .msg.out .arrow::before {
        left: 0;
      }
      .msg.out .arrow::after {
        right: -0.3rem;
        border-left: 0.6rem solid var(--arrow);
        border-right-width: 0;
      }
      .msg.in .arrow::before {
        left: 100%;
      }
      .msg.in .arrow::after {
        left: -0.3rem;
        border-right: 0.6rem solid var(--arrow);
        border-left-width: 0;
      }
      .facts {
        display: flex;
        justify-content: center;
        flex-wrap: wrap;
        gap: 0.25rem 0.8rem;
        font-family: var(--wg-mono);
        font-size: 0.72rem;
        color: var(--wg-muted);
      }
      .facts b {
        font-weight: 600;
        color: var(--wg-text);
      }
      /* Text under an arrow stays between the lifelines. */
      .msg .facts,
      .msg .explain {
        margin-inline: calc(var(--tl-lifeline) - var(--tl-pad) + 0.6rem);
      }
      .explain {
        margin: 0.2rem auto 0;
        text-align: center;
        font-size: 0.78rem;
        color: var(--wg-muted);
        line-height: 1.4;
      }
      /* Something that happened on our side: a note on our lifeline. */
      .note {
        position: relative;
        margin-left: max(0rem, calc(var(--tl-lifeline) - var(--tl-pad) - 0.75rem));
        /* Ends before the peer's lifeline: this happened on our side. */
        margin-right: calc(var(--tl-lifeline) - var(--tl-pad) + 0.75rem);
        padding: 0.35rem 0.65rem;
        border: 1px solid var(--wg-border);
        border-left: 3px solid var(--wg-border-strong);
        border-radius: var(--wg-radius-sm);
        background: var(--wg-surface);
      }
      li.ok .note {
        border-left-color: var(--wg-ok);
      }
      li.warn .note {
        border-left-color: var(--wg-warn);
      }
      li.error .note {
        border-left-color: var(--wg-err);
      }
      .note .label,
      .note .facts,
      .note .explain {
        justify-content: flex-start;
        text-align: left;
        margin-left: 0;
      }
      .empty {
        padding: 2rem 1rem;
      }
      .glossary {
        margin: 1.25rem auto 0;
        max-width: 54rem;
        border-top: 1px solid var(--wg-border);
        padding-top: 0.75rem;
      }
      .glossary h3 {
        margin: 0 0 0.5rem;
        font-size: 0.8125rem;
        font-weight: 600;
      }
      .glossary dl {
        margin: 0;
        display: grid;
        grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
        gap: 0.5rem;
      }
      .glossary div {
        padding: 0.45rem 0.6rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        background: var(--wg-surface-2);
      }
      .glossary dt {
        font-weight: 600;
        font-size: 0.8125rem;
      }
      .glossary dt .mtype {
        --arrow: var(--tl-out);
        margin-right: 0.35rem;
      }
      .glossary dd {
        margin: 0.1rem 0 0;
        font-size: 0.75rem;
        color: var(--wg-muted);
      }
      .glossary dd .mono {
        color: var(--wg-text);
        font-size: 0.75rem;
      }
      @media (max-width: 40rem) {
        :host {
          --tl-lifeline: 3.6rem;
          --tl-pad: 0.5rem;
        }
        .row {
          grid-template-columns: 4.2rem minmax(0, 1fr);
          column-gap: 0.4rem;
        }
        .timehead {
          visibility: hidden;
        }
      }
    `,
  ];

  declare entries: readonly TimelineInput[];
  /** Our side's second line, e.g. the tunnel address. */
  declare localLabel: string;
  declare _version: number;
  readonly #model = new HandshakeTimeline();

  constructor() {
    super();
    this.entries = [];
    this.localLabel = '';
    this._version = 0;
  }

  /** The steps shown (for tests and automation). */
  get steps(): readonly TimelineStep[] {
    return this.#model.steps;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('entries') && this.#model.add(this.entries ?? [])) this._version++;
  }

  override render() {
    const steps = this.#model.steps;
    if (steps.length === 0) {
      return html`<p class="empty">Connect to watch the handshake: one initiation, one response, and both sides hold the same keys. Every message appears here with its size, indexes and timing.</p>
        ${this.#glossary()}`;
    }
    const took = this.#model.handshakeMs;
    const failure = this.#model.failure;
    return html`
      <div class="summary" role="status">
        ${took !== undefined
          ? html`<span class="pill ok" data-testid="handshake-took">Handshake done in ${formatInterval(took)}</span>`
          : failure
            ? html`<span class="pill err" data-testid="handshake-failed">${failure.title}</span>`
            : html`<span class="pill warn busy">Waiting for the handshake…</span>`}
        <span class="muted">${steps.length} step${steps.length === 1 ? '' : 's'} since connect</span>
        <span class="spacer"></span>
        <button type="button" class="small" @click=${this.#clear}>Clear</button>
      </div>
      <div class="diagram">
        <div class="row lanes" aria-hidden="true">
          <span class="timehead">time</span>
          <div class="actors">
            <span class="actor" title=${this.localLabel}>You (wgweb)<small>${this.localLabel.split(', ')[0] || 'this browser'}</small></span>
            <span class="actor">Peer<small>${this.#model.peerEndpoint ?? 'WireGuard endpoint'}</small></span>
          </div>
        </div>
        <ol aria-label="Handshake timeline">
          ${steps.map((s) => this.#step(s))}
        </ol>
      </div>
      ${this.#glossary()}
    `;
  }

  #step(s: TimelineStep) {
    const time = html`<div class="time">
      <span class="t">+${formatInterval(s.t)}</span>
      ${s.dt !== undefined ? html`<span class="dt" title="since the previous step">Δ ${formatInterval(s.dt)}</span>` : nothing}
    </div>`;
    const facts: unknown[] = [];
    if (s.senderIndex !== undefined) facts.push(html`<span>sender <b>${hexIndex(s.senderIndex)}</b></span>`);
    if (s.receiverIndex !== undefined) facts.push(html`<span>receiver <b>${hexIndex(s.receiverIndex)}</b></span>`);
    for (const f of s.facts) facts.push(html`<span>${f}</span>`);
    const label = html`<div class="label">
      ${s.messageType
        ? html`<span class="mtype" title="WireGuard message type ${s.messageType}">${s.messageType}</span>`
        : s.protocol === 'TLS'
          ? html`<span class="mtype tls" title="TLS with a server inside the tunnel, carried by WireGuard transport messages">TLS</span>`
          : nothing}
      <strong>${s.title}</strong>
      ${s.size !== undefined ? html`<span class="size" data-testid="size">${s.size} B</span>` : nothing}
      ${s.count > 1 ? html`<span class="count">×${s.count}</span>` : nothing}
    </div>`;
    const body =
      s.direction === 'local'
        ? html`<div class="note">${label}${facts.length ? html`<div class="facts">${facts}</div>` : nothing}<p class="explain">${s.explain}</p></div>`
        : html`<div class="msg ${s.direction}">
            ${label}
            <div class="arrow" role="img" aria-label=${`${s.direction === 'out' ? 'you → ' : ''}${s.protocol === 'TLS' ? 'server (through the peer)' : 'peer'}${s.direction === 'in' ? ' → you' : ''}`}></div>
            ${facts.length ? html`<div class="facts">${facts}</div>` : nothing}
            <p class="explain">${s.explain}</p>
          </div>`;
    return html`<li class="row ${s.highlight ?? ''}" data-type=${s.type} data-direction=${s.direction}>${time}<div class="lane">${body}</div></li>`;
  }

  #glossary() {
    return html`<section class="glossary" aria-labelledby="tl-glossary">
      <h3 id="tl-glossary">The four WireGuard messages (UDP payloads)</h3>
      <dl>
        ${MESSAGES.map(
          (m) => html`<div>
            <dt><span class="mtype">${m.type}</span>${m.name}</dt>
            <dd><span class="mono">${m.size}</span> · ${m.what}</dd>
          </div>`,
        )}
      </dl>
    </section>`;
  }

  #clear() {
    this.#model.clear();
    this._version++;
  }
}
customElements.define('wg-handshake-timeline', WgHandshakeTimeline);
