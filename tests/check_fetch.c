/* SPDX-License-Identifier: ISC */
/* check_fetch.c - unit tests of the CoinGecko answer parsers and client */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_main.h"
#include "coin_int.h"

#define NOW	1711983700	/* just after market_chart.json's "now" */
#define DATA	"tests/data/"
#define NDROPS	40

struct drops {
	int	 n;
	char	 text[NDROPS][200];	/* "what: why" */
};

struct fx {
	struct coin_batch	*b;
	struct coin_fetch_out	 out;
	struct drops		 d;
	char			 why[COIN_ERRBUF];
};

const char	*__lsan_default_options(void);
const char	*__lsan_default_suppressions(void);

/*
 * Leaks of system libraries, not ours, for LeakSanitizer (see
 * tests/data/lsan.supp): libcurl brings in libp11-kit, whose constructor
 * calls newlocale(), which leaks when LOCPATH is set, as make unit does.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:__argz_add_sep\nleak:libp11-kit.so\n";
}

const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static void
collect(const char *what, const char *why, void *arg)
{
	struct drops *d = arg;

	if (d->n < NDROPS)
		snprintf(d->text[d->n], sizeof(d->text[0]), "%s: %s", what,
		    why);
	d->n++;
}

static void
fx_init(struct fx *f, int64_t ts, int64_t period)
{
	memset(f, 0, sizeof(*f));
	ck_assert_int_eq(coin_batch_new(&f->b), 0);
	f->out.batch = f->b;
	f->out.ts = ts;
	f->out.period = period;
	f->out.drop = collect;
	f->out.arg = &f->d;
}

static void
fx_free(struct fx *f)
{
	coin_batch_free(f->b);
}

/* The tick i of f's batch is pair, ts and price. */
static void
is_tick(struct fx *f, size_t i, const char *pair, int64_t ts, double price)
{
	struct coin_tick t;

	ck_assert_uint_lt(i, coin_batch_len(f->b));
	coin_batch_get(f->b, i, &t);
	ck_assert_str_eq(t.pair, pair);
	ck_assert_int_eq(t.ts, ts);
	ck_assert_msg(t.price == price, "%s: price %.17g, expected %.17g",
	    pair, t.price, price);
}

/* A file of tests/data, NUL-terminated; the runner starts at the top. */
static char *
slurp(const char *name, size_t *len)
{
	char path[256], *buf;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), DATA "%s", name);
	fp = fopen(path, "rb");
	ck_assert_msg(fp != NULL, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static int
simple(struct fx *f, const char *body, const char *ids, const char *vs)
{
	return coin_fetch_parse_simple(body, strlen(body), ids, vs, &f->out,
	    f->why);
}

START_TEST(simple_fixture)
{
	struct fx f;
	size_t len;
	char *body = slurp("simple_price.json", &len);

	fx_init(&f, NOW, 60);
	ck_assert_int_eq(coin_fetch_parse_simple(body, len, "bitcoin", "usd",
	    &f.out, f.why), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 1);
	is_tick(&f, 0, "bitcoin/usd", NOW, 67187.3358936566);
	ck_assert_int_eq(f.d.n, 0);
	ck_assert_uint_eq(f.out.ndropped, 0);

	/* A currency the answer lacks; a coin it lacks. */
	ck_assert_int_eq(coin_fetch_parse_simple(body, len, "bitcoin,nosuch",
	    "usd,eur", &f.out, f.why), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	ck_assert_int_eq(f.d.n, 2);
	ck_assert_str_eq(f.d.text[0], "bitcoin/eur: no price");
	ck_assert_str_eq(f.d.text[1],
	    "nosuch: not in the answer (an unknown coin id?)");
	ck_assert_uint_eq(f.out.ndropped, 2);
	free(body);
	fx_free(&f);
}
END_TEST

START_TEST(simple_bad_prices)
{
	static const char *const want[] = {
		"bitcoin/eur: price is null",
		"ethereum/usd: price is negative",
		"tether/usd: price is zero",
		"tether/eur: no price",
		"dogecoin/usd: price is not a number",
		"dogecoin/eur: no price",
		"solana/usd: price is not a finite number",
		"solana/eur: no price",
		"cardano/usd: no price",
		"ripple: not an object in the answer",
		"polkadot/usd: price is not a number",
		"polkadot/eur: no price",
	};
	struct fx f;
	size_t len, i;
	char *body = slurp("simple_price_bad.json", &len);

	fx_init(&f, NOW, 60);
	ck_assert_int_eq(coin_fetch_parse_simple(body, len,
	    "bitcoin,ethereum,tether,dogecoin,solana,cardano,ripple,polkadot",
	    "usd,eur", &f.out, f.why), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	is_tick(&f, 0, "bitcoin/usd", NOW, 67187.3358936566);
	is_tick(&f, 1, "ethereum/eur", NOW, 3235.6911);
	is_tick(&f, 2, "cardano/eur", NOW, 0.45);
	ck_assert_int_eq(f.d.n, (int)(sizeof(want) / sizeof(want[0])));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(f.d.text[i], want[i]);
	free(body);
	fx_free(&f);

	/* Infinity, however written, and a price too large for a double. */
	fx_init(&f, NOW, 60);
	ck_assert_int_eq(simple(&f, "{\"a\":{\"usd\":1e999,\"eur\":-Infinity,"
	    "\"btc\":Infinity}}", "a", "usd,eur,btc"), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 0);
	ck_assert_int_eq(f.d.n, 3);
	ck_assert_str_eq(f.d.text[0], "a/usd: price is not a finite number");
	/* Integers and exponents are prices; tiny ones too. */
	ck_assert_int_eq(simple(&f, "{\"a\":{\"usd\":70187,\"eur\":1e-8,"
	    "\"btc\":2.548e-06}}", "a", "usd,eur,btc"), 0);
	is_tick(&f, 0, "a/usd", NOW, 70187);
	is_tick(&f, 1, "a/eur", NOW, 1e-8);
	is_tick(&f, 2, "a/btc", NOW, 2.548e-06);
	/* {} : every coin missing, each named. */
	ck_assert_int_eq(simple(&f, "{}", "x,y", "usd"), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	ck_assert_int_eq(f.d.n, 5);
	ck_assert_str_eq(f.d.text[4],
	    "y: not in the answer (an unknown coin id?)");
	fx_free(&f);
}
END_TEST

/* Answers that are not JSON, or not of the shape asked for. */
static const struct {
	const char	*body;
	const char	*why;
} bad_simple[] = {
	{ "", "invalid JSON: the answer ends early" },
	{ "{\"bitcoin\":{\"usd\":67187.33}", "invalid JSON: the answer ends "
	    "early" },
	{ "{\"bitcoin\":{\"usd\":[67187.33}}", "invalid JSON at byte " },
	{ "{\"a\":1} x", "invalid JSON: more after the answer at byte 9" },
	{ "<!DOCTYPE html><html></html>", "invalid JSON at byte 1" },
	{ "[{\"bitcoin\":1}]", "the answer is not a JSON object" },
	{ "\"bitcoin\"", "the answer is not a JSON object" },
	{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]"
	    "]]]]]]]]]]]]]]", "invalid JSON at byte " },
};

START_TEST(simple_invalid)
{
	struct fx f;
	const char *body = bad_simple[_i].body;

	fx_init(&f, NOW, 60);
	ck_assert_int_eq(simple(&f, body, "bitcoin", "usd"), COIN_EBADREC);
	ck_assert_msg(strncmp(f.why, bad_simple[_i].why,
	    strlen(bad_simple[_i].why)) == 0, "%s: reason \"%s\"", body,
	    f.why);
	ck_assert_uint_eq(coin_batch_len(f.b), 0);
	ck_assert_uint_eq(f.out.ndropped, 0);
	fx_free(&f);
}
END_TEST

static int
markets(struct fx *f, const char *body, size_t limit, size_t *n)
{
	return coin_fetch_parse_markets(body, strlen(body), "usd", limit, n,
	    &f->out, f->why);
}

START_TEST(markets_fixture)
{
	static const char *const want[] = {
		"ethereum/usd: price is null",
		"tether/usd: no price",
		"coin 4 of the page: no \"id\"",
		"dogecoin/usd: price is not a number",
		"solana/usd: price is negative",
		"bad id/usd: pair holds a space at byte 4",
	};
	struct fx f;
	size_t len, n, i;
	char *body = slurp("coins_markets.json", &len);

	fx_init(&f, NOW, 60);
	ck_assert_int_eq(coin_fetch_parse_markets(body, len, "usd", 0, &n,
	    &f.out, f.why), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(coin_batch_len(f.b), 1);
	is_tick(&f, 0, "bitcoin/usd", NOW, 70187);
	ck_assert_int_eq(f.d.n, 0);
	free(body);

	body = slurp("coins_markets_bad.json", &len);
	ck_assert_int_eq(coin_fetch_parse_markets(body, len, "usd", 0, &n,
	    &f.out, f.why), 0);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	is_tick(&f, 1, "bitcoin/usd", NOW, 70187);
	is_tick(&f, 2, "cardano/usd", NOW, 0.45);
	ck_assert_int_eq(f.d.n, 6);
	for (i = 0; i < 6; i++)
		ck_assert_str_eq(f.d.text[i], want[i]);
	free(body);
	fx_free(&f);
}
END_TEST

START_TEST(markets_limits)
{
	struct fx f;
	char body[1024], id[300];
	size_t n;

	fx_init(&f, NOW, 60);
	/* limit takes the first entries; n counts them all. */
	ck_assert_int_eq(markets(&f, "[{\"id\":\"a\",\"current_price\":1},"
	    "{\"id\":\"b\",\"current_price\":2},{\"id\":\"c\","
	    "\"current_price\":3}]", 2, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	is_tick(&f, 1, "b/usd", NOW, 2);
	/* An empty page. */
	ck_assert_int_eq(markets(&f, "[]", 0, &n), 0);
	ck_assert_uint_eq(n, 0);
	/* An id holding a NUL, an id that is not a string. */
	ck_assert_int_eq(markets(&f, "[{\"id\":\"a\\u0000b\","
	    "\"current_price\":1},{\"id\":5,\"current_price\":1},7]", 0, &n),
	    0);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	ck_assert_int_eq(f.d.n, 3);
	ck_assert_str_eq(f.d.text[2], "coin 3 of the page: no \"id\"");
	/* A pair too long. */
	memset(id, 'x', 250);
	id[250] = '\0';
	snprintf(body, sizeof(body), "[{\"id\":\"%s\",\"current_price\":1}]",
	    id);
	ck_assert_int_eq(markets(&f, body, 0, &n), 0);
	ck_assert_int_eq(f.d.n, 4);
	ck_assert_msg(strstr(f.d.text[3], "pair is longer than 200 bytes") !=
	    NULL, "%s", f.d.text[3]);
	/* Not a list: an error, or another shape. */
	ck_assert_int_eq(markets(&f, "{\"status\":{\"error_code\":429,"
	    "\"error_message\":\"slow down\"}}", 0, &n), COIN_EBADREC);
	ck_assert_str_eq(f.why, "the answer is an error: slow down");
	ck_assert_int_eq(markets(&f, "{\"coins\":[]}", 0, &n), COIN_EBADREC);
	ck_assert_str_eq(f.why, "the answer is not a JSON array");
	ck_assert_int_eq(markets(&f, "[1,", 0, &n), COIN_EBADREC);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	fx_free(&f);
}
END_TEST

static int
tickers(struct fx *f, const char *body, size_t *n)
{
	return coin_fetch_parse_tickers(body, strlen(body), "kraken", n,
	    &f->out, f->why);
}

START_TEST(tickers_fixture)
{
	struct fx f;
	size_t len, n;
	char *body = slurp("exchange_tickers.json", &len);

	fx_init(&f, NOW, 60);
	ck_assert_int_eq(coin_fetch_parse_tickers(body, len, "binance", &n,
	    &f.out, f.why), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(coin_batch_len(f.b), 1);
	is_tick(&f, 0, "binance:BTC/USDT", NOW, 69476);
	ck_assert_int_eq(f.d.n, 0);
	free(body);

	/* Anomalous and stale tickers go quietly. */
	ck_assert_int_eq(tickers(&f, "{\"tickers\":["
	    "{\"base\":\"ETH\",\"target\":\"USD\",\"last\":3500.5,"
	    "\"is_anomaly\":true,\"is_stale\":false},"
	    "{\"base\":\"ETH\",\"target\":\"EUR\",\"last\":3200,"
	    "\"is_anomaly\":false,\"is_stale\":true},"
	    "{\"base\":\"XBT\",\"target\":\"USD\",\"last\":69000.25}]}", &n),
	    0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	is_tick(&f, 1, "kraken:XBT/USD", NOW, 69000.25);
	ck_assert_int_eq(f.d.n, 0);

	/* Bad tickers are reported. */
	ck_assert_int_eq(tickers(&f, "{\"tickers\":["
	    "{\"target\":\"USD\",\"last\":1},"
	    "{\"base\":\"A B\",\"target\":\"USD\",\"last\":1},"
	    "{\"base\":\"A/B\",\"target\":\"USD\",\"last\":1},"
	    "{\"base\":\"C\",\"target\":\"USD\",\"last\":null},"
	    "{\"base\":\"D\",\"target\":\"USD\",\"last\":0}]}", &n), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	ck_assert_int_eq(f.d.n, 5);
	ck_assert_str_eq(f.d.text[0],
	    "kraken ticker 1 of the page: no \"base\" or \"target\"");
	ck_assert_str_eq(f.d.text[1],
	    "kraken:A B/USD: pair holds a space at byte 9");
	ck_assert_str_eq(f.d.text[2], "kraken:A/B/USD: pair "
	    "\"kraken:A/B/USD\" does not hold exactly one '/'");
	ck_assert_str_eq(f.d.text[3], "kraken:C/USD: price is null");
	ck_assert_str_eq(f.d.text[4], "kraken:D/USD: price is zero");

	ck_assert_int_eq(tickers(&f, "{\"name\":\"Kraken\"}", &n),
	    COIN_EBADREC);
	ck_assert_str_eq(f.why,
	    "the answer is not an object with a \"tickers\" array");
	ck_assert_int_eq(tickers(&f, "{\"error\":\"exchange not found\"}",
	    &n), COIN_EBADREC);
	ck_assert_str_eq(f.why, "the answer is an error: exchange not found");
	fx_free(&f);
}
END_TEST

static int
chart(struct fx *f, const char *body, int64_t since)
{
	return coin_fetch_parse_chart(body, strlen(body), "bitcoin", "usd",
	    since, &f->out, f->why);
}

START_TEST(chart_fixture)
{
	struct fx f;
	size_t len;
	char *body = slurp("market_chart.json", &len);

	/* Milliseconds to seconds; the last point, "now", to its minute. */
	fx_init(&f, NOW, 60);
	ck_assert_int_eq(coin_fetch_parse_chart(body, len, "bitcoin", "usd",
	    NOW - 3 * 86400, &f.out, f.why), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	is_tick(&f, 0, "bitcoin/usd", 1711843200, 69702.3087473573);
	is_tick(&f, 1, "bitcoin/usd", 1711929600, 71246.9514406015);
	is_tick(&f, 2, "bitcoin/usd", 1711983660, 68887.7495158568);
	ck_assert_int_eq(f.d.n, 0);
	fx_free(&f);

	/* Only the points after since; a period of 5 minutes. */
	fx_init(&f, NOW, 300);
	ck_assert_int_eq(coin_fetch_parse_chart(body, len, "bitcoin", "usd",
	    1711843200, &f.out, f.why), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	is_tick(&f, 0, "bitcoin/usd", 1711929600, 71246.9514406015);
	is_tick(&f, 1, "bitcoin/usd", 1711983600, 68887.7495158568);
	fx_free(&f);
	free(body);

	body = slurp("market_chart_range.json", &len);
	fx_init(&f, NOW, 60);
	ck_assert_int_eq(coin_fetch_parse_chart(body, len, "bitcoin", "usd",
	    0, &f.out, f.why), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	is_tick(&f, 0, "bitcoin/usd", 1704067241, 42261.0406175669);
	is_tick(&f, 1, "bitcoin/usd", 1704070847, 42493.2764087546);
	is_tick(&f, 2, "bitcoin/usd", 1704074400, 42654.0731066594);
	free(body);
	fx_free(&f);
}
END_TEST

START_TEST(chart_rules)
{
	struct fx f;

	fx_init(&f, NOW, 60);
	/*
	 * Two points in one second: the later wins.  Out of order: sorted.
	 * The "now" point's minute holds another point: it replaces it.
	 */
	ck_assert_int_eq(chart(&f, "{\"prices\":["
	    "[1711843200000,1],[1711843200999,2],[1711843500000,4],"
	    "[1711843260000,3],[1711843530000,5],[1711843570000,7],"
	    "[1711843610500,6]]}", 0), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 5);
	is_tick(&f, 0, "bitcoin/usd", 1711843200, 2);
	is_tick(&f, 1, "bitcoin/usd", 1711843260, 3);
	is_tick(&f, 2, "bitcoin/usd", 1711843500, 4);
	is_tick(&f, 3, "bitcoin/usd", 1711843530, 5);
	is_tick(&f, 4, "bitcoin/usd", 1711843560, 6);
	ck_assert_int_eq(f.d.n, 0);
	fx_free(&f);

	/* Bad points are reported by pair and place, the rest kept. */
	fx_init(&f, NOW, 60);
	ck_assert_int_eq(chart(&f, "{\"prices\":[[1711843200000],"
	    "[\"x\",5],[1711843260000,null],[1711843320000,-1],[-5,1],"
	    "[1711843380000.5,7],[1000,9],[1711843440000,10]]}", 0), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 2);
	is_tick(&f, 0, "bitcoin/usd", 1711843380, 7);
	is_tick(&f, 1, "bitcoin/usd", 1711843440, 10);
	ck_assert_int_eq(f.d.n, 5);
	ck_assert_str_eq(f.d.text[0], "bitcoin/usd: point 1 is not "
	    "[time, price]");
	ck_assert_str_eq(f.d.text[1], "bitcoin/usd: point 2: time is not a "
	    "number");
	ck_assert_str_eq(f.d.text[2], "bitcoin/usd: point 3: price is null");
	ck_assert_str_eq(f.d.text[3], "bitcoin/usd: point 4: price is "
	    "negative");
	ck_assert_str_eq(f.d.text[4], "bitcoin/usd: point 5: time is out of "
	    "range");
	/* A "now" past tomorrow; points after the "now" point go too. */
	ck_assert_int_eq(chart(&f, "{\"prices\":[[1711843500000,1],"
	    "[1811843400000,2],[1811843380000,8]]}", 0), 0);
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	ck_assert_int_eq(f.d.n, 6);
	ck_assert_str_eq(f.d.text[5], "bitcoin/usd: point 3: time 1811843340 "
	    "is in the future");

	/* No points; not a chart. */
	ck_assert_int_eq(chart(&f, "{\"prices\":[]}", 0), 0);
	ck_assert_int_eq(chart(&f, "{\"market_caps\":[]}", 0), COIN_EBADREC);
	ck_assert_str_eq(f.why,
	    "the answer is not an object with a \"prices\" array");
	ck_assert_int_eq(chart(&f, "{\"error\":\"coin not found\"}", 0),
	    COIN_EBADREC);
	ck_assert_str_eq(f.why, "the answer is an error: coin not found");
	ck_assert_uint_eq(coin_batch_len(f.b), 3);
	fx_free(&f);
}
END_TEST

START_TEST(lists)
{
	char why[COIN_ERRBUF], id[128];

	ck_assert_int_eq(coin_fetch_list_valid("bitcoin", why), 0);
	ck_assert_int_eq(coin_fetch_list_valid("usd-coin,wrapped_btc,a.b,1inch",
	    why), 0);
	ck_assert_int_eq(coin_fetch_list_valid("", why), COIN_EUSAGE);
	ck_assert_str_eq(why, "empty list");
	ck_assert_int_eq(coin_fetch_list_valid("a,", why), COIN_EUSAGE);
	ck_assert_str_eq(why, "an empty item in the list");
	ck_assert_int_eq(coin_fetch_list_valid(",a", why), COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_list_valid("Bitcoin", why), COIN_EUSAGE);
	ck_assert_str_eq(why, "\"Bitcoin\" is not an id (lowercase letters, "
	    "digits, '-', '_' and '.')");
	ck_assert_int_eq(coin_fetch_list_valid("a/b", why), COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_list_valid("a?b=c", why), COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_list_valid("a&b", why), COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_list_valid("a,..", why), COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_list_valid(".", why), COIN_EUSAGE);
	memset(id, 'a', 100);
	id[100] = '\0';
	ck_assert_int_eq(coin_fetch_list_valid(id, why), 0);
	id[100] = 'a';
	id[101] = '\0';
	ck_assert_int_eq(coin_fetch_list_valid(id, why), COIN_EUSAGE);
	ck_assert_str_eq(why, "an id longer than 100 bytes");
}
END_TEST

START_TEST(dedupe)
{
	struct coin_batch *b;
	struct coin_tick t = { "a/b", 100, 1 };
	size_t removed;

	ck_assert_int_eq(coin_batch_new(&b), 0);
	ck_assert_int_eq(coin_fetch_dedupe(b, &removed), 0);
	ck_assert_uint_eq(removed, 0);
	coin_batch_add(b, &t);
	snprintf(t.pair, sizeof(t.pair), "c/d");
	t.price = 2;
	coin_batch_add(b, &t);
	snprintf(t.pair, sizeof(t.pair), "a/b");
	t.price = 3;
	coin_batch_add(b, &t);		/* a repeat: goes */
	t.ts = 160;
	t.price = 4;
	coin_batch_add(b, &t);		/* another time: stays */
	ck_assert_int_eq(coin_fetch_dedupe(b, &removed), 0);
	ck_assert_uint_eq(removed, 1);
	ck_assert_uint_eq(coin_batch_len(b), 3);
	coin_batch_get(b, 0, &t);
	ck_assert_str_eq(t.pair, "a/b");
	ck_assert(t.price == 1);
	coin_batch_get(b, 1, &t);
	ck_assert_str_eq(t.pair, "c/d");
	coin_batch_get(b, 2, &t);
	ck_assert_int_eq(t.ts, 160);
	ck_assert(t.price == 4);
	coin_batch_free(b);
}
END_TEST

START_TEST(key_header)
{
	ck_assert_str_eq(coin_http_key_header(COIN_FETCH_DEMO_ROOT),
	    "x-cg-demo-api-key");
	ck_assert_str_eq(coin_http_key_header(COIN_FETCH_PRO_ROOT),
	    "x-cg-pro-api-key");
	ck_assert_str_eq(coin_http_key_header(
	    "HTTPS://Pro-Api.CoinGecko.com:443/api/v3/"), "x-cg-pro-api-key");
	ck_assert_str_eq(coin_http_key_header(
	    "https://pro-api.coingecko.com.example/api/v3"),
	    "x-cg-demo-api-key");
	ck_assert_str_eq(coin_http_key_header("http://127.0.0.1:8080/api/v3"),
	    "x-cg-demo-api-key");
	ck_assert_str_eq(coin_http_key_header("not a url"),
	    "x-cg-demo-api-key");
}
END_TEST

START_TEST(retry_after)
{
	/* Wed, 21 Oct 2015 07:28:00 GMT is 1445412480. */
	ck_assert_int_eq(coin_http_retry_after("120", 0), 120);
	ck_assert_int_eq(coin_http_retry_after(" 7 \r\n", 0), 7);
	ck_assert_int_eq(coin_http_retry_after("0", 0), 0);
	ck_assert_int_eq(coin_http_retry_after("99999999999999", 0),
	    1000000000);
	ck_assert_int_eq(coin_http_retry_after(
	    "Wed, 21 Oct 2015 07:28:00 GMT", 1445412470), 10);
	ck_assert_int_eq(coin_http_retry_after(
	    " Wed, 21 Oct 2015 07:28:00 GMT\r\n", 1445412470), 10);
	ck_assert_int_eq(coin_http_retry_after(
	    "Wed, 21 Oct 2015 07:28:00 GMT", 1445412490), 0);
	ck_assert_int_eq(coin_http_retry_after("soon", 0), -1);
	ck_assert_int_eq(coin_http_retry_after("", 0), -1);
	ck_assert_int_eq(coin_http_retry_after("12abc", 0), -1);
	ck_assert_int_eq(coin_http_retry_after("-5", 0), -1);
	ck_assert_int_eq(coin_http_retry_after("Wednesday, whenever it suits",
	    0), -1);
}
END_TEST

START_TEST(api_errors)
{
	static const struct {
		const char	*file;
		long		 code;
		const char	*msg;
	} want[] = {
		{ "error_429.json", 429, "You've exceeded the Rate Limit." },
		{ "error_10002_missing_key.json", 10002, "API Key Missing." },
		{ "error_10011_wrong_root.json", 10011, "If you are using "
		    "Demo API key, please change your root URL" },
		{ "error_404_coin.json", 0, "coin not found" },
	};
	char msg[64], *body;
	size_t i, len;
	long code;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		body = slurp(want[i].file, &len);
		ck_assert_int_eq(coin_http_api_error(body, len, &code, msg,
		    sizeof(msg)), 1);
		ck_assert_int_eq(code, want[i].code);
		ck_assert_msg(strncmp(msg, want[i].msg, strlen(want[i].msg) <
		    sizeof(msg) - 1 ? strlen(want[i].msg) : sizeof(msg) - 1) ==
		    0, "%s: \"%s\"", want[i].file, msg);
		ck_assert_uint_le(strlen(msg), sizeof(msg) - 1);
		free(body);
	}
	body = slurp("cdn_block.html", &len);
	ck_assert_int_eq(coin_http_api_error(body, len, &code, msg,
	    sizeof(msg)), 0);
	free(body);
	ck_assert_int_eq(coin_http_api_error("[]", 2, &code, msg,
	    sizeof(msg)), 0);
	ck_assert_int_eq(coin_http_api_error("{}", 2, &code, msg,
	    sizeof(msg)), 0);
	ck_assert_int_eq(coin_http_api_error("", 0, &code, msg,
	    sizeof(msg)), 0);
	/* Control bytes do not reach a terminal. */
	ck_assert_int_eq(coin_http_api_error("{\"error\":\"a\\u001b[2Jb\\n\"}",
	    25, &code, msg, sizeof(msg)), 1);
	ck_assert_str_eq(msg, "a?[2Jb?");
}
END_TEST

START_TEST(errors)
{
	ck_assert_int_eq(coin_exit_status(COIN_EREFUSED), 69);
	ck_assert_int_eq(coin_exit_status(COIN_ETRYLATER), 75);
	ck_assert_str_eq(coin_strerror(COIN_EREFUSED),
	    "the API refused the request");
	ck_assert_str_eq(coin_strerror(COIN_ETRYLATER),
	    "the API kept failing; try again later");
}
END_TEST

START_TEST(http_open)
{
	struct coin_http_opts o;
	struct coin_http *h;
	char why[COIN_ERRBUF];

	memset(&o, 0, sizeof(o));
	o.base = "ftp://example.invalid/api";
	ck_assert_int_eq(coin_http_open(&h, &o, why), COIN_EUSAGE);
	ck_assert_ptr_null(h);
	ck_assert_str_eq(why, "COINGECKO_API_URL: the API root is not an "
	    "http or https URL");
	o.base = "http://127.0.0.1:1/api/v3?x=1";
	ck_assert_int_eq(coin_http_open(&h, &o, why), COIN_EUSAGE);
	o.base = "http://127.0.0.1:1/api/v3";
	o.key = "CG-secret\r\nX-Evil: 1";
	ck_assert_int_eq(coin_http_open(&h, &o, why), COIN_EUSAGE);
	ck_assert_ptr_null(strstr(why, "secret"));
	o.key = "CG-secret";
	o.retries = -1;
	ck_assert_int_eq(coin_http_open(&h, &o, why), COIN_EUSAGE);
	o.retries = 0;
	o.cacert = "/nonexistent/ca.pem";
	ck_assert_int_eq(coin_http_open(&h, &o, why), 0);
	ck_assert_uint_eq(coin_http_requests(h), 0);
	coin_http_close(h);
	coin_http_close(NULL);
}
END_TEST

START_TEST(http_failures)
{
	struct coin_http_opts o;
	struct coin_http *h;
	struct coin_fetch_out out;
	struct coin_batch *b;
	char why[COIN_ERRBUF];
	const char *body;
	size_t len;
	time_t t0;

	/* Nothing listens on port 1 of the loopback. */
	memset(&o, 0, sizeof(o));
	o.base = "http://127.0.0.1:1/api/v3/";
	o.timeout_ms = 2000;
	o.backoff_ms = 100;
	ck_assert_int_eq(coin_http_open(&h, &o, why), 0);
	ck_assert_int_eq(coin_http_get(h, "ping", &body, &len, why),
	    COIN_EUSAGE);
	ck_assert_int_eq(coin_http_get(h, "/ping", &body, &len, why),
	    COIN_ETRYLATER);
	ck_assert_msg(strncmp(why, "/ping: ", 7) == 0 &&
	    strstr(why, "after 1 attempt") != NULL, "%s", why);
	ck_assert_uint_eq(coin_http_requests(h), 1);
	coin_http_close(h);

	/* Retries; then a deadline that leaves no time for one. */
	o.retries = 2;
	ck_assert_int_eq(coin_http_open(&h, &o, why), 0);
	ck_assert_int_eq(coin_http_get(h, "/ping?x=1", &body, &len, why),
	    COIN_ETRYLATER);
	ck_assert_uint_eq(coin_http_requests(h), 3);
	ck_assert_msg(strstr(why, "after 3 attempts") != NULL, "%s", why);
	t0 = time(NULL);
	coin_http_deadline(h, (int64_t)t0 + 1);
	ck_assert_int_eq(coin_http_get(h, "/ping", &body, &len, why),
	    COIN_ETRYLATER);
	ck_assert_uint_eq(coin_http_requests(h), 4);
	ck_assert_msg(strstr(why, "next batch") != NULL, "%s", why);

	/* The fetchers check their arguments before asking. */
	ck_assert_int_eq(coin_batch_new(&b), 0);
	memset(&out, 0, sizeof(out));
	out.batch = b;
	out.ts = NOW;
	out.period = 60;
	ck_assert_int_eq(coin_fetch_markets(h, "usd,eur", 0, &out, why),
	    COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_exchange(h, "a/b", &out, why),
	    COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_simple(h, "bitcoin", "", &out, why),
	    COIN_EUSAGE);
	ck_assert_int_eq(coin_fetch_chart(h, "bitcoin", "usd", 0, &out, why),
	    COIN_EUSAGE);
	ck_assert_uint_eq(coin_http_requests(h), 4);
	coin_batch_free(b);
	coin_http_close(h);
}
END_TEST

Suite *
fetch_suite(void)
{
	Suite *s = suite_create("fetch");
	TCase *tc;

	tc = tcase_create("simple");
	tcase_add_test(tc, simple_fixture);
	tcase_add_test(tc, simple_bad_prices);
	tcase_add_loop_test(tc, simple_invalid, 0,
	    (int)(sizeof(bad_simple) / sizeof(bad_simple[0])));
	suite_add_tcase(s, tc);
	tc = tcase_create("markets");
	tcase_add_test(tc, markets_fixture);
	tcase_add_test(tc, markets_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("tickers");
	tcase_add_test(tc, tickers_fixture);
	suite_add_tcase(s, tc);
	tc = tcase_create("chart");
	tcase_add_test(tc, chart_fixture);
	tcase_add_test(tc, chart_rules);
	suite_add_tcase(s, tc);
	tc = tcase_create("batch");
	tcase_add_test(tc, lists);
	tcase_add_test(tc, dedupe);
	suite_add_tcase(s, tc);
	tc = tcase_create("http");
	tcase_add_test(tc, key_header);
	tcase_add_test(tc, retry_after);
	tcase_add_test(tc, api_errors);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, http_open);
	tcase_add_test(tc, http_failures);
	tcase_set_timeout(tc, 20);
	suite_add_tcase(s, tc);
	return s;
}
