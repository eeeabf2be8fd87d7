/**
 * Test certificates made with the real `openssl` CLI (Debian package openssl) in a temporary
 * directory: a root CA, intermediates, leaves with DNS/IP SANs, self-signed certificates; EC P-256 /
 * P-384, RSA 2048 / 4096, Ed25519 keys. Everything a TLS test server needs, as files and PEM text.
 *
 * ```ts
 * const pki = await TestPki.create();                       // temp dir, removed by pki.cleanup()
 * const root = pki.ca('root');                              // self-signed CA
 * const inter = pki.ca('inter', { issuer: root });          // intermediate
 * const leaf = pki.leaf('srv', { issuer: inter, dns: ['intranet.test'], ips: ['10.77.1.1'] });
 * leaf.certFile, leaf.keyFile, leaf.chainFile (leaf + intermediates), root.certPem
 * ```
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type KeyType = 'ec-p256' | 'ec-p384' | 'rsa-2048' | 'rsa-4096' | 'ed25519';

export interface CertOptions {
  /** Signed by this CA; absent = self-signed. */
  issuer?: TestCert;
  key?: KeyType;
  /** Subject CN (default the name). */
  cn?: string;
  dns?: readonly string[];
  ips?: readonly string[];
  /** Validity: days from now for notAfter (negative = already expired); notBefore offset in days (positive = not yet valid). */
  days?: number;
  startDays?: number;
  /** Signature digest (default sha256; 'sha1' for the refused-algorithm case). */
  digest?: 'sha256' | 'sha384' | 'sha1';
  /** Extra lines for the extensions section (e.g. `nameConstraints=critical,permitted;DNS:corp.test`). */
  extensions?: readonly string[];
  /** CA only: basicConstraints pathlen. */
  pathLen?: number;
  /** Replace the default basicConstraints / keyUsage / extendedKeyUsage value; `null` leaves it out. */
  basicConstraints?: string | null;
  keyUsage?: string | null;
  extKeyUsage?: string | null;
  /** Sign with RSA-PSS, salt length = digest length (the issuer's key must be RSA). */
  pss?: boolean;
}

export interface TestCert {
  name: string;
  keyFile: string;
  certFile: string;
  /** This certificate followed by its issuers up to (not including) the root. */
  chainFile: string;
  certPem: string;
  keyPem: string;
  /** DER of this certificate. */
  der: Uint8Array;
  isCa: boolean;
  keyType: KeyType;
  /** The intermediates in {@link chainFile}, nearest first. */
  chain: TestCert[];
  /** The issuing certificate (undefined for self-signed). */
  issuerOf?: TestCert;
}

function keyArgs(key: KeyType): string[] {
  switch (key) {
    case 'ec-p256':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    case 'ec-p384':
      return ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'];
    case 'rsa-2048':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'];
    case 'rsa-4096':
      return ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:4096'];
    case 'ed25519':
      return ['-algorithm', 'ED25519'];
  }
}

function openssl(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** UTC time for `openssl x509 -not_before/-not_after`-style config: YYYYMMDDHHMMSSZ. */
function asn1Time(offsetDays: number): string {
  const d = new Date(Date.now() + offsetDays * 86400_000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

export class TestPki {
  private serial = 1;
  private constructor(readonly dir: string) {}

  static async create(): Promise<TestPki> {
    return new TestPki(mkdtempSync(join(tmpdir(), 'wgweb-pki-')));
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A CA certificate (self-signed root unless `issuer`). */
  ca(name: string, options: CertOptions = {}): TestCert {
    return this.make(name, true, options);
  }

  /** A server (leaf) certificate. */
  leaf(name: string, options: CertOptions = {}): TestCert {
    return this.make(name, false, options);
  }

  private make(name: string, isCa: boolean, o: CertOptions): TestCert {
    const dir = this.dir;
    const keyFile = join(dir, `${name}.key`);
    const certFile = join(dir, `${name}.crt`);
    const chainFile = join(dir, `${name}.chain.crt`);
    openssl(['genpkey', ...keyArgs(o.key ?? 'ec-p256'), '-out', keyFile], dir);
    const sans = [...(o.dns ?? []).map((d) => `DNS:${d}`), ...(o.ips ?? []).map((i) => `IP:${i}`)];
    const pick = (v: string | null | undefined, dflt: string | null, key: string): string[] => {
      const value = v === undefined ? dflt : v;
      return value === null ? [] : [`${key}=${value}`];
    };
    const ext = [
      ...pick(o.basicConstraints, isCa ? `critical,CA:TRUE${o.pathLen !== undefined ? `,pathlen:${o.pathLen}` : ''}` : 'critical,CA:FALSE', 'basicConstraints'),
      ...pick(o.keyUsage, isCa ? 'critical,keyCertSign,cRLSign' : 'critical,digitalSignature,keyEncipherment', 'keyUsage'),
      ...pick(o.extKeyUsage, isCa ? null : 'serverAuth', 'extendedKeyUsage'),
      'subjectKeyIdentifier=hash',
      ...(o.issuer ? ['authorityKeyIdentifier=keyid'] : []),
      ...(sans.length ? [`subjectAltName=${sans.join(',')}`] : []),
      ...(o.extensions ?? []),
    ];
    const cnf = join(dir, `${name}.cnf`);
    writeFileSync(cnf, `[req]\ndistinguished_name=dn\nprompt=no\n[dn]\nCN=${o.cn ?? name}\n[ext]\n${ext.join('\n')}\n`);
    const csr = join(dir, `${name}.csr`);
    // The signer's key decides the digest: Ed25519 signs without a separate one (openssl ca -md must be absent).
    const ed = (o.issuer ? o.issuer.keyType : (o.key ?? 'ec-p256')) === 'ed25519';
    openssl(['req', '-new', '-key', keyFile, '-config', cnf, '-out', csr], dir);
    // `openssl ca` would be the only way to set an arbitrary notBefore; a tiny CA database does it.
    const issuer = o.issuer;
    const signKey = issuer ? issuer.keyFile : keyFile;
    const db = join(dir, `${name}.db`);
    writeFileSync(db, '');
    const caCnf = join(dir, `${name}.ca.cnf`);
    writeFileSync(
      caCnf,
      `[ca]\ndefault_ca=c\n[c]\ndatabase=${db}\nnew_certs_dir=${dir}\nserial=${join(dir, `${name}.srl`)}\ndefault_md=default\npolicy=p\nunique_subject=no\ncopy_extensions=none\n[p]\ncommonName=supplied\n[ext]\n${ext.join('\n')}\n`,
    );
    const serial = (this.serial++ * 7919 + 4096).toString(16);
    writeFileSync(join(dir, `${name}.srl`), (serial.length % 2 ? '0' : '') + serial + '\n');
    const args = [
      'ca', '-batch', '-config', caCnf, '-in', csr, '-out', certFile, '-extensions', 'ext', '-notext',
      '-startdate', asn1Time(-(o.startDays !== undefined ? -o.startDays : 1)), '-enddate', asn1Time(o.days ?? 30),
      '-keyfile', signKey,
    ];
    if (issuer) args.push('-cert', issuer.certFile);
    else args.push('-selfsign');
    if (!ed) args.push('-md', o.digest ?? 'sha256');
    if (o.pss) args.push('-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:digest');
    openssl(args, dir);
    const certPem = readFileSync(certFile, 'utf8').replace(/^[\s\S]*?(?=-----BEGIN CERTIFICATE-----)/, '');
    writeFileSync(certFile, certPem);
    const chain: TestCert[] = [];
    const chainParts = [certPem];
    for (let c = issuer; c && c.issuerOf !== undefined; c = c.issuerOf) {
      chainParts.push(c.certPem);
      chain.push(c);
    }
    writeFileSync(chainFile, chainParts.join(''));
    const der = new Uint8Array(Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
    return { name, keyFile, certFile, chainFile, certPem, keyPem: readFileSync(keyFile, 'utf8'), der, isCa, keyType: o.key ?? 'ec-p256', chain, issuerOf: issuer };
  }
}
