#!/usr/bin/env python3
"""The amalgamation's rules on a made-up tree, for what jitkit's own sources
do not exercise yet (tools/amalgamate.py describes the rules):

  - a public header included in the middle of another one;
  - a public header the umbrella does not include;
  - two .c files in different folders with a static function of one name,
    and with a typedef'd struct of one name but different members;
  - two .c files defining one macro differently for themselves;
  - a macro a file defines only if the system did not (#ifndef): kept;
  - per-OS files *_posix.c / *_windows.c without guards of their own,
    defining the same global function;
  - a private header first included by a per-OS file of the other OS and
    needed by a later portable file (hoisting);
  - an X-macro list (.inc) included twice.

The tree is amalgamated, the two files are compiled with CC and
-std=c11 -Wall -Wextra -Werror -pedantic together with a main program, and
the program's output is checked.

    test_amalgamate.py TOOLS/amalgamate.py CC WORKDIR
"""
import os
import shutil
import subprocess
import sys

FILES = {
    "include/jitkit/version.h": '#define JK_VERSION_STRING "9.9.9"\n',
    "include/jitkit/jitkit.h": """#ifndef T_JITKIT_H
#define T_JITKIT_H
#include "jitkit/version.h"
typedef struct t_pair { int a, b; } t_pair;
#include "jitkit/uses_pair.h" /* needs t_pair, so it must stay here */
int jk__one(void);
int jk__two(void);
int jk__os(void);
int jk__late(void);
int jk__list(void);
unsigned long jk__max(void);
#endif
""",
    "include/jitkit/uses_pair.h": """#ifndef T_USES_PAIR_H
#define T_USES_PAIR_H
static inline int t_sum(t_pair p) { return p.a + p.b; }
#endif
""",
    "include/jitkit/orphan.h": """#ifndef T_ORPHAN_H
#define T_ORPHAN_H
#define T_ORPHAN 7
#endif
""",
    "src/a/priv_p.h": """#ifndef T_PRIV_P_H
#define T_PRIV_P_H
#include "jitkit/jitkit.h"
#endif
""",
    "src/a/one.c": """#include "a/priv_p.h"
#define LOCAL 1
typedef struct ctx {
    int v;
} ctx;
static int helper(void) { ctx c = {LOCAL}; return c.v; }
int jk__one(void) { return helper(); }
""",
    "src/b/two.c": """#include "a/priv_p.h"
#define LOCAL 2
#define ITEM(x) +x
typedef struct ctx { long w; } ctx;
static int helper(void) { ctx c = {LOCAL}; return (int)c.w; }
int jk__two(void) { return helper(); }
int jk__list(void) { return 0
#include "b/list.inc"
    ; }
static int twice(void) { return 0
#include "b/list.inc"
    ; }
int jk__list2(void);
int jk__list2(void) { return twice(); }
""",
    "src/b/list.inc": "ITEM(10) ITEM(20)\n",
    "src/c/aaa_windows.c": """#include "c/shared_p.h"
int jk__os(void) { return t_os_value(); }
""",
    "src/c/aaa_posix.c": """#include "a/priv_p.h"
int jk__os(void) { return 40; }
""",
    "src/c/shared_p.h": """#ifndef T_SHARED_P_H
#define T_SHARED_P_H
static inline int t_os_value(void) { return 41; }
static inline int t_late_value(void) { return 3; }
#endif
""",
    "src/c/fallback.c": """#include <stdint.h>
#include "a/priv_p.h"
#ifndef SIZE_MAX
#  define SIZE_MAX ((size_t)-1)
#endif
unsigned long jk__max(void) { return SIZE_MAX > 0 ? 1ul : 0ul; }
""",
    "src/c/zzz.c": """#include <stdint.h>
#include "c/shared_p.h"
#include "a/priv_p.h"
int jk__late(void) { return t_late_value() + (SIZE_MAX > 0); }
""",
}

MAIN = """#include "jitkit.h"
#include <stdio.h>
int main(void)
{
    t_pair p = {1, 2};
    printf("%s %d %d %d %d %d %d %lu %d\\n", JK_VERSION_STRING, jk__one(), jk__two(),
           jk__os(), jk__late(), jk__list(), t_sum(p), jk__max(), T_ORPHAN);
    return 0;
}
"""


def main():
    script, cc, work = sys.argv[1:4]
    shutil.rmtree(work, ignore_errors=True)
    tree = os.path.join(work, "tree")
    for name, text in FILES.items():
        path = os.path.join(tree, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    dist = os.path.join(work, "dist")
    subprocess.run([sys.executable, script, "--root", tree, "--out", dist], check=True)
    with open(os.path.join(dist, "main.c"), "w") as f:
        f.write(MAIN)
    exe = os.path.join(work, "prog")
    cmd = cc.split() + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                        os.path.join(dist, "jitkit.c"), os.path.join(dist, "main.c"), "-o", exe]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(" ".join(cmd))
        print(r.stdout + r.stderr)
        print("FAILED: the amalgamation of the made-up tree does not compile")
        return 1
    out = subprocess.run([exe], capture_output=True, text=True, check=True).stdout.strip()
    # one, two (statics renamed apart), the POSIX file (not the Windows one),
    # the hoisted header's value + SIZE_MAX kept, the list, the inline helper
    # from the header included in the middle, the orphan header
    want = "9.9.9 1 2 40 4 30 3 1 7" if os.name != "nt" else "9.9.9 1 2 41 4 30 3 1 7"
    print("got:  %s\nwant: %s" % (out, want))
    if out != want:
        print("FAILED")
        return 1
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
