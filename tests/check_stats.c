/* SPDX-License-Identifier: ISC */
/* check_stats.c - unit tests of the exact windowed standard deviation */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_hook.h"
#include "check_main.h"
#include "coin_int.h"
#include "lmdb_hook.h"

#define T0	1732521600

/* xorshift64*: the same series on every machine. */
static uint64_t rng = 88172645463325252ULL;

static double
uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 2685821657736338717ULL) >> 11) /
	    9007199254740992.0;
}

/* The reference: a two-pass computation in long double, written apart. */
static void
reference(const double *p, size_t n, int population, long double *mean,
    long double *sd)
{
	long double sum = 0, m, q = 0, d;
	size_t i;

	for (i = 0; i < n; i++)
		sum += p[i];
	m = sum / n;
	for (i = 0; i < n; i++) {
		d = p[i] - m;
		q += d * d;
	}
	*mean = m;
	*sd = n < 2 ? NAN : sqrtl(q / (population ? n : n - 1));
}

static void
agrees(double got, long double want, const char *what)
{
	long double err = fabsl((long double)got - want);

	ck_assert_msg(err <= 1e-12L || err <= 1e-9L * fabsl(want),
	    "%s: got %.17g, reference %.17Lg", what, got, want);
}

static void
series(const char *name, const double *p, size_t n)
{
	struct coin_acc a;
	long double rm, rs;
	double mean, sd;
	size_t i;
	int pop;

	for (pop = 0; pop < 2; pop++) {
		coin_acc_init(&a);
		for (i = 0; i < n; i++)
			ck_assert_int_eq(coin_acc_add(&a, p[i]), 0);
		ck_assert_int_eq(coin_acc_result(&a, pop, &mean, &sd), 0);
		reference(p, n, pop, &rm, &rs);
		agrees(mean, rm, name);
		agrees(sd, rs, name);
		ck_assert_msg(sd >= 0, "%s: negative stddev", name);
	}
}

START_TEST(exact_series)
{
	static double p[7 * 1440];
	struct coin_acc a;
	double mean, sd, x;
	size_t i;

	/* A constant price: exactly 0, never NaN or negative. */
	for (i = 0; i < 1440; i++)
		p[i] = 97312.41;
	coin_acc_init(&a);
	for (i = 0; i < 1440; i++)
		coin_acc_add(&a, p[i]);
	ck_assert_int_eq(coin_acc_result(&a, 0, &mean, &sd), 0);
	ck_assert(sd == 0 && !signbit(sd));
	ck_assert(mean == 97312.41);
	/* A stablecoin at 1.0000 with 1e-6 wiggles. */
	for (i = 0; i < 1440; i++)
		p[i] = 1.0 + 1e-6 * (uniform() - 0.5);
	series("stablecoin", p, 1440);
	/* Bitcoin near 1e5 with a tiny variance. */
	for (i = 0; i < 1440; i++)
		p[i] = 1e5 + 1e-7 * (double)(i % 7);
	series("bitcoin, tiny variance", p, 1440);
	/* A token priced 1e-8. */
	for (i = 0; i < 1440; i++)
		p[i] = 1e-8 * (1 + 0.01 * uniform());
	series("1e-8 token", p, 1440);
	/* A week of minute data: a geometric random walk. */
	for (i = 0, x = 3300; i < 7 * 1440; i++) {
		x *= 1 + 0.002 * (uniform() - 0.5);
		p[i] = x;
	}
	series("a week of minutes", p, 7 * 1440);
	/*
	 * One price 2^63 units above the rest (which set the unit): S1 in
	 * one limb, S2 in two, n S2 in three.
	 */
	p[0] = 2048;
	for (i = 1; i < 1440; i++)
		p[i] = 1 + 0x1p-52 * (double)(1 + 2 * (i % 1000));
	series("one price far above the rest", p, 1440);
	/* Prices spanning the whole range of doubles. */
	p[0] = 5e-324;
	p[1] = 1e-300;
	p[2] = 1;
	p[3] = 1e300;
	p[4] = 1.7976931348623157e308;
	coin_acc_init(&a);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(coin_acc_add(&a, p[i]), 0);
	ck_assert_int_eq(coin_acc_result(&a, 1, &mean, &sd), 0);
	ck_assert(isfinite(sd) && sd > 1e307);
	/* n < 2 has no stddev; bad prices are refused. */
	coin_acc_init(&a);
	ck_assert_int_eq(coin_acc_add(&a, 2), 0);
	ck_assert_int_eq(coin_acc_result(&a, 0, &mean, &sd), 0);
	ck_assert(isnan(sd) && mean == 2);
	ck_assert_int_eq(coin_acc_add(&a, 0), COIN_EUSAGE);
	ck_assert_int_eq(coin_acc_add(&a, -1), COIN_EUSAGE);
	ck_assert_int_eq(coin_acc_add(&a, NAN), COIN_EUSAGE);
	ck_assert_int_eq(coin_acc_add(&a, INFINITY), COIN_EUSAGE);
}
END_TEST

/* Sliding add/remove leaves exactly the sums of a fresh start. */
START_TEST(add_remove_exact)
{
	static double p[20000];
	struct coin_acc a, b;
	size_t i, w = 1440;

	for (i = 0; i < 20000; i++)
		p[i] = (i % 3 ? 1e-8 : 7e4) * (1 + uniform());
	coin_acc_init(&a);
	for (i = 0; i < 20000; i++) {
		ck_assert_int_eq(coin_acc_add(&a, p[i]), 0);
		if (i >= w)
			ck_assert_int_eq(coin_acc_remove(&a, p[i - w]), 0);
	}
	coin_acc_init(&b);
	for (i = 20000 - w; i < 20000; i++)
		coin_acc_add(&b, p[i]);
	/* The unit may be finer than a fresh start's: compare results. */
	{
		double m1, s1, m2, s2;

		ck_assert_int_eq(coin_acc_result(&a, 0, &m1, &s1), 0);
		ck_assert_int_eq(coin_acc_result(&b, 0, &m2, &s2), 0);
		ck_assert(m1 == m2 && s1 == s2);
	}
	for (i = 20000 - w; i < 20000; i++)
		ck_assert_int_eq(coin_acc_remove(&a, p[i]), 0);
	ck_assert_int_eq(a.n, 0);
	/* Removing what is not there is caught. */
	ck_assert_int_eq(coin_acc_remove(&a, 1), COIN_ECORRUPT);
	coin_acc_init(&a);
	coin_acc_add(&a, 4);
	ck_assert_int_eq(coin_acc_remove(&a, 2), COIN_ECORRUPT);
	coin_acc_init(&a);
	coin_acc_add(&a, 4);
	ck_assert_int_eq(coin_acc_remove(&a, 0.5), COIN_ECORRUPT);
}
END_TEST

/*
 * Adding a window at once gives the very sums of adding it a price at
 * a time: prices of one binade, of a few, of ones far apart (which do
 * not fit 128 bits), subnormal and huge, a bad price, and none.
 */
START_TEST(add_all_same)
{
	static double p[3000];
	struct coin_acc a, b;
	size_t i, n, k;

	for (k = 0; k < 7; k++) {
		n = k == 6 ? 0 : 3000 - k * 400;
		for (i = 0; i < n; i++)
			switch (k) {
			case 0:	p[i] = 97000 * (1 + 0.001 * uniform()); break;
			case 1:	p[i] = 1 + 1e-6 * (uniform() - 0.5); break;
			case 2:	p[i] = ldexp(1, (int)(i % 9)) * uniform() + 1;
				break;
			case 3:	p[i] = (i % 2 ? 1e-8 : 7e4) * (1 + uniform());
				break;
			case 4:	p[i] = i % 5 ? 5e-324 * (double)(i + 1) :
				    1e300;
				break;
			default: p[i] = 0.1 * (double)(i + 1); break;
			}
		coin_acc_init(&a);
		coin_acc_init(&b);
		ck_assert_int_eq(coin_acc_add_all(&a, p, n), 0);
		for (i = 0; i < n; i++)
			ck_assert_int_eq(coin_acc_add(&b, p[i]), 0);
		ck_assert_msg(memcmp(&a, &b, sizeof(a)) == 0, "case %zu", k);
	}
	p[1] = -1;
	coin_acc_init(&a);
	ck_assert_int_eq(coin_acc_add_all(&a, p, 3), COIN_EUSAGE);
}
END_TEST

/* ---- through the store ---- */

static char dir[64];
static char db[96];

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "check_stats");
	snprintf(db, sizeof(db), "%s/db", dir);
}

static void
teardown(void)
{
	scratch_remove(dir);
}

/* The ticks the test stored, to compute references from. */
struct mem {
	char	 pair[16];
	int64_t	 ts;
	double	 price;
};

static struct mem mem[60000];
static size_t nmem;

static void
store(struct coin_store *s, const char *pair, int64_t ts, double price)
{
	struct coin_batch *b;
	struct coin_tick t;
	size_t i;

	for (i = 0; i < nmem; i++)
		if (mem[i].ts == ts && strcmp(mem[i].pair, pair) == 0)
			break;
	if (i == nmem)
		nmem++;
	snprintf(mem[i].pair, sizeof(mem[i].pair), "%s", pair);
	mem[i].ts = ts;
	mem[i].price = price;
	ck_assert_int_eq(coin_batch_new(&b), 0);
	snprintf(t.pair, sizeof(t.pair), "%s", pair);
	t.ts = ts;
	t.price = price;
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
}

/* Check st against the ticks of mem in (ts - window, ts]. */
static void
check_stat(const struct coin_stat *st, int64_t window, int population)
{
	static double p[60000];
	double mn = INFINITY, mx = -INFINITY, last = NAN;
	int64_t last_ts = 0;
	long double rm, rs;
	size_t i, n = 0;
	char what[256];

	for (i = 0; i < nmem; i++)
		if (strcmp(mem[i].pair, st->pair) == 0 &&
		    mem[i].ts > st->ts - window && mem[i].ts <= st->ts) {
			p[n++] = mem[i].price;
			mn = fmin(mn, mem[i].price);
			mx = fmax(mx, mem[i].price);
			if (mem[i].ts >= last_ts) {
				last_ts = mem[i].ts;
				last = mem[i].price;
			}
		}
	snprintf(what, sizeof(what), "%s at %lld", st->pair,
	    (long long)st->ts);
	ck_assert_msg(st->n == (int64_t)n, "%s: n %lld, expected %zu", what,
	    (long long)st->n, n);
	ck_assert_int_eq(st->window, window);
	if (n == 0)
		return;
	reference(p, n, population, &rm, &rs);
	agrees(st->mean, rm, what);
	if (n < 2)
		ck_assert(isnan(st->stddev));
	else
		agrees(st->stddev, rs, what);
	ck_assert_msg(st->min == mn && st->max == mx && st->last == last,
	    "%s: min %g max %g last %g, expected %g %g %g", what, st->min,
	    st->max, st->last, mn, mx, last);
}

/* Request the stats of (pair, ts) and check each. */
static void
compute(struct coin_store *s, const char *const *pairs, int np, int64_t ts,
    int64_t window, int population)
{
	struct coin_batch *b;
	struct coin_tick t;
	struct coin_stat out[64];
	size_t nout, i;
	int k;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (k = 0; k < np; k++) {
		snprintf(t.pair, sizeof(t.pair), "%s", pairs[k]);
		t.ts = ts;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_int_eq(coin_store_compute(s, b, window, population, out,
	    &nout), 0);
	coin_batch_free(b);
	ck_assert_uint_eq(nout, (size_t)np);
	for (i = 0; i < nout; i++)
		check_stat(&out[i], window, population);
}

START_TEST(window_edges)
{
	static const char *const a[] = { "a/usd" };
	struct coin_store *s;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	store(s, "a/usd", T0, 1);		/* exactly ts - window: out */
	store(s, "a/usd", T0 + 60, 2);
	store(s, "a/usd", T0 + 3600, 4);	/* exactly ts: in */
	store(s, "a/usd", T0 + 3601, 100);	/* after ts: out */
	{
		struct coin_batch *b;
		struct coin_tick t = { "a/usd", T0 + 3600, 4 };
		struct coin_stat out[1];
		size_t n;

		ck_assert_int_eq(coin_batch_new(&b), 0);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		ck_assert_int_eq(coin_store_compute(s, b, 3600, 0, out, &n),
		    0);
		coin_batch_free(b);
		ck_assert_uint_eq(n, 1);
		ck_assert_int_eq(out[0].n, 2);
		ck_assert(out[0].mean == 3 && out[0].min == 2 &&
		    out[0].max == 4 && out[0].last == 4);
		ck_assert(fabs(out[0].stddev - sqrt(2)) < 1e-15);
	}
	compute(s, a, 1, T0 + 3601, 3600, 1);
	compute(s, a, 1, T0 + 3660, 3600, 0);
	coin_store_close(s);
}
END_TEST

/*
 * Several pairs of random walks, a batch a minute, with a short window:
 * every stat equals the reference, whether the state moved forward, a
 * batch came late, or a price was replaced.
 */
START_TEST(running_state)
{
	static const char *const pairs[] = { "a/usd", "b/usd", "c/btc" };
	struct coin_store *s;
	double x[3] = { 97000, 1.0001, 1e-8 };
	int64_t ts, W = 600;
	int m, k;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m < 200; m++) {
		ts = T0 + m * 60;
		if (m % 37 == 5)
			continue;	/* a missed batch */
		for (k = 0; k < 3; k++) {
			x[k] *= 1 + 0.001 * (uniform() - 0.5);
			if (k == 1 && m % 11 == 0)
				continue;	/* a pair missing a batch */
			store(s, pairs[k], ts, x[k]);
		}
		compute(s, pairs, 3, ts, W, m % 2);
		if (m % 23 == 7) {
			/* A late batch, between two computed ones. */
			store(s, "a/usd", ts - 90, x[0] * 1.01);
			compute(s, pairs, 1, ts - 90, W, 0);
		}
		if (m % 13 == 4)	/* stored late, never asked for */
			store(s, "c/btc", ts - 150, x[2] * 1.5);
		if (m % 29 == 3) {
			/* The last batch again, with a price replaced. */
			store(s, "b/usd", ts, x[1] * 0.97);
			compute(s, pairs, 3, ts, W, 0);
		}
		if (m == 120)
			compute(s, pairs, 3, ts, 2 * W, 0);	/* new window */
	}
	/* A jump longer than the window. */
	store(s, "a/usd", ts + 10 * W, 5);
	compute(s, pairs, 1, ts + 10 * W, W, 0);
	{
		struct coin_storeinfo info;

		ck_assert_int_eq(coin_store_check(s, NULL, NULL, &info), 0);
	}
	coin_store_close(s);
}
END_TEST

/* Pairs pNNNN/usd: the full scan's stat of pair N into all[N]. */
#define COLLECT_MAX	2600

static int
collect(const struct coin_stat *st, void *arg)
{
	struct coin_stat *all = arg;
	int k = atoi(st->pair + 1);

	ck_assert(k >= 0 && k < COLLECT_MAX);
	all[k] = *st;
	return 0;
}

/* Is the stat a bit for bit the full scan's b? */
static int
same_stat(const struct coin_stat *a, const struct coin_stat *b)
{
	return a->n == b->n && memcmp(&a->mean, &b->mean, 8) == 0 &&
	    memcmp(&a->stddev, &b->stddev, 8) == 0 && a->min == b->min &&
	    a->max == b->max && a->last == b->last;
}

/*
 * States are written back a slice of the pairs at a time (and when a
 * pair is STATE_LAG ticks behind, or rebuilt or refilled): after each
 * minute's batch no state is more than 7 minutes old, most are older
 * than the batch, and every stat is bit for bit the full scan's.
 */
START_TEST(deferred_writes)
{
	struct coin_store *s;
	struct coin_batch *b;
	struct coin_tick t;
	static struct coin_stat all[COLLECT_MAX];
	struct coin_stat out[16];
	unsigned char v[1024];
	double x[16];
	int64_t ts, at;
	size_t nout, i;
	int m, k, written, fewer = 0;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (k = 0; k < 16; k++)
		x[k] = 1 + k;
	for (m = 0; m < 48; m++) {
		ts = T0 + m * 60;
		ck_assert_int_eq(coin_batch_new(&b), 0);
		for (k = 0; k < 16; k++) {
			snprintf(t.pair, sizeof(t.pair), "p%02d/usd", k);
			t.ts = ts;
			t.price = x[k] *= 1 + 0.01 * (uniform() - 0.5);
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
		ck_assert_int_eq(coin_store_put_batch(s, b), 0);
		ck_assert_int_eq(coin_store_compute(s, b, 600, 0, out, &nout),
		    0);
		coin_batch_free(b);
		ck_assert_uint_eq(nout, 16);
		ck_assert_int_eq(coin_store_compute_all(s, ts, 600, 0,
		    collect, all), 0);
		for (i = 0; i < 16; i++) {
			k = atoi(out[i].pair + 1);
			ck_assert(same_stat(&out[i], &all[k]));
		}
		/* --all wrote no states: those are the batch's. */
		coin_store_close(s);
		for (k = written = 0; k < 16; k++) {
			snprintf(t.pair, sizeof(t.pair), "p%02d/usd", k);
			ck_assert_uint_ge(raw_get(db, "state", t.pair,
			    strlen(t.pair), v, sizeof(v)), 17);
			at = (int64_t)coin_be64_get(v + 9);
			ck_assert_msg(at <= ts && at >= ts - 7 * 60,
			    "minute %d: %s's state is of %lld", m, t.pair,
			    (long long)at);
			written += at == ts;
		}
		ck_assert_int_ge(written, 2);
		fewer += written < 16;
		ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	}
	ck_assert_int_ge(fewer, 40);
	coin_store_close(s);
}
END_TEST

/*
 * A batch of 2,048 requests or more is computed in two halves, the
 * second on another thread in a read transaction, its states written
 * by the first: every stat is still bit for bit the full scan's, with
 * two times a pair in one request too, and the store checks clean.
 */
START_TEST(two_halves)
{
	enum { P = COLLECT_MAX };
	static struct coin_stat out[2 * P], all[P];
	static double x[P];
	struct coin_store *s;
	struct coin_batch *b, *req;
	struct coin_storeinfo info;
	struct coin_tick t;
	size_t nout, i;
	int64_t ts;
	int m, k, rep;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (k = 0; k < P; k++)
		x[k] = 1 + k % 97;
	for (m = 0; m < 14; m++) {
		ts = T0 + m * 60;
		ck_assert_int_eq(coin_batch_new(&b), 0);
		for (k = 0; k < P; k++) {
			snprintf(t.pair, sizeof(t.pair), "p%04d/usd", k);
			t.ts = ts;
			t.price = x[k] *= 1 + 0.01 * (uniform() - 0.5);
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
		ck_assert_int_eq(coin_store_put_batch(s, b), 0);
		/* From minute 10 on, the minute before asked again too. */
		req = b;
		if (m >= 10) {
			for (k = 0; k < P; k++) {
				snprintf(t.pair, sizeof(t.pair), "p%04d/usd",
				    k);
				t.ts = ts - 60;
				ck_assert_int_eq(coin_batch_add(req, &t), 0);
			}
		}
		ck_assert_int_eq(coin_store_compute(s, req, 600, 0, out,
		    &nout), 0);
		coin_batch_free(b);
		ck_assert_uint_eq(nout, m >= 10 ? 2 * P : P);
		for (rep = 0; rep < (m >= 10 ? 2 : 1); rep++) {
			ck_assert_int_eq(coin_store_compute_all(s,
			    ts - 60 * rep, 600, 0, collect, all), 0);
			for (i = 0; i < nout; i++) {
				if (out[i].ts != ts - 60 * rep)
					continue;
				k = atoi(out[i].pair + 1);
				ck_assert_msg(same_stat(&out[i], &all[k]),
				    "minute %d: %s at %lld", m, out[i].pair,
				    (long long)out[i].ts);
			}
		}
	}
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	coin_store_close(s);
	/* The second half's states were written too, and are recent. */
	for (k = 0; k < P; k += 7) {
		unsigned char v[1024];

		snprintf(t.pair, sizeof(t.pair), "p%04d/usd", k);
		ck_assert_uint_ge(raw_get(db, "state", t.pair, strlen(t.pair),
		    v, sizeof(v)), 17);
		ck_assert_msg((int64_t)coin_be64_get(v + 9) >= ts - 7 * 60,
		    "%s: state of %lld", t.pair,
		    (long long)coin_be64_get(v + 9));
	}
}
END_TEST

/* A batch of COLLECT_MAX pairs at ts, p0000/usd on, priced by k and m. */
static struct coin_batch *
many_pairs(int64_t ts, int m)
{
	struct coin_batch *b;
	struct coin_tick t;
	int k;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (k = 0; k < COLLECT_MAX; k++) {
		snprintf(t.pair, sizeof(t.pair), "p%04d/usd", k);
		t.ts = ts;
		t.price = 1 + k + m * (k % 5);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	return b;
}

/*
 * A new store at db with three minutes of many_pairs(), the first two
 * computed; returns the third minute's batch.
 */
static struct coin_batch *
three_minutes(struct coin_store **s)
{
	static struct coin_stat out[COLLECT_MAX];
	struct coin_batch *b;
	size_t nout;
	int m;

	ck_assert_int_eq(coin_store_open(s, db, COIN_STORE_CREATE), 0);
	for (m = 0;; m++) {
		b = many_pairs(T0 + m * 60, m);
		ck_assert_int_eq(coin_store_put_batch(*s, b), 0);
		if (m == 2)
			return b;
		ck_assert_int_eq(coin_store_compute(*s, b, 600, 0, out, &nout),
		    0);
		coin_batch_free(b);
	}
}

/* Each of out[0..n), all at ts, is the full scan's stat, bit for bit. */
static void
all_agree(struct coin_store *s, int64_t ts, const struct coin_stat *out,
    size_t n)
{
	static struct coin_stat all[COLLECT_MAX];
	size_t i;

	ck_assert_int_eq(coin_store_compute_all(s, ts, 600, 0, collect, all),
	    0);
	for (i = 0; i < n; i++)
		ck_assert_msg(same_stat(&out[i], &all[atoi(out[i].pair + 1)]),
		    "%s at %lld", out[i].pair, (long long)ts);
}

/*
 * The states of p0000/usd.. written at ts, counted in the first half of
 * the pairs and in the second.
 */
static void
fresh_states(int64_t ts, int *first, int *second)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_dbi dbi;
	MDB_val k, v;
	char pair[COIN_PAIR_MAX + 1];
	int rc;

	*first = *second = 0;
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 10), 0);
	ck_assert_int_eq(mdb_env_open(env, db, MDB_RDONLY, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "state", 0, &dbi), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		ck_assert_uint_lt(k.mv_size, sizeof(pair));
		ck_assert_uint_ge(v.mv_size, 17);
		memcpy(pair, k.mv_data, k.mv_size);
		pair[k.mv_size] = '\0';
		if ((int64_t)coin_be64_get((unsigned char *)v.mv_data + 9) !=
		    ts)
			continue;
		if (atoi(pair + 1) < COLLECT_MAX / 2)
			(*first)++;
		else
			(*second)++;
	}
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/*
 * Each half of a big batch writes its share of the states due: an
 * eighth of its pairs a minute, not all of the batch's eighth in one
 * half while the other, writing none, waits for it.  The stats stay
 * the full scan's, bit for bit.
 */
START_TEST(two_halves_share)
{
	static struct coin_stat out[COLLECT_MAX];
	struct coin_store *s;
	struct coin_batch *b;
	size_t nout;
	int64_t ts;
	int m, first, second;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m < 28; m++) {
		ts = T0 + m * 60;
		b = many_pairs(ts, m);
		ck_assert_int_eq(coin_store_put_batch(s, b), 0);
		ck_assert_int_eq(coin_store_compute(s, b, 600, 0, out, &nout),
		    0);
		coin_batch_free(b);
		ck_assert_uint_eq(nout, COLLECT_MAX);
		if (m < 20)
			continue;
		/*
		 * Past the first window's rebuilds: the due ones only.  LMDB
		 * must not have one store open twice in a process.
		 */
		coin_store_close(s);
		fresh_states(ts, &first, &second);
		ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
		ck_assert_msg(first >= COLLECT_MAX / 32 &&
		    second >= COLLECT_MAX / 32 &&
		    first + second <= COLLECT_MAX / 4,
		    "minute %d: %d and %d states written", m, first, second);
	}
	all_agree(s, ts, out, nout);
	coin_store_close(s);
}
END_TEST

/*
 * An error in the second half (a staged tick of p2500 that is not a
 * price) fails the whole batch: nothing stored, latest where it was.
 */
START_TEST(two_halves_error)
{
	enum { P = COLLECT_MAX };
	static struct coin_stat out[P];
	unsigned char kb[8 + COIN_PAIR_MAX];
	struct coin_store *s;
	struct coin_batch *b;
	struct coin_storeinfo info;
	size_t nout;

	coin_batch_free(three_minutes(&s));
	coin_store_close(s);
	coin_be64_put(kb, (uint64_t)(T0 + 60));
	memcpy(kb + 8, "p2500/usd", 9);
	raw_put(db, "recent", kb, 17, "bad", 3);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	b = many_pairs(T0 + 120, 0);
	ck_assert_int_eq(coin_store_compute(s, b, 600, 0, out, &nout),
	    COIN_ECORRUPT);
	coin_batch_free(b);
	ck_assert_int_eq(coin_store_check(s, NULL, NULL, &info),
	    COIN_ECORRUPT);		/* the bad tick, nothing else */
	ck_assert_int_eq(info.latest, T0 + 60);
	ck_assert_uint_eq(info.stats, 2 * P);
	coin_store_close(s);
}
END_TEST

/*
 * The second half finds no reader slot for its transaction (or no
 * memory for it): the writer computes that half too, and nothing is
 * lost.  Fails where that makes the whole batch fail.
 */
START_TEST(two_halves_no_reader)
{
	enum { P = COLLECT_MAX };
	static struct coin_stat out[P];
	static const int errs[] = { MDB_READERS_FULL, ENOMEM };
	struct coin_store *s;
	struct coin_batch *b;
	struct coin_storeinfo info;
	size_t nout;
	int m;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m < 3; m++) {
		b = many_pairs(T0 + m * 60, m);
		ck_assert_int_eq(coin_store_put_batch(s, b), 0);
		if (m > 0)
			lmdb_hook_reader_fail(errs[m - 1]);
		ck_assert_int_eq(coin_store_compute(s, b, 600, 0, out, &nout),
		    0);
		ck_assert_uint_eq(lmdb_hook_readers_failed(), (size_t)m);
		coin_batch_free(b);
		ck_assert_uint_eq(nout, P);
		all_agree(s, T0 + m * 60, out, nout);
	}
	lmdb_hook_stop();
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_int_eq(info.latest, T0 + 120);
	ck_assert_uint_eq(info.stats, 3 * P);
	coin_store_close(s);
}
END_TEST

/*
 * An allocation of the second half fails: the whole batch fails with
 * COIN_ENOMEM, nothing of it stored and nothing it took left unfreed;
 * the same batch then goes through.
 */
START_TEST(two_halves_nomem)
{
	enum { P = COLLECT_MAX };
	static struct coin_stat out[P];
	struct coin_store *s;
	struct coin_batch *b;
	struct coin_storeinfo info;
	size_t nout;

	b = three_minutes(&s);
	alloc_hook_start_other(1);
	ck_assert_int_eq(coin_store_compute(s, b, 600, 0, out, &nout),
	    COIN_ENOMEM);
	ck_assert_int_eq(alloc_hook_stop(), 1);
	ck_assert_uint_eq(alloc_hook_live(), 0);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_int_eq(info.latest, T0 + 60);
	ck_assert_uint_eq(info.stats, 2 * P);
	ck_assert_int_eq(coin_store_compute(s, b, 600, 0, out, &nout), 0);
	coin_batch_free(b);
	all_agree(s, T0 + 120, out, nout);
	coin_store_close(s);
}
END_TEST

/* Meta state_at of the store at db, closed; 0 when not kept. */
static int64_t
state_at_of(void)
{
	unsigned char v[8];

	if (raw_get(db, "meta", "state_at", 8, v, sizeof(v)) != 8)
		return 0;
	return (int64_t)coin_be64_get(v);
}

/* The time pair's state is of, 0 when it has none. */
static int64_t
state_of(const char *pair)
{
	unsigned char v[1024];

	if (raw_get(db, "state", pair, strlen(pair), v, sizeof(v)) < 17)
		return 0;
	return (int64_t)coin_be64_get(v + 9);
}

/*
 * state_at (the newest state's time) lets coinstore skip the look for
 * a stale state for a tick after it: it follows the states written, is
 * found again from them all where a store does not keep it, and a late
 * tick at or before it still drops the state it made stale.
 */
START_TEST(state_at_kept)
{
	static const char *const ab[] = { "a/usd", "b/usd" };
	struct coin_store *s;
	struct coin_storeinfo info;
	int64_t ts, bat;
	int m;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m <= 20; m++) {
		ts = T0 + m * 60;
		store(s, "a/usd", ts, 100 + m);
		store(s, "b/usd", ts, 200 - m % 7);
		compute(s, ab, 2, ts, 600, 0);
	}
	coin_store_close(s);
	bat = state_of("b/usd");
	ck_assert(bat >= T0 + 13 * 60);
	ck_assert_int_eq(state_at_of(), state_of("a/usd") > bat ?
	    state_of("a/usd") : bat);
	/* Not kept (an older store): a backfill of a finds b's again. */
	raw_put(db, "meta", "state_at", 8, NULL, 0);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	compute(s, ab, 1, T0 + 5 * 60, 600, 0);
	coin_store_close(s);
	ck_assert_int_eq(state_of("a/usd"), T0 + 5 * 60);
	ck_assert_int_eq(state_at_of(), bat);
	/* A late tick of b at its state's time: the state goes. */
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	store(s, "b/usd", bat, 1000);
	coin_store_close(s);
	ck_assert_int_eq(state_of("b/usd"), 0);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	compute(s, ab + 1, 1, T0 + 21 * 60, 600, 0);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	coin_store_close(s);
	/* A state newer than state_at is a fault. */
	raw_put(db, "meta", "state_at", 8, "\0\0\0\0\0\0\0\1", 8);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	ck_assert_int_eq(coin_store_check(s, NULL, NULL, &info),
	    COIN_ECORRUPT);
	coin_store_close(s);
	/* So is a state_at that is not a time, and no tick goes in. */
	raw_put(db, "meta", "state_at", 8, "bad", 3);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	ck_assert_int_eq(coin_store_check(s, NULL, NULL, &info),
	    COIN_ECORRUPT);
	{
		struct coin_batch *b;
		struct coin_tick t;

		ck_assert_int_eq(coin_batch_new(&b), 0);
		snprintf(t.pair, sizeof(t.pair), "a/usd");
		t.ts = T0 + 22 * 60;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		ck_assert_int_eq(coin_store_put_batch(s, b), COIN_ECORRUPT);
		coin_batch_free(b);
	}
	coin_store_close(s);
}
END_TEST

/*
 * Schema 3 kept no state_at: such a store is refused by a reader and
 * upgraded by a writer, which changes nothing else; until coinstddev
 * writes a state again every tick is looked up, and a late one still
 * drops the state it made stale.
 */
START_TEST(schema3_upgraded)
{
	static const char *const a[] = { "a/usd" };
	struct coin_store *s;
	char v[8];
	int64_t at;
	int m;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m <= 10; m++) {
		store(s, "a/usd", T0 + m * 60, 100 + m % 3);
		compute(s, a, 1, T0 + m * 60, 600, 0);
	}
	coin_store_close(s);
	at = state_of("a/usd");
	ck_assert(at > 0);
	raw_old_ticks(db);
	raw_put(db, "meta", "schema", 6, "3", 1);
	raw_put(db, "meta", "state_at", 8, NULL, 0);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_EUPGRADE);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	coin_store_close(s);
	ck_assert_uint_eq(raw_get(db, "meta", "schema", 6, v, sizeof(v)), 1);
	ck_assert_int_eq(v[0], '6');
	ck_assert_int_eq(state_at_of(), 0);
	ck_assert_int_eq(state_of("a/usd"), at);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	store(s, "a/usd", at, 50);	/* replaced: the state goes */
	coin_store_close(s);
	ck_assert_int_eq(state_of("a/usd"), 0);
	ck_assert_int_eq(coin_store_open(&s, db, 0), 0);
	compute(s, a, 1, T0 + 11 * 60, 600, 0);
	coin_store_close(s);
	ck_assert_int_eq(state_at_of(), T0 + 11 * 60);
}
END_TEST

/*
 * Trends whose queues of minima or maxima are longer than the state
 * keeps of them (falling, rising, flat, repeated values, a saw): every
 * step's min and max equal the reference, through the refills.
 */
START_TEST(extremes)
{
	static const char *const pairs[] = { "dn/usd", "up/usd", "saw/usd" };
	struct coin_store *s;
	double x;
	int64_t ts;
	int m;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m < 240; m++) {
		ts = T0 + m * 60;
		/* Down for 80 minutes, up for 80, then flat. */
		x = m < 80 ? 1000 - m : m < 160 ? 840 + m : 1000;
		store(s, "dn/usd", ts, x);
		store(s, "up/usd", ts, 2000 - x);
		/* A saw of period 23 with repeated values in each tooth. */
		store(s, "saw/usd", ts, 1 + (m % 23) / 2);
		compute(s, pairs, 3, ts, 900 + (m >= 200) * 2700, m % 2);
	}
	coin_store_close(s);
}
END_TEST

/* A backfill, pair after pair, each tick its own ts. */
START_TEST(backfill)
{
	static const char *const one[1] = { "z/usd" };
	struct coin_store *s;
	const char *p[1];
	int64_t ts;
	int k, m;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (k = 0; k < 3; k++) {
		char pair[32];

		snprintf(pair, sizeof(pair), "p%d/usd", k);
		p[0] = pair;
		for (m = 0; m < 500; m++) {
			ts = T0 + m * 300;
			store(s, pair, ts, 100 + k + uniform());
			compute(s, p, 1, ts, 86400, 0);
		}
	}
	/* The newest first, then the older ones: each still exact. */
	for (m = 0; m < 50; m++)
		store(s, "z/usd", T0 + m * 60, 1 + 0.01 * m);
	compute(s, one, 1, T0 + 49 * 60, 1200, 0);
	for (m = 48; m >= 0; m -= 7)
		compute(s, one, 1, T0 + m * 60, 1200, 0);
	compute(s, one, 1, T0 + 50 * 60, 1200, 0);
	coin_store_close(s);
}
END_TEST

static int
keep_stat(const struct coin_stat *st, void *arg)
{
	struct coin_stat **p = arg;

	*(*p)++ = *st;
	return 0;
}

/* The ranking equals a reference sort; ties by pair, no stddev last. */
START_TEST(ranking)
{
	static struct coin_stat st[300], got[300];
	struct coin_stat *gp = got, one;
	struct coin_store *s;
	uint64_t n, rank;
	int i, j;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (i = 0; i < 300; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		snprintf(st[i].pair, sizeof(st[i].pair), "c%03d/usd",
		    (i * 7919) % 300);
		st[i].ts = T0;
		st[i].window = 86400;
		st[i].n = i % 50 == 0 ? 1 : 10;
		st[i].stddev = st[i].n < 2 ? NAN : (double)(i % 17) * 0.25;
		st[i].mean = st[i].min = st[i].max = st[i].last = 1;
	}
	ck_assert_int_eq(coin_store_put_stats(s, st, 300), 0);
	ck_assert_int_eq(coin_store_stats_count(s, T0, &n), 0);
	ck_assert_uint_eq(n, 300);
	ck_assert_int_eq(coin_store_stats_at(s, T0, keep_stat, &gp), 0);
	ck_assert_int_eq(gp - got, 300);
	for (i = 1; i < 300; i++) {
		const struct coin_stat *a = &got[i - 1], *b = &got[i];

		if (isnan(a->stddev))
			ck_assert(isnan(b->stddev) &&
			    strcmp(a->pair, b->pair) < 0);
		else if (!isnan(b->stddev))
			ck_assert(a->stddev > b->stddev ||
			    (a->stddev == b->stddev &&
			    strcmp(a->pair, b->pair) < 0));
	}
	/* Each pair's rank is its place; re-putting counts once. */
	for (j = 0; j < 300; j += 37) {
		ck_assert_int_eq(coin_store_stat_rank(s, got[j].pair, T0, &one,
		    &rank), 0);
		ck_assert_uint_eq(rank, (uint64_t)j + 1);
		ck_assert_str_eq(one.pair, got[j].pair);
	}
	ck_assert_int_eq(coin_store_put_stats(s, st, 300), 0);
	ck_assert_int_eq(coin_store_stats_count(s, T0, &n), 0);
	ck_assert_uint_eq(n, 300);
	ck_assert_int_eq(coin_store_stat_rank(s, "nope/usd", T0, &one,
	    &rank), COIN_ENOTFOUND);
	coin_store_close(s);
}
END_TEST

static int
check_all(const struct coin_stat *st, void *arg)
{
	check_stat(st, *(int64_t *)arg, 0);
	return 0;
}

/* --all equals the reference; prune drops the state, which comes back. */
START_TEST(all_and_prune)
{
	static const char *const pairs[] = { "a/usd", "b/usd" };
	struct coin_store *s;
	int64_t W = 3600;
	uint64_t nt, ns;
	int m;

	nmem = 0;
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m < 120; m++) {
		store(s, "a/usd", T0 + m * 60, 10 + uniform());
		store(s, "b/usd", T0 + m * 60, 20 + 5 * uniform());
	}
	store(s, "old/usd", T0 - 7200, 3);	/* no tick in the window */
	ck_assert_int_eq(coin_store_compute_all(s, T0 + 119 * 60, W, 0,
	    check_all, &W), 0);
	compute(s, pairs, 2, T0 + 119 * 60, W, 0);
	ck_assert_int_eq(coin_store_prune(s, T0 + 30 * 60, &nt, &ns), 0);
	for (m = 0; m < (int)nmem; m++)
		if (mem[m].ts < T0 + 30 * 60)
			mem[m].price = -1, mem[m].ts = 0;
	store(s, "a/usd", T0 + 120 * 60, 11);
	store(s, "b/usd", T0 + 120 * 60, 21);
	compute(s, pairs, 2, T0 + 120 * 60, W, 0);
	coin_store_close(s);
}
END_TEST

struct seen {
	int64_t	 window;
	int	 n;
};

static int
check_all_count(const struct coin_stat *st, void *arg)
{
	struct seen *x = arg;

	check_stat(st, x->window, 0);
	x->n++;
	return 0;
}

/*
 * Each computation's transaction found the map full at its commit
 * (tests/lmdb_hook.c), the tiny map full at some puts too: the retry
 * computes from the store again, never from the failed attempt's sums,
 * and stores each stat once.  With no room to grow, a clear error and
 * nothing stored.
 */
START_TEST(compute_commit_full)
{
	static const char *const pairs[] = { "a/usd", "b/usd", "c/btc" };
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_stat out[3];
	struct coin_tick t;
	double x[3] = { 97000, 1.0001, 1e-8 };
	int64_t ts = T0, W = 600;
	struct seen seen = { 0, 0 };
	uint64_t n;
	size_t nout;
	int m, k, rc;

	nmem = 0;
	rc = coin_store_open_size(&s, db, COIN_STORE_CREATE, 64 * 1024);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	for (m = 0; m < 60; m++) {
		ts = T0 + m * 60;
		for (k = 0; k < 3; k++) {
			x[k] *= 1 + 0.001 * (uniform() - 0.5);
			store(s, pairs[k], ts, x[k]);
		}
		if (m % 5 != 4) {
			compute(s, pairs, 3, ts, W, 0);
			continue;
		}
		/* Each doubles the map: a dozen of them, not sixty. */
		lmdb_hook_commit_full(0, 1 + m % 2);
		compute(s, pairs, 3, ts, W, 0);
		lmdb_hook_stop();
		ck_assert_uint_eq(lmdb_hook_commits(), 2 + m % 2);
		ck_assert_int_eq(coin_store_stats_count(s, ts, &n), 0);
		ck_assert_uint_eq(n, 3);
	}
	seen.window = W;
	lmdb_hook_commit_full(0, 2);
	rc = coin_store_compute_all(s, ts, W, 0, check_all_count, &seen);
	lmdb_hook_stop();
	ck_assert_msg(rc == 0, "compute_all: %s", coin_strerror(rc));
	ck_assert_uint_eq(lmdb_hook_commits(), 3);
	ck_assert_int_eq(seen.n, 3);
	ck_assert_int_eq(coin_store_check(s, NULL, NULL, &info), 0);
	ck_assert_uint_eq(info.stats, 60 * 3);
	/* No room: nothing stored, nothing reported, the state unmoved. */
	ts += 60;
	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (k = 0; k < 3; k++) {
		store(s, pairs[k], ts, x[k] * 1.01);
		snprintf(t.pair, sizeof(t.pair), "%s", pairs[k]);
		t.ts = ts;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	lmdb_hook_commit_full(0, LMDB_HOOK_EVER);
	lmdb_hook_grow_fail(1);
	rc = coin_store_compute(s, b, W, 0, out, &nout);
	lmdb_hook_stop();
	coin_batch_free(b);
	ck_assert_msg(rc == ENOMEM, "compute: %s (%d)", coin_strerror(rc),
	    rc);
	ck_assert_uint_eq(nout, 0);
	ck_assert_uint_eq(lmdb_hook_commits(), 2);
	/* The remap failed: the handle is done with, a new one goes on. */
	ck_assert_int_eq(coin_store_stats_count(s, ts, &n), ENOMEM);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	ck_assert_int_eq(coin_store_stats_count(s, ts, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(coin_store_check(s, NULL, NULL, &info), 0);
	ck_assert_uint_eq(info.stats, 60 * 3);
	ck_assert_int_eq(info.latest, ts - 60);
	compute(s, pairs, 3, ts, W, 0);
	ck_assert_int_eq(coin_store_stats_count(s, ts, &n), 0);
	ck_assert_uint_eq(n, 3);
	coin_store_close(s);
}
END_TEST

/* What the work beside the storing saw, each time it ran. */
struct beside {
	int		 calls;
	int		 ended;		/* the last call returned */
	size_t		 n;
	uint64_t	 sum;
};

static uint64_t
stats_sum(const struct coin_stat *st, size_t n)
{
	uint64_t h = 1469598103934665603ULL, bits;
	size_t i;
	const char *p;

	for (i = 0; i < n; i++) {
		for (p = st[i].pair; *p != '\0'; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		memcpy(&bits, &st[i].stddev, sizeof(bits));
		h = (h ^ bits ^ (uint64_t)st[i].n ^ (uint64_t)st[i].ts) *
		    1099511628211ULL;
	}
	return h;
}

static void
beside_fn(const struct coin_stat *st, size_t n, void *arg)
{
	struct beside *w = arg;

	w->calls++;
	w->ended = 0;
	w->n = n;
	w->sum = stats_sum(st, n);
	w->ended = 1;
}

/*
 * The work beside the storing (coinstddev formats its output there)
 * sees the stats as they are returned, a pair with no tick among them:
 * done again after each commit that found the map full, and over when
 * the call returns.  A batch that is not stored still runs it, and
 * returns none.
 */
START_TEST(beside_sees_last)
{
	static struct coin_stat out[COLLECT_MAX + 1];
	struct coin_store *s;
	struct coin_batch *b;
	struct coin_tick t;
	struct beside w;
	size_t nout;
	int m, rc;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	for (m = 0; m < 3; m++) {
		b = many_pairs(T0 + m * 60, m);
		ck_assert_int_eq(coin_store_put_batch(s, b), 0);
		snprintf(t.pair, sizeof(t.pair), "zz/none");
		t.ts = T0 + m * 60;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		memset(&w, 0, sizeof(w));
		lmdb_hook_commit_full(0, (unsigned long)m);
		rc = coin_store_compute_beside(s, b, 600, 0, out, &nout,
		    beside_fn, &w);
		lmdb_hook_stop();
		coin_batch_free(b);
		ck_assert_msg(rc == 0, "compute: %s", coin_strerror(rc));
		ck_assert_uint_eq(lmdb_hook_commits(), (unsigned long)m + 1);
		ck_assert_int_eq(w.calls, m + 1);
		ck_assert_int_eq(w.ended, 1);
		ck_assert_uint_eq(nout, COLLECT_MAX + 1);
		ck_assert_uint_eq(w.n, nout);
		ck_assert(w.sum == stats_sum(out, nout));
		ck_assert_int_eq(out[nout - 1].n, 0);
	}
	/* The commits fail for good: it ran each time, nothing returned. */
	b = many_pairs(T0 + 3 * 60, 3);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	memset(&w, 0, sizeof(w));
	lmdb_hook_commit_full(0, LMDB_HOOK_EVER);
	lmdb_hook_grow_fail(1);
	rc = coin_store_compute_beside(s, b, 600, 0, out, &nout, beside_fn,
	    &w);
	lmdb_hook_stop();
	coin_batch_free(b);
	ck_assert_int_eq(rc, ENOMEM);
	ck_assert_uint_eq(nout, 0);
	ck_assert_uint_eq((unsigned long)w.calls, lmdb_hook_commits());
	ck_assert_int_eq(w.ended, 1);
	coin_store_close(s);
}
END_TEST

Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc;

	tc = tcase_create("acc");
	tcase_add_test(tc, exact_series);
	tcase_add_test(tc, add_remove_exact);
	tcase_add_test(tc, add_all_same);
	suite_add_tcase(s, tc);
	tc = tcase_create("window");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, window_edges);
	tcase_add_test(tc, running_state);
	tcase_add_test(tc, deferred_writes);
	tcase_add_test(tc, state_at_kept);
	tcase_add_test(tc, two_halves);
	tcase_add_test(tc, two_halves_share);
	tcase_add_test(tc, beside_sees_last);
	tcase_add_test(tc, two_halves_error);
	tcase_add_test(tc, two_halves_no_reader);
	tcase_add_test(tc, two_halves_nomem);
	tcase_add_test(tc, schema3_upgraded);
	tcase_add_test(tc, extremes);
	tcase_add_test(tc, backfill);
	tcase_add_test(tc, ranking);
	tcase_add_test(tc, all_and_prune);
	tcase_add_test(tc, compute_commit_full);
	suite_add_tcase(s, tc);
	return s;
}
