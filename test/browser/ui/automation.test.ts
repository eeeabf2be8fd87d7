/**
 * window.wgweb's argument checks and error shape, against a recording target: bad arguments are
 * rejected with USAGE before anything reaches the tunnel; target failures keep their codes; ping
 * gathers every reply in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WgwebError } from '../../../src/shared/errors.ts';
import { createAutomation, type AutomationTarget } from '../../../src/browser/ui/automation.ts';

function target(overrides: Partial<AutomationTarget> = {}): AutomationTarget & { calls: string[] } {
  const calls: string[] = [];
  const t: AutomationTarget & { calls: string[] } = {
    calls,
    ready: Promise.resolve(),
    connect: async (c, r) => (calls.push(`connect ${r ?? '(default)'}`), { state: 'connecting', relay: { url: '', state: '' }, interface: { publicKey: '', addresses: [] }, peers: [] }),
    disconnect: async () => void calls.push('disconnect'),
    status: async () => null,
    ping: async (address, o, onReply) => {
      calls.push(`ping ${address} ${o.count}`);
      onReply({ seq: 2, timeout: true });
      onReply({ seq: 1, from: address, bytes: 64, rttMs: 1 });
      return { address, transmitted: 2, received: 1, lossPercent: 50 };
    },
    dns: async (n, ty) => (calls.push(`dns ${n} ${ty}`), { name: n, type: ty, addresses: [], ttl: 0, server: '', elapsedMs: 0 }),
    tcping: async (h, p) => (calls.push(`tcping ${h} ${p}`), { host: h, address: h, port: p, result: 'open', elapsedMs: 1 }),
    fetch: async (u) => (calls.push(`fetch ${u}`), new Response('x')),
    events: () => [{ at: 1, type: 't', level: 'info', message: 'm', detail: { n: 1 } }],
    ...overrides,
  };
  return t;
}

async function code(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e) => {
      assert.ok(e instanceof Error, 'rejects with an Error');
      return (e as WgwebError).code;
    },
  );
}

test('bad arguments reject with USAGE and never reach the tunnel', async () => {
  const t = target();
  const w = createAutomation(t);
  assert.equal(await code(w.connect(42 as unknown as string)), 'USAGE');
  assert.equal(await code(w.connect('cfg', 8080 as unknown as string)), 'USAGE');
  assert.equal(await code(w.ping('')), 'USAGE');
  assert.equal(await code(w.ping('10.0.0.1', 0)), 'USAGE');
  assert.equal(await code(w.dns('example.com', 'MX' as 'A')), 'USAGE');
  assert.equal(await code(w.tcping('h', 65536)), 'USAGE');
  assert.equal(await code(w.fetch(undefined as unknown as string)), 'USAGE');
  assert.deepEqual(t.calls, []);
});

test('defaults: relay from the UI, 4 pings, A records', async () => {
  const t = target();
  const w = createAutomation(t);
  await w.connect('cfg');
  await w.ping('10.0.0.1');
  await w.dns('example.com');
  assert.deepEqual(t.calls, ['connect (default)', 'ping 10.0.0.1 4', 'dns example.com A']);
});

test('ping resolves with the summary and every reply, in sequence order', async () => {
  const r = await createAutomation(target()).ping('10.0.0.1', 2);
  assert.equal(r.lossPercent, 50);
  assert.deepEqual(r.replies.map((x) => x.seq), [1, 2]);
});

test('errors from the tunnel keep their code; plain ones become INTERNAL Errors', async () => {
  const w = createAutomation(
    target({
      tcping: async () => {
        throw new WgwebError('HOST_UNREACHABLE', 'no route');
      },
      status: async () => {
        throw new Error('worker gone');
      },
    }),
  );
  assert.equal(await code(w.tcping('10.0.0.1', 22)), 'HOST_UNREACHABLE');
  assert.equal(await code(w.status()), 'INTERNAL');
});

test('events() is a copy: scripts cannot change the log', () => {
  const w = createAutomation(target());
  const events = w.events();
  (events[0].detail as { n: number }).n = 2;
  assert.equal((w.events()[0].detail as { n: number }).n, 1);
  assert.ok(Object.isFrozen(w));
});

test('allowLegacyTls(host) allows by default, takes back with false, and checks its arguments', async () => {
  const calls: string[] = [];
  const w = createAutomation(target({ allowLegacyTls: async (h, allow) => void calls.push(`${h} ${allow}`) }));
  await w.allowLegacyTls('ups.corp');
  await w.allowLegacyTls('ups.corp', false);
  assert.equal(await code(w.allowLegacyTls('')), 'USAGE');
  assert.equal(await code(w.allowLegacyTls('ups.corp', 'yes' as unknown as boolean)), 'USAGE');
  assert.deepEqual(calls, ['ups.corp true', 'ups.corp false']);
  assert.equal(await code(createAutomation(target()).allowLegacyTls('ups.corp')), 'USAGE');
});

/** A full query result as the worker returns it, for `dnsQuery` doubles. */
function queryResult(name: string, type: string, rcode = 'NOERROR', answers: { name: string; type: string; ttl: number; data: string }[] = []) {
  return { name, type, question: name, rcode, answers, authorities: [], additionals: [], cnameChain: [], server: '10.0.0.53', transport: 'udp' as const, elapsedMs: 2, queries: [{ name, elapsedMs: 2 }] };
}

test('dns asks for any type (any case) and another server through dnsQuery; A/AAAA answers become addresses', async () => {
  const t = target({
    dnsQuery: async (n, ty, o) => {
      t.calls.push(`dnsQuery ${n} ${ty} ${o.server ?? '-'}`);
      return ty === 'A'
        ? queryResult(n, ty, 'NOERROR', [
            { name: n, type: 'CNAME', ttl: 60, data: 'real.example.' },
            { name: 'real.example', type: 'A', ttl: 30, data: '10.0.0.7' },
            { name: 'real.example', type: 'A', ttl: 20, data: '10.0.0.8' },
          ])
        : queryResult(n, ty, 'NOERROR', [{ name: n, type: 'MX', ttl: 60, data: '10 mail.example.' }]);
    },
  });
  const w = createAutomation(t);
  const mx = await w.dns('example', 'mx', { server: '10.0.0.54' });
  assert.deepEqual(mx.answers.map((a) => a.data), ['10 mail.example.']);
  assert.deepEqual([mx.addresses, mx.ttl], [[], 0]);
  const a = await w.dns(' alias.example ');
  assert.deepEqual([a.addresses, a.ttl], [['10.0.0.7', '10.0.0.8'], 20]);
  assert.deepEqual(t.calls, ['dnsQuery example MX 10.0.0.54', 'dnsQuery alias.example A -']);
  assert.equal(await code(w.dns('example', 'A', { server: 53 as unknown as string })), 'USAGE');
  assert.equal(t.calls.length, 2);
});

test('dns: a name that does not exist rejects with DNS_NXDOMAIN, as it always has', async () => {
  const w = createAutomation(target({ dnsQuery: async (n, ty) => queryResult(n, ty, 'NXDOMAIN') }));
  const err = await w.dns('nothing.example').catch((e: WgwebError) => e);
  assert.ok(err instanceof WgwebError);
  assert.equal(err.code, 'DNS_NXDOMAIN');
  assert.match(err.message, /nothing\.example: no such name \(NXDOMAIN from 10\.0\.0\.53\)/);
});

test('tcping with a list or an array checks the ports through tcpingPorts; a bad list is USAGE', async () => {
  const t = target({
    tcpingPorts: async (h, ports) => {
      t.calls.push(`ports ${h} ${ports.join(',')}`);
      return { host: h, address: h, results: [], open: [], closed: [], filtered: [], unreachable: [], skipped: 0 };
    },
  });
  const w = createAutomation(t);
  await w.tcping('10.0.0.1', '22, 80,8000-8002');
  await w.tcping('10.0.0.1', [443, 22]);
  await w.tcping('10.0.0.1', 22);
  assert.deepEqual(t.calls, ['ports 10.0.0.1 22,80,8000,8001,8002', 'ports 10.0.0.1 443,22', 'tcping 10.0.0.1 22']);
  assert.equal(await code(w.tcping('10.0.0.1', '90-80')), 'USAGE');
  assert.equal(await code(w.tcping('10.0.0.1', '1-2000')), 'USAGE');
  assert.equal(await code(w.tcping('10.0.0.1', [])), 'USAGE');
  assert.equal(t.calls.length, 3);
});

test('traceroute hands each hop to the script callback as a copy and resolves with the result; bad arguments are USAGE', async () => {
  const hop = { ttl: 1, probes: [{ kind: 'time-exceeded' as const, from: '10.0.0.1', rttMs: 1 }] };
  const t = target({
    traceroute: async (h, o, onHop) => {
      t.calls.push(`trace ${h} ${o.method}`);
      onHop(hop);
      return { host: h, address: h, family: 4, method: o.method ?? 'udp', maxHops: 30, hops: [hop], reached: false };
    },
  });
  const w = createAutomation(t);
  const seen: unknown[] = [];
  const r = await w.traceroute(' 10.0.0.9 ', { method: 'icmp' }, (h) => {
    seen.push(h);
    throw new Error('a script bug does not stop the trace');
  });
  assert.deepEqual(t.calls, ['trace 10.0.0.9 icmp']);
  assert.deepEqual(seen, [hop]);
  assert.notEqual(seen[0], hop, 'a copy');
  assert.equal(r.hops.length, 1);
  assert.equal(await code(w.traceroute('')), 'USAGE');
  assert.equal(await code(w.traceroute('h', null as never)), 'USAGE');
  assert.equal(await code(w.traceroute('h', {}, 'x' as never)), 'USAGE');
  assert.equal(await code(createAutomation(target()).traceroute('h')), 'USAGE', 'a page without traceroute');
});
