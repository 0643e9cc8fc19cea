#!/usr/bin/python3
"""Oracle test: uptake's keys, key ids and signatures against Debian's
python3-securesystemslib. Signatures made by either side must verify on the
other; tampered ones must not; key ids must agree. securesystemslib's legacy
key ids also hash "keyid_hash_algorithms"; the TUF 1.0 key id that uptake
writes is the SHA-256 of the canonical {keytype, keyval:{public}, scheme},
computed here with securesystemslib's own encode_canonical.
Run: signatures.py --bin-dir <build>/tests"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from securesystemslib import keys
from securesystemslib.formats import encode_canonical

GENERATORS = {"ed25519": keys.generate_ed25519_key, "ecdsa": keys.generate_ecdsa_key,
              "rsa": keys.generate_rsa_key}


def tuf_keyid(obj):
    return hashlib.sha256(encode_canonical(obj).encode("utf-8")).hexdigest()


class Result:
    passed = 0
    failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", what)


def run(tool, *args):
    return subprocess.run([tool, *args], capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    args = ap.parse_args()
    tool = os.path.join(args.bin_dir, "sig_tool")
    r = Result()
    msg = encode_canonical({"_type": "targets", "version": 3, "x": "\u00e9\n"}).encode()
    with tempfile.TemporaryDirectory() as d:
        mpath = os.path.join(d, "msg")
        with open(mpath, "wb") as f:
            f.write(msg)
        for name, gen in GENERATORS.items():
            # securesystemslib signs, uptake verifies
            k = gen()
            pub = {"keytype": k["keytype"], "scheme": k["scheme"],
                   "keyval": {"public": k["keyval"]["public"]}}
            kpath = os.path.join(d, name + ".pub.json")
            with open(kpath, "w") as f:
                json.dump(pub, f)
            sig = keys.create_signature(k, msg)["sig"]
            r.check(run(tool, "verify", kpath, mpath, sig).returncode == 0,
                    f"{name}: securesystemslib signature rejected")
            bad = ("0" if sig[10] != "0" else "1").join([sig[:10], sig[11:]])
            r.check(run(tool, "verify", kpath, mpath, bad).returncode == 1,
                    f"{name}: tampered signature accepted")
            out = run(tool, "keyid", kpath).stdout.strip()
            r.check(out == tuf_keyid(pub), f"{name}: key id {out} != {tuf_keyid(pub)}")
            # uptake signs, securesystemslib verifies
            priv = os.path.join(d, name + ".pem")
            gen_out = run(tool, "keygen", name, priv).stdout.splitlines()
            ours = json.loads(gen_out[0])
            r.check(gen_out[1] == tuf_keyid(ours), f"{name}: generated key id differs")
            sig = run(tool, "sign", priv, mpath).stdout.strip()
            key_dict = dict(ours, keyid=gen_out[1])
            r.check(keys.verify_signature(key_dict, {"keyid": gen_out[1], "sig": sig}, msg),
                    f"{name}: uptake signature rejected by securesystemslib")
            r.check(not keys.verify_signature(key_dict, {"keyid": gen_out[1], "sig": sig},
                                              msg + b" "),
                    f"{name}: securesystemslib accepted a signature over other bytes")
    print(f"{r.passed} passed, {r.failed} failed")
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
