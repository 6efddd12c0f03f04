/*
 * jitkit/jitkit.h - umbrella header: include this and get the whole API.
 */
#ifndef JITKIT_H
#define JITKIT_H

#include "jitkit/status.h"
#include "jitkit/mem.h"
#include "jitkit/x86.h"
#include "jitkit/a64.h"
#include "jitkit/heap.h"
#include "jitkit/asm.h"
#include "jitkit/func.h"
#include "jitkit/debug.h"

#endif
