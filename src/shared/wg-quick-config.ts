/**
 * wg-quick `.conf` files: parse them into a {@link WgQuickConfig} and format one back.
 *
 * The contract is "a user's existing .conf just works", so the grammar is the union of what wg(8)
 * ("CONFIGURATION FILE FORMAT") and wg-quick(8) accept:
 *
 *   text ─▶ lines (BOM dropped, CRLF or LF) ─▶ strip `#`/`;` comments ─▶ `[Section]` | `Key = Value`
 *        ─▶ per-key value parsers (keys, prefixes, endpoints, numbers) ─▶ whole-file checks
 *        ─▶ { config, errors, warnings }
 *
 * - Section names and keys are case-insensitive; whitespace inside a key is ignored, as wg does.
 * - `Address`, `DNS` and `AllowedIPs` are lists split on commas and/or spaces, and repeated lines
 *   accumulate (wg-quick splits Address/DNS on both; wg strips all whitespace from AllowedIPs).
 * - DNS entries that are IP addresses are servers, anything else is a search domain (wg-quick's rule).
 * - Keys that only wg-quick on Linux acts on (PreUp, PostUp, PreDown, PostDown, Table, SaveConfig)
 *   are accepted with a warning. Unknown keys are a warning, except when they look like a typo of a
 *   real key ("AllowedIP"): a silently ignored AllowedIPs would break routing, so that is an error
 *   with a "did you mean" suggestion.
 * - "off" and 0 for PersistentKeepalive, FwMark and ListenPort all mean "not set" to wg, so they
 *   parse to `undefined`.
 *
 * Errors never echo key material: a message about a PrivateKey must be safe to paste in a bug report,
 * and every message passes through {@link redactKeys}, so a key pasted where something else belongs
 * (a bare key line, `PrivateKey <key>` without "=", `Address = <key>`, `[<key>]`) is not quoted.
 * Isomorphic: no DOM and no Node APIs (the UI shows the issues inline, the CLI prints them).
 */
import { fromBase64, toBase64 } from './bytes.ts';
import { ErrorCode, WgwebError } from './errors.ts';
import { closestMatch } from './closest-match.ts';
import {
  formatEndpoint,
  formatIp,
  formatPrefix,
  maskAddress,
  parseEndpoint,
  tryParseIp,
  type Endpoint,
  type IpAddress,
  type IpPrefix,
} from './ip-address.ts';

/**
 * The interface MTU when a config has no `MTU =` line: wg-quick's 1420 (a 1500-byte path minus
 * the largest overhead, IPv6 40 + UDP 8 + WireGuard 32). The one definition for the tunnel, the
 * netstack and TCP's MSS.
 */
export const DEFAULT_MTU = 1420;

/** The `[Interface]` section. */
export interface WgQuickInterface {
  /** 32-byte Curve25519 private key (as `wg genkey` prints it). */
  privateKey: Uint8Array;
  /** Tunnel addresses; a bare address is a /32 or /128. Host bits are kept as written. */
  addresses: IpPrefix[];
  /** DNS entries that are IP addresses. */
  dnsServers: IpAddress[];
  /** DNS entries that are not IP addresses: search domains, as wg-quick treats them. */
  dnsSearch: string[];
  mtu?: number;
  /** Absent when not set or 0 (0 means "pick a random port" to wg). */
  listenPort?: number;
  /** Absent when not set, 0 or "off". Only meaningful to Linux; stored for round trips. */
  fwMark?: number;
}

/** One `[Peer]` section. */
export interface WgQuickPeer {
  /** 32-byte Curve25519 public key. */
  publicKey: Uint8Array;
  /** 32-byte preshared key (`wg genpsk`). */
  presharedKey?: Uint8Array;
  endpoint?: Endpoint;
  /** Cryptokey routing prefixes; may be empty. Host bits are kept as written. */
  allowedIPs: IpPrefix[];
  /** Seconds, 1 to 65535; absent when not set, 0 or "off". */
  persistentKeepalive?: number;
}

/** A parsed wg-quick configuration. */
export interface WgQuickConfig {
  interface: WgQuickInterface;
  peers: WgQuickPeer[];
}

/** A problem found in a config, tied to a line for inline display. */
export interface ConfigIssue {
  /** 1-based line number; 0 when the issue concerns the whole file ("no [Interface] section"). */
  line: number;
  /** The key involved, in its canonical spelling when it is a known key. */
  key?: string;
  /** Human-readable; starts with "line N: " when the issue is tied to one line. */
  message: string;
}

/** What {@link checkWgQuickConfig} found: `config` is present exactly when `errors` is empty. */
export interface WgQuickCheckResult {
  config?: WgQuickConfig;
  errors: ConfigIssue[];
  warnings: ConfigIssue[];
}

/** Optional extra checks that need code the isomorphic parser does not bundle. */
export interface WgQuickCheckOptions {
  /**
   * X25519 public key derivation (`publicKeyFromPrivate` from src/wireguard/noise-keys.ts).
   * When given, a [Peer] whose PublicKey is this interface's own public key is an error: that peer
   * could never complete a handshake, and pasting your own public key there is a common slip.
   */
  publicKeyFromPrivate?: (privateKey: Uint8Array) => Uint8Array;
  /**
   * What the config is for. `client` (the default): wgweb dials out, so a config in which no
   * [Peer] has an Endpoint looks like a server's and earns a warning. `listener` (`wgweb peer`):
   * the config is a server's by design, so peers without an Endpoint are normal.
   */
  role?: 'client' | 'listener';
}

const KEY_LENGTH = 32;

/** Canonical spellings of the keys wgweb uses, by section. */
const INTERFACE_KEYS = ['PrivateKey', 'Address', 'DNS', 'MTU', 'ListenPort', 'FwMark'] as const;
const PEER_KEYS = ['PublicKey', 'PresharedKey', 'Endpoint', 'AllowedIPs', 'PersistentKeepalive'] as const;
/** wg-quick(8) acts on these on Linux only; how to describe what it does with each. */
const LINUX_ONLY_KEYS: Record<string, string> = {
  PreUp: 'is run by',
  PostUp: 'is run by',
  PreDown: 'is run by',
  PostDown: 'is run by',
  Table: 'is used by',
  SaveConfig: 'is used by',
};
/** Keys that may appear on several lines (lists accumulate; hook commands run in order). */
const REPEATABLE = new Set(['address', 'dns', 'allowedips', 'preup', 'postup', 'predown', 'postdown']);
/** AmneziaWG's obfuscation settings: not WireGuard, so worth a specific warning. */
const AMNEZIA_KEY = /^(jc|jmin|jmax|s[1-4]|h[1-4]|i[1-5]|j[1-3]|itime)$/;

const CANONICAL = new Map<string, string>();
for (const k of [...INTERFACE_KEYS, ...PEER_KEYS, ...Object.keys(LINUX_ONLY_KEYS)]) CANONICAL.set(k.toLowerCase(), k);
const INTERFACE_SET = new Set<string>(INTERFACE_KEYS);
const PEER_SET = new Set<string>(PEER_KEYS);

type SectionKind = 'interface' | 'peer' | 'ignored';

interface InterfaceDraft {
  line: number;
  privateKey?: Uint8Array;
  /** Set when a PrivateKey line was seen, valid or not. */
  privateKeyLine?: number;
  addresses: IpPrefix[];
  dnsServers: IpAddress[];
  dnsSearch: string[];
  mtu?: number;
  mtuLine?: number;
  listenPort?: number;
  fwMark?: number;
}

interface PeerDraft {
  line: number;
  publicKey?: Uint8Array;
  /** Set when a PublicKey line was seen, valid or not. */
  publicKeyLine?: number;
  presharedKey?: Uint8Array;
  endpoint?: Endpoint;
  allowedIPs: { prefix: IpPrefix; line: number }[];
  persistentKeepalive?: number;
}

interface Section {
  kind: SectionKind;
  line: number;
  /** canonical key (lower case) → line of its first occurrence, for duplicate detection. */
  seen: Map<string, number>;
  iface?: InterfaceDraft;
  peer?: PeerDraft;
}

/**
 * Parses a wg-quick config and collects every problem instead of stopping at the first, so a UI
 * can mark all of them at once. Never throws for any string input.
 * @throws {TypeError} when `text` is not a string.
 */
export function checkWgQuickConfig(text: string, options: WgQuickCheckOptions = {}): WgQuickCheckResult {
  if (typeof text !== 'string') throw new TypeError(`config text must be a string, got ${describeType(text)}`);
  const errors: ConfigIssue[] = [];
  const warnings: ConfigIssue[] = [];
  const error: Report = (line, message, key) => errors.push(issue(line, `line ${line}: ${message}`, key));
  const warn: Report = (line, message, key) => warnings.push(issue(line, `line ${line}: ${message}`, key));

  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split('\n');

  let iface: InterfaceDraft | undefined;
  const peers: PeerDraft[] = [];
  let section: Section | undefined;

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const stripped = stripComment(lines[i]).trim();
    if (stripped === '') continue;

    if (stripped.startsWith('[')) {
      const close = stripped.indexOf(']');
      if (close < 0) error(lineNo, 'section header is missing its closing "]"');
      else if (stripped.slice(close + 1).trim() !== '') error(lineNo, 'unexpected text after the section header');
      // Read on as if the header were well-formed, so one typo does not cascade into more errors.
      const name = stripped.slice(1, close < 0 ? undefined : close).replace(/\s+/g, '');
      const lower = name.toLowerCase();
      if (lower === 'interface') {
        if (iface) {
          error(lineNo, secondInterfaceMessage(iface.line, iface.addresses));
          section = { kind: 'ignored', line: lineNo, seen: new Map() };
        } else {
          iface = { line: lineNo, addresses: [], dnsServers: [], dnsSearch: [] };
          section = { kind: 'interface', line: lineNo, seen: new Map(), iface };
        }
      } else if (lower === 'peer') {
        const peer: PeerDraft = { line: lineNo, allowedIPs: [] };
        peers.push(peer);
        section = { kind: 'peer', line: lineNo, seen: new Map(), peer };
      } else {
        const guess = closestMatch(name, ['Interface', 'Peer']);
        if (guess) error(lineNo, `unknown section [${clip(name)}]; did you mean [${guess}]?`);
        else warn(lineNo, `unknown section [${clip(name)}]; wgweb ignores it and the keys in it`);
        section = { kind: 'ignored', line: lineNo, seen: new Map() };
      }
      continue;
    }

    const eq = stripped.indexOf('=');
    if (eq < 0) {
      error(lineNo, 'expected "Key = Value" or a [Section] header');
      continue;
    }
    // wg ignores whitespace anywhere in a line; inside a key name that is what users can rely on.
    const rawKey = stripped.slice(0, eq).replace(/\s+/g, '');
    const value = stripped.slice(eq + 1).trim();
    if (rawKey === '') {
      error(lineNo, 'missing key name before "="');
      continue;
    }
    const lowerKey = rawKey.toLowerCase();
    const canonical = CANONICAL.get(lowerKey);

    if (!section) {
      const home = canonical ? (PEER_SET.has(canonical) ? '[Peer]' : '[Interface]') : '[Interface] or [Peer]';
      error(lineNo, `key outside a section: ${canonical ?? clip(rawKey)} must come after ${home}`, canonical ?? rawKey);
      continue;
    }
    if (section.kind === 'ignored') continue;

    if (!canonical) {
      unknownKey(section, rawKey, lineNo, error, warn);
      continue;
    }

    if (section.kind === 'interface' && PEER_SET.has(canonical)) {
      const hint = canonical === 'PublicKey' ? ' (an [Interface] has only its own PrivateKey)' : '';
      error(lineNo, `${canonical} belongs in a [Peer] section, not [Interface]${hint}`, canonical);
      continue;
    }
    if (section.kind === 'peer' && !PEER_SET.has(canonical)) {
      error(lineNo, `${canonical} belongs in the [Interface] section, not [Peer]`, canonical);
      continue;
    }

    const first = section.seen.get(lowerKey);
    if (first !== undefined && !REPEATABLE.has(lowerKey)) {
      const where = section.kind === 'interface' ? '[Interface]' : '[Peer]';
      error(lineNo, `${canonical} is set twice in this ${where} (first at line ${first})`, canonical);
      continue;
    }
    if (first === undefined) section.seen.set(lowerKey, lineNo);
    if (section.iface && canonical === 'PrivateKey') section.iface.privateKeyLine = lineNo;
    if (section.peer && canonical === 'PublicKey') section.peer.publicKeyLine = lineNo;

    if (canonical in LINUX_ONLY_KEYS) {
      warn(lineNo, `${canonical} ${LINUX_ONLY_KEYS[canonical]} wg-quick on Linux; wgweb ignores it`, canonical);
      continue;
    }

    const fail = (message: string) => error(lineNo, message, canonical);
    if (section.iface) parseInterfaceKey(section.iface, canonical, value, lineNo, fail);
    else if (section.peer) parsePeerKey(section.peer, canonical, value, lineNo, fail);
  }

  const fileIssue = (list: ConfigIssue[]): Report => (line, message, key) => list.push(issue(line, message, key));
  wholeFileChecks(iface, peers, options, fileIssue(errors), fileIssue(warnings));
  // Line order (whole-file issues first) reads naturally next to the text; sort is stable.
  errors.sort((a, b) => a.line - b.line);
  warnings.sort((a, b) => a.line - b.line);

  if (errors.length > 0 || !iface || !iface.privateKey) return { errors, warnings };
  const config: WgQuickConfig = {
    interface: {
      privateKey: iface.privateKey,
      addresses: iface.addresses,
      dnsServers: iface.dnsServers,
      dnsSearch: iface.dnsSearch,
    },
    peers: peers.map((p) => {
      const peer: WgQuickPeer = { publicKey: p.publicKey as Uint8Array, allowedIPs: p.allowedIPs.map((a) => a.prefix) };
      if (p.presharedKey) peer.presharedKey = p.presharedKey;
      if (p.endpoint) peer.endpoint = p.endpoint;
      if (p.persistentKeepalive !== undefined) peer.persistentKeepalive = p.persistentKeepalive;
      return peer;
    }),
  };
  if (iface.mtu !== undefined) config.interface.mtu = iface.mtu;
  if (iface.listenPort !== undefined) config.interface.listenPort = iface.listenPort;
  if (iface.fwMark !== undefined) config.interface.fwMark = iface.fwMark;
  return { config, errors, warnings };
}

/**
 * Parses a wg-quick config.
 * @returns the config and any warnings (ignored Linux-only keys, unknown keys, hints).
 * @throws {WgwebError} `CONFIG_INVALID` whose message lists every error ({@link describeConfigErrors})
 *   and `detail: { line, errors }` (line: the first one's).
 * @throws {TypeError} when `text` is not a string.
 */
export function parseWgQuickConfig(
  text: string,
  options: WgQuickCheckOptions = {},
): { config: WgQuickConfig; warnings: ConfigIssue[] } {
  const { config, errors, warnings } = checkWgQuickConfig(text, options);
  if (!config) {
    const first = errors[0];
    throw new WgwebError(ErrorCode.CONFIG_INVALID, describeConfigErrors(errors), { line: first.line, errors });
  }
  return { config, warnings };
}

/**
 * Every error of a config in one message, in file order (issue #18 item 6: fixing one line per
 * attempt is slow): the error itself when there is one, else "N problems:" and one indented line
 * each. The CLI puts the file name in front; the UI shows it as it is.
 */
export function describeConfigErrors(errors: readonly ConfigIssue[]): string {
  if (errors.length === 0) throw new RangeError('describeConfigErrors needs at least one error');
  if (errors.length === 1) return errors[0].message;
  const ordered = [...errors].sort((a, b) => a.line - b.line);
  return `${errors.length} problems:\n${ordered.map((e) => `  ${e.message}`).join('\n')}`;
}

/**
 * Formats a config as a wg-quick `.conf` (canonical key spelling and order, one list per line) that
 * {@link parseWgQuickConfig} reads back to an equal config.
 * @throws {TypeError} / {RangeError} when `config` is malformed (wrong key length, bad prefix, a
 *   value that would break the line format).
 */
export function formatWgQuickConfig(config: WgQuickConfig): string {
  if (typeof config !== 'object' || config === null) throw new TypeError(`config must be an object, got ${describeType(config)}`);
  const itf = config.interface;
  if (typeof itf !== 'object' || itf === null) throw new TypeError('config.interface must be an object');
  if (!Array.isArray(config.peers)) throw new TypeError('config.peers must be an array');

  const out: string[] = ['[Interface]'];
  out.push(`PrivateKey = ${formatKeyChecked(itf.privateKey, 'interface.privateKey')}`);
  const addresses = listOf(itf.addresses, 'interface.addresses').map((p, i) => formatPrefixChecked(p, `interface.addresses[${i}]`));
  if (addresses.length) out.push(`Address = ${addresses.join(', ')}`);
  const dns = [
    ...listOf(itf.dnsServers, 'interface.dnsServers').map((a, i) => formatAddressChecked(a, `interface.dnsServers[${i}]`)),
    ...listOf(itf.dnsSearch, 'interface.dnsSearch').map((d, i) => {
      if (typeof d !== 'string' || !isSearchDomain(d)) throw new RangeError(`interface.dnsSearch[${i}] is not a domain name`);
      return d;
    }),
  ];
  if (dns.length) out.push(`DNS = ${dns.join(', ')}`);
  if (itf.mtu !== undefined) out.push(`MTU = ${intChecked(itf.mtu, 'interface.mtu', MTU_MIN, 65535)}`);
  if (itf.listenPort !== undefined && itf.listenPort !== 0) {
    out.push(`ListenPort = ${intChecked(itf.listenPort, 'interface.listenPort', 0, 65535)}`);
  }
  if (itf.fwMark !== undefined && itf.fwMark !== 0) {
    // wg showconf prints the mark in hex.
    out.push(`FwMark = 0x${intChecked(itf.fwMark, 'interface.fwMark', 0, 0xffffffff).toString(16)}`);
  }

  config.peers.forEach((peer, n) => {
    const at = `peers[${n}]`;
    if (typeof peer !== 'object' || peer === null) throw new TypeError(`${at} must be an object`);
    out.push('', '[Peer]');
    out.push(`PublicKey = ${formatKeyChecked(peer.publicKey, `${at}.publicKey`)}`);
    if (peer.presharedKey !== undefined) out.push(`PresharedKey = ${formatKeyChecked(peer.presharedKey, `${at}.presharedKey`)}`);
    if (peer.endpoint !== undefined) out.push(`Endpoint = ${formatEndpointChecked(peer.endpoint, `${at}.endpoint`)}`);
    const allowed = listOf(peer.allowedIPs, `${at}.allowedIPs`).map((p, i) => formatPrefixChecked(p, `${at}.allowedIPs[${i}]`));
    if (allowed.length) out.push(`AllowedIPs = ${allowed.join(', ')}`);
    if (peer.persistentKeepalive !== undefined && peer.persistentKeepalive !== 0) {
      out.push(`PersistentKeepalive = ${intChecked(peer.persistentKeepalive, `${at}.persistentKeepalive`, 0, 65535)}`);
    }
  });
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Per-key value parsers

/** Smallest MTU Linux accepts on an interface (IPv4's minimum datagram, RFC 791). */
const MTU_MIN = 68;
/** IPv6 needs links of at least this MTU (RFC 8200 §5). */
const IPV6_MIN_MTU = 1280;

function parseInterfaceKey(d: InterfaceDraft, key: string, value: string, line: number, fail: (m: string) => void): void {
  switch (key) {
    case 'PrivateKey': {
      const k = parseKeyValue(value, key, fail);
      if (!k) return;
      // wg treats an all-zero private key as "no key set"; such an interface can never handshake.
      if (k.every((b) => b === 0)) return fail('PrivateKey is all zeros; generate one with "wg genkey" or "wgweb genkey"');
      d.privateKey = k;
      return;
    }
    case 'Address':
      for (const item of splitList(value)) {
        const p = parsePrefixValue(item, key, fail);
        if (p) d.addresses.push(p);
      }
      return;
    case 'DNS':
      for (const item of splitList(value)) {
        const ip = tryParseIp(item);
        if (ip) d.dnsServers.push(ip);
        // wg-quick's own rule: all digits and dots, or any colon, means "meant as an address".
        else if (/^[0-9.]+$/.test(item) || item.includes(':')) fail(`DNS ${quote(item)} is not an IPv4 or IPv6 address`);
        else if (isSearchDomain(item)) d.dnsSearch.push(item);
        else fail(`DNS ${quote(item)} is neither an IP address nor a search domain`);
      }
      return;
    case 'MTU': {
      const n = parseInteger(value, key, MTU_MIN, 65535, fail);
      if (n !== undefined) {
        d.mtu = n;
        d.mtuLine = line;
      }
      return;
    }
    case 'ListenPort': {
      const n = parseInteger(value, key, 0, 65535, fail);
      if (n) d.listenPort = n;
      return;
    }
    case 'FwMark': {
      if (value.toLowerCase() === 'off') return;
      const n = /^0x[0-9a-f]{1,8}$/i.test(value) ? parseInt(value.slice(2), 16) : /^[0-9]{1,10}$/.test(value) ? Number(value) : NaN;
      if (!(n >= 0 && n <= 0xffffffff)) return fail(`FwMark ${quote(value)} is not "off" or a number from 0 to 0xffffffff`);
      if (n) d.fwMark = n;
      return;
    }
  }
}

function parsePeerKey(d: PeerDraft, key: string, value: string, line: number, fail: (m: string) => void): void {
  switch (key) {
    case 'PublicKey': {
      const k = parseKeyValue(value, key, fail);
      if (k) d.publicKey = k;
      return;
    }
    case 'PresharedKey': {
      const k = parseKeyValue(value, key, fail);
      if (k) d.presharedKey = k;
      return;
    }
    case 'Endpoint': {
      if (value === '') return fail('Endpoint has no value; write host:port, or remove the line');
      let e: Endpoint;
      try {
        e = parseEndpoint(value);
      } catch (err) {
        return fail(`Endpoint ${(err as Error).message}`);
      }
      const ip = tryParseIp(e.host);
      if (ip && e.host.includes('%')) {
        // A link-local address with its zone ([fe80::1%eth0]:51820) stays as written.
        if (!ZONED_IPV6.test(e.host)) return fail(`Endpoint ${quote(value)}: ${quote(e.host)} has an invalid zone after "%"`);
      } else if (ip) {
        // One spelling per address (RFC 5952), so configs compare and round-trip.
        e = { host: formatIp(ip), port: e.port };
      } else if (/^[0-9.]+$/.test(e.host)) {
        return fail(`Endpoint ${quote(value)}: ${quote(e.host)} is not an IPv4 address`);
      } else if (!isHostName(e.host)) {
        return fail(`Endpoint ${quote(value)}: ${quote(e.host)} is not a valid host name`);
      }
      d.endpoint = e;
      return;
    }
    case 'AllowedIPs':
      for (const item of splitList(value)) {
        const p = parsePrefixValue(item, key, fail);
        if (p) d.allowedIPs.push({ prefix: p, line });
      }
      return;
    case 'PersistentKeepalive': {
      if (value.toLowerCase() === 'off') return;
      const n = parseInteger(value, key, 0, 65535, fail, '"off" or ');
      if (n) d.persistentKeepalive = n;
      return;
    }
  }
}

/** Checks across sections. Messages carry their own line references (some are about a section). */
function wholeFileChecks(iface: InterfaceDraft | undefined, peers: PeerDraft[], options: WgQuickCheckOptions, error: Report, warn: Report): void {
  if (!iface) {
    error(0, peers.length === 0 ? 'no [Interface] section (is this a wg-quick .conf file?)' : 'no [Interface] section');
  } else {
    if (iface.privateKeyLine === undefined) {
      error(iface.line, `[Interface] starting at line ${iface.line} has no PrivateKey`, 'PrivateKey');
    }
    if (iface.addresses.length === 0) {
      warn(iface.line, `[Interface] starting at line ${iface.line} has no Address: wgweb needs this device's tunnel address (the server lists it in its AllowedIPs for you)`, 'Address');
    }
    if (iface.mtu !== undefined && iface.mtu < IPV6_MIN_MTU && iface.addresses.some((a) => a.address.length === 16)) {
      warn(iface.mtuLine ?? iface.line, `line ${iface.mtuLine}: MTU ${iface.mtu} is below 1280, the minimum for IPv6 (RFC 8200); IPv6 will not work`, 'MTU');
    }
  }
  if (peers.length === 0 && iface) warn(0, 'no [Peer] section: there is nobody to connect to');

  const ownPublic = iface?.privateKey && options.publicKeyFromPrivate ? safeDerive(options.publicKeyFromPrivate, iface.privateKey) : undefined;
  const byKey = new Map<string, PeerDraft>();
  const routes = new Map<string, { peer: PeerDraft; line: number }>();
  for (const p of peers) {
    if (!p.publicKey) {
      if (p.publicKeyLine === undefined) error(p.line, `[Peer] starting at line ${p.line} has no PublicKey`, 'PublicKey');
      continue;
    }
    const at = `line ${p.publicKeyLine}: `;
    const id = toBase64(p.publicKey);
    const twin = byKey.get(id);
    if (twin) {
      error(p.publicKeyLine!, `${at}PublicKey is the same as in the [Peer] starting at line ${twin.line}; each peer needs its own key (merge the two sections)`, 'PublicKey');
    } else byKey.set(id, p);
    if (iface?.privateKey && bytesEqual(p.publicKey, iface.privateKey)) {
      error(p.publicKeyLine!, `${at}PublicKey is this interface's own PrivateKey; put the other side's public key here`, 'PublicKey');
    } else if (ownPublic && bytesEqual(p.publicKey, ownPublic)) {
      error(p.publicKeyLine!, `${at}PublicKey is this interface's own public key; put the other side's public key here`, 'PublicKey');
    }
    if (p.allowedIPs.length === 0) {
      warn(p.line, `[Peer] starting at line ${p.line} has no AllowedIPs: no traffic is sent to it and whatever it sends is dropped`, 'AllowedIPs');
    }
    // Cryptokey routing (WireGuard paper §3): a prefix maps to one peer; wg gives it to the last one.
    for (const a of p.allowedIPs) {
      const network = maskAddress(a.prefix.address, a.prefix.prefixLength);
      const id = `${formatIp(network)}/${a.prefix.prefixLength}`;
      if (!bytesEqual(network, a.prefix.address)) {
        // wg prints the same warning and routes the whole network, host bits ignored.
        warn(a.line, `line ${a.line}: AllowedIPs ${formatPrefix(a.prefix)} has a nonzero host part; WireGuard treats it as ${id}`, 'AllowedIPs');
      }
      const prev = routes.get(id);
      if (prev && prev.peer !== p) {
        warn(a.line, `line ${a.line}: AllowedIPs ${id} is also in the [Peer] starting at line ${prev.peer.line}; WireGuard routes it only to this later peer`, 'AllowedIPs');
      }
      routes.set(id, { peer: p, line: a.line });
    }
  }

  const reachable = peers.filter((p) => p.endpoint);
  const complete = peers.filter((p) => p.publicKey);
  if (options.role === 'listener') {
    // `wgweb peer` answers handshakes: its peers dial in, so they need no Endpoint.
  } else if (complete.length > 0 && reachable.length === 0 && (iface?.listenPort !== undefined || complete.length > 1)) {
    warn(complete[0].line, 'no [Peer] has an Endpoint, so wgweb cannot start a handshake: this looks like a server\'s config. wgweb is a client: load the config made for this device, whose [Peer] is the server with its Endpoint', 'Endpoint');
  } else {
    for (const p of complete) {
      if (!p.endpoint) {
        warn(p.line, `[Peer] starting at line ${p.line} has no Endpoint: wgweb can only reach a peer whose address it knows (that is fine in a server's config)`, 'Endpoint');
      }
    }
  }
}

/** Reports an unknown key: a likely typo of a real key is an error, anything else a warning. */
function unknownKey(section: Section, rawKey: string, line: number, error: Report, warn: Report): void {
  const where = section.kind === 'interface' ? '[Interface]' : '[Peer]';
  if (AMNEZIA_KEY.test(rawKey.toLowerCase())) {
    warn(line, `${clip(rawKey)} is an AmneziaWG setting; wgweb speaks standard WireGuard and ignores it (a server with AmneziaWG obfuscation on will not answer)`, rawKey);
    return;
  }
  if (redactKeys(rawKey) !== rawKey) {
    // `<key>` alone on a line: its trailing "=" made it look like "Key = (empty)".
    error(line, `this line holds what looks like a key with no name; write PrivateKey = <key> in [Interface] or PublicKey = <key> in [Peer]`);
    return;
  }
  const guess = closestMatch(rawKey, [...CANONICAL.values()]);
  if (guess) {
    error(line, `unknown key ${clip(rawKey)} in ${where}; did you mean ${guess}?`, rawKey);
    return;
  }
  warn(line, `unknown key ${clip(rawKey)} in ${where}; wgweb ignores it`, rawKey);
}

// ---------------------------------------------------------------------------------------------
// Value helpers

type Report = (line: number, message: string, key?: string) => void;

function issue(line: number, message: string, key?: string): ConfigIssue {
  const safe = redactKeys(message);
  return key === undefined ? { line, message: safe } : { line, key: redactKeys(key), message: safe };
}

/** What a redacted key-like value is replaced with in messages. */
export const REDACTED_KEY = '<key hidden>';

/**
 * Replaces anything in `text` that could be key material with {@link REDACTED_KEY}: a run of 40 or
 * more base64 or base64url characters (a 32-byte key is 43 characters and a "=", so this covers
 * every key, with or without its padding, a key pasted twice, a key in hex, and a key cut short by
 * a few characters). Config messages quote the user's text, and a private key pasted in the wrong
 * place (`Address = <key>`, a bare key line, `[<key>]`) must not end up in a terminal log, a
 * screenshot or a bug report. A host name label that long is hidden too, which costs nothing.
 */
export function redactKeys(text: string): string {
  return text.replace(/[A-Za-z0-9+/_-]{40,}={0,2}/g, REDACTED_KEY);
}

/** `#` starts a comment in wg and wg-quick; `;` is the other INI convention and never appears in a value we use. */
function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 35 /* # */ || c === 59 /* ; */) return line.slice(0, i);
  }
  return line;
}

function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter((s) => s !== '');
}

/** Decodes a 32-byte base64 key; on failure explains the likely paste mistake without echoing the key. */
function parseKeyValue(value: string, key: string, fail: (m: string) => void): Uint8Array | undefined {
  if (value === '') {
    fail(`${key} has no value; it must be 32 bytes of base64 (44 characters ending in "=")`);
    return undefined;
  }
  let bytes: Uint8Array | undefined;
  try {
    bytes = fromBase64(value);
  } catch {
    bytes = undefined;
  }
  if (bytes && bytes.length === KEY_LENGTH) return bytes;
  fail(`${key} must be 32 bytes of base64${keyHint(value, bytes)}`);
  return undefined;
}

function keyHint(value: string, decoded: Uint8Array | undefined): string {
  if (/^(["']).*\1$/.test(value) && value.length > 2) return ' (remove the quotes around it)';
  if (/^[0-9a-fA-F]{64}$/.test(value)) return ' (this looks like hex; use the base64 form that wg genkey prints)';
  if (value.length === 43 && decodesTo32(value + '=')) return ' (the trailing "=" is missing)';
  if (/[-_]/.test(value) && !/[+/]/.test(value) && decodesTo32(value.replace(/-/g, '+').replace(/_/g, '/'))) {
    return ' (this is URL-safe base64; WireGuard keys use "+" and "/" instead of "-" and "_")';
  }
  if (/\s/.test(value)) return ' (it contains spaces; was it split while pasting?)';
  if (decoded) {
    return ` (it decodes to ${decoded.length} bytes; a key is 44 characters ending in "=": was it cut short or pasted twice?)`;
  }
  if (value.length !== 44) return ` (it is ${value.length} characters long; a key is 44 characters ending in "=")`;
  return ' (it has characters or an ending that base64 does not allow; was it mistyped?)';
}

function decodesTo32(text: string): boolean {
  try {
    return fromBase64(text).length === KEY_LENGTH;
  } catch {
    return false;
  }
}

function parsePrefixValue(item: string, key: string, fail: (m: string) => void): IpPrefix | undefined {
  const slash = item.indexOf('/');
  const addrText = slash >= 0 ? item.slice(0, slash) : item;
  const address = tryParseIp(addrText);
  if (!address || addrText.includes('%')) {
    fail(`${key} ${quote(item)} is not an IPv4 or IPv6 address${addrText.includes('%') ? ' (zone indexes like %eth0 are not allowed here)' : ''}`);
    return undefined;
  }
  const max = address.length * 8;
  if (slash < 0) return { address, prefixLength: max };
  const lenText = item.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > max) {
    fail(`${key} ${quote(item)} has a bad prefix length (0 to ${max} for IPv${max === 32 ? 4 : 6})`);
    return undefined;
  }
  return { address, prefixLength: Number(lenText) };
}

function parseInteger(value: string, key: string, min: number, max: number, fail: (m: string) => void, alt = ''): number | undefined {
  if (/^[0-9]{1,6}$/.test(value)) {
    const n = Number(value);
    if (n >= min && n <= max) return n;
  }
  fail(`${key} ${quote(value)} is not ${alt}a whole number from ${min} to ${max}`);
  return undefined;
}

/** A DNS name usable as a search domain (RFC 1035 §2.3.4 lengths; `_` tolerated as resolvers do). */
function isSearchDomain(text: string): boolean {
  const name = text.startsWith('~') ? text.slice(1) : text; // systemd-resolved routing-only domain
  if (name === '.' && text.startsWith('~')) return true;
  return isHostName(name);
}

/** An IPv6 literal with an interface zone (RFC 4007 §11): `fe80::1%eth0`. */
const ZONED_IPV6 = /^[0-9A-Fa-f:.]+%[A-Za-z0-9_.-]{1,64}$/;

function isHostName(text: string): boolean {
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/.test(label));
}

function quote(text: string): string {
  return `"${clip(text)}"`;
}

/** Keeps messages readable when a line holds something huge or binary. */
function clip(text: string): string {
  // eslint-disable-next-line no-control-regex
  const safe = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return safe.length > 60 ? `${safe.slice(0, 57)}...` : safe;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function safeDerive(derive: (k: Uint8Array) => Uint8Array, key: Uint8Array): Uint8Array | undefined {
  try {
    return derive(key);
  } catch {
    return undefined;
  }
}

function describeType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

// ---------------------------------------------------------------------------------------------
// Formatting checks (bad caller input → TypeError/RangeError)

function listOf<T>(v: T[] | undefined, what: string): T[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new TypeError(`${what} must be an array`);
  return v;
}

function formatKeyChecked(key: Uint8Array, what: string): string {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (key.length !== KEY_LENGTH) throw new RangeError(`${what} must be ${KEY_LENGTH} bytes, got ${key.length}`);
  return toBase64(key);
}

function formatAddressChecked(a: IpAddress, what: string): string {
  if (!(a instanceof Uint8Array)) throw new TypeError(`${what} must be a Uint8Array`);
  if (a.length !== 4 && a.length !== 16) throw new RangeError(`${what} must have 4 or 16 bytes, got ${a.length}`);
  return formatIp(a);
}

/**
 * The error for a second `[Interface]`, usually a second site's whole config pasted below the
 * first (issue #18 item 10). One device has one interface: every peer sees the first
 * `[Interface]`'s key and Address, so the second site's server must accept that Address in its
 * `[Peer]` for this device (cryptokey routing, WireGuard paper §2: a peer's packets must come from
 * its AllowedIPs). Says so, with the Address to repeat when it is known by then.
 */
function secondInterfaceMessage(firstLine: number, firstAddresses: readonly IpPrefix[]): string {
  const address = firstAddresses.length > 0 ? `Address ${firstAddresses.map(formatPrefix).join(', ')}` : "the first [Interface]'s Address";
  return (
    `a second [Interface] section (the first starts at line ${firstLine}); a config has exactly one. ` +
    `For a second site, add only its [Peer] section: this device uses ${address} and the first PrivateKey with every peer, ` +
    `so that site's server must list the same address in AllowedIPs of its [Peer] for this device`
  );
}

function formatPrefixChecked(p: IpPrefix, what: string): string {
  if (typeof p !== 'object' || p === null) throw new TypeError(`${what} must be an IpPrefix`);
  formatAddressChecked(p.address, `${what}.address`);
  intChecked(p.prefixLength, `${what}.prefixLength`, 0, p.address.length * 8);
  return formatPrefix(p);
}

function formatEndpointChecked(e: Endpoint, what: string): string {
  if (typeof e !== 'object' || e === null || typeof e.host !== 'string') throw new TypeError(`${what} must be an Endpoint`);
  intChecked(e.port, `${what}.port`, 1, 65535);
  const ip = tryParseIp(e.host);
  if (ip && !e.host.includes('%')) return formatEndpoint({ host: formatIp(ip), port: e.port });
  if (ip && ZONED_IPV6.test(e.host)) return formatEndpoint(e);
  if (!isHostName(e.host)) throw new RangeError(`${what}.host ${quote(e.host)} is not an IP address or host name`);
  return formatEndpoint(e);
}

function intChecked(n: number, what: string, min: number, max: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`${what} must be a whole number from ${min} to ${max}, got ${String(n)}`);
  }
  return n;
}
