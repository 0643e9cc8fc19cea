#!/usr/bin/python3
"""A TCP relay for tests: it forwards 127.0.0.1:PORT to the server and cuts
every connection after it has carried CUT bytes from the server (a network
that drops long transfers). It writes its port to PORTFILE.

    cutproxy.py SERVER_PORT CUT PORTFILE
"""
import socket
import sys
import threading

server_port, cut, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def pump(src, dst, limit):
    sent = 0
    try:
        while True:
            data = src.recv(16384)
            if not data:
                break
            if limit and sent + len(data) > limit:
                dst.sendall(data[: limit - sent])
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def handle(client):
    upstream = socket.create_connection(("127.0.0.1", server_port))
    threading.Thread(target=pump, args=(client, upstream, 0), daemon=True).start()
    pump(upstream, client, cut)
    client.close()
    upstream.close()


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(64)
with open(port_file, "w") as f:
    f.write("%d\n" % listener.getsockname()[1])
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
