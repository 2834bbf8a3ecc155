/* SPDX-License-Identifier: ISC */
/* mockgecko.c - a CoinGecko look-alike on 127.0.0.1 for coinfetch's tests */
/*
 * usage: mockgecko -p PORTFILE [-c CTLFILE] [-d DATADIR] [-l LOGFILE]
 *            [-n COINS] [-s SERVEDFILE] [-t SECONDS] [-w] [-x TICKERS]
 *
 * With -w, the prices of /coins/markets walk: each second, each coin's
 * price moves by its own amplitude, so that stddevs differ by coin.
 *
 * Listens on 127.0.0.1 at a free port, written to PORTFILE once it
 * listens, and answers one connection at a time (Connection: close)
 * until killed or SECONDS (default 300) have passed.
 *
 * Answers, under any path prefix (the tests use /api/v3):
 *   /simple/price?ids=..&vs_currencies=..   from DATADIR/mock_prices.json
 *   /coins/markets?vs_currency=..&per_page=..&page=..  COINS coins
 *   /exchanges/binance/tickers?page=..     TICKERS tickers, 100 a page,
 *                                          every 10th anomalous, 15th stale
 *   /coins/ID/market_chart?vs_currency=..&days=..   points up to now
 *   /ping
 * A path starting with /moved is served as the rest of it.
 *
 * Faults: each request takes the first line of CTLFILE (a line with
 * times=N is taken N times, times=0 for ever):
 *   ok                       the normal answer
 *   CODE [ra=V] [file=F] [type=T]  that status; ra=date+N gives an
 *                            HTTP-date N seconds ahead; the body is F
 *                            (in DATADIR) or an error like CoinGecko's
 *   html                     200 with the CDN's HTML page
 *   body file=F              200 with F as it is
 *   invalid                  200 with JSON that does not parse
 *   empty                    200 with no body
 *   truncate                 the normal answer cut in half, early close
 *   slow ms=N                the normal answer after N ms
 *   drip                     the normal answer a byte every 200 ms
 *   hang                     no answer until the client gives up
 *   endless                  a JSON body that never ends
 *   big                      Content-Length 100 MiB, then endless
 *   redirect [to=URL]        302 to URL, or to /moved + the same target
 *
 * LOGFILE gets a line per request: method, target, the User-Agent,
 * x-cg-demo-api-key, x-cg-pro-api-key and Accept headers ("-" when
 * absent), the fault, and the time of arrival in ms=MILLISECONDS.
 * SERVEDFILE gets "tick PAIR PRICE" for each price of a normal answer
 * and "chart PAIR MS PRICE" for each point.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "coin.h"

#define HEAD_MAX	16384
#define FIELD_MAX	512

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct req {
	char	 method[16];
	char	 target[HEAD_MAX];
	char	 path[HEAD_MAX];
	char	 query[HEAD_MAX];
	char	 ua[FIELD_MAX];
	char	 demo[FIELD_MAX];
	char	 pro[FIELD_MAX];
	char	 accept[FIELD_MAX];
};

struct fault {
	char	 action[32];
	int	 code;
	char	 ra[64];
	char	 file[256];
	char	 type[64];
	char	 to[512];
	long	 ms;
};

static const char *datadir = "tests/data";
static const char *logpath, *servedpath, *ctlpath;
static long ncoins = 1300, ntickers = 250;
static int walk;
static FILE *served;

static void	bprintf(struct buf *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
static void	fatal(const char *, ...)
		    __attribute__((format(printf, 1, 2), noreturn));

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("mockgecko: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
bput(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((b->p = realloc(b->p, cap)) == NULL)
			fatal("out of memory");
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		fatal("bprintf: too long");
	bput(b, tmp, (size_t)n);
}

static void
bnum(struct buf *b, double d)
{
	char num[32];
	size_t n = coin_double_format(d, num);

	bput(b, num, n);
}

static void
served_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
served_line(const char *fmt, ...)
{
	va_list ap;

	if (served == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(served, fmt, ap);
	va_end(ap);
}

static int
read_file(const char *name, struct buf *b)
{
	char path[1024], tmp[8192];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		bput(b, tmp, n);
	fclose(fp);
	return 0;
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) <= 0) {
			if (w < 0 && errno == EINTR)
				continue;
			return;
		}
		p += w;
		n -= (size_t)w;
	}
}

static const char *
reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	}
	return "Status";
}

static void
head(int fd, int code, const char *type, const char *extra, long long len)
{
	struct buf h = { NULL, 0, 0 };

	bprintf(&h, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n", code,
	    reason(code), type);
	if (len >= 0)
		bprintf(&h, "Content-Length: %lld\r\n", len);
	bprintf(&h, "%sConnection: close\r\n\r\n", extra);
	write_all(fd, h.p, h.len);
	free(h.p);
}

static void
answer(int fd, int code, const char *type, const char *extra,
    const struct buf *body)
{
	head(fd, code, type, extra, (long long)body->len);
	write_all(fd, body->p != NULL ? body->p : "", body->len);
}

/* The value of query parameter name, or NULL. */
static const char *
param(const char *query, const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name), k;
	const char *p = query;

	while (*p != '\0') {
		if (strncmp(p, name, n) == 0 && p[n] == '=') {
			p += n + 1;
			k = strcspn(p, "&");
			if (k >= outsz)
				k = outsz - 1;
			memcpy(out, p, k);
			out[k] = '\0';
			return out;
		}
		p += strcspn(p, "&");
		if (*p == '&')
			p++;
	}
	return NULL;
}

/* Is item in the comma list? */
static int
listed(const char *list, const char *item)
{
	size_t n = strlen(item), k;

	while (*list != '\0') {
		k = strcspn(list, ",");
		if (k == n && strncmp(list, item, n) == 0)
			return 1;
		list += k;
		if (*list == ',')
			list++;
	}
	return 0;
}

static double
factor(const char *vs)
{
	if (strcmp(vs, "usd") == 0)
		return 1;
	if (strcmp(vs, "eur") == 0)
		return 0.5;
	if (strcmp(vs, "btc") == 0)
		return 1.0 / 65536;
	return 0;
}

/* The id and USD price of the coin ranked i (from 1). */
static void
coin_at(long i, char *id, size_t idsz, double *usd)
{
	if (i == 1) {
		snprintf(id, idsz, "bitcoin");
		*usd = 70187;
	} else if (i == 2) {
		snprintf(id, idsz, "ethereum");
		*usd = 3505.27;
	} else if (i == 3) {
		snprintf(id, idsz, "tether");
		*usd = 1.0003;
	} else {
		snprintf(id, idsz, "coin-%04ld", i);
		*usd = (100000 - i) / 8.0;
	}
	if (walk) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		*usd *= 1 + 1e-3 * (double)(i % 11 + 1) *
		    sin((double)now.tv_sec / 3.0 + (double)i);
	}
}

static long
known_coin(const char *id)
{
	char want[64];
	double usd;
	long i;

	for (i = 1; i <= 3 && i <= ncoins; i++) {
		coin_at(i, want, sizeof(want), &usd);
		if (strcmp(want, id) == 0)
			return i;
	}
	if (strncmp(id, "coin-", 5) == 0 && strlen(id) == 9 &&
	    (i = strtol(id + 5, NULL, 10)) > 3 && i <= ncoins)
		return i;
	return 0;
}

static void
error_body(struct buf *b, int code)
{
	const char *file = code == 429 ? "error_429.json" :
	    code == 401 ? "error_10002_missing_key.json" :
	    code == 400 ? "error_10011_wrong_root.json" :
	    code == 404 ? "error_404_coin.json" : NULL;

	if (file == NULL || read_file(file, b) != 0)
		bprintf(b, "{\"status\":{\"error_code\":%d,\"error_message\":"
		    "\"mock error %d\"}}", code, code);
}

static int
simple(const struct req *r, struct buf *b)
{
	char ids[HEAD_MAX], vs[FIELD_MAX];
	struct buf file = { NULL, 0, 0 };
	json_object *root;
	int first = 1, firstv;

	if (param(r->query, "ids", ids, sizeof(ids)) == NULL ||
	    param(r->query, "vs_currencies", vs, sizeof(vs)) == NULL) {
		bprintf(b, "{\"error\":\"Missing parameter ids or "
		    "vs_currencies\"}");
		return 400;
	}
	if (read_file("mock_prices.json", &file) != 0 ||
	    (root = json_tokener_parse(file.p)) == NULL)
		fatal("%s/mock_prices.json: cannot read", datadir);
	free(file.p);
	bput(b, "{", 1);
	json_object_object_foreach(root, id, prices) {
		if (!listed(ids, id))
			continue;
		bprintf(b, "%s\"%s\":{", first ? "" : ",", id);
		first = 0;
		firstv = 1;
		json_object_object_foreach(prices, cur, v) {
			if (!listed(vs, cur))
				continue;
			bprintf(b, "%s\"%s\":", firstv ? "" : ",", cur);
			bnum(b, json_object_get_double(v));
			firstv = 0;
			{
				char num[32];

				coin_double_format(json_object_get_double(v),
				    num);
				served_line("tick %s/%s %s\n", id, cur, num);
			}
		}
		bput(b, "}", 1);
	}
	bput(b, "}", 1);
	json_object_put(root);
	return 200;
}

static int
markets(const struct req *r, struct buf *b)
{
	char vs[FIELD_MAX], tmp[64], id[64], num[32];
	long per = 100, page = 1, i, last;
	double f, usd;

	if (param(r->query, "vs_currency", vs, sizeof(vs)) == NULL ||
	    (f = factor(vs)) == 0) {
		bprintf(b, "{\"error\":\"invalid vs_currency\"}");
		return 400;
	}
	if (param(r->query, "per_page", tmp, sizeof(tmp)) != NULL)
		per = strtol(tmp, NULL, 10);
	if (param(r->query, "page", tmp, sizeof(tmp)) != NULL)
		page = strtol(tmp, NULL, 10);
	if (per < 1 || per > 250)
		per = 250;
	if (page < 1)
		page = 1;
	last = page * per < ncoins ? page * per : ncoins;
	bput(b, "[", 1);
	for (i = (page - 1) * per + 1; i <= last; i++) {
		coin_at(i, id, sizeof(id), &usd);
		coin_double_format(usd * f, num);
		bprintf(b, "%s{\"id\":\"%s\",\"symbol\":\"c%ld\",\"name\":"
		    "\"Coin %ld\",\"image\":\"https://assets.coingecko.com/"
		    "coins/images/%ld/large/c.png\",\"current_price\":%s,"
		    "\"market_cap\":%ld,\"market_cap_rank\":%ld,"
		    "\"fully_diluted_valuation\":null,\"total_volume\":%ld,"
		    "\"high_24h\":%s,\"low_24h\":%s,\"price_change_24h\":0.5,"
		    "\"price_change_percentage_24h\":0.1,"
		    "\"circulating_supply\":1000,\"total_supply\":null,"
		    "\"max_supply\":null,\"ath\":%s,\"roi\":null,"
		    "\"last_updated\":\"2024-04-07T16:49:31.736Z\"}",
		    i > (page - 1) * per + 1 ? "," : "", id, i, i, i, num,
		    (ncoins - i + 1) * 1000000, i, 5000 * i, num, num, num);
		served_line("tick %s/%s %s\n", id, vs, num);
	}
	bput(b, "]", 1);
	return 200;
}

static int
tickers(const struct req *r, const char *ex, struct buf *b)
{
	char tmp[64], base[32], num[32];
	long page = 1, i, last;
	int anomaly, stale;

	if (strcmp(ex, "binance") != 0) {
		bprintf(b, "{\"error\":\"exchange not found\"}");
		return 404;
	}
	if (param(r->query, "page", tmp, sizeof(tmp)) != NULL)
		page = strtol(tmp, NULL, 10);
	if (page < 1)
		page = 1;
	last = page * 100 < ntickers ? page * 100 : ntickers;
	bprintf(b, "{\"name\":\"Binance\",\"tickers\":[");
	for (i = (page - 1) * 100 + 1; i <= last; i++) {
		if (i == 1)
			snprintf(base, sizeof(base), "BTC");
		else
			snprintf(base, sizeof(base), "B%04ld", i);
		coin_double_format(i == 1 ? 69476 : i * 1.5 + 0.25, num);
		anomaly = i % 10 == 0;
		stale = i % 15 == 0;
		bprintf(b, "%s{\"base\":\"%s\",\"target\":\"USDT\",\"market\":"
		    "{\"name\":\"Binance\",\"identifier\":\"binance\","
		    "\"has_trading_incentive\":false},\"last\":%s,"
		    "\"volume\":20242.03975,\"converted_last\":{\"btc\":1,"
		    "\"eth\":20.291404,\"usd\":%s},\"trust_score\":\"green\","
		    "\"timestamp\":\"2024-04-08T04:02:01+00:00\","
		    "\"is_anomaly\":%s,\"is_stale\":%s,\"coin_id\":\"c%ld\","
		    "\"target_coin_id\":\"tether\"}",
		    i > (page - 1) * 100 + 1 ? "," : "", base, num, num,
		    anomaly ? "true" : "false", stale ? "true" : "false", i);
		if (!anomaly && !stale)
			served_line("tick binance:%s/USDT %s\n", base, num);
	}
	bput(b, "]}", 2);
	return 200;
}

static void
point(struct buf *b, const char *pair, int *first, long long ms, double p)
{
	char num[32];

	coin_double_format(p, num);
	bprintf(b, "%s[%lld,%s]", *first ? "" : ",", ms, num);
	*first = 0;
	served_line("chart %s %lld %s\n", pair, ms, num);
}

static int
chart(const struct req *r, const char *id, struct buf *b)
{
	char vs[FIELD_MAX], tmp[64], pair[1024];
	struct timespec now;
	long long nowms, step, t, start;
	long days = 1, k = 0;
	double f, usd;
	int first = 1;

	if (known_coin(id) == 0) {
		error_body(b, 404);
		return 404;
	}
	if (param(r->query, "vs_currency", vs, sizeof(vs)) == NULL ||
	    (f = factor(vs)) == 0) {
		bprintf(b, "{\"error\":\"invalid vs_currency\"}");
		return 400;
	}
	if (param(r->query, "days", tmp, sizeof(tmp)) != NULL)
		days = strtol(tmp, NULL, 10);
	if (days < 1)
		days = 1;
	snprintf(pair, sizeof(pair), "%s/%s", id, vs);
	clock_gettime(CLOCK_REALTIME, &now);
	nowms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	step = days == 1 ? 300000 : days <= 90 ? 3600000 : 86400000;
	start = nowms - days * 86400000LL;
	usd = 60000 * f;
	bprintf(b, "{\"prices\":[");
	/* One point older than asked for, as the API gives at times. */
	point(b, pair, &first, start - 600000, usd);
	/* The grid starts a minute or more inside the period asked for. */
	t = start - start % step + step + 1234;
	if (t - start < 60000)
		t += step;
	for (; t < nowms; t += step) {
		point(b, pair, &first, t, usd + k * 0.5 * f);
		if (k == 3)	/* a point given twice; the later wins */
			point(b, pair, &first, t, usd + 1000.25 * f);
		k++;
	}
	point(b, pair, &first, nowms, usd + 7.75 * f);
	bprintf(b, "],\"market_caps\":[[%lld,1370247487960.09]],"
	    "\"total_volumes\":[[%lld,16408802301.8374]]}", nowms, nowms);
	return 200;
}

/* The normal answer to r: its status, body in b. */
static int
normal(const struct req *r, struct buf *b)
{
	const char *p = r->path, *s;
	char id[256];
	size_t n;

	if (strncmp(p, "/moved/", 7) == 0)
		p += 6;
	/* Skip the root's own path (/api/v3). */
	if ((s = strstr(p, "/simple/")) != NULL ||
	    (s = strstr(p, "/coins/")) != NULL ||
	    (s = strstr(p, "/exchanges/")) != NULL ||
	    (s = strstr(p, "/ping")) != NULL)
		p = s;
	if (strcmp(p, "/simple/price") == 0)
		return simple(r, b);
	if (strcmp(p, "/coins/markets") == 0)
		return markets(r, b);
	if (strcmp(p, "/ping") == 0) {
		read_file("ping.json", b);
		return 200;
	}
	if (strncmp(p, "/exchanges/", 11) == 0 &&
	    (n = strcspn(p + 11, "/")) < sizeof(id) &&
	    strcmp(p + 11 + n, "/tickers") == 0) {
		snprintf(id, sizeof(id), "%.*s", (int)n, p + 11);
		return tickers(r, id, b);
	}
	if (strncmp(p, "/coins/", 7) == 0 &&
	    (n = strcspn(p + 7, "/")) < sizeof(id) &&
	    strcmp(p + 7 + n, "/market_chart") == 0) {
		snprintf(id, sizeof(id), "%.*s", (int)n, p + 7);
		return chart(r, id, b);
	}
	bprintf(b, "{\"error\":\"Not Found\"}");
	return 404;
}

/* Take the fault for this request from the control file. */
static void
take_fault(struct fault *f)
{
	struct buf b = { NULL, 0, 0 }, rest = { NULL, 0, 0 };
	char line[1024], tmp[1100], *w, *save = NULL;
	const char *p, *nl = NULL;
	long times = 1;
	size_t n;
	FILE *fp;

	memset(f, 0, sizeof(*f));
	snprintf(f->action, sizeof(f->action), "ok");
	snprintf(f->type, sizeof(f->type), "application/json");
	if (ctlpath == NULL || (fp = fopen(ctlpath, "r")) == NULL)
		return;
	while ((n = fread(line, 1, sizeof(line), fp)) > 0)
		bput(&b, line, n);
	fclose(fp);
	if (b.p == NULL)
		return;
	/* The first line that is not blank or a comment. */
	for (p = b.p; *p != '\0'; p = nl + (*nl == '\n')) {
		nl = p + strcspn(p, "\n");
		if (nl > p && *p != '#')
			break;
	}
	if (*p == '\0' || nl == NULL) {
		free(b.p);
		return;
	}
	n = (size_t)(nl - p) < sizeof(line) - 1 ? (size_t)(nl - p) :
	    sizeof(line) - 1;
	memcpy(line, p, n);
	line[n] = '\0';
	for (w = strtok_r(line, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save)) {
		if (w[0] >= '0' && w[0] <= '9') {
			f->code = (int)strtol(w, NULL, 10);
			snprintf(f->action, sizeof(f->action), "status");
		} else if (strncmp(w, "ra=", 3) == 0)
			snprintf(f->ra, sizeof(f->ra), "%s", w + 3);
		else if (strncmp(w, "file=", 5) == 0)
			snprintf(f->file, sizeof(f->file), "%s", w + 5);
		else if (strncmp(w, "type=", 5) == 0)
			snprintf(f->type, sizeof(f->type), "%s", w + 5);
		else if (strncmp(w, "to=", 3) == 0)
			snprintf(f->to, sizeof(f->to), "%s", w + 3);
		else if (strncmp(w, "ms=", 3) == 0)
			f->ms = strtol(w + 3, NULL, 10);
		else if (strncmp(w, "times=", 6) == 0)
			times = strtol(w + 6, NULL, 10);
		else
			snprintf(f->action, sizeof(f->action), "%s", w);
	}
	/* Put back what is left: the rest, and this line if it lasts. */
	bput(&rest, b.p, (size_t)(p - b.p));
	if (times == 0)
		bput(&rest, p, (size_t)(nl - p) + (*nl == '\n'));
	else if (times > 1) {
		char *tw = strstr(p, "times=");
		size_t pre = (size_t)(tw - p);

		n = (size_t)snprintf(tmp, sizeof(tmp), "%.*stimes=%ld%.*s\n",
		    (int)pre, p, times - 1,
		    (int)(nl - tw - (long)strcspn(tw, " \t\n")),
		    tw + strcspn(tw, " \t\n"));
		bput(&rest, tmp, n < sizeof(tmp) ? n : sizeof(tmp) - 1);
	}
	if (*nl == '\n')
		bput(&rest, nl + 1, strlen(nl + 1));
	snprintf(tmp, sizeof(tmp), "%s.tmp", ctlpath);
	if ((fp = fopen(tmp, "w")) != NULL) {
		if (rest.len > 0)
			fwrite(rest.p, 1, rest.len, fp);
		fclose(fp);
		rename(tmp, ctlpath);
	}
	free(b.p);
	free(rest.p);
}

static void
header_value(const char *line, const char *name, char *out, size_t outsz)
{
	size_t n = strlen(name), k;
	const char *v;

	if (strncasecmp(line, name, n) != 0 || line[n] != ':')
		return;
	for (v = line + n + 1; *v == ' ' || *v == '\t'; v++)
		continue;
	k = strcspn(v, "\r\n");
	if (k >= outsz)
		k = outsz - 1;
	memcpy(out, v, k);
	out[k] = '\0';
}

/* Read and parse the request head; -1 for none (or TLS). */
static int
read_request(int fd, struct req *r)
{
	static char head_buf[HEAD_MAX + 1];
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t len = 0;
	ssize_t n;
	char *line, *eol;

	memset(r, 0, sizeof(*r));
	for (;;) {
		if (poll(&pfd, 1, 5000) <= 0)
			return -1;
		if ((n = read(fd, head_buf + len, HEAD_MAX - len)) <= 0)
			return -1;
		if (len == 0 && (unsigned char)head_buf[0] == 0x16)
			return -1;	/* a TLS handshake: no HTTPS here */
		len += (size_t)n;
		head_buf[len] = '\0';
		if (strstr(head_buf, "\r\n\r\n") != NULL)
			break;
		if (len == HEAD_MAX)
			return -1;
	}
	if (sscanf(head_buf, "%15s", r->method) != 1)
		return -1;
	line = head_buf + strlen(r->method);
	while (*line == ' ')
		line++;
	eol = line + strcspn(line, " \r\n");
	snprintf(r->target, sizeof(r->target), "%.*s", (int)(eol - line),
	    line);
	snprintf(r->path, sizeof(r->path), "%.*s",
	    (int)strcspn(r->target, "?"), r->target);
	if (strchr(r->target, '?') != NULL)
		snprintf(r->query, sizeof(r->query), "%s",
		    strchr(r->target, '?') + 1);
	snprintf(r->ua, sizeof(r->ua), "-");
	snprintf(r->demo, sizeof(r->demo), "-");
	snprintf(r->pro, sizeof(r->pro), "-");
	snprintf(r->accept, sizeof(r->accept), "-");
	for (line = strstr(head_buf, "\r\n"); line != NULL && line[2] != '\r';
	    line = strstr(line + 2, "\r\n")) {
		header_value(line + 2, "user-agent", r->ua, sizeof(r->ua));
		header_value(line + 2, "x-cg-demo-api-key", r->demo,
		    sizeof(r->demo));
		header_value(line + 2, "x-cg-pro-api-key", r->pro,
		    sizeof(r->pro));
		header_value(line + 2, "accept", r->accept, sizeof(r->accept));
	}
	return 0;
}

static void
log_request(const struct req *r, const struct fault *f)
{
	struct timespec now;
	FILE *fp;

	if (logpath == NULL || (fp = fopen(logpath, "a")) == NULL)
		return;
	fprintf(fp, "%s %s ua=%s demo=%s pro=%s accept=%s fault=%s",
	    r->method, r->target, r->ua, r->demo, r->pro, r->accept,
	    f->action);
	if (f->code != 0)
		fprintf(fp, ":%d", f->code);
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(fp, " ms=%lld\n", (long long)now.tv_sec * 1000 +
	    now.tv_nsec / 1000000);
	fclose(fp);
}

/* Wait until the client hangs up (or a minute passes). */
static void
wait_hangup(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	char tmp[256];

	while (poll(&pfd, 1, 60000) > 0 && read(fd, tmp, sizeof(tmp)) > 0)
		continue;
}

static void
stream(int fd)
{
	static const char item[] = "{\"id\":\"x\",\"current_price\":1},";
	char chunk[65536];
	size_t i;
	long sent;

	for (i = 0; i + sizeof(item) - 1 <= sizeof(chunk); i +=
	    sizeof(item) - 1)
		memcpy(chunk + i, item, sizeof(item) - 1);
	write_all(fd, "[", 1);
	for (sent = 0; sent < 1024L * 1024 * 1024; sent += (long)i)
		if (write(fd, chunk, i) != (ssize_t)i)
			return;
}

static void
serve(int fd)
{
	struct req r;
	struct fault f;
	struct buf b = { NULL, 0, 0 }, extra = { NULL, 0, 0 };
	int code;
	size_t i;

	if (read_request(fd, &r) != 0)
		return;
	take_fault(&f);
	log_request(&r, &f);
	bput(&extra, "", 0);
	if (strcmp(f.action, "status") == 0) {
		if (f.ra[0] != '\0') {
			if (strncmp(f.ra, "date+", 5) == 0) {
				char date[64];
				time_t t = time(NULL) + strtol(f.ra + 5, NULL,
				    10);
				struct tm tm;

				gmtime_r(&t, &tm);
				strftime(date, sizeof(date),
				    "%a, %d %b %Y %H:%M:%S GMT", &tm);
				bprintf(&extra, "Retry-After: %s\r\n", date);
			} else
				bprintf(&extra, "Retry-After: %s\r\n", f.ra);
		}
		if (f.file[0] == '\0' || read_file(f.file, &b) != 0)
			error_body(&b, f.code);
		answer(fd, f.code, f.type, extra.p, &b);
	} else if (strcmp(f.action, "html") == 0) {
		read_file("cdn_block.html", &b);
		answer(fd, 200, "text/html; charset=UTF-8", "", &b);
	} else if (strcmp(f.action, "body") == 0) {
		if (read_file(f.file, &b) != 0)
			fatal("%s/%s: cannot read", datadir, f.file);
		answer(fd, 200, f.type, "", &b);
	} else if (strcmp(f.action, "invalid") == 0) {
		bprintf(&b, "{\"bitcoin\":{\"usd\":[67187.33}}");
		answer(fd, 200, f.type, "", &b);
	} else if (strcmp(f.action, "empty") == 0) {
		answer(fd, 200, f.type, "", &b);
	} else if (strcmp(f.action, "hang") == 0) {
		wait_hangup(fd);
	} else if (strcmp(f.action, "endless") == 0) {
		head(fd, 200, "application/json", "", -1);
		stream(fd);
	} else if (strcmp(f.action, "big") == 0) {
		head(fd, 200, "application/json", "", 100LL << 20);
		stream(fd);
	} else if (strcmp(f.action, "redirect") == 0) {
		if (f.to[0] != '\0')
			bprintf(&extra, "Location: %s\r\n", f.to);
		else
			bprintf(&extra, "Location: /moved%s\r\n", r.target);
		bprintf(&b, "{}");
		answer(fd, 302, "application/json", extra.p, &b);
	} else {
		code = normal(&r, &b);
		if (strcmp(f.action, "truncate") == 0) {
			head(fd, code, "application/json", "",
			    (long long)b.len);
			write_all(fd, b.p, b.len / 2);
		} else if (strcmp(f.action, "drip") == 0) {
			struct timespec ts = { 0, 200000000 };

			head(fd, code, "application/json", "",
			    (long long)b.len);
			for (i = 0; i < b.len; i++) {
				if (write(fd, b.p + i, 1) != 1)
					break;
				nanosleep(&ts, NULL);
			}
		} else {
			if (strcmp(f.action, "slow") == 0) {
				struct timespec ts = { f.ms / 1000,
				    f.ms % 1000 * 1000000 };

				nanosleep(&ts, NULL);
			}
			answer(fd, code, "application/json", "", &b);
		}
	}
	if (served != NULL)
		fflush(served);
	free(b.p);
	free(extra.p);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	const char *portfile = NULL;
	char tmp[1024];
	long secs = 300;
	FILE *fp;
	int ch, s, c, one = 1;

	while ((ch = getopt(argc, argv, "c:d:l:n:p:s:t:wx:")) != -1) {
		switch (ch) {
		case 'c':
			ctlpath = optarg;
			break;
		case 'd':
			datadir = optarg;
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'n':
			ncoins = strtol(optarg, NULL, 10);
			break;
		case 'p':
			portfile = optarg;
			break;
		case 's':
			servedpath = optarg;
			break;
		case 't':
			secs = strtol(optarg, NULL, 10);
			break;
		case 'w':
			walk = 1;
			break;
		case 'x':
			ntickers = strtol(optarg, NULL, 10);
			break;
		default:
			fatal("usage: mockgecko -p PORTFILE [-c CTLFILE] "
			    "[-d DATADIR] [-l LOGFILE] [-n COINS] "
			    "[-s SERVEDFILE] [-t SECONDS] [-w] [-x TICKERS]");
		}
	}
	if (portfile == NULL)
		fatal("-p PORTFILE is needed");
	signal(SIGPIPE, SIG_IGN);
	/* Never outlive a test that forgot to stop us. */
	alarm((unsigned)secs);
	if (servedpath != NULL && (served = fopen(servedpath, "a")) == NULL)
		fatal("%s: %s", servedpath, strerror(errno));
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		fatal("socket: %s", strerror(errno));
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = 0;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(s, 16) == -1 ||
	    getsockname(s, (struct sockaddr *)&sin, &slen) == -1)
		fatal("bind 127.0.0.1: %s", strerror(errno));
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	if ((fp = fopen(tmp, "w")) == NULL)
		fatal("%s: %s", tmp, strerror(errno));
	fprintf(fp, "%u\n", (unsigned)ntohs(sin.sin_port));
	if (fclose(fp) != 0 || rename(tmp, portfile) != 0)
		fatal("%s: %s", portfile, strerror(errno));
	for (;;) {
		if ((c = accept(s, NULL, NULL)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("accept: %s", strerror(errno));
		}
		serve(c);
		shutdown(c, SHUT_WR);
		close(c);
	}
}
