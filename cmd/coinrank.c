/* SPDX-License-Identifier: ISC */
/* coinrank.c - pairs ordered by volatility, from the store or a pipe */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "coin.h"
#include "util.h"

#define SPARK_W	24	/* sparkline columns */

struct opts {
	const char	*db;
	uint64_t	 top;		/* 0: all */
	const char	*pair;
	int64_t		 history;	/* 0: none */
	int64_t		 at;		/* INT64_MAX: latest */
	int		 table;
	int		 strict;
};

/* What the output goes through: NDJSON or table rows. */
struct out {
	const struct opts	*o;
	struct coin_store	*s;	/* for sparklines; may be NULL */
	int			 status;
	int			 header;	/* table header printed */
	int			 utf8;
};

static const char usage_text[] =
    "usage: coinrank [--json | --table] [--top N | --pair PAIR "
    "[--history DURATION]]\n"
    "                [--at TIME] [--db PATH]\n"
    "       coinrank [--json | --table] [--strict] [--top N | --pair PAIR] "
    "[--db PATH]\n"
    "                FILE ...\n";

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

/* Print the prices of the stat's window as a sparkline. */
struct spark {
	double	 v[SPARK_W];
	int	 have[SPARK_W];
	int64_t	 from;
	int64_t	 window;
};

static int
spark_tick(const struct coin_tick *t, void *arg)
{
	struct spark *sp = arg;
	int64_t i = (t->ts - sp->from) * SPARK_W / sp->window;

	if (i >= 0 && i < SPARK_W) {
		sp->v[i] = t->price;	/* the last price of each slice */
		sp->have[i] = 1;
	}
	return 0;
}

static void
sparkline(struct out *w, const struct coin_stat *st, char *buf, size_t sz)
{
	static const char *blocks[] = { "\xe2\x96\x81", "\xe2\x96\x82",
	    "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86",
	    "\xe2\x96\x87", "\xe2\x96\x88" };
	static const char ascii[] = "_.-~=+*#";
	struct spark sp;
	double lo = INFINITY, hi = -INFINITY;
	size_t n = 0;
	int i, lvl;

	buf[0] = '\0';
	if (w->s == NULL)
		return;
	memset(&sp, 0, sizeof(sp));
	sp.window = st->window;
	sp.from = st->ts - st->window + 1;
	if (coin_store_ticks(w->s, st->pair, sp.from, st->ts, 0, spark_tick,
	    &sp) != 0)
		return;
	/* A slice without a tick shows the price before it. */
	for (i = 1; i < SPARK_W; i++)
		if (!sp.have[i] && sp.have[i - 1]) {
			sp.v[i] = sp.v[i - 1];
			sp.have[i] = 1;
		}
	for (i = 0; i < SPARK_W; i++)
		if (sp.have[i]) {
			lo = sp.v[i] < lo ? sp.v[i] : lo;
			hi = sp.v[i] > hi ? sp.v[i] : hi;
		}
	for (i = 0; i < SPARK_W && n + 4 < sz; i++) {
		if (!sp.have[i]) {
			buf[n++] = ' ';
			continue;
		}
		lvl = hi > lo ? (int)((sp.v[i] - lo) / (hi - lo) * 7.999) : 3;
		if (w->utf8) {
			memcpy(buf + n, blocks[lvl], 3);
			n += 3;
		} else
			buf[n++] = ascii[lvl];
	}
	buf[n] = '\0';
}

/* A pair fit for a terminal: printable ASCII only. */
static void
safe(const char *s, char *buf, size_t sz)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < sz; s++)
		buf[n++] = *s > ' ' && *s < 0x7f ? *s : '?';
	buf[n] = '\0';
}

static int
emit(struct out *w, uint64_t rank, uint64_t of, const struct coin_stat *st)
{
	char buf[COIN_RECBUF + 256], num[4][32], spark[SPARK_W * 3 + 1];
	char pair[COIN_PAIR_MAX + 1];
	int n;

	if (!w->o->table)
		return out_write(buf, coin_rank_format(rank, of, st, buf),
		    &w->status) != 0;
	if (!w->header) {
		n = snprintf(buf, sizeof(buf), "%5s  %-24s %14s %14s %14s "
		    "%6s  %s\n", "RANK", "PAIR", "STDDEV", "MEAN", "LAST", "N",
		    "PRICES");
		if (out_write(buf, (size_t)n, &w->status) != 0)
			return 1;
		w->header = 1;
	}
	snprintf(num[1], sizeof(num[1]), "%.6g", st->mean);
	snprintf(num[2], sizeof(num[2]), "%.8g", st->last);
	snprintf(num[3], sizeof(num[3]), "%.6g", st->stddev);
	sparkline(w, st, spark, sizeof(spark));
	safe(st->pair, pair, sizeof(pair));
	n = snprintf(buf, sizeof(buf), "%5llu  %-24s %14s %14s %14s %6lld  "
	    "%s\n", (unsigned long long)rank, pair,
	    isnan(st->stddev) ? "-" : num[3], num[1], num[2],
	    (long long)st->n, spark);
	return out_write(buf, (size_t)n, &w->status) != 0;
}

/* ---- from the store ---- */

struct walk {
	struct out	*w;
	uint64_t	 rank;
	uint64_t	 of;
};

static int
walk_stat(const struct coin_stat *st, void *arg)
{
	struct walk *k = arg;

	if (emit(k->w, ++k->rank, k->of, st) != 0)
		return 1;
	return k->w->o->top != 0 && k->rank >= k->w->o->top;
}

struct hist {
	struct out	*w;
	int		 rc;
	int		 found;
};

static int
hist_time(int64_t ts, void *arg)
{
	struct hist *h = arg;
	struct coin_stat st;
	uint64_t rank, of;

	if ((h->rc = coin_store_stat_rank(h->w->s, h->w->o->pair, ts, &st,
	    &rank)) != 0 ||
	    (h->rc = coin_store_stats_count(h->w->s, ts, &of)) != 0)
		return 1;
	h->found = 1;
	return emit(h->w, rank, of, &st);
}

static int
from_store(struct out *w)
{
	const struct opts *o = w->o;
	struct walk k = { w, 0, 0 };
	struct hist h = { w, 0, 0 };
	struct coin_stat st;
	char t[32];
	int64_t ts;
	int rc;

	if ((rc = coin_store_stat_time(w->s, o->at, &ts)) == COIN_ENOTFOUND) {
		if (o->at == INT64_MAX)
			warnx("%s: no ranking stored yet (run coinstddev)",
			    coin_store_dir(w->s));
		else {
			coin_rfc3339_format(o->at, t);
			warnx("%s: no ranking stored at or before %s",
			    coin_store_dir(w->s), t);
		}
		return worse(w->status, EX_NOINPUT);
	}
	if (rc != 0)
		goto fail;
	if (o->history > 0) {
		rc = coin_store_stat_times(w->s, o->pair, ts - o->history + 1,
		    ts, hist_time, &h);
		if (rc == 1 && h.rc != 0)
			rc = h.rc;
		if (rc != 0 && rc != 1)
			goto fail;
		if (!h.found) {
			warnx("%s: not ranked in that period", o->pair);
			return worse(w->status, EX_NOINPUT);
		}
		return w->status;
	}
	if ((rc = coin_store_stats_count(w->s, ts, &k.of)) != 0)
		goto fail;
	if (o->pair != NULL) {
		rc = coin_store_stat_rank(w->s, o->pair, ts, &st, &k.rank);
		if (rc == COIN_ENOTFOUND) {
			coin_rfc3339_format(ts, t);
			warnx("%s: not ranked at %s", o->pair, t);
			return worse(w->status, EX_NOINPUT);
		}
		if (rc != 0)
			goto fail;
		(void)emit(w, k.rank, k.of, &st);
		return w->status;
	}
	rc = coin_store_stats_at(w->s, ts, walk_stat, &k);
	if (rc == 0 || rc == 1)
		return w->status;
fail:
	warnx("%s: %s", coin_store_dir(w->s), coin_strerror(rc));
	return worse(w->status, coin_exit_status(rc));
}

/* ---- from stat records ---- */

/*
 * st[0..n) in ranking order: ts, stddev descending (null last), pair;
 * sorted through keys of 32 bytes, side by side, that point to them.
 */
static void
rank_sort(const struct coin_stat **st, size_t n)
{
	struct coin_sortkey *key = emalloc((n ? n : 1) * sizeof(*key));
	size_t i;

	for (i = 0; i < n; i++) {
		key[i].hi = (uint64_t)st[i]->ts ^ (UINT64_C(1) << 63);
		key[i].lo = coin_stddev_code(st[i]->stddev);
		key[i].name = st[i]->pair;
		key[i].p = st[i];
	}
	coin_sortkeys(key, n);
	for (i = 0; i < n; i++)
		st[i] = key[i].p;
	free(key);
}

/* For removing repeats: (ts, pair), the later record (in r[]) first. */
static int
dup_cmp(const void *a, const void *b)
{
	const struct coin_stat *x = *(const struct coin_stat *const *)a;
	const struct coin_stat *y = *(const struct coin_stat *const *)b;
	int c;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if ((c = strcmp(x->pair, y->pair)) != 0)
		return c;
	return x > y ? -1 : x < y;
}

static int
write_out(const char *buf, size_t len, void *arg)
{
	return out_write(buf, len, arg) != 0;
}

static void
bad_line(const char *name, size_t lineno, const char *why, void *arg)
{
	int *status = arg;

	warnx("%s:%zu: %s", name, lineno, why);
	*status = worse(*status, EX_DATAERR);
}

static int
read_stats(char **files, int nfiles, int strict, struct coin_stat **recs,
    size_t *nrec)
{
	struct coin_reader *rd;
	struct coin_stat *r = NULL;
	size_t n = 0, cap = 0;
	int i, rc, status = 0;

	for (i = 0; i < nfiles; i++) {
		if ((rc = coin_reader_open(&rd, files[i])) != 0) {
			warnx("%s: %s", files[i], strerror(rc));
			status = worse(status, EX_NOINPUT);
			continue;
		}
		rc = coin_stats_read(rd, strict, bad_line, &status, &r, &n,
		    &cap);
		if (rc == COIN_ENOMEM)
			errx(EX_SOFTWARE, "%s: %s", coin_reader_name(rd),
			    coin_strerror(rc));
		if (rc != 0 && rc != COIN_EBADREC) {
			warnx("%s: %s", coin_reader_name(rd),
			    coin_strerror(rc));
			status = worse(status, EX_IOERR);
		}
		coin_reader_close(rd);
		if (rc == COIN_EBADREC) {
			/* Nothing ranked after it. */
			n = 0;
			break;
		}
	}
	*recs = r;
	*nrec = n;
	return status;
}

static int
from_records(struct out *w, char **files, int nfiles)
{
	const struct opts *o = w->o;
	const struct coin_stat **st;
	struct coin_stat *r, **by;
	size_t n, i, j, k, start;
	int found = 0, rc;

	w->status = read_stats(files, nfiles, o->strict, &r, &n);
	by = emalloc((n ? n : 1) * sizeof(*by));
	st = emalloc((n ? n : 1) * sizeof(*st));
	for (i = 0; i < n; i++)
		by[i] = &r[i];
	/*
	 * One record per (ts, pair): the last one read wins.  Records in
	 * (ts, pair) order with no repeat, as coinstddev writes them, are
	 * in that order already (a repeat, read later, sorts before).
	 */
	for (i = 1; i < n && dup_cmp(&by[i - 1], &by[i]) < 0; i++)
		continue;
	if (i < n)
		qsort(by, n, sizeof(*by), dup_cmp);
	for (i = 0, k = 0; i < n; i++)
		if (i == 0 || by[i]->ts != by[i - 1]->ts ||
		    strcmp(by[i]->pair, by[i - 1]->pair) != 0)
			st[k++] = by[i];
	free(by);
	rank_sort(st, k);
	if (!o->table && o->pair == NULL && o->top == 0) {
		/* All of them: formatted on two cores. */
		rc = coin_ranks_write(st, k, write_out, &w->status);
		if (rc == COIN_ENOMEM)
			errx(EX_SOFTWARE, "%s", coin_strerror(rc));
		goto out;
	}
	/* Each ts is a ranking of its own. */
	for (start = 0; start < k; start = j) {
		for (j = start; j < k && st[j]->ts == st[start]->ts; j++)
			continue;
		for (i = start; i < j; i++) {
			if (o->pair != NULL) {
				if (strcmp(st[i]->pair, o->pair) != 0)
					continue;
				found = 1;
			} else if (o->top != 0 && i - start >= o->top)
				break;
			if (emit(w, i - start + 1, j - start, st[i]) != 0)
				goto out;
		}
	}
	if (o->pair != NULL && !found) {
		warnx("%s: not among the records read", o->pair);
		w->status = worse(w->status, EX_NOINPUT);
	}
out:
	free(st);
	free(r);
	return w->status;
}

int
main(int argc, char *argv[])
{
	enum { O_AT = 256, O_DB, O_HISTORY, O_STRICT, O_VERSION };
	static const struct option longopts[] = {
		{ "at",		required_argument,	NULL, O_AT },
		{ "db",		required_argument,	NULL, O_DB },
		{ "help",	no_argument,		NULL, 'h' },
		{ "history",	required_argument,	NULL, O_HISTORY },
		{ "json",	no_argument,		NULL, 'j' },
		{ "pair",	required_argument,	NULL, 'p' },
		{ "strict",	no_argument,		NULL, O_STRICT },
		{ "table",	no_argument,		NULL, 't' },
		{ "top",	required_argument,	NULL, 'n' },
		{ "version",	no_argument,		NULL, O_VERSION },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts o = { .at = INT64_MAX, .table = -1 };
	struct out w;
	char why[COIN_ERRBUF], *end;
	const char *cs;
	unsigned long long top;
	int ch, status, at_given = 0;

	coin_heap_huge();
	progname = "coinrank";
	setlocale(LC_ALL, "");
	out_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hjn:p:t", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(usage_text, stdout);
			return finish_stdout(0);
		case 'j':
			o.table = 0;
			break;
		case 'n':
			errno = 0;
			top = strtoull(optarg, &end, 10);
			if (*optarg < '0' || *optarg > '9' || *end != '\0' ||
			    errno != 0 || top == 0 || top > UINT32_MAX) {
				warnx("--top: \"%s\" is not a count from 1",
				    optarg);
				usage();
			}
			o.top = top;
			break;
		case 'p':
			if (coin_pair_valid(optarg, strlen(optarg), why) != 0) {
				warnx("--pair: %s", why);
				usage();
			}
			o.pair = optarg;
			break;
		case 't':
			o.table = 1;
			break;
		case O_AT:
			o.at = opt_time("at", optarg, usage);
			at_given = 1;
			break;
		case O_DB:
			o.db = optarg;
			break;
		case O_HISTORY:
			o.history = opt_duration("history", optarg, 1, usage);
			break;
		case O_STRICT:
			o.strict = 1;
			break;
		case O_VERSION:
			print_version("coinrank");
		default:
			option_error(ch, argv);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (o.top != 0 && o.pair != NULL) {
		warnx("--top and --pair go one at a time");
		usage();
	}
	if (o.strict && argc == 0) {
		warnx("--strict goes with records to read");
		usage();
	}
	if (o.history > 0 && o.pair == NULL) {
		warnx("--history goes with --pair");
		usage();
	}
	if (argc > 0 && (o.history > 0 || at_given)) {
		warnx("--history and --at read the store, not records");
		usage();
	}
	if (o.table == -1)
		o.table = isatty(STDOUT_FILENO);
	memset(&w, 0, sizeof(w));
	w.o = &o;
	cs = nl_langinfo(CODESET);
	w.utf8 = cs != NULL && strcmp(cs, "UTF-8") == 0;
	if (argc == 0) {
		w.s = open_store(o.db, COIN_STORE_RDONLY);
		status = from_store(&w);
	} else {
		/* A store, if there is one, lends a table its sparklines. */
		char path[PATH_MAX];

		if (o.table && coin_store_path(o.db, path, sizeof(path)) == 0)
			(void)coin_store_open(&w.s, path, COIN_STORE_RDONLY);
		status = from_records(&w, argv, argc);
	}
	/* stdout's end first: its reader need not wait for the unmapping. */
	status = finish_stdout(status);
	coin_store_close(w.s);
	return status;
}
