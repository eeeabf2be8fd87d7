#!/usr/bin/env python3
"""Captures real Linux-kernel packets for the netstack wire fixtures (kernel-packets.json).

Run as root:  python3 test/vectors/netstack/capture-kernel-packets.py > test/vectors/netstack/kernel-packets.json

It creates a throwaway network namespace holding one TUN device (the same layer-3, no-link-header
view of packets that a WireGuard interface gives), addresses it 10.77.0.1/24 and fd77::1/64, and
plays the peer 10.77.0.2 / fd77::2 by reading and writing raw IP packets on the TUN file
descriptor. Only addresses inside the namespace are used; the namespace is deleted on exit, even
on failure. The packets written into the TUN are built here, independently of wgweb's TypeScript
code, so that the fixtures cross-check both.
"""
import fcntl
import json
import os
import platform
import select
import socket
import struct
import subprocess
import sys
import time

NS = f"wgwcap{os.getpid()}"
DEV = "wgwcap0"
K4, P4 = "10.77.0.1", "10.77.0.2"
K6, P6 = "fd77::1", "fd77::2"


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=0x1234, df=True, mf=False, offset=0, ttl=64):
    flags = (0x4000 if df else 0) | (0x2000 if mf else 0) | (offset >> 3)
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags, ttl, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def pseudo6(src, dst, proto, length):
    return socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst) + struct.pack("!IxxxB", length, proto)


def ipv6(src, dst, nh, payload, hop=64):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, hop,
                       socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)) + payload


def icmp4_echo(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def icmp6_echo(src, dst, ident, seq, data):
    m = struct.pack("!BBHHH", 128, 0, 0, ident, seq) + data
    c = csum(pseudo6(src, dst, 58, len(m)) + m)
    return m[:2] + struct.pack("!H", c) + m[4:]


def udp(src, dst, sport, dport, data, v6=False):
    m = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    if v6:
        ph = pseudo6(src, dst, 17, len(m))
    else:
        ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!xBH", 17, len(m))
    c = csum(ph + m) or 0xFFFF
    return m[:6] + struct.pack("!H", c) + m[8:]


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def main():
    if os.geteuid() != 0:
        sys.exit("run as root (it creates a network namespace)")
    sh(f"ip netns add {NS}")
    try:
        # Re-run this script inside the namespace, so the TUN device and sockets live there.
        r = subprocess.run(["ip", "netns", "exec", NS, sys.executable, __file__, "--inside"],
                           stdout=subprocess.PIPE, check=True)
        return json.loads(r.stdout)
    finally:
        subprocess.run(["ip", "netns", "del", NS])


def capture():
    sh("sysctl -qw net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0")
    sh("sysctl -qw net.ipv4.ipfrag_time=1 net.ipv6.ip6frag_time=1")
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, 0x400454CA, struct.pack("16sH", DEV.encode(), 0x0001 | 0x1000))  # TUNSETIFF, IFF_TUN|IFF_NO_PI
    sh(f"ip link set lo up && ip link set {DEV} mtu 1420 up")
    sh(f"ip addr add {K4}/24 dev {DEV} && ip -6 addr add {K6}/64 dev {DEV} nodad")
    time.sleep(0.2)

    def drain():
        while select.select([tun], [], [], 0.05)[0]:
            os.read(tun, 65535)

    def read_matching(pred, timeout=3.0):
        end = time.time() + timeout
        out = []
        while time.time() < end:
            r = select.select([tun], [], [], max(0, end - time.time()))[0]
            if not r:
                break
            p = os.read(tun, 65535)
            if pred(p):
                out.append(p)
                return out
        raise RuntimeError("expected packet did not arrive")

    def read_n(pred, n, timeout=3.0):
        got = []
        end = time.time() + timeout
        while len(got) < n and time.time() < end:
            r = select.select([tun], [], [], max(0, end - time.time()))[0]
            if not r:
                break
            p = os.read(tun, 65535)
            if pred(p):
                got.append(p)
        if len(got) < n:
            raise RuntimeError(f"expected {n} packets, got {len(got)}")
        return got

    v4 = lambda proto: lambda p: p[0] >> 4 == 4 and p[9] == proto
    v6 = lambda nh: lambda p: p[0] >> 4 == 6 and p[6] == nh and p[24:40] == socket.inet_pton(socket.AF_INET6, P6)
    fx = {}

    def put(name, desc, packets):
        fx[name] = {"description": desc, "hex": [p.hex() for p in packets]}

    drain()
    # 1. The kernel's ping(8) sends echo requests to the peer.
    subprocess.Popen(["ping", "-c1", "-W1", "-s", "56", P4], stdout=subprocess.DEVNULL)
    put("icmpv4-echo-request", f"ping -c1 -s 56 {P4} from {K4}, as the kernel emits it", read_matching(v4(1)))
    subprocess.Popen(["ping", "-6", "-c1", "-W1", "-s", "56", P6], stdout=subprocess.DEVNULL)
    put("icmpv6-echo-request", f"ping -6 -c1 -s 56 {P6} from {K6}", read_matching(v6(58)))
    time.sleep(1.2)
    drain()

    # 2. The kernel answers our echo requests.
    data = bytes(range(32))
    os.write(tun, ipv4(P4, K4, 1, icmp4_echo(0x4242, 7, data)))
    put("icmpv4-echo-reply", f"the kernel's reply to an echo request {P4} -> {K4}, id 0x4242 seq 7, 32 bytes 00..1f", read_matching(v4(1)))
    os.write(tun, ipv6(P6, K6, 58, icmp6_echo(P6, K6, 0x4242, 7, data)))
    put("icmpv6-echo-reply", f"the kernel's reply to an ICMPv6 echo request {P6} -> {K6}, id 0x4242 seq 7, 32 bytes 00..1f", read_matching(v6(58)))

    # 3. UDP from a kernel socket to the peer.
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s4.bind((K4, 40000))
    s4.sendto(b"hello wgweb", (P4, 5353))
    put("udp-ipv4", f"UDP {K4}:40000 -> {P4}:5353, 'hello wgweb'", read_matching(v4(17)))
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s6.bind((K6, 40000))
    s6.sendto(b"hello wgweb", (P6, 5353))
    put("udp-ipv6", f"UDP [{K6}]:40000 -> [{P6}]:5353, 'hello wgweb'", read_matching(v6(17)))

    # 4. UDP to a closed kernel port: port unreachable quoting our datagram.
    os.write(tun, ipv4(P4, K4, 17, udp(P4, K4, 33434, 9, b"probe")))
    put("icmpv4-port-unreachable", f"the kernel's answer to UDP {P4}:33434 -> {K4}:9 (closed)", read_matching(v4(1)))
    os.write(tun, ipv6(P6, K6, 17, udp(P6, K6, 33434, 9, b"probe", v6=True)))
    put("icmpv6-port-unreachable", f"the kernel's answer to UDP [{P6}]:33434 -> [{K6}]:9 (closed)", read_matching(v6(58)))

    # 5. Large datagrams the kernel fragments to fit the 1420-byte MTU.
    big = bytes(i & 0xFF for i in range(3000))
    s4.sendto(big, (P4, 5353))
    put("udp-ipv4-fragments", f"UDP {K4}:40000 -> {P4}:5353 with 3000 bytes (i & 0xff), fragmented by the kernel (MTU 1420)", read_n(v4(17), 3))
    s6.sendto(big, (P6, 5353))
    put("udp-ipv6-fragments", f"UDP [{K6}]:40000 -> [{P6}]:5353 with 3000 bytes (i & 0xff), fragmented by the kernel (MTU 1420)", read_n(v6(44), 3))

    # 6. Reassembly time exceeded: only a first fragment arrives (ipfrag_time set to 1 s).
    payload = udp(P4, K4, 33434, 9, bytes(40))
    os.write(tun, ipv4(P4, K4, 17, payload[:24], ident=0x7777, df=False, mf=True))
    put("icmpv4-reassembly-time-exceeded", f"the kernel gives up on a datagram from {P4} whose first fragment only arrived (id 0x7777)", read_matching(v4(1), timeout=5))
    frag6 = udp(P6, K6, 33434, 9, bytes(40), v6=True)
    fh = struct.pack("!BBHI", 17, 0, 0 | 1, 0x77777777)
    os.write(tun, ipv6(P6, K6, 44, fh + frag6[:24]))
    put("icmpv6-reassembly-time-exceeded", f"the kernel gives up on a packet from {P6} whose first fragment only arrived (id 0x77777777)", read_matching(v6(58), timeout=5))

    return fx


if __name__ == "__main__":
    if sys.argv[1:] == ["--inside"]:
        json.dump(capture(), sys.stdout)
        sys.exit(0)
    fixtures = main()
    meta = {
        "provenance": "captured from a Linux TUN device in a throwaway network namespace by capture-kernel-packets.py",
        "kernel": platform.release(),
        "captured": time.strftime("%Y-%m-%d"),
        "addresses": {"kernel": [K4, K6], "peer": [P4, P6]},
    }
    json.dump({"meta": meta, "packets": fixtures}, sys.stdout, indent=2)
    sys.stdout.write("\n")
