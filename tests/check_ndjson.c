/* SPDX-License-Identifier: ISC */
/* check_ndjson.c - unit tests of record parsing and writing */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "coin_int.h"

#define NOW	1732521600	/* 2024-11-25T08:00:00Z */

static int
tick(const char *line, struct coin_tick *t, char *why)
{
	return coin_tick_parse(line, strlen(line), NOW, t, why);
}

START_TEST(tick_good)
{
	struct coin_tick t;
	char why[COIN_ERRBUF], buf[COIN_RECBUF];

	ck_assert_int_eq(tick("{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,"
	    "\"price\":97312.41}", &t, why), 0);
	ck_assert_str_eq(t.pair, "bitcoin/usd");
	ck_assert_int_eq(t.ts, 1732521600);
	ck_assert(t.price == 97312.41);
	coin_tick_format(&t, buf);
	ck_assert_str_eq(buf, "{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,"
	    "\"price\":97312.41}\n");

	/* Any order, white space, unknown fields of every kind, src. */
	ck_assert_int_eq(tick(" { \"price\" : 1e-8 , \"x\":[1,{\"a\":[]},"
	    "null,true,false,\"\\u00e9\"], \"src\":\"coingecko\", "
	    "\"ts\" : \"2024-10-21T10:55:00Z\", \"pair\":\"binance:BTC/USDT\""
	    " }\t", &t, why), 0);
	ck_assert_str_eq(t.pair, "binance:BTC/USDT");
	ck_assert_int_eq(t.ts, 1729508100);
	ck_assert(t.price == 1e-8);
	coin_tick_format(&t, buf);
	ck_assert_str_eq(buf, "{\"pair\":\"binance:BTC/USDT\","
	    "\"ts\":1729508100,\"price\":1e-08}\n");

	/* Escapes that decode to allowed bytes are fine. */
	ck_assert_int_eq(tick("{\"pair\":\"a\\u002fb\",\"ts\":1732521600,"
	    "\"price\":1}", &t, why), 0);
	ck_assert_str_eq(t.pair, "a/b");
	/* A ts exactly a day ahead is in; an escaped key is a key. */
	ck_assert_int_eq(tick("{\"pair\":\"a/b\",\"t\\u0073\":1732608000,"
	    "\"price\":1}", &t, why), 0);
	ck_assert_int_eq(t.ts, NOW + 86400);
	/* 32 levels of nesting in an unknown field are allowed. */
	{
		char line[256] = "{\"pair\":\"a/b\",\"ts\":1732521600,"
		    "\"price\":2,\"deep\":";
		int i;

		for (i = 0; i < 31; i++)
			strcat(line, "[");
		for (i = 0; i < 31; i++)
			strcat(line, "]");
		strcat(line, "}");
		ck_assert_msg(tick(line, &t, why) == 0, "%s", why);
	}
}
END_TEST

/* Every bad record, with the reason it must give. */
static const struct {
	const char	*line;
	const char	*why;
} bad_ticks[] = {
	{ "", "empty line" },
	{ "bitcoin 97312", "invalid JSON at column 1: unexpected character" },
	{ "[1,2]", "not a JSON object" },
	{ "97312.41", "not a JSON object" },
	{ "\"a/b\"", "not a JSON object" },
	{ "null", "not a JSON object" },
	{ "{", "invalid JSON at column 2: expected a string key" },
	{ "{\"pair\":\"a/b\",}", "expected a string key" },
	{ "{\"pair\":\"a/b\" \"ts\":1}", "expected ',' or '}'" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1} x",
	    "trailing text after the object" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1}{}",
	    "trailing text after the object" },
	{ "{'pair':'a/b'}", "expected a string key" },
	{ "{\"ts\":1732521600,\"price\":1}", "missing \"pair\"" },
	{ "{\"pair\":\"a/b\",\"price\":1}", "missing \"ts\"" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600}", "missing \"price\"" },
	{ "{\"pair\":7,\"ts\":1732521600,\"price\":1}",
	    "\"pair\" is not a string" },
	{ "{\"pair\":null,\"ts\":1732521600,\"price\":1}",
	    "\"pair\" is not a string" },
	{ "{\"pair\":\"a/b\",\"ts\":true,\"price\":1}",
	    "\"ts\" is not an integer or an RFC 3339 time" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600.5,\"price\":1}",
	    "\"ts\" is not an integer: 1732521600.5" },
	{ "{\"pair\":\"a/b\",\"ts\":1.7e9,\"price\":1}",
	    "\"ts\" is not an integer" },
	{ "{\"pair\":\"a/b\",\"ts\":\"yesterday\",\"price\":1}",
	    "\"ts\" is not an RFC 3339 time: \"yesterday\"" },
	{ "{\"pair\":\"a/b\",\"ts\":\"2024-02-30T00:00:00Z\",\"price\":1}",
	    "not an RFC 3339 time" },
	{ "{\"pair\":\"a/b\",\"ts\":\"1732521600\",\"price\":1}",
	    "not an RFC 3339 time" },
	{ "{\"pair\":\"a/b\",\"ts\":1230767999,\"price\":1}",
	    "ts 1230767999 (2008-12-31T23:59:59Z) is before 2009" },
	{ "{\"pair\":\"a/b\",\"ts\":-5,\"price\":1}", "is before 2009" },
	{ "{\"pair\":\"a/b\",\"ts\":1732608001,\"price\":1}",
	    "ts 1732608001 (2024-11-26T08:00:01Z) is more than a day in the "
	    "future" },
	{ "{\"pair\":\"a/b\",\"ts\":99999999999999999999,\"price\":1}",
	    "\"ts\" is out of range: 99999999999999999999" },
	{ "{\"pair\":\"a/b\",\"ts\":9223372036854775808,\"price\":1}",
	    "\"ts\" is out of range" },
	{ "{\"pair\":\"a/b\",\"ts\":9223372036854775807,\"price\":1}",
	    "is more than a day in the future" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":0}",
	    "price is zero" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-0.0}",
	    "price is zero" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-3}",
	    "price is negative: -3" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1e999}",
	    "price is not finite: 1e999" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-1e999}",
	    "price is not finite" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":NaN}",
	    "unexpected character" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":Infinity}",
	    "unexpected character" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-Infinity}",
	    "bad number" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":\"97\"}",
	    "\"price\" is not a number" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":null}",
	    "\"price\" is not a number" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":01}",
	    "expected ',' or '}'" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1.}", "bad number" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":.5}",
	    "unexpected character" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":+1}",
	    "unexpected character" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1e}", "bad number" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"price\":2}",
	    "duplicate key \"price\"" },
	{ "{\"pair\":\"a/b\",\"pair\":\"c/d\",\"ts\":1732521600,\"price\":1}",
	    "duplicate key \"pair\"" },
	{ "{\"pair\":\"a/b\",\"ts\":1,\"\\u0074s\":1732521600,\"price\":1}",
	    "duplicate key \"ts\"" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,"
	    "\"\\u0070\\u0072\\u0069\\u0063\\u0065\":2}",
	    "duplicate key \"price\"" },
	{ "{\"pair\\u0000\":\"a/b\",\"ts\":1732521600,\"price\":1}",
	    "missing \"pair\"" },
	{ "{\"pair\":\"\",\"ts\":1732521600,\"price\":1}", "pair is empty" },
	{ "{\"pair\":\"ab\",\"ts\":1732521600,\"price\":1}",
	    "pair \"ab\" does not hold exactly one '/'" },
	{ "{\"pair\":\"a/b/c\",\"ts\":1732521600,\"price\":1}",
	    "does not hold exactly one '/'" },
	{ "{\"pair\":\"a b/c\",\"ts\":1732521600,\"price\":1}",
	    "pair holds a space at byte 2" },
	{ "{\"pair\":\"a\\\"/c\",\"ts\":1732521600,\"price\":1}",
	    "pair holds a quote at byte 2" },
	{ "{\"pair\":\"a\\\\/c\",\"ts\":1732521600,\"price\":1}",
	    "pair holds a backslash at byte 2" },
	{ "{\"pair\":\"a\\t/c\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ "{\"pair\":\"a\\u0000/c\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ "{\"pair\":\"\\u001b[31m/c\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ "{\"pair\":\"caf\xc3\xa9/usd\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII at byte 4" },
	{ "{\"pair\":\"a\x7f/b\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ "{\"pair\":\"a\x01/b\",\"ts\":1732521600,\"price\":1}",
	    "control character in string" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\xff\"}",
	    "invalid UTF-8" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\xc0\xaf\"}",
	    "invalid UTF-8" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,"
	    "\"x\":\"\xed\xa0\x80\"}", "invalid UTF-8" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\xe2\x82\"}",
	    "invalid UTF-8" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\\ud800\"}",
	    "lone surrogate" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\\udc00\"}",
	    "lone surrogate" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\\u12\"}",
	    "bad \\u escape" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"\\q\"}",
	    "bad escape" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":\"abc}",
	    "unterminated string" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":tru}",
	    "unexpected character" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":[1 2]}",
	    "expected ',' or ']'" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\":}",
	    "unexpected character" },
	{ "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"x\"}",
	    "expected ':'" },
};

START_TEST(tick_bad)
{
	struct coin_tick t;
	char why[COIN_ERRBUF];

	ck_assert_int_eq(tick(bad_ticks[_i].line, &t, why), COIN_EBADREC);
	ck_assert_msg(strstr(why, bad_ticks[_i].why) != NULL,
	    "line %s: reason \"%s\", expected \"%s\"", bad_ticks[_i].line,
	    why, bad_ticks[_i].why);
}
END_TEST

START_TEST(tick_limits)
{
	struct coin_tick t;
	char line[1024], why[COIN_ERRBUF], pair[256];
	int i;

	/* A pair of 200 bytes is in, 201 out. */
	memset(pair, 'x', 200);
	pair[100] = '/';
	pair[200] = '\0';
	snprintf(line, sizeof(line), "{\"pair\":\"%s\",\"ts\":1732521600,"
	    "\"price\":1}", pair);
	ck_assert_msg(tick(line, &t, why) == 0, "%s", why);
	ck_assert_int_eq(strlen(t.pair), 200);
	pair[200] = 'x';
	pair[201] = '\0';
	snprintf(line, sizeof(line), "{\"pair\":\"%s\",\"ts\":1732521600,"
	    "\"price\":1}", pair);
	ck_assert_int_eq(tick(line, &t, why), COIN_EBADREC);
	ck_assert_str_eq(why, "pair is longer than 200 bytes");
	/* 33 levels of nesting are refused (the object is the first). */
	strcpy(line, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":2,"
	    "\"deep\":");
	for (i = 0; i < 32; i++)
		strcat(line, "[");
	for (i = 0; i < 32; i++)
		strcat(line, "]");
	strcat(line, "}");
	ck_assert_int_eq(tick(line, &t, why), COIN_EBADREC);
	ck_assert_msg(strstr(why, "nesting deeper than 32") != NULL, "%s",
	    why);
	/* Not NUL-terminated input is read by its length only. */
	strcpy(line, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":2}GARBAGE");
	ck_assert_int_eq(coin_tick_parse(line, strlen(line) - 7, NOW, &t,
	    why), 0);
	ck_assert_int_eq(coin_tick_parse(line, 10, NOW, &t, why),
	    COIN_EBADREC);
	/* A NULL errbuf is allowed. */
	ck_assert_int_eq(coin_tick_parse("x", 1, NOW, &t, NULL),
	    COIN_EBADREC);
	ck_assert(coin_line_blank(" \t\r", 3));
	ck_assert(coin_line_blank("", 0));
	ck_assert(!coin_line_blank(" {", 2));
}
END_TEST

static void
roundtrip(double d)
{
	char buf[32], *end;

	coin_double_format(d, buf);
	ck_assert_msg(strtod(buf, &end) == d && *end == '\0',
	    "%.17g wrote %s", d, buf);
}

START_TEST(double_format)
{
	static const struct {
		double		 d;
		const char	*s;
	} cases[] = {
		{ 97312.41, "97312.41" }, { 0.1, "0.1" }, { 1, "1" },
		{ 1e-8, "1e-08" }, { 1e21, "1e+21" },
		{ 123456789012, "123456789012" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 5e-324, "4.94065645841247e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 67187.3358936566, "67187.3358936566" },
	};
	char buf[32];
	uint64_t x = 88172645463325252ULL, u;
	double d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		coin_double_format(cases[i].d, buf);
		ck_assert_str_eq(buf, cases[i].s);
		roundtrip(cases[i].d);
	}
	coin_double_format(NAN, buf);
	ck_assert_str_eq(buf, "null");
	coin_double_format(INFINITY, buf);
	ck_assert_str_eq(buf, "null");
	/* Random bit patterns (xorshift), every finite one round-trips. */
	for (i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		u = x;
		memcpy(&d, &u, sizeof(d));
		if (isfinite(d))
			roundtrip(d);
	}
}
END_TEST

/* coin_double_format() before its fast path: printf, read back. */
static void
format_slow(double d, char *buf)
{
	int prec;

	for (prec = 15;; prec++) {
		snprintf(buf, 32, "%.*g", prec, d);
		if (prec == 17 || strtod(buf, NULL) == d)
			break;
	}
}

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Doubles of every shape that prices and statistics take. */
static double
some_double(uint64_t *x, int i)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16 };
	uint64_t r = xorshift(x), u;
	double d;

	switch (i % 5) {
	case 0:		/* a decimal price: m / 10^k */
		return (double)(r % 1000000000000ULL) / p10[r >> 60];
	case 1:		/* a computed value: full precision */
		return (double)(r >> 11) / 9007199254740992.0 *
		    p10[(r >> 3) % 17] * (r & 1 ? 1e-5 : 1e-10);
	case 2:		/* a bit pattern near 1e-10 .. 1e15 */
		u = (r & ((UINT64_C(1) << 52) - 1)) |
		    ((uint64_t)(989 + (r >> 52) % 84) << 52);
		memcpy(&d, &u, sizeof(d));
		return d;
	case 3:		/* next to a power of ten */
		d = p10[r % 17] * (r & 2 ? 1e-4 : 1e-9);
		return (r >> 8) & 1 ? nextafter(d, 0) : nextafter(d, 1e300);
	default:	/* a short decimal scaled by a product */
		return (double)(r % 100000) * 0.01 * 1.1;
	}
}

/* The fast path writes what printf wrote, byte for byte. */
START_TEST(format_fast_same)
{
	char a[32], b[32];
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	double d;
	int i;

	for (i = 0; i < 300000; i++) {
		d = some_double(&x, i);
		coin_double_format(d, a);
		format_slow(d, b);
		ck_assert_msg(strcmp(a, b) == 0, "%.17g: %s, printf %s", d, a,
		    b);
	}
	/* Around each power of ten and of two (a nearer lower neighbour). */
	for (i = -9; i <= 15; i++) {
		double c = i < 0 ? 1 / pow(10, -i) : pow(10, i), e;
		int j;

		for (j = 0; j < 2; j++, c = ldexp(1, 3 * i + 10)) {
			d = c;
			for (e = 0; e < 60; e++)
				d = nextafter(d, 0);
			for (e = 0; e < 120; e++, d = nextafter(d, 1e300)) {
				coin_double_format(d, a);
				format_slow(d, b);
				ck_assert_msg(strcmp(a, b) == 0,
				    "%.17g: %s, printf %s", d, a, b);
			}
		}
	}
	coin_double_format(9999999.9999999981, a);
	ck_assert_str_eq(a, "9999999.999999998");
	coin_double_format(0.0, a);
	ck_assert_str_eq(a, "0");
	coin_double_format(-0.0, a);
	ck_assert_str_eq(a, "-0");
	coin_double_format(1e-4, a);
	ck_assert_str_eq(a, "0.0001");
	coin_double_format(999999999999999.0, a);
	ck_assert_str_eq(a, "999999999999999");
	coin_double_format(1e15, a);
	ck_assert_str_eq(a, "1e+15");
	/* Rounded to 15 digits it is 1e15, which does not read back. */
	coin_double_format(999999999999999.9, a);
	ck_assert_str_eq(a, "999999999999999.9");
	coin_double_format(1.5e-6, a);
	ck_assert_str_eq(a, "1.5e-06");
	coin_double_format(1e-5, a);
	ck_assert_str_eq(a, "1e-05");
	coin_double_format(3.0000000000000004e-05, a);
	ck_assert_str_eq(a, "3.0000000000000004e-05");
	coin_double_format(1.0000000000000001e-07, a);
	ck_assert_str_eq(a, "1.0000000000000001e-07");
}
END_TEST

/* The parse's fast path reads what strtod() reads, bit for bit. */
START_TEST(parse_fast_same)
{
	static const int prec[] = { 1, 3, 6, 9, 12, 15, 16, 17 };
	char line[128], num[64], why[COIN_ERRBUF];
	struct coin_tick t;
	uint64_t x = 0x2545f4914f6cdd1dULL, r;
	double d;
	int i, k;

	for (i = 0; i < 200000; i++) {
		r = xorshift(&x);
		if (i % 3 == 0) {
			/* Digits and an exponent, as anyone may write. */
			snprintf(num, sizeof(num), "%llu.%llue%d",
			    (unsigned long long)(r % 100000000),
			    (unsigned long long)((r >> 27) % 100000000000ULL),
			    (int)((r >> 50) % 50) - 30);
		} else {
			d = some_double(&x, i);
			k = prec[r % (sizeof(prec) / sizeof(prec[0]))];
			if ((r >> 8) % 4 == 0)
				snprintf(num, sizeof(num), "%.*e", k, d);
			else if ((r >> 8) % 4 == 1)
				snprintf(num, sizeof(num), "%.*f", k % 9, d);
			else
				snprintf(num, sizeof(num), "%.*g", k, d);
		}
		snprintf(line, sizeof(line),
		    "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":%s}",
		    num);
		d = strtod(num, NULL);
		if (!(d > 0) || !isfinite(d))
			continue;
		ck_assert_msg(coin_tick_parse(line, strlen(line), NOW, &t,
		    why) == 0, "%s: %s", line, why);
		ck_assert_msg(memcmp(&t.price, &d, sizeof(d)) == 0,
		    "%s read as %.17g, strtod %.17g", num, t.price, d);
	}
	/*
	 * 17 to 19 digits over 10^1 .. 10^22 (the exact division), and
	 * halfway between two doubles (ties to even, or above half by
	 * a last digit).
	 */
	for (i = 0; i < 200000 + 8; i++) {
		static const char *const ties[] = { "9007199254740993.0",
		    "9007199254740995.0", "9007199254740993.000",
		    "9007199254740993.001", "9007199254740994.999",
		    "4503599627370496.25", "4503599627370496.75",
		    "0.50000000000000005551115123125782702" };

		if (i < 8)
			snprintf(num, sizeof(num), "%s", ties[i]);
		else {
			r = xorshift(&x);
			k = 17 + (int)(r % 3);
			snprintf(num, sizeof(num), "%0*llu", k,
			    (unsigned long long)((r >> 2) %
			    (k == 19 ? 10000000000000000000ULL :
			    k == 18 ? 1000000000000000000ULL :
			    100000000000000000ULL)));
			num[0] = (char)('1' + (r >> 62) % 9);
			/* The point after digit j, or an exponent. */
			if ((r >> 8) % 2 == 0) {
				int j = 1 +
				    (int)((r >> 12) % (unsigned)(k - 1));

				memmove(num + j + 1, num + j,
				    strlen(num + j) + 1);
				num[j] = '.';
			} else
				snprintf(num + k, sizeof(num) - (size_t)k,
				    "e-%d", 1 + (int)((r >> 12) % 22));
		}
		snprintf(line, sizeof(line),
		    "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":%s}",
		    num);
		d = strtod(num, NULL);
		ck_assert_msg(coin_tick_parse(line, strlen(line), NOW, &t,
		    why) == 0, "%s: %s", line, why);
		ck_assert_msg(memcmp(&t.price, &d, sizeof(d)) == 0,
		    "%s read as %.17g, strtod %.17g", num, t.price, d);
	}
}
END_TEST

/* Output and input ignore a locale whose decimal mark is a comma. */
START_TEST(locale_comma)
{
	struct coin_tick t;
	char buf[COIN_RECBUF], why[COIN_ERRBUF];

	ck_assert_msg(setlocale(LC_ALL, "de_DE.UTF-8") != NULL,
	    "no de_DE.UTF-8 locale: run under make unit, which makes one "
	    "and sets LOCPATH");
	snprintf(buf, sizeof(buf), "%.1f", 0.5);
	ck_assert_str_eq(buf, "0,5");	/* the locale is really in force */
	ck_assert_int_eq(tick("{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"price\":1234.5678}", &t, why), 0);
	ck_assert(t.price == 1234.5678);
	coin_tick_format(&t, buf);
	ck_assert_str_eq(buf, "{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"price\":1234.5678}\n");
	coin_double_format(0.25, buf);
	ck_assert_str_eq(buf, "0.25");
	setlocale(LC_ALL, "C");
}
END_TEST

START_TEST(stat_records)
{
	struct coin_stat s, r;
	char buf[COIN_RECBUF], why[COIN_ERRBUF];
	const char *line = "{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,"
	    "\"window\":86400,\"n\":1440,\"mean\":97011.2,\"stddev\":812.4,"
	    "\"min\":95500,\"max\":98800.1,\"last\":97312.41}";

	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &s, why),
	    0);
	ck_assert_int_eq(s.n, 1440);
	ck_assert_int_eq(s.window, 86400);
	ck_assert(s.stddev == 812.4 && s.max == 98800.1);
	coin_stat_format(&s, buf);
	ck_assert_int_eq(strncmp(buf, line, strlen(line)), 0);
	ck_assert_str_eq(buf + strlen(line), "\n");
	/* Rank records parse as stats: rank and of are ignored. */
	line = "{\"rank\":1,\"of\":3,\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"window\":60,\"n\":1,\"mean\":2,\"stddev\":null,\"min\":2,"
	    "\"max\":2,\"last\":2}";
	ck_assert_msg(coin_stat_parse(line, strlen(line), NOW, &r, why) == 0,
	    "%s", why);
	ck_assert(isnan(r.stddev));
	coin_stat_format(&r, buf);
	ck_assert_str_eq(buf, "{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"window\":60,\"n\":1,\"mean\":2,\"stddev\":null,\"min\":2,"
	    "\"max\":2,\"last\":2}\n");
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":5,"
	    "\"mean\":2,\"stddev\":null,\"min\":2,\"max\":2,\"last\":2}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "\"stddev\" is null with n = 5");
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":0,\"n\":5,"
	    "\"mean\":2,\"stddev\":1,\"min\":2,\"max\":2,\"last\":2}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "window is not positive");
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":5,"
	    "\"mean\":2,\"stddev\":-1,\"min\":2,\"max\":2,\"last\":2}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "stddev is negative");
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":5,"
	    "\"mean\":2,\"stddev\":1,\"min\":2,\"max\":2}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "missing \"last\"");
	line = "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":-1,"
	    "\"mean\":2,\"stddev\":1,\"min\":2,\"max\":2,\"last\":2}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "n is negative");
}
END_TEST

/*
 * Every corner of the strict parser and of the fields' rules: a line,
 * whether it is a stat, and the reason it is refused (NULL: it parses).
 */
static const struct {
	int		 stat;
	const char	*line;
	const char	*why;
} corners[] = {
	/* White space of every kind between tokens. */
	{ 0, "{\n\"pair\"\r:\"a/b\",\"ts\":1732521600,\"price\":1}", NULL },
	/* UTF-8: 2, 3 and 4 bytes; overlong, too high, surrogates, cut. */
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,"
	    "\"x\":\"\xc3\xa9\xe2\x82\xac\xee\x80\x80\xf0\x9f\x98\x80\"}",
	    NULL },
	{ 0, "{\"x\":\"\xe0\x9f\xbf\"}", "invalid UTF-8" },
	{ 0, "{\"x\":\"\xf0\x8f\xbf\xbf\"}", "invalid UTF-8" },
	{ 0, "{\"x\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8" },
	{ 0, "{\"x\":\"\xf5\x80\x80\x80\"}", "invalid UTF-8" },
	{ 0, "{\"x\":\"\xe2\x28\xa1\"}", "invalid UTF-8" },
	{ 0, "{\"x\":\"\xf0\x9f", "invalid UTF-8" },
	/* Escapes: hex of both cases, bad digits, cut short. */
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,"
	    "\"x\":\"\\u00E9\\u00e9\\b\\f\\n\\r\\t\\/\\\\\\\"\"}", NULL },
	{ 0, "{\"x\":\"\\u00G9\"}", "bad \\u escape" },
	{ 0, "{\"x\":\"\\u00g9\"}", "bad \\u escape" },
	{ 0, "{\"x\":\"\\u00!9\"}", "bad \\u escape" },
	{ 0, "{\"x\":\"\\u12", "bad \\u escape" },
	{ 0, "{\"x\":\"\\", "unfinished escape" },
	/* Surrogates: a pair, and each way a high one is left alone. */
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,"
	    "\"x\":\"\\ud83d\\ude00\\ue000\"}", NULL },
	{ 0, "{\"x\":\"\\ud83d", "lone surrogate" },
	{ 0, "{\"x\":\"\\ud83dxxxxxxx\"}", "lone surrogate" },
	{ 0, "{\"x\":\"\\ud83d\\nxxxxx\"}", "lone surrogate" },
	{ 0, "{\"x\":\"\\ud83d\\uzzzz\"}", "lone surrogate" },
	{ 0, "{\"x\":\"\\ud83d\\u0041\"}", "lone surrogate" },
	{ 0, "{\"x\":\"\\ud83d\\ue000\"}", "lone surrogate" },
	/* Numbers, each ending the line where it may. */
	{ 0, "-", "bad number" },
	{ 0, "-x", "bad number" },
	{ 0, "12", "not a JSON object" },
	{ 0, "-1.5", "not a JSON object" },
	{ 0, "1.", "bad number" },
	{ 0, "1.x", "bad number" },
	{ 0, "1E5", "not a JSON object" },
	{ 0, "1e-5", "not a JSON object" },
	{ 0, "1e+", "bad number" },
	{ 0, "1e", "bad number" },
	{ 0, "1ex", "bad number" },
	{ 0, "1.5e+10", "not a JSON object" },
	{ 0, "tr", "unexpected character" },
	{ 0, "true", "not a JSON object" },
	{ 0, "\"s\"", "not a JSON object" },
	/* Containers: cut short, bad keys, missing separators. */
	{ 0, "[", "unexpected end of line" },
	{ 0, "[1", "expected ',' or ']'" },
	{ 0, "{\"x\":{", "expected a string key" },
	{ 0, "{\"x\":{1:2}}", "expected a string key" },
	{ 0, "{\"x\":{\"a", "unterminated string" },
	{ 0, "{\"x\":{\"a\"", "expected ':'" },
	{ 0, "{\"x\":{\"a\" 1}}", "expected ':'" },
	{ 0, "{\"x\":{\"a\":1 2}}", "expected ',' or '}'" },
	{ 0, "{\"x\":{\"a\":1,\"b\":{}}", "expected ',' or '}'" },
	{ 0, "{\"x\":", "unexpected end of line" },
	{ 0, "{", "expected a string key" },
	{ 0, "{1:2}", "expected a string key" },
	{ 0, "{\"pa", "unterminated string" },
	{ 0, "{\"pair\"", "expected ':'" },
	{ 0, "{\"pair\":\"a/b\"", "expected ',' or '}'" },
	{ 0, "{\"pair\":\"a/b\" \"ts\":1}", "expected ',' or '}'" },
	{ 0, "{}", "missing \"pair\"" },
	{ 0, "{} {}", "trailing text" },
	{ 0, "{\"an_unknown_key_of_some_length\":1,\"pair\":\"a/b\","
	    "\"ts\":1732521600,\"price\":1}", NULL },
	/* Escaped pairs: decoded to 2, 3, 4 bytes, controls, too long. */
	{ 0, "{\"pair\":\"\\u00e9/b\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":\"\\u20ac/b\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":\"\\ud83d\\ude00/b\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":\"a\\tb/c\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":\"a\\b\\f\\n\\r/c\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":\"a\\u0000/b\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":\"\\ue000/b\",\"ts\":1732521600,\"price\":1}",
	    "not printable ASCII" },
	{ 0, "{\"pair\":1,\"ts\":1732521600,\"price\":1}",
	    "\"pair\" is not a string" },
	/* The fields: ts. */
	{ 0, "{\"pair\":\"a/b\",\"price\":1}", "missing \"ts\"" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":true,\"price\":1}",
	    "not an integer or an RFC 3339 time" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":\"2024-10-21T10:55:00\\u005a\","
	    "\"price\":1}", "not an RFC 3339 time" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":\"2024-10-21T10:55:00.00000000000000000"
	    "000000000000000000000000000000000000000000000000Z\",\"price\":1}",
	    "not an RFC 3339 time" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":\"2024-10-21T10:55:00.00000000000000000"
	    "0000000Z\",\"price\":1}", NULL },
	{ 0, "{\"pair\":\"a/b\",\"ts\":\"yesterday, at about eleven in the "
	    "morning\",\"price\":1}", "not an RFC 3339 time" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600.0000000000000000000000000000"
	    "000000001,\"price\":1}", "\"ts\" is not an integer" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":-1732521600,\"price\":1}",
	    "is before 2009" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":-99999999999999,\"price\":1}",
	    "is before 2009" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":99999999999999,\"price\":1}",
	    "more than a day in the future" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732608001,\"price\":1}",
	    "more than a day in the future" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":-9223372036854775808,\"price\":1}",
	    "is before 2009" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":-9223372036854775809,\"price\":1}",
	    "out of range" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":9223372036854775808,\"price\":1}",
	    "out of range" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":123456789012345678901234567890123456789"
	    "01234567890,\"price\":1}", "out of range" },
	/* The fields: price. */
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600}", "missing \"price\"" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":\"1\"}",
	    "\"price\" is not a number" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":null}",
	    "\"price\" is not a number" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":0}",
	    "price is zero" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-2}",
	    "price is negative: -2" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-0.000000000000000"
	    "0000000000000000000000000000001}", "price is negative" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1e999}",
	    "price is not finite: 1e999" },
	{ 0, "{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":100000000000000000"
	    "00000000000000000000000000000000e999}", "price is not finite" },
	/* The fields of a stat. */
	{ 1, "{\"pair\":\"a/b\",\"window\":60}", "missing \"ts\"" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":100}", "before 2009" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":\"60\"}",
	    "\"window\" is not an integer" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60.5}",
	    "\"window\" is not an integer" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":0}",
	    "window is not positive" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":1,"
	    "\"mean\":1}", "missing \"stddev\"" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":2,"
	    "\"mean\":1,\"stddev\":null}", "\"stddev\" is null with n = 2" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":1,"
	    "\"mean\":null}", "\"mean\" is null with n = 1" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":1,"
	    "\"mean\":1,\"stddev\":null,\"min\":1,\"max\":1,\"last\":1}",
	    NULL },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":2,"
	    "\"mean\":1,\"stddev\":-0.5,\"min\":1,\"max\":1,\"last\":1}",
	    "stddev is negative" },
	{ 1, "{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":2,"
	    "\"mean\":1,\"stddev\":1,\"min\":1,\"max\":1,\"last\":1,"
	    "\"n\":3}", "duplicate key \"n\"" },
};

START_TEST(parse_corners)
{
	struct coin_tick t;
	struct coin_stat st;
	char why[COIN_ERRBUF];
	const char *line = corners[_i].line;
	int rc;

	why[0] = '\0';
	rc = corners[_i].stat ?
	    coin_stat_parse(line, strlen(line), NOW, &st, why) :
	    coin_tick_parse(line, strlen(line), NOW, &t, why);
	if (corners[_i].why == NULL)
		ck_assert_msg(rc == 0, "line %s: %s", line, why);
	else {
		ck_assert_int_eq(rc, COIN_EBADREC);
		ck_assert_msg(strstr(why, corners[_i].why) != NULL,
		    "line %s: reason \"%s\", expected \"%s\"", line, why,
		    corners[_i].why);
	}
}
END_TEST

/* Long escaped pairs are cut as they decode, and refused whole. */
START_TEST(pair_escapes_long)
{
	struct coin_tick t;
	char line[1024], why[COIN_ERRBUF], pair[512];
	static const char *const tails[] = {
		"\\u20ac", "\\ud83d\\ude00", "\\u00e9", "\\t", "x", "\\u0078",
		"xx\\t"
	};
	size_t i;

	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		memset(pair, 'x', 199);
		pair[100] = '/';
		snprintf(pair + 199, sizeof(pair) - 199, "%s%s", tails[i],
		    "\\u0079yy");
		snprintf(line, sizeof(line), "{\"pair\":\"%s\","
		    "\"ts\":1732521600,\"price\":1}", pair);
		ck_assert_int_eq(tick(line, &t, why), COIN_EBADREC);
		ck_assert_str_eq(why, "pair is longer than 200 bytes");
	}
	/* 200 bytes once decoded are in. */
	memset(pair, 'x', 199);
	pair[100] = '/';
	snprintf(pair + 199, sizeof(pair) - 199, "\\u0079");
	snprintf(line, sizeof(line), "{\"pair\":\"%s\",\"ts\":1732521600,"
	    "\"price\":1}", pair);
	ck_assert_msg(tick(line, &t, why) == 0, "%s", why);
	ck_assert_uint_eq(strlen(t.pair), 200);
	ck_assert_int_eq(t.pair[199], 'y');
}
END_TEST

/* A number of 400 characters is refused before it is read. */
START_TEST(number_long)
{
	struct coin_tick t;
	char line[1024], why[COIN_ERRBUF], num[512];

	memset(num, '0', 399);
	num[0] = '1';
	num[1] = '.';
	num[399] = '\0';
	snprintf(line, sizeof(line), "{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"price\":%s}", num);
	ck_assert_msg(tick(line, &t, why) == 0, "%s", why);
	ck_assert(t.price == 1);
	num[399] = '0';
	num[400] = '\0';
	snprintf(line, sizeof(line), "{\"pair\":\"a/b\",\"ts\":1732521600,"
	    "\"price\":%s}", num);
	ck_assert_int_eq(tick(line, &t, why), COIN_EBADREC);
	ck_assert_str_eq(why, "\"price\" has too many digits");
}
END_TEST

/* Whatever is in a record, even what no parse would give, formats. */
START_TEST(format_any)
{
	struct coin_tick t;
	struct coin_stat st;
	char buf[COIN_RECBUF];

	snprintf(t.pair, sizeof(t.pair), "a/b");
	t.ts = INT64_MIN;
	t.price = -1.5;
	coin_tick_format(&t, buf);
	ck_assert_str_eq(buf, "{\"pair\":\"a/b\",\"ts\":-9223372036854775808,"
	    "\"price\":-1.5}\n");
	memset(&st, 0, sizeof(st));
	snprintf(st.pair, sizeof(st.pair), "a/b");
	st.ts = -1;
	st.window = -60;
	st.n = -2;
	st.mean = st.stddev = st.min = st.max = st.last = NAN;
	coin_rank_format(UINT64_MAX / 2, 7, &st, buf);
	ck_assert_str_eq(buf, "{\"rank\":9223372036854775807,\"of\":7,"
	    "\"pair\":\"a/b\",\"ts\":-1,\"window\":-60,\"n\":-2,\"mean\":null,"
	    "\"stddev\":null,\"min\":null,\"max\":null,\"last\":null}\n");
}
END_TEST

/*
 * Found by fuzz_record (UBSan): a stat without "n" or "window" made
 * get_int() do arithmetic on the text pointer of an absent value,
 * which is unset.  tests/fuzz/corpus/fuzz_record/crash-get_int-missing-n
 */
START_TEST(fuzz_absent_int)
{
	struct coin_stat r;
	char why[COIN_ERRBUF];
	const char *line;

	line = "{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,"
	    "\"window\":86400,\"max\":99000,\"last\":98500}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "missing \"n\"");
	line = "{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,\"n\":2}";
	ck_assert_int_eq(coin_stat_parse(line, strlen(line), NOW, &r, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "missing \"window\"");
}
END_TEST

/* line with a space after every ':' and ',' outside strings. */
static void
respace(const char *line, char *out, size_t outsz)
{
	size_t n = 0;
	int in = 0;

	for (; *line != '\0' && n + 3 < outsz; line++) {
		out[n++] = *line;
		if (*line == '"' && (n < 2 || out[n - 2] != '\\'))
			in = !in;
		if (!in && (*line == ':' || *line == ','))
			out[n++] = ' ';
	}
	out[n] = '\0';
}

static int
same_stat(const struct coin_stat *a, const struct coin_stat *b)
{
	return strcmp(a->pair, b->pair) == 0 && a->ts == b->ts &&
	    a->window == b->window && a->n == b->n &&
	    memcmp(&a->mean, &b->mean, sizeof(double)) == 0 &&
	    memcmp(&a->stddev, &b->stddev, sizeof(double)) == 0 &&
	    memcmp(&a->min, &b->min, sizeof(double)) == 0 &&
	    memcmp(&a->max, &b->max, sizeof(double)) == 0 &&
	    memcmp(&a->last, &b->last, sizeof(double)) == 0;
}

/*
 * Records spelt as the commands write them take a fast way through the
 * parser: it must read them as the general one does (the same line
 * with spaces goes the general way), and a line that starts as one but
 * is not must be refused with the general parser's reason.
 */
START_TEST(canon_same)
{
	static const char *const ticks[] = {
		"{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,"
		    "\"price\":97312.41}",
		"{\"pair\":\"a\\u002fb\",\"ts\":1732521600,\"price\":1e-08}",
		"{\"pair\":\"a/b\",\"ts\":\"2024-11-25T08:00:00Z\","
		    "\"price\":0.1234567890123456789012}",
		"{\"pair\":\"x:\\u00e9/b\",\"ts\":1732521600,\"price\":2}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":-1}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":null}",
		"{\"pair\":\"a/b\",\"ts\":17325216.5,\"price\":1}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":[1]}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,\"price\":2}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,"
		    "\"pair\":\"c/d\"}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1}}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1}x",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":01}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1.}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":\"1\"}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"price\":1,}",
	};
	static const char *const stats[] = {
		"{\"pair\":\"bitcoin/usd\",\"ts\":1732521600,\"window\":86400,"
		    "\"n\":1440,\"mean\":3.620226928541667,"
		    "\"stddev\":0.15469574994300025,\"min\":3.3572853,"
		    "\"max\":3.9467651,\"last\":3.7324323}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":1,"
		    "\"mean\":2,\"stddev\":null,\"min\":2,\"max\":2,"
		    "\"last\":2}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":1,"
		    "\"mean\":2,\"stddev\":null,\"min\":2,\"max\":2,\"last\":2,"
		    "\"n\":3}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":0,"
		    "\"mean\":null,\"stddev\":null,\"min\":null,\"max\":null,"
		    "\"last\":null}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":2,"
		    "\"mean\":2,\"stddev\":-1,\"min\":2,\"max\":2,\"last\":2}",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":2,"
		    "\"mean\":2,\"stddev\":1,\"min\":2,\"max\":2,\"last\":2} ",
		"{\"pair\":\"a/b\",\"ts\":1732521600,\"window\":60,\"n\":2,"
		    "\"mean\":2,\"stddev\":1,\"min\":2,\"max\":2}",
	};
	char sp[512], w1[COIN_ERRBUF], w2[COIN_ERRBUF];
	struct coin_tick t1, t2;
	struct coin_stat s1, s2;
	size_t i;
	int r1, r2;

	for (i = 0; i < sizeof(ticks) / sizeof(ticks[0]); i++) {
		respace(ticks[i], sp, sizeof(sp));
		memset(&t1, 0, sizeof(t1));
		memset(&t2, 0, sizeof(t2));
		r1 = tick(ticks[i], &t1, w1);
		r2 = tick(sp, &t2, w2);
		ck_assert_msg(r1 == r2, "%s: %d, spaced %d", ticks[i], r1, r2);
		if (r1 == 0)
			ck_assert_msg(strcmp(t1.pair, t2.pair) == 0 &&
			    t1.ts == t2.ts && memcmp(&t1.price, &t2.price,
			    sizeof(double)) == 0, "%s: read otherwise",
			    ticks[i]);
		else	/* the same reason, the column aside */
			ck_assert_msg(strcmp(strchr(w1, ':') ? strchr(w1, ':') :
			    w1, strchr(w2, ':') ? strchr(w2, ':') : w2) == 0,
			    "%s: \"%s\", spaced \"%s\"", ticks[i], w1, w2);
	}
	for (i = 0; i < sizeof(stats) / sizeof(stats[0]); i++) {
		respace(stats[i], sp, sizeof(sp));
		memset(&s1, 0, sizeof(s1));
		memset(&s2, 0, sizeof(s2));
		r1 = coin_stat_parse(stats[i], strlen(stats[i]), NOW, &s1, w1);
		r2 = coin_stat_parse(sp, strlen(sp), NOW, &s2, w2);
		ck_assert_msg(r1 == r2, "%s: %d, spaced %d", stats[i], r1, r2);
		if (r1 == 0)
			ck_assert_msg(same_stat(&s1, &s2), "%s: read otherwise",
			    stats[i]);
		else
			ck_assert_msg(strcmp(strchr(w1, ':') ? strchr(w1, ':') :
			    w1, strchr(w2, ':') ? strchr(w2, ':') : w2) == 0,
			    "%s: \"%s\", spaced \"%s\"", stats[i], w1, w2);
	}
	/* What the fast way must not let through. */
	ck_assert_int_eq(tick(ticks[10], &t1, w1), COIN_EBADREC);
	ck_assert_ptr_nonnull(strstr(w1, "trailing text"));
	ck_assert_int_eq(tick(ticks[8], &t1, w1), COIN_EBADREC);
	ck_assert_str_eq(w1, "duplicate key \"price\"");
	ck_assert_int_eq(coin_stat_parse(stats[2], strlen(stats[2]), NOW, &s1,
	    w1), COIN_EBADREC);
	ck_assert_str_eq(w1, "duplicate key \"n\"");
	ck_assert_int_eq(coin_stat_parse(stats[6], strlen(stats[6]), NOW, &s1,
	    w1), COIN_EBADREC);
	ck_assert_str_eq(w1, "missing \"last\"");
}
END_TEST

START_TEST(errors)
{
	ck_assert_str_eq(coin_strerror(COIN_ELONG), "line longer than 1 MiB");
	ck_assert_str_eq(coin_strerror(COIN_ECORRUPT), "store is corrupt");
	ck_assert_str_eq(coin_strerror(ENOENT), strerror(ENOENT));
	ck_assert_int_eq(coin_exit_status(0), 0);
	ck_assert_int_eq(coin_exit_status(COIN_EBADREC), 65);
	ck_assert_int_eq(coin_exit_status(COIN_ENOSTORE), 66);
	ck_assert_int_eq(coin_exit_status(COIN_ECREATE), 73);
	ck_assert_int_eq(coin_exit_status(COIN_ECORRUPT), 74);
	ck_assert_int_eq(coin_exit_status(ENOSPC), 74);
	ck_assert_int_eq(coin_exit_status(COIN_ENOMEM), 70);
}
END_TEST

Suite *
ndjson_suite(void)
{
	Suite *s = suite_create("ndjson");
	TCase *tc;

	tc = tcase_create("tick");
	tcase_add_test(tc, tick_good);
	tcase_add_loop_test(tc, tick_bad, 0,
	    sizeof(bad_ticks) / sizeof(bad_ticks[0]));
	tcase_add_test(tc, tick_limits);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, double_format);
	tcase_add_test(tc, format_fast_same);
	tcase_add_test(tc, parse_fast_same);
	tcase_add_test(tc, locale_comma);
	suite_add_tcase(s, tc);
	tc = tcase_create("stat");
	tcase_add_test(tc, stat_records);
	tcase_add_test(tc, canon_same);
	tcase_add_test(tc, errors);
	tcase_add_test(tc, fuzz_absent_int);
	suite_add_tcase(s, tc);
	tc = tcase_create("corners");
	tcase_add_loop_test(tc, parse_corners, 0,
	    sizeof(corners) / sizeof(corners[0]));
	tcase_add_test(tc, pair_escapes_long);
	tcase_add_test(tc, number_long);
	tcase_add_test(tc, format_any);
	suite_add_tcase(s, tc);
	return s;
}
