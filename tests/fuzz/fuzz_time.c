/* SPDX-License-Identifier: ISC */
/* fuzz_time.c - libFuzzer harness of the duration and time parsers */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coin_int.h"

#define TIME_NOW	1767225600	/* 2026-01-01T00:00:00Z */
#define TIME_SECS_MAX	((int64_t)1 << 52)
#define TIME_FIRST	(-62167219200)	/* 0000-01-01T00:00:00Z */
#define TIME_LAST	253402300799	/* 9999-12-31T23:59:59Z */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
time_reason(int rc, const char *errbuf)
{
	if (rc != COIN_EBADREC || memchr(errbuf, '\0', COIN_ERRBUF) == NULL ||
	    errbuf[0] == '\0')
		abort();
}

/*
 * What an instant formats to parses back to it; an instant given in
 * that canonical form formats back to the same text, leap seconds
 * aside.
 */
static void
time_rfc3339(const char *s, size_t len)
{
	char buf[32];
	int64_t ts, back;
	size_t n;

	if (coin_rfc3339_parse(s, len, &ts) != 0)
		return;
	if (ts < TIME_FIRST - 86400 || ts > TIME_LAST + 86400)
		abort();
	n = coin_rfc3339_format(ts, buf);
	if (n >= sizeof(buf))
		abort();
	if (ts < TIME_FIRST || ts > TIME_LAST)
		return;
	if (n != 20 || coin_rfc3339_parse(buf, n, &back) != 0 || back != ts)
		abort();
	if (len == 20 && s[10] == 'T' && s[19] == 'Z' &&
	    memcmp(s + 17, "60", 2) != 0 && memcmp(s, buf, 20) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char errbuf[COIN_ERRBUF], buf[32], *s;
	int64_t secs, ts;
	int rc;

	time_rfc3339((const char *)data, size);
	/* The C-string parsers read up to the first NUL. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if ((rc = coin_duration_parse(s, &secs, errbuf)) != 0)
		time_reason(rc, errbuf);
	else if (secs < 0 || secs > TIME_SECS_MAX)
		abort();
	if ((rc = coin_time_parse(s, TIME_NOW, &ts, errbuf)) != 0)
		time_reason(rc, errbuf);
	else if (ts < TIME_NOW - TIME_SECS_MAX ||
	    (ts > TIME_SECS_MAX && ts > TIME_LAST + 86400))
		abort();
	free(s);
	/* Any time at all formats into 32 bytes. */
	if (size >= 8) {
		memcpy(&ts, data, sizeof(ts));
		if (coin_rfc3339_format(ts, buf) >= sizeof(buf))
			abort();
	}
	return 0;
}
