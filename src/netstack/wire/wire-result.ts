/**
 * The result of parsing bytes that came from the network. Network input is never trusted and never
 * throws (brief, "Errors in three tiers"): a parser answers either a value or a short kebab-case
 * reason, which the caller counts as a drop (`NetInterface.stats().drops`).
 */

/** A parsed value, or the reason the bytes were rejected. */
export type WireResult<T, Reason extends string = string> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: Reason };

/** Wraps a successfully parsed value. */
export function wireOk<T>(value: T): { readonly ok: true; readonly value: T } {
  return { ok: true, value };
}

/** A rejection with its reason. */
export function wireError<Reason extends string>(reason: Reason): { readonly ok: false; readonly reason: Reason } {
  return { ok: false, reason };
}
