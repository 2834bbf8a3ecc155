/* SPDX-License-Identifier: ISC */
/* check_timefmt.c - unit tests of durations and times */
#include <stdint.h>
#include <string.h>

#include "check_main.h"
#include "coin_int.h"

static const struct {
	const char	*s;
	int64_t		 secs;		/* -1: refused */
} durations[] = {
	{ "90s", 90 }, { "15m", 900 }, { "24h", 86400 }, { "7d", 604800 },
	{ "2w", 1209600 }, { "3600", 3600 }, { "0", 0 }, { "1h30m", 5400 },
	{ "1d12h", 129600 }, { "", -1 }, { "h", -1 }, { "5x", -1 },
	{ "-5m", -1 }, { "1.5h", -1 }, { "1h30", -1 }, { " 5m", -1 },
	{ "5m ", -1 }, { "99999999999999999999s", -1 },
	{ "9999999999999999d", -1 },
};

START_TEST(duration)
{
	char why[COIN_ERRBUF];
	int64_t secs = 0;
	int rc = coin_duration_parse(durations[_i].s, &secs, why);

	if (durations[_i].secs < 0) {
		ck_assert_msg(rc == COIN_EBADREC, "\"%s\" was accepted",
		    durations[_i].s);
		ck_assert(strlen(why) > 0);
	} else {
		ck_assert_msg(rc == 0, "\"%s\": %s", durations[_i].s, why);
		ck_assert_int_eq(secs, durations[_i].secs);
	}
}
END_TEST

static const struct {
	const char	*s;
	int64_t		 ts;
	int		 ok;
} instants[] = {
	{ "2024-10-21T10:55:00Z", 1729508100, 1 },
	{ "2024-10-21t10:55:00z", 1729508100, 1 },
	{ "2024-10-21 10:55:00Z", 1729508100, 1 },
	{ "2024-10-21T10:55:00.999Z", 1729508100, 1 },
	{ "2024-10-21T12:55:00+02:00", 1729508100, 1 },
	{ "2024-10-21T05:25:00-05:30", 1729508100, 1 },
	{ "1970-01-01T00:00:00Z", 0, 1 },
	{ "2009-01-01T00:00:00Z", COIN_TS_MIN, 1 },
	{ "2024-02-29T00:00:00Z", 1709164800, 1 },
	{ "2000-02-29T00:00:00Z", 951782400, 1 },
	{ "2016-12-31T23:59:60Z", 1483228800, 1 },
	{ "2023-02-29T00:00:00Z", 0, 0 },
	{ "1900-02-29T00:00:00Z", 0, 0 },
	{ "2024-04-31T00:00:00Z", 0, 0 },
	{ "2024-13-01T00:00:00Z", 0, 0 },
	{ "2024-10-21T24:00:00Z", 0, 0 },
	{ "2024-10-21T10:60:00Z", 0, 0 },
	{ "2024-10-21T10:55:00", 0, 0 },
	{ "2024-10-21T10:55:00.Z", 0, 0 },
	{ "2024-10-21T10:55:00+0200", 0, 0 },
	{ "2024-10-21T10:55:00Zjunk", 0, 0 },
	{ "2024-10-21", 0, 0 },
	{ "24-10-21T10:55:00Z", 0, 0 },
	{ "2024-1a-21T10:55:00Z", 0, 0 },
};

START_TEST(rfc3339)
{
	int64_t ts = -1;
	int rc = coin_rfc3339_parse(instants[_i].s, strlen(instants[_i].s),
	    &ts);

	if (instants[_i].ok) {
		ck_assert_msg(rc == 0, "\"%s\" refused", instants[_i].s);
		ck_assert_int_eq(ts, instants[_i].ts);
	} else
		ck_assert_msg(rc != 0, "\"%s\" accepted", instants[_i].s);
}
END_TEST

START_TEST(format_roundtrip)
{
	char buf[32];
	int64_t ts, back;

	coin_rfc3339_format(1729508100, buf);
	ck_assert_str_eq(buf, "2024-10-21T10:55:00Z");
	coin_rfc3339_format(0, buf);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	coin_rfc3339_format(-1, buf);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59Z");
	for (ts = -2208988800; ts < 4102444800; ts += 86399 * 7 + 13) {
		coin_rfc3339_format(ts, buf);
		ck_assert_int_eq(coin_rfc3339_parse(buf, strlen(buf), &back),
		    0);
		ck_assert_int_eq(back, ts);
	}
}
END_TEST

START_TEST(times)
{
	char why[COIN_ERRBUF];
	int64_t ts, now = 1732521600;

	ck_assert_int_eq(coin_time_parse("1700000000", now, &ts, why), 0);
	ck_assert_int_eq(ts, 1700000000);
	ck_assert_int_eq(coin_time_parse("24h", now, &ts, why), 0);
	ck_assert_int_eq(ts, now - 86400);
	ck_assert_int_eq(coin_time_parse("90s", now, &ts, why), 0);
	ck_assert_int_eq(ts, now - 90);
	ck_assert_int_eq(coin_time_parse("2024-10-21T10:55:00Z", now, &ts,
	    why), 0);
	ck_assert_int_eq(ts, 1729508100);
	ck_assert_int_eq(coin_time_parse("2024-10-32T10:55:00Z", now, &ts,
	    why), COIN_EBADREC);
	ck_assert_str_eq(why, "\"2024-10-32T10:55:00Z\" is not an RFC 3339 "
	    "time (like 2024-10-21T10:55:00Z)");
	ck_assert_int_eq(coin_time_parse("soon", now, &ts, why),
	    COIN_EBADREC);
	ck_assert_str_eq(why, "\"soon\" is not a time (Unix seconds, RFC "
	    "3339, or an age like 24h)");
	ck_assert_int_eq(coin_time_parse("", now, &ts, why), COIN_EBADREC);
	ck_assert_int_eq(coin_days_from_civil(1970, 1, 1), 0);
	ck_assert_int_eq(coin_days_from_civil(2000, 3, 1), 11017);
}
END_TEST

/*
 * Found by fuzz_time (UBSan): the product of a number and its unit
 * overflowed before the bound was checked, so "3629567699688222d"
 * wrapped to 3328 seconds and "405359962737049d" to a negative count.
 * tests/fuzz/corpus/fuzz_time/crash-duration-*
 */
START_TEST(fuzz_duration_overflow)
{
	static const char *const longs[] = {
		"3629567699688222d", "405359962737049d", "4361581353406855w",
		"4503599627370497s", "1s4503599627370496s", "75059993790175m",
		"1250999896503h"
	};
	char why[COIN_ERRBUF];
	int64_t secs, ts;
	size_t i;

	for (i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		ck_assert_int_eq(coin_duration_parse(longs[i], &secs, why),
		    COIN_EBADREC);
		ck_assert_msg(strstr(why, "is too long") != NULL, "%s: %s",
		    longs[i], why);
		ck_assert_int_eq(coin_time_parse(longs[i], 1732521600, &ts,
		    why), COIN_EBADREC);
	}
	/* The bound itself, 2^52 seconds, is still a duration. */
	ck_assert_int_eq(coin_duration_parse("4503599627370496", &secs, why),
	    0);
	ck_assert_int_eq(secs, (int64_t)1 << 52);
	ck_assert_int_eq(coin_duration_parse("4503599627370495s1s", &secs,
	    why), 0);
	ck_assert_int_eq(secs, (int64_t)1 << 52);
	ck_assert_int_eq(coin_duration_parse("744739w", &secs, why), 0);
	ck_assert_int_eq(secs, (int64_t)744739 * 604800);
}
END_TEST

Suite *
timefmt_suite(void)
{
	Suite *s = suite_create("timefmt");
	TCase *tc = tcase_create("timefmt");

	tcase_add_loop_test(tc, duration, 0,
	    sizeof(durations) / sizeof(durations[0]));
	tcase_add_loop_test(tc, rfc3339, 0,
	    sizeof(instants) / sizeof(instants[0]));
	tcase_add_test(tc, format_roundtrip);
	tcase_add_test(tc, times);
	tcase_add_test(tc, fuzz_duration_overflow);
	suite_add_tcase(s, tc);
	return s;
}
