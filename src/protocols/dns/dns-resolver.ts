/**
 * A stub resolver (RFC 1035 §7, RFC 1123 §6.1.3) for names looked up inside the tunnel, using the
 * servers from the config's `DNS =` line. Runs over any {@link Dialer}.
 *
 *   lookup(name) ─▶ literal IP? ─▶ done
 *                └▶ resolve(name, A) + resolve(name, AAAA)
 *   resolve(name, type) ─▶ "localhost"? (RFC 6761 §6.3) ─▶ loopback, never asked upstream
 *        └▶ for each search candidate (single-label names, like wg-quick's DNS search domains)
 *             └▶ cache ─▶ (coalesced) query: for each attempt, for each server:
 *                  UDP, fresh random ID and source port (RFC 5452 §9.2), reply checked against
 *                  server/port/ID/question ─▶ TC set? ─▶ same query over TCP (RFC 7766 §5)
 *             └▶ CNAME chain followed inside the answer; positive/negative caching (RFC 2308)
 *
 * Malformed or mismatched datagrams are dropped and counted in {@link DnsResolver.stats}; the
 * caller sees {@link WgwebError}s: DNS_NXDOMAIN, DNS_TIMEOUT, DNS_FAILURE, ABORTED.
 */
import { DNS_PORT, EDNS_UDP_PAYLOAD_SIZE, MAX_CNAME_CHAIN, MAX_CNAME_REQUERIES } from './dns-constants.ts';
import { WgwebError, ErrorCode } from '../../shared/errors.ts';
import { formatIp, ipEquals, tryParseIp, type IpAddress } from '../../shared/ip-address.ts';
import type { Dialer, TcpConnection, UdpEndpointSocket } from '../../engine/dialer.ts';
import { aborted, formatSocketAddress } from '../../engine/dialer.ts';
import { DnsCache } from './dns-cache.ts';
import {
  DNS_CLASS_IN,
  DnsPacket,
  DnsRcode,
  DnsType,
  emitDnsMessage,
  ednsOptRecord,
  nameToLabels,
  namesEqual,
  parseDnsMessage,
  queryFlags,
  rcodeName,
  typeName,
  type DnsMessage,
  type DnsParseFailure,
} from './dns-message.ts';
import { SignalScope, raceSignal } from '../../shared/signal-scope.ts';
import type { RandomBytes } from '../../shared/bytes.ts';
import { concatBytes, webCryptoRandomBytes } from '../../shared/bytes.ts';


export type DnsRecordType = 'A' | 'AAAA';


export interface DnsResolverOptions {
  dialer: Dialer;
  /** The config's `DNS =` servers, tried in order. */
  servers: IpAddress[];
  /** Server port (default 53); tests point it elsewhere. */
  port?: number;
  /** Search domains for single-label names (the non-IP entries of `DNS =`). */
  searchDomains?: string[];
  /** Wait per query per server before trying the next (default 2000 ms). */
  timeoutMs?: number;
  /** Rounds over the server list (default 3), as resolv.conf's `attempts`. */
  attempts?: number;
  /** Monotonic milliseconds, for the cache and `elapsedMs` (default `performance.now`). */
  now?: () => number;
  randomBytes?: RandomBytes;
  /** Cache entries kept at most (default 512; 0 disables the cache). */
  cacheSize?: number;
  /** Advertise a larger UDP payload with EDNS(0) (default true); a FORMERR reply retries without it. */
  edns?: boolean;
}

export interface DnsResolveResult {
  /** The name that was answered: the input, or the search-domain candidate that matched. */
  name: string;
  /** The owner of the addresses after following CNAMEs. */
  canonicalName: string;
  /** Addresses of the requested family; empty when the name exists without such records (NODATA). */
  addresses: IpAddress[];
  /** Seconds the answer may be cached (remaining seconds when it came from the cache). */
  ttl: number;
  /** The server that answered; absent for literal addresses and `localhost`. */
  server?: IpAddress;
  /** How the answer was obtained. */
  source: 'udp' | 'tcp' | 'cache' | 'local';
  elapsedMs: number;
}

export interface DnsResolverStats {
  /** Queries sent, by transport. */
  udpQueries: number;
  tcpQueries: number;
  cacheHits: number;
  /** Replies that arrived and were dropped, by reason. */
  drops: Partial<Record<DnsDropReason, number>>;
}

export type DnsDropReason = DnsParseFailure | 'wrong-source' | 'wrong-id' | 'not-a-response' | 'wrong-question' | 'tcp-framing';

type ExactOutcome =
  | { kind: 'addresses'; addresses: IpAddress[]; canonicalName: string; ttl: number; server: IpAddress; source: 'udp' | 'tcp' | 'cache' }
  | { kind: 'nodata'; ttl: number; server: IpAddress; source: 'udp' | 'tcp' | 'cache'; canonicalName: string }
  | { kind: 'nxdomain'; server: IpAddress; source: 'udp' | 'tcp' | 'cache' };

/** One server's final answer to one query. */
interface Reply {
  message: DnsMessage;
  server: IpAddress;
  source: 'udp' | 'tcp';
}

function isLocalhost(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return n === 'localhost' || n.endsWith('.localhost');
}

/** Stub resolver over a {@link Dialer}. */
export class DnsResolver {
  private readonly dialer: Dialer;
  private readonly servers: IpAddress[];
  private readonly port: number;
  private readonly searchDomains: string[];
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly now: () => number;
  private readonly randomBytes: RandomBytes;
  private readonly edns: boolean;
  private readonly cache: DnsCache;
  private readonly inflight = new Map<string, { promise: Promise<ExactOutcome>; controller: AbortController; users: number }>();
  private readonly counters: DnsResolverStats = { udpQueries: 0, tcpQueries: 0, cacheHits: 0, drops: {} };

  constructor(options: DnsResolverOptions) {
    this.dialer = options.dialer;
    this.servers = [...options.servers];
    for (const s of this.servers) {
      if (!(s instanceof Uint8Array) || (s.length !== 4 && s.length !== 16)) throw new TypeError('DNS servers must be IpAddress values (4 or 16 bytes)');
    }
    this.port = options.port ?? DNS_PORT;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535) throw new RangeError(`DNS port must be 1 to 65535, not ${options.port}`);
    this.searchDomains = (options.searchDomains ?? []).map((d) => d.replace(/^\.+|\.+$/g, '')).filter((d) => d.length > 0);
    for (const d of this.searchDomains) nameToLabels(d);
    this.timeoutMs = options.timeoutMs ?? 2000;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive, not ${options.timeoutMs}`);
    this.attempts = options.attempts ?? 3;
    if (!Number.isInteger(this.attempts) || this.attempts < 1) throw new RangeError(`attempts must be a positive integer, not ${options.attempts}`);
    this.now = options.now ?? (() => performance.now());
    this.randomBytes = options.randomBytes ?? webCryptoRandomBytes;
    this.edns = options.edns ?? true;
    this.cache = new DnsCache({ maxEntries: options.cacheSize ?? 512 });
  }

  /** Counters for the UI and tests (a copy). */
  stats(): DnsResolverStats {
    return { ...this.counters, drops: { ...this.counters.drops } };
  }

  clearCache(): void {
    this.cache.clear();
  }

  /**
   * Addresses of one family for `name`.
   * @returns with empty `addresses` when the name exists but has no such records (NODATA).
   * @throws {WgwebError} DNS_NXDOMAIN, DNS_TIMEOUT, DNS_FAILURE, ABORTED.
   * @throws {RangeError} when `name` is not a valid DNS name.
   */
  async resolve(name: string, type: DnsRecordType, options: { signal?: AbortSignal } = {}): Promise<DnsResolveResult> {
    const started = this.now();
    const qtype = type === 'A' ? DnsType.A : type === 'AAAA' ? DnsType.AAAA : undefined;
    if (qtype === undefined) throw new RangeError(`record type must be "A" or "AAAA", not ${String(type)}`);
    const trimmed = name.trim();
    const literal = tryParseIp(trimmed.replace(/^\[(.*)\]$/, '$1'));
    if (literal) {
      const matches = (literal.length === 4) === (qtype === DnsType.A);
      return { name: trimmed, canonicalName: trimmed, addresses: matches ? [literal] : [], ttl: 0, source: 'local', elapsedMs: 0 };
    }
    nameToLabels(trimmed);
    if (isLocalhost(trimmed)) {
      // RFC 6761 §6.3: localhost names resolve to loopback and are never sent to a DNS server.
      // Whether loopback means anything through the tunnel is the dialer's business.
      const address = qtype === DnsType.A ? new Uint8Array([127, 0, 0, 1]) : new Uint8Array([...new Array(15).fill(0), 1]);
      return { name: trimmed, canonicalName: trimmed, addresses: [address], ttl: 0, source: 'local', elapsedMs: 0 };
    }
    if (options.signal?.aborted) throw aborted(`looking up ${trimmed}`, options.signal.reason);
    if (this.servers.length === 0) {
      throw new WgwebError(
        ErrorCode.DNS_FAILURE,
        `cannot look up ${trimmed}: no DNS server is configured (add a DNS = line to the [Interface] section of your config)`,
        { name: trimmed },
      );
    }
    const candidates = this.candidates(trimmed);
    let nodata: (ExactOutcome & { kind: 'nodata' }) | undefined;
    let nodataName = '';
    let nx: (ExactOutcome & { kind: 'nxdomain' }) | undefined;
    for (const candidate of candidates) {
      const outcome = await this.resolveExact(candidate, qtype, options.signal, trimmed);
      if (outcome.kind === 'addresses') {
        return {
          name: candidate,
          canonicalName: outcome.canonicalName,
          addresses: outcome.addresses,
          ttl: outcome.ttl,
          server: outcome.server,
          source: outcome.source,
          elapsedMs: this.now() - started,
        };
      }
      if (outcome.kind === 'nodata' && !nodata) {
        nodata = outcome;
        nodataName = candidate;
      }
      if (outcome.kind === 'nxdomain') nx ??= outcome;
    }
    if (nodata) {
      return {
        name: nodataName,
        canonicalName: nodata.canonicalName,
        addresses: [],
        ttl: nodata.ttl,
        server: nodata.server,
        source: nodata.source,
        elapsedMs: this.now() - started,
      };
    }
    const server = this.serverText(nx!.server);
    const tried = candidates.length > 1 ? `; tried ${candidates.join(', ')}` : '';
    throw new WgwebError(ErrorCode.DNS_NXDOMAIN, `${trimmed}: no such host (NXDOMAIN from ${server}${tried})`, {
      name: trimmed,
      server,
      tried: candidates,
    });
  }

  /**
   * All addresses for `name`, IPv4 first (unless only IPv6 exists). Literal addresses come back
   * as they are, without DNS.
   * @throws {WgwebError} DNS_NXDOMAIN (also when the name exists without any A/AAAA record, with
   *   `detail.nodata`), DNS_TIMEOUT, DNS_FAILURE, ABORTED.
   */
  async lookup(name: string, options: { family?: 4 | 6; signal?: AbortSignal } = {}): Promise<IpAddress[]> {
    const trimmed = name.trim();
    const literal = tryParseIp(trimmed.replace(/^\[(.*)\]$/, '$1'));
    if (literal) return [literal];
    const families: DnsRecordType[] = options.family === 4 ? ['A'] : options.family === 6 ? ['AAAA'] : ['A', 'AAAA'];
    const settled = await Promise.allSettled(families.map((t) => this.resolve(trimmed, t, { signal: options.signal })));
    const addresses: IpAddress[] = [];
    const errors: unknown[] = [];
    let server: IpAddress | undefined;
    for (const s of settled) {
      if (s.status === 'fulfilled') {
        addresses.push(...s.value.addresses);
        server ??= s.value.server;
      } else errors.push(s.reason);
    }
    if (addresses.length > 0) return addresses;
    if (errors.length > 0) {
      // The most telling failure wins: a definite "no such name" beats a server failure beats silence.
      const rank = (e: unknown): number => {
        const code = (e as { code?: unknown }).code;
        return code === ErrorCode.ABORTED ? 0 : code === ErrorCode.DNS_NXDOMAIN ? 1 : code === ErrorCode.DNS_FAILURE ? 2 : code === ErrorCode.DNS_TIMEOUT ? 3 : 4;
      };
      errors.sort((a, b) => rank(a) - rank(b));
      throw errors[0];
    }
    const kinds = families.join('/');
    const from = server ? ` on ${this.serverText(server)}` : '';
    throw new WgwebError(
      ErrorCode.DNS_NXDOMAIN,
      `${trimmed}: no address (the name exists, but has no ${kinds} record${families.length > 1 ? 's' : ''}${from})`,
      { name: trimmed, nodata: true },
    );
  }

  /** Names to try in order: search domains apply to single-label names only (ndots:1). */
  private candidates(name: string): string[] {
    if (name.endsWith('.')) return [name.slice(0, -1)];
    if (!name.includes('.') && this.searchDomains.length > 0) return [...this.searchDomains.map((d) => `${name}.${d}`), name];
    return [name];
  }

  private serverText(server: IpAddress): string {
    return this.port === DNS_PORT ? formatIp(server) : formatSocketAddress(server, this.port);
  }

  /**
   * Cache, then one coalesced network query per (name, type) at a time. The shared query is
   * cancelled only when every caller waiting for it has aborted.
   */
  private async resolveExact(name: string, qtype: number, signal: AbortSignal | undefined, asked: string): Promise<ExactOutcome> {
    const hit = this.cache.get(name, qtype, this.now());
    if (hit) {
      this.counters.cacheHits++;
      if (hit.kind === 'addresses') {
        return Promise.resolve({ kind: 'addresses', addresses: hit.addresses, canonicalName: hit.canonicalName, ttl: hit.ttl, server: hit.server, source: 'cache' });
      }
      if (hit.kind === 'nodata') return Promise.resolve({ kind: 'nodata', ttl: hit.ttl, server: hit.server, source: 'cache', canonicalName: name });
      return Promise.resolve({ kind: 'nxdomain', server: hit.server, source: 'cache' });
    }
    const key = `${qtype} ${name.toLowerCase()}`;
    let entry = this.inflight.get(key);
    if (!entry) {
      const controller = new AbortController();
      const promise = this.queryAndCache(name, qtype, controller.signal).finally(() => {
        if (this.inflight.get(key) === entry) this.inflight.delete(key);
      });
      entry = { promise, controller, users: 0 };
      this.inflight.set(key, entry);
    }
    const shared = entry;
    shared.users++;
    try {
      return await raceSignal(shared.promise, signal, (r) => aborted(`looking up ${asked}`, r));
    } finally {
      shared.users--;
      if (shared.users === 0 && signal?.aborted) {
        shared.controller.abort();
        if (this.inflight.get(key) === shared) this.inflight.delete(key);
      }
    }
  }

  private async queryAndCache(name: string, qtype: number, signal: AbortSignal): Promise<ExactOutcome> {
    let qname = name;
    let ttl = Infinity;
    for (let requery = 0; ; requery++) {
      const reply = await this.query(qname, qtype, signal);
      const m = reply.message;
      if (m.flags.rcode === DnsRcode.NXDOMAIN) {
        const negTtl = negativeTtl(m);
        if (negTtl !== undefined) this.cache.set(name, qtype, { kind: 'nxdomain', server: reply.server }, Math.min(ttl, negTtl), this.now());
        return { kind: 'nxdomain', server: reply.server, source: reply.source };
      }
      // Follow the CNAME chain inside the answer section (RFC 1034 §3.6.2, §5.3.3).
      let owner = qname;
      const seen = new Set<string>([owner.toLowerCase()]);
      for (let hop = 0; hop < MAX_CNAME_CHAIN; hop++) {
        const link = m.answers.find((r) => r.type === DnsType.CNAME && r.class === DNS_CLASS_IN && namesEqual(r.name, owner));
        if (!link || link.data.kind !== 'name') break;
        ttl = Math.min(ttl, link.ttl);
        owner = link.data.name;
        if (seen.has(owner.toLowerCase())) break; // a loop: what we have is all there is
        seen.add(owner.toLowerCase());
      }
      const addresses: IpAddress[] = [];
      for (const r of m.answers) {
        if (r.type === qtype && r.class === DNS_CLASS_IN && r.data.kind === 'address' && namesEqual(r.name, owner)) {
          if (!addresses.some((a) => ipEquals(a, (r.data as { address: IpAddress }).address))) addresses.push(r.data.address);
          ttl = Math.min(ttl, r.ttl);
        }
      }
      if (addresses.length > 0) {
        this.cache.set(name, qtype, { kind: 'addresses', addresses, canonicalName: owner, server: reply.server }, ttl, this.now());
        return { kind: 'addresses', addresses, canonicalName: owner, ttl, server: reply.server, source: reply.source };
      }
      if (!namesEqual(owner, qname) && requery < MAX_CNAME_REQUERIES && !hasSoaFor(m)) {
        // The chain leaves the answer without addresses (some servers stop at a CNAME to another
        // zone): ask for the target itself.
        qname = owner;
        continue;
      }
      const negTtl = negativeTtl(m);
      const finalTtl = negTtl === undefined ? 0 : Math.min(ttl, negTtl);
      if (negTtl !== undefined) this.cache.set(name, qtype, { kind: 'nodata', server: reply.server }, finalTtl, this.now());
      return { kind: 'nodata', ttl: finalTtl, server: reply.server, source: reply.source, canonicalName: owner };
    }
  }

  /**
   * One query as a diagnostic tool asks it: any type, the whole reply (answer, authority and
   * additional sections, NXDOMAIN included), no cache and no search domains; `servers` replaces
   * the configured ones for this query. UDP with TCP on truncation, retries as for lookups.
   * @throws {WgwebError} DNS_TIMEOUT, DNS_FAILURE (SERVFAIL, REFUSED...), ABORTED.
   * @throws {RangeError} when `name` is not a valid DNS name.
   */
  async queryMessage(
    name: string,
    qtype: number,
    options: { servers?: readonly IpAddress[]; signal?: AbortSignal } = {},
  ): Promise<{ message: DnsMessage; server: IpAddress; source: 'udp' | 'tcp'; elapsedMs: number }> {
    nameToLabels(name);
    if (!Number.isInteger(qtype) || qtype < 1 || qtype > 65535) throw new RangeError(`DNS type must be 1 to 65535, not ${qtype}`);
    const servers = options.servers ?? this.servers;
    if (servers.length === 0) throw new RangeError('queryMessage needs at least one server');
    const started = this.now();
    const reply = await this.query(name, qtype, options.signal ?? new AbortController().signal, servers);
    return { ...reply, elapsedMs: this.now() - started };
  }

  private countDrop(reason: DnsDropReason): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
  }

  /** A random ID for each query (RFC 5452 §9.2 needs both ID and port unpredictable). */
  private randomU16(): number {
    const b = this.randomBytes(2);
    return (b[0] << 8) | b[1];
  }

  private buildQuery(name: string, qtype: number, withEdns: boolean): { id: number; bytes: Uint8Array } {
    const id = this.randomU16();
    const bytes = emitDnsMessage({
      id,
      flags: queryFlags(),
      questions: [{ name, type: qtype, class: DNS_CLASS_IN }],
      answers: [],
      authorities: [],
      additionals: withEdns ? [ednsOptRecord(EDNS_UDP_PAYLOAD_SIZE)] : [],
    });
    return { id, bytes };
  }

  /** Is `bytes` the reply to (id, name, qtype)? Counts the drop reason when not. */
  private matchReply(bytes: Uint8Array, id: number, name: string, qtype: number): DnsMessage | undefined {
    const view = DnsPacket.view(bytes);
    if (!view) {
      this.countDrop('too-short');
      return undefined;
    }
    if (view.id !== id) {
      this.countDrop('wrong-id');
      return undefined;
    }
    if (!view.isResponse) {
      this.countDrop('not-a-response');
      return undefined;
    }
    const parsed = parseDnsMessage(bytes);
    if (!parsed.ok) {
      this.countDrop(parsed.reason);
      return undefined;
    }
    const q = parsed.message.questions;
    // RFC 5452 §9.1: the question must echo ours. A FORMERR may legitimately come without it.
    const echoes = q.length === 1 && namesEqual(q[0].name, name) && q[0].type === qtype && q[0].class === DNS_CLASS_IN;
    if (!echoes && !(q.length === 0 && parsed.message.flags.rcode === DnsRcode.FORMERR)) {
      this.countDrop('wrong-question');
      return undefined;
    }
    return parsed.message;
  }

  /**
   * Sends the query to the servers: `attempts` rounds, each server once per round. Servers that
   * answered SERVFAIL/REFUSED/NOTIMP are not asked again; silent ones are.
   */
  private async query(name: string, qtype: number, signal: AbortSignal, servers: readonly IpAddress[] = this.servers): Promise<Reply> {
    const failures = new Map<string, { server: IpAddress; rcode: number }>();
    let lastError: unknown;
    for (let attempt = 0; attempt < this.attempts; attempt++) {
      for (const server of servers) {
        const key = formatIp(server);
        if (failures.has(key)) continue;
        if (signal.aborted) throw aborted(`looking up ${name}`, signal.reason);
        let withEdns = this.edns;
        let reply: Reply | undefined;
        try {
          reply = await this.exchangeUdp(server, name, qtype, withEdns, signal);
          if (reply && reply.message.flags.rcode === DnsRcode.FORMERR && withEdns) {
            // RFC 6891 §7: a server that does not understand EDNS answers FORMERR; ask plainly.
            withEdns = false;
            reply = await this.exchangeUdp(server, name, qtype, withEdns, signal);
          }
          if (reply && reply.message.flags.tc) reply = await this.exchangeTcp(server, name, qtype, withEdns, signal);
        } catch (e) {
          if (signal.aborted) throw aborted(`looking up ${name}`, signal.reason);
          lastError = e;
          reply = undefined;
        }
        if (!reply) continue;
        const rcode = reply.message.flags.rcode;
        if (rcode === DnsRcode.NOERROR || rcode === DnsRcode.NXDOMAIN) return reply;
        failures.set(key, { server, rcode });
      }
      if (failures.size === servers.length) break;
    }
    if (failures.size > 0) {
      const [{ server, rcode }] = failures.values();
      const why =
        rcode === DnsRcode.REFUSED
          ? 'it refused to answer (it may not serve clients from your tunnel address)'
          : rcode === DnsRcode.SERVFAIL
            ? 'it could not resolve the name (its upstream may be down, or DNSSEC validation failed)'
            : `it answered ${rcodeName(rcode)}`;
      throw new WgwebError(
        ErrorCode.DNS_FAILURE,
        `DNS server ${this.serverText(server)} failed to look up ${name} ${qtypeText(qtype)}: ${why}`,
        { name, server: this.serverText(server), rcode: rcodeName(rcode) },
        { cause: lastError },
      );
    }
    const list = servers.map((s) => this.serverText(s));
    const who = list.length === 1 ? `DNS server ${list[0]}` : `DNS servers ${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
    const each = list.length === 1 ? '' : ' each';
    // A local failure (socket error, TCP fallback refused) is worth naming next to the advice.
    const last = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
    throw new WgwebError(
      ErrorCode.DNS_TIMEOUT,
      `no answer from ${who} after ${this.attempts} attempt${this.attempts === 1 ? '' : 's'}${each}: check the DNS = line of your config and that the server is reachable through the tunnel${last}`,
      { name, servers: list, attempts: this.attempts, timeoutMs: this.timeoutMs },
      { cause: lastError },
    );
  }

  private openSocket(): UdpEndpointSocket {
    // A random source port in the dynamic range (RFC 6335 §6) for each query (RFC 5452 §9.2).
    const b = this.randomBytes(2);
    const localPort = 49152 + (((b[0] << 8) | b[1]) & 0x3fff);
    try {
      return this.dialer.openUdp({ localPort });
    } catch {
      return this.dialer.openUdp();
    }
  }

  /** One UDP query/answer; `undefined` when nothing valid arrived in time. */
  private async exchangeUdp(server: IpAddress, name: string, qtype: number, withEdns: boolean, signal: AbortSignal): Promise<Reply | undefined> {
    const { id, bytes } = this.buildQuery(name, qtype, withEdns);
    const socket = this.openSocket();
    const scope = new SignalScope(signal);
    scope.deadline(this.timeoutMs, () => 'timeout');
    try {
      this.counters.udpQueries++;
      socket.send(server, this.port, bytes);
      for (;;) {
        let d;
        try {
          d = await socket.receive(scope.signal);
        } catch (e) {
          if (scope.aborted && !signal.aborted) return undefined; // this attempt timed out
          throw e;
        }
        if (!ipEquals(d.address, server) || d.port !== this.port) {
          this.countDrop('wrong-source');
          continue;
        }
        const message = this.matchReply(d.data, id, name, qtype);
        if (message) return { message, server, source: 'udp' };
      }
    } finally {
      scope.dispose();
      socket.close();
    }
  }

  /** The query over TCP with 2-byte length framing (RFC 1035 §4.2.2, RFC 7766 §8). */
  private async exchangeTcp(server: IpAddress, name: string, qtype: number, withEdns: boolean, signal: AbortSignal): Promise<Reply | undefined> {
    const { id, bytes } = this.buildQuery(name, qtype, withEdns);
    const scope = new SignalScope(signal);
    scope.deadline(this.timeoutMs, () => 'timeout');
    let conn: TcpConnection | undefined;
    let ok = false;
    try {
      this.counters.tcpQueries++;
      conn = await this.dialer.connectTcp(server, this.port, { signal: scope.signal, timeoutMs: this.timeoutMs });
      const framed = new Uint8Array(2 + bytes.length);
      framed[0] = bytes.length >> 8;
      framed[1] = bytes.length & 0xff;
      framed.set(bytes, 2);
      const writer = conn.writable.getWriter();
      await raceSignal(writer.write(framed), scope.signal, () => 'timeout');
      writer.releaseLock();
      const reader = conn.readable.getReader();
      let buf = new Uint8Array(0);
      for (;;) {
        if (buf.length >= 2) {
          const len = (buf[0] << 8) | buf[1];
          if (buf.length >= 2 + len) {
            const message = this.matchReply(buf.subarray(2, 2 + len), id, name, qtype);
            ok = true;
            return message ? { message, server, source: 'tcp' } : undefined;
          }
        }
        const r = await raceSignal(reader.read(), scope.signal, () => 'timeout');
        if (r.done) {
          this.countDrop('tcp-framing');
          return undefined;
        }
        buf = concatBytes(buf, r.value);
      }
    } catch (e) {
      if (scope.aborted && !signal.aborted) return undefined; // this attempt timed out
      throw e;
    } finally {
      scope.dispose();
      // RFC 7766 §6.2.3: the client closes; a clean FIN once done, a reset when giving up.
      if (ok) conn?.close();
      else conn?.abort();
    }
  }
}

function qtypeText(qtype: number): string {
  return `(${typeName(qtype)})`;
}

function hasSoaFor(m: DnsMessage): boolean {
  return m.authorities.some((r) => r.type === DnsType.SOA);
}

/** RFC 2308 §5: a negative answer lives for min(SOA TTL, SOA MINIMUM); without an SOA, not cached. */
function negativeTtl(m: DnsMessage): number | undefined {
  const soa = m.authorities.find((r) => r.type === DnsType.SOA && r.data.kind === 'soa');
  if (!soa || soa.data.kind !== 'soa') return undefined;
  return Math.min(soa.ttl, soa.data.soa.minimum);
}
