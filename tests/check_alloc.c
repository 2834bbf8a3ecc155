/* SPDX-License-Identifier: ISC */
/* check_alloc.c - libcoin with its nth allocation failing, for every n */
#include <errno.h>
#include <locale.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alloc_hook.h"
#include "check_main.h"
#include "coin_int.h"

/*
 * Each operation runs again and again with its first, second, ... nth
 * allocation failing (tests/alloc_hook.c), until a run sees no failure
 * and completes.  Every failed run must end in a clean out-of-memory
 * error, leave nothing allocated once its objects are released, and
 * leave the store as it was; what the operation owns must still work.
 */

#define T0		1732521600
#define ROUNDS_MAX	10000

static char dir[64];
static char db[96];

static void
setup(void)
{
	scratch_make(dir, sizeof(dir), "check_alloc");
	snprintf(db, sizeof(db), "%s/db", dir);
}

static void
teardown(void)
{
	scratch_remove(dir);
}

/*
 * Check's assertions allocate (its static library is wrapped too): no
 * ck_assert between alloc_hook_start() and alloc_hook_stop().
 */

/* End round n: nothing it took is kept.  Returns 1 if its nth failed. */
static int
round_end(unsigned long n, const char *what)
{
	int failed = alloc_hook_stop();
	size_t live = alloc_hook_live();

	ck_assert_msg(live == 0, "%s, allocation %lu failing: %zu blocks "
	    "not freed", what, n, live);
	ck_assert_msg(n < ROUNDS_MAX, "%s: no end to its allocations", what);
	return failed;
}

/* A failed round must give a clean out-of-memory error. */
static void
is_enomem(int rc, unsigned long n, const char *what)
{
	ck_assert_msg(rc == COIN_ENOMEM || rc == ENOMEM, "%s, allocation %lu "
	    "failing: %s (%d), not out of memory", what, n,
	    coin_strerror(rc), rc);
}

static struct coin_tick
mktick(const char *pair, int64_t ts, double price)
{
	struct coin_tick t;

	snprintf(t.pair, sizeof(t.pair), "%s", pair);
	t.ts = ts;
	t.price = price;
	return t;
}

/* ------------------------------------------------------------------ */
/* The parser, the validator, the formatters and the time parsers. */

static const char *const lines[] = {
	"{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,\"price\":98765.43}",
	"{\"pair\":\"a\\/b\",\"ts\":\"2024-11-25T08:00:00.5+01:00\","
	    "\"price\":1e-300,\"x\":[{\"y\":null},true,false,\"\\u00e9\"]}",
	"{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,\"window\":86400,"
	    "\"n\":1440,\"mean\":98000.5,\"stddev\":123.25,\"min\":97000,"
	    "\"max\":99000,\"last\":98500}",
	"{\"rank\":1,\"of\":2,\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"window\":60,\"n\":1,\"mean\":1.5,\"stddev\":null,\"min\":1,"
	    "\"max\":2,\"last\":2}",
	"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"pair\":\"c/d\"}",
	"{\"pair\":\"a/b\",\"ts\":99999999999999999999,\"price\":1}",
	"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":NaN}",
	"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1e999}",
	"{\"pair\":\"a b\",\"ts\":1732521600,\"price\":1}",
	"{\"pair\":\"a/b\",\"ts\":1000,\"price\":1} x",
	"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60}",
	"\xc3\x28",
	"",
};

START_TEST(parse_allocates_nothing)
{
	struct coin_tick t;
	struct coin_stat s;
	char why[COIN_ERRBUF], buf[COIN_RECBUF];
	int64_t v;
	size_t i;
	int pass;
#ifdef __GLIBC__
	struct mallinfo2 before, after;
#endif

	/* The "C" locale is made once, at the first use: make it now. */
	ck_assert_ptr_nonnull(coin_c_locale());
	for (pass = 0; pass < 2; pass++) {
#ifdef __GLIBC__
		before = mallinfo2();
#endif
		alloc_hook_start(1);
		for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
			if (coin_tick_parse(lines[i], strlen(lines[i]), T0,
			    &t, why) == 0)
				coin_tick_format(&t, buf);
			if (coin_stat_parse(lines[i], strlen(lines[i]), T0,
			    &s, why) == 0) {
				coin_stat_format(&s, buf);
				coin_rank_format(1, 2, &s, buf);
			}
			(void)coin_pair_valid(lines[i], strlen(lines[i]), why);
			(void)coin_line_blank(lines[i], strlen(lines[i]));
		}
		coin_double_format(0.1, buf);
		(void)coin_duration_parse("1h30m", &v, why);
		(void)coin_duration_parse("99999999999999999w", &v, why);
		(void)coin_time_parse("24h", T0, &v, why);
		(void)coin_time_parse("2024-10-21T10:55:00Z", T0, &v, why);
		(void)coin_rfc3339_parse("2024-10-21T10:55:00+05:30", 25, &v);
		coin_rfc3339_format(T0, buf);
		ck_assert_int_eq(alloc_hook_stop(), 0);
		ck_assert_uint_eq(alloc_hook_calls(), 0);
#ifdef __GLIBC__
		/* Not even libc allocates for it (strtod, vsnprintf). */
		after = mallinfo2();
		if (pass == 1) {
			ck_assert_uint_eq(after.uordblks, before.uordblks);
			ck_assert_uint_eq(after.hblkhd, before.hblkhd);
		}
#endif
	}
}
END_TEST

/*
 * Without the "C" locale (newlocale() out of memory), numbers still
 * read and write with a '.' under a locale whose mark is a comma.
 * Found by this suite: "price":1234.5678 was read as 1234 there.
 */
START_TEST(no_c_locale)
{
	struct coin_tick t;
	struct coin_stat st;
	char buf[COIN_RECBUF], why[COIN_ERRBUF], tb[COIN_RECBUF];
	const char *line;
	locale_t made;
	int rc[3];

	ck_assert_msg(setlocale(LC_ALL, "de_DE.UTF-8") != NULL,
	    "no de_DE.UTF-8 locale: run under make unit, which makes one "
	    "and sets LOCPATH");
	alloc_hook_start_from(1);
	made = coin_c_locale();
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1234.5678}";
	rc[0] = coin_tick_parse(line, strlen(line), T0, &t, why);
	coin_tick_format(&t, tb);
	coin_double_format(0.25, buf);
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,"
	    "\"n\":2,\"mean\":1.5,\"stddev\":0.7071067811865476,"
	    "\"min\":1,\"max\":2,\"last\":2.5}";
	rc[1] = coin_stat_parse(line, strlen(line), T0, &st, why);
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,5}";
	rc[2] = coin_tick_parse(line, strlen(line), T0, &t, why);
	alloc_hook_stop();
	setlocale(LC_ALL, "C");
	if (made != (locale_t)0)
		return;		/* made before, under CK_FORK=no */
	ck_assert_uint_ge(alloc_hook_calls(), 1);
	ck_assert_int_eq(rc[0], 0);
	ck_assert_str_eq(tb, "{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"price\":1234.5678}\n");
	ck_assert_str_eq(buf, "0.25");
	ck_assert_int_eq(rc[1], 0);
	ck_assert(st.mean == 1.5 && st.last == 2.5);
	ck_assert(st.stddev == 0.7071067811865476);
	ck_assert_int_eq(rc[2], COIN_EBADREC);	/* a comma stays JSON's */
}
END_TEST

/*
 * And where the mark is more than a byte (ps_AF: U+066B), a number that
 * needs strtod() (21 digits: the fast paths read up to 19 without any
 * locale) is refused rather than read short.  The locale is made here,
 * if it can be.
 */
START_TEST(no_c_locale_wide_mark)
{
	struct coin_tick t;
	char cmd[256], why[COIN_ERRBUF];
	const char *line;
	locale_t made;
	double fast;
	int rc[3];

	snprintf(cmd, sizeof(cmd), "localedef -i ps_AF -f UTF-8 "
	    "'%s/ps_AF.UTF-8' >/dev/null 2>&1", dir);
	if (system(cmd) != 0 || setenv("LOCPATH", dir, 1) != 0 ||
	    setlocale(LC_NUMERIC, "ps_AF.UTF-8") == NULL)
		return;		/* no such locale here: nothing to prove */
	alloc_hook_start_from(1);
	made = coin_c_locale();
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1234.5678}";
	rc[2] = coin_tick_parse(line, strlen(line), T0, &t, why);
	fast = t.price;
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1234}";
	rc[1] = coin_tick_parse(line, strlen(line), T0, &t, why);
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"price\":1234.5678901234567890123}";
	rc[0] = coin_tick_parse(line, strlen(line), T0, &t, why);
	alloc_hook_stop();
	setlocale(LC_ALL, "C");
	if (made != (locale_t)0)
		return;
	ck_assert_int_eq(rc[0], COIN_EBADREC);
	ck_assert_str_eq(why, "price cannot be read in this locale");
	ck_assert_int_eq(rc[1], 0);
	ck_assert_int_eq(rc[2], 0);
	ck_assert(fast == 1234.5678);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The reader: open, a line that makes the buffer grow, close. */

START_TEST(reader)
{
	static const char *const want[] = { "first", NULL, "b", "last" };
	char path[96], *big;
	const char *l;
	struct coin_reader *r;
	unsigned long n;
	size_t len, got, bigsz = 300 * 1024;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/in", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	ck_assert_ptr_nonnull(big = malloc(bigsz));
	memset(big, 'x', bigsz);
	fputs("first\n", f);
	fwrite(big, 1, bigsz, f);
	fputs("\nb\r\nlast", f);
	ck_assert_int_eq(fclose(f), 0);
	free(big);
	for (n = 1;; n++) {
		alloc_hook_start(n);
		got = 0;
		if ((rc = coin_reader_open(&r, path)) == 0) {
			while ((rc = coin_reader_next(r, &l, &len)) == 1)
				got++;
			/* A failed read is taken up again where it was. */
			if (rc == COIN_ENOMEM || rc == ENOMEM) {
				ck_assert_int_eq(alloc_hook_stop(), 1);
				while (coin_reader_next(r, &l, &len) == 1) {
					got++;
					ck_assert_uint_eq(coin_reader_lineno(r),
					    got);
					if (want[got - 1] != NULL)
						ck_assert_int_eq(memcmp(l,
						    want[got - 1], len), 0);
					else
						ck_assert_uint_eq(len, bigsz);
				}
				ck_assert_uint_eq(got, 4);
			}
			coin_reader_close(r);
		}
		if (!round_end(n, "reader")) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(got, 4);
			break;
		}
		is_enomem(rc, n, "reader");
	}
	/* calloc, malloc, strdup and the growth of the buffer. */
	ck_assert_uint_ge(n, 6);
}
END_TEST

static int
count_out(const char *buf, size_t len, void *arg)
{
	(void)buf;
	*(size_t *)arg += len;
	return 0;
}

static void
count_bad(const char *name, size_t lineno, const char *why, void *arg)
{
	(void)name;
	(void)lineno;
	(void)why;
	++*(size_t *)arg;
}

/*
 * Stats read on two cores (chunks, their text, the reasons of bad
 * lines, the helper thread, the records' array): out of memory at any
 * of them, ENOMEM and nothing kept; or a helper that cannot start, and
 * the chunks all parsed here.
 */
START_TEST(stats_read)
{
	char path[96];
	struct coin_reader *r;
	struct coin_stat *st;
	unsigned long n;
	size_t i, nst, cap, bad, helpless = 0;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/stats", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	for (i = 0; i < 1500; i++)
		fprintf(f, i % 500 == 7 ? "bad %zu\n" :
		    "{\"pair\":\"p%zu/usd\",\"ts\":1732521600,\"window\":60,"
		    "\"n\":1,\"mean\":1,\"stddev\":null,\"min\":1,\"max\":1,"
		    "\"last\":1}\n", i);
	ck_assert_int_eq(fclose(f), 0);
	for (n = 1;; n++) {
		st = NULL;
		nst = cap = bad = 0;
		alloc_hook_start(n);
		if ((rc = coin_reader_open(&r, path)) == 0) {
			rc = coin_stats_read(r, 0, count_bad, &bad, &st, &nst,
			    &cap);
			coin_reader_close(r);
		}
		free(st);
		if (!round_end(n, "stats_read"))
			break;
		if (rc == 0) {
			/* The helper did not start: all parsed here. */
			ck_assert_uint_eq(nst, 1497);
			ck_assert_uint_eq(bad, 3);
			helpless++;
		} else
			is_enomem(rc, n, "stats_read");
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(nst, 1497);
	ck_assert_uint_eq(bad, 3);
	ck_assert_uint_ge(helpless, 1);
	/* The reader, 6 chunks, 3 reasons, the records, the helper. */
	ck_assert_uint_ge(n, 14);
}
END_TEST

/*
 * Stat records formatted in memory (coinstddev's output) and rank
 * records on two cores: out of memory at any allocation, ENOMEM, and
 * nothing kept but the text the caller frees.
 */
/* The process's malloc is glibc's own (not a sanitizer's). */
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && \
    !defined(__SANITIZE_THREAD__)
#define GLIBC_MALLOC	1
#else
#define GLIBC_MALLOC	0
#endif

/*
 * Transparent huge pages on, in "always" or "madvise" mode, and the
 * process's malloc glibc's own: then coin_heap_huge() has a job.
 */
static int
huge_expected(void)
{
	char mode[128];
	FILE *f;
	int on;

	if (!GLIBC_MALLOC || (f = fopen(
	    "/sys/kernel/mm/transparent_hugepage/enabled", "r")) == NULL)
		return 0;
	on = fgets(mode, sizeof(mode), f) != NULL &&
	    strstr(mode, "[never]") == NULL;
	fclose(f);
	return on;
}

/*
 * The VmFlags of the mapping of /proc/self/smaps that holds p into
 * flags; 0, or -1 when there is none.
 */
static int
vm_flags(const void *p, char *flags, size_t size)
{
	char line[512];
	unsigned long lo, hi, a = (unsigned long)(uintptr_t)p;
	int in = 0, rc = -1;
	FILE *f;

	if ((f = fopen("/proc/self/smaps", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = lo <= a && a < hi;
		else if (in && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(flags, size, "%s", line + 8);
			rc = 0;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* Run fn in a child (the allocator's settings are its for good): 0. */
static void
in_child(int (*fn)(void))
{
	pid_t pid;
	int status;

	pid = fork();
	ck_assert_int_ne(pid, -1);
	if (pid == 0)
		_exit(fn());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

/* Does the mapping that holds p say it is advised for huge pages? */
static int
advised(const void *p)
{
	char flags[512];

	return vm_flags(p, flags, sizeof(flags)) == 0 &&
	    strstr(flags, " hg") != NULL;
}

static void *
heap_thread(void *arg)
{
	(void)arg;
	return malloc(3u << 20);
}

/*
 * After coin_heap_huge() malloc still serves every size, on one thread
 * and another; where huge pages can be had, the large blocks of both
 * lie in a mapping advised for them (VmFlags "hg"), and the first
 * block after the call from COIN_HEAP_SMALL on: the heap below the
 * first 2 MiB boundary past what it held before is not handed out, but
 * for that much, left on small pages for a command that needs little.
 */
static int
huge_child(void)
{
	pthread_t t;
	char *big, *small;
	void *other;

	coin_heap_huge();
	coin_heap_huge();	/* twice: no harm */
	if ((big = malloc(8u << 20)) == NULL ||
	    (small = malloc(100)) == NULL)
		return 2;
	memset(big, 1, 8u << 20);
	if (pthread_create(&t, NULL, heap_thread, NULL) != 0 ||
	    pthread_join(t, &other) != 0 || other == NULL)
		return 3;
	memset(other, 2, 3u << 20);
	/*
	 * All of it but its first COIN_HEAP_SMALL at most (and a chunk
	 * header): the heap below that is not handed out.  It was up to
	 * 2 MiB, where the first block went.
	 */
	if (huge_expected() && (!advised(big + COIN_HEAP_SMALL + 64) ||
	    !advised(big + (8u << 20) - 1)))
		return 4;
	if (huge_expected() && !advised((char *)other + (3u << 20) - 1))
		return 5;
	free(other);
	free(small);
	free(big);
	return 0;
}

START_TEST(heap_huge)
{
	in_child(huge_child);
}
END_TEST

/*
 * Its probe of the heap refused (the one allocation it makes under
 * glibc's malloc; a sanitizer's refuses the settings before it): it
 * returns, holding nothing, and malloc goes on serving large blocks.
 */
static int
huge_refused_child(void)
{
	char *big;

	alloc_hook_start(1);
	coin_heap_huge();
	if (!alloc_hook_stop() && GLIBC_MALLOC)
		return 2;	/* it made no allocation to fail */
	if (alloc_hook_live() != 0)
		return 3;
	if ((big = malloc(8u << 20)) == NULL)
		return 4;
	memset(big, 1, 8u << 20);
	free(big);
	return 0;
}

START_TEST(heap_huge_refused)
{
	in_child(huge_refused_child);
}
END_TEST

START_TEST(records_text)
{
	static struct coin_stat st[1500];
	static const struct coin_stat *sp[1500];
	struct coin_text t;
	unsigned long n;
	size_t i, want = 0, got;
	char buf[COIN_RECBUF];
	int rc;

	for (i = 0; i < 1500; i++) {
		snprintf(st[i].pair, sizeof(st[i].pair), "p%zu/usd", i);
		st[i].ts = T0;
		st[i].window = 60;
		st[i].n = 2;
		st[i].mean = st[i].min = st[i].max = st[i].last = 1.0 / 3;
		st[i].stddev = 1e-3 * (double)(1500 - i) / 7;
		sp[i] = &st[i];
		want += coin_stat_format(&st[i], buf);
	}
	for (n = 1;; n++) {
		memset(&t, 0, sizeof(t));
		alloc_hook_start(n);
		rc = coin_stats_text(st, 1500, &t);
		got = t.len;
		free(t.buf);
		if (!round_end(n, "stats_text"))
			break;
		is_enomem(rc, n, "stats_text");
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(got, want);
	/* Over 160 KiB: the text grew once (its first, then 320 KiB). */
	ck_assert_uint_gt(want, 256 * COIN_RECBUF);
	ck_assert_uint_ge(n, 3);
	for (n = 1;; n++) {
		got = 0;
		alloc_hook_start(n);
		rc = coin_ranks_write(sp, 1500, count_out, &got);
		if (!round_end(n, "ranks_write"))
			break;
		ck_assert_uint_eq(got, 0);
		is_enomem(rc, n, "ranks_write");
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_gt(got, want);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The batch: adds that grow its arrays, its sort, truncation. */

#define BATCH_N	300

static void
batch_pair(size_t i, char *pair, size_t sz)
{
	snprintf(pair, sz, "coin-with-a-long-name-%zu/usd", i % 97);
}

/* The first n ticks of b are those added. */
static void
batch_holds(const struct coin_batch *b, size_t n)
{
	struct coin_tick t;
	char pair[64];
	size_t i;

	ck_assert_uint_eq(coin_batch_len(b), n);
	for (i = 0; i < n; i++) {
		coin_batch_get(b, i, &t);
		batch_pair(i, pair, sizeof(pair));
		ck_assert_str_eq(t.pair, pair);
		ck_assert_int_eq(t.ts, T0 + (int64_t)i);
		ck_assert(t.price == (double)(i + 1));
	}
}

START_TEST(batch)
{
	struct coin_batch *b;
	struct coin_tick t;
	unsigned long n;
	size_t i;
	int rc;

	for (n = 1;; n++) {
		alloc_hook_start(n);
		b = NULL;
		i = 0;
		if ((rc = coin_batch_new(&b)) == 0) {
			for (; i < BATCH_N; i++) {
				batch_pair(i, t.pair, sizeof(t.pair));
				t.ts = T0 + (int64_t)i;
				t.price = (double)(i + 1);
				if ((rc = coin_batch_add(b, &t)) != 0)
					break;
			}
			if (rc == 0)
				rc = coin_batch_sort(b);
		}
		alloc_hook_stop();
		if (rc != 0 && b != NULL) {
			/* Nothing half added; the batch goes on working. */
			batch_holds(b, i);
			for (; i < BATCH_N; i++) {
				batch_pair(i, t.pair, sizeof(t.pair));
				t.ts = T0 + (int64_t)i;
				t.price = (double)(i + 1);
				ck_assert_int_eq(coin_batch_add(b, &t), 0);
			}
			ck_assert_int_eq(coin_batch_sort(b), 0);
		}
		if (b != NULL) {
			batch_holds(b, BATCH_N);
			coin_batch_truncate(b, 10);
			batch_holds(b, 10);
		}
		coin_batch_free(b);
		if (!round_end(n, "batch")) {
			ck_assert_int_eq(rc, 0);
			break;
		}
		is_enomem(rc, n, "batch");
	}
	ck_assert_uint_ge(n, 5);
}
END_TEST

/*
 * Each pair's name is held once, however many of its ticks the batch
 * has; a truncation lets go of the names that came first after it, and
 * a name added again after that is held anew.  The sort orders names as
 * LMDB orders keys: bytes, then the shorter first.
 */
START_TEST(batch_names)
{
	static const char *const names[] = { "ab/usd", "a/usd", "ab/usdt",
	    "b/eur", "a/usd", "ab/usd" };
	static const size_t sorted[] = { 4, 1, 0, 5, 2, 3 };
	struct coin_batch *b;
	struct coin_tick t;
	char pair[64];
	size_t i, len = 0;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < BATCH_N; i++) {
		batch_pair(i, t.pair, sizeof(t.pair));
		if (i < 97)
			len += strlen(t.pair);
		t.ts = T0 + (int64_t)i;
		t.price = (double)(i + 1);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_uint_eq(b->np, 97);
	ck_assert_uint_eq(b->alen, len);
	coin_batch_truncate(b, 150);
	ck_assert_uint_eq(b->np, 97);
	batch_holds(b, 150);
	coin_batch_truncate(b, 50);
	ck_assert_uint_eq(b->np, 50);
	batch_holds(b, 50);
	/* Pair 60 went with the truncation; pair 5 did not. */
	batch_pair(60, t.pair, sizeof(t.pair));
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	batch_pair(5, t.pair, sizeof(t.pair));
	ck_assert_int_eq(coin_batch_add(b, &t), 0);
	ck_assert_uint_eq(b->np, 51);
	coin_batch_get(b, 50, &t);
	batch_pair(60, pair, sizeof(pair));
	ck_assert_str_eq(t.pair, pair);
	coin_batch_get(b, 51, &t);
	batch_pair(5, pair, sizeof(pair));
	ck_assert_str_eq(t.pair, pair);
	coin_batch_truncate(b, 50);
	batch_holds(b, 50);
	ck_assert_uint_eq(b->np, 50);

	coin_batch_truncate(b, 0);
	ck_assert_uint_eq(b->np, 0);
	ck_assert_uint_eq(b->alen, 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(t.pair, sizeof(t.pair), "%s", names[i]);
		t.ts = T0 + (int64_t)(i % 2);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_uint_eq(b->np, 4);
	ck_assert_int_eq(coin_batch_sort(b), 0);
	for (i = 0; i < sizeof(sorted) / sizeof(sorted[0]); i++)
		ck_assert_uint_eq(b->order[i], sorted[i]);
	coin_batch_free(b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The store. */

static void
store_sound(struct coin_store *s, uint64_t ticks, uint64_t stats)
{
	struct coin_storeinfo info;

	ck_assert_int_eq(coin_store_check(s, no_fault, NULL, &info), 0);
	ck_assert_uint_eq(info.ticks, ticks);
	ck_assert_uint_eq(info.stats, stats);
}

START_TEST(store_open)
{
	static const int flags[] = { COIN_STORE_CREATE, COIN_STORE_RDONLY };
	struct coin_store *s;
	unsigned long n;
	size_t i;
	int rc;

	for (i = 0; i < 2; i++) {
		for (n = 1;; n++) {
			alloc_hook_start(n);
			s = NULL;
			if ((rc = coin_store_open(&s, db, flags[i])) == 0)
				coin_store_close(s);
			if (!round_end(n, "coin_store_open")) {
				ck_assert_int_eq(rc, 0);
				break;
			}
			is_enomem(rc, n, "coin_store_open");
		}
		ck_assert_uint_ge(n, 3);	/* calloc, strdup */
	}
	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_RDONLY), 0);
	store_sound(s, 0, 0);
	coin_store_close(s);
}
END_TEST

static struct coin_store *
open_rw(void)
{
	struct coin_store *s;

	ck_assert_int_eq(coin_store_open(&s, db, COIN_STORE_CREATE), 0);
	return s;
}

static int
count_tick(const struct coin_tick *t, void *arg)
{
	(void)t;
	(*(size_t *)arg)++;
	return 0;
}

/*
 * Put nt ticks of 7 pairs, per of them a minute from minute m0, under
 * each allocation failing in turn: all of them or none, never a part,
 * onto the before ticks already stored.
 */
static void
put_failing(struct coin_store *s, size_t nt, int64_t m0, size_t per,
    size_t before, const char *what)
{
	struct coin_batch *b;
	struct coin_tick t;
	unsigned long n;
	size_t i, count;
	char pair[32];
	int rc;

	for (n = 1;; n++) {
		ck_assert_int_eq(coin_batch_new(&b), 0);
		for (i = 0; i < nt; i++) {
			snprintf(pair, sizeof(pair), "p%zu/usd", i % 7);
			t = mktick(pair, T0 + 60 * (m0 + (int64_t)(i / per)),
			    1 + (double)i);
			ck_assert_int_eq(coin_batch_add(b, &t), 0);
		}
		alloc_hook_start(n);
		rc = coin_store_put_batch(s, b);
		alloc_hook_stop();
		coin_batch_free(b);
		count = 0;
		ck_assert_int_eq(coin_store_ticks(s, NULL, 0, INT64_MAX, 0,
		    count_tick, &count), 0);
		if (!round_end(n, what)) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(count, before + nt);
			break;
		}
		is_enomem(rc, n, what);
		ck_assert_uint_eq(count, before);	/* all or none */
	}
	ck_assert_uint_ge(n, 2);
	store_sound(s, before + nt, 0);
}

START_TEST(store_put_batch)
{
	struct coin_store *s = open_rw();

	put_failing(s, 200, 0, 1, 0, "coin_store_put_batch");
	/* A batch of few times, for the stage: hashed, not sorted. */
	put_failing(s, 70, 200, 7, 200, "coin_store_put_batch, staged");
	coin_store_close(s);
}
END_TEST

/*
 * Ticks that make long monotonic queues: "down/usd" falls (its maxima
 * queue holds all), "up/usd" rises (its minima queue does).
 */
#define QUEUE_N		600

static void
queue_ticks(struct coin_store *s)
{
	struct coin_batch *b;
	struct coin_tick t;
	size_t i;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	for (i = 0; i < QUEUE_N; i++) {
		t = mktick("down/usd", T0 + 60 * (int64_t)i,
		    1000 - (double)i);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
		t = mktick("up/usd", T0 + 60 * (int64_t)i, 1 + (double)i);
		ck_assert_int_eq(coin_batch_add(b, &t), 0);
	}
	ck_assert_int_eq(coin_store_put_batch(s, b), 0);
	coin_batch_free(b);
}

START_TEST(store_compute)
{
	struct coin_store *s = open_rw();
	struct coin_batch *req;
	struct coin_stat out[3];
	struct coin_tick t;
	int64_t last = T0 + 60 * (QUEUE_N - 1);
	unsigned long n;
	uint64_t count;
	size_t nout;
	int rc;

	queue_ticks(s);
	for (n = 1;; n++) {
		ck_assert_int_eq(coin_batch_new(&req), 0);
		t = mktick("down/usd", last, 1);
		ck_assert_int_eq(coin_batch_add(req, &t), 0);
		t = mktick("up/usd", last, 1);
		ck_assert_int_eq(coin_batch_add(req, &t), 0);
		t = mktick("none/usd", last, 1);
		ck_assert_int_eq(coin_batch_add(req, &t), 0);
		alloc_hook_start(n);
		rc = coin_store_compute(s, req, 86400, 0, out, &nout);
		alloc_hook_stop();
		coin_batch_free(req);
		ck_assert_int_eq(coin_store_stats_count(s, last, &count), 0);
		if (!round_end(n, "coin_store_compute")) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(nout, 3);
			ck_assert_int_eq(out[0].n, QUEUE_N);
			ck_assert(out[0].max == 1000);
			ck_assert(out[1].min == 1);
			ck_assert_int_eq(out[2].n, 0);
			ck_assert_uint_eq(count, 2);
			break;
		}
		is_enomem(rc, n, "coin_store_compute");
		ck_assert_uint_eq(count, 0);	/* all or none */
	}
	/* The order, then each queue of 600 from 256: twice, twice. */
	ck_assert_uint_ge(n, 8);
	store_sound(s, 2 * QUEUE_N, 2);
	coin_store_close(s);
}
END_TEST

static int
count_stat(const struct coin_stat *st, void *arg)
{
	(void)st;
	(*(size_t *)arg)++;
	return 0;
}

START_TEST(store_compute_all)
{
	struct coin_store *s = open_rw();
	int64_t last = T0 + 60 * (QUEUE_N - 1);
	unsigned long n;
	size_t got;
	int rc;

	queue_ticks(s);
	for (n = 1;; n++) {
		got = 0;
		alloc_hook_start(n);
		rc = coin_store_compute_all(s, last, 3600, 1, count_stat,
		    &got);
		if (!round_end(n, "coin_store_compute_all")) {
			ck_assert_int_eq(rc, 0);
			ck_assert_uint_eq(got, 2);
			break;
		}
		is_enomem(rc, n, "coin_store_compute_all");
		ck_assert_uint_eq(got, 0);
	}
	ck_assert_uint_ge(n, 2);
	store_sound(s, 2 * QUEUE_N, 2);
	coin_store_close(s);
}
END_TEST

/*
 * What allocates nothing in libcoin itself (LMDB's own allocations are
 * not seen here): one round, no allocation call, success.
 */
START_TEST(store_no_alloc)
{
	struct coin_store *s = open_rw();
	struct coin_storeinfo info;
	struct coin_stat st;
	char bdir[128];
	uint64_t nticks, nstats, rank;
	size_t got = 0, i;
	int64_t ts;
	int rc[9];

	queue_ticks(s);
	memset(&st, 0, sizeof(st));
	snprintf(st.pair, sizeof(st.pair), "up/usd");
	st.ts = T0;
	st.window = 60;
	st.n = 2;
	st.mean = st.stddev = st.min = st.max = st.last = 1;
	snprintf(bdir, sizeof(bdir), "%s/backup", dir);
	alloc_hook_start(1);
	rc[0] = coin_store_put_stats(s, &st, 1);
	rc[1] = coin_store_check(s, no_fault, NULL, &info);
	rc[2] = coin_store_ticks(s, "up/usd", 0, INT64_MAX, 1, count_tick,
	    &got);
	rc[3] = coin_store_stats_at(s, T0, count_stat, &got);
	rc[4] = coin_store_stat_rank(s, "up/usd", T0, &st, &rank);
	rc[5] = coin_store_stat_time(s, INT64_MAX, &ts);
	rc[6] = coin_store_info(s, &info);
	rc[7] = coin_store_backup(s, bdir);
	rc[8] = coin_store_prune(s, T0 + 60 * 100, &nticks, &nstats);
	ck_assert_int_eq(alloc_hook_stop(), 0);
	ck_assert_uint_eq(alloc_hook_calls(), 0);
	ck_assert_uint_eq(alloc_hook_live(), 0);
	for (i = 0; i < 9; i++)
		ck_assert_msg(rc[i] == 0, "step %zu: %s", i,
		    coin_strerror(rc[i]));
	ck_assert_uint_eq(got, 2);
	ck_assert_uint_eq(rank, 1);
	ck_assert_uint_eq(nticks, 200);
	ck_assert_uint_eq(nstats, 1);
	store_sound(s, 2 * QUEUE_N - 200, 0);
	coin_store_close(s);
	ck_assert_int_eq(coin_store_open(&s, bdir, COIN_STORE_RDONLY), 0);
	store_sound(s, 2 * QUEUE_N, 1);
	coin_store_close(s);
}
END_TEST

Suite *
alloc_suite(void)
{
	Suite *s = suite_create("alloc");
	TCase *tc;

	tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, parse_allocates_nothing);
	tcase_add_test(tc, no_c_locale);
	tcase_add_test(tc, no_c_locale_wide_mark);
	tcase_add_test(tc, reader);
	tcase_add_test(tc, stats_read);
	tcase_add_test(tc, records_text);
	tcase_add_test(tc, batch);
	tcase_add_test(tc, batch_names);
	tcase_add_test(tc, heap_huge);
	tcase_add_test(tc, heap_huge_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, store_open);
	tcase_add_test(tc, store_put_batch);
	tcase_add_test(tc, store_compute);
	tcase_add_test(tc, store_compute_all);
	tcase_add_test(tc, store_no_alloc);
	suite_add_tcase(s, tc);
	return s;
}
