/* SPDX-License-Identifier: ISC */
/* stats.c - exact windowed standard deviation, kept current incrementally */
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coin_int.h"

/*
 * Exactness.  Every positive double is m * 2^x with m an odd integer
 * below 2^53.  Taking u = 2^e, e the smallest such x among a window's
 * prices, every price is an integer count of u, so the sums S1 = sum
 * p/u and S2 = sum (p/u)^2 are integers, kept here exactly in multiple
 * limbs.  Adding and removing a tick are exact and undo each other, so
 * the running sums never drift however long they run, and
 *
 *	var = (n S2 - S1^2) / (n (n - 1)) * u^2
 *
 * has an exact numerator, 0 for a constant series, never negative.
 * Only the last steps round: that numerator to long double (64 bits
 * kept), the division, the square root, and the double result.
 *
 * Speed.  Each pair keeps its sums in the state database at the time
 * it was last computed, L; moving to T > L adds the ticks in (L, T] and
 * removes those in (L - W, T - W]: work in the new and expired ticks,
 * not in the window.  Its minimum and maximum come from the fronts of
 * two monotonic queues kept in its state (amortised O(1) a tick).  A
 * request for a time at or before L (a late batch, a backfill, a
 * replaced price) rebuilds the pair's state at that time from the
 * ticks, after which later times advance cheaply again; so does a
 * change of window, a state that coinstore dropped because it stored a
 * tick at or before L, and every 1,440th tick, a guard against changes
 * made behind the state's back.
 *
 * Writes.  The states of all pairs would fill about 1,400 pages at
 * 10,000 pairs, and LMDB writes each page it touches whole: rewriting
 * every state every minute would write (and sync) 6 MB a minute.  So a
 * state is written back only when it is due: in each batch, the pairs
 * of one slice in STATE_LAG, side by side in key order (state_due()),
 * and any pair whose state is STATE_LAG ticks behind, was rebuilt, or
 * read ticks again to refill its tail or queues (so that no costly
 * step is taken twice).  The others advance from their older state
 * each time, by a few staged ticks: the same sums, so the same stats.
 */

#define REBUILD_EVERY	1440
#define STATE_LAG	8
#define STATE_VERSION	3
#define COIN_STOP	(-1000)		/* a walk's callback had enough */

/* Split the positive finite double d into m * 2^x with m odd. */
static void
split(double d, uint64_t *m, int *x)
{
	uint64_t b;
	int ex;

	memcpy(&b, &d, sizeof(b));
	ex = (int)((b >> 52) & 0x7ff);
	*m = b & ((UINT64_C(1) << 52) - 1);
	if (ex == 0)
		*x = -1074;
	else {
		*m |= UINT64_C(1) << 52;
		*x = ex - 1075;
	}
	if (*m == 0)
		return;
	/* Strip the trailing zeros. */
#if defined(__GNUC__)
	ex = __builtin_ctzll(*m);
	*m >>= ex;
	*x += ex;
#else
	while ((*m & 1) == 0) {
		*m >>= 1;
		(*x)++;
	}
#endif
}

/*
 * a[0..n) += the k-limb v shifted left by shift bits, k 1 or 2: the
 * fast path of the accumulator.  Returns nonzero on overflow.
 */
static int
big_add_small(uint64_t *a, int n, const uint64_t *v, int k, int shift)
{
	int limb = shift / 64, bits = shift % 64, i;
	uint64_t w[3], s, carry = 0;

	w[0] = v[0] << bits;
	w[1] = (k > 1 ? v[1] << bits : 0) |
	    (bits ? v[0] >> (64 - bits) : 0);
	w[2] = k > 1 && bits ? v[1] >> (64 - bits) : 0;
	for (i = 0; i < 3; i++) {
		if (limb + i >= n) {
			if (w[i] != 0 || carry != 0)
				return 1;
			continue;
		}
		s = a[limb + i] + w[i];
		s += carry;
		carry = s < w[i] || (carry && s == w[i]);
		a[limb + i] = s;
	}
	for (i = limb + 3; carry != 0 && i < n; i++)
		carry = ++a[i] == 0;
	return carry != 0;
}

/* a[0..n) += v << shift; returns the carry out (nonzero: overflow). */
static uint64_t
big_add_shifted(uint64_t *a, int n, const uint64_t *v, int vn, int shift)
{
	int limb = shift / 64, bits = shift % 64, i;
	uint64_t carry = 0, w, prev = 0, s;

	for (i = 0; i < vn + 1 && limb + i < n; i++) {
		uint64_t cur = i < vn ? v[i] : 0;

		w = bits ? (cur << bits) | (prev >> (64 - bits)) : cur;
		prev = cur;
		s = a[limb + i] + w;
		carry = s < w;
		a[limb + i] = s;
		/* Propagate this limb's carry into the next ones. */
		if (carry) {
			int j;

			for (j = limb + i + 1; j < n && carry; j++)
				carry = ++a[j] == 0;
			if (carry)
				return 1;
		}
	}
	/* What did not fit must be zero. */
	for (; i < vn + 1; i++) {
		uint64_t cur = i < vn ? v[i] : 0;

		w = bits ? (cur << bits) | (prev >> (64 - bits)) : cur;
		prev = cur;
		if (w != 0)
			return 1;
	}
	return 0;
}

/* a[0..n) -= v << shift; returns the borrow out (nonzero: underflow). */
static uint64_t
big_sub_shifted(uint64_t *a, int n, const uint64_t *v, int vn, int shift)
{
	int limb = shift / 64, bits = shift % 64, i, j;
	uint64_t borrow, w, prev = 0, cur;

	for (i = 0; i < vn + 1; i++) {
		cur = i < vn ? v[i] : 0;
		w = bits ? (cur << bits) | (prev >> (64 - bits)) : cur;
		prev = cur;
		if (w == 0)
			continue;
		if (limb + i >= n)
			return 1;
		borrow = a[limb + i] < w;
		a[limb + i] -= w;
		for (j = limb + i + 1; j < n && borrow; j++)
			borrow = a[j]-- == 0;
		if (borrow)
			return 1;
	}
	return 0;
}

/* Shift a[0..n) left by k bits; returns nonzero if bits fell off. */
static int
big_shl(uint64_t *a, int n, int k)
{
	int limb = k / 64, bits = k % 64, i;

	for (i = n - limb; i < n; i++)
		if (i >= 0 && a[i] != 0)
			return 1;
	if (bits && n - limb - 1 >= 0 && (a[n - limb - 1] >> (64 - bits)))
		return 1;
	for (i = n - 1; i >= 0; i--) {
		uint64_t hi = i - limb >= 0 ? a[i - limb] : 0;
		uint64_t lo = i - limb - 1 >= 0 ? a[i - limb - 1] : 0;

		a[i] = bits ? (hi << bits) | (lo >> (64 - bits)) : hi;
	}
	return 0;
}

/* The number of limbs of a[0..n) up to its highest nonzero one. */
static int
big_len(const uint64_t *a, int n)
{
	while (n > 0 && a[n - 1] == 0)
		n--;
	return n;
}

/* r = x * y, the full 128-bit product in two limbs. */
static void
mul64(uint64_t x, uint64_t y, uint64_t r[2])
{
#if defined(__SIZEOF_INT128__)
	__extension__ unsigned __int128 p = (unsigned __int128)x * y;

	r[0] = (uint64_t)p;
	r[1] = (uint64_t)(p >> 64);
#else
	uint64_t xh = x >> 32, xl = x & 0xffffffff;
	uint64_t yh = y >> 32, yl = y & 0xffffffff;
	uint64_t p0 = xl * yl, p1 = xl * yh, p2 = xh * yl, p3 = xh * yh;
	uint64_t mid = (p0 >> 32) + (p1 & 0xffffffff) + (p2 & 0xffffffff);

	r[0] = (mid << 32) | (p0 & 0xffffffff);
	r[1] = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
#endif
}

void
coin_acc_init(struct coin_acc *a)
{
	memset(a, 0, sizeof(*a));
}

int
coin_acc_add(struct coin_acc *a, double p)
{
	uint64_t m, sq[2];
	int x;

	if (!(p > 0) || !isfinite(p))
		return COIN_EUSAGE;
	split(p, &m, &x);
	if (a->n == 0) {
		memset(a->s1, 0, sizeof(a->s1));
		memset(a->s2, 0, sizeof(a->s2));
		a->e = x;
	} else if (x < a->e) {
		/* A finer unit: every sum is multiplied by a power of 2. */
		if (big_shl(a->s1, COIN_ACC_L1, a->e - x) ||
		    big_shl(a->s2, COIN_ACC_L2, 2 * (a->e - x)))
			return COIN_ECORRUPT;
		a->e = x;
	}
	mul64(m, m, sq);
	if (big_add_small(a->s1, COIN_ACC_L1, &m, 1, x - a->e) ||
	    big_add_small(a->s2, COIN_ACC_L2, sq, 2, 2 * (x - a->e)))
		return COIN_ECORRUPT;
	a->n++;
	return 0;
}

static int
big_zero(const uint64_t *a, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (a[i] != 0)
			return 0;
	return 1;
}

int
coin_acc_remove(struct coin_acc *a, double p)
{
	uint64_t m, sq[2];
	int x;

	if (!(p > 0) || !isfinite(p))
		return COIN_EUSAGE;
	split(p, &m, &x);
	/* Not a price these sums hold: they disagree with the ticks. */
	if (a->n <= 0 || x < a->e)
		return COIN_ECORRUPT;
	mul64(m, m, sq);
	if (big_sub_shifted(a->s1, COIN_ACC_L1, &m, 1, x - a->e) ||
	    big_sub_shifted(a->s2, COIN_ACC_L2, sq, 2, 2 * (x - a->e)))
		return COIN_ECORRUPT;
	if (--a->n == 0 && (!big_zero(a->s1, COIN_ACC_L1) ||
	    !big_zero(a->s2, COIN_ACC_L2)))
		return COIN_ECORRUPT;
	return 0;
}

/* a * 2^(64 * 0) as a long double, from its top 128 bits. */
#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 u128;

/*
 * The sums of n prices in two 128-bit integers, when they fit there (a
 * window whose prices differ little in their binary exponents, as a
 * pair's do): a few instructions a price.  Returns 0, or 1 if they do
 * not fit, leaving a as it was.
 */
static int
acc_add_narrow(struct coin_acc *a, const double *p, size_t n)
{
	u128 s1 = 0, s2 = 0, sq;
	uint64_t m, v;
	int x, e = INT_MAX, sh;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!(p[i] > 0) || !isfinite(p[i]))
			return 1;
		split(p[i], &m, &x);
		if (x < e)
			e = x;
	}
	if (n > (UINT64_C(1) << 32))
		return 1;
	for (i = 0; i < n; i++) {
		split(p[i], &m, &x);
		sh = x - e;
		if (sh > 63 - 53)
			return 1;
		v = m << sh;		/* below 2^63 */
		s1 += v;
		sq = (u128)v * v;	/* below 2^126 */
		if ((s2 += sq) < sq)
			return 1;
	}
	coin_acc_init(a);
	a->n = (int64_t)n;
	a->e = e;
	a->s1[0] = (uint64_t)s1;
	a->s1[1] = (uint64_t)(s1 >> 64);
	a->s2[0] = (uint64_t)s2;
	a->s2[1] = (uint64_t)(s2 >> 64);
	return 0;
}
#endif

int
coin_acc_add_all(struct coin_acc *a, const double *p, size_t n)
{
	size_t i;
	int rc;

#if defined(__SIZEOF_INT128__)
	if (a->n == 0 && n > 0 && acc_add_narrow(a, p, n) == 0)
		return 0;
#endif
	for (i = 0; i < n; i++)
		if ((rc = coin_acc_add(a, p[i])) != 0)
			return rc;
	return 0;
}

static long double
big_ld(const uint64_t *a, int n, int *exp2)
{
	int i;

	for (i = n - 1; i > 0 && a[i] == 0; i--)
		continue;
	*exp2 = 64 * (i > 0 ? i - 1 : 0);
	if (i == 0)
		return (long double)a[0];
	return ldexpl((long double)a[i], 64) + (long double)a[i - 1];
}

#define BIG_N	(2 * COIN_ACC_L1 + 1)

int
coin_acc_result(const struct coin_acc *a, int population, double *mean,
    double *stddev)
{
	uint64_t num[BIG_N], sq[BIG_N], t[2];
	long double v, d;
	int i, j, x, l1, l2, N;

	if (a->n == 0) {
		*mean = *stddev = NAN;
		return 0;
	}
	v = big_ld(a->s1, COIN_ACC_L1, &x);
	*mean = (double)(ldexpl(v, x + a->e) / (long double)a->n);
	if (a->n < 2) {
		*stddev = NAN;
		return 0;
	}
	/*
	 * num = n S2 - S1^2, exactly, in the N limbs that n S2 (n < 2^63)
	 * fits in, and so S1^2 <= n S2 (sums that break that overflow, and
	 * are corrupt): a pair's sums are a few limbs of their 34 and 68,
	 * and the rest need not be walked.
	 */
	l1 = big_len(a->s1, COIN_ACC_L1);
	l2 = big_len(a->s2, COIN_ACC_L2);
	N = l2 + 1;
	memset(num, 0, (size_t)N * sizeof(num[0]));
	for (i = 0; i < l2; i++) {
		mul64(a->s2[i], (uint64_t)a->n, t);
		if (big_add_shifted(num, N, t, 2, 64 * i))
			return COIN_ECORRUPT;
	}
	memset(sq, 0, (size_t)N * sizeof(sq[0]));
	for (i = 0; i < l1; i++)
		for (j = 0; j < l1; j++) {
			mul64(a->s1[i], a->s1[j], t);
			if (big_add_shifted(sq, N, t, 2, 64 * (i + j)))
				return COIN_ECORRUPT;
		}
	/* Cauchy-Schwarz: n S2 >= S1^2 for sums of real prices. */
	if (big_sub_shifted(num, N, sq, N, 0))
		return COIN_ECORRUPT;
	v = big_ld(num, N, &x);
	d = population ? (long double)a->n * (long double)a->n :
	    (long double)a->n * (long double)(a->n - 1);
	/* var = v 2^x u^2 / d; halve the exponent for the square root. */
	x += 2 * a->e;
	if (x % 2 != 0) {
		v *= 2;
		x--;
	}
	*stddev = (double)ldexpl(sqrtl(v / d), x / 2);
	return 0;
}

/* ------------------------------------------------------------------ */
/* One pair's running state, its minimum and maximum with it. */

/*
 * The front of a monotonic queue: the first EXT_KEEP entries of the
 * queue of a window's maxima (or minima), oldest first, and whether
 * more follow that are not kept.  A new price that dominates the last
 * kept entry dominates all that follow it, so the queue is exact again
 * from there; when expiry empties a truncated front, the window's ticks
 * are read again to refill it.  A steady trend, whose queue is the
 * whole window, costs one such read every EXT_KEEP ticks, and the
 * state stays small: it is rewritten at every batch.
 */
#define EXT_KEEP	8

/*
 * The tail: the window's oldest ticks, the next to expire, kept in the
 * state so that most batches take them from there and not from ticks
 * (where each pair's oldest tick is on a page of its own: a page read,
 * and a walk down the tree, a pair).  It holds every tick of the pair
 * with L - W < ts <= end, TAIL_KEEP at most, and is read again from the
 * ticks when it runs out, or topped up when the state is written back
 * (see Writes above): then it lasts until the next write.
 */
#define TAIL_KEEP	8

struct tail {
	int64_t		 end;		/* complete up to here */
	int64_t		 ts[TAIL_KEEP];
	double		 p[TAIL_KEEP];
	int		 n;
};

struct ext {
	int64_t		 ts[EXT_KEEP];
	double		 p[EXT_KEEP];
	int		 n;
	int		 trunc;
};

struct win {
	int64_t		 window;
	int64_t		 at;		/* L: the time it was computed for */
	int64_t		 last_ts;	/* the newest tick at or before L */
	double		 last;
	uint32_t	 updates;	/* until the next guard rebuild */
	struct coin_acc	 acc;
	struct ext	 x[2];		/* maxima, minima */
	struct tail	 t;
};

/* A whole monotonic queue in memory, while reading a window's ticks. */
struct mq {
	int64_t		*ts;
	double		*p;
	size_t		 n;
	size_t		 cap;
};

struct ctx {
	struct coin_store	*s;
	MDB_txn			*txn;
	MDB_cursor		*ticks;
	struct coin_stage	 st;		/* open when ticks is */
	MDB_cursor		*state;		/* state_get() opens it */
	int			 state_on;	/* on the pair it got */
	int			 added;		/* ticks the advance added */
	int64_t			 put_max;	/* newest state written */
	unsigned char		*held;		/* a reader's states to write */
	size_t			 nheld;
	size_t			 capheld;
	int			 hold;		/* it reads: hold them */
	int			 costly;	/* it rebuilt or refilled */
	int64_t			 window;
	int			 population;
	double			 smin;		/* a scan's extremes */
	double			 smax;
	double			*buf;		/* a scan's prices */
	size_t			 nbuf;
	size_t			 capbuf;
	struct mq		 q[2];
	struct win		 w;
};

#define STATE_MAX	(1 + 8 * 4 + 4 + 8 + 4 + 2 + \
			    8 * (COIN_ACC_L1 + COIN_ACC_L2) + \
			    2 * (1 + 16 * EXT_KEEP) + 1 + 8 + 16 * TAIL_KEEP)

static size_t
state_encode(const struct win *w, unsigned char *b)
{
	int l1 = big_len(w->acc.s1, COIN_ACC_L1);
	int l2 = big_len(w->acc.s2, COIN_ACC_L2), i, j;
	unsigned char *p = b;
	uint64_t u;

	*p++ = STATE_VERSION;
	coin_be64_put(p, (uint64_t)w->window);
	coin_be64_put(p + 8, (uint64_t)w->at);
	coin_be64_put(p + 16, (uint64_t)w->last_ts);
	memcpy(&u, &w->last, 8);
	coin_be64_put(p + 24, u);
	coin_be64_put(p + 32, ((uint64_t)w->updates << 32) |
	    (uint32_t)w->acc.e);
	coin_be64_put(p + 40, (uint64_t)w->acc.n);
	p += 48;
	*p++ = (unsigned char)l1;
	*p++ = (unsigned char)l2;
	for (i = 0; i < l1; i++, p += 8)
		coin_be64_put(p, w->acc.s1[i]);
	for (i = 0; i < l2; i++, p += 8)
		coin_be64_put(p, w->acc.s2[i]);
	for (j = 0; j < 2; j++) {
		*p++ = (unsigned char)(w->x[j].n | (w->x[j].trunc << 7));
		for (i = 0; i < w->x[j].n; i++, p += 16) {
			coin_be64_put(p, (uint64_t)w->x[j].ts[i]);
			memcpy(&u, &w->x[j].p[i], 8);
			coin_be64_put(p + 8, u);
		}
	}
	*p++ = (unsigned char)w->t.n;
	coin_be64_put(p, (uint64_t)w->t.end);
	p += 8;
	for (i = 0; i < w->t.n; i++, p += 16) {
		coin_be64_put(p, (uint64_t)w->t.ts[i]);
		memcpy(&u, &w->t.p[i], 8);
		coin_be64_put(p + 8, u);
	}
	return (size_t)(p - b);
}

static int
state_decode(const MDB_val *v, struct win *w)
{
	const unsigned char *p = v->mv_data, *end = p + v->mv_size;
	uint64_t u;
	int l1, l2, i, j;

	if (v->mv_size < 51 || p[0] != STATE_VERSION)
		return COIN_ECORRUPT;
	memset(w, 0, sizeof(*w));
	p++;
	w->window = (int64_t)coin_be64_get(p);
	w->at = (int64_t)coin_be64_get(p + 8);
	w->last_ts = (int64_t)coin_be64_get(p + 16);
	u = coin_be64_get(p + 24);
	memcpy(&w->last, &u, 8);
	u = coin_be64_get(p + 32);
	w->updates = (uint32_t)(u >> 32);
	w->acc.e = (int32_t)(uint32_t)u;
	w->acc.n = (int64_t)coin_be64_get(p + 40);
	l1 = p[48];
	l2 = p[49];
	p += 50;
	if (l1 > COIN_ACC_L1 || l2 > COIN_ACC_L2 ||
	    (size_t)(end - p) < (size_t)(8 * (l1 + l2)) || w->acc.n < 0 ||
	    w->window <= 0)
		return COIN_ECORRUPT;
	for (i = 0; i < l1; i++, p += 8)
		w->acc.s1[i] = coin_be64_get(p);
	for (i = 0; i < l2; i++, p += 8)
		w->acc.s2[i] = coin_be64_get(p);
	for (j = 0; j < 2; j++) {
		if (p == end)
			return COIN_ECORRUPT;
		w->x[j].n = *p & 0x7f;
		w->x[j].trunc = *p++ >> 7;
		if (w->x[j].n > EXT_KEEP ||
		    (size_t)(end - p) < (size_t)(16 * w->x[j].n))
			return COIN_ECORRUPT;
		for (i = 0; i < w->x[j].n; i++, p += 16) {
			w->x[j].ts[i] = (int64_t)coin_be64_get(p);
			u = coin_be64_get(p + 8);
			memcpy(&w->x[j].p[i], &u, 8);
			if (!isfinite(w->x[j].p[i]) || w->x[j].p[i] <= 0)
				return COIN_ECORRUPT;
		}
	}
	if (end - p < 9 || *p > TAIL_KEEP ||
	    (size_t)(end - p - 9) != (size_t)(16 * *p))
		return COIN_ECORRUPT;
	w->t.n = *p++;
	w->t.end = (int64_t)coin_be64_get(p);
	p += 8;
	for (i = 0; i < w->t.n; i++, p += 16) {
		w->t.ts[i] = (int64_t)coin_be64_get(p);
		u = coin_be64_get(p + 8);
		memcpy(&w->t.p[i], &u, 8);
		if (!isfinite(w->t.p[i]) || w->t.p[i] <= 0 ||
		    w->t.ts[i] > w->t.end || (i > 0 &&
		    w->t.ts[i] <= w->t.ts[i - 1]))
			return COIN_ECORRUPT;
	}
	if (w->t.end > w->at)
		return COIN_ECORRUPT;
	return 0;
}

/* c's one cursor on the states, opened the first time. */
static int
state_cursor(struct ctx *c)
{
	int rc;

	if (c->state == NULL &&
	    (rc = mdb_cursor_open(c->txn, c->s->state, &c->state)) != 0) {
		c->state = NULL;
		return rc;
	}
	return 0;
}

/*
 * Pair's state into c->w, through one cursor: pairs come in key order,
 * so the next one is mostly on the page the cursor is on already.
 */
static int
state_get(struct ctx *c, const char *pair)
{
	MDB_val k = { strlen(pair), (void *)(uintptr_t)pair }, v;
	int rc;

	c->state_on = 0;
	if ((rc = state_cursor(c)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(c->state, &k, &v, MDB_SET_KEY)) != 0)
		return rc;
	c->state_on = 1;
	return state_decode(&v, &c->w);
}

/*
 * Keep k -> v for the writer, in a read transaction (a length byte,
 * the pair, two length bytes, the state).
 */
static int
state_hold(struct ctx *c, const MDB_val *k, const MDB_val *v)
{
	size_t need = c->nheld + 3 + k->mv_size + v->mv_size, ncap;
	unsigned char *nb, *p;

	if (need > c->capheld) {
		ncap = c->capheld ? 2 * c->capheld : 65536;
		while (ncap < need)
			ncap *= 2;
		if ((nb = realloc(c->held, ncap)) == NULL)
			return COIN_ENOMEM;
		c->held = nb;
		c->capheld = ncap;
	}
	p = c->held + c->nheld;
	*p++ = (unsigned char)k->mv_size;
	memcpy(p, k->mv_data, k->mv_size);
	p += k->mv_size;
	*p++ = (unsigned char)(v->mv_size >> 8);
	*p++ = (unsigned char)v->mv_size;
	memcpy(p, v->mv_data, v->mv_size);
	c->nheld = need;
	return 0;
}

/* Write the states another ctx held, through c's cursor. */
static int
state_put_held(struct ctx *c, const struct ctx *from)
{
	const unsigned char *p = from->held, *end = p + from->nheld;
	MDB_val k, v;
	int rc;

	if ((rc = state_cursor(c)) != 0)
		return rc;
	while (p < end) {
		k.mv_size = *p++;
		k.mv_data = (void *)(uintptr_t)p;
		p += k.mv_size;
		v.mv_size = (size_t)p[0] << 8 | p[1];
		v.mv_data = (void *)(uintptr_t)(p + 2);
		p += 2 + v.mv_size;
		if ((rc = mdb_cursor_put(c->state, &k, &v, 0)) != 0)
			return rc;
	}
	if (from->put_max > c->put_max)
		c->put_max = from->put_max;
	return 0;
}

/* Pair's state from c->w: in place when state_get() found it. */
static int
state_put(struct ctx *c, const char *pair)
{
	unsigned char b[STATE_MAX];
	MDB_val k = { strlen(pair), (void *)(uintptr_t)pair }, v;

	v.mv_data = b;
	v.mv_size = state_encode(&c->w, b);
	if (c->w.at > c->put_max)
		c->put_max = c->w.at;
	if (c->hold)
		return state_hold(c, &k, &v);
	return mdb_cursor_put(c->state, &k, &v, c->state_on ? MDB_CURRENT :
	    0);
}

/* Does a new price p dominate the queued price q?  j 0: maxima. */
static int
dominates(int j, double p, double q)
{
	return j == 0 ? p >= q : p <= q;
}

/* Append (ts, p) to a kept front, as the whole queue would take it. */
static void
ext_push(struct ext *e, int j, int64_t ts, double p)
{
	if (e->trunc) {
		/* Behind entries not kept, unless it dominates them all. */
		if (e->n == 0 || !dominates(j, p, e->p[e->n - 1]))
			return;
		e->trunc = 0;
	}
	while (e->n > 0 && dominates(j, p, e->p[e->n - 1]))
		e->n--;
	if (e->n == EXT_KEEP) {
		e->trunc = 1;
		return;
	}
	e->ts[e->n] = ts;
	e->p[e->n++] = p;
}

/* Drop the kept entries with ts <= cutoff. */
static void
ext_expire(struct ext *e, int64_t cutoff)
{
	int i = 0;

	while (i < e->n && e->ts[i] <= cutoff)
		i++;
	if (i == 0)
		return;
	memmove(e->ts, e->ts + i, (size_t)(e->n - i) * sizeof(e->ts[0]));
	memmove(e->p, e->p + i, (size_t)(e->n - i) * sizeof(e->p[0]));
	e->n -= i;
}

/* Append (ts, p) to a whole queue in memory. */
static int
mq_push(struct mq *q, int j, int64_t ts, double p)
{
	while (q->n > 0 && dominates(j, p, q->p[q->n - 1]))
		q->n--;
	if (q->n == q->cap) {
		size_t ncap = q->cap ? 2 * q->cap : 256;
		int64_t *nts = realloc(q->ts, ncap * sizeof(*nts));
		double *np;

		if (nts == NULL)
			return COIN_ENOMEM;
		q->ts = nts;
		if ((np = realloc(q->p, ncap * sizeof(*np))) == NULL)
			return COIN_ENOMEM;
		q->p = np;
		q->cap = ncap;
	}
	q->ts[q->n] = ts;
	q->p[q->n++] = p;
	return 0;
}

struct staged {
	struct ctx	*c;
	int		(*fn)(struct ctx *, int64_t, double);
	int		*count;
};

static int
staged_tick(void *arg, int64_t ts, double p)
{
	struct staged *a = arg;

	if (a->count != NULL)
		(*a->count)++;
	return a->fn(a->c, ts, p);
}

/*
 * Call fn(ts, price) for each stored tick of pair with from <= ts <=
 * to, oldest first: those in ticks, then the staged ones.
 */
static int
tick_range(struct ctx *c, const char *pair, int64_t from, int64_t to,
    int (*fn)(struct ctx *, int64_t, double), int *count)
{
	struct staged sa;

	if (from < 0)
		from = 0;
	if (from > to)
		return 0;
	sa.c = c;
	sa.fn = fn;
	sa.count = count;
	return coin_ticks_range(c->ticks, &c->st, pair, strlen(pair), from,
	    to, staged_tick, &sa);
}

static int
queue_tick(struct ctx *c, int64_t ts, double p)
{
	int rc;

	if ((rc = mq_push(&c->q[0], 0, ts, p)) != 0 ||
	    (rc = mq_push(&c->q[1], 1, ts, p)) != 0)
		return rc;
	return 0;
}

/* The kept fronts of both queues from the whole queues in c->q. */
static void
ext_keep(struct ctx *c)
{
	struct ext *e;
	int j;

	for (j = 0; j < 2; j++) {
		e = &c->w.x[j];
		e->n = c->q[j].n < EXT_KEEP ? (int)c->q[j].n : EXT_KEEP;
		e->trunc = c->q[j].n > EXT_KEEP;
		memcpy(e->ts, c->q[j].ts, (size_t)e->n * sizeof(e->ts[0]));
		memcpy(e->p, c->q[j].p, (size_t)e->n * sizeof(e->p[0]));
	}
}

/* Refill the kept fronts of both queues from pair's window at T. */
static int
ext_fill(struct ctx *c, const char *pair, int64_t T)
{
	int rc;

	c->q[0].n = c->q[1].n = 0;
	c->costly = 1;
	if ((rc = tick_range(c, pair, T - c->window + 1, T, queue_tick,
	    NULL)) != 0)
		return rc;
	ext_keep(c);
	return 0;
}

/* Append (ts, p) to the tail; COIN_STOP once it is full. */
static int
tail_full(struct ctx *c, int64_t ts, double p)
{
	struct tail *t = &c->w.t;

	t->ts[t->n] = ts;
	t->p[t->n++] = p;
	t->end = ts;
	return t->n == TAIL_KEEP ? COIN_STOP : 0;
}

/* Append (ts, p) to the tail while it has room; end follows it. */
static void
tail_tick(struct ctx *c, int64_t ts, double p)
{
	if (c->w.t.n < TAIL_KEEP)
		(void)tail_full(c, ts, p);
}

static int
rebuild_tick(struct ctx *c, int64_t ts, double p)
{
	int rc;

	tail_tick(c, ts, p);
	c->w.last_ts = ts;
	c->w.last = p;
	if ((rc = coin_acc_add(&c->w.acc, p)) != 0)
		return rc;
	return queue_tick(c, ts, p);
}

/* A pair's own point in the guard cycle, so rebuilds do not bunch. */
static uint32_t
stagger(const char *pair)
{
	uint32_t h = 2166136261u;

	while (*pair != '\0')
		h = (h ^ (unsigned char)*pair++) * 16777619u;
	return h % REBUILD_EVERY;
}

/*
 * Make pair's state at T from its ticks, in one pass.  The guard's
 * count starts at the pair's own point in its cycle when the state is
 * new (so that pairs made together do not all come round together),
 * and at 0 when the guard itself asked: a whole cycle, not what was
 * left of the first one.
 */
static int
rebuild(struct ctx *c, const char *pair, int64_t T, int guard)
{
	int rc;

	memset(&c->w, 0, sizeof(c->w));
	c->w.window = c->window;
	c->w.at = T;
	c->w.updates = guard ? 0 : stagger(pair);
	c->costly = 1;
	coin_acc_init(&c->w.acc);
	c->q[0].n = c->q[1].n = 0;
	if ((rc = tick_range(c, pair, T - c->window + 1, T, rebuild_tick,
	    NULL)) != 0)
		return rc;
	/* Not full: it holds the whole window. */
	if (c->w.t.n < TAIL_KEEP)
		c->w.t.end = T;
	ext_keep(c);
	return 0;
}

static int
expire_tick(struct ctx *c, int64_t ts, double p)
{
	(void)ts;
	return coin_acc_remove(&c->w.acc, p);
}

static int
add_tick(struct ctx *c, int64_t ts, double p)
{
	ext_push(&c->w.x[0], 0, ts, p);
	ext_push(&c->w.x[1], 1, ts, p);
	c->w.last_ts = ts;
	c->w.last = p;
	return coin_acc_add(&c->w.acc, p);
}

/*
 * Fill the tail up from the ticks after its end (the window's oldest
 * not in it) up to T: TAIL_KEEP of them at most.
 */
static int
tail_fill(struct ctx *c, const char *pair, int64_t T)
{
	struct tail *t = &c->w.t;
	int64_t from = t->end + 1;
	int rc;

	if (from < T - c->window + 1)
		from = T - c->window + 1;
	c->costly = 1;
	rc = tick_range(c, pair, from, T, tail_full, NULL);
	if (rc == COIN_STOP)
		return 0;
	if (rc != 0)
		return rc;
	t->end = T;		/* all of them: the whole window */
	return 0;
}

/* Move pair's state from L to T > L: add (L, T], remove (L-W, T-W]. */
static int
advance(struct ctx *c, const char *pair, int64_t T)
{
	struct tail *t = &c->w.t;
	int64_t L = c->w.at, W = c->window, from;
	int i, j, rc;

	/* The expired ones the tail holds, then the ticks after it. */
	for (i = 0; i < t->n && t->ts[i] <= T - W; i++)
		if ((rc = coin_acc_remove(&c->w.acc, t->p[i])) != 0)
			return rc;
	from = L - W + 1;
	if (i == t->n && t->end >= from) {
		from = t->end + 1;
		t->end = T - W > t->end ? T - W : t->end;
	}
	memmove(t->ts, t->ts + i, (size_t)(t->n - i) * sizeof(t->ts[0]));
	memmove(t->p, t->p + i, (size_t)(t->n - i) * sizeof(t->p[0]));
	t->n -= i;
	if (t->n == 0) {
		c->costly = 1;
		if ((rc = tick_range(c, pair, from, T - W, expire_tick,
		    NULL)) != 0)
			return rc;
	}
	for (j = 0; j < 2; j++)
		ext_expire(&c->w.x[j], T - W);
	if ((rc = tick_range(c, pair, L + 1, T, add_tick, &c->added)) != 0)
		return rc;
	c->w.at = T;
	if (t->n == 0 && (rc = tail_fill(c, pair, T)) != 0)
		return rc;
	for (j = 0; j < 2; j++)
		if (c->w.x[j].n == 0 && c->w.x[j].trunc)
			return ext_fill(c, pair, T);
	return 0;
}

/* The stat of the state in c->w. */
static int
win_stat(struct ctx *c, const char *pair, struct coin_stat *st)
{
	int rc;

	memcpy(st->pair, pair, strlen(pair) + 1);	/* a valid pair fits */
	st->ts = c->w.at;
	st->window = c->window;
	st->n = c->w.acc.n;
	st->min = st->max = st->last = NAN;
	if ((rc = coin_acc_result(&c->w.acc, c->population, &st->mean,
	    &st->stddev)) != 0)
		return rc;
	if (st->n == 0)
		return 0;
	if (c->w.x[0].n == 0 || c->w.x[1].n == 0)
		return COIN_ECORRUPT;
	st->last = c->w.last;
	st->max = c->w.x[0].p[0];
	st->min = c->w.x[1].p[0];
	return 0;
}

/* A stat by a plain scan of the window, touching no state. */
static int
scan_tick(struct ctx *c, int64_t ts, double p)
{
	(void)ts;
	if (c->nbuf == c->capbuf) {
		size_t ncap = c->capbuf ? 2 * c->capbuf : 2048;
		double *nb;

		if ((nb = realloc(c->buf, ncap * sizeof(*nb))) == NULL)
			return COIN_ENOMEM;
		c->buf = nb;
		c->capbuf = ncap;
	}
	if (c->nbuf == 0 || p > c->smax)
		c->smax = p;
	if (c->nbuf == 0 || p < c->smin)
		c->smin = p;
	c->buf[c->nbuf++] = p;
	c->w.last = p;
	return 0;
}

/* The stat of pair st->pair at T into *st. */
static int
scan_one(struct ctx *c, int64_t T, struct coin_stat *st)
{
	struct coin_acc acc;
	int rc;

	c->nbuf = 0;
	coin_acc_init(&acc);
	if ((rc = tick_range(c, st->pair, T - c->window + 1, T, scan_tick,
	    NULL)) != 0 ||
	    (rc = coin_acc_add_all(&acc, c->buf, c->nbuf)) != 0)
		return rc;
	st->ts = T;
	st->window = c->window;
	st->n = acc.n;
	st->min = st->n ? c->smin : NAN;
	st->max = st->n ? c->smax : NAN;
	st->last = st->n ? c->w.last : NAN;
	return coin_acc_result(&acc, c->population, &st->mean, &st->stddev);
}

/*
 * The stat of (pair, T), moving the pair's state there: forward by the
 * ticks that came and went when it can, else (a first time, another
 * window, a time at or before its own, a long gap, the guard) by a
 * rebuild from the ticks.  The state is written back when due is set,
 * or when leaving it would cost (see Writes above).  The guard counts
 * the ticks added since the rebuild, written back or not.
 */
static int
compute_one(struct ctx *c, const char *pair, int64_t T,
    struct coin_stat *st, int due)
{
	int rc, guard = 0;

	c->added = c->costly = 0;
	rc = state_get(c, pair);
	if (rc != 0 && rc != MDB_NOTFOUND && rc != COIN_ECORRUPT)
		return rc;
	if (rc == 0 && c->w.window == c->window && T > c->w.at &&
	    T - c->window < c->w.at) {
		if ((rc = advance(c, pair, T)) == 0) {
			c->w.updates += c->added > 0 ? (uint32_t)c->added : 1;
			if (c->w.updates >= REBUILD_EVERY) {
				guard = 1;
				rc = COIN_ECORRUPT;
			}
		}
	} else
		rc = COIN_ECORRUPT;
	/* Sums that disagree with the ticks are rebuilt, never used. */
	if (rc == COIN_ECORRUPT)
		rc = rebuild(c, pair, T, guard);
	if (rc == 0 && (rc = win_stat(c, pair, st)) == COIN_ECORRUPT &&
	    (rc = rebuild(c, pair, T, 0)) == 0)
		rc = win_stat(c, pair, st);
	if (rc != 0)
		return rc;
	if (!due && !c->costly && c->added < STATE_LAG)
		return 0;
	/* Written back: with a tail that lasts until the next time. */
	if (c->w.t.n < TAIL_KEEP && c->w.t.end < T &&
	    (rc = tail_fill(c, pair, T)) != 0)
		return rc;
	return state_put(c, pair);
}

static int
ctx_open(struct ctx *c, struct coin_store *s, MDB_txn *txn)
{
	int rc;

	c->s = s;
	c->txn = txn;
	c->ticks = NULL;
	c->state = NULL;
	c->put_max = INT64_MIN;
	if ((rc = coin_stage_open(s, txn, &c->st)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->ticks, &c->ticks)) != 0) {
		coin_stage_close(&c->st);
		c->ticks = NULL;
	}
	return rc;
}

static void
ctx_close(struct ctx *c)
{
	if (c->state != NULL)
		mdb_cursor_close(c->state);
	c->state = NULL;
	if (c->ticks != NULL) {
		mdb_cursor_close(c->ticks);
		coin_stage_close(&c->st);
	}
	c->ticks = NULL;
}

static void
ctx_free(struct ctx *c)
{
	int j;

	for (j = 0; j < 2; j++) {
		free(c->q[j].ts);
		free(c->q[j].p);
	}
	free(c->buf);
	free(c->held);
}

struct compute_arg {
	struct ctx		 c;
	struct coin_batch	*req;
	struct coin_stat	*out;
	size_t			 nout;
	coin_stats_fn		*beside;	/* run while out[] is stored */
	void			*beside_arg;
	pthread_t		 btid;
	int			 brun;		/* btid is to be joined */
};

static void *
beside_main(void *arg)
{
	struct compute_arg *a = arg;

	a->beside(a->out, a->nout, a->beside_arg);
	return NULL;
}

/* Run beside() on out[], on the other core while the stats are stored. */
static void
beside_start(struct compute_arg *a)
{
	if (a->beside == NULL)
		return;
	a->brun = pthread_create(&a->btid, NULL, beside_main, a) == 0;
	if (!a->brun)
		a->beside(a->out, a->nout, a->beside_arg);
}

static void
beside_join(struct compute_arg *a)
{
	if (a->brun)
		pthread_join(a->btid, NULL);
	a->brun = 0;
}

/*
 * Whether the state of the request at place i of a batch of n is due.
 * The batch at minute m writes slice m mod STATE_LAG, and each half of
 * the batch has its share of every slice: place j of a half of h is in
 * slice j STATE_LAG / h.  Were a slice a run of the whole batch, one
 * half would write all of it while the other, writing none, finished
 * first and waited: 2 to 16 ms apart at 10,000 pairs.
 */
static int
state_due(size_t i, size_t n, int64_t ts)
{
	size_t h = n - n / 2, j = i < h ? i : i - h;

	if (h == 0)		/* no batch, no place in it */
		return 0;
	return (int64_t)(j * STATE_LAG / h) == ts / 60 % STATE_LAG;
}

/*
 * Compute the entries from..to of req's order[] with c, each stat put
 * where its pair and ts first arrived (order[] has the first arrival
 * of a pair and ts first).
 */
static int
compute_range(struct compute_arg *a, struct ctx *c, size_t from, size_t to)
{
	struct coin_batch *b = a->req;
	struct coin_tick t, prev;
	size_t i, k;
	int rc;

	for (i = from; i < to; i++) {
		k = b->order[i];
		coin_batch_get(b, k, &t);
		if (i > from && prev.ts == t.ts &&
		    strcmp(prev.pair, t.pair) == 0)
			continue;
		prev = t;
		/* This batch's slice of the pairs writes its states. */
		if ((rc = compute_one(c, t.pair, t.ts, &a->out[k],
		    state_due(i, b->n, t.ts))) != 0)
			return rc;
		a->out[k].ts = t.ts;
	}
	return 0;
}

/*
 * The second half of a big batch, on the other core: in a read
 * transaction of its own, which sees what the writer's sees (that one
 * changes no ticks, and the states of other pairs only), holding the
 * states it would write for the writer.
 */
struct half {
	struct compute_arg	*a;
	size_t			 from;
	size_t			 to;
	struct ctx		 c;
	int			 begun;		/* its read transaction */
	int			 rc;
};

static void *
half_worker(void *arg)
{
	struct half *h = arg;
	MDB_txn *txn;

	if ((h->rc = mdb_txn_begin(h->c.s->env, NULL, MDB_RDONLY, &txn)) !=
	    0)
		return NULL;
	h->begun = 1;
	if ((h->rc = ctx_open(&h->c, h->c.s, txn)) == 0)
		h->rc = compute_range(h->a, &h->c, h->from, h->to);
	ctx_close(&h->c);
	mdb_txn_abort(txn);
	return NULL;
}

/* Batches of this many requests or more are computed on two cores. */
#define HALVES_MIN	2048

/*
 * Each (pair, ts) is computed in key order: a big batch in two halves
 * at a pair's boundary, the second in half_worker().  out[] needs no
 * sort afterwards, only the gaps of repeats closed up.  The stats with
 * a tick in their window are stored at once.
 */
static int
compute_fn(struct coin_store *s, MDB_txn *txn, void *arg)
{
	struct compute_arg *a = arg;
	struct coin_batch *b = a->req;
	struct coin_stat *keep = NULL, *put;
	struct coin_tick t, u;
	struct half h;
	pthread_t tid;
	size_t i, k, nkeep, mid = b->n;
	int rc, two = 0;

	/* Done again in a grown map: out[] is written anew. */
	beside_join(a);
	a->nout = 0;
	memset(&h, 0, sizeof(h));
	for (k = 0; k < b->n; k++)
		a->out[k].ts = INT64_MIN;	/* a repeat: no stat there */
	if ((rc = ctx_open(&a->c, s, txn)) != 0)
		goto out;
	if (b->n >= HALVES_MIN && sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		/* Halves at a pair's boundary: no pair in both. */
		for (mid = b->n / 2; mid < b->n; mid++) {
			coin_batch_get(b, b->order[mid - 1], &t);
			coin_batch_get(b, b->order[mid], &u);
			if (strcmp(t.pair, u.pair) != 0)
				break;
		}
		h.a = a;
		h.from = mid;
		h.to = b->n;
		h.c.s = s;
		h.c.window = a->c.window;
		h.c.population = a->c.population;
		h.c.hold = 1;
		two = pthread_create(&tid, NULL, half_worker, &h) == 0;
		if (!two)
			mid = b->n;
	}
	rc = compute_range(a, &a->c, 0, mid);
	if (two) {
		pthread_join(tid, NULL);
		if (rc == 0 && !h.begun)
			/* No reader slot (or memory) for it: done here. */
			rc = compute_range(a, &a->c, mid, b->n);
		else if (rc == 0 && (rc = h.rc) == 0)
			rc = state_put_held(&a->c, &h.c);
	}
	if (rc != 0)
		goto out;
	/* coinstore looks for a stale state only up to the newest. */
	if (a->c.put_max != INT64_MIN &&
	    (rc = coin_state_at_raise(s, txn, a->c.put_max)) != 0)
		goto out;
	for (k = nkeep = 0; k < b->n; k++)
		if (a->out[k].ts != INT64_MIN) {
			nkeep += a->out[k].n > 0;
			a->out[a->nout++] = a->out[k];
		}
	/* Stats with no tick in their window are reported, not stored. */
	put = a->out;
	if (nkeep < a->nout) {
		if ((keep = malloc((nkeep ? nkeep : 1) * sizeof(*keep))) ==
		    NULL) {
			rc = COIN_ENOMEM;
			goto out;
		}
		for (i = nkeep = 0; i < a->nout; i++)
			if (a->out[i].n > 0)
				keep[nkeep++] = a->out[i];
		put = keep;
	}
	beside_start(a);
	rc = coin_store_stats_put(s, txn, put, nkeep);
	free(keep);
out:
	ctx_free(&h.c);
	ctx_close(&a->c);
	return rc;
}

int
coin_store_compute(struct coin_store *s, struct coin_batch *req,
    int64_t window, int population, struct coin_stat *out, size_t *nout)
{
	return coin_store_compute_beside(s, req, window, population, out,
	    nout, NULL, NULL);
}

int
coin_store_compute_beside(struct coin_store *s, struct coin_batch *req,
    int64_t window, int population, struct coin_stat *out, size_t *nout,
    coin_stats_fn *fn, void *arg)
{
	struct compute_arg a;
	int rc;

	*nout = 0;
	if (window <= 0)
		return COIN_EUSAGE;
	if (req->n == 0)
		return 0;
	if ((rc = coin_batch_sort(req)) != 0)
		return rc;
	memset(&a, 0, sizeof(a));
	a.c.window = window;
	a.c.population = population;
	a.req = req;
	a.out = out;
	a.beside = fn;
	a.beside_arg = arg;
	rc = coin_store_write(s, compute_fn, &a);
	beside_join(&a);
	ctx_free(&a.c);
	if (rc != 0)
		return rc;
	*nout = a.nout;
	return 0;
}

struct all_arg {
	struct coin_store	*s;
	int64_t			 window;
	int			 population;
	int64_t			 at;
	struct coin_stat	*out;		/* one a pair, in key order */
	size_t			 n;
	size_t			 cap;
	pthread_mutex_t		 lock;		/* guards next and rc */
	size_t			 next;		/* the next pair to take */
	int			 rc;		/* the first error */
};

/* The names of the stored pairs into a->out[].pair, in key order. */
static int
all_pairs(struct coin_store *s, MDB_txn *txn, struct all_arg *a)
{
	MDB_cursor *pc;
	MDB_val k, v;
	int rc;

	a->n = 0;
	if ((rc = mdb_cursor_open(txn, s->pairs, &pc)) != 0)
		return rc;
	for (rc = mdb_cursor_get(pc, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(pc, &k, &v, MDB_NEXT)) {
		if (a->n == a->cap) {
			size_t ncap = a->cap ? 2 * a->cap : 256;
			struct coin_stat *no = realloc(a->out,
			    ncap * sizeof(*no));

			if (no == NULL) {
				rc = COIN_ENOMEM;
				break;
			}
			a->out = no;
			a->cap = ncap;
		}
		if (coin_pair_valid(k.mv_data, k.mv_size, NULL) != 0) {
			rc = COIN_ECORRUPT;
			break;
		}
		memcpy(a->out[a->n].pair, k.mv_data, k.mv_size);
		a->out[a->n++].pair[k.mv_size] = '\0';
	}
	mdb_cursor_close(pc);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Pairs taken at a time by a worker. */
#define ALL_CHUNK	64

/*
 * Scan the windows of pairs taken a chunk at a time until none are
 * left or one failed, in txn.
 */
static void
all_scan(struct all_arg *a, MDB_txn *txn)
{
	struct ctx c;
	size_t i, end;
	int rc;

	memset(&c, 0, sizeof(c));
	c.window = a->window;
	c.population = a->population;
	if ((rc = ctx_open(&c, a->s, txn)) != 0)
		goto out;
	for (;;) {
		pthread_mutex_lock(&a->lock);
		i = a->next;
		end = a->rc != 0 || i >= a->n ? i : i + ALL_CHUNK;
		if (end > a->n)
			end = a->n;
		a->next = end;
		pthread_mutex_unlock(&a->lock);
		if (i == end)
			break;
		for (; i < end; i++)
			if ((rc = scan_one(&c, a->at, &a->out[i])) != 0)
				goto out;
	}
out:
	ctx_close(&c);
	ctx_free(&c);
	if (rc != 0) {
		pthread_mutex_lock(&a->lock);
		if (a->rc == 0)
			a->rc = coin_store_mapcode(rc);
		pthread_mutex_unlock(&a->lock);
	}
}

/*
 * A worker of --all, in a read transaction of its own, which sees what
 * the caller's write transaction sees: that one writes no ticks, and
 * no other writer can commit meanwhile.
 */
static void *
all_worker(void *arg)
{
	struct all_arg *a = arg;
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(a->s->env, NULL, MDB_RDONLY, &txn)) != 0) {
		pthread_mutex_lock(&a->lock);
		if (a->rc == 0)
			a->rc = coin_store_mapcode(rc);
		pthread_mutex_unlock(&a->lock);
		return NULL;
	}
	all_scan(a, txn);
	mdb_txn_abort(txn);
	return NULL;
}

/* Workers for n pairs: one a core, up to 4, each with 256 pairs or more. */
static int
all_nworkers(size_t n)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int w = cpus > 4 ? 4 : cpus < 1 ? 1 : (int)cpus;

	while (w > 1 && n / (size_t)w < 256)
		w--;
	return w;
}

static int
all_fn(struct coin_store *s, MDB_txn *txn, void *arg)
{
	struct all_arg *a = arg;
	pthread_t tid[4];
	size_t i, kept;
	int nw, started, rc;

	if ((rc = all_pairs(s, txn, a)) != 0)
		return rc;
	/*
	 * All of it again, by scans: --all is the remedy for any doubt,
	 * and leaves the running states as they are.  The scans run on
	 * the machine's cores; a worker that cannot start leaves its share
	 * to the others and to this thread, which scans in txn.
	 */
	a->next = 0;
	a->rc = 0;
	nw = all_nworkers(a->n);
	for (started = 0; nw > 1 && started < nw; started++)
		if (pthread_create(&tid[started], NULL, all_worker, a) != 0)
			break;
	all_scan(a, txn);
	while (started > 0)
		pthread_join(tid[--started], NULL);
	if (a->rc != 0)
		return a->rc;
	/* Stats with no tick in their window are reported, not stored. */
	for (i = kept = 0; i < a->n; i++)
		if (a->out[i].n > 0)
			a->out[kept++] = a->out[i];
	a->n = kept;
	return coin_store_stats_put(s, txn, a->out, kept);
}

int
coin_store_compute_all(struct coin_store *s, int64_t at, int64_t window,
    int population, coin_stat_fn *fn, void *arg)
{
	struct all_arg a;
	size_t i;
	int rc;

	if (window <= 0)
		return COIN_EUSAGE;
	memset(&a, 0, sizeof(a));
	a.s = s;
	a.window = window;
	a.population = population;
	a.at = at;
	if ((rc = pthread_mutex_init(&a.lock, NULL)) != 0)
		return rc == ENOMEM ? COIN_ENOMEM : rc;
	rc = coin_store_write(s, all_fn, &a);
	pthread_mutex_destroy(&a.lock);
	for (i = 0; rc == 0 && i < a.n; i++)
		rc = fn(&a.out[i], arg);
	free(a.out);
	return rc;
}
