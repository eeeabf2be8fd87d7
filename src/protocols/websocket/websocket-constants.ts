/**
 * WebSocket client numbers (RFC 6455), in the style of wireguard-go's constants.go. The limits the
 * RFC fixes live with the frame format (websocket-frame.ts: control payloads ≤ 125 bytes, §5.5);
 * what is here are wgweb's own choices, each with its reason.
 */

// ---------------------------------------------------------------------------------------------
// Implementation choices
// ---------------------------------------------------------------------------------------------

/** Default limit on a reassembled incoming message (the RFC sets none; this bounds memory). */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
/** Default size of the fragments a large outgoing message is cut into (§5.4). */
export const DEFAULT_FRAGMENT_SIZE = 64 * 1024;
/** Default wait for the peer's close frame, then for its TCP close (§7.1.1 leaves it open). */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;
/** Limit on the opening handshake's response head. */
export const MAX_HANDSHAKE_HEAD_BYTES = 64 * 1024;
