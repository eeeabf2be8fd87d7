/**
 * A TLS client's teaching event (src/protocols/tls/tls-client.ts, tls-connector.ts) as a session
 * event: type `tls-<kind>`, the host and port it belongs to in the message, and the event's facts
 * (SNI, version, suite, ALPN, certificate subject/issuer/verdict, alert) in `detail` for the
 * teaching timeline (src/browser/ui/lib/handshake-timeline.ts).
 */
import type { TlsEvent } from '../protocols/tls/tls-client.ts';
import type { EventText } from './tunnel-event-text.ts';

/** Describes one TLS event of a connection to `host`:`port`. */
export function describeTlsEvent(host: string, port: number, e: TlsEvent): EventText {
  return {
    type: `tls-${e.kind}`,
    level: e.kind === 'alert-sent' || e.kind === 'alert-received' || e.warn ? 'warn' : 'info',
    message: `${host}:${port}: ${e.text}`,
    detail: { host, port, ...e.detail },
  };
}
