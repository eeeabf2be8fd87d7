/**
 * How the relay resolves the host names of endpoints and `--allow` rules, without ever waiting
 * on a thread another lookup holds.
 *
 *   name ──▶ localhost / *.localhost?  ──▶ loopback (RFC 6761 §6.3), no lookup at all
 *        ──▶ in /etc/hosts?            ──▶ its addresses (like getaddrinfo's "files" before "dns")
 *        ──▶ c-ares: A and AAAA at once, each with its own timeout ──▶ IPv4 first, then IPv6
 *
 * Why not `dns.lookup`: it runs getaddrinfo on libuv's threadpool (4 threads by default), so a few
 * sessions naming never-answering hosts made every other host-name endpoint wait behind them, even
 * names in /etc/hosts. c-ares (`dns.Resolver`) multiplexes queries on one socket in the event loop;
 * a hung query costs a timer, not a thread. The relay further caps upgrades in progress per client
 * (relay-server.ts), which bounds how many lookups one client can start.
 */
import { Resolver as CaresResolver } from 'node:dns/promises';
import { readFileSync, statSync } from 'node:fs';
import { tryParseIp, type IpAddress } from '../../shared/ip-address.ts';

/** Resolves a host name to addresses (all families, IPv4 first). */
export type RelayHostResolver = (host: string) => Promise<IpAddress[]>;

export interface HostResolverOptions {
  /** Per query try, ms (c-ares `timeout`); default 2000. */
  timeoutMs?: number;
  /** Tries per query (c-ares `tries`); default 2. */
  tries?: number;
  /** DNS servers (`127.0.0.1:5353`); default the system's (/etc/resolv.conf). */
  servers?: readonly string[];
  /** The hosts file; default /etc/hosts. */
  hostsFile?: string;
}

const LOOPBACK: IpAddress[] = [Uint8Array.of(127, 0, 0, 1), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)];

/** Creates a resolver (see the module comment). */
export function createHostResolver(options: HostResolverOptions = {}): RelayHostResolver {
  const resolver = new CaresResolver({ timeout: options.timeoutMs ?? 2000, tries: options.tries ?? 2 });
  if (options.servers) resolver.setServers([...options.servers]);
  const hosts = new HostsFile(options.hostsFile ?? '/etc/hosts');
  return async (host) => {
    const name = host.toLowerCase().replace(/\.$/, '');
    if (name === 'localhost' || name.endsWith('.localhost')) return LOOPBACK.map((a) => a.slice());
    const listed = hosts.lookup(name);
    if (listed.length > 0) return listed;
    const [v4, v6] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
    const out: IpAddress[] = [];
    for (const r of [v4, v6]) if (r.status === 'fulfilled') for (const a of r.value) pushIp(out, a);
    if (out.length > 0) return out;
    // Both failed (or both empty): report the more telling error (ENOTFOUND over ENODATA).
    const errors = [v4, v6].flatMap((r) => (r.status === 'rejected' ? [r.reason as NodeJS.ErrnoException] : []));
    const err = errors.find((e) => e.code !== 'ENODATA') ?? errors[0];
    if (err) throw err;
    return out;
  };
}

function pushIp(out: IpAddress[], text: string): void {
  const ip = tryParseIp(text);
  if (ip) out.push(ip);
}

/** /etc/hosts, re-read when its modification time changes (RFC 952 format, `#` comments). */
class HostsFile {
  private mtimeMs = -1;
  private table = new Map<string, IpAddress[]>();

  constructor(private readonly path: string) {}

  lookup(name: string): IpAddress[] {
    this.refresh();
    return (this.table.get(name) ?? []).map((a) => a.slice());
  }

  private refresh(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch {
      this.table = new Map();
      return;
    }
    if (mtimeMs === this.mtimeMs) return;
    this.mtimeMs = mtimeMs;
    const table = new Map<string, IpAddress[]>();
    let text = '';
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      // unreadable: as if empty
    }
    for (const line of text.split('\n')) {
      const fields = line.replace(/#.*/, '').trim().split(/\s+/);
      if (fields.length < 2) continue;
      const ip = tryParseIp(fields[0].replace(/%.*/, ''));
      if (!ip) continue;
      for (const n of fields.slice(1)) {
        const key = n.toLowerCase().replace(/\.$/, '');
        const list = table.get(key) ?? [];
        // IPv4 first, as on the c-ares path.
        const firstV6 = list.findIndex((a) => a.length === 16);
        if (ip.length === 4 && firstV6 >= 0) list.splice(firstV6, 0, ip);
        else list.push(ip);
        table.set(key, list);
      }
    }
    this.table = table;
  }
}
