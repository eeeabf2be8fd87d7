/**
 * Debian's dnsmasq as an authoritative-enough DNS server inside a test namespace, serving the
 * records a test gives it with dnsmasq's own options (`--host-record`, `--mx-host`, `--dns-rr`, …),
 * for the DNS tool's interop and e2e tests. `diagZone()` is the zone those tests share: every
 * record type the tool asks for, under `diag.test`.
 *
 *   startDnsmasq(ns, '10.77.X.1', diagZone(t4, t6)) ──▶ dnsmasq -k on X:53 ──▶ waits for `ss` to list it
 */
import type { Namespace, NsProcess } from './netns.ts';

/** A DNS name in wire form (length-prefixed labels and the root), as hex for `--dns-rr`. */
export function hexName(name: string): string {
  const labels = name.replace(/\.$/, '').split('.').filter(Boolean);
  return labels.map((l) => l.length.toString(16).padStart(2, '0') + Buffer.from(l).toString('hex')).join('') + '00';
}

const u32hex = (n: number): string => n.toString(16).padStart(8, '0');

/**
 * dnsmasq options for the shared `diag.test` zone: host (A + AAAA + PTR both ways), a CNAME to it,
 * MX, TXT with two strings (one with quotes), SRV, NS, SOA (serial 2026120701), CAA.
 */
export function diagZone(address4: string, address6: string): string[] {
  const soa = hexName('ns.diag.test') + hexName('admin.diag.test') + [2026120701, 3600, 600, 86400, 300].map(u32hex).join('');
  return [
    `--host-record=host.diag.test,${address4},${address6}`,
    '--cname=alias.diag.test,host.diag.test',
    '--mx-host=diag.test,mail.diag.test,10',
    '--txt-record=diag.test,v=spf1 -all,second "string"',
    '--srv-host=_sip._tcp.diag.test,sip.diag.test,5060,1,5',
    `--dns-rr=diag.test,2,${hexName('ns.diag.test')}`,
    `--dns-rr=diag.test,6,${soa}`,
    '--caa-record=diag.test,0,issue,ca.diag.test',
  ];
}

/**
 * Starts dnsmasq on `address`:53 in `ns` with `records` (dnsmasq options) and no upstream, local
 * for `diag.test` (so unknown names there are NXDOMAIN); resolves once it listens (5 s at most).
 * The namespace's close() stops it; `stop()` on the result stops it earlier.
 */
export async function startDnsmasq(ns: Namespace, address: string, records: readonly string[] = []): Promise<NsProcess> {
  const p = ns.spawn('dnsmasq', [
    '--keep-in-foreground',
    '--conf-file=/dev/null',
    '--no-resolv',
    '--no-hosts',
    '--bind-interfaces',
    `--listen-address=${address}`,
    '--port=53',
    '--user=root',
    '--pid-file=',
    '--log-facility=-',
    '--local=/diag.test/',
    ...records,
  ]);
  for (let i = 0; i < 100; i++) {
    const r = await ns.exec('ss', ['-Hlun', 'sport = :53'], { check: false });
    if (r.stdout.includes(address)) return p;
    await new Promise((res) => setTimeout(res, 50));
  }
  await p.stop();
  throw new Error(`dnsmasq did not start on ${address}: ${p.output()}`);
}
