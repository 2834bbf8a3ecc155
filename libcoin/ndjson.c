/* SPDX-License-Identifier: ISC */
/* ndjson.c - strict parsing and canonical writing of tick and stat records */
#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coin_int.h"

/*
 * json-c is lenient where the contract is not (it takes NaN, clamps big
 * integers, lets duplicate keys overwrite, accepts trailing text), and
 * records are flat, so they get a small strict RFC 8259 parser of their
 * own: it validates the whole line, UTF-8 included, and hands back the
 * raw text of the fields asked for.
 */

enum jtype { J_NONE, J_STR, J_NUM, J_TRUE, J_FALSE, J_NULL, J_OBJ, J_ARR };

struct jval {
	enum jtype	 type;
	const char	*s;		/* raw text; strings without quotes */
	size_t		 len;
	int		 escaped;	/* a string holding '\' escapes */
	int		 integer;	/* no fraction, no exponent */
	int		 fast;		/* a number read as it went by: */
	double		 num;		/* its value, as strtod()'s */
};

struct jp {
	const char	*base;
	const char	*p;
	const char	*end;
	char		*errbuf;
	int		 depth;
};

/* A key as a canonical record spells it, with the '{' or ',' before. */
struct jkey {
	const char	*s;
	size_t		 len;
};

#define JKEY(k)		{ k, sizeof(k) - 1 }
#define NFIELDS_MAX	10

static int	jfail(struct jp *, const char *);
static void	jws(struct jp *);
static int	jutf8(struct jp *);
static int	jstring(struct jp *, struct jval *);
static int	jnumber(struct jp *, struct jval *);
static int	jlit(struct jp *, const char *, enum jtype, struct jval *);
static int	jvalue(struct jp *, struct jval *);
static int	jcontainer(struct jp *, char, struct jval *);
static int	jrecord(const char *, size_t, const char *const *, int,
		    struct jval *, char *);
static int	jrecord_canon(const char *, size_t, const struct jkey *, int,
		    struct jval *, char *);
static size_t	junescape(const struct jval *, char *, size_t);
static int	get_pair(const struct jval *, char *, char *);
static int	get_int(const struct jval *, const char *, int64_t *, char *);
static int	get_ts(const struct jval *, int64_t, int64_t *, char *);
static int	get_num(const struct jval *, const char *, int, double *,
		    char *);
static size_t	put_str(char *, size_t, const char *);
static int	num_value(uint64_t, int, int, double *);

static int
jfail(struct jp *j, const char *what)
{
	return coin_reason(j->errbuf, "invalid JSON at column %zu: %s",
	    (size_t)(j->p - j->base) + 1, what);
}

static void
jws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* Validate one UTF-8 sequence at j->p (a byte >= 0x80) and step over it. */
static int
jutf8(struct jp *j)
{
	const unsigned char *u = (const unsigned char *)j->p;
	size_t left = (size_t)(j->end - j->p), n, i;
	uint32_t c;

	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		c = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		c = u[0] & 0x07;
	} else
		return jfail(j, "invalid UTF-8");
	if (left < n)
		return jfail(j, "invalid UTF-8");
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return jfail(j, "invalid UTF-8");
		c = (c << 6) | (u[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return jfail(j, "invalid UTF-8");
	j->p += n;
	return 0;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
jhex4(const char *p, const char *end, uint32_t *u)
{
	int i, h;

	if (end - p < 4)
		return -1;
	*u = 0;
	for (i = 0; i < 4; i++) {
		if ((h = hexval((unsigned char)p[i])) < 0)
			return -1;
		*u = (*u << 4) | (uint32_t)h;
	}
	return 0;
}

static int
jstring(struct jp *j, struct jval *v)
{
	uint32_t u, lo;

	j->p++;			/* the opening quote */
	v->type = J_STR;
	v->s = j->p;
	v->escaped = 0;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			v->len = (size_t)(j->p - v->s);
			j->p++;
			return 0;
		}
		if (c < 0x20)
			return jfail(j, "control character in string");
		if (c >= 0x80) {
			if (jutf8(j) != 0)
				return COIN_EBADREC;
			continue;
		}
		if (c != '\\') {
			j->p++;
			continue;
		}
		v->escaped = 1;
		if (j->end - j->p < 2)
			return jfail(j, "unfinished escape");
		switch (j->p[1]) {
		case '"': case '\\': case '/': case 'b': case 'f':
		case 'n': case 'r': case 't':
			j->p += 2;
			break;
		case 'u':
			if (jhex4(j->p + 2, j->end, &u) != 0)
				return jfail(j, "bad \\u escape");
			j->p += 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				return jfail(j, "lone surrogate in \\u escape");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u' ||
				    jhex4(j->p + 2, j->end, &lo) != 0 ||
				    lo < 0xdc00 || lo > 0xdfff)
					return jfail(j,
					    "lone surrogate in \\u escape");
				j->p += 6;
			}
			break;
		default:
			return jfail(j, "bad escape");
		}
	}
	return jfail(j, "unterminated string");
}

static int
isdig(int c)
{
	return c >= '0' && c <= '9';
}

/*
 * A JSON number, its digits gathered on the way (while 19 fit in m)
 * for num_value(): v->fast says that it could say what it is.
 */
static int
jnumber(struct jp *j, struct jval *v)
{
	const char *p = j->p, *end = j->end;
	uint64_t m = 0;
	int digits = 0, e = 0, x = 0, neg = 0, xneg = 0;

	v->type = J_NUM;
	v->s = p;
	v->integer = 1;
	v->fast = 0;
	if (*p == '-') {	/* jvalue() saw '-' or a digit here */
		neg = 1;
		p++;
	}
	if (p >= end || !isdig((unsigned char)*p)) {
		j->p = p;
		return jfail(j, "bad number");
	}
	if (*p == '0')
		p++;
	else
		for (; p < end && isdig((unsigned char)*p); p++)
			if (++digits <= 19)
				m = 10 * m + (uint64_t)(*p - '0');
	if (p < end && *p == '.') {
		v->integer = 0;
		p++;
		if (p >= end || !isdig((unsigned char)*p)) {
			j->p = p;
			return jfail(j, "bad number");
		}
		/* Zeros ahead of the first other digit are not digits. */
		for (; p < end && isdig((unsigned char)*p); p++) {
			e--;
			if ((m != 0 || *p != '0') && ++digits <= 19)
				m = 10 * m + (uint64_t)(*p - '0');
		}
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		v->integer = 0;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			xneg = *p++ == '-';
		if (p >= end || !isdig((unsigned char)*p)) {
			j->p = p;
			return jfail(j, "bad number");
		}
		for (; p < end && isdig((unsigned char)*p); p++)
			if (x <= 1000)
				x = 10 * x + (*p - '0');
		e += xneg ? -x : x;
	}
	v->len = (size_t)(p - v->s);
	j->p = p;
	if (digits <= 19 && x <= 1000)
		v->fast = num_value(m, e, neg, &v->num);
	return 0;
}

static int
jlit(struct jp *j, const char *word, enum jtype type, struct jval *v)
{
	size_t n = strlen(word);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
		return jfail(j, "unexpected character");
	v->type = type;
	v->s = j->p;
	v->len = n;
	j->p += n;
	return 0;
}

/* Parse and discard an object or array, keeping only its extent. */
static int
jcontainer(struct jp *j, char open, struct jval *v)
{
	struct jval k, sub;
	char close = open == '{' ? '}' : ']';

	if (++j->depth > COIN_DEPTH_MAX)
		return jfail(j, "nesting deeper than 32");
	v->type = open == '{' ? J_OBJ : J_ARR;
	v->s = j->p;
	j->p++;
	jws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		goto done;
	}
	for (;;) {
		if (open == '{') {
			if (j->p >= j->end || *j->p != '"')
				return jfail(j, "expected a string key");
			if (jstring(j, &k) != 0)
				return COIN_EBADREC;
			jws(j);
			if (j->p >= j->end || *j->p != ':')
				return jfail(j, "expected ':'");
			j->p++;
			jws(j);
		}
		if (jvalue(j, &sub) != 0)
			return COIN_EBADREC;
		jws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			jws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			break;
		}
		return jfail(j, open == '{' ? "expected ',' or '}'" :
		    "expected ',' or ']'");
	}
done:
	j->depth--;
	v->len = (size_t)(j->p - v->s);
	return 0;
}

static int
jvalue(struct jp *j, struct jval *v)
{
	if (j->p >= j->end)
		return jfail(j, "unexpected end of line");
	switch (*j->p) {
	case '"':
		return jstring(j, v);
	case '{':
	case '[':
		return jcontainer(j, *j->p, v);
	case 't':
		return jlit(j, "true", J_TRUE, v);
	case 'f':
		return jlit(j, "false", J_FALSE, v);
	case 'n':
		return jlit(j, "null", J_NULL, v);
	default:
		if (*j->p == '-' || isdig((unsigned char)*j->p))
			return jnumber(j, v);
		return jfail(j, "unexpected character");
	}
}

/*
 * Parse line as one JSON object and nothing else; vals[i] receives the
 * value of key names[i] (J_NONE when absent).  A known key given twice
 * is refused: json-c would silently keep the last.
 */
static int
jrecord(const char *line, size_t len, const char *const *names, int nnames,
    struct jval *vals, char *errbuf)
{
	struct jp j = { line, line, line + len, errbuf, 1 };
	struct jval k, v;
	char kb[16];
	size_t klen;
	int i;

	for (i = 0; i < nnames; i++)
		vals[i].type = J_NONE;
	jws(&j);
	if (j.p >= j.end)
		return coin_reason(errbuf, "empty line");
	if (*j.p != '{') {
		if (jvalue(&j, &v) != 0)
			return COIN_EBADREC;
		return coin_reason(errbuf, "not a JSON object");
	}
	j.p++;
	jws(&j);
	if (j.p < j.end && *j.p == '}') {
		j.p++;
		goto end;
	}
	for (;;) {
		if (j.p >= j.end || *j.p != '"')
			return jfail(&j, "expected a string key");
		if (jstring(&j, &k) != 0)
			return COIN_EBADREC;
		jws(&j);
		if (j.p >= j.end || *j.p != ':')
			return jfail(&j, "expected ':'");
		j.p++;
		jws(&j);
		if (jvalue(&j, &v) != 0)
			return COIN_EBADREC;
		/* The key as decoded; kb holds all of any known one. */
		if (k.escaped)
			klen = junescape(&k, kb, sizeof(kb));
		else if ((klen = k.len) < sizeof(kb))
			memcpy(kb, k.s, k.len);
		for (i = 0; klen < sizeof(kb) && i < nnames; i++) {
			if (klen == 0 || names[i][0] != kb[0] ||
			    strlen(names[i]) != klen ||
			    memcmp(kb, names[i], klen) != 0)
				continue;
			if (vals[i].type != J_NONE)
				return coin_reason(errbuf,
				    "duplicate key \"%s\"", names[i]);
			vals[i] = v;
			break;
		}
		jws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			jws(&j);
			continue;
		}
		if (j.p < j.end && *j.p == '}') {
			j.p++;
			break;
		}
		return jfail(&j, "expected ',' or '}'");
	}
end:
	jws(&j);
	if (j.p != j.end)
		return jfail(&j, "trailing text after the object");
	return 0;
}

/*
 * The record as the commands write it: the keys of keys (each with the
 * '{' or ',' before it) in that order, once each and nothing else, no
 * space.  Fills vals as jrecord() would, the values read by the same
 * code, and returns 1; returns 0 for any other line, which jrecord()
 * then reads (and says what is wrong with it).  Most lines are written
 * by a command, and this is the fast way through them.
 */
static int
jrecord_canon(const char *line, size_t len, const struct jkey *keys,
    int nkeys, struct jval *vals, char *errbuf)
{
	struct jp j = { line, line, line + len, errbuf, 1 };
	int i;

	for (i = 0; i < nkeys; i++) {
		if ((size_t)(j.end - j.p) <= keys[i].len ||
		    memcmp(j.p, keys[i].s, keys[i].len) != 0)
			return 0;
		j.p += keys[i].len;
		if (jvalue(&j, &vals[i]) != 0)
			return 0;
	}
	return j.end - j.p == 1 && *j.p == '}';
}

static void
put_utf8(uint32_t c, char *out, size_t outsz, size_t *n)
{
	unsigned char b[4];
	size_t k, i;

	if (c < 0x80) {
		b[0] = (unsigned char)c;
		k = 1;
	} else if (c < 0x800) {
		b[0] = (unsigned char)(0xc0 | (c >> 6));
		b[1] = (unsigned char)(0x80 | (c & 0x3f));
		k = 2;
	} else if (c < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (c >> 12));
		b[1] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (c & 0x3f));
		k = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (c >> 18));
		b[1] = (unsigned char)(0x80 | ((c >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((c >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (c & 0x3f));
		k = 4;
	}
	for (i = 0; i < k; i++, (*n)++)
		if (*n + 1 < outsz)
			out[*n] = (char)b[i];
}

/*
 * Decode a validated string into out (NUL-terminated, truncated to
 * outsz - 1, outsz > 0).  Returns the full decoded length.
 */
static size_t
junescape(const struct jval *v, char *out, size_t outsz)
{
	const char *p = v->s, *end = v->s + v->len;
	size_t n = 0;
	uint32_t u, lo;
	char c;

	while (p < end) {
		if (*p != '\\') {
			if (n + 1 < outsz)
				out[n] = *p;
			n++;
			p++;
			continue;
		}
		switch (p[1]) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u':
			/* Validated by jstring(): four hex digits, pairs. */
			if (jhex4(p + 2, end, &u) != 0)
				u = '?';
			p += 6;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (jhex4(p + 2, end, &lo) != 0)
					lo = 0xdc00;
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			}
			put_utf8(u, out, outsz, &n);
			continue;
		default: c = p[1]; break;
		}
		if (n + 1 < outsz)
			out[n] = c;
		n++;
		p += 2;
	}
	out[n < outsz ? n : outsz - 1] = '\0';
	return n;
}

int
coin_pair_valid(const char *pair, size_t len, char *errbuf)
{
	size_t i, slashes = 0;

	if (len == 0)
		return coin_reason(errbuf, "pair is empty");
	if (len > COIN_PAIR_MAX)
		return coin_reason(errbuf, "pair is longer than %d bytes",
		    COIN_PAIR_MAX);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pair[i];

		if (c <= ' ' || c > '~' || c == '"' || c == '\\')
			return coin_reason(errbuf, "pair holds %s at byte %zu",
			    c == ' ' ? "a space" : c == '"' ? "a quote" :
			    c == '\\' ? "a backslash" :
			    "a byte that is not printable ASCII", i + 1);
		if (c == '/')
			slashes++;
	}
	if (slashes != 1)
		return coin_reason(errbuf,
		    "pair \"%.*s\" does not hold exactly one '/'",
		    (int)len, pair);
	return 0;
}

static int
get_pair(const struct jval *v, char *pair, char *errbuf)
{
	size_t n;

	if (v->type == J_NONE)
		return coin_reason(errbuf, "missing \"pair\"");
	if (v->type != J_STR)
		return coin_reason(errbuf, "\"pair\" is not a string");
	if (v->escaped)
		n = junescape(v, pair, COIN_PAIR_MAX + 1);
	else {
		n = v->len;
		memcpy(pair, v->s, n <= COIN_PAIR_MAX ? n : COIN_PAIR_MAX);
		pair[n <= COIN_PAIR_MAX ? n : COIN_PAIR_MAX] = '\0';
	}
	if (n > COIN_PAIR_MAX)
		return coin_reason(errbuf, "pair is longer than %d bytes",
		    COIN_PAIR_MAX);
	/* A decoded NUL would hide the rest of the pair: count it. */
	if (strlen(pair) != n)
		return coin_reason(errbuf,
		    "pair holds a byte that is not printable ASCII");
	return coin_pair_valid(pair, n, errbuf);
}

/* Parse v, a JSON integer, into *out; name is used in the reasons. */
static int
get_int(const struct jval *v, const char *name, int64_t *out, char *errbuf)
{
	const char *p, *end;
	int neg = 0;
	uint64_t x = 0, lim;

	/* An absent value has no text: look at it only once typed. */
	if (v->type == J_NONE)
		return coin_reason(errbuf, "missing \"%s\"", name);
	if (v->type != J_NUM || !v->integer)
		return coin_reason(errbuf, "\"%s\" is not an integer", name);
	p = v->s;
	end = v->s + v->len;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (x > (lim - d) / 10)
			return coin_reason(errbuf,
			    "\"%s\" is out of range: %.*s", name,
			    (int)(v->len > 40 ? 40 : v->len), v->s);
		x = x * 10 + d;
	}
	*out = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

static int
get_ts(const struct jval *v, int64_t now, int64_t *ts, char *errbuf)
{
	char buf[64];
	int e;

	if (v->type == J_STR) {
		if (v->escaped || v->len >= sizeof(buf) ||
		    coin_rfc3339_parse(v->s, v->len, ts) != 0)
			return coin_reason(errbuf,
			    "\"ts\" is not an RFC 3339 time: \"%.*s\"",
			    (int)(v->len > 40 ? 40 : v->len), v->s);
	} else if (v->type == J_NUM && !v->integer)
		return coin_reason(errbuf, "\"ts\" is not an integer: %.*s",
		    (int)(v->len > 40 ? 40 : v->len), v->s);
	else if (v->type != J_NUM)	/* the callers report J_NONE */
		return coin_reason(errbuf,
		    "\"ts\" is not an integer or an RFC 3339 time");
	else if ((e = get_int(v, "ts", ts, errbuf)) != 0)
		return e;
	if (*ts < COIN_TS_MIN) {
		coin_rfc3339_format(*ts < -62135596800 ? -62135596800 : *ts,
		    buf);
		return coin_reason(errbuf, "ts %" PRId64 " (%s) is before 2009",
		    *ts, buf);
	}
	if (*ts > now + 86400) {
		coin_rfc3339_format(*ts > 253402300799 ? 253402300799 : *ts,
		    buf);
		return coin_reason(errbuf,
		    "ts %" PRId64 " (%s) is more than a day in the future",
		    *ts, buf);
	}
	return 0;
}

/* The powers of ten that a double holds exactly. */
static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

#if defined(__SIZEOF_INT128__)
__extension__ typedef unsigned __int128 u128;

/* 10^k for 0 <= k <= 22, exact in 128 bits. */
static const u128 pow10_u128[23] = { 1, 10, 100, 1000, 10000, 100000,
    1000000, 10000000, 100000000, 1000000000, 10000000000ULL,
    100000000000ULL, 1000000000000ULL, 10000000000000ULL,
    100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL,
    10000000000000000000ULL, (u128)10000000000000000000ULL * 10,
    (u128)10000000000000000000ULL * 100,
    (u128)10000000000000000000ULL * 1000 };

/* The number of significant bits of x. */
static int
bit_len(uint64_t x)
{
	int n = 0;

	for (; x >= UINT64_C(1) << 16; x >>= 16)
		n += 16;
	for (; x != 0; x >>= 1)
		n++;
	return n;
}

/*
 * m / 10^k rounded to the nearest double, ties to even, exactly: for
 * 0 < m < 2^64 and 1 <= k <= 20, N = m 2^s of 60 bits more than 10^k
 * (so N < 2^127) divided by 10^k leaves a quotient of 60 or 61 bits,
 * and a remainder that says whether anything was cut off below it.
 */
static double
div_exact(uint64_t m, int k)
{
	u128 D = pow10_u128[k], N;
	uint64_t q, mant, rest, half;
	int s, sh;

	s = 60 + (D >> 64 != 0 ? 64 + bit_len((uint64_t)(D >> 64)) :
	    bit_len((uint64_t)D)) - bit_len(m);
	N = (u128)m << s;
	q = (uint64_t)(N / D);
	sh = bit_len(q) - 53;
	mant = q >> sh;
	rest = q & ((UINT64_C(1) << sh) - 1);
	half = UINT64_C(1) << (sh - 1);
	if (rest > half || (rest == half && (N % D != 0 || (mant & 1))))
		if (++mant == UINT64_C(1) << 53) {
			mant >>= 1;
			sh++;
		}
	return ldexp((double)mant, sh - s);
}
#endif

/*
 * -m 10^e (neg) or m 10^e into *out when m < 2^53 and |e| <= 22: m and
 * 10^|e| are exact doubles, so one multiplication or division rounds
 * once, as strtod() does (Clinger's fast path); or, with 128-bit
 * integers, m < 2^64 (up to 19 digits) over 10^k, k <= 20
 * (div_exact()), which takes the 17 digits that a statistic is written
 * with.  Returns 0 where strtod() must do it.
 */
static int
num_value(uint64_t m, int e, int neg, double *out)
{
	if (e < -22 || e > 22)
		return 0;
	if (m <= UINT64_C(1) << 53)
		*out = e >= 0 ? (double)m * pow10_exact[e] :
		    (double)m / pow10_exact[-e];
#if defined(__SIZEOF_INT128__)
	else if (e < 0 && e >= -20)
		*out = div_exact(m, -e);
#endif
	else
		return 0;
	if (neg)
		*out = -*out;
	return 1;
}

/*
 * Parse v, a JSON number, into *out (NAN for null where nullable).
 * strtod() follows LC_NUMERIC, so it runs under the "C" locale.
 */
static int
get_num(const struct jval *v, const char *name, int nullable, double *out,
    char *errbuf)
{
	char buf[400], *end, *p, mark;
	locale_t old, c;

	if (v->type == J_NULL && nullable) {
		*out = NAN;
		return 0;
	}
	if (v->type == J_NONE)
		return coin_reason(errbuf, "missing \"%s\"", name);
	if (v->type != J_NUM)
		return coin_reason(errbuf, "\"%s\" is not a number", name);
	if (v->len >= sizeof(buf))
		return coin_reason(errbuf, "\"%s\" has too many digits", name);
	if (v->fast) {
		*out = v->num;
		return 0;
	}
	memcpy(buf, v->s, v->len);
	buf[v->len] = '\0';
	if ((c = coin_c_locale()) != (locale_t)0) {
		old = uselocale(c);
		*out = strtod(buf, &end);
		uselocale(old);
	} else {
		/*
		 * No "C" locale (newlocale() ran out of memory): write the
		 * decimal mark as the current locale spells it, or "1.5"
		 * would read as 1 where it is a comma.
		 */
		mark = localeconv()->decimal_point[0];
		for (p = buf; *p != '\0'; p++)
			if (*p == '.')
				*p = mark;
		*out = strtod(buf, &end);
	}
	if (end != buf + v->len)
		return coin_reason(errbuf, "%s cannot be read in this locale",
		    name);
	if (!isfinite(*out))
		return coin_reason(errbuf, "%s is not finite: %.*s", name,
		    (int)(v->len > 40 ? 40 : v->len), v->s);
	return 0;
}

int
coin_line_blank(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			return 0;
	return 1;
}

static const char *const tick_names[] = { "pair", "ts", "price" };
static const struct jkey tick_keys[] = {
	JKEY("{\"pair\":"), JKEY(",\"ts\":"), JKEY(",\"price\":")
};

int
coin_tick_parse(const char *line, size_t len, int64_t now,
    struct coin_tick *t, char *errbuf)
{
	struct jval v[3];
	int e;

	if (!jrecord_canon(line, len, tick_keys, 3, v, errbuf) &&
	    (e = jrecord(line, len, tick_names, 3, v, errbuf)) != 0)
		return e;
	if ((e = get_pair(&v[0], t->pair, errbuf)) != 0)
		return e;
	if (v[1].type == J_NONE)
		return coin_reason(errbuf, "missing \"ts\"");
	if ((e = get_ts(&v[1], now, &t->ts, errbuf)) != 0)
		return e;
	if ((e = get_num(&v[2], "price", 0, &t->price, errbuf)) != 0)
		return e;
	if (t->price == 0)
		return coin_reason(errbuf, "price is zero");
	if (t->price < 0)
		return coin_reason(errbuf, "price is negative: %.*s",
		    (int)(v[2].len > 40 ? 40 : v[2].len), v[2].s);
	return 0;
}

static const char *const stat_names[] = {
	"pair", "ts", "window", "n", "mean", "stddev", "min", "max", "last"
};
static const struct jkey stat_keys[] = {
	JKEY("{\"pair\":"), JKEY(",\"ts\":"), JKEY(",\"window\":"),
	JKEY(",\"n\":"), JKEY(",\"mean\":"), JKEY(",\"stddev\":"),
	JKEY(",\"min\":"), JKEY(",\"max\":"), JKEY(",\"last\":")
};

int
coin_stat_parse(const char *line, size_t len, int64_t now,
    struct coin_stat *s, char *errbuf)
{
	struct jval v[9];
	double *num[] = { &s->mean, &s->stddev, &s->min, &s->max, &s->last };
	int e, i;

	if (!jrecord_canon(line, len, stat_keys, 9, v, errbuf) &&
	    (e = jrecord(line, len, stat_names, 9, v, errbuf)) != 0)
		return e;
	if ((e = get_pair(&v[0], s->pair, errbuf)) != 0)
		return e;
	if (v[1].type == J_NONE)
		return coin_reason(errbuf, "missing \"ts\"");
	if ((e = get_ts(&v[1], now, &s->ts, errbuf)) != 0)
		return e;
	if ((e = get_int(&v[2], "window", &s->window, errbuf)) != 0)
		return e;
	if (s->window <= 0)
		return coin_reason(errbuf, "window is not positive");
	if ((e = get_int(&v[3], "n", &s->n, errbuf)) != 0)
		return e;
	if (s->n < 0)
		return coin_reason(errbuf, "n is negative");
	for (i = 0; i < 5; i++) {
		/* stddev may be null below 2 ticks, the others at 0. */
		int nullable = i == 1 ? s->n < 2 : s->n == 0;

		if ((e = get_num(&v[4 + i], stat_names[4 + i], nullable,
		    num[i], errbuf)) != 0) {
			if (v[4 + i].type == J_NULL)
				return coin_reason(errbuf,
				    "\"%s\" is null with n = %" PRId64,
				    stat_names[4 + i], s->n);
			return e;
		}
	}
	if (s->stddev < 0)
		return coin_reason(errbuf, "stddev is negative");
	return 0;
}

/* "00" to "99": two digits at a time. */
static const char two_digits[] =
    "00010203040506070809101112131415161718192021222324252627282930"
    "31323334353637383940414243444546474849505152535455565758596061"
    "6263646566676869707172737475767778798081828384858687888990919293"
    "949596979899";

/*
 * The P digits of q (most significant first, P <= 20) with decimal
 * exponent x, as "%.Pg" writes them: trailing zeros dropped, fixed
 * for -4 <= x < P, else d.ddde-XX.  Returns the length.
 */
static size_t
put_digits(uint64_t q, int P, int x, char *buf)
{
	char dig[20] = "";
	int i, last, n, e, fixed = x >= -4 && x < P;

	for (i = P - 1; i > 0; i -= 2, q /= 100)
		memcpy(dig + i - 1, two_digits + 2 * (q % 100), 2);
	if (i == 0)
		dig[0] = (char)('0' + q % 10);
	/* Trailing zeros go, but not those before a fixed point. */
	for (last = P - 1; last > 0 && dig[last] == '0' &&
	    (!fixed || last > x); last--)
		continue;
	if (!fixed) {
		n = 0;
		buf[n++] = dig[0];
		if (last > 0) {
			buf[n++] = '.';
			memcpy(buf + n, dig + 1, (size_t)last);
			n += last;
		}
		buf[n++] = 'e';
		buf[n++] = x < 0 ? '-' : '+';
		e = x < 0 ? -x : x;
		if (e >= 100)
			buf[n++] = (char)('0' + e / 100);
		buf[n++] = (char)('0' + e / 10 % 10);
		buf[n++] = (char)('0' + e % 10);
	} else if (x < 0) {
		/* "0." and -x - 1 zeros, then the digits */
		n = 1 - x;
		memcpy(buf, "0.000", (size_t)n);
		memcpy(buf + n, dig, (size_t)last + 1);
		n += last + 1;
	} else {
		/* last >= x: the zeros of the integer part stay */
		n = x + 1;
		memcpy(buf, dig, (size_t)n);
		if (last > x) {
			buf[n++] = '.';
			memcpy(buf + n, dig + x + 1, (size_t)(last - x));
			n += last - x;
		}
	}
	buf[n] = '\0';
	return (size_t)n;
}

/*
 * What "%.15g" makes of d when that reads back as d, without printf,
 * for 1e-7 <= d < 1e15 with decimal exponent x (floor(log10(d)), or
 * off by one, which is mended here): with k = 14 - x
 * such that 10^14 <= d 10^k < 10^15, m = d 10^k rounded is d's 15
 * digits (10^15 carries into the exponent), and when m / 10^k (both
 * exact, the division rounding once, as strtod() of "m e-k" does) is d
 * again, m is the one decimal of at most 15 digits that reads back as
 * d (the reason DBL_DIG is 15): "%.15g" writes just that, and no
 * shorter form exists but m without its trailing zeros.  A decimal
 * that reads back is within 1/8 of d 10^k, where the rounding of the
 * product cannot mislead; next to 10^14 either exponent gives the
 * same digits.  Returns the length; 0 when no form of 15 digits reads
 * back; -1 when unsure (the product on either side of a bound), where
 * printf must do it.
 */
static int
format_fast(double d, int x, char *buf)
{
	uint64_t m;
	double y = 0;
	int k = 0, tries;

	for (tries = 0; tries < 3; tries++) {
		k = 14 - x;
		if (k < 0 || k > 22)
			return -1;
		y = d * pow10_exact[k];
		if (y >= 1e15)
			x++;
		else if (y < 1e14)
			x--;
		else
			break;
	}
	if (tries == 3)
		return -1;
	m = (uint64_t)(y + 0.5);
	if (m == UINT64_C(1000000000000000)) {
		m /= 10;
		x++;
		if (--k < 0)
			return -1;	/* 1e15 itself: printf's */
	}
	if ((double)m / pow10_exact[k] != d)
		return 0;
	return (int)put_digits(m, 15, x, buf);
}

#if defined(__SIZEOF_INT128__)
/*
 * x = m 2^-s times 10^k rounded half to even, as printf rounds, and
 * truncated into *trunc;
 * *back is set when the decimal q 10^-k reads back as x, by an exact
 * comparison of its distance to x with half the gap to x's neighbour
 * on that side (a quarter below a power of two, whose lower neighbour
 * is nearer), the tie going to x when m is even.  m < 2^53, 0 < s <=
 * 80, k <= 22: m 10^k stays below 2^127, 4 r below 2^82.
 */
static uint64_t
scaled_round(uint64_t m, int s, int k, uint64_t *trunc, int *back)
{
	u128 p10 = pow10_u128[k], n, r, half, gap2;
	uint64_t q;
	int up, even = (m & 1) == 0;

	n = (u128)m * p10;
	*trunc = q = (uint64_t)(n >> s);
	r = n & (((u128)1 << s) - 1);
	half = (u128)1 << (s - 1);
	up = r > half || (r == half && (q & 1));
	if (up) {
		q++;
		gap2 = 2 * (((u128)1 << s) - r);
	} else
		gap2 = m == (UINT64_C(1) << 52) ? 4 * r : 2 * r;
	*back = gap2 < p10 || (gap2 == p10 && even);
	return q;
}

/*
 * "%.16g" when it reads back as d, else "%.17g", for 1e-7 <= d < 1e15
 * with decimal exponent x, off by one at most (where no shorter form
 * reads back): the digits rounded exactly in 128 bits.  Returns the
 * length, or 0 where printf must do it (below 1e-6, where 17 digits
 * would need k > 22).
 */
static size_t
format_1617(double d, int x, char *buf)
{
	static const uint64_t lo[2] = { UINT64_C(1000000000000000),
	    UINT64_C(10000000000000000) };
	uint64_t bits, m, q = 0, t;
	int s, P, k, back = 0, tries;

	memcpy(&bits, &d, sizeof(bits));
	m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
	s = 1075 - (int)((bits >> 52) & 0x7ff);
	if (s <= 0 || s > 80)
		return 0;
	for (P = 16; P <= 17; P++) {
		for (tries = 0; tries < 3; tries++) {
			k = P - 1 - x;
			if (k < 0 || k > 22)
				return 0;
			/* The exponent of d itself, exactly. */
			q = scaled_round(m, s, k, &t, &back);
			if (t >= 10 * lo[P - 16])
				x++;
			else if (t < lo[P - 16])
				x--;
			else
				break;
		}
		if (tries == 3)
			return 0;
		/* Rounded up to 10^P: one digit more in front. */
		if (q == 10 * lo[P - 16]) {
			q = lo[P - 16];
			x++;
		}
		if (x >= P)
			return 0;
		if (back || P == 17)
			break;
	}
	return put_digits(q, P, x, buf);
}
#endif

size_t
coin_double_format(double d, char *buf)
{
	locale_t old = (locale_t)0, c;
	uint64_t bits;
	int32_t t;
	int prec, n = 0, x, r;
	char *p;

	if (!isfinite(d)) {
		memcpy(buf, "null", 5);
		return 4;
	}
	if (d == 0 && !signbit(d)) {
		memcpy(buf, "0", 2);
		return 1;
	}
	if (d >= 1e-7 && d < 1e15) {
		/*
		 * floor(log10(d)) or one less, from the binary exponent e:
		 * floor(e log10(2)), log10(2) as 78913 / 2^18.
		 */
		memcpy(&bits, &d, sizeof(bits));
		t = ((int32_t)(bits >> 52) - 1023) * 78913;
		x = t >= 0 ? t / 262144 : -((-t + 262143) / 262144);
		if ((r = format_fast(d, x, buf)) > 0)
			return (size_t)r;
#if defined(__SIZEOF_INT128__)
		if (r == 0 && (r = (int)format_1617(d, x, buf)) != 0)
			return (size_t)r;
#endif
	}
	if ((c = coin_c_locale()) != (locale_t)0)
		old = uselocale(c);
	for (prec = 15;; prec++) {
		n = snprintf(buf, 32, "%.*g", prec, d);
		if (prec == 17 || strtod(buf, NULL) == d)
			break;
	}
	if (c != (locale_t)0)
		uselocale(old);
	/* Without a "C" locale, mend the decimal mark by hand. */
	for (p = buf; *p != '\0'; p++)
		if (*p == ',')
			*p = '.';
	return (size_t)n;
}

/* put_str() of a string literal: its length known, no strlen(). */
#define PUT_LIT(buf, n, lit) \
	(memcpy((buf) + (n), (lit), sizeof(lit) - 1), (n) + sizeof(lit) - 1)

static size_t
put_str(char *buf, size_t n, const char *s)
{
	size_t len = strlen(s);

	memcpy(buf + n, s, len);
	return n + len;
}

static size_t
put_i64(char *buf, size_t n, int64_t v)
{
	char tmp[20];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	size_t k = sizeof(tmp);

	for (; u >= 100; u /= 100) {
		k -= 2;
		memcpy(tmp + k, two_digits + 2 * (u % 100), 2);
	}
	if (u >= 10) {
		k -= 2;
		memcpy(tmp + k, two_digits + 2 * u, 2);
	} else
		tmp[--k] = (char)('0' + u);
	if (v < 0)
		buf[n++] = '-';
	memcpy(buf + n, tmp + k, sizeof(tmp) - k);
	return n + sizeof(tmp) - k;
}

static size_t
put_num(char *buf, size_t n, double d)
{
	return n + coin_double_format(d, buf + n);
}

size_t
coin_tick_format(const struct coin_tick *t, char *buf)
{
	size_t n = 0;

	n = PUT_LIT(buf, n, "{\"pair\":\"");
	n = put_str(buf, n, t->pair);
	n = PUT_LIT(buf, n, "\",\"ts\":");
	n = put_i64(buf, n, t->ts);
	n = PUT_LIT(buf, n, ",\"price\":");
	n = put_num(buf, n, t->price);
	n = PUT_LIT(buf, n, "}\n");
	buf[n] = '\0';
	return n;
}

/* The fields of a stat from "pair" on, after n bytes already in buf. */
static size_t
put_stat(char *buf, size_t n, const struct coin_stat *s)
{
	n = PUT_LIT(buf, n, "\"pair\":\"");
	n = put_str(buf, n, s->pair);
	n = PUT_LIT(buf, n, "\",\"ts\":");
	n = put_i64(buf, n, s->ts);
	n = PUT_LIT(buf, n, ",\"window\":");
	n = put_i64(buf, n, s->window);
	n = PUT_LIT(buf, n, ",\"n\":");
	n = put_i64(buf, n, s->n);
	n = PUT_LIT(buf, n, ",\"mean\":");
	n = put_num(buf, n, s->mean);
	n = PUT_LIT(buf, n, ",\"stddev\":");
	n = put_num(buf, n, s->stddev);
	n = PUT_LIT(buf, n, ",\"min\":");
	n = put_num(buf, n, s->min);
	n = PUT_LIT(buf, n, ",\"max\":");
	n = put_num(buf, n, s->max);
	n = PUT_LIT(buf, n, ",\"last\":");
	n = put_num(buf, n, s->last);
	n = PUT_LIT(buf, n, "}\n");
	buf[n] = '\0';
	return n;
}

size_t
coin_stat_format(const struct coin_stat *s, char *buf)
{
	return put_stat(buf, PUT_LIT(buf, 0, "{"), s);
}

size_t
coin_rank_format(uint64_t rank, uint64_t of, const struct coin_stat *s,
    char *buf)
{
	size_t n = 0;

	n = PUT_LIT(buf, n, "{\"rank\":");
	n = put_i64(buf, n, (int64_t)rank);
	n = PUT_LIT(buf, n, ",\"of\":");
	n = put_i64(buf, n, (int64_t)of);
	n = PUT_LIT(buf, n, ",");
	return put_stat(buf, n, s);
}
