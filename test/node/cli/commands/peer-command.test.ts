import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { main } from '../../../../src/node/cli/main.ts';

// Fixture keys from real `wg genkey | tee priv | wg pubkey` (wireguard-tools).
const SERVER_PRIV = '8MZ4DkyL1jGJB8qgvyl17pdPhwkEynXwzVMM86Mtq24=';
const CLIENT_PUB = 'y44zkZg8FuThpguATVahF3QCz0uM31+cpQIiJEUNhUE=';
const PEER2_PUB = 'aru0RX5iHR1uvVJRbE53SwFmmh6fQqYpzNpl5eFixkM=';

/** A server's config: ListenPort, two clients that dial in, no Endpoint anywhere. */
const SERVER_CONF = `[Interface]
PrivateKey = ${SERVER_PRIV}
Address = 10.8.0.1/24
ListenPort = 51820

[Peer]
PublicKey = ${CLIENT_PUB}
AllowedIPs = 10.8.0.2/32

[Peer]
PublicKey = ${PEER2_PUB}
AllowedIPs = 10.8.0.3/32
`;

/** A loopback UDP port that was free a moment ago (`--listen` wants a real port, not 0). */
async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('wgweb peer --config server.conf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgweb-peer-cmd-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('does not warn that wgweb is a client or that its peers lack an Endpoint (issue #11 item 12)', async () => {
    const path = join(dir, 'server.conf');
    writeFileSync(path, SERVER_CONF, { mode: 0o600 });
    const io = createMemoryIo();
    let finished = false;
    const running = main(['peer', '--config', path, '--listen', `127.0.0.1:${await freeUdpPort()}`, '--quiet'], io).finally(() => (finished = true));
    // Stop once it has loaded the config and bound its (loopback) port, or has failed.
    while (!finished && !io.stdoutText().includes('listening')) await new Promise((r) => setTimeout(r, 10));
    io.abort();
    assert.equal(await running, 0, io.stderrText());
    assert.match(io.stdoutText(), /^wgweb peer listening on udp 127\.0\.0\.1:\d+, public key /);
    assert.equal(io.stderrText(), '', 'a server config is what `wgweb peer` expects: no warnings');
  });
});
