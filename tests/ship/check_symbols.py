#!/usr/bin/env python3
"""Check what jitkit's libraries export against the headers.

    check_symbols.py --nm NM --headers include/jitkit --shared libjitkit.so
    check_symbols.py --nm NM --headers include/jitkit --static libjitkit.a
    check_symbols.py --objdump OBJDUMP --headers include/jitkit --dll libjitkit.dll

The API is every function declared with JK_API in the public headers.
--shared: the dynamic symbol table (nm -D) defines exactly the API.
--dll: the export table of a Windows DLL (objdump -p) holds exactly the API.
--static: every global symbol the archive defines is in the API or starts
with jk__ (shared-private), so nothing collides with a program's names.

The one exception, allowed in both: the GDB JIT interface, whose names GDB
itself looks up (__jit_debug_register_code, __jit_debug_descriptor); they
cannot carry a prefix. Symbols the compiler makes itself are not the
library's names and are skipped: GCC's i386 PIC thunks
(__x86.get_pc_thunk.bx, hidden and merged across objects by COMDAT) and
mingw-w64's .refptr.NAME (COMDAT pointers for pseudo-relocations).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

GDB_JIT = {"__jit_debug_register_code", "__jit_debug_descriptor"}
COMPILER = re.compile(r"^(__x86\.get_pc_thunk\.|\.refptr\.)")


def api(headers):
    names = set()
    for path in sorted(glob.glob(os.path.join(headers, "**", "*.h"), recursive=True)):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        # the #define of JK_API itself is not a declaration
        text = re.sub(r"#\s*define\s+JK_API[^\n]*", " ", text)
        for m in re.finditer(r"\bJK_API\b([^;{]*?)\b([A-Za-z_]\w*)\s*\(", text):
            names.add(m.group(2))
    return names


def defined(nm, args, path):
    out = subprocess.run([nm] + args + [path], check=True, capture_output=True,
                         text=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        # "0000000000001234 T jk_mem_alloc"; archive member headers and
        # undefined symbols ("U name") have fewer fields
        if len(parts) >= 3 and parts[1] not in ("U", "w", "v"):
            syms.add(parts[2].split("@")[0])
    return syms


def dll_exports(objdump, path):
    out = subprocess.run([objdump, "-p", path], check=True, capture_output=True,
                         text=True).stdout
    syms, on = set(), False
    for line in out.splitlines():
        if "[Ordinal/Name Pointer] Table" in line:
            on = True
            continue
        m = re.match(r"^\s*\[\s*\d+\]\s+(\S+)", line)
        if on and m:
            syms.add(m.group(1))
        elif on and line.strip():
            on = False
    return syms


def compare(got, want, what):
    bad = 0
    for s in sorted(got - want):
        print("exported but not declared JK_API: %s" % s)
        bad += 1
    for s in sorted(want - got):
        print("declared JK_API but not exported: %s" % s)
        bad += 1
    print("%s: %d exported functions, %d JK_API declarations" % (what, len(got), len(want)))
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm")
    ap.add_argument("--objdump")
    ap.add_argument("--dll")
    ap.add_argument("--headers", required=True)
    ap.add_argument("--shared")
    ap.add_argument("--static")
    args = ap.parse_args()
    want = api(args.headers)
    if not want:
        sys.exit("no JK_API declarations found under %s" % args.headers)
    bad = 0
    if args.shared:
        got = defined(args.nm, ["-D", "--defined-only"], args.shared) - GDB_JIT
        bad += compare(got, want, os.path.basename(args.shared))
    if args.dll:
        got = dll_exports(args.objdump, args.dll) - GDB_JIT
        bad += compare(got, want, os.path.basename(args.dll))
    if args.static:
        got = defined(args.nm, ["-g", "--defined-only"], args.static)
        for s in sorted(got):
            if s in want or s in GDB_JIT or COMPILER.match(s):
                continue
            if not s.startswith("jk__"):
                print("global symbol without the jk__ prefix: %s" % s)
                bad += 1
        print("%s: %d global symbols: %d API, %d jk__ internal"
              % (os.path.basename(args.static), len(got), len(got & want),
                 len([s for s in got if s not in want and s.startswith("jk__")])))
    if bad:
        print("FAILED: %d symbol problems" % bad)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
