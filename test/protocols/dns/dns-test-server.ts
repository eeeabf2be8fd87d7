/**
 * A scripted DNS server on loopback for resolver tests: real UDP (node:dgram) and TCP (node:net,
 * RFC 7766 length framing) on the same port. Each query goes to a handler that returns a reply
 * message, raw bytes, or nothing (silence).
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { parseIp, type IpAddress } from '../../../src/shared/ip-address.ts';
import { DnsRcode, DnsType, emitDnsMessage, parseDnsMessage, type DnsMessage, type DnsRecord } from '../../../src/protocols/dns/dns-message.ts';

export interface ReceivedQuery {
  message: DnsMessage;
  transport: 'udp' | 'tcp';
  /** Client source port. */
  port: number;
}

export type DnsHandler = (query: DnsMessage, transport: 'udp' | 'tcp', reply: (bytes: Uint8Array) => void) => DnsMessage | Uint8Array | null | undefined;

export class TestDnsServer {
  readonly queries: ReceivedQuery[] = [];

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly address: IpAddress,
    readonly port: number,
  ) {}

  /**
   * Starts on 127.0.0.1 (or `host`) for both UDP and TCP, on `port` or else an ephemeral port.
   * @throws when a fixed `port` is taken.
   */
  static async start(handler: DnsHandler, host = '127.0.0.1', fixedPort = 0): Promise<TestDnsServer> {
    for (let tries = 0; ; tries++) {
      const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(fixedPort, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const port = udp.address().port;
      const tcp = net.createServer();
      const ok = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(port, host, () => resolve(true));
      });
      if (!ok) {
        udp.close();
        if (fixedPort !== 0 || tries > 20) throw new Error('no port free for both UDP and TCP');
        continue;
      }
      const server = new TestDnsServer(udp, tcp, parseIp(host), port);
      server.serve(handler);
      return server;
    }
  }

  private serve(handler: DnsHandler): void {
    const answer = (bytes: Uint8Array, transport: 'udp' | 'tcp', port: number, send: (b: Uint8Array) => void): void => {
      const parsed = parseQuery(bytes);
      if (!parsed) return;
      this.queries.push({ message: parsed, transport, port });
      const out = handler(parsed, transport, send);
      if (out === null || out === undefined) return;
      send(out instanceof Uint8Array ? out : emitDnsMessage(out, { compress: true }));
    };
    this.udp.on('message', (msg, rinfo) => {
      answer(new Uint8Array(msg), 'udp', rinfo.port, (b) => this.udp.send(b, rinfo.port, rinfo.address));
    });
    this.tcp.on('connection', (sock) => {
      let buf = Buffer.alloc(0);
      sock.on('error', () => {});
      sock.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const msg = new Uint8Array(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          answer(msg, 'tcp', sock.remotePort ?? 0, (b) => {
            const framed = Buffer.alloc(2 + b.length);
            framed.writeUInt16BE(b.length, 0);
            framed.set(b, 2);
            sock.write(framed);
          });
        }
      });
    });
  }

  /** Sends `bytes` to a client from a different socket (a spoofing attempt from another port). */
  async sendFromElsewhere(bytes: Uint8Array, port: number): Promise<void> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.send(bytes, port, '127.0.0.1', () => resolve()));
    s.close();
  }

  async close(): Promise<void> {
    this.udp.close();
    await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
  }
}

function parseQuery(bytes: Uint8Array): DnsMessage | undefined {
  const r = parseDnsMessage(bytes);
  return r.ok ? r.message : undefined;
}

/** A reply to `q` with the given sections and flags (RA set, AA unless said otherwise). */
export function reply(
  q: DnsMessage,
  parts: { answers?: DnsRecord[]; authorities?: DnsRecord[]; rcode?: number; tc?: boolean; id?: number; questionName?: string } = {},
): DnsMessage {
  return {
    id: parts.id ?? q.id,
    flags: { ...q.flags, qr: true, aa: true, ra: true, tc: parts.tc ?? false, rcode: parts.rcode ?? DnsRcode.NOERROR },
    questions: parts.questionName ? [{ ...q.questions[0], name: parts.questionName }] : q.questions,
    answers: parts.answers ?? [],
    authorities: parts.authorities ?? [],
    additionals: [],
  };
}

export function a(name: string, ip: string, ttl = 300): DnsRecord {
  return { name, type: DnsType.A, class: 1, ttl, data: { kind: 'address', address: parseIp(ip) } };
}

export function aaaa(name: string, ip: string, ttl = 300): DnsRecord {
  return { name, type: DnsType.AAAA, class: 1, ttl, data: { kind: 'address', address: parseIp(ip) } };
}

export function cname(name: string, target: string, ttl = 300): DnsRecord {
  return { name, type: DnsType.CNAME, class: 1, ttl, data: { kind: 'name', name: target } };
}

export function soa(zone: string, minimum: number, ttl = 3600): DnsRecord {
  return {
    name: zone,
    type: DnsType.SOA,
    class: 1,
    ttl,
    data: { kind: 'soa', soa: { mname: `ns.${zone}`, rname: `hostmaster.${zone}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum } },
  };
}
