/* SPDX-License-Identifier: ISC */
/* check_reader.c - unit tests of counted, bounded line input */
#include <errno.h>
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
	suite_add_tcase(s, tc);
	return s;
}
