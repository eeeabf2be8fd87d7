/**
 * The import-graph check: imports point down the levels, units on one level stay apart, the
 * isomorphic levels import no `node:` module, and no file reaches itself through its imports.
 * The last case runs the check over this repository, so CI fails on a violation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkGraph, findCycles, readGraph, unitOf } from '../../scripts/check-imports.mjs';

const graph = (edges: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(edges));

describe('check-imports', () => {
  test('a file belongs to the unit of its longest matching prefix', () => {
    assert.equal(unitOf('src/node/relay/relay-server.ts').prefix, 'src/node/relay/');
    assert.equal(unitOf('src/node/udp-peer.ts').prefix, 'src/node/udp-peer.ts');
    assert.equal(unitOf('src/shared/bytes.ts').level, 0);
    assert.equal(unitOf('vite.config.ts'), undefined);
  });

  test('an import down the levels or within a unit passes', () => {
    const g = graph({
      'src/session/session.ts': ['src/engine/event-loop.ts', 'src/session/tunnel-event-text.ts', 'lit'],
      'src/engine/event-loop.ts': ['src/shared/bytes.ts'],
      'src/node/cli/main.ts': ['src/node/relay/main.ts', 'node:fs'],
      'bench/main.ts': ['src/wireguard/tunnel.ts'],
    });
    assert.deepEqual(checkGraph(g), []);
  });

  test('an import up the levels is reported', () => {
    const problems = checkGraph(graph({ 'src/session/session.ts': ['src/browser/worker/tunnel-api.ts'] }));
    assert.equal(problems.length, 1);
    assert.match(problems[0], /session\.ts \(level 4\) imports src\/browser\/worker\/tunnel-api\.ts \(level 5\.1\)/);
  });

  test('bench importing test is reported', () => {
    assert.equal(checkGraph(graph({ 'bench/tcp-bench.ts': ['test/helpers/fake-clock.ts'] })).length, 1);
  });

  test('harness sits between the product and its users: it imports src/, and src/ never imports it, nor harness test/ or bench/', () => {
    assert.deepEqual(checkGraph(graph({ 'harness/netns.ts': ['src/node/udp-peer.ts', 'src/browser/worker/tunnel-api.ts', 'node:child_process'], 'bench/tcp-bench.ts': ['harness/netns.ts'], 'test/interop/x.test.ts': ['harness/netns.ts'] })), []);
    assert.equal(checkGraph(graph({ 'src/node/relay/main.ts': ['harness/netns.ts'] })).length, 1);
    assert.equal(checkGraph(graph({ 'harness/browser.ts': ['test/helpers/fuzz.ts'] })).length, 1);
    assert.equal(checkGraph(graph({ 'harness/browser.ts': ['bench/op-rate.ts'] })).length, 1);
  });

  test('siblings on one level, and the browser and Node sides, do not import each other', () => {
    assert.match(checkGraph(graph({ 'src/netstack/net-interface.ts': ['src/wireguard/tunnel.ts'] }))[0], /siblings/);
    assert.match(checkGraph(graph({ 'src/node/cli/main.ts': ['src/browser/worker/tunnel-api.ts'] }))[0], /browser and Node/);
  });

  test('a node: import below the runtimes is reported', () => {
    assert.match(checkGraph(graph({ 'src/engine/dialer.ts': ['node:net'] }))[0], /runs in the browser too/);
  });

  test('a cycle is reported once, with its files in import order', () => {
    const g = graph({ a: ['b'], b: ['c'], c: ['a'], d: ['a'], e: ['e'] });
    assert.deepEqual(findCycles(g), [['a', 'b', 'c'], ['e']]);
    assert.equal(checkGraph(g).filter((p: string) => p.startsWith('import cycle')).length, 2);
  });

  test('this repository passes', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const g = readGraph(root);
    assert.ok(g.has('src/session/session.ts'), 'the graph covers src/');
    assert.ok(g.has('harness/netns.ts'), 'and harness/');
    assert.deepEqual(checkGraph(g), []);
  });
});
