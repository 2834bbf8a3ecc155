/* SPDX-License-Identifier: ISC */
/* check_stage.c - unit tests of the stage: the newest ticks, time first */
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "coin_int.h"
#include "lmdb_hook.h"

#define T0	1732521600

static char dir[64];
static char db[96];

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "check_stage");
	snprintf(db, sizeof(db), "%s/db", dir);
}

static void
teardown(void)
{
	scratch_remove(dir);
}

static struct coin_store *
open_rw(void)
{
	struct coin_store *s;
	int rc = coin_store_open(&s, db, COIN_STORE_CREATE);

	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	return s;
}

/* The price of pair number p at minute m: any value will do. */
static double
price_of(int p, int m)
{
	return 100 + p + m * 0.25;
}

/* One batch: pairs p0 .. p0 + np - 1 ("p%03d/usd") at minutes m0 .. */
static void
put_minutes(struct coin_store *s, int p0, int np, int m0, int nm,
    double bump)
{
	struct coin_batch *b;
	struct coin_tick t;
	int p, m, rc;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (m = m0; m < m0 + nm; m++)
		for (p = p0; p < p0 + np; p++) {
			snprintf(t.pair, sizeof(t.pair), "p%03d/usd", p);
			t.ts = T0 + 60 * (int64_t)m;
			t.price = price_of(p, m) + bump;
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
	rc = coin_store_put_batch(s, b);
	ck_assert_msg(rc == 0, "put: %s", coin_strerror(rc));
	coin_batch_free(b);
}

static uint64_t
staged(struct coin_store *s, uint64_t *ticks)
{
	struct coin_storeinfo info;

	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	if (ticks != NULL)
		*ticks = info.ticks;
	return info.staged;
}

/* What a walk of every tick must find, in order. */
struct expect {
	int	 np;		/* pairs p000 .. */
	int	 nm;		/* minutes 0 .. */
	int	 at;		/* ticks seen */
	double	 bump;		/* added to every price */
	int	 wide;		/* pairs c0000 .. (put_chunked()) */
};

static int
expect_tick(const struct coin_tick *t, void *arg)
{
	struct expect *e = arg;
	char want[COIN_PAIR_MAX + 1];
	int p = e->at / e->nm, m = e->at % e->nm;

	if (e->wide)
		snprintf(want, sizeof(want), "c%04d/usd", p);
	else
		snprintf(want, sizeof(want), "p%03d/usd", p);
	ck_assert_str_eq(t->pair, want);
	ck_assert_int_eq(t->ts, T0 + 60 * (int64_t)m);
	ck_assert_msg(t->price == price_of(p, m) + e->bump,
	    "%s at %d: %g", t->pair, m, t->price);
	e->at++;
	return 0;
}

static void
holds_all(struct coin_store *s, int np, int nm, double bump)
{
	struct expect e = { np, nm, 0, bump, 0 };

	ck_assert_int_eq(coin_store_ticks(s, NULL, 0, INT64_MAX, 0,
	    expect_tick, &e), 0);
	ck_assert_int_eq(e.at, np * nm);
}

/*
 * Batches of one time are staged until COIN_STAGE_MAX times are; the
 * next one merges them into ticks first.  Every walk finds every tick
 * in (pair, ts) order throughout.
 */
START_TEST(staged_then_merged)
{
	struct coin_store *s = open_rw();
	uint64_t ticks;
	int m;

	for (m = 0; m < COIN_STAGE_MAX; m++) {
		put_minutes(s, 0, 5, m, 1, 0);
		ck_assert_uint_eq(staged(s, &ticks), 5 * (uint64_t)(m + 1));
		ck_assert_uint_eq(ticks, 5 * (uint64_t)(m + 1));
		holds_all(s, 5, m + 1, 0);
	}
	put_minutes(s, 0, 5, COIN_STAGE_MAX, 1, 0);
	ck_assert_uint_eq(staged(s, &ticks), 5);
	ck_assert_uint_eq(ticks, 5 * (COIN_STAGE_MAX + 1));
	holds_all(s, 5, COIN_STAGE_MAX + 1, 0);
	coin_store_close(s);
}
END_TEST

/*
 * A tick again at a (pair, ts) replaces it, staged or merged, never
 * stands beside it; a late one (before the merged time) goes straight
 * into ticks.
 */
START_TEST(replaced_anywhere)
{
	struct coin_store *s = open_rw();
	uint64_t ticks;
	int m;

	for (m = 0; m <= COIN_STAGE_MAX; m++)
		put_minutes(s, 0, 3, m, 1, 0);
	ck_assert_uint_eq(staged(s, NULL), 3);
	/* All again, 1 dearer: merged ones and the staged one. */
	for (m = 0; m <= COIN_STAGE_MAX; m++)
		put_minutes(s, 0, 3, m, 1, 1);
	ck_assert_uint_eq(staged(s, &ticks), 3);
	ck_assert_uint_eq(ticks, 3 * (COIN_STAGE_MAX + 1));
	holds_all(s, 3, COIN_STAGE_MAX + 1, 1);
	coin_store_close(s);
}
END_TEST

static struct coin_tick latest(struct coin_store *, const char *, int64_t,
    int64_t);

/* One batch that names a (pair, ts) twice: staged once, the later. */
START_TEST(twice_in_a_batch)
{
	struct coin_store *s = open_rw();
	struct coin_batch *b;
	struct coin_tick t;
	uint64_t ticks;
	int i;
	static const struct { const char *pair; int m; double p; } in[] = {
		{ "p001/usd", 1, 5 }, { "p000/usd", 1, 1 },
		{ "p001/usd", 1, 7 }, { "p002/usd", 1, 9 },
		{ "p002/usd", 1, 8 }, { "p000/usd", 2, 3 },
	};

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < 6; i++) {
		snprintf(t.pair, sizeof(t.pair), "%s", in[i].pair);
		t.ts = T0 + 60 * in[i].m;
		t.price = in[i].p;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	ck_assert_uint_eq(staged(s, &ticks), 4);
	ck_assert(latest(s, "p001/usd", 0, INT64_MAX).price == 7);
	ck_assert(latest(s, "p002/usd", 0, INT64_MAX).price == 8);
	ck_assert(latest(s, "p000/usd", 0, T0 + 60).price == 1);
	ck_assert(latest(s, "p000/usd", 0, INT64_MAX).price == 3);
	coin_store_close(s);
}
END_TEST

static int
count_pair(const struct coin_pairinfo *p, void *arg)
{
	struct coin_pairinfo *last = arg;

	last[0] = *p;
	last[1].n++;
	return 0;
}

static int
keep_tick(const struct coin_tick *t, void *arg)
{
	*(struct coin_tick *)arg = *t;
	return 0;
}

/* The newest tick of pair at or before until, or ts 0. */
static struct coin_tick
latest(struct coin_store *s, const char *pair, int64_t since, int64_t until)
{
	struct coin_tick t;

	memset(&t, 0, sizeof(t));
	ck_assert_int_eq(coin_store_ticks(s, pair, since, until, 1,
	    keep_tick, &t), 0);
	return t;
}

static int
keep_stat(const struct coin_stat *st, void *arg)
{
	struct coin_stat *out = arg;

	if (strcmp(st->pair, "p002/usd") == 0)
		*out = *st;
	return 0;
}

/*
 * A pair seen only on the stage is a pair like any other: listed, and
 * ranked by --all.  --latest finds staged and merged ticks alike.
 */
START_TEST(new_pair_staged)
{
	struct coin_store *s = open_rw();
	struct coin_pairinfo last[2];
	struct coin_stat st;
	struct coin_tick t;
	int m;

	for (m = 0; m <= COIN_STAGE_MAX; m++)
		put_minutes(s, 0, 2, m, 1, 0);
	/* p002 comes now, and twice more: only staged. */
	for (m = COIN_STAGE_MAX + 1; m <= COIN_STAGE_MAX + 3; m++)
		put_minutes(s, 2, 1, m, 1, 0);
	ck_assert_uint_eq(staged(s, NULL), 5);
	memset(last, 0, sizeof(last));
	ck_assert_int_eq(coin_store_pairs(s, count_pair, last), 0);
	ck_assert_uint_eq(last[1].n, 3);
	ck_assert_str_eq(last[0].pair, "p002/usd");
	ck_assert_uint_eq(last[0].n, 3);
	ck_assert_int_eq(last[0].first, T0 + 60 * (COIN_STAGE_MAX + 1));
	ck_assert_int_eq(last[0].last, T0 + 60 * (COIN_STAGE_MAX + 3));
	/* p000: merged up to minute 63, staged at 64. */
	t = latest(s, "p000/usd", 0, INT64_MAX);
	ck_assert_int_eq(t.ts, T0 + 60 * COIN_STAGE_MAX);
	t = latest(s, "p000/usd", 0, T0 + 60 * COIN_STAGE_MAX - 1);
	ck_assert_int_eq(t.ts, T0 + 60 * (COIN_STAGE_MAX - 1));
	ck_assert(t.price == price_of(0, COIN_STAGE_MAX - 1));
	t = latest(s, "p002/usd", 0, T0 + 60 * (COIN_STAGE_MAX + 2));
	ck_assert_int_eq(t.ts, T0 + 60 * (COIN_STAGE_MAX + 2));
	t = latest(s, "p002/usd", T0 + 60 * (COIN_STAGE_MAX + 4), INT64_MAX);
	ck_assert_int_eq(t.ts, 0);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(coin_store_compute_all(s, T0 + 60 *
	    (COIN_STAGE_MAX + 3), 86400, 0, keep_stat, &st), 0);
	ck_assert_int_eq(st.n, 3);
	ck_assert(st.last == price_of(2, COIN_STAGE_MAX + 3));
	coin_store_close(s);
}
END_TEST

/*
 * A batch of more times than the stage holds goes into ticks whole, and
 * the merged time moves up to its newest; a live batch after it is
 * staged again.
 */
START_TEST(backfill_direct)
{
	struct coin_store *s = open_rw();
	uint64_t ticks;

	put_minutes(s, 0, 4, 0, 3, 0);
	ck_assert_uint_eq(staged(s, NULL), 12);
	put_minutes(s, 0, 4, 3, COIN_STAGE_MAX + 1, 0);
	ck_assert_uint_eq(staged(s, &ticks), 0);
	ck_assert_uint_eq(ticks, 4 * (COIN_STAGE_MAX + 4));
	holds_all(s, 4, COIN_STAGE_MAX + 4, 0);
	put_minutes(s, 0, 4, COIN_STAGE_MAX + 4, 1, 0);
	ck_assert_uint_eq(staged(s, NULL), 4);
	holds_all(s, 4, COIN_STAGE_MAX + 5, 0);
	coin_store_close(s);
}
END_TEST

/*
 * The running sums advance over ticks merged and staged alike: the
 * filter's stats at each minute equal --all's plain scans, for a
 * window of 10 minutes that straddles the merged time.
 */
START_TEST(window_straddles)
{
	struct coin_store *s = open_rw();
	struct coin_batch *req;
	struct coin_tick t;
	struct coin_stat out[4], all;
	size_t n, i;
	int m, p;

	for (m = 0; m < 2 * COIN_STAGE_MAX + 10; m++) {
		put_minutes(s, 0, 4, m, 1, (m * 7919 % 13) * 0.125);
		ck_assert_int_eq(coin_batch_new(&req), 0);
		for (p = 0; p < 4; p++) {
			snprintf(t.pair, sizeof(t.pair), "p%03d/usd", p);
			t.ts = T0 + 60 * (int64_t)m;
			t.price = 1;
			ck_assert_int_eq(coin_batch_add(req, &t), 0);
		}
		ck_assert_int_eq(coin_store_compute(s, req, 600, 0, out, &n),
		    0);
		coin_batch_free(req);
		ck_assert_uint_eq(n, 4);
		memset(&all, 0, sizeof(all));
		ck_assert_int_eq(coin_store_compute_all(s, T0 + 60 *
		    (int64_t)m, 600, 0, keep_stat, &all), 0);
		for (i = 0; i < n; i++) {
			if (strcmp(out[i].pair, "p002/usd") != 0)
				continue;
			ck_assert_int_eq(out[i].n, m < 10 ? m + 1 : 10);
			ck_assert_int_eq(all.n, out[i].n);
			ck_assert_msg(all.stddev == out[i].stddev ||
			    (isnan(all.stddev) && isnan(out[i].stddev)),
			    "minute %d: %.17g, a scan %.17g", m,
			    out[i].stddev, all.stddev);
			ck_assert(all.mean == out[i].mean);
			ck_assert(all.min == out[i].min);
			ck_assert(all.max == out[i].max);
		}
	}
	(void)staged(s, NULL);		/* sound */
	coin_store_close(s);
}
END_TEST

/*
 * Pairs asked in any order find what they find in order: the runs'
 * cursors step forward or search, never skip.
 */
START_TEST(any_order)
{
	struct coin_store *s = open_rw();
	struct coin_stage st;
	MDB_txn *txn;
	char pair[COIN_PAIR_MAX + 1];
	double p;
	int64_t ts;
	int i, k, m, rc;

	for (m = 0; m < 5; m++)
		put_minutes(s, 0, 200, m, 1, 0);
	/* Gaps: even pairs only at minute 5, every third at minute 6. */
	for (i = 0; i < 200; i += 2)
		put_minutes(s, i, 1, 5, 1, 0);
	for (i = 0; i < 200; i += 3)
		put_minutes(s, i, 1, 6, 1, 0);
	ck_assert_int_eq(coin_store_txn(s, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(coin_stage_open(s, txn, &st), 0);
	ck_assert_int_eq(st.n, 7);
	for (k = 0; k < 3000; k++) {
		/* Forward, backward, then at random. */
		i = k < 1000 ? k % 200 : k < 2000 ? 199 - k % 200 :
		    (int)((unsigned)k * 2654435761u % 200);
		snprintf(pair, sizeof(pair), "p%03d/usd", i);
		rc = coin_stage_latest(&st, pair, strlen(pair), INT64_MAX,
		    &ts, &p);
		ck_assert_int_eq(rc, 0);
		m = i % 3 == 0 ? 6 : i % 2 == 0 ? 5 : 4;
		ck_assert_int_eq(ts, T0 + 60 * m);
		ck_assert(p == price_of(i, m));
	}
	snprintf(pair, sizeof(pair), "q/usd");
	ck_assert_int_eq(coin_stage_latest(&st, pair, strlen(pair),
	    INT64_MAX, &ts, &p), MDB_NOTFOUND);
	coin_stage_close(&st);
	mdb_txn_abort(txn);
	coin_store_close(s);
}
END_TEST

static int
faults_of(void)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	int faults = 0;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	ck_assert_int_eq(coin_store_check(s, count_fault, &faults, &info),
	    COIN_ECORRUPT);
	coin_store_close(s);
	return faults;
}

/*
 * --check holds the stage to its rules: a staged tick at or before the
 * merged time, a tick in ticks after it, a pair with ticks that pairs
 * does not list, a listed pair without ticks.
 */
START_TEST(check_stage_rules)
{
	struct coin_store *s = open_rw();
	unsigned char kb[COIN_TICKKEY_MAX], price[8];
	double one = 1;
	uint64_t u;
	int m;

	for (m = 0; m <= COIN_STAGE_MAX; m++)
		put_minutes(s, 0, 2, m, 1, 0);
	coin_store_close(s);
	memcpy(&u, &one, 8);
	coin_be64_put(price, u);
	/* Staged at minute 0, long merged. */
	coin_be64_put(kb, T0);
	memcpy(kb + 8, "p000/usd", 8);
	raw_put(db, "recent", kb, 16, price, 8);
	ck_assert_int_ge(faults_of(), 1);
	raw_put(db, "recent", kb, 16, NULL, 0);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	(void)staged(s, NULL);		/* sound again */
	coin_store_close(s);
	/* In ticks, after the merged time. */
	coin_tickval_encode(T0 + 60 * 1000, one, kb);
	raw_put(db, "series", "p001/usd", 8, kb, 16);
	ck_assert_int_ge(faults_of(), 1);
	raw_del_dup(db, "series", "p001/usd", 8, kb, 16);
	/* Ticks of a pair pairs does not list. */
	raw_put(db, "pairs", "p001/usd", 8, NULL, 0);
	ck_assert_int_ge(faults_of(), 1);
	raw_put(db, "pairs", "p001/usd", 8, "", 0);
	/* A pair listed without a tick. */
	raw_put(db, "pairs", "zzz/usd", 7, "", 0);
	ck_assert_int_ge(faults_of(), 1);
	raw_put(db, "pairs", "zzz/usd", 7, NULL, 0);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	(void)staged(s, NULL);
	coin_store_close(s);
	/*
	 * A merge that meets a staged tick whose pair is not listed says
	 * the store is corrupt and changes nothing.
	 */
	s = open_rw();
	for (m = COIN_STAGE_MAX + 1; m < 2 * COIN_STAGE_MAX; m++)
		put_minutes(s, 0, 2, m, 1, 0);
	coin_store_close(s);
	raw_put(db, "pairs", "p001/usd", 8, NULL, 0);
	s = open_rw();
	{
		struct coin_batch *b;
		struct coin_tick t;

		ck_assert_int_eq(coin_batch_new(&b), 0);
		snprintf(t.pair, sizeof(t.pair), "p000/usd");
		t.ts = T0 + 60 * 2 * COIN_STAGE_MAX;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		ck_assert_int_eq(coin_store_put_batch(s, b), COIN_ECORRUPT);
		coin_batch_free(b);
	}
	coin_store_close(s);
	raw_put(db, "pairs", "p001/usd", 8, "", 0);
	s = open_rw();
	ck_assert_uint_eq(staged(s, NULL), 2 * COIN_STAGE_MAX);
	holds_all(s, 2, 2 * COIN_STAGE_MAX, 0);
	coin_store_close(s);
}
END_TEST

/*
 * --prune merges the stage first, so that it deletes staged ticks too,
 * and a pair left without ticks leaves pairs.
 */
START_TEST(prune_stage)
{
	struct coin_store *s = open_rw();
	struct coin_pairinfo last[2];
	uint64_t nticks, nstats, ticks;

	put_minutes(s, 0, 3, 0, 5, 0);
	put_minutes(s, 1, 2, 5, 5, 0);		/* p000 ends at minute 4 */
	ck_assert_uint_eq(staged(s, NULL), 25);
	ck_assert_int_eq(coin_store_prune(s, T0 + 60 * 7, &nticks, &nstats),
	    0);
	ck_assert_uint_eq(nticks, 15 + 4);
	ck_assert_uint_eq(staged(s, &ticks), 0);
	ck_assert_uint_eq(ticks, 6);
	memset(last, 0, sizeof(last));
	ck_assert_int_eq(coin_store_pairs(s, count_pair, last), 0);
	ck_assert_uint_eq(last[1].n, 2);
	ck_assert_str_eq(last[0].pair, "p002/usd");
	ck_assert_int_eq(last[0].first, T0 + 60 * 7);
	coin_store_close(s);
}
END_TEST

/*
 * A store of schema 2 (no stage, no pairs, every tick in ticks) is
 * refused by a reader and upgraded by a writer: pairs made from the
 * ticks, the merged time at the newest tick.
 */
START_TEST(schema2_upgraded)
{
	struct coin_store *s = open_rw();
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi meta, rec, prs;
	MDB_val k = { 6, "schema" }, v = { 1, "2" };
	uint64_t ticks;
	int m;

	for (m = 0; m < 2; m++)
		put_minutes(s, 0, 3, m, 1, 0);
	put_minutes(s, 0, 3, 2, COIN_STAGE_MAX + 1, 0);	/* into ticks */
	ck_assert_uint_eq(staged(s, NULL), 0);
	coin_store_close(s);
	raw_old_ticks(db);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 10), 0);
	ck_assert_int_eq(mdb_env_open(env, db, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "recent", 0, &rec), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "pairs", 0, &prs), 0);
	ck_assert_int_eq(mdb_drop(txn, rec, 1), 0);
	ck_assert_int_eq(mdb_drop(txn, prs, 1), 0);
	ck_assert_int_eq(mdb_put(txn, meta, &k, &v, 0), 0);
	k.mv_data = "merged";
	ck_assert_int_eq(mdb_del(txn, meta, &k, NULL), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_EUPGRADE);
	s = open_rw();
	ck_assert_uint_eq(staged(s, &ticks), 0);
	ck_assert_uint_eq(ticks, 3 * (COIN_STAGE_MAX + 3));
	holds_all(s, 3, COIN_STAGE_MAX + 3, 0);
	/* The next minute is staged: the merged time is the newest tick. */
	put_minutes(s, 0, 3, COIN_STAGE_MAX + 3, 1, 0);
	ck_assert_uint_eq(staged(s, NULL), 3);
	put_minutes(s, 0, 3, 0, 1, 5);		/* a late one: into ticks */
	ck_assert_uint_eq(staged(s, NULL), 3);
	coin_store_close(s);
}
END_TEST

/*
 * A batch that merges the stage and finds the map full at its commit
 * goes in again from the start, the merge with it: whole and once.
 */
START_TEST(merge_commit_full)
{
	struct coin_store *s = open_rw();
	uint64_t ticks;
	int m, rc;

	for (m = 0; m < COIN_STAGE_MAX; m++)
		put_minutes(s, 0, 50, m, 1, 0);
	lmdb_hook_commit_full(0, 2);
	put_minutes(s, 0, 50, COIN_STAGE_MAX, 1, 0);
	lmdb_hook_stop();
	ck_assert_uint_eq(lmdb_hook_commits_failed(), 2);
	ck_assert_uint_eq(staged(s, &ticks), 50);
	ck_assert_uint_eq(ticks, 50 * (COIN_STAGE_MAX + 1));
	holds_all(s, 50, COIN_STAGE_MAX + 1, 0);
	/* And with no room to grow: nothing merged, nothing lost. */
	lmdb_hook_commit_full(0, LMDB_HOOK_EVER);
	lmdb_hook_grow_fail(0);
	for (m = COIN_STAGE_MAX + 1; m < 2 * COIN_STAGE_MAX + 1; m++) {
		struct coin_batch *b;
		struct coin_tick t;

		ck_assert_int_eq(coin_batch_new(&b), 0);
		snprintf(t.pair, sizeof(t.pair), "p000/usd");
		t.ts = T0 + 60 * (int64_t)m;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		rc = coin_store_put_batch(s, b);
		coin_batch_free(b);
		ck_assert_int_ne(rc, 0);
	}
	lmdb_hook_stop();
	/* A growth that failed leaves the handle broken: open anew. */
	coin_store_close(s);
	s = open_rw();
	ck_assert_uint_eq(staged(s, &ticks), 50);
	ck_assert_uint_eq(ticks, 50 * (COIN_STAGE_MAX + 1));
	holds_all(s, 50, COIN_STAGE_MAX + 1, 0);
	coin_store_close(s);
}
END_TEST

/* The filter's means of p000 at minutes from .. to, window 10 minutes. */
static void
means(struct coin_store *s, int from, int to, double *mean)
{
	struct coin_batch *req;
	struct coin_stat *out;
	struct coin_tick t;
	size_t n, i;
	int m;

	ck_assert_int_eq(coin_batch_new(&req), 0);
	for (m = from; m <= to; m++) {
		snprintf(t.pair, sizeof(t.pair), "p000/usd");
		t.ts = T0 + 60 * (int64_t)m;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(req, &t), 0);
	}
	ck_assert_ptr_nonnull(out = calloc((size_t)(to - from + 1),
	    sizeof(*out)));
	ck_assert_int_eq(coin_store_compute(s, req, 600, 0, out, &n), 0);
	ck_assert_uint_eq(n, (size_t)(to - from + 1));
	for (i = 0; i < n; i++)
		mean[i] = out[i].mean;
	free(out);
	coin_batch_free(req);
}

/* Is the mean at minute m that of the ticks as price_of() made them? */
static int
right(double mean, int m)
{
	return fabs(mean - (100 + 0.25 * (m - 4.5))) < 1e-6;
}

/*
 * The running sums of p000 put wrong behind coinstddev's back: the
 * lowest bit of S1 flipped in its state as written (the variance they
 * give stays positive, so nothing but the guard can tell).  The state
 * written is at most STATE_LAG minutes behind, and every computation
 * after advances from it.
 */
static void
tamper(struct coin_store **s)
{
	unsigned char v[1024];
	size_t n;

	coin_store_close(*s);
	n = raw_get(db, "state", "p000/usd", 8, v, sizeof(v));
	ck_assert_uint_gt(n, 58);
	ck_assert_int_eq(v[0], 3);	/* the state's version */
	v[58] ^= 1;			/* S1's lowest limb ends there */
	raw_put(db, "state", "p000/usd", 8, v, n);
	*s = open_rw();
}

/*
 * The guard: a pair's state is made anew from its ticks every 1,440
 * ticks, so that sums gone wrong behind its back (a tick changed in
 * the file, here the sums themselves) come right again.  The first
 * cycle is cut short by the pair's own stagger; every one after it is
 * whole.
 */
START_TEST(guard_cycle)
{
	struct coin_store *s = open_rw();
	static double mean[3000];
	int m, m1 = -1, m2 = -1, end;

	put_minutes(s, 0, 1, 0, 3400, 0);	/* straight into ticks */
	means(s, 9, 99, mean);
	for (m = 9; m <= 99; m++)
		ck_assert(right(mean[m - 9], m));
	tamper(&s);
	means(s, 100, 1599, mean);
	ck_assert(!right(mean[0], 100));
	for (m = 101; m <= 1599 && m1 < 0; m++)
		if (right(mean[m - 100], m))
			m1 = m;
	ck_assert_msg(m1 > 100 && m1 <= 100 + 1440, "right again at %d", m1);
	for (m = 100; m < m1; m++)
		ck_assert(!right(mean[m - 100], m));
	/* Right from then on, up to a little before the next cycle. */
	end = m1 + 1420;
	if (end > 1599)
		means(s, 1600, end, mean + 1500);
	for (m = m1; m <= end; m++)
		ck_assert(right(mean[m - 100], m));
	/* Wrong again: right once more only a whole cycle after m1. */
	tamper(&s);
	means(s, end + 1, end + 100, mean);
	for (m = end + 1; m <= end + 100 && m2 < 0; m++)
		if (right(mean[m - end - 1], m))
			m2 = m;
	ck_assert_int_eq(m2, m1 + 1440);
	coin_store_close(s);
}
END_TEST

/*
 * Merges in chunks.  NCHUNKED pairs ("c%04d/usd": name order is number
 * order) make a full stage about 2.2 chunks of COIN_MERGE_CHUNK ticks.
 */
#define NCHUNKED	(2 * COIN_MERGE_CHUNK / COIN_STAGE_MAX + 100)

/* Minutes m0 .. m0 + nm - 1 of the NCHUNKED pairs, a batch a minute. */
static int
put_chunked(struct coin_store *s, int m0, int nm)
{
	struct coin_batch *b;
	struct coin_tick t;
	int p, m, rc = 0;

	for (m = m0; m < m0 + nm && rc == 0; m++) {
		ck_assert_int_eq(coin_batch_new(&b), 0);
		for (p = 0; p < NCHUNKED; p++) {
			snprintf(t.pair, sizeof(t.pair), "c%04d/usd", p);
			t.ts = T0 + 60 * (int64_t)m;
			t.price = price_of(p, m);
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
		rc = coin_store_put_batch(s, b);
		coin_batch_free(b);
	}
	return rc;
}

/* Every tick of minutes 0 .. nm - 1 once, in order, and nothing else. */
static void
chunked_all(struct coin_store *s, int nm)
{
	struct expect e = { NCHUNKED, nm, 0, 0, 1 };

	ck_assert_int_eq(coin_store_ticks(s, NULL, 0, INT64_MAX, 0,
	    expect_tick, &e), 0);
	ck_assert_int_eq(e.at, NCHUNKED * nm);
}

/* The stats of every pair at minute m over 10 minutes, as computed. */
static void
chunked_stats(struct coin_store *s, int m)
{
	struct coin_batch *req;
	struct coin_stat *out;
	struct coin_tick t;
	size_t n, i;
	int p;

	ck_assert_int_eq(coin_batch_new(&req), 0);
	for (p = 0; p < NCHUNKED; p++) {
		snprintf(t.pair, sizeof(t.pair), "c%04d/usd", p);
		t.ts = T0 + 60 * (int64_t)m;
		t.price = 1;
		ck_assert_int_eq(coin_batch_add(req, &t), 0);
	}
	ck_assert_ptr_nonnull(out = calloc(NCHUNKED, sizeof(*out)));
	ck_assert_int_eq(coin_store_compute(s, req, 600, 0, out, &n), 0);
	ck_assert_uint_eq(n, NCHUNKED);
	for (i = 0; i < n; i++) {
		ck_assert_uint_eq(out[i].n, 10);
		ck_assert_msg(fabs(out[i].mean - (100 + (double)i + 0.25 *
		    (m - 4.5))) < 1e-6, "%s: mean %.17g", out[i].pair,
		    out[i].mean);
	}
	free(out);
	coin_batch_free(req);
}

static int
count_one(const struct coin_tick *t, void *arg)
{
	(void)t;
	++*(size_t *)arg;
	return 0;
}

static int
merging_of(void)
{
	unsigned char v[16 + COIN_PAIR_MAX];

	return raw_get(db, "meta", "merging", 7, v, sizeof(v)) >= 16;
}

/*
 * A full stage, and the next minute, whose merge is cut short after its
 * first chunk: the next commits find the map full, and it cannot grow.
 * The store is left closed.
 */
static void
cut_short(void)
{
	struct coin_store *s = open_rw();

	ck_assert_int_eq(put_chunked(s, 0, COIN_STAGE_MAX), 0);
	lmdb_hook_commit_full(1, LMDB_HOOK_EVER);
	lmdb_hook_grow_fail(0);
	ck_assert_int_ne(put_chunked(s, COIN_STAGE_MAX, 1), 0);
	lmdb_hook_stop();
	ck_assert_uint_eq(lmdb_hook_commits() - lmdb_hook_commits_failed(),
	    1);
	coin_store_close(s);
	ck_assert(merging_of());
}

/* After the merge and the minute after it: s holds all, and closes. */
static void
merged_whole(struct coin_store *s)
{
	uint64_t ticks;

	ck_assert_uint_eq(staged(s, &ticks), NCHUNKED);
	ck_assert_uint_eq(ticks, NCHUNKED * (COIN_STAGE_MAX + 1));
	chunked_all(s, COIN_STAGE_MAX + 1);
	chunked_stats(s, COIN_STAGE_MAX);
	coin_store_close(s);
	ck_assert(!merging_of());
}

/*
 * A full stage is merged a chunk of pairs a transaction, before the
 * batch that found it full goes in: three chunks, then the batch.
 */
START_TEST(merge_in_chunks)
{
	struct coin_store *s = open_rw();

	ck_assert_int_eq(put_chunked(s, 0, COIN_STAGE_MAX), 0);
	ck_assert_uint_eq(staged(s, NULL), NCHUNKED * COIN_STAGE_MAX);
	lmdb_hook_commit_full(0, 0);	/* counts the commits */
	ck_assert_int_eq(put_chunked(s, COIN_STAGE_MAX, 1), 0);
	lmdb_hook_stop();
	ck_assert_uint_eq(lmdb_hook_commits(), 3 + 1);
	merged_whole(s);
}
END_TEST

/*
 * A merge cut short after its first chunk leaves a sound store: every
 * tick is found once, in ticks or staged, by readers and by the
 * computation; the next write finishes the merge before it stages
 * anything.
 */
START_TEST(merge_cut_short)
{
	struct coin_store *s;
	uint64_t ticks;
	size_t n;

	cut_short();
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	ck_assert_uint_eq(staged(s, &ticks), (NCHUNKED - COIN_MERGE_CHUNK /
	    COIN_STAGE_MAX) * COIN_STAGE_MAX);
	ck_assert_uint_eq(ticks, NCHUNKED * COIN_STAGE_MAX);
	chunked_all(s, COIN_STAGE_MAX);
	n = 0;
	ck_assert_int_eq(coin_store_ticks(s, "c0000/usd", T0 + 600, INT64_MAX,
	    0, count_one, &n), 0);
	ck_assert_uint_eq(n, COIN_STAGE_MAX - 10);
	coin_store_close(s);
	s = open_rw();
	chunked_stats(s, COIN_STAGE_MAX - 1);
	ck_assert_int_eq(put_chunked(s, COIN_STAGE_MAX, 1), 0);
	merged_whole(s);
}
END_TEST

/*
 * What the check holds a merge under way to: ticks after merged only of
 * the pairs moved, nothing staged after its time, merging after merged
 * and counting the staged ticks of the pairs up to its last.
 */
START_TEST(merge_rules)
{
	struct coin_store *s;
	unsigned char kb[COIN_TICKKEY_MAX], price[8], mv[16 + COIN_PAIR_MAX];
	unsigned char bad[16 + COIN_PAIR_MAX];
	char last[16];
	double one = 1;
	uint64_t u;
	size_t mlen;

	cut_short();
	mlen = raw_get(db, "meta", "merging", 7, mv, sizeof(mv));
	ck_assert_uint_eq(mlen, 16 + 9);
	/* The first chunk moved whole pairs, COIN_MERGE_CHUNK ticks. */
	snprintf(last, sizeof(last), "c%04d/usd",
	    COIN_MERGE_CHUNK / COIN_STAGE_MAX - 1);
	ck_assert_int_eq(memcmp(mv + 16, last, 9), 0);
	ck_assert_uint_eq(coin_be64_get(mv + 8), COIN_MERGE_CHUNK);
	memcpy(&u, &one, 8);
	coin_be64_put(price, u);
	/* In ticks after merged, of a pair the merge has not moved. */
	coin_tickval_encode(T0 + 60, one, kb);
	raw_put(db, "series", "c0999/usd", 9, kb, 16);
	ck_assert_int_ge(faults_of(), 1);
	raw_del_dup(db, "series", "c0999/usd", 9, kb, 16);
	/* Staged after the merge's time. */
	coin_be64_put(kb, T0 + 60 * COIN_STAGE_MAX);
	memcpy(kb + 8, "c0999/usd", 9);
	raw_put(db, "recent", kb, 17, price, 8);
	ck_assert_int_ge(faults_of(), 1);
	raw_put(db, "recent", kb, 17, NULL, 0);
	/* merging not after merged, or not what it moved, or none. */
	memcpy(bad, mv, mlen);
	coin_be64_put(bad, 0);
	raw_put(db, "meta", "merging", 7, bad, mlen);
	ck_assert_int_ge(faults_of(), 1);
	memcpy(bad, mv, mlen);
	coin_be64_put(bad + 8, COIN_MERGE_CHUNK - 1);
	raw_put(db, "meta", "merging", 7, bad, mlen);
	ck_assert_int_ge(faults_of(), 1);
	memcpy(bad, mv, mlen);
	bad[16 + 4] = '0';		/* c0250/usd: 5 pairs fewer */
	raw_put(db, "meta", "merging", 7, bad, mlen);
	ck_assert_int_ge(faults_of(), 1);
	raw_put(db, "meta", "merging", 7, NULL, 0);
	ck_assert_int_ge(faults_of(), 1);
	raw_put(db, "meta", "merging", 7, mv, mlen);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	(void)staged(s, NULL);		/* sound again */
	chunked_all(s, COIN_STAGE_MAX);
	coin_store_close(s);
}
END_TEST


/*
 * A chunk that cannot move a staged tick (its pair is not listed) says
 * the store is corrupt and deletes nothing.  The tick is staged at one
 * time only, so that the other runs move on past it and the chunk
 * fills: it must not go with the ticks moved around it.
 */
START_TEST(merge_keeps_unmoved)
{
	struct coin_store *s = open_rw();
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_tick t;
	size_t n = 0;

	ck_assert_int_eq(put_chunked(s, 0, COIN_STAGE_MAX), 0);
	ck_assert_int_eq(coin_batch_new(&b), 0);
	snprintf(t.pair, sizeof(t.pair), "c0100x/usd");
	t.ts = T0 + 60 * (COIN_STAGE_MAX - 1);
	t.price = 1;
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	coin_store_close(s);
	raw_put(db, "pairs", "c0100x/usd", 10, NULL, 0);
	s = open_rw();
	ck_assert_int_eq(put_chunked(s, COIN_STAGE_MAX, 1), COIN_ECORRUPT);
	coin_store_close(s);
	ck_assert(!merging_of());
	raw_put(db, "pairs", "c0100x/usd", 10, "", 0);
	s = open_rw();
	ck_assert_int_eq(coin_store_ticks(s, "c0100x/usd", 0, INT64_MAX, 0,
	    count_one, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.ticks, NCHUNKED * COIN_STAGE_MAX + 1);
	ck_assert_uint_eq(info.staged, NCHUNKED * COIN_STAGE_MAX + 1);
	coin_store_close(s);
}
END_TEST

Suite *
stage_suite(void)
{
	Suite *s = suite_create("stage");
	TCase *tc = tcase_create("stage");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, staged_then_merged);
	tcase_add_test(tc, replaced_anywhere);
	tcase_add_test(tc, twice_in_a_batch);
	tcase_add_test(tc, new_pair_staged);
	tcase_add_test(tc, backfill_direct);
	tcase_add_test(tc, window_straddles);
	tcase_add_test(tc, any_order);
	tcase_add_test(tc, check_stage_rules);
	tcase_add_test(tc, prune_stage);
	tcase_add_test(tc, schema2_upgraded);
	tcase_add_test(tc, merge_commit_full);
	tcase_add_test(tc, guard_cycle);
	tcase_add_test(tc, merge_in_chunks);
	tcase_add_test(tc, merge_cut_short);
	tcase_add_test(tc, merge_rules);
	tcase_add_test(tc, merge_keeps_unmoved);
	suite_add_tcase(s, tc);
	return s;
}
