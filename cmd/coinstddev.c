/* SPDX-License-Identifier: ISC */
/* coinstddev.c - windowed standard deviation of each pair, stored */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "coin.h"
#include "util.h"

#define BATCH_MAX	20000	/* requests pending before a commit */
#define GRACE_MS	20	/* a pause this long ends a live batch */

struct opts {
	const char	*db;
	int64_t		 window;
	int		 population;
	int		 all;
	int		 strict;
	int64_t		 at;		/* INT64_MAX: the newest tick */
};

struct run {
	struct coin_store	*s;
	struct coin_batch	*b;
	const struct opts	*o;
	struct coin_stat	*out;
	size_t			 outcap;
	size_t			 open_start;
	int64_t			 open_ts;
	int			 status;
};

static const char usage_text[] =
    "usage: coinstddev [--population] [--strict] [--window DURATION] "
    "[--db PATH]\n"
    "                  [FILE ...]\n"
    "       coinstddev --all [--at TIME] [--population] "
    "[--window DURATION]\n"
    "                  [--db PATH]\n";

static volatile sig_atomic_t stopsig;

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static void
onsignal(int sig)
{
	stopsig = sig;
}

static int
print_stat(const struct coin_stat *st, void *arg)
{
	char buf[COIN_RECBUF];

	return out_write(buf, coin_stat_format(st, buf), arg) != 0;
}

/* Compute, store and print the pending requests. */
static int
flush(struct run *r)
{
	size_t i, n = coin_batch_len(r->b), nout;
	char ts[32];
	int rc;

	if (n == 0)
		return 0;
	if (n > r->outcap) {
		free(r->out);
		r->outcap = n;
		r->out = emalloc(n * sizeof(*r->out));
	}
	rc = coin_store_compute(r->s, r->b, r->o->window, r->o->population,
	    r->out, &nout);
	coin_batch_truncate(r->b, 0);
	r->open_start = 0;
	if (rc != 0) {
		warnx("%s: %s", coin_store_dir(r->s), coin_strerror(rc));
		r->status = worse(r->status, coin_exit_status(rc));
		return -1;
	}
	for (i = 0; i < nout; i++) {
		if (r->out[i].n == 0) {
			coin_rfc3339_format(r->out[i].ts, ts);
			warnx("%s: no stored tick at %s or in the window "
			    "before it (is the input coinstore's echo?)",
			    r->out[i].pair, ts);
			r->status = worse(r->status, EX_DATAERR);
			continue;
		}
		if (print_stat(&r->out[i], &r->status) != 0)
			break;
	}
	(void)out_flush(&r->status);
	return 0;
}

static int
add(struct run *r, const struct coin_tick *t)
{
	size_t n = coin_batch_len(r->b);
	int rc;

	if (n > 0 && t->ts != r->open_ts) {
		r->open_start = n;
		if (n >= BATCH_MAX && flush(r) != 0)
			return -1;
	} else if (n - r->open_start >= 5 * BATCH_MAX && flush(r) != 0)
		return -1;	/* one batch far larger than the usual */
	r->open_ts = t->ts;
	if ((rc = coin_batch_add(r->b, t)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	return 0;
}

static int
bad(struct run *r, struct coin_reader *rd, const char *why)
{
	warnx("%s:%zu: %s", coin_reader_name(rd), coin_reader_lineno(rd),
	    why);
	r->status = worse(r->status, EX_DATAERR);
	if (!r->o->strict)
		return 0;
	coin_batch_truncate(r->b, r->open_start);
	return -1;
}

static int
filter_file(struct run *r, struct coin_reader *rd)
{
	struct coin_tick t;
	char why[COIN_ERRBUF];
	const char *line;
	size_t len;
	int rc;

	for (;;) {
		if (stopsig)
			return -1;
		if (coin_batch_len(r->b) > 0 &&
		    !coin_reader_ready(rd, GRACE_MS) && flush(r) != 0)
			return -1;
		rc = coin_reader_next(rd, &line, &len);
		if (rc == 0)
			return 0;
		if (rc == EINTR)
			continue;
		if (rc == COIN_ELONG || rc == COIN_ENUL) {
			if (bad(r, rd, coin_strerror(rc)) != 0)
				return -1;
			continue;
		}
		if (rc != 1) {
			warnx("%s: %s", coin_reader_name(rd),
			    coin_strerror(rc));
			r->status = worse(r->status, EX_IOERR);
			return -1;
		}
		if (coin_line_blank(line, len))
			continue;
		if (coin_tick_parse(line, len, now_secs(), &t, why) != 0) {
			if (bad(r, rd, why) != 0)
				return -1;
			continue;
		}
		if (add(r, &t) != 0)
			return -1;
	}
}

static int
filter(struct coin_store *s, const struct opts *o, char **files,
    int nfiles)
{
	static char *stdin_only[] = { "-" };
	struct run r;
	struct coin_reader *rd;
	struct sigaction sa;
	int i, rc, stopped = 0;

	memset(&r, 0, sizeof(r));
	r.s = s;
	r.o = o;
	if (nfiles == 0) {
		files = stdin_only;
		nfiles = 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsignal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rc = coin_batch_new(&r.b)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	for (i = 0; i < nfiles && !stopped; i++) {
		if ((rc = coin_reader_open(&rd, files[i])) != 0) {
			warnx("%s: %s", files[i], strerror(rc));
			r.status = worse(r.status, EX_NOINPUT);
			continue;
		}
		stopped = filter_file(&r, rd) != 0;
		coin_reader_close(rd);
	}
	if (r.status != EX_IOERR)
		(void)flush(&r);
	coin_batch_free(r.b);
	free(r.out);
	return r.status;
}

static int
all(struct coin_store *s, const struct opts *o)
{
	struct coin_storeinfo info;
	int64_t at = o->at;
	int rc, status = 0;

	if (at == INT64_MAX) {
		if ((rc = coin_store_info(s, &info)) != 0)
			goto fail;
		if (info.ticks == 0) {
			warnx("%s: no ticks stored", coin_store_dir(s));
			return EX_NOINPUT;
		}
		at = info.last_ts;
	}
	rc = coin_store_compute_all(s, at, o->window, o->population,
	    print_stat, &status);
	if (rc == 0 || rc == 1)
		return status;
fail:
	warnx("%s: %s", coin_store_dir(s), coin_strerror(rc));
	return worse(status, coin_exit_status(rc));
}

int
main(int argc, char *argv[])
{
	enum { O_ALL = 256, O_AT, O_DB, O_STRICT, O_VERSION };
	static const struct option longopts[] = {
		{ "all",	no_argument,		NULL, O_ALL },
		{ "at",		required_argument,	NULL, O_AT },
		{ "db",		required_argument,	NULL, O_DB },
		{ "help",	no_argument,		NULL, 'h' },
		{ "population",	no_argument,		NULL, 'p' },
		{ "strict",	no_argument,		NULL, O_STRICT },
		{ "version",	no_argument,		NULL, O_VERSION },
		{ "window",	required_argument,	NULL, 'w' },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts o = { .window = 86400, .at = INT64_MAX };
	struct coin_store *s;
	char why[COIN_ERRBUF];
	int ch, status, at_given = 0;

	progname = "coinstddev";
	setlocale(LC_ALL, "");
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hpw:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return finish_stdout(0);
		case 'p':
			o.population = 1;
			break;
		case 'w':
			if (coin_duration_parse(optarg, &o.window, why) != 0) {
				warnx("--window: %s", why);
				usage();
			}
			if (o.window <= 0) {
				warnx("--window: must be longer than 0");
				usage();
			}
			break;
		case O_ALL:
			o.all = 1;
			break;
		case O_AT:
			if (coin_time_parse(optarg, now_secs(), &o.at,
			    why) != 0) {
				warnx("--at: %s", why);
				usage();
			}
			at_given = 1;
			break;
		case O_DB:
			o.db = optarg;
			break;
		case O_STRICT:
			o.strict = 1;
			break;
		case O_VERSION:
			print_version("coinstddev");
		default:
			option_error(ch, argv);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (at_given && !o.all) {
		warnx("--at goes with --all");
		usage();
	}
	if (o.all && (argc > 0 || o.strict)) {
		warnx("--all reads no input");
		usage();
	}
	s = open_store(o.db, COIN_STORE_CREATE);
	status = o.all ? all(s, &o) : filter(s, &o, argv, argc);
	coin_store_close(s);
	status = finish_stdout(status);
	if (stopsig != 0) {
		signal(stopsig, SIG_DFL);
		raise(stopsig);
	}
	return status;
}
