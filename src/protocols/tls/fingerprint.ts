/**
 * How certificate fingerprints are shown: SHA-256 as `AB:CD:…`, the form browsers and
 * `openssl x509 -fingerprint -sha256` print, so a user can compare them character by character.
 * A file of its own so the UI can format fingerprints without loading the X.509 decoder.
 */

/** `AB:CD:…` upper-case colon form of a hex fingerprint. */
export function formatFingerprint(hex: string): string {
  return (hex.toUpperCase().match(/../g) ?? []).join(':');
}
