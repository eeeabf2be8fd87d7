/**
 * The client against captured transcripts of real servers (ssh-transcripts.ts, made by
 * test/helpers/capture-ssh-transcript.ts against OpenSSH's sshd and Dropbear): with the same
 * seeded randomness the client derives the same keys, so the recorded server bytes decrypt and
 * drive it through version exchange, curve25519 key exchange with strict KEX, password login and
 * an `exec` to its exit status, in-memory, with no server. The client's own bytes must come out
 * identical to what the real server accepted; a change to what the client sends shows here first
 * (re-capture only when that change is meant).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SshClient, type SshEvent } from '../../../src/protocols/ssh/ssh-client.ts';
import { concatBytes } from '../../../src/shared/bytes.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';
import { SSH_TRANSCRIPTS, type SshTranscript } from './ssh-transcripts.ts';

const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const text = (parts: Uint8Array[]): string => new TextDecoder().decode(concatBytes(...parts));

/** Feeds the server's chunks to a seeded client, running `exec` as SshConnection does. */
function replay(t: SshTranscript, serverChunks: readonly Uint8Array[] = t.serverChunks.map(fromB64)) {
  let fingerprint = '';
  const c = new SshClient({ username: t.username, password: t.password, random: seededRandom(t.seed), checkHostKey: (_k, fp) => void (fingerprint = fp) });
  const out: Uint8Array[] = [];
  const stdout: Uint8Array[] = [];
  const stderr: Uint8Array[] = [];
  const events: SshEvent['type'][] = [];
  let code: number | undefined;
  let channel: number | undefined;
  const drain = (): void => {
    for (let e = c.pollEvent(); e; e = c.pollEvent()) {
      events.push(e.type);
      if (e.type === 'channel-open' && e.channel === channel) c.eof(channel);
      if (e.type === 'channel-data') (e.stderr ? stderr : stdout).push(e.data);
      if (e.type === 'exit-status') code = e.code;
    }
    if (c.state === 'open' && channel === undefined) {
      channel = c.openSession();
      c.requestExec(channel, t.command);
    }
    for (let o = c.takeOutput(); o; o = c.takeOutput()) out.push(o);
  };
  c.start(0);
  drain();
  for (const chunk of serverChunks) {
    c.receive(chunk, 0);
    drain();
  }
  return { c, fingerprint, client: concatBytes(...out), stdout: text(stdout), stderr: text(stderr), code, events };
}

describe('the SSH client replaying captured transcripts of real servers', () => {
  for (const t of SSH_TRANSCRIPTS) {
    test(`${t.name} (${t.serverVersion}): key exchange, password login and exec reach the recorded result`, () => {
      const r = replay(t);
      assert.equal(r.c.error, undefined, r.c.error?.message);
      assert.equal(r.fingerprint, t.hostKeyFingerprint);
      assert.deepEqual({ ...r.c.negotiated }, { ...t.negotiated });
      assert.equal(r.c.negotiated?.strictKex, true, 'strict KEX agreed with a real server');
      assert.deepEqual({ stdout: r.stdout, stderr: r.stderr, code: r.code }, t.result);
      assert.ok(r.events.includes('authenticated'), r.events.join(' '));
    });

    test(`${t.name}: the client's bytes are exactly what the real server accepted`, () => {
      const r = replay(t);
      const recorded = fromB64(t.client);
      assert.equal(r.client.length, recorded.length, 'as many bytes as the capture');
      assert.ok(r.client.every((b, i) => b === recorded[i]), 'byte for byte');
    });

    test(`${t.name}: one flipped bit in any encrypted server packet fails the connection (SSH_PROTOCOL), never a throw`, () => {
      const chunks = t.serverChunks.map(fromB64);
      // From the chunk after NEWKEYS on, everything is encrypted and authenticated.
      for (let i = chunks.length - 4; i < chunks.length; i++) {
        const bad = chunks.map((c) => c.slice());
        bad[i]![Math.floor(bad[i]!.length / 2)]! ^= 0x01;
        const r = replay(t, bad);
        assert.equal(r.c.state, 'failed', `chunk ${i}`);
        assert.equal(r.c.error?.code, 'SSH_PROTOCOL', `chunk ${i}: ${r.c.error?.message}`);
      }
    });
  }
});
