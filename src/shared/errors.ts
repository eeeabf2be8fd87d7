/**
 * Errors that cross a user-facing boundary (CLI, UI, relay) carry a stable `code` so that scripts,
 * tests and the UI can react to them, and a message that tells the user what to check.
 *
 * The three tiers used across wgweb:
 * 1. bad caller input: `TypeError` / `RangeError` with a precise message (programming errors);
 * 2. bad packets from the network: dropped and counted by reason, never thrown;
 * 3. boundary errors: `WgwebError` with a `code` from {@link ErrorCode}.
 */

/** Stable error codes. Add new ones at the end; never rename. */
export const ErrorCode = {
  CONFIG_INVALID: 'CONFIG_INVALID',
  CONFIG_UNREADABLE: 'CONFIG_UNREADABLE',
  KEY_INVALID: 'KEY_INVALID',
  RELAY_UNREACHABLE: 'RELAY_UNREACHABLE',
  RELAY_REFUSED: 'RELAY_REFUSED',
  RELAY_CLOSED: 'RELAY_CLOSED',
  HANDSHAKE_TIMEOUT: 'HANDSHAKE_TIMEOUT',
  NO_ROUTE: 'NO_ROUTE',
  NOT_CONNECTED: 'NOT_CONNECTED',
  TIMEOUT: 'TIMEOUT',
  CONNECTION_REFUSED: 'CONNECTION_REFUSED',
  CONNECTION_RESET: 'CONNECTION_RESET',
  HOST_UNREACHABLE: 'HOST_UNREACHABLE',
  DNS_NXDOMAIN: 'DNS_NXDOMAIN',
  DNS_FAILURE: 'DNS_FAILURE',
  DNS_TIMEOUT: 'DNS_TIMEOUT',
  HTTP_PROTOCOL: 'HTTP_PROTOCOL',
  HTTP_CLOSED_EARLY: 'HTTP_CLOSED_EARLY',
  ABORTED: 'ABORTED',
  USAGE: 'USAGE',
  INTERNAL: 'INTERNAL',
  /** The server did not accept the WebSocket opening handshake (RFC 6455 §4.1). */
  WEBSOCKET_HANDSHAKE: 'WEBSOCKET_HANDSHAKE',
  /** The TLS handshake failed: no common parameters, a bad message, a fatal alert, or the server closed. */
  TLS_HANDSHAKE_FAILED: 'TLS_HANDSHAKE_FAILED',
  /** The server speaks no TLS version wgweb offers (TLS 1.2 and 1.3). */
  TLS_PROTOCOL_VERSION: 'TLS_PROTOCOL_VERSION',
  /** An established TLS connection broke: a record failed authentication or the peer sent a fatal alert. */
  TLS_PROTOCOL: 'TLS_PROTOCOL',
  TLS_CERT_UNTRUSTED: 'TLS_CERT_UNTRUSTED',
  TLS_CERT_EXPIRED: 'TLS_CERT_EXPIRED',
  TLS_CERT_NOT_YET_VALID: 'TLS_CERT_NOT_YET_VALID',
  TLS_HOSTNAME_MISMATCH: 'TLS_HOSTNAME_MISMATCH',
  TLS_PIN_CHANGED: 'TLS_PIN_CHANGED',
  TLS_CERT_INVALID: 'TLS_CERT_INVALID',
  /** The relay accepted the connection but is full: --max-sessions (4003) or the per-client limit (4008). */
  RELAY_FULL: 'RELAY_FULL',
  /** A server could not listen on its address (in use, not on this machine, or a privileged port). */
  LISTEN_FAILED: 'LISTEN_FAILED',
  /** The SSH server's host key is not in the known hosts and none was given: `detail.fingerprint` is what `ssh` would show. */
  SSH_HOST_KEY_UNKNOWN: 'SSH_HOST_KEY_UNKNOWN',
  /** The SSH server's host key differs from the one on record: possible man-in-the-middle, hard refusal. */
  SSH_HOST_KEY_CHANGED: 'SSH_HOST_KEY_CHANGED',
  /** The SSH server refused every authentication method tried. */
  SSH_AUTH_FAILED: 'SSH_AUTH_FAILED',
  /** The SSH handshake or connection failed: no common algorithm, a bad packet, a MAC failure, a disconnect. */
  SSH_PROTOCOL: 'SSH_PROTOCOL',
  /** An SSH private key could not be read: unknown format, wrong passphrase, unsupported type. */
  SSH_KEY_INVALID: 'SSH_KEY_INVALID',
  /** An iperf3 test failed: the server was busy, reported an error, or spoke something else. */
  IPERF3_FAILED: 'IPERF3_FAILED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error meant for a user: a stable code plus an actionable message. */
export class WgwebError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable detail (e.g. the config line, the relay close code). */
  readonly detail: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, detail: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WgwebError';
    this.code = code;
    this.detail = detail;
  }

  /** Plain-data form, safe to post across a worker boundary or print as JSON. */
  toJSON(): { code: ErrorCode; message: string; detail: Record<string, unknown> } {
    return { code: this.code, message: this.message, detail: this.detail };
  }
}

/** True when `e` is a {@link WgwebError} (or its plain-data form) with the given code. */
export function hasErrorCode(e: unknown, code: ErrorCode): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/**
 * An unexpected error for a log line: name and message only (no stack), bounded, control
 * characters replaced (the message may quote hostile input).
 */
export function describeError(e: unknown): string {
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.slice(0, 300).replace(/[\x00-\x1f\x7f]/g, '?');
}
