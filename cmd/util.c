/* SPDX-License-Identifier: ISC */
/* util.c - helpers for the commands: store opening, stdout, statuses */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int
rankof(int status)
{
	switch (status) {
	case 0:
		return 0;
	case EX_DATAERR:
		return 1;
	case EX_NOINPUT:
		return 2;
	default:
		return 3;
	}
}

int
worse(int a, int b)
{
	return rankof(b) > rankof(a) ? b : a;
}

int64_t
now_secs(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		err(EX_SOFTWARE, "clock_gettime");
	return (int64_t)ts.tv_sec;
}

void
print_version(const char *prog)
{
	printf("%s %s\n", prog, COIN_VERSION);
	exit(finish_stdout(0));
}

const char *progname = "coin";

static char corrupt_msg[PATH_MAX];
static char sigbus_msg[PATH_MAX + 128];
static size_t corrupt_len;

/* LMDB met a page that cannot be: say so, and no more. */
static void
corrupt_exit(const char *what)
{
	warnx("%s: store is corrupt (%s); restore a --backup", corrupt_msg,
	    what);
	_exit(EX_IOERR);
}

/*
 * A page beyond the end of a data file cut short while we ran, or a
 * pointer read from a damaged page: the store is corrupt (or this is a
 * bug, which the sanitizer builds, that keep their own handler, show).
 */
static void
on_fault(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, sigbus_msg, corrupt_len);
	_exit(EX_IOERR);
}

struct coin_store *
open_store(const char *db, int flags)
{
	struct coin_store *s;
	char path[PATH_MAX];
	int creating = (flags & COIN_STORE_CREATE) != 0, e;

	if (coin_store_path(db, path, sizeof(path)) != 0)
		errx(creating ? EX_CANTCREAT : EX_NOINPUT,
		    "no store: set COIN_DB, XDG_DATA_HOME or HOME, "
		    "or give --db");
	snprintf(corrupt_msg, sizeof(corrupt_msg), "%s", path);
	coin_store_on_corrupt(corrupt_exit);
	corrupt_len = (size_t)snprintf(sigbus_msg, sizeof(sigbus_msg),
	    "%s: %s: store is corrupt (reading it crashed); restore a "
	    "--backup\n", progname, path);
	signal(SIGBUS, on_fault);
#ifndef __SANITIZE_ADDRESS__
	signal(SIGSEGV, on_fault);
#endif
	errno = 0;
	if ((e = coin_store_open(&s, path, flags)) == 0) {
		struct stat st;

		/* Anyone could swap its files: say so, every time. */
		if (stat(path, &st) == 0 && (st.st_mode & S_IWOTH))
			warnx("%s: store directory is writable by anyone "
			    "(chmod 700 it)", path);
		return s;
	}
	switch (e) {
	case COIN_ECREATE:
		errx(EX_CANTCREAT, "%s: cannot create store: %s", path,
		    strerror(errno));
	case COIN_ENOSTORE:
		errx(EX_NOINPUT, "%s: no store here (nothing stored yet, "
		    "or set COIN_DB or --db)", path);
	case COIN_ESCHEMA:
		errx(EX_IOERR, "%s: store written by another version of "
		    "coinstore (unknown schema); this one is %s", path,
		    COIN_VERSION);
	}
	errx(coin_exit_status(e), "%s: %s", path, coin_strerror(e));
}

static int stdout_failed;

/* Note that stdout failed: once, and quietly if its reader went away. */
static void
out_failed(int *status)
{
	int e = errno;

	if (stdout_failed)
		return;
	stdout_failed = 1;
	if (e != EPIPE) {
		errno = e;
		warn("stdout");
		*status = worse(*status, EX_IOERR);
	}
}

int
out_write(const char *buf, size_t len, int *status)
{
	if (stdout_failed)
		return -1;
	if (fwrite(buf, 1, len, stdout) != len) {
		out_failed(status);
		return -1;
	}
	return 0;
}

void
out_init(void)
{
	static char buf[65536];

	if (!isatty(STDOUT_FILENO))
		(void)setvbuf(stdout, buf, _IOFBF, sizeof(buf));
}

int
out_flush(int *status)
{
	if (stdout_failed)
		return -1;
	if (fflush(stdout) == EOF) {
		out_failed(status);
		return -1;
	}
	return 0;
}

int
finish_stdout(int status)
{
	if (out_flush(&status) == 0 && ferror(stdout)) {
		errno = EIO;
		out_failed(&status);
	}
	if (fclose(stdout) == EOF)
		out_failed(&status);
	return status;
}

void
option_error(int ch, char *const argv[])
{
	extern int optind, optopt;
	const char *arg = argv[optind - 1];

	if (ch == ':')
		warnx("option %s needs a value", arg);
	else if (optopt != 0 && strncmp(arg, "--", 2) != 0)
		warnx("unknown option -%c", optopt);
	else
		warnx("unknown option %s", arg);
}

volatile sig_atomic_t loop_signal;

static void
onsignal(int sig)
{
	loop_signal = sig;
}

void
reraise_stop(void)
{
	if (loop_signal != 0) {
		signal(loop_signal, SIG_DFL);
		raise(loop_signal);
	}
}

/*
 * The writer: a thread that stores (and echoes) one batch while the
 * loop reads and parses the next, so that parsing and the store's work
 * (its disk sync most of all) overlap.  Batches go to it one at a time
 * and in order; a batch is echoed only once its transaction committed,
 * as before.  It holds stderr's lock while it works, so that its lines
 * and the reader's never interleave.
 */
static struct {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 tid;
	int			 on;
	struct tick_loop	*l;
	struct coin_batch	*b;	/* handed over; NULL when idle */
	struct coin_batch	*spare;	/* the next batch for the loop */
	int			 failed;
	int			 status;
	int			 quit;
} wr = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void *
writer_main(void *arg)
{
	struct coin_batch *b;
	int rc, status;

	(void)arg;
	pthread_mutex_lock(&wr.mu);
	for (;;) {
		while (wr.b == NULL && !wr.quit)
			pthread_cond_wait(&wr.cv, &wr.mu);
		if ((b = wr.b) == NULL)
			break;
		pthread_mutex_unlock(&wr.mu);
		status = 0;
		flockfile(stderr);
		rc = wr.l->flush(wr.l, b, &status);
		funlockfile(stderr);
		coin_batch_truncate(b, 0);
		pthread_mutex_lock(&wr.mu);
		wr.status = worse(wr.status, status);
		if (rc != 0)
			wr.failed = 1;
		wr.spare = b;
		wr.b = NULL;
		pthread_cond_broadcast(&wr.cv);
	}
	pthread_mutex_unlock(&wr.mu);
	return NULL;
}

/* Start the writer, with the loop's signals left to the loop. */
static void
writer_start(struct tick_loop *l)
{
	sigset_t block, old;
	int rc;

	if ((rc = coin_batch_new(&wr.spare)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	wr.l = l;
	wr.b = NULL;
	wr.failed = wr.status = wr.quit = 0;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	/* Without a thread the loop stores each batch itself. */
	wr.on = pthread_create(&wr.tid, NULL, writer_main, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Wait for the writer to finish what it holds, and end it. */
static void
writer_stop(struct tick_loop *l)
{
	if (wr.on) {
		pthread_mutex_lock(&wr.mu);
		wr.quit = 1;
		pthread_cond_broadcast(&wr.cv);
		pthread_mutex_unlock(&wr.mu);
		pthread_join(wr.tid, NULL);
		wr.on = 0;
	}
	l->status = worse(l->status, wr.status);
	coin_batch_free(wr.spare);
	wr.spare = NULL;
}

/*
 * End the open transaction: hand the pending ticks to the writer once
 * it is done with the last ones.  Returns -1 when a batch failed: the
 * loop stops, and what it gathered since goes nowhere.
 */
static int
loop_flush(struct tick_loop *l)
{
	struct coin_batch *b;
	int rc = 0;

	l->open_start = 0;
	l->batches = 0;
	if (!wr.on) {
		if (coin_batch_len(l->b) > 0)
			rc = l->flush(l, l->b, &l->status);
		coin_batch_truncate(l->b, 0);
		return rc;
	}
	pthread_mutex_lock(&wr.mu);
	while (wr.b != NULL)
		pthread_cond_wait(&wr.cv, &wr.mu);
	if (wr.failed) {
		l->status = worse(l->status, wr.status);
		rc = -1;
	} else if (coin_batch_len(l->b) > 0) {
		b = wr.spare;
		wr.b = l->b;
		l->b = b;
		pthread_cond_broadcast(&wr.cv);
	}
	pthread_mutex_unlock(&wr.mu);
	coin_batch_truncate(l->b, 0);
	return rc;
}

/* warnx, as one line among the writer's. */
static void	loop_warn(const char *, ...)
		    __attribute__((format(printf, 1, 2)));

static void
loop_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stderr);
	vwarnx(fmt, ap);
	funlockfile(stderr);
	va_end(ap);
}

/* Add a good tick, ending transactions only between batches. */
static int
loop_add(struct tick_loop *l, const struct coin_tick *t)
{
	size_t n = coin_batch_len(l->b);
	int rc;

	if (n > 0 && t->ts != l->open_ts) {
		l->open_start = n;
		if ((n >= l->bulk || (l->times > 0 &&
		    l->batches >= l->times)) && loop_flush(l) != 0)
			return -1;
	} else if (n - l->open_start >= l->split && loop_flush(l) != 0)
		return -1;
	if (coin_batch_len(l->b) == 0 || t->ts != l->open_ts)
		l->batches++;
	l->open_ts = t->ts;
	if ((rc = coin_batch_add(l->b, t)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	return 0;
}

/* Report a bad line; with strict, drop the open batch and stop. */
static int
loop_bad(struct tick_loop *l, struct coin_reader *r, const char *why)
{
	loop_warn("%s:%zu: %s", coin_reader_name(r), coin_reader_lineno(r),
	    why);
	l->status = worse(l->status, EX_DATAERR);
	if (!l->strict)
		return 0;
	coin_batch_truncate(l->b, l->open_start);
	return -1;
}

/* Read one input; returns -1 when the loop must stop. */
static int
loop_file(struct tick_loop *l, struct coin_reader *r)
{
	struct coin_tick t;
	char why[COIN_ERRBUF];
	const char *line;
	size_t len, lines = 0;
	int64_t now = now_secs();
	int rc;

	for (;;) {
		if (loop_signal)
			return -1;
		if (!coin_reader_ready(r, coin_batch_len(l->b) > 0 ?
		    GRACE_MS : 0)) {
			/* A pause: commit, and look at the clock again. */
			if (coin_batch_len(l->b) > 0 && loop_flush(l) != 0)
				return -1;
			now = now_secs();
		} else if (++lines % 4096 == 0)
			now = now_secs();
		rc = coin_reader_next(r, &line, &len);
		if (rc == 0)
			return 0;
		if (rc == EINTR)
			continue;
		if (rc == COIN_ELONG || rc == COIN_ENUL) {
			if (loop_bad(l, r, coin_strerror(rc)) != 0)
				return -1;
			continue;
		}
		if (rc != 1) {
			loop_warn("%s: %s", coin_reader_name(r),
			    coin_strerror(rc));
			l->status = worse(l->status, EX_IOERR);
			return -1;
		}
		if (coin_line_blank(line, len))
			continue;
		if (coin_tick_parse(line, len, now, &t, why) != 0) {
			if (loop_bad(l, r, why) != 0)
				return -1;
			continue;
		}
		if (loop_add(l, &t) != 0)
			return -1;
	}
}

int
tick_loop(struct tick_loop *l, char **files, int nfiles)
{
	static char *stdin_only[] = { "-" };
	struct coin_reader *r;
	struct sigaction sa;
	int i, rc, stopped = 0;

	if (nfiles == 0) {
		files = stdin_only;
		nfiles = 1;
	}
	/* No SA_RESTART: a read in progress returns, and we stop. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rc = coin_batch_new(&l->b)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	writer_start(l);
	for (i = 0; i < nfiles && !stopped; i++) {
		if ((rc = coin_reader_open(&r, files[i])) != 0) {
			loop_warn("%s: %s", files[i], strerror(rc));
			l->status = worse(l->status, EX_NOINPUT);
			continue;
		}
		stopped = loop_file(l, r) != 0;
		coin_reader_close(r);
	}
	/* Under --strict, a bad line has dropped the open batch already. */
	if (l->status != EX_IOERR)
		(void)loop_flush(l);
	writer_stop(l);
	coin_batch_free(l->b);
	l->b = NULL;
	return l->status;
}

int64_t
opt_time(const char *name, const char *arg, void (*usage)(void))
{
	char why[COIN_ERRBUF];
	int64_t ts;

	if (coin_time_parse(arg, now_secs(), &ts, why) != 0) {
		warnx("--%s: %s", name, why);
		usage();
	}
	return ts;
}

int64_t
opt_duration(const char *name, const char *arg, int64_t min,
    void (*usage)(void))
{
	char why[COIN_ERRBUF];
	int64_t secs;

	if (coin_duration_parse(arg, &secs, why) != 0) {
		warnx("--%s: %s", name, why);
		usage();
	}
	if (secs < min) {
		warnx("--%s: %s is shorter than %lld s", name, arg,
		    (long long)min);
		usage();
	}
	return secs;
}

void *
emalloc(size_t n)
{
	void *p;

	if ((p = malloc(n)) == NULL)
		err(EX_SOFTWARE, "malloc");
	return p;
}
