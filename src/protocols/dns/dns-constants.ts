/**
 * DNS client numbers, in the style of wireguard-go's constants.go: first what the specifications
 * fix, then wgweb's own choices with their reasons. Wire-format sizes (header, name and label
 * limits) stay with the format in dns-message.ts.
 */

// ---------------------------------------------------------------------------------------------
// Fixed by specifications
// ---------------------------------------------------------------------------------------------

/** The port DNS servers listen on (RFC 1035 §4.2), UDP and TCP. */
export const DNS_PORT = 53;

// ---------------------------------------------------------------------------------------------
// Implementation choices
// ---------------------------------------------------------------------------------------------

/** EDNS(0) UDP payload size we advertise: the DNS Flag Day 2020 value, below the tunnel MTU. */
export const EDNS_UDP_PAYLOAD_SIZE = 1232;
/** CNAME links followed within one answer before giving up (loops are also detected). */
export const MAX_CNAME_CHAIN = 16;
/** Re-queries for a CNAME target whose addresses were not in the answer. */
export const MAX_CNAME_REQUERIES = 8;
