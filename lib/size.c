/* size.c: a size as SENDTRACE_MAX_SIZE and run --max-size take it, one parser for both. */
#include "config.h"

#include "decode.h"

/*
 * Digits, then nothing or one of k, M, G (either case, powers of 1024), from
 * 64 KiB (the largest event and its start record fit, with room) to 1 PiB.
 * 0 if malformed or out of range.
 */
unsigned long long st_parse_size(const char *v)
{
	const unsigned long long min = 64ull << 10, max = 1ull << 50;
	unsigned long long n = 0;
	int shift = 0;

	if (*v < '0' || *v > '9')
		return 0;
	for (; *v >= '0' && *v <= '9'; v++) {
		if (n > max)
			return 0;
		n = n * 10 + (unsigned)(*v - '0');
	}
	if (*v == 'k' || *v == 'K')
		shift = 10;
	else if (*v == 'm' || *v == 'M')
		shift = 20;
	else if (*v == 'g' || *v == 'G')
		shift = 30;
	if (shift)
		v++;
	if (*v || n > max >> shift)
		return 0;
	n <<= shift;
	return n >= min && n <= max ? n : 0;
}
