/* SPDX-License-Identifier: ISC */
/* stage.c - the newest ticks, kept time first until merged into ticks */
#include <string.h>

#include "coin_int.h"

/*
 * Why.  ticks is keyed pair first, so that one pair's history is one
 * run of keys; but then a batch of P pairs at one ts lands on P leaf
 * pages, and LMDB, copying on write, writes each of them whole: at
 * 10,000 pairs about 56 MB a minute for 160 KB of ticks.  The newest
 * ticks are therefore staged in "recent", keyed ts then pair, where a
 * batch fills a few pages side by side.  Once the stage holds
 * COIN_STAGE_MAX times or STAGE_TICKS ticks, one transaction merges it
 * into ticks, rewriting each pair's last page once for all of them.
 *
 * The invariant: every tick in ticks has ts <= merged (meta "merged"),
 * every staged one ts > merged.  A pair's ticks are therefore those in
 * ticks followed by those staged, in ts order, and no (pair, ts) can be
 * in both.  pairs names every pair that has a tick in either.
 *
 * A merge in one transaction would hold every page it rewrites in
 * memory until its commit: each pair's last pages, over 100 MB at
 * 10,000 pairs.  So it moves COIN_MERGE_CHUNK ticks or so at a time,
 * whole pairs in pair order, each chunk a transaction.  The stage is
 * left as it is until the last chunk drops it whole: deleting what
 * each chunk moved would rewrite the stage's pages as well.  While a
 * merge is under way meta "merging" holds the newest staged ts, how
 * many staged ticks have moved, and the last pair moved: the pairs up
 * to it have their ticks up to that ts in ticks, and their staged
 * copies are no longer theirs (stage lookups skip them); every other
 * pair is as before the merge.  Readers see the same ticks either way;
 * writers finish the merge before they stage anything more, so that it
 * is never under way for long.
 */

#define STAGE_TICKS	(1 << 20)

int
coin_stage_merged(struct coin_store *s, MDB_txn *txn, int64_t *ts)
{
	return coin_meta_ts(s, txn, "merged", 0, ts);
}

int
coin_stage_merging(struct coin_store *s, MDB_txn *txn,
    struct coin_merging *m)
{
	MDB_val k = { 7, "merging" }, v;
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = mdb_get(txn, s->meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return coin_store_mapcode(rc);
	if (v.mv_size < 16 || v.mv_size > 16 + COIN_PAIR_MAX)
		return COIN_ECORRUPT;
	m->ts = (int64_t)coin_be64_get(v.mv_data);
	m->moved = coin_be64_get((unsigned char *)v.mv_data + 8);
	m->len = v.mv_size - 16;
	memcpy(m->last, (unsigned char *)v.mv_data + 16, m->len);
	if (m->ts <= 0 || (m->len > 0 &&
	    coin_pair_valid(m->last, m->len, NULL) != 0))
		return COIN_ECORRUPT;
	return 0;
}

static int
merging_put(struct coin_stage *st)
{
	unsigned char b[16 + COIN_PAIR_MAX];
	MDB_val k = { 7, "merging" }, v = { 16 + st->m.len, b };

	coin_be64_put(b, (uint64_t)st->m.ts);
	coin_be64_put(b + 8, st->m.moved);
	memcpy(b + 16, st->m.last, st->m.len);
	return mdb_put(st->txn, st->s->meta, &k, &v, 0);
}

int
coin_stage_open(struct coin_store *s, MDB_txn *txn, struct coin_stage *st)
{
	unsigned char kb[8];
	MDB_stat ms;
	MDB_val k, v;
	int64_t ts;
	int rc, i;

	memset(st, 0, sizeof(*st));
	st->s = s;
	st->txn = txn;
	if ((rc = coin_stage_merged(s, txn, &st->merged)) != 0 ||
	    (rc = coin_stage_merging(s, txn, &st->m)) != 0 ||
	    (rc = mdb_stat(txn, s->recent, &ms)) != 0)
		return coin_store_mapcode(rc);
	if ((st->m.ts != 0 && st->m.ts <= st->merged) ||
	    st->m.moved > ms.ms_entries)
		return COIN_ECORRUPT;
	st->ticks = ms.ms_entries - st->m.moved;
	if ((rc = mdb_cursor_open(txn, s->recent, &st->run[0].c)) != 0)
		return coin_store_mapcode(rc);
	/* The staged times: one hop down the tree each. */
	for (rc = mdb_cursor_get(st->run[0].c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(st->run[0].c, &k, &v, MDB_SET_RANGE)) {
		if (k.mv_size < 9 || st->n == COIN_STAGE_MAX) {
			rc = COIN_ECORRUPT;
			break;
		}
		ts = (int64_t)coin_be64_get(k.mv_data);
		if (ts <= st->merged || ts == INT64_MAX ||
		    (st->m.ts != 0 && ts > st->m.ts)) {
			rc = COIN_ECORRUPT;
			break;
		}
		st->run[st->n++].ts = ts;
		coin_be64_put(kb, (uint64_t)ts + 1);
		k.mv_data = kb;
		k.mv_size = 8;
	}
	if (rc != MDB_NOTFOUND) {
		coin_stage_close(st);
		return coin_store_mapcode(rc);
	}
	for (i = 1; i < st->n; i++)
		if ((rc = mdb_cursor_open(txn, s->recent,
		    &st->run[i].c)) != 0) {
			coin_stage_close(st);
			return coin_store_mapcode(rc);
		}
	for (i = 0; i < st->n; i++)
		st->run[i].at = 0;
	return 0;
}

void
coin_stage_close(struct coin_stage *st)
{
	int i;

	for (i = 0; i < COIN_STAGE_MAX; i++)
		if (st->run[i].c != NULL) {
			mdb_cursor_close(st->run[i].c);
			st->run[i].c = NULL;
		}
	st->n = 0;
}

/* Compare (pair, plen) with the pair of the recent key k. */
static int
keycmp(const MDB_val *k, const char *pair, size_t plen)
{
	size_t n = k->mv_size - 8, m = n < plen ? n : plen;
	int c = memcmp((const unsigned char *)k->mv_data + 8, pair, m);

	if (c != 0)
		return c;
	return n < plen ? -1 : n > plen;
}

/*
 * Look pair up in run i: 0 and its price, MDB_NOTFOUND, or an error.
 * Each run's cursor stays where the last look left it, and a look for
 * a later pair steps forward from there before it searches the tree:
 * pairs asked in order (every caller but one asks so) cost a step each.
 */
static int
run_find(struct coin_stage *st, int i, const char *pair, size_t plen,
    double *price)
{
	struct coin_run *r = &st->run[i];
	unsigned char kb[8 + COIN_PAIR_MAX];
	MDB_val k, v;
	int rc, c, steps;

	if (r->at) {
		rc = mdb_cursor_get(r->c, &k, &v, MDB_GET_CURRENT);
		if (rc != 0)
			return coin_store_mapcode(rc);
		for (steps = 0; steps <= 4; steps++) {
			if (k.mv_size < 9 ||
			    (int64_t)coin_be64_get(k.mv_data) != r->ts) {
				/* Past the run's end: after all of it? */
				if (steps > 0)
					return MDB_NOTFOUND;
				break;
			}
			if ((c = keycmp(&k, pair, plen)) == 0)
				return coin_price_decode(&v, price);
			if (c > 0) {
				/* Stepped over where pair would be? */
				if (steps > 0)
					return MDB_NOTFOUND;
				break;
			}
			rc = mdb_cursor_get(r->c, &k, &v, MDB_NEXT);
			if (rc == MDB_NOTFOUND)
				return MDB_NOTFOUND;	/* after the last */
			if (rc != 0)
				return coin_store_mapcode(rc);
		}
	}
	coin_be64_put(kb, (uint64_t)r->ts);
	memcpy(kb + 8, pair, plen);
	k.mv_data = kb;
	k.mv_size = 8 + plen;
	rc = mdb_cursor_get(r->c, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND) {
		r->at = 0;
		return MDB_NOTFOUND;
	}
	if (rc != 0)
		return coin_store_mapcode(rc);
	r->at = 1;
	if (k.mv_size != 8 + plen || memcmp(k.mv_data, kb, 8 + plen) != 0)
		return MDB_NOTFOUND;
	return coin_price_decode(&v, price);
}

int
coin_stage_moved(const struct coin_merging *m, const char *pair,
    size_t plen)
{
	size_t n = m->len < plen ? m->len : plen;
	int c;

	if (m->ts == 0)
		return 0;
	c = memcmp(pair, m->last, n);
	return c < 0 || (c == 0 && plen <= m->len);
}

int
coin_stage_range(struct coin_stage *st, const char *pair, size_t plen,
    int64_t from, int64_t to, coin_stage_fn *fn, void *arg)
{
	double p;
	int i, rc;

	if (coin_stage_moved(&st->m, pair, plen))
		return 0;
	for (i = 0; i < st->n; i++) {
		if (st->run[i].ts < from)
			continue;
		if (st->run[i].ts > to)
			break;
		rc = run_find(st, i, pair, plen, &p);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc != 0 || (rc = fn(arg, st->run[i].ts, p)) != 0)
			return rc;
	}
	return 0;
}

int
coin_stage_latest(struct coin_stage *st, const char *pair, size_t plen,
    int64_t to, int64_t *ts, double *price)
{
	int i, rc;

	if (coin_stage_moved(&st->m, pair, plen))
		return MDB_NOTFOUND;
	for (i = st->n - 1; i >= 0; i--) {
		if (st->run[i].ts > to)
			continue;
		rc = run_find(st, i, pair, plen, price);
		if (rc == 0)
			*ts = st->run[i].ts;
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	return MDB_NOTFOUND;
}

/* The merge is over: the stage empty, merged its newest ts. */
static int
merge_done(struct coin_stage *st)
{
	MDB_val k = { 7, "merging" };
	int rc;

	coin_stage_close(st);
	if ((rc = mdb_drop(st->txn, st->s->recent, 0)) != 0 ||
	    (rc = coin_stage_set_merged(st, st->m.ts)) != 0)
		return rc;
	rc = mdb_del(st->txn, st->s->meta, &k, NULL);
	memset(&st->m, 0, sizeof(st->m));
	st->ticks = 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Pairs walked in order from the first one staged and not moved, and
 * for each the head of each run (the runs are in ts order, each in
 * pair order), so that a tick costs one comparison a run, and each
 * pair's ticks go in one after the other on its last page.
 */
int
coin_stage_merge(struct coin_stage *st, size_t most, int *done)
{
	struct coin_store *s = st->s;
	unsigned char kb[COIN_TICKKEY_MAX];
	MDB_val k[COIN_STAGE_MAX], v[COIN_STAGE_MAX], pk, pv;
	MDB_cursor *tc, *pc;
	int live[COIN_STAGE_MAX], i, first = -1, left = 0, rc = 0;
	int64_t newest;
	double price;
	size_t moved = 0;

	*done = 0;
	if (st->n == 0 && st->m.ts == 0) {
		*done = 1;
		return 0;
	}
	if (st->m.ts == 0)
		st->m.ts = st->run[st->n - 1].ts;
	/* Each run's first tick of a pair not moved yet. */
	for (i = 0; i < st->n; i++) {
		coin_be64_put(kb, (uint64_t)st->run[i].ts);
		memcpy(kb + 8, st->m.last, st->m.len);
		k[i].mv_data = kb;
		k[i].mv_size = 8 + st->m.len;
		rc = mdb_cursor_get(st->run[i].c, &k[i], &v[i], MDB_SET_RANGE);
		if (rc == 0 && st->m.len > 0 && k[i].mv_size == 8 +
		    st->m.len && memcmp(k[i].mv_data, kb, 8 + st->m.len) == 0)
			rc = mdb_cursor_get(st->run[i].c, &k[i], &v[i],
			    MDB_NEXT);
		live[i] = rc == 0 && k[i].mv_size >= 9 &&
		    (int64_t)coin_be64_get(k[i].mv_data) == st->run[i].ts;
		if (rc != 0 && rc != MDB_NOTFOUND)
			return coin_store_mapcode(rc);
		if (!live[i])
			continue;
		left++;
		if (first < 0 || keycmp(&k[i], (char *)k[first].mv_data + 8,
		    k[first].mv_size - 8) < 0)
			first = i;
	}
	if (left == 0) {
		*done = 1;
		return merge_done(st);
	}
	if ((rc = mdb_cursor_open(st->txn, s->ticks, &tc)) != 0)
		return coin_store_mapcode(rc);
	if ((rc = mdb_cursor_open(st->txn, s->pairs, &pc)) != 0) {
		mdb_cursor_close(tc);
		return coin_store_mapcode(rc);
	}
	/* From the first pair staged: those before it are merged. */
	pk.mv_data = (char *)k[first].mv_data + 8;
	pk.mv_size = k[first].mv_size - 8;
	rc = mdb_cursor_get(pc, &pk, &pv, MDB_SET_RANGE);
	while (rc == 0 && left > 0 && moved < most) {
		if (pk.mv_size == 0 || pk.mv_size > COIN_PAIR_MAX) {
			rc = COIN_ECORRUPT;
			break;
		}
		newest = INT64_MAX;
		for (i = 0; i < st->n && rc == 0; i++) {
			if (!live[i] || k[i].mv_size != 8 + pk.mv_size ||
			    memcmp((char *)k[i].mv_data + 8, pk.mv_data,
			    pk.mv_size) != 0)
				continue;
			if (coin_price_decode(&v[i], &price) != 0) {
				rc = COIN_ECORRUPT;
				break;
			}
			/* The runs in time order: each one appended. */
			if ((rc = coin_series_put(tc, pk.mv_data, pk.mv_size,
			    st->run[i].ts, price, &newest)) != 0)
				break;
			moved++;
			rc = mdb_cursor_get(st->run[i].c, &k[i], &v[i],
			    MDB_NEXT);
			if (rc == 0 && (k[i].mv_size < 9 ||
			    (int64_t)coin_be64_get(k[i].mv_data) !=
			    st->run[i].ts))
				rc = MDB_NOTFOUND;
			if (rc == MDB_NOTFOUND) {
				live[i] = 0;
				left--;
				rc = 0;
			}
		}
		memcpy(st->m.last, pk.mv_data, pk.mv_size);
		st->m.len = pk.mv_size;
		if (rc == 0)
			rc = mdb_cursor_get(pc, &pk, &pv, MDB_NEXT);
	}
	mdb_cursor_close(pc);
	mdb_cursor_close(tc);
	if (rc == MDB_NOTFOUND)
		rc = 0;
	/* A staged tick whose pair is not listed, or out of order. */
	if (rc == 0 && left > 0 && moved < most)
		rc = COIN_ECORRUPT;
	if (rc != 0)
		return coin_store_mapcode(rc);
	if (left == 0) {
		*done = 1;
		return merge_done(st);
	}
	/*
	 * Part of it, told in merging; the stage is read anew.  A run
	 * whose head is not past the last pair walked holds a tick that
	 * did not move (its pair is not listed): it would be skipped as
	 * moved, and lost.
	 */
	for (i = 0; i < st->n; i++)
		if (live[i] && keycmp(&k[i], st->m.last, st->m.len) <= 0)
			return COIN_ECORRUPT;
	st->m.moved += moved;
	if ((rc = merging_put(st)) != 0)
		return rc;
	coin_stage_close(st);
	return coin_stage_open(s, st->txn, st);
}

int
coin_stage_set_merged(struct coin_stage *st, int64_t merged)
{
	unsigned char b[8];
	MDB_val k = { 6, "merged" }, v = { 8, b };

	st->merged = merged;
	coin_be64_put(b, (uint64_t)merged);
	return mdb_put(st->txn, st->s->meta, &k, &v, 0);
}

int
coin_stage_full(const struct coin_stage *st, int times, size_t ticks)
{
	return st->n + times > COIN_STAGE_MAX || st->ticks + ticks >
	    STAGE_TICKS;
}
