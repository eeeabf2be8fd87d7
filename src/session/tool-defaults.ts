/**
 * The defaults of the Session's diagnostic tools, in one place for everything that shows or
 * applies them: the Session methods, the `wgweb` commands (their help text and deadlines) and the
 * UI cards. Imports nothing, so the page can use it without pulling the stack in. Traceroute's
 * live beside its walk (`TRACEROUTE_DEFAULTS` in traceroute.ts).
 */

/** `Session.ping` and `wgweb ping`: as ping(8) (-c 4 here, where ping(8) runs until stopped). */
export const PING_DEFAULTS = {
  /** Echo requests sent (-c). */
  count: 4,
  /** Between two requests, ms (-i 1). */
  intervalMs: 1000,
  /** Wait for each reply, ms (-W 2). */
  timeoutMs: 2000,
} as const;

/** `Session.tcping` / `tcpingPorts` and `wgweb tcping`. */
export const TCPING_DEFAULTS = {
  /** Connection attempts to one port (-c). */
  count: 1,
  /** Wait for one connection, ms (-W 5). */
  timeoutMs: 5000,
  /** Wait for each port of a port list, ms: a closed port answers at once, a filtered one costs the whole wait. */
  portListTimeoutMs: 2000,
} as const;

/** `Session.mtu` and `wgweb mtu`. */
export const MTU_DEFAULTS = {
  /** Wait for each probe, ms (-W 1). */
  timeoutMs: 1000,
  /** Probes per size before silence counts as too big. */
  tries: 2,
} as const;
