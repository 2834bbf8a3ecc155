/* SPDX-License-Identifier: ISC */
/* check_reader.c - unit tests of counted, bounded line input */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "coin_int.h"

static char path[64];

static void
setup(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/check_reader.XXXXXX");
	ck_assert_int_ne(fd = mkstemp(path), -1);
	close(fd);
}

static void
teardown(void)
{
	unlink(path);
}

static void
put(const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(lines)
{
	static const char data[] = "one\r\n\ntwo\nthree";
	struct coin_reader *r;
	const char *l;
	size_t n;

	put(data, sizeof(data) - 1);
	ck_assert_int_eq(coin_reader_open(&r, path), 0);
	ck_assert_str_eq(coin_reader_name(r), path);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(memcmp(l, "one", 3), 0);	/* CR dropped */
	ck_assert_uint_eq(coin_reader_lineno(r), 1);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_int_eq(memcmp(l, "two", 3), 0);
	ck_assert_int_eq(coin_reader_ready(r, 0), 1);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_uint_eq(n, 5);	/* a last line without LF */
	ck_assert_int_eq(memcmp(l, "three", 5), 0);
	ck_assert_uint_eq(coin_reader_lineno(r), 4);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 0);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 0);
	coin_reader_close(r);
}
END_TEST

START_TEST(nul_and_long)
{
	size_t big = COIN_LINE_MAX + 1, n;
	char *data = malloc(5 * big), *p = data;
	struct coin_reader *r;
	const char *l;

	ck_assert_ptr_nonnull(data);
	memcpy(p, "a\0b\n", 4);				/* line 1: NUL */
	p += 4;
	memset(p, 'x', COIN_LINE_MAX);			/* line 2: 1 MiB */
	p += COIN_LINE_MAX;
	*p++ = '\n';
	memset(p, 'y', COIN_LINE_MAX);			/* line 3: 1 MiB + CR */
	p += COIN_LINE_MAX;
	*p++ = '\r';
	*p++ = '\n';
	memset(p, 'z', big);				/* line 4: 1 too many */
	p += big;
	*p++ = '\n';
	memcpy(p, "ok\n", 3);				/* line 5 */
	p += 3;
	memset(p, 'w', big);				/* line 6: no LF */
	p += big;
	put(data, (size_t)(p - data));
	free(data);
	ck_assert_int_eq(coin_reader_open(&r, path), 0);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), COIN_ENUL);
	ck_assert_uint_eq(coin_reader_lineno(r), 1);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_uint_eq(n, COIN_LINE_MAX);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_uint_eq(n, COIN_LINE_MAX);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), COIN_ELONG);
	ck_assert_uint_eq(coin_reader_lineno(r), 4);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_int_eq(memcmp(l, "ok", 2), 0);
	ck_assert_uint_eq(coin_reader_lineno(r), 5);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), COIN_ELONG);
	ck_assert_uint_eq(coin_reader_lineno(r), 6);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 0);
	coin_reader_close(r);
}
END_TEST

START_TEST(open_fails)
{
	struct coin_reader *r;

	ck_assert_int_eq(coin_reader_open(&r, "/nonexistent/x"), ENOENT);
	ck_assert_int_eq(coin_reader_open(&r, "/"), 0);	/* a directory */
	{
		const char *l;
		size_t n;

		ck_assert_int_eq(coin_reader_next(r, &l, &n), EISDIR);
	}
	coin_reader_close(r);
}
END_TEST

/* ready() tells a pause on a pipe from a line waiting to be read. */
START_TEST(ready_pipe)
{
	struct coin_reader *r;
	const char *l;
	size_t n;
	int fds[2], saved;

	ck_assert_int_eq(pipe(fds), 0);
	saved = dup(STDIN_FILENO);
	ck_assert_int_eq(dup2(fds[0], STDIN_FILENO), STDIN_FILENO);
	close(fds[0]);
	ck_assert_int_eq(coin_reader_open(&r, "-"), 0);
	ck_assert_str_eq(coin_reader_name(r), "stdin");
	ck_assert_int_eq(coin_reader_ready(r, 10), 0);
	ck_assert_int_eq(write(fds[1], "a\nb", 3), 3);
	ck_assert_int_eq(coin_reader_ready(r, 0), 1);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_int_eq(coin_reader_ready(r, 10), 0);	/* "b" is not whole */
	close(fds[1]);
	ck_assert_int_eq(coin_reader_ready(r, 10), 1);	/* end of input */
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 1);
	ck_assert_int_eq(memcmp(l, "b", 1), 0);
	ck_assert_int_eq(coin_reader_next(r, &l, &n), 0);
	coin_reader_close(r);
	dup2(saved, STDIN_FILENO);
	close(saved);
}
END_TEST

/* A file of n lines: stats, every line in bad[] not one, some blank. */
static void
stats_file(size_t n, const size_t *bad, size_t nbad)
{
	FILE *f = fopen(path, "wb");
	size_t i, k;

	ck_assert_ptr_nonnull(f);
	for (i = 1; i <= n; i++) {
		for (k = 0; k < nbad && bad[k] != i; k++)
			continue;
		if (k < nbad && i % 3 == 2) {
			fprintf(f, "%zu", i);
			fputc('\0', f);
			fputc('\n', f);
		} else if (k < nbad)
			fprintf(f, i % 3 == 0 ? "{\"pair\":\"p%zu/usd\"}\n" :
			    "[%zu]\n", i);
		else if (i % 97 == 0)
			fputs(" \t\n", f);
		else
			fprintf(f, "{\"pair\":\"p%zu/usd\",\"ts\":1732521600,"
			    "\"window\":60,\"n\":2,\"mean\":%zu.5,"
			    "\"stddev\":0.25,\"min\":1,\"max\":%zu,"
			    "\"last\":2}\n", i, i, i + 1);
	}
	ck_assert_int_eq(fclose(f), 0);
}

struct bads {
	size_t	 n;
	size_t	 lineno[16];
	char	 why[16][COIN_ERRBUF];
};

static void
bad_fn(const char *name, size_t lineno, const char *why, void *arg)
{
	struct bads *b = arg;

	ck_assert_str_eq(name, path);
	if (b->n < 16) {
		b->lineno[b->n] = lineno;
		snprintf(b->why[b->n], COIN_ERRBUF, "%s", why);
	}
	b->n++;
}

/*
 * Stats read on two cores come out in input order, the bad lines told
 * in order with their numbers and reasons, in chunks parsed here and
 * by the helper alike; with strict, the reading stops at the first.
 */
START_TEST(stats_in_order)
{
	static const size_t bad[] = { 2, 255, 256, 257, 700, 1023, 1024,
	    2999 };
	struct coin_reader *r;
	struct coin_stat *st = NULL;
	struct bads b;
	size_t n = 0, cap = 0, i, k, want, line;
	char pair[32];
	int rc;

	stats_file(3000, bad, 8);
	ck_assert_int_eq(coin_reader_open(&r, path), 0);
	memset(&b, 0, sizeof(b));
	rc = coin_stats_read(r, 0, bad_fn, &b, &st, &n, &cap);
	coin_reader_close(r);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(b.n, 8);
	for (k = 0; k < 8; k++) {
		ck_assert_uint_eq(b.lineno[k], bad[k]);
		ck_assert_str_eq(b.why[k], bad[k] % 3 == 0 ? "missing \"ts\"" :
		    bad[k] % 3 == 1 ? "not a JSON object" :
		    coin_strerror(COIN_ENUL));
	}
	want = 3000 - 8 - 3000 / 97;
	ck_assert_uint_eq(n, want);
	for (i = 0, line = 1; i < n; i++, line++) {
		for (;;) {
			for (k = 0; k < 8 && bad[k] != line; k++)
				continue;
			if (k == 8 && line % 97 != 0)
				break;
			line++;
		}
		snprintf(pair, sizeof(pair), "p%zu/usd", line);
		ck_assert_str_eq(st[i].pair, pair);
		ck_assert(st[i].mean == (double)line + 0.5);
		ck_assert(st[i].max == (double)(line + 1));
	}
	/* Strict: the records before the first bad line, it alone told. */
	ck_assert_int_eq(coin_reader_open(&r, path), 0);
	memset(&b, 0, sizeof(b));
	n = 0;
	rc = coin_stats_read(r, 1, bad_fn, &b, &st, &n, &cap);
	coin_reader_close(r);
	ck_assert_int_eq(rc, COIN_EBADREC);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(b.lineno[0], 2);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(st[0].pair, "p1/usd");
	free(st);
	/* A read that fails: its error, after what was read before it. */
	ck_assert_int_eq(coin_reader_open(&r, "/"), 0);
	st = NULL;
	n = cap = 0;
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(coin_stats_read(r, 0, bad_fn, &b, &st, &n, &cap),
	    EISDIR);
	coin_reader_close(r);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(b.n, 0);
	free(st);
	/* Nothing but blank lines, or nothing: no record, no complaint. */
	put(" \n\n", 3);
	ck_assert_int_eq(coin_reader_open(&r, path), 0);
	st = NULL;
	n = cap = 0;
	ck_assert_int_eq(coin_stats_read(r, 0, bad_fn, &b, &st, &n, &cap), 0);
	coin_reader_close(r);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(st);
}
END_TEST

struct sink {
	char	*buf;
	size_t	 len;
	int	 calls;
	int	 stop;	/* return this on the first call */
};

static int
sink_out(const char *buf, size_t len, void *arg)
{
	struct sink *k = arg;

	k->calls++;
	ck_assert_ptr_nonnull(k->buf = realloc(k->buf, k->len + len + 1));
	memcpy(k->buf + k->len, buf, len);
	k->len += len;
	k->buf[k->len] = '\0';
	return k->stop;
}

/*
 * Rank records formatted on two cores: each ts a ranking of its own,
 * one of them across the halves, as one after the other would write
 * them; out() stopping stops it, with out()'s value.
 */
START_TEST(ranks_two_cores)
{
	enum { N = 1500 };
	static struct coin_stat st[N];
	static const struct coin_stat *sp[N];
	static const size_t group[] = { 700, 1, 799 };
	char *want, *p;
	struct sink k;
	size_t i, g, at, wlen = 0;

	ck_assert_ptr_nonnull(want = malloc(N * COIN_RECBUF));
	for (i = at = g = 0; i < N; i++) {
		if (i == at + group[g])
			at += group[g++];
		snprintf(st[i].pair, sizeof(st[i].pair), "p%zu/usd", i);
		st[i].ts = 1732521600 + 60 * (int64_t)g;
		st[i].window = 3600;
		st[i].n = 60;
		st[i].mean = st[i].min = st[i].max = st[i].last = 1;
		st[i].stddev = (double)(N - i) / 7;
		sp[i] = &st[i];
		wlen += coin_rank_format(i - at + 1, group[g], &st[i],
		    want + wlen);
	}
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(coin_ranks_write(sp, N, sink_out, &k), 0);
	ck_assert_int_eq(k.calls, 2);
	ck_assert_uint_eq(k.len, wlen);
	ck_assert(memcmp(k.buf, want, wlen) == 0);
	/* Few: one call, from this core. */
	k.len = 0;
	k.calls = 0;
	ck_assert_int_eq(coin_ranks_write(sp, 3, sink_out, &k), 0);
	ck_assert_int_eq(k.calls, 1);
	ck_assert_ptr_nonnull(p = strchr(k.buf, '\n'));
	ck_assert_int_eq(strncmp(k.buf, "{\"rank\":1,\"of\":3,", 17), 0);
	/* Stopped by out(): its value, the second half not handed on. */
	k.len = 0;
	k.calls = 0;
	k.stop = 7;
	ck_assert_int_eq(coin_ranks_write(sp, N, sink_out, &k), 7);
	ck_assert_int_eq(k.calls, 1);
	ck_assert_int_eq(coin_ranks_write(sp, 0, sink_out, &k), 0);
	ck_assert_int_eq(k.calls, 1);
	free(k.buf);
	free(want);
}
END_TEST

static int
sortkey_cmp(const void *a, const void *b)
{
	const struct coin_sortkey *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * The stat records of a batch in memory, as coin_stat_format() writes
 * them one after the other, those without a tick left out; a text used
 * again holds only the new ones.
 */
START_TEST(stats_text)
{
	enum { N = 1200 };
	static struct coin_stat st[N];
	struct coin_text t = { NULL, 0, 0 };
	char *want, *p;
	size_t i, len = 0;

	ck_assert_ptr_nonnull(want = malloc(N * COIN_RECBUF));
	for (i = 0; i < N; i++) {
		snprintf(st[i].pair, sizeof(st[i].pair), "p%zu/usd", i);
		st[i].ts = 1732521600;
		st[i].window = 3600;
		st[i].n = i % 5 == 3 ? 0 : 60;
		st[i].mean = st[i].min = st[i].max = st[i].last = 1.5 + i;
		st[i].stddev = st[i].n ? 0.25 * i : NAN;
		if (st[i].n > 0)
			len += coin_stat_format(&st[i], want + len);
	}
	ck_assert_int_eq(coin_stats_text(st, N, &t), 0);
	ck_assert_uint_eq(t.len, len);
	ck_assert(memcmp(t.buf, want, len) == 0);
	ck_assert_uint_ge(t.cap, t.len);
	p = t.buf;
	ck_assert_int_eq(coin_stats_text(st + 1, 1, &t), 0);
	ck_assert_uint_eq(t.len, coin_stat_format(&st[1], want));
	ck_assert(memcmp(t.buf, want, t.len) == 0);
	ck_assert_ptr_eq(t.buf, p);
	ck_assert_int_eq(coin_stats_text(st + 3, 1, &t), 0);
	ck_assert_uint_eq(t.len, 0);
	free(t.buf);
	free(want);
}
END_TEST

/* n keys with names: keys that differ as mode says (see below). */
static void
sortkeys_fill(struct coin_sortkey *k, char (*names)[8], size_t n, int mode,
    uint64_t *x)
{
	static const uint64_t T = 1796132280;
	size_t i;
	uint64_t r;

	for (i = 0; i < n; i++) {
		r = *x;
		r ^= r << 13;
		r ^= r >> 7;
		r ^= r << 17;
		*x = r;
		snprintf(names[i], 8, "n%zu", (size_t)(r % 97));
		k[i].hi = mode == 0 ? r * 0xff51afd7ed558ccdULL :
		    mode == 1 ? UINT64_C(1) << 63 | T :
		    mode == 2 ? r >> 62 :
		    UINT64_C(1) << 63 | (T + 60 * (r % 300));
		k[i].lo = mode == 2 ? (r >> 40) % 3 : (r >> 8) % 50000 << 20;
		k[i].name = names[i];
		k[i].p = &names[i];
	}
}

/*
 * The radix sort orders as a comparison would: hi, lo, then the name;
 * keys that differ in every byte, in the top one only, in the low ones
 * (times a minute apart), or not at all (their passes skipped), and
 * runs of equal integers; a few go by qsort().
 */
START_TEST(sortkeys_order)
{
	enum { N = 5000 };
	static struct coin_sortkey k[N], want[N];
	static char names[N][8];
	static const size_t sizes[] = { 0, 1, 2, 255, 256, 257, 4999, N };
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i, z, n;
	int mode;

	for (mode = 0; mode < 4; mode++)
		for (z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			n = sizes[z];
			sortkeys_fill(k, names, n, mode, &x);
			memcpy(want, k, n * sizeof(*k));
			qsort(want, n, sizeof(*want), sortkey_cmp);
			coin_sortkeys(k, n);
			for (i = 0; i < n; i++)
				ck_assert_msg(sortkey_cmp(&k[i], &want[i]) ==
				    0 && k[i].p == (const void *)k[i].name,
				    "mode %d, %zu keys: key %zu out of order",
				    mode, n, i);
		}
}
END_TEST

Suite *
reader_suite(void)
{
	Suite *s = suite_create("reader");
	TCase *tc = tcase_create("reader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, lines);
	tcase_add_test(tc, nul_and_long);
	tcase_add_test(tc, open_fails);
	tcase_add_test(tc, ready_pipe);
	tcase_add_test(tc, stats_in_order);
	tcase_add_test(tc, ranks_two_cores);
	tcase_add_test(tc, stats_text);
	tcase_add_test(tc, sortkeys_order);
	suite_add_tcase(s, tc);
	return s;
}
