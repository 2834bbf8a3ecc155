/* SPDX-License-Identifier: ISC */
/* coinfetch.c - prices from CoinGecko, as ticks */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "coin.h"
#include "util.h"

#define PERIOD		60		/* seconds, without --interval */
#define TOP		100		/* coins, by default */
#define TOP_MAX		100000
#define RETRIES		4
#define RETRIES_MAX	10
#define TIMEOUT		30		/* seconds a request, by default */
#define TIMEOUT_MAX	3600
#define INTERVAL_MAX	(7 * 86400)
#define HISTORY_MAX	(3650 * 86400)

enum { SEL_COINS = 1, SEL_TOP = 2, SEL_ALL = 4, SEL_EXCHANGE = 8 };

struct opts {
	char		*coins;		/* NULL for the top by market cap */
	size_t		 top;
	int		 all;
	char		*vs;
	char		*exchange;
	int64_t		 interval;	/* 0: one batch */
	int64_t		 count;		/* 0: until stopped */
	int64_t		 history;	/* 0: no backfill */
	int64_t		 timeout;
	int		 retries;
	const char	*cacert;
	int		 selectors;	/* SEL_* given */
};

/* The progress line on stderr, when it is a terminal. */
struct progress {
	int	 on;		/* stderr is a terminal and the fetch long */
	size_t	 width;		/* of the line shown; 0 for none */
};

static void	usage(void) __attribute__((noreturn));

static volatile sig_atomic_t fetch_signal;
static int stdout_gone;

static const char usage_text[] =
    "usage: coinfetch [-c ID,... | -t N | --all | -e ID] [--vs CURRENCY,...]\n"
    "                 [-i DURATION [-n N]] [--history DURATION]\n"
    "                 [--timeout DURATION] [--retries N] [--cacert FILE]\n";

static void
usage(void)
{
	fputs(usage_text, stderr);
	exit(EX_USAGE);
}

static void
onsignal(int sig)
{
	fetch_signal = sig;
}

/* Catch sig with sa, unless it is ignored (as in a background job). */
static void
catch(int sig, const struct sigaction *sa)
{
	struct sigaction old;

	if (sigaction(sig, NULL, &old) == 0 && old.sa_handler != SIG_IGN)
		sigaction(sig, sa, NULL);
}

/* The graver of two statuses: 70, 74, 69, 75, 65, then 0. */
static int
graver(int a, int b)
{
	static const int order[] = { 0, EX_DATAERR, EX_TEMPFAIL,
	    EX_UNAVAILABLE, EX_IOERR, EX_SOFTWARE };
	size_t i, ra = 0, rb = 0;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (order[i] == a)
			ra = i;
		if (order[i] == b)
			rb = i;
	}
	return rb > ra ? b : a;
}

static int64_t
number(const char *name, const char *arg, int64_t min, int64_t max)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 ||
	    v < min || v > max) {
		warnx("--%s: \"%s\" is not a number from %lld to %lld", name,
		    arg, (long long)min, (long long)max);
		usage();
	}
	return v;
}

static int64_t
duration(const char *name, const char *arg, int64_t min, int64_t max)
{
	int64_t secs = opt_duration(name, arg, min, usage);

	if (secs > max) {
		warnx("--%s: %s is longer than %lld s", name, arg,
		    (long long)max);
		usage();
	}
	return secs;
}

/*
 * A list option made lowercase, without repeats, and checked; with one,
 * a single id.
 */
static char *
id_list(const char *name, const char *arg, int one)
{
	char why[COIN_ERRBUF], *s, *out, *p;
	size_t n = strlen(arg), len, i, o = 0;

	s = emalloc(n + 1);
	out = emalloc(n + 1);
	for (i = 0; i <= n; i++)
		s[i] = arg[i] >= 'A' && arg[i] <= 'Z' ?
		    (char)(arg[i] - 'A' + 'a') : arg[i];
	if (coin_fetch_list_valid(s, why) != 0) {
		warnx("--%s: %s", name, why);
		usage();
	}
	if (one && strchr(s, ',') != NULL) {
		warnx("--%s: one id, not a list", name);
		usage();
	}
	out[0] = '\0';
	for (p = s; *p != '\0'; p += len + (p[len] == ',')) {
		len = strcspn(p, ",");
		for (i = 0; i < o; i += strcspn(out + i, ",") + 1)
			if (strcspn(out + i, ",") == len &&
			    strncmp(out + i, p, len) == 0)
				break;
		if (i < o)
			continue;	/* a repeat */
		if (o > 0)
			out[o++] = ',';
		memcpy(out + o, p, len);
		o += len;
		out[o] = '\0';
	}
	free(s);
	return out;
}

/* Copy item number i of comma list into buf; 0 past the end. */
static int
item(const char *list, size_t i, char *buf, size_t bufsz)
{
	size_t n;

	for (; i > 0; i--) {
		list += strcspn(list, ",");
		if (*list++ == '\0')
			return 0;
	}
	if (*list == '\0')
		return 0;
	n = strcspn(list, ",");
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, list, n);
	buf[n] = '\0';
	return 1;
}

static void
progress_clear(struct progress *pg)
{
	if (pg->width > 0) {
		fprintf(stderr, "\r%*s\r", (int)pg->width, "");
		pg->width = 0;
	}
}

static void
on_progress(const char *at, void *arg)
{
	struct progress *pg = arg;
	int n;

	if (!pg->on)
		return;
	n = fprintf(stderr, "\rcoinfetch: %s", at);
	if (n > 0 && (size_t)n < pg->width)
		fprintf(stderr, "%*s", (int)(pg->width - (size_t)n), "");
	if (n > 0 && (size_t)n > pg->width)
		pg->width = (size_t)n;
	fflush(stderr);
}

static void
on_drop(const char *what, const char *why, void *arg)
{
	progress_clear(arg);
	warnx("%s: %s", what, why);
}

static int
cmp_time(const void *a, const void *b)
{
	const struct coin_tick *p = a, *q = b;

	if (p->ts != q->ts)
		return p->ts < q->ts ? -1 : 1;
	return strcmp(p->pair, q->pair);
}

/*
 * Write the ticks of b (in time order with by_time) to stdout with one
 * write and a flush, so that a batch goes out whole.
 */
static int
print(struct coin_batch *b, int by_time)
{
	struct coin_tick *t;
	char *buf, *p, rec[COIN_RECBUF];
	size_t i, n = coin_batch_len(b), len = 0, cap = 65536, k;
	int status = 0;

	if (n == 0)
		return 0;
	t = emalloc(n * sizeof(*t));
	buf = emalloc(cap);
	for (i = 0; i < n; i++)
		coin_batch_get(b, i, &t[i]);
	if (by_time)
		qsort(t, n, sizeof(*t), cmp_time);
	for (i = 0; i < n; i++) {
		k = coin_tick_format(&t[i], rec);
		if (len + k > cap) {
			while (len + k > cap)
				cap *= 2;
			if ((p = realloc(buf, cap)) == NULL)
				err(EX_SOFTWARE, "realloc");
			buf = p;
		}
		memcpy(buf + len, rec, k);
		len += k;
	}
	if (out_write(buf, len, &status) != 0 || out_flush(&status) != 0)
		stdout_gone = 1;
	free(buf);
	free(t);
	return status;
}

static int
failed(int rc, const char *why)
{
	warnx("%s", why[0] != '\0' ? why : coin_strerror(rc));
	return coin_exit_status(rc);
}

/* One batch at time ts: fetched whole, then printed whole. */
static int
batch(struct coin_http *h, const struct opts *o, int64_t ts, int64_t period,
    struct progress *pg)
{
	struct coin_fetch_out out = { NULL, ts, period, on_drop, on_progress,
	    pg, 0 };
	char why[COIN_ERRBUF] = "", cur[COIN_FETCH_ID_MAX + 1];
	size_t i;
	int rc = 0, status;

	if ((rc = coin_batch_new(&out.batch)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	/* A bulk pass alone has no next batch to make way for. */
	coin_http_deadline(h, o->all && o->interval == 0 ? 0 : ts + period);
	if (o->exchange != NULL)
		rc = coin_fetch_exchange(h, o->exchange, &out, why);
	else if (o->coins != NULL)
		rc = coin_fetch_simple(h, o->coins, o->vs, &out, why);
	else
		for (i = 0; rc == 0 && item(o->vs, i, cur, sizeof(cur)); i++)
			rc = coin_fetch_markets(h, cur, o->all ? 0 : o->top,
			    &out, why);
	progress_clear(pg);
	status = rc != 0 ? failed(rc, why) : print(out.batch, 0);
	if (out.ndropped > 0)
		status = graver(status, EX_DATAERR);
	coin_batch_free(out.batch);
	return status;
}

/* The ids of the coins whose history is wanted: listed, or the top. */
static char *
history_ids(struct coin_http *h, const struct opts *o, int64_t now,
    struct progress *pg, int *status)
{
	struct coin_fetch_out out = { NULL, now, PERIOD, on_drop, on_progress,
	    pg, 0 };
	struct coin_tick t;
	char why[COIN_ERRBUF] = "", cur[COIN_FETCH_ID_MAX + 1], *ids;
	size_t i, n, len = 0, k;
	int rc;

	if (o->coins != NULL) {
		if ((ids = strdup(o->coins)) == NULL)
			err(EX_SOFTWARE, "strdup");
		return ids;
	}
	if ((rc = coin_batch_new(&out.batch)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	item(o->vs, 0, cur, sizeof(cur));
	rc = coin_fetch_markets(h, cur, o->top, &out, why);
	if (rc != 0) {
		*status = graver(*status, failed(rc, why));
		coin_batch_free(out.batch);
		return NULL;
	}
	if (out.ndropped > 0)
		*status = graver(*status, EX_DATAERR);
	n = coin_batch_len(out.batch);
	ids = emalloc(n * (COIN_PAIR_MAX + 1) + 1);
	ids[0] = '\0';
	for (i = 0; i < n; i++) {
		coin_batch_get(out.batch, i, &t);
		k = strcspn(t.pair, "/");
		if (len > 0)
			ids[len++] = ',';
		memcpy(ids + len, t.pair, k);
		len += k;
		ids[len] = '\0';
	}
	coin_batch_free(out.batch);
	return ids;
}

/* The past prices of the chosen coins, printed as one batch. */
static int
backfill(struct coin_http *h, const struct opts *o, struct progress *pg)
{
	struct coin_fetch_out out = { NULL, 0, 0, on_drop, NULL, pg, 0 };
	char why[COIN_ERRBUF] = "", id[COIN_FETCH_ID_MAX + 1];
	char cur[COIN_FETCH_ID_MAX + 1], at[2 * COIN_FETCH_ID_MAX + 64];
	char *ids;
	size_t i, j, nids = 0;
	int rc = 0, status = 0;

	out.ts = now_secs();
	out.period = o->interval != 0 ? o->interval : PERIOD;
	coin_http_deadline(h, 0);
	if ((ids = history_ids(h, o, out.ts, pg, &status)) == NULL)
		return status;
	if ((rc = coin_batch_new(&out.batch)) != 0)
		errx(EX_SOFTWARE, "%s", coin_strerror(rc));
	while (item(ids, nids, id, sizeof(id)))
		nids++;
	for (i = 0; rc == 0 && item(ids, i, id, sizeof(id)); i++)
		for (j = 0; rc == 0 && item(o->vs, j, cur, sizeof(cur));
		    j++) {
			snprintf(at, sizeof(at), "history of %s/%s (%zu of "
			    "%zu)", id, cur, i + 1, nids);
			on_progress(at, pg);
			rc = coin_fetch_chart(h, id, cur, o->history, &out,
			    why);
		}
	progress_clear(pg);
	if (rc != 0)
		status = graver(status, failed(rc, why));
	else
		status = graver(status, print(out.batch, 1));
	if (out.ndropped > 0)
		status = graver(status, EX_DATAERR);
	coin_batch_free(out.batch);
	free(ids);
	return status;
}

/* Sleep until Unix time t, or a signal to stop. */
static void
sleep_until(int64_t t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = 0;
	while (!fetch_signal && clock_nanosleep(CLOCK_REALTIME,
	    TIMER_ABSTIME, &ts, NULL) == EINTR)
		continue;
}

/* Batches, one a period, aligned to it. */
static int
live(struct coin_http *h, const struct opts *o, struct progress *pg)
{
	int64_t period = o->interval != 0 ? o->interval : PERIOD, ts, n;
	int status = 0, st;

	for (n = 1; !fetch_signal; n++) {
		ts = now_secs();
		ts -= ts % period;
		st = batch(h, o, ts, period, pg);
		status = graver(status, st);
		/* A refusal or a broken stdout will not mend by waiting. */
		if (st == EX_UNAVAILABLE || st == EX_SOFTWARE ||
		    st == EX_IOERR || stdout_gone)
			break;
		if (o->interval == 0 || (o->count != 0 && n >= o->count))
			break;
		if (now_secs() < ts + period)
			sleep_until(ts + period);
	}
	return status;
}

int
main(int argc, char *argv[])
{
	enum {
		O_ALL = 256, O_CACERT, O_HISTORY, O_RETRIES, O_TIMEOUT,
		O_VERSION, O_VS
	};
	static const struct option longopts[] = {
		{ "all",	no_argument,		NULL, O_ALL },
		{ "cacert",	required_argument,	NULL, O_CACERT },
		{ "coins",	required_argument,	NULL, 'c' },
		{ "count",	required_argument,	NULL, 'n' },
		{ "exchange",	required_argument,	NULL, 'e' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "history",	required_argument,	NULL, O_HISTORY },
		{ "interval",	required_argument,	NULL, 'i' },
		{ "retries",	required_argument,	NULL, O_RETRIES },
		{ "timeout",	required_argument,	NULL, O_TIMEOUT },
		{ "top",	required_argument,	NULL, 't' },
		{ "version",	no_argument,		NULL, O_VERSION },
		{ "vs",		required_argument,	NULL, O_VS },
		{ NULL,		0,			NULL, 0 }
	};
	struct opts o = { .top = TOP, .timeout = TIMEOUT, .retries = RETRIES };
	struct coin_http_opts ho;
	struct coin_http *h;
	struct progress pg = { 0, 0 };
	struct sigaction sa;
	const char *base, *key;
	char why[COIN_ERRBUF] = "";
	int ch, rc, status = 0, vs_given = 0;

	progname = "coinfetch";
	setlocale(LC_ALL, "");
	out_init();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:e:hi:n:t:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(o.coins);
			o.coins = id_list("coins", optarg, 0);
			o.selectors |= SEL_COINS;
			break;
		case 'e':
			free(o.exchange);
			o.exchange = id_list("exchange", optarg, 1);
			o.selectors |= SEL_EXCHANGE;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return finish_stdout(0);
		case 'i':
			o.interval = duration("interval", optarg, 1,
			    INTERVAL_MAX);
			break;
		case 'n':
			o.count = number("count", optarg, 1, INT64_MAX);
			break;
		case 't':
			o.top = (size_t)number("top", optarg, 1, TOP_MAX);
			o.selectors |= SEL_TOP;
			break;
		case O_ALL:
			o.all = 1;
			o.selectors |= SEL_ALL;
			break;
		case O_CACERT:
			o.cacert = optarg;
			break;
		case O_HISTORY:
			o.history = duration("history", optarg, 1,
			    HISTORY_MAX);
			break;
		case O_RETRIES:
			o.retries = (int)number("retries", optarg, 0,
			    RETRIES_MAX);
			break;
		case O_TIMEOUT:
			o.timeout = duration("timeout", optarg, 1,
			    TIMEOUT_MAX);
			break;
		case O_VERSION:
			print_version("coinfetch");
		case O_VS:
			free(o.vs);
			o.vs = id_list("vs", optarg, 0);
			vs_given = 1;
			break;
		default:
			option_error(ch, argv);
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 0) {
		warnx("unexpected operand: %s", argv[0]);
		usage();
	}
	if ((o.selectors & (o.selectors - 1)) != 0) {
		warnx("--coins, --top, --all and --exchange go one at a time");
		usage();
	}
	if (o.count != 0 && o.interval == 0) {
		warnx("--count goes with --interval");
		usage();
	}
	if (o.exchange != NULL && vs_given) {
		warnx("--vs does not go with --exchange: tickers are priced "
		    "in their target");
		usage();
	}
	if (o.history != 0 && (o.exchange != NULL || o.all)) {
		warnx("--history goes with --coins or --top");
		usage();
	}
	if (o.vs == NULL)
		o.vs = id_list("vs", "usd", 0);

	if ((base = getenv("COINGECKO_API_URL")) == NULL || *base == '\0')
		base = COIN_FETCH_DEMO_ROOT;
	if (strncasecmp(base, "http://", 7) != 0 &&
	    strncasecmp(base, "https://", 8) != 0)
		errx(EX_USAGE, "COINGECKO_API_URL: \"%.100s\" is not an http "
		    "or https URL", base);
	key = getenv("COINGECKO_API_KEY");
	if (o.cacert != NULL) {
		long ncerts = coin_http_cacert_count(o.cacert);

		if (ncerts < 0)
			err(EX_NOINPUT, "--cacert: %s", o.cacert);
		if (ncerts == 0)
			errx(EX_USAGE, "--cacert: %s holds no PEM certificate",
			    o.cacert);
	}
	memset(&ho, 0, sizeof(ho));
	ho.base = base;
	ho.key = key;
	ho.cacert = o.cacert;
	ho.timeout_ms = o.timeout * 1000;
	ho.retries = o.retries;
	if ((rc = coin_http_open(&h, &ho, why)) != 0)
		errx(rc == COIN_EUSAGE ? EX_USAGE : coin_exit_status(rc),
		    "%s", why[0] != '\0' ? why : coin_strerror(rc));

	/* A signal ends the run after the batch in hand; a second kills. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = onsignal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	catch(SIGINT, &sa);
	catch(SIGTERM, &sa);

	pg.on = isatty(STDERR_FILENO) && (o.all || o.exchange != NULL ||
	    o.history != 0 || o.top > COIN_FETCH_PAGE);
	if (o.history != 0)
		status = backfill(h, &o, &pg);
	if ((o.history == 0 || o.interval != 0) && !fetch_signal &&
	    !stdout_gone && status != EX_UNAVAILABLE && status != EX_SOFTWARE)
		status = graver(status, live(h, &o, &pg));
	coin_http_close(h);
	free(o.coins);
	free(o.exchange);
	free(o.vs);
	status = finish_stdout(status);
	if (fetch_signal != 0) {
		signal(fetch_signal, SIG_DFL);
		raise(fetch_signal);
	}
	return status;
}
