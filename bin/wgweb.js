#!/usr/bin/env node
// The `wgweb` command. The sources are TypeScript; tsx compiles them on load (cached), so the CLI,
// the relay and the tests all run exactly the code in the repository.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/node/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
