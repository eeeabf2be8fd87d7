/**
 * Which hosts the tunnel carries, by cryptokey routing (WireGuard paper §2): an IP address is
 * inside when some peer's AllowedIPs hold it. Host names cannot be decided here: the tunnel's own
 * DNS (the config's `DNS =`) resolves them and the address then decides, exactly as wg-quick
 * routes a name on the client machine. The browse view uses this to keep intranet links in the
 * tunnel and to send everything else to the open web, clearly marked.
 */
import { parsePrefix, prefixContains, tryParseIp, type IpPrefix } from '../../shared/ip-address.ts';

/** `inside` / `outside` for IP literals; `name` for host names (decided by DNS in the tunnel). */
export type HostPlacement = 'inside' | 'outside' | 'name';

/** The AllowedIPs of every peer, as one lookup. Immutable. */
export class TunnelScope {
  readonly prefixes: readonly IpPrefix[];
  /** The prefixes as text, as the status reports them (what crosses to the Service Worker). */
  readonly allowedIPs: readonly string[];

  private constructor(prefixes: IpPrefix[], text: string[]) {
    this.prefixes = prefixes;
    this.allowedIPs = text;
  }

  /** From AllowedIPs text (`10.0.0.0/24`, `fd00::/64`); entries that do not parse are skipped. */
  static from(allowedIPs: readonly string[]): TunnelScope {
    const prefixes: IpPrefix[] = [];
    const text: string[] = [];
    for (const entry of allowedIPs) {
      if (typeof entry !== 'string') continue;
      try {
        prefixes.push(parsePrefix(entry));
        text.push(entry.trim());
      } catch {
        // A status line we cannot read must not break browsing; the worker still routes by its own table.
      }
    }
    return new TunnelScope(prefixes, text);
  }

  /** An empty scope: no tunnel (every IP address is outside). */
  static readonly none = TunnelScope.from([]);

  /**
   * Where `host` goes. `host` is a URL host name: IPv6 may come in brackets, IPv4 in the
   * URL parser's normal form (`10.0.0.1`).
   */
  place(host: string): HostPlacement {
    const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    const ip = tryParseIp(bare);
    if (!ip) return 'name';
    return this.prefixes.some((p) => prefixContains(p, ip)) ? 'inside' : 'outside';
  }
}
