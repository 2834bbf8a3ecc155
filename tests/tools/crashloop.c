/* SPDX-License-Identifier: ISC */
/* crashloop.c - kill -9 a writer at random points, then prove the store */
/*
 * usage: crashloop [-s] [-n ITERATIONS] [-p PAIRS] [-r SEED] BINDIR DB
 *
 * Each iteration starts BINDIR/coinstore on the store DB (with -s, the
 * pipeline coinstore | coinstddev, and kill -9 lands on coinstddev),
 * feeds it batches of ticks (all pairs at one ts, one write each, with
 * short pauses, sometimes a batch sent again), reads what it echoes,
 * and kills it -9 at a random moment.  Then, through libcoin, the store
 * must open, pass coin_store_check(), hold every tick (or stat) echoed
 * before the kill, and hold each batch whole or not at all; the next
 * iteration is the "next run", which must work without repair.  A new
 * store is started every 100 iterations so that checks stay quick.
 * Every fifth iteration of coinstore also takes a --backup while it
 * writes: the copy must pass the same checks and hold every tick echoed
 * before the backup began.  With -p 1200 (40 pairs unless told), each
 * merge of the stage takes three chunks, and a kill may cut it short:
 * the count of stores left with a merge under way is printed.
 * Prints one line of counts; exits 0 when every iteration held.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coin_int.h"

#define BATCHES	64	/* at most, per iteration */

static int pairs = 40;
static int cut_short;		/* stores left with a merge under way */

static uint64_t seed = 88172645463325252ULL;
static int stddev_too;
static const char *bindir;

static uint64_t
rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start argv with stdin from in and stdout to out; returns its pid. */
static pid_t
start(char *const argv[], int in, int out, const char *db)
{
	pid_t pid;

	if ((pid = fork()) == -1)
		err(71, "fork");
	if (pid == 0) {
		setenv("COIN_DB", db, 1);
		if (dup2(in, 0) == -1 || dup2(out, 1) == -1)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

/* Echoed lines, kept whole only: the kill may cut the last. */
struct echo {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

static void
drain(int fd, struct echo *e, int wait_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	ssize_t n;

	while (poll(&p, 1, wait_ms) > 0) {
		if (e->len + 65536 > e->cap) {
			e->cap = e->cap ? 2 * e->cap : 1 << 20;
			if ((e->buf = realloc(e->buf, e->cap)) == NULL)
				err(71, "realloc");
		}
		if ((n = read(fd, e->buf + e->len, e->cap - e->len)) <= 0)
			break;
		e->len += (size_t)n;
		wait_ms = 0;
	}
}

/*
 * Write buf[0..n) to fd (non-blocking) while draining the echo from out
 * into e: a batch larger than a pipe would otherwise block both ends,
 * the writer echoing, this writing.  -1 when fd fails.
 */
static int
feed(int fd, const char *buf, size_t n, int out, struct echo *e)
{
	struct pollfd p[2] = { { fd, POLLOUT, 0 }, { out, POLLIN, 0 } };
	ssize_t w;

	while (n > 0) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -1;
		if (p[1].revents & (POLLIN | POLLHUP))
			drain(out, e, 0);
		if (!(p[0].revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		if ((w = write(fd, buf, n)) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fails;
static long verified;
static int backups;

/* coinstore --backup of db into dir, while the writer goes on. */
static void
backup(const char *db, const char *dir, int iter)
{
	char prog[512];
	char *argv[] = { prog, "--db", (char *)(uintptr_t)db, "--backup",
	    (char *)(uintptr_t)dir, NULL };
	int status;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/coinstore", bindir);
	if ((pid = fork()) == -1)
		err(71, "fork");
	if (pid == 0) {
		execv(prog, argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		warnx("iteration %d: backup failed (%d)", iter, status);
		fails++;
	}
}

static void
fault(const char *what, void *arg)
{
	(void)arg;
	warnx("check: %s", what);
}

struct count {
	int64_t	 ts;
	int	 n;
};

static int
count_tick(const struct coin_tick *t, void *arg)
{
	struct count *c = arg;

	if (t->ts == c->ts)
		c->n++;
	return 0;
}

static int
find_tick(const struct coin_tick *t, void *arg)
{
	return t->price == *(double *)arg ? 1 : 0;
}

/* Everything echoed is there, and every batch sent is whole or absent. */
static void
verify(const char *db, struct echo *e, const int64_t *sent, int nsent,
    int iter)
{
	struct coin_store *s;
	struct coin_storeinfo info;
	struct coin_tick t;
	struct coin_stat st;
	char why[COIN_ERRBUF], *p, *nl;
	uint64_t rank;
	int rc, i;

	if ((rc = coin_store_open(&s, db, COIN_STORE_RDONLY)) != 0) {
		if (rc == COIN_ENOSTORE && e->len == 0)
			return;		/* killed before creating it */
		warnx("iteration %d: open: %s", iter, coin_strerror(rc));
		fails++;
		return;
	}
	if ((rc = coin_store_check(s, fault, NULL, &info)) != 0) {
		warnx("iteration %d: check: %s", iter, coin_strerror(rc));
		fails++;
	}
	{
		struct coin_merging m;
		MDB_txn *txn;

		if (coin_store_txn(s, MDB_RDONLY, &txn) == 0) {
			if (coin_stage_merging(s, txn, &m) == 0 && m.ts != 0)
				cut_short++;
			mdb_txn_abort(txn);
		}
	}
	for (p = e->buf; p != NULL && (nl = memchr(p, '\n',
	    (size_t)(e->buf + e->len - p))) != NULL; p = nl + 1) {
		verified++;
		if (stddev_too) {
			if (coin_stat_parse(p, (size_t)(nl - p), INT64_MAX / 2,
			    &st, why) != 0 || coin_store_stat_rank(s, st.pair,
			    st.ts, &st, &rank) != 0) {
				warnx("iteration %d: echoed stat missing: "
				    "%.*s", iter, (int)(nl - p), p);
				fails++;
			}
			continue;
		}
		if (coin_tick_parse(p, (size_t)(nl - p), INT64_MAX / 2, &t,
		    why) != 0 || coin_store_ticks(s, t.pair, t.ts, t.ts, 0,
		    find_tick, &t.price) != 1) {
			warnx("iteration %d: echoed tick missing: %.*s", iter,
			    (int)(nl - p), p);
			fails++;
		}
	}
	for (i = 0; i < nsent; i++) {
		struct count c = { sent[i], 0 };

		if (coin_store_ticks(s, NULL, sent[i], sent[i], 0, count_tick,
		    &c) != 0 || (c.n != 0 && c.n != pairs)) {
			warnx("iteration %d: batch %lld torn: %d of %d ticks",
			    iter, (long long)sent[i], c.n, pairs);
			fails++;
		}
	}
	coin_store_close(s);
}

static int
iteration(const char *db, int iter, int64_t *ts)
{
	char store[512], stddev[512], *buf;
	char *sargv[] = { store, NULL }, *dargv[] = { stddev, NULL };
	int in[2], mid[2], out[2], i, b, nsent = 0, status;
	int64_t sent[BATCHES], deadline;
	size_t bklen = (size_t)-1;
	char bk[600];
	pid_t ps, pd = -1, victim;
	struct echo e = { NULL, 0, 0 };
	size_t n = 0, bufsz = (size_t)pairs * 128;

	if ((buf = malloc(bufsz)) == NULL)
		err(71, "malloc");
	snprintf(store, sizeof(store), "%s/coinstore", bindir);
	snprintf(bk, sizeof(bk), "%s.backup", db);
	snprintf(stddev, sizeof(stddev), "%s/coinstddev", bindir);
	if (pipe(in) == -1 || pipe(out) == -1 || pipe(mid) == -1)
		err(71, "pipe");
	/* Each child keeps only its own ends, or EOF never comes. */
	for (i = 0; i < 2; i++) {
		fcntl(in[i], F_SETFD, FD_CLOEXEC);
		fcntl(mid[i], F_SETFD, FD_CLOEXEC);
		fcntl(out[i], F_SETFD, FD_CLOEXEC);
	}
	if (stddev_too) {
		ps = start(sargv, in[0], mid[1], db);
		pd = start(dargv, mid[0], out[1], db);
	} else
		ps = start(sargv, in[0], out[1], db);
	close(in[0]);
	close(mid[0]);
	close(mid[1]);
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	victim = stddev_too ? pd : ps;
	/* Pauses longer than coinstore's 20 ms grace end transactions. */
	deadline = now_ms() + (int64_t)(rnd() % 90);
	for (b = 0; b < BATCHES && now_ms() < deadline; b++) {
		/*
		 * Now and then the same batch again, as a rerun would send
		 * it: its ticks replace themselves.
		 */
		int64_t bt = b > 0 && rnd() % 8 == 0 ? sent[b - 1] :
		    (*ts += 60);

		if (b == 0 || bt != sent[b - 1])
			for (i = 0, n = 0; i < pairs; i++)
				n += (size_t)snprintf(buf + n, bufsz - n,
				    "{\"pair\":\"p%04d/usd\",\"ts\":%lld,"
				    "\"price\":%d.%02d}\n", i, (long long)bt,
				    1 + (int)(rnd() % 1000),
				    (int)(rnd() % 100));
		if (feed(in[1], buf, n, out[0], &e) != 0)
			break;
		sent[nsent++] = bt;
		drain(out[0], &e, rnd() % 2 ? 0 : 22 + (int)(rnd() % 10));
		/* Once something is echoed, the store is there to copy. */
		if (!stddev_too && iter % 5 == 0 && bklen == (size_t)-1 &&
		    e.len > 0 && rnd() % 4 == 0) {
			/* What was echoed so far, whole lines only. */
			for (bklen = e.len; bklen > 0 &&
			    e.buf[bklen - 1] != '\n'; bklen--)
				continue;
			backup(db, bk, iter);
		}
	}
	drain(out[0], &e, (int)(rnd() % 10));
	kill(victim, SIGKILL);
	close(in[1]);
	waitpid(victim, &status, 0);
	if (stddev_too) {
		/* The writer upstream finishes its input and ends. */
		waitpid(ps, &status, 0);
		if (!WIFEXITED(status) || (WEXITSTATUS(status) != 0 &&
		    WEXITSTATUS(status) != 141)) {
			warnx("iteration %d: coinstore ended with %d", iter,
			    status);
			fails++;
		}
	}
	fcntl(out[0], F_SETFL, 0);
	drain(out[0], &e, 0);
	close(out[0]);
	/* Only whole lines count: cut a partial last one. */
	while (e.len > 0 && e.buf[e.len - 1] != '\n')
		e.len--;
	verify(db, &e, sent, stddev_too ? 0 : nsent, iter);
	if (bklen != (size_t)-1) {
		struct echo before = { e.buf, bklen, e.cap };

		verify(bk, &before, sent, nsent, iter);
		backups++;
		snprintf(buf, bufsz, "rm -rf '%s'", bk);
		if (system(buf) != 0)
			warnx("iteration %d: cannot remove %s", iter, bk);
	}
	free(e.buf);
	free(buf);
	return 0;
}

int
main(int argc, char *argv[])
{
	char db[512];
	int ch, i, iterations = 1000;
	int64_t ts;

	while ((ch = getopt(argc, argv, "n:p:r:s")) != -1) {
		switch (ch) {
		case 'n':
			iterations = (int)strtol(optarg, NULL, 10);
			break;
		case 'p':
			pairs = (int)strtol(optarg, NULL, 10);
			if (pairs < 1 || pairs > 9999)
				errx(64, "-p: 1 to 9999 pairs");
			break;
		case 'r':
			seed = strtoull(optarg, NULL, 10) | 1;
			break;
		case 's':
			stddev_too = 1;
			break;
		default:
			errx(64, "usage: crashloop [-s] [-n N] [-p PAIRS] "
			    "[-r SEED] BINDIR DB");
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		errx(64, "usage: crashloop [-s] [-n N] [-p PAIRS] [-r SEED] "
		    "BINDIR DB");
	bindir = argv[0];
	signal(SIGPIPE, SIG_IGN);
	ts = time(NULL) / 60 * 60 - 30 * 86400;
	for (i = 0; i < iterations; i++) {
		snprintf(db, sizeof(db), "%s/%d", argv[1], i / 100);
		if (stddev_too && i % 100 == 0) {
			/* coinstddev needs stored ticks to start from. */
			ts += 3600;
		}
		iteration(db, i, &ts);
	}
	printf("crashloop%s: %d iterations, %d pairs, %ld echoed records "
	    "verified, %d backups taken while writing, %d left a merge under "
	    "way, %d failures\n", stddev_too ? " (coinstddev)" : "",
	    iterations, pairs, verified, backups, cut_short, fails);
	return fails != 0;
}
