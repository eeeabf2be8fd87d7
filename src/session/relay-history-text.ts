/**
 * One line of the status card's relay history in plain words (#17 item 4): which relay took over
 * and why, e.g. "fastest of 2 relays, opened in 3.1 ms" or "127.0.0.1:8081 drained (1012 service
 * restart); moved here, opened in 4.2 ms".
 */
import type { RelayHistoryEntry } from './relay-history.ts';
import { describeCloseCode } from '../shared/relay-protocol.ts';
import { formatMs } from '../shared/format-time.ts';

/** `host:port` of a relay URL (the whole text when it does not parse). */
export function relayHost(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/** "1012 service restart", "1006 no close frame": the code and its name in words. */
function closeText(code: number): string {
  // RFC 6455 §7.1.5: 1006 is never sent; it means the connection ended without a close frame
  // (the relay process died, the network went away).
  if (code === 1006) return '1006 no close frame';
  const name = describeCloseCode(code).name;
  return name === 'UNKNOWN' ? String(code) : `${code} ${name.toLowerCase().replace(/_/g, ' ')}`;
}

/** Why the relay of `e` took over, and how fast it opened. */
export function relayMoveText(e: RelayHistoryEntry): string {
  const rtt = e.rttMs !== undefined ? `opened in ${formatMs(e.rttMs)}` : '';
  let why: string;
  if (e.reason === 'start') why = e.of && e.of > 1 ? `fastest of ${e.of} relays` : 'connected';
  else {
    const code = e.closeCode !== undefined ? ` (${closeText(e.closeCode)})` : '';
    const what = e.reason === 'drained' ? `drained${code}` : `lost${code}`;
    why = e.from ? `${relayHost(e.from)} ${what}; moved here` : `connection ${what}; reconnected`;
  }
  return rtt ? `${why}, ${rtt}` : why;
}
