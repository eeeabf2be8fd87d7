/**
 * `.ci/packages.txt` is the one list of what a new CI machine installs: every binary a suite or
 * benchmark (or the harness they share) asks for (interopSkipReason([...]), findBinary, spawn/exec of a literal name) must be
 * listed there or come with an Essential Debian package.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertCiProvides, ciPackages, ESSENTIAL_BINARIES, findBinary, interopSkipReason } from '../../harness/requirements.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One binary named in source text, with where. */
interface BinaryUse {
  name: string;
  where: string;
}

/** Calls that take a binary name: requirement checks and process spawns with a literal first argument. */
const SPAWN_CALL = /\b(?:findBinary|spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*'([A-Za-z0-9._+-]+)'/g;
const REQUIREMENT_LIST = /\binteropSkipReason\(\s*\[([^\]]*)\]/g;

/** The binaries `text` (a TypeScript file's source) asks for. */
function binariesUsedIn(text: string, file: string): BinaryUse[] {
  const uses: BinaryUse[] = [];
  const at = (index: number) => `${file}:${text.slice(0, index).split('\n').length}`;
  for (const m of text.matchAll(SPAWN_CALL)) uses.push({ name: m[1], where: at(m.index) });
  for (const m of text.matchAll(REQUIREMENT_LIST)) {
    for (const q of m[1].matchAll(/'([^']+)'/g)) uses.push({ name: q[1], where: at(m.index) });
  }
  return uses;
}

/** The uses whose binary neither `.ci/packages.txt` (`listed`) nor Essential provides. */
function unlisted(uses: readonly BinaryUse[], listed: ReadonlyMap<string, string>): BinaryUse[] {
  return uses.filter((u) => !listed.has(u.name) && !ESSENTIAL_BINARIES.has(u.name));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? tsFiles(p) : name.endsWith('.ts') ? [p] : [];
  });
}

describe('.ci/packages.txt lists every binary the suites use', () => {
  test('every binary named in harness/, test/ and bench/ is listed or Essential', () => {
    const self = fileURLToPath(import.meta.url);
    const uses = ['harness', 'test', 'bench'].flatMap((d) => tsFiles(join(ROOT, d)))
      .filter((f) => f !== self)
      .flatMap((f) => binariesUsedIn(readFileSync(f, 'utf8'), relative(ROOT, f)));
    assert.ok(uses.some((u) => u.name === 'wireguard-go'), 'the scan finds the interop helpers\' spawns');
    assert.deepEqual(unlisted(uses, ciPackages()).map((u) => `${u.name} (${u.where})`), []);
  });

  test('the scan reports a suite asking for a binary nobody installs', () => {
    // Built from parts so that line scanners of this repository do not take 'nmap' for a real need.
    const call = ['interopSkipReason', "(['curl', 'nmap'])"].join('');
    const source = `describe('x', { skip: ${call} }, () => { ns.exec('socat', ['-']); spawn(process.execPath, []); });`;
    const uses = binariesUsedIn(source, 'x.test.ts');
    assert.deepEqual(uses.map((u) => u.name).sort(), ['curl', 'nmap', 'socat']);
    assert.deepEqual(unlisted(uses, ciPackages()).map((u) => u.name).sort(), ['nmap', 'socat']);
  });

  test('each line is "binary package"; comments and blank lines are skipped', () => {
    assert.deepEqual([...ciPackages('# c\n\nwg  wireguard-tools\ndig bind9-dnsutils\n')], [['wg', 'wireguard-tools'], ['dig', 'bind9-dnsutils']]);
    assert.throws(() => ciPackages('curl\n'), /line 1: expected "binary package"/);
    assert.equal(ciPackages().get('wireguard-go'), 'wireguard-go');
  });
});

describe('requirement checks refuse a binary .ci/packages.txt does not list', () => {
  test('interopSkipReason throws for an unlisted binary, also outside CI', () => {
    const unlistedTool = ['nmap'];
    assert.throws(() => interopSkipReason(unlistedTool), { name: 'TypeError', message: /"nmap" is not listed in \.ci\/packages\.txt/ });
  });

  test('findBinary throws for an unlisted binary and answers for listed and Essential ones', () => {
    assert.throws(() => findBinary('socat'), TypeError);
    assert.doesNotThrow(() => findBinary('curl'));
    assert.doesNotThrow(() => assertCiProvides('sh'));
  });
});
