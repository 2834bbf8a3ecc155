/* SPDX-License-Identifier: ISC */
/* fetch.c - CoinGecko answers as ticks: prices, markets, tickers, charts */
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coin_int.h"

#define PAGES_MAX	1000	/* pages of one listing, at most */
#define LOST_MAX	2	/* pages lost in a row that end a listing */
#define WHAT_MAX	100	/* bytes of a name in a report */
#define PAIRBUF		(2 * COIN_PAIR_MAX + 8)
#define FUTURE_MAX	86400	/* a point may lie this far past now */

struct point {
	int64_t	 ts;
	double	 price;
	size_t	 idx;		/* its place in the answer */
	int	 gone;		/* replaced by the "now" point */
};

struct ref {
	const struct coin_tick	*t;
	size_t			 idx;
};

static void	dropped(struct coin_fetch_out *, const char *, const char *,
		    ...) __attribute__((format(printf, 3, 4)));

/* Count a dropped price and tell of it, what made printable. */
static void
dropped(struct coin_fetch_out *out, const char *what, const char *fmt, ...)
{
	char why[COIN_ERRBUF], name[WHAT_MAX + 1];
	va_list ap;
	size_t i, n;

	out->ndropped++;
	if (out->drop == NULL)
		return;
	n = strnlen(what, WHAT_MAX);
	for (i = 0; i < n; i++)
		name[i] = (unsigned char)what[i] >= 0x20 &&
		    (unsigned char)what[i] < 0x7f ? what[i] : '?';
	name[n] = '\0';
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	out->drop(name, why, out->arg);
}

/*
 * Parse body as one JSON value with nothing after it.  Returns 0 and
 * *root to release with json_object_put(), or COIN_EBADREC.
 */
static int
parse(const char *body, size_t len, json_object **root, char *errbuf)
{
	struct json_tokener *tok;
	enum json_tokener_error e;
	locale_t c, old = (locale_t)0;
	size_t end;

	*root = NULL;
	if (len > INT_MAX)
		return coin_reason(errbuf, "answer too large");
	if ((tok = json_tokener_new_ex(COIN_DEPTH_MAX)) == NULL)
		return COIN_ENOMEM;
	/*
	 * json-c reads numbers in a "C" locale it makes from the current
	 * one for each parse; from the "C" one that costs nothing (and
	 * glibc's newlocale() leaks when LOCPATH is set).
	 */
	if ((c = coin_c_locale()) != (locale_t)0)
		old = uselocale(c);
	*root = json_tokener_parse_ex(tok, body, (int)len);
	if (c != (locale_t)0)
		uselocale(old);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (*root == NULL || e != json_tokener_success) {
		json_object_put(*root);
		*root = NULL;
		if (e == json_tokener_continue || e == json_tokener_success)
			return coin_reason(errbuf, "invalid JSON: the answer "
			    "ends early");
		return coin_reason(errbuf, "invalid JSON at byte %zu: %s",
		    end + 1, json_tokener_error_desc(e));
	}
	while (end < len && (body[end] == ' ' || body[end] == '\t' ||
	    body[end] == '\r' || body[end] == '\n'))
		end++;
	if (end < len) {
		json_object_put(*root);
		*root = NULL;
		return coin_reason(errbuf, "invalid JSON: more after the "
		    "answer at byte %zu", end + 1);
	}
	return 0;
}

/* The reason an answer of the wrong shape is refused. */
static int
shape(const char *body, size_t len, const char *want, char *errbuf)
{
	char msg[COIN_ERRBUF / 2];
	long code;

	if (coin_http_api_error(body, len, &code, msg, sizeof(msg)))
		return coin_reason(errbuf, "the answer is an error%s%s",
		    msg[0] != '\0' ? ": " : "", msg);
	return coin_reason(errbuf, "the answer is not %s", want);
}

/*
 * NULL and *p for a good price, else what is wrong with v (json-c has
 * NULL for JSON null; present tells it from a missing member).
 */
static const char *
price_of(json_object *v, int present, double *p)
{
	if (!present)
		return "no price";
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "price is null";
	case json_type_int:
	case json_type_double:
		*p = json_object_get_double(v);
		break;
	default:
		return "price is not a number";
	}
	if (!isfinite(*p))
		return "price is not a finite number";
	if (*p == 0)
		return "price is zero";
	if (*p < 0)
		return "price is negative";
	return NULL;
}

/* The string member name of o, or NULL (for a NUL inside too). */
static const char *
get_str(json_object *o, const char *name)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

static int
get_true(json_object *o, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(o, name, &v) &&
	    json_object_is_type(v, json_type_boolean) &&
	    json_object_get_boolean(v);
}

/* Append a tick, or report its pair as bad. */
static int
add(struct coin_fetch_out *out, const char *pair, int64_t ts, double price)
{
	struct coin_tick t;
	char why[COIN_ERRBUF];
	size_t n = strlen(pair);

	if (coin_pair_valid(pair, n, why) != 0) {
		dropped(out, pair, "%s", why);
		return 0;
	}
	memcpy(t.pair, pair, n + 1);
	t.ts = ts;
	t.price = price;
	return coin_batch_add(out->batch, &t);
}

/* Append obj's key as pair's price at the batch time, or say why not. */
static int
add_field(struct coin_fetch_out *out, const char *pair, json_object *obj,
    const char *key)
{
	json_object *v = NULL;
	const char *why;
	double price;
	int present = json_object_object_get_ex(obj, key, &v);

	if ((why = price_of(v, present, &price)) != NULL) {
		dropped(out, pair, "%s", why);
		return 0;
	}
	return add(out, pair, out->ts, price);
}

/* Copy the next item of comma list *p into buf; 0 at its end. */
static int
next_item(const char **p, char *buf, size_t bufsz)
{
	const char *s = *p;
	size_t n = strcspn(s, ",");

	if (*s == '\0')
		return 0;
	*p = s[n] == ',' ? s + n + 1 : s + n;
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 1;
}

int
coin_fetch_list_valid(const char *list, char *errbuf)
{
	const char *p = list;
	size_t n, i;

	if (*p == '\0') {
		coin_reason(errbuf, "empty list");
		return COIN_EUSAGE;
	}
	for (;;) {
		n = strcspn(p, ",");
		if (n == 0) {
			coin_reason(errbuf, "an empty item in the list");
			return COIN_EUSAGE;
		}
		if (n > COIN_FETCH_ID_MAX) {
			coin_reason(errbuf, "an id longer than %d bytes",
			    COIN_FETCH_ID_MAX);
			return COIN_EUSAGE;
		}
		for (i = 0; i < n; i++)
			if (!((p[i] >= 'a' && p[i] <= 'z') ||
			    (p[i] >= '0' && p[i] <= '9') || p[i] == '-' ||
			    p[i] == '_' || p[i] == '.'))
				break;
		if (i < n || (n <= 2 && strncmp(p, "..", n) == 0)) {
			coin_reason(errbuf, "\"%.*s\" is not an id (lowercase "
			    "letters, digits, '-', '_' and '.')",
			    (int)(n < 40 ? n : 40), p);
			return COIN_EUSAGE;
		}
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

int
coin_fetch_parse_simple(const char *body, size_t len, const char *ids,
    const char *vs, struct coin_fetch_out *out, char *errbuf)
{
	json_object *root, *coin;
	const char *pi, *pv;
	char id[COIN_FETCH_ID_MAX + 1], cur[COIN_FETCH_ID_MAX + 1];
	char pair[PAIRBUF];
	int rc = 0;

	if ((rc = parse(body, len, &root, errbuf)) != 0)
		return rc;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return shape(body, len, "a JSON object", errbuf);
	}
	for (pi = ids; rc == 0 && next_item(&pi, id, sizeof(id));) {
		if (!json_object_object_get_ex(root, id, &coin)) {
			dropped(out, id, "not in the answer (an unknown coin "
			    "id?)");
			continue;
		}
		if (!json_object_is_type(coin, json_type_object)) {
			dropped(out, id, "not an object in the answer");
			continue;
		}
		for (pv = vs; rc == 0 && next_item(&pv, cur, sizeof(cur));) {
			snprintf(pair, sizeof(pair), "%s/%s", id, cur);
			rc = add_field(out, pair, coin, cur);
		}
	}
	json_object_put(root);
	return rc;
}

int
coin_fetch_parse_markets(const char *body, size_t len, const char *vs,
    size_t limit, size_t *nentries, struct coin_fetch_out *out,
    char *errbuf)
{
	json_object *root, *e;
	const char *id;
	char pair[PAIRBUF], what[128];
	size_t i, n;
	int rc = 0;

	*nentries = 0;
	if ((rc = parse(body, len, &root, errbuf)) != 0)
		return rc;
	if (!json_object_is_type(root, json_type_array)) {
		json_object_put(root);
		return shape(body, len, "a JSON array", errbuf);
	}
	n = json_object_array_length(root);
	*nentries = n;
	for (i = 0; rc == 0 && i < n && (limit == 0 || i < limit); i++) {
		e = json_object_array_get_idx(root, i);
		if (!json_object_is_type(e, json_type_object) ||
		    (id = get_str(e, "id")) == NULL) {
			snprintf(what, sizeof(what), "coin %zu of the page",
			    i + 1);
			dropped(out, what, "no \"id\"");
			continue;
		}
		snprintf(pair, sizeof(pair), "%s/%s", id, vs);
		rc = add_field(out, pair, e, "current_price");
	}
	json_object_put(root);
	return rc;
}

int
coin_fetch_parse_tickers(const char *body, size_t len, const char *exchange,
    size_t *nentries, struct coin_fetch_out *out, char *errbuf)
{
	json_object *root, *list, *e;
	const char *base, *target;
	char pair[PAIRBUF], what[128];
	size_t i, n;
	int rc = 0;

	*nentries = 0;
	if ((rc = parse(body, len, &root, errbuf)) != 0)
		return rc;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "tickers", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		json_object_put(root);
		return shape(body, len, "an object with a \"tickers\" array",
		    errbuf);
	}
	n = json_object_array_length(list);
	*nentries = n;
	for (i = 0; rc == 0 && i < n; i++) {
		e = json_object_array_get_idx(list, i);
		if (!json_object_is_type(e, json_type_object) ||
		    (base = get_str(e, "base")) == NULL ||
		    (target = get_str(e, "target")) == NULL) {
			snprintf(what, sizeof(what), "%.30s ticker %zu of the "
			    "page", exchange, i + 1);
			dropped(out, what, "no \"base\" or \"target\"");
			continue;
		}
		if (get_true(e, "is_anomaly") || get_true(e, "is_stale"))
			continue;
		snprintf(pair, sizeof(pair), "%s:%s/%s", exchange, base,
		    target);
		rc = add_field(out, pair, e, "last");
	}
	json_object_put(root);
	return rc;
}

static int
cmp_point(const void *a, const void *b)
{
	const struct point *p = a, *q = b;

	if (p->ts != q->ts)
		return p->ts < q->ts ? -1 : 1;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

int
coin_fetch_parse_chart(const char *body, size_t len, const char *id,
    const char *vs, int64_t since, struct coin_fetch_out *out,
    char *errbuf)
{
	json_object *root, *list, *p, *t;
	struct point *pts = NULL;
	const char *why;
	char pair[PAIRBUF];
	double ms, price;
	int64_t period = out->period > 0 ? out->period : 60, floor_ts;
	size_t i, j, n, k = 0;
	int rc = 0;

	snprintf(pair, sizeof(pair), "%s/%s", id, vs);
	if ((rc = parse(body, len, &root, errbuf)) != 0)
		return rc;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "prices", &list) ||
	    !json_object_is_type(list, json_type_array)) {
		json_object_put(root);
		return shape(body, len, "an object with a \"prices\" array",
		    errbuf);
	}
	n = json_object_array_length(list);
	if (n > 0 && (pts = calloc(n, sizeof(*pts))) == NULL) {
		json_object_put(root);
		return COIN_ENOMEM;
	}
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(list, i);
		if (!json_object_is_type(p, json_type_array) ||
		    json_object_array_length(p) != 2) {
			dropped(out, pair, "point %zu is not [time, price]",
			    i + 1);
			continue;
		}
		t = json_object_array_get_idx(p, 0);
		if (!json_object_is_type(t, json_type_int) &&
		    !json_object_is_type(t, json_type_double)) {
			dropped(out, pair, "point %zu: time is not a number",
			    i + 1);
			continue;
		}
		ms = json_object_get_double(t);
		if (!(ms >= 0 && ms < 1e16)) {
			dropped(out, pair, "point %zu: time is out of range",
			    i + 1);
			continue;
		}
		if ((why = price_of(json_object_array_get_idx(p, 1), 1,
		    &price)) != NULL) {
			dropped(out, pair, "point %zu: %s", i + 1, why);
			continue;
		}
		pts[k].ts = (int64_t)(ms / 1000);
		pts[k].price = price;
		pts[k].idx = i;
		k++;
	}
	json_object_put(root);
	/* The last point is "now": it stands for its whole period. */
	if (k > 0 && pts[k - 1].idx == n - 1) {
		floor_ts = pts[k - 1].ts - pts[k - 1].ts % period;
		pts[k - 1].ts = floor_ts;
		for (j = 0; j + 1 < k; j++)
			if (pts[j].ts >= floor_ts)
				pts[j].gone = 1;
	}
	if (k > 1)
		qsort(pts, k, sizeof(*pts), cmp_point);
	for (j = 0; rc == 0 && j < k; j++) {
		if (pts[j].gone || (j + 1 < k && pts[j + 1].ts == pts[j].ts))
			continue;	/* the later point of one time wins */
		if (pts[j].ts <= since || pts[j].ts < COIN_TS_MIN)
			continue;
		if (pts[j].ts > out->ts + FUTURE_MAX) {
			dropped(out, pair, "point %zu: time %lld is in the "
			    "future", pts[j].idx + 1, (long long)pts[j].ts);
			continue;
		}
		rc = add(out, pair, pts[j].ts, pts[j].price);
	}
	free(pts);
	return rc;
}

static int
cmp_ref(const void *a, const void *b)
{
	const struct ref *p = a, *q = b;
	int c = strcmp(p->t->pair, q->t->pair);

	if (c != 0)
		return c;
	if (p->t->ts != q->t->ts)
		return p->t->ts < q->t->ts ? -1 : 1;
	return p->idx < q->idx ? -1 : p->idx > q->idx;
}

int
coin_fetch_dedupe(struct coin_batch *b, size_t *removed)
{
	struct coin_tick *t;
	struct ref *r;
	unsigned char *drop;
	size_t i, n = coin_batch_len(b), nrm = 0;
	int rc = 0;

	if (removed != NULL)
		*removed = 0;
	if (n < 2)
		return 0;
	t = malloc(n * sizeof(*t));
	r = malloc(n * sizeof(*r));
	drop = calloc(n, 1);
	if (t == NULL || r == NULL || drop == NULL) {
		rc = COIN_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		coin_batch_get(b, i, &t[i]);
		r[i].t = &t[i];
		r[i].idx = i;
	}
	qsort(r, n, sizeof(*r), cmp_ref);
	for (i = 1; i < n; i++)
		if (r[i].t->ts == r[i - 1].t->ts &&
		    strcmp(r[i].t->pair, r[i - 1].t->pair) == 0) {
			drop[r[i].idx] = 1;
			nrm++;
		}
	if (nrm > 0) {
		coin_batch_truncate(b, 0);
		for (i = 0; rc == 0 && i < n; i++)
			if (!drop[i])
				rc = coin_batch_add(b, &t[i]);
	}
	if (removed != NULL)
		*removed = nrm;
out:
	free(t);
	free(r);
	free(drop);
	return rc;
}

/*
 * GET path; an answer too large to take is reported as dropped, with
 * *got 0.  Returns 0 or the error of coin_http_get().
 */
static int
get(struct coin_http *h, const char *path, const char **body, size_t *len,
    int *got, struct coin_fetch_out *out, char *errbuf)
{
	char why[COIN_ERRBUF];
	const char *sep;
	int rc;

	*got = 0;
	rc = coin_http_get(h, path, body, len, why);
	if (rc == COIN_EBADREC) {
		if ((sep = strstr(why, ": ")) != NULL) {
			char what[COIN_ERRBUF];

			snprintf(what, sizeof(what), "%.*s",
			    (int)(sep - why), why);
			dropped(out, what, "%s", sep + 2);
		} else
			dropped(out, path, "%s", why);
		return 0;
	}
	if (rc != 0) {
		if (errbuf != NULL)
			snprintf(errbuf, COIN_ERRBUF, "%s", why);
		return rc;
	}
	*got = 1;
	return 0;
}

int
coin_fetch_simple(struct coin_http *h, const char *ids, const char *vs,
    struct coin_fetch_out *out, char *errbuf)
{
	char why[COIN_ERRBUF], *path;
	const char *body;
	size_t len, n;
	int rc, got;

	if (coin_fetch_list_valid(ids, errbuf) != 0 ||
	    coin_fetch_list_valid(vs, errbuf) != 0)
		return COIN_EUSAGE;
	n = strlen(ids) + strlen(vs) + 64;
	if ((path = malloc(n)) == NULL)
		return COIN_ENOMEM;
	snprintf(path, n, "/simple/price?ids=%s&vs_currencies=%s"
	    "&precision=full", ids, vs);
	rc = get(h, path, &body, &len, &got, out, errbuf);
	free(path);
	if (rc != 0 || !got)
		return rc;
	rc = coin_fetch_parse_simple(body, len, ids, vs, out, why);
	if (rc == COIN_EBADREC) {
		dropped(out, "/simple/price", "%s", why);
		rc = 0;
	}
	return rc;
}

static int
one_id(const char *id, char *errbuf)
{
	if (coin_fetch_list_valid(id, errbuf) != 0)
		return COIN_EUSAGE;
	if (strchr(id, ',') != NULL) {
		coin_reason(errbuf, "one id, not a list, is wanted");
		return COIN_EUSAGE;
	}
	return 0;
}

int
coin_fetch_markets(struct coin_http *h, const char *vs, size_t top,
    struct coin_fetch_out *out, char *errbuf)
{
	char path[256], why[COIN_ERRBUF], what[128];
	const char *body;
	size_t per, page, n, taken = 0, len;
	int rc, got, lost = 0;

	if ((rc = one_id(vs, errbuf)) != 0)
		return rc;
	per = top != 0 && top < COIN_FETCH_PAGE ? top : COIN_FETCH_PAGE;
	for (page = 1; page <= PAGES_MAX; page++) {
		if (out->progress != NULL) {
			snprintf(what, sizeof(what), "%s: page %zu, %zu coins",
			    vs, page, taken);
			out->progress(what, out->arg);
		}
		snprintf(path, sizeof(path), "/coins/markets?vs_currency=%s"
		    "&order=market_cap_desc&per_page=%zu&page=%zu"
		    "&precision=full", vs, per, page);
		if ((rc = get(h, path, &body, &len, &got, out, errbuf)) != 0)
			return rc;
		n = per;	/* a page lost counts as full */
		if (got) {
			rc = coin_fetch_parse_markets(body, len, vs,
			    top != 0 ? top - taken : 0, &n, out, why);
			if (rc == COIN_EBADREC) {
				snprintf(what, sizeof(what),
				    "/coins/markets page %zu", page);
				dropped(out, what, "%s", why);
				n = per;
				got = 0;
			} else if (rc != 0)
				return rc;
		}
		lost = got ? 0 : lost + 1;
		taken += n;
		if (n < per || (top != 0 && taken >= top) || lost == LOST_MAX)
			break;
	}
	return coin_fetch_dedupe(out->batch, NULL);
}

int
coin_fetch_exchange(struct coin_http *h, const char *id,
    struct coin_fetch_out *out, char *errbuf)
{
	char path[256], why[COIN_ERRBUF], what[128];
	const char *body;
	size_t page, n, taken = 0, len;
	int rc, got, lost = 0;

	if ((rc = one_id(id, errbuf)) != 0)
		return rc;
	for (page = 1; page <= PAGES_MAX; page++) {
		if (out->progress != NULL) {
			snprintf(what, sizeof(what), "%.30s: page %zu, %zu "
			    "tickers", id, page, taken);
			out->progress(what, out->arg);
		}
		snprintf(path, sizeof(path), "/exchanges/%s/tickers?page=%zu"
		    "&order=base_target", id, page);
		if ((rc = get(h, path, &body, &len, &got, out, errbuf)) != 0)
			return rc;
		n = COIN_FETCH_TICKERS;
		if (got) {
			rc = coin_fetch_parse_tickers(body, len, id, &n, out,
			    why);
			if (rc == COIN_EBADREC) {
				snprintf(what, sizeof(what), "/exchanges/%.30s"
				    "/tickers page %zu", id, page);
				dropped(out, what, "%s", why);
				n = COIN_FETCH_TICKERS;
				got = 0;
			} else if (rc != 0)
				return rc;
		}
		lost = got ? 0 : lost + 1;
		taken += n;
		if (n < COIN_FETCH_TICKERS || lost == LOST_MAX)
			break;
	}
	return coin_fetch_dedupe(out->batch, NULL);
}

int
coin_fetch_chart(struct coin_http *h, const char *id, const char *vs,
    int64_t secs, struct coin_fetch_out *out, char *errbuf)
{
	char path[384], why[COIN_ERRBUF], what[COIN_ERRBUF];
	const char *body;
	size_t len;
	int rc, got;

	if ((rc = one_id(id, errbuf)) != 0 || (rc = one_id(vs, errbuf)) != 0)
		return rc;
	if (secs <= 0) {
		coin_reason(errbuf, "the period of history is not positive");
		return COIN_EUSAGE;
	}
	snprintf(path, sizeof(path), "/coins/%s/market_chart?vs_currency=%s"
	    "&days=%lld&precision=full", id, vs,
	    (long long)((secs + 86399) / 86400));
	if ((rc = get(h, path, &body, &len, &got, out, errbuf)) != 0 || !got)
		return rc;
	rc = coin_fetch_parse_chart(body, len, id, vs, out->ts - secs, out,
	    why);
	if (rc == COIN_EBADREC) {
		snprintf(what, sizeof(what), "/coins/%s/market_chart", id);
		dropped(out, what, "%s", why);
		rc = 0;
	}
	return rc;
}
