#!/usr/bin/env python3
"""
TUN bridge for TCP interop tests: runs inside a throwaway network namespace, opens a TUN device,
and relays its IP packets over stdio, so a sans-IO TCP stack in the test process talks to the
real Linux TCP stack of that namespace. Also runs the Linux-side TCP programs the test needs.

  Linux TCP (servers/clients below) <-> tun device <-> this script <-> stdin/stdout <-> test

Frames both ways: 4-byte big-endian length, 1-byte type, body.
  type 0  an IP packet (either direction)
  type 1  a JSON command from the test    {"cmd": "client", "id": .., "host": .., "port": .., "bytes": n, "seed": s}
  type 2  a JSON event to the test        {"event": "ready"} / {"event": "client-done", ...} / {"event": "error", ...}

Linux-side servers (on every address of the namespace):
  9000  source: reads one line "<n> <seed>\n", sends shake_256(seed).digest(n), closes
  9001  sink:   reads to EOF, answers the lower-case hex SHA-256 of what it read, closes
Command "client": connects to host:port, sends shake_256(seed).digest(n), half-closes, reads the
  peer's answer to EOF and reports whether it equals what was sent (our stack echoes it back).

Arguments: ifname addr4/len addr6/len mtu [sysctl=value ...]. Needs root in the namespace.
Only ever talks to addresses on the TUN link, which exist only in this namespace.
"""
import fcntl
import hashlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

out_lock = threading.Lock()
stdout = sys.stdout.buffer


def emit(kind, body):
    with out_lock:
        stdout.write(struct.pack('>IB', len(body), kind) + body)
        stdout.flush()


def event(obj):
    emit(2, json.dumps(obj).encode())


def data_for(seed, n):
    return hashlib.shake_256(seed.encode()).digest(n)


def recv_all(conn):
    chunks = []
    while True:
        b = conn.recv(1 << 20)
        if not b:
            return b''.join(chunks)
        chunks.append(b)


def source_conn(conn):
    with conn:
        line = b''
        while not line.endswith(b'\n'):
            b = conn.recv(1)
            if not b:
                return
            line += b
        n, seed = line.decode().split()
        conn.sendall(data_for(seed, int(n)))


def sink_conn(conn):
    with conn:
        h = hashlib.sha256()
        while True:
            b = conn.recv(1 << 20)
            if not b:
                break
            h.update(b)
        conn.sendall(h.hexdigest().encode())


def serve(family, addr, port, handler):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=handler, args=(conn,), daemon=True).start()


def client(cmd):
    try:
        family = socket.AF_INET6 if ':' in cmd['host'] else socket.AF_INET
        data = data_for(cmd['seed'], cmd['bytes'])
        with socket.create_connection((cmd['host'], cmd['port']), timeout=60) as c:
            sender = threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR)), daemon=True)
            sender.start()
            back = recv_all(c)
            sender.join()
        event({'event': 'client-done', 'id': cmd['id'], 'ok': back == data, 'received': len(back)})
    except Exception as e:  # reported to the test, which fails with the message
        event({'event': 'client-done', 'id': cmd['id'], 'ok': False, 'error': repr(e)})


def main():
    ifname, addr4, addr6, mtu = sys.argv[1:5]
    fd = os.open('/dev/net/tun', os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', ifname.encode(), IFF_TUN | IFF_NO_PI))
    for kv in sys.argv[5:]:
        k, v = kv.split('=', 1)
        with open('/proc/sys/' + k.replace('.', '/'), 'w') as f:
            f.write(v)
    subprocess.run(['ip', 'link', 'set', 'lo', 'up'], check=True)
    subprocess.run(['ip', 'addr', 'add', addr4, 'dev', ifname], check=True)
    subprocess.run(['ip', '-6', 'addr', 'add', addr6, 'dev', ifname, 'nodad'], check=True)
    subprocess.run(['ip', 'link', 'set', ifname, 'mtu', mtu, 'up'], check=True)
    a4 = addr4.split('/')[0]
    a6 = addr6.split('/')[0]
    for fam, a in ((socket.AF_INET, a4), (socket.AF_INET6, a6)):
        threading.Thread(target=serve, args=(fam, a, 9000, source_conn), daemon=True).start()
        threading.Thread(target=serve, args=(fam, a, 9001, sink_conn), daemon=True).start()

    def tun_to_stdout():
        while True:
            emit(0, os.read(fd, 65536))

    threading.Thread(target=tun_to_stdout, daemon=True).start()
    event({'event': 'ready'})
    stdin = sys.stdin.buffer
    while True:
        head = stdin.read(5)
        if len(head) < 5:
            return
        n, kind = struct.unpack('>IB', head)
        body = stdin.read(n)
        if kind == 0:
            os.write(fd, body)
        elif kind == 1:
            threading.Thread(target=client, args=(json.loads(body),), daemon=True).start()


if __name__ == '__main__':
    main()
