/**
 * `wgweb compare` (issue #15 item 1): the same download straight from the relay's `/speed` and
 * through the tunnel from the demo peer's web site, both rates printed with the percentage; a URL
 * that serves fewer bytes is an error that says so. Real parts on loopback: a DemoPeer and the
 * relay; `main()` in-process with a memory CliIo.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoPeer } from '../../../../src/node/demo/demo-peer.ts';
import { startRelay, type RelayHandle } from '../../../../src/node/relay/main.ts';
import { silentLogger } from '../../../../src/node/relay/log.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { formatEndpoint } from '../../../../src/shared/ip-address.ts';

async function wgweb(argv: string[]) {
  const io = createMemoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('wgweb compare against the demo peer', () => {
  let demo: DemoPeer;
  let relay: RelayHandle;
  let dir: string;
  let conf: string;
  before(async () => {
    demo = await DemoPeer.start({ sweepIntervalMs: 0 });
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint)] });
    dir = mkdtempSync(join(tmpdir(), 'wgweb-compare-'));
    conf = join(dir, 'wg0.conf');
    writeFileSync(conf, demo.register('compare-test').config, { mode: 0o600 });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await relay?.close();
    await demo?.close();
  });

  test('prints the direct and the tunnel rate and the tunnel as a percentage of direct, exit 0', async () => {
    const r = await wgweb(['compare', '--config', conf, '--relay', relay.wsUrl, '-n', '1048576', 'http://10.44.0.1/bytes/1048576']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Tunnel vs direct, 1048576 bytes each:\n {2}direct +[\d.]+ [kMG]?bit\/s in [\d.]+ ms {2}ws:\/\/127\.0\.0\.1:\d+\/wg \(the relay's \/speed, no tunnel\)\n {2}tunnel +[\d.]+ [kMG]?bit\/s in [\d.]+ ms {2}http:\/\/10\.44\.0\.1\/bytes\/1048576 \(through WireGuard\)\nThe tunnel reaches [\d.]+% of the direct rate\.\n$/);
  });

  test('a URL that serves fewer bytes than asked for is an error naming both counts', async () => {
    const r = await wgweb(['compare', '--config', conf, '--relay', relay.wsUrl, '-n', '4096', 'http://10.44.0.1/bytes/1000']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /gave 1000 bytes, fewer than the 4096/);
  });
});
