/* tornwrite.c: a memcpy that stops half way through one trace line, as a preempted writer would. */
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * Linked with -rdynamic, this memcpy is the one the preloaded library calls.
 * C lets memcpy store its bytes in any order, and a thread can be descheduled
 * between any two of them: for the event of the 7-byte send, it stores
 * everything but the thread's name (tornwrite, 9 letters), says so, and waits for the go-ahead. A
 * reader that printed the line now would print a wrong name from valid JSON.
 */
static const char *paused_path, *go_path;

static const char *find(const char *s, size_t n, const char *what, size_t wn)
{
	size_t i, j;

	for (i = 0; i + wn <= n; i++) {
		for (j = 0; j < wn && s[i + j] == what[j]; j++)
			;
		if (j == wn)
			return s + i;
	}
	return NULL;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	static const char name[] = "\"comm\":\"tornwrite\"", len7[] = "\"len\":7,";
	static const struct timespec tick = {0, 20 * 1000 * 1000};
	volatile char *d = dst;
	const char *s = src, *hold = NULL;
	size_t i;
	struct stat sb;

	if (go_path && n > 64 && s[n - 1] == '\n' && find(s, n, len7, sizeof(len7) - 1))
		hold = find(s, n, name, sizeof(name) - 1);
	if (hold)
		hold += 8; /* the name's letters, after "comm":" */
	for (i = 0; i < n; i++)
		if (!hold || s + i < hold || s + i >= hold + 9)
			d[i] = s[i];
	if (!hold)
		return dst;
	close(open(paused_path, O_WRONLY | O_CREAT, 0600));
	while (stat(go_path, &sb) != 0)
		nanosleep(&tick, NULL);
	for (i = 0; i < 9; i++)
		d[hold - s + i] = hold[i];
	return dst;
}

/* tornwrite PAUSED GO: two sends, the second one's trace line copied in two halves. */
int main(int argc, char **argv)
{
	int sp[2];

	if (argc != 3 || socketpair(AF_UNIX, SOCK_STREAM, 0, sp) != 0)
		return 2;
	if (send(sp[0], "abc", 3, 0) != 3)
		return 1;
	paused_path = argv[1];
	go_path = argv[2];
	if (send(sp[0], "abcdefg", 7, 0) != 7)
		return 1;
	return 0;
}
