import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../../src/node/cli/load-config-file.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { toBase64 } from '../../../src/shared/bytes.ts';

// From real `wg genkey | tee priv | wg pubkey`.
const PRIV = 'WAC5Q8HtooNmrK54XVHGptbvJsUm5IqVzBWa7SgoqGk=';
const OWN_PUB = 'y44zkZg8FuThpguATVahF3QCz0uM31+cpQIiJEUNhUE=';
const SERVER_PUB = '7vaHKfLOYVtQPB/Q3S0HQAp70mnrSa1lSVb9WrXpKHQ=';

const GOOD = `[Interface]
PrivateKey = ${PRIV}
Address = 10.0.0.2/32
PostUp = echo up

[Peer]
PublicKey = ${SERVER_PUB}
Endpoint = 127.0.0.1:51820
AllowedIPs = 10.0.0.0/24
`;

let dir: string;
const file = (name: string, text: string, mode = 0o600) => {
  const p = join(dir, name);
  writeFileSync(p, text, { mode });
  chmodSync(p, mode);
  return p;
};

/** Asserts that `p` rejects with a WgwebError of `code` and exactly `message`. */
async function rejectsWith(p: Promise<unknown>, code: string, message: string) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof WgwebError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

describe('loadConfigFile', () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-load-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('reads and parses a config; warnings come prefixed with the path', async () => {
    const p = file('wg0.conf', GOOD);
    const warnings: string[] = [];
    const config = await loadConfigFile(p, { onWarning: (w) => warnings.push(w) });
    assert.equal(toBase64(config.peers[0].publicKey), SERVER_PUB);
    assert.deepEqual(warnings, [`${p}: line 4: PostUp is run by wg-quick on Linux; wgweb ignores it`]);
    assert.ok(await loadConfigFile(p), 'warnings are optional');
  });

  test('a file other users can read gets a chmod hint, as wg-quick warns', async () => {
    const p = file('open.conf', GOOD, 0o644);
    const warnings: string[] = [];
    await loadConfigFile(p, { onWarning: (w) => warnings.push(w) });
    assert.equal(warnings[0], `${p} is readable by other users and holds a private key; run: chmod 600 ${p}`);
  });

  test('a parse error names the file and the line (CONFIG_INVALID)', async () => {
    const p = file('bad.conf', GOOD.replace('Address = 10.0.0.2/32', 'Address = 10.0.0.300/24'));
    await rejectsWith(loadConfigFile(p), ErrorCode.CONFIG_INVALID, `${p}: line 3: Address "10.0.0.300/24" is not an IPv4 or IPv6 address`);
    try {
      await loadConfigFile(p);
    } catch (e) {
      assert.ok(e instanceof WgwebError);
      assert.equal(e.detail.path, p);
      assert.equal(e.detail.line, 3);
      assert.equal((e.detail.errors as unknown[]).length, 1);
    }
  });

  test('several problems are all reported at once, one line each, in file order', async () => {
    const p = file('many.conf', GOOD.replace('Address = 10.0.0.2/32', 'Address = 10.0.0.2/40').replace(SERVER_PUB, 'abc'));
    await rejectsWith(
      loadConfigFile(p),
      ErrorCode.CONFIG_INVALID,
      `${p}: 2 problems:\n  line 3: Address "10.0.0.2/40" has a bad prefix length (0 to 32 for IPv4)\n  line 7: PublicKey must be 32 bytes of base64 (it is 3 characters long; a key is 44 characters ending in "=")`,
    );
  });

  test('your own public key as the peer\'s key is caught (the CLI has X25519 at hand)', async () => {
    const p = file('self.conf', GOOD.replace(SERVER_PUB, OWN_PUB));
    await rejectsWith(loadConfigFile(p), ErrorCode.CONFIG_INVALID, `${p}: line 7: PublicKey is this interface's own public key; put the other side's public key here`);
  });

  test('read failures are CONFIG_UNREADABLE with a plain reason', async () => {
    const missing = join(dir, 'nope.conf');
    await rejectsWith(loadConfigFile(missing), ErrorCode.CONFIG_UNREADABLE, `cannot read config ${missing}: no such file`);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    await rejectsWith(loadConfigFile(sub), ErrorCode.CONFIG_UNREADABLE, `cannot read config ${sub}: it is a directory`);
    const notDir = join(dir, 'wg0.conf', 'x.conf');
    file('wg0.conf', GOOD);
    await rejectsWith(loadConfigFile(notDir), ErrorCode.CONFIG_UNREADABLE, `cannot read config ${notDir}: a part of the path is not a directory`);
  });

  test('a huge file, or an endless device, is refused without reading it all', async () => {
    const big = join(dir, 'big.conf');
    writeFileSync(big, '');
    truncateSync(big, 5 * 1024 * 1024);
    await rejectsWith(loadConfigFile(big), ErrorCode.CONFIG_UNREADABLE, `cannot read config ${big}: it is larger than 1 MiB, so not a wg-quick .conf file`);
    await rejectsWith(loadConfigFile('/dev/zero'), ErrorCode.CONFIG_UNREADABLE, 'cannot read config /dev/zero: it is larger than 1 MiB, so not a wg-quick .conf file');
  });

  test('an empty file and a binary file are CONFIG_INVALID, not crashes', async () => {
    const empty = file('empty.conf', '');
    await rejectsWith(loadConfigFile(empty), ErrorCode.CONFIG_INVALID, `${empty}: no [Interface] section (is this a wg-quick .conf file?)`);
    const bin = join(dir, 'bin.conf');
    writeFileSync(bin, new Uint8Array(4096).map((_, i) => (i * 7919) & 255));
    await assert.rejects(loadConfigFile(bin), (e: unknown) => e instanceof WgwebError && e.code === ErrorCode.CONFIG_INVALID);
  });

  test('bad caller input is a TypeError', async () => {
    await assert.rejects(loadConfigFile(''), TypeError);
    await assert.rejects(loadConfigFile(undefined as unknown as string), TypeError);
  });
});
