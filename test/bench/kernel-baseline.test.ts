/**
 * bench/kernel-baseline.ts: the counters each kernel-path transfer reports from its namespaces'
 * /proc/PID/net/snmp (UDP receive-buffer drops at wireguard-go's socket, TCP retransmissions).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseNetDevDrops, parseProcNetTable, parseSnmpCounters } from '../../bench/kernel-baseline.ts';

describe('parseSnmpCounters', () => {
  test('reads Udp RcvbufErrors and Tcp RetransSegs by column name', () => {
    const text = [
      'Ip: Forwarding DefaultTTL',
      'Ip: 1 64',
      'Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors',
      'Tcp: 1 200 120000 -1 3 2 0 0 1 5000 6000 77 0 1 0',
      'Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
      'Udp: 9000 0 42 8000 41 0 0 0 0',
      'UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors',
      'UdpLite: 0 0 0 0 5 0 0 0 0',
    ].join('\n');
    assert.deepEqual(parseSnmpCounters(text), { udpRcvbufErrors: 41, tcpRetransSegs: 77 });
  });

  test('a text without the rows counts zero', () => {
    assert.deepEqual(parseSnmpCounters(''), { udpRcvbufErrors: 0, tcpRetransSegs: 0 });
  });
});

describe('parseProcNetTable', () => {
  test('maps one protocol\'s header row onto its value row, and an absent protocol to {}', () => {
    const text = ['TcpExt: SyncookiesSent TCPBacklogDrop', 'TcpExt: 0 12', 'IpExt: InNoRoutes', 'IpExt: 3'].join('\n');
    assert.deepEqual(parseProcNetTable(text, 'TcpExt'), { SyncookiesSent: 0, TCPBacklogDrop: 12 });
    assert.deepEqual(parseProcNetTable(text, 'Udp'), {});
  });
});

describe('parseNetDevDrops', () => {
  test('sums the receive and transmit drop columns of every interface but loopback', () => {
    const text = [
      'Inter-|   Receive                                                |  Transmit',
      ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed',
      '    lo: 9999 99 0 50 0 0 0 0 9999 99 0 60 0 0 0 0',
      'wgwh12g: 1000 10 0 3 0 0 0 0 2000 20 0 7 0 0 0 0',
      '  wv12n: 5000 50 0 1 0 0 0 0 6000 60 0 0 0 0 0 0',
    ].join('\n');
    assert.equal(parseNetDevDrops(text), 3 + 7 + 1);
    assert.equal(parseNetDevDrops(text, 'wgwh12g'), 3 + 7, 'one interface when named');
    assert.ok(Number.isNaN(parseNetDevDrops(text, 'wg9')), 'an interface that is not listed is unknown, not zero');
  });

  test('a text without interface rows counts zero', () => {
    assert.equal(parseNetDevDrops('Inter-|   Receive\n face |bytes'), 0);
  });
});
