/**
 * Temporary stand-in for tls-x509's certificate-verifier.ts (same signatures): accepts only
 * `insecure` connections. Replaced when the real verifier lands.
 */
import { WgwebError, ErrorCode } from '../../shared/errors.ts';

export interface VerifyOptions {
  serverName: string;
  trust: unknown;
  now: Date;
  insecure?: boolean;
}

export async function verifyServerCertificates(chainDer: readonly Uint8Array[], o: VerifyOptions): Promise<unknown> {
  if (o.insecure) return { insecure: true, chainLength: chainDer.length };
  throw new WgwebError(ErrorCode.TLS_CERT_UNTRUSTED, `cannot verify the certificate of ${o.serverName} yet`, { serverName: o.serverName });
}

export async function verifyHandshakeSignature(leafDer: Uint8Array, scheme: number, signedData: Uint8Array, signature: Uint8Array): Promise<boolean> {
  void leafDer;
  void scheme;
  void signedData;
  void signature;
  return true;
}
