/**
 * The page's capture handle and `window.wgweb.capture` over a real TunnelClient ⇄ TunnelService
 * channel, with the capture fed through the session hook: every packet comes back in order across
 * several pages, the filter and download pass through, and misuse is a coded error.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expose } from 'comlink';
import { CaptureService } from '../../../../src/browser/capture/capture-service.ts';
import { TunnelService, type SessionLike } from '../../../../src/browser/worker/tunnel-service.ts';
import { TunnelClient } from '../../../../src/browser/ui/tunnel-client.ts';
import { CaptureController } from '../../../../src/browser/ui/controllers/capture-controller.ts';
import { createCaptureAutomation } from '../../../../src/browser/ui/capture-automation.ts';
import { WgwebError } from '../../../../src/shared/errors.ts';
import { kernelPacket } from '../../../vectors/netstack/kernel-packets.ts';
import { readPcapng } from '../../../helpers/pcapng-reader.ts';

function withClient() {
  const capture = new CaptureService();
  const { port1, port2 } = new MessageChannel();
  expose(new TunnelService(async () => ({}) as SessionLike, capture), port1 as unknown as Parameters<typeof expose>[1]);
  const client = new TunnelClient(port2 as unknown as ConstructorParameters<typeof TunnelClient>[0]);
  const hook = capture.hookFor('');
  const done = () => {
    client.dispose();
    port1.close();
    port2.close();
  };
  return { client, hook, done };
}

describe('CaptureController', () => {
  test('allRows pages through 2,500 packets in frame order', async () => {
    const { client, hook, done } = withClient();
    try {
      const ping = kernelPacket('icmpv4-echo-request');
      const udp = kernelPacket('udp-ipv4');
      for (let i = 0; i < 2500; i++) hook(i % 5 ? 'out' : 'in', i % 2 ? udp : ping, 1_700_000_000_000 + i);
      const controller = new CaptureController(() => client);
      const rows = await controller.allRows();
      assert.equal(rows.length, 2500);
      assert.deepEqual(rows.map((r) => r.index), Array.from({ length: 2500 }, (_, i) => i + 1));
      assert.equal((await controller.allRows('udp')).length, 1250);
    } finally {
      done();
    }
  });

  test('before the worker runs, calls reject at once with a reason', async () => {
    const controller = new CaptureController(() => undefined);
    await assert.rejects(controller.captureStatus(), (e) => e instanceof WgwebError && e.code === 'INTERNAL' && /not running yet/.test(e.message));
  });
});

describe('window.wgweb.capture', () => {
  test('start, stop, packets, download and clear', async () => {
    const { client, hook, done } = withClient();
    try {
      const wg = createCaptureAutomation(new CaptureController(() => client));
      assert.equal((await wg.stop()).running, false);
      hook('out', kernelPacket('icmpv4-echo-request'), 1);
      assert.deepEqual(await wg.packets(), []);
      assert.equal((await wg.start()).running, true);
      hook('out', kernelPacket('icmpv4-echo-request'), 2);
      hook('in', kernelPacket('icmpv4-echo-reply'), 3);
      const rows = await wg.packets();
      assert.deepEqual(rows.map((r) => [r.direction, r.summary.info.split(' id=')[0]]), [
        ['out', 'Echo (ping) request'],
        ['in', 'Echo (ping) reply'],
      ]);
      assert.equal((await wg.packets('in')).length, 1);
      const file = await wg.download();
      assert.ok(file.bytes instanceof Uint8Array);
      assert.equal(readPcapng(file.bytes).packets.length, 2);
      assert.equal((await wg.download('in')).packets, 1);
      assert.equal((await wg.clear()).packets, 0);
      assert.equal((await wg.status()).nextIndex, 1);
    } finally {
      done();
    }
  });

  test('misuse is a USAGE error; a page without a capture says so', async () => {
    const wg = createCaptureAutomation(new CaptureController(() => undefined));
    await assert.rejects(wg.packets(42 as unknown as string), (e) => e instanceof WgwebError && e.code === 'USAGE');
    const none = createCaptureAutomation(undefined);
    await assert.rejects(none.start(), (e) => e instanceof WgwebError && e.code === 'INTERNAL');
  });
});
