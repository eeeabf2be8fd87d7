/**
 * The worker contract's raw response headers (FetchResponseHead.rawHeaders), which the browse
 * view keeps intranet cookies from: a browser's Response hides Set-Cookie, the raw lines do not.
 * A real TunnelService and TunnelClient over a MessageChannel, a scripted session behind them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expose } from 'comlink';
import { TunnelService, type SessionLike } from '../../../src/browser/worker/tunnel-service.ts';
import { TunnelClient } from '../../../src/browser/ui/tunnel-client.ts';
import type { HttpRequestInit } from '../../../src/protocols/http/http-client.ts';

test('fetch reports the final response head as sent, Set-Cookie lines and original case included', async () => {
  const session = {
    status: () => ({ state: 'up', relay: { url: 'ws://x/wg', state: 'open' }, interface: { publicKey: '', addresses: [] }, peers: [] }),
    onEvent: () => () => {},
    async fetch(url: string, init?: HttpRequestInit) {
      // One redirect hop, then the final head: only the last one is reported.
      init?.onResponseHead?.({ url, httpVersion: '1.1', status: 302, statusText: 'Found', headers: [['Location', '/next'], ['Set-Cookie', 'hop=1']] });
      init?.onResponseHead?.({
        url,
        httpVersion: '1.1',
        status: 200,
        statusText: 'OK',
        headers: [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1; HttpOnly'], ['Set-Cookie', 'b=2']],
      });
      return new Response('ok', { status: 200, headers: { 'content-type': 'text/plain' } });
    },
    close: async () => {},
  } as unknown as SessionLike;
  const { port1, port2 } = new MessageChannel();
  const service = new TunnelService(async () => session);
  expose(service, port1 as unknown as Parameters<typeof expose>[1]);
  const client = new TunnelClient(port2 as unknown as ConstructorParameters<typeof TunnelClient>[0]);
  try {
    await client.connect('[Interface]', 'ws://x/wg');
    const { head, response } = await client.fetchWithHead('http://10.0.0.1/', { redirect: 'manual' });
    assert.deepEqual(head.rawHeaders, [
      ['Content-Type', 'text/plain'],
      ['Set-Cookie', 'a=1; HttpOnly'],
      ['Set-Cookie', 'b=2'],
    ]);
    assert.equal(await response.text(), 'ok');
  } finally {
    client.dispose();
    port1.close();
    port2.close();
  }
});
