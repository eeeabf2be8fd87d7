/**
 * RFC 5280 §4.2.1.10 name constraints for the name forms a TLS server certificate carries: dNSName
 * and iPAddress subjectAltNames.
 *
 * Flow: for each constraining CA above a certificate → every DNS SAN must lie inside some permitted
 * DNS subtree (when DNS subtrees are permitted at all) and inside no excluded one; likewise every IP
 * SAN against the IP ranges. A directoryName constraint is a name form we do not evaluate; since
 * every certificate has a subject, RFC 5280 then requires rejecting, which {@link checkNameConstraints}
 * reports instead of silently passing.
 */
import { prefixContains, type IpAddress } from '../../shared/ip-address.ts';
import type { NameSubtrees } from './x509-certificate.ts';

/** A constraint set from one CA certificate. */
export interface NameConstraintSet {
  permitted: NameSubtrees | undefined;
  excluded: NameSubtrees | undefined;
}

/**
 * RFC 5280 §4.2.1.10: `example.com` covers itself and every name below it; `.example.com` covers
 * only names below it. Comparison is case-insensitive.
 */
export function dnsWithinSubtree(name: string, subtree: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  const s = subtree.toLowerCase().replace(/\.$/, '');
  if (s === '') return true; // an empty constraint covers every DNS name
  if (s.startsWith('.')) return n.endsWith(s);
  return n === s || n.endsWith(`.${s}`);
}

/** Could a wildcard SAN `*.d` stand for some name inside `subtree`? (Used against excluded subtrees.) */
function wildcardTouches(wildcard: string, subtree: string): boolean {
  const base = wildcard.slice(2).toLowerCase();
  const s = subtree.toLowerCase().replace(/^\./, '');
  // `*.corp.test` vs excluded `secret.corp.test`: the wildcard can be exactly that name.
  return dnsWithinSubtree(wildcard, subtree) || s.endsWith(`.${base}`) && !s.slice(0, -base.length - 1).includes('.');
}

/** The first violated constraint as a sentence, or `undefined` when the names satisfy `c`. */
export function checkNameConstraints(
  names: { dnsNames: readonly string[]; ipAddresses: readonly IpAddress[] },
  c: NameConstraintSet,
): string | undefined {
  if (c.permitted?.other.includes('directoryName') || c.excluded?.other.includes('directoryName')) {
    return 'an issuing CA has a directoryName name constraint, which wgweb does not evaluate';
  }
  const permitted = c.permitted;
  for (const n of names.dnsNames) {
    if (permitted && permitted.dns.length > 0 && !permitted.dns.some((s) => dnsWithinSubtree(n, s))) {
      return `DNS name ${n} is outside the names its CA may issue for (${permitted.dns.join(', ')})`;
    }
    const hit = c.excluded?.dns.find((s) => (n.startsWith('*.') ? wildcardTouches(n, s) : dnsWithinSubtree(n, s)));
    if (hit !== undefined) return `DNS name ${n} is in a subtree its CA excludes (${hit})`;
  }
  for (const ip of names.ipAddresses) {
    if (permitted && (permitted.ip.length > 0 || permitted.ipMalformed) && !permitted.ip.some((p) => prefixContains(p, ip))) {
      return `IP address SAN is outside the ranges its CA may issue for`;
    }
    if (c.excluded?.ipMalformed || c.excluded?.ip.some((p) => prefixContains(p, ip))) {
      return `IP address SAN is in a range its CA excludes`;
    }
  }
  return undefined;
}
