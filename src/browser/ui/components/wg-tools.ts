/**
 * <wg-tools .tunnel .connected>: the "Tools" card, one tab per tool that works through the
 * tunnel: ping, DNS lookup, TCP port check (lists and ranges), HTTP request, SSH consoles, throughput (iperf3), traceroute. Tools keep their results when you switch
 * tabs (panels are hidden, not removed).
 */
import { LitElement, css, html, nothing } from 'lit';
import type { TunnelTools } from '../controllers/tunnel-controller.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { panelId, renderTablist, tabId } from './tablist.ts';
import './wg-dns-tool.ts';
import './wg-http-tool.ts';
import './wg-iperf3-tool.ts';
import './wg-ping-tool.ts';
import './wg-tcping-tool.ts';
import './wg-ssh-tool.ts';
import './wg-traceroute-tool.ts';
import type { SshTarget } from '../automation.ts';

const TABS = [
  { id: 'ping', label: 'Ping' },
  { id: 'dns', label: 'DNS' },
  { id: 'tcp', label: 'TCP ports' },
  { id: 'http', label: 'HTTP' },
  { id: 'ssh', label: 'SSH' },
  { id: 'iperf3', label: 'Throughput' },
  { id: 'trace', label: 'Traceroute' },
];

export class WgTools extends LitElement {
  static override properties = {
    tunnel: { attribute: false },
    ssh: { attribute: false },
    sshKnownHosts: { attribute: false },
    connected: { type: Boolean },
    _tab: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .card-head {
        flex-wrap: wrap;
      }
      .note {
        margin: 0 0 0.9rem;
      }
    `,
  ];

  declare tunnel: TunnelTools | undefined;
  declare ssh: SshTarget | undefined;
  /** The known SSH hosts (known_hosts lines) the page keeps with the profile. */
  declare sshKnownHosts: string;
  declare connected: boolean;
  declare _tab: string;

  constructor() {
    super();
    this.tunnel = undefined;
    this.ssh = undefined;
    this.sshKnownHosts = '';
    this.connected = false;
    this._tab = 'ping';
  }

  override render() {
    const panel = (id: string, body: unknown) =>
      html`<div role="tabpanel" id=${panelId('tools', id)} aria-labelledby=${tabId('tools', id)} ?hidden=${this._tab !== id}>${body}</div>`;
    return html`<section class="card" aria-labelledby="tools-title">
      <div class="card-head">
        <h2 id="tools-title">Tools</h2>
        <span class="spacer"></span>
        ${renderTablist({ label: 'Tools', tabs: TABS, selected: this._tab, idPrefix: 'tools', onSelect: (id) => (this._tab = id) })}
      </div>
      <div class="card-body">
        ${this.connected ? nothing : html`<p class="alert info note">These tools work through the tunnel: connect first.</p>`}
        ${panel('ping', html`<wg-ping-tool .tunnel=${this.tunnel} ?connected=${this.connected}></wg-ping-tool>`)}
        ${panel('dns', html`<wg-dns-tool .tunnel=${this.tunnel} ?connected=${this.connected}></wg-dns-tool>`)}
        ${panel('tcp', html`<wg-tcping-tool .tunnel=${this.tunnel} ?connected=${this.connected}></wg-tcping-tool>`)}
        ${panel('http', html`<wg-http-tool .tunnel=${this.tunnel} ?connected=${this.connected}></wg-http-tool>`)}
        ${panel('ssh', html`<wg-ssh-tool .ssh=${this.ssh} .knownHosts=${this.sshKnownHosts} ?connected=${this.connected}></wg-ssh-tool>`)}
        ${panel('iperf3', html`<wg-iperf3-tool .tunnel=${this.tunnel} ?connected=${this.connected}></wg-iperf3-tool>`)}
        ${panel('trace', html`<wg-traceroute-tool .tunnel=${this.tunnel} ?connected=${this.connected}></wg-traceroute-tool>`)}
      </div>
    </section>`;
  }
}
customElements.define('wg-tools', WgTools);
