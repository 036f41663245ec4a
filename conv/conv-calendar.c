/* Calendar (MS-ASCAL) <-> iCalendar VEVENT through libical.
 *
 * Mapping: Subject SUMMARY, Location LOCATION (16.x: the whole
 * airsyncbase:Location container also packed in X-EAS-LOCATION),
 * StartTime/EndTime DTSTART/DTEND (local time with TZID when a TimeZone
 * came along, VALUE=DATE for all-day events that start at local midnight),
 * DtStamp DTSTAMP, TimeZone a VTIMEZONE (TZID the IANA name when the rules
 * match one, else a synthetic "EAS/..." id) plus the blob itself in
 * X-EAS-TIMEZONE so it comes back byte for byte, Recurrence RRULE (and the
 * element packed in X-EAS-RECURRENCE), deleted exceptions EXDATE, changed
 * ones an extra VEVENT with RECURRENCE-ID (their elements packed in
 * X-EAS-EXCEPTION), organizer ORGANIZER, attendees ATTENDEE with
 * PARTSTAT/ROLE/CUTYPE and the exact EAS numbers in X-EAS-STATUS/X-EAS-TYPE
 * parameters, Reminder VALARM, Sensitivity CLASS, BusyStatus TRANSP and
 * X-MICROSOFT-CDO-BUSYSTATUS, Categories CATEGORIES, Body DESCRIPTION
 * (HTML in X-ALT-DESC), the rest X-EAS-* properties; unknown elements are
 * packed in X-EAS-NODES. meta: date = start, date_end = end of the last
 * occurrence (INT64_MAX when the series never ends). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv-int.h"
#include "conv-tz.h"
#include "ical.h"
#include "util.h"

#define CAL_MAX_EXCEPTIONS 1000
#define CAL_MAX_ATTENDEES 1000
#define CAL_MAX_UNKNOWN 64
/* Occurrences walked to find the end of a counted series. */
#define CAL_MAX_WALK 5000

/* --- iCalendar helpers shared with conv-task.c --- */

/* --- shadows: copies that stand for a standard value --- */

enum stands_for {
	SF_ZONE,      /* the VTIMEZONE DTSTART names */
	SF_RRULE,     /* RRULE */
	SF_LOCATION,  /* LOCATION */
	SF_CATS,      /* every CATEGORIES */
	SF_CLASS,     /* CLASS */
	SF_TRANSP,    /* TRANSP */
	SF_DTSTART,   /* DTSTART (value and TZID) */
	SF_DUE,	      /* DUE */
	SF_COMPLETED, /* COMPLETED */
	SF_DESC,      /* DESCRIPTION and X-ALT-DESC */
	SF_ALARM,     /* the trigger of the first absolute VALARM */
	SF_WHOLE,     /* every property but ours, and the subcomponents */
};

static const struct shadow {
	const char *name;
	enum stands_for sf;
	bool ours; /* false: a Microsoft property, trusted unless we
		      marked it */
} shadows[] = {
	{"X-EAS-TIMEZONE", SF_ZONE, true},
	{"X-EAS-RECURRENCE", SF_RRULE, true},
	{"X-EAS-LOCATION", SF_LOCATION, true},
	{"X-EAS-CATEGORIES", SF_CATS, true},
	{"X-EAS-SENSITIVITY", SF_CLASS, true},
	{"X-MICROSOFT-CDO-BUSYSTATUS", SF_TRANSP, false},
	{"X-MICROSOFT-CDO-ALLDAYEVENT", SF_DTSTART, false},
	{"X-EAS-BODYTYPE", SF_DESC, true},
	{"X-EAS-NL", SF_DESC, true},
	{"X-EAS-BODY64", SF_DESC, true},
	{"X-EAS-EXCEPTION", SF_WHOLE, true},
	{"X-EAS-STARTDATE", SF_DTSTART, true},
	{"X-EAS-UTCSTARTDATE", SF_DTSTART, true},
	{"X-EAS-DUEDATE", SF_DUE, true},
	{"X-EAS-UTCDUEDATE", SF_DUE, true},
	{"X-EAS-DATECOMPLETED", SF_COMPLETED, true},
	{"X-EAS-REMINDERTIME", SF_ALARM, true},
	{"X-EAS-REMINDERSET", SF_ALARM, true},
};

static const struct shadow *
shadow_of(const char *name)
{
	for (size_t i = 0; name != NULL && i < N_ELEMENTS(shadows); i++)
		if (strcasecmp(shadows[i].name, name) == 0)
			return &shadows[i];
	return NULL;
}

static void
hash_str(struct conv_hash *h, const char *s)
{
	if (s != NULL)
		conv_hash_feed(h, s, strlen(s));
	conv_hash_feed(h, "\n", 1);
}

static void
hash_props(struct conv_hash *h, icalcomponent *c, icalproperty_kind kind,
	   const char *xname)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = icalcomponent_get_next_property(c, kind)) {
		icalparameter *tz;

		if (xname != NULL &&
		    (icalproperty_get_x_name(p) == NULL ||
		     strcasecmp(icalproperty_get_x_name(p), xname) != 0))
			continue;
		hash_str(h, icalproperty_get_value_as_string(p));
		tz = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
		if (tz != NULL)
			hash_str(h, icalparameter_get_tzid(tz));
	}
}

/* The hash of what the shadow sf stands for in c. */
static void
stands_for_hash(icalcomponent *cal, icalcomponent *c, enum stands_for sf,
		char out[9])
{
	struct conv_hash h;
	icalproperty *p;
	icalcomponent *sub;

	conv_hash_init(&h);
	switch (sf) {
	case SF_ZONE: {
		icalparameter *tz = NULL;
		icalcomponent *vt = NULL;

		p = icalcomponent_get_first_property(c, ICAL_DTSTART_PROPERTY);
		if (p != NULL)
			tz = icalproperty_get_first_parameter(
				p, ICAL_TZID_PARAMETER);
		hash_str(&h, tz != NULL ? icalparameter_get_tzid(tz) : "");
		if (tz != NULL && cal != NULL)
			vt = conv_ical_vtimezone(cal,
						 icalparameter_get_tzid(tz));
		for (sub = vt != NULL ? icalcomponent_get_first_component(
						vt, ICAL_ANY_COMPONENT)
				      : NULL;
		     sub != NULL; sub = icalcomponent_get_next_component(
					  vt, ICAL_ANY_COMPONENT))
			for (p = icalcomponent_get_first_property(
				     sub, ICAL_ANY_PROPERTY);
			     p != NULL; p = icalcomponent_get_next_property(
						sub, ICAL_ANY_PROPERTY))
				hash_str(&h, icalproperty_as_ical_string(p));
		break;
	}
	case SF_RRULE:
		hash_props(&h, c, ICAL_RRULE_PROPERTY, NULL);
		break;
	case SF_LOCATION:
		hash_props(&h, c, ICAL_LOCATION_PROPERTY, NULL);
		break;
	case SF_CATS:
		/* libical writes a category with a comma as it is and reads
		 * it back as two: hash the pieces */
		for (p = icalcomponent_get_first_property(
			     c, ICAL_CATEGORIES_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(
					c, ICAL_CATEGORIES_PROPERTY)) {
			const char *v = icalproperty_get_value_as_string(p);

			while (v != NULL && *v != '\0') {
				const char *e = strchr(v, ',');
				size_t n =
					e != NULL ? (size_t)(e - v) : strlen(v);

				while (n > 0 && *v == ' ') {
					v++;
					n--;
				}
				while (n > 0 && v[n - 1] == ' ')
					n--;
				conv_hash_feed(&h, v, n);
				conv_hash_feed(&h, "\n", 1);
				v = e != NULL ? e + 1 : NULL;
			}
		}
		break;
	case SF_CLASS:
		hash_props(&h, c, ICAL_CLASS_PROPERTY, NULL);
		break;
	case SF_TRANSP:
		hash_props(&h, c, ICAL_TRANSP_PROPERTY, NULL);
		break;
	case SF_DTSTART:
		hash_props(&h, c, ICAL_DTSTART_PROPERTY, NULL);
		break;
	case SF_DUE:
		hash_props(&h, c, ICAL_DUE_PROPERTY, NULL);
		break;
	case SF_COMPLETED:
		hash_props(&h, c, ICAL_COMPLETED_PROPERTY, NULL);
		break;
	case SF_DESC:
		hash_props(&h, c, ICAL_DESCRIPTION_PROPERTY, NULL);
		hash_props(&h, c, ICAL_X_PROPERTY, "X-ALT-DESC");
		break;
	case SF_ALARM:
		for (sub = icalcomponent_get_first_component(
			     c, ICAL_VALARM_COMPONENT);
		     sub != NULL; sub = icalcomponent_get_next_component(
					  c, ICAL_VALARM_COMPONENT)) {
			p = icalcomponent_get_first_property(
				sub, ICAL_TRIGGER_PROPERTY);
			if (p != NULL &&
			    !icaltime_is_null_time(
				    icalproperty_get_trigger(p).time)) {
				hash_str(&h,
					 icalproperty_get_value_as_string(p));
				break;
			}
		}
		break;
	case SF_WHOLE:
		for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(
					c, ICAL_ANY_PROPERTY)) {
			const char *x = icalproperty_get_x_name(p);

			if (icalproperty_isa(p) == ICAL_X_PROPERTY &&
			    x != NULL && strncasecmp(x, "X-EAS-", 6) == 0)
				continue;
			hash_str(&h, icalproperty_as_ical_string(p));
		}
		for (sub = icalcomponent_get_first_component(
			     c, ICAL_ANY_COMPONENT);
		     sub != NULL; sub = icalcomponent_get_next_component(
					  c, ICAL_ANY_COMPONENT))
			hash_str(&h, icalcomponent_as_ical_string(sub));
		break;
	}
	conv_hash_final(&h, out);
}

static const char *param_x(icalproperty *p, const char *name);

static void
set_xparam(icalproperty *p, const char *name, const char *v)
{
	icalparameter *x;

	for (x = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER);
	     x != NULL;
	     x = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER)) {
		const char *n = icalparameter_get_xname(x);

		if (n != NULL && strcasecmp(n, name) == 0) {
			icalparameter_set_xvalue(x, v);
			return;
		}
	}
	x = icalparameter_new_x(v);
	icalparameter_set_xname(x, name);
	icalproperty_add_parameter(p, x);
}

static bool
has_eas_params(icalproperty *p)
{
	return param_x(p, "X-EAS-STATUS") != NULL ||
	       param_x(p, "X-EAS-TYPE") != NULL ||
	       param_x(p, "X-EAS-NOEMAIL") != NULL;
}

/* What the X-EAS-* parameters of an attendee or organizer stand for: its
 * address, PARTSTAT, ROLE and CUTYPE. */
static void
params_hash(icalproperty *p, char out[9])
{
	struct conv_hash h;
	static const char *const names[] = {"PARTSTAT", "ROLE", "CUTYPE"};

	conv_hash_init(&h);
	hash_str(&h, icalproperty_get_value_as_string(p));
	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		hash_str(&h, icalproperty_get_parameter_as_string(p, names[i]));
	conv_hash_final(&h, out);
}

bool
conv_ical_params_stand(icalproperty *p)
{
	const char *hv = param_x(p, "X-EAS-HASH");
	char h[9];

	if (hv == NULL)
		return false;
	params_hash(p, h);
	return strcmp(h, hv) == 0;
}

/* The properties of c, so that they can be looked at while the hashing
 * walks c again (libical's iterators are per component). */
static icalproperty **
props_of(struct arena *a, icalcomponent *c, icalproperty_kind kind, size_t *n_r)
{
	size_t n = 0, i = 0;
	icalproperty *p, **v;

	for (p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = icalcomponent_get_next_property(c, kind))
		n++;
	v = arena_alloc(a, (n + 1) * sizeof(*v));
	for (p = icalcomponent_get_first_property(c, kind); p != NULL && i < n;
	     p = icalcomponent_get_next_property(c, kind))
		v[i++] = p;
	*n_r = i;
	return v;
}

void
conv_ical_seal(struct arena *a, icalcomponent *cal, icalcomponent *c)
{
	size_t n;
	icalproperty **v = props_of(a, c, ICAL_ANY_PROPERTY, &n);
	char h[9];

	for (size_t i = 0; i < n; i++) {
		icalproperty *p = v[i];
		icalproperty_kind k = icalproperty_isa(p);
		const struct shadow *sh;

		if (k == ICAL_X_PROPERTY &&
		    (sh = shadow_of(icalproperty_get_x_name(p))) != NULL) {
			stands_for_hash(cal, c, sh->sf, h);
			set_xparam(p, "X-EAS-HASH", h);
		} else if ((k == ICAL_ATTENDEE_PROPERTY ||
			    k == ICAL_ORGANIZER_PROPERTY) &&
			   has_eas_params(p)) {
			params_hash(p, h);
			set_xparam(p, "X-EAS-HASH", h);
		}
	}
}

const char *
conv_ical_shadow(struct arena *a, icalcomponent *cal, icalcomponent *c,
		 const char *name)
{
	const struct shadow *sh = shadow_of(name);
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
		const char *n = icalproperty_get_x_name(p), *hv, *v;
		char h[9];

		if (n == NULL || strcasecmp(n, name) != 0)
			continue;
		if (sh != NULL) {
			hv = param_x(p, "X-EAS-HASH");
			if (hv == NULL && sh->ours)
				return NULL; /* cannot show it stands */
			if (hv != NULL) {
				stands_for_hash(cal, c, sh->sf, h);
				if (strcmp(h, hv) != 0)
					return NULL;
			}
		}
		v = icalproperty_get_x(p);
		return arena_strdup(a, v != NULL ? v : "");
	}
	return NULL;
}

void
conv_ical_add_categories(struct arena *a, icalcomponent *c,
			 const struct wbxml_node *list)
{
	const struct wbxml_node *n, *lp = list;
	bool comma = false;

	/* One property per category. libical splits values at commas when
	 * reading, so a list with a comma inside a name is also kept whole
	 * in X-EAS-CATEGORIES. */
	wbxml_foreach(list, n)
	{
		icalcomponent_add_property(
			c, icalproperty_new_categories(wbxml_text(n)));
		comma = comma || strchr(wbxml_text(n), ',') != NULL;
	}
	if (comma)
		conv_ical_set_x(c, "X-EAS-CATEGORIES",
				conv_nodes_pack(a, &lp, 1));
}

void
conv_ical_get_categories(struct arena *a, icalcomponent *cal, icalcomponent *c,
			 struct wbxml_node *appdata, uint16_t list_tag,
			 uint16_t item_tag)
{
	struct wbxml_node *list = NULL;
	icalproperty *p;
	const char *packed = conv_ical_shadow(a, cal, c, "X-EAS-CATEGORIES");

	if (packed != NULL &&
	    conv_nodes_unpack(a, packed, strlen(packed), appdata) == 0)
		return;
	for (p = icalcomponent_get_first_property(c, ICAL_CATEGORIES_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_CATEGORIES_PROPERTY)) {
		const char *v = icalproperty_get_categories(p);

		if (v == NULL)
			continue;
		if (list == NULL)
			list = wbxml_add(a, appdata, list_tag);
		wbxml_add_text(a, list, item_tag, v);
	}
}

/* iCalendar text has no carriage returns: CR LF line breaks (what EAS
 * clients send) are stored as LF with X-EAS-NL=CRLF; a text with other
 * CRs is kept base64 in X-EAS-BODY64. */
static int
crlf_kind(const char *s, size_t len)
{
	bool cr = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r') {
			if (i + 1 >= len || s[i + 1] != '\n')
				return -1;
			cr = true;
		} else if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) {
			if (cr)
				return -1;
		}
	}
	if (!cr)
		return 0;
	/* CR LF everywhere? A lone LF before the first CR LF is mixed. */
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			return -1;
	}
	return 1;
}

static char *
drop_cr(struct arena *a, const char *s, size_t len)
{
	char *o = arena_alloc(a, len + 1);
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\r')
			o[k++] = s[i];
	}
	o[k] = '\0';
	return o;
}

static char *
add_cr(struct arena *a, const char *s)
{
	size_t len = strlen(s), k = 0;
	char *o = arena_alloc(a, 2 * len + 1);

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			o[k++] = '\r';
		o[k++] = s[i];
	}
	o[k] = '\0';
	return o;
}

void
conv_ical_set_body(struct arena *a, icalcomponent *c,
		   const struct wbxml_node *appdata)
{
	const char *text;
	size_t len;
	int type, kind;
	char *t, num[8];

	if (conv_body_get(appdata, &text, &len, &type) != 1)
		return;
	kind = crlf_kind(text, len);
	t = kind == 1 ? drop_cr(a, text, len) : arena_strndup(a, text, len);
	if (type == 2) {
		icalproperty *p = icalproperty_new_x(t);

		icalproperty_set_x_name(p, "X-ALT-DESC");
		icalproperty_add_parameter(
			p, icalparameter_new_fmttype("text/html"));
		icalcomponent_add_property(c, p);
	} else {
		icalcomponent_add_property(c, icalproperty_new_description(t));
	}
	if (type != 1 && type != 2) {
		snprintf(num, sizeof(num), "%d", type);
		conv_ical_set_x(c, "X-EAS-BODYTYPE", num);
	}
	if (kind == 1)
		conv_ical_set_x(c, "X-EAS-NL", "CRLF");
	if (kind < 0 || strlen(t) != len) {
		char *b = arena_alloc(a, base64_encoded_len(len) + 1);

		base64_encode(text, len, b);
		conv_ical_set_x(c, "X-EAS-BODY64", b);
	}
}

void
conv_ical_get_body(struct arena *a, icalcomponent *cal, icalcomponent *c,
		   const struct conv_ctx *ctx, struct wbxml_node *appdata)
{
	const char *html = conv_ical_get_x(a, c, "X-ALT-DESC");
	const char *bt = conv_ical_shadow(a, cal, c, "X-EAS-BODYTYPE");
	const char *b64 = conv_ical_shadow(a, cal, c, "X-EAS-BODY64");
	bool crlf = conv_ical_shadow(a, cal, c, "X-EAS-NL") != NULL;
	int type = bt != NULL && bt[0] >= '1' && bt[0] <= '4' ? bt[0] - '0'
		   : html != NULL			      ? 2
							      : 1;
	icalproperty *p;
	const char *d = html;

	if (d == NULL) {
		p = icalcomponent_get_first_property(c,
						     ICAL_DESCRIPTION_PROPERTY);
		if (p == NULL || (d = icalproperty_get_description(p)) == NULL)
			return;
	}
	if (b64 != NULL) {
		uint8_t *raw = arena_alloc(a, base64_decoded_max(strlen(b64)));
		long n = base64_decode(b64, strlen(b64), raw);

		if (n >= 0) {
			conv_add_body(a, appdata, ctx, (const char *)raw,
				      (size_t)n, type);
			return;
		}
	}
	if (crlf)
		d = add_cr(a, d);
	conv_add_body(a, appdata, ctx, d, strlen(d), type);
}

/* --- recurrence --- */

const struct conv_rec_tags conv_rec_calendar = {
	EAS_CALENDAR_RECURRENCE,
	EAS_CALENDAR_TYPE,
	EAS_CALENDAR_INTERVAL,
	EAS_CALENDAR_UNTIL,
	EAS_CALENDAR_OCCURRENCES,
	EAS_CALENDAR_DAYOFWEEK,
	EAS_CALENDAR_DAYOFMONTH,
	EAS_CALENDAR_WEEKOFMONTH,
	EAS_CALENDAR_MONTHOFYEAR,
	EAS_CALENDAR_CALENDARTYPE,
	EAS_CALENDAR_ISLEAPMONTH,
	EAS_CALENDAR_FIRSTDAYOFWEEK,
	0,
	0,
	0,
	false,
};

const struct conv_rec_tags conv_rec_tasks = {
	EAS_TASKS_RECURRENCE,  EAS_TASKS_TYPE,
	EAS_TASKS_INTERVAL,    EAS_TASKS_UNTIL,
	EAS_TASKS_OCCURRENCES, EAS_TASKS_DAYOFWEEK,
	EAS_TASKS_DAYOFMONTH,  EAS_TASKS_WEEKOFMONTH,
	EAS_TASKS_MONTHOFYEAR, EAS_TASKS_CALENDARTYPE,
	EAS_TASKS_ISLEAPMONTH, EAS_TASKS_FIRSTDAYOFWEEK,
	EAS_TASKS_START,       EAS_TASKS_REGENERATE,
	EAS_TASKS_DEADOCCUR,   true,
};

static const char *const rr_days[7] = {"SU", "MO", "TU", "WE",
				       "TH", "FR", "SA"};

static int
rec_int(struct arena *a, const struct wbxml_node *rec, uint16_t tag, int64_t lo,
	int64_t hi, int64_t *v, const char **error_r)
{
	int r;

	if (tag == 0)
		return 0;
	r = wbxml_child_int(rec, tag, v);
	if (r < 0 || (r == 1 && (*v < lo || *v > hi)))
		return conv_fail(a, error_r, "Recurrence: bad %s",
				 wbxml_tag_name(tag));
	return r;
}

static void
rr_days_list(struct buf *b, int64_t mask)
{
	bool first = true;

	for (int i = 0; i < 7; i++) {
		if ((mask & (1 << i)) == 0)
			continue;
		buf_printf(b, "%s%s", first ? "" : ",", rr_days[i]);
		first = false;
	}
}

/* MS-ASCAL 2.2.2.38 Recurrence -> RFC 5545 3.3.10 RRULE. */
int
conv_rrule_from_eas(struct arena *a, const struct wbxml_node *rec,
		    const struct conv_rec_tags *t, const char **rrule_r,
		    const char **error_r)
{
	int64_t type, interval = 1, occ = 0, dow = 0, dom = 0, wom = 0, moy = 0;
	int64_t fdow = 0, until;
	int r_dow, r_dom, r_wom, r_moy, r_fdow, r_occ;
	const char *u;
	struct buf b;
	char *out;

	if (wbxml_child_int(rec, t->type, &type) != 1)
		return conv_fail(a, error_r, "Recurrence: missing or bad Type");
	if (rec_int(a, rec, t->interval, 1, 999, &interval, error_r) < 0 ||
	    (r_occ = rec_int(a, rec, t->occurrences, 1, 999, &occ, error_r)) <
		    0 ||
	    (r_dow = rec_int(a, rec, t->dow, 1, 127, &dow, error_r)) < 0 ||
	    (r_dom = rec_int(a, rec, t->dom, 1, 31, &dom, error_r)) < 0 ||
	    (r_wom = rec_int(a, rec, t->wom, 1, 5, &wom, error_r)) < 0 ||
	    (r_moy = rec_int(a, rec, t->moy, 1, 12, &moy, error_r)) < 0 ||
	    (r_fdow = rec_int(a, rec, t->fdow, 0, 6, &fdow, error_r)) < 0)
		return -1;
	buf_init(&b, 0);
	switch (type) {
	case 0:
		buf_puts(&b, "FREQ=DAILY");
		if (r_dow == 1) {
			buf_puts(&b, ";BYDAY=");
			rr_days_list(&b, dow);
		}
		break;
	case 1:
		if (r_dow != 1)
			goto missing;
		buf_puts(&b, "FREQ=WEEKLY;BYDAY=");
		rr_days_list(&b, dow);
		break;
	case 2:
		if (r_dom != 1)
			goto missing;
		buf_printf(&b, "FREQ=MONTHLY;BYMONTHDAY=%d", (int)dom);
		break;
	case 3:
	case 6:
		if (r_dow != 1 || r_wom != 1 || (type == 6 && r_moy != 1))
			goto missing;
		buf_puts(&b, type == 3 ? "FREQ=MONTHLY" : "FREQ=YEARLY");
		if (type == 6)
			buf_printf(&b, ";BYMONTH=%d", (int)moy);
		buf_puts(&b, ";BYDAY=");
		rr_days_list(&b, dow);
		buf_printf(&b, ";BYSETPOS=%d", wom == 5 ? -1 : (int)wom);
		break;
	case 5:
		if (r_dom != 1 || r_moy != 1)
			goto missing;
		buf_printf(&b, "FREQ=YEARLY;BYMONTH=%d;BYMONTHDAY=%d", (int)moy,
			   (int)dom);
		break;
	default:
		buf_deinit(&b);
		return conv_fail(a, error_r, "Recurrence: unknown Type %lld",
				 (long long)type);
	}
	if (interval != 1)
		buf_printf(&b, ";INTERVAL=%d", (int)interval);
	if (r_occ == 1)
		buf_printf(&b, ";COUNT=%d", (int)occ);
	u = wbxml_child_text(rec, t->until);
	if (u != NULL) {
		char c[32];

		if (conv_parse_time(u, &until) < 0) {
			buf_deinit(&b);
			return conv_fail(a, error_r,
					 "Recurrence: bad Until '%s'", u);
		}
		time_format_compact(until, c);
		buf_printf(&b, ";UNTIL=%s", c);
	}
	if (r_fdow == 1)
		buf_printf(&b, ";WKST=%s", rr_days[fdow]);
	out = arena_strndup(a, (const char *)b.data, b.len);
	buf_deinit(&b);
	*rrule_r = out;
	return 0;
missing:
	buf_deinit(&b);
	return conv_fail(a, error_r, "Recurrence: Type %lld without its days",
			 (long long)type);
}

static int
rr_mask(const short *by_day, int *pos_r)
{
	int mask = 0;

	*pos_r = 0;
	for (int i = 0;
	     i < ICAL_BY_DAY_SIZE && by_day[i] != ICAL_RECURRENCE_ARRAY_MAX;
	     i++) {
		int d = icalrecurrencetype_day_day_of_week(by_day[i]);
		int p = icalrecurrencetype_day_position(by_day[i]);

		if (d >= 1 && d <= 7)
			mask |= 1 << (d - 1);
		if (p != 0)
			*pos_r = p;
	}
	return mask;
}

void
conv_rrule_to_eas(struct arena *a, struct icalrecurrencetype *r,
		  struct icaltimetype dtstart, const struct conv_rec_tags *t,
		  struct wbxml_node *appdata)
{
	struct wbxml_node *rec;
	int pos = 0, mask = rr_mask(r->by_day, &pos), type;
	int setpos = r->by_set_pos[0] != ICAL_RECURRENCE_ARRAY_MAX
			     ? r->by_set_pos[0]
			     : pos;
	int mday = r->by_month_day[0] != ICAL_RECURRENCE_ARRAY_MAX
			   ? r->by_month_day[0]
			   : dtstart.day;
	int month = r->by_month[0] != ICAL_RECURRENCE_ARRAY_MAX ? r->by_month[0]
								: dtstart.month;
	char tb[32];

	switch (r->freq) {
	case ICAL_DAILY_RECURRENCE:
		type = 0;
		break;
	case ICAL_WEEKLY_RECURRENCE:
		type = 1;
		break;
	case ICAL_MONTHLY_RECURRENCE:
		type = mask != 0 ? 3 : 2;
		break;
	case ICAL_YEARLY_RECURRENCE:
		type = mask != 0 ? 6 : 5;
		break;
	default:
		return; /* no EAS form: the series shows as one event */
	}
	if (type == 1 && mask == 0)
		mask = 1 << (icaltime_day_of_week(dtstart) - 1);
	rec = wbxml_add(a, appdata, t->rec);
	wbxml_add_int(a, rec, t->type, type);
	if (r->interval > 1)
		wbxml_add_int(a, rec, t->interval, r->interval);
	if (r->count > 0)
		wbxml_add_int(a, rec, t->occurrences, r->count);
	if (!icaltime_is_null_time(r->until)) {
		int64_t u = (int64_t)icaltime_as_timet(r->until);

		if (t->iso_dates)
			time_format_iso(u, tb);
		else
			time_format_compact(u, tb);
		wbxml_add_text(a, rec, t->until, tb);
	}
	if (mask != 0 && type != 2 && type != 5)
		wbxml_add_int(a, rec, t->dow, mask);
	if (type == 2 || type == 5)
		wbxml_add_int(a, rec, t->dom, mday);
	if (type == 3 || type == 6)
		wbxml_add_int(a, rec, t->wom,
			      setpos < 0 || setpos > 4 ? 5
			      : setpos == 0	       ? 1
						       : setpos);
	if (type == 5 || type == 6)
		wbxml_add_int(a, rec, t->moy, month);
}

/* --- calendar --- */

/* The time zone an event's local times are written in. */
struct cal_tz {
	bool have;
	struct conv_tz tz;
	const char *tzid;
	const struct conv_ctx *ctx; /* for all-day events without a zone */
};

/* Simple elements kept as X- properties, with what their text must be. */
enum xkind { XK_TEXT, XK_INT, XK_TIME };
static const struct xprop {
	uint16_t tag;
	const char *name;
	enum xkind kind;
	int lo, hi;
} xprops[] = {
	{EAS_CALENDAR_MEETINGSTATUS, "X-EAS-MEETINGSTATUS", XK_INT, 0, 15},
	{EAS_CALENDAR_RESPONSEREQUESTED, "X-EAS-RESPONSEREQUESTED", XK_INT, 0,
	 1},
	{EAS_CALENDAR_DISALLOWNEWTIMEPROPOSAL, "X-EAS-DISALLOWNEWTIMEPROPOSAL",
	 XK_INT, 0, 1},
	{EAS_CALENDAR_RESPONSETYPE, "X-EAS-RESPONSETYPE", XK_INT, 0, 5},
	{EAS_CALENDAR_APPOINTMENTREPLYTIME, "X-EAS-APPOINTMENTREPLYTIME",
	 XK_TIME, 0, 0},
	{EAS_CALENDAR_ONLINEMEETINGCONFLINK, "X-EAS-ONLINEMEETINGCONFLINK",
	 XK_TEXT, 0, 0},
	{EAS_CALENDAR_ONLINEMEETINGEXTERNALLINK,
	 "X-EAS-ONLINEMEETINGEXTERNALLINK", XK_TEXT, 0, 0},
	{EAS_CALENDAR_CALENDARTYPE, "X-EAS-CALENDARTYPE", XK_TEXT, 0, 0},
};

static const char *const busy_names[] = {"FREE", "TENTATIVE", "BUSY", "OOF",
					 "WORKINGELSEWHERE"};

static int
check_int(struct arena *a, const struct wbxml_node *n, int lo, int hi, int *v_r,
	  const char **error_r)
{
	int64_t v;

	if (str_to_int64(wbxml_text(n), &v) < 0 || v < lo || v > hi)
		return conv_fail(a, error_r, "Calendar: bad %s '%s'",
				 wbxml_tag_name(n->tag), wbxml_text(n));
	*v_r = (int)v;
	return 0;
}

static int
check_time(struct arena *a, const struct wbxml_node *n, int64_t *t_r,
	   const char **error_r)
{
	if (conv_parse_time(wbxml_text(n), t_r) < 0)
		return conv_fail(a, error_r, "Calendar: bad %s '%s'",
				 wbxml_tag_name(n->tag), wbxml_text(n));
	return 0;
}

/* A start/end/exception time: all-day events at local midnight become
 * DATE values; with a zone, local time and TZID; else UTC. */
static struct icaltimetype
event_time(int64_t utc, const struct cal_tz *z, bool allday,
	   icalparameter **tzid_r)
{
	int64_t local = z->have ? conv_tz_utc_to_local(&z->tz, utc) : utc;

	*tzid_r = NULL;
	if (allday && local % 86400 == 0)
		return icaltime_from_timet_with_zone((time_t)local, 1, NULL);
	if (allday && !z->have) {
		/* a <= 14.1 client without TimeZone: its local midnight */
		int64_t dl = conv_utc_to_local(z->ctx, utc);

		if (dl % 86400 == 0)
			return icaltime_from_timet_with_zone((time_t)dl, 1,
							     NULL);
	}
	if (!z->have)
		return icaltime_from_timet_with_zone(
			(time_t)utc, 0, icaltimezone_get_utc_timezone());
	*tzid_r = icalparameter_new_tzid(z->tzid);
	return icaltime_from_timet_with_zone((time_t)local, 0, NULL);
}

static void
add_time(icalcomponent *c, icalproperty_kind kind, int64_t utc,
	 const struct cal_tz *z, bool allday)
{
	icalparameter *tzid;
	struct icaltimetype tt = event_time(utc, z, allday, &tzid);
	icalproperty *p;

	switch (kind) {
	case ICAL_DTSTART_PROPERTY:
		p = icalproperty_new_dtstart(tt);
		break;
	case ICAL_DTEND_PROPERTY:
		p = icalproperty_new_dtend(tt);
		break;
	case ICAL_EXDATE_PROPERTY:
		p = icalproperty_new_exdate(tt);
		break;
	default:
		p = icalproperty_new_recurrenceid(tt);
		break;
	}
	if (tzid != NULL)
		icalproperty_add_parameter(p, tzid);
	icalcomponent_add_property(c, p);
}

static void
add_xparam(icalproperty *p, const char *name, const char *v)
{
	icalparameter *x = icalparameter_new_x(v);

	icalparameter_set_xname(x, name);
	icalproperty_add_parameter(p, x);
}

static int
add_attendees(struct arena *a, icalcomponent *ev, const struct wbxml_node *list,
	      const char **error_r)
{
	const struct wbxml_node *at, *n;
	size_t count = 0;

	wbxml_foreach(list, at)
	{
		const char *email = wbxml_child_text(at, EAS_CALENDAR_EMAIL);
		const char *name = wbxml_child_text(at, EAS_CALENDAR_NAME);
		icalproperty *p;
		int st = -1, ty = -1;

		if (++count > CAL_MAX_ATTENDEES)
			return conv_fail(a, error_r,
					 "Calendar: too many attendees");
		if ((n = wbxml_child(at, EAS_CALENDAR_ATTENDEESTATUS)) !=
			    NULL &&
		    check_int(a, n, 0, 5, &st, error_r) < 0)
			return -1;
		if ((n = wbxml_child(at, EAS_CALENDAR_ATTENDEETYPE)) != NULL &&
		    check_int(a, n, 1, 3, &ty, error_r) < 0)
			return -1;
		p = icalproperty_new_attendee(arena_printf(
			a, "mailto:%s", email != NULL ? email : ""));
		if (name != NULL)
			icalproperty_add_parameter(p,
						   icalparameter_new_cn(name));
		if (st >= 0) {
			static const icalparameter_partstat ps[6] = {
				ICAL_PARTSTAT_NEEDSACTION,
				ICAL_PARTSTAT_NEEDSACTION,
				ICAL_PARTSTAT_TENTATIVE,
				ICAL_PARTSTAT_ACCEPTED,
				ICAL_PARTSTAT_DECLINED,
				ICAL_PARTSTAT_NEEDSACTION,
			};

			icalproperty_add_parameter(
				p, icalparameter_new_partstat(ps[st]));
			add_xparam(p, "X-EAS-STATUS",
				   arena_printf(a, "%d", st));
		}
		if (ty >= 0) {
			icalproperty_add_parameter(
				p,
				icalparameter_new_role(
					ty == 2	  ? ICAL_ROLE_OPTPARTICIPANT
					: ty == 3 ? ICAL_ROLE_NONPARTICIPANT
						  : ICAL_ROLE_REQPARTICIPANT));
			if (ty == 3)
				icalproperty_add_parameter(
					p, icalparameter_new_cutype(
						   ICAL_CUTYPE_RESOURCE));
			add_xparam(p, "X-EAS-TYPE", arena_printf(a, "%d", ty));
		}
		if (email == NULL)
			add_xparam(p, "X-EAS-NOEMAIL", "1");
		icalcomponent_add_property(ev, p);
	}
	return 0;
}

/* Properties a master and an exception share. unknown_r (master only)
 * collects the elements without a home. */
static int
add_common(struct arena *a, icalcomponent *ev, const struct wbxml_node *app,
	   const struct cal_tz *z, bool allday, int64_t *start_r,
	   int64_t *end_r, const struct wbxml_node **unknown, size_t *nunknown,
	   const char **error_r)
{
	const struct wbxml_node *n;
	int v;
	int64_t t;

	wbxml_foreach(app, n)
	{
		size_t i;

		switch (n->tag) {
		case EAS_CALENDAR_SUBJECT:
			icalcomponent_add_property(
				ev, icalproperty_new_summary(wbxml_text(n)));
			continue;
		case EAS_CALENDAR_LOCATION:
			icalcomponent_add_property(
				ev, icalproperty_new_location(wbxml_text(n)));
			continue;
		case EAS_AIRSYNCBASE_LOCATION: {
			const char *dn = wbxml_child_text(
				n, EAS_AIRSYNCBASE_DISPLAYNAME);

			if (dn != NULL)
				icalcomponent_add_property(
					ev, icalproperty_new_location(dn));
			conv_ical_set_x(ev, "X-EAS-LOCATION",
					conv_nodes_pack(a, &n, 1));
			continue;
		}
		case EAS_CALENDAR_STARTTIME:
		case EAS_CALENDAR_ENDTIME:
			if (check_time(a, n, &t, error_r) < 0)
				return -1;
			add_time(ev,
				 n->tag == EAS_CALENDAR_STARTTIME
					 ? ICAL_DTSTART_PROPERTY
					 : ICAL_DTEND_PROPERTY,
				 t, z, allday);
			*(n->tag == EAS_CALENDAR_STARTTIME ? start_r : end_r) =
				t;
			continue;
		case EAS_CALENDAR_DTSTAMP:
			if (check_time(a, n, &t, error_r) < 0)
				return -1;
			icalcomponent_add_property(
				ev,
				icalproperty_new_dtstamp(
					icaltime_from_timet_with_zone(
						(time_t)t, 0,
						icaltimezone_get_utc_timezone())));
			continue;
		case EAS_CALENDAR_ALLDAYEVENT:
			if (check_int(a, n, 0, 1, &v, error_r) < 0)
				return -1;
			conv_ical_set_x(ev, "X-MICROSOFT-CDO-ALLDAYEVENT",
					v ? "TRUE" : "FALSE");
			continue;
		case EAS_CALENDAR_BUSYSTATUS:
			if (check_int(a, n, 0, 5, &v, error_r) < 0)
				return -1;
			icalcomponent_add_property(
				ev, icalproperty_new_transp(
					    v == 0 ? ICAL_TRANSP_TRANSPARENT
						   : ICAL_TRANSP_OPAQUE));
			/* TRANSP says free (0) and busy (2); the others
			 * need Microsoft's property */
			if (v != 0 && v != 2)
				conv_ical_set_x(ev,
						"X-MICROSOFT-CDO-BUSYSTATUS",
						v < 5 ? busy_names[v] : "5");
			continue;
		case EAS_CALENDAR_SENSITIVITY:
			if (check_int(a, n, 0, 3, &v, error_r) < 0)
				return -1;
			icalcomponent_add_property(
				ev, icalproperty_new_class(
					    v == 0   ? ICAL_CLASS_PUBLIC
					    : v == 3 ? ICAL_CLASS_CONFIDENTIAL
						     : ICAL_CLASS_PRIVATE));
			if (v == 1)
				conv_ical_set_x(ev, "X-EAS-SENSITIVITY", "1");
			continue;
		case EAS_CALENDAR_REMINDER: {
			icalcomponent *al;
			struct icaltriggertype trig;

			if (check_int(a, n, 0, 1000000, &v, error_r) < 0)
				return -1;
			memset(&trig, 0, sizeof(trig));
			trig.time = icaltime_null_time();
			trig.duration = icaldurationtype_from_int(-v * 60);
			al = icalcomponent_new_valarm();
			icalcomponent_add_property(
				al,
				icalproperty_new_action(ICAL_ACTION_DISPLAY));
			icalcomponent_add_property(
				al, icalproperty_new_trigger(trig));
			icalcomponent_add_property(
				al, icalproperty_new_description("Reminder"));
			icalcomponent_add_component(ev, al);
			continue;
		}
		case EAS_CALENDAR_CATEGORIES:
			conv_ical_add_categories(a, ev, n);
			continue;
		case EAS_CALENDAR_ATTENDEES:
			if (add_attendees(a, ev, n, error_r) < 0)
				return -1;
			continue;
		case EAS_AIRSYNCBASE_BODY:
			conv_ical_set_body(a, ev, app);
			continue;
		case EAS_AIRSYNCBASE_NATIVEBODYTYPE:
			continue;
		default:
			break;
		}
		for (i = 0; i < N_ELEMENTS(xprops); i++) {
			if (xprops[i].tag == n->tag)
				break;
		}
		if (i < N_ELEMENTS(xprops)) {
			if ((xprops[i].kind == XK_INT &&
			     check_int(a, n, xprops[i].lo, xprops[i].hi, &v,
				       error_r) < 0) ||
			    (xprops[i].kind == XK_TIME &&
			     check_time(a, n, &t, error_r) < 0))
				return -1;
			conv_ical_set_x(ev, xprops[i].name, wbxml_text(n));
			if (n->tag == EAS_CALENDAR_MEETINGSTATUS && (v & 4))
				icalcomponent_add_property(
					ev, icalproperty_new_status(
						    ICAL_STATUS_CANCELLED));
			continue;
		}
		if (unknown == NULL)
			continue;
		switch (n->tag) {
		case EAS_CALENDAR_TIMEZONE:
		case EAS_CALENDAR_UID:
		case EAS_CALENDAR_CLIENTUID:
		case EAS_CALENDAR_ORGANIZERNAME:
		case EAS_CALENDAR_ORGANIZEREMAIL:
		case EAS_CALENDAR_RECURRENCE:
		case EAS_CALENDAR_EXCEPTIONS:
			continue; /* the master's own, done by the caller */
		default:
			break;
		}
		if (*nunknown == CAL_MAX_UNKNOWN)
			return conv_fail(a, error_r,
					 "Calendar: too many unknown elements");
		unknown[(*nunknown)++] = n;
	}
	return 0;
}

static const char *cal_merge(struct arena *a, const struct store_item *old,
			     icalcomponent *new_cal, size_t *len_r);

/* Every VEVENT of cal: its shadows get the hash of what they stand for
 * (when it is complete). */
static icalcomponent **
comps_of(struct arena *a, icalcomponent *cal, icalcomponent_kind kind,
	 size_t *n_r)
{
	size_t n = 0, i = 0;
	icalcomponent *c, **v;

	for (c = icalcomponent_get_first_component(cal, kind); c != NULL;
	     c = icalcomponent_get_next_component(cal, kind))
		n++;
	v = arena_alloc(a, (n + 1) * sizeof(*v));
	for (c = icalcomponent_get_first_component(cal, kind);
	     c != NULL && i < n;
	     c = icalcomponent_get_next_component(cal, kind))
		v[i++] = c;
	*n_r = i;
	return v;
}

static void
seal_all(struct arena *a, icalcomponent *cal)
{
	size_t n;
	icalcomponent **v = comps_of(a, cal, ICAL_VEVENT_COMPONENT, &n);

	for (size_t i = 0; i < n; i++)
		conv_ical_seal(a, cal, v[i]);
}

/* Shadows that no longer stand (the standard value was edited elsewhere)
 * go, so that sealing a changed object again cannot revive them. */
void
conv_ical_drop_stale(struct arena *a, icalcomponent *cal, icalcomponent *c)
{
	size_t n;
	icalproperty **v = props_of(a, c, ICAL_X_PROPERTY, &n);

	for (size_t i = 0; i < n; i++) {
		const char *name = icalproperty_get_x_name(v[i]);

		if (shadow_of(name) != NULL &&
		    conv_ical_shadow(a, cal, c, name) == NULL) {
			icalcomponent_remove_property(c, v[i]);
			icalproperty_free(v[i]);
		}
	}
}

static void
drop_stale_all(struct arena *a, icalcomponent *cal)
{
	size_t n;
	icalcomponent **v = comps_of(a, cal, ICAL_VEVENT_COMPONENT, &n);

	for (size_t i = 0; i < n; i++)
		conv_ical_drop_stale(a, cal, v[i]);
}

/* End of the last occurrence of a series starting at start. */
static int64_t
series_end(const char *rrule, int64_t start, int64_t duration)
{
	struct icalrecurrencetype r = icalrecurrencetype_from_string(rrule);
	icalrecur_iterator *it;
	struct icaltimetype tt, last = icaltime_null_time();
	int n = 0;

	if (r.freq == ICAL_NO_RECURRENCE)
		return start + duration;
	if (!icaltime_is_null_time(r.until))
		return (int64_t)icaltime_as_timet(r.until) + duration;
	if (r.count <= 0 || r.count > CAL_MAX_WALK)
		return INT64_MAX;
	it = icalrecur_iterator_new(
		r, icaltime_from_timet_with_zone(
			   (time_t)start, 0, icaltimezone_get_utc_timezone()));
	if (it == NULL)
		return INT64_MAX;
	while (n++ < CAL_MAX_WALK &&
	       !icaltime_is_null_time(tt = icalrecur_iterator_next(it)))
		last = tt;
	icalrecur_iterator_free(it);
	if (icaltime_is_null_time(last))
		return start + duration;
	return (int64_t)icaltime_as_timet(last) + duration;
}

static int
add_exceptions(struct arena *a, icalcomponent *cal, icalcomponent *master,
	       const struct wbxml_node *list, const char *uid,
	       const struct cal_tz *z, bool allday, const char **error_r)
{
	const struct wbxml_node *ex, *n;
	size_t count = 0;

	wbxml_foreach(list, ex)
	{
		const struct wbxml_node *id, *keep[64];
		size_t nkeep = 0;
		int64_t orig, s = 0, e = 0;
		int del = 0;
		icalcomponent *ev;

		if (++count > CAL_MAX_EXCEPTIONS)
			return conv_fail(a, error_r,
					 "Calendar: too many exceptions");
		id = wbxml_child(ex, EAS_CALENDAR_EXCEPTIONSTARTTIME);
		if (id == NULL)
			id = wbxml_child(ex, EAS_AIRSYNCBASE_INSTANCEID);
		if (id == NULL)
			return conv_fail(
				a, error_r,
				"Calendar: exception without its start time");
		if (check_time(a, id, &orig, error_r) < 0)
			return -1;
		if ((n = wbxml_child(ex, EAS_CALENDAR_DELETED)) != NULL &&
		    check_int(a, n, 0, 1, &del, error_r) < 0)
			return -1;
		if (del) {
			add_time(master, ICAL_EXDATE_PROPERTY, orig, z, allday);
			continue;
		}
		ev = icalcomponent_new_vevent();
		icalcomponent_add_component(cal, ev);
		icalcomponent_set_uid(ev, uid);
		add_time(ev, ICAL_RECURRENCEID_PROPERTY, orig, z, allday);
		if (add_common(a, ev, ex, z, allday, &s, &e, NULL, NULL,
			       error_r) < 0)
			return -1;
		if (wbxml_child(ex, EAS_CALENDAR_STARTTIME) == NULL)
			add_time(ev, ICAL_DTSTART_PROPERTY, orig, z, allday);
		wbxml_foreach(ex, n)
		{
			if (n != id && nkeep < N_ELEMENTS(keep))
				keep[nkeep++] = n;
		}
		conv_ical_set_x(ev, "X-EAS-EXCEPTION",
				conv_nodes_pack(a, keep, nkeep));
	}
	return 0;
}

int
conv_calendar_from_eas(struct arena *a, const struct wbxml_node *appdata,
		       const struct conv_ctx *ctx, const struct store_item *old,
		       struct store_item *item_r, const char **error_r)
{
	const struct wbxml_node *n, *unknown[CAL_MAX_UNKNOWN];
	size_t nunknown = 0;
	struct cal_tz z;
	icalcomponent *cal, *ev;
	const char *uid = NULL, *rrule = NULL, *subject, *tzb64;
	int64_t start = 0, end = 0, dtstamp;
	int allday = 0;

	memset(&z, 0, sizeof(z));
	z.ctx = ctx;
	tzb64 = wbxml_child_text(appdata, EAS_CALENDAR_TIMEZONE);
	if (tzb64 != NULL) {
		if (conv_tz_decode(a, tzb64, strlen(tzb64), &z.tz, error_r) < 0)
			return -1;
		z.have = true;
		z.tzid = conv_tz_tzid(a, &z.tz);
	}
	if ((n = wbxml_child(appdata, EAS_CALENDAR_ALLDAYEVENT)) != NULL &&
	    check_int(a, n, 0, 1, &allday, error_r) < 0)
		return -1;
	if ((n = wbxml_child(appdata, EAS_CALENDAR_RECURRENCE)) != NULL &&
	    conv_rrule_from_eas(a, n, &conv_rec_calendar, &rrule, error_r) < 0)
		return -1;
	/* MS-ASCAL 2.2.2.47: the client's UID up to 14.1; in 16.x the
	 * server owns it and the client sends ClientUid. */
	if (ctx == NULL || ctx->version < 160)
		uid = wbxml_child_text(appdata, EAS_CALENDAR_UID);
	if (uid == NULL)
		uid = conv_ical_old_uid(a, old, ICAL_VEVENT_COMPONENT);
	if (uid == NULL)
		uid = conv_ical_new_uid(a);

	cal = icalcomponent_new_vcalendar();
	icalcomponent_add_property(
		cal, icalproperty_new_prodid("-//easd//EAS calendar//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	if (z.have)
		icalcomponent_add_component(cal,
					    conv_tz_vtimezone(&z.tz, z.tzid));
	ev = icalcomponent_new_vevent();
	icalcomponent_add_component(cal, ev);
	icalcomponent_set_uid(ev, uid);
	if (add_common(a, ev, appdata, &z, allday, &start, &end, unknown,
		       &nunknown, error_r) < 0)
		goto fail;
	if (wbxml_child(appdata, EAS_CALENDAR_DTSTAMP) == NULL) {
		dtstamp = time_now();
		icalcomponent_add_property(
			ev,
			icalproperty_new_dtstamp(icaltime_from_timet_with_zone(
				(time_t)dtstamp, 0,
				icaltimezone_get_utc_timezone())));
	}
	if (wbxml_child(appdata, EAS_CALENDAR_STARTTIME) == NULL) {
		conv_fail(a, error_r, "Calendar: StartTime missing");
		goto fail;
	}
	if (wbxml_child(appdata, EAS_CALENDAR_ENDTIME) == NULL)
		end = start;
	if (end < start) {
		conv_fail(a, error_r, "Calendar: EndTime before StartTime");
		goto fail;
	}
	wbxml_foreach(appdata, n)
	{
		switch (n->tag) {
		case EAS_CALENDAR_TIMEZONE:
			conv_ical_set_x(ev, "X-EAS-TIMEZONE", wbxml_text(n));
			break;
		case EAS_CALENDAR_CLIENTUID:
			conv_ical_set_x(ev, "X-EAS-CLIENTUID", wbxml_text(n));
			break;
		case EAS_CALENDAR_ORGANIZERNAME:
		case EAS_CALENDAR_ORGANIZEREMAIL:
			break;
		case EAS_CALENDAR_RECURRENCE:
			icalcomponent_add_property(
				ev,
				icalproperty_new_rrule(
					icalrecurrencetype_from_string(rrule)));
			conv_ical_set_x(ev, "X-EAS-RECURRENCE",
					conv_nodes_pack(a, &n, 1));
			break;
		case EAS_CALENDAR_EXCEPTIONS:
			if (rrule == NULL) {
				conv_fail(a, error_r,
					  "Calendar: Exceptions without "
					  "Recurrence");
				goto fail;
			}
			if (add_exceptions(a, cal, ev, n, uid, &z, allday,
					   error_r) < 0)
				goto fail;
			break;
		default:
			break;
		}
	}
	{
		const char *on =
			wbxml_child_text(appdata, EAS_CALENDAR_ORGANIZERNAME);
		const char *oe =
			wbxml_child_text(appdata, EAS_CALENDAR_ORGANIZEREMAIL);

		if (on != NULL || oe != NULL) {
			icalproperty *p =
				icalproperty_new_organizer(arena_printf(
					a, "mailto:%s", oe != NULL ? oe : ""));

			if (on != NULL)
				icalproperty_add_parameter(
					p, icalparameter_new_cn(on));
			if (oe == NULL)
				add_xparam(p, "X-EAS-NOEMAIL", "1");
			icalcomponent_add_property(ev, p);
		}
	}
	if (nunknown > 0)
		conv_ical_set_x(ev, "X-EAS-NODES",
				conv_nodes_pack(a, unknown, nunknown));
	seal_all(a, cal);
	subject = wbxml_child_text(appdata, EAS_CALENDAR_SUBJECT);
	memset(&item_r->meta, 0, sizeof(item_r->meta));
	item_r->meta.date = start;
	item_r->meta.date_end =
		rrule != NULL ? series_end(rrule, start, end - start) : end;
	item_r->meta.uid = arena_strdup(a, uid);
	item_r->meta.subject =
		subject != NULL ? arena_strdup(a, subject) : NULL;
	{
		const char *merged = cal_merge(a, old, cal, &item_r->data_len);

		if (merged != NULL) {
			icalcomponent_free(cal);
			item_r->data = (const uint8_t *)merged;
		} else {
			item_r->data = (const uint8_t *)conv_ical_finish(
				a, cal, &item_r->data_len);
		}
	}
	item_r->extra = NULL;
	item_r->extra_len = 0;
	return 0;
fail:
	icalcomponent_free(cal);
	return -1;
}

/* --- iCalendar -> EAS --- */

/* Zones a conversion looked up, by TZID: an event and its exceptions
 * read many times in the same few zones. */
struct zone_memo {
	const char *tzid[4];
	icaltimezone *zone[4];
	size_t n;
};

/* How to read the local times of a stored event. */
struct read_tz {
	bool have_blob;
	struct conv_tz tz;
	const char *blob;   /* our own X-EAS-TIMEZONE text */
	icaltimezone *zone; /* imported: the VTIMEZONE or built-in zone */
	const char *tzid;   /* the TZID of the master's DTSTART, or NULL */
	const struct conv_ctx *ctx; /* dates without a zone: the device's */
	struct zone_memo *memo;	    /* NULL: none */
};

static icaltimezone *
zone_of(icalcomponent *cal, const struct read_tz *rt, const char *tzid)
{
	struct zone_memo *m = rt->memo;
	icaltimezone *z;

	for (size_t i = 0; m != NULL && i < m->n; i++)
		if (strcmp(m->tzid[i], tzid) == 0)
			return m->zone[i];
	z = conv_ical_zone(cal, tzid);
	if (m != NULL && m->n < N_ELEMENTS(m->tzid)) {
		m->tzid[m->n] = tzid;
		m->zone[m->n++] = z;
	}
	return z;
}

/* UTC seconds of a DATE-TIME property; for a DATE, the local midnight
 * (written as if UTC) with *is_date set. */
static int64_t
read_time(icalcomponent *cal, icalproperty *p, const struct read_tz *rt,
	  bool *is_date)
{
	struct icaltimetype tt =
		icalvalue_get_datetime(icalproperty_get_value(p));
	icalparameter *tzp =
		icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	int64_t local;

	*is_date = tt.is_date != 0;
	tt.zone = NULL;
	local = (int64_t)icaltime_as_timet(tt);
	if (tt.is_date ||
	    icaltime_is_utc(icalvalue_get_datetime(icalproperty_get_value(p))))
		return local;
	if (tzp == NULL)
		return local; /* floating: taken as UTC */
	if (rt->have_blob)
		return conv_tz_local_to_utc(&rt->tz, local);
	{
		icaltimezone *z = zone_of(cal, rt, icalparameter_get_tzid(tzp));

		if (z == NULL)
			return local;
		return (int64_t)icaltime_as_timet_with_zone(tt, z);
	}
}

/* A DATE's local midnight as the UTC instant a <=14.1 client expects. */
static int64_t
date_to_utc(const struct read_tz *rt, int64_t local)
{
	if (rt->have_blob)
		return conv_tz_local_to_utc(&rt->tz, local);
	if (rt->zone != NULL) {
		struct icaltimetype tt =
			icaltime_from_timet_with_zone((time_t)local, 0, NULL);

		return (int64_t)icaltime_as_timet_with_zone(tt, rt->zone);
	}
	/* a date without a zone is the device's local midnight */
	return rt->ctx != NULL ? conv_date_to_eas(rt->ctx, local) : local;
}

/* How the master's local times are read: our own TimeZone blob, else the
 * zone its DTSTART names (made into a blob for the device). *start_r is
 * the master's start in UTC, *allday_r whether it is a DATE. */
static int
read_tz_init(struct arena *a, icalcomponent *cal, icalcomponent *master,
	     const struct conv_ctx *ctx, struct read_tz *rt, bool *allday_r,
	     int64_t *start_r, const char **error_r)
{
	icalproperty *p;
	icalparameter *tzp;

	memset(rt, 0, sizeof(*rt));
	rt->ctx = ctx;
	rt->memo = arena_new_struct(a, struct zone_memo);
	rt->blob = conv_ical_shadow(a, cal, master, "X-EAS-TIMEZONE");
	if (rt->blob != NULL) {
		if (conv_tz_decode(a, rt->blob, strlen(rt->blob), &rt->tz,
				   error_r) < 0)
			return -1;
		rt->have_blob = true;
	}
	p = icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
	if (p == NULL)
		return conv_fail(a, error_r,
				 "iCalendar: VEVENT without DTSTART");
	tzp = icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	if (tzp != NULL)
		rt->tzid = arena_strdup(a, icalparameter_get_tzid(tzp));
	if (!rt->have_blob && tzp != NULL)
		rt->zone = zone_of(cal, rt, icalparameter_get_tzid(tzp));
	*start_r = read_time(cal, p, rt, allday_r);
	if (*allday_r)
		*start_r = date_to_utc(rt, *start_r);
	if (!rt->have_blob && rt->zone != NULL) {
		conv_tz_from_ical(rt->zone, *start_r, &rt->tz);
		rt->have_blob = true;
		rt->blob = conv_tz_encode(a, &rt->tz);
	}
	return 0;
}

static void
add_compact(struct arena *a, struct wbxml_node *parent, uint16_t tag, int64_t t)
{
	char buf[32];

	time_format_compact(t, buf);
	wbxml_add_text(a, parent, tag, buf);
}

static int64_t
out_time(icalcomponent *cal, icalproperty *p, const struct read_tz *rt,
	 const struct conv_ctx *ctx)
{
	bool is_date;
	int64_t t = read_time(cal, p, rt, &is_date);

	if (is_date && (ctx == NULL || ctx->version < 160))
		t = date_to_utc(rt, t);
	return t;
}

static const char *
param_x(icalproperty *p, const char *name)
{
	icalparameter *x;

	for (x = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER);
	     x != NULL;
	     x = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER)) {
		const char *n = icalparameter_get_xname(x);

		if (n != NULL && strcasecmp(n, name) == 0)
			return icalparameter_get_xvalue(x);
	}
	return NULL;
}

static const char *
strip_mailto(const char *v)
{
	return v != NULL && strncasecmp(v, "mailto:", 7) == 0 ? v + 7
	       : v != NULL				      ? v
							      : "";
}

static void
emit_attendees(struct arena *a, icalcomponent *ev, struct wbxml_node *app)
{
	struct wbxml_node *list = NULL;
	icalproperty *p;

	for (p = icalcomponent_get_first_property(ev, ICAL_ATTENDEE_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY)) {
		struct wbxml_node *at;
		icalparameter *cn =
			icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
		icalparameter *ps = icalproperty_get_first_parameter(
			p, ICAL_PARTSTAT_PARAMETER);
		icalparameter *role = icalproperty_get_first_parameter(
			p, ICAL_ROLE_PARAMETER);
		icalparameter *cut = icalproperty_get_first_parameter(
			p, ICAL_CUTYPE_PARAMETER);
		bool ours = conv_ical_params_stand(p);
		const char *st = ours ? param_x(p, "X-EAS-STATUS") : NULL;
		const char *ty = ours ? param_x(p, "X-EAS-TYPE") : NULL;

		if (list == NULL)
			list = wbxml_add(a, app, EAS_CALENDAR_ATTENDEES);
		at = wbxml_add(a, list, EAS_CALENDAR_ATTENDEE);
		if (!ours || param_x(p, "X-EAS-NOEMAIL") == NULL)
			wbxml_add_text(
				a, at, EAS_CALENDAR_EMAIL,
				strip_mailto(icalproperty_get_attendee(p)));
		if (cn != NULL)
			wbxml_add_text(a, at, EAS_CALENDAR_NAME,
				       icalparameter_get_cn(cn));
		if (st != NULL) {
			wbxml_add_text(a, at, EAS_CALENDAR_ATTENDEESTATUS, st);
		} else if (ps != NULL) {
			switch (icalparameter_get_partstat(ps)) {
			case ICAL_PARTSTAT_ACCEPTED:
				st = "3";
				break;
			case ICAL_PARTSTAT_DECLINED:
				st = "4";
				break;
			case ICAL_PARTSTAT_TENTATIVE:
				st = "2";
				break;
			default:
				st = "5";
				break;
			}
			wbxml_add_text(a, at, EAS_CALENDAR_ATTENDEESTATUS, st);
		}
		if (ty != NULL) {
			wbxml_add_text(a, at, EAS_CALENDAR_ATTENDEETYPE, ty);
		} else if (role != NULL || cut != NULL) {
			ty = cut != NULL && icalparameter_get_cutype(cut) ==
						     ICAL_CUTYPE_RESOURCE
				     ? "3"
			     : role != NULL &&
					     (icalparameter_get_role(role) ==
						      ICAL_ROLE_OPTPARTICIPANT ||
					      icalparameter_get_role(role) ==
						      ICAL_ROLE_NONPARTICIPANT)
				     ? "2"
				     : "1";
			wbxml_add_text(a, at, EAS_CALENDAR_ATTENDEETYPE, ty);
		}
	}
}

/* A packed Location of one version, as the other version expects it. */
static void
fix_location(struct arena *a, struct wbxml_node *app,
	     const struct conv_ctx *ctx)
{
	struct wbxml_node *n;
	bool v16 = ctx != NULL && ctx->version >= 160;

	for (n = app->child; n != NULL; n = n->next) {
		if (!v16 && n->tag == EAS_AIRSYNCBASE_LOCATION) {
			const char *dn = wbxml_child_text(
				n, EAS_AIRSYNCBASE_DISPLAYNAME);

			n->tag = EAS_CALENDAR_LOCATION;
			n->child = n->last = NULL;
			n->data = (const uint8_t *)arena_strdup(
				a, dn != NULL ? dn : "");
			n->len = strlen((const char *)n->data);
			n->opaque = false;
		} else if (v16 && n->tag == EAS_CALENDAR_LOCATION) {
			const char *t = wbxml_text(n);

			n->tag = EAS_AIRSYNCBASE_LOCATION;
			n->data = NULL;
			n->len = 0;
			wbxml_add_text(a, n, EAS_AIRSYNCBASE_DISPLAYNAME, t);
		}
	}
}

static void
emit_common(struct arena *a, icalcomponent *cal, icalcomponent *ev,
	    const struct read_tz *rt, const struct conv_ctx *ctx,
	    struct wbxml_node *app)
{
	icalproperty *p;
	icalcomponent *al;
	const char *v;
	bool v16 = ctx != NULL && ctx->version >= 160;
	bool is_date = false;

	if ((p = icalcomponent_get_first_property(ev, ICAL_SUMMARY_PROPERTY)))
		wbxml_add_text(a, app, EAS_CALENDAR_SUBJECT,
			       icalproperty_get_summary(p));
	v = conv_ical_shadow(a, cal, ev, "X-EAS-LOCATION");
	if (v16 && v != NULL) {
		conv_nodes_unpack(a, v, strlen(v), app);
	} else if ((p = icalcomponent_get_first_property(
			    ev, ICAL_LOCATION_PROPERTY)) != NULL) {
		if (v16)
			wbxml_add_text(
				a, wbxml_add(a, app, EAS_AIRSYNCBASE_LOCATION),
				EAS_AIRSYNCBASE_DISPLAYNAME,
				icalproperty_get_location(p));
		else
			wbxml_add_text(a, app, EAS_CALENDAR_LOCATION,
				       icalproperty_get_location(p));
	}
	if ((p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY))) {
		read_time(cal, p, rt, &is_date);
		add_compact(a, app, EAS_CALENDAR_STARTTIME,
			    out_time(cal, p, rt, ctx));
	}
	if ((p = icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY)))
		add_compact(a, app, EAS_CALENDAR_ENDTIME,
			    out_time(cal, p, rt, ctx));
	if ((p = icalcomponent_get_first_property(ev, ICAL_DTSTAMP_PROPERTY)))
		add_compact(a, app, EAS_CALENDAR_DTSTAMP,
			    (int64_t)icaltime_as_timet(
				    icalproperty_get_dtstamp(p)));
	v = conv_ical_shadow(a, cal, ev, "X-MICROSOFT-CDO-ALLDAYEVENT");
	if (v != NULL)
		wbxml_add_text(a, app, EAS_CALENDAR_ALLDAYEVENT,
			       strcasecmp(v, "TRUE") == 0 ? "1" : "0");

	v = conv_ical_shadow(a, cal, ev, "X-MICROSOFT-CDO-BUSYSTATUS");
	if (v != NULL) {
		size_t i;

		for (i = 0; i < N_ELEMENTS(busy_names); i++) {
			if (strcasecmp(v, busy_names[i]) == 0)
				break;
		}
		wbxml_add_text(a, app, EAS_CALENDAR_BUSYSTATUS,
			       i < N_ELEMENTS(busy_names)
				       ? arena_printf(a, "%zu", i)
				       : v);
	} else if ((p = icalcomponent_get_first_property(
			    ev, ICAL_TRANSP_PROPERTY)) != NULL) {
		wbxml_add_text(a, app, EAS_CALENDAR_BUSYSTATUS,
			       icalproperty_get_transp(p) ==
					       ICAL_TRANSP_TRANSPARENT
				       ? "0"
				       : "2");
	}
	v = conv_ical_shadow(a, cal, ev, "X-EAS-SENSITIVITY");
	if (v != NULL) {
		wbxml_add_text(a, app, EAS_CALENDAR_SENSITIVITY, v);
	} else if ((p = icalcomponent_get_first_property(
			    ev, ICAL_CLASS_PROPERTY)) != NULL) {
		enum icalproperty_class c = icalproperty_get_class(p);

		wbxml_add_text(a, app, EAS_CALENDAR_SENSITIVITY,
			       c == ICAL_CLASS_PRIVATE	      ? "2"
			       : c == ICAL_CLASS_CONFIDENTIAL ? "3"
							      : "0");
	}
	al = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT);
	if (al != NULL &&
	    (p = icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY))) {
		struct icaltriggertype trig = icalproperty_get_trigger(p);

		if (icaltime_is_null_time(trig.time)) {
			int secs = icaldurationtype_as_int(trig.duration);

			wbxml_add_int(a, app, EAS_CALENDAR_REMINDER,
				      secs <= 0 ? -secs / 60 : 0);
		}
	}
	conv_ical_get_categories(a, cal, ev, app, EAS_CALENDAR_CATEGORIES,
				 EAS_CALENDAR_CATEGORY);
	emit_attendees(a, ev, app);
	conv_ical_get_body(a, cal, ev, ctx, app);
	for (size_t i = 0; i < N_ELEMENTS(xprops); i++) {
		v = conv_ical_get_x(a, ev, xprops[i].name);
		if (v != NULL)
			wbxml_add_text(a, app, xprops[i].tag, v);
	}
}

/* The original start of an occurrence: airsyncbase:InstanceId from 16.0
 * on, always in the compact form (MS-ASAIRS 2.2.2.25), else
 * ExceptionStartTime. */
static void
emit_instance_id(struct arena *a, struct wbxml_node *ex, int64_t t,
		 const struct conv_ctx *ctx)
{
	add_compact(a, ex,
		    ctx != NULL && ctx->version >= 160
			    ? EAS_AIRSYNCBASE_INSTANCEID
			    : EAS_CALENDAR_EXCEPTIONSTARTTIME,
		    t);
}

static int calendar_to_eas(struct arena *a, icalcomponent *cal,
			   const struct conv_ctx *ctx,
			   struct wbxml_node *appdata, const char **error_r);

int
conv_calendar_to_eas(struct arena *a, const struct store_item *item,
		     const struct conv_ctx *ctx, struct wbxml_node *appdata,
		     const char **error_r)
{
	icalcomponent *cal;

	if (item->data == NULL)
		return conv_fail(a, error_r, "calendar item without data");
	cal = conv_ical_parse(a, (const char *)item->data, item->data_len,
			      error_r);
	if (cal == NULL)
		return -1;
	return calendar_to_eas(a, cal, ctx, appdata, error_r);
}

/* The EAS view of a parsed calendar (which it does not change). */
static int
calendar_to_eas(struct arena *a, icalcomponent *cal, const struct conv_ctx *ctx,
		struct wbxml_node *appdata, const char **error_r)
{
	icalcomponent *ev, *master = NULL, *c;
	struct read_tz rt;
	struct wbxml_node *exlist = NULL;
	icalproperty *p;
	const char *v;
	bool v16 = ctx != NULL && ctx->version >= 160, allday = false;
	int64_t start = 0;

	for (ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     ev != NULL; ev = icalcomponent_get_next_component(
				 cal, ICAL_VEVENT_COMPONENT)) {
		if (icalcomponent_get_first_property(
			    ev, ICAL_RECURRENCEID_PROPERTY) == NULL) {
			master = ev;
			break;
		}
	}
	if (master == NULL)
		return conv_fail(a, error_r, "iCalendar: no VEVENT");
	if (read_tz_init(a, cal, master, ctx, &rt, &allday, &start, error_r) <
	    0)
		return -1;
	v = conv_ical_shadow(a, cal, master, "X-MICROSOFT-CDO-ALLDAYEVENT");
	if (v != NULL)
		allday = strcasecmp(v, "TRUE") == 0;
	/* 16.x all-day events carry no TimeZone (MS-ASCAL 2.2.2.46). */
	if (!(v16 && allday)) {
		if (rt.blob != NULL) {
			wbxml_add_text(a, appdata, EAS_CALENDAR_TIMEZONE,
				       rt.blob);
		} else if (allday) {
			/* the dates are the device's local midnights */
			wbxml_add_text(a, appdata, EAS_CALENDAR_TIMEZONE,
				       conv_tz_encode(a, conv_date_zone(ctx)));
		} else {
			struct conv_tz utc;

			memset(&utc, 0, sizeof(utc));
			wbxml_add_text(a, appdata, EAS_CALENDAR_TIMEZONE,
				       conv_tz_encode(a, &utc));
		}
	}
	emit_common(a, cal, master, &rt, ctx, appdata);
	if (v == NULL && allday)
		wbxml_add_text(a, appdata, EAS_CALENDAR_ALLDAYEVENT, "1");
	if (icalcomponent_get_first_property(master, ICAL_DTEND_PROPERTY) ==
	    NULL) {
		/* EndTime is always sent: from DURATION, or the start. */
		struct icaldurationtype d = icalcomponent_get_duration(master);
		int secs = icaldurationtype_is_null_duration(d)
				   ? 0
				   : icaldurationtype_as_int(d);

		if (allday && secs == 0)
			secs = 86400;
		add_compact(a, appdata, EAS_CALENDAR_ENDTIME,
			    v16 && allday ? start + secs : start + secs);
	}
	if (icalcomponent_get_uid(master) != NULL)
		wbxml_add_text(a, appdata, EAS_CALENDAR_UID,
			       icalcomponent_get_uid(master));
	if ((p = icalcomponent_get_first_property(
		     master, ICAL_ORGANIZER_PROPERTY)) != NULL) {
		icalparameter *cn =
			icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);

		if (cn != NULL)
			wbxml_add_text(a, appdata, EAS_CALENDAR_ORGANIZERNAME,
				       icalparameter_get_cn(cn));
		if (!conv_ical_params_stand(p) ||
		    param_x(p, "X-EAS-NOEMAIL") == NULL)
			wbxml_add_text(
				a, appdata, EAS_CALENDAR_ORGANIZEREMAIL,
				strip_mailto(icalproperty_get_organizer(p)));
	}
	v = conv_ical_shadow(a, cal, master, "X-EAS-RECURRENCE");
	if (v != NULL) {
		if (conv_nodes_unpack(a, v, strlen(v), appdata) < 0)
			return conv_fail(a, error_r, "bad X-EAS-RECURRENCE");
	} else if ((p = icalcomponent_get_first_property(
			    master, ICAL_RRULE_PROPERTY)) != NULL) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		struct icaltimetype dt = icaltime_from_timet_with_zone(
			(time_t)(rt.have_blob
					 ? conv_tz_utc_to_local(&rt.tz, start)
					 : start),
			0, NULL);

		conv_rrule_to_eas(a, &r, dt, &conv_rec_calendar, appdata);
	}
	for (p = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(
				master, ICAL_EXDATE_PROPERTY)) {
		struct wbxml_node *ex;

		if (exlist == NULL)
			exlist = wbxml_add(a, appdata, EAS_CALENDAR_EXCEPTIONS);
		ex = wbxml_add(a, exlist, EAS_CALENDAR_EXCEPTION);
		wbxml_add_text(a, ex, EAS_CALENDAR_DELETED, "1");
		emit_instance_id(a, ex, out_time(cal, p, &rt, ctx), ctx);
	}
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		struct wbxml_node *ex;
		icalproperty *rid;

		if (c == master ||
		    (rid = icalcomponent_get_first_property(
			     c, ICAL_RECURRENCEID_PROPERTY)) == NULL)
			continue;
		if (exlist == NULL)
			exlist = wbxml_add(a, appdata, EAS_CALENDAR_EXCEPTIONS);
		ex = wbxml_add(a, exlist, EAS_CALENDAR_EXCEPTION);
		v = conv_ical_shadow(a, cal, c, "X-EAS-EXCEPTION");
		if (v != NULL) {
			if (conv_nodes_unpack(a, v, strlen(v), ex) < 0)
				return conv_fail(a, error_r,
						 "bad X-EAS-EXCEPTION");
			fix_location(a, ex, ctx);
		} else {
			emit_common(a, cal, c, &rt, ctx, ex);
		}
		emit_instance_id(a, ex, out_time(cal, rid, &rt, ctx), ctx);
	}
	v = conv_ical_get_x(a, master, "X-EAS-NODES");
	if (v != NULL && conv_nodes_unpack(a, v, strlen(v), appdata) < 0)
		return conv_fail(a, error_r, "bad X-EAS-NODES");
	return 0;
}

/* --- where EAS elements live in a VEVENT --- */

/* Whether p is (part of) the standard home of the Calendar element tag:
 * what a client that sends tag replaces. The Reminder's home is a
 * component (cal_reminder_alarm). */
static bool
cal_home_of(uint16_t tag, icalproperty *p)
{
	icalproperty_kind k = icalproperty_isa(p);
	const char *x =
		k == ICAL_X_PROPERTY ? icalproperty_get_x_name(p) : NULL;

#define XIS(name) (x != NULL && strcasecmp(x, name) == 0)
	switch (tag) {
	case EAS_CALENDAR_SUBJECT:
		return k == ICAL_SUMMARY_PROPERTY;
	case EAS_CALENDAR_LOCATION:
	case EAS_AIRSYNCBASE_LOCATION:
		return k == ICAL_LOCATION_PROPERTY || XIS("X-EAS-LOCATION");
	case EAS_CALENDAR_STARTTIME:
		return k == ICAL_DTSTART_PROPERTY;
	case EAS_CALENDAR_ENDTIME:
		return k == ICAL_DTEND_PROPERTY || k == ICAL_DURATION_PROPERTY;
	case EAS_CALENDAR_DTSTAMP:
		return k == ICAL_DTSTAMP_PROPERTY;
	case EAS_CALENDAR_ALLDAYEVENT:
		return XIS("X-MICROSOFT-CDO-ALLDAYEVENT");
	case EAS_CALENDAR_BUSYSTATUS:
		return k == ICAL_TRANSP_PROPERTY ||
		       XIS("X-MICROSOFT-CDO-BUSYSTATUS");
	case EAS_CALENDAR_SENSITIVITY:
		return k == ICAL_CLASS_PROPERTY || XIS("X-EAS-SENSITIVITY");
	case EAS_CALENDAR_CATEGORIES:
		return k == ICAL_CATEGORIES_PROPERTY || XIS("X-EAS-CATEGORIES");
	case EAS_CALENDAR_ATTENDEES:
		return k == ICAL_ATTENDEE_PROPERTY;
	case EAS_AIRSYNCBASE_BODY:
		return k == ICAL_DESCRIPTION_PROPERTY || XIS("X-ALT-DESC") ||
		       XIS("X-EAS-BODYTYPE") || XIS("X-EAS-NL") ||
		       XIS("X-EAS-BODY64");
	case EAS_CALENDAR_MEETINGSTATUS:
		/* STATUS only as far as it says "cancelled" */
		return XIS("X-EAS-MEETINGSTATUS") ||
		       (k == ICAL_STATUS_PROPERTY &&
			icalproperty_get_status(p) == ICAL_STATUS_CANCELLED);
	case EAS_CALENDAR_ORGANIZERNAME:
	case EAS_CALENDAR_ORGANIZEREMAIL:
		return k == ICAL_ORGANIZER_PROPERTY;
	case EAS_CALENDAR_RECURRENCE:
		return k == ICAL_RRULE_PROPERTY || XIS("X-EAS-RECURRENCE");
	case EAS_CALENDAR_EXCEPTIONS:
		return k == ICAL_EXDATE_PROPERTY;
	case EAS_CALENDAR_TIMEZONE:
		return XIS("X-EAS-TIMEZONE");
	case EAS_CALENDAR_UID:
		return k == ICAL_UID_PROPERTY;
	case EAS_CALENDAR_CLIENTUID:
		return XIS("X-EAS-CLIENTUID");
	default:
		break;
	}
	for (size_t i = 0; i < N_ELEMENTS(xprops); i++)
		if (xprops[i].tag == tag)
			return XIS(xprops[i].name);
#undef XIS
	return false;
}

/* The VALARM a Reminder is read from and written to: the first one with
 * a trigger relative to the start. */
static icalcomponent *
cal_reminder_alarm(icalcomponent *ev)
{
	icalcomponent *al;

	for (al = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT);
	     al != NULL;
	     al = icalcomponent_get_next_component(ev, ICAL_VALARM_COMPONENT)) {
		icalproperty *t = icalcomponent_get_first_property(
			al, ICAL_TRIGGER_PROPERTY);

		if (t != NULL &&
		    icaltime_is_null_time(icalproperty_get_trigger(t).time))
			return al;
	}
	return NULL;
}

/* Remove from ev the standard homes of the elements with these tags. */
static void
cal_remove_homes(icalcomponent *ev, const uint16_t *tags, size_t ntags)
{
	icalproperty *p, *next;

	for (p = icalcomponent_get_first_property(ev, ICAL_ANY_PROPERTY);
	     p != NULL; p = next) {
		bool home = false;

		next = icalcomponent_get_next_property(ev, ICAL_ANY_PROPERTY);
		for (size_t i = 0; i < ntags && !home; i++)
			home = cal_home_of(tags[i], p);
		if (home) {
			icalcomponent_remove_property(ev, p);
			icalproperty_free(p);
		}
	}
	for (size_t i = 0; i < ntags; i++) {
		icalcomponent *al;

		if (tags[i] == EAS_CALENDAR_REMINDER &&
		    (al = cal_reminder_alarm(ev)) != NULL) {
			icalcomponent_remove_component(ev, al);
			icalcomponent_free(al);
		}
	}
}

/* Move every property and component of from into to (from ends empty). */
static void
cal_move_all(icalcomponent *from, icalcomponent *to)
{
	icalproperty *p;
	icalcomponent *c;

	while ((p = icalcomponent_get_first_property(from,
						     ICAL_ANY_PROPERTY))) {
		icalcomponent_remove_property(from, p);
		icalcomponent_add_property(to, p);
	}
	while ((c = icalcomponent_get_first_component(from,
						      ICAL_ANY_COMPONENT))) {
		icalcomponent_remove_component(from, c);
		icalcomponent_add_component(to, c);
	}
}

static void
cal_remove_kind(icalcomponent *ev, icalproperty_kind kind, const char *xname)
{
	icalproperty *p, *next;

	for (p = icalcomponent_get_first_property(ev, kind); p != NULL;
	     p = next) {
		next = icalcomponent_get_next_property(ev, kind);
		if (xname != NULL &&
		    (icalproperty_get_x_name(p) == NULL ||
		     strcasecmp(icalproperty_get_x_name(p), xname) != 0))
			continue;
		icalcomponent_remove_property(ev, p);
		icalproperty_free(p);
	}
}

/* --- one occurrence of a series (16.x Sync Change/Delete + InstanceId) */

/* The zone a new occurrence time is written in: the master's own. */
static void
cal_tz_of_master(const struct read_tz *rt, struct cal_tz *z)
{
	memset(z, 0, sizeof(*z));
	z->ctx = rt->ctx;
	if (rt->tzid != NULL && rt->have_blob) {
		z->have = true;
		z->tz = rt->tz;
		z->tzid = rt->tzid;
	}
}

/* End minus start of the master, in seconds. */
static int64_t
master_duration(icalcomponent *cal, icalcomponent *master,
		const struct read_tz *rt, int64_t start)
{
	icalproperty *p =
		icalcomponent_get_first_property(master, ICAL_DTEND_PROPERTY);
	struct icaldurationtype d;
	bool is_date;
	int64_t end;

	if (p != NULL) {
		end = read_time(cal, p, rt, &is_date);
		if (is_date)
			end = date_to_utc(rt, end);
		return end > start ? end - start : 0;
	}
	d = icalcomponent_get_duration(master);
	return icaldurationtype_is_null_duration(d)
		       ? 0
		       : icaldurationtype_as_int(d);
}

int
conv_calendar_instance(struct arena *a, const struct store_item *old,
		       int64_t instance, const struct wbxml_node *sent,
		       const struct wbxml_node *appdata,
		       const struct conv_ctx *ctx, struct store_item *item_r,
		       const char **error_r)
{
	icalcomponent *cal, *master = NULL, *ov = NULL, *c;
	icalproperty *p, *exd = NULL;
	struct read_tz rt;
	struct cal_tz z;
	bool allday = false, v16 = ctx != NULL && ctx->version >= 160;
	int64_t start, orig, s = 0, e = 0;
	const char *uid;

	if (old->data == NULL)
		return conv_fail(a, error_r, "calendar item without data");
	cal = conv_ical_parse(a, (const char *)old->data, old->data_len,
			      error_r);
	if (cal == NULL)
		return -1;
	drop_stale_all(a, cal);
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		if (icalcomponent_get_first_property(
			    c, ICAL_RECURRENCEID_PROPERTY) == NULL) {
			master = c;
			break;
		}
	if (master == NULL)
		return conv_fail(a, error_r, "iCalendar: no VEVENT");
	if (read_tz_init(a, cal, master, ctx, &rt, &allday, &start, error_r) <
	    0)
		return -1;
	if (icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY) ==
		    NULL &&
	    icalcomponent_get_first_property(master, ICAL_RDATE_PROPERTY) ==
		    NULL)
		return conv_fail(a, error_r,
				 "Calendar: InstanceId on an event that does "
				 "not recur");
	{
		const char *ad = conv_ical_shadow(
			a, cal, master, "X-MICROSOFT-CDO-ALLDAYEVENT");

		if (ad != NULL)
			allday = strcasecmp(ad, "TRUE") == 0;
	}
	/* What the device sent is what out_time gave it: for an all-day
	 * series at 16.x the local midnight written as UTC. */
	orig = allday && v16 ? date_to_utc(&rt, instance) : instance;
	for (c = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		icalproperty *rid = icalcomponent_get_first_property(
			c, ICAL_RECURRENCEID_PROPERTY);

		if (c != master && rid != NULL &&
		    out_time(cal, rid, &rt, ctx) == instance)
			ov = c;
	}
	for (p = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(master, ICAL_EXDATE_PROPERTY))
		if (out_time(cal, p, &rt, ctx) == instance)
			exd = p;
	cal_tz_of_master(&rt, &z);
	if (appdata == NULL) {
		/* MS-ASCMD 2.2.3.42.2: the occurrence goes, the series
		 * stays. */
		if (ov != NULL) {
			icalcomponent_remove_component(cal, ov);
			icalcomponent_free(ov);
		}
		if (exd == NULL)
			add_time(master, ICAL_EXDATE_PROPERTY, orig, &z,
				 allday);
	} else {
		icalcomponent *fresh = icalcomponent_new_vevent();
		uint16_t tags[128];
		size_t ntags = 0;
		const struct wbxml_node *n;
		const char *ad =
			wbxml_child_text(appdata, EAS_CALENDAR_ALLDAYEVENT);
		bool ov_allday = ad != NULL ? strcmp(ad, "1") == 0 : allday;

		if (exd != NULL) {
			icalcomponent_remove_property(master, exd);
			icalproperty_free(exd);
		}
		if (ov == NULL) {
			/* A new override starts as the occurrence is: the
			 * series' properties at its own time. */
			int64_t dur = master_duration(cal, master, &rt, start);

			ov = icalcomponent_new_clone(master);
			cal_remove_kind(ov, ICAL_RRULE_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_RDATE_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_EXDATE_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_EXRULE_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_DTSTART_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_DTEND_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_DURATION_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_X_PROPERTY,
					"X-EAS-RECURRENCE");
			cal_remove_kind(ov, ICAL_X_PROPERTY, "X-EAS-TIMEZONE");
			cal_remove_kind(ov, ICAL_X_PROPERTY, "X-EAS-NODES");
			cal_remove_kind(ov, ICAL_X_PROPERTY, "X-EAS-CLIENTUID");
			add_time(ov, ICAL_RECURRENCEID_PROPERTY, orig, &z,
				 allday);
			add_time(ov, ICAL_DTSTART_PROPERTY, orig, &z, allday);
			add_time(ov, ICAL_DTEND_PROPERTY, orig + dur, &z,
				 allday);
			icalcomponent_add_component(cal, ov);
		}
		int64_t ov_dur = master_duration(
			cal, ov, &rt,
			out_time(cal,
				 icalcomponent_get_first_property(
					 ov, ICAL_DTSTART_PROPERTY),
				 &rt, NULL));
		bool moved =
			wbxml_child(sent, EAS_CALENDAR_STARTTIME) != NULL &&
			wbxml_child(sent, EAS_CALENDAR_ENDTIME) == NULL;

		/* Packed exception elements no longer stand for it. */
		cal_remove_kind(ov, ICAL_X_PROPERTY, "X-EAS-EXCEPTION");
		wbxml_foreach(sent, n)
		{
			if (ntags < N_ELEMENTS(tags))
				tags[ntags++] = n->tag;
		}
		cal_remove_homes(ov, tags, ntags);
		if (add_common(a, fresh, appdata, &z, ov_allday, &s, &e, NULL,
			       NULL, error_r) < 0) {
			icalcomponent_free(fresh);
			return -1;
		}
		cal_move_all(fresh, ov);
		icalcomponent_free(fresh);
		if (moved && wbxml_child(appdata, EAS_CALENDAR_STARTTIME)) {
			/* moved without an end: it keeps its length */
			cal_remove_kind(ov, ICAL_DTEND_PROPERTY, NULL);
			cal_remove_kind(ov, ICAL_DURATION_PROPERTY, NULL);
			add_time(ov, ICAL_DTEND_PROPERTY, s + ov_dur, &z,
				 ov_allday);
		}
	}
	seal_all(a, cal);
	uid = icalcomponent_get_uid(master);
	*item_r = *old;
	item_r->meta.uid = uid != NULL ? arena_strdup(a, uid) : old->meta.uid;
	/* the parsed tree is freed with the arena: serialize a copy */
	{
		char *text = icalcomponent_as_ical_string_r(cal);

		item_r->data_len = strlen(text);
		item_r->data = arena_memdup(a, text, item_r->data_len + 1);
		free(text);
	}
	return 0;
}

/* --- a Change keeps what the Calendar mapping does not read --- */

static const uint16_t cal_tags[] = {
	EAS_CALENDAR_SUBJECT,	    EAS_CALENDAR_LOCATION,
	EAS_CALENDAR_STARTTIME,	    EAS_CALENDAR_ENDTIME,
	EAS_CALENDAR_DTSTAMP,	    EAS_CALENDAR_ALLDAYEVENT,
	EAS_CALENDAR_BUSYSTATUS,    EAS_CALENDAR_SENSITIVITY,
	EAS_CALENDAR_CATEGORIES,    EAS_CALENDAR_ATTENDEES,
	EAS_AIRSYNCBASE_BODY,	    EAS_CALENDAR_MEETINGSTATUS,
	EAS_CALENDAR_ORGANIZERNAME, EAS_CALENDAR_RECURRENCE,
	EAS_CALENDAR_EXCEPTIONS,    EAS_CALENDAR_TIMEZONE,
	EAS_CALENDAR_UID,	    EAS_CALENDAR_CLIENTUID,
};

/* Whether p is something the mapping reads (and a Change rewrites). */
static bool
cal_mapped(icalproperty *p)
{
	const char *x = icalproperty_get_x_name(p);

	if (icalproperty_isa(p) == ICAL_RECURRENCEID_PROPERTY)
		return true;
	if (icalproperty_isa(p) == ICAL_X_PROPERTY && x != NULL &&
	    (strcasecmp(x, "X-EAS-NODES") == 0 ||
	     strcasecmp(x, "X-EAS-EXCEPTION") == 0))
		return true;
	for (size_t i = 0; i < N_ELEMENTS(cal_tags); i++)
		if (cal_home_of(cal_tags[i], p))
			return true;
	for (size_t i = 0; i < N_ELEMENTS(xprops); i++)
		if (cal_home_of(xprops[i].tag, p))
			return true;
	return false;
}

static bool
same_kind(icalproperty *x, icalproperty *y)
{
	const char *a, *b;

	if (icalproperty_isa(x) != icalproperty_isa(y))
		return false;
	if (icalproperty_isa(x) != ICAL_X_PROPERTY)
		return true;
	a = icalproperty_get_x_name(x);
	b = icalproperty_get_x_name(y);
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

/* What EAS makes of p: equal views mean the device saw no difference, so
 * the stored property is kept as it is. */
static const char *
prop_view(struct arena *a, icalcomponent *cal, icalproperty *p)
{
	struct read_tz rt;
	bool is_date;

	switch (icalproperty_isa(p)) {
	case ICAL_DTSTART_PROPERTY:
	case ICAL_DTEND_PROPERTY:
	case ICAL_DUE_PROPERTY:
	case ICAL_RECURRENCEID_PROPERTY:
	case ICAL_EXDATE_PROPERTY: {
		int64_t t;

		memset(&rt, 0, sizeof(rt));
		t = read_time(cal, p, &rt, &is_date);
		return arena_printf(a, "%d/%lld", is_date, (long long)t);
	}
	case ICAL_ATTENDEE_PROPERTY:
	case ICAL_ORGANIZER_PROPERTY: {
		icalcomponent *tmp = icalcomponent_new_vevent();
		struct wbxml_node *app =
			wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
		struct buf b;
		char *hx;

		icalcomponent_add_property(tmp, icalproperty_new_clone(p));
		if (icalproperty_isa(p) == ICAL_ATTENDEE_PROPERTY) {
			emit_attendees(a, tmp, app);
		} else {
			icalparameter *cn = icalproperty_get_first_parameter(
				p, ICAL_CN_PARAMETER);

			wbxml_add_text(a, app, EAS_CALENDAR_ORGANIZERNAME,
				       cn != NULL ? icalparameter_get_cn(cn)
						  : "");
			if (!conv_ical_params_stand(p) ||
			    param_x(p, "X-EAS-NOEMAIL") == NULL)
				wbxml_add_text(
					a, app, EAS_CALENDAR_ORGANIZEREMAIL,
					strip_mailto(
						icalproperty_get_organizer(p)));
		}
		icalcomponent_free(tmp);
		/* equal trees encode to equal bytes: their hex is the view */
		buf_init(&b, 0);
		wbxml_encode(app, &b);
		hx = arena_alloc(a, 2 * b.len + 1);
		for (size_t i = 0; i < b.len; i++)
			snprintf(hx + 2 * i, 3, "%02x", b.data[i]);
		hx[2 * b.len] = '\0';
		buf_deinit(&b);
		return hx;
	}
	default: {
		const char *v = icalproperty_get_value_as_string(p);

		return arena_strdup(a, v != NULL ? v : "");
	}
	}
}

static bool
has_param(icalproperty *p, icalparameter *q)
{
	icalparameter_kind k = icalparameter_isa(q);
	icalparameter *x;

	if (k != ICAL_X_PARAMETER)
		return icalproperty_get_first_parameter(p, k) != NULL;
	for (x = icalproperty_get_first_parameter(p, ICAL_X_PARAMETER);
	     x != NULL;
	     x = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER)) {
		const char *a = icalparameter_get_xname(x),
			   *b = icalparameter_get_xname(q);

		if (a != NULL && b != NULL && strcasecmp(a, b) == 0)
			return true;
	}
	return false;
}

/* Parameters of the replaced property old that the new one does not set
 * (LANGUAGE, ALTREP, RSVP, SENT-BY, ...) go on it. */
static void
carry_params(icalproperty *from, icalproperty *to)
{
	icalparameter *q, *params[64];
	size_t n = 0;

	switch (icalproperty_isa(to)) {
	case ICAL_DTSTART_PROPERTY:
	case ICAL_DTEND_PROPERTY:
	case ICAL_RECURRENCEID_PROPERTY:
	case ICAL_EXDATE_PROPERTY:
	case ICAL_X_PROPERTY:
		return;
	default:
		break;
	}
	for (q = icalproperty_get_first_parameter(from, ICAL_ANY_PARAMETER);
	     q != NULL && n < N_ELEMENTS(params);
	     q = icalproperty_get_next_parameter(from, ICAL_ANY_PARAMETER)) {
		const char *xn = icalparameter_get_xname(q);

		if (icalparameter_isa(q) == ICAL_X_PARAMETER && xn != NULL &&
		    strncasecmp(xn, "X-EAS-", 6) == 0)
			continue;
		if (!has_param(to, q))
			params[n++] = q;
	}
	for (size_t i = 0; i < n; i++)
		icalproperty_add_parameter(to,
					   icalparameter_new_clone(params[i]));
}

/* The one of the replaced properties a new one takes its parameters
 * from: the same attendee or organizer, else the same kind. */
static icalproperty *
replaced_of(struct arena *a, icalproperty *const *gone, size_t ngone,
	    icalproperty *np)
{
	icalproperty_kind k = icalproperty_isa(np);

	for (size_t i = 0; i < ngone; i++) {
		if (gone[i] == NULL || !same_kind(gone[i], np))
			continue;
		if (k == ICAL_ATTENDEE_PROPERTY ||
		    k == ICAL_ORGANIZER_PROPERTY) {
			const char *x =
				icalproperty_get_value_as_string(gone[i]);
			const char *y = icalproperty_get_value_as_string(np);

			if (x == NULL || y == NULL || strcasecmp(x, y) != 0)
				continue;
		}
		(void)a;
		return gone[i];
	}
	return NULL;
}

/* old_ev takes the Change in new_ev: what the mapping reads (mapped) is
 * replaced (kept as it is where EAS sees no difference), everything else
 * stays; the alarm a reminder lives in (reminder_of) keeps its other
 * properties. */
void
conv_ical_merge(struct arena *a, icalcomponent *old_cal, icalcomponent *old_ev,
		icalcomponent *new_cal, icalcomponent *new_ev,
		bool (*mapped)(icalproperty *p),
		icalcomponent *(*reminder_of)(icalcomponent *c))
{
	size_t no, nn, ngone = 0;
	icalproperty **op = props_of(a, old_ev, ICAL_ANY_PROPERTY, &no);
	icalproperty **np = props_of(a, new_ev, ICAL_ANY_PROPERTY, &nn);
	icalproperty **gone = arena_zalloc(a, (no + 1) * sizeof(*gone));
	bool *used = arena_zalloc(a, nn + 1);
	const char **nview = arena_zalloc(a, (nn + 1) * sizeof(*nview));
	icalcomponent *oal, *nal;

	for (size_t j = 0; j < nn; j++)
		if (mapped(np[j]))
			nview[j] = prop_view(a, new_cal, np[j]);
	for (size_t i = 0; i < no; i++) {
		const char *ov;
		bool kept = false;

		if (!mapped(op[i]))
			continue;
		ov = prop_view(a, old_cal, op[i]);
		for (size_t j = 0; j < nn && !kept; j++) {
			if (used[j] || nview[j] == NULL ||
			    !same_kind(op[i], np[j]) ||
			    strcmp(ov, nview[j]) != 0)
				continue;
			used[j] = kept = true;
		}
		if (!kept) {
			icalcomponent_remove_property(old_ev, op[i]);
			gone[ngone++] = op[i];
		}
	}
	for (size_t j = 0; j < nn; j++) {
		icalproperty *from;

		icalcomponent_remove_property(new_ev, np[j]);
		if (used[j]) {
			icalproperty_free(np[j]);
			continue;
		}
		if ((from = replaced_of(a, gone, ngone, np[j])) != NULL)
			carry_params(from, np[j]);
		icalcomponent_add_property(old_ev, np[j]);
	}
	for (size_t i = 0; i < ngone; i++)
		icalproperty_free(gone[i]);
	/* The reminder is the first relative alarm: its trigger follows the
	 * device, its other properties stay; other alarms stay. */
	oal = reminder_of(old_ev);
	nal = reminder_of(new_ev);
	if (nal != NULL && oal != NULL) {
		icalproperty *ot = icalcomponent_get_first_property(
			oal, ICAL_TRIGGER_PROPERTY);
		icalproperty *nt = icalcomponent_get_first_property(
			nal, ICAL_TRIGGER_PROPERTY);
		const char *ovs = icalproperty_get_value_as_string(ot);
		char *ovc = arena_strdup(a, ovs != NULL ? ovs : "");
		const char *nvs = icalproperty_get_value_as_string(nt);

		if (nvs == NULL || strcmp(ovc, nvs) != 0) {
			icalcomponent_remove_property(oal, ot);
			icalproperty_free(ot);
			icalcomponent_remove_property(nal, nt);
			icalcomponent_add_property(oal, nt);
		}
		icalcomponent_remove_component(new_ev, nal);
		icalcomponent_free(nal);
	} else if (nal == NULL && oal != NULL) {
		icalcomponent_remove_component(old_ev, oal);
		icalcomponent_free(oal);
	}
	cal_move_all(new_ev, old_ev);
}

static const char *
rid_view(struct arena *a, icalcomponent *cal, icalcomponent *c)
{
	icalproperty *p =
		icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);

	return p != NULL ? prop_view(a, cal, p) : NULL;
}

/* The stored calendar object of old with the Change in new_cal merged in;
 * NULL when the stored object is not one we can merge into (the new one
 * is used as it is). */
static const char *
cal_merge(struct arena *a, const struct store_item *old, icalcomponent *new_cal,
	  size_t *len_r)
{
	icalcomponent *cal, *om = NULL, *nm = NULL, **ov, **nv;
	size_t nov, nnv, ntz;
	const char *err;
	icalcomponent **tz;
	char *text;
	bool *matched;

	if (old == NULL || old->data == NULL ||
	    old->cls != STORE_CLASS_CALENDAR)
		return NULL;
	cal = conv_ical_parse(a, (const char *)old->data, old->data_len, &err);
	if (cal == NULL)
		return NULL;
	drop_stale_all(a, cal);
	ov = comps_of(a, cal, ICAL_VEVENT_COMPONENT, &nov);
	nv = comps_of(a, new_cal, ICAL_VEVENT_COMPONENT, &nnv);
	for (size_t i = 0; i < nov && om == NULL; i++)
		if (rid_view(a, cal, ov[i]) == NULL)
			om = ov[i];
	for (size_t i = 0; i < nnv && nm == NULL; i++)
		if (rid_view(a, new_cal, nv[i]) == NULL)
			nm = nv[i];
	if (om == NULL || nm == NULL)
		return NULL;
	/* zones first: the times are read against them */
	tz = comps_of(a, new_cal, ICAL_VTIMEZONE_COMPONENT, &ntz);
	for (size_t i = 0; i < ntz; i++) {
		icalproperty *p = icalcomponent_get_first_property(
			tz[i], ICAL_TZID_PROPERTY);

		if (p != NULL &&
		    conv_ical_vtimezone(cal, icalproperty_get_tzid(p)) == NULL)
			icalcomponent_add_component(
				cal, icalcomponent_new_clone(tz[i]));
	}
	conv_ical_merge(a, cal, om, new_cal, nm, cal_mapped,
			cal_reminder_alarm);
	matched = arena_zalloc(a, nov + 1);
	for (size_t j = 0; j < nnv; j++) {
		const char *nr = rid_view(a, new_cal, nv[j]);
		bool done = false;

		if (nr == NULL)
			continue;
		for (size_t i = 0; i < nov && !done; i++) {
			const char *orr =
				ov[i] != om ? rid_view(a, cal, ov[i]) : NULL;

			if (orr == NULL || matched[i] || strcmp(orr, nr) != 0)
				continue;
			conv_ical_merge(a, cal, ov[i], new_cal, nv[j],
					cal_mapped, cal_reminder_alarm);
			matched[i] = done = true;
		}
		if (!done) {
			icalcomponent_remove_component(new_cal, nv[j]);
			icalcomponent_add_component(cal, nv[j]);
		}
	}
	/* overrides the device no longer lists go */
	for (size_t i = 0; i < nov; i++)
		if (ov[i] != om && !matched[i]) {
			icalcomponent_remove_component(cal, ov[i]);
			icalcomponent_free(ov[i]);
		}
	seal_all(a, cal);
	text = icalcomponent_as_ical_string_r(cal);
	*len_r = strlen(text);
	{
		char *out = arena_memdup(a, text, *len_r + 1);

		free(text);
		return out;
	}
}

/* --- import --- */

int
conv_ical_from_standard(struct arena *a, enum store_class cls, const char *data,
			size_t len, struct store_item *item_r,
			const char **error_r)
{
	icalcomponent *cal = conv_ical_parse(a, data, len, error_r), *ev;
	struct conv_ctx ctx;
	struct wbxml_node *app;
	icalproperty *p;
	const char *t;
	int64_t ts;
	char *copy;

	if (cal == NULL)
		return -1;
	memset(&item_r->meta, 0, sizeof(item_r->meta));
	copy = arena_alloc(a, len + 1);
	memcpy(copy, data, len);
	copy[len] = '\0';
	item_r->data = (const uint8_t *)copy;
	item_r->data_len = len;
	item_r->extra = NULL;
	item_r->extra_len = 0;
	if (cls == STORE_CLASS_TASKS)
		return conv_task_from_ical(a, cal, item_r, error_r);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	if (ev == NULL)
		return conv_fail(a, error_r, "iCalendar: no VEVENT");
	if (icalcomponent_get_uid(ev) != NULL)
		item_r->meta.uid = arena_strdup(a, icalcomponent_get_uid(ev));
	if (icalcomponent_get_summary(ev) != NULL)
		item_r->meta.subject =
			arena_strdup(a, icalcomponent_get_summary(ev));
	/* The EAS view gives start and end in UTC the same way a device
	 * will see them. */
	memset(&ctx, 0, sizeof(ctx));
	ctx.version = 141;
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	if (calendar_to_eas(a, cal, &ctx, app, error_r) < 0)
		return -1;
	t = wbxml_child_text(app, EAS_CALENDAR_STARTTIME);
	if (t == NULL || conv_parse_time(t, &ts) < 0)
		return conv_fail(a, error_r, "iCalendar: bad DTSTART");
	item_r->meta.date = ts;
	t = wbxml_child_text(app, EAS_CALENDAR_ENDTIME);
	item_r->meta.date_end = t != NULL && conv_parse_time(t, &ts) == 0
					? ts
					: item_r->meta.date;
	if ((p = icalcomponent_get_first_property(ev, ICAL_RRULE_PROPERTY))) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		char *rs = icalrecurrencetype_as_string_r(&r);

		item_r->meta.date_end =
			series_end(rs, item_r->meta.date,
				   item_r->meta.date_end - item_r->meta.date);
		free(rs);
	}
	return 0;
}
