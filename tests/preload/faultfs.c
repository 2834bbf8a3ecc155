/* SPDX-License-Identifier: ISC */
/* faultfs.c - an LD_PRELOAD shim that fails file writes, syncs and opens */
/*
 * For the shell tests only.  Environment:
 *   FAULT_CALL   write (pwrite, pwritev, write, writev), sync (fsync,
 *                fdatasync, msync), open (open, openat) or cursor
 *                (mdb_cursor_get in a child the process forked: it
 *                dies there of FAULT_SIGNAL)
 *   FAULT_AFTER  let this many matching calls through, fail the rest
 *   FAULT_ERRNO  ENOSPC (default), EIO, EDQUOT or EACCES
 *   FAULT_PATH   only for files whose path holds this (default data.mdb)
 *   FAULT_SIGNAL SEGV (default), BUS, ABRT or KILL
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long passed;
static pid_t loaded_in;

static void	on_load(void) __attribute__((constructor));

/* The process the shim was loaded into: its children are others. */
static void
on_load(void)
{
	loaded_in = getpid();
}

static int
sig_code(void)
{
	const char *s = getenv("FAULT_SIGNAL");

	if (s == NULL || strcmp(s, "SEGV") == 0)
		return SIGSEGV;
	if (strcmp(s, "BUS") == 0)
		return SIGBUS;
	if (strcmp(s, "ABRT") == 0)
		return SIGABRT;
	return SIGKILL;
}

static int
err_code(void)
{
	const char *e = getenv("FAULT_ERRNO");

	if (e == NULL || strcmp(e, "ENOSPC") == 0)
		return ENOSPC;
	if (strcmp(e, "EIO") == 0)
		return EIO;
	if (strcmp(e, "EDQUOT") == 0)
		return EDQUOT;
	return EACCES;
}

static int
path_matches(const char *path)
{
	const char *want = getenv("FAULT_PATH");

	return strstr(path, want != NULL ? want : "data.mdb") != NULL;
}

static int
fd_matches(int fd)
{
	char link[64], path[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	return path_matches(path);
}

/* Should this call of kind fail?  Counts the ones let through. */
static int
fail(const char *kind, int matches)
{
	const char *c = getenv("FAULT_CALL"), *a = getenv("FAULT_AFTER");

	if (c == NULL || strcmp(c, kind) != 0 || !matches)
		return 0;
	if (passed < (a != NULL ? atol(a) : 0)) {
		passed++;
		return 0;
	}
	errno = err_code();
	return 1;
}

#define REAL(name) \
	static __typeof__(&name) real_##name; \
	if (real_##name == NULL) \
		real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

ssize_t
pwrite(int fd, const void *b, size_t n, off_t off)
{
	REAL(pwrite);
	if (fail("write", fd_matches(fd)))
		return -1;
	return real_pwrite(fd, b, n, off);
}

ssize_t
pwrite64(int fd, const void *b, size_t n, off_t off)
{
	REAL(pwrite64);
	if (fail("write", fd_matches(fd)))
		return -1;
	return real_pwrite64(fd, b, n, off);
}

ssize_t
pwritev(int fd, const struct iovec *v, int n, off_t off)
{
	REAL(pwritev);
	if (fail("write", fd_matches(fd)))
		return -1;
	return real_pwritev(fd, v, n, off);
}

ssize_t
write(int fd, const void *b, size_t n)
{
	REAL(write);
	if (fd > 2 && fail("write", fd_matches(fd)))
		return -1;
	return real_write(fd, b, n);
}

ssize_t
writev(int fd, const struct iovec *v, int n)
{
	REAL(writev);
	if (fd > 2 && fail("write", fd_matches(fd)))
		return -1;
	return real_writev(fd, v, n);
}

int
fsync(int fd)
{
	REAL(fsync);
	if (fail("sync", fd_matches(fd)))
		return -1;
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	REAL(fdatasync);
	if (fail("sync", fd_matches(fd)))
		return -1;
	return real_fdatasync(fd);
}

int
msync(void *p, size_t n, int flags)
{
	REAL(msync);
	if (fail("sync", 1))
		return -1;
	return real_msync(p, n, flags);
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;

	REAL(open);
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (fail("open", path_matches(path)))
		return -1;
	return real_open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode = 0;

	REAL(open64);
	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (fail("open", path_matches(path)))
		return -1;
	return real_open64(path, flags, mode);
}

/*
 * A read of a damaged page, in a forked child only: it raises the
 * signal as the fault would, its handler (if any) runs, and unless
 * that ends the process the call goes on.
 */
int
mdb_cursor_get(MDB_cursor *c, MDB_val *k, MDB_val *v, MDB_cursor_op op)
{
	REAL(mdb_cursor_get);
	if (getpid() != loaded_in && fail("cursor", 1))
		raise(sig_code());
	return real_mdb_cursor_get(c, k, v, op);
}
