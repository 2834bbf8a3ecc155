/* SPDX-License-Identifier: ISC */
/* http.c - GET from the CoinGecko API: pacing, retries, redirects, caps */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "coin_int.h"

#define TIMEOUT_MS	30000	/* one attempt, by default */
#define CONNECT_MS	10000	/* connecting, at most */
#define BACKOFF_MS	1000	/* the first retry's wait, by default */
#define BACKOFF_MAX_MS	60000	/* one backoff, at most */
#define WAIT_MAX_S	600	/* a longer Retry-After is not waited for */
#define RETRY_MIN_MS	1000	/* a retry needs this long before deadline */
#define REDIRECTS_MAX	5
#define BURST		5	/* requests that go at once before pacing */
#define RATE_DEMO	30	/* a minute: the least the free plan allows */
#define RATE_PRO	500	/* a minute: the paid plans */
#define PRO_HOST	"pro-api.coingecko.com"
#define AGENT		"coinfetch/" COIN_VERSION
#define LABEL_MAX	100	/* bytes of the path in reasons */
#define MSG_MAX		120	/* bytes of the API's message in reasons */

struct coin_http {
	CURL			*curl;
	struct curl_slist	*headers;
	char			*base;		/* without a final '/' */
	char			*origin;	/* scheme://host:port of base */
	char			*key;		/* NULL for none */
	int			 pro;		/* base is the Pro root */
	int64_t			 timeout_ms;
	int			 retries;
	int64_t			 backoff_ms;
	int64_t			 deadline;	/* Unix seconds; 0 for none */
	double			 tokens;	/* requests that may go now */
	double			 rate;		/* tokens gained per ms */
	int64_t			 refilled;	/* when tokens was topped up */
	uint64_t		 rng;
	unsigned long		 nreq;
	char			 label[LABEL_MAX + 1];
	/* The answer being received. */
	char			*body;
	size_t			 len;
	size_t			 cap;
	int			 toobig;
	int			 nomem;
	int64_t			 retry_after;	/* seconds; -1 for none */
	char			 curlerr[CURL_ERROR_SIZE];
};

static int64_t	now_ms(void);
static void	sleep_ms(int64_t);
static int	fail(struct coin_http *, char *, int, const char *, ...)
		    __attribute__((format(printf, 4, 5)));
static int	url_origin(const char *, char **, char **);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep ms milliseconds; a signal does not cut the wait short. */
static void
sleep_ms(int64_t ms)
{
	struct timespec req, rem;

	if (ms <= 0)
		return;
	req.tv_sec = (time_t)(ms / 1000);
	req.tv_nsec = (long)(ms % 1000) * 1000000;
	while (nanosleep(&req, &rem) == -1 && errno == EINTR)
		req = rem;
}

/* xorshift64*: jitter needs no more. */
static uint64_t
rnd(struct coin_http *h)
{
	h->rng ^= h->rng >> 12;
	h->rng ^= h->rng << 25;
	h->rng ^= h->rng >> 27;
	return h->rng * 0x2545F4914F6CDD1DULL;
}

/* Put "LABEL: reason" in errbuf and return code. */
static int
fail(struct coin_http *h, char *errbuf, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (errbuf == NULL)
		return code;
	n = snprintf(errbuf, COIN_ERRBUF, "%s: ", h->label);
	if (n < 0 || n >= COIN_ERRBUF)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(errbuf + n, COIN_ERRBUF - (size_t)n, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * Split url into "scheme://host:port" (lowercase) and its host, if it
 * is an http or https URL.  Returns 0, COIN_EUSAGE or COIN_ENOMEM.
 */
static int
url_origin(const char *url, char **origin, char **hostp)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL, *p;
	size_t n;
	int rc = COIN_EUSAGE;

	if ((u = curl_url()) == NULL)
		return COIN_ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK && *host != '\0' &&
	    (strcasecmp(scheme, "http") == 0 ||
	    strcasecmp(scheme, "https") == 0)) {
		n = strlen(scheme) + strlen(host) + strlen(port) + 5;
		rc = COIN_ENOMEM;
		if (origin != NULL && (*origin = malloc(n)) != NULL) {
			snprintf(*origin, n, "%s://%s:%s", scheme, host, port);
			for (p = *origin; *p != '\0'; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			rc = 0;
		} else if (origin == NULL)
			rc = 0;
		if (rc == 0 && hostp != NULL &&
		    (*hostp = strdup(host)) == NULL) {
			if (origin != NULL)
				free(*origin);
			rc = COIN_ENOMEM;
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

const char *
coin_http_key_header(const char *base)
{
	char *host = NULL;
	int pro;

	if (url_origin(base, NULL, &host) != 0)
		return "x-cg-demo-api-key";
	pro = strcasecmp(host, PRO_HOST) == 0;
	free(host);
	return pro ? "x-cg-pro-api-key" : "x-cg-demo-api-key";
}

int64_t
coin_http_retry_after(const char *value, int64_t now)
{
	const char *p = value, *end;
	int64_t secs = 0;
	time_t t;

	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	if (end == p)
		return -1;
	if (*p >= '0' && *p <= '9') {
		for (; p < end && *p >= '0' && *p <= '9'; p++)
			if ((secs = secs * 10 + (*p - '0')) > 1000000000)
				secs = 1000000000;
		return p == end ? secs : -1;
	}
	/* An HTTP-date needs a weekday name and a comma or a space. */
	if (end - p < 20)
		return -1;
	{
		char date[64];
		size_t n = (size_t)(end - p);

		if (n >= sizeof(date))
			return -1;
		memcpy(date, p, n);
		date[n] = '\0';
		if ((t = curl_getdate(date, NULL)) == -1)
			return -1;
	}
	return (int64_t)t > now ? (int64_t)t - now : 0;
}

/* Copy s as printable ASCII into msg of msgsz bytes. */
static void
printable(const char *s, size_t len, char *msg, size_t msgsz)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < msgsz; i++) {
		unsigned char c = (unsigned char)s[i];

		msg[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	while (n > 0 && msg[n - 1] == ' ')
		n--;
	msg[n] = '\0';
}

int
coin_http_api_error(const char *body, size_t len, long *code, char *msg,
    size_t msgsz)
{
	struct json_tokener *tok;
	json_object *root, *st, *v, *m = NULL;
	locale_t c, old = (locale_t)0;
	int found = 0;

	*code = 0;
	if (msgsz > 0)
		msg[0] = '\0';
	if (len == 0 || len > COIN_HTTP_BODY_MAX ||
	    (tok = json_tokener_new_ex(COIN_DEPTH_MAX)) == NULL)
		return 0;
	/* As in fetch.c: json-c parses in a copy of the current locale. */
	if ((c = coin_c_locale()) != (locale_t)0)
		old = uselocale(c);
	root = json_tokener_parse_ex(tok, body, (int)len);
	if (c != (locale_t)0)
		uselocale(old);
	json_tokener_free(tok);
	if (root == NULL)
		return 0;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return 0;
	}
	if (json_object_object_get_ex(root, "status", &st) &&
	    json_object_is_type(st, json_type_object)) {
		if (json_object_object_get_ex(st, "error_code", &v) &&
		    json_object_is_type(v, json_type_int)) {
			*code = (long)json_object_get_int64(v);
			found = 1;
		}
		if (json_object_object_get_ex(st, "error_message", &v) &&
		    json_object_is_type(v, json_type_string))
			m = v;
	}
	if (json_object_object_get_ex(root, "error_code", &v) &&
	    json_object_is_type(v, json_type_int)) {
		*code = (long)json_object_get_int64(v);
		found = 1;
	}
	if (m == NULL && json_object_object_get_ex(root, "error_message",
	    &v) && json_object_is_type(v, json_type_string))
		m = v;
	if (m == NULL && json_object_object_get_ex(root, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		m = v;
	if (m != NULL) {
		if (msgsz > 0)
			printable(json_object_get_string(m),
			    (size_t)json_object_get_string_len(m), msg, msgsz);
		found = 1;
	}
	json_object_put(root);
	return found;
}

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct coin_http *h = arg;
	size_t len = size * nmemb, cap;
	char *p;

	if (len > COIN_HTTP_BODY_MAX - h->len) {
		h->toobig = 1;
		return 0;
	}
	if (h->len + len + 1 > h->cap) {
		cap = h->cap != 0 ? h->cap : 16384;
		while (cap < h->len + len + 1)
			cap *= 2;
		if ((p = realloc(h->body, cap)) == NULL) {
			h->nomem = 1;
			return 0;
		}
		h->body = p;
		h->cap = cap;
	}
	memcpy(h->body + h->len, data, len);
	h->len += len;
	return len;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char ra[] = "retry-after:";
	struct coin_http *h = arg;
	size_t len = size * nmemb, n;
	char v[128];

	if (len >= 5 && memcmp(data, "HTTP/", 5) == 0)
		h->retry_after = -1;	/* a new answer (after a 1xx) */
	else if (len >= sizeof(ra) - 1 &&
	    strncasecmp(data, ra, sizeof(ra) - 1) == 0) {
		n = len - (sizeof(ra) - 1);
		if (n >= sizeof(v))
			n = sizeof(v) - 1;
		memcpy(v, data + sizeof(ra) - 1, n);
		v[n] = '\0';
		h->retry_after = coin_http_retry_after(v, now_ms() / 1000);
	}
	return len;
}

static int
key_ok(const char *key)
{
	for (; *key != '\0'; key++)
		if ((unsigned char)*key <= ' ' || (unsigned char)*key >= 0x7f)
			return 0;
	return 1;
}

/* A header "NAME: VALUE" appended to *list; 0 or -1. */
static int
add_header(struct curl_slist **list, const char *name, const char *value)
{
	struct curl_slist *l;
	size_t n = strlen(name) + strlen(value) + 3;
	char *s;

	if ((s = malloc(n)) == NULL)
		return -1;
	snprintf(s, n, "%s: %s", name, value);
	l = curl_slist_append(*list, s);
	memset(s, 0, n);
	free(s);
	if (l == NULL)
		return -1;
	*list = l;
	return 0;
}

long
coin_http_cacert_count(const char *path)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char trusted[] = "-----BEGIN TRUSTED CERTIFICATE-----";
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	long n = 0;
	int e;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	errno = 0;
	while (getline(&line, &cap, f) != -1)
		if (strncmp(line, begin, sizeof(begin) - 1) == 0 ||
		    strncmp(line, trusted, sizeof(trusted) - 1) == 0)
			n++;
	e = ferror(f) ? (errno != 0 ? errno : EIO) : 0;
	free(line);
	fclose(f);
	if (e != 0) {
		errno = e;
		return -1;
	}
	return n;
}

int
coin_http_open(struct coin_http **hp, const struct coin_http_opts *o,
    char *errbuf)
{
	struct coin_http *h;
	struct timespec ts;
	const char *base = o->base != NULL ? o->base : COIN_FETCH_DEMO_ROOT;
	const char *key = o->key != NULL && *o->key != '\0' ? o->key : NULL;
	char *host = NULL;
	size_t n;
	int rc, ok;

	*hp = NULL;
	if (o->retries < 0 || o->timeout_ms < 0 || o->backoff_ms < 0 ||
	    o->per_minute < 0) {
		coin_reason(errbuf, "negative timeout, retries, backoff or "
		    "pace");
		return COIN_EUSAGE;
	}
	if (strchr(base, '?') != NULL || strchr(base, '#') != NULL) {
		coin_reason(errbuf, "COINGECKO_API_URL: the API root holds a "
		    "query or a fragment");
		return COIN_EUSAGE;
	}
	if (key != NULL && !key_ok(key)) {
		coin_reason(errbuf, "COINGECKO_API_KEY: the key holds a space "
		    "or a byte that is not printable ASCII");
		return COIN_EUSAGE;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return COIN_ENOMEM;
	h->retry_after = -1;
	if ((rc = url_origin(base, &h->origin, &host)) != 0) {
		free(h);
		if (rc == COIN_EUSAGE)
			coin_reason(errbuf, "COINGECKO_API_URL: the API "
			    "root is not an http or https URL");
		return rc;
	}
	h->pro = strcasecmp(host, PRO_HOST) == 0;
	free(host);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(h->origin);
		free(h);
		return COIN_ENOMEM;
	}
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	rc = COIN_ENOMEM;
	if ((h->base = strndup(base, n)) == NULL ||
	    (key != NULL && (h->key = strdup(key)) == NULL) ||
	    (h->curl = curl_easy_init()) == NULL ||
	    add_header(&h->headers, "Accept", "application/json") != 0 ||
	    (key != NULL && add_header(&h->headers,
	    h->pro ? "x-cg-pro-api-key" : "x-cg-demo-api-key", key) != 0))
		goto fail;
	ok = curl_easy_setopt(h->curl, CURLOPT_PROTOCOLS_STR, "http,https") ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_REDIR_PROTOCOLS_STR,
	    "http,https") == CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_FOLLOWLOCATION, 0L) ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 1L) ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 2L) ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_USERAGENT, AGENT) == CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers) ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "") ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)COIN_HTTP_BODY_MAX) == CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_body) ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h) == CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_HEADERFUNCTION, on_header) ==
	    CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_HEADERDATA, h) == CURLE_OK &&
	    curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->curlerr) ==
	    CURLE_OK;
	if (ok && o->cacert != NULL)
		ok = curl_easy_setopt(h->curl, CURLOPT_CAINFO, o->cacert) ==
		    CURLE_OK;
	if (!ok) {
		coin_reason(errbuf, "libcurl lacks a feature coinfetch needs "
		    "(http and https only, TLS verification)");
		rc = COIN_EUSAGE;
		goto fail;
	}
	h->timeout_ms = o->timeout_ms != 0 ? o->timeout_ms : TIMEOUT_MS;
	h->retries = o->retries;
	h->backoff_ms = o->backoff_ms != 0 ? o->backoff_ms : BACKOFF_MS;
	h->rate = (o->per_minute != 0 ? o->per_minute :
	    h->pro ? RATE_PRO : RATE_DEMO) / 60000.0;
	h->tokens = BURST;
	h->refilled = now_ms();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	h->rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^
	    ((uint64_t)getpid() << 40) ^ 0x9E3779B97F4A7C15ULL;
	*hp = h;
	return 0;
fail:
	coin_http_close(h);
	return rc;
}

void
coin_http_close(struct coin_http *h)
{
	struct curl_slist *l;

	if (h == NULL)
		return;
	if (h->curl != NULL)
		curl_easy_cleanup(h->curl);
	for (l = h->headers; l != NULL; l = l->next)
		memset(l->data, 0, strlen(l->data));
	curl_slist_free_all(h->headers);
	if (h->key != NULL) {
		memset(h->key, 0, strlen(h->key));
		free(h->key);
	}
	free(h->base);
	free(h->origin);
	free(h->body);
	free(h);
	curl_global_cleanup();
}

void
coin_http_deadline(struct coin_http *h, int64_t deadline)
{
	h->deadline = deadline;
}

unsigned long
coin_http_requests(const struct coin_http *h)
{
	return h->nreq;
}

/* Wait until the rate limit allows one more request, and take it. */
static void
pace(struct coin_http *h)
{
	int64_t t = now_ms();

	if (t > h->refilled)
		h->tokens += (double)(t - h->refilled) * h->rate;
	if (h->tokens > BURST)
		h->tokens = BURST;
	h->refilled = t;
	if (h->tokens < 1) {
		sleep_ms((int64_t)((1 - h->tokens) / h->rate) + 1);
		h->tokens = 1;
		h->refilled = now_ms();
	}
	h->tokens -= 1;
}

/* The wait before retry number tries + 1: exponential, half jitter. */
static int64_t
backoff(struct coin_http *h, int tries)
{
	int64_t d = h->backoff_ms;

	while (tries-- > 0 && d < BACKOFF_MAX_MS)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	return d / 2 + (int64_t)(rnd(h) % (uint64_t)(d / 2 + 1));
}

static CURLcode
attempt(struct coin_http *h, const char *url, int64_t timeout, long *status)
{
	CURLcode cc;

	h->len = 0;
	h->toobig = h->nomem = 0;
	h->retry_after = -1;
	h->curlerr[0] = '\0';
	*status = 0;
	if (curl_easy_setopt(h->curl, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)timeout) !=
	    CURLE_OK ||
	    curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(timeout < CONNECT_MS ? timeout : CONNECT_MS)) != CURLE_OK)
		return CURLE_OUT_OF_MEMORY;
	h->nreq++;
	cc = curl_easy_perform(h->curl);
	curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
	if (h->body != NULL)
		h->body[h->len] = '\0';
	return cc;
}

/* Is this failure of libcurl worth a retry? */
static int
passing(CURLcode cc)
{
	switch (cc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_NOT_BUILT_IN:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_LOGIN_DENIED:
	case CURLE_FUNCTION_NOT_FOUND:
	case CURLE_BAD_FUNCTION_ARGUMENT:
	case CURLE_UNKNOWN_OPTION:
		return 0;
	default:
		return 1;
	}
}

static int
json_like(const char *b, size_t n)
{
	size_t i = 0;

	while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' ||
	    b[i] == '\n'))
		i++;
	return i < n && (b[i] == '{' || b[i] == '[');
}

/* The API's own words on an error answer, without the key. */
static void
api_words(struct coin_http *h, long *code, char *msg, size_t msgsz)
{
	if (!coin_http_api_error(h->body != NULL ? h->body : "", h->len, code,
	    msg, msgsz))
		msg[0] = '\0';
	if (h->key != NULL && strstr(msg, h->key) != NULL)
		snprintf(msg, msgsz, "(message withheld: it quotes the key)");
}

/* The reason for refusing an answer with a status that retries cannot
 * change. */
static int
refuse(struct coin_http *h, long status, char *errbuf)
{
	char msg[MSG_MAX + 1];
	const char *sep;
	long code;

	api_words(h, &code, msg, sizeof(msg));
	sep = msg[0] != '\0' ? ": " : "";
	if (code == 10010 || code == 10011)
		return fail(h, errbuf, COIN_EREFUSED, "HTTP %ld (error %ld): "
		    "the key is for the other API root; a %s key goes with %s "
		    "(set COINGECKO_API_URL)", status, code,
		    h->pro ? "Demo" : "Pro",
		    h->pro ? COIN_FETCH_DEMO_ROOT : COIN_FETCH_PRO_ROOT);
	if (status == 401 || code == 10002) {
		if (h->key == NULL || code == 10002)
			return fail(h, errbuf, COIN_EREFUSED, "HTTP %ld%s%s; "
			    "set COINGECKO_API_KEY to your API key (a Demo key "
			    "is free)", status, sep, msg);
		return fail(h, errbuf, COIN_EREFUSED, "HTTP %ld%s%s; the API "
		    "refused the key in COINGECKO_API_KEY", status, sep, msg);
	}
	if (status == 403)
		return fail(h, errbuf, COIN_EREFUSED, "HTTP 403%s%s; the key "
		    "or its plan does not allow this (check COINGECKO_API_KEY "
		    "and COINGECKO_API_URL)", sep, msg);
	if (status == 404)
		return fail(h, errbuf, COIN_EREFUSED, "HTTP 404%s%s; check "
		    "the id (and COINGECKO_API_URL)", sep, msg);
	return fail(h, errbuf, COIN_EREFUSED, "HTTP %ld%s%s", status, sep,
	    msg);
}

/* Follow a redirect within the root's origin: 0 with *url replaced. */
static int
redirect(struct coin_http *h, char **url, int *n, long status,
    char *errbuf)
{
	char *loc = NULL, *origin = NULL, *copy;
	int rc;

	curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, &loc);
	if (loc == NULL)
		return fail(h, errbuf, COIN_EREFUSED, "HTTP %ld without a "
		    "usable Location", status);
	if (++*n > REDIRECTS_MAX)
		return fail(h, errbuf, COIN_EREFUSED, "more than %d "
		    "redirects", REDIRECTS_MAX);
	if ((rc = url_origin(loc, &origin, NULL)) == COIN_ENOMEM)
		return rc;
	if (rc != 0)
		return fail(h, errbuf, COIN_EREFUSED, "HTTP %ld to a URL that "
		    "is not http or https: not followed", status);
	if (strcmp(origin, h->origin) != 0) {
		rc = fail(h, errbuf, COIN_EREFUSED, "HTTP %ld to %s, another "
		    "host: not followed, as the key goes to the API root only "
		    "(set COINGECKO_API_URL)", status, origin);
		free(origin);
		return rc;
	}
	free(origin);
	if ((copy = strdup(loc)) == NULL)
		return COIN_ENOMEM;
	free(*url);
	*url = copy;
	return 0;
}

int
coin_http_get(struct coin_http *h, const char *path, const char **body,
    size_t *len, char *errbuf)
{
	char why[COIN_ERRBUF] = "", msg[MSG_MAX + 1], *url;
	size_t n;
	int64_t timeout, left, wait;
	long status, code;
	int tries = 0, redirects = 0, rc;
	CURLcode cc;

	n = strcspn(path, "?");
	snprintf(h->label, sizeof(h->label), "%.*s",
	    (int)(n < LABEL_MAX ? n : LABEL_MAX), path);
	if (path[0] != '/')
		return fail(h, errbuf, COIN_EUSAGE, "not a path");
	n = strlen(h->base) + strlen(path) + 1;
	if ((url = malloc(n)) == NULL)
		return COIN_ENOMEM;
	snprintf(url, n, "%s%s", h->base, path);
	for (;;) {
		timeout = h->timeout_ms;
		if (tries > 0 && h->deadline != 0) {
			left = h->deadline * 1000 - now_ms();
			if (left < RETRY_MIN_MS) {
				rc = fail(h, errbuf, COIN_ETRYLATER, "%s; no "
				    "time left for a retry before the next "
				    "batch", why);
				break;
			}
			if (left < timeout)
				timeout = left;
		}
		pace(h);
		cc = attempt(h, url, timeout, &status);
		if (h->nomem || cc == CURLE_OUT_OF_MEMORY) {
			rc = COIN_ENOMEM;
			break;
		}
		if (h->toobig || cc == CURLE_FILESIZE_EXCEEDED) {
			rc = fail(h, errbuf, COIN_EBADREC, "answer larger than "
			    "%d MiB: refused", COIN_HTTP_BODY_MAX >> 20);
			break;
		}
		if (cc != CURLE_OK) {
			snprintf(why, sizeof(why), "%s", h->curlerr[0] != '\0' ?
			    h->curlerr : curl_easy_strerror(cc));
			if (!passing(cc)) {
				rc = fail(h, errbuf, COIN_EREFUSED, "%s", why);
				break;
			}
		} else if (status >= 200 && status < 300) {
			if (json_like(h->body, h->len)) {
				*body = h->body;
				*len = h->len;
				rc = 0;
				break;
			}
			snprintf(why, sizeof(why), "HTTP %ld with an answer "
			    "that is not JSON (a page from the CDN?)", status);
		} else if (status >= 300 && status < 400) {
			if ((rc = redirect(h, &url, &redirects, status,
			    errbuf)) != 0)
				break;
			continue;
		} else if (status == 408 || status == 429 || status >= 500 ||
		    status < 200 || (status == 403 &&
		    !json_like(h->body, h->len))) {
			api_words(h, &code, msg, sizeof(msg));
			if (!json_like(h->body, h->len))
				snprintf(msg, sizeof(msg), "an answer that is "
				    "not JSON (a page from the CDN?)");
			snprintf(why, sizeof(why), "HTTP %ld%s%s%s", status,
			    status == 429 ? " (rate limited)" : "",
			    msg[0] != '\0' ? ": " : "", msg);
		} else {
			rc = refuse(h, status, errbuf);
			break;
		}
		/* A passing failure: retry, if the retries and time allow. */
		if (tries >= h->retries) {
			rc = fail(h, errbuf, COIN_ETRYLATER, "%s; still "
			    "failing after %d attempt%s", why, tries + 1,
			    tries > 0 ? "s" : "");
			break;
		}
		wait = backoff(h, tries);
		if (h->retry_after > WAIT_MAX_S) {
			rc = fail(h, errbuf, COIN_ETRYLATER, "%s; asked to "
			    "wait %lld s", why, (long long)h->retry_after);
			break;
		}
		if (h->retry_after >= 0 && h->retry_after * 1000 > wait)
			wait = h->retry_after * 1000;
		if (h->deadline != 0 &&
		    now_ms() + wait + RETRY_MIN_MS > h->deadline * 1000) {
			rc = fail(h, errbuf, COIN_ETRYLATER, "%s; a retry in "
			    "%lld ms would run past the next batch", why,
			    (long long)wait);
			break;
		}
		sleep_ms(wait);
		tries++;
	}
	free(url);
	return rc;
}
