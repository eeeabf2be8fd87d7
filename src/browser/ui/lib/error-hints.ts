/**
 * What to check when something fails, by `WgwebError` code: shown under a failed connect and next
 * to error lines in the event log. Plain words, most likely cause first.
 */
const HINTS: Record<string, string[]> = {
  CONFIG_INVALID: ['Fix the lines marked in the config editor.'],
  CONFIG_UNREADABLE: ['Open the file in a text editor: a wg-quick config is plain text with [Interface] and [Peer] sections.'],
  KEY_INVALID: ['Keys are 44 characters of base64 ending in "=", as printed by wg genkey and wg pubkey.'],
  RELAY_UNREACHABLE: [
    'Is the relay running? Start it with: npx wgweb relay',
    'Does the relay URL point at it (default: this page\'s server, path /wg)?',
    'Behind a reverse proxy, WebSocket upgrades must be forwarded.',
  ],
  RELAY_REFUSED: [
    'The relay only forwards to endpoints it allows: start it with --allow host:port for your server.',
    'Check the Endpoint line in [Peer].',
  ],
  RELAY_CLOSED: ['The relay closed the connection: check its log for the reason.', 'wgweb reconnects by itself if it can.'],
  HANDSHAKE_TIMEOUT: [
    'Has the server got a [Peer] with your public key? (see "Your public key" under the config)',
    'Is PublicKey in [Peer] the server\'s public key (wg show on the server)?',
    'Can the relay reach the Endpoint over UDP (firewall, port)?',
    'If the server uses a PresharedKey, it must match on both sides.',
  ],
  NO_ROUTE: ['The address is not in any peer\'s AllowedIPs: add it there, or use an address inside the tunnel.'],
  NOT_CONNECTED: ['Connect first: paste a config and press Connect.'],
  TIMEOUT: ['No answer in time: is the host up, and does the server route or NAT the tunnel\'s traffic to it?'],
  CONNECTION_REFUSED: ['The host answered but nothing listens on that port.'],
  CONNECTION_RESET: ['The server reset the connection: check the service\'s log.'],
  HOST_UNREACHABLE: ['The server reported the host unreachable: check the server\'s routes and forwarding (net.ipv4.ip_forward).'],
  DNS_NXDOMAIN: ['The name does not exist: check the spelling.'],
  DNS_FAILURE: ['Check the DNS line in [Interface]: the server there must answer through the tunnel.'],
  DNS_TIMEOUT: ['No answer from the DNS server: is its address reachable through the tunnel (AllowedIPs)?'],
  HTTP_PROTOCOL: ['The server did not speak HTTP/1.1 as expected: is it an HTTP (not HTTPS) port?'],
  HTTP_CLOSED_EARLY: ['The server closed the connection before the response ended.'],
  INTERNAL: ['This is a bug in wgweb: the event log has details worth reporting.'],
};

/** The hints for `code`; empty when there is nothing useful to add. */
export function hintsForError(code: string | undefined): string[] {
  return (code && HINTS[code]) || [];
}
