import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SettingsStore, type StorageLike } from '../../../../src/browser/ui/lib/settings-store.ts';

class MapStorage implements StorageLike {
  map = new Map<string, string>();
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

describe('SettingsStore', () => {
  test('stores nothing secret by default: a fresh store remembers no config', () => {
    const storage = new MapStorage();
    const s = new SettingsStore(storage);
    s.relayUrl = '/wg';
    s.theme = 'dark';
    assert.equal(s.remembersConfig, false);
    assert.deepEqual([...storage.map.keys()].sort(), ['wgweb.relayUrl', 'wgweb.theme']);
  });

  test('the config is kept only on opt-in, and forgetting deletes it', () => {
    const storage = new MapStorage();
    const s = new SettingsStore(storage);
    assert.equal(s.rememberConfig('[Interface]\nPrivateKey = x\n'), true);
    assert.equal(s.remembersConfig, true);
    assert.equal(new SettingsStore(storage).rememberedConfig, '[Interface]\nPrivateKey = x\n');
    s.forgetConfig();
    assert.equal(s.remembersConfig, false);
    assert.equal(storage.map.size, 0);
  });

  test('theme "system" is the absence of a choice', () => {
    const storage = new MapStorage();
    const s = new SettingsStore(storage);
    assert.equal(s.theme, 'system');
    s.theme = 'light';
    assert.equal(s.theme, 'light');
    s.theme = 'system';
    assert.equal(storage.map.has('wgweb.theme'), false);
    storage.map.set('wgweb.theme', 'purple');
    assert.equal(s.theme, 'system');
  });

  test('missing or throwing storage degrades to "nothing remembered"', () => {
    const none = new SettingsStore(undefined);
    assert.equal(none.rememberConfig('x'), false);
    assert.equal(none.relayUrl, undefined);
    const throwing = new SettingsStore({
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => {},
    });
    assert.equal(throwing.rememberConfig('x'), false);
    assert.equal(throwing.remembersConfig, false);
  });
  test('keeps HTTPS trust data as JSON, forgets it, and treats damaged text as none', () => {
    const storage = new MapStorage();
    const s = new SettingsStore(storage);
    assert.equal(s.rememberedTrust, undefined);
    assert.equal(s.rememberTrust({ version: 1, certificates: [], pins: { 'nas.test': 'ab' }, insecureHosts: [] }), true);
    assert.deepEqual(s.rememberedTrust, { version: 1, certificates: [], pins: { 'nas.test': 'ab' }, insecureHosts: [] });
    s.forgetTrust();
    assert.equal(storage.map.has('wgweb.trust'), false);
    storage.setItem('wgweb.trust', '{not json');
    assert.equal(s.rememberedTrust, undefined);
  });
  test('keeps SSH known_hosts lines, forgets them, and treats damaged text as none', () => {
    const storage = new MapStorage();
    const s = new SettingsStore(storage);
    assert.equal(s.rememberedSshKnownHosts, undefined);
    const lines = '10.0.0.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==\n';
    assert.equal(s.rememberSshKnownHosts(lines), true);
    assert.equal(s.rememberedSshKnownHosts, lines);
    s.forgetSshKnownHosts();
    assert.equal(storage.map.has('wgweb.sshKnownHosts'), false);
    storage.setItem('wgweb.sshKnownHosts', '{"lines":3}');
    assert.equal(s.rememberedSshKnownHosts, undefined);
  });
  test('keeps the relay token only when asked, and an empty token deletes it', () => {
    const storage = new MapStorage();
    const s = new SettingsStore(storage);
    assert.equal(s.rememberedRelayToken, undefined);
    s.rememberRelayToken('eyJ.secret');
    assert.equal(s.rememberedRelayToken, 'eyJ.secret');
    s.rememberRelayToken('');
    assert.equal(storage.map.has('wgweb.relayToken'), false);
    s.rememberRelayToken('x');
    s.forgetRelayToken();
    assert.equal(s.rememberedRelayToken, undefined);
  });
});
