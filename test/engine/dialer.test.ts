import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as dgram from 'node:dgram';
import { once } from 'node:events';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import { formatIp, parseIp } from '../../src/shared/ip-address.ts';
import {
  aborted,
  connectionRefused,
  connectionReset,
  connectTimedOut,
  formatSocketAddress,
  hostUnreachable,
} from '../../src/engine/dialer.ts';
import { NodeDialer } from '../helpers/node-dialer.ts';

const dialer = new NodeDialer();
after(() => dialer.destroyAll());

describe('the error sentences every Dialer uses', () => {
  test('addresses print as 10.0.0.2:9090 and [fd00::2]:9090', () => {
    assert.equal(formatSocketAddress(parseIp('10.0.0.2'), 9090), '10.0.0.2:9090');
    assert.equal(formatSocketAddress(parseIp('fd00::2'), 9090), '[fd00::2]:9090');
  });

  const rows: [WgwebError, string, string][] = [
    [connectionRefused(parseIp('10.0.0.2'), 9090), ErrorCode.CONNECTION_REFUSED, 'connection refused by 10.0.0.2:9090: nothing is listening on that port'],
    [
      connectTimedOut(parseIp('10.0.0.2'), 80, 15000),
      ErrorCode.TIMEOUT,
      "no answer from 10.0.0.2:80 within 15000 ms: check that the host is up and that the tunnel's AllowedIPs cover it",
    ],
    [hostUnreachable(parseIp('fd00::9'), 22, 'ICMPv6 no route'), ErrorCode.HOST_UNREACHABLE, '[fd00::9]:22 is unreachable: ICMPv6 no route'],
    [connectionReset(parseIp('10.0.0.2'), 80), ErrorCode.CONNECTION_RESET, 'the connection to 10.0.0.2:80 was reset by the peer'],
    [aborted('connecting to 10.0.0.2:80'), ErrorCode.ABORTED, 'connecting to 10.0.0.2:80 was aborted'],
  ];
  rows.forEach(([err, code, message], i) => {
    test(`${i + 1}. ${code}`, () => {
      assert.ok(err instanceof WgwebError);
      assert.equal(err.code, code);
      assert.equal(err.message, message);
    });
  });
});

describe('NodeDialer (real sockets on loopback)', () => {
  test('TCP: bytes both ways, FIN ends the readable, closed resolves', async () => {
    const server = net.createServer((s) => s.on('data', (d) => s.end(Buffer.concat([Buffer.from('echo:'), d]))));
    server.listen(0, '::1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const c = await dialer.connectTcp(parseIp('::1'), port);
    assert.equal(formatIp(c.remoteAddress), '::1');
    const w = c.writable.getWriter();
    await w.write(new TextEncoder().encode('hi'));
    let text = '';
    const reader = c.readable.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    assert.equal(text, 'echo:hi');
    c.close();
    await c.closed;
    server.close();
  });

  test('TCP: a closed port is CONNECTION_REFUSED', async () => {
    const probe = net.createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await assert.rejects(dialer.connectTcp(parseIp('127.0.0.1'), port), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.CONNECTION_REFUSED);
  });

  test('TCP: an already aborted signal is ABORTED', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(dialer.connectTcp(parseIp('127.0.0.1'), 9, { signal: ac.signal }), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.ABORTED);
  });

  test('UDP: send, receive with the sender address, abortable receive', async () => {
    const server = dgram.createSocket('udp4');
    server.on('message', (m, r) => server.send(Buffer.concat([Buffer.from('re:'), m]), r.port, r.address));
    await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
    const port = server.address().port;
    const u = dialer.openUdp();
    u.send(parseIp('127.0.0.1'), port, new TextEncoder().encode('ping'));
    const d = await u.receive();
    assert.equal(formatIp(d.address), '127.0.0.1');
    assert.equal(d.port, port);
    assert.equal(new TextDecoder().decode(d.data), 're:ping');
    const ac = new AbortController();
    const pending = u.receive(ac.signal);
    ac.abort();
    await assert.rejects(pending, (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.ABORTED);
    u.close();
    await assert.rejects(u.receive(), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.ABORTED);
    server.close();
  });
});
