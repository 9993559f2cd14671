/* test-elfcheck.c: the rules by which an exec'd image escapes the library, on made-up input. */
#include "config.h"

#include <elf.h>
#include <string.h>
#include <sys/stat.h>

#include "elfcheck.h"
#include "unit.h"

/* A file in memory, read as st_elf_probe reads files. */
struct mem {
	const unsigned char *p;
	size_t n;
};

static long mem_read(void *arg, void *buf, size_t n, unsigned long long off)
{
	const struct mem *m = arg;

	if (off >= m->n)
		return 0;
	if (n > m->n - off)
		n = m->n - off;
	memcpy(buf, m->p + off, n);
	return (long)n;
}

/* An ELF file of this machine with the given e_type and program header types, and a Go note. */
static size_t make_elf(unsigned char *f, int type, const unsigned *pt, int n, int go)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	size_t notes = sizeof(eh) + 8 * sizeof(ph);
	int i;

	memset(f, 0, 4096);
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
#if defined(__x86_64__)
	eh.e_machine = EM_X86_64;
#else
	eh.e_machine = EM_AARCH64;
#endif
	eh.e_type = (Elf64_Half)type;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = (Elf64_Half)n;
	memcpy(f, &eh, sizeof(eh));
	for (i = 0; i < n; i++) {
		memset(&ph, 0, sizeof(ph));
		ph.p_type = pt[i];
		if (pt[i] == PT_NOTE) {
			ph.p_offset = notes;
			ph.p_filesz = 32;
			ph.p_align = 4;
		}
		memcpy(f + sizeof(eh) + (size_t)i * sizeof(ph), &ph, sizeof(ph));
	}
	if (go) {
		/* {namesz 4, descsz 8, type 4} "Go\0\0" then 8 bytes of ID, as the Go linker
		 * writes. */
		static const unsigned char note[] = {4,	  0,   0,   0,	 8,   0,   0,	0,
						     4,	  0,   0,   0,	 'G', 'o', 0,	0,
						     'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'};
		memcpy(f + notes, note, sizeof(note));
	}
	return 4096;
}

static enum st_untraced verdict(const unsigned char *f, size_t n, struct st_elfinfo *e)
{
	struct mem m = {f, n};
	char scratch[1024];

	CHECK(st_elf_probe(mem_read, &m, scratch, sizeof(scratch), e) == 0, "probe failed");
	return st_elf_untraced(e);
}

static void test_elf(void)
{
	static unsigned char f[4096];
	static const unsigned dyn[] = {PT_PHDR, PT_INTERP, PT_LOAD, PT_DYNAMIC, PT_NOTE};
	static const unsigned stat[] = {PT_LOAD, PT_LOAD, PT_NOTE, PT_TLS};
	static const unsigned spie[] = {PT_LOAD, PT_DYNAMIC, PT_GNU_RELRO};
	struct st_elfinfo e;

	CHECK(verdict(f, make_elf(f, ET_DYN, dyn, 5, 0), &e) == ST_UNTRACED_NO, "dynamic PIE");
	CHECK(e.elf && e.interp && e.dynamic && !e.go, "dynamic PIE: what was seen");
	CHECK(verdict(f, make_elf(f, ET_EXEC, stat, 4, 0), &e) == ST_UNTRACED_STATIC, "static");
	/* The case the old test let through: PT_DYNAMIC, but no loader. */
	CHECK(verdict(f, make_elf(f, ET_DYN, spie, 3, 0), &e) == ST_UNTRACED_STATIC_PIE,
	      "static-pie");
	CHECK(verdict(f, make_elf(f, ET_EXEC, stat, 4, 1), &e) == ST_UNTRACED_STATIC && e.go,
	      "static Go: static, and Go");
	CHECK(verdict(f, make_elf(f, ET_EXEC, dyn, 5, 1), &e) == ST_UNTRACED_NO && e.go,
	      "dynamic Go: traced, but Go");
	make_elf(f, ET_EXEC, dyn, 5, 0);
	f[EI_CLASS] = ELFCLASS32;
	CHECK(verdict(f, 4096, &e) == ST_UNTRACED_FOREIGN, "32-bit: foreign");
	memcpy(f, "#! /bin/busybox sh\n", 19);
	CHECK(verdict(f, 19, &e) == ST_UNTRACED_NO && e.script, "script");
	CHECK_STR(e.shebang, "/bin/busybox");
	memcpy(f, "plain text", 10);
	CHECK(verdict(f, 10, &e) == ST_UNTRACED_NO && !e.elf && !e.script, "not ELF");
	/* A note whose sizes run past its segment is not read past it. */
	{
		unsigned char bad[12] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 4, 0, 0, 0};

		CHECK(!st_elf_notes_go(bad, sizeof(bad), 4), "a note too long for its segment");
	}
}

static struct st_secure_in user(mode_t mode, uid_t owner, gid_t group)
{
	struct st_secure_in in;

	memset(&in, 0, sizeof(in));
	in.mode = S_IFREG | mode;
	in.owner = owner;
	in.group = group;
	in.ruid = in.euid = 1000;
	in.rgid = in.egid = 1000;
	return in;
}

static void test_secure(void)
{
	/* v2 capabilities: effective flag, permitted CAP_NET_RAW (13). */
	static const unsigned char caps[20] = {1, 0, 0, 2, 0, 0x20, 0, 0};
	static const unsigned char inh_only[20] = {0, 0, 0, 2, 0, 0, 0, 0, 0, 0x20};
	struct st_secure_in in;

	in = user(04755, 0, 0);
	CHECK(st_exec_secure(&in) == ST_UNTRACED_SETUID, "setuid root, run by a user");
	in = user(04755, 1000, 0);
	CHECK(st_exec_secure(&in) == ST_UNTRACED_NO, "setuid, own file: no change of user");
	in = user(04755, 65534, 0);
	in.ruid = in.euid = 0;
	CHECK(st_exec_secure(&in) == ST_UNTRACED_SETUID, "setuid nobody, run by root");
	in = user(02755, 0, 42);
	CHECK(st_exec_secure(&in) == ST_UNTRACED_SETGID, "setgid");
	in = user(02745, 0, 42);
	CHECK(st_exec_secure(&in) == ST_UNTRACED_NO, "setgid without group x: mandatory locking");
	in = user(04755, 0, 0);
	in.setid_ignored = 1;
	CHECK(st_exec_secure(&in) == ST_UNTRACED_NO, "nosuid mount or no_new_privs");
	in = user(0755, 0, 0);
	in.euid = 0;
	CHECK(st_exec_secure(&in) == ST_UNTRACED_SETUID,
	      "a process already running as another user");
	in = user(0755, 0, 0);
	in.caps = caps;
	in.capn = sizeof(caps);
	CHECK(st_exec_secure(&in) == ST_UNTRACED_CAPABILITIES, "file capabilities, a user");
	in.ruid = in.euid = 0;
	CHECK(st_exec_secure(&in) == ST_UNTRACED_NO, "file capabilities, root");
	in = user(0755, 0, 0);
	in.caps = inh_only;
	in.capn = sizeof(inh_only);
	CHECK(st_exec_secure(&in) == ST_UNTRACED_NO, "inheritable bits only: nothing gained");
	in.capn = 7;
	CHECK(st_exec_secure(&in) == ST_UNTRACED_NO, "a short attribute is not read past");
}

static void test_preload(void)
{
	const char *self = "/build/lib/.libs/libsendtrace.so";

	CHECK(st_preload_names(self, self), "the same path");
	CHECK(st_preload_names("/usr/lib/other.so:/opt/x/libsendtrace.so", self),
	      "a copy elsewhere");
	CHECK(st_preload_names("libother.so libsendtrace.so", self), "by name, blank-separated");
	CHECK(!st_preload_names("/lib/libsendtrace.so.old:libfoo.so", self), "a longer name");
	CHECK(!st_preload_names("", self), "empty");
	CHECK(st_preload_names("/x/libsendtrace.so", NULL), "no path of its own: the usual name");
	CHECK_STR(st_untraced_words("static-pie"), "static-pie");
	CHECK(st_untraced_words("newer-reason") == NULL, "a name from a newer tracer");
	CHECK_STR(st_untraced_name(ST_UNTRACED_CAPABILITIES), "capabilities");
}

int main(void)
{
	test_elf();
	test_secure();
	test_preload();
	return unit_done();
}
