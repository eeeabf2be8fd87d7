/**
 * `wgweb report` writes the diagnostic report as HTML and JSON (issue #15 item 7). Real parts on
 * loopback: a DemoPeer (wgweb's own WireGuard peer) and the relay; `main()` runs in-process with a
 * memory CliIo. The written files are searched for the private key; a second peer that never
 * answers still gets a report, with why, and exit status 1.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DemoPeer } from '../../../../src/node/demo/demo-peer.ts';
import { startRelay, type RelayHandle } from '../../../../src/node/relay/main.ts';
import { silentLogger } from '../../../../src/node/relay/log.ts';
import { main } from '../../../../src/node/cli/main.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { hostIn } from '../../../../src/node/cli/commands/report-command.ts';
import { formatEndpoint } from '../../../../src/shared/ip-address.ts';
import type { DiagnosticReport } from '../../../../src/session/diagnostic-report.ts';

const SILENT_KEY = Buffer.alloc(32, 7).toString('base64');

async function wgweb(argv: string[]) {
  const io = createMemoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

test('the host pinged inside AllowedIPs: the address of a host prefix, else the first host of the network', () => {
  assert.equal(hostIn('10.44.0.7/32'), '10.44.0.7');
  assert.equal(hostIn('10.44.0.0/24'), '10.44.0.1');
  assert.equal(hostIn('fd44::/64'), 'fd44::1');
  assert.equal(hostIn('0.0.0.0/0'), undefined);
  assert.equal(hostIn(undefined), undefined);
});

describe('wgweb report against the demo peer', () => {
  let demo: DemoPeer;
  let relay: RelayHandle;
  let dir: string;
  let conf: string;
  let privateKey: string;
  before(async () => {
    demo = await DemoPeer.start({ sweepIntervalMs: 0 });
    relay = await startRelay({ host: '127.0.0.1', port: 0, logger: silentLogger, browse: false, staticDirs: [], allow: [formatEndpoint(demo.endpoint), '127.0.0.1:9'] });
    dir = mkdtempSync(join(tmpdir(), 'wgweb-report-'));
    const reg = demo.register('report-test');
    privateKey = /^PrivateKey = (\S+)/m.exec(reg.config)![1];
    conf = join(dir, 'wg0.conf');
    writeFileSync(conf, reg.config, { mode: 0o600 });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await relay?.close();
    await demo?.close();
  });

  test('checks the peer (handshake, 3 pings), writes HTML and JSON without the private key, exits 0', async () => {
    const out = join(dir, 'ticket.html');
    const r = await wgweb(['report', '--config', conf, '--relay', relay.wsUrl, '-o', out]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^peer \S+… \(127\.0\.0\.1:\d+\): handshake done, ping 10\.44\.0\.1 3\/3 avg [\d.]+ ms\n/);
    assert.match(r.stdout, /Report written: .*ticket\.html \(HTML\), .*ticket\.json \(JSON\)/);
    const html = readFileSync(out, 'utf8');
    const jsonText = readFileSync(join(dir, 'ticket.json'), 'utf8');
    assert.equal(html.includes(privateKey), false, 'the HTML holds the private key');
    assert.equal(jsonText.includes(privateKey), false, 'the JSON holds the private key');
    const report = JSON.parse(jsonText) as DiagnosticReport;
    assert.equal(report.runtime.kind, 'node');
    assert.match(report.runtime.wgwebVersion, /^\d+\.\d+\.\d+/);
    assert.equal(report.status.state, 'up');
    assert.deepEqual(report.checks.map((c) => [c.handshake, c.pinged, c.pingReceived]), [['done', '10.44.0.1', 3]]);
    assert.equal(report.tools.find((t) => t.tool === 'ping')?.ok, true);
    assert.ok(report.quality.samples.length >= 1, 'the report closes the current quality interval');
    for (const id of ['config', 'relay-peers', 'checks', 'tools', 'quality', 'events']) assert.match(html, new RegExp(`<section id="${id}">`));
  });

  test('a peer that never answers is in the report with why, and the command exits 1', async () => {
    const two = join(dir, 'two.conf');
    writeFileSync(two, `${readFileSync(conf, 'utf8')}\n[Peer]\nPublicKey = ${SILENT_KEY}\nEndpoint = 127.0.0.1:9\nAllowedIPs = 10.99.0.0/24\n`, { mode: 0o600 });
    const out = join(dir, 'two.json');
    const r = await wgweb(['report', '--config', two, '--relay', relay.wsUrl, '--handshake-timeout', '2', '-o', out]);
    assert.equal(r.code, 1, r.stderr + r.stdout);
    assert.ok(existsSync(join(dir, 'two.html')), '-o FILE.json puts the HTML beside it');
    const report = JSON.parse(readFileSync(out, 'utf8')) as DiagnosticReport;
    assert.deepEqual(report.checks.map((c) => c.handshake), ['done', 'no answer']);
    assert.ok(report.checks[1].note, 'why the second peer is not up');
    assert.match(r.stdout, /handshake no answer/);
  });
});
