/* creds.c: setuid and kin: a process that becomes another user takes its control page along. */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "st.h"

#define ST_EXPORT   __attribute__((visibility("default")))
#define ST_NEXT(fn) (st_real.fn ? st_real.fn : (st_bind(), st_real.fn))

/*
 * nginx's workers, and most daemons', are forked by root and then become
 * another user: their page, made at the fork, lies in root's private
 * directory, where the new user can neither remove it at exit nor, if not
 * root, reach it. So around a change of the effective uid the page moves to
 * the new user's directory (control.c). Only the exported entry points are
 * seen; glibc applies them to every thread, and so does the move.
 */
static int st_uid_call(int r, int moving)
{
	int e = errno;

	if (moving)
		st_ctl_uid_changed(r == 0);
	errno = e;
	return r;
}

static int st_setuid(uid_t u)
{
	int moving;

	if (!ST_NEXT(setuid)) {
		errno = ENOSYS;
		return -1;
	}
	moving = st_ctl_uid_leaving(u);
	return st_uid_call(st_real.setuid(u), moving);
}

static int st_seteuid(uid_t e)
{
	int moving;

	if (!ST_NEXT(seteuid)) {
		errno = ENOSYS;
		return -1;
	}
	moving = st_ctl_uid_leaving(e);
	return st_uid_call(st_real.seteuid(e), moving);
}

static int st_setreuid(uid_t r, uid_t e)
{
	int moving;

	if (!ST_NEXT(setreuid)) {
		errno = ENOSYS;
		return -1;
	}
	moving = st_ctl_uid_leaving(e);
	return st_uid_call(st_real.setreuid(r, e), moving);
}

static int st_setresuid(uid_t r, uid_t e, uid_t s)
{
	int moving;

	if (!ST_NEXT(setresuid)) {
		errno = ENOSYS;
		return -1;
	}
	moving = st_ctl_uid_leaving(e);
	return st_uid_call(st_real.setresuid(r, e, s), moving);
}

ST_EXPORT int setuid(uid_t u)
{
	return ST_ALLOWED(int, st_setuid(u));
}

ST_EXPORT int seteuid(uid_t e)
{
	return ST_ALLOWED(int, st_seteuid(e));
}

ST_EXPORT int setreuid(uid_t r, uid_t e)
{
	return ST_ALLOWED(int, st_setreuid(r, e));
}

ST_EXPORT int setresuid(uid_t r, uid_t e, uid_t s)
{
	return ST_ALLOWED(int, st_setresuid(r, e, s));
}
