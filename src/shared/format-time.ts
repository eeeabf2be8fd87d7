/**
 * Time as the status panel and the event log show it: short, `wg show`-like, no locale surprises.
 */

/** Whole-unit duration: `0 s`, `12 s`, `1 min 5 s`, `2 h 3 min`, `3 d 4 h`. Negative counts as 0. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  let s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return s > 0 ? `${m} min ${s} s` : `${m} min`;
  return `${s} s`;
}

/**
 * How long ago `then` was: `12 s ago`, `1 min 5 s ago`; `never` when absent; `just now` within the
 * first second or when the clock says it is in the future (skew between page and worker).
 */
export function formatAgo(then: number | undefined, now: number): string {
  if (then === undefined || !Number.isFinite(then) || then <= 0) return 'never';
  const diff = now - then;
  if (diff < 1000) return 'just now';
  return `${formatDuration(diff)} ago`;
}

/** A measured interval: `0.42 ms`, `12.3 ms`, `142 ms`, `1.24 s`, `12.4 s`. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/** `HH:MM:SS` in the viewer's local time, for log lines. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/**
 * The relay's round-trip time as far as the page can tell: the WebSocket's open time spans a TCP
 * handshake and the HTTP upgrade (two round trips), plus a TLS 1.3 handshake (one more) for wss.
 */
export function relayRttText(url: string, openMs: number): string {
  const trips = url.startsWith('wss:') || url.startsWith('https:') ? 3 : 2;
  return `≈ ${(openMs / trips).toFixed(openMs / trips < 10 ? 1 : 0)} ms (WebSocket opened in ${openMs} ms, ${trips} round trips)`;
}
