/* SPDX-License-Identifier: ISC */
/* coin_int.h - declarations shared by libcoin's modules and its tests */
#ifndef COIN_INT_H
#define COIN_INT_H

#include <lmdb.h>
#include <locale.h>
#include <stdarg.h>

#include "coin.h"

struct coin_store {
	MDB_env		*env;
	MDB_dbi		 ticks;
	MDB_dbi		 stats;
	MDB_dbi		 statidx;
	MDB_dbi		 counts;
	MDB_dbi		 state;
	MDB_dbi		 recent;	/* the stage: ts pair -> price */
	MDB_dbi		 pairs;		/* pair -> "" for every stored pair */
	MDB_dbi		 meta;
	int		 rdonly;
	int		 upgrade;	/* the schema to upgrade from on open */
	int		 broken;	/* a remap failed: every call fails */
	char		*dir;
};

/*
 * Pending ticks: fixed-size entries in arrival order, each naming its
 * pair by number, and each pair's name once in one arena: 100,000 ticks
 * of 10,000 pairs take 3.3 MB with their order (5 MB when each tick
 * held its own name).
 */
struct coin_pend {
	uint32_t	 pair;		/* in the batch's pairs[] */
	int64_t		 ts;
	double		 price;
};

/* A batch's pair: its name in the arena, in order of first arrival. */
struct coin_bpair {
	uint32_t	 off;
	uint32_t	 len;
	uint32_t	 first;		/* its first tick */
	int64_t		 oldest;	/* first_of_pairs() sets it */
};

struct coin_batch {
	struct coin_pend *e;
	size_t		 n;
	size_t		 cap;
	char		*arena;
	size_t		 alen;
	size_t		 acap;
	struct coin_bpair *pairs;
	size_t		 np;
	size_t		 pcap;
	uint32_t	*slot;		/* a hash of pairs: 1 + index; 0 free */
	size_t		 scap;		/* at most half full */
	uint32_t	*order;		/* by (pair, ts, arrival) */
	size_t		 ocap;
};

/* Fill b->order with b's indices in (pair, ts, arrival) order. */
int	coin_batch_sort(struct coin_batch *b);

/* Begin a transaction, adopting a grown map, clearing stale readers. */
int	coin_store_txn(struct coin_store *s, unsigned flags, MDB_txn **txn);

/*
 * Run fn(s, txn, arg) in one write transaction and commit it; when the
 * map is full, grow it and run fn again from the start.
 */
int	coin_store_write(struct coin_store *s,
	    int (*fn)(struct coin_store *, MDB_txn *, void *), void *arg);

/* LMDB's codes for a damaged file become COIN_ECORRUPT. */
int	coin_store_mapcode(int rc);

/*
 * Store n stats in txn, keeping statidx, counts and latest; no two of
 * them may have the same (ts, pair).
 */
int	coin_store_stats_put(struct coin_store *s, MDB_txn *txn,
	    const struct coin_stat *st, size_t n);

/* The "C" locale, made once; NULL if it cannot be made. */
locale_t	coin_c_locale(void);

/* Format a reason into errbuf (COIN_ERRBUF bytes) when it is not NULL. */
int	coin_reason(char *errbuf, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	coin_days_from_civil(int64_t y, unsigned m, unsigned d);

/* The price of a tick's value, or COIN_ECORRUPT. */
int	coin_price_decode(const MDB_val *v, double *price);

/*
 * coin_heap_huge() leaves the heap's first this much on small pages: a
 * huge page's first touch costs 0.5 ms, 44 small pages' (measured on
 * the project's machine: 32 MiB in 8.2 ms on huge pages, 95 ms on
 * small ones), so a command that needs less stays on small pages.
 */
#define COIN_HEAP_SMALL	(128u << 10)

/*
 * The stage (stage.c): the newest ticks, keyed ts then pair, until they
 * are merged into ticks.  Ticks in ticks have ts <= merged, staged ones
 * ts > merged, at COIN_STAGE_MAX times at most.  A merge takes several
 * transactions; while it is under way, the pairs up to the last one it
 * moved have their staged ticks in ticks too, and the stage's copies
 * are not theirs any more.
 */
#define COIN_STAGE_MAX	COIN_BULK_TIMES
/*
 * Staged ticks moved a transaction.  LMDB holds the pages a transaction
 * changes until it commits, and keeps them for the next.  A tick moved
 * into a pair's history changes far more pages than staging it did
 * (each pair's last page and those above it), and more as the history
 * deepens: on 1.44M ticks of 1,000 pairs (massif) a chunk of 32,768
 * changed 7.4 MB of pages by the end, 3.2 MB on a tenth of them, and
 * coinstore's peak grew from 7.0 MiB on the tenth to 11.2 on all.  At
 * 16,384, a quarter of a bulk commit's ticks, it stays at 6.5 and 7.7,
 * for 7% more time (a sync a chunk).
 */
#define COIN_MERGE_CHUNK	16384
/* Internal: the stage must be merged before this write can go in. */
#define COIN_EMERGE	(-100)

/* A merge under way (meta "merging"): ts, moved, then the last pair. */
struct coin_merging {
	int64_t		 ts;		/* its newest staged ts; 0: none */
	uint64_t	 moved;		/* staged ticks moved so far */
	size_t		 len;
	char		 last[COIN_PAIR_MAX];	/* the last pair moved */
};

struct coin_run {
	int64_t		 ts;		/* the staged time of this run */
	MDB_cursor	*c;		/* where the last look left it */
	int		 at;		/* c is on a key */
};

struct coin_stage {
	struct coin_store *s;
	MDB_txn		*txn;
	int64_t		 merged;
	struct coin_merging m;
	size_t		 ticks;		/* staged, not moved */
	int		 n;		/* staged times, oldest first */
	struct coin_run	 run[COIN_STAGE_MAX];
};

/* Called for a pair's ticks, staged or in the history, one at a time. */
typedef int	coin_stage_fn(void *arg, int64_t ts, double price);

/* The newest ts ticks can hold: merged, or a merge under way's ts. */
static inline int64_t
coin_stage_bound(const struct coin_stage *st)
{
	return st->m.ts != 0 ? st->m.ts : st->merged;
}

/* The merged time of txn (0 before the first merge), or an error. */
int	coin_stage_merged(struct coin_store *s, MDB_txn *txn, int64_t *ts);
/* The merge under way (m->ts 0: none): 0, COIN_ECORRUPT or an error. */
int	coin_stage_merging(struct coin_store *s, MDB_txn *txn,
	    struct coin_merging *m);
/* Has the merge m moved pair (its staged ticks are in ticks)? */
int	coin_stage_moved(const struct coin_merging *m, const char *pair,
	    size_t plen);
/* Read the stage of txn into st: 0, COIN_ECORRUPT or an error. */
int	coin_stage_open(struct coin_store *s, MDB_txn *txn,
	    struct coin_stage *st);
/* Close st's cursors (st may be half open). */
void	coin_stage_close(struct coin_stage *st);
/* fn for each staged tick of pair with from <= ts <= to, oldest first. */
int	coin_stage_range(struct coin_stage *st, const char *pair,
	    size_t plen, int64_t from, int64_t to, coin_stage_fn *fn,
	    void *arg);
/* The newest staged tick of pair at or before to, or MDB_NOTFOUND. */
int	coin_stage_latest(struct coin_stage *st, const char *pair,
	    size_t plen, int64_t to, int64_t *ts, double *price);
/* Would times new times and ticks new ticks overfill the stage? */
int	coin_stage_full(const struct coin_stage *st, int times,
	    size_t ticks);
/*
 * Move staged ticks into ticks, whole pairs in pair order, until at
 * least most have moved, in st's write transaction: *done is set when
 * the stage is empty and merged is the newest ts it had (st is then
 * open on the empty stage); otherwise st is open on what is left.
 */
int	coin_stage_merge(struct coin_stage *st, size_t most, int *done);
/* Merge the whole stage into ticks, a chunk a transaction: 0 or an error. */
int	coin_store_merge(struct coin_store *s);
/* Set the merged time (ticks hold nothing later) in st's transaction. */
int	coin_stage_set_merged(struct coin_stage *st, int64_t merged);

/* Key codecs of the store, exposed for the unit tests. */
#define COIN_TICKKEY_MAX	(COIN_PAIR_MAX + 1 + 8)
#define COIN_STATKEY_MAX	(8 + 8 + COIN_PAIR_MAX)
#define COIN_IDXKEY_MAX		(8 + COIN_PAIR_MAX)

size_t	coin_tickkey_encode(const char *pair, int64_t ts, unsigned char *k);
int	coin_tickkey_decode(const unsigned char *k, size_t len, char *pair,
	    int64_t *ts);
size_t	coin_idxkey_encode(int64_t ts, const char *pair, unsigned char *k);
/*
 * The ticks (schema 6): "series", a sorted duplicate of fixed size a
 * tick under its pair, be64 ts then be64 price bits: dense pages, and
 * a pair's ticks a page at a time.  Schemas up to 5 had one key a tick
 * (pair NUL be64 ts -> price): the codecs above, for their upgrade.
 */
#define COIN_TICKVAL		16

/* A tick's 16 bytes from ts and price. */
void	coin_tickval_encode(int64_t ts, double price, unsigned char *b);
/* ts and price from 16 bytes: 0, or COIN_ECORRUPT for a bad price. */
int	coin_tickval_decode(const unsigned char *b, int64_t *ts,
	    double *price);
/* c onto pair's first tick at or after ts (0, its own out), or MDB_NOTFOUND. */
int	coin_series_seek(MDB_cursor *c, const char *pair, size_t plen,
	    int64_t ts, int64_t *got, double *price);
/*
 * pair's first and last ts and (n not NULL) count, c left on its last
 * tick; MDB_NOTFOUND: none.
 */
int	coin_series_ends(MDB_cursor *c, const char *pair, size_t plen,
	    int64_t *first, int64_t *last, size_t *n);
/* fn for each tick of pair with from <= ts <= to, oldest first. */
int	coin_series_range(MDB_cursor *c, const char *pair, size_t plen,
	    int64_t from, int64_t to, coin_stage_fn *fn, void *arg);
/* The same for all its stored ticks: those of c's history, then st's. */
int	coin_ticks_range(MDB_cursor *c, struct coin_stage *st,
	    const char *pair, size_t plen, int64_t from, int64_t to,
	    coin_stage_fn *fn, void *arg);
/*
 * Put a tick, replacing the pair's tick of the same ts.  newest (NULL:
 * none) is the caller's memory of the pair's newest tick, INT64_MAX when
 * not known: a later tick is then appended without a look.
 */
int	coin_series_put(MDB_cursor *c, const char *pair, size_t plen,
	    int64_t ts, double price, int64_t *newest);

size_t	coin_statkey_encode(int64_t ts, double stddev, const char *pair,
	    unsigned char *k);
/*
 * The time meta holds under key into *ts, none where it holds none:
 * 0, COIN_ECORRUPT (not 8 bytes) or an error.
 */
int	coin_meta_ts(struct coin_store *s, MDB_txn *txn, const char *key,
	    int64_t none, int64_t *ts);
/*
 * The newest time any pair's state was computed for (meta state_at),
 * INT64_MAX when the store does not say (every state may be newer).
 */
int	coin_state_at(struct coin_store *s, MDB_txn *txn, int64_t *at);
/*
 * Raise state_at to at when a state of that time was written; where it
 * is not kept yet, to the newest of all the states (a walk, once).
 */
int	coin_state_at_raise(struct coin_store *s, MDB_txn *txn, int64_t at);
int	coin_statkey_decode(const unsigned char *k, size_t len, int64_t *ts,
	    double *stddev, char *pair);

/*
 * Store v at p big-endian (inline: every key and value goes through
 * it).  Spelled out byte by byte, which compilers turn into one
 * byte-swapping store.
 */
static inline void
coin_be64_put(unsigned char *p, uint64_t v)
{
	p[0] = (unsigned char)(v >> 56);
	p[1] = (unsigned char)(v >> 48);
	p[2] = (unsigned char)(v >> 40);
	p[3] = (unsigned char)(v >> 32);
	p[4] = (unsigned char)(v >> 24);
	p[5] = (unsigned char)(v >> 16);
	p[6] = (unsigned char)(v >> 8);
	p[7] = (unsigned char)v;
}

/* The big-endian 64-bit integer at p (likewise one load and a swap). */
static inline uint64_t
coin_be64_get(const unsigned char *p)
{
	return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 |
	    (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
	    (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
	    (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

/*
 * An exact accumulator of prices: their count and the sums of p/u and
 * (p/u)^2 as multi-limb integers (least significant limb first), u =
 * 2^e.  Wide enough for 2^32 of any positive doubles.
 */
#define COIN_ACC_L1	34
#define COIN_ACC_L2	68

struct coin_acc {
	int64_t		 n;
	int		 e;
	uint64_t	 s1[COIN_ACC_L1];
	uint64_t	 s2[COIN_ACC_L2];
};

/* Empty a. */
void	coin_acc_init(struct coin_acc *a);
/* Add price p (> 0, finite) exactly.  Returns 0 or an error. */
int	coin_acc_add(struct coin_acc *a, double p);
/*
 * Remove price p, which must have been added.  Returns 0, or
 * COIN_ECORRUPT when a cannot hold p (the sums disagree with it).
 */
int	coin_acc_remove(struct coin_acc *a, double p);
/* Add the n prices of p, as many coin_acc_add() would, but faster. */
int	coin_acc_add_all(struct coin_acc *a, const double *p, size_t n);
/*
 * The mean and the sample (or population) standard deviation of what a
 * holds, rounded once; NAN where undefined (n < 2 for the deviation).
 * Returns 0 or COIN_ECORRUPT.
 */
int	coin_acc_result(const struct coin_acc *a, int population,
	    double *mean, double *stddev);

#endif /* COIN_INT_H */
