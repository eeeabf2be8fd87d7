/**
 * The site's pictures, drawn in code: the logo (served as /logo.svg) and the packet-path diagram
 * (inline SVG, coloured by classes in style.css so it follows the light/dark scheme).
 */
import { escapeHtml } from '../../../shared/escape-html.ts';
import { raw, type SafeHtml } from './html.ts';

/** A tunnel mouth with a packet going through it. Standalone SVG with its own scheme colours. */
export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img" aria-label="wgweb demo intranet">
<style>
.bg{fill:#8a1c2b}.arch{fill:none;stroke:#fff;stroke-width:4;stroke-linecap:round}.inner{fill:none;stroke:#f3c4cb;stroke-width:3;stroke-linecap:round}.pkt{fill:#fff}
@media (prefers-color-scheme: dark){.bg{fill:#ff7b8a}.arch{stroke:#12151b}.inner{stroke:#5a1e28}.pkt{fill:#12151b}}
</style>
<rect class="bg" x="2" y="2" width="60" height="60" rx="14"/>
<path class="arch" d="M12 50V32a20 20 0 0 1 40 0v18"/>
<path class="inner" d="M21 50V33a11 11 0 0 1 22 0v17"/>
<rect class="pkt" x="27" y="38" width="10" height="8" rx="1.5"/>
</svg>
`;

export interface PathLabels {
  /** The visitor's tunnel address and TCP port, e.g. `10.44.0.2:49152`. */
  visitor: string;
  /** The relay's UDP socket as the demo peer sees it, e.g. `127.0.0.1:40123`. */
  relayUdp: string;
  /** The demo peer's UDP endpoint, e.g. `127.0.0.1:51820`. */
  peerUdp: string;
  /** The demo peer's tunnel address and port, e.g. `10.44.0.1:80`. */
  server: string;
}

interface Box {
  x: number;
  y: number;
  title: string;
  lines: string[];
}

const W = 230;
const H = 92;

function box(b: Box, highlight = false): string {
  const text = [b.title, ...b.lines]
    .map((t, i) => `<text x="${b.x + 14}" y="${b.y + 26 + i * 20}" class="${i === 0 ? 'dg-title' : 'dg-line'}">${escapeHtml(t)}</text>`)
    .join('');
  return `<rect x="${b.x}" y="${b.y}" width="${W}" height="${H}" rx="12" class="${highlight ? 'dg-box dg-here' : 'dg-box'}"/>${text}`;
}

function arrow(x1: number, y1: number, x2: number, y2: number, label: string, lx: number, ly: number): string {
  return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" class="dg-arrow" marker-end="url(#dg-head)"/><text x="${lx}" y="${ly}" class="dg-label" text-anchor="middle">${escapeHtml(label)}</text>`;
}

/**
 * The path of one request, as a two-row diagram: the visitor's side on top (left to right), the
 * demo peer's side below (right to left), joined by the relay's UDP hop.
 */
export function pathDiagram(l: PathLabels): SafeHtml {
  const top = 20;
  const bottom = 200;
  const xs = [20, 365, 710];
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 960 320" role="img" aria-label="The path of your packets from your browser to this page and back">`,
    `<defs><marker id="dg-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" class="dg-headfill"/></marker></defs>`,
    box({ x: xs[0], y: top, title: 'Your browser tab', lines: ['fetch() in the wgweb UI', 'page ⇄ worker: comlink'] }),
    box({ x: xs[1], y: top, title: 'Web Worker', lines: ['TCP/IP → WireGuard', `you: ${l.visitor}`] }),
    box({ x: xs[2], y: top, title: 'wgweb relay', lines: ['WebSocket ⇄ UDP', `UDP from ${l.relayUdp}`] }),
    arrow(xs[0] + W, top + H / 2, xs[1] - 4, top + H / 2, 'postMessage', (xs[0] + W + xs[1]) / 2, top + H / 2 - 10),
    arrow(xs[1] + W, top + H / 2, xs[2] - 4, top + H / 2, 'WebSocket', (xs[1] + W + xs[2]) / 2, top + H / 2 - 10),
    arrow(xs[2] + W / 2, top + H, xs[2] + W / 2, bottom - 4, `UDP → ${l.peerUdp}`, xs[2] + W / 2, (top + H + bottom) / 2 + 5),
    box({ x: xs[2], y: bottom, title: 'Demo: WireGuard', lines: ['decrypt, replay check', 'AllowedIPs: is it you?'] }),
    box({ x: xs[1], y: bottom, title: 'Demo: TCP/IP', lines: ['IP → TCP port 80', 'same TypeScript stack'] }),
    box({ x: xs[0], y: bottom, title: 'HTTP server', lines: [`this page, ${l.server}`, 'answered the same way back'] }, true),
    arrow(xs[2], bottom + H / 2, xs[1] + W + 4, bottom + H / 2, 'IP packet', (xs[1] + W + xs[2]) / 2, bottom + H / 2 - 10),
    arrow(xs[1], bottom + H / 2, xs[0] + W + 4, bottom + H / 2, 'byte stream', (xs[0] + W + xs[1]) / 2, bottom + H / 2 - 10),
    `</svg>`,
  ];
  return raw(parts.join(''));
}

/** Diagram colours (appended to the stylesheet). */
export const DIAGRAM_CSS = `
.dg-box { fill: var(--card); stroke: var(--line); stroke-width: 2; }
.dg-here { stroke: var(--accent); stroke-width: 3; }
.dg-title { fill: var(--fg); font: 600 17px system-ui, sans-serif; }
.dg-line { fill: var(--muted); font: 14px system-ui, sans-serif; }
.dg-label { fill: var(--muted); font: 13px system-ui, sans-serif; }
.dg-arrow { stroke: var(--accent); stroke-width: 2.5; }
.dg-headfill { fill: var(--accent); }
`;
