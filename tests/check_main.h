/* SPDX-License-Identifier: ISC */
/* check_main.h - the suites of the libcoin unit tests */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <stddef.h>

#include <check.h>

/* Make a fresh scratch directory named after name into dir (sz bytes). */
void	scratch_make(char *dir, size_t sz, const char *name);
/* Remove a scratch directory and all it holds. */
void	scratch_remove(const char *dir);
/*
 * Put k -> v into database dbname of the store at db by hand, behind
 * libcoin's back (v NULL: delete k), in a transaction of its own.
 */
void	raw_put(const char *db, const char *dbname, const void *k,
	    size_t klen, const void *v, size_t vlen);
/* Delete the one duplicate v of key k in dbname (a sorted duplicate). */
void	raw_del_dup(const char *db, const char *dbname, const void *k,
	    size_t klen, const void *v, size_t vlen);
/*
 * The ticks of the store at db laid out as schema 5 and before had them
 * (ticks: pair NUL be64 ts -> price), by hand: for the upgrade tests.
 */
void	raw_old_ticks(const char *db);
/* Copy k's value in database dbname of the store at db into v (cap
 * bytes at most); returns its length, 0 when k is not there. */
size_t	raw_get(const char *db, const char *dbname, const void *k,
	    size_t klen, void *v, size_t cap);
/* Does the store at db hold a database named dbname? */
int	raw_has(const char *db, const char *dbname);
/* Fault callbacks of coin_store_check(): fail the test, or count. */
void	no_fault(const char *what, void *arg);
void	count_fault(const char *what, void *arg);

Suite	*ndjson_suite(void);
Suite	*reader_suite(void);
Suite	*timefmt_suite(void);
Suite	*store_suite(void);
Suite	*stats_suite(void);
Suite	*fetch_suite(void);
Suite	*alloc_suite(void);
Suite	*stage_suite(void);
/* Suites of later modules are declared here too. */

#endif /* CHECK_MAIN_H */
