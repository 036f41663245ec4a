/* The free/busy view (freebusy.h): stored VEVENTs -> busy spans, with
 * libical expanding RRULEs, EXDATE and deleted exceptions removed,
 * RECURRENCE-ID overrides taking the place of their occurrence, and the
 * busy status mapped per MS-ASCAL 2.2.2.8 BusyStatus (0 free, 1 tentative,
 * 2 busy, 3 out of office, 4 working elsewhere). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freebusy.h"
#include "ical.h"
#include "log.h"
#include "util.h"

#define FREEBUSY_MAX_OVERRIDES 1000
/* Occurrences walked before the window (a daily series of many years). */
#define FREEBUSY_MAX_WALK 200000

static int64_t
time_of(icaltimetype t)
{
	const icaltimezone *z = t.zone;

	if (icaltime_is_null_time(t))
		return 0;
	/* floating times and dates: read as UTC */
	if (z == NULL || t.is_date)
		z = icaltimezone_get_utc_timezone();
	return (int64_t)icaltime_as_timet_with_zone(t, z);
}

static bool
is_self(const char *cal_address, const char *const *self)
{
	if (cal_address == NULL || self == NULL)
		return false;
	if (strncasecmp(cal_address, "mailto:", 7) == 0)
		cal_address += 7;
	for (size_t i = 0; self[i] != NULL; i++) {
		if (strcasecmp(cal_address, self[i]) == 0)
			return true;
	}
	return false;
}

static const char *
x_value(icalcomponent *c, const char *name)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
		const char *n = icalproperty_get_x_name(p);

		if (n != NULL && strcasecmp(n, name) == 0)
			return icalproperty_get_x(p);
	}
	return NULL;
}

/* The status an instance (the master or an override) gives its time. */
static enum freebusy_status
instance_status(icalcomponent *c, const char *const *self)
{
	enum freebusy_status st = FREEBUSY_BUSY;
	const char *v;
	icalproperty *p;

	if (icalcomponent_get_status(c) == ICAL_STATUS_CANCELLED)
		return FREEBUSY_FREE;
	/* MS-ASCAL MeetingStatus: the cancelled bit */
	v = x_value(c, "X-EAS-MEETINGSTATUS");
	if (v != NULL && (atoi(v) & 4) != 0)
		return FREEBUSY_FREE;
	/* MS-ASCAL ResponseType 4: the user declined */
	v = x_value(c, "X-EAS-RESPONSETYPE");
	if (v != NULL && atoi(v) == 4)
		return FREEBUSY_FREE;
	for (p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
		icalparameter *ps;

		if (!is_self(icalproperty_get_attendee(p), self))
			continue;
		ps = icalproperty_get_first_parameter(p,
						      ICAL_PARTSTAT_PARAMETER);
		if (ps == NULL)
			continue;
		switch (icalparameter_get_partstat(ps)) {
		case ICAL_PARTSTAT_DECLINED:
			return FREEBUSY_FREE;
		case ICAL_PARTSTAT_TENTATIVE:
		case ICAL_PARTSTAT_NEEDSACTION:
			st = FREEBUSY_TENTATIVE;
			break;
		default:
			break;
		}
	}
	v = x_value(c, "X-MICROSOFT-CDO-BUSYSTATUS");
	if (v != NULL) {
		if (strcasecmp(v, "FREE") == 0)
			return FREEBUSY_FREE;
		/* Working elsewhere: at work and bookable; MergedFreeBusy
		 * has no digit of its own for it (4 means no data). */
		if (strcasecmp(v, "WORKINGELSEWHERE") == 0)
			return FREEBUSY_FREE;
		if (strcasecmp(v, "TENTATIVE") == 0)
			return FREEBUSY_TENTATIVE;
		if (strcasecmp(v, "OOF") == 0)
			return FREEBUSY_OOF;
		return st == FREEBUSY_TENTATIVE ? st : FREEBUSY_BUSY;
	}
	p = icalcomponent_get_first_property(c, ICAL_TRANSP_PROPERTY);
	if (p != NULL && icalproperty_get_transp(p) == ICAL_TRANSP_TRANSPARENT)
		return FREEBUSY_FREE;
	v = x_value(c, "X-EAS-RESPONSETYPE");
	if (v != NULL && (atoi(v) == 2 || atoi(v) == 5))
		st = FREEBUSY_TENTATIVE;
	return st;
}

/* Length of an instance: DTEND - DTSTART, or DURATION, or a day for a
 * date, else zero. */
static int64_t
instance_length(icalcomponent *c, icaltimetype start)
{
	icalproperty *p =
		icalcomponent_get_first_property(c, ICAL_DTEND_PROPERTY);
	int64_t s = time_of(start);

	if (p != NULL) {
		int64_t e = time_of(icalcomponent_get_dtend(c));

		return e > s ? e - s : 0;
	}
	p = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY);
	if (p != NULL) {
		int d = icaldurationtype_as_int(icalproperty_get_duration(p));

		return d > 0 ? d : 0;
	}
	return start.is_date ? 86400 : 0;
}

static void
push(struct arena *a, struct freebusy_span **spans, size_t *n, size_t *cap,
     int64_t start, int64_t end, enum freebusy_status st, const char *uid)
{
	if (*n == *cap) {
		size_t nc = *cap == 0 ? 16 : *cap * 2;
		struct freebusy_span *ns = arena_alloc(a, nc * sizeof(*ns));

		if (*n > 0)
			memcpy(ns, *spans, *n * sizeof(*ns));
		*spans = ns;
		*cap = nc;
	}
	(*spans)[*n].start = start;
	(*spans)[*n].end = end;
	(*spans)[*n].status = st;
	(*spans)[*n].uid = uid;
	(*n)++;
}

static void
add_instance(struct arena *a, int64_t s, int64_t len, enum freebusy_status st,
	     int64_t from, int64_t to, const char *uid,
	     struct freebusy_span **spans, size_t *n, size_t *cap)
{
	int64_t e = s + (len > 0 ? len : 1);

	if (st == FREEBUSY_FREE || e <= from || s >= to)
		return;
	push(a, spans, n, cap, s, e, st, uid);
}

static bool
in_list(const int64_t *list, size_t n, int64_t v)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i] == v)
			return true;
	}
	return false;
}

int
freebusy_item_spans(struct arena *a, const char *ical, size_t len,
		    const char *const *self, int64_t from, int64_t to,
		    struct freebusy_span **spans, size_t *n, size_t *cap,
		    const char **error_r)
{
	icalcomponent *cal, *master = NULL, *c;
	int64_t overrides[FREEBUSY_MAX_OVERRIDES], *exdates = NULL;
	size_t noverrides = 0, nex = 0, excap = 0;
	icaltimetype start;
	icalproperty *p;
	enum freebusy_status mst;
	const char *uid;
	int64_t mlen;

	cal = conv_ical_parse(a, ical, len, error_r);
	if (cal == NULL)
		return -1;
	/* The master is the VEVENT without RECURRENCE-ID; overrides stand
	 * alone, each at its own (possibly moved) time. */
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		p = icalcomponent_get_first_property(
			c, ICAL_RECURRENCEID_PROPERTY);
		if (p == NULL) {
			if (master == NULL)
				master = c;
			continue;
		}
		if (noverrides < FREEBUSY_MAX_OVERRIDES)
			overrides[noverrides++] =
				time_of(icalproperty_get_recurrenceid(p));
		start = icalcomponent_get_dtstart(c);
		uid = icalcomponent_get_uid(c);
		add_instance(a, time_of(start), instance_length(c, start),
			     instance_status(c, self), from, to,
			     uid != NULL ? arena_strdup(a, uid) : NULL, spans,
			     n, cap);
	}
	if (master == NULL)
		return 0;
	start = icalcomponent_get_dtstart(master);
	if (icaltime_is_null_time(start))
		return 0;
	mlen = instance_length(master, start);
	mst = instance_status(master, self);
	uid = icalcomponent_get_uid(master);
	uid = uid != NULL ? arena_strdup(a, uid) : NULL;
	if (mst == FREEBUSY_FREE)
		return 0;
	for (p = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(
				master, ICAL_EXDATE_PROPERTY)) {
		int64_t t = time_of(icalproperty_get_exdate(p));

		exdates = arena_grow(a, exdates, nex, &excap, sizeof(*exdates));
		exdates[nex++] = t;
	}
	p = icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
	if (p == NULL) {
		int64_t s = time_of(start);

		if (!in_list(overrides, noverrides, s) &&
		    !in_list(exdates, nex, s))
			add_instance(a, s, mlen, mst, from, to, uid, spans, n,
				     cap);
		return 0;
	}
	{
		struct icalrecurrencetype rule = icalproperty_get_rrule(p);
		icalrecur_iterator *it = icalrecur_iterator_new(rule, start);
		size_t walked = 0, emitted = 0;
		icaltimetype occ;

		if (it == NULL) {
			*error_r = "RRULE cannot be expanded";
			return -1;
		}
		for (occ = icalrecur_iterator_next(it);
		     !icaltime_is_null_time(occ);
		     occ = icalrecur_iterator_next(it)) {
			int64_t s;

			occ.zone = start.zone;
			s = time_of(occ);
			if (s >= to)
				break;
			if (++walked > FREEBUSY_MAX_WALK ||
			    emitted >= FREEBUSY_MAX_OCCURRENCES) {
				log_warn("free/busy: series %s cut after %zu "
					 "occurrences",
					 uid != NULL ? uid : "?", walked);
				break;
			}
			if (s + mlen <= from || in_list(exdates, nex, s) ||
			    in_list(overrides, noverrides, s))
				continue;
			add_instance(a, s, mlen, mst, from, to, uid, spans, n,
				     cap);
			emitted++;
		}
		icalrecur_iterator_free(it);
	}
	return 0;
}

char *
freebusy_merge(struct arena *a, const struct freebusy_span *spans, size_t n,
	       int64_t from, int64_t to, int64_t slot_s)
{
	size_t slots;
	char *r;

	if (to <= from || slot_s <= 0)
		return arena_strdup(a, "");
	slots = (size_t)((to - from + slot_s - 1) / slot_s);
	r = arena_alloc(a, slots + 1);
	memset(r, '0' + FREEBUSY_FREE, slots);
	r[slots] = '\0';
	for (size_t i = 0; i < n; i++) {
		int64_t s = spans[i].start < from ? from : spans[i].start;
		int64_t e = spans[i].end > to ? to : spans[i].end;

		if (e <= s)
			continue;
		for (size_t k = (size_t)((s - from) / slot_s);
		     k < slots && from + (int64_t)k * slot_s < e; k++) {
			char d = (char)('0' + spans[i].status);

			if (d > r[k])
				r[k] = d;
		}
	}
	return r;
}
