/**
 * The diagnostic report as data and as HTML: the config's PrivateKey and PresharedKey never appear
 * (searched for as strings in both outputs, also where a message quoted one), names that came from
 * the network are escaped (a hostile DNS answer or HTTP status text stays text), the page needs
 * no script and loads nothing, and every section is there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildDiagnosticReport, REDACTED, redactedConfigText, type ReportParts } from '../../src/session/diagnostic-report.ts';
import { renderReportHtml } from '../../src/session/report-html.ts';
import { escapeHtml } from '../../src/shared/escape-html.ts';
import { toolRecord } from '../../src/session/tool-record.ts';
import { parseWgQuickConfig } from '../../src/shared/wg-quick-config.ts';
import { toBase64 } from '../../src/shared/bytes.ts';
import { generatePresharedKey, generatePrivateKey, publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';
import type { DnsQueryResult } from '../../src/session/session-types.ts';

const priv = toBase64(generatePrivateKey());
const psk = toBase64(generatePresharedKey());
const peerKey = toBase64(publicKeyFromPrivate(generatePrivateKey()));
const configText = `[Interface]\nPrivateKey = ${priv}\nAddress = 10.0.0.2/32\nDNS = 10.0.0.53\n\n[Peer]\nPublicKey = ${peerKey}\nPresharedKey = ${psk}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.0.0.0/24\n`;
const HOSTILE = '<script>alert(1)</script><img src=x onerror=alert(2)>';

function parts(): ReportParts {
  const config = parseWgQuickConfig(configText).config;
  const dns: DnsQueryResult = {
    name: 'evil.example', type: 'TXT', question: 'evil.example', rcode: 'NOERROR',
    answers: [{ name: `${HOSTILE}.evil.example.`, type: 'TXT', ttl: 60, data: `"${HOSTILE}"` }],
    authorities: [], additionals: [], cnameChain: [], server: '10.0.0.53', transport: 'udp', elapsedMs: 3.2, queries: [],
  };
  const at = Date.UTC(2026, 11, 7, 9, 30, 0);
  return {
    generatedAt: at,
    runtime: { wgwebVersion: '0.1.0', kind: 'node', userAgent: 'node/v22 (linux x64)' },
    config,
    status: {
      state: 'up',
      relay: { url: 'ws://127.0.0.1:8080/', state: 'open', rttMs: 1.5 },
      interface: { publicKey: toBase64(publicKeyFromPrivate(config.interface.privateKey)), addresses: ['10.0.0.2/32'], mtu: 1420, dns: ['10.0.0.53'] },
      peers: [{ publicKey: peerKey, endpoint: '192.0.2.1:51820', allowedIPs: ['10.0.0.0/24'], latestHandshakeAt: at - 5000, rxBytes: 1000, txBytes: 2000, state: 'up' }],
    },
    relays: [{ url: 'ws://127.0.0.1:8080/wg', state: 'open', protocol: 'wgweb.v3', relayMoves: 0, datagramsSent: 3, datagramsReceived: 2, bytesSent: 500, bytesReceived: 400, drops: { closed: 0, queueFull: 1 } }],
    // A message that quoted the private key by mistake: the scrub must still catch it.
    events: [{ at, type: 'note', level: 'warn', message: `pasted ${priv} into the wrong field; relay said ${HOSTILE}` }],
    tools: [
      toolRecord('dns', 'evil.example', at, dns),
      toolRecord('http', 'http://10.0.0.1/', at, { method: 'GET', url: 'http://10.0.0.1/', status: 200, statusText: HOSTILE, elapsedMs: 4 }),
    ],
    quality: {
      intervalMs: 5000,
      capacity: 720,
      samples: [
        { at: at - 5000, intervalMs: 5000, txBps: 1000, rxBps: 8000, pingsSent: 0, pingsLost: 0, tcpRetransmits: 0, relayDrops: 0, tcpRttMs: 12, handshakeAgeMs: 0 },
        { at, intervalMs: 5000, txBps: 2000, rxBps: 4000, pingsSent: 2, pingsLost: 1, pingRttMs: 20, tcpRetransmits: 2, relayDrops: 0, handshakeAgeMs: 5000 },
      ],
    },
    checks: [{ publicKey: peerKey, endpoint: '192.0.2.1:51820', handshake: 'done', pinged: '10.0.0.1', pingSent: 3, pingReceived: 3, pingRttAvgMs: 1.2 }],
    counters: { psk: `a counter named after ${psk}` },
  };
}

test('the config is written with PrivateKey and PresharedKey replaced; public keys, addresses and endpoints stay', () => {
  const { text, redacted } = redactedConfigText(parseWgQuickConfig(configText).config);
  assert.deepEqual(redacted, ['PrivateKey', 'PresharedKey']);
  assert.match(text, new RegExp(`^PrivateKey = \\(redacted\\)$`, 'm'));
  assert.match(text, new RegExp(`^PresharedKey = \\(redacted\\)$`, 'm'));
  assert.ok(text.includes(`PublicKey = ${peerKey}`));
  assert.ok(text.includes('Endpoint = 192.0.2.1:51820'));
  assert.ok(!text.includes(priv) && !text.includes(psk));
});

test('neither key appears anywhere in the JSON or the HTML, even where a message quoted one', () => {
  const report = buildDiagnosticReport(parts());
  const json = JSON.stringify(report);
  const page = renderReportHtml(report);
  for (const secret of [priv, psk]) {
    assert.equal(json.includes(secret), false, 'JSON holds a key');
    assert.equal(page.includes(secret), false, 'HTML holds a key');
  }
  assert.ok(report.events[0].message.includes(`pasted ${REDACTED} into`), 'the quoted key is replaced in place');
  assert.ok(json.includes(peerKey), 'public keys stay: they identify the peer');
});

test('network-supplied names are escaped: a hostile DNS answer or HTTP status text is text, not markup', () => {
  const page = renderReportHtml(buildDiagnosticReport(parts()));
  assert.equal(page.includes('<script'), false);
  assert.equal(page.includes('<img'), false);
  assert.ok(page.includes(escapeHtml(HOSTILE)), 'shown escaped');
});

test('the page is self-contained: no script, no external resource, inline CSS and SVG, every section', () => {
  const report = buildDiagnosticReport(parts());
  const page = renderReportHtml(report);
  assert.match(page, /^<!doctype html>/);
  assert.match(page, /<style>/);
  assert.doesNotMatch(page, /<script|<link|<iframe|<img|<[^>]+\s(src|href)=|url\(|@import/i);
  assert.match(page, /Content-Security-Policy" content="default-src 'none'/, 'and a viewer that honours CSP loads nothing either');
  for (const id of ['config', 'relay-peers', 'checks', 'tools', 'quality', 'events', 'counters']) assert.match(page, new RegExp(`<section id="${id}">`), id);
  assert.match(page, /<svg [^>]*role="img"/, 'the quality chart is inline SVG');
  assert.match(page, /09:29:55|09:30:00/, 'the time axis shows clock times');
  assert.match(page, /wgweb 0\.1\.0 \(node\)/);
  assert.match(page, /2026-12-07 09:30:00 UTC/);
  assert.equal(report.format, 'wgweb-diagnostic-report/1');
  assert.deepEqual(report.tools.map((t) => t.tool), ['dns', 'http']);
});
