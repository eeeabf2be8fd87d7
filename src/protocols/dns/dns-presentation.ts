/**
 * DNS records as people read them: the zone-file presentation of each RDATA kind (RFC 1035 §5.1,
 * RFC 2782, RFC 8659 §4.1.1, RFC 3597 §5 for unknown types), and the reverse-lookup name of an
 * address for PTR queries (RFC 1035 §3.5 in-addr.arpa, RFC 3596 §2.5 ip6.arpa).
 */
import { formatIp, type IpAddress } from '../../shared/ip-address.ts';
import { DnsType, typeName, type DnsRecord } from './dns-message.ts';

/** Bytes of a character-string in quotes: `"`, `\` escaped, non-printable bytes as `\DDD`. */
export function quoteCharacterString(bytes: Uint8Array): string {
  let out = '"';
  for (const b of bytes) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${String(b).padStart(3, '0')}`;
  }
  return `${out}"`;
}

function absolute(name: string): string {
  return name === '' || name === '.' ? '.' : name.endsWith('.') ? name : `${name}.`;
}

/** The RDATA of `r` in presentation format, e.g. `10 mail.example.` for an MX record. */
export function formatRdata(r: DnsRecord): string {
  const d = r.data;
  switch (d.kind) {
    case 'address':
      return formatIp(d.address);
    case 'name':
      return absolute(d.name);
    case 'soa':
      return `${absolute(d.soa.mname)} ${absolute(d.soa.rname)} ${d.soa.serial} ${d.soa.refresh} ${d.soa.retry} ${d.soa.expire} ${d.soa.minimum}`;
    case 'mx':
      return `${d.preference} ${absolute(d.exchange)}`;
    case 'txt':
      return d.strings.map(quoteCharacterString).join(' ');
    case 'srv':
      return `${d.priority} ${d.weight} ${d.port} ${absolute(d.target)}`;
    case 'caa':
      return `${d.flags} ${d.tag} ${quoteCharacterString(d.value)}`;
    case 'raw': {
      // RFC 3597 §5: \# length hex.
      const hex = [...d.bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
      return `\\# ${d.bytes.length}${hex ? ` ${hex}` : ''}`;
    }
  }
}

/** `name. TTL IN TYPE RDATA`, one zone-file line. */
export function formatRecordLine(r: DnsRecord): string {
  return `${absolute(r.name)}\t${r.ttl}\tIN\t${typeName(r.type)}\t${formatRdata(r)}`;
}

/** `4.3.2.1.in-addr.arpa` for 1.2.3.4; nibbles under `ip6.arpa` for IPv6. */
export function reverseName(address: IpAddress): string {
  if (address.length === 4) return `${[...address].reverse().join('.')}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (const b of address) nibbles.push((b >> 4).toString(16), (b & 15).toString(16));
  return `${nibbles.reverse().join('.')}.ip6.arpa`;
}

/** The record types the DNS tool asks for, by name. */
export const LOOKUP_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'SRV', 'NS', 'SOA', 'PTR', 'CAA'] as const;
export type LookupType = (typeof LOOKUP_TYPES)[number];

/** The numeric type of a {@link LookupType}. */
export function lookupTypeCode(type: LookupType): number {
  return DnsType[type];
}
