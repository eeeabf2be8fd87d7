/**
 * The demo peer's DNS answers, sans-IO: a query message in, a response message out (RFC 1035
 * §4.1), authoritative for `intranet.demo` and for the reverse names of the demo peer's addresses.
 *
 *   query bytes ──parseDnsMessage──▶ checks (a query? opcode 0? one question? class IN?)
 *     ──▶ in the zone?  name exists?  ──▶ NOERROR with records | NODATA + SOA | NXDOMAIN + SOA
 *     └─▶ outside it ──▶ NXDOMAIN (this server resolves nothing else; the tunnel has no internet)
 *   ──▶ EDNS(0) OPT echoed when the query had one (RFC 6891 §7) ──▶ truncated (TC) past the size
 *       the client can take over UDP (RFC 1035 §4.2.1, RFC 6891 §6.2.5)
 *
 * Names:  intranet.demo        A, AAAA, NS, SOA, TXT      www.intranet.demo  CNAME intranet.demo
 *         echo / discard / dns .intranet.demo   A, AAAA   whoami.intranet.demo  the asker's address
 *         1.0.44.10.in-addr.arpa, 1.0…4.4.d.f.ip6.arpa   PTR intranet.demo
 */
import {
  DNS_CLASS_IN,
  DNS_HEADER_LENGTH,
  DnsRcode,
  DnsType,
  emitDnsMessage,
  ednsOptRecord,
  labelsKey,
  nameToLabels,
  parseDnsMessage,
  type DnsFlags,
  type DnsMessage,
  type DnsRecord,
} from '../../../protocols/dns/dns-message.ts';
import { reverseName } from '../../../protocols/dns/dns-presentation.ts';
import type { IpAddress } from '../../../shared/ip-address.ts';

/** EDNS(0) payload size we advertise and honour at most (the DNS Flag Day 2020 value). */
export const DEMO_EDNS_PAYLOAD = 1232;
/** Class ANY (RFC 1035 §3.2.5), accepted like IN. */
const CLASS_ANY = 255;
/** QTYPE * (RFC 1035 §3.2.3); answered with the name's address records (RFC 8482 §4.2 allows a subset). */
const QTYPE_ANY = 255;

export interface DnsZoneOptions {
  /** Zone apex, e.g. `intranet.demo`. */
  zone: string;
  /** The demo peer's addresses. */
  address4: IpAddress;
  address6: IpAddress;
  /** TTL of positive answers (seconds). */
  ttl?: number;
  /**
   * The registered addresses of a client, by either of its addresses (for `whoami` across
   * families); undefined when unknown.
   */
  clientAddresses?: (address: IpAddress) => { address4: IpAddress; address6: IpAddress } | undefined;
}

/** Counters of answered and refused queries. */
export interface DnsZoneStats {
  queries: number;
  answers: Record<string, number>;
  drops: Record<string, number>;
}

type Rrset = Map<number, DnsRecord['data'][]>;

/** The zone's data and the query logic. */
export class DnsZone {
  readonly zone: string;
  private readonly ttl: number;
  /** Owner names by {@link labelsKey}: names are label sequences of arbitrary bytes, compared as such. */
  private readonly names = new Map<string, Rrset>();
  private readonly zoneKey: string;
  private readonly zoneLength: number;
  private readonly options: DnsZoneOptions;
  private readonly counters: DnsZoneStats = { queries: 0, answers: {}, drops: {} };
  private readonly soa: DnsRecord;

  constructor(options: DnsZoneOptions) {
    this.options = options;
    this.zone = options.zone.toLowerCase().replace(/\.$/, '');
    this.zoneKey = keyOf(this.zone);
    this.zoneLength = nameToLabels(this.zone).length;
    this.ttl = options.ttl ?? 60;
    const z = this.zone;
    const addr = (): Rrset =>
      new Map<number, DnsRecord['data'][]>([
        [DnsType.A, [{ kind: 'address', address: options.address4 }]],
        [DnsType.AAAA, [{ kind: 'address', address: options.address6 }]],
      ]);
    const apex = addr();
    apex.set(DnsType.NS, [{ kind: 'name', name: `dns.${z}` }]);
    apex.set(DnsType.TXT, [{ kind: 'raw', bytes: txt('wgweb demo peer: a WireGuard peer made of wgweb\'s own TypeScript core and TCP/IP stack') }]);
    this.soa = {
      name: z,
      type: DnsType.SOA,
      class: DNS_CLASS_IN,
      ttl: this.ttl,
      data: { kind: 'soa', soa: { mname: `dns.${z}`, rname: `hostmaster.${z}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: 30 } },
    };
    apex.set(DnsType.SOA, [this.soa.data]);
    this.names.set(keyOf(z), apex);
    this.names.set(keyOf(`www.${z}`), new Map([[DnsType.CNAME, [{ kind: 'name', name: z }]]]));
    for (const label of ['echo', 'discard', 'dns']) this.names.set(keyOf(`${label}.${z}`), addr());
    this.names.set(keyOf(`whoami.${z}`), new Map()); // filled per query
    for (const a of [options.address4, options.address6]) this.names.set(keyOf(reverseName(a)), new Map([[DnsType.PTR, [{ kind: 'name', name: z }]]]));
  }

  stats(): DnsZoneStats {
    return { queries: this.counters.queries, answers: { ...this.counters.answers }, drops: { ...this.counters.drops } };
  }

  /**
   * The response to one query, or undefined when nothing should be sent (not a query, or too
   * broken to even echo an ID).
   * @param from the asker's address (for whoami).
   * @param transport UDP responses are truncated to what the client can take; TCP ones are not.
   */
  answer(query: Uint8Array, from: IpAddress, transport: 'udp' | 'tcp'): Uint8Array | undefined {
    this.counters.queries++;
    if (query.length < DNS_HEADER_LENGTH) return this.drop('too-short');
    if (query[2] & 0x80) return this.drop('not-a-query');
    const id = (query[0] << 8) | query[1];
    const rd = (query[2] & 0x01) !== 0;
    const opcode = (query[2] >> 3) & 0x0f;
    try {
      return this.respond(query, id, rd, opcode, from, transport);
    } catch {
      // The service boundary: whatever went wrong answers this one query with SERVFAIL (RFC 1035
      // §4.1.1, "unable to process ... due to a problem with the name server") and nothing else.
      return this.reply(bare(id, rd, opcode, DnsRcode.SERVFAIL), 'SERVFAIL');
    }
  }

  private respond(query: Uint8Array, id: number, rd: boolean, opcode: number, from: IpAddress, transport: 'udp' | 'tcp'): Uint8Array | undefined {
    const parsed = parseDnsMessage(query);
    if (!parsed.ok) return this.reply(bare(id, rd, opcode, DnsRcode.FORMERR), 'FORMERR');
    const q = parsed.message;
    const opt = q.additionals.find((r) => r.type === DnsType.OPT);
    const limit = transport === 'tcp' ? 65535 : opt ? Math.min(Math.max(512, opt.class), DEMO_EDNS_PAYLOAD) : 512;
    const response: DnsMessage = {
      id,
      flags: flags(rd, opcode, DnsRcode.NOERROR),
      questions: q.questions,
      answers: [],
      authorities: [],
      additionals: opt ? [ednsOptRecord(DEMO_EDNS_PAYLOAD)] : [],
    };
    if (opcode !== 0) return this.finish(response, DnsRcode.NOTIMP, 'NOTIMP', limit);
    if (q.questions.length !== 1) return this.finish(response, DnsRcode.FORMERR, 'FORMERR', limit);
    const question = q.questions[0];
    if (question.class !== DNS_CLASS_IN && question.class !== CLASS_ANY) return this.finish(response, DnsRcode.REFUSED, 'REFUSED', limit);
    // Labels, never a dotted string: a label may hold dots, backslashes or any byte.
    const labels = nameToLabels(question.name);
    const key = labelsKey(labels);
    const inZone = labels.length >= this.zoneLength && labelsKey(labels.slice(labels.length - this.zoneLength)) === this.zoneKey;
    const rrset = this.lookupKey(key, from);
    if (!rrset) {
      if (inZone || this.names.has(key)) {
        response.flags.aa = true;
        response.authorities.push(this.soa);
      }
      return this.finish(response, DnsRcode.NXDOMAIN, 'NXDOMAIN', limit);
    }
    response.flags.aa = true;
    // The owner is the question's name as asked (its case and bytes), RFC 1034 §4.3.2.
    const owner = question.name;
    const add = (ownerName: string, type: number, set: Rrset): boolean => {
      const data = set.get(type);
      if (!data) return false;
      for (const d of data) response.answers.push({ name: ownerName, type, class: DNS_CLASS_IN, ttl: this.ttl, data: d });
      return true;
    };
    const cname = rrset.get(DnsType.CNAME);
    if (cname && question.type !== DnsType.CNAME) {
      // RFC 1034 §4.3.2: the CNAME, then the target's records of the asked type.
      add(owner, DnsType.CNAME, rrset);
      const target = (cname[0] as { kind: 'name'; name: string }).name;
      const targetSet = this.lookup(target, from);
      if (targetSet) this.addTypes(response, target, question.type, targetSet);
      if (!response.answers.some((r) => r.type !== DnsType.CNAME)) response.authorities.push(this.soa);
      return this.finish(response, DnsRcode.NOERROR, 'NOERROR', limit);
    }
    this.addTypes(response, owner, question.type, rrset);
    if (response.answers.length === 0) {
      response.authorities.push(this.soa);
      return this.finish(response, DnsRcode.NOERROR, 'NODATA', limit);
    }
    return this.finish(response, DnsRcode.NOERROR, 'NOERROR', limit);
  }

  private addTypes(response: DnsMessage, owner: string, qtype: number, set: Rrset): void {
    const types = qtype === QTYPE_ANY ? [DnsType.A, DnsType.AAAA] : [qtype];
    for (const t of types) {
      for (const d of set.get(t) ?? []) response.answers.push({ name: owner, type: t, class: DNS_CLASS_IN, ttl: this.ttl, data: d });
    }
  }

  private lookup(name: string, from: IpAddress): Rrset | undefined {
    return this.lookupKey(keyOf(name), from);
  }

  private lookupKey(key: string, from: IpAddress): Rrset | undefined {
    if (key === keyOf(`whoami.${this.zone}`)) {
      // The answer depends on who asks; caching it is still right, as every client has its own resolver.
      const known = this.options.clientAddresses?.(from);
      const a4 = from.length === 4 ? from : known?.address4;
      const a6 = from.length === 16 ? from : known?.address6;
      const set: Rrset = new Map();
      if (a4) set.set(DnsType.A, [{ kind: 'address', address: a4 }]);
      if (a6) set.set(DnsType.AAAA, [{ kind: 'address', address: a6 }]);
      return set;
    }
    return this.names.get(key);
  }

  private finish(response: DnsMessage, rcode: number, outcome: string, limit: number): Uint8Array {
    response.flags.rcode = rcode;
    let bytes = emitDnsMessage(response, { compress: true });
    if (bytes.length > limit) {
      // Too big for this UDP client: an empty, truncated answer sends it to TCP (RFC 7766 §5).
      response.answers = [];
      response.authorities = [];
      response.flags.tc = true;
      bytes = emitDnsMessage(response, { compress: true });
    }
    return this.reply(bytes, outcome);
  }

  private reply(bytes: Uint8Array, outcome: string): Uint8Array {
    this.counters.answers[outcome] = (this.counters.answers[outcome] ?? 0) + 1;
    return bytes;
  }

  private drop(reason: string): undefined {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1;
    return undefined;
  }
}

/** The comparison key of a name the zone itself spells (always valid). */
function keyOf(name: string): string {
  return labelsKey(nameToLabels(name));
}

function flags(rd: boolean, opcode: number, rcode: number): DnsFlags {
  return { qr: true, opcode, aa: false, tc: false, rd, ra: false, ad: false, cd: false, rcode };
}

/** A header-only response (for a query that did not parse). */
function bare(id: number, rd: boolean, opcode: number, rcode: number): Uint8Array {
  return emitDnsMessage({ id, flags: flags(rd, opcode, rcode), questions: [], answers: [], authorities: [], additionals: [] });
}

/** TXT RDATA: one <character-string> per 255 bytes (RFC 1035 §3.3.14). */
function txt(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const parts: number[] = [];
  for (let i = 0; i < bytes.length; i += 255) {
    const piece = bytes.subarray(i, i + 255);
    parts.push(piece.length, ...piece);
  }
  return Uint8Array.from(parts);
}
