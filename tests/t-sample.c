/* t-sample.c: placeholder */
#include "harness.h"
void th_workload(void){}
void th_check(void){}
