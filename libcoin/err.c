/* SPDX-License-Identifier: ISC */
/* err.c - error names, exit statuses and the "C" locale */
#include <lmdb.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "coin_int.h"

const char *
coin_strerror(int e)
{
	switch (e) {
	case 0:
		return "success";
	case COIN_EBADREC:
		return "bad record";
	case COIN_ELONG:
		return "line longer than 1 MiB";
	case COIN_ENUL:
		return "NUL byte in line";
	case COIN_ESCHEMA:
		return "store has an unknown schema version";
	case COIN_EUPGRADE:
		return "store of an older schema: the next coinstore or "
		    "coinstddev run upgrades it";
	case COIN_ECORRUPT:
		return "store is corrupt";
	case COIN_ENOSTORE:
		return "no store here";
	case COIN_ECREATE:
		return "store could not be created";
	case COIN_ENOMEM:
		return "out of memory";
	case COIN_EUSAGE:
		return "bad argument";
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_TXN:
	case MDB_VERSION_MISMATCH:
		return "store is corrupt";
	case COIN_EREFUSED:
		return "the API refused the request";
	case COIN_ETRYLATER:
		return "the API kept failing; try again later";
	}
	if (e >= MDB_KEYEXIST && e <= MDB_LAST_ERRCODE)
		return mdb_strerror(e);
	if (e > 0)
		return strerror(e);
	return "unknown error";
}

int
coin_exit_status(int e)
{
	switch (e) {
	case 0:
		return 0;
	case COIN_EBADREC:
	case COIN_ELONG:
	case COIN_ENUL:
		return EX_DATAERR;
	case COIN_ENOSTORE:
		return EX_NOINPUT;
	case COIN_ECREATE:
		return EX_CANTCREAT;
	case COIN_EUSAGE:
		return EX_USAGE;
	case COIN_ENOMEM:
		return EX_SOFTWARE;
	case COIN_EREFUSED:
		return EX_UNAVAILABLE;
	case COIN_ETRYLATER:
		return EX_TEMPFAIL;
	}
	return EX_IOERR;
}

locale_t
coin_c_locale(void)
{
	static locale_t c;

	if (c == (locale_t)0)
		c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	return c;
}

int
coin_reason(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (errbuf != NULL) {
		va_start(ap, fmt);
		vsnprintf(errbuf, COIN_ERRBUF, fmt, ap);
		va_end(ap);
	}
	return COIN_EBADREC;
}
