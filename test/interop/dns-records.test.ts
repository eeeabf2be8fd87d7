/**
 * Every record type the DNS tool asks for, answered by a real DNS server: Debian's dnsmasq in
 * wireguard-go's namespace, reached through the tunnel by wgweb's Session and the `wgweb dns`
 * command. Also: a CNAME chain shown and followed, PTR from an address, NXDOMAIN with the zone's
 * authority, and `--server` instead of the config's DNS =.
 *
 *   Session ──ws──▶ relay ──UDP──▶ wireguard-go (namespace) ── dnsmasq on 10.77.X.1:53, a second on [fd77:X::1]:53
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces, type NsProcess } from '../../harness/netns.ts';
import { diagZone, startDnsmasq as startDnsmasqIn } from '../../harness/dnsmasq.ts';
import { main } from '../../src/node/cli/main.ts';
import { createMemoryIo } from '../../src/node/cli/cli-io.ts';
import { startSessionFixture, type SessionFixture } from './session-fixture.ts';

const SLOW = { timeout: 60_000 };

describe('DNS record types against dnsmasq through the tunnel', { skip: interopSkipReason(['dnsmasq']) }, () => {
  let fx: SessionFixture;
  let t4: string;
  let t6: string;
  const procs: NsProcess[] = [];

  async function startDnsmasq(address: string, extra: string[] = []): Promise<void> {
    procs.push(await startDnsmasqIn(fx.peer.ns, address, extra));
  }

  before(async () => {
    fx = await startSessionFixture({ name: 'dnsrr', servers: [] });
    t4 = fx.peer.tunnelAddress4!;
    t6 = fx.peer.tunnelAddress6!;
    await startDnsmasq(t4, diagZone(t4, t6));
    // A second server, only for --server: it knows one name the first does not.
    await startDnsmasq(t6, ['--host-record=other.diag.test,10.9.9.9']);
  });
  after(async () => {
    for (const p of procs) await p.stop();
    await fx?.close();
    await closeAllNamespaces();
  });

  const data = (r: { answers: { type: string; data: string }[] }, type: string): string[] => r.answers.filter((a) => a.type === type).map((a) => a.data);

  test('A and AAAA', SLOW, async () => {
    assert.deepEqual(data(await fx.session.dnsQuery('host.diag.test', 'A'), 'A'), [t4]);
    assert.deepEqual(data(await fx.session.dnsQuery('host.diag.test', 'AAAA'), 'AAAA'), [fx.peer.tunnelAddress6]);
  });

  test('CNAME: shown when asked for, and followed to the address when asking for A', SLOW, async () => {
    const c = await fx.session.dnsQuery('alias.diag.test', 'CNAME');
    assert.deepEqual(data(c, 'CNAME'), ['host.diag.test.']);
    const a = await fx.session.dnsQuery('alias.diag.test', 'A');
    assert.deepEqual(a.answers.map((x) => x.type), ['CNAME', 'A']);
    assert.deepEqual(a.cnameChain, ['host.diag.test']);
    assert.deepEqual(data(a, 'A'), [t4]);
  });

  test('MX, TXT (several strings, quotes escaped), SRV, NS, SOA, CAA in presentation format', SLOW, async () => {
    assert.deepEqual(data(await fx.session.dnsQuery('diag.test', 'MX'), 'MX'), ['10 mail.diag.test.']);
    assert.deepEqual(data(await fx.session.dnsQuery('diag.test', 'TXT'), 'TXT'), ['"v=spf1 -all" "second \\"string\\""']);
    assert.deepEqual(data(await fx.session.dnsQuery('_sip._tcp.diag.test', 'SRV'), 'SRV'), ['1 5 5060 sip.diag.test.']);
    assert.deepEqual(data(await fx.session.dnsQuery('diag.test', 'NS'), 'NS'), ['ns.diag.test.']);
    assert.deepEqual(data(await fx.session.dnsQuery('diag.test', 'SOA'), 'SOA'), ['ns.diag.test. admin.diag.test. 2026120701 3600 600 86400 300']);
    assert.deepEqual(data(await fx.session.dnsQuery('diag.test', 'CAA'), 'CAA'), ['0 issue "ca.diag.test"']);
  });

  test('PTR from an address: the reverse name is asked for', SLOW, async () => {
    const r = await fx.session.dnsQuery(t4, 'PTR');
    assert.equal(r.question, `${t4.split('.').reverse().join('.')}.in-addr.arpa`);
    assert.deepEqual(data(r, 'PTR'), ['host.diag.test.']);
    const r6 = await fx.session.dnsQuery(fx.peer.tunnelAddress6!, 'PTR');
    assert.match(r6.question, /\.ip6\.arpa$/);
    assert.deepEqual(data(r6, 'PTR'), ['host.diag.test.']);
  });

  test('NXDOMAIN comes back as a result with its rcode and timing, not an exception', SLOW, async () => {
    const r = await fx.session.dnsQuery('missing.diag.test', 'A');
    assert.equal(r.rcode, 'NXDOMAIN');
    assert.equal(r.answers.length, 0);
    assert.equal(r.server, t4);
    assert.equal(r.transport, 'udp');
    assert.ok(r.elapsedMs > 0);
  });

  test('wgweb dns NAME TYPE prints zone-file lines; --server asks another server', SLOW, async () => {
    const io = createMemoryIo();
    const code = await main(['dns', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, 'diag.test', 'MX'], io);
    assert.equal(code, 0, io.stderrText());
    assert.match(io.stdoutText(), /^diag\.test\t\d+\tIN\tMX\t10 mail\.diag\.test\.$/m);
    assert.match(io.stdoutText(), new RegExp(`^;; NOERROR from ${t4.replace(/\./g, '\\.')} over UDP in [\\d.]+ ms$`, 'm'));
    // The config's DNS = (the first dnsmasq) does not know other.diag.test; the second one does.
    const io2 = createMemoryIo();
    const code2 = await main(['dns', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, 'other.diag.test'], io2);
    assert.equal(code2, 1);
    assert.match(io2.stderrText(), /other\.diag\.test does not exist \(NXDOMAIN from /);
    const io3 = createMemoryIo();
    const code3 = await main(['dns', '--config', fx.configFile(), '--relay', fx.relay.wsUrl, '--server', fx.peer.tunnelAddress6!, 'other.diag.test'], io3);
    assert.equal(code3, 0, io3.stderrText());
    assert.match(io3.stdoutText(), /^other\.diag\.test\t\d+\tIN\tA\t10\.9\.9\.9$/m);
    assert.match(io3.stdoutText(), /from fd77:/);
  });
});
