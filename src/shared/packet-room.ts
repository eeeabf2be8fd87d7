/**
 * Room kept free around every outgoing inner IP packet, so each layer below writes its header and
 * trailer where the packet already lies instead of copying it into a new buffer (#19: on the upload
 * every copy into fresh memory costs a browser worker a microsecond or more per packet).
 *
 *   [ PACKET_HEADROOM ][ IP header ][ TCP header + payload ][ PACKET_TAILROOM ]
 *     WireGuard type,    NetInterface  TcpSocket writes here   padding (≤ 15 bytes, paper §5.4.6)
 *     receiver, counter  writes here   (and checksums)         + Poly1305 tag (16 bytes)
 *
 * The TCP layer reserves the IP header too (`TcpOutput.headroom`); NetInterface builds every packet
 * `poll` returns inside such room; the tunnel, told that the packets are its to overwrite
 * (`TunnelOptions.sealInPlace`), seals them into transport messages in the same bytes. A packet
 * without the room (an IP fragment, a caller's own buffer) is copied as before.
 */

/** Bytes before an outgoing IP packet: a WireGuard transport message header (type, receiver, counter). */
export const PACKET_HEADROOM = 16;

/** Bytes after an outgoing IP packet: WireGuard's zero padding (at most 15) and the 16-byte AEAD tag, rounded to 8. */
export const PACKET_TAILROOM = 32;
