import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  charsetOf,
  classifyBody,
  decodeText,
  mediaType,
  parseHeaderLines,
  prettyJson,
  sandboxedSrcdoc,
} from '../../../../src/browser/ui/lib/http-body.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('classifyBody picks the view', () => {
  const table: [string | null, Uint8Array, string][] = [
    ['text/html', new Uint8Array(), 'empty'],
    ['application/json; charset=utf-8', enc('{"a":1}'), 'json'],
    ['application/problem+json', enc('{}'), 'json'],
    ['text/html; charset=utf-8', enc('<p>hi'), 'html'],
    ['image/png', new Uint8Array([0x89, 0x50, 0x4e, 0x47]), 'image'],
    ['text/plain', enc('hello'), 'text'],
    [null, enc('[1, 2]'), 'json'],
    [null, enc('<!DOCTYPE html><title>x</title>'), 'html'],
    ['application/octet-stream', new Uint8Array([0, 1, 2, 3]), 'binary'],
    ['text/plain', new Uint8Array([0xff, 0xfe, 0x00]), 'binary'],
    ['text/plain', enc('{not json'), 'text'],
  ];
  table.forEach(([type, bytes, kind], i) => test(`${i + 1}. ${type ?? 'no type'} → ${kind}`, () => assert.equal(classifyBody(type, bytes), kind)));
});

test('mediaType and charsetOf read the Content-Type parameters', () => {
  assert.equal(mediaType('Text/HTML ; charset="ISO-8859-1"'), 'text/html');
  assert.equal(charsetOf('Text/HTML ; charset="ISO-8859-1"'), 'iso-8859-1');
  assert.equal(charsetOf('text/html'), undefined);
});

test('decodeText honours a known charset and falls back to UTF-8', () => {
  assert.equal(decodeText(new Uint8Array([0xe9]), 'text/plain; charset=iso-8859-1'), 'é');
  assert.equal(decodeText(enc('é'), 'text/plain; charset=klingon'), 'é');
});

test('prettyJson indents by two, or gives undefined', () => {
  assert.equal(prettyJson('{"a":[1,2]}'), '{\n  "a": [\n    1,\n    2\n  ]\n}');
  assert.equal(prettyJson('nope'), undefined);
});

describe('parseHeaderLines', () => {
  test('one Name: value per line; blank and # lines skipped; values may hold colons', () => {
    assert.deepEqual(parseHeaderLines('Accept: application/json\n\n# note\nX-Url: http://a:1/\r\n').headers, [
      ['Accept', 'application/json'],
      ['X-Url', 'http://a:1/'],
    ]);
  });
  test('problems carry the line number', () => {
    assert.deepEqual(parseHeaderLines('Accept: */*\nbroken\nBad Name: x').problems, [
      { line: 2, message: '"broken" is not Name: value' },
      { line: 3, message: '"Bad Name" is not a valid header name' },
    ]);
  });
});

test('the HTML preview document blocks all network loads with a CSP ahead of the page', () => {
  const doc = sandboxedSrcdoc('<img src="http://192.0.2.1/track.png">');
  assert.match(doc, /^<meta http-equiv="Content-Security-Policy" content="default-src 'none';/);
  assert.ok(doc.endsWith('<img src="http://192.0.2.1/track.png">'));
});
