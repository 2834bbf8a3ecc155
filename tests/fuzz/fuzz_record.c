/* SPDX-License-Identifier: ISC */
/* fuzz_record.c - libFuzzer harness of the tick and stat record parsers */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coin_int.h"

/*
 * Each input is one line.  Whatever parses must format into a canonical
 * line that parses back to the same values (the round-trip oracle), and
 * every refusal must leave a reason in errbuf.
 */

#define RECORD_NOW	1767225600	/* 2026-01-01T00:00:00Z */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Equal, NaN equal to NaN: a stat's absent fields are NaN. */
static int
record_same(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static void
record_reason(int rc, const char *errbuf)
{
	if (rc != COIN_EBADREC || memchr(errbuf, '\0', COIN_ERRBUF) == NULL ||
	    errbuf[0] == '\0')
		abort();
}

static void
record_tick(const char *line, size_t len)
{
	struct coin_tick t, u;
	char errbuf[COIN_ERRBUF], buf[COIN_RECBUF];
	size_t n;
	int rc;

	if ((rc = coin_tick_parse(line, len, RECORD_NOW, &t, errbuf)) != 0) {
		record_reason(rc, errbuf);
		return;
	}
	if (coin_pair_valid(t.pair, strlen(t.pair), NULL) != 0 ||
	    !isfinite(t.price) || t.price <= 0 || t.ts < COIN_TS_MIN ||
	    t.ts > RECORD_NOW + 86400)
		abort();
	n = coin_tick_format(&t, buf);
	if (n == 0 || n >= COIN_RECBUF || buf[n - 1] != '\n' ||
	    strlen(buf) != n)
		abort();
	if (coin_tick_parse(buf, n - 1, RECORD_NOW, &u, errbuf) != 0 ||
	    strcmp(t.pair, u.pair) != 0 || t.ts != u.ts || t.price != u.price)
		abort();
}

static void
record_stat(const char *line, size_t len)
{
	struct coin_stat s, u;
	char errbuf[COIN_ERRBUF], buf[COIN_RECBUF];
	size_t n, i;
	int rc;

	if ((rc = coin_stat_parse(line, len, RECORD_NOW, &s, errbuf)) != 0) {
		record_reason(rc, errbuf);
		return;
	}
	if (coin_pair_valid(s.pair, strlen(s.pair), NULL) != 0 ||
	    s.window <= 0 || s.n < 0 || s.stddev < 0)
		abort();
	/* The plain format, then the rank format: both read back. */
	for (i = 0; i < 2; i++) {
		n = i == 0 ? coin_stat_format(&s, buf) :
		    coin_rank_format(1, UINT64_MAX / 2, &s, buf);
		if (n == 0 || n >= COIN_RECBUF || buf[n - 1] != '\n' ||
		    strlen(buf) != n)
			abort();
		if (coin_stat_parse(buf, n - 1, RECORD_NOW, &u, errbuf) != 0 ||
		    strcmp(s.pair, u.pair) != 0 || s.ts != u.ts ||
		    s.window != u.window || s.n != u.n ||
		    !record_same(s.mean, u.mean) ||
		    !record_same(s.stddev, u.stddev) ||
		    !record_same(s.min, u.min) || !record_same(s.max, u.max) ||
		    !record_same(s.last, u.last))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	char buf[32];
	double d;

	(void)coin_line_blank(line, size);
	(void)coin_pair_valid(line, size, NULL);
	record_tick(line, size);
	record_stat(line, size);
	/* The shortest double that reads back: the input's first 8 bytes. */
	if (size >= 8) {
		memcpy(&d, data, sizeof(d));
		if (coin_double_format(d, buf) >= 32 ||
		    (isfinite(d) && strtod(buf, NULL) != d))
			abort();
	}
	return 0;
}
