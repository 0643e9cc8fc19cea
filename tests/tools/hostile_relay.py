#!/usr/bin/python3
"""A hostile HTTPS relay for tests: a server that drips or stalls.

It ends the device's mutual TLS with a certificate of the server's CA (it
asks for, and checks, the device's client certificate), reads each request,
and dials the real uptake-server with the device's own certificate. What it
does with a request depends on MODEFILE, read again for every request; each
line is an action and a path prefix:

    drip PREFIX    forward; send the answer's head at once, its body 2 bytes/s
    stall PREFIX   read the request, forward nothing, never answer
    (no line)      forward

Every request is logged to LOGFILE as "METHOD PATH ACTION". It writes its
port to PORTFILE.

    hostile_relay.py SERVER_PORT TLS_DIR CLIENT_CERT CLIENT_KEY MODEFILE LOGFILE PORTFILE

TLS_DIR is the server's data_dir/tls (ca.pem, server.pem, server.key).
"""
import socket
import ssl
import sys
import threading
import time

(server_port, tls_dir, client_cert, client_key, mode_file, log_file,
 port_file) = sys.argv[1:8]
server_port = int(server_port)
log_lock = threading.Lock()


def log(line):
    with log_lock:
        with open(log_file, "a") as f:
            f.write(line + "\n")


def action_for(path):
    try:
        lines = open(mode_file).read().splitlines()
    except OSError:
        return "forward"
    for line in lines:
        parts = line.split()
        if len(parts) == 2 and path.startswith(parts[1]):
            return parts[0]
    return "forward"


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None
        data += chunk
        if len(data) > 1 << 20:
            return None, None
    head, body = data.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, None
        body += chunk
    return head, body


def upstream_exchange(head, body):
    lines = [l for l in head.split(b"\r\n")
             if not l.lower().startswith(b"connection:")]
    request = b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body
    ctx = ssl.create_default_context(cafile=tls_dir + "/ca.pem")
    ctx.load_cert_chain(client_cert, client_key)
    raw = socket.create_connection(("127.0.0.1", server_port))
    up = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    up.sendall(request)
    answer = b""
    while True:
        try:
            chunk = up.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not chunk:
            break
        answer += chunk
    up.close()
    return answer


def handle(raw, ctx):
    conn = raw
    try:
        raw.settimeout(30)
        conn = ctx.wrap_socket(raw, server_side=True)
        conn.settimeout(None)
        head, body = read_request(conn)
        if head is None:
            return
        method, path = head.split(b" ")[0:2]
        method, path = method.decode(), path.decode()
        action = action_for(path)
        log("%s %s %s" % (method, path, action))
        if action == "stall":
            # hold the connection open, answer nothing
            while conn.recv(65536):
                pass
            return
        answer = upstream_exchange(head, body)
        if action == "drip" and b"\r\n\r\n" in answer:
            ahead, abody = answer.split(b"\r\n\r\n", 1)
            conn.sendall(ahead + b"\r\n\r\n")
            for i in range(0, len(abody), 2):
                conn.sendall(abody[i:i + 2])
                time.sleep(1)
        else:
            conn.sendall(answer)
    except (OSError, ValueError, ssl.SSLError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tls_dir + "/server.pem", tls_dir + "/server.key")
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(tls_dir + "/ca.pem")
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(port_file, "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    while True:
        raw, _ = listener.accept()
        threading.Thread(target=handle, args=(raw, ctx), daemon=True).start()


main()
