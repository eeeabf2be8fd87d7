/**
 * The TCP state machine, state by state (RFC 9293 §3.10), against a scripted peer: each test
 * hand-feeds segments and asserts the exact segments that come back. Unless a test says otherwise
 * the peer offers no options but MSS 1400, so our segments carry no timestamps and no window
 * scaling, and the numbers stay readable: the peer's ISN is 5000, our window is 65535.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ScriptedPeer } from '../../helpers/scripted-tcp-peer.ts';
import type { TcpSocket, TcpSocketOptions } from '../../../src/netstack/socket/tcp-socket.ts';
import type { TcpListener } from '../../../src/netstack/socket/tcp-listener.ts';

const IRS = 5000;

interface Conn {
  h: ScriptedPeer;
  s: TcpSocket;
  /** Our next sequence number (ISS + 1 after the handshake). */
  snd: number;
  /** The peer's next sequence number. */
  rcv: number;
}

/** Active open completed against a peer that offers only MSS 1400. */
function clientEstablished(options?: TcpSocketOptions, peerWindow = 65535): Conn {
  const h = new ScriptedPeer();
  const s = h.connect(options);
  const syn = h.expectOne({ flags: 'SYN' });
  h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, window: peerWindow, mss: 1400 });
  h.expectOne({ flags: 'ACK', seq: syn.seq + 1, ack: IRS + 1, window: Math.min(options?.receiveBufferSize ?? 65535, 65535) });
  assert.deepEqual(h.takeEvents(s), ['connected']);
  return { h, s, snd: syn.seq + 1, rcv: IRS + 1 };
}

/** Passive open completed: listener on port 80, peer port 40000. */
function serverEstablished(backlog?: number): Conn & { l: TcpListener } {
  const h = new ScriptedPeer();
  const l = h.table.listen({ port: 80, backlog });
  h.localPort = 80;
  h.send({ flags: 'SYN', seq: IRS, mss: 1400 });
  const synAck = h.expectOne({ flags: 'SYN,ACK', ack: IRS + 1 });
  h.send({ flags: 'ACK', seq: IRS + 1, ack: synAck.seq + 1 });
  h.expectNone();
  const s = l.accept();
  assert.ok(s, 'accept() returns the connection');
  h.watch(s);
  return { h, s, l, snd: synAck.seq + 1, rcv: IRS + 1 };
}

const bytes = (n: number, fill = 0x41) => new Uint8Array(n).fill(fill);

describe('LISTEN', () => {
  test('a SYN with options gets a SYN-ACK that echoes exactly the options offered', () => {
    const h = new ScriptedPeer();
    h.table.listen({ port: 80 });
    h.localPort = 80;
    h.send({ flags: 'SYN', seq: IRS, mss: 1460, sackPermitted: true, tsVal: 777, windowScale: 9 });
    const sa = h.expectOne({ flags: 'SYN,ACK', ack: IRS + 1, window: 65535 });
    assert.equal(sa.mss, 1380, 'MSS from the 1420-byte tunnel MTU');
    assert.equal(sa.sackPermitted, true);
    assert.equal(sa.tsEcr, 777);
    assert.equal(sa.windowScale, 7, '4 MiB auto-tuning ceiling needs shift 7');
  });

  test('a SYN without options gets a SYN-ACK with only the MSS option', () => {
    const h = new ScriptedPeer();
    h.table.listen({ port: 80 });
    h.localPort = 80;
    h.send({ flags: 'SYN', seq: IRS });
    const sa = h.expectOne({ flags: 'SYN,ACK', ack: IRS + 1 });
    assert.equal(sa.mss, 1380);
    assert.equal(sa.sackPermitted, undefined);
    assert.equal(sa.tsVal, undefined);
    assert.equal(sa.windowScale, undefined);
  });

  test('an ACK to a listening port gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = new ScriptedPeer();
    h.table.listen({ port: 80 });
    h.localPort = 80;
    h.send({ flags: 'ACK', seq: 1, ack: 424242 });
    h.expectOne({ flags: 'RST', seq: 424242 });
  });

  test('a RST, or a segment without SYN, ACK or RST, is dropped silently', () => {
    const h = new ScriptedPeer();
    h.table.listen({ port: 80 });
    h.localPort = 80;
    h.send({ flags: 'RST', seq: 1 });
    h.send({ flags: 'FIN', seq: 1 });
    h.expectNone();
    assert.equal(h.table.stats().drops['tcp-listen-rst'], 1);
    assert.equal(h.table.stats().drops['tcp-listen-no-syn'], 1);
  });

  test('SYNs beyond the backlog are dropped (the peer retransmits later)', () => {
    const h = new ScriptedPeer();
    h.table.listen({ port: 80, backlog: 1 });
    h.localPort = 80;
    h.send({ flags: 'SYN', seq: IRS, srcPort: 1111 });
    h.expectOne({ flags: 'SYN,ACK' });
    h.send({ flags: 'SYN', seq: IRS, srcPort: 2222 });
    h.expectNone();
    assert.equal(h.table.stats().drops['tcp-listen-overflow'], 1);
  });

  test('a completed handshake raises `connection` and accept() returns an ESTABLISHED socket', () => {
    const h = new ScriptedPeer();
    const l = h.table.listen({ port: 80 });
    let connections = 0;
    l.onEvent = () => connections++;
    h.localPort = 80;
    h.send({ flags: 'SYN', seq: IRS });
    const sa = h.expectOne({ flags: 'SYN,ACK' });
    assert.equal(l.accept(), undefined, 'nothing to accept before the final ACK');
    h.send({ flags: 'ACK', seq: IRS + 1, ack: sa.seq + 1 });
    assert.equal(connections, 1);
    const s = l.accept()!;
    assert.equal(s.state, 'ESTABLISHED');
    assert.equal(s.remotePort, 40000);
    assert.equal(s.localPort, 80);
  });

  test('listening twice on the same port is refused; after close() SYNs are reset', () => {
    const h = new ScriptedPeer();
    const l = h.table.listen({ port: 80 });
    assert.throws(() => h.table.listen({ port: 80 }), /already has a listener/);
    l.close();
    h.localPort = 80;
    h.send({ flags: 'SYN', seq: IRS });
    h.expectOne({ flags: 'RST,ACK', seq: 0, ack: IRS + 1 });
  });
});

describe('CLOSED (no socket, no listener)', () => {
  test('a SYN gets <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>', () => {
    const h = new ScriptedPeer();
    h.localPort = 9;
    h.send({ flags: 'SYN', seq: 100 });
    h.expectOne({ flags: 'RST,ACK', seq: 0, ack: 101 });
  });

  test('a data segment with ACK gets <SEQ=SEG.ACK><CTL=RST>; a RST gets nothing', () => {
    const h = new ScriptedPeer();
    h.localPort = 9;
    h.send({ flags: 'ACK,PSH', seq: 100, ack: 999, payload: 10 });
    h.expectOne({ flags: 'RST', seq: 999 });
    h.send({ flags: 'RST', seq: 100 });
    h.expectNone();
  });
});

describe('SYN-SENT', () => {
  test('connect() sends a SYN with MSS 1380, SACK-permitted, timestamps and window scale 7', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    assert.equal(s.state, 'SYN-SENT');
    assert.ok(s.localPort >= 49152 && s.localPort <= 65535, 'ephemeral port');
    const syn = h.expectOne({ flags: 'SYN', window: 65535, ack: 0 });
    assert.equal(syn.mss, 1380);
    assert.equal(syn.sackPermitted, true);
    assert.notEqual(syn.tsVal, undefined);
    assert.equal(syn.tsEcr, 0);
    assert.equal(syn.windowScale, 7);
  });

  test('over IPv6 the MSS is 1360', () => {
    const h = new ScriptedPeer({ v6: true });
    h.connect();
    assert.equal(h.expectOne({ flags: 'SYN' }).mss, 1360);
  });

  test('a SYN-ACK completes the handshake: ACK, ESTABLISHED, `connected`', () => {
    const { s } = clientEstablished();
    assert.equal(s.state, 'ESTABLISHED');
    assert.equal(s.stats().mss, 1380);
  });

  test('a SYN-ACK with timestamps and SACK turns both on; data segments then carry TS (MSS 1368)', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, mss: 1460, sackPermitted: true, tsVal: 1, tsEcr: syn.tsVal, windowScale: 2 });
    const ack = h.expectOne({ flags: 'ACK', ack: IRS + 1 });
    assert.equal(ack.tsEcr, 1);
    assert.equal(ack.window, 65536 >> 7, 'our 64 KiB window is scaled from now on');
    const st = s.stats();
    assert.equal(st.sack, true);
    assert.equal(st.timestamps, true);
    assert.deepEqual(st.windowScale, { send: 2, receive: 7 });
    assert.equal(st.mss, 1368);
    assert.equal(st.sendWindow, 65535, 'the window in a SYN-ACK is never scaled');
  });

  test('RST with an acceptable ACK: connection refused', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'RST,ACK', seq: 0, ack: syn.seq + 1 });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error?.code, 'refused');
    assert.deepEqual(h.takeEvents(s), ['error', 'closed']);
    h.expectNone();
    assert.equal(h.table.pollAt(), Infinity, 'nothing left to do');
  });

  test('RST without ACK, or with an unacceptable ACK, is ignored', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'RST', seq: 0 });
    h.send({ flags: 'RST,ACK', seq: 0, ack: syn.seq + 7 });
    assert.equal(s.state, 'SYN-SENT');
    h.expectNone();
  });

  test('a SYN-ACK acknowledging something we never sent gets <SEQ=SEG.ACK><CTL=RST>', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 100 });
    h.expectOne({ flags: 'RST', seq: syn.seq + 100 });
    assert.equal(s.state, 'SYN-SENT');
  });

  test('the SYN is retransmitted at 1, 3, 7 and 15 s and the attempt times out at 25 s', () => {
    const h = new ScriptedPeer();
    const start = h.now;
    const s = h.connect();
    const first = h.expectOne({ flags: 'SYN' });
    const sentAt: number[] = [];
    for (let i = 0; i < 4; i++) {
      h.advanceToWake();
      h.expectOne({ flags: 'SYN', seq: first.seq });
      sentAt.push(h.now - start);
    }
    assert.deepEqual(sentAt, [1000, 3000, 7000, 15000]);
    h.advanceToWake();
    h.expectNone();
    assert.equal(h.now - start, 25000);
    assert.equal(s.error?.code, 'timeout');
    assert.match(s.error!.message, /5 SYNs/);
  });

  test('an ICMP destination unreachable fails the attempt at once', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    h.expectOne({ flags: 'SYN' });
    h.table.handleIcmpError({ kind: 'unreachable', src: h.local, dst: h.remote, srcPort: s.localPort, dstPort: 5000 }, h.now);
    assert.equal(s.error?.code, 'unreachable');
    assert.deepEqual(h.takeEvents(s), ['error', 'closed']);
  });

  test('close() before the handshake completes drops the attempt without a RST', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    h.expectOne({ flags: 'SYN' });
    s.close();
    h.expectNone();
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error, undefined);
  });
});

describe('simultaneous open (RFC 9293 figure 7)', () => {
  test('SYN crossing our SYN: SYN-RECEIVED, SYN-ACK from our ISS, then ESTABLISHED on the peer SYN-ACK', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN', seq: IRS, mss: 1400 });
    assert.equal(s.state, 'SYN-RECEIVED');
    h.expectOne({ flags: 'SYN,ACK', seq: syn.seq, ack: IRS + 1 });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, mss: 1400 });
    assert.equal(s.state, 'ESTABLISHED');
    h.expectOne({ flags: 'ACK', seq: syn.seq + 1, ack: IRS + 1 });
    assert.deepEqual(h.takeEvents(s), ['connected']);
  });

  test('or on a plain ACK of our SYN', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN', seq: IRS });
    h.expectOne({ flags: 'SYN,ACK' });
    h.send({ flags: 'ACK', seq: IRS + 1, ack: syn.seq + 1 });
    assert.equal(s.state, 'ESTABLISHED');
  });
});

describe('SYN-RECEIVED', () => {
  function halfOpen() {
    const h = new ScriptedPeer();
    const l = h.table.listen({ port: 80 });
    h.localPort = 80;
    h.send({ flags: 'SYN', seq: IRS });
    const sa = h.expectOne({ flags: 'SYN,ACK', ack: IRS + 1 });
    return { h, l, iss: sa.seq };
  }

  test('a retransmitted SYN is answered with the same SYN-ACK', () => {
    const { h, iss } = halfOpen();
    h.send({ flags: 'SYN', seq: IRS });
    h.expectOne({ flags: 'SYN,ACK', seq: iss, ack: IRS + 1 });
  });

  test('the SYN-ACK is retransmitted on the timer (1 s, then 2 s)', () => {
    const { h, iss } = halfOpen();
    const t0 = h.now;
    h.advanceToWake();
    h.expectOne({ flags: 'SYN,ACK', seq: iss });
    assert.equal(h.now - t0, 1000);
    h.advanceToWake();
    h.expectOne({ flags: 'SYN,ACK', seq: iss });
    assert.equal(h.now - t0, 3000);
  });

  test('an ACK for the wrong sequence number gets a RST and the half-open connection stays', () => {
    const { h, l, iss } = halfOpen();
    h.send({ flags: 'ACK', seq: IRS + 1, ack: iss + 50 });
    h.expectOne({ flags: 'RST', seq: iss + 50 });
    h.send({ flags: 'ACK', seq: IRS + 1, ack: iss + 1 });
    assert.ok(l.accept());
  });

  test('a RST returns to LISTEN: the half-open connection is forgotten, nothing to accept', () => {
    const { h, l } = halfOpen();
    h.send({ flags: 'RST', seq: IRS + 1 });
    h.expectNone();
    assert.equal(l.accept(), undefined);
    assert.equal(h.table.stats().sockets, 0);
    h.send({ flags: 'SYN', seq: IRS + 10 });
    h.expectOne({ flags: 'SYN,ACK', ack: IRS + 11 });
  });

  test('data and FIN on the handshake-completing ACK are kept: CLOSE-WAIT with the bytes readable', () => {
    const { h, l, iss } = halfOpen();
    h.send({ flags: 'ACK,PSH,FIN', seq: IRS + 1, ack: iss + 1, payload: Uint8Array.of(1, 2, 3) });
    h.expectOne({ flags: 'ACK', ack: IRS + 5 });
    const s = l.accept()!;
    assert.equal(s.state, 'CLOSE-WAIT');
    assert.deepEqual([...s.recv()!], [1, 2, 3]);
    assert.equal(s.readEnded, true);
  });
});

describe('ESTABLISHED: receiving', () => {
  test('in-order data is readable, raises `readable`, and is acknowledged at once during quick-ACK', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'ACK,PSH', seq: rcv, ack: snd, payload: Uint8Array.of(10, 20, 30) });
    h.expectOne({ flags: 'ACK', seq: snd, ack: rcv + 3, window: 65535 - 3 });
    assert.deepEqual(h.takeEvents(s), ['readable']);
    assert.equal(s.recvAvailable, 3);
    assert.deepEqual([...s.recv(2)!], [10, 20]);
    assert.deepEqual([...s.recv()!], [30]);
    assert.equal(s.recv(), undefined);
  });

  test('after quick-ACK, one segment waits 40 ms for its ACK and every second full segment is ACKed at once', () => {
    const { h, s, snd } = clientEstablished();
    let rcv = IRS + 1;
    for (let i = 0; i < 16; i++) {
      h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 1380 });
      rcv += 1380;
      h.expectOne({ flags: 'ACK', ack: rcv });
      s.recv();
    }
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 1380 });
    rcv += 1380;
    h.expectNone();
    assert.equal(h.table.pollAt(), h.now + 40);
    h.advance(40);
    h.expectOne({ flags: 'ACK', ack: rcv });
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 1380 });
    rcv += 1380;
    h.expectNone();
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 1380 });
    rcv += 1380;
    h.expectOne({ flags: 'ACK', ack: rcv });
  });

  test('an out-of-order segment is ACKed at once (duplicate ACK); the filling segment ACKs everything', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'ACK', seq: rcv + 100, ack: snd, payload: 50 });
    h.expectOne({ flags: 'ACK', ack: rcv, window: 65535 });
    assert.deepEqual(h.takeEvents(s), []);
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 100 });
    h.expectOne({ flags: 'ACK', ack: rcv + 150 });
    assert.equal(s.recvAvailable, 150);
  });

  test('with SACK, out-of-order islands are reported most recent first (RFC 2018 §4)', () => {
    const h = new ScriptedPeer();
    h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, mss: 1400, sackPermitted: true });
    h.expectOne({ flags: 'ACK' });
    const snd = syn.seq + 1;
    const rcv = IRS + 1;
    h.send({ flags: 'ACK', seq: rcv + 100, ack: snd, payload: 100 });
    h.expectOne({ flags: 'ACK', ack: rcv, sackBlocks: [rcv + 100, rcv + 200] });
    h.send({ flags: 'ACK', seq: rcv + 300, ack: snd, payload: 100 });
    h.expectOne({ flags: 'ACK', ack: rcv, sackBlocks: [rcv + 300, rcv + 400, rcv + 100, rcv + 200] });
    h.send({ flags: 'ACK', seq: rcv + 200, ack: snd, payload: 100 });
    h.expectOne({ flags: 'ACK', ack: rcv, sackBlocks: [rcv + 100, rcv + 400] });
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 100 });
    h.expectOne({ flags: 'ACK', ack: rcv + 400, sackBlocks: undefined });
  });

  test('a duplicate of received data is ACKed at once and not delivered twice', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: Uint8Array.of(1, 2, 3, 4) });
    h.expectOne({ flags: 'ACK', ack: rcv + 4 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: Uint8Array.of(1, 2, 3, 4) });
    h.expectOne({ flags: 'ACK', ack: rcv + 4 });
    h.send({ flags: 'ACK', seq: rcv + 2, ack: snd, payload: Uint8Array.of(3, 4, 5, 6) });
    h.expectOne({ flags: 'ACK', ack: rcv + 6 });
    assert.deepEqual([...s.recv()!], [1, 2, 3, 4, 5, 6]);
  });

  test('data beyond the advertised window is cut at the right edge', () => {
    const { h, s, snd, rcv } = clientEstablished({ receiveBufferSize: 1000, maxReceiveBufferSize: 1000 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 1200 });
    h.expectOne({ flags: 'ACK', ack: rcv + 1000, window: 0 });
    assert.equal(s.recvAvailable, 1000);
  });

  test('a segment entirely outside the window gets an ACK and is dropped', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'ACK', seq: rcv + 70000, ack: snd, payload: 10 });
    h.expectOne({ flags: 'ACK', ack: rcv });
    h.send({ flags: 'ACK', seq: rcv - 20, ack: snd, payload: 10 });
    h.expectOne({ flags: 'ACK', ack: rcv });
    assert.equal(s.recvAvailable, 0);
  });

  test('a full receive buffer advertises a zero window; a probe is answered; reading opens it with an update', () => {
    const { h, s, snd, rcv } = clientEstablished({ receiveBufferSize: 4000, maxReceiveBufferSize: 4000 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd, payload: 1380 });
    h.expectOne({ flags: 'ACK', ack: rcv + 1380, window: 2620 });
    h.send({ flags: 'ACK', seq: rcv + 1380, ack: snd, payload: 1380 });
    h.expectOne({ flags: 'ACK', ack: rcv + 2760, window: 1240 });
    h.send({ flags: 'ACK', seq: rcv + 2760, ack: snd, payload: 1240 });
    h.expectOne({ flags: 'ACK', ack: rcv + 4000, window: 0 });
    // Linux-style zero-window probe (old sequence number) and a one-byte probe at RCV.NXT.
    h.send({ flags: 'ACK', seq: rcv + 3999, ack: snd });
    h.expectOne({ flags: 'ACK', ack: rcv + 4000, window: 0 });
    h.send({ flags: 'ACK', seq: rcv + 4000, ack: snd, payload: 1 });
    h.expectOne({ flags: 'ACK', ack: rcv + 4000, window: 0 });
    assert.equal(s.recv(100)!.length, 100);
    h.expectNone(); // 100 bytes is below the receiver SWS threshold (RFC 9293 §3.8.6.2.2)
    assert.equal(s.recv(2000)!.length, 2000);
    h.expectOne({ flags: 'ACK', ack: rcv + 4000, window: 2100 });
  });

  test('an old timestamp is rejected by PAWS with an ACK (RFC 7323 §5)', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, tsVal: 1000, tsEcr: syn.tsVal });
    h.expectOne({ flags: 'ACK' });
    h.send({ flags: 'ACK', seq: IRS + 1, ack: syn.seq + 1, tsVal: 1005, payload: 10 });
    h.expectOne({ flags: 'ACK', ack: IRS + 11 });
    h.send({ flags: 'ACK', seq: IRS + 11, ack: syn.seq + 1, tsVal: 900, payload: 10 });
    const reply = h.expectOne({ flags: 'ACK', ack: IRS + 11 });
    assert.equal(reply.tsEcr, 1005);
    assert.equal(s.recvAvailable, 10);
  });
});

describe('ESTABLISHED: sending', () => {
  test('send() is cut into MSS-sized segments, PSH on the last; ACKs free the buffer', () => {
    const { h, s, snd, rcv } = clientEstablished();
    assert.equal(s.send(bytes(3000)), 3000);
    const segs = h.poll();
    assert.deepEqual(segs.map((x) => [x.seq - snd, x.payload.length, x.flags & 0x08 ? 'PSH' : '']), [
      [0, 1380, ''],
      [1380, 1380, ''],
      [2760, 240, 'PSH'],
    ]);
    assert.equal(s.sendQueued, 3000);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 3000 });
    assert.equal(s.sendQueued, 0);
    h.expectNone();
  });

  test('the send buffer bounds send(): it returns what was taken and `writable` follows when ACKs free space', () => {
    const { h, s, snd, rcv } = clientEstablished({ sendBufferSize: 4000 });
    assert.equal(s.send(bytes(10000)), 4000);
    assert.equal(s.sendCapacity, 0);
    assert.equal(s.canSend, false);
    h.poll();
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 2760 });
    assert.deepEqual(h.takeEvents(s), ['writable']);
    assert.equal(s.sendCapacity, 2760);
  });

  test('stats().sendLimitedMs says what held the sender back between polls: the congestion window, then the application', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(20 * 1380));
    assert.equal(h.poll().length, 10, 'the initial window; 10 segments wait for it');
    h.advance(30);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 10 * 1380 });
    assert.equal(h.poll().length, 10, 'the window grew (slow start): the rest leaves');
    h.advance(20);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 20 * 1380 });
    h.expectNone();
    h.advance(500); // idle: nothing written, nothing in flight
    s.send(bytes(100));
    h.expectOne({ len: 100 });
    assert.deepEqual(s.stats().sendLimitedMs, { cwnd: 30, rwnd: 0, app: 20 });
    assert.equal(s.stats().maxCwnd, 14 * 1380, 'RFC 3465 (L = 2): 10 segments, plus 2 per stretch ACK');
  });

  test("stats().sendLimitedMs counts the time the peer's window held unsent data back", () => {
    const { h, s, snd, rcv } = clientEstablished(undefined, 2760);
    s.send(bytes(4 * 1380));
    assert.equal(h.poll().length, 2);
    h.advance(40);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 2760, window: 2760 });
    assert.equal(h.poll().length, 2);
    assert.deepEqual(s.stats().sendLimitedMs, { cwnd: 0, rwnd: 40, app: 0 });
    assert.equal(s.stats().maxSendWindow, 2760);
  });

  test('the initial congestion window is 10 segments', () => {
    const { h, s } = clientEstablished();
    s.send(bytes(20 * 1380));
    assert.equal(h.poll().length, 10);
  });

  test('Nagle, when enabled, holds a small segment while data is unacknowledged', () => {
    const { h, s, snd, rcv } = clientEstablished({ noDelay: false });
    s.send(bytes(10));
    h.expectOne({ len: 10 });
    s.send(bytes(10));
    h.expectNone();
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 10 });
    h.expectOne({ seq: snd + 10, len: 10 });
  });

  test('setNoDelay(false) turns Nagle on', () => {
    const { h, s } = clientEstablished();
    s.setNoDelay(false);
    s.send(bytes(10));
    h.expectOne({ len: 10 });
    s.send(bytes(10));
    h.poll();
    assert.equal(s.sendQueued, 20);
    assert.equal(s.stats().bytesSent, 10, 'the second small write waits for the ACK');
  });

  test('without Nagle (the default) small writes go out at once', () => {
    const { h, s } = clientEstablished();
    s.send(bytes(10));
    h.expectOne({ len: 10 });
    s.send(bytes(10));
    h.expectOne({ len: 10 });
  });

  test('an ACK for data never sent is answered with an ACK and ignored', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(10));
    h.poll();
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 500 });
    h.expectOne({ flags: 'ACK', seq: snd + 10, ack: rcv });
    assert.equal(s.sendQueued, 10);
  });

  test('a zero window is probed with backoff (persist timer) until it opens; then data flows', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(100));
    h.expectOne({ len: 100 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 100, window: 0 });
    s.send(bytes(100));
    h.expectNone();
    const t0 = h.now;
    const probes: number[] = [];
    for (let i = 0; i < 3; i++) {
      h.advanceToWake();
      h.expectOne({ flags: 'ACK', seq: snd + 99, ack: rcv, len: 0 });
      probes.push(h.now - t0);
      h.send({ flags: 'ACK', seq: rcv, ack: snd + 100, window: 0 });
      h.expectNone();
    }
    assert.deepEqual(probes, [300, 900, 2100], 'RTO-based with exponential backoff');
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 100, window: 1000 });
    h.expectOne({ seq: snd + 100, len: 100 });
    assert.equal(s.state, 'ESTABLISHED');
  });

  test('a window that closes with data still unacknowledged is probed, and the data is resent once it opens', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(3000));
    assert.equal(h.poll().length, 3);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380, window: 0 });
    h.expectNone();
    h.advanceToWake();
    h.expectOne({ flags: 'ACK', seq: snd + 1379, len: 0 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380, window: 0 });
    h.expectNone();
    h.advanceToWake();
    h.expectOne({ flags: 'ACK', seq: snd + 1379, len: 0 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380, window: 8000 });
    h.expectNone();
    h.advanceToWake();
    const again = h.poll();
    assert.deepEqual(again.map((x) => [x.seq - snd, x.payload.length]), [[1380, 1380]], 'go-back-N from SND.UNA, one segment (cwnd after a timeout)');
    assert.equal(s.state, 'ESTABLISHED');
  });

  test('a window shrunk below what is in flight: the retransmission uses what the window offers', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(3000));
    h.poll();
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380, window: 500 });
    h.expectNone();
    h.advanceToWake();
    h.expectOne({ seq: snd + 1380, len: 500 });
  });

  test('a small usable window is not filled with a tiny segment (sender SWS avoidance)', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(1380));
    h.expectOne({ len: 1380 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380, window: 65535 });
    s.send(bytes(5000));
    h.poll();
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 6380, window: 100 });
    s.send(bytes(5000));
    h.expectNone();
  });
});

describe('ESTABLISHED: resets and SYNs (RFC 5961)', () => {
  test('a RST at exactly RCV.NXT resets the connection', () => {
    const { h, s, rcv } = clientEstablished();
    h.send({ flags: 'RST', seq: rcv });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error?.code, 'reset');
    assert.deepEqual(h.takeEvents(s), ['error', 'closed']);
    assert.equal(s.send(bytes(1)), 0);
    h.expectNone();
  });

  test('a RST inside the window but not at RCV.NXT gets a challenge ACK and changes nothing', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'RST', seq: rcv + 1000 });
    h.expectOne({ flags: 'ACK', seq: snd, ack: rcv });
    assert.equal(s.state, 'ESTABLISHED');
  });

  test('a RST outside the window is dropped silently', () => {
    const { h, s, rcv } = clientEstablished();
    h.send({ flags: 'RST', seq: rcv + 100000 });
    h.send({ flags: 'RST', seq: rcv - 10 });
    h.expectNone();
    assert.equal(s.state, 'ESTABLISHED');
  });

  test('a SYN gets a challenge ACK whatever its sequence number', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'SYN', seq: rcv + 10 });
    h.expectOne({ flags: 'ACK', seq: snd, ack: rcv });
    h.send({ flags: 'SYN', seq: 1 });
    h.expectOne({ flags: 'ACK', seq: snd, ack: rcv });
    assert.equal(s.state, 'ESTABLISHED');
  });

  test('a retransmitted SYN-ACK (our ACK was lost) is answered with an ACK', () => {
    const { h, s, snd, rcv } = clientEstablished();
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: snd });
    h.expectOne({ flags: 'ACK', seq: snd, ack: rcv });
    assert.equal(s.state, 'ESTABLISHED');
  });

  test('challenge ACKs are rate limited to 10 per second', () => {
    const { h, rcv } = clientEstablished();
    let acks = 0;
    for (let i = 0; i < 30; i++) {
      h.send({ flags: 'RST', seq: rcv + 10 + i });
      acks += h.poll().length;
    }
    assert.equal(acks, 10);
  });

  test('abort() sends <SEQ=SND.NXT><CTL=RST> and closes without an error', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(10));
    h.poll();
    s.abort();
    h.expectOne({ flags: 'RST,ACK', seq: snd + 10, ack: rcv });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error, undefined);
    assert.deepEqual(h.takeEvents(s), ['closed']);
  });
});

describe('retransmission timer (RFC 6298)', () => {
  function rtt200(): Conn {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.advance(200);
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, mss: 1400 });
    h.expectOne({ flags: 'ACK' });
    return { h, s, snd: syn.seq + 1, rcv: IRS + 1 };
  }

  test('a lost segment is retransmitted at RTO = SRTT + 4·RTTVAR (600 ms here), doubling up to 60 s, then the connection times out', () => {
    const { h, s, snd } = rtt200();
    assert.equal(s.stats().rtoMs, 600);
    s.send(bytes(100));
    h.expectOne({ seq: snd, len: 100 });
    const t0 = h.now;
    const at: number[] = [];
    for (let i = 0; i < 10; i++) {
      h.advanceToWake();
      h.expectOne({ seq: snd, len: 100 });
      at.push(h.now - t0);
    }
    assert.deepEqual(at, [600, 1800, 4200, 9000, 18600, 37800, 76200, 136200, 196200, 256200]);
    h.advanceToWake();
    h.expectNone();
    assert.equal(h.now - t0, 316200);
    assert.equal(s.error?.code, 'timeout');
    assert.match(s.error!.message, /10 retransmissions/);
  });

  test('an ACK after a timeout restarts the timer at the backed-off value until a fresh RTT sample (Karn)', () => {
    const { h, s, snd, rcv } = rtt200();
    s.send(bytes(100));
    h.poll();
    h.advanceToWake();
    h.expectOne({ seq: snd, len: 100 });
    s.send(bytes(100));
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 100 });
    h.expectOne({ seq: snd + 100, len: 100 });
    assert.equal(h.table.pollAt() - h.now, 1200, 'backed-off RTO kept: the ACK of a retransmission gives no sample');
    h.advance(50);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 200 });
    // SRTT 200 → 181.25, RTTVAR 100 → 112.5: RTO 631.25 ms, and the backoff is gone.
    assert.equal(s.stats().rtoMs, 631.25, 'a fresh 50 ms sample updates SRTT/RTTVAR and clears the backoff');
  });

  test('a timed-out connection reports "unreachable" when an ICMP unreachable arrived meanwhile', () => {
    const { h, s, snd } = rtt200();
    s.send(bytes(10));
    h.poll();
    h.table.handleIcmpError({ kind: 'unreachable', src: h.local, dst: h.remote, srcPort: s.localPort, dstPort: 5000 }, h.now);
    assert.equal(s.state, 'ESTABLISHED', 'soft error while synchronized (RFC 1122 §4.2.3.9)');
    for (let i = 0; i < 11; i++) {
      h.advanceToWake();
      h.poll();
    }
    assert.equal(s.error?.code, 'unreachable');
    void snd;
  });
});

describe('fast retransmit', () => {
  test('three duplicate ACKs retransmit the first unacknowledged segment before the RTO (NewReno)', () => {
    const { h, s, snd, rcv } = clientEstablished({ congestionControl: 'newreno' });
    s.send(bytes(5 * 1380));
    assert.equal(h.poll().length, 5);
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380 });
    for (let i = 0; i < 2; i++) {
      h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380 });
      h.expectNone();
    }
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1380 });
    h.expectOne({ seq: snd + 1380, len: 1380 });
    assert.equal(s.stats().fastRecoveries, 1);
    // Partial ACK (RFC 6582): the next hole goes at once.
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 2760 });
    h.expectOne({ seq: snd + 2760, len: 1380 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 5 * 1380 });
    assert.equal(s.sendQueued, 0);
  });

  test('with SACK, the holes the peer reports are retransmitted and SACKed data is not', () => {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, mss: 1000, sackPermitted: true });
    h.expectOne({ flags: 'ACK' });
    const snd = syn.seq + 1;
    const rcv = IRS + 1;
    s.send(bytes(8000));
    assert.equal(h.poll().length, 8);
    // Segments 1 and 4 (0-based) were lost.
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1000 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1000, sackBlocks: [snd + 2000, snd + 4000] });
    h.expectNone();
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1000, sackBlocks: [snd + 5000, snd + 6000, snd + 2000, snd + 4000] });
    const r = h.poll();
    assert.deepEqual(r.map((x) => [x.seq - snd, x.payload.length]), [[1000, 1000]], 'first hole (3 SACKed segments above it)');
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1000, sackBlocks: [snd + 5000, snd + 8000, snd + 2000, snd + 4000] });
    const r2 = h.poll();
    assert.deepEqual(r2.map((x) => [x.seq - snd, x.payload.length]), [[4000, 1000]], 'second hole; nothing SACKed is resent');
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 8000 });
    assert.equal(s.sendQueued, 0);
    assert.equal(s.stats().retransmittedSegments, 2);
  });
});

describe('path MTU (ICMP packet too big)', () => {
  test('a smaller MTU lowers the MSS and what was in flight is resent in smaller segments', () => {
    const { h, s, snd } = clientEstablished();
    s.send(bytes(2760));
    assert.equal(h.poll().length, 2);
    h.table.handleIcmpError({ kind: 'packet-too-big', mtu: 1280, src: h.local, dst: h.remote, srcPort: s.localPort, dstPort: 5000 }, h.now);
    const segs = h.poll();
    assert.deepEqual(segs.map((x) => [x.seq - snd, x.payload.length]), [
      [0, 1240],
      [1240, 1240],
      [2480, 280],
    ]);
    assert.equal(s.stats().mss, 1240);
  });

  test('an MTU below the IPv4 minimum is clamped to MSS 536; a larger MTU than ours is ignored', () => {
    const { h, s } = clientEstablished();
    h.table.handleIcmpError({ kind: 'packet-too-big', mtu: 1500, src: h.local, dst: h.remote, srcPort: s.localPort, dstPort: 5000 }, h.now);
    assert.equal(s.stats().mss, 1380);
    h.table.handleIcmpError({ kind: 'packet-too-big', mtu: 100, src: h.local, dst: h.remote, srcPort: s.localPort, dstPort: 5000 }, h.now);
    assert.equal(s.stats().mss, 536);
  });
});

describe('closing: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT (we close first)', () => {
  test('close() sends FIN after queued data; its ACK leads to FIN-WAIT-2; the peer FIN to TIME-WAIT', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.send(bytes(10));
    s.close();
    assert.equal(s.state, 'FIN-WAIT-1');
    h.expectOne({ flags: 'ACK,PSH,FIN', seq: snd, len: 10 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 11 });
    assert.equal(s.state, 'FIN-WAIT-2');
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 11 });
    assert.equal(s.state, 'TIME-WAIT');
    h.expectOne({ flags: 'ACK', seq: snd + 11, ack: rcv + 1 });
    assert.deepEqual(h.takeEvents(s), ['closed']);
  });

  test('a FIN that also ACKs ours goes straight from FIN-WAIT-1 to TIME-WAIT', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.expectOne({ flags: 'ACK,FIN', seq: snd, len: 0 });
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 1 });
    assert.equal(s.state, 'TIME-WAIT');
    h.expectOne({ flags: 'ACK', seq: snd + 1, ack: rcv + 1 });
  });

  test('an unacknowledged FIN is retransmitted on the timer', () => {
    const { h, s, snd } = clientEstablished();
    s.close();
    h.expectOne({ flags: 'ACK,FIN', seq: snd });
    h.advanceToWake();
    h.expectOne({ flags: 'ACK,FIN', seq: snd });
  });

  test('FIN-WAIT-2 still receives data after shutdownWrite() (half-close)', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.shutdownWrite();
    h.expectOne({ flags: 'ACK,FIN' });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1 });
    assert.equal(s.state, 'FIN-WAIT-2');
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1, payload: Uint8Array.of(7, 8) });
    h.expectOne({ flags: 'ACK', ack: rcv + 2 });
    assert.deepEqual([...s.recv()!], [7, 8]);
    assert.equal(s.send(bytes(5)), 0, 'writing is over');
    assert.equal(h.table.pollAt(), Infinity, 'a half-closed socket waits for the peer as long as it takes');
  });

  test('after close(), FIN-WAIT-2 gives up after 60 s without the peer FIN', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.expectOne({ flags: 'ACK,FIN' });
    h.send({ flags: 'ACK', seq: rcv, ack: snd + 1 });
    h.expectNone();
    const t0 = h.now;
    h.advanceToWake();
    h.poll();
    assert.equal(h.now - t0, 60000);
    assert.equal(s.state, 'CLOSED');
  });

  test('TIME-WAIT re-ACKs a retransmitted FIN, restarts its 5 s timer, then CLOSED', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.poll();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 1 });
    h.expectOne({ flags: 'ACK', ack: rcv + 1 });
    h.advance(3000);
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 1 });
    h.expectOne({ flags: 'ACK', seq: snd + 1, ack: rcv + 1 });
    const t = h.now;
    h.advanceToWake();
    h.expectNone();
    assert.equal(h.now - t, 5000);
    assert.equal(s.state, 'CLOSED');
    assert.equal(h.table.stats().sockets, 0);
  });

  test('a 4-tuple in TIME-WAIT is not reused by connect()', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.poll();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 1 });
    h.poll();
    assert.equal(s.state, 'TIME-WAIT');
    assert.throws(
      () => h.table.connect({ localAddress: h.local, remoteAddress: h.remote, remotePort: 5000, localPort: s.localPort }, h.now),
      /TIME-WAIT/,
    );
  });

  test('a RST in TIME-WAIT closes it (RFC 9293) without an error', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.poll();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 1 });
    h.poll();
    h.send({ flags: 'RST', seq: rcv + 1 });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error, undefined);
  });

  test('a new SYN with a higher sequence number reopens a TIME-WAIT 4-tuple on a listener (RFC 6191)', () => {
    const { h, s, l, snd, rcv } = serverEstablished();
    s.close();
    h.expectOne({ flags: 'ACK,FIN' });
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd + 1 });
    h.poll();
    assert.equal(s.state, 'TIME-WAIT');
    h.send({ flags: 'SYN', seq: rcv + 100000 });
    h.expectOne({ flags: 'SYN,ACK', ack: rcv + 100001 });
    assert.equal(s.state, 'CLOSED');
    void l;
  });
});

describe('simultaneous close: CLOSING', () => {
  test('FIN crossing our FIN: CLOSING, then TIME-WAIT when ours is ACKed', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.expectOne({ flags: 'ACK,FIN', seq: snd });
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd });
    assert.equal(s.state, 'CLOSING');
    h.expectOne({ flags: 'ACK', ack: rcv + 1 });
    h.send({ flags: 'ACK', seq: rcv + 1, ack: snd + 1 });
    assert.equal(s.state, 'TIME-WAIT');
  });

  test('a RST in CLOSING closes without an error', () => {
    const { h, s, snd, rcv } = clientEstablished();
    s.close();
    h.poll();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd });
    h.poll();
    h.send({ flags: 'RST', seq: rcv + 1 });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error, undefined);
  });
});

describe('closing: CLOSE-WAIT and LAST-ACK (the peer closes first)', () => {
  test('the peer FIN moves to CLOSE-WAIT: ACKed at once, end of stream after the data', () => {
    const { h, s, snd, rcv } = serverEstablished();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd, payload: Uint8Array.of(9) });
    h.expectOne({ flags: 'ACK', ack: rcv + 2 });
    assert.equal(s.state, 'CLOSE-WAIT');
    assert.deepEqual(h.takeEvents(s), ['readable']);
    assert.equal(s.readEnded, false);
    assert.deepEqual([...s.recv()!], [9]);
    assert.equal(s.readEnded, true);
  });

  test('CLOSE-WAIT can still send; close() sends FIN (LAST-ACK) and its ACK closes', () => {
    const { h, s, snd, rcv } = serverEstablished();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd });
    h.poll();
    assert.equal(s.send(bytes(5)), 5);
    h.expectOne({ seq: snd, len: 5 });
    s.close();
    assert.equal(s.state, 'LAST-ACK');
    h.expectOne({ flags: 'ACK,FIN', seq: snd + 5, ack: rcv + 1 });
    h.send({ flags: 'ACK', seq: rcv + 1, ack: snd + 6 });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error, undefined);
    assert.deepEqual(h.takeEvents(s), ['readable', 'closed']);
    assert.equal(h.table.stats().sockets, 0);
  });

  test('LAST-ACK retransmits the FIN on the timer; a RST closes it without an error', () => {
    const { h, s, snd, rcv } = serverEstablished();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd });
    h.poll();
    s.close();
    h.expectOne({ flags: 'ACK,FIN', seq: snd });
    h.advanceToWake();
    h.expectOne({ flags: 'ACK,FIN', seq: snd });
    h.send({ flags: 'RST', seq: rcv + 1 });
    assert.equal(s.state, 'CLOSED');
    assert.equal(s.error, undefined);
  });

  test('a RST in CLOSE-WAIT is a reset', () => {
    const { h, s, snd, rcv } = serverEstablished();
    h.send({ flags: 'ACK,FIN', seq: rcv, ack: snd });
    h.poll();
    h.send({ flags: 'RST', seq: rcv + 1 });
    assert.equal(s.error?.code, 'reset');
  });

  test('a RST in FIN-WAIT-1 and FIN-WAIT-2 is a reset', () => {
    for (const ackFin of [false, true]) {
      const { h, s, snd, rcv } = clientEstablished();
      s.close();
      h.poll();
      if (ackFin) h.send({ flags: 'ACK', seq: rcv, ack: snd + 1 });
      assert.equal(s.state, ackFin ? 'FIN-WAIT-2' : 'FIN-WAIT-1');
      h.send({ flags: 'RST', seq: rcv });
      assert.equal(s.error?.code, 'reset');
    }
  });
});

describe('keepalive (optional)', () => {
  test('probes an idle connection and times out after the configured unanswered probes', () => {
    const { h, s, snd } = clientEstablished({ keepAlive: { idleMs: 1000, intervalMs: 500, probes: 2 } });
    const t0 = h.now;
    h.advanceToWake();
    h.expectOne({ flags: 'ACK', seq: snd - 1, len: 0 });
    assert.equal(h.now - t0, 1000);
    h.advanceToWake();
    h.expectOne({ flags: 'ACK', seq: snd - 1 });
    h.advanceToWake();
    h.poll();
    assert.equal(h.now - t0, 2000);
    assert.equal(s.error?.code, 'timeout');
  });

  test('an answer to a probe resets the idle timer', () => {
    const { h, s, snd, rcv } = clientEstablished({ keepAlive: { idleMs: 1000, intervalMs: 500, probes: 2 } });
    h.advanceToWake();
    h.expectOne({ seq: snd - 1 });
    h.send({ flags: 'ACK', seq: rcv, ack: snd });
    assert.equal(h.table.pollAt() - h.now, 1000);
    assert.equal(s.state, 'ESTABLISHED');
  });
});

describe('port allocation', () => {
  test('ephemeral ports are random in 49152-65535 and a taken explicit port is refused', () => {
    const h = new ScriptedPeer();
    const ports = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const s = h.table.connect({ localAddress: h.local, remoteAddress: h.remote, remotePort: 80 }, h.now);
      assert.ok(s.localPort >= 49152 && s.localPort <= 65535);
      ports.add(s.localPort);
    }
    assert.equal(ports.size, 50, 'no 4-tuple handed out twice');
    const [p] = ports;
    assert.throws(() => h.table.connect({ localAddress: h.local, remoteAddress: h.remote, remotePort: 80, localPort: p }, h.now), RangeError);
  });

  test('bad arguments are TypeErrors/RangeErrors naming the problem', () => {
    const h = new ScriptedPeer();
    assert.throws(() => h.table.connect({ localAddress: h.local, remoteAddress: h.remote, remotePort: 0 }, h.now), /remotePort/);
    assert.throws(() => h.table.connect({ localAddress: new Uint8Array(5), remoteAddress: h.remote, remotePort: 1 }, h.now), TypeError);
    assert.throws(() => h.table.connect({ localAddress: h.local, remoteAddress: new Uint8Array(16), remotePort: 1 }, h.now), /both be IPv4/);
    assert.throws(() => h.table.listen({ port: 70000 }), RangeError);
    assert.throws(() => h.table.connect({ localAddress: h.local, remoteAddress: h.remote, remotePort: 1, options: { sendBufferSize: -1 } }, h.now), /sendBufferSize/);
  });
});

describe('malformed input', () => {
  test('garbage segments are counted as drops, never thrown', () => {
    const h = new ScriptedPeer();
    h.table.receive(new Uint8Array(5), h.remote, h.local, h.now);
    const bad = new Uint8Array(24);
    bad[12] = 6 << 4;
    bad[20] = 2;
    bad[21] = 0;
    bad[0] = 1;
    bad[2] = 1;
    h.table.receive(bad, h.remote, h.local, h.now);
    assert.deepEqual(h.table.stats().drops, { 'tcp-truncated': 1, 'tcp-bad-option-length': 1 });
    h.expectNone();
  });
});

describe('HyStart++ in the first slow start (RFC 9406)', () => {
  /**
   * A bulk send over a path with a 0.5 ms-per-segment bottleneck and a 10 ms base RTT (a BDP of
   * 20 segments) and a queue that never drops: the peer acknowledges every second segment with
   * the timestamp of the segment, when it has left the bottleneck plus 5 ms. Beyond the BDP the
   * queue, and with it the RTT, grows with each round of slow start.
   */
  function bulkOverQueue(options: TcpSocketOptions): ReturnType<TcpSocket['stats']> {
    const h = new ScriptedPeer();
    const s = h.connect(options);
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, window: 65535, mss: 1400, tsVal: 1, tsEcr: syn.tsVal, windowScale: 6 });
    h.expectOne({ flags: 'ACK' });
    const total = 3000 * 1380;
    let written = Math.min(total, s.sendCapacity);
    assert.equal(s.send(bytes(written)), written);
    const acks: { at: number; ack: number; tsEcr: number }[] = [];
    let bottleneckFree = 0;
    let unacked = 0;
    const depart = (segs: ReturnType<ScriptedPeer['poll']>): void => {
      for (const seg of segs) {
        if (seg.payload.length === 0) continue;
        bottleneckFree = Math.max(bottleneckFree, h.now) + 0.5;
        if (++unacked === 2) {
          unacked = 0;
          acks.push({ at: bottleneckFree + 5, ack: seg.seq + seg.payload.length, tsEcr: seg.tsVal! });
        }
      }
    };
    depart(h.poll());
    for (let guard = 0; acks.length > 0 && guard < 100_000; guard++) {
      const a = acks.shift()!;
      if (a.at > h.now) h.advance(a.at - h.now);
      h.send({ flags: 'ACK', seq: IRS + 1, ack: a.ack, window: 65535, tsVal: 2, tsEcr: a.tsEcr });
      if (written < total && s.sendCapacity > 0) {
        const n = Math.min(total - written, s.sendCapacity);
        s.send(bytes(n));
        written += n;
      }
      depart(h.poll());
    }
    return s.stats();
  }

  test('leaves slow start when the queue makes the RTT grow, before any loss: ssthresh is set and the window stays near the path’s', () => {
    const st = bulkOverQueue({});
    assert.equal(st.retransmittedSegments, 0);
    assert.equal(st.hystart?.exits, 1, 'HyStart++ ended slow start');
    assert.ok(st.ssthresh < 200 * 1380, `ssthresh ${st.ssthresh} set by HyStart++`);
    assert.ok(st.maxCwnd < 300 * 1380, `the window peaked at ${st.maxCwnd / 1380} segments (the path holds 20 plus the queue)`);
  });

  test('without it (hystart: false) slow start doubles on into the queue until the data runs out', () => {
    const st = bulkOverQueue({ hystart: false });
    assert.equal(st.hystart, undefined);
    assert.equal(st.ssthresh, Number.MAX_SAFE_INTEGER);
    assert.ok(st.maxCwnd > 700 * 1380, `the window reached ${st.maxCwnd / 1380} segments`);
  });
});

describe('spurious retransmission timeouts (RFC 3522 Eifel detection, RFC 4015 response)', () => {
  /**
   * Ten segments go out with timestamps; the peer stays silent past the RTO, so the first one is
   * retransmitted; then an ACK of the first five arrives echoing `echo` (which transmission's
   * TSval it carries decides whether the timeout was spurious).
   */
  function timeoutThenAck(echo: 'original' | 'retransmission') {
    const h = new ScriptedPeer();
    const s = h.connect();
    const syn = h.expectOne({ flags: 'SYN' });
    h.send({ flags: 'SYN,ACK', seq: IRS, ack: syn.seq + 1, mss: 1400, tsVal: 1000, tsEcr: syn.tsVal });
    h.expectOne({ flags: 'ACK' });
    const snd = syn.seq + 1;
    const mss = 1368; // our 1380 (the tunnel MTU) minus the 12 bytes of the timestamps option
    s.send(bytes(20 * mss));
    const first = h.poll();
    assert.equal(first.length, 10, 'the initial window');
    h.advanceToWake(); // the 1 s initial RTO
    const rxt = h.poll();
    assert.deepEqual(rxt.map((x) => [x.seq - snd, x.payload.length]), [[0, mss]], 'one segment retransmitted');
    assert.ok(rxt[0].tsVal! > first[0].tsVal!, 'the retransmission carries a newer timestamp');
    h.advance(5);
    h.send({ flags: 'ACK', seq: IRS + 1, ack: snd + 5 * mss, tsVal: 1010, tsEcr: echo === 'original' ? first[4].tsVal : rxt[0].tsVal });
    return { s, next: h.poll(), snd, mss };
  }

  test('an ACK echoing the original transmission’s timestamp undoes the timeout: new data follows, the window comes back', () => {
    const { s, next, snd, mss } = timeoutThenAck('original');
    const st = s.stats();
    assert.equal(st.timeouts, 1);
    assert.equal(st.spuriousTimeouts, 1);
    assert.ok(next.length > 0 && next.every((x) => x.seq - snd >= 10 * mss), `only new data (from segment 10): ${next.map((x) => (x.seq - snd) / mss).join(',')}`);
    assert.equal(st.cwnd, 12 * mss, 'cwnd = FlightSize (5 segments) + min(acknowledged, IW) (5), then this ACK’s slow-start growth (2, RFC 3465 L = 2)');
    assert.equal(st.ssthresh, Number.MAX_SAFE_INTEGER, 'ssthresh = pipe_prev = max(FlightSize, ssthresh): the first slow start goes on');
  });

  test('an ACK echoing the retransmission’s timestamp (the original was lost) keeps the timeout’s go-back-N and window', () => {
    const { s, next, snd, mss } = timeoutThenAck('retransmission');
    const st = s.stats();
    assert.equal(st.spuriousTimeouts, 0);
    assert.equal(next[0].seq - snd, 5 * mss, 'go-back-N resends from the new SND.UNA');
    assert.ok(st.cwnd <= 3 * mss, `cwnd ${st.cwnd / mss} segments after the loss window`);
  });
});
