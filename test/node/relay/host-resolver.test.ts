/**
 * The relay's host-name resolution: never-answering names must not hold up any other lookup
 * (they did, through getaddrinfo's threadpool), /etc/hosts and localhost answer without the
 * network, and a hung name fails on its own timeout. A real DNS server on loopback: the demo's
 * DnsZone behind a UDP socket that stays silent for names starting with "hang".
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHostResolver } from '../../../src/node/relay/host-resolver.ts';
import { DnsZone } from '../../../src/node/demo/services/dns-zone.ts';
import { formatIp, parseIp } from '../../../src/shared/ip-address.ts';
import { parseDnsMessage } from '../../../src/protocols/dns/dns-message.ts';
import { testRelay, udpPeer, waitUntil, wsClient } from './relay-fixtures.ts';
import { RelayCloseCode } from '../../../src/shared/relay-protocol.ts';

describe('relay host-name resolution', () => {
  let server: dgram.Socket;
  let port: number;
  let hostsFile: string;
  let silent = 0;
  before(async () => {
    const zone = new DnsZone({ zone: 'intranet.demo', address4: parseIp('10.44.0.1'), address6: parseIp('fd44::1') });
    server = dgram.createSocket('udp4');
    server.on('message', (msg, from) => {
      const q = parseDnsMessage(msg);
      if (q.ok && q.message.questions[0]?.name.startsWith('hang')) {
        silent++;
        return;
      }
      const reply = zone.answer(msg, parseIp(from.address), 'udp');
      if (reply) server.send(reply, from.port, from.address);
    });
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
    port = server.address().port;
    const dir = mkdtempSync(join(tmpdir(), 'wgweb-hosts-'));
    hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, '# test hosts\n127.0.0.1 localhost\n192.0.2.44 vpn.hosts.test vpn-alias # a comment\n2001:db8::44 vpn.hosts.test\n');
  });
  after(() => server.close());

  test('names the hosts file lists and the DNS server answers resolve while many hung lookups are in flight', async () => {
    // The hung lookups' timeout leaves room for three answered ones on a loaded machine.
    const resolve = createHostResolver({ servers: [`127.0.0.1:${port}`], hostsFile, timeoutMs: 4000, tries: 1 });
    let settled = 0;
    const hung = Array.from({ length: 32 }, (_, i) => resolve(`hang${i}.intranet.demo`).then(() => settled++, () => settled++));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual((await resolve('VPN.hosts.test')).map(formatIp), ['192.0.2.44', '2001:db8::44']);
    assert.deepEqual((await resolve('vpn-alias')).map(formatIp), ['192.0.2.44']);
    assert.deepEqual((await resolve('echo.intranet.demo')).map(formatIp), ['10.44.0.1', 'fd44::1']);
    assert.equal(settled, 0, 'the others answered while every hung lookup was still waiting');
    assert.ok(silent >= 32, 'the hung names did reach the server');
    await Promise.all(hung);
  });

  test('a hung name fails by itself (timeout), an unknown one with ENOTFOUND', async () => {
    const hurried = createHostResolver({ servers: [`127.0.0.1:${port}`], hostsFile, timeoutMs: 200, tries: 1 });
    await assert.rejects(hurried('hang.intranet.demo'), (e: NodeJS.ErrnoException) => e.code === 'ETIMEOUT');
    // The answered name gets a long timeout: under load a loopback answer can take over 200 ms,
    // which would read as ETIMEOUT.
    const patient = createHostResolver({ servers: [`127.0.0.1:${port}`], hostsFile, timeoutMs: 10_000, tries: 1 });
    await assert.rejects(patient('nope.intranet.demo'), (e: NodeJS.ErrnoException) => e.code === 'ENOTFOUND');
  });

  test('localhost and *.localhost are loopback without asking anyone (RFC 6761 §6.3)', async () => {
    const resolve = createHostResolver({ servers: ['127.0.0.1:9'], hostsFile: join(tmpdir(), 'no-such-hosts-file'), timeoutMs: 100, tries: 1 });
    assert.deepEqual((await resolve('localhost')).map(formatIp), ['127.0.0.1', '::1']);
    assert.deepEqual((await resolve('wg.localhost.')).map(formatIp), ['127.0.0.1', '::1']);
  });

  test('through the relay: eight sessions naming hung hosts do not stop a hosts-file endpoint', async () => {
    const peer = await udpPeer(4);
    writeFileSync(hostsFile, `127.0.0.1 localhost\n127.0.0.1 peer.hosts.test\n`);
    const resolver = createHostResolver({ servers: [`127.0.0.1:${port}`], hostsFile, timeoutMs: 3000, tries: 1 });
    const relay = await testRelay({ allow: [`127.0.0.1:${peer.port}`], resolve: resolver, resolveTimeoutMs: 6000 });
    const hung = Array.from({ length: 8 }, (_, i) => wsClient(`${relay.wsUrl}?to=hang${i}.intranet.demo%3A51820`));
    await waitUntil(() => relay.stats().pendingSessions === 8, 'eight lookups to hang');
    const good = wsClient(`${relay.wsUrl}?to=peer.hosts.test%3A${peer.port}`);
    await good.opened;
    assert.equal(relay.stats().pendingSessions, 8, 'opened while all eight still hang');
    good.ws.close();
    for (const h of hung) assert.equal((await h.closed).code, RelayCloseCode.RESOLVE_FAILED);
    await relay.close();
    await peer.close();
  });
});
