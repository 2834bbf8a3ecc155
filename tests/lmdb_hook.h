/* SPDX-License-Identifier: ISC */
/* lmdb_hook.h - LMDB commits, map growth and readers that fail on demand */
#ifndef LMDB_HOOK_H
#define LMDB_HOOK_H

/*
 * The unit-test binary is linked with ld's --wrap for mdb_txn_commit,
 * mdb_env_set_mapsize and mdb_txn_begin, so the calls that libcoin (and
 * the tests) make go through tests/lmdb_hook.c; LMDB's calls of its own
 * do not.  Unarmed, the hooks only count.
 */

#define LMDB_HOOK_EVER	(~0UL)

/*
 * Let after commits through, then make the next n (LMDB_HOOK_EVER:
 * all) abort their transaction and return MDB_MAP_FULL, as LMDB's own
 * commit does when the pages it needs for the databases' new roots or
 * the free list lie beyond the map.  Resets all the counts.
 */
void	lmdb_hook_commit_full(unsigned long after, unsigned long n);
/*
 * Let n calls of mdb_env_set_mapsize() through, then fail the others
 * with ENOMEM without touching the environment.
 */
void	lmdb_hook_grow_fail(unsigned long n);
/*
 * Make the next read-only mdb_txn_begin(), from any thread, return err
 * (MDB_READERS_FULL, say) without beginning anything; 0 disarms.
 */
void	lmdb_hook_reader_fail(int err);
/* Read-only begins made to fail so far. */
unsigned long lmdb_hook_readers_failed(void);
/* Disarm the hooks; the counts stay. */
void	lmdb_hook_stop(void);
/* Commit calls since the last arming, and those that gave MDB_MAP_FULL. */
unsigned long lmdb_hook_commits(void);
unsigned long lmdb_hook_commits_full(void);
/* Of those, the ones made to fail by the hook. */
unsigned long lmdb_hook_commits_failed(void);
/* The calls of mdb_env_set_mapsize() since then that went through. */
unsigned long lmdb_hook_grows(void);

#endif /* LMDB_HOOK_H */
