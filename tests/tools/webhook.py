#!/usr/bin/python3
"""A webhook receiver for the alert delivery tests: an HTTP server on
127.0.0.1 that checks each POST's X-Uptake-Signature (HMAC-SHA256 of the
body with SECRET), refuses the first FAIL deliveries with 503, and appends
each accepted body as one line to LOG (a bad signature is answered 401 and
logged to LOG.bad). Writes its port to PORTFILE.

    webhook.py SECRET FAIL LOG PORTFILE [PORT]
"""
import hashlib
import hmac
import http.server
import sys

secret, fail, log, port_file = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3], sys.argv[4]
seen = {"n": 0}


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, self.headers.get("X-Uptake-Signature", "")):
            with open(log + ".bad", "ab") as f:
                f.write(body + b"\n")
            self.send_response(401)
            self.end_headers()
            return
        seen["n"] += 1
        if seen["n"] <= fail:
            self.send_response(503)
            self.end_headers()
            return
        with open(log, "ab") as f:
            f.write(body + b"\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[5]) if len(sys.argv) > 5 else 0), Hook)
with open(port_file, "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
