/* SPDX-License-Identifier: ISC */
/* alloc_hook.h - a counting, failing allocator for the unit tests */
#ifndef ALLOC_HOOK_H
#define ALLOC_HOOK_H

#include <stddef.h>

/*
 * The unit-test binary is linked with ld's --wrap for malloc, calloc,
 * realloc, strdup, free and newlocale, so every call that libcoin (a
 * static library) makes goes through tests/alloc_hook.c.  Allocations inside
 * shared libraries (LMDB, json-c, libc itself) are not seen.
 */

/*
 * Count allocation calls from now on and make the nth fail (none for
 * n == 0) with ENOMEM; track the blocks handed out until
 * alloc_hook_stop().
 */
void	alloc_hook_start(unsigned long n);
/* As alloc_hook_start(), failing the nth call and every one after. */
void	alloc_hook_start_from(unsigned long n);
/*
 * As alloc_hook_start(), counting (and failing) only the calls made by
 * threads other than the caller's.
 */
void	alloc_hook_start_other(unsigned long n);
/* Stop counting and failing.  Returns 1 if the nth call failed. */
int	alloc_hook_stop(void);
/* The allocation calls counted since alloc_hook_start(). */
unsigned long alloc_hook_calls(void);
/*
 * The blocks handed out since alloc_hook_start() and not freed yet, or
 * (size_t)-1 when there were too many to track.
 */
size_t	alloc_hook_live(void);

#endif /* ALLOC_HOOK_H */
