import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDnsQuery, recordType, run, spec } from '../../../../src/node/cli/commands/dns-command.ts';
import { UsageError, formatCommandHelp } from '../../../../src/node/cli/args.ts';
import { createMemoryIo } from '../../../../src/node/cli/cli-io.ts';

describe('wgweb dns: the record type', () => {
  test('is A when neither --type nor TYPE is given', () => {
    assert.equal(recordType(undefined, undefined), 'A');
  });

  test('comes after NAME the way dig takes it, in any case', () => {
    assert.equal(recordType(undefined, 'AAAA'), 'AAAA');
    assert.equal(recordType(undefined, 'aaaa'), 'AAAA');
  });

  test('--type keeps working, and agrees with a TYPE that says the same', () => {
    assert.equal(recordType('AAAA', undefined), 'AAAA');
    assert.equal(recordType('aaaa', 'AAAA'), 'AAAA');
  });

  test('every type the tool asks for is accepted by name: CNAME, MX, TXT, SRV, NS, SOA, PTR, CAA', () => {
    for (const t of ['cname', 'MX', 'txt', 'SRV', 'ns', 'SOA', 'ptr', 'CAA']) assert.equal(recordType(undefined, t), t.toUpperCase());
  });

  test('two different types, or a type the tool does not ask for, are usage errors that say so', () => {
    assert.throws(() => recordType('A', 'AAAA'), (e: unknown) => e instanceof UsageError && /two record types/.test(e.message));
    assert.throws(() => recordType(undefined, 'HINFO'), (e: unknown) => e instanceof UsageError && /must be one of A, AAAA, CNAME, MX, TXT, SRV, NS, SOA, PTR, CAA, not "HINFO"/.test(e.message));
    assert.throws(() => recordType('ANY', undefined), (e: unknown) => e instanceof UsageError && /not "ANY"/.test(e.message));
  });

  test('`wgweb dns NAME MX` gets past argument checking; `NAME HINFO` and a third argument do not', async () => {
    // Without --config the command stops at the config, after the arguments were accepted.
    const accepted = await run(['wiki.corp', 'MX'], createMemoryIo()).catch((e: unknown) => e);
    assert.ok(accepted instanceof Error);
    assert.doesNotMatch(accepted.message, /record type|unexpected argument/);
    await assert.rejects(run(['wiki.corp', 'HINFO'], createMemoryIo()), /not "HINFO"/);
    await assert.rejects(run(['wiki.corp', 'AAAA', 'extra'], createMemoryIo()), /unexpected argument "extra"/);
  });

  test('prints answers as zone-file lines, then authority, the alias chain and who answered how fast', () => {
    const text = formatDnsQuery({
      name: 'www.corp',
      type: 'A',
      question: 'www.corp',
      rcode: 'NOERROR',
      answers: [
        { name: 'www.corp', type: 'CNAME', ttl: 60, data: 'web.corp.' },
        { name: 'web.corp', type: 'A', ttl: 60, data: '10.0.0.7' },
      ],
      authorities: [{ name: 'corp', type: 'NS', ttl: 300, data: 'ns.corp.' }],
      additionals: [],
      cnameChain: ['web.corp'],
      server: '10.0.0.53',
      transport: 'udp',
      elapsedMs: 3.21,
      queries: [{ name: 'www.corp', elapsedMs: 3.21 }],
    });
    assert.equal(
      text,
      'www.corp\t60\tIN\tCNAME\tweb.corp.\nweb.corp\t60\tIN\tA\t10.0.0.7\n;; AUTHORITY SECTION:\ncorp\t300\tIN\tNS\tns.corp.\n;; www.corp is an alias: www.corp -> web.corp\n;; NOERROR from 10.0.0.53 over UDP in 3.2 ms\n',
    );
  });

  test('the help shows TYPE in the usage line and a dig-style example', () => {
    const help = formatCommandHelp(spec);
    assert.match(help, /^Usage: wgweb dns \[options\] NAME \[TYPE\]$/m);
    assert.match(help, /wgweb dns --config wg0\.conf wiki\.corp AAAA$/m);
  });
});
