/**
 * <wg-packet-list .source .active>: the decrypted packets inside the tunnel, live, like a packet
 * analyser's list: number, time, direction, protocol, source → destination with ports, length and
 * details (TCP flags, ICMP type, DNS question). Pause/resume recording, clear, a filter box, a
 * detail pane with a hex dump, and "Download .pcapng" for Wireshark.
 *
 *   every 500 ms while shown ──▶ source.capturePage({ offset | tail, limit, filter }) ──▶ rows
 *
 * Only the rows in view are asked for and rendered (a virtual list with fixed row height), so
 * 10,000 captured packets cost no more than 40.
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import type { CaptureRow, CaptureStatus, PacketSummary } from '../../capture/capture-api.ts';
import { saveFile, type CaptureSource } from '../controllers/capture-controller.ts';
import { formatBytes } from '../../../shared/format-bytes.ts';
import { hexDump } from '../lib/hex-dump.ts';
import { sharedStyles } from '../styles/shared-styles.ts';
import { toWgwebError } from '../tunnel-client.ts';
import { formatEndpoint } from '../../../shared/ip-address.ts';

/** Row height in px: the virtual list positions rows by it. */
const ROW = 26;
/** Rows fetched above and below the visible ones. */
const OVERSCAN = 10;
const POLL_MS = 500;

const FLAG_CLASS: Record<string, string> = { SYN: 'syn', FIN: 'fin', RST: 'rst' };

/** `10.8.0.1:80`, `[fd00::1]:443`, or the bare address. */
function endpoint(address: string, port: number | undefined): string {
  if (port === undefined) return address || '—';
  return formatEndpoint({ host: address, port });
}

export class WgPacketList extends LitElement {
  static override properties = {
    source: { attribute: false },
    active: { type: Boolean },
    _status: { state: true },
    _rows: { state: true },
    _offset: { state: true },
    _matched: { state: true },
    _filter: { state: true },
    _follow: { state: true },
    _selected: { state: true },
    _detail: { state: true },
    _error: { state: true },
    _busy: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: center;
        margin-bottom: 0.6rem;
      }
      .toolbar .filter {
        flex: 1 1 14rem;
        min-width: 10rem;
        font-family: var(--wg-mono);
        font-size: 0.8125rem;
      }
      .statusline {
        display: flex;
        flex-wrap: wrap;
        gap: 0.25rem 0.9rem;
        align-items: center;
        font-size: 0.78rem;
        color: var(--wg-muted);
        margin-bottom: 0.5rem;
      }
      .rec {
        display: inline-flex;
        align-items: center;
        gap: 0.35rem;
        font-weight: 600;
      }
      .rec::before {
        content: '';
        width: 0.55rem;
        height: 0.55rem;
        border-radius: 50%;
        background: var(--wg-muted);
      }
      .rec.on {
        color: var(--wg-err);
      }
      .rec.on::before {
        background: var(--wg-err);
        animation: pulse 1.4s ease-in-out infinite;
      }
      @keyframes pulse {
        50% {
          opacity: 0.35;
        }
      }
      .table {
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        overflow: auto;
        position: relative;
        height: clamp(18rem, 50vh, 32rem);
        background: var(--wg-surface);
        font-size: 0.78rem;
      }
      .grid {
        display: grid;
        grid-template-columns: 4.2rem 5.6rem 3rem 4.4rem minmax(9rem, 13rem) minmax(9rem, 13rem) 3.4rem minmax(18rem, 1fr);
        min-width: 62rem;
      }
      .thead {
        position: sticky;
        top: 0;
        z-index: 2;
        background: var(--wg-surface-2);
        border-bottom: 1px solid var(--wg-border);
        font-weight: 600;
        font-size: 0.72rem;
        text-transform: uppercase;
        letter-spacing: 0.03em;
        color: var(--wg-muted);
      }
      .thead > span,
      .tr > span {
        padding: 0 0.45rem;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
        line-height: ${ROW}px;
      }
      .body {
        position: relative;
        min-width: 62rem;
      }
      .tr {
        position: absolute;
        left: 0;
        right: 0;
        height: ${ROW}px;
        cursor: pointer;
        font-family: var(--wg-mono);
        border-bottom: 1px solid color-mix(in srgb, var(--wg-border) 45%, transparent);
      }
      .tr:hover {
        background: var(--wg-surface-2);
      }
      .tr[aria-selected='true'] {
        background: var(--wg-accent-soft);
        box-shadow: inset 3px 0 0 var(--wg-accent);
      }
      .tr .num,
      .tr .len {
        text-align: right;
        color: var(--wg-muted);
      }
      .dir {
        font-weight: 700;
        font-size: 0.95rem;
        text-align: center;
      }
      .dir.out {
        color: var(--wg-accent);
      }
      .dir.in {
        color: light-dark(#7246c9, #b69cff);
      }
      .proto {
        font-family: var(--wg-font);
        font-weight: 600;
        font-size: 0.7rem;
      }
      .proto b {
        display: inline-block;
        min-width: 3.2rem;
        text-align: center;
        line-height: 1.5;
        padding: 0 0.3rem;
        border-radius: 4px;
        background: var(--wg-surface-3);
      }
      .proto.TCP b {
        background: light-dark(#e3ecff, #1f2e52);
        color: light-dark(#1f47b0, #9bb3ff);
      }
      .proto.TLS b {
        background: light-dark(#fdf0d8, #3d2e12);
        color: light-dark(#8a5300, #f2c46d);
      }
      .proto.UDP b,
      .proto.DNS b {
        background: light-dark(#dcf3f0, #14302c);
        color: light-dark(#0d6e63, #6fd6c7);
      }
      .proto.ICMP b,
      .proto.ICMPv6 b {
        background: light-dark(#f1e6fb, #2c1f45);
        color: light-dark(#6b2fb3, #c7a6ff);
      }
      .flag {
        display: inline-block;
        font-size: 0.68rem;
        font-weight: 700;
        padding: 0 0.25rem;
        margin-right: 0.15rem;
        border-radius: 3px;
        background: var(--wg-surface-3);
        line-height: 1.45;
      }
      .flag.syn {
        background: var(--wg-ok-soft);
        color: var(--wg-ok);
      }
      .flag.fin {
        background: var(--wg-warn-soft);
        color: var(--wg-warn);
      }
      .flag.rst {
        background: var(--wg-err-soft);
        color: var(--wg-err);
      }
      .malformed {
        color: var(--wg-err);
      }
      .placeholder {
        position: absolute;
        inset: ${ROW}px 0 0 0;
        display: grid;
        place-items: center;
        padding: 1rem;
        text-align: center;
        color: var(--wg-muted);
        font-size: 0.8125rem;
      }
      .jump {
        position: sticky;
        bottom: 0.5rem;
        float: right;
        margin: 0 0.6rem;
        z-index: 3;
        box-shadow: var(--wg-shadow);
      }
      .detail {
        margin-top: 0.75rem;
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        padding: 0.6rem 0.75rem;
        background: var(--wg-surface-2);
      }
      .detail h3 {
        margin: 0 0 0.4rem;
        font-size: 0.8125rem;
        display: flex;
        gap: 0.5rem;
        align-items: center;
      }
      .detail h3 .spacer {
        flex: 1;
      }
      .detail dl {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 0.15rem 0.9rem;
        margin: 0 0 0.5rem;
        font-size: 0.78rem;
      }
      .detail dt {
        color: var(--wg-muted);
      }
      .detail dd {
        margin: 0;
        font-family: var(--wg-mono);
        overflow-wrap: anywhere;
      }
      .detail pre {
        margin: 0;
        max-height: 12rem;
        overflow: auto;
        padding: 0.5rem 0.6rem;
        background: var(--wg-surface);
        border: 1px solid var(--wg-border);
        border-radius: var(--wg-radius-sm);
        font-size: 0.72rem;
        line-height: 1.45;
      }
    `,
  ];

  declare source: CaptureSource | undefined;
  /** Poll only while shown. */
  declare active: boolean;
  declare _status: CaptureStatus | undefined;
  declare _rows: CaptureRow[];
  declare _offset: number;
  declare _matched: number;
  declare _filter: string;
  declare _follow: boolean;
  declare _selected: number | undefined;
  declare _detail: { row: CaptureRow; bytes: Uint8Array } | undefined;
  declare _error: string;
  declare _busy: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #inflight = false;
  #again = false;
  #generation = 0;
  #filterTimer: ReturnType<typeof setTimeout> | undefined;
  #scrollFrame = 0;
  /** The filter the rows on screen were fetched with. */
  #shownFilter = '';

  constructor() {
    super();
    this.source = undefined;
    this.active = true;
    this._status = undefined;
    this._rows = [];
    this._offset = 0;
    this._matched = 0;
    this._filter = '';
    this._follow = true;
    this._selected = undefined;
    this._detail = undefined;
    this._error = '';
    this._busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#syncTimer();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopTimer();
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('active') || changed.has('source')) {
      this.#syncTimer();
      if (this.active) void this.refresh();
    }
    if (this._follow && (changed.has('_matched') || changed.has('_rows'))) {
      const table = this.#table();
      if (table) table.scrollTop = table.scrollHeight;
    }
  }

  /** Fetches the rows in view now (the poll does this every 500 ms). */
  async refresh(): Promise<void> {
    const source = this.source;
    if (!source) return;
    if (this.#inflight) {
      this.#again = true;
      return;
    }
    this.#inflight = true;
    const generation = this.#generation;
    try {
      const table = this.#table();
      const visible = Math.ceil((table?.clientHeight ?? 24 * 16) / ROW) + 1;
      const query = this._follow
        ? { tail: true, limit: visible + OVERSCAN, filter: this._filter }
        : { offset: Math.max(0, Math.floor((table?.scrollTop ?? 0) / ROW) - OVERSCAN), limit: visible + 2 * OVERSCAN, filter: this._filter };
      const page = await source.capturePage(query);
      if (generation !== this.#generation) return;
      this._rows = page.rows;
      this.#shownFilter = query.filter;
      this._offset = page.offset;
      this._matched = page.matched;
      this._status = page.status;
      this._error = '';
    } catch (e) {
      this._error = toWgwebError(e).message;
    } finally {
      this.#inflight = false;
      if (this.#again) {
        this.#again = false;
        void this.refresh();
      }
    }
  }

  override render() {
    const st = this._status;
    const recording = st?.running ?? false;
    const table = html`<div
      class="table"
      role="table"
      aria-label="Captured packets"
      aria-rowcount=${this._matched + 1}
      tabindex="0"
      @scroll=${this.#onScroll}
      @keydown=${this.#onKeydown}
    >
      <div class="grid thead" role="row">
        <span role="columnheader">No.</span>
        <span role="columnheader">Time</span>
        <span role="columnheader" title="→ to the peer, ← from the peer">Dir</span>
        <span role="columnheader">Proto</span>
        <span role="columnheader">Source</span>
        <span role="columnheader">Destination</span>
        <span role="columnheader">Len</span>
        <span role="columnheader">Info</span>
      </div>
      <div class="body" role="rowgroup" style="height:${this._matched * ROW}px">
        ${this._rows.map((r, i) => this.#row(r, this._offset + i))}
      </div>
      ${this._matched === 0 ? html`<div class="placeholder">${this.#emptyText()}</div>` : nothing}
      ${!this._follow && this._matched > 0
        ? html`<button type="button" class="small jump" @click=${this.#jumpToLatest}>Jump to latest ↓</button>`
        : nothing}
    </div>`;
    return html`
      <div class="toolbar">
        <button type="button" class="small" ?disabled=${!this.source || this._busy} @click=${this.#toggleRecording}>
          ${recording ? 'Pause capture' : 'Resume capture'}
        </button>
        <button type="button" class="small" ?disabled=${!this.source || this._busy || !st?.packets} @click=${this.#clear}>Clear</button>
        <input
          class="filter"
          type="text"
          aria-label="Filter packets"
          placeholder="Filter: tcp · udp · icmp · port 80 · 10.8.0.1 · syn · !dns · in/out"
          spellcheck="false"
          autocomplete="off"
          .value=${this._filter}
          @input=${this.#onFilter}
        />
        <button type="button" class="small primary" ?disabled=${!this.source || this._busy || !st?.packets} @click=${this.#download}>Download .pcapng</button>
      </div>
      <div class="statusline" role="status" aria-live="off">
        <span class="rec ${recording ? 'on' : ''}" data-testid="capture-state">${recording ? 'Recording' : 'Paused'}</span>
        <span data-testid="capture-count">${this.#countText()}</span>
        ${st?.evicted ? html`<span title="The capture keeps the newest ${st.maxPackets.toLocaleString('en')} packets / ${formatBytes(st.maxBytes)}">${st.evicted.toLocaleString('en')} older dropped</span>` : nothing}
        <span>Decrypted inner IP packets, before encryption and after decryption.</span>
      </div>
      ${this._error ? html`<p class="alert err" role="alert">${this._error}</p>` : nothing}
      ${table}
      ${this.#detailPane()}
    `;
  }

  #countText(): string {
    const st = this._status;
    if (!st) return 'No capture yet';
    const held = `${st.packets.toLocaleString('en')} packet${st.packets === 1 ? '' : 's'} (${formatBytes(st.bytes)})`;
    return this.#shownFilter.trim() ? `${this._matched.toLocaleString('en')} of ${held} match` : held;
  }

  #emptyText(): string {
    if (!this.source) return 'The tunnel worker is starting…';
    if (this.#shownFilter.trim() && this._status?.packets) return `No packets match “${this.#shownFilter.trim()}”.`;
    return this._status?.running === false
      ? 'Capture is paused. Resume it to see packets.'
      : 'No packets yet. Ping or fetch something through the tunnel: every IP packet inside it shows up here, decrypted.';
  }

  #row(r: CaptureRow, position: number) {
    const s = r.summary;
    const first = this._status?.firstAt;
    const t = first !== undefined ? ((r.at - first) / 1000).toFixed(6) : '';
    return html`<div
      class="grid tr"
      role="row"
      aria-rowindex=${position + 2}
      aria-selected=${this._selected === r.index ? 'true' : 'false'}
      style="top:${position * ROW}px"
      data-index=${r.index}
      @click=${() => this.#select(r.index)}
    >
      <span class="num" role="cell">${r.index}</span>
      <span role="cell" title=${new Date(r.at).toISOString()}>${t}</span>
      <span class="dir ${r.direction}" role="cell" title=${r.direction === 'out' ? 'to the peer' : 'from the peer'}>${r.direction === 'out' ? '→' : '←'}</span>
      <span class="proto ${s.protocol}" role="cell"><b>${s.protocol}</b></span>
      <span role="cell" title=${endpoint(s.src, s.srcPort)}>${endpoint(s.src, s.srcPort)}</span>
      <span role="cell" title=${endpoint(s.dst, s.dstPort)}>${endpoint(s.dst, s.dstPort)}</span>
      <span class="len" role="cell">${r.length}</span>
      <span role="cell" class=${s.malformed ? 'malformed' : ''} title=${s.info}>${this.#info(s)}</span>
    </div>`;
  }

  /** The Info column, with TCP flags as coloured chips. */
  #info(s: PacketSummary) {
    const tcp = s.tcp;
    if (!tcp) return s.info;
    const rest = s.info.replace(/^\d+ → \d+ \[[^\]]*\] ?/, '');
    return html`${tcp.flagNames.map((f) => html`<span class="flag ${FLAG_CLASS[f] ?? ''}">${f}</span>`)} ${rest}`;
  }

  #detailPane() {
    const d = this._detail;
    if (!d) return nothing;
    const s = d.row.summary;
    const facts: [string, string][] = [
      ['Direction', d.row.direction === 'out' ? 'out: from this browser to the peer (encrypted after this point)' : 'in: from the peer (decrypted before this point)'],
      ['Time', new Date(d.row.at).toISOString().replace('T', ' ').replace('Z', ' UTC')],
      [`IPv${s.version ?? '?'}`, `${s.src || '—'} → ${s.dst || '—'}${s.ttl !== undefined ? `, ${s.version === 6 ? 'hop limit' : 'TTL'} ${s.ttl}` : ''}`],
    ];
    if (s.fragment) facts.push(['Fragment', `offset ${s.fragment.offset}, ${s.fragment.more ? 'more follow' : 'last'}, ID 0x${s.fragment.id.toString(16)}`]);
    if (s.tcp) {
      facts.push(['TCP', `${s.srcPort} → ${s.dstPort}, flags ${s.tcp.flagNames.join(' ') || 'none'}`]);
      const t = s.tcp;
      const num = (rel: number | undefined, raw: number) => (rel === undefined ? `${raw}` : `${rel} (raw ${raw})`);
      const ack = t.flagNames.includes('ACK') ? `, ack ${num(t.relativeAck, t.ack)}` : '';
      facts.push(['Sequence', `seq ${num(t.relativeSeq, t.seq)}${ack}, window ${t.window}, ${t.payloadLength} bytes of data`]);
      const opts = [
        s.tcp.mss !== undefined ? `MSS ${s.tcp.mss}` : '',
        s.tcp.windowScale !== undefined ? `window scale ${s.tcp.windowScale}` : '',
        s.tcp.sackPermitted ? 'SACK permitted' : '',
        s.tcp.sackBlocks ? `${s.tcp.sackBlocks} SACK block(s)` : '',
      ].filter(Boolean);
      if (opts.length) facts.push(['Options', opts.join(', ')]);
    }
    if (s.tls) {
      const t = s.tls;
      facts.push(['TLS', `${t.records} record${t.records === 1 ? '' : 's'} (first: ${t.contentType}, record version ${t.recordVersion})${t.continues ? ', the last continues in later segments' : ''}: ${t.messages.join(', ')}`]);
      if (t.offeredVersions) facts.push(['Client Hello', `SNI ${t.sni ?? 'none (IP address)'}, offers ${t.offeredVersions.join(', ')}${t.alpn ? `, ALPN ${t.alpn.join(', ')}` : ''}`]);
      if (t.version) facts.push([t.helloRetryRequest ? 'Hello Retry Request' : 'Server Hello', `${t.version}, ${t.cipherSuite}${t.retryGroup ? `, asks for a ${t.retryGroup} key share` : ''}`]);
      if (t.certificateSubject) facts.push(['Certificate', `CN=${t.certificateSubject}${t.certificateIssuer ? `, issued by CN=${t.certificateIssuer}` : ''}`]);
      if (t.alert) facts.push(['Alert', `${t.alert.level}: ${t.alert.description}`]);
      if (t.malformed) facts.push(['TLS problem', t.malformed]);
    }
    if (s.udpPayloadLength !== undefined) facts.push(['UDP', `${s.srcPort} → ${s.dstPort}, ${s.udpPayloadLength} bytes of data`]);
    if (s.dns) facts.push(['DNS', `${s.dns.response ? 'response' : 'query'} 0x${s.dns.id.toString(16).padStart(4, '0')}${s.dns.name ? ` ${s.dns.type} ${s.dns.name}` : ''}${s.dns.rcode ? ` ${s.dns.rcode}` : ''}${s.dns.answers ? ` → ${s.dns.answers.join(', ')}` : ''}`]);
    if (s.icmp) facts.push([s.protocol, `type ${s.icmp.type} code ${s.icmp.code}: ${s.icmp.name}${s.icmp.sequence !== undefined ? `, id 0x${s.icmp.identifier?.toString(16)} seq ${s.icmp.sequence}` : ''}`]);
    if (s.malformed) facts.push(['Problem', s.malformed]);
    const dump = hexDump(d.bytes, 4096);
    return html`<section class="detail" aria-label="Packet ${d.row.index}">
      <h3>
        <span>Packet ${d.row.index} · ${d.row.length} bytes</span>
        <span class="spacer"></span>
        <button type="button" class="small ghost" @click=${() => ((this._detail = undefined), (this._selected = undefined))}>Close</button>
      </h3>
      <dl>
        ${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}
      </dl>
      <pre aria-label="Hex dump">${dump.text}${dump.truncated ? '\n…' : ''}</pre>
    </section>`;
  }

  async #select(index: number) {
    this._selected = index;
    const source = this.source;
    if (!source) return;
    try {
      const p = await source.capturedPacket(index);
      if (this._selected !== index) return;
      this._detail = p ?? undefined;
      if (!p) this._error = `Packet ${index} has been dropped from the capture (it keeps the newest packets).`;
    } catch (e) {
      this._error = toWgwebError(e).message;
    }
  }

  #onKeydown(e: KeyboardEvent) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    if (this._rows.length === 0) return;
    e.preventDefault();
    const indexes = this._rows.map((r) => r.index);
    const at = this._selected === undefined ? -1 : indexes.indexOf(this._selected);
    const next = at < 0 ? (e.key === 'ArrowDown' ? 0 : indexes.length - 1) : Math.max(0, Math.min(indexes.length - 1, at + (e.key === 'ArrowDown' ? 1 : -1)));
    this._follow = false;
    void this.#select(indexes[next]);
    const row = this.renderRoot.querySelector<HTMLElement>(`.tr[data-index="${indexes[next]}"]`);
    row?.scrollIntoView({ block: 'nearest' });
  }

  #onScroll() {
    const table = this.#table();
    if (!table) return;
    const atBottom = table.scrollHeight - table.scrollTop - table.clientHeight < ROW;
    if (atBottom !== this._follow) this._follow = atBottom;
    cancelAnimationFrame(this.#scrollFrame);
    this.#scrollFrame = requestAnimationFrame(() => void this.refresh());
  }

  #jumpToLatest() {
    this._follow = true;
    void this.refresh();
  }

  #onFilter(e: Event) {
    this._filter = (e.target as HTMLInputElement).value;
    clearTimeout(this.#filterTimer);
    this.#filterTimer = setTimeout(() => {
      this.#generation++;
      this.#inflight = false;
      void this.refresh();
    }, 150);
  }

  async #toggleRecording() {
    const source = this.source;
    if (!source) return;
    this._busy = true;
    try {
      this._status = this._status?.running ? await source.stopCapture() : await source.startCapture();
    } catch (e) {
      this._error = toWgwebError(e).message;
    } finally {
      this._busy = false;
    }
  }

  async #clear() {
    const source = this.source;
    if (!source) return;
    this._busy = true;
    try {
      this._status = await source.clearCapture();
      this._detail = undefined;
      this._selected = undefined;
      this._follow = true;
      this.#generation++;
      this.#inflight = false;
      await this.refresh();
    } catch (e) {
      this._error = toWgwebError(e).message;
    } finally {
      this._busy = false;
    }
  }

  async #download() {
    const source = this.source;
    if (!source) return;
    this._busy = true;
    try {
      const file = await source.downloadCapture();
      saveFile(file.filename, file.bytes);
    } catch (e) {
      this._error = toWgwebError(e).message;
    } finally {
      this._busy = false;
    }
  }

  #table(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>('.table');
  }

  #syncTimer() {
    const want = this.isConnected && this.active && this.source !== undefined;
    if (want && this.#timer === undefined) {
      this.#timer = setInterval(() => {
        if (document.visibilityState !== 'hidden') void this.refresh();
      }, POLL_MS);
    } else if (!want && this.#timer !== undefined) {
      this.#stopTimer();
    }
  }

  #stopTimer() {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
customElements.define('wg-packet-list', WgPacketList);
