/**
 * SshService's known hosts: the page's remembered list reaches every session (the one running and
 * the next ones), and what a session learned carries over to the next.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SshService, type SshSessionLike } from '../../../src/browser/worker/ssh-service.ts';
import { KnownHosts } from '../../../src/protocols/ssh/known-hosts.ts';
import { parsePublicKeyLine } from '../../../src/protocols/ssh/ssh-public-key.ts';
import { ECDSA_PUB, ED25519_PASS_PUB } from '../../protocols/ssh/ssh-fixtures.ts';

const bare = (line: string): string => line.split(' ').slice(0, 2).join(' ');

function fakeSession(): SshSessionLike & { known: KnownHosts } {
  const s = {
    known: new KnownHosts(),
    sshKnownHosts: async () => s.known,
    setSshKnownHosts: async (json: unknown) => {
      s.known = KnownHosts.fromJSON(json);
    },
  };
  return s;
}

describe('SshService known hosts', () => {
  test('lines set before any session are listed, and loaded into the session on attach', async () => {
    let session: ReturnType<typeof fakeSession> | undefined;
    const svc = new SshService(() => session);
    const lines = `10.0.0.2 ${bare(ED25519_PASS_PUB)}\n`;
    await svc.setKnownHosts(lines);
    assert.equal(await svc.sshKnownHosts(), lines);
    session = fakeSession();
    await svc.attach(session);
    assert.equal(session.known.check('10.0.0.2', 22, parsePublicKeyLine(ED25519_PASS_PUB)).status, 'match');
  });

  test('setKnownHosts replaces the running session\'s list (a removed host is unknown again) and the next session gets it', async () => {
    let session: ReturnType<typeof fakeSession> | undefined = fakeSession();
    const svc = new SshService(() => session);
    await svc.attach(session);
    session.known.add('10.0.0.2', 22, parsePublicKeyLine(ED25519_PASS_PUB));
    session.known.add('10.0.0.3', 2222, parsePublicKeyLine(ECDSA_PUB));
    const kept = `[10.0.0.3]:2222 ${bare(ECDSA_PUB)}\n`;
    await svc.setKnownHosts(kept);
    assert.equal(session.known.check('10.0.0.2', 22, parsePublicKeyLine(ED25519_PASS_PUB)).status, 'unknown');
    assert.equal(await svc.sshKnownHosts(), kept);
    await svc.detach();
    session = fakeSession();
    await svc.attach(session);
    assert.equal(session.known.toLines(), kept);
  });

  test('rejects anything but text with USAGE', async () => {
    const svc = new SshService(() => undefined);
    await assert.rejects(svc.setKnownHosts(3 as unknown as string), { code: 'USAGE' });
  });
});
