/**
 * "Generate a new client key pair": from the server's details and a fresh key pair, build the
 * client's wg-quick config and the `[Peer]` stanza the server needs. Pure text in, text out, so it
 * is tested without a browser; the keys themselves are made in the worker.
 */
import { fromBase64 } from '../../../shared/bytes.ts';
import { formatIp, parseEndpoint, parsePrefix } from '../../../shared/ip-address.ts';

/** What the user types into the key-generation form (all strings, as in the inputs). */
export interface KeygenFields {
  serverPublicKey: string;
  endpoint: string;
  /** The client's tunnel addresses, comma separated (`10.8.0.2/32, fd00::2/128`). */
  addresses: string;
  /** Optional DNS servers / search domains for [Interface]. */
  dns: string;
  /** What the client routes into the tunnel (`0.0.0.0/0, ::/0` for everything). */
  allowedIPs: string;
  /** Seconds, or empty for off. */
  persistentKeepalive: string;
}

export interface KeygenProblem {
  field: keyof KeygenFields;
  message: string;
}

export const DEFAULT_KEYGEN_FIELDS: KeygenFields = {
  serverPublicKey: '',
  endpoint: '',
  addresses: '10.8.0.2/32',
  dns: '',
  allowedIPs: '0.0.0.0/0, ::/0',
  persistentKeepalive: '25',
};

/** Splits a wg-quick list (`a, b` or `a b`) into trimmed, non-empty items. */
export function splitList(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** True for 32 bytes of canonical base64, the form `wg` prints keys in. */
export function isWireGuardKey(text: string): boolean {
  try {
    return fromBase64(text.trim()).length === 32;
  } catch {
    return false;
  }
}

/** Every problem with the form, by field, in form order; empty when the form is complete. */
export function checkKeygenFields(fields: KeygenFields): KeygenProblem[] {
  const problems: KeygenProblem[] = [];
  const key = fields.serverPublicKey.trim();
  if (!key) problems.push({ field: 'serverPublicKey', message: 'Paste the server\'s public key (wg show on the server prints it).' });
  else if (!isWireGuardKey(key)) problems.push({ field: 'serverPublicKey', message: 'A public key is 44 characters of base64 ending in "=".' });

  if (!fields.endpoint.trim()) problems.push({ field: 'endpoint', message: 'Give the server\'s address and UDP port, e.g. vpn.example.com:51820.' });
  else {
    try {
      parseEndpoint(fields.endpoint);
    } catch (e) {
      problems.push({ field: 'endpoint', message: (e as Error).message });
    }
  }

  const addresses = splitList(fields.addresses);
  if (addresses.length === 0) problems.push({ field: 'addresses', message: 'Give the client\'s address inside the tunnel, e.g. 10.8.0.2/32.' });
  for (const a of addresses) {
    try {
      parsePrefix(a);
    } catch (e) {
      problems.push({ field: 'addresses', message: (e as Error).message });
      break;
    }
  }

  for (const d of splitList(fields.dns)) {
    if (!/^[A-Za-z0-9.:_-]+$/.test(d)) {
      problems.push({ field: 'dns', message: `"${d}" is neither an IP address nor a search domain.` });
      break;
    }
  }

  const allowed = splitList(fields.allowedIPs);
  if (allowed.length === 0) problems.push({ field: 'allowedIPs', message: 'Give at least one prefix to route through the tunnel (0.0.0.0/0, ::/0 for everything).' });
  for (const a of allowed) {
    try {
      parsePrefix(a);
    } catch (e) {
      problems.push({ field: 'allowedIPs', message: (e as Error).message });
      break;
    }
  }

  const ka = fields.persistentKeepalive.trim();
  if (ka && ka !== 'off' && !(/^[0-9]{1,5}$/.test(ka) && Number(ka) <= 65535)) {
    problems.push({ field: 'persistentKeepalive', message: 'Seconds from 1 to 65535, or leave empty for off (25 keeps NAT mappings open).' });
  }
  return problems;
}

/**
 * The server side's AllowedIPs for this client: each client address as a single-host prefix
 * (10.8.0.2/24 becomes 10.8.0.2/32), since the server routes only the client's own address to it.
 */
export function hostPrefixes(addresses: string[]): string[] {
  return addresses.map((a) => {
    const p = parsePrefix(a);
    return `${formatIp(p.address)}/${p.address.length * 8}`;
  });
}

export interface ClientConfigInput {
  privateKey: string;
  addresses: string[];
  dns: string[];
  serverPublicKey: string;
  presharedKey?: string;
  endpoint: string;
  allowedIPs: string[];
  persistentKeepalive?: number;
}

/** The client's wg-quick config, in the layout wg-quick users expect. */
export function buildClientConfig(c: ClientConfigInput): string {
  const lines = ['[Interface]', `PrivateKey = ${c.privateKey}`, `Address = ${c.addresses.join(', ')}`];
  if (c.dns.length) lines.push(`DNS = ${c.dns.join(', ')}`);
  lines.push('', '[Peer]', `PublicKey = ${c.serverPublicKey.trim()}`);
  if (c.presharedKey) lines.push(`PresharedKey = ${c.presharedKey}`);
  lines.push(`AllowedIPs = ${c.allowedIPs.join(', ')}`, `Endpoint = ${c.endpoint.trim()}`);
  if (c.persistentKeepalive) lines.push(`PersistentKeepalive = ${c.persistentKeepalive}`);
  return lines.join('\n') + '\n';
}

export interface PeerStanzaInput {
  publicKey: string;
  presharedKey?: string;
  /** The client's addresses (any prefix length; reduced to host prefixes). */
  addresses: string[];
  comment?: string;
}

/** The `[Peer]` section to append to the server's wg-quick config. */
export function buildPeerStanza(p: PeerStanzaInput): string {
  const lines: string[] = ['[Peer]'];
  if (p.comment) lines.push(`# ${p.comment.replace(/[\r\n]+/g, ' ')}`);
  lines.push(`PublicKey = ${p.publicKey}`);
  if (p.presharedKey) lines.push(`PresharedKey = ${p.presharedKey}`);
  lines.push(`AllowedIPs = ${hostPrefixes(p.addresses).join(', ')}`);
  return lines.join('\n') + '\n';
}

/**
 * The same change applied live with `wg set` (no restart). Without a preshared key only: `wg set`
 * reads one from a file, and a key on a command line would end up in shell history.
 */
export function buildWgSetCommand(p: PeerStanzaInput, interfaceName = 'wg0'): string | undefined {
  if (p.presharedKey) return undefined;
  return `wg set ${interfaceName} peer ${p.publicKey} allowed-ips ${hostPrefixes(p.addresses).join(',')}`;
}

/** Turns a checked form plus keys into the inputs of the two builders above. */
export function keygenOutputs(
  fields: KeygenFields,
  keys: { privateKey: string; publicKey: string; presharedKey?: string },
): { clientConfig: string; peerStanza: string; wgSetCommand?: string } {
  const addresses = splitList(fields.addresses);
  const ka = fields.persistentKeepalive.trim();
  const clientConfig = buildClientConfig({
    privateKey: keys.privateKey,
    addresses,
    dns: splitList(fields.dns),
    serverPublicKey: fields.serverPublicKey,
    presharedKey: keys.presharedKey,
    endpoint: fields.endpoint,
    allowedIPs: splitList(fields.allowedIPs),
    persistentKeepalive: ka && ka !== 'off' ? Number(ka) || undefined : undefined,
  });
  const stanzaInput = { publicKey: keys.publicKey, presharedKey: keys.presharedKey, addresses, comment: 'wgweb browser client' };
  const wgSetCommand = buildWgSetCommand(stanzaInput);
  return { clientConfig, peerStanza: buildPeerStanza(stanzaInput), ...(wgSetCommand ? { wgSetCommand } : {}) };
}
