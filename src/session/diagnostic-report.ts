/**
 * The diagnostic report (issue #15 item 7): what a user attaches to a ticket, as plain JSON data
 * that report-html.ts turns into one self-contained HTML page.
 *
 *   Session.report(runtime) ──▶ buildDiagnosticReport(parts, secrets)
 *     config (re-formatted, PrivateKey and PresharedKey replaced) · status · relay counters ·
 *     event log · last result of each tool · quality history · counters · peer checks (CLI)
 *     ──▶ every string scrubbed of the secrets ──▶ DiagnosticReport
 *
 * Secrets never leave: the config is written from the parsed form with the key lines replaced,
 * and, as a second guard, every string of the finished report has each secret (the private key
 * and preshared keys in base64) replaced, wherever some message might have quoted one.
 */
import { formatWgQuickConfig, type WgQuickConfig } from '../shared/wg-quick-config.ts';
import { toBase64 } from '../shared/bytes.ts';
import type { QualityHistorySnapshot } from './quality-history.ts';
import type { SessionEvent, TunnelStatus } from './session-types.ts';
import type { ToolRecord } from './tool-record.ts';

/** The `format` field: bumped when a field changes meaning. */
export const REPORT_FORMAT = 'wgweb-diagnostic-report/1';

/** What replaces a secret in the report. */
export const REDACTED = '(redacted)';

/** Where the report was made. */
export interface ReportRuntime {
  /** The wgweb version (package.json). */
  wgwebVersion: string;
  /** 'browser' (the app's tunnel worker) or 'node' (the CLI). */
  kind: 'browser' | 'node';
  /** The browser's user agent; Node: `node/v22.x (linux x64)`. */
  userAgent: string;
}

/** The CLI's short check of one peer (`wgweb report`): handshake and ping. */
export interface PeerCheck {
  publicKey: string;
  endpoint: string;
  handshake: 'done' | 'no answer';
  /** The address pinged (a host inside the peer's AllowedIPs), when one was. */
  pinged?: string;
  pingReceived?: number;
  pingSent?: number;
  pingRttAvgMs?: number;
  note?: string;
}

/** A relay session's counters as the report shows them. */
export interface ReportRelay {
  url: string;
  state: string;
  protocol: string;
  rttMs?: number;
  relayMoves: number;
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Bytes waiting in the relay WebSocket when the report was made, and the most a send saw. */
  bufferedAmount?: number;
  bufferedAmountPeak?: number;
  drops: Record<string, number>;
}

export interface DiagnosticReport {
  format: typeof REPORT_FORMAT;
  /** ISO 8601 UTC. */
  generatedAt: string;
  runtime: ReportRuntime;
  /** The config as wg-quick text, keys replaced; `redacted` names what was replaced. */
  config: { text: string; redacted: string[] };
  status: TunnelStatus;
  relays: ReportRelay[];
  /** The event log, oldest first. */
  events: SessionEvent[];
  /** The last run of each tool, in {@link TOOL_NAMES} order. */
  tools: ToolRecord[];
  quality: QualityHistorySnapshot;
  /** Peer checks (the CLI's `wgweb report`); empty from the app. */
  checks: PeerCheck[];
  /** Every layer's counters (Session.diagnostics()). */
  counters: Record<string, unknown>;
}

/** The parts a report is made of, as the Session gathers them. */
export type ReportParts = Omit<DiagnosticReport, 'format' | 'generatedAt' | 'config'> & { config: WgQuickConfig; generatedAt: number };

/** The config as wg-quick text with PrivateKey and PresharedKey replaced by {@link REDACTED}. */
export function redactedConfigText(config: WgQuickConfig): { text: string; redacted: string[] } {
  const redacted = ['PrivateKey'];
  if (config.peers.some((p) => p.presharedKey)) redacted.push('PresharedKey');
  const text = formatWgQuickConfig(config).replace(/^(PrivateKey|PresharedKey) = .*$/gm, `$1 = ${REDACTED}`);
  return { text, redacted };
}

/** The base64 form of every secret in `config` (what must never appear in a report). */
export function configSecrets(config: WgQuickConfig): string[] {
  return [config.interface.privateKey, ...config.peers.map((p) => p.presharedKey)]
    .filter((k): k is Uint8Array => k !== undefined && k.length > 0 && k.some((b) => b !== 0))
    .map((k) => toBase64(k));
}

/** Assembles the report; see the module comment. */
export function buildDiagnosticReport(parts: ReportParts): DiagnosticReport {
  const secrets = configSecrets(parts.config);
  const report: DiagnosticReport = {
    format: REPORT_FORMAT,
    generatedAt: new Date(parts.generatedAt).toISOString(),
    runtime: parts.runtime,
    config: redactedConfigText(parts.config),
    status: parts.status,
    relays: parts.relays,
    events: parts.events,
    tools: parts.tools,
    quality: parts.quality,
    checks: parts.checks,
    counters: parts.counters,
  };
  return scrub(report, secrets) as DiagnosticReport;
}

/** A copy of `value` (plain data) with each secret replaced in every string and key. */
function scrub(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') {
    let s = value;
    for (const secret of secrets) if (s.includes(secret)) s = s.split(secret).join(REDACTED);
    return s;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets));
  if (value instanceof Uint8Array) return `(${value.length} bytes)`;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined && typeof v !== 'function') out[scrub(k, secrets) as string] = scrub(v, secrets);
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  return value;
}
