/**
 * Receive-buffer auto-tuning (the idea of Linux's tcp_rcv_space_adjust and the "dynamic right
 * sizing" of Fisk & Feng): once per round trip, if the peer delivered more than half the buffer,
 * let the buffer (and so the advertised window, RFC 9293 §3.8.6) grow to twice what arrived, up
 * to the configured maximum. The round trip is the receiver's own estimate from the timestamps
 * echoed on arriving data (RFC 7323 §4), since a pure download sends no data of its own to time.
 */
import type { ReceiveBuffer } from './tcp-receive-buffer.ts';

/** Per-connection state of the receive-window auto-tuning. */
export class ReceiveAutoTuner {
  /** When the current measurement round started. */
  private spaceTime = 0;
  /** ReceiveBuffer.contiguousEnd when it started. */
  private spaceStart = 0;
  /** Receiver-side RTT estimate from the TSecr of arriving data (ms), like Linux's rcv_rtt. */
  private rcvRtt: number | undefined = undefined;

  constructor(private readonly maxReceiveBufferSize: number) {}

  /** Starts the first measurement round (when the connection is established). */
  start(now: number, buffer: ReceiveBuffer): void {
    this.spaceTime = now;
    this.spaceStart = buffer.contiguousEnd;
  }

  /** One receiver-side RTT sample in ms (negative or absurd samples are ignored), smoothed by 1/8. */
  sampleRtt(sample: number): void {
    if (sample >= 0 && sample < 60_000) this.rcvRtt = this.rcvRtt === undefined ? sample : this.rcvRtt + (sample - this.rcvRtt) / 8;
  }

  /** After data arrived: grows `buffer` when the last round trip filled more than half of it. */
  tune(buffer: ReceiveBuffer, now: number, senderSrtt: number | undefined): void {
    const cap = buffer.capacity;
    if (cap >= this.maxReceiveBufferSize) return;
    // One measurement per RTT (at least 1 ms: a timestamp-based sample can round to 0).
    const rtt = Math.max(this.rcvRtt ?? senderSrtt ?? 100, 1);
    if (now - this.spaceTime < rtt) return;
    const delivered = buffer.contiguousEnd - this.spaceStart;
    if (2 * delivered > cap) buffer.growCapacity(Math.min(this.maxReceiveBufferSize, Math.max(2 * cap, 2 * delivered)));
    this.spaceTime = now;
    this.spaceStart = buffer.contiguousEnd;
  }
}
