/* SPDX-License-Identifier: ISC */
/* coinstore.c - the price history in LMDB: ingest, query and care */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "coin.h"
#include "util.h"

/*
 * Ticks pending before a bulk commit.  The reader fills one batch while
 * the writer commits the last, and LMDB holds what a commit changes: at
 * 10,000 pairs, 100,000 of them made coinstore -q's peak 11.2 MiB, and
 * 65,536 make it 9.1 (1.5x the commits, 2% more time).
 */
#define BATCH_MAX	65536

enum mode { INGEST, DUMP, PAIRS, STATS, CHECK, PRUNE, BACKUP };

struct opts {
	enum mode	 mode;
	int		 modes;		/* how many were asked for */
	const char	*db;
	int		 quiet;
	int		 strict;
	int		 latest;
	int		 ranged;	/* --since or --until given */
	int64_t		 since;
	int64_t		 until;
	int64_t		 age;
	const char	*backup;
};

/* The store ingest writes to. */
static struct coin_store *store;

static void	usage(void) __attribute__((noreturn));
static int	ingest(const struct opts *, char **, int);
static int	dump(struct coin_store *, const struct opts *, char **, int);

static const char usage_text[] =
    "usage: coinstore [-q] [--strict] [--db PATH] [FILE ...]\n"
    "       coinstore --dump [--latest] [--since T] [--until T] "
    "[--db PATH] [PAIR ...]\n"
    "       coinstore --pairs | --stats | --check [--db PATH]\n"
    "       coinstore --prune AGE | --backup DIR [--db PATH]\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static void
set_mode(struct opts *o, enum mode m)
{
	o->mode = m;
	o->modes++;
}

/* Commit the pending ticks, then echo them: only durable data goes out. */
static int
commit(struct tick_loop *l, struct coin_batch *b, int *status)
{
	const struct opts *o = l->arg;
	struct coin_tick t;
	char buf[COIN_RECBUF];
	size_t i, n = coin_batch_len(b);
	int rc;

	if ((rc = coin_store_put_batch(store, b)) != 0) {
		warnx("%s: commit: %s", coin_store_dir(store),
		    coin_strerror(rc));
		*status = worse(*status, coin_exit_status(rc));
		return -1;
	}
	for (i = 0; i < n && !o->quiet; i++) {
		coin_batch_get(b, i, &t);
		if (out_write(buf, coin_tick_format(&t, buf), status) != 0)
			break;
	}
	if (!o->quiet)
		(void)out_flush(status);
	return 0;
}

static int
ingest(const struct opts *o, char **files, int nfiles)
{
	struct tick_loop l;

	memset(&l, 0, sizeof(l));
	l.bulk = l.split = BATCH_MAX;
	l.times = COIN_BULK_TIMES;
	l.strict = o->strict;
	l.flush = commit;
	l.arg = (void *)(uintptr_t)o;
	/* Storing goes on when the reader of the echo has gone. */
	signal(SIGPIPE, SIG_IGN);
	return tick_loop(&l, files, nfiles);
}

struct dumper {
	int	 status;
	size_t	 found;
};

static int
dump_tick(const struct coin_tick *t, void *arg)
{
	struct dumper *d = arg;
	char buf[COIN_RECBUF];

	d->found++;
	/* 1 stops the walk: stdout has failed, and said so. */
	return out_write(buf, coin_tick_format(t, buf), &d->status) != 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
dump(struct coin_store *s, const struct opts *o, char **pairs, int npairs)
{
	struct dumper d = { 0, 0 };
	int i, rc;

	if (npairs == 0) {
		rc = coin_store_ticks(s, NULL, o->since, o->until, o->latest,
		    dump_tick, &d);
		if (rc < 0 || rc > 1)
			goto fail;
		return d.status;
	}
	qsort(pairs, (size_t)npairs, sizeof(*pairs), cmp_str);
	for (i = 0; i < npairs; i++) {
		if (i > 0 && strcmp(pairs[i], pairs[i - 1]) == 0)
			continue;
		d.found = 0;
		rc = coin_store_ticks(s, pairs[i], o->since, o->until,
		    o->latest, dump_tick, &d);
		if (rc < 0 || rc > 1)
			goto fail;
		if (rc == 1)
			break;
		if (d.found == 0)
			warnx("%s: no ticks%s", pairs[i],
			    o->ranged ? " in that period" : "");
	}
	return d.status;
fail:
	warnx("%s: %s", coin_store_dir(s), coin_strerror(rc));
	return worse(d.status, coin_exit_status(rc));
}

static int
print_pair(const struct coin_pairinfo *p, void *arg)
{
	char buf[COIN_RECBUF];
	int n;

	n = snprintf(buf, sizeof(buf),
	    "{\"pair\":\"%s\",\"n\":%" PRIu64 ",\"first\":%" PRId64
	    ",\"last\":%" PRId64 "}\n", p->pair, p->n, p->first, p->last);
	return out_write(buf, (size_t)n, arg) != 0;
}

/* Write s as a JSON string: paths may hold quotes or control bytes. */
static void
put_json_string(const char *s, int *status)
{
	char buf[8];

	out_write("\"", 1, status);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			buf[0] = '\\';
			buf[1] = (char)c;
			out_write(buf, 2, status);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(buf, sizeof(buf), "\\u%04x", c);
			out_write(buf, 6, status);
		} else
			out_write(s, 1, status);
	}
	out_write("\"", 1, status);
}

static int
print_info(struct coin_store *s, const struct coin_storeinfo *i,
    const char *first)
{
	char buf[COIN_RECBUF];
	int status = 0, n;

	n = snprintf(buf, sizeof(buf), "{%s\"db\":", first);
	out_write(buf, (size_t)n, &status);
	put_json_string(coin_store_dir(s), &status);
	n = snprintf(buf, sizeof(buf), ",\"schema\":%u,\"ticks\":%" PRIu64
	    ",\"pairs\":%" PRIu64 ",\"first\":%" PRId64 ",\"last\":%" PRId64
	    ",\"stats\":%" PRIu64 ",\"stat_times\":%" PRIu64
	    ",\"latest\":%" PRId64 ",\"map_size\":%" PRIu64
	    ",\"map_used\":%" PRIu64 ",\"page_size\":%" PRIu64
	    ",\"staged\":%" PRIu64 "}\n",
	    i->schema, i->ticks, i->pairs, i->first_ts, i->last_ts, i->stats,
	    i->stat_times, i->latest, i->map_size, i->map_used, i->page_size,
	    i->staged);
	out_write(buf, (size_t)n, &status);
	return status;
}

static void
print_fault(const char *what, void *arg)
{
	warnx("%s: %s", coin_store_dir(arg), what);
}

static int
care(struct coin_store *s, const struct opts *o)
{
	struct coin_storeinfo info;
	char buf[COIN_RECBUF];
	uint64_t nt, ns;
	int64_t cutoff;
	int rc, status = 0;

	switch (o->mode) {
	case PAIRS:
		rc = coin_store_pairs(s, print_pair, &status);
		break;
	case STATS:
		if ((rc = coin_store_info(s, &info)) == 0)
			status = print_info(s, &info, "");
		break;
	case CHECK:
		rc = coin_store_check(s, print_fault, s, &info);
		if (rc == 0)
			status = print_info(s, &info, "\"check\":\"ok\",");
		else if (rc == COIN_ECORRUPT) {
			warnx("%s: check failed: the store is damaged; "
			    "restore a --backup", coin_store_dir(s));
			return EX_IOERR;
		}
		break;
	case PRUNE:
		cutoff = now_secs() - o->age;
		rc = coin_store_prune(s, cutoff, &nt, &ns);
		if (rc == 0) {
			int n = snprintf(buf, sizeof(buf),
			    "{\"before\":%" PRId64 ",\"ticks\":%" PRIu64
			    ",\"stats\":%" PRIu64 "}\n", cutoff, nt, ns);
			out_write(buf, (size_t)n, &status);
		}
		break;
	case BACKUP:
		rc = coin_store_backup(s, o->backup);
		if (rc == EEXIST)
			errx(EX_CANTCREAT, "%s: holds a data.mdb already",
			    o->backup);
		if (rc > 0 && rc != ENOSPC && rc != EIO)
			errx(EX_CANTCREAT, "%s: %s", o->backup, strerror(rc));
		if (rc != 0)
			errx(coin_exit_status(rc), "%s: %s", o->backup,
			    coin_strerror(rc));
		break;
	default:
		rc = COIN_EUSAGE;
	}
	if (rc < 0 || rc > 1) {
		warnx("%s: %s", coin_store_dir(s), coin_strerror(rc));
		return worse(status, coin_exit_status(rc));
	}
	return status;
}

/*
 * Walking every page of a damaged store may crash inside LMDB: let a
 * child take that risk.  The parent returns here only in the child;
 * it exits with the child's status, or 74 if the child died of it.
 */
static void
check_apart(const char *db)
{
	char path[PATH_MAX];
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		err(EX_OSERR, "fork");
	if (pid == 0)
		return;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			err(EX_OSERR, "waitpid");
	if (WIFEXITED(status))
		exit(WEXITSTATUS(status));
	if (coin_store_path(db, path, sizeof(path)) != 0)
		snprintf(path, sizeof(path), "store");
	errx(EX_IOERR, "%s: the check died of signal %d on damaged data: "
	    "the store is corrupt; restore a --backup", path,
	    WTERMSIG(status));
}

int
main(int argc, char *argv[])
{
	enum {
		O_BACKUP = 256, O_CHECK, O_DB, O_DUMP, O_LATEST, O_PAIRS,
		O_PRUNE, O_SINCE, O_STATS, O_STRICT, O_UNTIL, O_VERSION
	};
	static const struct option longopts[] = {
		{ "backup",	required_argument,	NULL, O_BACKUP },
		{ "check",	no_argument,		NULL, O_CHECK },
		{ "db",		required_argument,	NULL, O_DB },
		{ "dump",	no_argument,		NULL, O_DUMP },
		{ "help",	no_argument,		NULL, 'h' },
		{ "latest",	no_argument,		NULL, O_LATEST },
		{ "pairs",	no_argument,		NULL, O_PAIRS },
		{ "prune",	required_argument,	NULL, O_PRUNE },
		{ "quiet",	no_argument,		NULL, 'q' },
		{ "since",	required_argument,	NULL, O_SINCE },
		{ "stats",	no_argument,		NULL, O_STATS },
		{ "strict",	no_argument,		NULL, O_STRICT },
		{ "until",	required_argument,	NULL, O_UNTIL },
		{ "version",	no_argument,		NULL, O_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts o = { .mode = INGEST, .since = INT64_MIN,
	    .until = INT64_MAX };
	struct coin_store *s;
	char why[COIN_ERRBUF];
	int ch, i, status, flags;

	progname = "coinstore";
	setlocale(LC_ALL, "");
	out_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return finish_stdout(0);
		case 'q':
			o.quiet = 1;
			break;
		case O_BACKUP:
			set_mode(&o, BACKUP);
			o.backup = optarg;
			break;
		case O_CHECK:
			set_mode(&o, CHECK);
			break;
		case O_DB:
			o.db = optarg;
			break;
		case O_DUMP:
			set_mode(&o, DUMP);
			break;
		case O_LATEST:
			o.latest = 1;
			break;
		case O_PAIRS:
			set_mode(&o, PAIRS);
			break;
		case O_PRUNE:
			set_mode(&o, PRUNE);
			o.age = opt_duration("prune", optarg, 0, usage);
			break;
		case O_SINCE:
			o.since = opt_time("since", optarg, usage);
			o.ranged = 1;
			break;
		case O_STATS:
			set_mode(&o, STATS);
			break;
		case O_STRICT:
			o.strict = 1;
			break;
		case O_UNTIL:
			o.until = opt_time("until", optarg, usage);
			o.ranged = 1;
			break;
		case O_VERSION:
			print_version("coinstore");
		default:
			option_error(ch, argv);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.modes > 1) {
		warnx("--dump, --pairs, --stats, --check, --prune and "
		    "--backup go one at a time");
		usage();
	}
	if ((o.ranged || o.latest) && o.mode != DUMP) {
		warnx("--since, --until and --latest go with --dump");
		usage();
	}
	if ((o.quiet || o.strict) && o.mode != INGEST) {
		warnx("-q and --strict go with ingest");
		usage();
	}
	if (argc > 0 && o.mode != INGEST && o.mode != DUMP) {
		warnx("unexpected operand: %s", argv[0]);
		usage();
	}
	if (o.mode == DUMP)
		for (i = 0; i < argc; i++)
			if (coin_pair_valid(argv[i], strlen(argv[i]),
			    why) != 0) {
				warnx("%s", why);
				usage();
			}
	if (o.since > o.until) {
		warnx("--since is after --until");
		usage();
	}
	if (o.mode == CHECK)
		check_apart(o.db);
	if (o.mode == INGEST)
		flags = COIN_STORE_CREATE;
	else if (o.mode == BACKUP || o.mode == PRUNE)
		flags = 0;
	else
		flags = COIN_STORE_RDONLY;
	s = open_store(o.db, flags);
	store = s;
	if (o.mode == INGEST)
		status = ingest(&o, argv, argc);
	else if (o.mode == DUMP)
		status = dump(s, &o, argv, argc);
	else
		status = care(s, &o);
	/* stdout's end first: its reader need not wait for the unmapping. */
	status = finish_stdout(status);
	coin_store_close(s);
	reraise_stop();
	return status;
}
