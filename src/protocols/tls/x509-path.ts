/**
 * RFC 5280 §6 certification path building and validation, from a server's leaf certificate to one of
 * the user's trust anchors, through intermediates the server sent (in any order, possibly with
 * extras or the root itself).
 *
 * Flow: depth-first search upward from the leaf: at each certificate try anchors whose subject
 * equals its issuer, then the sent certificates that do (RFC 5280 §7.1 name chaining), following an
 * edge only when the issuer's key verifies the signature → for each complete path run the §6.1
 * checks: validity dates, unknown critical extensions, basicConstraints cA and pathLen, keyUsage
 * keyCertSign on CAs, extendedKeyUsage serverAuth (on the leaf, and on intermediates that carry an
 * EKU at all, as browsers do), name constraints (DNS/IP) from every CA above → the first valid path
 * wins; otherwise the most specific failure is reported.
 *
 * Signatures: SHA-1 is refused on every certificate we verify; the trust anchor's own signature is
 * never verified (RFC 5280 §6.1.1 d: the anchor is an input, not part of the path), so an old
 * SHA-1 self-signed root still works. Deliberate simplifications: no certificate policies (any
 * policy acceptable), no revocation (CRL/OCSP) — see docs/tls.md.
 */
import { checkNameConstraints } from './name-constraints.ts';
import { verifySignature } from './signature-verify.ts';
import type { X509Certificate } from './x509-certificate.ts';

/** Why a path could not be validated; `certificate` is the one the problem is about. */
export interface PathFailure {
  kind: 'untrusted' | 'expired' | 'not-yet-valid' | 'invalid';
  reason: string;
  certificate: X509Certificate;
}

export type PathResult =
  | { ok: true; path: X509Certificate[]; anchor: X509Certificate }
  | { ok: false; failure: PathFailure };

/** Longest chain we follow (leaf + intermediates); real PKIs use 2–4. */
export const MAX_PATH_LENGTH = 8;

const ANY_EKU = '2.5.29.37.0';
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

function isSelfIssued(c: X509Certificate): boolean {
  return c.subjectKey === c.issuerKey;
}

function datesFailure(c: X509Certificate, now: Date, role: string): PathFailure | undefined {
  if (now.getTime() < c.notBefore.getTime()) {
    return { kind: 'not-yet-valid', reason: `the ${role} "${c.subject}" is not valid before ${c.notBefore.toISOString()}`, certificate: c };
  }
  if (now.getTime() > c.notAfter.getTime()) {
    return { kind: 'expired', reason: `the ${role} "${c.subject}" expired on ${c.notAfter.toISOString()}`, certificate: c };
  }
  return undefined;
}

function invalid(c: X509Certificate, reason: string): PathFailure {
  return { kind: 'invalid', reason, certificate: c };
}

/** Checks one issuing edge: `child`'s signature by `issuer`'s key, with an acceptable algorithm. */
async function edgeFailure(child: X509Certificate, issuer: X509Certificate): Promise<PathFailure | undefined> {
  const alg = child.signatureAlgorithm;
  if (!alg) return invalid(child, `"${child.subject}" is signed with an unsupported algorithm (${child.signatureOid})`);
  if ('hash' in alg && alg.hash === 'SHA-1') {
    return invalid(child, `"${child.subject}" is signed with SHA-1, which is no longer secure; the server needs a certificate signed with SHA-256 or better`);
  }
  if (!child.signatureFieldsMatch) return invalid(child, `"${child.subject}" names two different signature algorithms`);
  if (!(await verifySignature(issuer, alg, child.tbsDer, child.signature))) {
    return invalid(child, `the signature on "${child.subject}" does not verify with the key of "${issuer.subject}"`);
  }
  return undefined;
}

/** RFC 5280 §6.1 checks on a complete path `[leaf, …intermediates]` ending at `anchor`. */
export function validatePath(path: readonly X509Certificate[], anchor: X509Certificate, now: Date): PathFailure | undefined {
  const leaf = path[0];
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    const role = i === 0 ? 'server certificate' : 'intermediate certificate';
    const d = datesFailure(c, now, role);
    if (d) return d;
  }
  const ad = datesFailure(anchor, now, 'trusted CA certificate');
  if (ad) return ad;

  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c.unhandledCritical.length) return invalid(c, `"${c.subject}" has a critical extension wgweb does not understand (${c.unhandledCritical.join(', ')})`);
  }

  // CAs: the intermediates, then the anchor (its constraints bind the path too, as in OpenSSL and webpki).
  const cas = [...path.slice(1), anchor];
  for (let i = 0; i < cas.length; i++) {
    const ca = cas[i];
    const isAnchor = i === cas.length - 1;
    const bc = ca.basicConstraints;
    // An X.509 v1 anchor (no extensions at all) is accepted as a CA, as OpenSSL does for old roots.
    const v1Anchor = isAnchor && ca.version < 3;
    if (!v1Anchor && !bc?.cA) return invalid(ca, `"${ca.subject}" issued a certificate but is not a CA (basicConstraints CA:FALSE or missing)`);
    if (ca.keyUsage && !ca.keyUsage.has('keyCertSign')) return invalid(ca, `"${ca.subject}" is not allowed to sign certificates (keyUsage lacks keyCertSign)`);
    if (!isAnchor && ca.extKeyUsage && !ca.extKeyUsage.includes(SERVER_AUTH) && !ca.extKeyUsage.includes(ANY_EKU)) {
      return invalid(ca, `the intermediate "${ca.subject}" is restricted to other purposes than TLS servers (extendedKeyUsage)`);
    }
    if (bc?.pathLen !== undefined) {
      // Intermediates below this CA, not counting self-issued ones (RFC 5280 §6.1.4 l).
      const below = path.slice(1, i + 1).filter((x) => !isSelfIssued(x)).length;
      if (below > bc.pathLen) return invalid(ca, `"${ca.subject}" allows at most ${bc.pathLen} intermediate CA(s) below it (pathLen), this chain has ${below}`);
    }
    if (ca.nameConstraints) {
      // Applies to every certificate below this CA: the leaf always, intermediates unless self-issued.
      const subjects = path.slice(0, i + 1).filter((x, k) => k === 0 || !isSelfIssued(x));
      for (const s of subjects) {
        const why = checkNameConstraints(s, ca.nameConstraints);
        if (why) return invalid(s, `name constraints of "${ca.subject}": ${why}`);
      }
    }
  }

  if (leaf.extKeyUsage && !leaf.extKeyUsage.includes(SERVER_AUTH) && !leaf.extKeyUsage.includes(ANY_EKU)) {
    return invalid(leaf, `"${leaf.subject}" is not meant for TLS servers (extendedKeyUsage lacks serverAuth)`);
  }
  if (leaf.keyUsage && !leaf.keyUsage.has('digitalSignature') && !leaf.keyUsage.has('keyEncipherment')) {
    return invalid(leaf, `"${leaf.subject}" may not be used for TLS (keyUsage has neither digitalSignature nor keyEncipherment)`);
  }
  return undefined;
}

/**
 * Finds a path from `leaf` through `pool` to one of `anchors` that passes {@link validatePath}.
 * Never throws on certificate content.
 */
export async function buildAndValidatePath(
  leaf: X509Certificate,
  pool: readonly X509Certificate[],
  anchors: readonly X509Certificate[],
  now: Date,
): Promise<PathResult> {
  const anchorHashes = new Set(anchors.map((a) => a.sha256));
  let best: PathFailure | undefined;
  const note = (f: PathFailure) => {
    if (!best || (best.kind === 'untrusted' && f.kind !== 'untrusted')) best = f;
  };

  const search = async (path: X509Certificate[], seen: Set<string>): Promise<PathResult | undefined> => {
    const cur = path[path.length - 1];
    for (const a of anchors) {
      if (a.subjectKey !== cur.issuerKey || a.sha256 === cur.sha256) continue;
      const e = await edgeFailure(cur, a);
      if (e) {
        note(e);
        continue;
      }
      const f = validatePath(path, a, now);
      if (!f) return { ok: true, path, anchor: a };
      note(f);
    }
    if (path.length >= MAX_PATH_LENGTH) return undefined;
    for (const c of pool) {
      if (c.subjectKey !== cur.issuerKey || seen.has(c.sha256) || anchorHashes.has(c.sha256)) continue;
      const e = await edgeFailure(cur, c);
      if (e) {
        note(e);
        continue;
      }
      const r = await search([...path, c], new Set([...seen, c.sha256]));
      if (r) return r;
    }
    return undefined;
  };

  const found = await search([leaf], new Set([leaf.sha256]));
  if (found) return found;
  if (best && best.kind !== 'untrusted') return { ok: false, failure: best };
  // Nothing led to an anchor: describe where the chain stops.
  let top = leaf;
  for (const c of pool) if (c.subjectKey === top.issuerKey && c.sha256 !== top.sha256) top = c;
  return {
    ok: false,
    failure: {
      kind: 'untrusted',
      reason: isSelfIssued(top)
        ? `the chain ends at "${top.subject}", which is not among your trusted certificates`
        : `the chain ends at "${top.subject}", issued by "${top.issuer}", which is not among your trusted certificates`,
      certificate: leaf,
    },
  };
}
