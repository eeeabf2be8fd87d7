import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_CONFIG_SUMMARY, diagnoseConfig, findPrivateKey, stripLinePrefix } from '../../../../src/browser/ui/lib/config-diagnostics.ts';

const GOOD = `[Interface]
PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=
Address = 10.8.0.2/32

[Peer]
PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=
AllowedIPs = 0.0.0.0/0
Endpoint = 192.0.2.1:51820
`;

describe('diagnoseConfig', () => {
  test('an empty editor gets guidance, not errors', () => {
    const d = diagnoseConfig('  \n');
    assert.equal(d.empty, true);
    assert.equal(d.summary, EMPTY_CONFIG_SUMMARY);
    assert.deepEqual(d.diagnostics, []);
  });

  test('a good config is valid and says how many peers', () => {
    const d = diagnoseConfig(GOOD);
    assert.equal(d.valid, true);
    assert.equal(d.summary, 'Config looks good: 1 peer');
    assert.ok(d.config);
  });

  test('a broken key is reported on its own line, without the "line N:" prefix, and marked in the gutter', () => {
    const d = diagnoseConfig(GOOD.replace('PublicKey = xTIBA5', 'PublicKey = xTIBA'));
    assert.equal(d.valid, false);
    const first = d.diagnostics.find((x) => x.severity === 'error');
    assert.equal(first?.line, 6);
    assert.equal(first?.key, 'PublicKey');
    assert.doesNotMatch(first?.message ?? '', /^line /);
    assert.ok(d.errorLines.has(6));
    assert.match(d.summary, /^1 problem to fix/);
  });

  test('errors and warnings come sorted by line, errors first within a line', () => {
    const d = diagnoseConfig(GOOD.replace('Address = 10.8.0.2/32', 'Address = 10.8.0.2/32\nPostUp = iptables -A x\nAllowedIP = 10.0.0.0/8'));
    const lines = d.diagnostics.map((x) => x.line);
    assert.deepEqual(lines, [...lines].sort((a, b) => a - b));
    assert.ok(d.warningLines.has(4), 'PostUp is a warning');
  });
});

test('stripLinePrefix removes only a leading "line N:"', () => {
  assert.equal(stripLinePrefix('line 12: PublicKey must be 32 bytes'), 'PublicKey must be 32 bytes');
  assert.equal(stripLinePrefix('no [Interface] section (see line 3)'), 'no [Interface] section (see line 3)');
});

describe('findPrivateKey', () => {
  test('finds the interface key even when other lines are broken', () => {
    assert.equal(findPrivateKey(GOOD.replace('AllowedIPs', 'AllowedIPz')), 'yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=');
  });
  test('ignores keys in [Peer], comments and malformed values', () => {
    assert.equal(findPrivateKey('[Peer]\nPrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n'), undefined);
    assert.equal(findPrivateKey('[Interface]\n# PrivateKey = yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n'), undefined);
    assert.equal(findPrivateKey('[Interface]\nPrivateKey = short=\n'), undefined);
  });
});
