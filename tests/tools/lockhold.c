/* SPDX-License-Identifier: ISC */
/* lockhold.c - play an LMDB opener that dies while making the lock file */
/*
 * usage: lockhold LOCKFILE MILLISECONDS [SIZE]
 *
 * Creates LOCKFILE empty (or SIZE bytes of zeros, as if cut short after
 * its size was set), takes the write lock on its first byte as an LMDB
 * opener does before it initialises the file, prints "held", then
 * waits and exits without initialising it: whoever waited on the lock
 * meanwhile finds a lock file that no one made.
 */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct flock fl;
	struct timespec ts;
	long ms;
	int fd;

	if ((argc != 3 && argc != 4) ||
	    (ms = strtol(argv[2], NULL, 10)) <= 0)
		errx(64, "usage: lockhold LOCKFILE MILLISECONDS [SIZE]");
	if ((fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600)) == -1)
		err(1, "%s", argv[1]);
	if (argc == 4 && ftruncate(fd, strtol(argv[3], NULL, 10)) == -1)
		err(1, "%s: size", argv[1]);
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 1;
	if (fcntl(fd, F_SETLKW, &fl) == -1)
		err(1, "%s: lock", argv[1]);
	printf("held\n");
	fflush(stdout);
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = ms % 1000 * 1000000L;
	nanosleep(&ts, NULL);
	return 0;
}
