#!/usr/bin/python3
"""Send signed manifests to uptake-server all at once, over mutual TLS.

    manifest_flood.py --url URL [--url URL2 ...] --ca CA --cert CERT --key KEY FILE...

Each FILE goes on its own connection (handshake first, then every thread
waits at one barrier and sends its PUT /director/manifest at the same
moment); the connections are spread over the given server URLs in turn.
Prints one line per file, in the order given: "FILE STATUS".
"""
import argparse
import http.client
import ssl
import sys
import threading
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", action="append", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    ctx = ssl.create_default_context(cafile=args.ca)
    ctx.load_cert_chain(args.cert, args.key)
    bodies = [open(f, "rb").read() for f in args.files]
    barrier = threading.Barrier(len(bodies))
    status = [None] * len(bodies)

    def send(i):
        u = urllib.parse.urlsplit(args.url[i % len(args.url)])
        conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=120)
        try:
            conn.connect()
        except Exception as e:  # still meet the others at the barrier
            status[i] = "connect-failed:%s" % e
        try:
            barrier.wait(timeout=120)
        except threading.BrokenBarrierError:
            pass
        if status[i]:
            return
        try:
            conn.request("PUT", "/director/manifest", body=bodies[i],
                         headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            status[i] = str(r.status)
        except Exception as e:
            status[i] = "error:%s" % e
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f, s in zip(args.files, status):
        print(f, s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
