#!/usr/bin/python3
"""A static HTTP server on loopback for tests: serves DIR (404 for what is
not there), writes its port to PORTFILE.

    serve_dir.py DIR PORTFILE
"""
import functools
import http.server
import sys

directory, port_file = sys.argv[1], sys.argv[2]


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", 0), functools.partial(Quiet, directory=directory))
with open(port_file, "w") as f:
    f.write("%d\n" % server.server_address[1])
server.serve_forever()
