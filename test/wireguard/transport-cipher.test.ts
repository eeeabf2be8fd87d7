import { test, describe, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AEAD_TAG_SIZE } from '../../src/wireguard/constants.ts';
import { TransportAead } from '../../src/wireguard/transport-aead.ts';
import { createTransportCipher, setTransportCipherBackend, transportCipherImplementation } from '../../src/wireguard/transport-cipher.ts';
import { WasmTransportAead } from '../../src/wireguard/wasm/wasm-transport-aead.ts';

const SELECTOR = fileURLToPath(new URL('../../src/wireguard/transport-cipher.ts', import.meta.url));

describe('createTransportCipher', () => {
  afterEach(() => setTransportCipherBackend('auto'));

  test('picks the WebAssembly AEAD by default where it runs (Node), the TypeScript one with backend "js"', () => {
    assert.equal(transportCipherImplementation(), 'wasm');
    assert.ok(createTransportCipher(new Uint8Array(32)) instanceof WasmTransportAead);
    setTransportCipherBackend('js');
    assert.equal(transportCipherImplementation(), 'js');
    assert.ok(createTransportCipher(new Uint8Array(32)) instanceof TransportAead);
    assert.throws(() => setTransportCipherBackend('fast' as 'js'), TypeError);
  });

  test('the two backends interoperate: each opens what the other sealed', () => {
    const key = new Uint8Array(32).fill(3);
    const wasm = createTransportCipher(key);
    setTransportCipherBackend('js');
    const js = createTransportCipher(key);
    const msg = new Uint8Array(16 + 1420 + AEAD_TAG_SIZE).fill(7, 16, 16 + 1420);
    wasm.seal(msg, 16, 1420, 9, 0);
    assert.equal(js.open(msg, 16, 1420, msg, 16, 9, 0), true);
    js.seal(msg, 16, 1420, 10, 0);
    assert.equal(wasm.open(msg, 16, 1420, msg, 16, 10, 0), true);
    assert.deepEqual(msg.subarray(16, 16 + 1420), new Uint8Array(1420).fill(7));
  });

  test('without WebAssembly (or when compiling is refused, as under a CSP without wasm-unsafe-eval) the TypeScript AEAD is used', () => {
    // A fresh process: the module status is decided once per thread.
    const script = `
      // What Chromium throws when the CSP forbids compiling WebAssembly.
      WebAssembly.Module = function () {
        throw new WebAssembly.CompileError("WebAssembly.Module(): Refused to compile or instantiate WebAssembly module because 'wasm-unsafe-eval' is not an allowed source of script");
      };
      const m = await import(${JSON.stringify(SELECTOR)});
      const w = await import(${JSON.stringify(SELECTOR.replace(/transport-cipher\.ts$/, 'wasm/wasm-transport-aead.ts'))});
      const c = m.createTransportCipher(new Uint8Array(32));
      const buf = new Uint8Array(40);
      c.seal(buf, 0, 24, 1, 0);
      console.log(JSON.stringify({ impl: m.transportCipherImplementation(), ctor: c.constructor.name, opens: c.open(buf, 0, 24, buf, 0, 1, 0), status: w.wasmTransportAeadStatus() }));
    `;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
    assert.equal(out.impl, 'js');
    assert.equal(out.ctor, 'TransportAead');
    assert.equal(out.opens, true);
    assert.equal(out.status.available, false);
    assert.match(out.status.reason, /Refused to compile/);
  });
});
