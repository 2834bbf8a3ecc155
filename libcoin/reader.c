/* SPDX-License-Identifier: ISC */
/* reader.c - counted, bounded line input from a file or standard input */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coin_int.h"

#define CHUNK	(64 * 1024)

struct coin_reader {
	int	 fd;
	int	 eof;
	int	 skipping;	/* inside a line that is too long */
	char	*name;
	char	*buf;
	size_t	 cap;
	size_t	 start;		/* unread data is buf[start..end) */
	size_t	 end;
	size_t	 lineno;
};

int
coin_reader_open(struct coin_reader **rp, const char *path)
{
	struct coin_reader *r;
	int stdin_ = strcmp(path, "-") == 0;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return ENOMEM;
	r->cap = CHUNK;
	if ((r->buf = malloc(r->cap)) == NULL ||
	    (r->name = strdup(stdin_ ? "stdin" : path)) == NULL) {
		free(r->buf);
		free(r);
		return ENOMEM;
	}
	if (stdin_)
		r->fd = STDIN_FILENO;
	else if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		int e = errno;

		free(r->name);
		free(r->buf);
		free(r);
		return e;
	}
	*rp = r;
	return 0;
}

void
coin_reader_close(struct coin_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd != STDIN_FILENO)
		close(r->fd);
	free(r->name);
	free(r->buf);
	free(r);
}

size_t
coin_reader_lineno(const struct coin_reader *r)
{
	return r->lineno;
}

const char *
coin_reader_name(const struct coin_reader *r)
{
	return r->name;
}

/* Read more into the buffer.  Returns 0, or an errno (EINTR included). */
static int
fill(struct coin_reader *r)
{
	ssize_t n;

	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < CHUNK) {
		size_t ncap = r->cap * 2;
		char *nbuf;

		if ((nbuf = realloc(r->buf, ncap)) == NULL)
			return ENOMEM;
		r->buf = nbuf;
		r->cap = ncap;
	}
	n = read(r->fd, r->buf + r->end, r->cap - r->end);
	if (n == -1)
		return errno;
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

/* Hand out buf[start..start+len) as a line, the terminator at stop. */
static int
emit(struct coin_reader *r, size_t len, size_t stop, const char **line,
    size_t *lenp)
{
	char *l = r->buf + r->start;

	r->start = stop;
	r->lineno++;
	if (len > 0 && l[len - 1] == '\r')
		len--;
	if (len > COIN_LINE_MAX)
		return COIN_ELONG;
	if (memchr(l, '\0', len) != NULL)
		return COIN_ENUL;
	*line = l;
	*lenp = len;
	return 1;
}

int
coin_reader_next(struct coin_reader *r, const char **line, size_t *len)
{
	char *nl;
	size_t have;
	int e;

	for (;;) {
		have = r->end - r->start;
		nl = memchr(r->buf + r->start, '\n', have);
		if (r->skipping) {
			/* Drop what is buffered of an overlong line. */
			if (nl == NULL) {
				r->start = r->end = 0;
				if (r->eof) {
					r->skipping = 0;
					r->lineno++;
					return COIN_ELONG;
				}
			} else {
				r->start = (size_t)(nl - r->buf) + 1;
				r->skipping = 0;
				r->lineno++;
				return COIN_ELONG;
			}
		} else if (nl != NULL)
			return emit(r, (size_t)(nl - (r->buf + r->start)),
			    (size_t)(nl - r->buf) + 1, line, len);
		else if (r->eof) {
			if (have == 0)
				return 0;
			return emit(r, have, r->end, line, len);
		} else if (have > COIN_LINE_MAX + 1) {
			/* One byte more than the limit may be a CR. */
			r->skipping = 1;
			continue;
		}
		if (r->eof)
			continue;
		if ((e = fill(r)) != 0)
			return e;
	}
}

int
coin_reader_ready(struct coin_reader *r, int wait_ms)
{
	struct pollfd pfd;

	if (r->eof || r->skipping ||
	    memchr(r->buf + r->start, '\n', r->end - r->start) != NULL)
		return 1;
	pfd.fd = r->fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	return poll(&pfd, 1, wait_ms) > 0;
}
