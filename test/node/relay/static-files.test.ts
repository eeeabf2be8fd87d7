/**
 * The relay serves the built UI like a real web server: precompressed br/gzip by Accept-Encoding,
 * validators and 304s, and cache lifetimes by kind of file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { acceptedCodings, createStaticHandler } from '../../../src/node/relay/static-files.ts';

const HTML = `<!doctype html><title>app</title>${'<p>wgweb</p>'.repeat(200)}`;
const SCRIPT = `export const x = ${JSON.stringify('w'.repeat(3000))};`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

describe('static files: compression, validators, caching', () => {
  let dir: string;
  let server: http.Server;
  let port: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wgweb-static-files-'));
    mkdirSync(join(dir, 'assets'));
    const files: Record<string, string> = { 'index.html': HTML, 'assets/index-AbCdEf12.js': SCRIPT };
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(join(dir, name), text);
      writeFileSync(join(dir, `${name}.br`), brotliCompressSync(text));
      writeFileSync(join(dir, `${name}.gz`), gzipSync(text));
    }
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *\nDisallow: /\n');
    // Only a gzip sibling: a brotli-only client gets the file itself.
    writeFileSync(join(dir, 'gz-only.js'), SCRIPT);
    writeFileSync(join(dir, 'gz-only.js.gz'), gzipSync(SCRIPT));
    const handler = createStaticHandler([dir]);
    server = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  test('a browser that accepts brotli gets the .br file, labelled, with its own length', async () => {
    const r = await get('/', { 'Accept-Encoding': 'gzip, deflate, br, zstd' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'br');
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers.vary, 'Accept-Encoding');
    assert.equal(Number(r.headers['content-length']), r.body.length);
    assert.ok(r.body.length < HTML.length / 4);
    assert.equal(brotliDecompressSync(r.body).toString(), HTML);
  });

  test('gzip only, or brotli refused with q=0, gets the .gz file', async () => {
    for (const accept of ['gzip', 'br;q=0, gzip;q=0.5', '*, br;q=0']) {
      const r = await get('/assets/index-AbCdEf12.js', { 'Accept-Encoding': accept });
      assert.equal(r.headers['content-encoding'], 'gzip', accept);
      assert.equal(gunzipSync(r.body).toString(), SCRIPT);
      assert.equal(r.headers['content-type'], 'text/javascript; charset=utf-8');
    }
  });

  test('no Accept-Encoding, or only unknown codings, gets the file itself, still with Vary', async () => {
    for (const headers of [{}, { 'Accept-Encoding': 'identity, zstd' }] as Record<string, string>[]) {
      const r = await get('/', headers);
      assert.equal(r.headers['content-encoding'], undefined);
      assert.equal(r.body.toString(), HTML);
      assert.equal(r.headers.vary, 'Accept-Encoding');
    }
  });

  test('a file without compressed siblings has no Vary; a coding without a sibling gets the file', async () => {
    const robots = await get('/robots.txt', { 'Accept-Encoding': 'br' });
    assert.deepEqual([robots.headers['content-encoding'], robots.headers.vary], [undefined, undefined]);
    const gzOnly = await get('/gz-only.js', { 'Accept-Encoding': 'br' });
    assert.deepEqual([gzOnly.headers['content-encoding'], gzOnly.headers.vary], [undefined, 'Accept-Encoding']);
    assert.equal(gzOnly.body.toString(), SCRIPT);
    assert.equal((await get('/gz-only.js', { 'Accept-Encoding': 'br, gzip' })).headers['content-encoding'], 'gzip');
  });

  test('hashed assets are immutable for a year; index.html and the rest are revalidated', async () => {
    assert.equal((await get('/assets/index-AbCdEf12.js')).headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal((await get('/')).headers['cache-control'], 'no-cache');
    assert.equal((await get('/index.html')).headers['cache-control'], 'no-cache');
    assert.equal((await get('/robots.txt')).headers['cache-control'], 'no-cache');
  });

  test('each representation has its own strong ETag, and Last-Modified', async () => {
    const tags = new Set<string>();
    for (const accept of ['br', 'gzip', '']) {
      const r = await get('/', accept ? { 'Accept-Encoding': accept } : {});
      assert.match(r.headers.etag ?? '', /^"[^"]+"$/);
      tags.add(r.headers.etag ?? '');
      assert.ok(Number.isFinite(Date.parse(r.headers['last-modified'] ?? '')));
    }
    assert.equal(tags.size, 3);
  });

  test('If-None-Match with the current ETag answers 304 without a body; another ETag gets 200', async () => {
    const first = await get('/', { 'Accept-Encoding': 'br' });
    const again = await get('/', { 'Accept-Encoding': 'br', 'If-None-Match': `"x", W/${first.headers.etag}` });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, first.headers.etag);
    assert.equal(again.headers['cache-control'], 'no-cache');
    // The br ETag does not validate the gzip representation.
    assert.equal((await get('/', { 'Accept-Encoding': 'gzip', 'If-None-Match': first.headers.etag ?? '' })).status, 200);
  });

  test('If-Modified-Since answers 304 when the file is not newer, and loses to If-None-Match', async () => {
    const first = await get('/robots.txt');
    const lastModified = first.headers['last-modified'] ?? '';
    assert.equal((await get('/robots.txt', { 'If-Modified-Since': lastModified })).status, 304);
    assert.equal((await get('/robots.txt', { 'If-Modified-Since': 'Sat, 01 Jan 2000 00:00:00 GMT' })).status, 200);
    assert.equal((await get('/robots.txt', { 'If-Modified-Since': lastModified, 'If-None-Match': '"other"' })).status, 200);
  });

  test('HEAD gets the headers of the chosen representation and no body', async () => {
    const r = await get('/', { 'Accept-Encoding': 'br' }, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], 'br');
    assert.equal(r.body.length, 0);
    assert.ok(Number(r.headers['content-length']) > 0);
  });
});

describe('acceptedCodings reads Accept-Encoding (RFC 9110 §12.5.3)', () => {
  test('weights, refusals and the wildcard', () => {
    assert.deepEqual([...acceptedCodings(undefined)], []);
    assert.deepEqual([...acceptedCodings('gzip, br;q=0.9')].sort(), ['br', 'gzip']);
    assert.deepEqual([...acceptedCodings('br;q=0, gzip;q=0.000')], []);
    assert.deepEqual([...acceptedCodings('*')].sort(), ['br', 'gzip']);
    assert.deepEqual([...acceptedCodings('*;q=1, gzip;q=0')], ['br']);
    assert.deepEqual([...acceptedCodings(' GZIP ; Q=1 ')], ['gzip']);
  });
});
