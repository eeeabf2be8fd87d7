import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIp } from '../../../src/shared/ip-address.ts';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { DnsResolver, type DnsResolverOptions } from '../../../src/protocols/dns/dns-resolver.ts';
import { DnsRcode, DnsType, emitDnsMessage } from '../../../src/protocols/dns/dns-message.ts';
import { NodeDialer } from '../../helpers/node-dialer.ts';
import { TestDnsServer, a, aaaa, cname, reply, soa, type DnsHandler } from './dns-test-server.ts';

const dialer = new NodeDialer();
const servers: TestDnsServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  dialer.destroyAll();
});

async function server(handler: DnsHandler, host?: string): Promise<TestDnsServer> {
  const s = await TestDnsServer.start(handler, host);
  servers.push(s);
  return s;
}

function resolverFor(s: TestDnsServer | TestDnsServer[], extra: Partial<DnsResolverOptions> = {}): DnsResolver {
  const list = Array.isArray(s) ? s : [s];
  // A long attempt timeout unless a test is about timeouts: on a loaded machine a loopback answer
  // (a TCP connect and a 1.6 kB reply) can take longer than the 2 s default, and a retried query
  // would change what the server saw.
  return new DnsResolver({ dialer, servers: list.map((x) => x.address), port: list[0].port, timeoutMs: 15_000, ...extra });
}

/** A zone: intranet.example → CNAME web.intranet.example → 10.0.0.2 / fd00::2. */
const zone: DnsHandler = (q) => {
  const { name, type } = q.questions[0];
  const n = name.toLowerCase();
  if (n === 'intranet.example' || n === 'web.intranet.example') {
    const chain = n === 'intranet.example' ? [cname('intranet.example', 'web.intranet.example', 600)] : [];
    if (type === DnsType.A) return reply(q, { answers: [...chain, a('web.intranet.example', '10.0.0.2', 120), a('web.intranet.example', '10.0.0.3', 300)] });
    if (type === DnsType.AAAA) return reply(q, { answers: [...chain, aaaa('web.intranet.example', 'fd00::2', 120)] });
  }
  if (n === 'v6only.example') {
    if (type === DnsType.AAAA) return reply(q, { answers: [aaaa(name, 'fd00::6')] });
    return reply(q, { authorities: [soa('example', 30)] });
  }
  if (n === 'printer.corp.example' && type === DnsType.A) return reply(q, { answers: [a(name, '10.0.9.9')] });
  return reply(q, { rcode: DnsRcode.NXDOMAIN, authorities: [soa('example', 60)] });
};

async function rejectsWith(p: Promise<unknown>, code: string, message?: RegExp): Promise<WgwebError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof WgwebError, `expected a WgwebError, got ${e}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`expected ${code}`);
}

describe('answers over UDP from a real server on loopback', () => {
  test('A through a CNAME chain: addresses of the target, the smallest TTL on the chain', async () => {
    const s = await server(zone);
    const r = await resolverFor(s).resolve('intranet.example', 'A');
    assert.deepEqual(r.addresses.map(formatIp), ['10.0.0.2', '10.0.0.3']);
    assert.equal(r.canonicalName, 'web.intranet.example');
    assert.equal(r.ttl, 120);
    assert.equal(r.source, 'udp');
    assert.equal(formatIp(r.server!), '127.0.0.1');
    assert.ok(r.elapsedMs >= 0);
  });

  test('AAAA', async () => {
    const s = await server(zone);
    const r = await resolverFor(s).resolve('web.intranet.example', 'AAAA');
    assert.deepEqual(r.addresses.map(formatIp), ['fd00::2']);
  });

  test('a server on ::1', async () => {
    const s = await server(zone, '::1');
    const r = await resolverFor(s).resolve('intranet.example', 'A');
    assert.deepEqual(r.addresses.map(formatIp), ['10.0.0.2', '10.0.0.3']);
  });

  test('lookup asks both families and lists IPv4 first', async () => {
    const s = await server(zone);
    assert.deepEqual((await resolverFor(s).lookup('intranet.example')).map(formatIp), ['10.0.0.2', '10.0.0.3', 'fd00::2']);
    assert.deepEqual((await resolverFor(s).lookup('intranet.example', { family: 6 })).map(formatIp), ['fd00::2']);
    assert.deepEqual((await resolverFor(s).lookup('v6only.example')).map(formatIp), ['fd00::6']);
  });

  test('NODATA: resolve returns no addresses; lookup with nothing at all is DNS_NXDOMAIN with detail.nodata', async () => {
    const s = await server(zone);
    const r = await resolverFor(s).resolve('v6only.example', 'A');
    assert.deepEqual(r.addresses, []);
    assert.equal(r.ttl, 30);
    const e = await rejectsWith(resolverFor(s).lookup('v6only.example', { family: 4 }), ErrorCode.DNS_NXDOMAIN, /no address/);
    assert.equal(e.detail.nodata, true);
  });

  test('a CNAME whose target is not in the answer is followed with a second query', async () => {
    const s = await server((q) => {
      const n = q.questions[0].name;
      if (n === 'alias.example') return reply(q, { answers: [cname(n, 'elsewhere.example', 50)] });
      if (n === 'elsewhere.example') return reply(q, { answers: [a(n, '10.1.1.1', 100)] });
      return reply(q, { rcode: DnsRcode.NXDOMAIN });
    });
    const r = await resolverFor(s).resolve('alias.example', 'A');
    assert.deepEqual(r.addresses.map(formatIp), ['10.1.1.1']);
    assert.equal(r.ttl, 50);
    assert.deepEqual(s.queries.map((q) => q.message.questions[0].name), ['alias.example', 'elsewhere.example']);
  });

  test('a CNAME loop ends without hanging', async () => {
    const s = await server((q) => reply(q, { answers: [cname('loop.example', 'pool.example'), cname('pool.example', 'loop.example')], authorities: [soa('example', 5)] }));
    const r = await resolverFor(s).resolve('loop.example', 'A');
    assert.deepEqual(r.addresses, []);
  });
});

describe('errors a user can act on', () => {
  test('NXDOMAIN names the host and the server', async () => {
    const s = await server(zone);
    await rejectsWith(resolverFor(s).resolve('nope.example', 'A'), ErrorCode.DNS_NXDOMAIN, new RegExp(`^nope\\.example: no such host \\(NXDOMAIN from 127\\.0\\.0\\.1:${s.port}\\)$`));
  });

  test('SERVFAIL is DNS_FAILURE, and the server is not asked again', async () => {
    const s = await server((q) => reply(q, { rcode: DnsRcode.SERVFAIL }));
    await rejectsWith(resolverFor(s).resolve('intranet.example', 'A'), ErrorCode.DNS_FAILURE, /failed to look up intranet\.example \(A\): it could not resolve/);
    assert.equal(s.queries.length, 1);
  });

  test('REFUSED explains itself', async () => {
    const s = await server((q) => reply(q, { rcode: DnsRcode.REFUSED }));
    await rejectsWith(resolverFor(s).resolve('intranet.example', 'A'), ErrorCode.DNS_FAILURE, /refused to answer/);
  });

  test('SERVFAIL from the first server, an answer from the second', async () => {
    const [bad, good] = await serverPair((q) => reply(q, { rcode: DnsRcode.SERVFAIL }), zone);
    const r = new DnsResolver({ dialer, servers: [bad.address, good.address], port: bad.port });
    const res = await r.resolve('intranet.example', 'A');
    assert.equal(formatIp(res.server!), '::1');
    assert.deepEqual(res.addresses.map(formatIp), ['10.0.0.2', '10.0.0.3']);
    assert.equal(bad.queries.length, 1);
  });

  test('a server that never answers: DNS_TIMEOUT after every attempt', async () => {
    const s = await server(() => null);
    const e = await rejectsWith(
      resolverFor(s, { timeoutMs: 60, attempts: 2 }).resolve('intranet.example', 'A'),
      ErrorCode.DNS_TIMEOUT,
      new RegExp(`^no answer from DNS server 127\\.0\\.0\\.1:${s.port} after 2 attempts: check the DNS = line of your config and that the server is reachable through the tunnel$`),
    );
    assert.equal(e.detail.attempts, 2);
    // The second query was sent before its attempt timed out, but on a loaded machine the timer
    // can fire before this process's server has read the datagram: wait for it (bounded).
    for (let i = 0; i < 500 && s.queries.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(s.queries.length, 2);
    // A fresh ID for every attempt.
    assert.notEqual(s.queries[0].message.id, s.queries[1].message.id);
  });

  test('no servers configured', async () => {
    const r = new DnsResolver({ dialer, servers: [] });
    await rejectsWith(r.resolve('intranet.example', 'A'), ErrorCode.DNS_FAILURE, /no DNS server is configured \(add a DNS = line/);
  });

  test('abort while waiting', async () => {
    const s = await server(() => null);
    const ac = new AbortController();
    const p = resolverFor(s, { timeoutMs: 5000 }).resolve('intranet.example', 'A', { signal: ac.signal });
    setImmediate(() => ac.abort());
    await rejectsWith(p, ErrorCode.ABORTED);
  });

  test('bad names are caller errors', async () => {
    const s = await server(zone);
    await assert.rejects(resolverFor(s).resolve('a..b', 'A'), RangeError);
  });
});

/** Two servers on 127.0.0.1 and ::1 sharing one port number (the resolver has one port option). */
async function serverPair(first: DnsHandler, second: DnsHandler): Promise<[TestDnsServer, TestDnsServer]> {
  for (let i = 0; ; i++) {
    const s1 = await server(first);
    try {
      const s2 = await TestDnsServer.start(second, '::1', s1.port);
      servers.push(s2);
      return [s1, s2];
    } catch (e) {
      if (i > 20) throw e;
    }
  }
}

describe('matching replies to queries (RFC 5452)', () => {
  test('replies with a wrong ID, a wrong question or from another port are dropped and counted', async () => {
    let resolver!: DnsResolver;
    const s = await server((q, _t, send) => {
      send(emitDnsMessage(reply(q, { id: (q.id + 1) & 0xffff, answers: [a(q.questions[0].name, '6.6.6.6')] })));
      send(emitDnsMessage(reply(q, { questionName: 'evil.example', answers: [a('evil.example', '6.6.6.6')] })));
      send(new Uint8Array([1, 2, 3]));
      return reply(q, { answers: [a(q.questions[0].name, '10.0.0.2')] });
    });
    resolver = resolverFor(s);
    const r = await resolver.resolve('host.example', 'A');
    assert.deepEqual(r.addresses.map(formatIp), ['10.0.0.2']);
    assert.deepEqual(resolver.stats().drops, { 'wrong-id': 1, 'wrong-question': 1, 'too-short': 1 });
  });

  test('a reply with the right ID from another port is ignored', async () => {
    let resolver!: DnsResolver;
    const s = await server((q, _t, send) => {
      const spoof = emitDnsMessage(reply(q, { answers: [a(q.questions[0].name, '6.6.6.6')] }));
      const port = s.queries[s.queries.length - 1].port;
      void s.sendFromElsewhere(spoof, port).then(() => setTimeout(() => send(emitDnsMessage(reply(q, { answers: [a(q.questions[0].name, '10.0.0.2')] }))), 20));
      return null;
    });
    resolver = resolverFor(s);
    const r = await resolver.resolve('host.example', 'A');
    assert.deepEqual(r.addresses.map(formatIp), ['10.0.0.2']);
    assert.equal(resolver.stats().drops['wrong-source'], 1);
  });

  test('IDs and source ports come from the injected randomBytes', async () => {
    const s = await server(zone);
    const script = [0xbe, 0xef, 0x12, 0x34];
    const randomBytes = (n: number): Uint8Array => new Uint8Array(script.splice(0, n));
    await resolverFor(s, { randomBytes }).resolve('intranet.example', 'A');
    assert.equal(s.queries[0].message.id, 0xbeef);
    assert.equal(s.queries[0].port, 49152 + (0x1234 & 0x3fff));
  });

  test('queries carry RD and an EDNS(0) OPT advertising 1232 bytes', async () => {
    const s = await server(zone);
    await resolverFor(s).resolve('intranet.example', 'A');
    const q = s.queries[0].message;
    assert.equal(q.flags.rd, true);
    assert.deepEqual(q.additionals.map((r) => [r.type, r.class]), [[DnsType.OPT, 1232]]);
  });

  test('a server that answers FORMERR to EDNS is asked again without it', async () => {
    const s = await server((q) => (q.additionals.length > 0 ? { ...reply(q, { rcode: DnsRcode.FORMERR }), questions: [] } : reply(q, { answers: [a(q.questions[0].name, '10.0.0.5')] })));
    const r = await resolverFor(s).resolve('old.example', 'A');
    assert.deepEqual(r.addresses.map(formatIp), ['10.0.0.5']);
    assert.deepEqual(s.queries.map((q) => q.message.additionals.length), [1, 0]);
  });
});

describe('truncation: TC over UDP, the full answer over TCP (RFC 7766)', () => {
  test('falls back to TCP with length framing', async () => {
    const many = Array.from({ length: 100 }, (_, i) => `10.2.${i >> 8}.${i & 255}`);
    const s = await server((q, transport) =>
      transport === 'udp' ? reply(q, { tc: true }) : reply(q, { answers: many.map((ip) => a(q.questions[0].name, ip)) }),
    );
    const r = await resolverFor(s).resolve('big.example', 'A');
    assert.equal(r.source, 'tcp');
    assert.equal(r.addresses.length, 100);
    assert.deepEqual(s.queries.map((q) => q.transport), ['udp', 'tcp']);
  });
});

describe('cache (time from an injected clock)', () => {
  test('positive answers live for their TTL', async () => {
    let now = 1_000;
    const s = await server(zone);
    const r = resolverFor(s, { now: () => now });
    assert.equal((await r.resolve('intranet.example', 'A')).source, 'udp');
    now += 119_000;
    const cached = await r.resolve('intranet.example', 'A');
    assert.equal(cached.source, 'cache');
    assert.equal(cached.ttl, 1);
    assert.equal(s.queries.length, 1);
    now += 1_000;
    assert.equal((await r.resolve('intranet.example', 'A')).source, 'udp');
    assert.equal(s.queries.length, 2);
    assert.equal(r.stats().cacheHits, 1);
  });

  test('NXDOMAIN is cached for min(SOA TTL, SOA MINIMUM) (RFC 2308 §5)', async () => {
    let now = 0;
    const s = await server(zone);
    const r = resolverFor(s, { now: () => now });
    await rejectsWith(r.resolve('nope.example', 'A'), ErrorCode.DNS_NXDOMAIN);
    now += 59_000;
    await rejectsWith(r.resolve('nope.example', 'A'), ErrorCode.DNS_NXDOMAIN);
    assert.equal(s.queries.length, 1);
    now += 1_000;
    await rejectsWith(r.resolve('nope.example', 'A'), ErrorCode.DNS_NXDOMAIN);
    assert.equal(s.queries.length, 2);
  });

  test('NXDOMAIN without an SOA is not cached', async () => {
    const s = await server((q) => reply(q, { rcode: DnsRcode.NXDOMAIN }));
    const r = resolverFor(s, { now: () => 0 });
    await rejectsWith(r.resolve('nope.example', 'A'), ErrorCode.DNS_NXDOMAIN);
    await rejectsWith(r.resolve('nope.example', 'A'), ErrorCode.DNS_NXDOMAIN);
    assert.equal(s.queries.length, 2);
  });

  test('the cache is bounded', async () => {
    const s = await server((q) => reply(q, { answers: [a(q.questions[0].name, '10.9.9.9')] }));
    const r = resolverFor(s, { now: () => 0, cacheSize: 2 });
    for (const n of ['one.example', 'two.example', 'three.example', 'one.example']) await r.resolve(n, 'A');
    assert.equal(s.queries.length, 4);
  });

  test('concurrent identical lookups share one query', async () => {
    const s = await server(zone);
    const r = resolverFor(s);
    const results = await Promise.all(Array.from({ length: 10 }, () => r.resolve('intranet.example', 'A')));
    assert.equal(results.length, 10);
    assert.equal(s.queries.length, 1);
  });
});

describe('names that need no server, and search domains', () => {
  test('IP literals bypass DNS', async () => {
    const r = new DnsResolver({ dialer, servers: [] });
    assert.deepEqual((await r.lookup('10.0.0.2')).map(formatIp), ['10.0.0.2']);
    assert.deepEqual((await r.lookup('[fd00::1]')).map(formatIp), ['fd00::1']);
    assert.deepEqual((await r.resolve('fd00::1', 'A')).addresses, []);
  });

  test('localhost is loopback and never sent to a server (RFC 6761 §6.3)', async () => {
    const s = await server(zone);
    const r = resolverFor(s);
    assert.deepEqual((await r.lookup('localhost')).map(formatIp), ['127.0.0.1', '::1']);
    assert.deepEqual((await r.lookup('app.localhost.')).map(formatIp), ['127.0.0.1', '::1']);
    assert.equal(s.queries.length, 0);
  });

  test('single-label names try each search domain, then the bare name', async () => {
    const s = await server(zone);
    const r = resolverFor(s, { searchDomains: ['lab.example', 'corp.example'] });
    const res = await r.resolve('printer', 'A');
    assert.equal(res.name, 'printer.corp.example');
    assert.deepEqual(res.addresses.map(formatIp), ['10.0.9.9']);
    assert.deepEqual(s.queries.map((q) => q.message.questions[0].name), ['printer.lab.example', 'printer.corp.example']);
  });

  test('a miss through all search domains says what was tried', async () => {
    const s = await server(zone);
    const r = resolverFor(s, { searchDomains: ['corp.example'] });
    await rejectsWith(r.resolve('scanner', 'A'), ErrorCode.DNS_NXDOMAIN, /^scanner: no such host \(NXDOMAIN from .*; tried scanner\.corp\.example, scanner\)$/);
  });

  test('names with a dot, or a trailing dot, skip the search list', async () => {
    const s = await server(zone);
    const r = resolverFor(s, { searchDomains: ['corp.example'] });
    await rejectsWith(r.resolve('printer.x', 'A'), ErrorCode.DNS_NXDOMAIN);
    await rejectsWith(r.resolve('printer.', 'A'), ErrorCode.DNS_NXDOMAIN);
    assert.deepEqual(s.queries.map((q) => q.message.questions[0].name), ['printer.x', 'printer']);
  });
});

test('constructor checks its options', () => {
  assert.throws(() => new DnsResolver({ dialer, servers: [parseIp('10.0.0.53')], attempts: 0 }), RangeError);
  assert.throws(() => new DnsResolver({ dialer, servers: [parseIp('10.0.0.53')], port: 70000 }), RangeError);
  assert.throws(() => new DnsResolver({ dialer, servers: [parseIp('10.0.0.53')], searchDomains: ['a..b'] }), RangeError);
});
