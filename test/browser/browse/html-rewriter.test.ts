import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HtmlRewriter, MAX_PENDING_TAG, decodeCharRefs, htmlRewriteStream, latin1Decode, latin1Encode } from '../../../src/browser/browse/html-rewriter.ts';
import { mapLink } from '../../../src/browser/browse/browse-url.ts';
import { TunnelScope } from '../../../src/browser/browse/tunnel-scope.ts';

const scope = TunnelScope.from(['10.77.0.0/24']);
/** A browse session (one app tab). */
const S = 'tab00001';
const documentUrl = new URL('http://10.77.0.1/docs/index.html');
const AGENT = '<script src="/__wgweb/frame-agent.js" async></script>';

function rewrite(html: string, options: { inject?: string; chunk?: number } = {}): string {
  const rw = new HtmlRewriter({ documentUrl, mapUrl: (v, base) => mapLink(v, base, scope, S), inject: options.inject });
  const size = options.chunk ?? html.length;
  let out = '';
  for (let i = 0; i < html.length; i += size) out += rw.write(html.slice(i, i + size));
  return out + rw.end();
}

describe('navigational URLs are mapped, everything else is left byte for byte', () => {
  const table: [string, string][] = [
    ['<a href="/x">', '<a href="/browse/tab00001/http/10.77.0.1/x">'],
    ["<a href='/x'>", "<a href='/browse/tab00001/http/10.77.0.1/x'>"],
    ['<a href=/x>', '<a href="/browse/tab00001/http/10.77.0.1/x">'],
    ['<A HREF="http://10.77.0.2:8080/y">', '<A HREF="/browse/tab00001/http/10.77.0.2:8080/y">'],
    ['<a href="page.html">', '<a href="page.html">'],
    ['<a href="https://example.com/">', '<a href="/browse/tab00001/https/example.com/">'],
    ['<a href="https://192.0.2.1/">', '<a href="/__wgweb/outside?url=https://192.0.2.1/">'],
    ['<a class=x href = "/x" id=y>', '<a class=x href = "/browse/tab00001/http/10.77.0.1/x" id=y>'],
    ['<area href="/map">', '<area href="/browse/tab00001/http/10.77.0.1/map">'],
    ['<form method=post action="/login">', '<form method=post action="/browse/tab00001/http/10.77.0.1/login">'],
    ['<button formaction="/other">', '<button formaction="/browse/tab00001/http/10.77.0.1/other">'],
    ['<iframe src="http://10.77.0.3/"></iframe>', '<iframe src="/browse/tab00001/http/10.77.0.3/"></iframe>'],
    ['<img src="/logo.png">', '<img src="/logo.png">'],
    ['<link rel=stylesheet href="/s.css">', '<link rel=stylesheet href="/s.css">'],
    ['<script src="/app.js"></script>', '<script src="/app.js"></script>'],
    ['<meta http-equiv="refresh" content="0; url=/next">', '<meta http-equiv="refresh" content="0; url=/browse/tab00001/http/10.77.0.1/next">'],
    ['<a href="/q?a=1&amp;b=2">', '<a href="/browse/tab00001/http/10.77.0.1/q?a=1&amp;b=2">'],
    ['<a href="https://192.0.2.1/?a=1&amp;b=2">', '<a href="/__wgweb/outside?url=https://192.0.2.1/%3Fa%3D1%26b%3D2">'],
    ['<a data-x="a>b" href="/gt">', '<a data-x="a>b" href="/browse/tab00001/http/10.77.0.1/gt">'],
    ['<a href="/first" href="/second">', '<a href="/browse/tab00001/http/10.77.0.1/first" href="/second">'],
    ['<a href=/x?q=\'y\'>', '<a href="/browse/tab00001/http/10.77.0.1/x?q=\'y\'">'],
  ];
  table.forEach(([input, want], n) => {
    test(`${n + 1}. ${input}`, () => assert.equal(rewrite(input), want));
  });
});

describe('the tokenizer does not rewrite what is not a tag', () => {
  test('script, style, textarea and title content, comments and doctype pass untouched', () => {
    const html =
      '<!DOCTYPE html><!-- <a href="/c"> --><script>if (a<b) document.write(\'<a href="/s">\')</script>' +
      '<style>a[href="/x"]{}</style><textarea><a href="/t"></textarea><title><a href="/ti"></title>';
    assert.equal(rewrite(html), html);
  });
  test('an end tag needs its name and a delimiter: "</scripts" does not end a script', () => {
    const html = '<script>x="</scripts>"; y="<a href=/no>"</script><a href="/yes">';
    assert.equal(rewrite(html), '<script>x="</scripts>"; y="<a href=/no>"</script><a href="/browse/tab00001/http/10.77.0.1/yes">');
  });
  test('empty comments close at once', () => {
    assert.equal(rewrite('<!--><a href="/x"><!---><a href="/y">'), '<!--><a href="/browse/tab00001/http/10.77.0.1/x"><!---><a href="/browse/tab00001/http/10.77.0.1/y">');
  });
  test('a stray "<" is text', () => {
    assert.equal(rewrite('1 < 2 <3 <a href="/x">'), '1 < 2 <3 <a href="/browse/tab00001/http/10.77.0.1/x">');
  });
});

describe('<base href>', () => {
  test('an absolute base is mapped and becomes the base of root-absolute links', () => {
    const out = rewrite('<base href="http://10.77.0.9:81/app/"><a href="/x">');
    assert.equal(out, '<base href="/browse/tab00001/http/10.77.0.9:81/app/"><a href="/browse/tab00001/http/10.77.0.9:81/x">');
  });
  test('a root-absolute base resolves against the document; only the first base counts', () => {
    const out = rewrite('<base href="/sub/"><base href="http://10.77.0.5/"><a href="/x">');
    assert.equal(out, '<base href="/browse/tab00001/http/10.77.0.1/sub/"><base href="http://10.77.0.5/"><a href="/browse/tab00001/http/10.77.0.1/x">');
  });
});

describe('the frame agent is injected once, near the top', () => {
  test('after <html>, <head> and the charset <meta>, before anything else', () => {
    const out = rewrite('<!doctype html><html><head><meta charset="utf-8"><title>t</title></head><body>x</body></html>', { inject: AGENT });
    assert.equal(out, `<!doctype html><html><head><meta charset="utf-8">${AGENT}<title>t</title></head><body>x</body></html>`);
  });
  test('before </head> or <body> when the head is empty', () => {
    assert.equal(rewrite('<html><head></head><body>', { inject: AGENT }), `<html><head>${AGENT}</head><body>`);
    assert.equal(rewrite('<body>hi', { inject: AGENT }), `${AGENT}<body>hi`);
  });
  test('at the end of a document without elements', () => {
    assert.equal(rewrite('just text', { inject: AGENT }), `just text${AGENT}`);
  });
});

describe('streaming: any chunking gives the same output, and output does not wait for the end', () => {
  const html =
    '<!doctype html><html><head><meta charset=utf-8><base href="http://10.77.0.1/b/"><title>T</title></head><body>' +
    '<!-- c --><a href="/one">1</a><script>var s = "</div><a href=/no>";</script>' +
    '<form action="http://10.77.0.2/f"><textarea><a href="/t"></textarea></form><a href=\'https://x.example/\'>x</a></body></html>';
  const whole = rewrite(html, { inject: AGENT });
  for (const size of [1, 2, 3, 7, 16, 64]) {
    test(`chunks of ${size}`, () => assert.equal(rewrite(html, { inject: AGENT, chunk: size }), whole));
  }
  test('text before an incomplete tag is emitted at once', () => {
    const rw = new HtmlRewriter({ documentUrl, mapUrl: (v, b) => mapLink(v, b, scope, S) });
    assert.equal(rw.write('<p>first part</p><a hr'), '<p>first part</p>');
    assert.equal(rw.write('ef="/x">'), '<a href="/browse/tab00001/http/10.77.0.1/x">');
  });
  test('an oversized tag passes through unrewritten, its quotes respected, and the document goes on', () => {
    const big = `<img src="data:image/png;base64,${'A'.repeat(MAX_PENDING_TAG + 10)}>" alt=">">`;
    const input = `${big}<a href="/after">`;
    assert.equal(rewrite(input, { chunk: 4096 }), `${big}<a href="/browse/tab00001/http/10.77.0.1/after">`);
  });
});

describe('bytes', () => {
  test('non-UTF-8 bytes survive the round trip (windows-1252 é, Shift_JIS)', () => {
    const bytes = new Uint8Array([0x3c, 0x70, 0x3e, 0xe9, 0x82, 0xa0, 0xff, 0x00, 0x3c, 0x2f, 0x70, 0x3e]);
    assert.deepEqual(latin1Encode(latin1Decode(bytes)), bytes);
  });
  test('character references that URLs use are decoded; others are kept', () => {
    assert.equal(decodeCharRefs('a&amp;b&#47;c&#x2F;&eacute;&#233;'), 'a&b/c/&eacute;&#233;');
  });
  test('the stream transform rewrites across byte chunks', async () => {
    const html = '<html><body><a href="/x">caf\u00e9</a></body></html>';
    const bytes = new TextEncoder().encode(html);
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.subarray(i, i + 5));
        c.close();
      },
    });
    const out = await new Response(source.pipeThrough(htmlRewriteStream({ documentUrl, mapUrl: (v, b) => mapLink(v, b, scope, S) }))).text();
    assert.equal(out, '<html><body><a href="/browse/tab00001/http/10.77.0.1/x">caf\u00e9</a></body></html>');
  });
});
