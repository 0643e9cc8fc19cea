#!/usr/bin/python3
"""Seed corpora of the server fuzz targets (fuzz/corpus/server_manifest,
server_register, server_admin): manifests signed with the fixture's ECU
keys (fuzz/server_fixture.h), registration and admin bodies.
    /usr/bin/python3 fuzz/gen_server_seeds.py fuzz/corpus"""
import base64, json, os, sys
from cryptography.hazmat.primitives import serialization
from securesystemslib.formats import encode_canonical

PRIM = "MC4CAQAwBQYDK2VwBCIEIO6ITbYLx878E5C8ZCtpw1qAhtplAiIpYyEvVgqQ22Eb"
SEC = "MC4CAQAwBQYDK2VwBCIEIPY9yAuOjBMAjgH5bvnPczkjg4C6LcMp2Irr8zIoLKoC"
KEYID = "ab" * 32


def key(b64):
    pem = "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n" % b64
    return serialization.load_pem_private_key(pem.encode(), None)


def sign(signed, k, akt=False):
    sig = k.sign(encode_canonical(signed).encode())
    if akt:
        return {"signatures": [{"keyid": KEYID, "method": "ed25519",
                                "sig": base64.b64encode(sig).decode()}], "signed": signed}
    return {"signatures": [{"keyid": KEYID, "sig": sig.hex()}], "signed": signed}


def report(serial, counter, name="fw-1.0"):
    r = {"ecu_serial": serial, "attacks_detected": "",
         "installed_image": {"filepath": name,
                             "fileinfo": {"hashes": {"sha256": "11" * 32}, "length": 1000}}}
    if counter is not None:
        r["report_counter"] = counter
    return r


def manifest(reports, extra=None, akt=False, k=None):
    s = {"primary_ecu_serial": "prim",
         "ecu_version_manifests": {r["ecu_serial"]: sign(r, key(PRIM if r["ecu_serial"] == "prim" else SEC), akt)
                                   for r in reports}}
    s.update(extra or {})
    return json.dumps(sign(s, k or key(PRIM), akt)).encode()


def main():
    out = sys.argv[1]
    ir = {"content_type": "application/vnd.com.here.otac.installationReport.v1",
          "report": {"correlation_id": "urn:uptake:assignment:1", "raw_report": "ok",
                     "result": {"success": True, "code": "OK", "description": "done"},
                     "items": [{"ecu": "prim", "result": {"success": True, "code": "OK", "description": "x"}}]}}
    m = {
        "both": manifest([report("prim", 1), report("sec", 1)]),
        "string_counter": manifest([report("prim", "7"), report("sec", None)], akt=True),
        "install_report": manifest([report("prim", "8")], {"installation_report": ir}, akt=True),
        "no_reports": manifest([], {"auto_update": False}),
        "sec_only": manifest([report("sec", 3)]),
        "bad_counter": manifest([report("prim", "+1")]),
        "leading_zero": manifest([report("prim", "01")]),
        "wrong_key": manifest([report("prim", 1)], k=key(SEC)),
        "auto_off": manifest([report("prim", 2), report("sec", 2)], {"auto_update": False}),
    }
    first = manifest([report("prim", 5), report("sec", None)])
    second = manifest([report("prim", 6), report("sec", None, "fw-2.0")])
    m["cached_then_replay"] = first + b"\n--\n" + manifest([report("prim", 6), report("sec", None)]) + \
        b"\n--\n" + manifest([report("prim", 7), report("sec", None, "fw-2.0")])
    m["replay"] = first + b"\n--\n" + first + b"\n--\n" + second
    d = os.path.join(out, "server_manifest")
    os.makedirs(d, exist_ok=True)
    for n, b in m.items():
        open(os.path.join(d, n), "wb").write(b)

    pub = {"prim": "cdc629615d59a6d0ad082342eb5ae454dc06c93d7333f9bcc06f4d138f9ae5cb",
           "sec": "4579681715dc02a42122476e735bdff457c0f116c1430e316c9332dbc24198a6"}
    rsa_pub = ("-----BEGIN PUBLIC KEY-----\\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK2n\\n-----END PUBLIC KEY-----\\n")
    reg = {
        "two": {"primary_ecu_serial": "prim", "ecus": [
            {"ecu_serial": s, "hardware_identifier": "hw-" + s,
             "clientKey": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": h}}}
            for s, h in pub.items()]},
        "aktualizr_keys": {"primary_ecu_serial": "prim", "ecus": [
            {"ecu_serial": "prim", "hardware_identifier": "hw",
             "clientKey": {"keytype": "ED25519", "keyval": {"public": pub["prim"].upper()}}}]},
        "no_primary": {"primary_ecu_serial": "x", "ecus": [
            {"ecu_serial": "prim", "hardware_identifier": "hw",
             "clientKey": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub["prim"]}}}]},
        "twice": {"primary_ecu_serial": "prim", "ecus": [
            {"ecu_serial": "prim", "hardware_identifier": "hw",
             "clientKey": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub["prim"]}}}] * 2},
        "bad_hex": {"primary_ecu_serial": "prim", "ecus": [
            {"ecu_serial": "prim", "hardware_identifier": "hw",
             "clientKey": {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "zz"}}}]},
    }
    d = os.path.join(out, "server_register")
    os.makedirs(d, exist_ok=True)
    for n, b in reg.items():
        open(os.path.join(d, n), "wb").write(json.dumps(b).encode())
    open(os.path.join(d, "rsa_truncated"), "wb").write(
        ('{"primary_ecu_serial":"p","ecus":[{"ecu_serial":"p","hardware_identifier":"h",'
         '"clientKey":{"keytype":"RSA","keyval":{"public":"%s"}}}]}' % rsa_pub).encode())
    open(os.path.join(d, "empty"), "wb").write(b"")

    # admin: first byte picks the operation (0 device add, 1 assign, 2 fleet credential)
    adm = {
        "add": b"\x00" + json.dumps({"id": "dev-9"}).encode(),
        "add_fleet_id": b"\x00" + json.dumps({"id": "fleet:x"}).encode(),
        "add_pem": b"\x00" + json.dumps({"id": "dev-8", "public_key": "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"}).encode(),
        "assign_ecu": b"\x01" + json.dumps({"target": "fw-1.0", "ecu": "prim", "devices": ["dev-1"]}).encode(),
        "assign_hw": b"\x01" + json.dumps({"target": "fw-1.0", "hardware_id": "board-a", "devices": ["dev-1", "dev-1"]}).encode(),
        "assign_wrong_hw": b"\x01" + json.dumps({"target": "fw-1.0", "hardware_id": "board-b", "devices": ["dev-1"]}).encode(),
        "assign_unknown": b"\x01" + json.dumps({"target": "fw-1.0", "ecu": "prim", "devices": ["ghost"]}).encode(),
        "fleet": b"\x02" + json.dumps({"name": "factory"}).encode(),
        "fleet_bad": b"\x02" + json.dumps({"name": "a/b"}).encode(),
    }
    d = os.path.join(out, "server_admin")
    os.makedirs(d, exist_ok=True)
    for n, b in adm.items():
        open(os.path.join(d, n), "wb").write(b)


if __name__ == "__main__":
    main()
