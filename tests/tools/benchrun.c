/* SPDX-License-Identifier: ISC */
/* benchrun.c - run a command once; write its wall and CPU time and RSS */
/*
 * usage: benchrun RESULT [-o OUT] COMMAND [ARG ...]
 *
 * Forks COMMAND from this small process (so that its peak RSS does not
 * start at that of whatever started us, as it would after a vfork from
 * a large interpreter), with standard output to OUT if given, waits
 * for it, and writes one line to RESULT:
 *   WALL USER SYS MAXRSS STATUS
 * seconds from just before the fork to just after the wait (monotonic
 * clock), the user and system CPU seconds of the command and of every
 * process it waited for, in microseconds, the largest
 * peak RSS among them in KiB, and the exit status (128 + the signal
 * when killed).  Exits with that status.  GNU time measures the same,
 * but prints hundredths of a second, too coarse for commands of a few
 * milliseconds.
 */
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
tv(struct timeval t)
{
	return (double)t.tv_sec + (double)t.tv_usec / 1e6;
}

int
main(int argc, char *argv[])
{
	struct rusage ru;
	const char *out = NULL;
	double t0, t1;
	pid_t pid;
	FILE *f;
	int status, code, fd, i = 2;

	if (argc < 3)
		errx(64, "usage: benchrun RESULT [-o OUT] COMMAND [ARG ...]");
	if (strcmp(argv[i], "-o") == 0) {
		if (argc < 5)
			errx(64, "usage: benchrun RESULT [-o OUT] COMMAND");
		out = argv[i + 1];
		i += 2;
	}
	t0 = mono();
	if ((pid = fork()) == -1)
		err(71, "fork");
	if (pid == 0) {
		if (out != NULL) {
			fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			if (fd == -1)
				err(73, "%s", out);
			if (dup2(fd, 1) == -1)
				err(71, "dup2");
			close(fd);
		}
		execvp(argv[i], argv + i);
		err(127, "%s", argv[i]);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			err(71, "waitpid");
	t1 = mono();
	/* The only child: its usage, and that of all it waited for. */
	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		err(71, "getrusage");
	code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) :
	    WEXITSTATUS(status);
	if ((f = fopen(argv[1], "w")) == NULL)
		err(73, "%s", argv[1]);
	fprintf(f, "%.6f %.6f %.6f %ld %d\n", t1 - t0, tv(ru.ru_utime),
	    tv(ru.ru_stime), ru.ru_maxrss, code);
	if (fclose(f) != 0)
		err(74, "%s", argv[1]);
	return code;
}
