#!/usr/bin/env python3
"""A minimal HTTP CONNECT proxy for tests (standard library only).

It accepts `CONNECT host:port HTTP/1.1` to loopback targets only, answers
200, and relays bytes both ways; anything else gets 405. Each tunnel is
logged to LOG as one line "CONNECT host:port". It exists so tests can show
that a client's proxy option is honoured (the tunnel appears in the log) and
that an explicit "no proxy" bypasses a proxy named in the environment.

usage: connect_proxy.py ADDR_FILE LOG   (writes "listening 127.0.0.1:PORT")
"""
from __future__ import annotations

import os
import socket
import sys
import threading

ALLOWED_HOSTS = {"localhost", "127.0.0.1", "::1"}


def relay(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def handle(client: socket.socket, log_path: str, lock: threading.Lock) -> None:
    with client:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = client.recv(4096)
            if not chunk:
                return
            head += chunk
        request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
        parts = request_line.split()
        if len(parts) != 3 or parts[0] != "CONNECT" or ":" not in parts[1]:
            client.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        if host not in ALLOWED_HOSTS or not port.isdigit():
            client.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        with lock, open(log_path, "a", encoding="ascii") as log:
            log.write(f"CONNECT {parts[1]}\n")
        upstream.settimeout(None)
        client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            upstream.sendall(rest)
        t = threading.Thread(target=relay, args=(upstream, client), daemon=True)
        t.start()
        relay(client, upstream)
        t.join()
        upstream.close()


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    addr_file, log_path = sys.argv[1:]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    tmp = addr_file + ".tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"listening 127.0.0.1:{srv.getsockname()[1]}\n")
    os.replace(tmp, addr_file)
    lock = threading.Lock()
    while True:
        client, _ = srv.accept()
        threading.Thread(target=handle, args=(client, log_path, lock), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
