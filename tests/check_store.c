/* SPDX-License-Identifier: ISC */
/* check_store.c - unit tests of the LMDB store */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "coin_int.h"
#include "lmdb_hook.h"

#define T0	1732521600

static char dir[64];
static char db[96];

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "check_store");
	snprintf(db, sizeof(db), "%s/a/b/db", dir);
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

static void
put(struct coin_store *s, const char *pair, int64_t ts, double price)
{
	struct coin_batch *b;
	struct coin_tick t;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	snprintf(t.pair, sizeof(t.pair), "%s", pair);
	t.ts = ts;
	t.price = price;
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
}

/* Collect what a query finds as text, one "pair ts price" a line. */
struct text {
	char	 buf[8192];
	size_t	 n;
};

static int
collect(const struct coin_tick *t, void *arg)
{
	struct text *x = arg;

	x->n += (size_t)snprintf(x->buf + x->n, sizeof(x->buf) - x->n,
	    "%s %lld %g\n", t->pair, (long long)t->ts, t->price);
	return 0;
}

static const char *
query(struct coin_store *s, const char *pair, int64_t since, int64_t until,
    int latest)
{
	static struct text x;

	x.n = 0;
	x.buf[0] = '\0';
	ck_assert_int_eq(coin_store_ticks(s, pair, since, until, latest,
	    collect, &x), 0);
	return x.buf;
}

START_TEST(create_and_modes)
{
	struct coin_store *s;
	struct stat st;
	char path[128];
	mode_t old = umask(022);

	ck_assert_int_eq(coin_store_open(&s, db, 0), COIN_ENOSTORE);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_ENOSTORE);
	s = open_rw();
	ck_assert_str_eq(coin_store_dir(s), db);
	coin_store_close(s);
	ck_assert_int_eq(stat(db, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/data.mdb", db);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	/* Read-only opens of an existing store work. */
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	{
		struct coin_batch *b;
		struct coin_tick t = { "a/b", T0, 1 };

		ck_assert_int_eq(coin_batch_new(&b), 0);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		ck_assert_int_eq(coin_store_put_batch(s, b), EROFS);
		coin_batch_free(b);
	}
	coin_store_close(s);
	/* Creating under a file fails with COIN_ECREATE and errno. */
	snprintf(path, sizeof(path), "%s/file", dir);
	ck_assert_int_eq(close(open(path, O_CREAT | O_WRONLY, 0600)), 0);
	snprintf(path, sizeof(path), "%s/file/db", dir);
	errno = 0;
	ck_assert_int_eq(coin_store_open(&s, path, COIN_STORE_CREATE),
	    COIN_ECREATE);
	ck_assert_int_eq(errno, ENOTDIR);
	umask(old);
}
END_TEST

START_TEST(paths)
{
	char buf[256];

	setenv("COIN_DB", "/x/db", 1);
	setenv("XDG_DATA_HOME", "/xdg", 1);
	setenv("HOME", "/home/u", 1);
	ck_assert_int_eq(coin_store_path("/given", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/given");
	ck_assert_int_eq(coin_store_path(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/x/db");
	unsetenv("COIN_DB");
	ck_assert_int_eq(coin_store_path(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/xdg/coin");
	setenv("XDG_DATA_HOME", "relative", 1);	/* ignored, as the spec says */
	ck_assert_int_eq(coin_store_path(NULL, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/home/u/.local/share/coin");
	unsetenv("XDG_DATA_HOME");
	unsetenv("HOME");
	ck_assert_int_eq(coin_store_path(NULL, buf, sizeof(buf)),
	    COIN_EUSAGE);
	ck_assert_int_eq(coin_store_path("/abc", buf, 3), COIN_EUSAGE);
}
END_TEST

START_TEST(ticks_query)
{
	struct coin_store *s = open_rw();
	struct coin_batch *b;
	struct coin_tick t;
	int i;

	/* Pairs that are prefixes of each other sort by pair first. */
	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < 3; i++) {
		t.ts = T0 + i * 60;
		t.price = 1 + i;
		strcpy(t.pair, "a/b");
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		strcpy(t.pair, "a/bc");
		t.price = 10 + i;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		strcpy(t.pair, "a/");
		strcpy(t.pair, "Z/z");
		t.price = 100 + i;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_uint_eq(coin_batch_len(b), 9);
	coin_batch_get(b, 1, &t);
	ck_assert_str_eq(t.pair, "a/bc");
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	/* The batch keeps its arrival order after the sorted put. */
	coin_batch_get(b, 2, &t);
	ck_assert_str_eq(t.pair, "Z/z");
	coin_batch_free(b);
	ck_assert_str_eq(query(s, NULL, INT64_MIN, INT64_MAX, 0),
	    "Z/z 1732521600 100\nZ/z 1732521660 101\nZ/z 1732521720 102\n"
	    "a/b 1732521600 1\na/b 1732521660 2\na/b 1732521720 3\n"
	    "a/bc 1732521600 10\na/bc 1732521660 11\na/bc 1732521720 12\n");
	ck_assert_str_eq(query(s, "a/b", INT64_MIN, INT64_MAX, 0),
	    "a/b 1732521600 1\na/b 1732521660 2\na/b 1732521720 3\n");
	ck_assert_str_eq(query(s, "a/b", T0 + 60, INT64_MAX, 0),
	    "a/b 1732521660 2\na/b 1732521720 3\n");
	ck_assert_str_eq(query(s, "a/b", T0 + 1, T0 + 60, 0),
	    "a/b 1732521660 2\n");
	ck_assert_str_eq(query(s, "a/b", T0 + 61, T0 + 119, 0), "");
	ck_assert_str_eq(query(s, "a/x", INT64_MIN, INT64_MAX, 0), "");
	ck_assert_str_eq(query(s, NULL, INT64_MIN, INT64_MAX, 1),
	    "Z/z 1732521720 102\na/b 1732521720 3\na/bc 1732521720 12\n");
	ck_assert_str_eq(query(s, NULL, INT64_MIN, T0 + 60, 1),
	    "Z/z 1732521660 101\na/b 1732521660 2\na/bc 1732521660 11\n");
	ck_assert_str_eq(query(s, "a/bc", INT64_MIN, T0 + 59, 1),
	    "a/bc 1732521600 10\n");
	ck_assert_str_eq(query(s, "a/bc", T0 + 200, INT64_MAX, 1), "");
	ck_assert_str_eq(query(s, "a/b", INT64_MIN, T0 - 1, 1), "");
	ck_assert_str_eq(query(s, "A/b", INT64_MIN, INT64_MAX, 1), "");
	ck_assert_str_eq(query(s, "zz/b", INT64_MIN, INT64_MAX, 1), "");
	ck_assert_str_eq(query(s, NULL, T0 + 1, T0, 0), "");
	coin_store_close(s);
}
END_TEST

static int
stop_after_two(const struct coin_tick *t, void *arg)
{
	(void)t;
	return ++*(int *)arg == 2 ? 7 : 0;
}

START_TEST(replace_and_stop)
{
	struct coin_store *s = open_rw();
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_tick t = { "x/y", T0, 1 };
	int n = 0;

	put(s, "x/y", T0, 5);
	put(s, "x/y", T0, 6);			/* replaces */
	ck_assert_int_eq(coin_batch_new(&b), 0);
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	t.price = 2;
	ck_assert_int_eq(coin_batch_add(b, &t), 0);	/* the later wins */
	t.ts = T0 + 60;
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	ck_assert_str_eq(query(s, NULL, INT64_MIN, INT64_MAX, 0),
	    "x/y 1732521600 2\nx/y 1732521660 2\n");
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 2);
	ck_assert_uint_eq(info.pairs, 1);
	ck_assert_int_eq(info.first_ts, T0);
	ck_assert_int_eq(info.last_ts, T0 + 60);
	/* A callback's nonzero value stops the walk and comes back. */
	ck_assert_int_eq(coin_store_ticks(s, NULL, INT64_MIN, INT64_MAX, 0,
	    stop_after_two, &n), 7);
	coin_batch_truncate(b, 1);
	ck_assert_uint_eq(coin_batch_len(b), 1);
	coin_batch_truncate(b, 0);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);	/* empty */
	coin_batch_free(b);
	coin_store_close(s);
}
END_TEST

static int
count_pairs(const struct coin_pairinfo *p, void *arg)
{
	struct text *x = arg;

	x->n += (size_t)snprintf(x->buf + x->n, sizeof(x->buf) - x->n,
	    "%s %llu %lld %lld\n", p->pair, (unsigned long long)p->n,
	    (long long)p->first, (long long)p->last);
	return 0;
}

START_TEST(pairs)
{
	struct coin_store *s = open_rw();
	struct text x = { "", 0 };

	put(s, "b/c", T0 + 60, 1);
	put(s, "b/c", T0, 1);
	put(s, "a/c", T0 + 120, 1);
	ck_assert_int_eq(coin_store_pairs(s, count_pairs, &x), 0);
	ck_assert_str_eq(x.buf, "a/c 1 1732521720 1732521720\n"
	    "b/c 2 1732521600 1732521660\n");
	coin_store_close(s);
}
END_TEST

/* The map grows by itself: a tiny map takes 20,000 ticks in one batch. */
START_TEST(map_grows)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_tick t;
	int i, rc;

	rc = coin_store_open_size(&s, db, COIN_STORE_CREATE, 64 * 1024);
	ck_assert_msg(rc == 0, "%s", coin_strerror(rc));
	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(t.pair, sizeof(t.pair), "coin%05d/usd", i);
		t.ts = T0;
		t.price = i + 1;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 20000);
	ck_assert_uint_gt(info.map_size, 64 * 1024);
	coin_store_close(s);
}
END_TEST

/* A process with the store open adopts a map another process grew. */
START_TEST(map_adopted)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	pid_t pid;
	int status, rc;

	rc = coin_store_open_size(&s, db, COIN_STORE_CREATE, 64 * 1024);
	ck_assert_int_eq(rc, 0);
	put(s, "first/usd", T0, 1);
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct coin_store *c;
		struct coin_batch *b;
		struct coin_tick t;
		int i;

		if (coin_store_open_size(&c, db, COIN_STORE_CREATE,
		    64 * 1024) != 0 || coin_batch_new(&b) != 0)
			_exit(1);
		for (i = 0; i < 20000; i++) {
			snprintf(t.pair, sizeof(t.pair), "c%05d/usd", i);
			t.ts = T0;
			t.price = 1;
			if (coin_batch_add(b, &t) != 0)
				_exit(1);
		}
		_exit(coin_store_put_batch(c, b) != 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	/* Reading and writing both go on with the bigger map. */
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 20001);
	put(s, "last/usd", T0, 1);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 20002);
	coin_store_close(s);
}
END_TEST

START_TEST(schema_refused)
{
	struct coin_store *s = open_rw();

	coin_store_close(s);
	raw_put(db, "meta", "schema", 6, "7", 1);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE),
	    COIN_ESCHEMA);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_ESCHEMA);
}
END_TEST

START_TEST(not_ours_or_damaged)
{
	struct coin_store *s;
	char path[256];
	int fd;

	/* An LMDB environment that is not a coin store. */
	ck_assert_int_eq(system("true"), 0);
	snprintf(path, sizeof(path), "mkdir -p '%s'", db);
	ck_assert_int_eq(system(path), 0);
	raw_put(db, "other", "k", 1, "v", 1);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_ECORRUPT);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	coin_store_close(s);	/* writable: it becomes one, others kept */
	/* Random bytes where data.mdb should be. */
	snprintf(path, sizeof(path), "%s/data.mdb", db);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_TRUNC), -1);
	ck_assert_int_eq(write(fd, "this is not an lmdb file at all, no",
	    35), 35);
	close(fd);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_ECORRUPT);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE),
	    COIN_ECORRUPT);
	/*
	 * An empty data.mdb is a store being made, or one whose maker
	 * died: nothing to read there; a writer makes it.
	 */
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_TRUNC), -1);
	close(fd);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_ENOSTORE);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	coin_store_close(s);
	/*
	 * So is one that LMDB made (its meta pages written) but whose
	 * maker died before the first commit.
	 */
	snprintf(path, sizeof(path), "rm -rf '%s' && mkdir -p '%s'", db, db);
	ck_assert_int_eq(system(path), 0);
	{
		MDB_env *env;

		ck_assert_int_eq(mdb_env_create(&env), 0);
		ck_assert_int_eq(mdb_env_open(env, db, 0, 0600), 0);
		mdb_env_close(env);
	}
	snprintf(path, sizeof(path), "%s/data.mdb", db);
	ck_assert_int_ne(fd = open(path, O_RDONLY), -1);
	ck_assert_int_gt(lseek(fd, 0, SEEK_END), 0);
	close(fd);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_ENOSTORE);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	coin_store_close(s);
}
END_TEST

static struct coin_stat
mkstat(const char *pair, int64_t ts, double sd, int64_t n)
{
	struct coin_stat st;

	memset(&st, 0, sizeof(st));
	snprintf(st.pair, sizeof(st.pair), "%s", pair);
	st.ts = ts;
	st.window = 86400;
	st.n = n;
	st.mean = st.min = st.max = st.last = 10;
	st.stddev = sd;
	return st;
}

static int
collect_stat(const struct coin_stat *st, void *arg)
{
	struct text *x = arg;

	x->n += (size_t)snprintf(x->buf + x->n, sizeof(x->buf) - x->n,
	    "%s %g %lld\n", st->pair, st->stddev, (long long)st->n);
	return 0;
}

START_TEST(stats)
{
	struct coin_store *s = open_rw();
	struct coin_stat st[6];
	struct text x = { "", 0 };
	struct coin_storeinfo info;
	int64_t ts;

	ck_assert_int_eq(coin_store_stat_time(s, INT64_MAX, &ts),
	    MDB_NOTFOUND);
	st[0] = mkstat("b/usd", T0, 2.5, 10);
	st[1] = mkstat("a/usd", T0, 2.5, 10);		/* tie: by pair */
	st[2] = mkstat("c/usd", T0, 0, 10);
	st[3] = mkstat("d/usd", T0, NAN, 1);		/* no stddev: last */
	st[4] = mkstat("e/usd", T0, 1e-300, 10);
	st[5] = mkstat("f/usd", T0, 1e300, 10);
	ck_assert_int_eq(coin_store_put_stats(s, st, 6), 0);
	ck_assert_int_eq(coin_store_stats_at(s, T0, collect_stat, &x), 0);
	ck_assert_str_eq(x.buf, "f/usd 1e+300 10\na/usd 2.5 10\n"
	    "b/usd 2.5 10\ne/usd 1e-300 10\nc/usd 0 10\nd/usd nan 1\n");
	/* A stat computed again replaces the old one, not beside it. */
	st[0] = mkstat("b/usd", T0, 9, 11);
	ck_assert_int_eq(coin_store_put_stats(s, st, 1), 0);
	x.n = 0;
	ck_assert_int_eq(coin_store_stats_at(s, T0, collect_stat, &x), 0);
	ck_assert_str_eq(x.buf, "f/usd 1e+300 10\nb/usd 9 11\n"
	    "a/usd 2.5 10\ne/usd 1e-300 10\nc/usd 0 10\nd/usd nan 1\n");
	/* latest only moves forward; stat_time finds earlier ones. */
	st[0] = mkstat("a/usd", T0 + 120, 1, 2);
	ck_assert_int_eq(coin_store_put_stats(s, st, 1), 0);
	st[0] = mkstat("a/usd", T0 + 60, 1, 2);
	ck_assert_int_eq(coin_store_put_stats(s, st, 1), 0);
	ck_assert_int_eq(coin_store_stat_time(s, INT64_MAX, &ts), 0);
	ck_assert_int_eq(ts, T0 + 120);
	ck_assert_int_eq(coin_store_stat_time(s, T0 + 119, &ts), 0);
	ck_assert_int_eq(ts, T0 + 60);
	ck_assert_int_eq(coin_store_stat_time(s, T0 + 10000, &ts), 0);
	ck_assert_int_eq(ts, T0 + 120);
	ck_assert_int_eq(coin_store_stat_time(s, T0 - 1, &ts),
	    MDB_NOTFOUND);
	x.n = 0;
	x.buf[0] = '\0';
	ck_assert_int_eq(coin_store_stats_at(s, T0 + 1, collect_stat, &x),
	    0);
	ck_assert_str_eq(x.buf, "");
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.stats, 8);
	ck_assert_uint_eq(info.stat_times, 3);
	ck_assert_int_eq(info.latest, T0 + 120);
	coin_store_close(s);
}
END_TEST

START_TEST(check)
{
	struct coin_store *s = open_rw();
	struct coin_storeinfo info;
	struct coin_stat st = mkstat("a/usd", T0, 1, 5);
	unsigned char key[16];
	int faults = 0;

	put(s, "a/usd", T0, 3);
	ck_assert_int_eq(coin_store_put_stats(s, &st, 1), 0);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.ticks, 1);
	coin_store_close(s);
	/* A key that is not a pair, and a price that is not one. */
	coin_tickval_encode(T0, 1, key);
	raw_put(db, "series", "garbage", 7, key, 16);
	memset(key + 8, 0xff, 8);
	raw_put(db, "series", "b/usd", 5, key, 16);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	ck_assert_int_eq(coin_store_check(s, count_fault, &faults, &info),
	    COIN_ECORRUPT);
	ck_assert_int_ge(faults, 2);
	coin_store_close(s);
}
END_TEST

static int
count_time(int64_t ts, void *arg)
{
	(void)ts;
	(*(int *)arg)++;
	return 0;
}

/*
 * A store of schema 1 (statidx pair NUL ts, minmax queues) is refused
 * by a reader and upgraded by a writer: statidx made anew from the
 * stats, minmax dropped, all of it sound.
 */
START_TEST(schema1_upgraded)
{
	struct coin_store *s = open_rw();
	struct coin_stat st[3], got;
	unsigned char kb[COIN_TICKKEY_MAX];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi idx, sdb, meta, mm;
	MDB_cursor *c;
	MDB_val k, v, ok, ov;
	struct coin_storeinfo info;
	uint64_t rank;
	int n = 0;

	st[0] = mkstat("a/usd", T0, 2.5, 10);
	st[1] = mkstat("b/usd", T0, 1, 10);
	st[2] = mkstat("a/usd", T0 + 60, 3, 11);
	ck_assert_int_eq(coin_store_put_stats(s, st, 3), 0);
	coin_store_close(s);
	/* Back to schema 1, by hand. */
	raw_old_ticks(db);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
	ck_assert_int_eq(mdb_env_open(env, db, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "statidx", 0, &idx), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "stats", 0, &sdb), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &meta), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "minmax", MDB_CREATE, &mm), 0);
	ck_assert_int_eq(mdb_drop(txn, idx, 0), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, sdb, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		char pair[COIN_PAIR_MAX + 1];

		memcpy(pair, (char *)k.mv_data + 16, k.mv_size - 16);
		pair[k.mv_size - 16] = '\0';
		ok.mv_data = kb;
		ok.mv_size = coin_tickkey_encode(pair,
		    (int64_t)coin_be64_get(k.mv_data), kb);
		ov.mv_data = (char *)k.mv_data + 8;
		ov.mv_size = 8;
		ck_assert_int_eq(mdb_put(txn, idx, &ok, &ov, 0), 0);
		ck_assert_int_eq(mdb_put(txn, mm, &ok, &ov, 0), 0);
	}
	mdb_cursor_close(c);
	k.mv_data = "schema";
	k.mv_size = 6;
	v.mv_data = "1";
	v.mv_size = 1;
	ck_assert_int_eq(mdb_put(txn, meta, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_EUPGRADE);
	ck_assert_str_eq(coin_strerror(COIN_EUPGRADE), "store of an older "
	    "schema: the next coinstore or coinstddev run upgrades it");
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.stats, 3);
	ck_assert_int_eq(coin_store_stat_rank(s, "b/usd", T0, &got, &rank),
	    0);
	ck_assert_uint_eq(rank, 2);
	ck_assert(got.stddev == 1);
	ck_assert_int_eq(coin_store_stat_times(s, "a/usd", 0, INT64_MAX,
	    count_time, &n), 0);
	ck_assert_int_eq(n, 2);
	coin_store_close(s);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
	ck_assert_int_eq(mdb_env_open(env, db, MDB_RDONLY, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "minmax", 0, &mm), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}
END_TEST

START_TEST(codecs)
{
	unsigned char k[COIN_STATKEY_MAX], k2[COIN_STATKEY_MAX];
	char pair[COIN_PAIR_MAX + 1];
	int64_t ts;
	double sd;
	size_t n;

	n = coin_tickkey_encode("a/b", T0, k);
	ck_assert_uint_eq(n, 12);
	ck_assert_int_eq(coin_tickkey_decode(k, n, pair, &ts), 0);
	ck_assert_str_eq(pair, "a/b");
	ck_assert_int_eq(ts, T0);
	ck_assert_int_eq(coin_tickkey_decode(k, n - 1, pair, &ts),
	    COIN_ECORRUPT);
	ck_assert_int_eq(coin_tickkey_decode(k, 9, pair, &ts),
	    COIN_ECORRUPT);
	n = coin_statkey_encode(T0, 0.5, "a/b", k);
	ck_assert_int_eq(coin_statkey_decode(k, n, &ts, &sd, pair), 0);
	ck_assert(sd == 0.5);
	ck_assert_int_eq(coin_statkey_decode(k, 16, &ts, &sd, pair),
	    COIN_ECORRUPT);
	/* Bigger stddevs sort first; -0 is 0; NAN sorts after all. */
	coin_statkey_encode(T0, 0.75, "a/b", k2);
	ck_assert_int_lt(memcmp(k2, k, 16), 0);
	coin_statkey_encode(T0, -0.0, "a/b", k);
	coin_statkey_encode(T0, 0.0, "a/b", k2);
	ck_assert_int_eq(memcmp(k2, k, 16), 0);
	coin_statkey_encode(T0, NAN, "a/b", k);
	coin_statkey_encode(T0, 1e308, "a/b", k2);
	ck_assert_int_lt(memcmp(k2, k, 16), 0);
	ck_assert_int_eq(coin_statkey_decode(k, 19, &ts, &sd, pair), 0);
	ck_assert(isnan(sd));
	/* An earlier ts sorts first whatever the stddev. */
	coin_statkey_encode(T0 + 1, 1e308, "a/b", k2);
	ck_assert_int_lt(memcmp(k, k2, 16), 0);
}
END_TEST

/*
 * The codecs' every refusal: keys too long or holding no valid pair,
 * negative stddevs (never stored, yet ordered and decoded), values of
 * the wrong size or out of their range.
 */
START_TEST(codecs_corners)
{
	unsigned char k[COIN_STATKEY_MAX + 8], k2[COIN_STATKEY_MAX];
	char pair[COIN_PAIR_MAX + 1];
	int64_t ts;
	double sd;
	size_t n;

	memset(k, 'a', sizeof(k));
	k[100] = '/';
	k[COIN_TICKKEY_MAX - 9] = '\0';
	ck_assert_int_eq(coin_tickkey_decode(k, COIN_TICKKEY_MAX, pair, &ts),
	    0);
	ck_assert_uint_eq(strlen(pair), COIN_PAIR_MAX);
	k[COIN_TICKKEY_MAX - 9] = 'a';
	k[COIN_TICKKEY_MAX - 8] = '\0';
	ck_assert_int_eq(coin_tickkey_decode(k, COIN_TICKKEY_MAX + 1, pair,
	    &ts), COIN_ECORRUPT);
	n = coin_tickkey_encode("ab", T0, k);	/* no '/' */
	ck_assert_int_eq(coin_tickkey_decode(k, n, pair, &ts),
	    COIN_ECORRUPT);
	memset(k, 'a', sizeof(k));
	k[116] = '/';
	ck_assert_int_eq(coin_statkey_decode(k, COIN_STATKEY_MAX, &ts, &sd,
	    pair), 0);
	ck_assert_int_eq(coin_statkey_decode(k, COIN_STATKEY_MAX + 1, &ts,
	    &sd, pair), COIN_ECORRUPT);
	n = coin_statkey_encode(T0, 1, "a b/c", k);
	ck_assert_int_eq(coin_statkey_decode(k, n, &ts, &sd, pair),
	    COIN_ECORRUPT);
	/* A negative stddev sorts after 0 and before none, and decodes. */
	n = coin_statkey_encode(T0, -1.5, "a/b", k);
	coin_statkey_encode(T0, 0, "a/b", k2);
	ck_assert_int_lt(memcmp(k2, k, 16), 0);
	coin_statkey_encode(T0, NAN, "a/b", k2);
	ck_assert_int_lt(memcmp(k, k2, 16), 0);
	ck_assert_int_eq(coin_statkey_decode(k, n, &ts, &sd, pair), 0);
	ck_assert(sd == -1.5);
}
END_TEST

static int
count_stats(const struct coin_stat *st, void *arg)
{
	(void)st;
	(*(int *)arg)++;
	return 0;
}

static int
count_tick(const struct coin_tick *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

START_TEST(values_corrupt)
{
	static const struct {
		const char	*db;
		size_t		 vlen;
		uint64_t	 at;	/* where the bad field goes */
		uint64_t	 bits;
	} bad[] = {
		{ "stats", 55, 0, 0 },
		{ "stats", 56, 0, 0 },				/* window 0 */
		{ "stats", 56, 8, UINT64_C(1) << 63 },		/* n < 0 */
		{ "stats", 56, 24, UINT64_C(0xbff0000000000000) },/* sd -1 */
		{ "series", 7, 8, 0 },
		{ "series", 16, 8, 0 },				/* price 0 */
		{ "series", 16, 8, UINT64_C(0xbff0000000000000) },/* -1 */
	};
	struct coin_store *s;
	struct coin_stat st = mkstat("a/usd", T0, 1, 5);
	struct coin_storeinfo info;
	unsigned char key[COIN_STATKEY_MAX], val[56];
	size_t i, klen;
	int faults, n;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = open_rw();
		put(s, "a/usd", T0, 3);
		ck_assert_int_eq(coin_store_put_stats(s, &st, 1), 0);
		coin_store_close(s);
		memset(val, 0, sizeof(val));
		coin_be64_put(val, 60);			/* a good window */
		if (strcmp(bad[i].db, "stats") == 0)
			klen = coin_statkey_encode(T0, 1, "a/usd", key);
		else {
			/* The pair's one tick, bad. */
			coin_be64_put(val, T0);
			klen = 5;
			memcpy(key, "a/usd", klen);
		}
		coin_be64_put(val + bad[i].at, bad[i].bits);
		raw_put(db, bad[i].db, key, klen, val, bad[i].vlen);
		ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
		faults = 0;
		ck_assert_int_eq(coin_store_check(s, count_fault, &faults,
		    &info), COIN_ECORRUPT);
		ck_assert_int_ge(faults, 1);
		n = 0;
		if (strcmp(bad[i].db, "stats") == 0)
			ck_assert_int_eq(coin_store_stats_at(s, T0,
			    count_stats, &n), COIN_ECORRUPT);
		else
			ck_assert_int_eq(coin_store_ticks(s, "a/usd", 0,
			    INT64_MAX, 0, count_tick, &n), COIN_ECORRUPT);
		coin_store_close(s);
		teardown();
		setup();
	}
}
END_TEST

START_TEST(prune)
{
	struct coin_store *s = open_rw();
	struct coin_batch *b;
	struct coin_tick t;
	struct coin_stat st[3];
	struct coin_storeinfo info;
	uint64_t nt, ns;
	int i, p;

	/* 25,000 ticks to prune: more than one bounded transaction. */
	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (p = 0; p < 5; p++)
		for (i = 0; i < 6000; i++) {
			snprintf(t.pair, sizeof(t.pair), "p%d/usd", p);
			t.ts = T0 + i * 60;
			t.price = 1;
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	st[0] = mkstat("p0/usd", T0, 1, 5);
	st[1] = mkstat("p1/usd", T0 + 5000 * 60, 1, 5);
	st[2] = mkstat("p1/usd", T0 + 5999 * 60, 1, 5);
	ck_assert_int_eq(coin_store_put_stats(s, st, 3), 0);
	ck_assert_int_eq(coin_store_prune(s, T0 + 5000 * 60, &nt, &ns), 0);
	ck_assert_uint_eq(nt, 25000);
	ck_assert_uint_eq(ns, 1);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 5000);
	/* The cutoff itself is kept. */
	ck_assert_int_eq(info.first_ts, T0 + 5000 * 60);
	ck_assert_uint_eq(info.stats, 2);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_int_eq(coin_store_prune(s, T0 + 5000 * 60, &nt, &ns), 0);
	ck_assert_uint_eq(nt + ns, 0);
	coin_store_close(s);
}
END_TEST

/*
 * A schema 5 store with a tick that is not one: the upgrade stops on it
 * and changes nothing (its one transaction aborted), the store still of
 * schema 5 with its ticks where they were.
 */
START_TEST(schema5_bad_tick)
{
	struct coin_store *s = open_rw();
	unsigned char kb[COIN_TICKKEY_MAX], v[8];
	size_t n;

	put(s, "a/usd", T0, 3);
	coin_store_close(s);
	raw_old_ticks(db);
	n = coin_tickkey_encode("b/usd", T0, kb);
	raw_put(db, "ticks", kb, n, "\0\0\0\0\0\0\0\0", 8);	/* price 0 */
	raw_put(db, "meta", "schema", 6, "5", 1);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE),
	    COIN_ECORRUPT);
	ck_assert_uint_eq(raw_get(db, "meta", "schema", 6, v, sizeof(v)), 1);
	ck_assert_int_eq(v[0], '5');
	ck_assert_uint_eq(raw_get(db, "ticks", kb, n, v, sizeof(v)), 8);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_EUPGRADE);
}
END_TEST

/*
 * One pair with more old ticks than a prune transaction takes: the next
 * one goes on from that pair, and the pair keeps what is not old.
 */
START_TEST(prune_long_pair)
{
	struct coin_store *s = open_rw();
	struct coin_batch *b;
	struct coin_tick t;
	struct coin_storeinfo info;
	uint64_t nt, ns;
	int i;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < 25001; i++) {
		snprintf(t.pair, sizeof(t.pair), "%s",
		    i < 25000 ? "q/usd" : "r/usd");
		t.ts = T0 + (i < 25000 ? i : 0) * 60;
		t.price = 1 + i % 7;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	ck_assert_int_eq(coin_store_prune(s, T0 + 24990 * 60, &nt, &ns), 0);
	ck_assert_uint_eq(nt, 24990 + 1);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 10);
	ck_assert_uint_eq(info.pairs, 1);
	ck_assert_int_eq(info.first_ts, T0 + 24990 * 60);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	coin_store_close(s);
}
END_TEST

static int
sum_tick(const struct coin_tick *t, void *arg)
{
	double *sum = arg;

	sum[0] += t->price;
	sum[1] += (double)(t->ts - T0) / 60;
	sum[2]++;
	return 0;
}

/*
 * A store of schema 5 (a key a tick: pair NUL ts -> price) is refused
 * by a reader and upgraded by a writer: every tick into series, in its
 * order, the old database gone, the staged ones and the stats kept.
 */
START_TEST(schema5_upgraded)
{
	struct coin_store *s = open_rw();
	struct coin_batch *b;
	struct coin_tick t;
	struct coin_stat st = mkstat("p1/usd", T0, 2.5, 10);
	struct coin_storeinfo info;
	double sum[3] = { 0, 0, 0 }, want[3] = { 0, 0, 0 };
	unsigned char v[8];
	int i, p;

	/* More than the stage takes: into ticks, then some staged. */
	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (p = 0; p < 30; p++)
		for (i = 0; i < 300; i++) {
			snprintf(t.pair, sizeof(t.pair), "p%d/usd", p);
			t.ts = T0 + i * 60;
			t.price = 1 + (p * 300 + i) % 97;
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
			want[0] += t.price;
			want[1] += i;
			want[2]++;
		}
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	put(s, "p1/usd", T0 + 300 * 60, 5);
	want[0] += 5;
	want[1] += 300;
	want[2]++;
	ck_assert_int_eq(coin_store_put_stats(s, &st, 1), 0);
	coin_store_close(s);
	raw_old_ticks(db);
	raw_put(db, "meta", "schema", 6, "5", 1);

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY),
	    COIN_EUPGRADE);
	s = open_rw();
	coin_store_close(s);
	ck_assert_uint_eq(raw_get(db, "meta", "schema", 6, v, sizeof(v)), 1);
	ck_assert_int_eq(v[0], '6');
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.ticks, 30 * 300 + 1);
	ck_assert_uint_eq(info.pairs, 30);
	ck_assert_uint_eq(info.stats, 1);
	ck_assert_int_eq(info.first_ts, T0);
	ck_assert_int_eq(info.last_ts, T0 + 300 * 60);
	ck_assert_int_eq(coin_store_ticks(s, NULL, 0, INT64_MAX, 0, sum_tick,
	    sum), 0);
	ck_assert(sum[0] == want[0] && sum[1] == want[1] &&
	    sum[2] == want[2]);
	coin_store_close(s);
	/* The old database went with it. */
	ck_assert(!raw_has(db, "ticks"));
	ck_assert(raw_has(db, "series"));
}
END_TEST

START_TEST(backup)
{
	struct coin_store *s = open_rw(), *c;
	struct coin_storeinfo info;
	char bk[128], path[160];
	struct stat st;

	put(s, "a/usd", T0, 3);
	snprintf(bk, sizeof(bk), "%s/backup", dir);
	ck_assert_int_eq(coin_store_backup(s, bk), 0);
	ck_assert_int_eq(coin_store_backup(s, bk), EEXIST);
	snprintf(path, sizeof(path), "%s/data.mdb", bk);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/data.mdb.tmp", bk);
	ck_assert_int_eq(stat(path, &st), -1);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&c, bk, COIN_STORE_RDONLY), 0);
	ck_assert_int_eq(coin_store_check(c, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.ticks, 1);
	coin_store_close(c);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	ck_assert_int_eq(coin_store_backup(s, "/proc/no/such"), ENOENT);
	coin_store_close(s);
}
END_TEST

/*
 * Fill the reader table with the slots of processes that died inside
 * a read transaction.  The caller keeps the store open all along: the
 * first opener would reset the lock file and hide the stale slots.
 */
static void
fill_readers(void)
{
	int i, status;
	pid_t pid;

	for (i = 0; i < 2 * 126 + 10; i++) {
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			MDB_env *env;
			MDB_txn *txn;

			if (mdb_env_create(&env) ||
			    mdb_env_set_maxdbs(env, 8) ||
			    mdb_env_open(env, db, MDB_NOTLS, 0600))
				_exit(1);
			if (mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0)
				_exit(2);
			_exit(0);	/* no cleanup: the slot stays */
		}
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert(WIFEXITED(status));
		ck_assert_int_ne(WEXITSTATUS(status), 1);
		if (WEXITSTATUS(status) == 2)
			return;		/* full */
	}
	ck_abort_msg("the reader table never filled");
}

START_TEST(stale_readers)
{
	struct coin_store *s = open_rw();
	struct coin_storeinfo info;
	int status;
	pid_t pid;

	put(s, "a/usd", T0, 3);
	/* A reader meeting a full table clears it and goes on. */
	fill_readers();
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.ticks, 1);
	/* Another process's open clears the stale slots. */
	fill_readers();
	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0) {
		struct coin_store *c;

		_exit(coin_store_open(&c, db, COIN_STORE_RDONLY) != 0 ||
		    coin_store_info(c, &info) != 0 || info.ticks != 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(status, 0);
	coin_store_close(s);
}
END_TEST

/*
 * A key longer than any the store writes, last in the stage, the stats
 * index or the stats (a damaged store): the write that would append
 * after it says "corrupt" and stores nothing of its batch, and once
 * the key is gone the store is sound and holds what it held.
 */
START_TEST(tail_key_too_long)
{
	static const char *const dbs[] = { "recent", "statidx", "stats" };
	unsigned char k[COIN_STATKEY_MAX + 1];
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_stat st = mkstat("a/usd", T0 + 60, 1, 5);
	uint64_t n;
	int i, rc;

	s = open_rw();
	put(s, "a/usd", T0, 1);
	coin_store_close(s);
	for (i = 0; i < 3; i++) {
		/* A staged key must name a time after the merged one. */
		memset(k, 0xff, sizeof(k));
		coin_be64_put(k, (uint64_t)T0 + 60);
		raw_put(db, dbs[i], k, sizeof(k), "x", 1);
		s = open_rw();
		if (i == 0) {
			struct coin_batch *b;
			struct coin_tick t = { "b/usd", T0 + 60, 2 };

			ck_assert_int_eq(coin_batch_new(&b), 0);
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
			rc = coin_store_put_batch(s, b);
			coin_batch_free(b);
		} else
			rc = coin_store_put_stats(s, &st, 1);
		ck_assert_msg(rc == COIN_ECORRUPT, "%s: %s", dbs[i],
		    coin_strerror(rc));
		coin_store_close(s);
		raw_put(db, dbs[i], k, sizeof(k), NULL, 0);
		s = open_rw();
		ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
		ck_assert_uint_eq(info.ticks, 1);
		ck_assert_uint_eq(info.stats, 0);
		ck_assert_int_eq(coin_store_stats_count(s, T0 + 60, &n), 0);
		ck_assert_uint_eq(n, 0);
		coin_store_close(s);
	}
}
END_TEST

/* ---- the map found full by the commit ---- */

#define MAP_TINY	(64 * 1024)

/* n ticks at ts: pairs m<first>/usd, m<first + 1>/usd..., price + i. */
static struct coin_batch *
mbatch(int first, int n, int64_t ts, double price)
{
	struct coin_batch *b;
	struct coin_tick t;
	int i;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < n; i++) {
		snprintf(t.pair, sizeof(t.pair), "m%05d/usd", first + i);
		t.ts = ts;
		t.price = price + i;
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	return b;
}

struct expect {
	int	 n;		/* ticks seen */
	int	 split;		/* the first pair of the second batch */
	double	 price;		/* its price */
};

static int
expect_tick(const struct coin_tick *t, void *arg)
{
	struct expect *x = arg;
	char pair[COIN_PAIR_MAX + 1];

	snprintf(pair, sizeof(pair), "m%05d/usd", x->n);
	ck_assert_str_eq(t->pair, pair);
	ck_assert_int_eq(t->ts, T0);
	if (x->n < x->split)
		ck_assert(t->price == 1 + x->n);
	else
		ck_assert(t->price == x->price + (x->n - x->split));
	x->n++;
	return 0;
}

/*
 * s holds the ticks of mbatch(0, split, T0, 1), then those of a second
 * mbatch(split, n - split, T0, price), each once, and is sound.
 */
static void
holds(struct coin_store *s, int n, int split, double price)
{
	struct coin_storeinfo info;
	struct expect x = { 0, split, price };

	ck_assert_int_eq(coin_store_ticks(s, NULL, INT64_MIN, INT64_MAX, 0,
	    expect_tick, &x), 0);
	ck_assert_int_eq(x.n, n);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.ticks, (uint64_t)n);
}

/* A store holding the first batch, m00000..m00299, and its map size. */
static struct coin_store *
open_first(size_t size, uint64_t *map)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	int rc;

	rc = coin_store_open_size(&s, db, COIN_STORE_CREATE, size);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	b = mbatch(0, 300, T0, 1);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	holds(s, 300, 300, 0);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	*map = info.map_size;
	return s;
}

/*
 * The map found full by the commit (tests/lmdb_hook.c says so as LMDB
 * does: the transaction aborted, MDB_MAP_FULL), and by a put too, as
 * the map is tiny: it doubles each time and the batch goes in again
 * from the start, whole and once.
 */
START_TEST(commit_full_retried)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_stat st[8];
	char pair[COIN_PAIR_MAX + 1];
	uint64_t map, n;
	int i, rc;

	s = open_first(MAP_TINY, &map);
	/* Half of the batch replaces stored ticks, half is new. */
	b = mbatch(150, 300, T0, 1000);
	lmdb_hook_commit_full(0, 3);
	rc = coin_store_put_batch(s, b);
	lmdb_hook_stop();
	coin_batch_free(b);
	ck_assert_msg(rc == 0, "put: %s", coin_strerror(rc));
	ck_assert_uint_eq(lmdb_hook_commits_failed(), 3);
	ck_assert_uint_eq(lmdb_hook_commits(), 4);
	holds(s, 450, 150, 1000);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_ge(lmdb_hook_grows(), 3);
	ck_assert_uint_eq(info.map_size, map << lmdb_hook_grows());
	/* Stats: half replace stored ones, half are new at a later ts. */
	for (i = 0; i < 8; i++) {
		snprintf(pair, sizeof(pair), "m%05d/usd", i % 4);
		st[i] = mkstat(pair, i < 4 ? T0 : T0 + 60, 1 + i, 5);
	}
	ck_assert_int_eq(coin_store_put_stats(s, st, 4), 0);
	for (i = 0; i < 4; i++)
		st[i].stddev = 10 + i;
	lmdb_hook_commit_full(0, 2);
	rc = coin_store_put_stats(s, st, 8);
	lmdb_hook_stop();
	ck_assert_msg(rc == 0, "put_stats: %s", coin_strerror(rc));
	ck_assert_uint_eq(lmdb_hook_commits(), 3);
	ck_assert_uint_ge(lmdb_hook_grows(), 2);
	ck_assert_int_eq(coin_store_stats_count(s, T0, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(coin_store_stats_count(s, T0 + 60, &n), 0);
	ck_assert_uint_eq(n, 4);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.stats, 8);
	ck_assert_uint_eq(info.stat_times, 2);
	ck_assert_int_eq(info.latest, T0 + 60);
	coin_store_close(s);
	/* Committed, not only seen by the handle that wrote it. */
	s = open_rw();
	holds(s, 450, 150, 1000);
	coin_store_close(s);
}
END_TEST

/*
 * The map full at every commit and no room to grow it: the growth's
 * error comes back, nothing of the batch is stored, the store is sound,
 * and the same handle takes the batch once there is room.  The map is
 * big enough for the puts: only the commits find it full.
 */
START_TEST(commit_full_no_room)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_stat st = mkstat("m00000/usd", T0, 1, 5);
	uint64_t map, n;
	int64_t ts;
	int rc;

	s = open_first((size_t)1 << 24, &map);
	b = mbatch(150, 300, T0, 1000);
	lmdb_hook_commit_full(0, LMDB_HOOK_EVER);
	lmdb_hook_grow_fail(2);
	rc = coin_store_put_batch(s, b);
	lmdb_hook_stop();
	ck_assert_msg(rc == ENOMEM, "put: %s (%d)", coin_strerror(rc), rc);
	ck_assert_uint_eq(lmdb_hook_commits(), 3);
	ck_assert_uint_eq(lmdb_hook_grows(), 2);
	/*
	 * A failed remap may leave LMDB without a map: the handle says so
	 * to every later call, and a new one takes over.
	 */
	ck_assert_int_eq(coin_store_info(s, &info), ENOMEM);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	holds(s, 300, 300, 0);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_ge(info.map_size, map);
	lmdb_hook_commit_full(0, LMDB_HOOK_EVER);
	lmdb_hook_grow_fail(0);
	rc = coin_store_put_stats(s, &st, 1);
	lmdb_hook_stop();
	ck_assert_msg(rc == ENOMEM, "put_stats: %s (%d)", coin_strerror(rc),
	    rc);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	ck_assert_int_eq(coin_store_stats_count(s, T0, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(coin_store_stat_time(s, INT64_MAX, &ts),
	    MDB_NOTFOUND);
	holds(s, 300, 300, 0);
	/* Room again. */
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	ck_assert_int_eq(coin_store_put_stats(s, &st, 1), 0);
	holds(s, 450, 150, 1000);
	ck_assert_int_eq(coin_store_stats_count(s, T0, &n), 0);
	ck_assert_uint_eq(n, 1);
	coin_store_close(s);
}
END_TEST

/*
 * The map full at every commit while it really grows each time: the
 * loop ends where the address space (or SIZE_MAX) does, with an error
 * and nothing stored.  LMDB leaves an environment whose remap failed
 * with no map at all: closing it is the one thing left to do.
 */
START_TEST(commit_full_unbounded)
{
	struct coin_store *s;
	struct coin_batch *b;
	uint64_t map;
	int rc;

	s = open_first(MAP_TINY, &map);
	b = mbatch(150, 300, T0, 1000);
	lmdb_hook_commit_full(0, LMDB_HOOK_EVER);
	rc = coin_store_put_batch(s, b);
	lmdb_hook_stop();
	ck_assert_msg(rc == ENOMEM || rc == MDB_MAP_FULL, "put: %s (%d)",
	    coin_strerror(rc), rc);
	ck_assert_uint_gt(lmdb_hook_commits(), 1);
	coin_store_close(s);
	s = open_rw();
	holds(s, 300, 300, 0);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	holds(s, 450, 150, 1000);
	coin_store_close(s);
}
END_TEST

/*
 * A fresh store of MAP_TINY bytes in path (made from dir and a count of
 * probes) takes n ticks in one batch, only counting commits.  Returns
 * whether its map grew; *at_commit tells whether the real commit found
 * the map full after all the puts had fitted.
 */
static int
probe(int n, char *path, size_t pathsz, int *at_commit)
{
	static int probes;
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct expect x = { 0, n, 1 };
	int rc;

	snprintf(path, pathsz, "%s/probe%d", dir, probes++);
	rc = coin_store_open_size(&s, path, COIN_STORE_CREATE, MAP_TINY);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	b = mbatch(0, n, T0, 1);
	lmdb_hook_commit_full(0, 0);
	rc = coin_store_put_batch(s, b);
	lmdb_hook_stop();
	coin_batch_free(b);
	ck_assert_msg(rc == 0, "%d ticks: %s", n, coin_strerror(rc));
	*at_commit = lmdb_hook_commits_full() > 0;
	/* Each commit that found the map full was followed by another. */
	ck_assert_uint_eq(lmdb_hook_commits(), lmdb_hook_commits_full() + 1);
	ck_assert_int_eq(coin_store_ticks(s, NULL, INT64_MIN, INT64_MAX, 0,
	    expect_tick, &x), 0);
	ck_assert_int_eq(x.n, n);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	coin_store_close(s);
	return info.map_size > MAP_TINY;
}

/*
 * The same without injection: a batch whose puts fit in the map, but
 * not the pages that its commit writes (the databases' new roots in the
 * main database, the free list).  Batches grow by 16 ticks until one
 * outgrows the map, then the 15 sizes below it are tried: LMDB 0.9.24
 * with 4 KiB pages finds it full at the commit from 850 ticks to 1061.
 */
START_TEST(commit_full_real)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct expect x = { 0, 0, 1 };
	char path[128];
	int n, m, at_commit = 0;

	for (n = 16; !probe(n, path, sizeof(path), &at_commit); n += 16)
		ck_assert_int_lt(n, 100000);
	for (m = n - 15; !at_commit && m < n; m++)
		(void)probe(m, path, sizeof(path), &at_commit);
	ck_assert_msg(at_commit, "no batch up to %d ticks made the commit "
	    "find the map full", n);
	/* The batch of that probe is in the file, whole, and sound. */
	ck_assert_int_eq(coin_store_open(&s, path, 0), 0);
	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	x.split = (int)info.ticks;
	ck_assert_int_eq(coin_store_ticks(s, NULL, INT64_MIN, INT64_MAX, 0,
	    expect_tick, &x), 0);
	ck_assert_uint_eq((uint64_t)x.n, info.ticks);
	ck_assert_int_ge(x.n, n - 15);
	coin_store_close(s);
}
END_TEST

/*
 * Opened again with the small size it was made with, a store that grew
 * keeps the map its writer grew it to, readers too: LMDB alone would
 * map no more than the file holds, and every write that needs a page
 * more would then fail with MDB_MAP_FULL after all its work, and be
 * done again in a map grown anew.
 */
START_TEST(map_kept)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	uint64_t grown;
	int rc;

	rc = coin_store_open_size(&s, db, COIN_STORE_CREATE, MAP_TINY);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	b = mbatch(0, 20000, T0, 1);
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	grown = info.map_size;
	ck_assert_uint_gt(grown, info.map_used);
	coin_store_close(s);

	rc = coin_store_open_size(&s, db, COIN_STORE_CREATE, MAP_TINY);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.map_size, grown);
	/* New pages, in the room there is: one try, no growth. */
	b = mbatch(20000, 2000, T0, 1);
	lmdb_hook_commit_full(0, 0);	/* none fails: only counted */
	rc = coin_store_put_batch(s, b);
	lmdb_hook_stop();
	coin_batch_free(b);
	ck_assert_msg(rc == 0, "put: %s", coin_strerror(rc));
	ck_assert_uint_eq(lmdb_hook_commits(), 1);
	ck_assert_uint_eq(lmdb_hook_grows(), 0);
	holds(s, 22000, 20000, 1);
	coin_store_close(s);

	rc = coin_store_open_size(&s, db, COIN_STORE_RDONLY, MAP_TINY);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_ge(info.map_size, grown);
	coin_store_close(s);
	/* Asked for more than the file records: that much. */
	rc = coin_store_open_size(&s, db, COIN_STORE_RDONLY, 2 * grown);
	ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
	ck_assert_int_eq(coin_store_info(s, &info), 0);
	ck_assert_uint_eq(info.map_size, 2 * grown);
	coin_store_close(s);
	/* The map taken after the open fails: so does the open, saying why. */
	lmdb_hook_grow_fail(1);
	rc = coin_store_open_size(&s, db, COIN_STORE_RDONLY, MAP_TINY);
	lmdb_hook_stop();
	ck_assert_msg(rc == ENOMEM, "open: %s", coin_strerror(rc));
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	holds(s, 22000, 20000, 1);
	coin_store_close(s);
}
END_TEST
/*
 * Pruning, in five transactions and more, with each one in turn found
 * full at its commit: the counts are those of a plain run.
 */
START_TEST(commit_full_prune)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_batch *b;
	struct coin_tick t;
	struct coin_stat st[2];
	uint64_t nt, ns;
	unsigned long after, plain = 0, failed;
	int i, rc;

	for (after = 0;; after++) {
		rc = coin_store_open_size(&s, db, COIN_STORE_CREATE,
		    MAP_TINY);
		ck_assert_msg(rc == 0, "open: %s", coin_strerror(rc));
		/* 12,000 ticks, 11,000 to prune: two bounded transactions. */
		ck_assert_int_eq(coin_batch_new(&b), 0);
		for (i = 0; i < 12000; i++) {
			snprintf(t.pair, sizeof(t.pair), "p%d/usd", i % 2);
			t.ts = T0 + (i / 2) * 60;
			t.price = 1 + i;
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
		ck_assert_int_eq(coin_store_put_batch(s, b), 0);
		coin_batch_free(b);
		st[0] = mkstat("p0/usd", T0, 1, 5);
		st[1] = mkstat("p1/usd", T0 + 5999 * 60, 1, 5);
		ck_assert_int_eq(coin_store_put_stats(s, st, 2), 0);
		lmdb_hook_commit_full(after, 1);
		rc = coin_store_prune(s, T0 + 5500 * 60, &nt, &ns);
		lmdb_hook_stop();
		failed = lmdb_hook_commits_failed();
		ck_assert_msg(rc == 0, "prune, commit %lu full: %s", after + 1,
		    coin_strerror(rc));
		ck_assert_uint_eq(nt, 11000);
		ck_assert_uint_eq(ns, 1);
		ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info),
		    0);
		ck_assert_uint_eq(info.ticks, 1000);
		ck_assert_uint_eq(info.stats, 1);
		ck_assert_int_eq(info.first_ts, T0 + 5500 * 60);
		coin_store_close(s);
		teardown();
		setup();
		if (after == 0)
			plain = lmdb_hook_commits() - failed;
		ck_assert_uint_eq(lmdb_hook_commits(), plain + failed);
		if (failed == 0)
			break;		/* past the last commit */
	}
	ck_assert_uint_ge(after, 5);
	ck_assert_uint_eq(after, plain);
}
END_TEST

Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, create_and_modes);
	tcase_add_test(tc, paths);
	tcase_add_test(tc, ticks_query);
	tcase_add_test(tc, replace_and_stop);
	tcase_add_test(tc, pairs);
	tcase_add_test(tc, map_grows);
	tcase_add_test(tc, map_adopted);
	tcase_add_test(tc, schema_refused);
	tcase_add_test(tc, schema1_upgraded);
	tcase_add_test(tc, schema5_upgraded);
	tcase_add_test(tc, schema5_bad_tick);
	tcase_add_test(tc, not_ours_or_damaged);
	tcase_add_test(tc, tail_key_too_long);
	tcase_add_test(tc, stats);
	tcase_add_test(tc, check);
	tcase_add_test(tc, codecs);
	tcase_add_test(tc, codecs_corners);
	tcase_add_test(tc, values_corrupt);
	tcase_add_test(tc, prune);
	tcase_add_test(tc, prune_long_pair);
	tcase_add_test(tc, backup);
	tcase_add_test(tc, stale_readers);
	suite_add_tcase(s, tc);
	tc = tcase_create("map full");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, commit_full_retried);
	tcase_add_test(tc, commit_full_no_room);
	tcase_add_test(tc, commit_full_unbounded);
	tcase_add_test(tc, commit_full_real);
	tcase_add_test(tc, commit_full_prune);
	tcase_add_test(tc, map_kept);
	suite_add_tcase(s, tc);
	return s;
}
