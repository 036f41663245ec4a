/* The EAS TimeZone blob (MS-ASDTYPE 2.7.6): 172 little-endian bytes with a
 * bias and two yearly SYSTEMTIME rules. Times are converted with the
 * blob's own rules (what the device itself uses); zones are matched to
 * IANA names by rules, never by the free-text names. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conv-int.h"
#include "conv-tz.h"
#include "ical.h"
#include "util.h"

static uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int32_t
rd32(const uint8_t *p)
{
	return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 |
			 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
}

static void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
wr32(uint8_t *p, int32_t v)
{
	uint32_t u = (uint32_t)v;

	p[0] = (uint8_t)u;
	p[1] = (uint8_t)(u >> 8);
	p[2] = (uint8_t)(u >> 16);
	p[3] = (uint8_t)(u >> 24);
}

static void
rd_date(const uint8_t *p, struct conv_tz_date *d)
{
	d->year = rd16(p);
	d->month = rd16(p + 2);
	d->dow = rd16(p + 4);
	d->day = rd16(p + 6);
	d->hour = rd16(p + 8);
	d->minute = rd16(p + 10);
	d->second = rd16(p + 12);
	d->ms = rd16(p + 14);
}

static void
wr_date(uint8_t *p, const struct conv_tz_date *d)
{
	wr16(p, d->year);
	wr16(p + 2, d->month);
	wr16(p + 4, d->dow);
	wr16(p + 6, d->day);
	wr16(p + 8, d->hour);
	wr16(p + 10, d->minute);
	wr16(p + 12, d->second);
	wr16(p + 14, d->ms);
}

static bool
date_ok(const struct conv_tz_date *d)
{
	if (d->month == 0)
		return true;
	if (d->month > 12 || d->dow > 6 || d->hour > 23 || d->minute > 59 ||
	    d->second > 59)
		return false;
	return d->year != 0 ? d->day >= 1 && d->day <= 31
			    : d->day >= 1 && d->day <= 5;
}

int
conv_tz_decode(struct arena *a, const char *b64, size_t len,
	       struct conv_tz *tz_r, const char **error_r)
{
	uint8_t *raw = arena_alloc(a, base64_decoded_max(len) + 1);
	long n = base64_decode(b64, len, raw);

	if (n < 0)
		return conv_fail(a, error_r, "TimeZone: invalid base64");
	if (n != CONV_TZ_BLOB_SIZE)
		return conv_fail(a, error_r, "TimeZone: %ld bytes, expected %d",
				 n, CONV_TZ_BLOB_SIZE);
	memset(tz_r, 0, sizeof(*tz_r));
	tz_r->bias = rd32(raw);
	for (int i = 0; i < 32; i++) {
		tz_r->std_name[i] = rd16(raw + 4 + 2 * i);
		tz_r->dst_name[i] = rd16(raw + 88 + 2 * i);
	}
	rd_date(raw + 68, &tz_r->std_date);
	tz_r->std_bias = rd32(raw + 84);
	rd_date(raw + 152, &tz_r->dst_date);
	tz_r->dst_bias = rd32(raw + 168);
	if (tz_r->bias < -24 * 60 || tz_r->bias > 24 * 60 ||
	    tz_r->std_bias < -24 * 60 || tz_r->std_bias > 24 * 60 ||
	    tz_r->dst_bias < -24 * 60 || tz_r->dst_bias > 24 * 60 ||
	    !date_ok(&tz_r->std_date) || !date_ok(&tz_r->dst_date))
		return conv_fail(a, error_r, "TimeZone: rule out of range");
	return 0;
}

char *
conv_tz_encode(struct arena *a, const struct conv_tz *tz)
{
	uint8_t raw[CONV_TZ_BLOB_SIZE];
	char *out = arena_alloc(a, base64_encoded_len(sizeof(raw)) + 1);

	memset(raw, 0, sizeof(raw));
	wr32(raw, tz->bias);
	for (int i = 0; i < 32; i++) {
		wr16(raw + 4 + 2 * i, tz->std_name[i]);
		wr16(raw + 88 + 2 * i, tz->dst_name[i]);
	}
	wr_date(raw + 68, &tz->std_date);
	wr32(raw + 84, tz->std_bias);
	wr_date(raw + 152, &tz->dst_date);
	wr32(raw + 168, tz->dst_bias);
	base64_encode(raw, sizeof(raw), out);
	return out;
}

bool
conv_tz_has_dst(const struct conv_tz *tz)
{
	return tz->std_date.month != 0 && tz->dst_date.month != 0;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int64_t
year_of(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	return (int64_t)tm.tm_year + 1900;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

/* The local wall time (seconds, written as if UTC) at which a rule fires
 * in year y. */
static int64_t
rule_local(const struct conv_tz_date *d, int64_t y)
{
	unsigned day = d->day;

	if (d->year == 0) {
		int64_t first = days_from_civil(y, d->month, 1);
		/* 1970-01-01 was a Thursday (4). */
		unsigned wd = (unsigned)(((first % 7) + 7 + 4) % 7);

		day = 1 + (d->dow + 7 - wd) % 7 + (d->day - 1) * 7;
		while (day > days_in_month(y, d->month))
			day -= 7;
	} else if (day > days_in_month(y, d->month)) {
		day = days_in_month(y, d->month);
	}
	return days_from_civil(y, d->month, day) * 86400 + d->hour * 3600 +
	       d->minute * 60 + d->second;
}

static bool
in_dst(const struct conv_tz *tz, int64_t t)
{
	int64_t y, start, end;

	if (!conv_tz_has_dst(tz))
		return false;
	y = year_of(t - (int64_t)tz->bias * 60);
	start = rule_local(&tz->dst_date, y) +
		(int64_t)(tz->bias + tz->std_bias) * 60;
	end = rule_local(&tz->std_date, y) +
	      (int64_t)(tz->bias + tz->dst_bias) * 60;
	if (start < end)
		return t >= start && t < end;
	return !(t >= end && t < start);
}

int
conv_tz_offset_at(const struct conv_tz *tz, int64_t t)
{
	return -(tz->bias + (in_dst(tz, t) ? tz->dst_bias : tz->std_bias)) * 60;
}

int64_t
conv_tz_utc_to_local(const struct conv_tz *tz, int64_t t)
{
	return t + conv_tz_offset_at(tz, t);
}

int64_t
conv_tz_local_to_utc(const struct conv_tz *tz, int64_t local)
{
	int64_t t_dst = local + (int64_t)(tz->bias + tz->dst_bias) * 60;
	int64_t t_std = local + (int64_t)(tz->bias + tz->std_bias) * 60;

	if (conv_tz_has_dst(tz) && in_dst(tz, t_dst))
		return t_dst;
	return t_std;
}

/* Current rules of common zones as Windows and the phones write them:
 * bias, then (month, weekday, week, hour, minute) of the switch to
 * standard and to daylight time, and the daylight bias. */
static const struct iana_rule {
	const char *name;
	int bias;
	uint16_t sm, sdow, sw, sh, smin;
	uint16_t dm, ddow, dw, dh, dmin;
	int dst_bias;
} iana_rules[] = {
	{"UTC", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Europe/London", 0, 10, 0, 5, 2, 0, 3, 0, 5, 1, 0, -60},
	{"Europe/Berlin", -60, 10, 0, 5, 3, 0, 3, 0, 5, 2, 0, -60},
	{"Europe/Helsinki", -120, 10, 0, 5, 4, 0, 3, 0, 5, 3, 0, -60},
	{"Africa/Lagos", -60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Africa/Johannesburg", -120, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Europe/Moscow", -180, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Dubai", -240, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Karachi", -300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Kolkata", -330, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Dhaka", -360, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Bangkok", -420, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Shanghai", -480, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Asia/Tokyo", -540, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Australia/Brisbane", -600, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"Australia/Sydney", -600, 4, 0, 1, 3, 0, 10, 0, 1, 2, 0, -60},
	{"Australia/Adelaide", -570, 4, 0, 1, 3, 0, 10, 0, 1, 2, 0, -60},
	{"Pacific/Auckland", -720, 4, 0, 1, 3, 0, 9, 0, 5, 2, 0, -60},
	{"America/Sao_Paulo", 180, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"America/St_Johns", 210, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"America/Halifax", 240, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"America/New_York", 300, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"America/Bogota", 300, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"America/Chicago", 360, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"America/Mexico_City", 360, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"America/Denver", 420, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"America/Phoenix", 420, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"America/Los_Angeles", 480, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"America/Anchorage", 540, 11, 0, 1, 2, 0, 3, 0, 2, 2, 0, -60},
	{"Pacific/Honolulu", 600, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
};

static bool
rule_eq(const struct conv_tz_date *d, uint16_t m, uint16_t dow, uint16_t w,
	uint16_t h, uint16_t min)
{
	return d->year == 0 && d->month == m && d->dow == dow && d->day == w &&
	       d->hour == h && d->minute == min && d->second == 0;
}

const char *
conv_tz_match_iana(const struct conv_tz *tz)
{
	bool dst = conv_tz_has_dst(tz);

	for (size_t i = 0; i < N_ELEMENTS(iana_rules); i++) {
		const struct iana_rule *r = &iana_rules[i];

		if (r->bias != tz->bias || (r->sm != 0) != dst)
			continue;
		if (!dst) {
			if (tz->std_bias == 0)
				return r->name;
			continue;
		}
		if (tz->std_bias == 0 && tz->dst_bias == r->dst_bias &&
		    rule_eq(&tz->std_date, r->sm, r->sdow, r->sw, r->sh,
			    r->smin) &&
		    rule_eq(&tz->dst_date, r->dm, r->ddow, r->dw, r->dh,
			    r->dmin))
			return r->name;
	}
	return NULL;
}

const char *
conv_tz_tzid(struct arena *a, const struct conv_tz *tz)
{
	const char *iana = conv_tz_match_iana(tz);
	const struct conv_tz_date *s = &tz->std_date, *d = &tz->dst_date;

	if (iana != NULL)
		return iana;
	if (!conv_tz_has_dst(tz))
		return arena_printf(a, "EAS/%d/%d", tz->bias, tz->std_bias);
	return arena_printf(a,
			    "EAS/%d/%d/%u-%u-%u-%u-%u-%u/%d/%u-%u-%u-%u-%u-%u",
			    tz->bias, tz->std_bias, s->year, s->month, s->dow,
			    s->day, s->hour, s->minute, tz->dst_bias, d->year,
			    d->month, d->dow, d->day, d->hour, d->minute);
}

static void
fmt_offset(char *out, size_t n, int minutes)
{
	int m = minutes < 0 ? -minutes : minutes;

	snprintf(out, n, "%c%02d%02d", minutes < 0 ? '-' : '+', m / 60, m % 60);
}

static void
sub_rule(struct buf *b, const char *kind, const struct conv_tz_date *d,
	 int from_min, int to_min)
{
	static const char *const days[7] = {"SU", "MO", "TU", "WE",
					    "TH", "FR", "SA"};
	char from[16], to[16], start[32];
	time_t t = (time_t)rule_local(d, 1970);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(start, sizeof(start), "%Y%m%dT%H%M%S", &tm);
	fmt_offset(from, sizeof(from), from_min);
	fmt_offset(to, sizeof(to), to_min);
	buf_printf(b,
		   "BEGIN:%s\r\nDTSTART:%s\r\nTZOFFSETFROM:%s\r\n"
		   "TZOFFSETTO:%s\r\n",
		   kind, start, from, to);
	if (d->year == 0)
		buf_printf(b, "RRULE:FREQ=YEARLY;BYMONTH=%u;BYDAY=%d%s\r\n",
			   d->month, d->day == 5 ? -1 : (int)d->day,
			   days[d->dow]);
	buf_printf(b, "END:%s\r\n", kind);
}

icalcomponent *
conv_tz_vtimezone(const struct conv_tz *tz, const char *tzid)
{
	struct buf b;
	icalcomponent *c;
	int std = -(tz->bias + tz->std_bias), dst = -(tz->bias + tz->dst_bias);
	char off[16];

	buf_init(&b, 0);
	buf_puts(&b, "BEGIN:VTIMEZONE\r\nTZID:");
	buf_puts(&b, tzid);
	buf_puts(&b, "\r\n");
	if (conv_tz_has_dst(tz)) {
		sub_rule(&b, "STANDARD", &tz->std_date, dst, std);
		sub_rule(&b, "DAYLIGHT", &tz->dst_date, std, dst);
	} else {
		fmt_offset(off, sizeof(off), std);
		buf_printf(&b,
			   "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
			   "TZOFFSETFROM:%s\r\nTZOFFSETTO:%s\r\n"
			   "END:STANDARD\r\n",
			   off, off);
	}
	buf_puts(&b, "END:VTIMEZONE\r\n");
	c = icalcomponent_new_from_string((const char *)b.data);
	buf_deinit(&b);
	eas_assert(c != NULL);
	return c;
}

static int
ical_offset(icaltimezone *zone, int64_t t)
{
	struct icaltimetype tt = icaltime_from_timet_with_zone(
		(time_t)t, 0, icaltimezone_get_utc_timezone());
	int is_dst = 0;

	return icaltimezone_get_utc_offset_of_utc_time(zone, &tt, &is_dst);
}

/* The rule that fires at UTC instant t, seen in local time with the
 * offset in force before it. */
static void
rule_of(int64_t t, int before, struct conv_tz_date *d)
{
	time_t lt = (time_t)(t + before);
	struct tm tm;
	unsigned dim;

	gmtime_r(&lt, &tm);
	memset(d, 0, sizeof(*d));
	d->month = (uint16_t)(tm.tm_mon + 1);
	d->dow = (uint16_t)tm.tm_wday;
	d->day = (uint16_t)((tm.tm_mday - 1) / 7 + 1);
	dim = days_in_month(tm.tm_year + 1900, d->month);
	if ((unsigned)tm.tm_mday + 7 > dim)
		d->day = 5;
	d->hour = (uint16_t)tm.tm_hour;
	d->minute = (uint16_t)tm.tm_min;
}

typedef int offset_fn(void *ctx, int64_t t);

static int
ical_offset_cb(void *ctx, int64_t t)
{
	return ical_offset(ctx, t);
}

/* Rules of the year of t from a function that gives the UTC offset (in
 * seconds) at each instant: the two switches, found by day and bisected
 * to the second. */
static void
tz_from_offsets(offset_fn *offset_at, void *ctx, int64_t t, const char *name,
		struct conv_tz *tz_r)
{
	int64_t y = year_of(t),
		start = days_from_civil(y, 1, 1) * 86400 + 43200;
	int prev = offset_at(ctx, start), std = prev, dst = prev;
	int64_t trans[2] = {0, 0};
	int before[2] = {0, 0}, ntrans = 0;

	memset(tz_r, 0, sizeof(*tz_r));
	for (int day = 1; day <= 366 && ntrans < 2; day++) {
		int64_t noon = start + (int64_t)day * 86400;
		int off = offset_at(ctx, noon);

		if (off != prev) {
			int64_t lo = noon - 86400, hi = noon;

			/* Bisect to the second of the switch. */
			while (hi - lo > 1) {
				int64_t mid = lo + (hi - lo) / 2;

				if (offset_at(ctx, mid) == prev)
					lo = mid;
				else
					hi = mid;
			}
			trans[ntrans] = hi;
			before[ntrans] = prev;
			ntrans++;
			if (off < std)
				std = off;
			if (off > dst)
				dst = off;
			prev = off;
		}
	}
	tz_r->bias = -std / 60;
	if (ntrans == 2 && dst != std) {
		tz_r->dst_bias = -(dst - std) / 60;
		for (int i = 0; i < 2; i++) {
			bool to_dst = before[i] == std;

			rule_of(trans[i], before[i],
				to_dst ? &tz_r->dst_date : &tz_r->std_date);
		}
	}
	for (int i = 0; name != NULL && name[i] != '\0' && i < 31; i++) {
		tz_r->std_name[i] = (uint8_t)name[i];
		tz_r->dst_name[i] = (uint8_t)name[i];
	}
}

/* Rules for a far year cost libical an expansion of every year up to it
 * (seconds for a DTSTART in 6022): the rules of 2200 stand in for those of
 * any later year, which no zone has announced anyway. */
#define TZ_RULES_LATEST ((int64_t)7258118400) /* 2200-01-01T00:00:00Z */

/* The rules of a year of a zone that lasts (conv_ical_zone_lasting),
 * as they were worked out the last few times on this thread: finding
 * them asks the zone its offset some 400 times. */
#define TZ_MEMO 8

static __thread struct tz_memo {
	icaltimezone *zone;
	int64_t year;
	struct conv_tz tz;
} tz_memo[TZ_MEMO];
static __thread unsigned tz_memo_next;

void
conv_tz_from_ical(icaltimezone *zone, int64_t t, struct conv_tz *tz_r)
{
	const char *loc = icaltimezone_get_location(zone);
	char name[32];
	bool lasting;

	if (t > TZ_RULES_LATEST)
		t = TZ_RULES_LATEST;
	for (unsigned i = 0; i < TZ_MEMO; i++)
		if (tz_memo[i].zone == zone && tz_memo[i].year == year_of(t)) {
			*tz_r = tz_memo[i].tz;
			return;
		}
	lasting = conv_ical_zone_lasting(zone);
	/* libical may rebuild the zone (and its strings) while it answers
	 * the offset questions: keep a copy */
	snprintf(name, sizeof(name), "%s", loc != NULL ? loc : "");
	tz_from_offsets(ical_offset_cb, zone, t, name, tz_r);
	if (lasting) {
		struct tz_memo *m = &tz_memo[tz_memo_next++ % TZ_MEMO];

		m->zone = zone;
		m->year = year_of(t);
		m->tz = *tz_r;
	}
}

int
conv_tz_from_name(const char *name, int64_t t, struct conv_tz *tz_r)
{
	icaltimezone *z;

	if (name == NULL || name[0] == '\0')
		return -1;
	if (strcmp(name, "UTC") == 0) {
		memset(tz_r, 0, sizeof(*tz_r));
		return 0;
	}
	z = icaltimezone_get_builtin_timezone(name);
	if (z == NULL)
		return -1;
	conv_tz_from_ical(z, t, tz_r);
	return 0;
}

static int
libc_offset(void *ctx, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	(void)ctx;
	localtime_r(&tt, &tm);
	return (int)tm.tm_gmtoff;
}

static struct conv_tz system_tz;
static pthread_once_t system_tz_once = PTHREAD_ONCE_INIT;

static void
system_tz_init(void)
{
	tzset();
	tz_from_offsets(libc_offset, NULL, time_now(), NULL, &system_tz);
}

const struct conv_tz *
conv_tz_system(void)
{
	pthread_once(&system_tz_once, system_tz_init);
	return &system_tz;
}
