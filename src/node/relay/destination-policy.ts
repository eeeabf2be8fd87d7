/**
 * Which UDP destinations the relay may send to: deny by default, allow by `--allow` rules.
 *
 *   --allow 192.0.2.10:51820          one address, one port
 *   --allow 10.0.0.0/8:51820-51830    a prefix and a port range
 *   --allow 10.0.0.0/8                a prefix, any port
 *   --allow [2001:db8::/32]:51820     IPv6 prefix with a port (brackets); 2001:db8::/32 for any port
 *   --allow vpn.example.com:51820     a host name, resolved by the relay
 *
 * A session's destination is always checked as an address: when the client names a host, the
 * relay resolves it, checks each resolved address in turn and connects to the first allowed one,
 * so the address that was checked is the address used (no DNS-rebinding gap). A host-name rule
 * matches the addresses that name resolves to (cached for a short while).
 *
 * Some addresses are never reachable through the relay (unspecified, multicast, broadcast and
 * reserved), and loopback and link-local addresses are reachable only through a rule that lies
 * inside them (`127.0.0.1:51820`, `localhost:51820`), never through a broad one such as
 * `0.0.0.0/0:51820`: a relay operator allowing "the internet" must not expose the relay host's own
 * loopback services or a cloud metadata address. IPv6 forms that carry an IPv4 address (NAT64
 * `64:ff9b::/96` and `64:ff9b:1::/48`, 6to4 `2002::/16`, IPv4-compatible `::a.b.c.d`) are judged by
 * that IPv4 address: under `[::/0]:51820` or `[2000::/3]:51820`, `64:ff9b::127.0.0.1`,
 * `2002:a00:1::` (10.0.0.1) and `::169.254.169.254` stay refused; only a rule inside the translated
 * range (`[64:ff9b::10.0.0.0/104]:51820`) reaches them.
 */

import { lookup } from 'node:dns/promises';
import { formatEndpoint, formatIp, parsePrefix, prefixContains, tryParseIp, type Endpoint, type IpAddress, type IpPrefix } from '../../shared/ip-address.ts';
import { checkEndpointHost, RelayCloseCode, truncateCloseReason } from '../../shared/relay-protocol.ts';
import { createHostResolver } from './host-resolver.ts';

/** Inclusive UDP port range. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** A parsed `--allow` rule. `text` is the rule as written (for logs and removal). */
export type AllowRule =
  | { readonly kind: 'prefix'; readonly text: string; readonly prefix: IpPrefix; readonly ports: PortRange }
  | { readonly kind: 'host'; readonly text: string; readonly host: string; readonly ports: PortRange };

const ANY_PORT: PortRange = { from: 1, to: 65535 };

function parsePorts(text: string, rule: string): PortRange {
  if (text === '*') return ANY_PORT;
  const m = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/.exec(text);
  if (!m) throw new RangeError(`--allow ${rule}: "${text}" is not a port or a port range like 51820-51830`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || to > 65535 || from > to) throw new RangeError(`--allow ${rule}: ports must be 1 to 65535, low-high`);
  return { from, to };
}

function parseTarget(text: string, rule: string): { prefix: IpPrefix } | { host: string } {
  if (text.includes('/')) {
    let prefix: IpPrefix;
    try {
      prefix = parsePrefix(text);
    } catch (e) {
      throw new RangeError(`--allow ${rule}: ${(e as Error).message}`);
    }
    if (text.includes('%')) throw new RangeError(`--allow ${rule}: IPv6 zone identifiers are not supported`);
    const v4 = unmapIpv4(prefix.address);
    if (v4 !== prefix.address && prefix.prefixLength >= 96) prefix = { address: v4, prefixLength: prefix.prefixLength - 96 };
    return { prefix };
  }
  const ip = text.includes('%') ? undefined : tryParseIp(text);
  if (ip) {
    const a = unmapIpv4(ip);
    return { prefix: { address: a, prefixLength: a.length * 8 } };
  }
  const problem = checkEndpointHost(text);
  if (problem) throw new RangeError(`--allow ${rule}: ${problem}`);
  return { host: text.toLowerCase() };
}

/**
 * Parses one `--allow` value: `<CIDR | address | host>[:<port | low-high | *>]`, IPv6 in brackets
 * when a port follows.
 * @throws {RangeError} naming what is wrong.
 */
export function parseAllowRule(text: string): AllowRule {
  const rule = text.trim();
  if (rule === '') throw new RangeError('--allow needs a value such as 192.0.2.10:51820 or 10.0.0.0/8');
  let target: string;
  let portText: string | undefined;
  if (rule.startsWith('[')) {
    const close = rule.indexOf(']');
    if (close < 0) throw new RangeError(`--allow ${rule}: missing "]"`);
    target = rule.slice(1, close);
    let rest = rule.slice(close + 1);
    // `[2001:db8::]/32:51820` as well as `[2001:db8::/32]:51820`.
    const len = /^\/([0-9]{1,3})/.exec(rest);
    if (len) {
      target += `/${len[1]}`;
      rest = rest.slice(len[0].length);
    }
    if (rest !== '') {
      if (!rest.startsWith(':')) throw new RangeError(`--allow ${rule}: expected ":port" after "]"`);
      portText = rest.slice(1);
    }
    if (!target.includes(':')) throw new RangeError(`--allow ${rule}: brackets are for IPv6 addresses`);
  } else {
    const colons = rule.split(':').length - 1;
    if (colons === 0) target = rule;
    else if (colons === 1) {
      target = rule.slice(0, rule.indexOf(':'));
      portText = rule.slice(rule.indexOf(':') + 1);
    } else target = rule; // bare IPv6 address or prefix: any port
  }
  if (target === '') throw new RangeError(`--allow ${rule}: missing address or host`);
  const ports = portText === undefined ? ANY_PORT : parsePorts(portText, rule);
  const t = parseTarget(target, rule);
  return 'prefix' in t ? { kind: 'prefix', text: rule, prefix: t.prefix, ports } : { kind: 'host', text: rule, host: t.host, ports };
}

// --- Special addresses ---------------------------------------------------------------------------

/**
 * How the policy treats an address regardless of rules. `private` (RFC 1918 and the RFC 6598
 * shared range) is reachable through any rule that covers it, like `normal`, except through an
 * IPv6 translation form (see {@link embeddedIpv4}).
 */
export type AddressClass = 'forbidden' | 'loopback' | 'link-local' | 'private' | 'normal';

const FORBIDDEN: IpPrefix[] = [
  '0.0.0.0/8', // "this network": connecting to 0.0.0.0 reaches the relay host itself
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, includes 255.255.255.255 (broadcast)
  '::/128', // unspecified
  'ff00::/8', // multicast
].map(parsePrefix);
const LOOPBACK: IpPrefix[] = ['127.0.0.0/8', '::1/128'].map(parsePrefix);
const LINK_LOCAL: IpPrefix[] = ['169.254.0.0/16', 'fe80::/10'].map(parsePrefix);
const PRIVATE: IpPrefix[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'].map(parsePrefix);

/**
 * An IPv6 form that carries an IPv4 address in fixed bytes; traffic to it ends up at that IPv4
 * address (through a NAT64 gateway, a 6to4 relay or an automatic tunnel), so it is judged by it.
 */
interface Ipv4Translation {
  readonly prefix: IpPrefix;
  /** Where the IPv4 address's four bytes sit in the IPv6 address. */
  readonly octets: readonly [number, number, number, number];
}

const TRANSLATIONS: readonly Ipv4Translation[] = [
  // RFC 6052 §2.1 well-known NAT64 prefix; /96 layout of §2.2: the IPv4 address is the last 32 bits.
  { prefix: parsePrefix('64:ff9b::/96'), octets: [12, 13, 14, 15] },
  // RFC 8215 local-use NAT64 prefix, /48 layout of RFC 6052 §2.2: bits 64-71 (byte 8) are the zero "u" octet.
  { prefix: parsePrefix('64:ff9b:1::/48'), octets: [6, 7, 9, 10] },
  // RFC 3056 §2: 6to4, 2002:V4ADDR::/48.
  { prefix: parsePrefix('2002::/16'), octets: [2, 3, 4, 5] },
  // RFC 4291 §2.5.5.1: deprecated IPv4-compatible addresses, ::a.b.c.d (:: and ::1 are classified first).
  { prefix: parsePrefix('::/96'), octets: [12, 13, 14, 15] },
];

/** ::ffff:a.b.c.d → a.b.c.d; anything else unchanged. */
export function unmapIpv4(address: IpAddress): IpAddress {
  if (address.length !== 16) return address;
  for (let i = 0; i < 10; i++) if (address[i] !== 0) return address;
  if (address[10] !== 0xff || address[11] !== 0xff) return address;
  return address.slice(12);
}

/**
 * The IPv4 address an IPv6 address carries in a NAT64 (`64:ff9b::/96`, `64:ff9b:1::/48`), 6to4
 * (`2002::/16`) or IPv4-compatible (`::a.b.c.d`) form, with that form; `undefined` for any other
 * address (IPv4-mapped addresses are unmapped by {@link unmapIpv4} instead).
 */
export function embeddedIpv4(address: IpAddress): { ipv4: IpAddress; form: Ipv4Translation } | undefined {
  if (address.length !== 16) return undefined;
  const form = TRANSLATIONS.find((t) => prefixContains(t.prefix, address));
  if (!form) return undefined;
  return { ipv4: Uint8Array.from(form.octets, (i) => address[i]), form };
}

/** The IPv6 prefix that `v4` (an IPv4 prefix) takes in a translation form. */
function translatePrefix(form: Ipv4Translation, v4: IpPrefix): IpPrefix {
  const address = form.prefix.address.slice();
  form.octets.forEach((at, i) => (address[at] = v4.address[i]));
  if (v4.prefixLength === 0) return { address, prefixLength: form.prefix.prefixLength };
  const last = v4.prefixLength - 1; // the prefix ends right after the IPv4 prefix's last bit
  return { address, prefixLength: form.octets[last >> 3] * 8 + (last & 7) + 1 };
}

function classifyPlain(a: IpAddress): AddressClass {
  if (FORBIDDEN.some((p) => prefixContains(p, a))) return 'forbidden';
  if (LOOPBACK.some((p) => prefixContains(p, a))) return 'loopback';
  if (LINK_LOCAL.some((p) => prefixContains(p, a))) return 'link-local';
  if (PRIVATE.some((p) => prefixContains(p, a))) return 'private';
  return 'normal';
}

/**
 * Classifies a destination address. IPv4-mapped IPv6 is classified as IPv4, and the NAT64, 6to4
 * and IPv4-compatible forms by the IPv4 address they carry: `64:ff9b::127.0.0.1` is loopback.
 */
export function classifyAddress(address: IpAddress): AddressClass {
  const a = unmapIpv4(address);
  const plain = classifyPlain(a);
  if (plain !== 'normal') return plain;
  const embedded = embeddedIpv4(a);
  return embedded ? classifyPlain(embedded.ipv4) : 'normal';
}

/**
 * The range a rule must lie inside to reach `a` of class `cls`, or `undefined` when any covering
 * rule will do. Loopback and link-local need a rule inside their range; so does anything
 * non-public carried in an IPv6 translation form: an operator allowing "public IPv6" has not
 * allowed the relay's loopback or its private IPv4 network behind a NAT64 or 6to4 gateway.
 */
function requiredRange(a: IpAddress, cls: AddressClass): IpPrefix[] | undefined {
  if (cls === 'normal') return undefined;
  const embedded = classifyPlain(a) === 'normal' ? embeddedIpv4(a) : undefined;
  if (embedded) {
    const range = [...LOOPBACK, ...LINK_LOCAL, ...PRIVATE].find((p) => prefixContains(p, embedded.ipv4));
    return range ? [translatePrefix(embedded.form, range)] : [];
  }
  if (cls === 'loopback') return LOOPBACK;
  if (cls === 'link-local') return LINK_LOCAL;
  return undefined;
}

/** True when every address of `inner` lies inside `outer`. */
function prefixInside(inner: IpPrefix, outer: IpPrefix): boolean {
  return inner.prefixLength >= outer.prefixLength && prefixContains(outer, inner.address);
}

function portAllowed(r: PortRange, port: number): boolean {
  return port >= r.from && port <= r.to;
}

// --- The policy ----------------------------------------------------------------------------------

/** Resolves a host name to addresses (all families, resolver order). */
export type Resolver = (host: string) => Promise<IpAddress[]>;

/**
 * The operating system's resolver (getaddrinfo, so /etc/hosts applies). Not the default: it runs
 * on libuv's small threadpool, which hung lookups exhaust (see host-resolver.ts).
 */
export const systemResolver: Resolver = async (host) => {
  const results = await lookup(host, { all: true, verbatim: true });
  const out: IpAddress[] = [];
  for (const r of results) {
    const ip = tryParseIp(r.address);
    if (ip) out.push(unmapIpv4(ip));
  }
  return out;
};

/** The outcome of {@link DestinationPolicy.decide}. */
export type PolicyDecision =
  | { readonly allowed: true; readonly address: IpAddress; readonly port: number }
  | { readonly allowed: false; readonly code: RelayCloseCode; readonly reason: string; readonly logDetail?: Record<string, unknown> };

export interface DestinationPolicyOptions {
  /** Default: {@link createHostResolver} (c-ares with its own timeout, /etc/hosts first). Tests inject a table. */
  resolve?: Resolver;
  /** Per lookup; default 5000 ms. */
  resolveTimeoutMs?: number;
  /** How long a host-name rule's addresses are reused; default 30000 ms. */
  ruleCacheMs?: number;
  /** Monotonic clock in ms; default performance.now. */
  now?: () => number;
}

interface CacheEntry {
  expires: number;
  addresses: Promise<IpAddress[]>;
}

/**
 * The relay's allow list. Mutable at runtime (`add`/`remove`), e.g. by the built-in demo peer,
 * and consulted once per session when it opens.
 */
export class DestinationPolicy {
  private readonly list: AllowRule[] = [];
  private readonly resolver: Resolver;
  private readonly resolveTimeoutMs: number;
  private readonly ruleCacheMs: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();

  /** @throws {RangeError} when a rule does not parse. */
  constructor(rules: Iterable<string | AllowRule> = [], options: DestinationPolicyOptions = {}) {
    this.resolveTimeoutMs = options.resolveTimeoutMs ?? 5000;
    // Not getaddrinfo: its threadpool let a few hung names starve every other lookup (host-resolver.ts).
    this.resolver = options.resolve ?? createHostResolver({ timeoutMs: Math.max(1, Math.floor(this.resolveTimeoutMs / 2)), tries: 2 });
    this.ruleCacheMs = options.ruleCacheMs ?? 30_000;
    this.now = options.now ?? (() => performance.now());
    for (const r of rules) this.add(r);
  }

  /** The rules, in the order they were added. */
  get rules(): readonly AllowRule[] {
    return [...this.list];
  }

  get size(): number {
    return this.list.length;
  }

  /**
   * Adds a rule (a string is parsed as an `--allow` value).
   * @throws {RangeError} when the rule does not parse.
   */
  add(rule: string | AllowRule): AllowRule {
    const r = typeof rule === 'string' ? parseAllowRule(rule) : rule;
    this.list.push(r);
    return r;
  }

  /** Removes a rule, given the rule object or its text. Sessions already open are not affected. */
  remove(rule: string | AllowRule): boolean {
    const i = this.list.findIndex((r) => r === rule || r.text === (typeof rule === 'string' ? rule.trim() : rule.text));
    if (i < 0) return false;
    this.list.splice(i, 1);
    return true;
  }

  /** True when a rule allows `address`:`port` (after the special-address checks). */
  async allows(address: IpAddress, port: number): Promise<boolean> {
    const a = unmapIpv4(address);
    const cls = classifyAddress(a);
    if (cls === 'forbidden') return false;
    const required = requiredRange(a, cls);
    for (const rule of this.list) {
      if (!portAllowed(rule.ports, port)) continue;
      if (rule.kind === 'prefix') {
        if (!prefixContains(rule.prefix, a)) continue;
        if (required && !required.some((p) => prefixInside(rule.prefix, p))) continue;
        return true;
      }
      // A host rule names its addresses explicitly, loopback included (`localhost:51820`).
      const addrs = await this.ruleAddresses(rule.host);
      if (addrs.some((x) => x.length === a.length && x.every((b, i) => b === a[i]))) return true;
    }
    return false;
  }

  /**
   * Resolves `endpoint` (if it names a host) and picks the first address the rules allow.
   * Never throws: a refusal carries the close code and a reason for the client.
   */
  async decide(endpoint: Endpoint): Promise<PolicyDecision> {
    const where = formatEndpoint(endpoint);
    let candidates: IpAddress[];
    const literal = endpoint.host.includes('%') ? undefined : tryParseIp(endpoint.host);
    if (literal) candidates = [unmapIpv4(literal)];
    else {
      const problem = checkEndpointHost(endpoint.host);
      if (problem) return refuse(RelayCloseCode.BAD_REQUEST, `bad endpoint: ${problem}`);
      try {
        candidates = await this.withTimeout(this.resolver(endpoint.host), endpoint.host);
      } catch (e) {
        return refuse(RelayCloseCode.RESOLVE_FAILED, `cannot resolve ${endpoint.host}: ${resolveErrorText(e)}`);
      }
      if (candidates.length === 0) return refuse(RelayCloseCode.RESOLVE_FAILED, `cannot resolve ${endpoint.host}: no addresses`);
    }
    let hint = '';
    for (const c of candidates) {
      const a = unmapIpv4(c);
      const cls = classifyAddress(a);
      if (cls === 'forbidden') {
        hint = literal ? ` (${formatIp(a)} is never relayed)` : '';
        continue;
      }
      if (await this.allows(a, endpoint.port)) return { allowed: true, address: a, port: endpoint.port };
      // A literal is the client's own words; what a name resolves to is not the client's business:
      // a close reason naming it would make the relay a DNS oracle for any page (logs keep it).
      if (requiredRange(a, cls) && literal) hint = ` (${cls} needs an explicit rule like --allow ${formatEndpoint({ host: formatIp(a), port: endpoint.port })})`;
    }
    const logDetail = literal ? undefined : { resolved: candidates.map((c) => formatIp(unmapIpv4(c))).slice(0, 8) };
    return { ...refuse(RelayCloseCode.DESTINATION_NOT_ALLOWED, `${where} is not allowed by this relay${hint}`), logDetail } as PolicyDecision;
  }

  private ruleAddresses(host: string): Promise<IpAddress[]> {
    const now = this.now();
    const hit = this.cache.get(host);
    if (hit && hit.expires > now) return hit.addresses;
    // A failed lookup makes the rule match nothing until it is retried (after a shorter while).
    const entry: CacheEntry = { expires: now + this.ruleCacheMs, addresses: Promise.resolve([]) };
    entry.addresses = this.withTimeout(this.resolver(host), host).then(
      (list) => list.map(unmapIpv4),
      () => {
        entry.expires = Math.min(entry.expires, this.now() + 5000);
        return [];
      },
    );
    this.cache.set(host, entry);
    return entry.addresses;
  }

  private withTimeout<T>(p: Promise<T>, host: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`lookup of ${host} timed out`), { code: 'ETIMEOUT' })), this.resolveTimeoutMs);
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }
}

function refuse(code: RelayCloseCode, reason: string): PolicyDecision {
  return { allowed: false, code, reason: truncateCloseReason(reason) };
}

function resolveErrorText(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (code === 'ENOTFOUND' || code === 'ENODATA') return 'no such host';
  if (code === 'ETIMEOUT') return 'lookup timed out';
  if (typeof code === 'string') return code;
  return 'lookup failed';
}

