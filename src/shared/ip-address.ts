/**
 * IPv4/IPv6 addresses and prefixes as bytes, with text forms per RFC 4291 §2.2 (parsing) and
 * RFC 5952 (canonical IPv6 output). Shared by the config parser, cryptokey routing, the netstack
 * and the relay's destination policy.
 */

/** An address as network-order bytes: 4 for IPv4, 16 for IPv6. */
export type IpAddress = Uint8Array;

/** An address prefix (`10.0.0.0/24`, `fd00::/64`). `address` has its host bits as written. */
export interface IpPrefix {
  readonly address: IpAddress;
  readonly prefixLength: number;
}

/** 4 or 6. */
export function ipVersion(address: IpAddress): 4 | 6 {
  if (address.length === 4) return 4;
  if (address.length === 16) return 6;
  throw new RangeError(`an IP address has 4 or 16 bytes, not ${address.length}`);
}

function parseIpv4(text: string): IpAddress | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // Leading zeros are rejected: some stacks read them as octal, which would be a silent surprise.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): IpAddress | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  let tail: number[] = [];
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = parseIpv4(s.slice(lastColon + 1));
    if (!v4) return undefined;
    tail = [(v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]];
    // Keep a `::` that ends right before the tail; otherwise drop the separating colon.
    s = s[lastColon - 1] === ':' ? s.slice(0, lastColon + 1) : s.slice(0, lastColon);
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const gs = h.split(':');
    const out: number[] = [];
    for (const g of gs) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]);
  if (!head) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const rest = parseGroups(halves[1]);
    if (!rest) return undefined;
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 1) return undefined;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    groups = [...head, ...tail];
    if (groups.length !== 8) return undefined;
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = groups[i] >> 8;
    out[i * 2 + 1] = groups[i] & 255;
  }
  return out;
}

/** Parses an IPv4 or IPv6 address; `undefined` when `text` is neither. Brackets are not accepted. */
export function tryParseIp(text: string): IpAddress | undefined {
  const t = text.trim();
  return t.includes(':') ? parseIpv6(t) : parseIpv4(t);
}

/**
 * Parses an IPv4 or IPv6 address.
 * @throws {RangeError} when `text` is not an IP address.
 */
export function parseIp(text: string): IpAddress {
  const a = tryParseIp(text);
  if (!a) throw new RangeError(`"${text}" is not an IPv4 or IPv6 address`);
  return a;
}

/** Text form: dotted quad, or RFC 5952 canonical IPv6 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address.length === 4) return `${address[0]}.${address[1]}.${address[2]}.${address[3]}`;
  if (address.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, not ${address.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((address[i * 2] << 8) | address[i * 2 + 1]);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${address[12]}.${address[13]}.${address[14]}.${address[15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    // RFC 5952 §4.2.2: a single zero group is not shortened.
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/**
 * Parses `address/len`; a bare address gets the full length (/32 or /128).
 * @throws {RangeError} with a message naming what is wrong.
 */
export function parsePrefix(text: string): IpPrefix {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrText = slash >= 0 ? t.slice(0, slash) : t;
  const address = tryParseIp(addrText);
  if (!address) throw new RangeError(`"${addrText}" is not an IPv4 or IPv6 address`);
  const max = address.length * 8;
  if (slash < 0) return { address, prefixLength: max };
  const lenText = t.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(lenText) || Number(lenText) > max) {
    throw new RangeError(`"/${lenText}" is not a prefix length for an IPv${address.length === 4 ? 4 : 6} address (0 to ${max})`);
  }
  return { address, prefixLength: Number(lenText) };
}

/** `address/len` text form. */
export function formatPrefix(prefix: IpPrefix): string {
  return `${formatIp(prefix.address)}/${prefix.prefixLength}`;
}

/** Copy of `address` with the bits after `prefixLength` cleared (the network address). */
export function maskAddress(address: IpAddress, prefixLength: number): IpAddress {
  const out = new Uint8Array(address);
  for (let bit = prefixLength; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/** True when `address` lies inside `prefix` (and is of the same family). */
export function prefixContains(prefix: IpPrefix, address: IpAddress): boolean {
  if (prefix.address.length !== address.length) return false;
  const full = prefix.prefixLength >> 3;
  for (let i = 0; i < full; i++) if (prefix.address[i] !== address[i]) return false;
  const rem = prefix.prefixLength & 7;
  if (rem === 0) return true;
  const mask = (0xff00 >> rem) & 0xff;
  return (prefix.address[full] & mask) === (address[full] & mask);
}

/** Byte equality for addresses. */
export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A UDP endpoint: host (IP literal or name) and port, as written in `Endpoint = host:port`. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port`, `[v6]:port` or `v4:port`.
 * @throws {RangeError} naming the problem.
 */
export function parseEndpoint(text: string): Endpoint {
  const t = text.trim();
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close < 0 || t[close + 1] !== ':') throw new RangeError(`"${t}" is not host:port ([v6]:port for IPv6)`);
    host = t.slice(1, close);
    if (!parseIpv6(host)) throw new RangeError(`"${host}" is not an IPv6 address`);
    portText = t.slice(close + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon <= 0) throw new RangeError(`"${t}" has no port: write host:port ([v6]:port for IPv6)`);
    host = t.slice(0, colon);
    if (host.includes(':')) throw new RangeError(`"${t}": put an IPv6 address in brackets, as [${host}]:port`);
    portText = t.slice(colon + 1);
  }
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new RangeError(`"${portText}" is not a port (1 to 65535)`);
  }
  if (host === '') throw new RangeError(`"${t}" has an empty host`);
  return { host, port: Number(portText) };
}

/** `host:port`, bracketing IPv6 literals. */
export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}
