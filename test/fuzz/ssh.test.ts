/**
 * Fuzz: the SSH client's packet parser and transport state machine (src/protocols/ssh). Server
 * bytes after the version line, split at random points: the client never throws, and ends either
 * still in the handshake or failed with a WgwebError. Also the known_hosts and private key readers
 * on arbitrary text. Harness and replay: test/helpers/fuzz.ts.
 */
import { describe } from 'node:test';
import { WgwebError } from '../../src/shared/errors.ts';
import { Msg, SshClient } from '../../src/protocols/ssh/ssh-client.ts';
import { NoneSealer } from '../../src/protocols/ssh/ssh-packet-cipher.ts';
import { SshWriter, sshPayload } from '../../src/protocols/ssh/ssh-codec.ts';
import { KnownHosts } from '../../src/protocols/ssh/known-hosts.ts';
import { parsePrivateKey } from '../../src/protocols/ssh/ssh-private-key.ts';
import { fuzzTest, property, type Rng } from '../helpers/fuzz.ts';
import { ECDSA_KEY, HASHED_KNOWN_HOSTS } from '../protocols/ssh/ssh-fixtures.ts';

const zeros = (n: number): Uint8Array => new Uint8Array(n);
const sealer = new NoneSealer(zeros);
const NAMES = ['curve25519-sha256', 'ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256', 'kex-strict-s-v00@openssh.com', 'ssh-ed25519', 'rsa-sha2-256', 'chacha20-poly1305@openssh.com', 'aes128-ctr', 'hmac-sha2-256', 'none', ''];

function kexinit(rng: Rng): Uint8Array {
  const w = new SshWriter().byte(Msg.KEXINIT).raw(rng.bytes(16));
  for (let i = 0; i < 10; i++) w.nameList(Array.from({ length: rng.below(4) }, () => rng.pick(NAMES)));
  return w.boolean(rng.chance(0.2)).uint32(0).finish();
}

function payload(rng: Rng): Uint8Array {
  switch (rng.below(6)) {
    case 0:
      return kexinit(rng);
    case 1:
      return sshPayload((w) => w.byte(Msg.KEX_REPLY).string(rng.bytes(rng.size(80))).string(rng.bytes(rng.pick([32, 65, 256]))).string(rng.bytes(rng.size(90))));
    case 2:
      return sshPayload((w) => w.byte(Msg.DISCONNECT).uint32(rng.below(20)).string(rng.bytes(rng.size(40))).string(''));
    case 3:
      return sshPayload((w) => w.byte(rng.pick([Msg.IGNORE, Msg.DEBUG, Msg.NEWKEYS, Msg.EXT_INFO, Msg.SERVICE_ACCEPT])).raw(rng.bytes(rng.size(30))));
    case 4:
      return sshPayload((w) => w.byte(rng.range(50, 100)).raw(rng.bytes(rng.size(40))));
    default:
      return rng.bytes(rng.range(1, 60));
  }
}

function generate(rng: Rng): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let i = rng.range(1, 4); i > 0; i--) parts.push(sealer.seal(0, payload(rng)));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

const corpus = [sealer.seal(0, kexinit({ bytes: zeros, below: () => 1, pick: <T>(a: readonly T[]) => a[0]!, chance: () => false } as unknown as Rng))];

describe('fuzz: SSH', () => {
  fuzzTest('client: any server bytes after the version line end in a WgwebError failure or an ongoing handshake, never a throw', 'ssh-client', {
    corpus,
    generate,
    maxLength: 4096,
    check(input, rng) {
      const c = new SshClient({ username: 'u', password: 'p', checkHostKey: () => {}, random: (n) => rng.bytes(n) });
      c.start(0);
      c.receive(new TextEncoder().encode('SSH-2.0-Fuzz\r\n'), 1);
      let at = 0;
      while (at < input.length) {
        const n = rng.range(1, input.length - at);
        c.receive(input.subarray(at, at + n), 2);
        at += n;
      }
      c.takeOutput();
      property(c.state === 'handshake' || c.state === 'failed', `state ${c.state}`);
      if (c.state === 'failed') property(c.error instanceof WgwebError, 'a failure carries a WgwebError');
    },
  });

  fuzzTest('known_hosts import never throws; every line is added or reported as skipped', 'ssh-known-hosts', {
    corpus: [new TextEncoder().encode(HASHED_KNOWN_HOSTS)],
    maxLength: 2048,
    check(input) {
      const text = new TextDecoder().decode(input);
      const r = new KnownHosts().importLines(text);
      const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#')).length;
      property(r.added + r.skipped.length <= lines, 'no more results than lines');
    },
  });

  fuzzTest('private key reader: arbitrary text is SSH_KEY_INVALID or a key, never another error', 'ssh-private-key', {
    corpus: [new TextEncoder().encode(ECDSA_KEY)],
    maxLength: 1200,
    allowed: [WgwebError],
    check(input) {
      parsePrivateKey(new TextDecoder().decode(input));
    },
  });
});
