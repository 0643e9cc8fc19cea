#!/usr/bin/python3
"""A hostile IP-Uptane secondary for uptake-agent's tests: it listens on
127.0.0.1:PORT (0: any; the port goes to PORTFILE) and answers every
request, one per connection, in one way:

  hostile_secondary.py MODE PORT PORTFILE
    stall      read the request, never answer (the connection stays open)
    garbage    an answer whose first byte is no message tag (0xff)
    huge       a manifestResp header that claims 2 GiB of content
    cut        a getInfoResp header for 200 bytes, 10 of them, then close
    indefinite an answer with an indefinite length (0xa1 0x80)
"""
import socket
import sys

ANSWERS = {
    "garbage": b"\xff\x03abc",
    "huge": b"\xa3\x84\x7f\xff\xff\xff",
    "cut": b"\xa1\x81\xc8" + b"\x30\x81\xc5" + b"\x0c\x04",
    "indefinite": b"\xa1\x80\x30\x00\x00\x00",
}


def main():
    mode, port, port_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    with open(port_file, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    held = []
    while True:
        c, _ = srv.accept()
        c.settimeout(10)
        try:
            c.recv(65536)
        except OSError:
            pass
        if mode == "stall":
            held.append(c)
            continue
        try:
            c.sendall(ANSWERS[mode])
        except OSError:
            pass
        c.close()


if __name__ == "__main__":
    main()
