/* SPDX-License-Identifier: ISC */
/* coin.h - the one public header of libcoin: records, times, the store */
#ifndef COIN_H
#define COIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define COIN_VERSION	"0.1.0"

#define COIN_PAIR_MAX	200		/* bytes in a pair, at most */
#define COIN_LINE_MAX	(1024 * 1024)	/* bytes in an input line, at most */
#define COIN_ERRBUF	256		/* room for a detailed reason */
#define COIN_DEPTH_MAX	32		/* JSON nesting, at most */
#define COIN_TS_MIN	1230768000	/* 2009-01-01T00:00:00Z */
#define COIN_RECBUF	640		/* room for one formatted record */

/*
 * Errors.  Functions return 0, a negative COIN_E* code, an LMDB code
 * (also negative, below -30000) or a positive errno value.
 * coin_strerror() names any of them.
 */
#define COIN_EBADREC	(-1)	/* a record broke the rules; see errbuf */
#define COIN_ELONG	(-2)	/* line longer than COIN_LINE_MAX */
#define COIN_ENUL	(-3)	/* NUL byte in a line */
#define COIN_ESCHEMA	(-4)	/* store written by an unknown schema */
#define COIN_ECORRUPT	(-5)	/* store damaged */
#define COIN_ENOSTORE	(-6)	/* no store at that path */
#define COIN_ECREATE	(-7)	/* store could not be created; errno kept */
#define COIN_ENOMEM	(-8)	/* out of memory */
#define COIN_EUSAGE	(-9)	/* a bad argument to a libcoin call */
#define COIN_ENOTFOUND	(-30798)	/* nothing there: LMDB's MDB_NOTFOUND */

/* Name error e, whatever its source; the string is static. */
const char	*coin_strerror(int e);
/* Map error e to the sysexits(3) status the contract gives it. */
int		 coin_exit_status(int e);

/*
 * Have malloc serve the process from one heap backed by huge pages
 * where the system offers them (glibc with transparent huge pages);
 * else a no-op.  Call in main before any thread starts.
 */
void		 coin_heap_huge(void);

/* ------------------------------------------------------------------ */
/* Records (contract section 1). */

struct coin_tick {
	char	 pair[COIN_PAIR_MAX + 1];
	int64_t	 ts;
	double	 price;
};

/* Fields that are NAN are absent (n < 2 has no stddev, n == 0 no mean). */
struct coin_stat {
	char	 pair[COIN_PAIR_MAX + 1];
	int64_t	 ts;
	int64_t	 window;
	int64_t	 n;
	double	 mean;
	double	 stddev;
	double	 min;
	double	 max;
	double	 last;
};

/*
 * Check that pair obeys the rules of contract section 1 (1 to 200
 * printable ASCII bytes, no space, quote or backslash, exactly one '/').
 * Returns 0, or COIN_EBADREC with the reason in errbuf when not NULL.
 */
int	coin_pair_valid(const char *pair, size_t len, char *errbuf);

/* Tell whether a line holds nothing but white space (no record). */
int	coin_line_blank(const char *line, size_t len);

/*
 * Parse one line (without its newline) as a tick.  now is the current
 * Unix time, which bounds ts from above.  Returns 0 and fills *t, or
 * COIN_EBADREC with the reason in errbuf (COIN_ERRBUF bytes).
 */
int	coin_tick_parse(const char *line, size_t len, int64_t now,
	    struct coin_tick *t, char *errbuf);

/* Parse one line as a stat (or rank) record; as coin_tick_parse(). */
int	coin_stat_parse(const char *line, size_t len, int64_t now,
	    struct coin_stat *s, char *errbuf);

/*
 * Format t as one canonical NDJSON line ending in LF into buf of
 * COIN_RECBUF bytes, whatever the locale.  Returns its length.
 */
size_t	coin_tick_format(const struct coin_tick *t, char *buf);

/* Format s as one canonical stat line; as coin_tick_format(). */
size_t	coin_stat_format(const struct coin_stat *s, char *buf);

/* Format s with its rank among of as one rank line; as above. */
size_t	coin_rank_format(uint64_t rank, uint64_t of,
	    const struct coin_stat *s, char *buf);

/*
 * Write the shortest text that reads back as exactly d (or "null" when
 * d is not finite) into buf of at least 32 bytes, with '.' as the
 * decimal mark whatever the locale.  Returns its length.
 */
size_t	coin_double_format(double d, char *buf);

/* ------------------------------------------------------------------ */
/* Line input (contract section 5). */

struct coin_reader;		/* opaque */

/*
 * Open path for reading lines ("-" is standard input, named "stdin").
 * Returns 0 with *rp to release with coin_reader_close(), or an errno.
 */
int	coin_reader_open(struct coin_reader **rp, const char *path);

/*
 * Read the next line.  Returns 1 with *line (without LF or CRLF, valid
 * until the next call) and *len; 0 at end of input; COIN_ELONG or
 * COIN_ENUL for a line that was consumed and must be reported; or an
 * errno for a read error.  A last line without LF counts as a line.
 */
int	coin_reader_next(struct coin_reader *r, const char **line,
	    size_t *len);

/* Number of the line last returned, counting from 1. */
size_t	coin_reader_lineno(const struct coin_reader *r);

/* The name used in messages: the path, or "stdin". */
const char *coin_reader_name(const struct coin_reader *r);

/*
 * Tell whether more input is ready without blocking: 1 if a line is
 * buffered or the descriptor is readable within wait_ms, else 0.
 */
int	coin_reader_ready(struct coin_reader *r, int wait_ms);

/* Close r (not standard input's descriptor) and free it. */
void	coin_reader_close(struct coin_reader *r);

/* Told of a line that is not a record: where, and what is wrong. */
typedef void	coin_badline_fn(const char *name, size_t lineno,
		    const char *why, void *arg);

/*
 * Read the stat records of r to its end onto (*out, *n, *cap), grown
 * with realloc(), in input order, parsed on two cores; blank lines are
 * skipped, and each other line that is not a stat record goes to bad()
 * in input order.  Returns 0; COIN_EBADREC when strict stopped at the
 * first bad line (later records not added); COIN_ENOMEM; or a read
 * error, after the records before it were added.
 */
int	coin_stats_read(struct coin_reader *r, int strict,
	    coin_badline_fn *bad, void *arg, struct coin_stat **out,
	    size_t *n, size_t *cap);

/* Records formatted in memory: buf holds len bytes of cap. */
struct coin_text {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

/*
 * The stat records of st[0..n) with a tick in their window (.n > 0), in
 * that order, into t (emptied first, grown with realloc()); release
 * t->buf with free().  Returns 0, or COIN_ENOMEM with t holding some.
 */
int	coin_stats_text(const struct coin_stat *st, size_t n,
	    struct coin_text *t);

/* Where formatted output goes: 0, or nonzero to stop. */
typedef int	coin_out_fn(const char *buf, size_t len, void *arg);

/*
 * The rank records of st[0..n), in ts order and in rank order within a
 * ts (each ts a ranking of its own: ranks from 1, of as many as have
 * that ts), formatted on two cores and handed to out() in order, once
 * all are formatted.  Returns 0, out()'s nonzero value, or COIN_ENOMEM
 * (and nothing handed to out()).
 */
int	coin_ranks_write(const struct coin_stat *const *st, size_t n,
	    coin_out_fn *out, void *arg);

/* ------------------------------------------------------------------ */
/* Durations and times (contract section 2). */

/*
 * Parse a duration: "90s", "15m", "24h", "7d", "2w", sums of them
 * ("1h30m") or plain seconds.  Returns 0 and *secs (>= 0), or
 * COIN_EBADREC with the reason in errbuf.
 */
int	coin_duration_parse(const char *s, int64_t *secs, char *errbuf);

/*
 * Parse a time: plain Unix seconds, an RFC 3339 instant, or a duration
 * with a unit meaning that long before now.  As coin_duration_parse().
 */
int	coin_time_parse(const char *s, int64_t now, int64_t *ts,
	    char *errbuf);

/*
 * Parse an RFC 3339 instant of len bytes ("2024-10-21T10:55:00Z",
 * offsets and fractions allowed; fractions are dropped).  Returns 0
 * and *ts, or COIN_EBADREC.
 */
int	coin_rfc3339_parse(const char *s, size_t len, int64_t *ts);

/* Write ts as "YYYY-MM-DDTHH:MM:SSZ" into buf of 32 bytes. */
size_t	coin_rfc3339_format(int64_t ts, char *buf);

/* ------------------------------------------------------------------ */
/* The store (contract section 3). */

struct coin_store;		/* opaque */

#define COIN_STORE_CREATE	0x1	/* create the store if missing */
#define COIN_STORE_RDONLY	0x2	/* open for reading only */

/*
 * The store's directory: path if not NULL, else $COIN_DB, else
 * $XDG_DATA_HOME/coin, else $HOME/.local/share/coin.  Returns 0 and a
 * string in buf of size bufsz, or COIN_EUSAGE when no HOME is known or
 * the path does not fit.
 */
int	coin_store_path(const char *path, char *buf, size_t bufsz);

/*
 * Open the store in directory path with COIN_STORE_* flags.  Creating
 * makes the directory (mode 0700) and its parents.  Stale reader slots
 * are cleared; a writer upgrades a store of schema 1.  On success *sp
 * holds a handle to release with coin_store_close().  Returns 0,
 * COIN_ENOSTORE, COIN_ESCHEMA, COIN_EUPGRADE (schema 1, read only),
 * COIN_ECORRUPT, COIN_ECREATE (errno then tells why), an LMDB code or
 * an errno.
 */
int	coin_store_open(struct coin_store **sp, const char *path, int flags);

/* As coin_store_open() with the initial map size in bytes (tests). */
int	coin_store_open_size(struct coin_store **sp, const char *path,
	    int flags, size_t mapsize);

/*
 * Have fn(what) called, in place of LMDB's abort(), when LMDB finds a
 * page that cannot be, in stores opened after this call.  fn must not
 * return: it reports the store corrupt and exits (status 74).
 */
void	coin_store_on_corrupt(void (*fn)(const char *what));

/* Close the store; s may be NULL. */
void	coin_store_close(struct coin_store *s);

/*
 * A batch of pending ticks, kept compactly in arrival order until it is
 * stored.  Returns 0 with *bp to release with coin_batch_free(), or
 * COIN_ENOMEM.
 */
struct coin_batch;		/* opaque */
int	coin_batch_new(struct coin_batch **bp);
/* Append a copy of t.  Returns 0 or COIN_ENOMEM. */
int	coin_batch_add(struct coin_batch *b, const struct coin_tick *t);
/* The number of ticks in b. */
size_t	coin_batch_len(const struct coin_batch *b);
/* Copy the i-th tick added (0 <= i < length) into *t. */
void	coin_batch_get(const struct coin_batch *b, size_t i,
	    struct coin_tick *t);
/* Keep the first n ticks of b (n <= length), and the memory for reuse. */
void	coin_batch_truncate(struct coin_batch *b, size_t n);
/* Release b; b may be NULL. */
void	coin_batch_free(struct coin_batch *b);

/*
 * The most batches (runs of one ts) that a bulk commit should hold: a
 * commit of more goes around the stage, straight onto each pair's
 * pages, which holds more of them in memory (see coin(7)).
 */
#define COIN_BULK_TIMES	64

/*
 * Store the ticks of b in one durable transaction: all or none.  A tick
 * with a stored (pair, ts) replaces it, and of two in b the later wins.
 * The map grows when it is full.  Returns 0 or an error; b is unchanged.
 */
int	coin_store_put_batch(struct coin_store *s, struct coin_batch *b);

/* Called for each record a query finds; nonzero stops the walk. */
typedef int	coin_tick_fn(const struct coin_tick *t, void *arg);

/*
 * Call fn for each stored tick of pair (all pairs when pair is NULL)
 * with since <= ts <= until, in (pair, ts) order, from one consistent
 * snapshot.  With latest, only the newest such tick of each pair.
 * Returns 0, fn's nonzero value, or an error.
 */
int	coin_store_ticks(struct coin_store *s, const char *pair,
	    int64_t since, int64_t until, int latest, coin_tick_fn *fn,
	    void *arg);

/* One pair's summary, as --pairs prints it. */
struct coin_pairinfo {
	char	 pair[COIN_PAIR_MAX + 1];
	uint64_t n;
	int64_t	 first;
	int64_t	 last;
};

typedef int	coin_pair_fn(const struct coin_pairinfo *p, void *arg);

/* Call fn for each stored pair in order; as coin_store_ticks(). */
int	coin_store_pairs(struct coin_store *s, coin_pair_fn *fn, void *arg);

/*
 * Store the stats s[0..n-1] and move latest forward to the newest of
 * their ts, in one durable transaction.  A stat for a stored (ts, pair)
 * replaces it.  Returns 0 or an error.
 */
int	coin_store_put_stats(struct coin_store *s, const struct coin_stat *st,
	    size_t n);

typedef int	coin_stat_fn(const struct coin_stat *st, void *arg);

/*
 * Call fn for each stat stored at ts in rank order (stddev descending,
 * then pair; pairs without a stddev last).  Returns as
 * coin_store_ticks().
 */
int	coin_store_stats_at(struct coin_store *s, int64_t ts, coin_stat_fn *fn,
	    void *arg);

/*
 * The newest ts that has stats at or before at (INT64_MAX for the
 * latest pointer).  Returns 0 and *ts, COIN_ENOTFOUND when there is none,
 * or an error.
 */
int	coin_store_stat_time(struct coin_store *s, int64_t at, int64_t *ts);

/* The number of stats stored at ts, in *n (0 when none). */
int	coin_store_stats_count(struct coin_store *s, int64_t ts, uint64_t *n);

/*
 * pair's stat at ts and its rank there (1 is the highest stddev),
 * counted by walking the ranking down to it.  Returns 0,
 * COIN_ENOTFOUND when pair has no stat at ts, or an error.
 */
int	coin_store_stat_rank(struct coin_store *s, const char *pair,
	    int64_t ts, struct coin_stat *st, uint64_t *rank);

/*
 * Call fn(ts, arg) for each ts with since <= ts <= until at which pair
 * has a stat, oldest first.  Returns 0, fn's nonzero value, or an
 * error.
 */
int	coin_store_stat_times(struct coin_store *s, const char *pair,
	    int64_t since, int64_t until, int (*fn)(int64_t ts, void *arg),
	    void *arg);

/*
 * Compute the stat of each distinct (pair, ts) of req (prices unused)
 * over the stored ticks of pair with ts - window < tick ts <= ts: the
 * sample standard deviation, or the population one.  Every stat with
 * a tick in its window is stored, and latest moved forward, in one
 * durable transaction.  out (room for one per tick of req) receives
 * the stats in order of first arrival, *nout of them; n == 0 marks a
 * (pair, ts) with no stored tick in its window, not stored.  The work
 * grows with the ticks that entered and left each pair's window since
 * it was last computed, not with the window.  Returns 0 or an error.
 */
int	coin_store_compute(struct coin_store *s, struct coin_batch *req,
	    int64_t window, int population, struct coin_stat *out,
	    size_t *nout);

/* What coin_store_compute_beside() runs beside the storing. */
typedef void	coin_stats_fn(const struct coin_stat *st, size_t n, void *arg);

/*
 * coin_store_compute(), and while the stats are stored and committed,
 * fn(out, n, arg) on another thread (or on this one before, where no
 * thread can start): work on them that is of use only once they are
 * durable, such as writing them out.  fn only reads out[]; it may be
 * called more than once (a write done again in a grown map), each call
 * replacing the last, and has returned when this returns.
 */
int	coin_store_compute_beside(struct coin_store *s,
	    struct coin_batch *req, int64_t window, int population,
	    struct coin_stat *out, size_t *nout, coin_stats_fn *fn,
	    void *arg);

/*
 * Compute and store the stat at ts of every stored pair that has a
 * tick in its window, in one durable transaction, then call fn for
 * each in pair order.  Returns 0, fn's nonzero value, or an error.
 */
int	coin_store_compute_all(struct coin_store *s, int64_t ts,
	    int64_t window, int population, coin_stat_fn *fn, void *arg);

/* A record's place in an order: hi, then lo, then name (strcmp()). */
struct coin_sortkey {
	uint64_t	 hi;
	uint64_t	 lo;
	const char	*name;
	const void	*p;		/* the record */
};

/*
 * The order code of a stddev (a coin_sortkey's lo, the stats' keys):
 * the greatest first, -0 as 0, NAN last.
 */
uint64_t	coin_stddev_code(double sd);

/*
 * Sort k[0..n) into that order: a radix sort on hi and lo, in time
 * linear in n (qsort() for a few, or when memory is short).
 */
void	coin_sortkeys(struct coin_sortkey *k, size_t n);

/* What --stats reports. */
struct coin_storeinfo {
	uint64_t ticks;
	uint64_t staged;	/* of them, not merged into ticks yet */
	uint64_t pairs;
	uint64_t stats;
	uint64_t stat_times;
	int64_t	 latest;	/* 0 when none */
	int64_t	 first_ts;	/* oldest tick, 0 when none */
	int64_t	 last_ts;	/* newest tick, 0 when none */
	uint64_t map_size;
	uint64_t map_used;
	uint64_t page_size;
	unsigned schema;
};

/* Fill *info from one snapshot.  Returns 0 or an error. */
int	coin_store_info(struct coin_store *s, struct coin_storeinfo *info);

/* Called by coin_store_check() for each fault found. */
typedef void	coin_fault_fn(const char *what, void *arg);

/*
 * Walk the whole store and verify that every key and value decodes and
 * that the indexes agree, calling fn for each fault.  Returns 0,
 * COIN_ECORRUPT when a fault was found, or an error.  *info is filled.
 */
int	coin_store_check(struct coin_store *s, coin_fault_fn *fn, void *arg,
	    struct coin_storeinfo *info);

/*
 * Delete ticks and stats with ts < cutoff, in transactions of bounded
 * size.  Returns 0 and the counts deleted, or an error (what was
 * committed before it stays deleted).
 */
int	coin_store_prune(struct coin_store *s, int64_t cutoff,
	    uint64_t *nticks, uint64_t *nstats);

/*
 * Write a consistent, compacted copy of the store into directory dir
 * (created 0700 if missing; it must hold no data.mdb yet) while
 * writers go on.  Returns 0 or an error.
 */
int	coin_store_backup(struct coin_store *s, const char *dir);

/* The store's directory, as opened. */
const char *coin_store_dir(const struct coin_store *s);

/* ------------------------------------------------------------------ */
/* CoinGecko (coinfetch) */

#define COIN_EREFUSED	(-10)	/* the API refused for good (key, root, id) */
#define COIN_ETRYLATER	(-11)	/* the API kept failing: try again later */
#define COIN_EUPGRADE	(-12)	/* a store of schema 1: a writer upgrades it */

#define COIN_FETCH_DEMO_ROOT	"https://api.coingecko.com/api/v3"
#define COIN_FETCH_PRO_ROOT	"https://pro-api.coingecko.com/api/v3"
#define COIN_HTTP_BODY_MAX	(16 * 1024 * 1024) /* bytes in an answer */
#define COIN_FETCH_PAGE		250	/* coins a /coins/markets page */
#define COIN_FETCH_TICKERS	100	/* tickers an /exchanges page */
#define COIN_FETCH_ID_MAX	100	/* bytes in a coin, currency or
					   exchange id */

struct coin_http;		/* opaque: a client of one API root */

struct coin_http_opts {
	const char	*base;		/* API root; NULL for the Demo root */
	const char	*key;		/* API key; NULL or "" for none */
	const char	*cacert;	/* CA bundle; NULL for the system's */
	int64_t		 timeout_ms;	/* one attempt in all; 0 for 30 s */
	int		 retries;	/* attempts after the first, at most */
	int64_t		 backoff_ms;	/* first retry's wait; 0 for 1 s */
	int		 per_minute;	/* pace; 0 for the plan's rate limit */
};

/*
 * Make a client of the API at o->base, sending o->key in the header
 * coin_http_key_header() names, a User-Agent of coinfetch/VERSION, over
 * http or https only, TLS verified.  Returns 0 with *hp to release with
 * coin_http_close(), COIN_EUSAGE (reason in errbuf) for a base that is
 * not an http(s) URL or a key that a header cannot carry, or
 * COIN_ENOMEM.  The key is never put in a reason.
 */
int	coin_http_open(struct coin_http **hp, const struct coin_http_opts *o,
	    char *errbuf);

/*
 * The PEM certificates in the CA file path (lines that begin one), or
 * -1 with errno set when it cannot be read.
 */
long	coin_http_cacert_count(const char *path);

/* Release h and wipe its copy of the key; h may be NULL. */
void	coin_http_close(struct coin_http *h);

/*
 * Make retries give up rather than wait or run past deadline (Unix
 * seconds, normally the next batch's time); 0 for none.
 */
void	coin_http_deadline(struct coin_http *h, int64_t deadline);

/*
 * GET the root followed by path (which starts with '/' and may hold a
 * query), paced under the rate limit, following at most 5 redirects
 * within the root's scheme, host and port, retrying network failures,
 * 408, 429, 5xx and answers that are not JSON with exponential backoff
 * and jitter, at least as long as Retry-After says.  Returns 0 with
 * *body (*len bytes and a NUL, valid until the next call) of a 2xx
 * answer that starts as JSON; COIN_EREFUSED at once for 400, 401, 403,
 * 404 (or another 4xx), a redirect elsewhere or a TLS failure;
 * COIN_ETRYLATER when the retries are spent or would pass the deadline;
 * COIN_EBADREC for an answer larger than COIN_HTTP_BODY_MAX; or
 * COIN_ENOMEM.  Reasons, in errbuf, start with the path sans query.
 */
int	coin_http_get(struct coin_http *h, const char *path, const char **body,
	    size_t *len, char *errbuf);

/* The number of requests h has sent (retries and redirects included). */
unsigned long coin_http_requests(const struct coin_http *h);

/*
 * The header that carries the key for root base: "x-cg-pro-api-key"
 * when its host is the Pro API's, else "x-cg-demo-api-key".
 */
const char *coin_http_key_header(const char *base);

/*
 * The seconds to wait that a Retry-After value asks for at time now:
 * delay-seconds or an HTTP-date (a past date is 0).  Returns them, or
 * -1 when value is neither.
 */
int64_t	coin_http_retry_after(const char *value, int64_t now);

/*
 * Find the error code and message in a CoinGecko error answer, in any
 * of its shapes ({"status":{"error_code":..,"error_message":..}}, a
 * top-level "error_code", {"error":".."}).  Returns 1 with *code (0 if
 * none) and msg (printable ASCII, cut to msgsz), or 0 if body is not one.
 */
int	coin_http_api_error(const char *body, size_t len, long *code,
	    char *msg, size_t msgsz);

/* Told of each price dropped: what names the coin, why says why. */
typedef void	coin_fetch_drop_fn(const char *what, const char *why,
		    void *arg);
/* Told what a long fetch is at (a page, a coin), for a progress line. */
typedef void	coin_fetch_progress_fn(const char *at, void *arg);

/* Where a fetch puts its ticks and reports what it leaves out. */
struct coin_fetch_out {
	struct coin_batch	*batch;		/* good ticks are appended */
	int64_t			 ts;		/* the batch time; now for
						   history */
	int64_t			 period;	/* the sampling period, s */
	coin_fetch_drop_fn	*drop;		/* NULL to drop quietly */
	coin_fetch_progress_fn	*progress;	/* may be NULL */
	void			*arg;		/* for drop and progress */
	size_t			 ndropped;	/* prices dropped, counted */
};

/*
 * Check that list is a comma-separated list of ids (coins, currencies
 * or exchanges): 1 to COIN_FETCH_ID_MAX bytes of lowercase letters,
 * digits, '-', '_' or '.' each, not "." or "..".  Returns 0, or
 * COIN_EUSAGE with the reason in errbuf.
 */
int	coin_fetch_list_valid(const char *list, char *errbuf);

/*
 * The prices of coins ids in currencies vs (valid lists) from one
 * /simple/price request, as ticks at out->ts.  Coins or prices missing
 * from the answer, or bad, are dropped and reported.  Returns 0 (an
 * answer that is not valid JSON counts as dropped), COIN_EUSAGE for
 * bad lists, or an error of coin_http_get() with its reason in errbuf;
 * then out->batch may hold part of the batch.
 */
int	coin_fetch_simple(struct coin_http *h, const char *ids,
	    const char *vs, struct coin_fetch_out *out, char *errbuf);

/*
 * The top coins by market cap (top of them, or all for 0) priced in
 * currency vs, from /coins/markets pages of up to COIN_FETCH_PAGE, until
 * a short page.  Coins listed twice are kept once.  Returns as
 * coin_fetch_simple().
 */
int	coin_fetch_markets(struct coin_http *h, const char *vs, size_t top,
	    struct coin_fetch_out *out, char *errbuf);

/*
 * The tickers of exchange id from /exchanges/ID/tickers pages in
 * base_target order, as pairs "ID:BASE/TARGET" priced by "last";
 * anomalous or stale tickers are left out quietly and a pair listed
 * twice is kept once.  Returns as coin_fetch_simple().
 */
int	coin_fetch_exchange(struct coin_http *h, const char *id,
	    struct coin_fetch_out *out, char *errbuf);

/*
 * The prices of coin id in vs over the secs before out->ts, from
 * /coins/ID/market_chart, as coin_fetch_parse_chart() makes them.
 * Returns as coin_fetch_simple(); an unknown coin is COIN_EREFUSED.
 */
int	coin_fetch_chart(struct coin_http *h, const char *id, const char *vs,
	    int64_t secs, struct coin_fetch_out *out, char *errbuf);

/*
 * The answer parsers.  Each appends the good ticks of body (len bytes,
 * JSON) to out->batch and reports each price it drops: null, missing,
 * zero, negative, not a number or not finite, or whose pair breaks
 * coin_pair_valid().  They return 0, COIN_EBADREC with the reason in
 * errbuf for an answer that is not valid JSON of the expected shape
 * (nothing appended), or COIN_ENOMEM.
 */

/* /simple/price: every coin of ids in every currency of vs, at out->ts. */
int	coin_fetch_parse_simple(const char *body, size_t len, const char *ids,
	    const char *vs, struct coin_fetch_out *out, char *errbuf);

/*
 * /coins/markets in currency vs, at out->ts: the first limit entries
 * (all for 0); *nentries is the number of entries in the page.
 */
int	coin_fetch_parse_markets(const char *body, size_t len, const char *vs,
	    size_t limit, size_t *nentries, struct coin_fetch_out *out,
	    char *errbuf);

/*
 * /exchanges/ID/tickers of exchange, at out->ts, without anomalous or
 * stale tickers; *nentries is the number of tickers in the page.
 */
int	coin_fetch_parse_tickers(const char *body, size_t len,
	    const char *exchange, size_t *nentries, struct coin_fetch_out *out,
	    char *errbuf);

/*
 * /coins/ID/market_chart for pair id/vs: each point [ms, price] becomes
 * a tick at ms / 1000 seconds, except the last point ("now", off the
 * grid), whose time is floored to out->period and which replaces any
 * other point of that period; of points with one time the later is
 * kept; the ticks come in time order, after since and at most a day
 * past out->ts.
 */
int	coin_fetch_parse_chart(const char *body, size_t len, const char *id,
	    const char *vs, int64_t since, struct coin_fetch_out *out,
	    char *errbuf);

/*
 * Keep only the first tick of each (pair, ts) in b, in order.  Returns
 * 0 with the number removed in *removed (may be NULL), or COIN_ENOMEM.
 */
int	coin_fetch_dedupe(struct coin_batch *b, size_t *removed);

#endif /* COIN_H */
