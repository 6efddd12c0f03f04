#include "jt.h"
static void t(void) {}
int main(void) { JT_RUN(t); return jt_finish(); }
