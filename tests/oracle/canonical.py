#!/usr/bin/python3
"""Oracle test: uptake's canonical JSON against securesystemslib's
encode_canonical (Debian's python3-securesystemslib), on generated and
hand-written values. Run: canonical.py --bin-dir <build>/tests"""
import argparse
import json
import random
import subprocess
import sys

from securesystemslib.formats import encode_canonical

HAND = [
    {}, [], "", 0, -1, True, False, None,
    {"b": 1, "a": [True, None, 'x"y\\z']},
    {"\uffff": 1, "\U00010000": 2, "\u00e9": 3, "z": 4, "": 5},
    {"ctl": "\x00\x01\x1f\n\t\r\x7f", "quote": '"', "bs": "\\\\"},
    {"int64": [9223372036854775807, -9223372036854775808, 0, -0]},
    {"nested": {"a": {"b": {"c": [[[]], {}]}}}},
    {"signed": {"_type": "root", "keys": {"ab": {"keytype": "ed25519"}}}},
    "\U0001F600 emoji \u2028 line sep",
]

ALPHABET = ['a', 'b', 'Z', '"', '\\', '/', '\x00', '\x1f', '\n', '\u00e9', '\u2603',
            '\uffff', '\U00010000', '\U0001F600', ' ', '0', '_']


def rand_str(rng):
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))


def rand_value(rng, depth=0):
    kind = rng.randint(0, 7 if depth < 5 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, 1, -1, 2**63 - 1, -2**63, rng.randint(-2**63, 2**63 - 1)])
    if kind in (3, 4):
        return rand_str(rng)
    if kind == 5:
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rand_str(rng): rand_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def dump(rng, v):
    style = rng.randint(0, 2)
    if style == 0:
        return json.dumps(v)
    if style == 1:
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(v, ensure_ascii=rng.choice([True, False]), sort_keys=True,
                      separators=(" , ", " : "))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--count", type=int, default=3000)
    args = ap.parse_args()
    rng = random.Random(20261123)
    values = HAND + [rand_value(rng) for _ in range(args.count)]
    lines = [dump(rng, v) for v in values]
    # JSON texts must stay on one line for the tool's line protocol.
    assert all("\n" not in l for l in lines)
    out = subprocess.run([args.bin_dir + "/json_canon"], input="\n".join(lines) + "\n",
                         capture_output=True, text=True, encoding="utf-8", check=True).stdout
    got = out.splitlines()
    passed = failed = 0
    for v, line, g in zip(values, lines, got):
        want = encode_canonical(v).encode("utf-8").hex()
        if g == want:
            passed += 1
        else:
            failed += 1
            if failed <= 5:
                print("MISMATCH for", line, "\n  got ", g[:200], "\n  want", want[:200])
    if len(got) != len(values):
        print("tool answered", len(got), "lines for", len(values), "inputs")
        failed += 1
    # Values securesystemslib refuses (floats) must be refused by uptake too.
    out = subprocess.run([args.bin_dir + "/json_canon"], input='{"a":1.5}\n[1e3]\n',
                         capture_output=True, text=True, check=True).stdout.split("\n")
    for g in out[:2]:
        if g == "ERR UPT_ERR_CANONICAL":
            passed += 1
        else:
            failed += 1
            print("float not refused:", g)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
