import { test } from 'node:test';
import assert from 'node:assert/strict';
import { qrMatrix } from '../../../../src/browser/ui/lib/qr-matrix.ts';

const config = `[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.8.0.2/32
DNS = 10.8.0.1

[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
AllowedIPs = 0.0.0.0/0, ::/0
Endpoint = vpn.example.com:51820
PersistentKeepalive = 25
`;

test('a whole client config fits, with the 4-module quiet zone on every side', () => {
  const qr = qrMatrix(config);
  assert.equal(qr.size, 17 + 4 * qr.version + 8);
  // Top-left finder pattern: its outer ring starts right after the quiet zone.
  assert.match(qr.path, /^M4 4h7v1h-7z/);
  assert.ok(!qr.path.includes('M0 '), 'nothing is drawn in the quiet zone');
});

test('runs are merged: one path command per horizontal run of dark modules', () => {
  const qr = qrMatrix('wgweb');
  const runs = qr.path.match(/M/g)?.length ?? 0;
  const modules = [...qr.path.matchAll(/h(\d+)v1/g)].reduce((n, m) => n + Number(m[1]), 0);
  assert.ok(runs < modules, `${runs} runs for ${modules} dark modules`);
});

test('too much text is a RangeError that says so', () => {
  assert.throws(() => qrMatrix('x'.repeat(5000)), /Too much text/);
});
