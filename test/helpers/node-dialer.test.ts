/**
 * The test helper's UDP sockets behave like the tunnel's dialer when the local port asked for is
 * taken: another port is used and nothing sent meanwhile is lost (the DNS resolver asks for random
 * source ports, RFC 5452 §9.2, and on a busy machine one of them may be in use).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { NodeDialer } from './node-dialer.ts';
import { parseIp } from '../../src/shared/ip-address.ts';

test('a UDP socket asked for a taken port binds another and its first datagram still gets an answer', async (t) => {
  const echo = dgram.createSocket('udp4');
  const hog = dgram.createSocket('udp4');
  const dialer = new NodeDialer();
  t.after(() => {
    dialer.destroyAll();
    echo.close();
    hog.close();
  });
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  echo.on('message', (m, from) => echo.send(m, from.port, from.address));
  await new Promise<void>((r) => hog.bind(0, '0.0.0.0', r));
  const socket = dialer.openUdp({ localPort: hog.address().port });
  socket.send(parseIp('127.0.0.1'), echo.address().port, new Uint8Array([1, 2, 3]));
  const reply = await socket.receive(AbortSignal.timeout(5000));
  assert.deepEqual([...reply.data], [1, 2, 3]);
});
