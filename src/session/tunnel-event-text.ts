/**
 * Protocol events in plain words, for the event log, the CLI's `--verbose` output and the
 * teaching timeline. The `detail` keeps the numbers (sizes, indexes, timings) the timeline draws.
 */
import { formatEndpoint, type Endpoint } from '../shared/ip-address.ts';
import type { TunnelEvent } from '../wireguard/tunnel.ts';

/** A core event as a log line; `at` is added by the caller (epoch ms). */
export interface EventText {
  type: string;
  level: 'info' | 'warn' | 'error';
  message: string;
  detail: Record<string, unknown>;
}

const ep = (e: Endpoint | undefined): string => (e ? formatEndpoint(e) : 'unknown endpoint');
const hex = (n: number): string => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

const REKEY_WHY: Record<string, string> = {
  'rekey-after-time': 'the session keys are 120 s old (REKEY_AFTER_TIME)',
  'rekey-after-messages': 'the session keys sent too many messages (REKEY_AFTER_MESSAGES)',
  'rekey-before-reject': 'the keys near REJECT_AFTER_TIME (180 s) while data still arrives',
  'no-reply': 'data was sent and nothing came back for 15 s',
  'key-expired': 'the session keys expired',
};

/** Describes one core event. */
export function describeTunnelEvent(e: TunnelEvent): EventText {
  const { type, peer, at, ...rest } = e;
  // `at` on the core's monotonic clock, unrounded: the handshake timeline measures the steps with it.
  const detail: Record<string, unknown> = { peer, ...rest, monotonicMs: at };
  if ('endpoint' in rest) detail.endpoint = ep(rest.endpoint as Endpoint | undefined);
  const info = (message: string): EventText => ({ type, level: 'info', message, detail });
  switch (e.type) {
    case 'handshake-initiation-sent':
      return info(
        `Handshake initiation sent to ${ep(e.endpoint)} (${e.size} bytes, sender index ${hex(e.senderIndex)}${e.attempt > 1 ? `, attempt ${e.attempt}` : ''}${e.mac2 ? ', with cookie MAC2' : ''}).`,
      );
    case 'handshake-initiation-received':
      return info(`Handshake initiation received from ${ep(e.endpoint)} (${e.size} bytes).`);
    case 'handshake-response-sent':
      return info(`Handshake response sent to ${ep(e.endpoint)} (${e.size} bytes).`);
    case 'handshake-response-received':
      return info(
        `Handshake answered by ${ep(e.endpoint)} (${e.size} bytes${e.rttMs !== undefined ? `, ${e.rttMs.toFixed(1)} ms after the initiation` : ''}).`,
      );
    case 'cookie-reply-sent':
      return info(`Under load: sent a cookie reply to ${ep(e.endpoint)} instead of a handshake response.`);
    case 'cookie-reply-received':
      return {
        type,
        level: 'warn',
        message: `The peer is under load and sent a cookie reply; the next initiation carries MAC2.`,
        detail,
      };
    case 'session-established':
      return info(`Session established as ${e.role}: keys derived, data can flow.`);
    case 'session-confirmed':
      return info('Session confirmed by the first data packet from the initiator.');
    case 'keepalive-sent':
      return info(
        e.reason === 'persistent'
          ? 'Persistent keepalive sent.'
          : e.reason === 'handshake-complete'
            ? 'Keepalive sent to confirm the new session.'
            : e.reason === 'endpoint-changed'
              ? 'Keepalive sent so the peer learns our new relay address at once.'
              : 'Keepalive sent (data arrived and nothing went back for 10 s).',
      );
    case 'keepalive-received':
      return info('Keepalive received.');
    case 'rekey-started':
      return info(`Rekeying: ${REKEY_WHY[e.reason] ?? e.reason}.`);
    case 'handshake-retry':
      return {
        type,
        level: 'warn',
        message: `No handshake response yet after ${(e.elapsedMs / 1000).toFixed(0)} s; retrying (attempt ${e.attempt}).`,
        detail,
      };
    case 'handshake-failed':
      return { type, level: 'error', message: e.message, detail };
    case 'keys-expired':
      return info(`The ${e.slot} session keys expired after ${(e.ageMs / 1000).toFixed(0)} s.`);
    case 'keys-zeroed':
      return info('All session keys were erased after 9 minutes without a new handshake.');
    case 'endpoint-changed':
      return info(`Peer endpoint is now ${ep(e.to)}${e.from ? ` (was ${ep(e.from)})` : ''}.`);
    default:
      return info(type);
  }
}
