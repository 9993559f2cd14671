/* jump.c: longjmp and kin: a jump out of the library lands in the program, which complete mode traps again. */
/* Fortified headers rename longjmp and kin to __longjmp_chk: here the names are ours to define. */
#undef _FORTIFY_SOURCE
#include "config.h"

#include <setjmp.h>

#include "st.h"

#define ST_EXPORT __attribute__((visibility("default")))

/* Declared by <setjmp.h> only under _FORTIFY_SOURCE, which the program may use. */
extern void __longjmp_chk(struct __jmp_buf_tag env[1], int val) __attribute__((noreturn));

typedef void (*st_jump_fn)(struct __jmp_buf_tag *, int);

/*
 * Called from signal handlers above all: no state but the thread's
 * selector is touched (complete.c), and the jump is libc's own, so its
 * checks (__longjmp_chk's) and its signal mask handling are unchanged.
 */
static __attribute__((noreturn)) void st_jump(st_jump_fn *next, struct __jmp_buf_tag *env, int val)
{
	st_complete_landing();
	if (!*next)
		st_bind();
	if (*next)
		(*next)(env, val);
	/* Not bound (only while dlsym itself runs): siglongjmp restores what a jmp_buf holds. */
	siglongjmp(env, val);
}

ST_EXPORT void longjmp(struct __jmp_buf_tag env[1], int val)
{
	st_jump(&st_real.longjmp, env, val);
}

ST_EXPORT void _longjmp(struct __jmp_buf_tag env[1], int val)
{
	st_jump(&st_real._longjmp, env, val);
}

ST_EXPORT void siglongjmp(struct __jmp_buf_tag env[1], int val)
{
	st_jump(&st_real.siglongjmp, env, val);
}

ST_EXPORT void __longjmp_chk(struct __jmp_buf_tag env[1], int val)
{
	st_jump(&st_real.__longjmp_chk, env, val);
}
