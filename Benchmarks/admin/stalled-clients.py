#!/usr/bin/env python3
"""Stalled admin clients: N subscribers at 10 Hz (snapshots and events) that never read,
each with a 4 KB receive buffer, against a running parent; prints the parent's RSS every
2 s for SECONDS. What docs/RELIABILITY.md quotes for the memory a stalled client costs.

    mkdir -m 700 /tmp/stall && FLAME_ADMIN_SOCKET=/tmp/stall/demo.sock .build/debug/flame-demo --rate 50 &
    python3 Benchmarks/admin/stalled-clients.py /tmp/stall/demo.sock 40 20 $!
"""
import socket
import sys
import time


def rss_mb(pid):
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 1e6


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    path, clients, seconds, pid = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
    print(f"rss before {rss_mb(pid):.1f} MB")
    connections = []
    for _ in range(clients):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        connection.connect(path)
        connection.sendall(b'{"type":"hello","protocol":1}\n'
                           b'{"type":"subscribe","intervalMs":100,"snapshots":true,"events":true}\n')
        connections.append(connection)  # kept open, never read
    started = time.time()
    while time.time() - started < seconds:
        time.sleep(2)
        print(f"t={time.time() - started:.0f}s rss {rss_mb(pid):.1f} MB", flush=True)


if __name__ == "__main__":
    main()
