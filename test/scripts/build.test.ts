/**
 * The build script's precompression: what the relay can serve as br/gzip is decided here.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
// @ts-expect-error: a plain .mjs script without type declarations
import { precompress } from '../../scripts/build.mjs';

describe('scripts/build.mjs', () => {
  test('precompress writes .br and .gz beside text files over 1 KiB that decode to the same bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgweb-precompress-'));
    try {
      mkdirSync(join(dir, 'assets'));
      const js = `export const text = ${JSON.stringify('wgweb '.repeat(500))};\n`;
      writeFileSync(join(dir, 'assets', 'index-AbCd1234.js'), js);
      writeFileSync(join(dir, 'small.css'), 'p{}');
      writeFileSync(join(dir, 'image.png'), Buffer.alloc(4096, 7));
      writeFileSync(join(dir, 'index.js.map'), '{"x":"' + 'a'.repeat(4000) + '"}');
      const totals = (await precompress(dir)) as { files: number; raw: number; br: number };
      const big = join(dir, 'assets', 'index-AbCd1234.js');
      assert.equal(brotliDecompressSync(readFileSync(`${big}.br`)).toString(), js);
      assert.equal(gunzipSync(readFileSync(`${big}.gz`)).toString(), js);
      for (const skipped of ['small.css', 'image.png', 'index.js.map']) {
        assert.ok(!existsSync(join(dir, `${skipped}.br`)) && !existsSync(join(dir, `${skipped}.gz`)), `${skipped} is not precompressed`);
      }
      assert.deepEqual([totals.files, totals.raw], [1, js.length]);
      assert.ok(totals.br < js.length / 10);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
