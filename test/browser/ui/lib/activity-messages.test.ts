import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compactPorts,
  describeDns,
  describeDnsQuery,
  describePortCheck,
  describeHttp,
  describePingReply,
  describePingSummary,
  describeTcping,
  describeTraceroute,
  redactUrl,
} from '../../../../src/browser/ui/lib/activity-messages.ts';

test('ping lines read like ping(8)', () => {
  assert.equal(describePingReply({ seq: 1, from: '10.8.0.1', bytes: 64, ttl: 64, rttMs: 12.34 }), '64 bytes from 10.8.0.1: seq=1 ttl=64 time=12.3 ms');
  assert.equal(describePingReply({ seq: 2, timeout: true }), 'seq 2: no reply (timed out)');
  assert.equal(
    describePingSummary({ address: 'fd00::1', transmitted: 4, received: 3, lossPercent: 25, rttMinMs: 1, rttAvgMs: 2, rttMaxMs: 3.25, rttMdevMs: 1 }),
    'Ping fd00::1: 4 sent, 3 received, 25% loss, rtt min/avg/max 1.0/2.0/3.3 ms',
  );
  assert.equal(describePingSummary({ address: '10.8.0.9', transmitted: 2, received: 0, lossPercent: 100 }), 'Ping 10.8.0.9: 2 sent, 0 received, 100% loss');
});

test('DNS and TCP lines', () => {
  assert.equal(
    describeDns({ name: 'example.com', type: 'A', addresses: ['192.0.2.1'], ttl: 300, server: '10.8.0.1', elapsedMs: 12 }),
    'DNS example.com A: 192.0.2.1 (ttl 300 s, from 10.8.0.1, 12.0 ms)',
  );
  assert.equal(describeTcping({ host: 'fd00::1', address: 'fd00::1', port: 22, result: 'refused', elapsedMs: 2 }), 'TCP [fd00::1]:22 refused the connection (nothing listens there) after 2.0 ms');
  assert.equal(describeTcping({ host: 'db', address: '10.8.0.5', port: 5432, result: 'open', elapsedMs: 3 }), 'TCP db (10.8.0.5):5432 is open after 3.0 ms');
});

test('HTTP lines keep tokens in query strings and credentials out of the log', () => {
  assert.equal(describeHttp('GET', 'http://user:pw@10.8.0.1:8080/api?token=secret#x', 200, 'OK', 45), 'HTTP GET http://10.8.0.1:8080/api?…: 200 OK (45.0 ms)');
  assert.equal(redactUrl('not a url?token=1'), 'not a url');
});

test('full DNS queries: the records of the type asked, the alias, NXDOMAIN in words', () => {
  const base = { name: 'www.corp', type: 'A', question: 'www.corp', authorities: [], additionals: [], server: '10.0.0.53', transport: 'udp' as const, elapsedMs: 3.2, queries: [] };
  const answers = [
    { name: 'www.corp', type: 'CNAME', ttl: 60, data: 'web.corp.' },
    { name: 'web.corp', type: 'A', ttl: 60, data: '10.0.0.8' },
  ];
  assert.equal(describeDnsQuery({ ...base, rcode: 'NOERROR', answers, cnameChain: ['web.corp'] }), 'DNS www.corp A: 10.0.0.8 via web.corp (NOERROR from 10.0.0.53 over UDP, 3.2 ms)');
  assert.equal(describeDnsQuery({ ...base, type: 'MX', rcode: 'NOERROR', answers: [], cnameChain: [] }), 'DNS www.corp MX: no MX record (NOERROR from 10.0.0.53 over UDP, 3.2 ms)');
  assert.equal(describeDnsQuery({ ...base, rcode: 'NXDOMAIN', answers: [], cnameChain: [] }), 'DNS www.corp A: NXDOMAIN (NXDOMAIN from 10.0.0.53 over UDP, 3.2 ms)');
});

test('port lists: ports by outcome, runs folded, what was not tried', () => {
  assert.equal(compactPorts([8002, 22, 8000, 8001, 80, 443, 444]), '22,80,443-444,8000-8002');
  const r = { host: 'git.corp', address: '10.0.0.2', results: new Array(5).fill(null), open: [22, 80], closed: [81], filtered: [8080, 8081], unreachable: [], skipped: 3 };
  assert.equal(describePortCheck(r), 'TCP git.corp (10.0.0.2): 8 ports: 2 open (22,80), 1 closed, 2 filtered (8080-8081), 3 not tried');
});

test('traceroute lines: the method, reached or not, the path with names and * for silent hops', () => {
  const base = { host: 'far.lan', address: '10.0.0.9', family: 4 as const, maxHops: 30 };
  const hops = [
    { ttl: 1, probes: [{ kind: 'timeout' as const }, { kind: 'time-exceeded' as const, from: '10.0.0.1', name: 'gw.lan', rttMs: 1 }] },
    { ttl: 2, probes: [{ kind: 'timeout' as const }] },
    { ttl: 3, probes: [{ kind: 'unreachable' as const, from: '10.0.0.9', rttMs: 3, code: 3, icmpVersion: 4 as const }] },
  ];
  assert.equal(
    describeTraceroute({ ...base, method: 'udp', hops, reached: true }),
    'Traceroute far.lan (10.0.0.9) (UDP): reached in 3 hops: gw.lan (10.0.0.1) → * → 10.0.0.9',
  );
  assert.equal(describeTraceroute({ ...base, host: '10.0.0.9', method: 'icmp', hops: hops.slice(0, 2), reached: false }), 'Traceroute 10.0.0.9 (ICMP): not reached within 2 hops: gw.lan (10.0.0.1) → *');
});
