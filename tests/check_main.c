/* SPDX-License-Identifier: ISC */
/* check_main.c - run every libcoin unit suite */
#include <stdio.h>
#include <stdlib.h>

#include "check_main.h"

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
