/* SPDX-License-Identifier: ISC */
/* fuzz_reader.c - libFuzzer harness of counted, bounded line input */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coin_int.h"

/*
 * The input's first byte sets the size of the writes that feed the rest
 * through a pipe, so lines arrive cut at every place.  "\x01\x7f" and a
 * byte k stand for a run of COIN_LINE_MAX - 2 + k % 5 bytes (twice at
 * most): lines around the limit.  What the reader hands out is compared
 * with a plain split of the same bytes: the lines, their numbers, the
 * CRs dropped, the overlong and NUL lines reported and consumed.
 */

#define READER_RUNS	2

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct reader_feed {
	int		 fd;
	const char	*data;
	size_t		 len;
	size_t		 chunk;
};

static void *
reader_writer(void *arg)
{
	struct reader_feed *f = arg;
	size_t off = 0, n;
	ssize_t w;

	while (off < f->len) {
		n = f->len - off;
		/* A run goes in one write, the rest in chunks. */
		if (n > f->chunk && f->len < 65536)
			n = f->chunk;
		if ((w = write(f->fd, f->data + off, n)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

/* Expand the runs; returns the bytes to feed, to free, or NULL. */
static char *
reader_expand(const uint8_t *data, size_t size, size_t *len)
{
	size_t i, n = 0, runs = 0, rl;
	char *out;

	for (i = 0; i < size; i++)
		if (i + 2 < size && data[i] == 0x01 && data[i + 1] == 0x7f &&
		    runs < READER_RUNS) {
			n += COIN_LINE_MAX - 2 + data[i + 2] % 5;
			runs++;
			i += 2;
		} else
			n++;
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0, n = 0, runs = 0; i < size; i++)
		if (i + 2 < size && data[i] == 0x01 && data[i + 1] == 0x7f &&
		    runs < READER_RUNS) {
			rl = COIN_LINE_MAX - 2 + data[i + 2] % 5;
			memset(out + n, 'x', rl);
			n += rl;
			runs++;
			i += 2;
		} else
			out[n++] = (char)data[i];
	*len = n;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader_feed f;
	struct coin_reader *r;
	pthread_t th;
	char path[64], *buf;
	const char *line, *p, *end, *nl;
	size_t len, n, want, lineno = 0;
	int fds[2], rc;

	if (size == 0)
		return 0;
	if ((buf = reader_expand(data + 1, size - 1, &len)) == NULL)
		return 0;
	if (pipe(fds) == -1)
		abort();
	f.fd = fds[1];
	f.data = buf;
	f.len = len;
	f.chunk = 1 + data[0] % 64;
	snprintf(path, sizeof(path), "/dev/fd/%d", fds[0]);
	if ((rc = coin_reader_open(&r, path)) != 0)
		abort();
	close(fds[0]);
	if (pthread_create(&th, NULL, reader_writer, &f) != 0)
		abort();
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		want = (size_t)(nl - p);
		if (want > 0 && p[want - 1] == '\r')
			want--;
		/* A signal (libFuzzer's timer) may interrupt a read. */
		while ((rc = coin_reader_next(r, &line, &n)) == EINTR)
			continue;
		lineno++;
		if (coin_reader_lineno(r) != lineno)
			abort();
		if (want > COIN_LINE_MAX) {
			if (rc != COIN_ELONG)
				abort();
		} else if (memchr(p, '\0', want) != NULL) {
			if (rc != COIN_ENUL)
				abort();
		} else if (rc != 1 || n != want || memcmp(line, p, n) != 0)
			abort();
	}
	while ((rc = coin_reader_next(r, &line, &n)) == EINTR)
		continue;
	if (rc != 0 || coin_reader_next(r, &line, &n) != 0 ||
	    coin_reader_lineno(r) != lineno || coin_reader_ready(r, 0) != 1)
		abort();
	coin_reader_close(r);
	pthread_join(th, NULL);
	free(buf);
	return 0;
}
