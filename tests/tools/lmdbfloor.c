/* SPDX-License-Identifier: ISC */
/* lmdbfloor.c - the disk's floor for one batch: a bare durable commit */
/*
 * usage: lmdbfloor [-d] [-n PUTS] [-k KEYLEN] [-m MINUTES] DIR
 *
 * Opens (creating) an LMDB environment in DIR, made if missing, with
 * LMDB's defaults (every commit synced), and stores PUTS (default
 * 1000) keys of KEYLEN (default 20) bytes with 8-byte values in one
 * write transaction, in key order, then commits it.  Keys are a pair
 * number, then a minute, big-endian, as the store's ticks are: each
 * run stores the next minute of every pair, so that runs into one DIR
 * add to it as batches do.  With -m, a DIR that holds nothing yet is
 * first filled with MINUTES minutes of PUTS pairs (in one transaction,
 * not counted), so that the timed commit lands, as a batch into the
 * store does, on one leaf page per pair.  Prints
 *   {"puts":N,"put_s":S,"commit_s":S,"total_s":S,"fill_s":S}
 * the seconds spent putting, committing (the sync), both, and filling.
 * With -d the keys are the store's since schema 6: the pair number, and
 * under it each minute a sorted duplicate of 16 bytes (minute, value).
 */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KEY_MIN		16
#define KEY_MAX		200

static void	usage(void) __attribute__((noreturn));

static void
usage(void)
{
	fputs("usage: lmdbfloor [-d] [-n PUTS] [-k KEYLEN] [-m MINUTES] "
	    "DIR\n", stderr);
	exit(64);
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
be64(unsigned char *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static long
number(const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		usage();
	return v;
}

static void
check(int rc, const char *what)
{
	if (rc != 0)
		errx(74, "%s: %s", what, mdb_strerror(rc));
}

/* Pair number pn padded to keylen - 8 bytes, then minute. */
static void
key(unsigned char *kb, long keylen, long pn, uint64_t minute)
{
	unsigned char *p;

	for (p = kb + keylen - 9; p >= kb; p--, pn /= 10)
		*p = (unsigned char)('0' + pn % 10);
	be64(kb + keylen - 8, minute);
}

static int dups;		/* -d: the ticks as duplicates */

/* The floor's database, and the one that holds its minute. */
static void
open_dbs(MDB_txn *txn, MDB_dbi *dbi, MDB_dbi *meta)
{
	check(mdb_dbi_open(txn, "floor", MDB_CREATE |
	    (dups ? MDB_DUPSORT | MDB_DUPFIXED : 0), dbi), "mdb_dbi_open");
	*meta = *dbi;
	if (dups)
		check(mdb_dbi_open(txn, "meta", MDB_CREATE, meta),
		    "mdb_dbi_open");
}

/*
 * Pair pn's tick of minute with value, through c: the last of its pair
 * (and with append, the last of all).
 */
static void
put_tick(MDB_cursor *c, long keylen, long pn, uint64_t minute,
    uint64_t value, int append)
{
	unsigned char kb[KEY_MAX], vb[16];
	MDB_val k = { (size_t)keylen, kb }, v = { 8, vb };

	key(kb, keylen, pn, minute);
	be64(vb, value);
	if (dups) {
		k.mv_size -= 8;		/* the minute goes in the value */
		be64(vb, minute);
		be64(vb + 8, value);
		v.mv_size = 16;
	}
	check(mdb_cursor_put(c, &k, &v, dups ? MDB_APPENDDUP : append ?
	    MDB_APPEND : 0), "mdb_cursor_put");
}

/* Store minutes 1 to m of pairs 0 to n - 1, in key order; commit. */
static void
fill(MDB_env *env, long n, long keylen, long m)
{
	MDB_txn *txn;
	MDB_dbi dbi, meta;
	MDB_val mk = { 6, "minute" }, mv;
	uint64_t minute = (uint64_t)m;
	MDB_cursor *c;
	long i, j;

	check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
	open_dbs(txn, &dbi, &meta);
	check(mdb_cursor_open(txn, dbi, &c), "mdb_cursor_open");
	for (i = 0; i < n; i++)
		for (j = 1; j <= m; j++)
			put_tick(c, keylen, i, (uint64_t)j, (uint64_t)j, 1);
	mdb_cursor_close(c);
	mv.mv_size = 8;
	mv.mv_data = &minute;
	check(mdb_put(txn, meta, &mk, &mv, 0), "mdb_put");
	check(mdb_txn_commit(txn), "mdb_txn_commit");
}

int
main(int argc, char *argv[])
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi, meta;
	MDB_cursor *c;
	MDB_val mk = { 6, "minute" }, mv;
	uint64_t minute = 0;
	long nputs = 1000, keylen = 20, minutes = 0, i;
	double t0, t1, t2, tf = 0;
	int ch, rc;

	while ((ch = getopt(argc, argv, "dk:m:n:")) != -1) {
		switch (ch) {
		case 'd':
			dups = 1;
			break;
		case 'k':
			keylen = number(optarg, KEY_MIN, KEY_MAX);
			break;
		case 'm':
			minutes = number(optarg, 0, 1000000);
			break;
		case 'n':
			nputs = number(optarg, 1, 100000000);
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	if (mkdir(argv[optind], 0700) == -1 && errno != EEXIST)
		err(73, "%s", argv[optind]);
	check(mdb_env_create(&env), "mdb_env_create");
	check(mdb_env_set_mapsize(env, (size_t)1 << 34), "mapsize");
	check(mdb_env_set_maxdbs(env, 2), "maxdbs");
	check(mdb_env_open(env, argv[optind], 0, 0600), argv[optind]);
	t0 = now();
	check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
	open_dbs(txn, &dbi, &meta);
	if ((rc = mdb_get(txn, meta, &mk, &mv)) == 0 && mv.mv_size == 8)
		memcpy(&minute, mv.mv_data, 8);
	else if (rc != 0 && rc != MDB_NOTFOUND)
		check(rc, "mdb_get");
	if (minute == 0 && minutes > 0) {
		mdb_txn_abort(txn);
		fill(env, nputs, keylen, minutes);
		minute = (uint64_t)minutes;
		t1 = now();
		tf = t1 - t0;
		t0 = t1;
		check(mdb_txn_begin(env, NULL, 0, &txn), "mdb_txn_begin");
	}
	minute++;
	check(mdb_cursor_open(txn, dbi, &c), "mdb_cursor_open");
	for (i = 0; i < nputs; i++)
		put_tick(c, keylen, i, minute, (uint64_t)i, 0);
	mdb_cursor_close(c);
	mv.mv_size = 8;
	mv.mv_data = &minute;
	check(mdb_put(txn, meta, &mk, &mv, 0), "mdb_put");
	t1 = now();
	check(mdb_txn_commit(txn), "mdb_txn_commit");
	t2 = now();
	mdb_env_close(env);
	printf("{\"puts\":%ld,\"put_s\":%.6f,\"commit_s\":%.6f,"
	    "\"total_s\":%.6f,\"fill_s\":%.6f}\n", nputs, t1 - t0, t2 - t1,
	    t2 - t0, tf);
	return 0;
}
