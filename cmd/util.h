/* SPDX-License-Identifier: ISC */
/* util.h - helpers for the commands only: these may print and exit */
#ifndef UTIL_H
#define UTIL_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "coin.h"

/* The command's name, for messages written where warnx() cannot be. */
extern const char *progname;

/* The worse of two exit statuses: 74 over 66 over 65 over 0. */
int	worse(int a, int b);

/* The current Unix time; exits 70 if the clock cannot be read. */
int64_t	now_secs(void);

/* Print "PROG VERSION" and exit 0. */
void	print_version(const char *prog) __attribute__((noreturn));

/*
 * Open the store named by db (or the environment) with COIN_STORE_*
 * flags; on failure print why and exit with the contract's status.
 */
struct coin_store *open_store(const char *db, int flags);

/*
 * Flush and close stdout.  Returns status, or 74 after a message when
 * writing failed (a reader that went away is not a failure).
 */
int	finish_stdout(int status);

/*
 * Write len bytes to stdout.  Returns 0, or -1 once stdout has failed
 * (reported once, *status made 74 unless the reader went away).
 */
int	out_write(const char *buf, size_t len, int *status);

/*
 * Say in one line what was wrong with the option getopt_long() just
 * refused (ch is '?' or ':', with ":" leading the option string).
 */
void	option_error(int ch, char *const argv[]);

/* Flush stdout; as out_write(). */
int	out_flush(int *status);
/*
 * Give stdout a buffer of 64 KB when it is not a terminal (a pipe's
 * default is 4 KB: a write(2) every 20 records); call before output.
 */
void	out_init(void);

/*
 * Reading ticks in batches, for coinstore and coinstddev.  Good ticks
 * gather in b; flush(arg) is called to commit them, only between
 * batches (runs of one ts): when the input pauses (GRACE_MS), when
 * bulk ticks or times batches (0: any number) are pending at a batch's
 * end, when one batch reaches split ticks, and at the end.  Bad lines
 * are reported and counted; with strict, the first one drops the open
 * batch and stops.  flush returns 0, or -1 to stop (having set
 * status).  SIGINT and SIGTERM stop the loop between records; what is
 * pending is flushed.
 */
#define GRACE_MS	20

struct tick_loop {
	struct coin_batch	*b;
	size_t			 bulk;
	size_t			 times;
	size_t			 split;
	int			 strict;
	/* Store b (and say so); worsen *status on failure, return -1. */
	int			(*flush)(struct tick_loop *,
				    struct coin_batch *b, int *status);
	void			*arg;
	int			 status;
	size_t			 open_start;	/* the open batch's first */
	size_t			 batches;	/* begun in b */
	int64_t			 open_ts;
};

/* Run l over files (none: standard input).  Returns l->status. */
int	tick_loop(struct tick_loop *l, char **files, int nfiles);

/* The signal that stopped a tick loop, or 0; re-raise it at the end. */
extern volatile sig_atomic_t loop_signal;
/* Die of loop_signal, if a signal stopped us, after the caller's cleanup. */
void	reraise_stop(void);

/*
 * The value of option --name: a time (Unix seconds, RFC 3339, or an age
 * like 24h), or a duration of at least min seconds.  A bad one is
 * reported and usage() called, which does not return.
 */
int64_t	opt_time(const char *name, const char *arg, void (*usage)(void));
int64_t	opt_duration(const char *name, const char *arg, int64_t min,
	    void (*usage)(void));

/* Exit-on-failure allocation. */
void	*emalloc(size_t n);

#endif /* UTIL_H */
