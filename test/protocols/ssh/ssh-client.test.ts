/**
 * The sans-IO SshClient against a scripted server in the test: version exchange, KEXINIT
 * negotiation, the curve25519 exchange up to the host key check and NEWKEYS, strict KEX rules,
 * and malformed input (failures with a WgwebError, never a throw). The full protocol against real
 * servers is test/interop/session-ssh.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { ErrorCode, WgwebError } from '../../../src/shared/errors.ts';
import { Msg, SshClient, kexinitMessage, type SshClientOptions, type SshEvent } from '../../../src/protocols/ssh/ssh-client.ts';
import { NoneOpener, NoneSealer } from '../../../src/protocols/ssh/ssh-packet-cipher.ts';
import { SshReader, SshWriter, sshPayload } from '../../../src/protocols/ssh/ssh-codec.ts';
import { exchangeHash } from '../../../src/protocols/ssh/ssh-kex.ts';
import { fingerprint } from '../../../src/protocols/ssh/ssh-public-key.ts';

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const enc = new TextEncoder();
const SERVER_VERSION = 'SSH-2.0-OpenSSH_9.9 scripted';

/** A scripted server speaking the unencrypted part of the transport. */
class ScriptedServer {
  seqOut = 0;
  private readonly sealer = new NoneSealer(random);
  readonly hostSecret = random(32);
  readonly hostBlob = new SshWriter().string('ssh-ed25519').string(ed25519.getPublicKey(this.hostSecret)).finish();
  packet(payload: Uint8Array): Uint8Array {
    return this.sealer.seal(this.seqOut++, payload);
  }
  kexinit(kex: string[], extra: { cipher?: string[] } = {}): Uint8Array {
    return kexinitMessage(new Uint8Array(16), { kex, hostKey: ['ssh-ed25519'], cipher: extra.cipher ?? ['chacha20-poly1305@openssh.com'], mac: ['hmac-sha2-256'] });
  }
}

/** Splits the client's output into the version line and unencrypted packet payloads. */
function clientPackets(bytes: Uint8Array): { version?: string; payloads: Uint8Array[] } {
  let rest = bytes;
  let version: string | undefined;
  if (rest[0] === 0x53) {
    const nl = rest.indexOf(0x0a);
    version = new TextDecoder().decode(rest.subarray(0, nl + 1));
    rest = rest.subarray(nl + 1);
  }
  const payloads: Uint8Array[] = [];
  const opener = new NoneOpener();
  while (rest.length >= 4) {
    const len = opener.packetLength(0, rest);
    const plain = opener.open(0, rest.subarray(0, 4 + len));
    payloads.push(plain.subarray(1, plain.length - plain[0]!));
    rest = rest.subarray(4 + len);
  }
  return { version, payloads };
}

function events(c: SshClient): SshEvent[] {
  const out: SshEvent[] = [];
  for (let e = c.pollEvent(); e; e = c.pollEvent()) out.push(e);
  return out;
}

function client(options: Partial<SshClientOptions> = {}): SshClient {
  const c = new SshClient({ username: 'root', password: 'pw', checkHostKey: () => {}, random, ...options });
  c.start(0);
  return c;
}

function failure(c: SshClient): WgwebError {
  assert.equal(c.state, 'failed');
  assert.ok(c.error instanceof WgwebError);
  return c.error;
}

describe('SshClient (sans-IO) against a scripted server', () => {
  test('sends its version line and a KEXINIT offering strict KEX and ext-info-c first', () => {
    const c = client();
    const { version, payloads } = clientPackets(c.takeOutput()!);
    assert.match(version!, /^SSH-2\.0-wgweb_[^\s]+\r\n$/);
    assert.equal(payloads[0]![0], Msg.KEXINIT);
    const kex = new SshReader(payloads[0]!, 17).nameList();
    assert.equal(kex[0], 'curve25519-sha256');
    assert.ok(kex.includes('kex-strict-c-v00@openssh.com') && kex.includes('ext-info-c'));
  });

  test('curve25519 exchange: the host key reaches checkHostKey with its fingerprint, the signature over H is checked, NEWKEYS follows', () => {
    const server = new ScriptedServer();
    let seen = '';
    const c = client({ checkHostKey: (_k, fp) => (seen = fp) });
    const hello = clientPackets(c.takeOutput()!);
    const clientKexinit = hello.payloads[0]!;
    const serverKexinit = server.kexinit(['curve25519-sha256', 'kex-strict-s-v00@openssh.com']);
    c.receive(enc.encode(`a banner line before the version\r\n${SERVER_VERSION}\r\n`), 1);
    c.receive(server.packet(serverKexinit), 2);
    const init = clientPackets(c.takeOutput()!).payloads[0]!;
    assert.equal(init[0], Msg.KEX_INIT);
    const qc = new SshReader(init, 1).string();
    const serverSecret = random(32);
    const qs = x25519.getPublicKey(serverSecret);
    const k = new SshWriter().mpintFromUnsigned(x25519.getSharedSecret(serverSecret, qc)).finish();
    const h = exchangeHash({
      clientVersion: hello.version!.trim(),
      serverVersion: SERVER_VERSION,
      clientKexinit,
      serverKexinit,
      hostKey: server.hostBlob,
      clientPublic: qc,
      serverPublic: qs,
      mpintValues: false,
      sharedSecret: k,
    });
    const sig = new SshWriter().string('ssh-ed25519').string(ed25519.sign(h, server.hostSecret)).finish();
    c.receive(server.packet(sshPayload((w) => w.byte(Msg.KEX_REPLY).string(server.hostBlob).string(qs).string(sig))), 3);
    assert.equal(c.state, 'handshake', c.error?.message);
    assert.equal(seen, fingerprint(server.hostBlob));
    assert.deepEqual(Array.from(clientPackets(c.takeOutput()!).payloads[0]!), [Msg.NEWKEYS]);
  });

  test('a KEX reply whose signature does not verify fails the handshake (SSH_PROTOCOL) before checkHostKey', () => {
    const server = new ScriptedServer();
    let asked = false;
    const c = client({ checkHostKey: () => (asked = true) });
    c.takeOutput();
    c.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    c.receive(server.packet(server.kexinit(['curve25519-sha256'])), 2);
    c.takeOutput();
    const qs = x25519.getPublicKey(random(32));
    const sig = new SshWriter().string('ssh-ed25519').string(new Uint8Array(64)).finish();
    c.receive(server.packet(sshPayload((w) => w.byte(Msg.KEX_REPLY).string(server.hostBlob).string(qs).string(sig))), 3);
    assert.equal(failure(c).code, ErrorCode.SSH_PROTOCOL);
    assert.match(c.error!.message, /signature/);
    assert.equal(asked, false);
  });

  test('no common algorithm: the error lists what the server offers', () => {
    const server = new ScriptedServer();
    const c = client();
    c.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    c.receive(server.packet(server.kexinit(['curve25519-sha256'], { cipher: ['3des-cbc'] })), 2);
    assert.match(failure(c).message, /no common cipher .*3des-cbc/);
  });

  test('strict KEX: a message before the server\'s KEXINIT, or an IGNORE during the exchange, is fatal', () => {
    const s1 = new ScriptedServer();
    const c1 = client();
    c1.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    c1.receive(s1.packet(sshPayload((w) => w.byte(Msg.IGNORE).string('x'))), 2);
    c1.receive(s1.packet(s1.kexinit(['curve25519-sha256', 'kex-strict-s-v00@openssh.com'])), 3);
    assert.match(failure(c1).message, /strict key exchange/);

    const s2 = new ScriptedServer();
    const c2 = client();
    c2.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    c2.receive(s2.packet(s2.kexinit(['curve25519-sha256', 'kex-strict-s-v00@openssh.com'])), 2);
    c2.receive(s2.packet(sshPayload((w) => w.byte(Msg.IGNORE).string('x'))), 3);
    assert.match(failure(c2).message, /strict key exchange/);

    // Without strict KEX on the server's side, IGNORE is just ignored.
    const s3 = new ScriptedServer();
    const c3 = client();
    c3.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    c3.receive(s3.packet(sshPayload((w) => w.byte(Msg.IGNORE).string('x'))), 2);
    c3.receive(s3.packet(s3.kexinit(['curve25519-sha256'])), 3);
    assert.equal(c3.state, 'handshake');
    assert.equal(c3.stats.ignoredMessages, 1);
  });

  test('bad input fails with a WgwebError and a DISCONNECT, never a throw: SSH-1, bad length, bad padding, DISCONNECT text', () => {
    const v1 = client();
    v1.receive(enc.encode('SSH-1.5-old\r\n'), 1);
    assert.match(failure(v1).message, /version/);

    const len = client();
    len.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    len.receive(Uint8Array.of(0xff, 0xff, 0xff, 0xf8, 0, 0, 0, 0), 2);
    assert.match(failure(len).message, /bad length/);

    const pad = client();
    pad.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    pad.receive(Uint8Array.of(0, 0, 0, 12, 2, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), 2);
    assert.match(failure(pad).message, /padding/);

    const bye = client();
    const s = new ScriptedServer();
    bye.receive(enc.encode(`${SERVER_VERSION}\r\n`), 1);
    bye.receive(s.packet(sshPayload((w) => w.byte(Msg.DISCONNECT).uint32(2).string('go away\x1b[31m').string(''))), 2);
    assert.match(failure(bye).message, /go away\?\[31m/);
    assert.deepEqual(events(bye).map((e) => e.type), ['closed']);
  });

  test('the transport closing before a version names the likely cause', () => {
    const c = client();
    c.transportClosed();
    assert.match(failure(c).message, /before sending an SSH version/);
  });

  test('caller mistakes are TypeErrors: no username, no host key check, channels before login', () => {
    assert.throws(() => new SshClient({ username: '', checkHostKey: () => {} }), TypeError);
    assert.throws(() => new SshClient({ username: 'a' } as SshClientOptions), TypeError);
    assert.throws(() => client().openSession(), TypeError);
    assert.throws(() => new SshClient({ username: 'a', checkHostKey: () => {}, algorithms: { cipher: ['rc4'] } }), RangeError);
  });
});
