#!/usr/bin/python3
"""Manifests as aktualizr writes them, for uptake-server's tests: ECU keys
in aktualizr's spelling (ED25519 with a hex key, RSA with a PEM key),
signatures {keyid, method, sig (base64)} over canonical JSON (Debian's
securesystemslib), report counters as strings of digits or absent (as
aktualizr-secondary writes its report), installation reports.

  akt_manifest.py init DIR PRIMARY SERIAL:HWID:KEYTYPE...   (ed25519 | rsa)
      keys in DIR, the /director/ecus body on stdout
  akt_manifest.py report DIR SERIAL OUT --filepath NAME --sha256 HEX --length N
      [--counter VALUE (written as given: a JSON string unless --int)] [--int]
      [--counter-json JSON] [--wrong-key]        one signed ECU version report
  akt_manifest.py manifest DIR OUT REPORT... [--installation-report FILE]
      the vehicle manifest signed by the primary (REPORT: files from report)
"""
import argparse
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from securesystemslib.formats import encode_canonical


def pub_json(k):
    if isinstance(k, ed25519.Ed25519PrivateKey):
        raw = k.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
        return {"keytype": "ED25519", "keyval": {"public": raw.hex()}}
    pem = k.public_key().public_bytes(serialization.Encoding.PEM,
                                      serialization.PublicFormat.SubjectPublicKeyInfo)
    return {"keytype": "RSA", "keyval": {"public": pem.decode()}}


def load(d, serial):
    return serialization.load_pem_private_key(open(os.path.join(d, serial + ".pem"), "rb").read(), None)


def sign(signed, k):
    msg = encode_canonical(signed).encode()
    keyid = hashlib.sha256(encode_canonical(pub_json(k)).encode()).hexdigest()
    if isinstance(k, ed25519.Ed25519PrivateKey):
        sig, method = k.sign(msg), "ed25519"
    else:
        sig = k.sign(msg, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32),
                     hashes.SHA256())
        method = "rsassa-pss"
    return {"signatures": [{"keyid": keyid, "method": method, "sig": base64.b64encode(sig).decode()}],
            "signed": signed}


def cmd_init(a):
    os.makedirs(a.dir, exist_ok=True)
    ecus = []
    for spec in a.ecus:
        serial, hwid, kt = spec.split(":")
        k = ed25519.Ed25519PrivateKey.generate() if kt == "ed25519" else \
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
        open(os.path.join(a.dir, serial + ".pem"), "wb").write(
            k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()))
        ecus.append({"ecu_serial": serial, "hardware_identifier": hwid, "clientKey": pub_json(k)})
    json.dump({"primary": a.primary}, open(os.path.join(a.dir, "device.json"), "w"))
    print(json.dumps({"primary_ecu_serial": a.primary, "ecus": ecus}))


def cmd_report(a):
    r = {"ecu_serial": a.serial, "attacks_detected": "",
         "installed_image": {"filepath": a.filepath,
                             "fileinfo": {"hashes": {"sha256": a.sha256}, "length": a.length}}}
    if a.counter is not None:
        r["report_counter"] = int(a.counter) if a.int else a.counter
    if a.counter_json is not None:
        r["report_counter"] = json.loads(a.counter_json)
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048) if a.wrong_key \
        else load(a.dir, a.serial)
    json.dump(sign(r, k), open(a.out, "w"))


def cmd_manifest(a):
    primary = json.load(open(os.path.join(a.dir, "device.json")))["primary"]
    reports = {}
    for f in a.reports:
        r = json.load(open(f))
        reports[r["signed"]["ecu_serial"]] = r
    signed = {"primary_ecu_serial": primary, "ecu_version_manifests": reports}
    if a.installation_report:
        signed["installation_report"] = json.load(open(a.installation_report))
    json.dump(sign(signed, load(a.dir, primary)), open(a.out, "w"))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("dir")
    p.add_argument("primary")
    p.add_argument("ecus", nargs="+")
    p = sub.add_parser("report")
    p.add_argument("dir")
    p.add_argument("serial")
    p.add_argument("out")
    p.add_argument("--filepath", required=True)
    p.add_argument("--sha256", required=True)
    p.add_argument("--length", type=int, required=True)
    p.add_argument("--counter")
    p.add_argument("--int", action="store_true")
    p.add_argument("--counter-json")
    p.add_argument("--wrong-key", action="store_true")
    p = sub.add_parser("manifest")
    p.add_argument("dir")
    p.add_argument("out")
    p.add_argument("reports", nargs="+")
    p.add_argument("--installation-report")
    a = ap.parse_args()
    {"init": cmd_init, "report": cmd_report, "manifest": cmd_manifest}[a.cmd](a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
