import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../../src/shared/errors.ts';
import { hintsForError } from '../../../../src/browser/ui/lib/error-hints.ts';

test('a handshake timeout says what to check on the server', () => {
  const hints = hintsForError(ErrorCode.HANDSHAKE_TIMEOUT).join(' ');
  assert.match(hints, /public key/);
  assert.match(hints, /Endpoint/);
});

test('every code a connect can fail with has at least one hint', () => {
  for (const code of ['CONFIG_INVALID', 'KEY_INVALID', 'RELAY_UNREACHABLE', 'RELAY_REFUSED', 'RELAY_CLOSED', 'HANDSHAKE_TIMEOUT']) {
    assert.ok(hintsForError(code).length > 0, code);
  }
});

test('unknown or missing codes have none', () => {
  assert.deepEqual(hintsForError('SOMETHING_NEW'), []);
  assert.deepEqual(hintsForError(undefined), []);
});
