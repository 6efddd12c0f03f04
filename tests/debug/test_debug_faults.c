#include "jt.h"
static void test_placeholder(void) { JT_CHECK(1); }
int main(void) { JT_RUN(test_placeholder); return jt_finish(); }
