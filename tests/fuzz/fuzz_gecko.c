/* SPDX-License-Identifier: ISC */
/* fuzz_gecko.c - libFuzzer harness of the CoinGecko answer parsers */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coin_int.h"

/*
 * Each input is one answer body, given to every answer parser and to
 * the error-answer reader.  Whatever a parser takes must be ticks with
 * valid pairs, finite positive prices and, for a chart, times in order
 * within its bounds; what it refuses must append nothing and give a
 * reason.
 */

#define GECKO_NOW	1767225600	/* 2026-01-01T00:00:00Z */
#define GECKO_SINCE	(GECKO_NOW - 30 * 86400)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Check the ticks b holds from start on; chart: in time order, bounded. */
static void
gecko_ticks(struct coin_batch *b, size_t start, int chart)
{
	struct coin_tick t;
	int64_t prev = INT64_MIN;
	size_t i;

	for (i = start; i < coin_batch_len(b); i++) {
		coin_batch_get(b, i, &t);
		if (coin_pair_valid(t.pair, strlen(t.pair), NULL) != 0 ||
		    !isfinite(t.price) || t.price <= 0)
			abort();
		if (!chart) {
			if (t.ts != GECKO_NOW)
				abort();
			continue;
		}
		if (t.ts <= prev || t.ts <= GECKO_SINCE ||
		    t.ts < COIN_TS_MIN || t.ts > GECKO_NOW + 86400)
			abort();
		prev = t.ts;
	}
}

static void
gecko_after(int rc, struct coin_batch *b, size_t before, const char *errbuf,
    int chart)
{
	if (rc == COIN_EBADREC) {
		if (coin_batch_len(b) != before ||
		    memchr(errbuf, '\0', COIN_ERRBUF) == NULL ||
		    errbuf[0] == '\0')
			abort();
	} else if (rc != 0)
		abort();
	gecko_ticks(b, before, chart);
}

static void
gecko_drop(const char *what, const char *why, void *arg)
{
	size_t i;

	(void)arg;
	/* Reports are printable: a body's bytes never reach a terminal. */
	for (i = 0; what[i] != '\0'; i++)
		if ((unsigned char)what[i] < 0x20 ||
		    (unsigned char)what[i] >= 0x7f)
			abort();
	if (strlen(why) >= COIN_ERRBUF)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data;
	struct coin_fetch_out out;
	struct coin_batch *b;
	char errbuf[COIN_ERRBUF], msg[64];
	size_t before, n, removed;
	long code;
	int rc;

	if (coin_batch_new(&b) != 0)
		return 0;
	memset(&out, 0, sizeof(out));
	out.batch = b;
	out.ts = GECKO_NOW;
	out.period = 300;
	out.drop = gecko_drop;

	before = coin_batch_len(b);
	rc = coin_fetch_parse_simple(body, size, "bitcoin,ethereum,a/b",
	    "usd,eur", &out, errbuf);
	gecko_after(rc, b, before, errbuf, 0);

	before = coin_batch_len(b);
	rc = coin_fetch_parse_markets(body, size, "usd", 3, &n, &out, errbuf);
	gecko_after(rc, b, before, errbuf, 0);
	if (coin_batch_len(b) - before > 3)
		abort();

	before = coin_batch_len(b);
	rc = coin_fetch_parse_tickers(body, size, "binance", &n, &out,
	    errbuf);
	gecko_after(rc, b, before, errbuf, 0);
	if (coin_batch_len(b) - before > n)
		abort();

	before = coin_batch_len(b);
	rc = coin_fetch_parse_chart(body, size, "bitcoin", "usd", GECKO_SINCE,
	    &out, errbuf);
	gecko_after(rc, b, before, errbuf, 1);

	/* No two ticks of one (pair, ts) survive the dedupe. */
	before = coin_batch_len(b);
	if (coin_fetch_dedupe(b, &removed) != 0 ||
	    coin_batch_len(b) + removed != before)
		abort();

	if (coin_http_api_error(body, size, &code, msg, sizeof(msg))) {
		for (n = 0; msg[n] != '\0'; n++)
			if ((unsigned char)msg[n] < 0x20 ||
			    (unsigned char)msg[n] >= 0x7f)
				abort();
		if (n >= sizeof(msg))
			abort();
	}
	coin_batch_free(b);
	return 0;
}
