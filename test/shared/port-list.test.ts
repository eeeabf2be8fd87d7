import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_PORTS, parsePortList } from '../../src/shared/port-list.ts';

describe('parsePortList', () => {
  test('takes single ports, lists and ranges, in the order given, without duplicates', () => {
    assert.deepEqual(parsePortList('22'), [22]);
    assert.deepEqual(parsePortList('22,80, 443'), [22, 80, 443]);
    assert.deepEqual(parsePortList('8000-8003'), [8000, 8001, 8002, 8003]);
    assert.deepEqual(parsePortList('80,22,79-81'), [80, 22, 79, 81]);
  });

  test('refuses what is not a port, out of range, backwards, or too many, saying which part', () => {
    assert.throws(() => parsePortList(''), /give one or more ports/);
    assert.throws(() => parsePortList('ssh'), /"ssh" is not a port/);
    assert.throws(() => parsePortList('0'), /port 0 in "0" is outside 1-65535/);
    assert.throws(() => parsePortList('22,70000'), /70000/);
    assert.throws(() => parsePortList('90-80'), /runs backwards; write 80-90/);
    assert.throws(() => parsePortList('1-65535'), new RegExp(`at most ${MAX_PORTS} ports`));
    assert.throws(() => parsePortList('1-1000,2000-2100'), /at most 1024 ports/);
    assert.equal(parsePortList('1-1024').length, 1024);
  });
});
