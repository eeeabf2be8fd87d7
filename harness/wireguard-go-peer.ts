/**
 * A real WireGuard peer for interop tests: `wireguard-go -f` (foreground; the daemonizing mode
 * does not survive here) in a fresh network namespace, configured with `wg set` and `ip`, exactly
 * as an administrator would.
 *
 *   test / relay (root namespace) ──UDP──▶ endpoint = <namespace veth address>:<listenPort>
 *                                           └─ wireguard-go (wgwh<idx>g) ── tunnel 10.77.X.1/24, fd77:X::1/64
 *                                                └─ servers bound to the tunnel addresses (ns-servers.ts)
 *
 * ```ts
 * const peer = await startWireguardGoPeer({ name: 'server' });
 * t.after(() => peer.close());
 * const client = await peer.addClient();            // key pair + [Peer] entry on the server side
 * // client.config is wg-quick text for wgweb; peer.endpoint is where the relay sends UDP.
 * await peer.waitForHandshake(client.publicKey);
 * ```
 *
 * The UAPI socket lives in /var/run/wireguard/<ifname>.sock, which is shared by all namespaces:
 * interface names are therefore unique per machine (derived from the namespace index).
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNamespace, waitFor, type Namespace, type NsProcess } from './netns.ts';
import { formatKey, generatePresharedKey, generatePrivateKey, parseKey, publicKeyFromPrivate } from '../src/wireguard/noise-keys.ts';
import {
  formatEndpoint,
  formatIp,
  formatPrefix,
  maskAddress,
  parsePrefix,
  prefixContains,
  type Endpoint,
  type IpPrefix,
} from '../src/shared/ip-address.ts';

const UAPI_DIR = '/var/run/wireguard';

/** One `[Peer]` of the wireguard-go instance. Keys are base64 as `wg` prints them. */
export interface WgPeerSpec {
  readonly publicKey: string;
  readonly presharedKey?: string;
  readonly allowedIPs?: readonly string[];
  readonly endpoint?: Endpoint | string;
  /** Seconds; 0 or absent = off. */
  readonly persistentKeepalive?: number;
}

export interface WgGoPeerOptions {
  /** Namespace label (see createNamespace), e.g. "server". */
  readonly name?: string;
  /** base64 private key; default: a fresh one. */
  readonly privateKey?: string;
  /** UDP port inside the namespace (each namespace has its own ports). Default 51820. */
  readonly listenPort?: number;
  /** Tunnel IPv4 address with prefix; default `10.77.X.1/24` (X from the namespace index); null = none. */
  readonly address4?: string | null;
  /** Tunnel IPv6 address with prefix; default `fd77:X::1/64`; null = none. */
  readonly address6?: string | null;
  /** Default 1420, like wg-quick. */
  readonly mtu?: number;
  readonly peers?: readonly WgPeerSpec[];
  /** Add a route for every AllowedIP outside the interface's own prefixes, like wg-quick. Default true. */
  readonly routes?: boolean;
  /** wireguard-go LOG_LEVEL. Default "verbose" (kept in a bounded buffer for error messages). */
  readonly logLevel?: 'verbose' | 'error' | 'silent';
  /** How long wireguard-go may take to come up. Default 15 s. */
  readonly timeoutMs?: number;
}

/** A parsed `wg show <if> dump`. */
export interface WgShow {
  readonly privateKey: string;
  readonly publicKey: string;
  readonly listenPort: number;
  readonly fwmark: string;
  readonly peers: WgShowPeer[];
}

export interface WgShowPeer {
  readonly publicKey: string;
  readonly presharedKey: string | undefined;
  /** `host:port` as wg prints it (IPv6 bracketed), or undefined before one is known. */
  readonly endpoint: string | undefined;
  readonly allowedIPs: string[];
  /** Unix seconds of the latest handshake; 0 = never. */
  readonly latestHandshake: number;
  readonly rxBytes: number;
  readonly txBytes: number;
  /** Seconds, or undefined when off. */
  readonly persistentKeepalive: number | undefined;
}

export interface ClientOptions {
  /** base64; default: a fresh key. */
  readonly privateKey?: string;
  /** `true` generates one; a string is used as is. */
  readonly presharedKey?: string | true;
  /** Default `<peer network>.N/32` for the next free N (2, 3, ...). */
  readonly address4?: string | null;
  /** Default `fd77:X::N/128`. */
  readonly address6?: string | null;
  /** What the client routes into the tunnel; default the peer's tunnel networks. */
  readonly allowedIPs?: readonly string[];
  /** Where the client sends UDP; default `peer.endpoint` (veth IPv4 address). */
  readonly endpoint?: Endpoint;
  readonly persistentKeepalive?: number;
  readonly dns?: readonly string[];
  readonly mtu?: number;
}

/** A client of a peer: keys, tunnel addresses and the wg-quick text to hand to wgweb. */
export interface WgClient {
  readonly privateKey: string;
  readonly publicKey: string;
  readonly presharedKey: string | undefined;
  /** With prefix, e.g. `10.77.5.2/32`; undefined when the client has no IPv4 address. */
  readonly address4: string | undefined;
  readonly address6: string | undefined;
  readonly config: string;
}

export interface WgGoPeer {
  readonly ns: Namespace;
  /** The WireGuard interface name inside `ns` (also its UAPI socket name). */
  readonly ifname: string;
  readonly process: NsProcess;
  readonly privateKey: string;
  readonly publicKey: string;
  readonly listenPort: number;
  /** Where UDP from the root namespace reaches it: the namespace's veth IPv4 address. */
  readonly endpoint: Endpoint;
  /** The same over IPv6. */
  readonly endpointV6: Endpoint;
  /** Bare tunnel addresses (no prefix), e.g. `10.77.5.1`, `fd77:5::1`. */
  readonly tunnelAddress4: string | undefined;
  readonly tunnelAddress6: string | undefined;
  /** Tunnel addresses with prefix as configured, e.g. `10.77.5.1/24`. */
  readonly tunnelPrefix4: string | undefined;
  readonly tunnelPrefix6: string | undefined;
  /** Tunnel networks, e.g. `10.77.5.0/24`, `fd77:5::/64`. */
  readonly tunnelNetworks: string[];
  addPeer(peer: WgPeerSpec): Promise<void>;
  removePeer(publicKey: string): Promise<void>;
  /** Creates a client (key pair, next free addresses), adds it as a peer here, returns its config. */
  addClient(options?: ClientOptions): Promise<WgClient>;
  /** Runs `wg <args>` inside the namespace; resolves with stdout. */
  wg(args: readonly string[]): Promise<string>;
  show(): Promise<WgShow>;
  /** Resolves with the peer's `wg show` row once it has a handshake newer than `after` (unix s). */
  waitForHandshake(publicKey?: string, options?: { timeoutMs?: number; after?: number }): Promise<WgShowPeer>;
  /** The last lines wireguard-go printed. */
  logs(lines?: number): string;
  close(): Promise<void>;
}

function checkKey(text: string, what: string): string {
  return formatKey(parseKey(text, what));
}

function bareAddress(prefix: string): string {
  return formatIp(parsePrefix(prefix).address);
}

function networkOf(prefix: string): string {
  const p = parsePrefix(prefix);
  return formatPrefix({ address: maskAddress(p.address, p.prefixLength), prefixLength: p.prefixLength });
}

/** Parses `wg show <if> dump` output. */
export function parseWgDump(text: string): WgShow {
  const lines = text.trim().split('\n');
  const head = (lines.shift() ?? '').split('\t');
  if (head.length < 4) throw new Error(`unexpected "wg show dump" output: ${JSON.stringify(text.slice(0, 200))}`);
  const none = (s: string | undefined): string | undefined => (s === undefined || s === '(none)' || s === 'off' ? undefined : s);
  return {
    privateKey: head[0],
    publicKey: head[1],
    listenPort: Number(head[2]),
    fwmark: head[3],
    peers: lines
      .filter((l) => l.trim())
      .map((l) => {
        const f = l.split('\t');
        const ka = none(f[7]);
        return {
          publicKey: f[0],
          presharedKey: none(f[1]),
          endpoint: none(f[2]),
          allowedIPs: none(f[3])?.split(',') ?? [],
          latestHandshake: Number(f[4]),
          rxBytes: Number(f[5]),
          txBytes: Number(f[6]),
          persistentKeepalive: ka === undefined ? undefined : Number(ka),
        };
      }),
  };
}

/**
 * A wg-quick `.conf` for a client of `peer`. Pass the client's keys and addresses; everything else
 * defaults from the peer (AllowedIPs = its tunnel networks, Endpoint = its veth IPv4 endpoint).
 */
export function clientConfigFor(
  peer: Pick<WgGoPeer, 'publicKey' | 'endpoint' | 'tunnelNetworks'>,
  client: {
    readonly privateKey: string;
    readonly address4?: string;
    readonly address6?: string;
    readonly presharedKey?: string;
    readonly allowedIPs?: readonly string[];
    readonly endpoint?: Endpoint;
    readonly persistentKeepalive?: number;
    readonly dns?: readonly string[];
    readonly mtu?: number;
  },
): string {
  const addresses = [client.address4, client.address6].filter((a): a is string => !!a);
  const lines = ['[Interface]', `PrivateKey = ${checkKey(client.privateKey, 'client private key')}`];
  if (addresses.length) lines.push(`Address = ${addresses.join(', ')}`);
  if (client.dns?.length) lines.push(`DNS = ${client.dns.join(', ')}`);
  if (client.mtu) lines.push(`MTU = ${client.mtu}`);
  lines.push('', '[Peer]', `PublicKey = ${peer.publicKey}`);
  if (client.presharedKey) lines.push(`PresharedKey = ${checkKey(client.presharedKey, 'preshared key')}`);
  lines.push(`AllowedIPs = ${(client.allowedIPs ?? peer.tunnelNetworks).join(', ')}`);
  lines.push(`Endpoint = ${formatEndpoint(client.endpoint ?? peer.endpoint)}`);
  if (client.persistentKeepalive) lines.push(`PersistentKeepalive = ${client.persistentKeepalive}`);
  return lines.join('\n') + '\n';
}

/** Starts wireguard-go in a fresh namespace and configures it. */
export async function startWireguardGoPeer(options: WgGoPeerOptions = {}): Promise<WgGoPeer> {
  const listenPort = options.listenPort ?? 51820;
  if (!Number.isInteger(listenPort) || listenPort < 1 || listenPort > 65535) throw new RangeError(`listenPort must be 1..65535, got ${listenPort}`);
  const privateKey = options.privateKey ? checkKey(options.privateKey, 'private key') : formatKey(generatePrivateKey());
  const publicKey = formatKey(publicKeyFromPrivate(parseKey(privateKey)));
  const timeoutMs = options.timeoutMs ?? 15_000;

  const ns = await createNamespace({ name: options.name });
  try {
    const x = (ns.index % 254) + 1;
    const prefix4 = options.address4 === undefined ? `10.77.${x}.1/24` : options.address4 ?? undefined;
    const prefix6 = options.address6 === undefined ? `fd77:${x.toString(16)}::1/64` : options.address6 ?? undefined;
    const ownPrefixes: IpPrefix[] = [prefix4, prefix6].filter((p): p is string => !!p).map(parsePrefix);
    // Unique per machine because the namespace index is (the UAPI socket directory is shared).
    const ifname = `wgwh${ns.index}g`;
    const proc = ns.spawn('wireguard-go', ['-f', ifname], {
      env: { LOG_LEVEL: options.logLevel ?? 'verbose' },
    });
    const socket = `${UAPI_DIR}/${ifname}.sock`;
    ns.onClose(() => {
      // wireguard-go removes it on SIGTERM; after a SIGKILL it would linger.
      try {
        unlinkSync(socket);
      } catch {
        // already gone
      }
    });
    const context = (): string => `last wireguard-go output (pid ${proc.pid}):\n${proc.output(20) || '(none)'}`;
    const exitedEarly = proc.exited.then((i) => `wireguard-go exited (code ${i.code}, signal ${i.signal})`);
    await waitFor(
      `wireguard-go interface ${ifname} in ${ns.name} to come up`,
      async () => (await ns.exec('wg', ['show', ifname, 'listen-port'], { check: false, timeoutMs: 5000 })).code === 0,
      { timeoutMs, context, abort: exitedEarly },
    );

    const exec = (cmd: string, args: readonly string[]): Promise<string> =>
      ns
        .exec(cmd, args, { timeoutMs: 10_000 })
        .then((r) => r.stdout)
        .catch((e: Error) => {
          throw new Error(`${e.message}\n${context()}`, { cause: e });
        });
    const ipBatch = (cmds: readonly string[]): Promise<string> =>
      ns
        .exec('ip', ['-batch', '-'], { input: cmds.join('\n') + '\n', timeoutMs: 10_000 })
        .then((r) => r.stdout)
        .catch((e: Error) => {
          throw new Error(`${e.message}\ncommands:\n${cmds.join('\n')}`, { cause: e });
        });
    // `wg` reads keys from files only, and a Node stdin is a socket that /dev/stdin cannot open:
    // hand each key over in a private temporary file that is removed right after.
    const withKeyFile = async <T>(key: string, use: (path: string) => Promise<T>): Promise<T> => {
      const dir = mkdtempSync(join(tmpdir(), 'wgwh-key-'));
      const path = join(dir, 'key');
      try {
        writeFileSync(path, key + '\n', { mode: 0o600 });
        return await use(path);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    };

    await withKeyFile(privateKey, (path) => exec('wg', ['set', ifname, 'private-key', path, 'listen-port', String(listenPort)]));
    const mtu = options.mtu ?? 1420;
    const batch = [`link set ${ifname} mtu ${mtu}`];
    if (prefix4) batch.push(`addr add ${prefix4} dev ${ifname}`);
    if (prefix6) batch.push(`addr add ${prefix6} dev ${ifname} nodad`);
    batch.push(`link set ${ifname} up`);
    await ipBatch(batch);

    const addRoutes = async (allowed: readonly string[]): Promise<void> => {
      if (options.routes === false) return;
      const cmds: string[] = [];
      for (const a of allowed) {
        const p = parsePrefix(a);
        const net = formatPrefix({ address: maskAddress(p.address, p.prefixLength), prefixLength: p.prefixLength });
        const covered = ownPrefixes.some(
          (own) => own.address.length === p.address.length && own.prefixLength <= p.prefixLength && prefixContains(own, p.address),
        );
        if (!covered) cmds.push(`route replace ${net} dev ${ifname}`);
      }
      if (cmds.length) await ipBatch(cmds);
    };

    const addPeer = async (peer: WgPeerSpec): Promise<void> => {
      const pub = checkKey(peer.publicKey, 'peer public key');
      const args = ['set', ifname, 'peer', pub];
      const allowed = peer.allowedIPs ?? [];
      for (const a of allowed) parsePrefix(a); // RangeError with a precise message before wg sees it
      args.push('allowed-ips', allowed.join(','));
      if (peer.endpoint) args.push('endpoint', typeof peer.endpoint === 'string' ? peer.endpoint : formatEndpoint(peer.endpoint));
      if (peer.persistentKeepalive !== undefined) args.push('persistent-keepalive', String(peer.persistentKeepalive || 'off'));
      if (peer.presharedKey) {
        const psk = checkKey(peer.presharedKey, 'preshared key');
        await withKeyFile(psk, (path) => exec('wg', [...args, 'preshared-key', path]));
      } else {
        await exec('wg', args);
      }
      await addRoutes(allowed);
    };
    for (const p of options.peers ?? []) await addPeer(p);

    const wg = (args: readonly string[]): Promise<string> => exec('wg', args);
    const show = async (): Promise<WgShow> => parseWgDump(await wg(['show', ifname, 'dump']));
    const tunnelNetworks = [prefix4, prefix6].filter((p): p is string => !!p).map(networkOf);
    let nextHost = 2;

    const self: WgGoPeer = {
      ns,
      ifname,
      process: proc,
      privateKey,
      publicKey,
      listenPort,
      endpoint: { host: ns.nsAddress4, port: listenPort },
      endpointV6: { host: ns.nsAddress6, port: listenPort },
      tunnelAddress4: prefix4 ? bareAddress(prefix4) : undefined,
      tunnelAddress6: prefix6 ? bareAddress(prefix6) : undefined,
      tunnelPrefix4: prefix4,
      tunnelPrefix6: prefix6,
      tunnelNetworks,
      addPeer,
      async removePeer(pub: string) {
        await exec('wg', ['set', ifname, 'peer', checkKey(pub, 'peer public key'), 'remove']);
      },
      async addClient(o: ClientOptions = {}) {
        const host = nextHost++;
        const clientPrivate = o.privateKey ? checkKey(o.privateKey, 'client private key') : formatKey(generatePrivateKey());
        const clientPublic = formatKey(publicKeyFromPrivate(parseKey(clientPrivate)));
        const psk = o.presharedKey === true ? formatKey(generatePresharedKey()) : o.presharedKey;
        const hostAddress = (prefix: string | undefined): string | undefined => {
          if (!prefix) return undefined;
          const p = parsePrefix(prefix);
          const a = maskAddress(p.address, p.prefixLength);
          a[a.length - 2] |= host >> 8;
          a[a.length - 1] |= host & 255;
          return formatPrefix({ address: a, prefixLength: a.length * 8 });
        };
        const address4 = o.address4 === undefined ? hostAddress(prefix4) : o.address4 ?? undefined;
        const address6 = o.address6 === undefined ? hostAddress(prefix6) : o.address6 ?? undefined;
        const clientAllowed = [address4, address6]
          .filter((a): a is string => !!a)
          .map((a) => {
            const p = parsePrefix(a);
            return formatPrefix({ address: p.address, prefixLength: p.address.length * 8 });
          });
        await addPeer({ publicKey: clientPublic, presharedKey: psk, allowedIPs: clientAllowed });
        return {
          privateKey: clientPrivate,
          publicKey: clientPublic,
          presharedKey: psk,
          address4,
          address6,
          config: clientConfigFor(self, {
            privateKey: clientPrivate,
            address4,
            address6,
            presharedKey: psk,
            allowedIPs: o.allowedIPs,
            endpoint: o.endpoint,
            persistentKeepalive: o.persistentKeepalive,
            dns: o.dns,
            mtu: o.mtu,
          }),
        };
      },
      wg,
      show,
      async waitForHandshake(pub?: string, o: { timeoutMs?: number; after?: number } = {}) {
        const key = pub === undefined ? undefined : checkKey(pub, 'peer public key');
        const after = o.after ?? 0;
        return waitFor(
          `a handshake${key ? ` with ${key}` : ''} on ${ifname}`,
          async () => (await show()).peers.find((p) => (key === undefined || p.publicKey === key) && p.latestHandshake > after),
          { timeoutMs: o.timeoutMs ?? 20_000, intervalMs: 100, context, abort: exitedEarly },
        );
      },
      logs: (n = 30) => proc.output(n),
      async close() {
        await proc.stop();
        await ns.close();
      },
    };
    return self;
  } catch (e) {
    await ns.close();
    throw e;
  }
}
