/* SPDX-License-Identifier: ISC */
/* statread.c - stat records read in order, parsed on two cores */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coin_int.h"

/*
 * The lines are read here, in chunks; every other chunk is parsed by a
 * helper thread while this one parses the one between, and the chunks
 * are taken back in input order, so that the records and the reasons
 * for the bad lines come out as a serial reading gives them.
 */
#define CHUNK_LINES	256
#define QUEUED_MAX	4	/* chunks waiting for the helper */

struct chunk {
	struct chunk		*next;		/* in input order */
	struct chunk		*qnext;		/* in the helper's queue */
	char			*text;		/* the lines, back to back */
	size_t			 tlen;
	size_t			 tcap;
	size_t			 n;
	int64_t			 now;
	int			 done;		/* parsed */
	size_t			 off[CHUNK_LINES];
	size_t			 len[CHUNK_LINES];
	size_t			 lineno[CHUNK_LINES];
	int			 rc[CHUNK_LINES];	/* the reader's, then
							   the parse's */
	char			(*why)[COIN_ERRBUF];	/* of the bad ones */
	struct coin_stat	 st[CHUNK_LINES];
};

struct statread {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 tid;
	int			 helper;	/* tid runs */
	int			 quit;
	struct chunk		*qhead, *qtail;	/* for the helper */
	size_t			 queued;
	struct chunk		*head, *tail;	/* all, in input order */
	size_t			 chunks;
	struct chunk		*pool;		/* taken back, to reuse */
};

static int64_t
wall_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (int64_t)time(NULL);
	return (int64_t)ts.tv_sec;
}

/* Parse the lines of c; a bad one keeps its reason (or ENOMEM's). */
static void
chunk_parse(struct chunk *c)
{
	char why[COIN_ERRBUF];
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (c->rc[i] == 1)
			c->rc[i] = coin_stat_parse(c->text + c->off[i],
			    c->len[i], c->now, &c->st[i], why);
		else
			snprintf(why, sizeof(why), "%s",
			    coin_strerror(c->rc[i]));
		if (c->rc[i] == 0)
			continue;
		if (c->why == NULL &&
		    (c->why = malloc(CHUNK_LINES * sizeof(*c->why))) == NULL) {
			c->rc[i] = COIN_ENOMEM;
			continue;
		}
		memcpy(c->why[i], why, sizeof(why));
	}
}

static void
chunk_free(struct chunk *c)
{
	free(c->text);
	free(c->why);
	free(c);
}

static void *
helper_main(void *arg)
{
	struct statread *r = arg;
	struct chunk *c;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		while (r->qhead == NULL && !r->quit)
			pthread_cond_wait(&r->cv, &r->mu);
		if (r->qhead == NULL)
			break;
		c = r->qhead;
		r->qhead = c->qnext;
		if (r->qhead == NULL)
			r->qtail = NULL;
		r->queued--;
		pthread_mutex_unlock(&r->mu);
		chunk_parse(c);
		pthread_mutex_lock(&r->mu);
		c->done = 1;
		pthread_cond_broadcast(&r->cv);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

/*
 * Parse c here, or hand it to the helper: every other chunk, from the
 * second (the helper starts then: one chunk's input needs no thread).
 */
static void
dispatch(struct statread *r, struct chunk *c)
{
	sigset_t all, old;

	if (r->tail != NULL)
		r->tail->next = c;
	else
		r->head = c;
	r->tail = c;
	if (r->chunks++ % 2 == 1) {
		if (!r->helper) {
			(void)coin_c_locale();	/* made once, not by two */
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &old);
			r->helper = pthread_create(&r->tid, NULL, helper_main,
			    r) == 0;
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
		if (r->helper) {
			pthread_mutex_lock(&r->mu);
			while (r->queued >= QUEUED_MAX)
				pthread_cond_wait(&r->cv, &r->mu);
			if (r->qtail != NULL)
				r->qtail->qnext = c;
			else
				r->qhead = c;
			r->qtail = c;
			r->queued++;
			pthread_cond_broadcast(&r->cv);
			pthread_mutex_unlock(&r->mu);
			return;
		}
	}
	chunk_parse(c);
	pthread_mutex_lock(&r->mu);
	c->done = 1;
	pthread_mutex_unlock(&r->mu);
}

/*
 * Take back the parsed chunks at the head, in order (wait: all of
 * them, waiting for the helper): their records onto the array, their
 * bad lines to bad().  Returns 0, COIN_EBADREC when strict stopped at
 * a bad line, or COIN_ENOMEM.
 */
static int
retire(struct statread *r, int wait, int strict, const char *name,
    coin_badline_fn *bad, void *arg, struct coin_stat **out, size_t *n,
    size_t *cap)
{
	struct chunk *c;
	size_t i;
	int done;

	while ((c = r->head) != NULL) {
		pthread_mutex_lock(&r->mu);
		while (wait && !c->done)
			pthread_cond_wait(&r->cv, &r->mu);
		done = c->done;
		pthread_mutex_unlock(&r->mu);
		if (!done)
			return 0;
		for (i = 0; i < c->n; i++) {
			if (c->rc[i] == COIN_ENOMEM)
				return COIN_ENOMEM;
			if (c->rc[i] != 0) {
				bad(name, c->lineno[i], c->why[i], arg);
				if (strict)
					return COIN_EBADREC;
				continue;
			}
			if (*n == *cap) {
				size_t ncap = *cap ? 2 * *cap : 1024;
				struct coin_stat *no;

				if (ncap > SIZE_MAX / sizeof(*no) ||
				    (no = realloc(*out, ncap * sizeof(*no))) ==
				    NULL)
					return COIN_ENOMEM;
				*out = no;
				*cap = ncap;
			}
			(*out)[(*n)++] = c->st[i];
		}
		r->head = c->next;
		if (r->head == NULL)
			r->tail = NULL;
		/* Its pages in use already: no faults for the next one. */
		c->next = r->pool;
		r->pool = c;
	}
	return 0;
}

/* Add the line (or a reader's reason for one) to the chunk *cp. */
static int
chunk_add(struct statread *r, struct chunk **cp, int rc, const char *line,
    size_t len, size_t lineno)
{
	struct chunk *c = *cp;
	size_t i;

	if (c == NULL) {
		if ((c = r->pool) != NULL)
			r->pool = c->next;
		else if ((c = malloc(sizeof(*c))) != NULL) {
			c->text = NULL;
			c->tcap = 0;
			c->why = NULL;
		} else
			return COIN_ENOMEM;
		c->next = c->qnext = NULL;
		c->tlen = c->n = 0;
		c->done = 0;
		c->now = wall_now();
		*cp = c;
	}
	if (rc != 1)
		len = 0;
	if (c->tcap - c->tlen < len) {
		size_t ncap = c->tcap ? c->tcap : 16384;
		char *nt;

		/* Lines of 1 MiB at most (COIN_ELONG), 256 of them. */
		while (ncap - c->tlen < len)
			ncap *= 2;
		if ((nt = realloc(c->text, ncap)) == NULL)
			return COIN_ENOMEM;
		c->text = nt;
		c->tcap = ncap;
	}
	i = c->n++;
	c->rc[i] = rc;
	c->off[i] = c->tlen;
	c->len[i] = len;
	c->lineno[i] = lineno;
	if (len > 0)
		memcpy(c->text + c->tlen, line, len);
	c->tlen += len;
	return 0;
}

int
coin_stats_read(struct coin_reader *rd, int strict, coin_badline_fn *bad,
    void *arg, struct coin_stat **out, size_t *n, size_t *cap)
{
	struct statread r;
	struct chunk *cur = NULL, *c;
	const char *line, *name = coin_reader_name(rd);
	size_t len;
	int rc, e = 0, ioerr = 0;

	memset(&r, 0, sizeof(r));
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	while ((rc = coin_reader_next(rd, &line, &len)) != 0) {
		if (rc == EINTR)
			continue;
		if (rc != 1 && rc != COIN_ELONG && rc != COIN_ENUL) {
			ioerr = rc;
			break;
		}
		if (rc == 1 && coin_line_blank(line, len))
			continue;
		if ((e = chunk_add(&r, &cur, rc, line, len,
		    coin_reader_lineno(rd))) != 0)
			break;
		if (cur->n < CHUNK_LINES)
			continue;
		dispatch(&r, cur);
		cur = NULL;
		if ((e = retire(&r, 0, strict, name, bad, arg, out, n,
		    cap)) != 0)
			break;
	}
	if (cur != NULL) {
		if (e == 0)
			dispatch(&r, cur);
		else
			chunk_free(cur);
	}
	if (e == 0)
		e = retire(&r, 1, strict, name, bad, arg, out, n, cap);
	if (r.helper) {
		pthread_mutex_lock(&r.mu);
		r.quit = 1;
		pthread_cond_broadcast(&r.cv);
		pthread_mutex_unlock(&r.mu);
		pthread_join(r.tid, NULL);
	}
	while ((c = r.head) != NULL) {
		r.head = c->next;
		chunk_free(c);
	}
	while ((c = r.pool) != NULL) {
		r.pool = c->next;
		chunk_free(c);
	}
	pthread_cond_destroy(&r.cv);
	pthread_mutex_destroy(&r.mu);
	return e != 0 ? e : ioerr;
}

/* Room for one more record at t->buf + t->len: 0 or COIN_ENOMEM. */
static int
text_room(struct coin_text *t)
{
	size_t ncap;
	char *nb;

	if (t->cap - t->len >= COIN_RECBUF)
		return 0;
	ncap = t->cap ? 2 * t->cap : 256 * COIN_RECBUF;
	if (ncap < t->cap || (nb = realloc(t->buf, ncap)) == NULL)
		return COIN_ENOMEM;
	t->buf = nb;
	t->cap = ncap;
	return 0;
}

int
coin_stats_text(const struct coin_stat *st, size_t n, struct coin_text *t)
{
	size_t i;
	int rc;

	t->len = 0;
	for (i = 0; i < n; i++) {
		if (st[i].n == 0)
			continue;
		if ((rc = text_room(t)) != 0)
			return rc;
		t->len += coin_stat_format(&st[i], t->buf + t->len);
	}
	return 0;
}

/* One half of the rank records, formatted into a text of its own. */
struct ranks_half {
	const struct coin_stat *const *st;
	size_t			 from;
	size_t			 to;
	size_t			 n;		/* of all of st[] */
	struct coin_text	 t;
	int			 rc;
};

/*
 * The records of st[from, to): each ranked among those of its ts, the
 * run of st[] it is in (which may begin before from, and end after to).
 */
static void *
ranks_half_main(void *arg)
{
	struct ranks_half *h = arg;
	const struct coin_stat *const *st = h->st;
	size_t i, start, end;

	if (h->from >= h->to)
		return NULL;
	for (start = h->from; start > 0 && st[start - 1]->ts ==
	    st[h->from]->ts; start--)
		continue;
	for (end = h->from; end < h->n && st[end]->ts == st[start]->ts; end++)
		continue;
	for (i = h->from; i < h->to; i++) {
		if (i == end)
			for (start = i; end < h->n && st[end]->ts == st[i]->ts;
			    end++)
				continue;
		if ((h->rc = text_room(&h->t)) != 0)
			return NULL;
		h->t.len += coin_rank_format(i - start + 1, end - start, st[i],
		    h->t.buf + h->t.len);
	}
	return NULL;
}

int
coin_ranks_write(const struct coin_stat *const *st, size_t n,
    coin_out_fn *out, void *arg)
{
	struct ranks_half h[2];
	sigset_t all, old;
	pthread_t tid;
	int two = 0, rc;

	memset(h, 0, sizeof(h));
	h[0].st = h[1].st = st;
	h[0].n = h[1].n = n;
	h[0].to = n;
	if (n >= 2 * CHUNK_LINES) {
		h[0].to = h[1].from = n / 2;
		h[1].to = n;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		two = pthread_create(&tid, NULL, ranks_half_main, &h[1]) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!two)
			h[0].to = n;
	}
	ranks_half_main(&h[0]);
	if (two)
		pthread_join(tid, NULL);
	/* Both formatted before either goes out: no half a ranking. */
	if ((rc = h[0].rc) == 0)
		rc = h[1].rc;
	if (rc == 0 && h[0].t.len > 0)
		rc = out(h[0].t.buf, h[0].t.len, arg);
	if (rc == 0 && h[1].t.len > 0)
		rc = out(h[1].t.buf, h[1].t.len, arg);
	free(h[0].t.buf);
	free(h[1].t.buf);
	return rc;
}
