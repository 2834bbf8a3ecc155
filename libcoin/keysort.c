/* SPDX-License-Identifier: ISC */
/* keysort.c - records in the order of two integers and a name */
#include <stdlib.h>
#include <string.h>

#include "coin_int.h"

static int
key_cmp(const void *a, const void *b)
{
	const struct coin_sortkey *x = a, *y = b;

	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * One pass of a radix sort on byte b (0 the lowest) of lo (hi when
 * b >= 8), from k into t, stable; a pass where every key has the same
 * byte is skipped.  Returns whether it moved the keys into t.
 */
static int
pass(const struct coin_sortkey *k, struct coin_sortkey *t, size_t n, int b)
{
	size_t count[256], i, at, c;
	int sh = (b % 8) * 8;

#define BYTE(x)	((unsigned)(((b >= 8 ? (x)->hi : (x)->lo) >> sh) & 0xff))
	memset(count, 0, sizeof(count));
	for (i = 0; i < n; i++)
		count[BYTE(&k[i])]++;
	if (count[BYTE(&k[0])] == n)
		return 0;
	for (i = 0, at = 0; i < 256; i++) {
		c = count[i];
		count[i] = at;
		at += c;
	}
	for (i = 0; i < n; i++)
		t[count[BYTE(&k[i])]++] = k[i];
#undef BYTE
	return 1;
}

void
coin_sortkeys(struct coin_sortkey *k, size_t n)
{
	struct coin_sortkey *t, *from = k, *to, *swap;
	size_t i, j;
	int b;

	if (n < 2)
		return;
	/* Few, or no room for the radix sort's second array: qsort(). */
	if (n < 256 || n > SIZE_MAX / sizeof(*t) ||
	    (t = malloc(n * sizeof(*t))) == NULL) {
		qsort(k, n, sizeof(*k), key_cmp);
		return;
	}
	to = t;
	for (b = 0; b < 16; b++)
		if (pass(from, to, n, b)) {
			swap = from;
			from = to;
			to = swap;
		}
	if (from != k)
		memcpy(k, from, n * sizeof(*k));
	free(t);
	/* Equal integers: by name, each run of them (short, as a rule). */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && k[j].hi == k[i].hi &&
		    k[j].lo == k[i].lo; j++)
			continue;
		if (j - i > 1)
			qsort(k + i, j - i, sizeof(*k), key_cmp);
	}
}
