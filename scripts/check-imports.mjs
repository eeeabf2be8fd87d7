#!/usr/bin/env node
// Checks the import graph of src/, harness/, bench/ and test/ against the layering in docs/architecture.md.
//
//   node scripts/check-imports.mjs      prints every violation and exits 1 if there is one
//
// Flow: list the .ts files → read each file's import specifiers with TypeScript's own pre-parser
// (static, type-only, re-exports and literal dynamic import()) → resolve the relative ones to
// files → check every edge against LEVELS (an import may point to its own unit or to a lower
// level, never up or sideways) → find cycles between files (Tarjan's strongly connected
// components) → report. The unit suite runs it (test/scripts/check-imports.test.ts), so CI fails
// on a violation.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { join, dirname, resolve, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The layers, lowest first: [path prefix, level]. The longest matching prefix names a file's unit.
 * A file may import files of its own unit and of units with a strictly lower level. Two units on
 * the same level never import each other (wireguard/netstack; the browser and Node runtimes).
 * Level 5 is the two runtimes; inside each, the decimals order its parts (a part may use the
 * parts below it: the relay hosts the demo, the CLI starts the relay).
 */
export const LEVELS = [
  ['src/shared/', 0], // isomorphic basics: bytes, addresses, errors, config, relay framing
  ['src/wireguard/', 1], // the WireGuard protocol, sans-IO
  ['src/netstack/', 1], // IPv4/IPv6/ICMP/UDP/TCP, sans-IO
  ['src/engine/', 2], // event loop, relay transport, streams over sockets
  ['src/protocols/', 3], // protocols over streams: http, dns, tls, websocket, ssh, iperf3
  ['src/session/', 4], // Session = engine + protocols, shared by both runtimes
  ['src/browser/capture/', 5.0],
  ['src/browser/worker/', 5.1],
  ['src/browser/browse/', 5.2],
  ['src/browser/ui/', 5.3],
  ['src/node/udp-peer.ts', 5.0],
  ['src/node/package-files.ts', 5.0], // where the package's own files are (dist/ui, package.json)
  ['src/node/demo/', 5.1],
  ['src/node/relay/', 5.2],
  ['src/node/cli/', 5.3],
  ['harness/', 5.9], // real peers and servers for tests and benchmarks: above the product, below both users
  ['bench/', 6], // benchmarks use the product, never the tests
  ['test/', 7],
];

/** Units below this level run in both runtimes, so they import no `node:` module. */
export const ISOMORPHIC_BELOW = 5;

/** Pairs of top-level folders that must not import each other in either direction. */
const SEPARATE = [['src/browser/', 'src/node/']];

/** The unit (matching LEVELS prefix) of a repository-relative path, or undefined. */
export function unitOf(file) {
  let best;
  for (const [prefix, level] of LEVELS) {
    if (file.startsWith(prefix) && (!best || prefix.length > best.prefix.length)) best = { prefix, level };
  }
  return best;
}

/**
 * Checks a graph: `graph` maps each file (repository-relative, '/'-separated) to the files and
 * bare specifiers it imports. Returns human-readable violations, empty when the graph is clean.
 */
export function checkGraph(graph) {
  const problems = [];
  for (const [from, targets] of graph) {
    const fu = unitOf(from);
    if (!fu) continue;
    for (const to of targets) {
      if (to.startsWith('node:')) {
        if (fu.level < ISOMORPHIC_BELOW) problems.push(`${from} imports ${to}: level ${fu.level} code runs in the browser too`);
        continue;
      }
      const tu = unitOf(to);
      if (!tu || tu.prefix === fu.prefix) continue;
      const apart = SEPARATE.some(([a, b]) => (from.startsWith(a) && to.startsWith(b)) || (from.startsWith(b) && to.startsWith(a)));
      if (apart) problems.push(`${from} imports ${to}: the browser and Node sides do not import each other`);
      else if (tu.level > fu.level) problems.push(`${from} (level ${fu.level}) imports ${to} (level ${tu.level}): imports point down`);
      else if (tu.level === fu.level) problems.push(`${from} imports ${to}: ${fu.prefix} and ${tu.prefix} are siblings on level ${fu.level}`);
    }
  }
  for (const cycle of findCycles(graph)) problems.push(`import cycle: ${cycle.join(' → ')} → ${cycle[0]}`);
  return problems;
}

/** Strongly connected components with more than one file (or a self-import), each as a file list. */
export function findCycles(graph) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  // Iterative Tarjan, so deep graphs cannot overflow the call stack.
  for (const root of graph.keys()) {
    if (idx.has(root)) continue;
    const work = [[root, 0]];
    while (work.length) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      if (i === 0) {
        idx.set(v, index);
        low.set(v, index);
        index++;
        stack.push(v);
        onStack.add(v);
      }
      const next = (graph.get(v) ?? []).filter((t) => graph.has(t));
      if (i < next.length) {
        frame[1]++;
        const w = next[i];
        if (!idx.has(w)) work.push([w, 0]);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        const comp = [];
        let w;
        do {
          w = stack.pop();
          onStack.delete(w);
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(comp.reverse());
      }
    }
  }
  return out;
}

function walk(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules') out.push(...walk(p));
    } else if (/\.(ts|mts|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Reads the import graph of src/, harness/, bench/ and test/ under `root`. */
export function readGraph(root) {
  const posix = (p) => p.split(sep).join('/');
  const graph = new Map();
  for (const abs of ['src', 'harness', 'bench', 'test'].flatMap((d) => walk(join(root, d)))) {
    const file = posix(relative(root, abs));
    const info = ts.preProcessFile(readFileSync(abs, 'utf8'), true, true);
    const targets = [];
    for (const { fileName: spec } of info.importedFiles) {
      if (spec.startsWith('node:')) targets.push(spec);
      if (!spec.startsWith('.')) continue;
      const base = resolve(dirname(abs), spec);
      const hit = [base, `${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p) && statSync(p).isFile());
      targets.push(posix(relative(root, hit ?? base)));
    }
    graph.set(file, targets);
  }
  return graph;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const graph = readGraph(root);
  const problems = checkGraph(graph);
  for (const p of problems) console.error(`check-imports: ${p}`);
  if (problems.length) {
    console.error(`check-imports: ${problems.length} violation(s); the levels are in scripts/check-imports.mjs and docs/architecture.md`);
    process.exit(1);
  }
  console.log(`check-imports: ${graph.size} files, imports point down, no cycles`);
}
