/*
 * jitkit/version.h - the library's version, the one place it is written.
 *
 * CMake reads the three numbers from here (project version, the shared
 * library's SONAME, the package version files), and jk_version() in
 * status.h returns the string, so a program can compare the version it was
 * compiled against (these macros) with the one it runs against.
 *
 * Policy (README.md, "Versions"): MAJOR changes when the ABI breaks (a
 * function removed or its parameters changed, a public struct's layout or
 * an enum's values changed); MINOR when API is added compatibly; PATCH for
 * fixes. While MAJOR is 0 every MINOR may break the ABI, so the SONAME is
 * libjitkit.so.0.MINOR; from 1.0 on it is libjitkit.so.MAJOR.
 */
#ifndef JITKIT_VERSION_H
#define JITKIT_VERSION_H

#define JK_VERSION_MAJOR 0
#define JK_VERSION_MINOR 1
#define JK_VERSION_PATCH 0
#define JK_VERSION_STRING "0.1.0"

/* One number that orders versions: 0.1.0 is 100, 1.2.3 is 10203. */
#define JK_VERSION_NUMBER (JK_VERSION_MAJOR * 10000 + JK_VERSION_MINOR * 100 + JK_VERSION_PATCH)

/* The older spellings. */
#define JITKIT_VERSION_MAJOR JK_VERSION_MAJOR
#define JITKIT_VERSION_MINOR JK_VERSION_MINOR
#define JITKIT_VERSION_PATCH JK_VERSION_PATCH

#endif
