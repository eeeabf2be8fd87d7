#!/usr/bin/env node
// The `wgweb` command.
//
//   installed package            runs dist/node/wgweb.js (compiled by scripts/build.mjs, shipped)
//   checkout, dist/node fresh    runs dist/node/wgweb.js too (`npm run build` / `npm start` made it)
//   checkout, no or stale build  compiles src/ on load through tsx (a devDependency), so the CLI and
//                                the tests always run exactly the code in the repository
//
// A checkout is recognised by src/node/cli/main.ts beside this file; the package ships no src/.
import { existsSync } from 'node:fs';

const here = (path) => new URL(path, import.meta.url);
const compiled = here('../dist/node/wgweb.js');
const source = here('../src/node/cli/main.ts');

async function compiledIsCurrent() {
  if (!existsSync(compiled)) return false;
  if (!existsSync(source)) return true;
  const { nodeStaleReason } = await import('../scripts/build.mjs');
  return nodeStaleReason() === undefined;
}

let main;
if (await compiledIsCurrent()) {
  // Stack traces point into src/ when someone asks for them (source maps cost start-up time).
  if (process.env.WGWEB_DEBUG === '1' || process.env.WGWEB_DEBUG === 'true') process.setSourceMapsEnabled(true);
  ({ main } = await import(compiled.href));
} else if (existsSync(source)) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write('wgweb: dist/node is missing or stale and tsx is not installed: run `npm install` then `npm run build`\n');
    process.exit(70);
  }
  register();
  ({ main } = await import(source.href));
} else {
  process.stderr.write('wgweb: this installation has no dist/node/wgweb.js; reinstall the package\n');
  process.exit(70);
}
process.exitCode = await main(process.argv.slice(2));
