/* The EAS TimeZone blob (MS-ASDTYPE 2.7.6, digest 8.3.1): decoding,
 * encoding, UTC <-> local time by its rules, matching to an IANA zone and
 * VTIMEZONE synthesis. */
#ifndef EASD_CONV_TZ_H
#define EASD_CONV_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

#include "arena.h"

#define CONV_TZ_BLOB_SIZE 172

/* SYSTEMTIME: wYear, wMonth, wDayOfWeek, wDay, wHour, wMinute, wSecond,
 * wMilliseconds. */
struct conv_tz_date {
	uint16_t year, month, dow, day, hour, minute, second, ms;
};

struct conv_tz {
	int32_t bias; /* UTC = local + bias (minutes) */
	uint16_t std_name[32];
	struct conv_tz_date std_date;
	int32_t std_bias;
	uint16_t dst_name[32];
	struct conv_tz_date dst_date;
	int32_t dst_bias;
};

/* base64 text -> struct. Returns 0, or -1 with *error_r (bad base64, not
 * 172 bytes, a rule out of range). */
int conv_tz_decode(struct arena *a, const char *b64, size_t len,
		   struct conv_tz *tz_r, const char **error_r);
/* struct -> base64 text in the arena. */
char *conv_tz_encode(struct arena *a, const struct conv_tz *tz);

bool conv_tz_has_dst(const struct conv_tz *tz);
/* Offset from UTC in seconds (local = utc + offset) at UTC time t. */
int conv_tz_offset_at(const struct conv_tz *tz, int64_t t);
/* Local wall time (as seconds since the epoch written as if UTC) <-> UTC.
 * An ambiguous local time resolves to daylight time. */
int64_t conv_tz_utc_to_local(const struct conv_tz *tz, int64_t t);
int64_t conv_tz_local_to_utc(const struct conv_tz *tz, int64_t local);

/* The IANA name of a zone whose current rules are the blob's, or NULL. */
const char *conv_tz_match_iana(const struct conv_tz *tz);
/* A TZID for the blob: the IANA name when one matches, else a stable
 * synthetic "EAS/..." name built from the rules. */
const char *conv_tz_tzid(struct arena *a, const struct conv_tz *tz);
/* A VTIMEZONE with that TZID and yearly rules equal to the blob's. The
 * caller owns the component. */
icalcomponent *conv_tz_vtimezone(const struct conv_tz *tz, const char *tzid);
/* The blob for a libical zone, rules as in force in the year of t. */
void conv_tz_from_ical(icaltimezone *zone, int64_t t, struct conv_tz *tz_r);
/* The blob for an IANA zone name ("Europe/Berlin"), rules of the year of
 * t. Returns 0, or -1 when the name is not a zone libical knows. */
int conv_tz_from_name(const char *name, int64_t t, struct conv_tz *tz_r);
/* The server's own local zone (TZ, /etc/localtime), as the C library
 * sees it this year; computed once. */
const struct conv_tz *conv_tz_system(void);

#endif
