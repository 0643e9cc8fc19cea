#!/usr/bin/python3
"""Builds the pieces of the emulated device from files, without root:

  devimg.py modules KDIR NAME...      the module files NAME need, dependencies first
  devimg.py libs SYSROOT... -- ELF... the shared objects the ELF files need (readelf)
  devimg.py cpio DIR OUT              a gzip'd newc archive of DIR (owner root)
  devimg.py disk OUT IMG:MIB...       an MBR disk: one primary partition per image,
                                      each MIB mebibytes (the image copied at its start)
  devimg.py find FILE NEEDLE-FILE START LENGTH
                                      the offset of NEEDLE-FILE's first 64 bytes in
                                      FILE's bytes START..START+LENGTH (once there)
  devimg.py flip FILE OFFSET          one byte of FILE changed in place
"""
import gzip
import os
import re
import stat
import struct
import subprocess
import sys


def modinfo_depends(path):
    data = open(path, "rb").read()
    m = re.search(rb"\x00depends=([^\x00]*)\x00", data)
    if not m or not m.group(1):
        return []
    return m.group(1).decode().split(",")


def modules(kdir, names):
    index = {}
    for root, _, files in os.walk(os.path.join(kdir, "kernel")):
        for f in files:
            if f.endswith(".ko"):
                index[f[:-3].replace("-", "_")] = os.path.relpath(os.path.join(root, f), kdir)
    order, seen = [], set()

    def visit(name):
        key = name.replace("-", "_")
        if key in seen:
            return
        seen.add(key)
        if key not in index:
            sys.exit("devimg: no module %s in %s" % (name, kdir))
        for d in modinfo_depends(os.path.join(kdir, index[key])):
            visit(d)
        order.append(index[key])

    for n in names:
        visit(n)
    print("\n".join(order))


def needed(path):
    out = subprocess.run(["aarch64-linux-gnu-readelf", "-d", path], check=True,
                         capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def libs(sysroots, elfs):
    found, todo = {}, list(elfs)
    interp = "ld-linux-aarch64.so.1"
    todo_names = []
    for e in todo:
        todo_names += needed(e)
    todo_names.append(interp)
    while todo_names:
        n = todo_names.pop()
        if n in found:
            continue
        for d in sysroots:
            p = os.path.join(d, n)
            if os.path.exists(p):
                found[n] = os.path.realpath(p)
                todo_names += needed(found[n])
                break
        else:
            sys.exit("devimg: %s not found in %s" % (n, " ".join(sysroots)))
    for n, p in sorted(found.items()):
        print(n, p)


def cpio(src, out):
    chunks, ino = [], 1

    def entry(name, mode, data=b"", nlink=1):
        nonlocal ino
        nb = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(nb), 0))
        ino += 1
        chunks.append(hdr + nb + b"\0" * ((4 - (110 + len(nb)) % 4) % 4))
        chunks.append(data + b"\0" * ((4 - len(data) % 4) % 4))

    for root, dirs, files in os.walk(src):
        dirs.sort()
        for n in sorted(dirs) + sorted(files):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, src)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                entry(rel, 0o120777, os.readlink(p).encode())
            elif stat.S_ISDIR(st.st_mode):
                entry(rel, 0o040755, nlink=2)
            else:
                entry(rel, 0o100000 | (st.st_mode & 0o777), open(p, "rb").read())
    entry("TRAILER!!!", 0)
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(b"".join(chunks))


def disk(out, parts):
    mib = 2048  # sectors
    start, table, layout = mib, b"", []
    for i, spec in enumerate(parts):
        img, size = spec.rsplit(":", 1)
        n = int(size) * mib
        if os.path.getsize(img) > n * 512:
            sys.exit("devimg: %s does not fit in %s MiB" % (img, size))
        ptype = 0x83
        table += struct.pack("<B3sB3sII", 0, b"\0\0\0", ptype, b"\0\0\0", start, n)
        layout.append((img, start))
        start += n
    table += b"\0" * (64 - len(table))
    with open(out, "wb") as f:
        f.truncate(start * 512)
        f.seek(446)
        f.write(table + b"\x55\xaa")
        for img, at in layout:
            f.seek(at * 512)
            with open(img, "rb") as g:
                while True:
                    b = g.read(1 << 20)
                    if not b:
                        break
                    f.write(b)
    for i, (img, at) in enumerate(layout):
        print(i + 1, at * 512)


def find(path, needle_path, start, length):
    needle = open(needle_path, "rb").read(64)
    with open(path, "rb") as f:
        f.seek(start)
        data = f.read(length)
    at = data.find(needle)
    if at < 0 or data.find(needle, at + 1) >= 0:
        sys.exit("devimg: the needle is not in %s exactly once" % path)
    print(start + at)


def flip(path, offset):
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def main(a):
    if a[0] == "modules":
        modules(a[1], a[2:])
    elif a[0] == "libs":
        i = a.index("--")
        libs(a[1:i], a[i + 1:])
    elif a[0] == "cpio":
        cpio(a[1], a[2])
    elif a[0] == "disk":
        disk(a[1], a[2:])
    elif a[0] == "find":
        find(a[1], a[2], int(a[3]), int(a[4]))
    elif a[0] == "flip":
        flip(a[1], int(a[2]))
    else:
        sys.exit(__doc__)


main(sys.argv[1:])
