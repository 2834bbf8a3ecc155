/* SPDX-License-Identifier: ISC */
/* jsoncparse.c - parse NDJSON with json-c alone: the benchmark's baseline */
/*
 * usage: jsoncparse [FILE ...]
 *
 * Reads the files in order ("-" or none: standard input), parses each
 * line with json_tokener_parse() and frees the object, as a bare
 * parser does before anything is done with a record.  Prints the
 * number of lines and of those that did not parse, and exits 65 if any
 * did not.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK	(1 << 20)

struct count {
	unsigned long long lines;
	unsigned long long bad;
};

static void
parse_line(char *line, struct count *c)
{
	json_object *o;

	c->lines++;
	if ((o = json_tokener_parse(line)) == NULL)
		c->bad++;
	else
		json_object_put(o);
}

/* Read fd in large chunks; each LF becomes the NUL that ends a line. */
static void
parse_fd(int fd, const char *name, struct count *c)
{
	static char *buf;
	static size_t cap;
	size_t len = 0, start, i;
	ssize_t n;
	char *nl;

	if (buf == NULL) {
		cap = 2 * CHUNK;
		if ((buf = malloc(cap + 1)) == NULL)
			err(71, "malloc");
	}
	for (;;) {
		if (cap - len < CHUNK) {
			char *nb;

			if ((nb = realloc(buf, 2 * cap + 1)) == NULL)
				err(71, "realloc");
			buf = nb;
			cap *= 2;
		}
		if ((n = read(fd, buf + len, cap - len)) == -1) {
			if (errno == EINTR)
				continue;
			err(74, "%s", name);
		}
		if (n == 0)
			break;
		i = len;
		len += (size_t)n;
		start = 0;
		while ((nl = memchr(buf + i, '\n', len - i)) != NULL) {
			*nl = '\0';
			parse_line(buf + start, c);
			start = i = (size_t)(nl - buf) + 1;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	if (len > 0) {
		buf[len] = '\0';
		parse_line(buf, c);
	}
}

int
main(int argc, char *argv[])
{
	struct count c = { 0, 0 };
	int i, fd;

	if (argc < 2)
		parse_fd(0, "stdin", &c);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0) {
			parse_fd(0, "stdin", &c);
			continue;
		}
		if ((fd = open(argv[i], O_RDONLY)) == -1)
			err(66, "%s", argv[i]);
		parse_fd(fd, argv[i], &c);
		close(fd);
	}
	printf("{\"lines\":%llu,\"bad\":%llu}\n", c.lines, c.bad);
	return c.bad > 0 ? 65 : 0;
}
