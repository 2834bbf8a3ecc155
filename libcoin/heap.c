/* SPDX-License-Identifier: ISC */
/* heap.c - the process heap on huge pages, where the system has them */
#define _DEFAULT_SOURCE		/* sbrk(), madvise(), mallopt() */
#include <stdint.h>
#include <stdlib.h>

#include "coin_int.h"

/*
 * Why.  The minute's coinstddev and coinrank each touch a few megabytes
 * of fresh memory once (the records, their text, LMDB's dirty pages)
 * and exit.  On a virtual machine whose host backs the guest's memory
 * lazily, a first touch of a 4 KiB page costs 11 to 14 us (measured on
 * the project's machine: a 4 MiB buffer in 11 ms); on a 2 MiB huge
 * page it costs 0.3 us a 4 KiB page.  That was a third of the minute's
 * time at 10,000 pairs.
 *
 * How.  glibc's malloc is asked to keep everything in the one main
 * heap (one arena for all threads, no separate maps for large blocks,
 * no trimming) and to grow that heap HEAP_PAD at a time; the padded
 * heap is then advised MADV_HUGEPAGE, so that the kernel backs it with
 * huge pages as it is touched, if transparent huge pages are on in
 * "madvise" or "always" mode.  The heap is advised only when sbrk()
 * shows that malloc grew it as asked: under a sanitizer's or a
 * debugger's allocator it is not, and with another C library this is
 * a no-op.  Without THP the advice does nothing, and the heap is one
 * arena on small pages.
 */
#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#define HEAP_PAD	(32u << 20)	/* the heap grows this much at once */
#define HUGE_PAGE	((uintptr_t)2 << 20)
#define CHUNK_HDR	16		/* glibc's, on 64-bit systems */

static void *volatile below;	/* the heap below its first huge page */

void
coin_heap_huge(void)
{
	uintptr_t lo, hi, from, gap;
	char *p;

	if (mallopt(M_ARENA_MAX, 1) != 1 ||
	    mallopt(M_MMAP_THRESHOLD, 256 << 20) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, 512 << 20) != 1 ||
	    mallopt(M_TOP_PAD, (int)HEAP_PAD) != 1)
		return;
	/*
	 * A block bigger than the heap's free top makes malloc grow the
	 * heap by it and the pad: from the block on, the heap is new.
	 */
	lo = (uintptr_t)sbrk(0);
	if ((p = malloc(HEAP_PAD)) == NULL)
		return;
	hi = (uintptr_t)sbrk(0);
	from = ((uintptr_t)p + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
	if (hi <= lo || (uintptr_t)p >= hi || hi - (uintptr_t)p <= HEAP_PAD ||
	    from >= hi) {
		free(p);
		return;
	}
#if defined(MADV_HUGEPAGE)
	(void)madvise((void *)from, hi - from, MADV_HUGEPAGE);
#endif
	free(p);
	/*
	 * What the heap hands out next starts at p, below the first huge
	 * page: up to 2 MiB on small pages, where a command's first
	 * megabytes would go.  A block that reaches up to COIN_HEAP_SMALL
	 * below that boundary is taken and kept (its pages are never
	 * touched, so they cost no memory): then the first COIN_HEAP_SMALL
	 * handed out are on small pages and the rest on huge ones.  Its
	 * size: a chunk's header is 16 bytes, and from - p a multiple of 16.
	 */
	gap = from - (uintptr_t)p;
	if (gap > COIN_HEAP_SMALL + 2 * CHUNK_HDR)
		below = malloc(gap - COIN_HEAP_SMALL - CHUNK_HDR);
}
#else
void
coin_heap_huge(void)
{
}
#endif
