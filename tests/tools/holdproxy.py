#!/usr/bin/python3
"""A TLS relay for tests that loses one reply: it forwards 127.0.0.1:PORT
to the server (TLS on both sides, presenting CERT and KEY to the client)
and, on the first connection whose request line starts with PATTERN, reads
the server's answer but does not pass it on: once the server has answered
2xx it writes the status line to MARKER and holds the connection open. The
client is then waiting for a reply the server has already acted on (kill
it there: the state a crash between the server's 200 and the client's own
write leaves). It writes its port to PORTFILE.

    holdproxy.py SERVER_PORT CA CERT KEY PATTERN MARKER PORTFILE
"""
import os
import socket
import ssl
import sys
import threading
import time

server_port, ca, cert, key, pattern, marker, port_file = sys.argv[1:8]
server_port = int(server_port)
held = threading.Event()


def pump(src, dst):
    try:
        while True:
            data = src.recv(16384)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def hold_reply(src):
    """Read the server's answer; on 2xx record it and never pass it on."""
    data = b""
    while b"\r\n" not in data:
        chunk = src.recv(16384)
        if not chunk:
            return
        data += chunk
    status = data.split(b"\r\n", 1)[0].decode("latin-1")
    if " 2" in status[8:10]:
        with open(marker + ".tmp", "w") as f:
            f.write(status + "\n")
        os.rename(marker + ".tmp", marker)
    while True:
        time.sleep(3600)


def handle(raw):
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    sctx.load_cert_chain(cert, key)
    cctx = ssl.create_default_context(cafile=ca)
    try:
        client = sctx.wrap_socket(raw, server_side=True)
        upstream = cctx.wrap_socket(
            socket.create_connection(("127.0.0.1", server_port)), server_hostname="127.0.0.1"
        )
    except (OSError, ssl.SSLError):
        raw.close()
        return
    head = b""
    while b"\r\n" not in head:
        chunk = client.recv(16384)
        if not chunk:
            return
        head += chunk
    upstream.sendall(head)
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    if line.startswith(pattern) and not held.is_set():
        held.set()
        threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
        hold_reply(upstream)
        return
    threading.Thread(target=pump, args=(client, upstream), daemon=True).start()
    pump(upstream, client)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
with open(port_file, "w") as f:
    f.write("%d\n" % listener.getsockname()[1])
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
