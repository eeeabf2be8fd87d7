/**
 * Gives a running process's UDP sockets bigger kernel buffers (SO_RCVBUFFORCE / SO_SNDBUFFORCE):
 * what current wireguard-go does for itself at bind time (7 MB, forced where it runs as root) and
 * Debian's wireguard-go 0.0.20220316 does not, so its sockets keep net.core.rmem_default
 * (208 KiB here), and the kernel dropped ≈ 15 % of a bulk transfer's datagrams at a full receive
 * buffer (UDP RcvbufErrors, one TCP retransmission each; docs/benchmarks.md #19 section 18).
 * net.core.rmem_default is not writable inside a namespace, and writing it in the root namespace
 * would change every other program's sockets on the machine, so the bench sets the sockets of its
 * own wireguard-go processes instead:
 *
 *   python3: pidfd_open(pid) ─▶ for each fd of pid that is a UDP socket (inode in /proc/pid/net/udp{,6}):
 *            pidfd_getfd (Linux 5.6, needs ptrace rights: root) ─▶ setsockopt on the shared socket ─▶ close the copy
 *
 * The copy is the same socket (like a dup), so the process's own socket gets the size.
 */
import { execFile } from 'node:child_process';

/** The script (python3 is in .ci/packages.txt); argv: pid, bytes; prints "fd rcvbuf sndbuf" per socket. */
const SCRIPT = String.raw`
import ctypes, os, socket, sys
pid, size = int(sys.argv[1]), int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
inodes = set()
for name in ('udp', 'udp6'):
    try:
        for line in open('/proc/%d/net/%s' % (pid, name)).read().splitlines()[1:]:
            inodes.add(line.split()[9])
    except OSError:
        pass
pidfd = os.pidfd_open(pid)
for fd in os.listdir('/proc/%d/fd' % pid):
    try:
        link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
    except OSError:
        continue
    if not link.startswith('socket:[') or link[8:-1] not in inodes:
        continue
    local = libc.syscall(438, pidfd, int(fd), 0)  # pidfd_getfd
    if local < 0:
        raise OSError(ctypes.get_errno(), 'pidfd_getfd on fd %s of %d' % (fd, pid))
    s = socket.socket(fileno=local)
    s.setsockopt(socket.SOL_SOCKET, 33, size)  # SO_RCVBUFFORCE
    s.setsockopt(socket.SOL_SOCKET, 32, size)  # SO_SNDBUFFORCE
    print(fd, s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF), s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))
    s.close()
`;

/** One socket as set: the process's fd and what the kernel reports (twice the size asked, socket(7)). */
export interface SocketBufferResult {
  readonly fd: number;
  readonly rcvbuf: number;
  readonly sndbuf: number;
}

/**
 * Sets both buffers of every UDP socket of `pid` to `bytes` (forced past net.core.*mem_max).
 * @throws {Error} when python3 fails (not root, no pidfd_getfd) or the process has no UDP socket.
 */
export function forceUdpBuffers(pid: number, bytes: number): Promise<SocketBufferResult[]> {
  if (!Number.isSafeInteger(pid) || pid <= 0) throw new RangeError(`pid must be a positive integer, got ${pid}`);
  if (!Number.isSafeInteger(bytes) || bytes < 4096) throw new RangeError(`bytes must be an integer ≥ 4096, got ${bytes}`);
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SCRIPT, String(pid), String(bytes)], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`setting the UDP socket buffers of pid ${pid}: ${stderr.trim() || err.message}`));
      const sockets = stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [fd, rcvbuf, sndbuf] = l.split(' ').map(Number);
          return { fd: fd!, rcvbuf: rcvbuf!, sndbuf: sndbuf! };
        });
      if (sockets.length === 0) return reject(new Error(`pid ${pid} has no UDP socket`));
      resolve(sockets);
    });
  });
}
