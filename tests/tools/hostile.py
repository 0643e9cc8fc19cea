#!/usr/bin/python3
"""Hostile HTTP clients for the server's hardening tests.

  hostile.py flood PORT CONNS ADDRS SECONDS STATSFILE
      Keep CONNS idle TCP connections open to 127.0.0.1:PORT, spread over
      the source addresses 127.0.0.2 .. 127.0.0.(ADDRS+1), each trickling one
      byte of a TLS ClientHello every second and never finishing it; a
      connection the server closes is opened again (at most 400 a second).
      After SECONDS, writes "opened N closed_by_server M peak P" to STATSFILE.

  hostile.py endless PORT PATH TOKEN CAFILE MAXBYTES
      Over TLS, PUT PATH with the admin token and a chunked JSON body that
      never ends; prints how many body bytes were sent before the server
      closed the connection, or "not cut" after MAXBYTES.

  hostile.py abort PORT PATH TOKEN CAFILE BYTES
      Over TLS, start an octet-stream upload of a declared 100 MB, send BYTES
      of it and drop the connection.
"""
import resource
import selectors
import socket
import ssl
import sys
import time


def flood(port, conns, addrs, seconds, stats_file):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, conns + 512), hard))
    sel = selectors.DefaultSelector()
    live = {}
    opened = closed = peak = 0
    # the first bytes of a TLS record carrying a ClientHello
    hello = bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03]) + b"\0" * 600
    end = time.monotonic() + seconds
    last_tick = 0.0
    while time.monotonic() < end:
        budget = 40  # connections opened per 0.1 s at most
        while len(live) < conns and budget > 0:
            budget -= 1
            src = "127.0.0.%d" % (2 + (opened % addrs))
            s = socket.socket()
            s.setblocking(False)
            try:
                s.bind((src, 0))
                s.connect_ex(("127.0.0.1", port))
            except OSError:
                s.close()
                break
            live[s] = 0
            sel.register(s, selectors.EVENT_READ)
            opened += 1
        peak = max(peak, len(live))
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                del live[s]
                closed += 1
        now = time.monotonic()
        if now - last_tick >= 1.0:
            last_tick = now
            for s in list(live):
                i = live[s]
                if i < len(hello):
                    try:
                        s.send(hello[i : i + 1])
                        live[s] = i + 1
                    except OSError:
                        pass
    with open(stats_file, "w") as f:
        f.write("opened %d closed_by_server %d peak %d\n" % (opened, closed, peak))
    for s in live:
        s.close()


def tls_connect(port, cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def endless(port, path, token, cafile, max_bytes):
    s = tls_connect(port, cafile)
    s.sendall(
        (
            "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % (path, token)
        ).encode()
    )
    chunk = b" " * 65536
    frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    sent = 0
    try:
        while sent < max_bytes:
            s.sendall(frame)
            sent += len(chunk)
    except (OSError, ssl.SSLError):
        print(sent)
        return
    print("not cut")


def abort(port, path, token, cafile, count):
    s = tls_connect(port, cafile)
    s.sendall(
        (
            "PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/octet-stream\r\nContent-Length: 100000000\r\n\r\n"
            % (path, token)
        ).encode()
    )
    s.sendall(b"x" * count)
    time.sleep(0.5)
    s.close()


def main():
    cmd = sys.argv[1]
    if cmd == "flood":
        flood(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    elif cmd == "endless":
        endless(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    elif cmd == "abort":
        abort(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        sys.exit("hostile.py: unknown command " + cmd)


if __name__ == "__main__":
    main()
