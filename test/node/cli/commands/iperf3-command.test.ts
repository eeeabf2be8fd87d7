import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIperf3Target, run, spec } from '../../../../src/node/cli/commands/iperf3-command.ts';
import { formatCommandHelp } from '../../../../src/node/cli/args.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';
import { formatIperf3Interval, formatIperf3Summary } from '../../../../src/protocols/iperf3/iperf3-format.ts';
import { formatBitrate } from '../../../../src/shared/format-bytes.ts';

describe('wgweb iperf3: arguments and output', () => {
  test('HOST takes iperf3\'s port 5201 unless HOST:PORT names another; IPv6 in brackets', () => {
    assert.deepEqual(parseIperf3Target('10.0.0.2'), { host: '10.0.0.2', port: 5201 });
    assert.deepEqual(parseIperf3Target('10.0.0.2:5202'), { host: '10.0.0.2', port: 5202 });
    assert.deepEqual(parseIperf3Target('[fd00::2]:5203'), { host: 'fd00::2', port: 5203 });
    assert.deepEqual(parseIperf3Target('fd00::2'), { host: 'fd00::2', port: 5201 });
    assert.deepEqual(parseIperf3Target('iperf.corp'), { host: 'iperf.corp', port: 5201 });
  });

  test('-t, -R and -P are iperf3\'s flags; out-of-range values are usage errors', async () => {
    const help = formatCommandHelp(spec);
    assert.match(help, /-t, --time SECONDS/);
    assert.match(help, /-R, --reverse/);
    assert.match(help, /-P, --parallel STREAMS/);
    await assert.rejects(run(['-P', '17', '10.0.0.2'], createMemoryIo()), /parallel/);
    await assert.rejects(run(['-t', '0', '10.0.0.2'], createMemoryIo()), /time/);
  });

  test('lines look like iperf3\'s: interval, transfer, bitrate, retransmits, then sender and receiver', () => {
    assert.equal(formatBitrate(76_123_456), '76.1 Mbit/s');
    assert.equal(formatBitrate(1_500_000_000), '1.50 Gbit/s');
    assert.equal(formatBitrate(999), '999 bit/s');
    const line = formatIperf3Interval({ start: 0, end: 1, bytes: 9_563_000, bitsPerSecond: 76_504_000, streamBytes: [9_563_000], retransmits: 3 });
    assert.match(line, /^\s+0\.00-1\.00\s+sec\s+9\.12 MiB\s+76\.5 Mbit\/s\s+3$/);
    const [sender, receiver] = formatIperf3Summary({
      reverse: false,
      streams: 1,
      seconds: 3,
      senderSide: 'client',
      sender: { bytes: 28_534_280, seconds: 3, bitsPerSecond: 76_091_413, retransmits: 227 },
      receiver: { bytes: 28_656_864, seconds: 3.0001, bitsPerSecond: 76_410_000 },
      intervals: [],
      server: { cpuUtilTotal: 0, cpuUtilUser: 0, cpuUtilSystem: 0, senderHasRetransmits: -1, streams: [] },
    });
    assert.match(sender, /27\.21 MiB\s+76\.1 Mbit\/s\s+227\s+sender$/);
    assert.match(receiver, /27\.33 MiB\s+76\.4 Mbit\/s\s+receiver$/);
  });
});
