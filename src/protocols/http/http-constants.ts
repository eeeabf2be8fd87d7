/**
 * HTTP client numbers, in the style of wireguard-go's constants.go: first what the specifications
 * fix, then wgweb's own choices with their reasons.
 */

// ---------------------------------------------------------------------------------------------
// Fixed by specifications
// ---------------------------------------------------------------------------------------------

/** Redirects followed at most (the Fetch standard's limit, "HTTP-redirect fetch" step 5). */
export const MAX_REDIRECTS = 20;

// ---------------------------------------------------------------------------------------------
// Implementation choices
// ---------------------------------------------------------------------------------------------

/** Interim (1xx) responses accepted before the final one; more is a server stuck in a loop. */
export const MAX_INTERIM_RESPONSES = 32;
/** Redirect bodies up to this size are read and dropped so the connection can be reused. */
export const REDIRECT_DRAIN_LIMIT = 64 * 1024;
/** Request bodies up to this size are sent in the same write as the head (one TCP segment burst). */
export const REQUEST_COALESCE_LIMIT = 16 * 1024;
/** Longest chunk-size line (with extensions) accepted (RFC 9112 §7.1 sets no limit). */
export const MAX_CHUNK_LINE_BYTES = 4096;
