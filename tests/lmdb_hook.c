/* SPDX-License-Identifier: ISC */
/* lmdb_hook.c - LMDB commits, map growth and readers that fail on demand */
#include <errno.h>
#include <lmdb.h>
#include <stdatomic.h>
#include <stddef.h>

#include "lmdb_hook.h"

/*
 * ld --wrap=mdb_txn_commit sends the calls of the objects it links to
 * __wrap_mdb_txn_commit, and __real_mdb_txn_commit to LMDB's; so for
 * mdb_env_set_mapsize.
 */

int	__real_mdb_txn_commit(MDB_txn *);
int	__real_mdb_env_set_mapsize(MDB_env *, size_t);
int	__real_mdb_txn_begin(MDB_env *, MDB_txn *, unsigned int, MDB_txn **);
int	__wrap_mdb_txn_commit(MDB_txn *);
int	__wrap_mdb_env_set_mapsize(MDB_env *, size_t);
int	__wrap_mdb_txn_begin(MDB_env *, MDB_txn *, unsigned int, MDB_txn **);

static int		 commit_armed;
static unsigned long	 commit_after;
static unsigned long	 commit_fail;
static unsigned long	 commits;
static unsigned long	 commits_full;
static unsigned long	 commits_failed;
static int		 grow_armed;
static unsigned long	 grows_left;
static unsigned long	 grows;
/* A reader may begin on another thread: these two are atomic. */
static atomic_int	 reader_err;
static atomic_ulong	 readers_failed;

void
lmdb_hook_commit_full(unsigned long after, unsigned long n)
{
	commit_after = after;
	commit_fail = n;
	commits = commits_full = commits_failed = grows = 0;
	commit_armed = 1;
}

void
lmdb_hook_grow_fail(unsigned long n)
{
	grows_left = n;
	grow_armed = 1;
}

void
lmdb_hook_reader_fail(int err)
{
	atomic_store(&reader_err, err);
}

unsigned long
lmdb_hook_readers_failed(void)
{
	return atomic_load(&readers_failed);
}

void
lmdb_hook_stop(void)
{
	commit_armed = grow_armed = 0;
	atomic_store(&reader_err, 0);
}

unsigned long
lmdb_hook_commits(void)
{
	return commits;
}

unsigned long
lmdb_hook_commits_full(void)
{
	return commits_full;
}

unsigned long
lmdb_hook_commits_failed(void)
{
	return commits_failed;
}

unsigned long
lmdb_hook_grows(void)
{
	return grows;
}

int
__wrap_mdb_txn_commit(MDB_txn *txn)
{
	int rc;

	commits++;
	if (commit_armed && commits > commit_after &&
	    (commit_fail == LMDB_HOOK_EVER ||
	    commits - commit_after <= commit_fail)) {
		/* What LMDB does when the map is full: abort, then say so. */
		mdb_txn_abort(txn);
		commits_failed++;
		rc = MDB_MAP_FULL;
	} else
		rc = __real_mdb_txn_commit(txn);
	if (rc == MDB_MAP_FULL)
		commits_full++;
	return rc;
}

int
__wrap_mdb_env_set_mapsize(MDB_env *env, size_t size)
{
	int rc;

	if (grow_armed) {
		if (grows_left == 0)
			return ENOMEM;
		grows_left--;
	}
	if ((rc = __real_mdb_env_set_mapsize(env, size)) == 0)
		grows++;
	return rc;
}

int
__wrap_mdb_txn_begin(MDB_env *env, MDB_txn *parent, unsigned int flags,
    MDB_txn **txn)
{
	int err;

	if ((flags & MDB_RDONLY) && (err = atomic_exchange(&reader_err,
	    0)) != 0) {
		atomic_fetch_add(&readers_failed, 1);
		return err;
	}
	return __real_mdb_txn_begin(env, parent, flags, txn);
}

