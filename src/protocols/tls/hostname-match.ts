/**
 * Does a certificate name the server we meant to reach? RFC 9525 (which obsoletes RFC 6125).
 *
 * Flow: normalise the reference identity (lower case, no trailing dot, IPv6 brackets removed) →
 * an IP literal is compared only with iPAddress SANs (RFC 9525 §6.2.1: never with DNS names or
 * the CN) → a DNS name is compared with dNSName SANs, where `*` may stand for exactly one whole
 * left-most label (§6.3; no partial `f*o` labels, no `*` on a single remaining label) → the subject
 * CN is consulted only when the caller allows it *and* the certificate has no subjectAltName at all.
 *
 * CN fallback policy (docs/tls.md): never for certificates validated through a CA (RFC 9525 drops
 * CN-IDs; browsers stopped in 2017); allowed for a certificate the user trusted directly (an old
 * appliance whose self-signed certificate only has `CN=192.168.1.1`).
 */
import { formatIp, ipEquals, tryParseIp, type IpAddress } from '../../shared/ip-address.ts';

/** The identity fields of a certificate that host matching reads. */
export interface HostIdentities {
  hasSubjectAltName: boolean;
  dnsNames: readonly string[];
  ipAddresses: readonly IpAddress[];
  commonNames: readonly string[];
}

/** `host` in the form pins and comparisons use: lower case, no trailing dot, canonical IP text. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  const ip = tryParseIp(h);
  if (ip) return formatIp(ip);
  return h;
}

/** One presented DNS identifier against a (normalised, non-IP) reference name. */
export function dnsNameMatches(presented: string, reference: string): boolean {
  let p = presented.toLowerCase();
  if (p.endsWith('.')) p = p.slice(0, -1);
  if (p.length === 0 || reference.length === 0) return false;
  if (!p.includes('*')) return p === reference;
  // Only "*." followed by at least two labels: "*.example.com", never "*.com", "f*.x.com" or "a.*.x.com".
  if (!p.startsWith('*.') || p.indexOf('*', 1) !== -1) return false;
  const suffix = p.slice(1); // ".example.com"
  if (suffix.split('.').length < 3) return false;
  if (!reference.endsWith(suffix)) return false;
  const first = reference.slice(0, reference.length - suffix.length);
  // The wildcard covers exactly one non-empty label.
  return first.length > 0 && !first.includes('.');
}

/**
 * True when `cert` is valid for `serverName`.
 * @param allowCommonName use the subject CN when the certificate has no subjectAltName (see header).
 */
export function hostnameMatches(cert: HostIdentities, serverName: string, allowCommonName = false): boolean {
  const ref = normalizeHost(serverName);
  const ip = tryParseIp(ref);
  if (ip) {
    if (cert.ipAddresses.some((a) => ipEquals(a, ip))) return true;
    // An old self-signed appliance certificate with the address as CN (e.g. "CN=192.168.1.1").
    return allowCommonName && !cert.hasSubjectAltName && cert.commonNames.some((cn) => {
      const c = tryParseIp(cn.trim());
      return c !== undefined && ipEquals(c, ip);
    });
  }
  if (cert.dnsNames.some((n) => dnsNameMatches(n, ref))) return true;
  return allowCommonName && !cert.hasSubjectAltName && cert.commonNames.some((cn) => dnsNameMatches(cn.trim(), ref));
}
