/**
 * The DNS and port tools from a browser tab, against real servers behind wireguard-go: Debian's
 * dnsmasq with every record type the tool asks for (harness/dnsmasq.ts), a second dnsmasq for
 * "another server", and the namespace kernel's TCP with an nftables rule that drops SYNs silently
 * (filtered ports). Driven both by script (`window.wgweb.dns` / `wgweb.tcping` with a list) and
 * through the Tools cards (record type picker, server field, port ranges with a row per port and
 * a Stop button).
 *
 *   Chromium (worker: WireGuard + TCP/IP) ──ws──▶ relay ──UDP──▶ wireguard-go (namespace)
 *       ── dnsmasq 10.77.X.1:53 (diag.test zone), dnsmasq [fd77:X::1]:53 (other.diag.test)
 *       ── HTTP :80 (open), :81 nothing (closed), nft drop :82 and :9000-9999 (filtered)
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { browserSkipReason, interopSkipReason } from '../../harness/requirements.ts';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { diagZone, startDnsmasq } from '../../harness/dnsmasq.ts';
import { startSessionFixture, type SessionFixture } from '../interop/session-fixture.ts';
import { ensureUiBuilt, openUi, type UiSession, waitForTunnelUp } from '../../harness/browser.ts';

const skip = browserSkipReason() ?? interopSkipReason(['dnsmasq', 'nft']);
const SLOW = { timeout: 90_000 };

describe('the DNS and port tools in Chromium against dnsmasq and the namespace kernel', { skip }, () => {
  let fx: SessionFixture;
  let ui: UiSession;
  let page: Page;
  let t4: string;
  let t6: string;

  before(async () => {
    await ensureUiBuilt();
    fx = await startSessionFixture({ name: 'e2ediag', session: false, servers: ['http'] });
    t4 = fx.peer.tunnelAddress4!;
    t6 = fx.peer.tunnelAddress6!;
    await startDnsmasq(fx.peer.ns, t4, diagZone(t4, t6));
    await startDnsmasq(fx.peer.ns, t6, ['--host-record=other.diag.test,10.9.9.9']);
    const nft = (...args: string[]): Promise<unknown> => fx.peer.ns.exec('nft', args);
    await nft('add', 'table', 'inet', 'wge2ediag');
    await nft('add', 'chain', 'inet', 'wge2ediag', 'input', '{ type filter hook input priority 0; }');
    await nft('add', 'rule', 'inet', 'wge2ediag', 'input', 'tcp', 'dport', '{ 82, 9000-9999 }', 'drop');
    ui = await openUi({ url: fx.relay.url });
    page = ui.page;
    await page.evaluate((config) => window.wgweb.connect(config), fx.configText);
    await waitForTunnelUp(page);
  });
  after(async () => {
    await ui?.close();
    await fx?.close();
    await closeAllNamespaces();
  });

  test('wgweb.dns asks for any record type, follows a CNAME, turns an address into PTR and takes a server', SLOW, async () => {
    const mx = await page.evaluate(() => window.wgweb.dns('diag.test', 'MX'));
    assert.deepEqual(mx.answers.map((a) => [a.type, a.data]), [['MX', '10 mail.diag.test.']]);
    assert.equal(mx.rcode, 'NOERROR');
    assert.equal(mx.server, t4);
    assert.deepEqual(mx.addresses, [], 'addresses are for A and AAAA only');

    const srv = await page.evaluate(() => window.wgweb.dns('_sip._tcp.diag.test', 'srv'));
    assert.deepEqual(srv.answers.map((a) => a.data), ['1 5 5060 sip.diag.test.']);

    const alias = await page.evaluate(() => window.wgweb.dns('alias.diag.test', 'A'));
    assert.deepEqual(alias.cnameChain, ['host.diag.test']);
    assert.deepEqual(alias.addresses, [t4]);

    const ptr = await page.evaluate((a) => window.wgweb.dns(a, 'PTR'), t4);
    assert.equal(ptr.question, `${t4.split('.').reverse().join('.')}.in-addr.arpa`);
    assert.deepEqual(ptr.answers.map((a) => a.data), ['host.diag.test.']);

    // The config's DNS = (the first dnsmasq) does not know other.diag.test; the second one does.
    const nx = await page.evaluate(() => window.wgweb.dns('other.diag.test').then(() => 'resolved', (e) => `${e.code}: ${e.message}`));
    assert.match(nx, /^DNS_NXDOMAIN: other\.diag\.test: no such name \(NXDOMAIN from /);
    const other = await page.evaluate((s) => window.wgweb.dns('other.diag.test', 'A', { server: s }), t6);
    assert.deepEqual(other.addresses, ['10.9.9.9']);
    assert.equal(other.server, t6);

    const bad = await page.evaluate(() => window.wgweb.dns('diag.test', 'HINFO' as 'A').then(() => 'resolved', (e) => e.code));
    assert.equal(bad, 'USAGE');
  });

  test('wgweb.tcping with a port list: open, closed and filtered ports by outcome', SLOW, async () => {
    const r = await page.evaluate((h) => window.wgweb.tcping(h, '80-82'), t4);
    assert.deepEqual(r.open, [80]);
    assert.deepEqual(r.closed, [81]);
    assert.deepEqual(r.filtered, [82]);
    assert.deepEqual(r.results.map((x) => [x.port, x.result]), [[80, 'open'], [81, 'refused'], [82, 'timeout']]);
    const arr = await page.evaluate((h) => window.wgweb.tcping(h, [81, 80]), t4);
    assert.deepEqual([arr.open, arr.closed], [[80], [81]]);
    const bad = await page.evaluate((h) => window.wgweb.tcping(h, '90-80').then(() => 'resolved', (e) => `${e.code}: ${e.message}`), t4);
    assert.match(bad, /^USAGE: .*runs backwards/);
    const log = await page.evaluate(() => window.wgweb.events().map((e) => e.message));
    assert.ok(log.some((m) => m === `TCP ${t4}: 3 ports: 1 open (80), 1 closed, 1 filtered (82)`), log.join('\n'));
  });

  test('the DNS card: the type picker, every section as a table, another server', SLOW, async () => {
    await page.getByRole('tab', { name: 'DNS' }).click();
    const dns = page.locator('wg-dns-tool');
    await dns.getByLabel('Name', { exact: true }).fill('diag.test');
    await dns.getByLabel('Type', { exact: true }).selectOption('TXT');
    await dns.getByRole('button', { name: 'Look up' }).click();
    const answer = dns.getByRole('table', { name: 'Answer section' });
    await answer.waitFor({ timeout: 30_000 });
    const cells = await answer.getByRole('row').last().getByRole('cell').allTextContents();
    assert.deepEqual([cells[0], cells[2], cells[3]], ['diag.test', 'TXT', '"v=spf1 -all" "second \\"string\\""']);
    assert.match((await dns.getByRole('status').textContent()) ?? '', /1 TXT record.*over UDP/s);

    await dns.getByLabel('Name', { exact: true }).fill('alias.diag.test');
    await dns.getByLabel('Type', { exact: true }).selectOption('AAAA');
    await dns.getByRole('button', { name: 'Look up' }).click();
    await dns.getByRole('status').filter({ hasText: t6 }).waitFor({ timeout: 30_000 });
    assert.match((await dns.getByRole('status').textContent()) ?? '', /Alias: alias\.diag\.test → host\.diag\.test/);

    await dns.getByLabel('Name', { exact: true }).fill('other.diag.test');
    await dns.getByLabel('Type', { exact: true }).selectOption('A');
    await dns.getByLabel('Server', { exact: true }).fill(t6);
    await dns.getByRole('button', { name: 'Look up' }).click();
    await dns.getByRole('status').filter({ hasText: '10.9.9.9' }).waitFor({ timeout: 30_000 });
    assert.match((await dns.getByRole('status').textContent()) ?? '', new RegExp(`${t6.replace(/[.:]/g, '\\$&')} over UDP`));
  });

  test('the port card: a range shows a row per port as it is decided, and Stop ends a long one', SLOW, async () => {
    await page.getByRole('tab', { name: 'TCP ports' }).click();
    const tcp = page.locator('wg-tcping-tool');
    await tcp.getByLabel('Host', { exact: true }).fill(t4);
    await tcp.getByLabel('Ports', { exact: true }).fill('80-82');
    await tcp.getByRole('button', { name: 'Check ports' }).click();
    await tcp.getByRole('status').filter({ hasText: '3 ports: 1 open (80), 1 closed, 1 filtered' }).waitFor({ timeout: 30_000 });
    const rows = tcp.getByRole('list', { name: 'Port results' }).getByRole('listitem');
    assert.deepEqual((await rows.allTextContents()).map((t) => t.replace(/\s+/g, ' ').trim().split(' ').slice(0, 2).join(' ')), ['80 open', '81 closed', '82 filtered']);

    // 201 silent ports take ~50 s at 8 at a time: Stop ends the check with what it decided so far.
    await tcp.getByLabel('Ports', { exact: true }).fill('9000-9200');
    await tcp.getByRole('button', { name: 'Check ports' }).click();
    await rows.first().waitFor({ timeout: 30_000 });
    await tcp.getByRole('button', { name: 'Stop' }).click();
    await tcp.getByRole('status').filter({ hasText: /Stopped after \d+ of 201: 0 open, 0 closed, \d+ filtered/ }).waitFor({ timeout: 10_000 });
    const decided = await rows.count();
    assert.ok(decided >= 1 && decided < 201, `${decided} ports decided before Stop`);
    await tcp.getByRole('button', { name: 'Check ports' }).waitFor();
    assert.deepEqual(ui.errors, []);
  });

  test("the ping card: Size and Don't fragment; a full-MTU packet passes, one byte more is refused with the MTU", SLOW, async () => {
    await page.getByRole('tab', { name: 'Ping' }).click();
    const ping = page.locator('wg-ping-tool');
    await ping.getByLabel('Address', { exact: true }).fill(t4);
    await ping.getByLabel('Count', { exact: true }).fill('1');
    await ping.getByLabel('Size', { exact: true }).fill('1392');
    await ping.getByLabel("Don't fragment").check();
    await ping.getByRole('button', { name: 'Ping', exact: true }).click();
    await ping.getByRole('status', { name: 'Summary' }).waitFor({ timeout: 30_000 });
    const replies = ping.getByRole('list', { name: 'Replies' }).getByRole('listitem');
    assert.match((await replies.first().textContent()) ?? '', new RegExp(`^1400 bytes from ${t4.replace(/\./g, '\\.')}: seq=1`));
    await ping.getByLabel('Size', { exact: true }).fill('1393');
    await ping.getByRole('button', { name: 'Ping', exact: true }).click();
    await ping.getByRole('status', { name: 'Summary' }).waitFor({ timeout: 30_000 });
    assert.match((await replies.first().textContent()) ?? '', /seq 1: local error: message too long, mtu=1420/);
  });
});
