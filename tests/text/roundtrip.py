#!/usr/bin/env python3
"""roundtrip.py - the objdump round trip of the text assembler on real code.

Disassembles real libraries (objdump -d -M intel -w), strips objdump's
annotations (addresses, '# <symbol>' comments) and turns branch targets into
'.'-relative ones (`call 401130 <foo>` at 0x401000 -> `call .+0x130`), then
assembles every sampled statement on its own with jitkit (rt_tool --dump)
and judges each one:

  exact     jitkit's bytes are the original bytes
  as-gas    different from the original, identical to GNU as's bytes for
            the same text (an equivalent encoding GNU as picks too, e.g.
            `nop WORD PTR [rax+rax*1+0x0]` without the disp32 padding)
  same      different from both, but objdump decodes jitkit's bytes to the
            same text (an equivalent encoding)
  WRONG     decodes to something else: a bug (fails the test)
  error     jitkit rejected the text (not supported yet), by message

and prints a table by instruction class, then "N passed, N failed" where
failed counts WRONG. --corpus FILE writes the verified (exact / as-gas)
lines as "hex<TAB>text" for the binutils-free test (rt_tool --check).

usage: roundtrip.py --tool PATH [--m32] [--sample N] [--seed S] [--corpus OUT]
                    [--max-gp-errors PCT] LIB...
"""
import argparse
import collections
import os
import random
import re
import subprocess
import sys
import tempfile

PREFIXES = {"lock", "rep", "repz", "repe", "repnz", "repne", "bnd", "notrack", "data16",
            "data32", "addr32", "addr16", "cs", "ds", "es", "ss", "fs", "gs", "xacquire",
            "xrelease"}
BRANCH = re.compile(r"^((?:[\w.]+ )*?)(j[a-z]+|call|loop[a-z]*|xbegin)\s+(?:0x)?([0-9a-f]+)(?: <[^>]*>)?$")
LINE = re.compile(r"^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$")

GP_CLASSES = [
    ("arith", r"^(add|sub|adc|sbb|cmp|test|inc|dec|neg|not|and|or|xor|adcx|adox|andn)$"),
    ("mov", r"^(mov|movabs|movzx|movsx|movsxd|lea|xchg|cmpxchg|xadd|cmov\w+|movbe|cmpxchg8b|cmpxchg16b)$"),
    ("stack", r"^(push|pop|leave|enter|pushf|popf|pushfq|popfq|pushfd|popfd)$"),
    ("branch", r"^(j\w+|call|ret|loop\w*|iret\w*)$"),
    ("shift", r"^(shl|sal|shr|sar|rol|ror|rcl|rcr|shld|shrd|shlx|shrx|sarx|rorx)$"),
    ("muldiv", r"^(mul|imul|div|idiv|mulx)$"),
    ("bit", r"^(bt|bts|btr|btc|bsf|bsr|tzcnt|lzcnt|popcnt|bswap|blsi|blsr|blsmsk|bextr|bzhi|pdep|pext)$"),
    ("setcc", r"^set\w+$"),
    ("string", r"^(movs\w*|stos\w*|lods\w*|scas\w*|cmps\w*|ins\w?|outs\w?)$"),
    ("convert", r"^(cbw|cwde|cdqe|cwd|cdq|cqo|cwtl|cltq)$"),
    ("misc", r"^(nop|endbr64|endbr32|hlt|ud2|ud0|ud1|int3|int|into|syscall|sysenter|cpuid|rdtsc|rdtscp|pause|lfence|mfence|sfence|clc|stc|cmc|cld|std|cli|sti|xlat\w*|lahf|sahf|rdrand|rdseed|xgetbv|xbegin|xend|xabort|xtest|rdpid|rdfsbase|rdgsbase|wrfsbase|wrgsbase|in|out|leave)$"),
]


def norm_ws(s):
    return re.sub(r"\s+", " ", s.strip())


def canon(text):
    """Spellings objdump uses for equivalent encodings: `+0x0]` is a zero
    displacement byte that an assembler leaves out."""
    return re.sub(r"\+0x0\]", "]", text)


def normalize(addr, text, bits=64):
    """objdump text -> assembler text ('.'-relative branches), or None."""
    text = text.split("#", 1)[0].rstrip() if "#" in text else text.rstrip()
    text = norm_ws(text)
    if not text or "(bad)" in text or "<internal" in text or text.startswith(".byte"):
        return None
    m = BRANCH.match(text)
    if m:
        rel = (int(m.group(3), 16) - addr) % (1 << bits)
        if rel >= 1 << (bits - 1):
            rel -= 1 << bits
        text = "%s%s .%s0x%x" % (m.group(1), m.group(2), "+" if rel >= 0 else "-", abs(rel))
    return text


def mnemonic(text):
    for w in text.split():
        if w in PREFIXES or w.startswith("rex"):
            continue
        return w.split(",")[0]
    return ""


def klass(text):
    m = mnemonic(text)
    if re.search(r"\b[xyz]mm\d+\b|\bmm\d\b|\bk\d\b", text) or m.startswith("v"):
        return "simd"
    if m.startswith("f") and m not in ("fs",):
        return "x87"
    for name, rx in GP_CLASSES:
        if re.match(rx, m):
            return name
    return "other"


def disassemble(lib):
    out = subprocess.run(["objdump", "-d", "-M", "intel", "-w", lib], capture_output=True,
                         text=True, errors="replace").stdout
    seen = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        hexb = m.group(2).replace(" ", "")
        text = normalize(addr, m.group(3))
        if text is None or text in seen:
            continue
        seen[text] = hexb
    return seen


def run_tool(tool, m32, items):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        for hexb, text in items:
            f.write("%s\t%s\n" % (hexb, text))
        path = f.name
    cmd = [tool] + (["-m32"] if m32 else []) + ["--dump", path]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace").stdout.splitlines()
    os.unlink(path)
    if len(out) != len(items):
        sys.exit("rt_tool printed %d lines for %d statements" % (len(out), len(items)))
    return [tuple(l.split("\t", 1)) for l in out]


def gas_bytes(texts, m32):
    """Bytes GNU as gives for each text (None where it refuses)."""
    result = [None] * len(texts)
    keep = list(range(len(texts)))
    tmp = tempfile.mkdtemp()
    src, obj, binf = (os.path.join(tmp, n) for n in ("t.s", "t.o", "t.bin"))
    for _ in range(40):
        with open(src, "w") as f:
            f.write(".intel_syntax noprefix\n" + (".code32\n" if m32 else ""))
            for i in keep:
                f.write("rt_%d: %s\n" % (i, texts[i]))
            f.write("rt_end:\n")
        r = subprocess.run(["as", "--32" if m32 else "--64", "-o", obj, src],
                           capture_output=True, text=True)
        if r.returncode == 0:
            break
        bad = set()
        for m in re.finditer(r":(\d+): Error", r.stderr):
            idx = int(m.group(1)) - (3 if m32 else 2)  # header lines before rt_0
            if 0 <= idx < len(keep):
                bad.add(keep[idx])
        if not bad:
            sys.stderr.write("roundtrip.py: GNU as failed without line numbers:\n" + r.stderr[:2000])
            return result
        keep = [i for i in keep if i not in bad]
    else:
        return result
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", obj, binf], check=True)
    data = open(binf, "rb").read()
    syms = {}
    for line in subprocess.run(["nm", obj], capture_output=True, text=True).stdout.splitlines():
        p = line.split()
        if len(p) == 3 and p[2].startswith("rt_"):
            syms[p[2]] = int(p[0], 16)
    order = keep + ["end"]
    for a, b in zip(order, order[1:]):
        s, e = syms.get("rt_%s" % a), syms.get("rt_%s" % b)
        if s is not None and e is not None:
            result[a] = data[s:e].hex()
    return result


def decode_same(items, m32):
    """For (hex, text) pairs: does objdump decode hex back to text?"""
    blob = b"".join(bytes.fromhex(h) for h, _ in items)
    with tempfile.NamedTemporaryFile(suffix=".bin", delete=False) as f:
        f.write(blob)
        path = f.name
    out = subprocess.run(["objdump", "-D", "-b", "binary", "-m", "i386" if m32 else "i386:x86-64",
                          "-M", "intel", "-w", path], capture_output=True, text=True).stdout
    os.unlink(path)
    dec = {}
    for line in out.splitlines():
        m = LINE.match(line)
        if m:
            addr = int(m.group(1), 16)
            dec[addr] = normalize(addr, m.group(3), 32 if m32 else 64) or ""
    res, off = [], 0
    for h, text in items:
        n = len(h) // 2
        parts, o = [], off
        while o < off + n and o in dec:
            parts.append(dec[o])
            nxt = min([a for a in dec if a > o] + [off + n])
            o = nxt
        got = canon(norm_ws(" ".join(parts)))
        res.append(got == canon(text))
        off += n
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", required=True)
    ap.add_argument("--m32", action="store_true")
    ap.add_argument("--sample", type=int, default=4000, help="statements per library")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus")
    ap.add_argument("--corpus-size", type=int, default=3000)
    ap.add_argument("--max-gp-errors", type=float, default=100.0,
                    help="fail when more than this %% of general-purpose statements are rejected")
    ap.add_argument("libs", nargs="+")
    a = ap.parse_args()

    rnd = random.Random(a.seed)
    items = []
    for lib in a.libs:
        if not os.path.exists(lib):
            continue
        seen = disassemble(lib)
        texts = sorted(seen)
        # every mnemonic at least once, then a random sample
        first = {}
        for t in texts:
            first.setdefault(mnemonic(t), t)
        pick = set(first.values())
        rest = [t for t in texts if t not in pick]
        rnd.shuffle(rest)
        pick.update(rest[:max(0, a.sample - len(pick))])
        items += [(seen[t], t) for t in sorted(pick)]
    if not items:
        print("no input libraries found")
        print("0 passed, 0 failed")
        return 0
    res = run_tool(a.tool, a.m32, items)
    outcome = [None] * len(items)
    ours = [None] * len(items)
    need_gas = []
    for i, ((orig, text), r) in enumerate(zip(items, res)):
        if r[0] == "OK":
            ours[i] = r[1] if len(r) > 1 else ""
            if ours[i] == orig:
                outcome[i] = "exact"
            else:
                need_gas.append(i)
        else:
            outcome[i] = "error"
    gas = gas_bytes([items[i][1] for i in need_gas], a.m32) if need_gas else []
    undecided = []
    for i, g in zip(need_gas, gas):
        if g is not None and g == ours[i]:
            outcome[i] = "as-gas"
        else:
            undecided.append(i)
    if undecided:
        same = decode_same([(ours[i], items[i][1]) for i in undecided], a.m32)
        for i, s in zip(undecided, same):
            outcome[i] = "same" if s else "WRONG"

    table = collections.OrderedDict()
    errors = collections.Counter()
    for (orig, text), o in zip(items, outcome):
        k = klass(text)
        table.setdefault(k, collections.Counter())[o] += 1
        if o == "error":
            errors[(k, mnemonic(text))] += 1
    cols = ["exact", "as-gas", "same", "WRONG", "error"]
    mode = "x86-32" if a.m32 else "x86-64"
    print("round trip %s: %d statements from %s" % (mode, len(items),
          ", ".join(os.path.basename(l) for l in a.libs if os.path.exists(l))))
    print("%-9s %7s " % ("class", "total") + " ".join("%7s" % c for c in cols) + "   ok%")
    gp_total = gp_err = 0
    for k in sorted(table, key=lambda k: (k in ("simd", "x87", "other"), k)):
        c = table[k]
        tot = sum(c.values())
        ok = c["exact"] + c["as-gas"] + c["same"]
        if k not in ("simd", "x87", "other"):
            gp_total += tot
            gp_err += c["error"]
        print("%-9s %7d " % (k, tot) + " ".join("%7d" % c[x] for x in cols) +
              "  %5.1f" % (100.0 * ok / tot))
    tot = collections.Counter()
    for c in table.values():
        tot.update(c)
    print("%-9s %7d " % ("all", len(items)) + " ".join("%7d" % tot[x] for x in cols))
    if errors:
        print("most frequent rejected mnemonics (class/mnemonic: count):")
        print("  " + ", ".join("%s/%s: %d" % (k, m, n) for (k, m), n in errors.most_common(25)))
    wrong = [(items[i], ours[i]) for i in range(len(items)) if outcome[i] == "WRONG"]
    for (orig, text), h in wrong[:40]:
        print("WRONG: %-50s original %s, jitkit %s" % (text, orig, h))
    gp_pct = 100.0 * gp_err / gp_total if gp_total else 0.0
    print("general-purpose statements rejected: %d of %d (%.1f%%)" % (gp_err, gp_total, gp_pct))

    if a.corpus:
        good = [(ours[i], items[i][1]) for i in range(len(items))
                if outcome[i] in ("exact", "as-gas")]
        rnd.shuffle(good)
        good = sorted(good[:a.corpus_size], key=lambda x: x[1])
        with open(a.corpus, "w") as f:
            f.write("# generated by tests/text/roundtrip.py from objdump -d -M intel of %s;\n"
                    "# bytes verified against the original or GNU as. hex<TAB>statement\n"
                    % ", ".join(os.path.basename(l) for l in a.libs))
            for h, t in good:
                f.write("%s\t%s\n" % (h, t))
    failed = len(wrong) + (1 if gp_pct > a.max_gp_errors else 0)
    print("%d passed, %d failed" % (len(items) - len(wrong) - tot["error"], failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
