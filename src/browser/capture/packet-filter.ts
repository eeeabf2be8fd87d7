/**
 * The packet list's filter box: a few words, every one of which must match (AND), each negated
 * by a leading `!` or a preceding `not`.
 *
 *   tcp tls udp dns icmp icmpv6 ipv4 ipv6 protocol (icmp matches ICMPv6 too, udp DNS, tcp TLS)
 *   in out                               direction (from the peer / to the peer)
 *   syn fin rst psh ack                  TCP flags
 *   fragment malformed                   IP fragments / packets a summary could not fully read
 *   port 443, port:443                   either port
 *   host 10.8.0.1, or just 10.8.0.1      either address (IPv6 in any RFC 5952-equivalent form)
 *   anything else                        case-insensitive text search in the row
 *
 * Never throws: a word it does not know is a text search.
 */
import { formatIp, tryParseIp } from '../../shared/ip-address.ts';
import type { PacketSummary } from './packet-summary.ts';

/** What a filter looks at: a summary plus the direction it travelled. */
export interface FilterableRow {
  direction: 'in' | 'out';
  summary: PacketSummary;
}

/** A compiled filter; `empty` when the text had no words (everything matches). */
export interface PacketFilter {
  readonly empty: boolean;
  matches(row: FilterableRow): boolean;
}

type Predicate = (row: FilterableRow) => boolean;

const KEYWORDS: Record<string, Predicate> = {
  tcp: (r) => r.summary.protocol === 'TCP' || r.summary.protocol === 'TLS',
  tls: (r) => r.summary.protocol === 'TLS',
  udp: (r) => r.summary.protocol === 'UDP' || r.summary.protocol === 'DNS',
  dns: (r) => r.summary.protocol === 'DNS',
  icmp: (r) => r.summary.protocol === 'ICMP' || r.summary.protocol === 'ICMPv6',
  icmpv6: (r) => r.summary.protocol === 'ICMPv6',
  ipv4: (r) => r.summary.version === 4,
  ip4: (r) => r.summary.version === 4,
  ip: (r) => r.summary.version === 4,
  ipv6: (r) => r.summary.version === 6,
  ip6: (r) => r.summary.version === 6,
  in: (r) => r.direction === 'in',
  out: (r) => r.direction === 'out',
  syn: (r) => flag(r, 'SYN'),
  fin: (r) => flag(r, 'FIN'),
  rst: (r) => flag(r, 'RST'),
  psh: (r) => flag(r, 'PSH'),
  ack: (r) => flag(r, 'ACK'),
  fragment: (r) => r.summary.fragment !== undefined,
  frag: (r) => r.summary.fragment !== undefined,
  malformed: (r) => r.summary.malformed !== undefined,
};

function flag(r: FilterableRow, name: string): boolean {
  return r.summary.tcp?.flagNames.includes(name) ?? false;
}

function portPredicate(text: string): Predicate | undefined {
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  if (port > 65535) return undefined;
  return (r) => r.summary.srcPort === port || r.summary.dstPort === port;
}

function hostPredicate(text: string): Predicate | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const ip = tryParseIp(bare);
  if (!ip) return undefined;
  const canonical = formatIp(ip);
  return (r) => r.summary.src === canonical || r.summary.dst === canonical;
}

function textPredicate(word: string): Predicate {
  const needle = word.toLowerCase();
  return (r) => {
    const s = r.summary;
    const hay = `${s.protocol} ${s.src} ${s.dst} ${s.srcPort ?? ''} ${s.dstPort ?? ''} ${s.info}`.toLowerCase();
    return hay.includes(needle);
  };
}

/** Compiles the filter box text. */
export function compilePacketFilter(text: string): PacketFilter {
  const words = String(text ?? '')
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
  const predicates: Predicate[] = [];
  let negate = false;
  for (let i = 0; i < words.length; i++) {
    let word = words[i];
    const lower = word.toLowerCase();
    if (lower === 'not' || lower === '!') {
      negate = !negate;
      continue;
    }
    if (lower === 'and' || lower === '&&') continue;
    let neg = negate;
    negate = false;
    if (word.startsWith('!')) {
      neg = !neg;
      word = word.slice(1);
      if (!word) continue;
    }
    const w = word.toLowerCase();
    let p: Predicate | undefined;
    if ((w === 'port' || w === 'host') && i + 1 < words.length) {
      const arg = words[++i];
      p = (w === 'port' ? portPredicate(arg) : hostPredicate(arg)) ?? textPredicate(arg);
    } else if (w.startsWith('port:')) {
      p = portPredicate(w.slice(5)) ?? textPredicate(word);
    } else {
      p = KEYWORDS[w] ?? hostPredicate(word) ?? textPredicate(word);
    }
    predicates.push(neg ? (r) => !p(r) : p);
  }
  return {
    empty: predicates.length === 0,
    matches: (row) => {
      for (const p of predicates) if (!p(row)) return false;
      return true;
    },
  };
}
