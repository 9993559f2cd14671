/* live-stub.c: TEMPORARY until the record-time filter lands: sampling and filter settings. */
#include "config.h"

#include "st.h"

static unsigned st_sample_n;

int st_live_set_filter(const char *text)
{
	return text[0] ? -1 : 0;
}

void st_live_set_sample(unsigned n)
{
	__atomic_store_n(&st_sample_n, n, __ATOMIC_RELAXED);
}

unsigned st_live_sample(void)
{
	return __atomic_load_n(&st_sample_n, __ATOMIC_RELAXED);
}

const char *st_live_filter_text(void)
{
	return "";
}
