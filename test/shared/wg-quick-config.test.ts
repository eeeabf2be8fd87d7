import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  checkWgQuickConfig,
  formatWgQuickConfig,
  parseWgQuickConfig,
  type WgQuickConfig,
} from '../../src/shared/wg-quick-config.ts';
import { ErrorCode, WgwebError } from '../../src/shared/errors.ts';
import { fromBase64, toBase64 } from '../../src/shared/bytes.ts';
import { formatIp, formatPrefix, parseIp } from '../../src/shared/ip-address.ts';
import { publicKeyFromPrivate } from '../../src/wireguard/noise-keys.ts';
import { findBinary } from '../../harness/requirements.ts';

// Fixture keys printed by real `wg genkey | tee priv | wg pubkey` and `wg genpsk` (wireguard-tools).
const CLIENT_PRIV = 'WAC5Q8HtooNmrK54XVHGptbvJsUm5IqVzBWa7SgoqGk=';
const CLIENT_PUB = 'y44zkZg8FuThpguATVahF3QCz0uM31+cpQIiJEUNhUE=';
const SERVER_PRIV = '8MZ4DkyL1jGJB8qgvyl17pdPhwkEynXwzVMM86Mtq24=';
const SERVER_PUB = '7vaHKfLOYVtQPB/Q3S0HQAp70mnrSa1lSVb9WrXpKHQ=';
const PEER2_PUB = 'aru0RX5iHR1uvVJRbE53SwFmmh6fQqYpzNpl5eFixkM=';
const PEER3_PUB = 'bW+3BYP63w+DA83FuxixyXFOVJW502T7Ie3X4czbrHE=';
const PSK = 'Pkd92rsapiXdg56rOoBJd8pFlUSP0hdxFJB1XJO2ZRw=';

const key = (b64: string) => fromBase64(b64);
const prefixes = (list: { address: Uint8Array; prefixLength: number }[]) => list.map(formatPrefix);

/** Errors as [line, message] pairs, the form the bad-input table uses. */
function errorsOf(text: string): [number, string][] {
  return checkWgQuickConfig(text).errors.map((e) => [e.line, e.message]);
}
function warningsOf(text: string): string[] {
  return checkWgQuickConfig(text).warnings.map((w) => w.message);
}

const TYPICAL_CLIENT = `[Interface]
# laptop
PrivateKey = ${CLIENT_PRIV}
Address = 10.8.0.2/24, fd42:42:42::2/64
DNS = 10.8.0.1, fd42:42:42::1
MTU = 1420

[Peer]
PublicKey = ${SERVER_PUB}
PresharedKey = ${PSK}
Endpoint = vpn.example.com:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 25
`;

describe('a typical client config', () => {
  test('parses every field', () => {
    const { config, warnings } = parseWgQuickConfig(TYPICAL_CLIENT);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.interface.privateKey, key(CLIENT_PRIV));
    assert.deepEqual(prefixes(config.interface.addresses), ['10.8.0.2/24', 'fd42:42:42::2/64']);
    assert.deepEqual(config.interface.dnsServers.map(formatIp), ['10.8.0.1', 'fd42:42:42::1']);
    assert.deepEqual(config.interface.dnsSearch, []);
    assert.equal(config.interface.mtu, 1420);
    assert.equal(config.interface.listenPort, undefined);
    assert.equal(config.peers.length, 1);
    const [peer] = config.peers;
    assert.deepEqual(peer.publicKey, key(SERVER_PUB));
    assert.deepEqual(peer.presharedKey, key(PSK));
    assert.deepEqual(peer.endpoint, { host: 'vpn.example.com', port: 51820 });
    assert.deepEqual(prefixes(peer.allowedIPs), ['0.0.0.0/0', '::/0']);
    assert.equal(peer.persistentKeepalive, 25);
  });

  test('keeps the host bits of an Address as written (10.8.0.2/24 is an address on a /24)', () => {
    const { config } = parseWgQuickConfig(TYPICAL_CLIENT);
    assert.deepEqual(config.interface.addresses[0].address, parseIp('10.8.0.2'));
  });

  test('the same file with CRLF line ends, a BOM and odd case parses identically', () => {
    const crlf = '\uFEFF' + TYPICAL_CLIENT.replace(/\n/g, '\r\n').replace('[Interface]', '[INTERFACE]').replace('[Peer]', '[peer]')
      .replace('PrivateKey', 'privatekey').replace('AllowedIPs', 'allowedips').replace('PersistentKeepalive', 'PersistentKeepAlive');
    assert.deepEqual(parseWgQuickConfig(crlf).config, parseWgQuickConfig(TYPICAL_CLIENT).config);
  });
});

describe('a server config with several peers', () => {
  const SERVER = `[Interface]
Address = 10.8.0.1/24
ListenPort = 51820
PrivateKey = ${SERVER_PRIV}
PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
PostDown = iptables -D FORWARD -i %i -j ACCEPT; iptables -t nat -D POSTROUTING -o eth0 -j MASQUERADE
SaveConfig = false

[Peer]
# phone
PublicKey = ${CLIENT_PUB}
AllowedIPs = 10.8.0.2/32

[Peer]
PublicKey = ${PEER2_PUB}
AllowedIPs = 10.8.0.3/32
AllowedIPs = fd42::3/128

[Peer]
PublicKey = ${PEER3_PUB}
AllowedIPs = 10.8.0.4/32, 192.168.50.0/24
`;

  test('parses all peers in order, accumulating repeated AllowedIPs lines', () => {
    const { config } = parseWgQuickConfig(SERVER);
    assert.equal(config.interface.listenPort, 51820);
    assert.deepEqual(config.peers.map((p) => toBase64(p.publicKey)), [CLIENT_PUB, PEER2_PUB, PEER3_PUB]);
    assert.deepEqual(config.peers.map((p) => prefixes(p.allowedIPs)), [
      ['10.8.0.2/32'],
      ['10.8.0.3/32', 'fd42::3/128'],
      ['10.8.0.4/32', '192.168.50.0/24'],
    ]);
    assert.ok(config.peers.every((p) => p.endpoint === undefined));
  });

  test('warns about each Linux-only wg-quick key by line, and hints that this is a server config', () => {
    const { warnings } = parseWgQuickConfig(SERVER);
    assert.deepEqual(warnings.map((w) => w.message).slice(0, 3), [
      'line 5: PostUp is run by wg-quick on Linux; wgweb ignores it',
      'line 6: PostDown is run by wg-quick on Linux; wgweb ignores it',
      'line 7: SaveConfig is used by wg-quick on Linux; wgweb ignores it',
    ]);
    const hint = warnings.find((w) => w.key === 'Endpoint');
    assert.ok(hint, 'a hint about the missing Endpoints');
    assert.equal(hint.line, 9);
    assert.match(hint.message, /server's config/);
    assert.match(hint.message, /client/);
  });

  test('a single peer without Endpoint in a client-looking config gets a per-peer hint, not an error', () => {
    const text = `[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.2\n[Peer]\nPublicKey = ${SERVER_PUB}\nAllowedIPs = 10.0.0.0/24\n`;
    const { config, warnings } = parseWgQuickConfig(text);
    assert.equal(config.peers[0].endpoint, undefined);
    assert.deepEqual(warnings.map((w) => w.message), [
      '[Peer] starting at line 4 has no Endpoint: wgweb can only reach a peer whose address it knows (that is fine in a server\'s config)',
    ]);
  });
});

describe('fields and their forms', () => {
  const wrap = (ifaceLines: string, peerLines = `PublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0`) =>
    `[Interface]\nPrivateKey = ${CLIENT_PRIV}\n${ifaceLines}\n[Peer]\n${peerLines}\n`;

  test('Address: comma and/or space separated, repeated lines, bare address = /32 or /128', () => {
    const { config } = parseWgQuickConfig(wrap('Address = 10.0.0.2, 10.0.1.2/16 fd00::2\nAddress=fd00:1::2/64,,'));
    assert.deepEqual(prefixes(config.interface.addresses), ['10.0.0.2/32', '10.0.1.2/16', 'fd00::2/128', 'fd00:1::2/64']);
  });

  test('DNS: IP addresses are servers, other entries are search domains (wg-quick rule)', () => {
    const { config } = parseWgQuickConfig(wrap('Address = 10.0.0.2\nDNS = 1.1.1.1, corp.example.com 2606:4700:4700::1111\nDNS = lan'));
    assert.deepEqual(config.interface.dnsServers.map(formatIp), ['1.1.1.1', '2606:4700:4700::1111']);
    assert.deepEqual(config.interface.dnsSearch, ['corp.example.com', 'lan']);
  });

  test('ListenPort, FwMark (decimal, hex, off) and MTU', () => {
    assert.equal(parseWgQuickConfig(wrap('Address = 10.0.0.2\nFwMark = 0xca6c')).config.interface.fwMark, 0xca6c);
    assert.equal(parseWgQuickConfig(wrap('Address = 10.0.0.2\nFwMark = 51820')).config.interface.fwMark, 51820);
    assert.equal(parseWgQuickConfig(wrap('Address = 10.0.0.2\nFwMark = off')).config.interface.fwMark, undefined);
    assert.equal(parseWgQuickConfig(wrap('Address = 10.0.0.2\nListenPort = 0')).config.interface.listenPort, undefined);
    assert.equal(parseWgQuickConfig(wrap('Address = 10.0.0.2\nListenPort = 65535')).config.interface.listenPort, 65535);
    assert.equal(parseWgQuickConfig(wrap('Address = 10.0.0.2\nMTU = 1280')).config.interface.mtu, 1280);
  });

  test('Endpoint: IPv4, bracketed IPv6 (canonicalised), host names', () => {
    const ep = (e: string) => parseWgQuickConfig(wrap('Address = 10.0.0.2', `PublicKey = ${SERVER_PUB}\nEndpoint = ${e}\nAllowedIPs = 0.0.0.0/0`)).config.peers[0].endpoint;
    assert.deepEqual(ep('192.0.2.7:51820'), { host: '192.0.2.7', port: 51820 });
    assert.deepEqual(ep('[2001:DB8:0::1]:443'), { host: '2001:db8::1', port: 443 });
    assert.deepEqual(ep('[::ffff:192.0.2.1]:1'), { host: '::ffff:192.0.2.1', port: 1 });
    assert.deepEqual(ep('wg.example.com:65535'), { host: 'wg.example.com', port: 65535 });
    assert.deepEqual(ep('localhost:51820'), { host: 'localhost', port: 51820 });
    assert.deepEqual(ep('[fe80::1%eth0]:51820'), { host: 'fe80::1%eth0', port: 51820 });
  });

  test('a zoned link-local Endpoint round-trips; a malformed zone is an error', () => {
    const text = wrap('Address = 10.0.0.2', `PublicKey = ${SERVER_PUB}\nEndpoint = [fe80::1%wg-lan.2]:51820\nAllowedIPs = 0.0.0.0/0`);
    const { config } = parseWgQuickConfig(text);
    assert.deepEqual(parseWgQuickConfig(formatWgQuickConfig(config)).config, config);
    const bad = wrap('Address = 10.0.0.2', `PublicKey = ${SERVER_PUB}\nEndpoint = [fe80::1%a/b]:51820\nAllowedIPs = 0.0.0.0/0`);
    assert.deepEqual(errorsOf(bad), [[6, 'line 6: Endpoint "[fe80::1%a/b]:51820": "fe80::1%a/b" has an invalid zone after "%"']]);
  });

  test('AllowedIPs may be empty (with a warning: nothing is routed to that peer)', () => {
    const r = parseWgQuickConfig(wrap('Address = 10.0.0.2', `PublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:1\nAllowedIPs =`));
    assert.deepEqual(r.config.peers[0].allowedIPs, []);
    assert.match(r.warnings[0].message, /has no AllowedIPs/);
  });

  test('PersistentKeepalive: a number, or "off"/0 meaning not set', () => {
    const ka = (v: string) => parseWgQuickConfig(wrap('Address = 10.0.0.2', `PublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:1\nAllowedIPs = 0.0.0.0/0\nPersistentKeepalive = ${v}`)).config.peers[0].persistentKeepalive;
    assert.equal(ka('25'), 25);
    assert.equal(ka('off'), undefined);
    assert.equal(ka('OFF'), undefined);
    assert.equal(ka('0'), undefined);
    assert.equal(ka('65535'), 65535);
  });

  test('comments (# and ;, full-line and trailing), blank lines and spacing around "="', () => {
    const text = [
      '; exported by some tool',
      '',
      '   [ Interface ]   # trailing comment',
      '\tPrivateKey=' + CLIENT_PRIV + '   # a base64 "=" is not a separator',
      'Address   =   10.0.0.2/32 ; home',
      '# Address = 10.9.9.9/32',
      '',
      '[Peer]',
      `  PublicKey   =${SERVER_PUB}`,
      'Endpoint = 192.0.2.1:51820#no space before the comment',
      'Allowed IPs = 10.0.0.0/24',
      '',
    ].join('\n');
    const { config, warnings } = parseWgQuickConfig(text);
    assert.deepEqual(warnings, []);
    assert.deepEqual(config.interface.privateKey, key(CLIENT_PRIV));
    assert.deepEqual(prefixes(config.interface.addresses), ['10.0.0.2/32']);
    assert.deepEqual(config.peers[0].endpoint, { host: '192.0.2.1', port: 51820 });
    // wg strips all whitespace from a line, so "Allowed IPs" works there and here.
    assert.deepEqual(prefixes(config.peers[0].allowedIPs), ['10.0.0.0/24']);
  });

  test('a [Peer] may come before the [Interface]', () => {
    const text = `[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:1\nAllowedIPs = 0.0.0.0/0\n[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.2\n`;
    assert.equal(parseWgQuickConfig(text).config.peers.length, 1);
  });

  test('a file without a trailing newline, or with only "\\r" leftovers, still parses', () => {
    assert.ok(parseWgQuickConfig(TYPICAL_CLIENT.trimEnd()).config);
    assert.ok(parseWgQuickConfig(TYPICAL_CLIENT.replace(/\n/g, '\r\n') + '\r').config);
  });
});

describe('bad input: every error names its line and what is wrong', () => {
  const I = `[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.2/32\n`; // lines 1-3
  const P = `[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n`;
  const cases: [string, string, [number, string][]][] = [
    ['empty text', '', [[0, 'no [Interface] section (is this a wg-quick .conf file?)']]],
    ['only a peer', P, [[0, 'no [Interface] section']]],
    ['key outside a section', `# hi\n\n\nPrivateKey = ${CLIENT_PRIV}\n${I}`, [[4, 'line 4: key outside a section: PrivateKey must come after [Interface]']]],
    ['address out of range', `[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.300/24\n${P}`, [[3, 'line 3: Address "10.0.0.300/24" is not an IPv4 or IPv6 address']]],
    ['prefix length too long', `${I}Address = fd00::1/129\n${P}`, [[4, 'line 4: Address "fd00::1/129" has a bad prefix length (0 to 128 for IPv6)']]],
    ['public key one character short', `${I}[Peer]\nPublicKey = ${SERVER_PUB.slice(0, 42)}=\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (it is 43 characters long; a key is 44 characters ending in "=")']]],
    ['public key without its "="', `${I}[Peer]\nPublicKey = ${SERVER_PUB.slice(0, 43)}\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (the trailing "=" is missing)']]],
    ['key pasted twice', `${I}[Peer]\nPublicKey = ${SERVER_PUB.slice(0, 43)}${SERVER_PUB}\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (it is 87 characters long; a key is 44 characters ending in "=")']]],
    ['a 48-byte base64 blob', `${I}[Peer]\nPublicKey = ${toBase64(Uint8Array.from({ length: 48 }, (_, i) => i * 5))}\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (it decodes to 48 bytes; a key is 44 characters ending in "=": was it cut short or pasted twice?)']]],
    ['hex key', `${I}[Peer]\nPublicKey = ${'ab'.repeat(32)}\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (this looks like hex; use the base64 form that wg genkey prints)']]],
    ['quoted key', `${I}[Peer]\nPublicKey = "${SERVER_PUB}"\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (remove the quotes around it)']]],
    ['url-safe base64', `${I}[Peer]\nPublicKey = ${SERVER_PUB.replace(/\//g, '_')}\n`, [[5, 'line 5: PublicKey must be 32 bytes of base64 (this is URL-safe base64; WireGuard keys use "+" and "/" instead of "-" and "_")']]],
    ['empty private key', `[Interface]\nPrivateKey =\n`, [[2, 'line 2: PrivateKey has no value; it must be 32 bytes of base64 (44 characters ending in "=")']]],
    ['all-zero private key', `[Interface]\nPrivateKey = ${toBase64(new Uint8Array(32))}\n`, [[2, 'line 2: PrivateKey is all zeros; generate one with "wg genkey" or "wgweb genkey"']]],
    ['peer without PublicKey', `${I}\n\n\n\n\n\n\n\n[Peer]\nEndpoint = 192.0.2.1:51820\n`, [[12, '[Peer] starting at line 12 has no PublicKey']]],
    ['interface without PrivateKey', `[Interface]\nAddress = 10.0.0.2\n${P}`, [[1, '[Interface] starting at line 1 has no PrivateKey']]],
    ['duplicate single-value key', `${I}PrivateKey = ${CLIENT_PRIV}\n${P}`, [[4, 'line 4: PrivateKey is set twice in this [Interface] (first at line 2)']]],
    ['duplicate key, different case', `${I}${P}endpoint = 192.0.2.2:1\n`, [[8, 'line 8: Endpoint is set twice in this [Peer] (first at line 6)']]],
    ['second [Interface]', `${I}[interface]\nPrivateKey = ${CLIENT_PRIV}\n${P}`, [[4, "line 4: a second [Interface] section (the first starts at line 1); a config has exactly one. For a second site, add only its [Peer] section: this device uses Address 10.0.0.2/32 and the first PrivateKey with every peer, so that site's server must list the same address in AllowedIPs of its [Peer] for this device"]]],
    ['second [Interface] before the first has an Address', `[Interface]\nPrivateKey = ${CLIENT_PRIV}\n[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.3/32\nAddress = 10.0.0.2/32\n${P}`, [[3, "line 3: a second [Interface] section (the first starts at line 1); a config has exactly one. For a second site, add only its [Peer] section: this device uses the first [Interface]'s Address and the first PrivateKey with every peer, so that site's server must list the same address in AllowedIPs of its [Peer] for this device"]]],
    ['typo in a key', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nAllowedIP = 0.0.0.0/0\n`, [[6, 'line 6: unknown key AllowedIP in [Peer]; did you mean AllowedIPs?']]],
    ['another typo', `${I}${P}PersistentKeepAlives = 25\n`, [[8, 'line 8: unknown key PersistentKeepAlives in [Peer]; did you mean PersistentKeepalive?']]],
    ['Keepalive for PersistentKeepalive', `${I}${P}Keepalive = 25\n`, [[8, 'line 8: unknown key Keepalive in [Peer]; did you mean PersistentKeepalive?']]],
    ['typo in a section name', `${I}[Peers]\nPublicKey = ${SERVER_PUB}\n`, [[4, 'line 4: unknown section [Peers]; did you mean [Peer]?']]],
    ['peer key in [Interface]', `${I}PublicKey = ${SERVER_PUB}\n${P}`, [[4, 'line 4: PublicKey belongs in a [Peer] section, not [Interface] (an [Interface] has only its own PrivateKey)']]],
    ['interface key in [Peer]', `${I}${P}DNS = 1.1.1.1\n`, [[8, 'line 8: DNS belongs in the [Interface] section, not [Peer]']]],
    ['Linux-only key in [Peer]', `${I}${P}PostUp = true\n`, [[8, 'line 8: PostUp belongs in the [Interface] section, not [Peer]']]],
    ['line without "="', `${I}Address 10.0.0.3\n${P}`, [[4, 'line 4: expected "Key = Value" or a [Section] header']]],
    ['missing key name', `${I}= 10.0.0.3\n${P}`, [[4, 'line 4: missing key name before "="']]],
    ['unclosed section header', `[Interface\nPrivateKey = ${CLIENT_PRIV}\n${P}`, [[1, 'line 1: section header is missing its closing "]"']]],
    ['text after a section header', `[Interface] x\nPrivateKey = ${CLIENT_PRIV}\n${P}`, [[1, 'line 1: unexpected text after the section header']]],
    ['endpoint without port', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = vpn.example.com\n`, [[6, 'line 6: Endpoint "vpn.example.com" has no port: write host:port ([v6]:port for IPv6)']]],
    ['endpoint with bare IPv6', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = fd00::1:51820\n`, [[6, 'line 6: Endpoint "fd00::1:51820": put an IPv6 address in brackets, as [fd00::1]:port']]],
    ['endpoint port 0', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:0\n`, [[6, 'line 6: Endpoint "0" is not a port (1 to 65535)']]],
    ['endpoint with a bad IPv4', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.300:51820\n`, [[6, 'line 6: Endpoint "192.0.2.300:51820": "192.0.2.300" is not an IPv4 address']]],
    ['endpoint with a bad host name', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = vpn!.example.com:51820\n`, [[6, 'line 6: Endpoint "vpn!.example.com:51820": "vpn!.example.com" is not a valid host name']]],
    ['empty endpoint', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint =\n`, [[6, 'line 6: Endpoint has no value; write host:port, or remove the line']]],
    ['bad AllowedIPs entry among good ones', `${I}[Peer]\nPublicKey = ${SERVER_PUB}\nAllowedIPs = 10.0.0.0/8, 10.0.0/8\n`, [[6, 'line 6: AllowedIPs "10.0.0/8" is not an IPv4 or IPv6 address']]],
    ['bad DNS address', `${I}DNS = 1.1.1.300\n${P}`, [[4, 'line 4: DNS "1.1.1.300" is not an IPv4 or IPv6 address']]],
    ['bad DNS entry', `${I}DNS = exa$mple.com\n${P}`, [[4, 'line 4: DNS "exa$mple.com" is neither an IP address nor a search domain']]],
    ['MTU not a number', `${I}MTU = 1420b\n${P}`, [[4, 'line 4: MTU "1420b" is not a whole number from 68 to 65535']]],
    ['MTU too large', `${I}MTU = 70000\n${P}`, [[4, 'line 4: MTU "70000" is not a whole number from 68 to 65535']]],
    ['ListenPort too large', `${I}ListenPort = 65536\n${P}`, [[4, 'line 4: ListenPort "65536" is not a whole number from 0 to 65535']]],
    ['FwMark garbage', `${I}FwMark = 0xfffffffff\n${P}`, [[4, 'line 4: FwMark "0xfffffffff" is not "off" or a number from 0 to 0xffffffff']]],
    ['keepalive garbage', `${I}${P}PersistentKeepalive = 25s\n`, [[8, 'line 8: PersistentKeepalive "25s" is not "off" or a whole number from 0 to 65535']]],
    ['same peer twice', `${I}${P}${P}`, [[9, 'line 9: PublicKey is the same as in the [Peer] starting at line 4; each peer needs its own key (merge the two sections)']]],
    ['own private key as a peer key', `${I}[Peer]\nPublicKey = ${CLIENT_PRIV}\nEndpoint = 192.0.2.1:1\nAllowedIPs = 0.0.0.0/0\n`, [[5, 'line 5: PublicKey is this interface\'s own PrivateKey; put the other side\'s public key here']]],
  ];
  cases.forEach(([name, text, expected], i) => {
    test(`${i + 1}. ${name}`, () => {
      assert.deepEqual(errorsOf(text), expected);
      assert.throws(() => parseWgQuickConfig(text), (e: unknown) => {
        assert.ok(e instanceof WgwebError);
        assert.equal(e.code, ErrorCode.CONFIG_INVALID);
        assert.equal(e.message, expected[0][1]);
        assert.equal(e.detail.line, expected[0][0]);
        assert.equal((e.detail.errors as unknown[]).length, expected.length);
        return true;
      });
    });
  });

  test('collects every problem, in line order, instead of stopping at the first', () => {
    const text = `[Interface]\nPrivateKey = nope\nAddress = 10.0.0.1/33\nMTU = big\n[Peer]\nAllowedIP = 10.0.0.0/8\n`;
    assert.deepEqual(errorsOf(text).map(([line]) => line), [2, 3, 4, 5, 6]);
  });

  test('parseWgQuickConfig names every problem in its message, in line order (what the UI and the CLI show)', () => {
    const text = `[Interface]\nPrivateKey = nope\nAddress = 10.0.0.1/33\nMTU = big\n[Peer]\nAllowedIP = 10.0.0.0/8\n`;
    assert.throws(() => parseWgQuickConfig(text), (e: unknown) => {
      assert.ok(e instanceof WgwebError);
      const lines = e.message.split('\n');
      assert.equal(lines[0], '5 problems:');
      assert.deepEqual(
        lines.slice(1),
        checkWgQuickConfig(text).errors.map((i) => `  ${i.message}`),
      );
      assert.deepEqual(errorsOf(text).map(([line]) => line), [2, 3, 4, 5, 6]);
      assert.equal(e.detail.line, 2);
      return true;
    });
  });

  test('errors never echo key material', () => {
    const broken = CLIENT_PRIV.slice(0, 40);
    for (const text of [`[Interface]\nPrivateKey = ${broken}\n`, `${broken}\n[Interface]\nPrivateKey = ${CLIENT_PRIV}\n`]) {
      for (const e of checkWgQuickConfig(text).errors) assert.ok(!e.message.includes(broken), e.message);
    }
  });

  test('with publicKeyFromPrivate, the interface\'s own public key as a peer key is an error', () => {
    const text = `${I}[Peer]\nPublicKey = ${CLIENT_PUB}\nEndpoint = 192.0.2.1:1\nAllowedIPs = 0.0.0.0/0\n`;
    assert.deepEqual(errorsOf(text), []);
    const r = checkWgQuickConfig(text, { publicKeyFromPrivate });
    assert.deepEqual(r.errors.map((e) => e.message), ['line 5: PublicKey is this interface\'s own public key; put the other side\'s public key here']);
    assert.equal(r.config, undefined);
  });
});

describe('warnings: accepted, but worth telling', () => {
  const base = `[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.2/32\n`;
  const peer = `[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n`;
  test('Linux-only keys in [Interface] are named by line', () => {
    assert.deepEqual(warningsOf(`${base}Table = off\nPreUp = a\nPreDown = b\nPostUp = c\nPostUp = d\n${peer}`), [
      'line 4: Table is used by wg-quick on Linux; wgweb ignores it',
      'line 5: PreUp is run by wg-quick on Linux; wgweb ignores it',
      'line 6: PreDown is run by wg-quick on Linux; wgweb ignores it',
      'line 7: PostUp is run by wg-quick on Linux; wgweb ignores it',
      'line 8: PostUp is run by wg-quick on Linux; wgweb ignores it',
    ]);
  });
  test('a key unlike any real one is ignored with a warning (other clients add their own)', () => {
    assert.deepEqual(warningsOf(`${base}ExcludedApplications = com.example\n${peer}`), [
      'line 4: unknown key ExcludedApplications in [Interface]; wgweb ignores it',
    ]);
  });
  test('AmneziaWG settings get a specific warning', () => {
    assert.match(warningsOf(`${base}Jc = 4\nH1 = 1\n${peer}`)[0], /^line 4: Jc is an AmneziaWG setting/);
  });
  test('an unknown section is ignored with its keys', () => {
    const r = checkWgQuickConfig(`${base}[Metadata]\nName = laptop\n${peer}`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.warnings.map((w) => w.message), ['line 4: unknown section [Metadata]; wgweb ignores it and the keys in it']);
  });
  test('no Address, no peers, a tiny MTU with IPv6, a prefix shared by two peers', () => {
    assert.match(warningsOf(`[Interface]\nPrivateKey = ${CLIENT_PRIV}\n${peer}`)[0], /^\[Interface\] starting at line 1 has no Address/);
    assert.deepEqual(warningsOf(base), ['no [Peer] section: there is nobody to connect to']);
    assert.match(warningsOf(`${base}Address = fd00::2/64\nMTU = 1200\n${peer}`)[0], /^line 5: MTU 1200 is below 1280/);
    const two = `${base}${peer}[Peer]\nPublicKey = ${PEER2_PUB}\nEndpoint = 192.0.2.2:51820\nAllowedIPs = 0.0.0.1/0\n`;
    assert.deepEqual(warningsOf(two), [
      'line 11: AllowedIPs 0.0.0.1/0 has a nonzero host part; WireGuard treats it as 0.0.0.0/0',
      'line 11: AllowedIPs 0.0.0.0/0 is also in the [Peer] starting at line 4; WireGuard routes it only to this later peer',
    ]);
  });
  test('AllowedIPs with host bits set: wg warns and uses the network, so do we (kept as written)', () => {
    const text = `${base}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 10.0.0.1/24, fd00::1/64, 10.9.0.0/16\n`;
    assert.deepEqual(warningsOf(text), [
      'line 7: AllowedIPs 10.0.0.1/24 has a nonzero host part; WireGuard treats it as 10.0.0.0/24',
      'line 7: AllowedIPs fd00::1/64 has a nonzero host part; WireGuard treats it as fd00::/64',
    ]);
    assert.deepEqual(prefixes(parseWgQuickConfig(text).config.peers[0].allowedIPs), ['10.0.0.1/24', 'fd00::1/64', '10.9.0.0/16']);
  });
});

describe('format → parse round trip', () => {
  const full: WgQuickConfig = {
    interface: {
      privateKey: key(CLIENT_PRIV),
      addresses: [{ address: parseIp('10.8.0.2'), prefixLength: 24 }, { address: parseIp('fd42::2'), prefixLength: 64 }],
      dnsServers: [parseIp('10.8.0.1'), parseIp('2606:4700::1111')],
      dnsSearch: ['corp.example.com', 'lan'],
      mtu: 1380,
      listenPort: 40000,
      fwMark: 0xca6c,
    },
    peers: [
      {
        publicKey: key(SERVER_PUB),
        presharedKey: key(PSK),
        endpoint: { host: '2001:db8::1', port: 51820 },
        allowedIPs: [{ address: parseIp('0.0.0.0'), prefixLength: 0 }, { address: parseIp('::'), prefixLength: 0 }],
        persistentKeepalive: 25,
      },
      { publicKey: key(PEER2_PUB), endpoint: { host: 'peer.example.net', port: 1 }, allowedIPs: [] },
      { publicKey: key(PEER3_PUB), allowedIPs: [{ address: parseIp('192.168.7.0'), prefixLength: 24 }] },
    ],
  };

  test('formats canonical wg-quick text', () => {
    assert.equal(formatWgQuickConfig(full), `[Interface]
PrivateKey = ${CLIENT_PRIV}
Address = 10.8.0.2/24, fd42::2/64
DNS = 10.8.0.1, 2606:4700::1111, corp.example.com, lan
MTU = 1380
ListenPort = 40000
FwMark = 0xca6c

[Peer]
PublicKey = ${SERVER_PUB}
PresharedKey = ${PSK}
Endpoint = [2001:db8::1]:51820
AllowedIPs = 0.0.0.0/0, ::/0
PersistentKeepalive = 25

[Peer]
PublicKey = ${PEER2_PUB}
Endpoint = peer.example.net:1

[Peer]
PublicKey = ${PEER3_PUB}
AllowedIPs = 192.168.7.0/24
`);
  });

  test('parse(format(config)) equals config', () => {
    assert.deepEqual(parseWgQuickConfig(formatWgQuickConfig(full)).config, full);
  });

  test('format(parse(text)) is a fixed point for real-world configs', () => {
    const once = formatWgQuickConfig(parseWgQuickConfig(TYPICAL_CLIENT).config);
    assert.equal(formatWgQuickConfig(parseWgQuickConfig(once).config), once);
  });

  test('random configs survive the round trip', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => rnd(256));
    const prefix = () => {
      const v6 = rnd(2) === 1;
      return { address: bytes(v6 ? 16 : 4), prefixLength: rnd(v6 ? 129 : 33) };
    };
    for (let i = 0; i < 200; i++) {
      const config: WgQuickConfig = {
        interface: {
          privateKey: bytes(32),
          addresses: Array.from({ length: rnd(3) }, prefix),
          dnsServers: Array.from({ length: rnd(3) }, () => bytes(rnd(2) ? 16 : 4)),
          dnsSearch: Array.from({ length: rnd(2) }, (_, j) => `d${j}.example`),
        },
        peers: Array.from({ length: rnd(4) }, () => {
          const p: WgQuickConfig['peers'][number] = { publicKey: bytes(32), allowedIPs: Array.from({ length: rnd(4) }, prefix) };
          if (rnd(2)) p.presharedKey = bytes(32);
          if (rnd(2)) p.endpoint = rnd(2) ? { host: formatIp(bytes(16)), port: 1 + rnd(65535) } : { host: `h${rnd(99)}.example`, port: 1 + rnd(65535) };
          if (rnd(2)) p.persistentKeepalive = 1 + rnd(65535);
          return p;
        }),
      };
      if (rnd(2)) config.interface.mtu = 1280 + rnd(8000);
      if (rnd(2)) config.interface.listenPort = 1 + rnd(65535);
      if (rnd(2)) config.interface.privateKey[0] |= 1; // never all zero
      config.interface.privateKey[31] |= 64;
      const text = formatWgQuickConfig(config);
      const back = checkWgQuickConfig(text);
      assert.deepEqual(back.errors, [], text);
      assert.deepEqual(back.config, config, text);
    }
  });

  test('bad caller input throws TypeError or RangeError', () => {
    assert.throws(() => formatWgQuickConfig(null as unknown as WgQuickConfig), TypeError);
    assert.throws(() => formatWgQuickConfig({ ...full, peers: 'x' } as unknown as WgQuickConfig), TypeError);
    assert.throws(() => formatWgQuickConfig({ ...full, interface: { ...full.interface, privateKey: new Uint8Array(31) } }), RangeError);
    assert.throws(() => formatWgQuickConfig({ ...full, interface: { ...full.interface, mtu: 1.5 } }), RangeError);
    assert.throws(() => formatWgQuickConfig({ ...full, interface: { ...full.interface, dnsSearch: ['a\nPostUp = x'] } }), RangeError);
    assert.throws(() => formatWgQuickConfig({ ...full, peers: [{ ...full.peers[0], endpoint: { host: 'a b\n[Peer]', port: 1 } }] }), RangeError);
    assert.throws(() => formatWgQuickConfig({ ...full, peers: [{ ...full.peers[0], allowedIPs: [{ address: new Uint8Array(4), prefixLength: 33 }] }] }), RangeError);
  });

  test('parse rejects non-string input with TypeError', () => {
    for (const v of [undefined, null, 42, new Uint8Array(3), { text: '' }]) {
      assert.throws(() => checkWgQuickConfig(v as unknown as string), TypeError);
      assert.throws(() => parseWgQuickConfig(v as unknown as string), TypeError);
    }
  });
});

describe('garbage never escapes as anything but WgwebError', () => {
  const alphabet = ['[', ']', '=', '#', ';', '\n', '\r\n', ' ', '\t', ',', '/', ':', '.', 'a', 'Z', '0', '9', '+', '%', '\u0000', '\uFEFF', 'é', '\uD800',
    '[Interface]', '[Peer]', 'PrivateKey', 'PublicKey', 'Address', 'AllowedIPs', 'Endpoint', 'DNS', 'MTU', 'off', CLIENT_PRIV, SERVER_PUB, '10.0.0.1', 'fd00::1', '/24', ':51820'];
  test('2000 random documents', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    for (let i = 0; i < 2000; i++) {
      let text = '';
      const n = rnd(60);
      for (let j = 0; j < n; j++) text += alphabet[rnd(alphabet.length)];
      try {
        const r = parseWgQuickConfig(text);
        assert.ok(r.config.interface.privateKey.length === 32);
      } catch (e) {
        if (!(e instanceof WgwebError)) throw new Error(`non-WgwebError for ${JSON.stringify(text)}: ${String(e)}`);
        assert.equal(e.code, ErrorCode.CONFIG_INVALID);
        assert.ok(e.message.length > 0);
      }
    }
  });

  test('2000 mutations of a real config: WgwebError or a config that survives format → parse', () => {
    let seed = 99;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % n;
    };
    const pieces = ['=', '[', ']', '#', ',', ' ', '\n', '/', ':', '0', 'f', '.', '%', 'off', '::'];
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      let text = TYPICAL_CLIENT;
      for (let m = 1 + rnd(4); m > 0; m--) {
        const at = rnd(text.length);
        const op = rnd(3);
        const piece = pieces[rnd(pieces.length)];
        text = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + piece + text.slice(at) : text.slice(0, at) + piece + text.slice(at + 1);
      }
      let config: WgQuickConfig;
      try {
        config = parseWgQuickConfig(text).config;
      } catch (e) {
        if (!(e instanceof WgwebError)) throw new Error(`non-WgwebError for ${JSON.stringify(text)}: ${String(e)}`);
        continue;
      }
      accepted++;
      assert.deepEqual(parseWgQuickConfig(formatWgQuickConfig(config)).config, config, text);
    }
    assert.ok(accepted > 100, `only ${accepted} mutations parsed; the property was barely exercised`);
  });

  test('a huge single line is handled and clipped in messages', () => {
    const text = `[Interface]\n${'x'.repeat(100_000)} = 1\n`;
    const r = checkWgQuickConfig(text);
    assert.ok(r.warnings.every((w) => w.message.length < 300));
    assert.ok(r.errors.every((e) => e.message.length < 300));
  });
});

describe('agrees with wg-quick', { skip: wgQuickSkipReason() }, () => {
  test('wg-quick strip keeps exactly the keys wg itself parses', () => {
    // wg-quick strip removes the wg-quick-only keys (Address, DNS, MTU, hooks...) and prints the rest;
    // our parser must read the same keys from the stripped file.
    const text = `[Interface]\nPrivateKey = ${CLIENT_PRIV}\nAddress = 10.0.0.2/32\nDNS = 1.1.1.1\nPostUp = true\nListenPort = 1234\n\n[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n`;
    const dir = spawnSync('mktemp', ['-d'], { encoding: 'utf8' }).stdout.trim();
    const file = `${dir}/wgtest0.conf`;
    spawnSync('sh', ['-c', `umask 077 && cat > ${file}`], { input: text });
    const r = spawnSync('wg-quick', ['strip', file], { encoding: 'utf8' });
    spawnSync('rm', ['-rf', dir]);
    assert.equal(r.status, 0, r.stderr);
    const stripped = checkWgQuickConfig(r.stdout);
    const full = parseWgQuickConfig(text).config;
    assert.deepEqual(stripped.errors, []);
    assert.deepEqual(stripped.config?.peers, full.peers);
    assert.deepEqual(stripped.config?.interface.privateKey, full.interface.privateKey);
    assert.equal(stripped.config?.interface.listenPort, 1234);
  });
});

function wgQuickSkipReason(): string | undefined {
  if (findBinary('wg-quick') && findBinary('bash')) return undefined;
  if (process.env.CI === 'true') throw new Error('wg-quick is required when CI=true');
  return 'wg-quick (wireguard-tools) is not installed';
}

describe('no message quotes a key pasted in the wrong place (issue #11 item 12)', () => {
  // A private key in base64, its URL-safe and unpadded spellings, and the same 32 bytes in hex.
  const leaks = (text: string) => {
    const forms = [CLIENT_PRIV, CLIENT_PRIV.slice(0, 43), Buffer.from(fromBase64(CLIENT_PRIV)).toString('hex')];
    // Any 16-character window of a form is already too much of the key to print.
    return forms.some((f) => Array.from({ length: f.length - 15 }, (_, i) => f.slice(i, i + 16)).some((w) => text.includes(w)));
  };
  const head = `[Interface]\nPrivateKey = ${SERVER_PRIV}\nAddress = 10.0.0.2/32\n`;
  const peer = `[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = 192.0.2.1:51820\nAllowedIPs = 0.0.0.0/0\n`;
  const hex = Buffer.from(fromBase64(CLIENT_PRIV)).toString('hex');
  const cases: [string, string][] = [
    ['a bare key line', `${head}${CLIENT_PRIV}\n${peer}`],
    ['a bare key line without its "="', `${head}${CLIENT_PRIV.slice(0, 43)}\n${peer}`],
    ['"PrivateKey <key>" without "="', `[Interface]\nPrivateKey ${CLIENT_PRIV}\nAddress = 10.0.0.2/32\n${peer}`],
    ['"PrivateKey: <key>"', `[Interface]\nPrivateKey: ${CLIENT_PRIV}\nAddress = 10.0.0.2/32\n${peer}`],
    ['Address = <key>', `[Interface]\nPrivateKey = ${SERVER_PRIV}\nAddress = ${CLIENT_PRIV}\n${peer}`],
    ['a section header [<key>]', `${head}[${CLIENT_PRIV}]\n${peer}`],
    ['a key as a key name', `${head}${CLIENT_PRIV.slice(0, 43)} = 1\n${peer}`],
    ['DNS = <key>', `${head}DNS = ${CLIENT_PRIV}\n${peer}`],
    ['MTU = <key>', `${head}MTU = ${CLIENT_PRIV}\n${peer}`],
    ['ListenPort = <key>', `${head}ListenPort = ${CLIENT_PRIV}\n${peer}`],
    ['FwMark = <key>', `${head}FwMark = ${CLIENT_PRIV}\n${peer}`],
    ['Endpoint = <key>:51820', `${head}[Peer]\nPublicKey = ${SERVER_PUB}\nEndpoint = ${CLIENT_PRIV}:51820\nAllowedIPs = 0.0.0.0/0\n`],
    ['AllowedIPs = <key>', `${head}[Peer]\nPublicKey = ${SERVER_PUB}\nAllowedIPs = ${CLIENT_PRIV}\n`],
    ['PersistentKeepalive = <key>', `${head}${peer}PersistentKeepalive = ${CLIENT_PRIV}\n`],
    ['a key pasted twice', `[Interface]\nPrivateKey = ${CLIENT_PRIV}${CLIENT_PRIV}\nAddress = 10.0.0.2/32\n${peer}`],
    ['a hex key as an Address', `[Interface]\nPrivateKey = ${SERVER_PRIV}\nAddress = ${hex}\n${peer}`],
    ['a URL-safe key before the first section', `${CLIENT_PRIV.replace(/\+/g, '-').replace(/\//g, '_')} = x\n${head}${peer}`],
    ['a key in an unknown section name', `${head}[Interface ${CLIENT_PRIV}]\n${peer}`],
    ['a key after the section header', `${head}[Peer] ${CLIENT_PRIV}\nPublicKey = ${SERVER_PUB}\n`],
  ];
  for (const [name, text] of cases) {
    test(`${name}: reported without quoting the key`, () => {
      const { errors, warnings } = checkWgQuickConfig(text);
      assert.ok(errors.length + warnings.length > 0, 'the mistake is reported');
      for (const i of [...errors, ...warnings]) {
        assert.ok(!leaks(i.message), `message quotes the key: ${i.message}`);
        assert.ok(!leaks(i.key ?? ''), `key field quotes the key: ${i.key}`);
      }
      if (errors.length > 0) {
        assert.throws(() => parseWgQuickConfig(text), (e: unknown) => e instanceof WgwebError && !leaks(e.message) && !leaks(JSON.stringify(e.detail)));
      }
    });
  }

  test('a key alone on a line is an error that says what to write', () => {
    const { errors } = checkWgQuickConfig(`${head}${CLIENT_PRIV}\n${peer}`);
    assert.deepEqual(errors.map((e) => e.message), [
      'line 4: this line holds what looks like a key with no name; write PrivateKey = <key> in [Interface] or PublicKey = <key> in [Peer]',
    ]);
  });

  test('ordinary values are still quoted so the user can find them', () => {
    const { errors } = checkWgQuickConfig(`${head}DNS = not_a..name\n${peer}`);
    assert.ok(errors.some((e) => e.message.includes('"not_a..name"')), JSON.stringify(errors));
  });
});

describe('the role option', () => {
  const server = `[Interface]\nPrivateKey = ${SERVER_PRIV}\nListenPort = 51820\n[Peer]\nPublicKey = ${CLIENT_PUB}\nAllowedIPs = 10.0.0.2/32\n[Peer]\nPublicKey = ${PEER2_PUB}\nAllowedIPs = 10.0.0.3/32\n`;
  test('a listener (wgweb peer) is not told that its dial-in peers lack an Endpoint', () => {
    assert.deepEqual(checkWgQuickConfig(server, { role: 'listener' }).warnings.filter((w) => w.key === 'Endpoint'), []);
  });
  test('a client is', () => {
    assert.equal(checkWgQuickConfig(server).warnings.filter((w) => w.key === 'Endpoint').length, 1);
  });
});
