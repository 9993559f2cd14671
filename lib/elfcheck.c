/* elfcheck.c: the rules by which an exec'd image runs without the preload (no I/O of its own). */
#include "config.h"

#include <elf.h>
#include <string.h>
#include <sys/stat.h>

#include "elfcheck.h"

/* This build's own kind of ELF: the library can be loaded only into the same. */
#if defined(__x86_64__)
#define ST_EM EM_X86_64
#elif defined(__aarch64__)
#define ST_EM EM_AARCH64
#else
#error "elfcheck.c: add this architecture's e_machine"
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ST_EDATA ELFDATA2LSB
#else
#define ST_EDATA ELFDATA2MSB
#endif

static const char *const st_untraced_names[][2] = {
    [ST_UNTRACED_NO] = {"", ""},
    [ST_UNTRACED_FOREIGN] = {"foreign",
			     "is built for another architecture or word size, into which the "
			     "library cannot be loaded"},
    [ST_UNTRACED_STATIC] = {"static", "is statically linked: no dynamic loader runs, so "
				      "LD_PRELOAD has no effect"},
    [ST_UNTRACED_STATIC_PIE] = {"static-pie",
				"is a static-pie executable (it relocates itself; no dynamic "
				"loader runs), so LD_PRELOAD has no effect"},
    [ST_UNTRACED_SETUID] = {"setuid",
			    "runs with another effective user (set-user-ID): the kernel puts it "
			    "in secure-execution mode, where the loader ignores an LD_PRELOAD "
			    "path with a '/' and the library records nothing"},
    [ST_UNTRACED_SETGID] = {"setgid",
			    "runs with another effective group (set-group-ID): the kernel puts "
			    "it in secure-execution mode, where the loader ignores an LD_PRELOAD "
			    "path with a '/' and the library records nothing"},
    [ST_UNTRACED_CAPABILITIES] = {"capabilities",
				  "has file capabilities and the user is not root: the kernel "
				  "puts it in secure-execution mode, where the loader ignores an "
				  "LD_PRELOAD path with a '/' and the library records nothing"},
    [ST_UNTRACED_NO_PRELOAD] = {"no-preload",
				"is run with an environment that has no LD_PRELOAD naming "
				"libsendtrace.so"},
};

/* For `show`: what a trace's "untraced" says, in a few words; NULL for a name not known. */
const char *st_untraced_words(const char *name)
{
	static const char *const words[] = {
	    [ST_UNTRACED_FOREIGN] = "built for another architecture",
	    [ST_UNTRACED_STATIC] = "statically linked",
	    [ST_UNTRACED_STATIC_PIE] = "static-pie",
	    [ST_UNTRACED_SETUID] = "set-user-ID: secure-execution mode",
	    [ST_UNTRACED_SETGID] = "set-group-ID: secure-execution mode",
	    [ST_UNTRACED_CAPABILITIES] = "file capabilities: secure-execution mode",
	    [ST_UNTRACED_NO_PRELOAD] = "LD_PRELOAD not in its environment",
	};
	size_t i;

	for (i = 1; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcmp(name, st_untraced_names[i][0]))
			return words[i];
	return NULL;
}

const char *st_untraced_name(enum st_untraced why)
{
	return st_untraced_names[why][0];
}

const char *st_untraced_phrase(enum st_untraced why)
{
	return st_untraced_names[why][1];
}

/* "#!" then blanks, then the interpreter's path up to a blank or the line's end. */
static void st_shebang(const char *head, size_t n, struct st_elfinfo *e)
{
	size_t i = 2, k = 0;

	e->script = 1;
	while (i < n && (head[i] == ' ' || head[i] == '\t'))
		i++;
	while (i < n && k + 1 < sizeof(e->shebang) && head[i] != ' ' && head[i] != '\t' &&
	       head[i] != '\n' && head[i] != '\0')
		e->shebang[k++] = head[i++];
	e->shebang[k] = '\0';
}

/*
 * Notes are {namesz, descsz, type}, then the name and the descriptor, each
 * padded to the segment's alignment (4, or 8 for some 64-bit notes). The Go
 * linker writes a note named "Go" of type 4 (its build ID) in every binary
 * made by the gc toolchain, internally or externally linked, unless built
 * with an empty build ID (-ldflags=-buildid=).
 */
int st_elf_notes_go(const void *notes, size_t n, size_t align)
{
	const unsigned char *p = notes;
	size_t at = 0, pad = align == 8 ? 8 : 4;

	while (at + 12 <= n) {
		Elf64_Word nh[3];
		size_t name, desc;

		memcpy(nh, p + at, sizeof(nh));
		name = (nh[0] + pad - 1) & ~(pad - 1);
		desc = (nh[1] + pad - 1) & ~(pad - 1);
		if (name > n || desc > n || at + 12 + name + desc > n)
			return 0;
		/* The name is "Go" padded with NULs to 4 bytes, and namesz says 4. */
		if ((nh[0] == 4 || nh[0] == 3) && nh[2] == 4 && !memcmp(p + at + 12, "Go", 3))
			return 1;
		at += 12 + name + desc;
	}
	return 0;
}

int st_elf_probe(st_elf_read rd, void *arg, char *scratch, size_t scratch_size,
		 struct st_elfinfo *e)
{
	struct {
		unsigned long long off, size, align;
	} notes[4];
	size_t per = scratch_size / sizeof(Elf64_Phdr), nnotes = 0, i, k;
	Elf64_Ehdr eh;
	long got;

	memset(e, 0, sizeof(*e));
	if (scratch_size < 512)
		return -1;
	got = rd(arg, scratch, 512, 0);
	if (got < 0)
		return -1;
	if (got >= 2 && scratch[0] == '#' && scratch[1] == '!') {
		st_shebang(scratch, (size_t)got, e);
		return 0;
	}
	if ((size_t)got < EI_NIDENT || memcmp(scratch, ELFMAG, SELFMAG) != 0)
		return 0; /* not ELF: the kernel refuses it, or a shell runs it */
	if (scratch[EI_CLASS] != ELFCLASS64 || scratch[EI_DATA] != ST_EDATA ||
	    (size_t)got < sizeof(eh)) {
		e->foreign = 1;
		return 0;
	}
	memcpy(&eh, scratch, sizeof(eh));
	if (eh.e_machine != ST_EM) {
		e->foreign = 1;
		return 0;
	}
	e->elf = 1;
	e->type = eh.e_type;
	if (eh.e_phentsize != sizeof(Elf64_Phdr))
		return -1;
	for (i = 0; i < eh.e_phnum; i += per) {
		size_t want = eh.e_phnum - i < per ? eh.e_phnum - i : per;
		Elf64_Phdr ph;

		got = rd(arg, scratch, want * sizeof(ph), eh.e_phoff + i * sizeof(ph));
		if (got != (long)(want * sizeof(ph)))
			return -1;
		for (k = 0; k < want; k++) {
			memcpy(&ph, scratch + k * sizeof(ph), sizeof(ph));
			if (ph.p_type == PT_INTERP)
				e->interp = 1;
			else if (ph.p_type == PT_DYNAMIC)
				e->dynamic = 1;
			else if (ph.p_type == PT_NOTE && nnotes < 4) {
				notes[nnotes].off = ph.p_offset;
				notes[nnotes].size = ph.p_filesz;
				notes[nnotes++].align = ph.p_align;
			}
		}
	}
	/* Go's note is small and comes first in its segment: the segment's head is enough. */
	for (i = 0; i < nnotes && !e->go; i++) {
		size_t n = notes[i].size < scratch_size ? (size_t)notes[i].size : scratch_size;

		got = rd(arg, scratch, n, notes[i].off);
		if (got > 0)
			e->go = st_elf_notes_go(scratch, (size_t)got, (size_t)notes[i].align);
	}
	return 0;
}

enum st_untraced st_elf_untraced(const struct st_elfinfo *e)
{
	if (e->foreign)
		return ST_UNTRACED_FOREIGN;
	if (!e->elf || e->interp)
		return ST_UNTRACED_NO;
	/*
	 * No PT_INTERP: the kernel starts the program itself and no loader
	 * reads LD_PRELOAD. A static-pie has PT_DYNAMIC (it applies its own
	 * relocations), which is why "has PT_DYNAMIC" is no test of being
	 * loaded; an ET_DYN without PT_INTERP that is not static-pie is a
	 * shared library run directly, and the kernel refuses few of those.
	 */
	return e->dynamic && e->type == ET_DYN ? ST_UNTRACED_STATIC_PIE : ST_UNTRACED_STATIC;
}

/* security.capability (struct vfs_cap_data, little-endian): effective flag, or any permitted bit.
 */
static int st_caps_raise(const unsigned char *c, size_t n)
{
	unsigned magic, perm0, perm1 = 0;
	size_t need;

	if (!c || n < 12)
		return 0;
	magic = c[0] | c[1] << 8 | c[2] << 16 | (unsigned)c[3] << 24;
	switch (magic & 0xff000000u) {
	case 0x01000000u:
		need = 12;
		break;
	case 0x02000000u:
		need = 20;
		break;
	case 0x03000000u:
		need = 24;
		break;
	default:
		return 0;
	}
	if (n < need)
		return 0;
	perm0 = c[4] | c[5] << 8 | c[6] << 16 | (unsigned)c[7] << 24;
	if (need > 12)
		perm1 = c[12] | c[13] << 8 | c[14] << 16 | (unsigned)c[15] << 24;
	return (magic & 1) || perm0 || perm1;
}

/*
 * The kernel's test (security/commoncap.c), in its parts: the new
 * effective ids differ from the real ones (a set-user-ID or set-group-ID
 * file of someone else's, or a process already running with changed ids),
 * or a user other than root gains capabilities from the file. Set-id bits
 * and capabilities do nothing on a nosuid mount or under no_new_privs; a
 * set-group-ID file without group execute permission is not set-group-ID
 * (that is mandatory locking). Not looked at: the capabilities the process
 * already holds (a user whose ambient set covers the file's is not put in
 * secure mode), and security modules, which may set AT_SECURE for reasons
 * of their own.
 */
enum st_untraced st_exec_secure(const struct st_secure_in *in)
{
	uid_t euid = in->euid;
	gid_t egid = in->egid;

	if (!in->setid_ignored && (in->mode & S_ISUID))
		euid = in->owner;
	if (!in->setid_ignored && (in->mode & S_ISGID) && (in->mode & S_IXGRP))
		egid = in->group;
	if (euid != in->ruid)
		return ST_UNTRACED_SETUID;
	if (egid != in->rgid)
		return ST_UNTRACED_SETGID;
	if (!in->setid_ignored && in->ruid != 0 && st_caps_raise(in->caps, in->capn))
		return ST_UNTRACED_CAPABILITIES;
	return ST_UNTRACED_NO;
}

/* The loader splits LD_PRELOAD at ':' and at blanks; a copy of the library anywhere will do. */
int st_preload_names(const char *value, const char *self)
{
	const char *base = self && strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
	const char *p = value;
	size_t bl;

	if (!base || !*base)
		base = "libsendtrace.so";
	bl = strlen(base);
	while (p && *p) {
		size_t n = strcspn(p, ": \t");
		const char *q = p + n, *name = p;

		for (; q > p && q[-1] != '/'; q--)
			;
		name = q;
		if ((size_t)(p + n - name) == bl && !memcmp(name, base, bl))
			return 1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}
