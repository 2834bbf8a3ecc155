/* SPDX-License-Identifier: ISC */
/* alloc_hook.c - a counting, failing allocator for the unit tests */
#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_hook.h"

/*
 * ld --wrap=malloc sends the calls of the objects it links to
 * __wrap_malloc, and __real_malloc to the real one; so for calloc,
 * realloc, strdup, free and newlocale.  Blocks handed out
 * while armed are kept in a small open-addressed set, so that a test
 * can tell that an operation freed all it took, whatever the outcome.
 * One lock covers the counts and the set: libcoin allocates on a
 * second thread too (the second half of a big batch).
 */

void	*__real_malloc(size_t);
void	*__real_calloc(size_t, size_t);
void	*__real_realloc(void *, size_t);
char	*__real_strdup(const char *);
void	 __real_free(void *);
locale_t __real_newlocale(int, const char *, locale_t);
void	*__wrap_malloc(size_t);
void	*__wrap_calloc(size_t, size_t);
void	*__wrap_realloc(void *, size_t);
char	*__wrap_strdup(const char *);
void	 __wrap_free(void *);
locale_t __wrap_newlocale(int, const char *, locale_t);

#define SLOTS	(1 << 16)		/* a power of 2 */
#define GONE	((void *)(uintptr_t)1)	/* a freed slot */

static int		 armed;
static int		 sticky;	/* fail every call from fail_at on */
static unsigned long	 calls;
static unsigned long	 fail_at;
static int		 failed;
static size_t		 live;
static int		 overflow;
static void		*slots[SLOTS];
static int		 others;	/* count other threads' calls only */
static pthread_t	 owner;		/* the thread that armed the hook */
static pthread_mutex_t	 mu = PTHREAD_MUTEX_INITIALIZER;

static size_t
slot_of(const void *p)
{
	return (size_t)(((uintptr_t)p >> 4) * 2654435761u) & (SLOTS - 1);
}

static void
track(void *p)
{
	size_t i, n;

	if (p == NULL)
		return;
	for (i = slot_of(p), n = 0; n < SLOTS; i = (i + 1) & (SLOTS - 1), n++)
		if (slots[i] == NULL || slots[i] == GONE) {
			slots[i] = p;
			live++;
			return;
		}
	overflow = 1;
}

/* Forget p if it is tracked. */
static void
untrack(void *p)
{
	size_t i, n;

	if (p == NULL || live == 0)
		return;
	for (i = slot_of(p), n = 0; n < SLOTS && slots[i] != NULL;
	    i = (i + 1) & (SLOTS - 1), n++)
		if (slots[i] == p) {
			slots[i] = GONE;
			live--;
			return;
		}
}

/* Count one allocation call; nonzero when it is the one to fail. */
static int
fail_now(void)
{
	if (!armed || (others && pthread_equal(pthread_self(), owner)))
		return 0;
	if (++calls != fail_at && !(sticky && fail_at != 0 &&
	    calls > fail_at))
		return 0;
	failed = 1;
	errno = ENOMEM;
	return 1;
}

void
alloc_hook_start(unsigned long n)
{
	pthread_mutex_lock(&mu);
	others = 0;
	sticky = 0;
	memset(slots, 0, sizeof(slots));
	live = 0;
	overflow = 0;
	calls = 0;
	failed = 0;
	fail_at = n;
	armed = 1;
	pthread_mutex_unlock(&mu);
}

void
alloc_hook_start_from(unsigned long n)
{
	alloc_hook_start(n);
	pthread_mutex_lock(&mu);
	sticky = 1;
	pthread_mutex_unlock(&mu);
}

void
alloc_hook_start_other(unsigned long n)
{
	alloc_hook_start(n);
	pthread_mutex_lock(&mu);
	owner = pthread_self();
	others = 1;
	pthread_mutex_unlock(&mu);
}

int
alloc_hook_stop(void)
{
	int f;

	pthread_mutex_lock(&mu);
	armed = 0;
	f = failed;
	pthread_mutex_unlock(&mu);
	return f;
}

unsigned long
alloc_hook_calls(void)
{
	return calls;
}

size_t
alloc_hook_live(void)
{
	return overflow ? (size_t)-1 : live;
}

void *
__wrap_malloc(size_t n)
{
	void *p = NULL;

	pthread_mutex_lock(&mu);
	if (!fail_now()) {
		p = __real_malloc(n);
		if (armed)
			track(p);
	}
	pthread_mutex_unlock(&mu);
	return p;
}

void *
__wrap_calloc(size_t n, size_t size)
{
	void *p = NULL;

	pthread_mutex_lock(&mu);
	if (!fail_now()) {
		p = __real_calloc(n, size);
		if (armed)
			track(p);
	}
	pthread_mutex_unlock(&mu);
	return p;
}

void *
__wrap_realloc(void *old, size_t n)
{
	void *p = NULL;

	pthread_mutex_lock(&mu);
	if (fail_now())
		;		/* old stays as it was */
	else if ((p = __real_realloc(old, n)) == NULL) {
		if (n == 0)
			untrack(old);	/* freed */
	} else {
		untrack(old);
		if (armed)
			track(p);
	}
	pthread_mutex_unlock(&mu);
	return p;
}

char *
__wrap_strdup(const char *s)
{
	char *p = NULL;

	pthread_mutex_lock(&mu);
	if (!fail_now()) {
		p = __real_strdup(s);
		if (armed)
			track(p);
	}
	pthread_mutex_unlock(&mu);
	return p;
}

void
__wrap_free(void *p)
{
	pthread_mutex_lock(&mu);
	untrack(p);
	__real_free(p);
	pthread_mutex_unlock(&mu);
}

/* newlocale() allocates too: the "C" locale of coin_c_locale(). */
locale_t
__wrap_newlocale(int mask, const char *name, locale_t base)
{
	int fail;

	pthread_mutex_lock(&mu);
	fail = fail_now();
	pthread_mutex_unlock(&mu);
	if (fail)
		return (locale_t)0;
	return __real_newlocale(mask, name, base);
}
