/**
 * <wg-learn .entries .capture .localLabel>: the "Inside the tunnel" card, full width under the
 * tools: a tab with the handshake as a sequence diagram (wg-handshake-timeline) and a tab with the
 * live list of decrypted packets (wg-packet-list). Panels are hidden, not removed, so the timeline
 * keeps its history; the packet list polls the worker only while its tab is shown.
 */
import { LitElement, css, html } from 'lit';
import type { CaptureSource } from '../controllers/capture-controller.ts';
import type { TimelineInput } from '../lib/handshake-timeline.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { panelId, renderTablist, tabId } from './tablist.ts';
import './wg-handshake-timeline.ts';
import './wg-packet-list.ts';

const TABS = [
  { id: 'handshake', label: 'Handshake' },
  { id: 'packets', label: 'Packets' },
];

export class WgLearn extends LitElement {
  static override properties = {
    entries: { attribute: false },
    capture: { attribute: false },
    localLabel: { attribute: false },
    _tab: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        /* Full width in wg-app's two-column grid. */
        grid-column: 1 / -1;
        min-width: 0;
      }
      .card-head {
        flex-wrap: wrap;
      }
      .card-head p {
        margin: 0;
        font-size: 0.78rem;
        color: var(--wg-muted);
      }
    `,
  ];

  declare entries: readonly TimelineInput[];
  declare capture: CaptureSource | undefined;
  declare localLabel: string;
  declare _tab: string;

  constructor() {
    super();
    this.entries = [];
    this.capture = undefined;
    this.localLabel = '';
    this._tab = 'handshake';
  }

  /** Shows a tab (`handshake` or `packets`). */
  show(tab: 'handshake' | 'packets'): void {
    this._tab = tab;
  }

  override render() {
    const panel = (id: string, body: unknown) =>
      html`<div role="tabpanel" id=${panelId('learn', id)} aria-labelledby=${tabId('learn', id)} ?hidden=${this._tab !== id}>${body}</div>`;
    return html`<section class="card" aria-labelledby="learn-title">
      <div class="card-head">
        <h2 id="learn-title">Inside the tunnel</h2>
        <p>What WireGuard sends, step by step, and the packets it carries.</p>
        <span class="spacer"></span>
        ${renderTablist({ label: 'Inside the tunnel', tabs: TABS, selected: this._tab, idPrefix: 'learn', onSelect: (id) => (this._tab = id) })}
      </div>
      <div class="card-body">
        ${panel('handshake', html`<wg-handshake-timeline .entries=${this.entries} .localLabel=${this.localLabel}></wg-handshake-timeline>`)}
        ${panel('packets', html`<wg-packet-list .source=${this.capture} ?active=${this._tab === 'packets'}></wg-packet-list>`)}
      </div>
    </section>`;
  }
}
customElements.define('wg-learn', WgLearn);
