/* SPDX-License-Identifier: ISC */
/* store.c - the price history and its statistics, in one LMDB environment */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coin_int.h"

/*
 * Layout, schema 6.  Every integer is big-endian so that keys sort as
 * numbers; doubles are stored as their IEEE 754 bits.
 *
 *   series   pair                           -> ts price, a sorted
 *                                              duplicate a tick (16
 *                                              bytes), ts <= merged
 *                                              (merging, while a merge
 *                                              is under way)
 *   recent   ts pair                        -> price, ts > merged: the
 *                                              stage (stage.c)
 *   pairs    pair                           -> "" for every pair with
 *                                              a tick in either
 *   stats    ts ~ord(stddev) pair           -> window n mean stddev min
 *                                              max last
 *   statidx  ts pair                        -> ~ord(stddev)
 *   counts   ts                             -> how many stats at ts
 *   state    pair                           -> running sums, minima and
 *                                              maxima (stats.c)
 *   meta     "schema" -> "5", "latest" -> ts, "merged" -> ts,
 *            "merging" -> ts, ticks moved, last pair moved (only
 *            while a merge is under way),
 *            "state_at" -> ts: no state is of a later time
 *
 * ord() maps doubles to integers of the same order; complementing it
 * makes a forward walk of one ts give the ranking: stddev descending,
 * then pair ascending, pairs without a stddev (all ones) last.  statidx
 * finds a (ts, pair)'s stats key, to replace it and to walk one pair's
 * history; it is ts first, as the stats are, so that a batch's entries
 * go in side by side, not one into every pair's part of it (schema 1
 * had pair first: each batch rewrote a page a pair, and a day of
 * history made the minute's coinstddev twice as dear).  counts gives a
 * ranking's length without walking it.  state
 * is a cache of coinstddev's running computation, rebuilt from ticks:
 * a pair's entry can be dropped at any time, and so can all of it.
 * Storing a tick at or before the time a pair's state was computed for
 * drops that state, so the cache never disagrees with the ticks.
 * Schema 3 added the stage and pairs: before it each batch was put
 * straight into ticks.  Schema 4 added state_at, which coinstore reads
 * to skip the look for a stale state (a schema 3 coinstddev would not
 * keep it); a store upgraded from 3 has none until coinstddev writes.
 * Schema 5 merges the stage a chunk of pairs a transaction, with
 * merging (stage.c): a schema 4 reader would miss the moved ticks of a
 * merge under way.  Schema 6 keeps the ticks as duplicates (series):
 * up to 5 they were a key each in ticks (pair NUL ts -> price), about
 * 77 bytes of page a tick against 16 to 24 now, and a window's scan
 * took a cursor step a tick where it now takes one a page.
 */
#define SCHEMA		6
#define MAPSIZE_DEFAULT	((size_t)256 << 20)
#define STATVAL_LEN	56
#define PRUNE_BATCH	10000
#define FAULTS_MAX	20
#define OPEN_TRIES	3

size_t
coin_idxkey_encode(int64_t ts, const char *pair, unsigned char *k)
{
	size_t n = strlen(pair);

	coin_be64_put(k, (uint64_t)ts);
	memcpy(k + 8, pair, n);
	return n + 8;
}

static uint64_t
dbits(double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	return u;
}

static double
bitsd(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

uint64_t
coin_stddev_code(double sd)
{
	uint64_t u;

	if (isnan(sd))
		return UINT64_MAX;
	if (sd == 0)
		sd = 0;		/* -0 and 0 are one value */
	u = dbits(sd);
	u = (u & (UINT64_C(1) << 63)) ? ~u : u | (UINT64_C(1) << 63);
	return ~u;
}

static double
stddev_uncode(uint64_t c)
{
	uint64_t u;

	if (c == UINT64_MAX)
		return NAN;
	u = ~c;
	u = (u & (UINT64_C(1) << 63)) ? u & ~(UINT64_C(1) << 63) : ~u;
	return bitsd(u);
}

size_t
coin_tickkey_encode(const char *pair, int64_t ts, unsigned char *k)
{
	size_t n = strlen(pair);

	memcpy(k, pair, n);
	k[n] = '\0';
	coin_be64_put(k + n + 1, (uint64_t)ts);
	return n + 9;
}

int
coin_tickkey_decode(const unsigned char *k, size_t len, char *pair,
    int64_t *ts)
{
	size_t n;

	if (len < 10 || len > COIN_TICKKEY_MAX || k[len - 9] != '\0')
		return COIN_ECORRUPT;
	n = len - 9;
	if (coin_pair_valid((const char *)k, n, NULL) != 0)
		return COIN_ECORRUPT;
	memcpy(pair, k, n);
	pair[n] = '\0';
	*ts = (int64_t)coin_be64_get(k + n + 1);
	return 0;
}

void
coin_tickval_encode(int64_t ts, double price, unsigned char *b)
{
	coin_be64_put(b, (uint64_t)ts);
	coin_be64_put(b + 8, dbits(price));
}

int
coin_tickval_decode(const unsigned char *b, int64_t *ts, double *price)
{
	*ts = (int64_t)coin_be64_get(b);
	*price = bitsd(coin_be64_get(b + 8));
	return isfinite(*price) && *price > 0 ? 0 : COIN_ECORRUPT;
}

/* One tick of a series: 0, or COIN_ECORRUPT for a bad size or price. */
static int
tickval_get(const MDB_val *d, int64_t *ts, double *price)
{
	if (d->mv_size != COIN_TICKVAL)
		return COIN_ECORRUPT;
	return coin_tickval_decode(d->mv_data, ts, price);
}

int
coin_series_seek(MDB_cursor *c, const char *pair, size_t plen, int64_t ts,
    int64_t *got, double *price)
{
	unsigned char b[8];
	MDB_val k = { plen, (void *)(uintptr_t)pair }, d = { 8, b };
	int rc;

	coin_be64_put(b, (uint64_t)ts);
	if ((rc = mdb_cursor_get(c, &k, &d, MDB_GET_BOTH_RANGE)) != 0)
		return rc;
	return tickval_get(&d, got, price);
}

int
coin_series_ends(MDB_cursor *c, const char *pair, size_t plen,
    int64_t *first, int64_t *last, size_t *n)
{
	MDB_val k = { plen, (void *)(uintptr_t)pair }, d;
	double p;
	int rc;

	if ((rc = mdb_cursor_get(c, &k, &d, MDB_SET)) != 0 ||
	    (rc = tickval_get(&d, first, &p)) != 0)
		return rc;
	if (n != NULL && (rc = mdb_cursor_count(c, n)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(c, &k, &d, MDB_LAST_DUP)) != 0)
		return rc;
	return tickval_get(&d, last, &p);
}

int
coin_series_range(MDB_cursor *c, const char *pair, size_t plen,
    int64_t from, int64_t to, coin_stage_fn *fn, void *arg)
{
	unsigned char b[8];
	const unsigned char *t;
	MDB_val k = { plen, (void *)(uintptr_t)pair }, d = { 8, b };
	size_t n, i;
	int64_t ts;
	double p;
	int rc;

	coin_be64_put(b, (uint64_t)from);
	if ((rc = mdb_cursor_get(c, &k, &d, MDB_GET_BOTH_RANGE)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	if ((rc = mdb_cursor_count(c, &n)) != 0)
		return rc;
	/* A page of them at a time (the whole page the first is on). */
	if (n > 1 && (rc = mdb_cursor_get(c, &k, &d, MDB_GET_MULTIPLE)) != 0)
		return rc;
	for (;;) {
		if (d.mv_size == 0 || d.mv_size % COIN_TICKVAL != 0)
			return COIN_ECORRUPT;
		t = d.mv_data;
		for (i = 0; i < d.mv_size; i += COIN_TICKVAL) {
			if (coin_tickval_decode(t + i, &ts, &p) != 0)
				return COIN_ECORRUPT;
			if (ts < from)
				continue;
			if (ts > to)
				return 0;
			if ((rc = fn(arg, ts, p)) != 0)
				return rc;
		}
		if (n == 1)
			return 0;
		if ((rc = mdb_cursor_get(c, &k, &d, MDB_NEXT_MULTIPLE)) != 0)
			return rc == MDB_NOTFOUND ? 0 : rc;
	}
}

int
coin_ticks_range(MDB_cursor *c, struct coin_stage *st, const char *pair,
    size_t plen, int64_t from, int64_t to, coin_stage_fn *fn, void *arg)
{
	int rc;

	/* Nothing after the bound is in the history: not even a look. */
	if (from <= coin_stage_bound(st) &&
	    (rc = coin_series_range(c, pair, plen, from, to, fn, arg)) != 0)
		return coin_store_mapcode(rc);
	return coin_stage_range(st, pair, plen, from, to, fn, arg);
}

int
coin_series_put(MDB_cursor *c, const char *pair, size_t plen, int64_t ts,
    double price, int64_t *newest)
{
	unsigned char b[COIN_TICKVAL];
	MDB_val k = { plen, (void *)(uintptr_t)pair }, d;
	int64_t got;
	double p;
	int rc, after = 1;

	coin_tickval_encode(ts, price, b);
	if (newest == NULL || ts <= *newest) {
		/* One of this time already: replaced. */
		rc = coin_series_seek(c, pair, plen, ts, &got, &p);
		if (rc == 0 && got == ts) {
			if (dbits(p) == dbits(price))
				return 0;
			if ((rc = mdb_cursor_del(c, 0)) != 0)
				return rc;
		} else if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		after = rc == MDB_NOTFOUND;
	}
	d.mv_data = b;
	d.mv_size = COIN_TICKVAL;
	/* Past every tick of the pair: the page splits as for an append. */
	if ((rc = mdb_cursor_put(c, &k, &d, after ? MDB_APPENDDUP : 0)) != 0)
		return rc;
	if (newest != NULL)
		*newest = after ? ts : INT64_MAX;
	return 0;
}

size_t
coin_statkey_encode(int64_t ts, double stddev, const char *pair,
    unsigned char *k)
{
	size_t n = strlen(pair);

	coin_be64_put(k, (uint64_t)ts);
	coin_be64_put(k + 8, coin_stddev_code(stddev));
	memcpy(k + 16, pair, n);
	return n + 16;
}

int
coin_statkey_decode(const unsigned char *k, size_t len, int64_t *ts,
    double *stddev, char *pair)
{
	size_t n;

	if (len < 17 || len > COIN_STATKEY_MAX)
		return COIN_ECORRUPT;
	n = len - 16;
	if (coin_pair_valid((const char *)k + 16, n, NULL) != 0)
		return COIN_ECORRUPT;
	*ts = (int64_t)coin_be64_get(k);
	*stddev = stddev_uncode(coin_be64_get(k + 8));
	memcpy(pair, k + 16, n);
	pair[n] = '\0';
	return 0;
}

static void
statval_encode(const struct coin_stat *s, unsigned char *v)
{
	coin_be64_put(v, (uint64_t)s->window);
	coin_be64_put(v + 8, (uint64_t)s->n);
	coin_be64_put(v + 16, dbits(s->mean));
	coin_be64_put(v + 24, dbits(s->stddev));
	coin_be64_put(v + 32, dbits(s->min));
	coin_be64_put(v + 40, dbits(s->max));
	coin_be64_put(v + 48, dbits(s->last));
}

static int
statval_decode(const MDB_val *v, struct coin_stat *s)
{
	const unsigned char *p = v->mv_data;

	if (v->mv_size != STATVAL_LEN)
		return COIN_ECORRUPT;
	s->window = (int64_t)coin_be64_get(p);
	s->n = (int64_t)coin_be64_get(p + 8);
	s->mean = bitsd(coin_be64_get(p + 16));
	s->stddev = bitsd(coin_be64_get(p + 24));
	s->min = bitsd(coin_be64_get(p + 32));
	s->max = bitsd(coin_be64_get(p + 40));
	s->last = bitsd(coin_be64_get(p + 48));
	if (s->window <= 0 || s->n < 0 || s->stddev < 0)
		return COIN_ECORRUPT;
	return 0;
}

int
coin_price_decode(const MDB_val *v, double *price)
{
	if (v->mv_size != 8)
		return COIN_ECORRUPT;
	*price = bitsd(coin_be64_get(v->mv_data));
	if (!isfinite(*price) || *price <= 0)
		return COIN_ECORRUPT;
	return 0;
}

/* LMDB's codes for a damaged file become ours. */
int
coin_store_mapcode(int rc)
{
	switch (rc) {
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_PAGE_NOTFOUND:
	case MDB_VERSION_MISMATCH:
	case MDB_BAD_VALSIZE:
		return COIN_ECORRUPT;
	}
	return rc;
}

/*
 * Map the store anew at size (0: as large as the file says).  When
 * that fails LMDB is left without a map: the handle is then broken for
 * good, every later call returns the error.
 */
static int
remap(struct coin_store *s, size_t size)
{
	int rc;

	if ((rc = mdb_env_set_mapsize(s->env, size)) != 0)
		s->broken = rc;
	return rc;
}

/*
 * Begin a transaction, adopting a map that another process grew and
 * clearing the reader slots of dead processes when the table is full.
 */
int
coin_store_txn(struct coin_store *s, unsigned flags, MDB_txn **txn)
{
	int rc, tries, dead;

	if (s->broken != 0)
		return s->broken;
	for (tries = 0; tries < 3; tries++) {
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc == MDB_MAP_RESIZED)
			rc = remap(s, 0);
		else if (rc == MDB_READERS_FULL)
			rc = mdb_reader_check(s->env, &dead);
		else
			return coin_store_mapcode(rc);
		if (rc != 0)
			return coin_store_mapcode(rc);
	}
	return MDB_READERS_FULL;
}

/*
 * After the open: a map of at least size, and of at least the size the
 * file records.  Asked for less than that, LMDB maps only what the file
 * holds, so that a write which needs one page more fails with
 * MDB_MAP_FULL after all its work, and is done again in a grown map:
 * every such write of every process, for a store that outgrew the
 * default.
 */
static int
map_at_least(struct coin_store *s, size_t size)
{
	MDB_envinfo info;
	int rc;

	if ((rc = remap(s, 0)) != 0 ||
	    (rc = mdb_env_info(s->env, &info)) != 0)
		return rc;
	return info.me_mapsize < size ? remap(s, size) : 0;
}

/* Double the map, after a write found it full; no transaction is open. */
static int
grow(struct coin_store *s)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_info(s->env, &info)) != 0)
		return rc;
	if (info.me_mapsize > SIZE_MAX / 2)
		return MDB_MAP_FULL;
	return remap(s, info.me_mapsize * 2);
}

static int
mkdirs(const char *path, mode_t last)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (i = 1; i < n; i++) {
		if (buf[i] != '/')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return errno;
		buf[i] = '/';
	}
	if (mkdir(buf, last) == -1 && errno != EEXIST)
		return errno;
	return 0;
}

int
coin_store_path(const char *path, char *buf, size_t bufsz)
{
	const char *env;
	int n;

	if (path != NULL && *path != '\0')
		n = snprintf(buf, bufsz, "%s", path);
	else if ((env = getenv("COIN_DB")) != NULL && *env != '\0')
		n = snprintf(buf, bufsz, "%s", env);
	else if ((env = getenv("XDG_DATA_HOME")) != NULL && *env == '/')
		n = snprintf(buf, bufsz, "%s/coin", env);
	else if ((env = getenv("HOME")) != NULL && *env == '/')
		n = snprintf(buf, bufsz, "%s/.local/share/coin", env);
	else
		return COIN_EUSAGE;
	if (n < 0 || (size_t)n >= bufsz)
		return COIN_EUSAGE;
	return 0;
}

static int
put_meta_ts(MDB_txn *txn, MDB_dbi meta, const char *key, int64_t ts)
{
	unsigned char b[8];
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v = { 8, b };

	coin_be64_put(b, (uint64_t)ts);
	return mdb_put(txn, meta, &k, &v, 0);
}

/*
 * Schema 1 to 2: statidx made anew, ts first, from the stats.
 */
static int
upgrade1(struct coin_store *s, MDB_txn *txn)
{
	unsigned char ib[8 + COIN_PAIR_MAX];
	MDB_val ik, iv;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_drop(txn, s->statidx, 0)) != 0 ||
	    (rc = mdb_cursor_open(txn, s->stats, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &ik, &iv, MDB_NEXT)) == 0) {
		if (ik.mv_size <= 16 || ik.mv_size > 16 + COIN_PAIR_MAX) {
			rc = COIN_ECORRUPT;
			break;
		}
		memcpy(ib, ik.mv_data, 8);
		memcpy(ib + 8, (unsigned char *)ik.mv_data + 16,
		    ik.mv_size - 16);
		iv.mv_data = (unsigned char *)ik.mv_data + 8;
		iv.mv_size = 8;
		ik.mv_data = ib;
		ik.mv_size -= 8;
		if ((rc = mdb_put(txn, s->statidx, &ik, &iv, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Schema 5 ticks: c onto the first key of the pair after pair. */
static int
next_pair(MDB_cursor *c, const char *pair, MDB_val *k, MDB_val *v)
{
	unsigned char kb[COIN_PAIR_MAX + 1];
	size_t n = strlen(pair);

	memcpy(kb, pair, n);
	kb[n] = 1;		/* after every "pair NUL ts" */
	k->mv_data = kb;
	k->mv_size = n + 1;
	return mdb_cursor_get(c, k, v, MDB_SET_RANGE);
}

/*
 * Schema 5 ticks: c onto the newest tick of pair (which has one), the
 * key before the next pair's first.  Its ts into *ts.
 */
static int
pair_newest(MDB_cursor *c, const char *pair, int64_t *ts)
{
	char got[COIN_PAIR_MAX + 1];
	MDB_val k, v;
	int rc;

	rc = next_pair(c, pair, &k, &v);
	if (rc == 0)
		rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc != 0)
		return rc;
	if (coin_tickkey_decode(k.mv_data, k.mv_size, got, ts) != 0 ||
	    strcmp(got, pair) != 0)
		return COIN_ECORRUPT;
	return 0;
}

/*
 * Schema 2 to 3: every pair of ticks into pairs, and merged set to the
 * newest tick (the stage is empty: every tick is in ticks).
 */
static int
upgrade2(struct coin_store *s, MDB_txn *txn, MDB_dbi ticks)
{
	char pair[COIN_PAIR_MAX + 1];
	MDB_cursor *c;
	MDB_val k, v, e = { 0, "" };
	int64_t ts, newest = 0;
	unsigned char b[8];
	int rc;

	if ((rc = mdb_cursor_open(txn, ticks, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = next_pair(c, pair, &k, &v)) {
		if (coin_tickkey_decode(k.mv_data, k.mv_size, pair,
		    &ts) != 0) {
			rc = COIN_ECORRUPT;
			break;
		}
		k.mv_data = pair;
		k.mv_size = strlen(pair);
		if ((rc = mdb_put(txn, s->pairs, &k, &e, 0)) != 0)
			break;
		if ((rc = pair_newest(c, pair, &ts)) != 0)
			break;
		if (ts > newest)
			newest = ts;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	coin_be64_put(b, (uint64_t)newest);
	k.mv_data = "merged";
	k.mv_size = 6;
	v.mv_data = b;
	v.mv_size = 8;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/*
 * Schema 5 to 6: the ticks of the one-key-a-tick database into series,
 * in key order (each pair's appended), and that database dropped.  One
 * transaction: a store of 14.4M ticks takes some seconds, and LMDB
 * writes the pages it fills out early once they are many.
 */
static int
upgrade5(struct coin_store *s, MDB_txn *txn, MDB_dbi ticks)
{
	char pair[COIN_PAIR_MAX + 1], last[COIN_PAIR_MAX + 1] = "";
	MDB_cursor *c, *sc;
	MDB_val k, v;
	int64_t ts, newest = INT64_MAX;
	double price;
	int rc;

	if ((rc = mdb_cursor_open(txn, ticks, &c)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->ticks, &sc)) != 0) {
		mdb_cursor_close(c);
		return rc;
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (coin_tickkey_decode(k.mv_data, k.mv_size, pair, &ts) != 0 ||
		    coin_price_decode(&v, &price) != 0) {
			rc = COIN_ECORRUPT;
			break;
		}
		if (strcmp(pair, last) != 0) {
			memcpy(last, pair, sizeof(last));
			newest = INT64_MAX;
		}
		if ((rc = coin_series_put(sc, pair, strlen(pair), ts, price,
		    &newest)) != 0)
			break;
	}
	mdb_cursor_close(sc);
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
	return mdb_drop(txn, ticks, 1);
}

/*
 * Bring a store of an older schema to this one, by a writer that opens
 * it (in a transaction of its own, which can grow the map).  Another
 * writer may have done it meanwhile.
 */
static int
upgrade(struct coin_store *s, MDB_txn *txn, void *arg)
{
	MDB_val k = { 6, "schema" }, v;
	char now = '0' + SCHEMA, was;
	MDB_dbi ticks;
	int rc;

	(void)arg;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) != 0)
		return rc == MDB_NOTFOUND ? COIN_ECORRUPT : rc;
	if (v.mv_size != 1)
		return COIN_ESCHEMA;
	was = *(char *)v.mv_data;
	if (was == now)
		return 0;
	/* The ticks of schema 5 and before (none: made empty, to go). */
	if ((rc = mdb_dbi_open(txn, "ticks", MDB_CREATE, &ticks)) != 0)
		return rc;
	if ((was == '1' && (rc = upgrade1(s, txn)) != 0) ||
	    (was <= '2' && (rc = upgrade2(s, txn, ticks)) != 0) ||
	    (rc = upgrade5(s, txn, ticks)) != 0)
		return rc;
	/*
	 * 3 to 4: state_at is kept from the next states written.  4 to 5:
	 * no merge is under way (no merging).
	 */
	v.mv_data = &now;
	return mdb_put(txn, s->meta, &k, &v, 0);
}

/*
 * Does the environment of txn hold nothing at all: no named database
 * (a writer killed before its first commit left it so)?
 */
static int
main_empty(MDB_txn *txn)
{
	MDB_dbi dbi;
	MDB_stat ms;

	return mdb_dbi_open(txn, NULL, 0, &dbi) == 0 &&
	    mdb_stat(txn, dbi, &ms) == 0 && ms.ms_entries == 0;
}

/* Open the named databases, making them in a new store. */
static int
open_dbs(struct coin_store *s)
{
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	unsigned create = s->rdonly ? 0 : MDB_CREATE;
	MDB_dbi old;
	char num[16], was;
	int rc;

	if ((rc = coin_store_txn(s, s->rdonly ? MDB_RDONLY : 0, &txn)) != 0)
		return rc;
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND && create) {
		if ((rc = mdb_dbi_open(txn, "meta", create, &s->meta)) != 0)
			goto fail;
		snprintf(num, sizeof(num), "%d", SCHEMA);
		v.mv_size = strlen(num);
		v.mv_data = num;
		if ((rc = mdb_put(txn, s->meta, &k, &v, 0)) != 0)
			goto fail;
	} else if (rc == MDB_NOTFOUND && main_empty(txn)) {
		/* Made by LMDB, but its first commit never came. */
		rc = COIN_ENOSTORE;
		goto fail;
	} else if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
		rc = COIN_ECORRUPT;	/* an LMDB store, but not ours */
		goto fail;
	} else if (rc != 0)
		goto fail;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) != 0) {
		rc = rc == MDB_NOTFOUND ? COIN_ECORRUPT : rc;
		goto fail;
	}
	was = v.mv_size == 1 ? *(char *)v.mv_data : 0;
	if (was < '1' || was > '0' + SCHEMA) {
		rc = COIN_ESCHEMA;
		goto fail;
	}
	if (was != '0' + SCHEMA && !create) {
		rc = COIN_EUPGRADE;
		goto fail;
	}
	if ((rc = mdb_dbi_open(txn, "series", create | MDB_DUPSORT |
	    MDB_DUPFIXED, &s->ticks)) != 0 ||
	    (rc = mdb_dbi_open(txn, "stats", create, &s->stats)) != 0 ||
	    (rc = mdb_dbi_open(txn, "statidx", create, &s->statidx)) != 0 ||
	    (rc = mdb_dbi_open(txn, "counts", create, &s->counts)) != 0 ||
	    (rc = mdb_dbi_open(txn, "state", create, &s->state)) != 0 ||
	    (rc = mdb_dbi_open(txn, "recent", create, &s->recent)) != 0 ||
	    (rc = mdb_dbi_open(txn, "pairs", create, &s->pairs)) != 0) {
		rc = rc == MDB_NOTFOUND ? COIN_ECORRUPT : rc;
		goto fail;
	}
	/* The queues of earlier versions now live in state: drop them. */
	if (create && (rc = mdb_dbi_open(txn, "minmax", 0, &old)) == 0)
		rc = mdb_drop(txn, old, 1);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	s->upgrade = was != '0' + SCHEMA;
	return coin_store_mapcode(mdb_txn_commit(txn));
fail:
	mdb_txn_abort(txn);
	return coin_store_mapcode(rc);
}

static void (*corrupt_fn)(const char *);

void
coin_store_on_corrupt(void (*fn)(const char *what))
{
	corrupt_fn = fn;
}

/* LMDB found a page that cannot be: the file is damaged. */
static void
on_assert(MDB_env *env, const char *msg)
{
	(void)env;
	if (corrupt_fn != NULL)
		corrupt_fn(msg);
}

int
coin_store_open_size(struct coin_store **sp, const char *path, int flags,
    size_t mapsize)
{
	struct coin_store *s;
	struct stat st;
	struct timespec nap;
	char data[PATH_MAX];
	int rc, dead, e, tries;

	if (snprintf(data, sizeof(data), "%s/data.mdb", path) >=
	    (int)sizeof(data))
		return ENAMETOOLONG;
	if (stat(data, &st) == -1) {
		if (errno != ENOENT)
			return (flags & COIN_STORE_CREATE) ? COIN_ECREATE :
			    errno;
		if (!(flags & COIN_STORE_CREATE) || (flags & COIN_STORE_RDONLY))
			return COIN_ENOSTORE;
		if ((e = mkdirs(path, 0700)) != 0) {
			errno = e;
			return COIN_ECREATE;
		}
	} else if (st.st_size == 0 && !(flags & COIN_STORE_CREATE))
		/*
		 * Empty: another process is creating the store this very
		 * moment (LMDB's lock makes that safe for a creator), or one
		 * died doing so.  Either way nothing is stored there yet.
		 */
		return COIN_ENOSTORE;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return COIN_ENOMEM;
	if ((s->dir = strdup(path)) == NULL) {
		free(s);
		return COIN_ENOMEM;
	}
	s->rdonly = (flags & COIN_STORE_RDONLY) != 0;
	for (tries = 0;; tries++) {
		if ((rc = mdb_env_create(&s->env)) != 0)
			goto fail;
		if ((rc = mdb_env_set_maxdbs(s->env, 10)) != 0 ||
		    (rc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
			goto fail;
		if (corrupt_fn != NULL &&
		    (rc = mdb_env_set_assert(s->env, on_assert)) != 0)
			goto fail;
		rc = mdb_env_open(s->env, path,
		    MDB_NOTLS | (s->rdonly ? MDB_RDONLY : 0), 0600);
		/*
		 * A process killed while it made the lock file leaves one
		 * that whoever waited on it finds empty or invalid, but that
		 * the next opener makes anew: so try again, a few times,
		 * before a data file that stays invalid is called corrupt.
		 */
		if ((rc != MDB_INVALID && rc != EINVAL) || tries == OPEN_TRIES)
			break;
		mdb_env_close(s->env);
		s->env = NULL;
		nap.tv_sec = 0;
		nap.tv_nsec = 20000000L * (tries + 1);
		nanosleep(&nap, NULL);
	}
	if (rc != 0 || (rc = map_at_least(s, mapsize)) != 0)
		goto fail;
	(void)mdb_reader_check(s->env, &dead);
	if ((rc = open_dbs(s)) != 0 ||
	    (s->upgrade && (rc = coin_store_write(s, upgrade, NULL)) != 0))
		goto fail;
	*sp = s;
	return 0;
fail:
	coin_store_close(s);
	return coin_store_mapcode(rc);
}

int
coin_store_open(struct coin_store **sp, const char *path, int flags)
{
	return coin_store_open_size(sp, path, flags, MAPSIZE_DEFAULT);
}

void
coin_store_close(struct coin_store *s)
{
	if (s == NULL)
		return;
	if (s->env != NULL)
		mdb_env_close(s->env);
	free(s->dir);
	free(s);
}

const char *
coin_store_dir(const struct coin_store *s)
{
	return s->dir;
}

/*
 * Run fn(s, txn, arg) in one write transaction and commit it, growing
 * the map and starting again whenever it is full.
 */
int
coin_store_write(struct coin_store *s, int (*fn)(struct coin_store *,
    MDB_txn *, void *), void *arg)
{
	MDB_txn *txn;
	int rc;

	if (s->rdonly)
		return EROFS;
	for (;;) {
		if ((rc = coin_store_txn(s, 0, &txn)) != 0)
			return rc;
		if ((rc = fn(s, txn, arg)) != 0)
			mdb_txn_abort(txn);
		else
			rc = mdb_txn_commit(txn);
		if (rc != MDB_MAP_FULL)
			return coin_store_mapcode(rc);
		if ((rc = grow(s)) != 0)
			return rc;
	}
}

int
coin_batch_new(struct coin_batch **bp)
{
	if ((*bp = calloc(1, sizeof(**bp))) == NULL)
		return COIN_ENOMEM;
	return 0;
}

void
coin_batch_free(struct coin_batch *b)
{
	if (b == NULL)
		return;
	free(b->e);
	free(b->arena);
	free(b->pairs);
	free(b->slot);
	free(b->order);
	free(b);
}

static int
grow_array(void **p, size_t *cap, size_t need, size_t size)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2 / size)
			return COIN_ENOMEM;
		ncap *= 2;
	}
	if (ncap == *cap)
		return 0;
	if ((np = realloc(*p, ncap * size)) == NULL)
		return COIN_ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static uint64_t
pair_hash(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n-- > 0)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

/* The name of e's pair in b (not NUL-terminated). */
static const char *
pend_name(const struct coin_batch *b, const struct coin_pend *e)
{
	return b->arena + b->pairs[e->pair].off;
}

/* The slot of the pair name[0..len) in b's hash: its own, or a free one. */
static size_t
pair_slot(const struct coin_batch *b, const char *name, size_t len)
{
	const struct coin_bpair *p;
	size_t j, mask = b->scap - 1;

	for (j = pair_hash(name, len) & mask; b->slot[j] != 0;
	    j = (j + 1) & mask) {
		p = &b->pairs[b->slot[j] - 1];
		if (p->len == len && memcmp(b->arena + p->off, name, len) == 0)
			break;
	}
	return j;
}

/* Hash b's pairs anew into its slots (when it has any). */
static void
pairs_rehash(struct coin_batch *b)
{
	const struct coin_bpair *p;
	size_t i;

	if (b->scap == 0)
		return;
	memset(b->slot, 0, b->scap * sizeof(*b->slot));
	for (i = 0; i < b->np; i++) {
		p = &b->pairs[i];
		b->slot[pair_slot(b, b->arena + p->off, p->len)] =
		    (uint32_t)i + 1;
	}
}

/* Room in the hash for one more pair: twice the slots, rehashed. */
static int
slots_room(struct coin_batch *b)
{
	size_t now = b->scap ? 2 * b->scap : 64;
	uint32_t *ns;

	if (2 * (b->np + 1) <= b->scap)
		return 0;
	if (now > SIZE_MAX / 2 / sizeof(*ns) ||
	    (ns = malloc(now * sizeof(*ns))) == NULL)
		return COIN_ENOMEM;
	free(b->slot);
	b->slot = ns;
	b->scap = now;
	pairs_rehash(b);
	return 0;
}

int
coin_batch_add(struct coin_batch *b, const struct coin_tick *t)
{
	size_t len = strlen(t->pair), j;
	struct coin_bpair *p;
	struct coin_pend *e;

	/* Indices are 32 bits, and so are the arena's offsets. */
	if (b->n >= UINT32_MAX - 1 || b->alen + len > UINT32_MAX ||
	    slots_room(b) ||
	    grow_array((void **)&b->e, &b->cap, b->n + 1, sizeof(*b->e)))
		return COIN_ENOMEM;
	j = pair_slot(b, t->pair, len);
	if (b->slot[j] == 0) {
		if (grow_array((void **)&b->arena, &b->acap, b->alen + len,
		    1) || grow_array((void **)&b->pairs, &b->pcap, b->np + 1,
		    sizeof(*b->pairs)))
			return COIN_ENOMEM;
		p = &b->pairs[b->np];
		p->off = (uint32_t)b->alen;
		p->len = (uint32_t)len;
		p->first = (uint32_t)b->n;
		memcpy(b->arena + b->alen, t->pair, len);
		b->alen += len;
		b->slot[j] = (uint32_t)++b->np;
	}
	e = &b->e[b->n++];
	e->pair = b->slot[j] - 1;
	e->ts = t->ts;
	e->price = t->price;
	return 0;
}

size_t
coin_batch_len(const struct coin_batch *b)
{
	return b->n;
}

void
coin_batch_get(const struct coin_batch *b, size_t i, struct coin_tick *t)
{
	const struct coin_pend *e = &b->e[i];
	const struct coin_bpair *p = &b->pairs[e->pair];

	memcpy(t->pair, b->arena + p->off, p->len);
	t->pair[p->len] = '\0';
	t->ts = e->ts;
	t->price = e->price;
}

void
coin_batch_truncate(struct coin_batch *b, size_t n)
{
	size_t np = b->np;

	if (n >= b->n)
		return;
	b->n = n;
	/* The pairs that came first after n are the last ones. */
	while (np > 0 && b->pairs[np - 1].first >= n)
		np--;
	if (np == b->np)
		return;
	b->alen = b->pairs[np].off;
	b->np = np;
	pairs_rehash(b);
}

/* qsort() has no context argument: the batch being sorted. */
static const struct coin_batch *sorting;

/* x's pair against y's, as LMDB orders keys: bytes, then length. */
static int
name_cmp(const struct coin_batch *b, const struct coin_pend *x,
    const struct coin_pend *y)
{
	const struct coin_bpair *p = &b->pairs[x->pair];
	const struct coin_bpair *q = &b->pairs[y->pair];
	int c;

	if (x->pair == y->pair)
		return 0;
	if ((c = memcmp(b->arena + p->off, b->arena + q->off,
	    p->len < q->len ? p->len : q->len)) != 0)
		return c;
	return p->len < q->len ? -1 : p->len > q->len;
}

/* Key order (pair, then ts), then arrival, so that the later wins. */
static int
pend_cmp(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct coin_pend *x = &sorting->e[i], *y = &sorting->e[j];
	int c;

	if ((c = name_cmp(sorting, x, y)) != 0)
		return c;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return i < j ? -1 : i > j;
}

int
coin_meta_ts(struct coin_store *s, MDB_txn *txn, const char *key,
    int64_t none, int64_t *ts)
{
	MDB_val k = { strlen(key), (void *)(uintptr_t)key }, v;
	int rc;

	*ts = none;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size != 8)
		return COIN_ECORRUPT;
	*ts = (int64_t)coin_be64_get(v.mv_data);
	return 0;
}

int
coin_state_at(struct coin_store *s, MDB_txn *txn, int64_t *at)
{
	return coin_meta_ts(s, txn, "state_at", INT64_MAX, at);
}

/* The time a state's value was computed for (after version, window). */
static int
state_time(const MDB_val *v, int64_t *at)
{
	if (v->mv_size < 17)
		return COIN_ECORRUPT;
	*at = (int64_t)coin_be64_get((unsigned char *)v->mv_data + 9);
	return 0;
}

int
coin_state_at_raise(struct coin_store *s, MDB_txn *txn, int64_t at)
{
	MDB_cursor *c;
	MDB_val k, v;
	int64_t old, t;
	int rc;

	if ((rc = coin_state_at(s, txn, &old)) != 0)
		return rc;
	if (old != INT64_MAX && at <= old)
		return 0;
	if (old == INT64_MAX) {
		/* Not kept yet: the newest of all the states, once. */
		if ((rc = mdb_cursor_open(txn, s->state, &c)) != 0)
			return rc;
		while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
			if (state_time(&v, &t) == 0 && t > at)
				at = t;
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			return rc;
	}
	return put_meta_ts(txn, s->meta, "state_at", at);
}

/*
 * Drop the running state of a pair that gets a tick at or before the
 * time the state was computed for: its sums do not hold that tick.
 * The state's value starts with a version byte, the window, then L.
 * No state is of a time after state_at: a tick after it needs no look.
 */
static int
drop_stale_state(struct coin_store *s, MDB_txn *txn, const char *pair,
    size_t len, int64_t ts, int64_t state_at)
{
	MDB_val k = { len, (void *)(uintptr_t)pair }, v;
	int64_t at;
	int rc;

	if (ts > state_at)
		return 0;
	if ((rc = mdb_get(txn, s->state, &k, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (state_time(&v, &at) == 0 && ts > at)
		return 0;
	return mdb_del(txn, s->state, &k, NULL);
}

/*
 * The distinct times after merged of b's ticks into t[], ascending, up
 * to COIN_STAGE_MAX + 1 of them (more: the stage cannot take b); how
 * many of b's ticks are after merged into *nafter, its newest ts into
 * *top.  Returns the number of times.
 */
static int
batch_times(const struct coin_batch *b, int64_t merged, int64_t *t,
    size_t *nafter, int64_t *top)
{
	size_t i;
	int n = 0, lo, hi, mid;
	int64_t ts;

	*nafter = 0;
	*top = INT64_MIN;
	for (i = 0; i < b->n; i++) {
		ts = b->e[i].ts;
		if (ts > *top)
			*top = ts;
		if (ts <= merged)
			continue;
		(*nafter)++;
		for (lo = 0, hi = n; lo < hi;) {
			mid = (lo + hi) / 2;
			if (t[mid] < ts)
				lo = mid + 1;
			else
				hi = mid;
		}
		if ((lo < n && t[lo] == ts) || n > COIN_STAGE_MAX)
			continue;
		memmove(t + lo + 1, t + lo, (size_t)(n - lo) * sizeof(*t));
		t[lo] = ts;
		n++;
	}
	return n;
}

/* How many of the n times t[] the stage does not hold yet. */
static int
new_times(const struct coin_stage *st, const int64_t *t, int n)
{
	int i, j = 0, k = 0;

	for (i = 0; i < n; i++) {
		while (j < st->n && st->run[j].ts < t[i])
			j++;
		if (j == st->n || st->run[j].ts != t[i])
			k++;
	}
	return k;
}

/*
 * All of b's ticks into ticks, in key order (b->order); each pair into
 * pairs, and its stale state out.
 */
static int
put_ticks(struct coin_store *s, MDB_txn *txn, const struct coin_batch *b)
{
	const struct coin_pend *e, *prev = NULL;
	MDB_cursor *c, *pc;
	MDB_val k, none = { 0, "" };
	int64_t state_at, newest = INT64_MAX;
	const char *pair;
	size_t i, len;
	int rc;

	if ((rc = coin_state_at(s, txn, &state_at)) != 0)
		return rc;
	/*
	 * One cursor for all: LMDB looks for a key on the cursor's page
	 * before it walks down from the root, and in key order the next
	 * key is mostly on that page.
	 */
	if ((rc = mdb_cursor_open(txn, s->ticks, &c)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->pairs, &pc)) != 0) {
		mdb_cursor_close(c);
		return rc;
	}
	for (i = 0; i < b->n; i++, prev = e) {
		e = &b->e[b->order[i]];
		pair = pend_name(b, e);
		len = b->pairs[e->pair].len;
		/* The first of each pair in key order is its oldest. */
		if (prev == NULL || prev->pair != e->pair) {
			if ((rc = drop_stale_state(s, txn, pair, len, e->ts,
			    state_at)) != 0)
				break;
			k.mv_data = (void *)(uintptr_t)pair;
			k.mv_size = len;
			rc = mdb_cursor_put(pc, &k, &none, MDB_NOOVERWRITE);
			if (rc != 0 && rc != MDB_KEYEXIST)
				break;
			newest = INT64_MAX;
		}
		if ((rc = coin_series_put(c, pair, len, e->ts, e->price,
		    &newest)) != 0)
			break;
	}
	mdb_cursor_close(pc);
	mdb_cursor_close(c);
	return rc;
}

/* Stage key order (ts, then pair), then arrival, so that the later wins. */
static int
time_cmp(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	const struct coin_pend *x = &sorting->e[i], *y = &sorting->e[j];
	int c;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	if ((c = name_cmp(sorting, x, y)) != 0)
		return c;
	return i < j ? -1 : i > j;
}

/*
 * b->order in stage key order.  A batch as coinfetch and a time-major
 * file give it, in that order already, is only looked at.
 */
static int
batch_sort_time(struct coin_batch *b)
{
	uint32_t i, one;
	int sorted = 1;

	if (grow_array((void **)&b->order, &b->ocap, b->n, sizeof(*b->order)))
		return COIN_ENOMEM;
	for (i = 0; i < b->n; i++) {
		b->order[i] = i;
		if (i > 0 && sorted) {
			one = i - 1;
			sorting = b;
			sorted = time_cmp(&one, &i) < 0;
			sorting = NULL;
		}
	}
	if (!sorted) {
		sorting = b;
		qsort(b->order, b->n, sizeof(*b->order), time_cmp);
		sorting = NULL;
	}
	return 0;
}

/*
 * Each pair of b once, with its oldest ts in b: into pairs, and its
 * stale state out, in the order of first arrival (a batch's order, as
 * it came).
 */
static int
first_of_pairs(struct coin_store *s, MDB_txn *txn, struct coin_batch *b)
{
	struct coin_bpair *p;
	MDB_cursor *pc;
	MDB_val k, none = { 0, "" };
	size_t i;
	int64_t state_at;
	int rc;

	if ((rc = coin_state_at(s, txn, &state_at)) != 0)
		return rc;
	for (i = 0; i < b->np; i++)
		b->pairs[i].oldest = INT64_MAX;
	for (i = 0; i < b->n; i++) {
		p = &b->pairs[b->e[i].pair];
		if (b->e[i].ts < p->oldest)
			p->oldest = b->e[i].ts;
	}
	if ((rc = mdb_cursor_open(txn, s->pairs, &pc)) != 0)
		return rc;
	for (i = 0; i < b->np && rc == 0; i++) {
		p = &b->pairs[i];
		if ((rc = drop_stale_state(s, txn, b->arena + p->off, p->len,
		    p->oldest, state_at)) != 0)
			break;
		k.mv_data = b->arena + p->off;
		k.mv_size = p->len;
		rc = mdb_cursor_put(pc, &k, &none, MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST)
			rc = 0;
	}
	mdb_cursor_close(pc);
	return rc;
}

/*
 * The last key of a database (any 0: it is empty), to tell the keys
 * that go past it (as LMDB orders keys: bytes, then the shorter
 * first), which MDB_APPEND puts without a search.
 */
struct tail_key {
	unsigned char	 b[COIN_STATKEY_MAX];
	size_t		 len;
	int		 any;
};

static int
tail_key_get(MDB_cursor *c, struct tail_key *t)
{
	MDB_val k, v;
	int rc;

	t->any = t->len = 0;
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_LAST)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (k.mv_size > sizeof(t->b))
		return COIN_ECORRUPT;
	memcpy(t->b, k.mv_data, k.mv_size);
	t->len = k.mv_size;
	t->any = 1;
	return 0;
}

/* Is k past t's key?  If so it becomes t's key (it is put next). */
static int
tail_key_past(struct tail_key *t, const MDB_val *k)
{
	size_t n = k->mv_size < t->len ? k->mv_size : t->len;
	int c;

	if (t->any) {
		c = memcmp(k->mv_data, t->b, n);
		if (c < 0 || (c == 0 && k->mv_size <= t->len))
			return 0;
	}
	memcpy(t->b, k->mv_data, k->mv_size);
	t->len = k->mv_size;
	t->any = 1;
	return 1;
}

/*
 * b's ticks, in stage key order: those after the merged time onto the
 * stage, the others (late ones) into ticks.
 */
static int
put_staged(struct coin_store *s, MDB_txn *txn, const struct coin_batch *b,
    int64_t merged)
{
	unsigned char kb[COIN_TICKKEY_MAX], vb[8];
	const struct coin_pend *e;
	struct tail_key last;
	MDB_cursor *c, *tc;
	MDB_val k, v;
	size_t i;
	int rc = 0;

	if ((rc = mdb_cursor_open(txn, s->ticks, &tc)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->recent, &c)) != 0) {
		mdb_cursor_close(tc);
		return rc;
	}
	/* Past the last staged key, a put appends: no search at all. */
	if ((rc = tail_key_get(c, &last)) != 0) {
		mdb_cursor_close(c);
		mdb_cursor_close(tc);
		return rc;
	}
	for (rc = 0, i = 0; i < b->n && rc == 0; i++) {
		e = &b->e[b->order[i]];
		coin_be64_put(vb, dbits(e->price));
		v.mv_data = vb;
		v.mv_size = 8;
		if (e->ts <= merged) {
			/* Late: into ticks, where its time is. */
			rc = coin_series_put(tc, pend_name(b, e),
			    b->pairs[e->pair].len, e->ts, e->price, NULL);
			continue;
		}
		coin_be64_put(kb, (uint64_t)e->ts);
		memcpy(kb + 8, pend_name(b, e), b->pairs[e->pair].len);
		k.mv_data = kb;
		k.mv_size = 8 + b->pairs[e->pair].len;
		/* The same key again (a batch may name one twice) is put. */
		rc = mdb_cursor_put(c, &k, &v, tail_key_past(&last, &k) ?
		    MDB_APPEND : 0);
	}
	mdb_cursor_close(c);
	mdb_cursor_close(tc);
	return rc;
}

struct put_arg {
	struct coin_batch *b;
	int		 inline_merge;	/* merge here, not in chunks first */
};

/*
 * A batch: its ticks after the merged time onto the stage, the others
 * into ticks.  A stage that the batch would overfill is merged first
 * (COIN_EMERGE: by coin_store_merge(), unless inline_merge), and so is
 * one whose merge is under way; a batch that alone would overfill it
 * goes into ticks whole, and the merged time moves up to its newest
 * tick (the stage is empty then).  So does one with no tick after the
 * merged time, in pair order.
 */
static int
put_batch_fn(struct coin_store *s, MDB_txn *txn, void *arg)
{
	struct put_arg *a = arg;
	struct coin_batch *b = a->b;
	struct coin_stage st;
	int64_t t[COIN_STAGE_MAX + 1], top;
	size_t nafter;
	int n, direct, rc, done;

	if ((rc = coin_stage_open(s, txn, &st)) != 0)
		return rc;
	n = batch_times(b, st.merged, t, &nafter, &top);
	if (st.m.ts != 0 || (st.n > 0 &&
	    coin_stage_full(&st, new_times(&st, t, n), nafter))) {
		rc = COIN_EMERGE;
		if (!a->inline_merge ||
		    (rc = coin_stage_merge(&st, SIZE_MAX, &done)) != 0)
			goto out;
		n = batch_times(b, st.merged, t, &nafter, &top);
	}
	/* Late ticks alone (a backfill behind the stage) go in by pair. */
	direct = nafter == 0 || coin_stage_full(&st, new_times(&st, t, n),
	    nafter);
	if (direct && top > st.merged &&
	    (rc = coin_stage_set_merged(&st, top)) != 0)
		goto out;
	if (direct)
		rc = (rc = coin_batch_sort(b)) != 0 ? rc :
		    put_ticks(s, txn, b);
	else if ((rc = first_of_pairs(s, txn, b)) == 0 &&
	    (rc = batch_sort_time(b)) == 0)
		rc = put_staged(s, txn, b, st.merged);
out:
	coin_stage_close(&st);
	return rc;
}

int
coin_batch_sort(struct coin_batch *b)
{
	uint32_t i;

	if (grow_array((void **)&b->order, &b->ocap, b->n, sizeof(*b->order)))
		return COIN_ENOMEM;
	for (i = 0; i < b->n; i++)
		b->order[i] = i;
	sorting = b;
	/* A batch in key order already (as coinstore echoes one) stays. */
	for (i = 1; i < b->n && pend_cmp(&b->order[i - 1], &b->order[i]) < 0;
	    i++)
		continue;
	if (i < b->n)
		qsort(b->order, b->n, sizeof(*b->order), pend_cmp);
	sorting = NULL;
	return 0;
}

static int
merge_fn(struct coin_store *s, MDB_txn *txn, void *arg)
{
	struct coin_stage st;
	int rc;

	if ((rc = coin_stage_open(s, txn, &st)) != 0)
		return rc;
	rc = coin_stage_merge(&st, COIN_MERGE_CHUNK, arg);
	coin_stage_close(&st);
	return rc;
}

/*
 * A chunk's commit need not be durable, only whole: the ticks are the
 * same before it and after.  So its meta page is not synced (LMDB keeps
 * the store consistent; a crash may undo the last chunks, and the next
 * writer merges them again), and the next durable commit syncs it.
 */
int
coin_store_merge(struct coin_store *s)
{
	int done = 0, rc, e;

	if ((rc = mdb_env_set_flags(s->env, MDB_NOMETASYNC, 1)) != 0)
		return rc;
	do
		rc = coin_store_write(s, merge_fn, &done);
	while (rc == 0 && !done);
	e = mdb_env_set_flags(s->env, MDB_NOMETASYNC, 0);
	return rc != 0 ? rc : e;
}

int
coin_store_put_batch(struct coin_store *s, struct coin_batch *b)
{
	struct put_arg a = { b, 0 };
	int rc, tries;

	if (b->n == 0)
		return 0;
	/*
	 * Puts in key order touch each page once (put_batch_fn sorts).
	 * A stage to merge is merged in chunks first; should other
	 * writers fill it again each time, the third try merges inline.
	 */
	for (tries = 0;; tries++) {
		a.inline_merge = tries == 2;
		rc = coin_store_write(s, put_batch_fn, &a);
		if (rc != COIN_EMERGE)
			return rc;
		if ((rc = coin_store_merge(s)) != 0)
			return rc;
	}
}

struct stats_arg {
	const struct coin_stat	*st;
	size_t			 n;
};

/* Add delta to the number of stats stored at ts. */
static int
count_add(struct coin_store *s, MDB_txn *txn, int64_t ts, int64_t delta)
{
	unsigned char kb[8], vb[8];
	MDB_val k = { 8, kb }, v;
	uint64_t n = 0;
	int rc;

	coin_be64_put(kb, (uint64_t)ts);
	if ((rc = mdb_get(txn, s->counts, &k, &v)) == 0 && v.mv_size == 8)
		n = coin_be64_get(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	n += (uint64_t)delta;
	if (n == 0) {
		rc = mdb_del(txn, s->counts, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	coin_be64_put(vb, n);
	v.mv_data = vb;
	v.mv_size = 8;
	return mdb_put(txn, s->counts, &k, &v, 0);
}

/*
 * The index and counts of n stats, in the order given (a batch's, by
 * pair: its index keys are side by side): a stat computed again drops
 * the old one's key from stats.  A key past the index's last (a new
 * ts) has no old one to look for, and is appended.
 */
static int
stats_index(struct coin_store *s, MDB_txn *txn, const struct coin_stat *st,
    size_t n)
{
	unsigned char ib[COIN_IDXKEY_MAX], ob[COIN_STATKEY_MAX], cb[8];
	struct tail_key last;
	MDB_cursor *ic;
	MDB_val ik, iv, ok;
	int64_t cur = 0, more = 0;
	size_t i;
	int rc, past;

	if ((rc = mdb_cursor_open(txn, s->statidx, &ic)) != 0)
		return rc;
	if ((rc = tail_key_get(ic, &last)) != 0) {
		mdb_cursor_close(ic);
		return rc;
	}
	for (i = 0; i < n; i++, st++) {
		ik.mv_data = ib;
		ik.mv_size = coin_idxkey_encode(st->ts, st->pair, ib);
		past = tail_key_past(&last, &ik);
		if (past)
			rc = MDB_NOTFOUND;
		else
			rc = mdb_cursor_get(ic, &ik, &iv, MDB_SET);
		if (rc == 0) {
			if (iv.mv_size != 8) {
				rc = COIN_ECORRUPT;
				break;
			}
			ok.mv_data = ob;
			ok.mv_size = coin_statkey_encode(st->ts,
			    stddev_uncode(coin_be64_get(iv.mv_data)),
			    st->pair, ob);
			rc = mdb_del(txn, s->stats, &ok, NULL);
			if (rc != 0 && rc != MDB_NOTFOUND)
				break;
		} else if (rc != MDB_NOTFOUND)
			break;
		else {
			/* Counted a run of one ts at a time. */
			if (more != 0 && st->ts != cur) {
				if ((rc = count_add(s, txn, cur, more)) != 0)
					break;
				more = 0;
			}
			cur = st->ts;
			more++;
		}
		ik.mv_data = ib;
		ik.mv_size = coin_idxkey_encode(st->ts, st->pair, ib);
		coin_be64_put(cb, coin_stddev_code(st->stddev));
		iv.mv_data = cb;
		iv.mv_size = 8;
		if ((rc = mdb_cursor_put(ic, &ik, &iv, past ? MDB_APPEND :
		    0)) != 0)
			break;
	}
	mdb_cursor_close(ic);
	if (rc == 0 || rc == MDB_NOTFOUND)
		rc = more != 0 ? count_add(s, txn, cur, more) : 0;
	return rc;
}

int
coin_store_stats_put(struct coin_store *s, MDB_txn *txn,
    const struct coin_stat *st, size_t n)
{
	unsigned char kb[COIN_STATKEY_MAX], vb[STATVAL_LEN];
	struct tail_key last;
	MDB_cursor *sc;
	MDB_val k, v;
	int64_t latest = 0;
	struct coin_sortkey one, *order = &one;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	k.mv_data = "latest";
	k.mv_size = 6;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) == 0 && v.mv_size == 8)
		latest = (int64_t)coin_be64_get(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = stats_index(s, txn, st, n)) != 0)
		return rc;
	/* The stats in key order, each next to the last one put. */
	if (n > 1 && (n > SIZE_MAX / sizeof(*order) ||
	    (order = malloc(n * sizeof(*order))) == NULL))
		return COIN_ENOMEM;
	/* Key order: ts (its sign bit flipped), stddev's code, pair. */
	for (i = 0; i < n; i++) {
		order[i].hi = (uint64_t)st[i].ts ^ (UINT64_C(1) << 63);
		order[i].lo = coin_stddev_code(st[i].stddev);
		order[i].name = st[i].pair;
		order[i].p = &st[i];
	}
	coin_sortkeys(order, n);
	if ((rc = mdb_cursor_open(txn, s->stats, &sc)) != 0) {
		if (order != &one)
			free(order);
		return rc;
	}
	if ((rc = tail_key_get(sc, &last)) != 0)
		n = 0;
	for (i = 0; i < n; i++) {
		const struct coin_stat *x = order[i].p;

		k.mv_data = kb;
		k.mv_size = coin_statkey_encode(x->ts, x->stddev, x->pair,
		    kb);
		statval_encode(x, vb);
		v.mv_data = vb;
		v.mv_size = sizeof(vb);
		/* Past the last key (a new ts): appended, no search. */
		if ((rc = mdb_cursor_put(sc, &k, &v, tail_key_past(&last,
		    &k) ? MDB_APPEND : 0)) != 0)
			break;
		if (x->ts > latest)
			latest = x->ts;
	}
	mdb_cursor_close(sc);
	if (order != &one)
		free(order);
	if (rc != 0)
		return rc;
	return put_meta_ts(txn, s->meta, "latest", latest);
}

static int
put_stats_fn(struct coin_store *s, MDB_txn *txn, void *arg)
{
	struct stats_arg *a = arg;
	size_t i;
	int rc = 0;

	/* One at a time: the caller's may name a (ts, pair) twice. */
	for (i = 0; i < a->n && rc == 0; i++)
		rc = coin_store_stats_put(s, txn, &a->st[i], 1);
	return rc;
}

int
coin_store_put_stats(struct coin_store *s, const struct coin_stat *st,
    size_t n)
{
	struct stats_arg a = { st, n };

	if (n == 0)
		return 0;
	return coin_store_write(s, put_stats_fn, &a);
}

/* A read transaction and a cursor on dbi, for one consistent walk. */
static int
read_begin(struct coin_store *s, MDB_dbi dbi, MDB_txn **txn, MDB_cursor **c)
{
	int rc;

	if ((rc = coin_store_txn(s, MDB_RDONLY, txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(*txn, dbi, c)) != 0) {
		mdb_txn_abort(*txn);
		return coin_store_mapcode(rc);
	}
	return 0;
}

static void
read_end(MDB_txn *txn, MDB_cursor *c)
{
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
}

struct emit {
	struct coin_tick	 t;
	coin_tick_fn		*fn;
	void			*arg;
};

static int
emit_staged(void *arg, int64_t ts, double price)
{
	struct emit *e = arg;

	e->t.ts = ts;
	e->t.price = price;
	return e->fn(&e->t, e->arg);
}

/*
 * Walk the ticks of one pair from since up to until: those in ticks,
 * then the staged ones.  With latest, only the newest.
 */
static int
walk_pair(MDB_cursor *c, struct coin_stage *st, const char *pair,
    int64_t since, int64_t until, int latest, coin_tick_fn *fn, void *arg)
{
	struct emit e;
	size_t plen = strlen(pair);
	MDB_val k = { plen, (void *)(uintptr_t)pair }, v;
	MDB_cursor_op op;
	int64_t first, last;
	int rc;

	e.fn = fn;
	e.arg = arg;
	memcpy(e.t.pair, pair, plen + 1);
	if (latest) {
		rc = coin_stage_latest(st, pair, plen, until, &e.t.ts,
		    &e.t.price);
		if (rc == 0)
			return e.t.ts < since ? 0 : fn(&e.t, arg);
		if (rc != MDB_NOTFOUND)
			return rc;
		/*
		 * The newest: the last (where ends() left c), or the one
		 * before the first after until.
		 */
		op = MDB_GET_CURRENT;
		rc = coin_series_ends(c, pair, plen, &first, &last, NULL);
		if (rc == 0 && last > until) {
			op = MDB_PREV_DUP;
			rc = coin_series_seek(c, pair, plen,
			    (int64_t)((uint64_t)until + 1), &e.t.ts,
			    &e.t.price);
		}
		if (rc == 0)
			rc = mdb_cursor_get(c, &k, &v, op);
		if (rc == 0)
			rc = tickval_get(&v, &e.t.ts, &e.t.price);
		if (rc == MDB_NOTFOUND)
			return 0;
		if (rc != 0)
			return coin_store_mapcode(rc);
		if (e.t.ts < since || e.t.ts > until)
			return 0;
		return fn(&e.t, arg);
	}
	return coin_ticks_range(c, st, pair, plen, since, until, emit_staged,
	    &e);
}

/*
 * A read transaction with a cursor on ticks, one on pairs and the
 * stage, for one consistent walk.
 */
struct reading {
	MDB_txn			*txn;
	MDB_cursor		*ticks;
	MDB_cursor		*pairs;
	struct coin_stage	 st;
};

static int
reading_begin(struct coin_store *s, struct reading *r)
{
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = coin_store_txn(s, MDB_RDONLY, &r->txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(r->txn, s->ticks, &r->ticks)) != 0 ||
	    (rc = mdb_cursor_open(r->txn, s->pairs, &r->pairs)) != 0 ||
	    (rc = coin_stage_open(s, r->txn, &r->st)) != 0) {
		if (r->ticks != NULL)
			mdb_cursor_close(r->ticks);
		if (r->pairs != NULL)
			mdb_cursor_close(r->pairs);
		mdb_txn_abort(r->txn);
		return coin_store_mapcode(rc);
	}
	return 0;
}

static void
reading_end(struct reading *r)
{
	coin_stage_close(&r->st);
	mdb_cursor_close(r->pairs);
	mdb_cursor_close(r->ticks);
	mdb_txn_abort(r->txn);
}

/* The next stored pair (the first with MDB_FIRST) into pair. */
static int
pairs_next(struct reading *r, MDB_cursor_op op, char *pair)
{
	MDB_val k, v;
	int rc;

	if ((rc = mdb_cursor_get(r->pairs, &k, &v, op)) != 0)
		return rc;
	if (coin_pair_valid(k.mv_data, k.mv_size, NULL) != 0)
		return COIN_ECORRUPT;
	memcpy(pair, k.mv_data, k.mv_size);
	pair[k.mv_size] = '\0';
	return 0;
}

int
coin_store_ticks(struct coin_store *s, const char *pair, int64_t since,
    int64_t until, int latest, coin_tick_fn *fn, void *arg)
{
	struct reading r;
	char cur[COIN_PAIR_MAX + 1];
	int rc;

	if (since < 0)
		since = 0;	/* keys hold ts unsigned */
	if (since > until)
		return 0;
	if ((rc = reading_begin(s, &r)) != 0)
		return rc;
	if (pair != NULL)
		rc = walk_pair(r.ticks, &r.st, pair, since, until, latest, fn,
		    arg);
	else
		for (rc = pairs_next(&r, MDB_FIRST, cur); rc == 0;
		    rc = pairs_next(&r, MDB_NEXT, cur))
			if ((rc = walk_pair(r.ticks, &r.st, cur, since, until,
			    latest, fn, arg)) != 0)
				break;
	reading_end(&r);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

static int
count_staged(void *arg, int64_t ts, double price)
{
	struct coin_pairinfo *p = arg;

	(void)price;
	if (p->n++ == 0)
		p->first = ts;
	p->last = ts;
	return 0;
}

/* Summarise p->pair: its count, first and last ts (n 0: none). */
static int
pair_info(struct reading *r, struct coin_pairinfo *p)
{
	size_t n;
	int rc;

	p->n = 0;
	p->first = p->last = 0;
	rc = coin_series_ends(r->ticks, p->pair, strlen(p->pair), &p->first,
	    &p->last, &n);
	if (rc == 0)
		p->n = n;
	else if (rc != MDB_NOTFOUND)
		return coin_store_mapcode(rc);
	return coin_stage_range(&r->st, p->pair, strlen(p->pair), 0,
	    INT64_MAX, count_staged, p);
}

int
coin_store_pairs(struct coin_store *s, coin_pair_fn *fn, void *arg)
{
	struct coin_pairinfo p;
	struct reading r;
	int rc;

	if ((rc = reading_begin(s, &r)) != 0)
		return rc;
	for (rc = pairs_next(&r, MDB_FIRST, p.pair); rc == 0;
	    rc = pairs_next(&r, MDB_NEXT, p.pair))
		if ((rc = pair_info(&r, &p)) != 0 ||
		    (p.n > 0 && (rc = fn(&p, arg)) != 0))
			break;
	reading_end(&r);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

int
coin_store_stats_at(struct coin_store *s, int64_t ts, coin_stat_fn *fn,
    void *arg)
{
	unsigned char kb[8];
	struct coin_stat st;
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	double sd;
	int rc;

	if ((rc = read_begin(s, s->stats, &txn, &c)) != 0)
		return rc;
	coin_be64_put(kb, (uint64_t)ts);
	k.mv_data = kb;
	k.mv_size = 8;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (coin_statkey_decode(k.mv_data, k.mv_size, &st.ts, &sd,
		    st.pair) != 0 || statval_decode(&v, &st) != 0) {
			rc = COIN_ECORRUPT;
			break;
		}
		if (st.ts != ts)
			break;
		st.ts = ts;
		if ((rc = fn(&st, arg)) != 0)
			break;
	}
	read_end(txn, c);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

int
coin_store_stats_count(struct coin_store *s, int64_t ts, uint64_t *n)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	MDB_txn *txn;
	int rc;

	*n = 0;
	if ((rc = coin_store_txn(s, MDB_RDONLY, &txn)) != 0)
		return rc;
	coin_be64_put(kb, (uint64_t)ts);
	rc = mdb_get(txn, s->counts, &k, &v);
	if (rc == 0 && v.mv_size != 8)
		rc = COIN_ECORRUPT;
	if (rc == 0)
		*n = coin_be64_get(v.mv_data);
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

int
coin_store_stat_rank(struct coin_store *s, const char *pair, int64_t ts,
    struct coin_stat *st, uint64_t *rank)
{
	unsigned char ib[COIN_IDXKEY_MAX], kb[COIN_STATKEY_MAX];
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	size_t klen;
	double sd;
	int rc;

	if ((rc = read_begin(s, s->stats, &txn, &c)) != 0)
		return rc;
	k.mv_data = ib;
	k.mv_size = coin_idxkey_encode(ts, pair, ib);
	if ((rc = mdb_get(txn, s->statidx, &k, &v)) != 0)
		goto out;
	if (v.mv_size != 8) {
		rc = COIN_ECORRUPT;
		goto out;
	}
	klen = coin_statkey_encode(ts,
	    stddev_uncode(coin_be64_get(v.mv_data)), pair, kb);
	/* Count the ranking from its start down to pair's key. */
	coin_be64_put(ib, (uint64_t)ts);
	k.mv_data = ib;
	k.mv_size = 8;
	*rank = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 8 || memcmp(k.mv_data, kb, 8) != 0) {
			rc = COIN_ECORRUPT;	/* statidx names no stat */
			break;
		}
		++*rank;
		if (k.mv_size == klen && memcmp(k.mv_data, kb, klen) == 0)
			break;
	}
	if (rc == 0 && (coin_statkey_decode(k.mv_data, k.mv_size, &st->ts,
	    &sd, st->pair) != 0 || statval_decode(&v, st) != 0))
		rc = COIN_ECORRUPT;
	if (rc == MDB_NOTFOUND)
		rc = COIN_ECORRUPT;
out:
	read_end(txn, c);
	return rc == MDB_NOTFOUND ? rc : coin_store_mapcode(rc);
}

int
coin_store_stat_times(struct coin_store *s, const char *pair, int64_t since,
    int64_t until, int (*fn)(int64_t, void *), void *arg)
{
	unsigned char kb[8], ib[COIN_IDXKEY_MAX];
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v, ik, iv;
	int64_t ts;
	int rc;

	if (since < 0)
		since = 0;
	/* The stat times in counts, and pair's entry at each. */
	if ((rc = read_begin(s, s->counts, &txn, &c)) != 0)
		return rc;
	coin_be64_put(kb, (uint64_t)since);
	k.mv_data = kb;
	k.mv_size = 8;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8) {
			rc = COIN_ECORRUPT;
			break;
		}
		if ((ts = (int64_t)coin_be64_get(k.mv_data)) > until)
			break;
		ik.mv_data = ib;
		ik.mv_size = coin_idxkey_encode(ts, pair, ib);
		if ((rc = mdb_get(txn, s->statidx, &ik, &iv)) == MDB_NOTFOUND)
			continue;
		if (rc != 0 || (rc = fn(ts, arg)) != 0)
			break;
	}
	read_end(txn, c);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

int
coin_store_stat_time(struct coin_store *s, int64_t at, int64_t *ts)
{
	unsigned char kb[8];
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	if ((rc = read_begin(s, s->stats, &txn, &c)) != 0)
		return rc;
	if (at == INT64_MAX) {
		k.mv_data = "latest";
		k.mv_size = 6;
		rc = mdb_get(txn, s->meta, &k, &v);
		if (rc == 0 && v.mv_size != 8)
			rc = COIN_ECORRUPT;
		if (rc == 0)
			*ts = (int64_t)coin_be64_get(v.mv_data);
	} else {
		coin_be64_put(kb, (uint64_t)at + 1);
		k.mv_data = kb;
		k.mv_size = 8;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
		if (rc == 0)
			rc = mdb_cursor_get(c, &k, &v, MDB_PREV);
		else if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
		if (rc == 0 && k.mv_size < 8)
			rc = COIN_ECORRUPT;
		if (rc == 0)
			*ts = (int64_t)coin_be64_get(k.mv_data);
	}
	read_end(txn, c);
	return coin_store_mapcode(rc);
}

/* Count the distinct ts prefixes of stats: one seek each. */
static int
count_stat_times(MDB_cursor *c, uint64_t *n)
{
	unsigned char kb[8];
	MDB_val k, v;
	uint64_t ts;
	int rc;

	*n = 0;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE)) {
		if (k.mv_size < 8)
			return COIN_ECORRUPT;
		ts = coin_be64_get(k.mv_data);
		(*n)++;
		if (ts == UINT64_MAX)
			return 0;
		coin_be64_put(kb, ts + 1);
		k.mv_data = kb;
		k.mv_size = 8;
	}
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

/* The oldest and the newest staged times, 0 when none are staged. */
static int
staged_span(struct coin_store *s, MDB_txn *txn, int64_t *first,
    int64_t *last)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	*first = *last = 0;
	if ((rc = mdb_cursor_open(txn, s->recent, &c)) != 0)
		return rc;
	if ((rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) == 0 &&
	    k.mv_size >= 8) {
		*first = (int64_t)coin_be64_get(k.mv_data);
		if ((rc = mdb_cursor_get(c, &k, &v, MDB_LAST)) == 0 &&
		    k.mv_size >= 8)
			*last = (int64_t)coin_be64_get(k.mv_data);
	}
	mdb_cursor_close(c);
	if (rc == 0 && k.mv_size < 8)
		return COIN_ECORRUPT;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
info_fill(struct coin_store *s, MDB_txn *txn, struct coin_storeinfo *info)
{
	MDB_envinfo ei;
	MDB_stat st;
	MDB_cursor *c;
	MDB_val k, v;
	struct coin_merging m;
	int64_t first, last;
	int rc;

	memset(info, 0, sizeof(*info));
	info->schema = SCHEMA;
	if ((rc = mdb_env_info(s->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(s->env, &st)) != 0)
		return rc;
	info->map_size = ei.me_mapsize;
	info->page_size = st.ms_psize;
	info->map_used = (uint64_t)(ei.me_last_pgno + 1) * st.ms_psize;
	if ((rc = mdb_stat(txn, s->ticks, &st)) != 0)
		return rc;
	info->ticks = st.ms_entries;
	if ((rc = mdb_stat(txn, s->recent, &st)) != 0)
		return rc;
	/* A merge under way has copies of the ticks it moved staged. */
	if ((rc = coin_stage_merging(s, txn, &m)) != 0 &&
	    rc != COIN_ECORRUPT)
		return rc;
	if (rc != 0 || m.moved > st.ms_entries)
		m.moved = 0;
	info->ticks += st.ms_entries - m.moved;
	info->staged = st.ms_entries - m.moved;
	if ((rc = mdb_stat(txn, s->pairs, &st)) != 0)
		return rc;
	info->pairs = st.ms_entries;
	if ((rc = mdb_stat(txn, s->stats, &st)) != 0)
		return rc;
	info->stats = st.ms_entries;
	k.mv_data = "latest";
	k.mv_size = 6;
	if ((rc = mdb_get(txn, s->meta, &k, &v)) == 0 && v.mv_size == 8)
		info->latest = (int64_t)coin_be64_get(v.mv_data);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->stats, &c)) != 0)
		return rc;
	rc = count_stat_times(c, &info->stat_times);
	mdb_cursor_close(c);
	if (rc != 0)
		return rc;
	if ((rc = staged_span(s, txn, &first, &last)) != 0)
		return rc;
	info->first_ts = first;
	info->last_ts = last;
	if ((rc = mdb_cursor_open(txn, s->ticks, &c)) != 0)
		return rc;
	/* Each pair: its first tick and its last. */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT_NODUP)) {
		if ((rc = coin_series_ends(c, k.mv_data, k.mv_size, &first,
		    &last, NULL)) != 0)
			break;
		if (info->first_ts == 0 || first < info->first_ts)
			info->first_ts = first;
		if (last > info->last_ts)
			info->last_ts = last;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

int
coin_store_info(struct coin_store *s, struct coin_storeinfo *info)
{
	MDB_txn *txn;
	int rc;

	if ((rc = coin_store_txn(s, MDB_RDONLY, &txn)) != 0)
		return rc;
	rc = info_fill(s, txn, info);
	mdb_txn_abort(txn);
	return rc;
}

struct checker {
	coin_fault_fn	*fn;
	void		*arg;
	uint64_t	 faults;
};

static void fault(struct checker *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
fault(struct checker *ck, const char *fmt, ...)
{
	char buf[COIN_ERRBUF];
	va_list ap;

	if (++ck->faults > FAULTS_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (ck->fn != NULL)
		ck->fn(buf, ck->arg);
}

/* Is pair (len bytes) in pairs?  0 yes, MDB_NOTFOUND, or an error. */
static int
pair_known(struct coin_store *s, MDB_txn *txn, const char *pair,
    size_t len)
{
	MDB_val k = { len, (void *)(uintptr_t)pair }, v;

	return mdb_get(txn, s->pairs, &k, &v);
}

/*
 * The ticks: keys, prices, times up to merged, or for the pairs a merge
 * under way (m) has moved up to its time, and their pairs listed.
 */
static int
check_ticks(struct coin_store *s, MDB_txn *txn, int64_t merged,
    const struct coin_merging *m, struct checker *ck)
{
	char last[COIN_PAIR_MAX + 1] = "";
	struct coin_tick t;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t i = 0;
	int rc, e, bad;

	if ((rc = mdb_cursor_open(txn, s->ticks, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		i++;
		if (coin_pair_valid(k.mv_data, k.mv_size, NULL) != 0) {
			fault(ck, "ticks: entry %llu: bad key",
			    (unsigned long long)i);
			continue;
		}
		memcpy(t.pair, k.mv_data, k.mv_size);
		t.pair[k.mv_size] = '\0';
		if (v.mv_size != COIN_TICKVAL) {
			fault(ck, "ticks: %s: entry %llu: bad size", t.pair,
			    (unsigned long long)i);
			continue;
		}
		bad = coin_tickval_decode(v.mv_data, &t.ts, &t.price) != 0;
		if (t.ts < COIN_TS_MIN)
			fault(ck, "ticks: %s: ts %lld before 2009", t.pair,
			    (long long)t.ts);
		else if (bad)
			fault(ck, "ticks: %s at %lld: bad price", t.pair,
			    (long long)t.ts);
		else if (t.ts > merged && (t.ts > m->ts ||
		    !coin_stage_moved(m, t.pair, strlen(t.pair))))
			fault(ck, "ticks: %s at %lld: after the merged time "
			    "%lld", t.pair, (long long)t.ts, (long long)merged);
		if (strcmp(t.pair, last) == 0)
			continue;
		memcpy(last, t.pair, sizeof(last));
		if ((e = pair_known(s, txn, t.pair, strlen(t.pair))) ==
		    MDB_NOTFOUND)
			fault(ck, "pairs: %s has ticks but is not listed",
			    t.pair);
		else if (e != 0) {
			rc = e;
			break;
		}
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

/*
 * The stage: keys, prices, times after merged (and up to the time of a
 * merge under way, m), their pairs listed, and as many of the pairs m
 * moved as it says.
 */
static int
check_stage(struct coin_store *s, MDB_txn *txn, int64_t merged,
    const struct coin_merging *m, struct checker *ck)
{
	MDB_cursor *c;
	MDB_val k, v;
	double price;
	uint64_t i = 0, moved = 0;
	int64_t ts, prev = 0;
	int rc, e, times = 0;

	if ((rc = mdb_cursor_open(txn, s->recent, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		i++;
		if (k.mv_size < 9 || coin_pair_valid((char *)k.mv_data + 8,
		    k.mv_size - 8, NULL) != 0) {
			fault(ck, "recent: entry %llu: bad key",
			    (unsigned long long)i);
			continue;
		}
		ts = (int64_t)coin_be64_get(k.mv_data);
		if (ts != prev)
			times++;
		prev = ts;
		if (ts <= merged)
			fault(ck, "recent: %.*s at %lld: at or before the "
			    "merged time %lld", (int)(k.mv_size - 8),
			    (char *)k.mv_data + 8, (long long)ts,
			    (long long)merged);
		else if (m->ts != 0 && ts > m->ts)
			fault(ck, "recent: %.*s at %lld: after the time of "
			    "the merge under way %lld", (int)(k.mv_size - 8),
			    (char *)k.mv_data + 8, (long long)ts,
			    (long long)m->ts);
		else if (coin_price_decode(&v, &price) != 0)
			fault(ck, "recent: %.*s at %lld: bad price",
			    (int)(k.mv_size - 8), (char *)k.mv_data + 8,
			    (long long)ts);
		moved += coin_stage_moved(m, (char *)k.mv_data + 8,
		    k.mv_size - 8);
		if ((e = pair_known(s, txn, (char *)k.mv_data + 8,
		    k.mv_size - 8)) == MDB_NOTFOUND)
			fault(ck, "pairs: %.*s has staged ticks but is not "
			    "listed", (int)(k.mv_size - 8),
			    (char *)k.mv_data + 8);
		else if (e != 0) {
			rc = e;
			break;
		}
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return coin_store_mapcode(rc);
	if (times > COIN_STAGE_MAX)
		fault(ck, "recent: %d times staged, more than %d", times,
		    COIN_STAGE_MAX);
	if (moved != m->moved)
		fault(ck, "meta: merging says %llu staged ticks moved, the "
		    "stage has %llu of the pairs moved",
		    (unsigned long long)m->moved, (unsigned long long)moved);
	return 0;
}

static int
staged_any(void *arg, int64_t ts, double price)
{
	(void)ts;
	(void)price;
	*(int *)arg = 1;
	return 0;
}

/* Every listed pair has a tick, in ticks or staged. */
static int
check_pairs(struct coin_store *s, MDB_txn *txn, struct checker *ck)
{
	struct coin_stage st;
	char pair[COIN_PAIR_MAX + 1];
	MDB_cursor *pc, *tc;
	MDB_val k, v, tk, tv;
	int rc, e, any;

	if ((rc = coin_stage_open(s, txn, &st)) == COIN_ECORRUPT)
		return 0;		/* check_stage says why */
	if (rc != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->pairs, &pc)) != 0) {
		coin_stage_close(&st);
		return rc;
	}
	if ((rc = mdb_cursor_open(txn, s->ticks, &tc)) != 0) {
		mdb_cursor_close(pc);
		coin_stage_close(&st);
		return rc;
	}
	for (rc = mdb_cursor_get(pc, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(pc, &k, &v, MDB_NEXT)) {
		if (coin_pair_valid(k.mv_data, k.mv_size, NULL) != 0) {
			fault(ck, "pairs: a bad pair");
			continue;
		}
		memcpy(pair, k.mv_data, k.mv_size);
		pair[k.mv_size] = '\0';
		tk.mv_data = pair;
		tk.mv_size = k.mv_size;
		e = mdb_cursor_get(tc, &tk, &tv, MDB_SET);
		if (e != 0 && e != MDB_NOTFOUND) {
			rc = e;
			break;
		}
		any = e == 0;
		if (!any && (e = coin_stage_range(&st, pair, k.mv_size, 0,
		    INT64_MAX, staged_any, &any)) != 0 && e != COIN_ECORRUPT) {
			rc = e;
			break;
		}
		if (!any)
			fault(ck, "pairs: %s is listed but has no tick", pair);
	}
	mdb_cursor_close(tc);
	mdb_cursor_close(pc);
	coin_stage_close(&st);
	return rc == MDB_NOTFOUND ? 0 : coin_store_mapcode(rc);
}

/*
 * No state is of a time after state_at (where it is kept), or coinstore
 * would keep a state that a late tick made stale.
 */
static int
check_state(struct coin_store *s, MDB_txn *txn, struct checker *ck)
{
	MDB_cursor *c;
	MDB_val k, v;
	int64_t max, at;
	int rc;

	if ((rc = coin_state_at(s, txn, &max)) == COIN_ECORRUPT) {
		fault(ck, "meta: state_at is not a time");
		return 0;
	}
	if (rc != 0 || max == INT64_MAX)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->state, &c)) != 0)
		return rc;
	while ((rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) == 0)
		if (state_time(&v, &at) == 0 && at > max)
			fault(ck, "state: %.*s: of %lld, after state_at %lld",
			    (int)k.mv_size, (char *)k.mv_data, (long long)at,
			    (long long)max);
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Compare the stored count of stats at ts with the n found. */
static int
check_count(struct coin_store *s, MDB_txn *txn, struct checker *ck,
    int64_t ts, uint64_t n)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	coin_be64_put(kb, (uint64_t)ts);
	if ((rc = mdb_get(txn, s->counts, &k, &v)) != 0 &&
	    rc != MDB_NOTFOUND)
		return rc;
	if (rc != 0 || v.mv_size != 8 || coin_be64_get(v.mv_data) != n)
		fault(ck, "counts: %lld: does not count its %llu stats",
		    (long long)ts, (unsigned long long)n);
	return 0;
}

static int
check_stats(struct coin_store *s, MDB_txn *txn, struct checker *ck,
    int64_t *maxts)
{
	unsigned char ib[COIN_TICKKEY_MAX];
	struct coin_stat st;
	MDB_cursor *c;
	MDB_val k, v, ik, iv;
	uint64_t i = 0, at_ts = 0, times = 0;
	int64_t cur = -1;
	double sd;
	int rc, e;

	*maxts = 0;
	if ((rc = mdb_cursor_open(txn, s->stats, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		i++;
		if (coin_statkey_decode(k.mv_data, k.mv_size, &st.ts, &sd,
		    st.pair) != 0) {
			fault(ck, "stats: entry %llu: bad key",
			    (unsigned long long)i);
			continue;
		}
		if (st.ts > *maxts)
			*maxts = st.ts;
		if (st.ts != cur) {
			if (cur != -1 && (e = check_count(s, txn, ck, cur,
			    at_ts)) != 0) {
				rc = e;
				break;
			}
			cur = st.ts;
			at_ts = 0;
			times++;
		}
		at_ts++;
		if (statval_decode(&v, &st) != 0 ||
		    coin_stddev_code(sd) != coin_stddev_code(st.stddev)) {
			fault(ck, "stats: %s at %lld: bad value", st.pair,
			    (long long)st.ts);
			continue;
		}
		ik.mv_data = ib;
		ik.mv_size = coin_idxkey_encode(st.ts, st.pair, ib);
		e = mdb_get(txn, s->statidx, &ik, &iv);
		if (e != 0 && e != MDB_NOTFOUND) {
			rc = e;
			break;
		}
		if (e == MDB_NOTFOUND || iv.mv_size != 8 ||
		    coin_be64_get(iv.mv_data) != coin_stddev_code(sd))
			fault(ck, "stats: %s at %lld: index disagrees",
			    st.pair, (long long)st.ts);
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return coin_store_mapcode(rc);
	if (cur != -1 && (rc = check_count(s, txn, ck, cur, at_ts)) != 0)
		return rc;
	/* Every index entry names a stat: as many entries, all found. */
	{
		MDB_stat a, b, n;

		if ((rc = mdb_stat(txn, s->stats, &a)) != 0 ||
		    (rc = mdb_stat(txn, s->statidx, &b)) != 0 ||
		    (rc = mdb_stat(txn, s->counts, &n)) != 0)
			return rc;
		if (a.ms_entries != b.ms_entries)
			fault(ck, "statidx: %zu entries for %zu stats",
			    b.ms_entries, a.ms_entries);
		if (n.ms_entries != times)
			fault(ck, "counts: %zu entries for %llu stat times",
			    n.ms_entries, (unsigned long long)times);
	}
	return 0;
}

int
coin_store_check(struct coin_store *s, coin_fault_fn *fn, void *arg,
    struct coin_storeinfo *info)
{
	struct checker ck = { fn, arg, 0 };
	MDB_txn *txn;
	struct coin_merging m;
	int64_t maxts, merged;
	int rc;

	if ((rc = coin_store_txn(s, MDB_RDONLY, &txn)) != 0)
		return rc;
	if ((rc = info_fill(s, txn, info)) != 0 && rc != COIN_ECORRUPT)
		goto out;
	if (rc == COIN_ECORRUPT)
		fault(&ck, "ticks: a key does not decode");
	if ((rc = coin_stage_merged(s, txn, &merged)) == COIN_ECORRUPT) {
		fault(&ck, "meta: merged is not a time");
		merged = INT64_MAX;
	} else if (rc != 0)
		goto out;
	if ((rc = coin_stage_merging(s, txn, &m)) == COIN_ECORRUPT) {
		fault(&ck, "meta: merging is not a merge under way");
		memset(&m, 0, sizeof(m));
	} else if (rc != 0)
		goto out;
	else if (m.ts != 0 && m.ts <= merged)
		fault(&ck, "meta: merging %lld is not after merged %lld",
		    (long long)m.ts, (long long)merged);
	if ((rc = check_ticks(s, txn, merged, &m, &ck)) != 0 ||
	    (rc = check_stage(s, txn, merged, &m, &ck)) != 0 ||
	    (rc = check_pairs(s, txn, &ck)) != 0 ||
	    (rc = check_state(s, txn, &ck)) != 0 ||
	    (rc = check_stats(s, txn, &ck, &maxts)) != 0)
		goto out;
	if (info->stats > 0 && info->latest != maxts)
		fault(&ck, "meta: latest is %lld, newest stats are at %lld",
		    (long long)info->latest, (long long)maxts);
	if (ck.faults > FAULTS_MAX)
		fault(&ck, "and %llu faults more",
		    (unsigned long long)(ck.faults - FAULTS_MAX));
out:
	mdb_txn_abort(txn);
	if (rc == 0 && ck.faults > 0)
		rc = COIN_ECORRUPT;
	return coin_store_mapcode(rc);
}

/*
 * After the ticks of pair before the cutoff went: if none is left, in
 * ticks or staged, the pair goes from pairs too.
 */
static int
prune_pair_done(struct coin_store *s, MDB_txn *txn, struct coin_stage *st,
    const char *pair)
{
	size_t plen = strlen(pair);
	MDB_val k = { plen, (void *)(uintptr_t)pair }, v;
	int rc, any;

	rc = mdb_get(txn, s->ticks, &k, &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	any = rc == 0;
	if (!any && (rc = coin_stage_range(st, pair, plen, 0, INT64_MAX,
	    staged_any, &any)) != 0)
		return rc;
	if (any)
		return 0;
	rc = mdb_del(txn, s->pairs, &k, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Delete pair's ticks whose ts < cutoff, most of them at most, adding
 * those deleted to *n.  A pair none of whose ticks is kept goes whole,
 * however many it has.  Returns 0 or an error.
 */
static int
prune_one(MDB_cursor *c, const char *pair, size_t plen, int64_t cutoff,
    uint64_t most, uint64_t *n)
{
	MDB_val k = { plen, (void *)(uintptr_t)pair }, d;
	int64_t first, last;
	uint64_t i;
	size_t all;
	int rc;

	if ((rc = coin_series_ends(c, pair, plen, &first, &last, &all)) != 0)
		return rc == MDB_NOTFOUND ? COIN_ECORRUPT : rc;
	if (first >= cutoff)
		return 0;
	if (last < cutoff) {
		if ((rc = mdb_cursor_get(c, &k, &d, MDB_SET)) != 0 ||
		    (rc = mdb_cursor_del(c, MDB_NODUPDATA)) != 0)
			return rc;
		*n += all;
		return 0;
	}
	/* The oldest, one by one, each found anew after a delete. */
	for (i = 0; i < most; i++) {
		if ((rc = mdb_cursor_get(c, &k, &d, MDB_SET)) != 0)
			return rc;
		if (d.mv_size != COIN_TICKVAL)
			return COIN_ECORRUPT;
		if ((int64_t)coin_be64_get(d.mv_data) >= cutoff)
			break;
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			return rc;
		(*n)++;
	}
	return 0;
}

/*
 * Delete, in one transaction, about PRUNE_BATCH ticks whose ts <
 * cutoff, from the pair in resume on.  *done is set when all the ticks
 * have been walked.
 */
static int
prune_pairs(struct coin_store *s, MDB_txn *txn, int64_t cutoff,
    const unsigned char *from, size_t fromlen, unsigned char *resume,
    size_t *rlen, uint64_t *count, int *done)
{
	char pair[COIN_PAIR_MAX + 2];
	struct coin_stage st;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t n = 0, was;
	size_t plen;
	int rc;

	if ((rc = coin_stage_open(s, txn, &st)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, s->ticks, &c)) != 0) {
		coin_stage_close(&st);
		return rc;
	}
	k.mv_data = (void *)(uintptr_t)from;
	k.mv_size = fromlen;
	rc = fromlen == 0 ? mdb_cursor_get(c, &k, &v, MDB_FIRST) :
	    mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	while (rc == 0) {
		if (coin_pair_valid(k.mv_data, k.mv_size, NULL) != 0) {
			rc = COIN_ECORRUPT;
			break;
		}
		plen = k.mv_size;
		memcpy(pair, k.mv_data, plen);
		pair[plen] = '\0';
		was = n;
		if ((rc = prune_one(c, pair, plen, cutoff, PRUNE_BATCH - n,
		    &n)) != 0 || (n > was &&
		    (rc = prune_pair_done(s, txn, &st, pair)) != 0))
			break;
		if (n >= PRUNE_BATCH) {
			/* The next transaction's first: this pair again. */
			memcpy(resume, pair, plen);
			*rlen = plen;
			break;
		}
		/* The first key after pair: pair NUL. */
		k.mv_data = pair;
		k.mv_size = plen + 1;
		rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	}
	mdb_cursor_close(c);
	coin_stage_close(&st);
	*count += n;
	*done = rc == MDB_NOTFOUND;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/*
 * Keys ts first (stats, statidx): delete from the start while ts <
 * cutoff, with, for the stats (counted), the count of each ts whose
 * stats all go.
 */
static int
prune_front(MDB_txn *txn, MDB_dbi dbi, int counted, MDB_dbi counts,
    int64_t cutoff, uint64_t *count, int *done)
{
	MDB_cursor *c;
	MDB_val k, v, ck;
	uint64_t n = 0;
	int rc, e;

	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
	    rc == 0 && n < PRUNE_BATCH;
	    rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) {
		if (k.mv_size < 8) {
			rc = COIN_ECORRUPT;
			break;
		}
		if ((int64_t)coin_be64_get(k.mv_data) >= cutoff) {
			rc = MDB_NOTFOUND;
			break;
		}
		ck.mv_data = k.mv_data;
		ck.mv_size = 8;
		e = counted ? mdb_del(txn, counts, &ck, NULL) : 0;
		if (e != 0 && e != MDB_NOTFOUND) {
			rc = e;
			break;
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
		n++;
	}
	mdb_cursor_close(c);
	*count += n;
	*done = rc == MDB_NOTFOUND;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

struct prune_arg {
	int64_t		 cutoff;
	int		 which;		/* ticks, statidx, stats, state,
					   the stage */
	unsigned char	 from[COIN_TICKKEY_MAX];	/* this txn's start */
	size_t		 fromlen;
	unsigned char	 next[COIN_TICKKEY_MAX];	/* the next txn's */
	size_t		 nextlen;
	uint64_t	 n;
	int		 done;
};

static int
prune_fn(struct coin_store *s, MDB_txn *txn, void *arg)
{
	struct prune_arg *a = arg;

	a->n = 0;
	if (a->which == 4) {
		/* The stage into ticks, so that one walk finds every tick. */
		struct coin_stage st;
		int rc;

		if ((rc = coin_stage_open(s, txn, &st)) != 0)
			return rc;
		rc = coin_stage_merge(&st, COIN_MERGE_CHUNK, &a->done);
		coin_stage_close(&st);
		return rc;
	}
	if (a->which == 3) {
		/* The running state may hold pruned ticks: drop it all. */
		a->done = 1;
		return mdb_drop(txn, s->state, 0);
	}
	if (a->which == 2 || a->which == 1)
		return prune_front(txn, a->which == 2 ? s->stats : s->statidx,
		    a->which == 2, s->counts, a->cutoff, &a->n, &a->done);
	return prune_pairs(s, txn, a->cutoff, a->from, a->fromlen,
	    a->next, &a->nextlen, &a->n, &a->done);
}

int
coin_store_prune(struct coin_store *s, int64_t cutoff, uint64_t *nticks,
    uint64_t *nstats)
{
	struct prune_arg a;
	int rc;

	*nticks = *nstats = 0;
	memset(&a, 0, sizeof(a));
	a.cutoff = cutoff;
	/*
	 * Stats before their index: a crash in between leaves index
	 * entries without stats, which put_stats allows for, never stats
	 * the index cannot find.
	 */
	for (a.which = 4; a.which >= 0; a.which--) {
		a.fromlen = 0;
		do {
			if ((rc = coin_store_write(s, prune_fn, &a)) != 0)
				return rc;
			memcpy(a.from, a.next, a.nextlen);
			a.fromlen = a.nextlen;
			if (a.which == 0)
				*nticks += a.n;
			else if (a.which == 2)
				*nstats += a.n;
		} while (!a.done);
	}
	return 0;
}

int
coin_store_backup(struct coin_store *s, const char *dir)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	struct stat st;
	int fd, rc, e;

	if (s->broken != 0)
		return s->broken;
	if ((e = mkdirs(dir, 0700)) != 0)
		return e;
	if (snprintf(dst, sizeof(dst), "%s/data.mdb", dir) >=
	    (int)sizeof(dst) ||
	    snprintf(tmp, sizeof(tmp), "%s/data.mdb.tmp", dir) >=
	    (int)sizeof(tmp))
		return ENAMETOOLONG;
	if (stat(dst, &st) == 0)
		return EEXIST;
	/* Copy to a temporary name: a half copy never looks whole. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return errno;
	rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	if (rc == 0 && fsync(fd) == -1)
		rc = errno;
	if (close(fd) == -1 && rc == 0)
		rc = errno;
	if (rc == 0 && rename(tmp, dst) == -1)
		rc = errno;
	if (rc != 0)
		(void)unlink(tmp);
	return coin_store_mapcode(rc);
}
