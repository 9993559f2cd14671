/* elfcheck.h: will an exec'd image escape LD_PRELOAD? Rules shared by run and the library. */
#ifndef ST_ELFCHECK_H
#define ST_ELFCHECK_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Why an image will run without the library, worst first: the order is the
 * order the checks are made in, and the first that applies is the one said.
 */
enum st_untraced {
	ST_UNTRACED_NO = 0,
	ST_UNTRACED_FOREIGN,	  /* ELF of another class or machine: the library cannot load */
	ST_UNTRACED_STATIC,	  /* no PT_INTERP, no PT_DYNAMIC: no loader runs at all */
	ST_UNTRACED_STATIC_PIE,	  /* PT_DYNAMIC but no PT_INTERP: relocates itself, no loader */
	ST_UNTRACED_SETUID,	  /* secure mode: another effective user */
	ST_UNTRACED_SETGID,	  /* secure mode: another effective group */
	ST_UNTRACED_CAPABILITIES, /* secure mode: file capabilities, not root */
	ST_UNTRACED_NO_PRELOAD,	  /* LD_PRELOAD is not in the new environment */
};
/* The name in the trace ("static", ...), and a phrase for a warning. */
const char *st_untraced_name(enum st_untraced why);
const char *st_untraced_phrase(enum st_untraced why);
/* For `show`: a trace's "untraced" value in a few words; NULL for a name not known. */
const char *st_untraced_words(const char *name);

/* What the headers of a file say. */
struct st_elfinfo {
	int elf;     /* an ELF file of this machine (class and e_machine) */
	int foreign; /* an ELF file of another class or machine */
	int interp;  /* PT_INTERP: the dynamic loader is run */
	int dynamic; /* PT_DYNAMIC */
	int type;    /* e_type: ET_EXEC, ET_DYN */
	int go;	     /* the Go toolchain's build-id note */
	int script;  /* "#!": the interpreter is what runs (its path in shebang) */
	char shebang[256];
};

/*
 * Reads n bytes at off into buf (a pread of the caller's kind: libc's in
 * the command, the raw system call in the library); returns the count, or
 * a negative number.
 */
typedef long (*st_elf_read)(void *arg, void *buf, size_t n, unsigned long long off);

/*
 * Fills *e from the file's headers: no allocation, no system call of its
 * own; scratch (at least 512 bytes) holds what it reads. 0 when the file
 * could be read as far as it needed.
 */
int st_elf_probe(st_elf_read rd, void *arg, char *scratch, size_t scratch_size,
		 struct st_elfinfo *e);

/* The ELF reasons: foreign, static, static-pie, or none (dynamic, or not ELF). */
enum st_untraced st_elf_untraced(const struct st_elfinfo *e);

/*
 * Does a run of ELF notes (the contents of a PT_NOTE whose p_align is
 * align) hold the Go build-id note? Also read in memory, at start.
 */
int st_elf_notes_go(const void *notes, size_t n, size_t align);

/*
 * Secure-execution mode (AT_SECURE), as the kernel decides it at exec, from
 * the file's mode and owner, its security.capability attribute (caps, capn
 * bytes; capn 0 for none), the caller's real and effective ids, and whether
 * set-id bits count at all (not on a nosuid mount, not under no_new_privs).
 */
struct st_secure_in {
	mode_t mode;
	uid_t owner;
	gid_t group;
	const unsigned char *caps;
	size_t capn;
	uid_t ruid, euid;
	gid_t rgid, egid;
	int setid_ignored; /* nosuid mount or no_new_privs: set-id bits and file capabilities are
			      inert */
};
enum st_untraced st_exec_secure(const struct st_secure_in *in);

/* Does an LD_PRELOAD value name the library (full path `self`, or its file name)? */
int st_preload_names(const char *value, const char *self);

#endif
