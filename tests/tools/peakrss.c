/* SPDX-License-Identifier: ISC */
/* peakrss.c - run a command; write the peak of its anonymous memory */
/*
 * usage: peakrss FILE COMMAND [ARG ...]
 * The peak of RssAnon (KiB), sampled every 2 ms from /proc, goes to
 * FILE: the memory a process holds beyond its mapped files, such as
 * the store's map.  Exits with the command's status.
 */
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long
rss_anon(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "RssAnon:", 8) == 0)
			kb = strtol(line + 8, NULL, 10);
	fclose(f);
	return kb;
}

int
main(int argc, char *argv[])
{
	struct timespec tick = { 0, 2000000 };
	long peak = 0, kb;
	pid_t pid;
	int status;
	FILE *out;

	if (argc < 3)
		errx(64, "usage: peakrss FILE COMMAND [ARG ...]");
	if ((pid = fork()) == -1)
		err(71, "fork");
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		err(127, "%s", argv[2]);
	}
	for (;;) {
		if ((kb = rss_anon(pid)) > peak)
			peak = kb;
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		nanosleep(&tick, NULL);
	}
	if ((out = fopen(argv[1], "w")) == NULL)
		err(73, "%s", argv[1]);
	fprintf(out, "%ld\n", peak);
	fclose(out);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
