/* bt-plugin.c: a module t-bt loads with dlopen(), to see its frames resolved. */
#include <stddef.h>
#include <sys/socket.h>

void plugin_send(int fd, size_t len);

__attribute__((noinline)) void plugin_send(int fd, size_t len)
{
	static char buf[64];

	send(fd, buf, len, MSG_DONTWAIT);
	__asm__ volatile("" ::: "memory");
}
