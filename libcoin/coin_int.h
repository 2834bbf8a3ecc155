/* SPDX-License-Identifier: ISC */
/* coin_int.h - declarations shared by libcoin's modules and its tests */
#ifndef COIN_INT_H
#define COIN_INT_H

#include <locale.h>
#include <stdarg.h>

#include "coin.h"

/* The "C" locale, made once; NULL if it cannot be made. */
locale_t	coin_c_locale(void);

/* Format a reason into errbuf (COIN_ERRBUF bytes) when it is not NULL. */
int	coin_reason(char *errbuf, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t	coin_days_from_civil(int64_t y, unsigned m, unsigned d);

/* Key codecs of the store, exposed for the unit tests. */
#define COIN_TICKKEY_MAX	(COIN_PAIR_MAX + 1 + 8)
#define COIN_STATKEY_MAX	(8 + 8 + COIN_PAIR_MAX)

size_t	coin_tickkey_encode(const char *pair, int64_t ts, unsigned char *k);
int	coin_tickkey_decode(const unsigned char *k, size_t len, char *pair,
	    int64_t *ts);
size_t	coin_statkey_encode(int64_t ts, double stddev, const char *pair,
	    unsigned char *k);
int	coin_statkey_decode(const unsigned char *k, size_t len, int64_t *ts,
	    double *stddev, char *pair);
void	coin_be64_put(unsigned char *p, uint64_t v);
uint64_t coin_be64_get(const unsigned char *p);

#endif /* COIN_INT_H */
