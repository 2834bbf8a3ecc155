/* SPDX-License-Identifier: ISC */
/* check_main.h - the suites of the libcoin unit tests */
#ifndef CHECK_MAIN_H
#define CHECK_MAIN_H

#include <check.h>

Suite	*ndjson_suite(void);
Suite	*reader_suite(void);
Suite	*timefmt_suite(void);
Suite	*store_suite(void);
Suite	*stats_suite(void);
Suite	*fetch_suite(void);
Suite	*alloc_suite(void);
/* Suites of later modules are declared here too. */

#endif /* CHECK_MAIN_H */
