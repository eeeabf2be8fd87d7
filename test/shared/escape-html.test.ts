import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml } from '../../src/shared/escape-html.ts';

test('escapeHtml escapes the five characters that end text or a quoted attribute', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
});

test('escapeHtml leaves other text as it is, including non-ASCII', () => {
  assert.equal(escapeHtml('10.0.0.1 → ü'), '10.0.0.1 → ü');
});
