/* SPDX-License-Identifier: ISC */
/* replay_main.c - run a libFuzzer harness over files, without libFuzzer */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Each argument is a file, given to LLVMFuzzerTestOneInput() in a
 * buffer of exactly its size (so that a sanitizer sees any read past
 * it), or a directory whose files are given in turn.  Built alone with
 * one harness this is its main(); tests/tools/fuzzreplay.c includes it
 * with REPLAY_MULTI to serve every harness from one program.
 */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
replay_file(const char *path, size_t *count)
{
	FILE *f;
	uint8_t *buf;
	size_t n;
	long size;

	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		perror(path);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	/* One byte more than needed for an empty file, none read. */
	if ((buf = malloc(size > 0 ? (size_t)size : 1)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, (size_t)size, f);
	fclose(f);
	if (n != (size_t)size) {
		fprintf(stderr, "%s: short read\n", path);
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	(*count)++;
	return 0;
}

static int
replay_path(const char *path, size_t *count)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char sub[4096];
	int bad = 0;

	if (stat(path, &st) == -1) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path, count);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    (int)sizeof(sub) || replay_file(sub, count) != 0)
			bad = -1;
	}
	closedir(d);
	return bad;
}

/* Replay every path of argv[0..argc); returns an exit status. */
static int
replay_files(int argc, char *argv[])
{
	size_t count = 0;
	int i, bad = 0;

	for (i = 0; i < argc; i++)
		if (replay_path(argv[i], &count) != 0)
			bad = 1;
	fprintf(stderr, "replayed %zu inputs\n", count);
	return bad ? EXIT_FAILURE : EXIT_SUCCESS;
}

#ifndef REPLAY_MULTI
int
main(int argc, char *argv[])
{
	return replay_files(argc - 1, argv + 1);
}
#endif
