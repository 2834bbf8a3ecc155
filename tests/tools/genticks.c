/* SPDX-License-Identifier: ISC */
/* genticks.c - deterministic price ticks for the benchmarks */
/*
 * usage: genticks [-p PAIRS] [-m MINUTES] [-f ndjson|tsv|om] [-e END]
 *            [-s SEED]
 *
 * PAIRS (default 1000) pairs "coinNNNNN/usd", each a geometric random
 * walk of one price a minute for MINUTES (default 1440) minutes, the
 * last at END (Unix seconds; default now floored to the minute), the
 * first at END - (MINUTES - 1) * 60.  Each pair's volatility per
 * minute is log-uniform from 1e-4 to 1e-2, its first price log-uniform
 * from 1e-4 to 7e4.  The output is time-major, as coinfetch emits it:
 * each minute, all pairs in order.  Prices are written with 8
 * significant digits, in plain decimal: the shortest text of the
 * double every reader makes of it.
 *
 * The walk depends on SEED (default 1) alone: a longer run ending
 * later by as many minutes starts with the same ticks, so that
 * `genticks -m M+K -e END+K*60` holds the data of `genticks -m M -e END`
 * followed by K more batches.
 *
 * Formats: ndjson, ticks as coinstore reads them; tsv, lines of pair,
 * ts and price; om, OpenMetrics text for promtool tsdb
 * create-blocks-from openmetrics (a gauge "price" with a label "pair",
 * timestamps in seconds, ending in "# EOF").
 */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PAIRS_MAX	10000000
#define NAME_MAX_LEN	32
#define OUTBUF		(1 << 20)
#define SIGMA_LO	1e-4
#define SIGMA_HI	1e-2
#define PRICE_LO	1e-4
#define PRICE_HI	7e4
#define DIGITS		8
#define TWO_PI		6.283185307179586476925286766559

enum fmt { NDJSON, TSV, OM };

struct pair {
	double	 logp;		/* log of the price */
	double	 sigma;		/* per-minute volatility of logp */
	char	 name[NAME_MAX_LEN];
	size_t	 len;
};

static uint64_t rng[4];
static char	 outbuf[OUTBUF];
static size_t	 outlen;

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs("usage: genticks [-p PAIRS] [-m MINUTES] [-f ndjson|tsv|om] "
	    "[-e END] [-s SEED]\n", stderr);
	exit(64);
}

/* splitmix64, to seed xoshiro256** from one number. */
static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t
next64(void)
{
	uint64_t r = rotl(rng[1] * 5, 7) * 9, t = rng[1] << 17;

	rng[2] ^= rng[0];
	rng[3] ^= rng[1];
	rng[1] ^= rng[2];
	rng[0] ^= rng[3];
	rng[2] ^= t;
	rng[3] = rotl(rng[3], 45);
	return r;
}

/* Uniform in (0, 1): never 0, so that its log is finite. */
static double
uniform(void)
{
	return ((double)(next64() >> 11) + 0.5) * 0x1p-53;
}

/* Standard normal deviates, two at a time (Box-Muller). */
static double
normal(void)
{
	static double spare;
	static int have;
	double r, a;

	if (have) {
		have = 0;
		return spare;
	}
	r = sqrt(-2 * log(uniform()));
	a = TWO_PI * uniform();
	spare = r * sin(a);
	have = 1;
	return r * cos(a);
}

static void
flush_out(void)
{
	if (outlen > 0 && fwrite(outbuf, 1, outlen, stdout) != outlen)
		err(74, "stdout");
	outlen = 0;
}

static void
put(const char *s, size_t n)
{
	if (outlen + n > sizeof(outbuf))
		flush_out();
	memcpy(outbuf + outlen, s, n);
	outlen += n;
}

/* Write v in decimal into buf; returns its length. */
static size_t
fmt_u64(uint64_t v, char *buf)
{
	char tmp[24];
	size_t k = 0, n = 0;

	do {
		tmp[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (k > 0)
		buf[n++] = tmp[--k];
	return n;
}

/*
 * Write x rounded to DIGITS significant digits, in plain decimal without
 * trailing zeros, into buf of 64 bytes; returns its length.  A decimal
 * of 15 significant digits or fewer reads back as a double that prints
 * as the same digits, so this is the shortest text of that double.
 */
static size_t
fmt_price(double x, char *buf)
{
	static const double p10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6,
	    1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
	    1e18, 1e19, 1e20, 1e21, 1e22 };
	const uint64_t lo = 10000000, hi = 100000000;
	char d[DIGITS];
	uint64_t m;
	size_t n = 0, last;
	int k, s, i;

	k = (int)floor(log10(x));
	if (k < -15 || k > 15)
		errx(70, "price %g out of range", x);
	/* m = x * 10^(DIGITS - 1 - k), an integer of DIGITS digits. */
	s = DIGITS - 1 - k;
	m = (uint64_t)llround(s >= 0 ? x * p10[s] : x / p10[-s]);
	if (m >= hi) {
		m = (m + 5) / 10;
		k++;
	} else if (m < lo) {
		s++;
		m = (uint64_t)llround(s >= 0 ? x * p10[s] : x / p10[-s]);
		k--;
	}
	if (m >= hi) {		/* rounded up to 10^DIGITS */
		m /= 10;
		k++;
	}
	for (i = DIGITS - 1; i >= 0; i--) {
		d[i] = (char)('0' + m % 10);
		m /= 10;
	}
	for (last = DIGITS; last > 1 && d[last - 1] == '0'; last--)
		;
	if (k >= DIGITS - 1) {
		memcpy(buf, d, DIGITS);
		n = DIGITS;
		for (i = DIGITS - 1; i < k; i++)
			buf[n++] = '0';
	} else if (k >= 0) {
		memcpy(buf, d, (size_t)k + 1);
		n = (size_t)k + 1;
		if (last > (size_t)k + 1) {
			buf[n++] = '.';
			memcpy(buf + n, d + k + 1, last - (size_t)k - 1);
			n += last - (size_t)k - 1;
		}
	} else {
		buf[n++] = '0';
		buf[n++] = '.';
		for (i = -1; i > k; i--)
			buf[n++] = '0';
		memcpy(buf + n, d, last);
		n += last;
	}
	return n;
}

static long long
number(const char *s, const char *what, long long min, long long max)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		warnx("bad %s: %s", what, s);
		usage();
	}
	return v;
}

int
main(int argc, char *argv[])
{
	struct pair *pr;
	enum fmt f = NDJSON;
	long long npairs = 1000, minutes = 1440, end = -1, t, ts;
	uint64_t seed = 1;
	char tsbuf[24], pbuf[64];
	size_t tslen, plen, i;
	int ch;

	while ((ch = getopt(argc, argv, "e:f:m:p:s:")) != -1) {
		switch (ch) {
		case 'e':
			end = number(optarg, "end", 0, INT64_MAX / 2);
			break;
		case 'f':
			if (strcmp(optarg, "ndjson") == 0)
				f = NDJSON;
			else if (strcmp(optarg, "tsv") == 0)
				f = TSV;
			else if (strcmp(optarg, "om") == 0)
				f = OM;
			else {
				warnx("bad format: %s", optarg);
				usage();
			}
			break;
		case 'm':
			minutes = number(optarg, "minutes", 1, 100000000);
			break;
		case 'p':
			npairs = number(optarg, "pairs", 1, PAIRS_MAX);
			break;
		case 's':
			seed = (uint64_t)number(optarg, "seed", 0, INT64_MAX);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (end < 0)
		end = (long long)time(NULL) / 60 * 60;
	if (end - (minutes - 1) * 60 < 0)
		errx(64, "the walk would start before 1970");
	for (i = 0; i < 4; i++)
		rng[i] = splitmix(&seed);
	if ((pr = calloc((size_t)npairs, sizeof(*pr))) == NULL)
		err(71, "calloc");
	for (i = 0; i < (size_t)npairs; i++) {
		pr[i].sigma = exp(log(SIGMA_LO) +
		    uniform() * (log(SIGMA_HI) - log(SIGMA_LO)));
		pr[i].logp = log(PRICE_LO) +
		    uniform() * (log(PRICE_HI) - log(PRICE_LO));
		pr[i].len = (size_t)snprintf(pr[i].name, sizeof(pr[i].name),
		    "coin%05zu/usd", i + 1);
	}
	if (f == OM)
		put("# TYPE price gauge\n", 19);
	for (t = 0; t < minutes; t++) {
		ts = end - (minutes - 1 - t) * 60;
		tslen = fmt_u64((uint64_t)ts, tsbuf);
		for (i = 0; i < (size_t)npairs; i++) {
			if (t > 0)
				pr[i].logp += pr[i].sigma * normal();
			plen = fmt_price(exp(pr[i].logp), pbuf);
			switch (f) {
			case NDJSON:
				put("{\"pair\":\"", 9);
				put(pr[i].name, pr[i].len);
				put("\",\"ts\":", 7);
				put(tsbuf, tslen);
				put(",\"price\":", 9);
				put(pbuf, plen);
				put("}\n", 2);
				break;
			case TSV:
				put(pr[i].name, pr[i].len);
				put("\t", 1);
				put(tsbuf, tslen);
				put("\t", 1);
				put(pbuf, plen);
				put("\n", 1);
				break;
			case OM:
				put("price{pair=\"", 12);
				put(pr[i].name, pr[i].len);
				put("\"} ", 3);
				put(pbuf, plen);
				put(" ", 1);
				put(tsbuf, tslen);
				put("\n", 1);
				break;
			}
		}
	}
	if (f == OM)
		put("# EOF\n", 6);
	flush_out();
	if (fflush(stdout) != 0)
		err(74, "stdout");
	free(pr);
	return 0;
}
