/* SPDX-License-Identifier: ISC */
/* check_main.c - run every libcoin unit suite */
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "coin_int.h"

void
scratch_make(char *dir, size_t sz, const char *name)
{
	snprintf(dir, sz, "/tmp/%s.XXXXXX", name);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

void
scratch_remove(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Put k -> v (dup 0), delete k (v NULL), or delete its duplicate v. */
static void
raw_op(const char *db, const char *dbname, const void *k, size_t klen,
    const void *v, size_t vlen, int dup)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { klen, (void *)(uintptr_t)k };
	MDB_val val = { vlen, (void *)(uintptr_t)v };

	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 10), 0);
	ck_assert_int_eq(mdb_env_open(env, db, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, dbname, MDB_CREATE, &dbi), 0);
	if (dup)
		ck_assert_int_eq(mdb_del(txn, dbi, &key, &val), 0);
	else if (v == NULL)
		ck_assert_int_eq(mdb_del(txn, dbi, &key, NULL), 0);
	else
		ck_assert_int_eq(mdb_put(txn, dbi, &key, &val, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

void
raw_put(const char *db, const char *dbname, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	raw_op(db, dbname, k, klen, v, vlen, 0);
}

void
raw_del_dup(const char *db, const char *dbname, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	raw_op(db, dbname, k, klen, v, vlen, 1);
}

void
raw_old_ticks(const char *db)
{
	unsigned char kb[COIN_TICKKEY_MAX];
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi series, ticks;
	MDB_cursor *c;
	MDB_val k, v, ok, ov;

	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 10), 0);
	ck_assert_int_eq(mdb_env_open(env, db, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "series", 0, &series), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "ticks", MDB_CREATE, &ticks), 0);
	ck_assert_int_eq(mdb_cursor_open(txn, series, &c), 0);
	while (mdb_cursor_get(c, &k, &v, MDB_NEXT) == 0) {
		ck_assert_uint_eq(v.mv_size, 16);
		memcpy(kb, k.mv_data, k.mv_size);
		kb[k.mv_size] = '\0';
		memcpy(kb + k.mv_size + 1, v.mv_data, 8);
		ok.mv_data = kb;
		ok.mv_size = k.mv_size + 9;
		ov.mv_data = (unsigned char *)v.mv_data + 8;
		ov.mv_size = 8;
		ck_assert_int_eq(mdb_put(txn, ticks, &ok, &ov, 0), 0);
	}
	mdb_cursor_close(c);
	ck_assert_int_eq(mdb_drop(txn, series, 1), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

size_t
raw_get(const char *db, const char *dbname, const void *k, size_t klen,
    void *v, size_t cap)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val key = { klen, (void *)(uintptr_t)k }, val;
	int rc;

	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 10), 0);
	ck_assert_int_eq(mdb_env_open(env, db, MDB_RDONLY, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, dbname, 0, &dbi), 0);
	if ((rc = mdb_get(txn, dbi, &key, &val)) == MDB_NOTFOUND)
		val.mv_size = 0;
	else {
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_le(val.mv_size, cap);
		memcpy(v, val.mv_data, val.mv_size);
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return val.mv_size;
}

int
raw_has(const char *db, const char *dbname)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	int rc;

	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 10), 0);
	ck_assert_int_eq(mdb_env_open(env, db, MDB_RDONLY, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	rc = mdb_dbi_open(txn, dbname, 0, &dbi);
	ck_assert(rc == 0 || rc == MDB_NOTFOUND);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc == 0;
}

void
no_fault(const char *what, void *arg)
{
	(void)arg;
	ck_abort_msg("unexpected fault: %s", what);
}

void
count_fault(const char *what, void *arg)
{
	(void)what;
	(*(int *)arg)++;
}

int
main(void)
{
	Suite *(*suites[])(void) = {
		ndjson_suite, reader_suite, timefmt_suite, store_suite,
		stats_suite,
		fetch_suite, alloc_suite, stage_suite,
	};
	SRunner *sr;
	size_t i;
	int failed;

	sr = srunner_create(suites[0]());
	for (i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
		srunner_add_suite(sr, suites[i]());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
