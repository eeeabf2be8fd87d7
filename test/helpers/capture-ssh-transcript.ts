/**
 * Captures the transcripts test/protocols/ssh/ssh-transcript.test.ts replays: one `exec` against a
 * real OpenSSH sshd and one against Dropbear, each in the wireguard-go namespace of an interop
 * fixture, with the client's randomness seeded (test/helpers/seeded-random.ts) so a replay draws
 * the same ephemeral keys and the server's recorded bytes decrypt again.
 *
 *   SshConnection (seeded) ── recording TcpConnection ── Session ── relay ── wireguard-go ── sshd / dropbear
 *     every chunk read (server → client) and written (client → server) ─▶ ssh-transcripts.ts
 *
 * Needs what the interop suites need (root, wireguard-go, sshd, dropbear). Run it again only when
 * the client's wire behaviour changes on purpose (the replay test then says so):
 *
 *   node --import tsx test/helpers/capture-ssh-transcript.ts
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { closeAllNamespaces } from '../../harness/netns.ts';
import { startDropbear, startSshd, type SshServer } from '../../harness/ssh-servers.ts';
import { SshConnection } from '../../src/protocols/ssh/ssh-connection.ts';
import type { TcpConnection } from '../../src/engine/dialer.ts';
import { parseIp } from '../../src/shared/ip-address.ts';
import { startSessionFixture } from '../interop/session-fixture.ts';
import { seededRandom } from './seeded-random.ts';

const PASSWORD = 'transcript-pw';
const COMMAND = 'echo captured; echo to-stderr >&2; exit 3';
const OUT = fileURLToPath(new URL('../protocols/ssh/ssh-transcripts.ts', import.meta.url));
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');

/** A TcpConnection that passes everything through and keeps a copy of each chunk, per direction. */
function recording(tcp: TcpConnection): { conn: TcpConnection; server: Uint8Array[]; client: Uint8Array[] } {
  const server: Uint8Array[] = [];
  const client: Uint8Array[] = [];
  const w = tcp.writable.getWriter();
  const conn: TcpConnection = {
    readable: tcp.readable.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, ctl) {
          server.push(chunk.slice());
          ctl.enqueue(chunk);
        },
      }),
    ),
    writable: new WritableStream<Uint8Array>({
      write: (chunk) => {
        client.push(chunk.slice());
        return w.write(chunk);
      },
      close: () => w.close(),
      abort: (r) => w.abort(r),
    }),
    remoteAddress: tcp.remoteAddress,
    remotePort: tcp.remotePort,
    close: () => tcp.close(),
    abort: (r?: unknown) => tcp.abort(r),
    closed: tcp.closed,
  };
  return { conn, server, client };
}

async function main(): Promise<void> {
  const fx = await startSessionFixture({ name: 'sshcap', servers: [] });
  const servers: SshServer[] = [];
  try {
    const host = fx.peer.tunnelAddress4!;
    const sshd = await startSshd(fx.peer, { host, password: PASSWORD, hostKeyTypes: ['ssh-ed25519'] });
    servers.push(sshd);
    const dropbear = await startDropbear(fx.peer, { host, port: 2222, password: PASSWORD });
    servers.push(dropbear);
    const entries: string[] = [];
    for (const [name, server, port] of [['openssh', sshd, 22], ['dropbear', dropbear, 2222]] as const) {
      const seed = `wgweb-ssh-transcript-${name}`;
      const tcp = await fx.session.dialer.connectTcp(parseIp(host), port, { timeoutMs: 10_000 });
      const rec = recording(tcp);
      let fingerprint = '';
      const conn = await SshConnection.connect(rec.conn, {
        username: 'root',
        password: PASSWORD,
        random: seededRandom(seed),
        now: () => 0,
        checkHostKey: (_key, fp) => {
          fingerprint = fp;
        },
      });
      const r = await conn.exec(COMMAND);
      const serverChunks = rec.server.map(b64);
      const client = b64(Buffer.concat(rec.client));
      conn.close();
      if (fingerprint !== server.hostKeys['ssh-ed25519']!.fingerprint) throw new Error(`${name}: host key ${fingerprint} is not the server's Ed25519 key`);
      const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
      entries.push(`  {
    name: ${JSON.stringify(name)},
    serverVersion: ${JSON.stringify(conn.info.serverVersion)},
    seed: ${JSON.stringify(seed)},
    username: 'root',
    password: ${JSON.stringify(PASSWORD)},
    command: ${JSON.stringify(COMMAND)},
    hostKeyFingerprint: ${JSON.stringify(fingerprint)},
    negotiated: ${JSON.stringify(conn.info.negotiated)},
    result: ${JSON.stringify({ stdout: dec(r.stdout), stderr: dec(r.stderr), code: r.code })},
    serverChunks: ${JSON.stringify(serverChunks)},
    client: ${JSON.stringify(client)},
  }`);
      console.log(`${name}: ${rec.server.length} server chunks, ${Buffer.concat(rec.client).length} client bytes, exit ${r.code}`);
    }
    writeFileSync(
      OUT,
      `/**
 * Captured SSH transcripts (test/helpers/capture-ssh-transcript.ts, ${new Date().toISOString().slice(0, 10)}): one \`exec\` with
 * password authentication against OpenSSH's sshd and against Dropbear, the client's randomness
 * seeded. \`serverChunks\` are the server's bytes as the client read them (base64); \`client\` is
 * everything the client wrote, up to the command's exit. Test-only host keys and password.
 */
export interface SshTranscript {
  readonly name: string;
  readonly serverVersion: string;
  readonly seed: string;
  readonly username: string;
  readonly password: string;
  readonly command: string;
  readonly hostKeyFingerprint: string;
  readonly negotiated: Readonly<Record<string, string | boolean | undefined>>;
  readonly result: { readonly stdout: string; readonly stderr: string; readonly code: number | null };
  readonly serverChunks: readonly string[];
  readonly client: string;
}

export const SSH_TRANSCRIPTS: readonly SshTranscript[] = [
${entries.join(',\n')},
];
`,
    );
    console.log(`wrote ${OUT}`);
  } finally {
    for (const s of servers) await s.close();
    await fx.close();
    await closeAllNamespaces();
  }
}

await main();
