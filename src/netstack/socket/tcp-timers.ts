/**
 * The timers of one TCP connection, as absolute times in the caller's milliseconds (Infinity when
 * off). Sans-IO: nothing fires by itself; TcpSocket.dispatch(now) compares `now` with each and
 * TcpSocketTable.pollAt() asks {@link TcpTimers.next} when to call it again.
 *
 *   rto        retransmission timeout (RFC 6298 §5), also the SYN retry timer
 *   persist    zero-window probe (RFC 9293 §3.8.6.1)
 *   keepalive  idle probe (RFC 1122 §4.2.3.6)
 *   linger     TIME-WAIT end (RFC 9293 §3.10.7.4, 2×MSL) or the FIN-WAIT-2 timeout
 *   connectDeadline  the whole handshake's deadline, checked when the RTO fires
 *
 * The delayed-ACK deadline belongs to the ACK policy (tcp-ack-policy.ts); TcpSocket.pollAt takes
 * the earlier of the two.
 */
export class TcpTimers {
  rto = Infinity;
  persist = Infinity;
  keepalive = Infinity;
  linger = Infinity;
  connectDeadline = Infinity;
  /** Keepalive probes sent since the peer was last heard from. */
  keepaliveProbesSent = 0;

  /** The earliest timer that needs a dispatch (the connect deadline rides on the RTO). */
  next(): number {
    let t = this.rto;
    if (this.persist < t) t = this.persist;
    if (this.keepalive < t) t = this.keepalive;
    if (this.linger < t) t = this.linger;
    return t;
  }
}
