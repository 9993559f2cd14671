/* symbols.c: file:line for a module offset, through addr2line, cached; for show --bt. */
#include "config.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/*
 * Each new address costs one addr2line process. A trace may name any number
 * of them (or be made to): past this many, frames are shown without file:line
 * rather than spend a process on each.
 */
#define SYM_MAX 1024

struct sym {
	char *key;
	char *line; /* NULL: unknown */
};

static struct sym cache[SYM_MAX];
static size_t ncache;
static struct table by_key;
static int no_addr2line, said_full;

static int same_key(size_t item, const void *key)
{
	return !strcmp(cache[item].key, key);
}

/* The virtual address that a file offset is loaded at, from the PT_LOAD headers. */
static int off_to_vaddr(const char *obj, unsigned long long off, unsigned long long *vaddr)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	struct stat sb;
	/* The path is the trace's word: a FIFO there must not hang show --bt, nor a device act. */
	int fd = open(obj, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY), i, ok = -1;

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) &&
	    !memcmp(eh.e_ident, ELFMAG, SELFMAG) && eh.e_ident[EI_CLASS] == ELFCLASS64) {
		for (i = 0; i < eh.e_phnum; i++) {
			if (pread(fd, &ph, sizeof(ph),
				  (off_t)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_LOAD && off >= ph.p_offset &&
			    off < ph.p_offset + ph.p_filesz) {
				*vaddr = off - ph.p_offset + ph.p_vaddr;
				ok = 0;
				break;
			}
		}
	}
	close(fd);
	return ok;
}

static char *lookup(const char *obj, unsigned long long vaddr)
{
	char cmd[4200], out[1024];
	FILE *p;
	char *line = NULL;

	if (no_addr2line || strchr(obj, '\''))
		return NULL;
	/* A return address: the call is the instruction before it. */
	snprintf(cmd, sizeof(cmd), "addr2line -e '%s' 0x%llx 2>/dev/null", obj, vaddr - 1);
	p = popen(cmd, "r");
	if (!p) {
		no_addr2line = 1;
		return NULL;
	}
	if (fgets(out, sizeof(out), p)) {
		out[strcspn(out, "\n")] = '\0';
		if (out[0] && strncmp(out, "??", 2) != 0 && !strstr(out, ":?") &&
		    strcmp(out + strlen(out) - 2, ":0") != 0)
			line = strdup(out);
	}
	if (pclose(p) == 127 << 8)
		no_addr2line = 1;
	return line;
}

const char *sym_file_line(const char *obj, const char *off_hex)
{
	char key[4200];
	unsigned long long off, vaddr;
	unsigned long h;
	struct sym *s;
	size_t i;

	if (!obj || !off_hex || obj[0] != '/')
		return NULL;
	snprintf(key, sizeof(key), "%s+%s", obj, off_hex);
	h = table_hash(TABLE_HASH_INIT, key);
	i = table_find(&by_key, h, same_key, key, ncache < SYM_MAX ? ncache : TABLE_NONE);
	if (i == TABLE_NONE) {
		if (!said_full++)
			cli_error("warning: over %d distinct frames: the rest are shown without "
				  "file:line",
				  SYM_MAX);
		return NULL;
	}
	if (i < ncache)
		return cache[i].line;
	s = &cache[ncache++];
	s->key = strdup(key);
	s->line = NULL;
	if (!s->key) {
		cli_error("out of memory");
		exit(EXIT_TROUBLE);
	}
	off = strtoull(off_hex, NULL, 16);
	if (off_to_vaddr(obj, off, &vaddr) == 0)
		s->line = lookup(obj, vaddr);
	return s->line;
}
