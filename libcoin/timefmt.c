/* SPDX-License-Identifier: ISC */
/* timefmt.c - durations, RFC 3339 instants and "that long ago" */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "coin_int.h"

/* Seconds in each unit a duration may carry. */
static int64_t
unit_secs(int c)
{
	switch (c) {
	case 's':
		return 1;
	case 'm':
		return 60;
	case 'h':
		return 3600;
	case 'd':
		return 86400;
	case 'w':
		return 7 * 86400;
	}
	return 0;
}

/* A bound on every duration and time: about 292 billion years / 1000. */
#define SECS_MAX	((int64_t)1 << 52)

/*
 * Parse s as a duration; *had_unit tells whether any unit was written.
 */
static int
duration(const char *s, int64_t *secs, int *had_unit, char *errbuf)
{
	const char *p = s;
	int64_t total = 0, v, u;

	*had_unit = 0;
	if (*p == '\0')
		return coin_reason(errbuf, "empty duration");
	while (*p != '\0') {
		if (*p < '0' || *p > '9')
			return coin_reason(errbuf,
			    "\"%s\" is not a duration (like 90s, 15m, 24h, 7d)",
			    s);
		for (v = 0; *p >= '0' && *p <= '9'; p++) {
			v = v * 10 + (*p - '0');
			if (v > SECS_MAX)
				return coin_reason(errbuf,
				    "duration \"%s\" is too long", s);
		}
		if (*p == '\0') {
			if (*had_unit)
				return coin_reason(errbuf,
				    "duration \"%s\" lacks a unit at its end",
				    s);
			u = 1;
		} else if ((u = unit_secs(*p++)) == 0)
			return coin_reason(errbuf,
			    "duration \"%s\" has an unknown unit "
			    "(use s, m, h, d or w)", s);
		else
			*had_unit = 1;
		/* v * u itself may overflow: 2^52 weeks. */
		if (v > (SECS_MAX - total) / u)
			return coin_reason(errbuf,
			    "duration \"%s\" is too long", s);
		total += v * u;
	}
	*secs = total;
	return 0;
}

int
coin_duration_parse(const char *s, int64_t *secs, char *errbuf)
{
	int had_unit;

	return duration(s, secs, &had_unit, errbuf);
}

int64_t
coin_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

static int
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int
coin_rfc3339_parse(const char *s, size_t len, int64_t *ts)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, oh, om;
	size_t i = 19;
	int64_t off = 0;

	/* YYYY-MM-DDTHH:MM:SS */
	if (len < 20 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, &y) || digits(s + 5, 2, &mo) ||
	    digits(s + 8, 2, &d) || digits(s + 11, 2, &h) ||
	    digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return COIN_EBADREC;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
	    h > 23 || mi > 59 || sec > 60)
		return COIN_EBADREC;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			continue;
		if (i == 20)
			return COIN_EBADREC;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i + 6 == len && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && digits(s + i + 1, 2, &oh) == 0 &&
	    digits(s + i + 4, 2, &om) == 0 && oh <= 23 && om <= 59) {
		off = (int64_t)oh * 3600 + om * 60;
		if (s[i] == '+')
			off = -off;
		i += 6;
	} else
		return COIN_EBADREC;
	if (i != len)
		return COIN_EBADREC;
	*ts = coin_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec + off;
	return 0;
}

size_t
coin_rfc3339_format(int64_t ts, char *buf)
{
	int64_t days = ts / 86400, secs = ts % 86400, z, era, doe, yoe, y,
	    doy, mp;
	unsigned d, m;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	/* The inverse of coin_days_from_civil(). */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	y += m <= 2;
	return (size_t)snprintf(buf, 32,
	    "%04" PRId64 "-%02u-%02uT%02d:%02d:%02dZ",
	    y, m, d, (int)(secs / 3600), (int)(secs / 60 % 60),
	    (int)(secs % 60));
}

int
coin_time_parse(const char *s, int64_t now, int64_t *ts, char *errbuf)
{
	int64_t secs;
	int had_unit;
	char tmp[COIN_ERRBUF];

	if (coin_rfc3339_parse(s, strlen(s), ts) == 0)
		return 0;
	if (strchr(s, '-') != NULL || strchr(s, ':') != NULL)
		return coin_reason(errbuf, "\"%s\" is not an RFC 3339 time "
		    "(like 2024-10-21T10:55:00Z)", s);
	secs = 0;
	had_unit = 0;
	if (duration(s, &secs, &had_unit, tmp) != 0)
		return coin_reason(errbuf, "\"%s\" is not a time (Unix "
		    "seconds, RFC 3339, or an age like 24h)", s);
	*ts = had_unit ? now - secs : secs;
	return 0;
}
