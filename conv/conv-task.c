/* Tasks (MS-ASTASK) <-> iCalendar VTODO through libical.
 *
 * Mapping: Subject SUMMARY, Body DESCRIPTION, Importance PRIORITY (0 low =
 * 9, 1 normal = 5, 2 high = 1), Sensitivity CLASS, Categories CATEGORIES,
 * UtcStartDate/UtcDueDate DTSTART/DUE in UTC (StartDate/DueDate, the local
 * wall time written as UTC, as floating times when no UTC form came),
 * Complete STATUS, DateCompleted COMPLETED, ReminderTime a VALARM with an
 * absolute trigger, Recurrence RRULE. The exact texts of the dates,
 * ReminderSet, the ordinal dates and the whole Recurrence element
 * (Regenerate, DeadOccur, Start...) are kept in X-EAS-* properties so
 * both date forms come back as sent. meta: date = due, complete. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conv-int.h"
#include "ical.h"
#include "util.h"

#define TASK_MAX_UNKNOWN 64

enum tkind { TK_TIME, TK_INT01, TK_TEXT };
static const struct tprop {
	uint16_t tag;
	const char *name;
	enum tkind kind;
} tprops[] = {
	{EAS_TASKS_STARTDATE, "X-EAS-STARTDATE", TK_TIME},
	{EAS_TASKS_UTCSTARTDATE, "X-EAS-UTCSTARTDATE", TK_TIME},
	{EAS_TASKS_DUEDATE, "X-EAS-DUEDATE", TK_TIME},
	{EAS_TASKS_UTCDUEDATE, "X-EAS-UTCDUEDATE", TK_TIME},
	{EAS_TASKS_REMINDERSET, "X-EAS-REMINDERSET", TK_INT01},
	{EAS_TASKS_REMINDERTIME, "X-EAS-REMINDERTIME", TK_TIME},
	{EAS_TASKS_ORDINALDATE, "X-EAS-ORDINALDATE", TK_TIME},
	{EAS_TASKS_SUBORDINALDATE, "X-EAS-SUBORDINALDATE", TK_TEXT},
	{EAS_TASKS_DATECOMPLETED, "X-EAS-DATECOMPLETED", TK_TIME},
};

static struct icaltimetype
utc_time(int64_t t)
{
	return icaltime_from_timet_with_zone((time_t)t, 0,
					     icaltimezone_get_utc_timezone());
}

static bool
is_midnight(int64_t t)
{
	return t % 86400 == 0;
}

static struct icaltimetype
task_time(int64_t t, bool utc, int64_t local, bool has_local)
{
	if (has_local && is_midnight(local))
		return icaltime_from_timet_with_zone((time_t)local, 1, NULL);
	if (utc)
		return utc_time(t);
	return icaltime_from_timet_with_zone((time_t)t, 0, NULL);
}

/* A task's DTSTART or DUE as EAS has it: the local wall time written as
 * if UTC, and the UTC instant. Dates are the device's local midnight;
 * floating times are the device's local time. */
static void
task_times(const struct conv_ctx *ctx, icalcomponent *cal, icalproperty *p,
	   int64_t *local_r, int64_t *utc_r)
{
	struct icaltimetype tt =
		icalvalue_get_datetime(icalproperty_get_value(p));
	icalparameter *tzp =
		icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	icaltimezone *z = NULL;

	if (tt.is_date) {
		*local_r = (int64_t)icaltime_as_timet(tt);
		*utc_r = conv_date_to_eas(ctx, *local_r);
		return;
	}
	if (icaltime_is_utc(tt)) {
		*utc_r = (int64_t)icaltime_as_timet(tt);
		*local_r = conv_utc_to_local(ctx, *utc_r);
		return;
	}
	if (tzp != NULL) {
		z = conv_ical_zone(cal, icalparameter_get_tzid(tzp));
	}
	tt.zone = NULL;
	*local_r = (int64_t)icaltime_as_timet(tt);
	*utc_r = z != NULL ? (int64_t)icaltime_as_timet_with_zone(tt, z)
			   : conv_local_to_utc(ctx, *local_r);
}

/* What the Tasks mapping reads of a VTODO. */
static bool
task_mapped(icalproperty *p)
{
	const char *x = icalproperty_get_x_name(p);

	switch (icalproperty_isa(p)) {
	case ICAL_SUMMARY_PROPERTY:
	case ICAL_PRIORITY_PROPERTY:
	case ICAL_CLASS_PROPERTY:
	case ICAL_STATUS_PROPERTY:
	case ICAL_CATEGORIES_PROPERTY:
	case ICAL_RRULE_PROPERTY:
	case ICAL_DESCRIPTION_PROPERTY:
	case ICAL_DTSTART_PROPERTY:
	case ICAL_DUE_PROPERTY:
	case ICAL_COMPLETED_PROPERTY:
	case ICAL_UID_PROPERTY:
		return true;
	case ICAL_X_PROPERTY:
		return x != NULL && (strncasecmp(x, "X-EAS-", 6) == 0 ||
				     strcasecmp(x, "X-ALT-DESC") == 0);
	default:
		return false;
	}
}

/* A task's reminder is its first alarm at a fixed time. */
static icalcomponent *
task_reminder(icalcomponent *c)
{
	icalcomponent *al;

	for (al = icalcomponent_get_first_component(c, ICAL_VALARM_COMPONENT);
	     al != NULL;
	     al = icalcomponent_get_next_component(c, ICAL_VALARM_COMPONENT)) {
		icalproperty *t = icalcomponent_get_first_property(
			al, ICAL_TRIGGER_PROPERTY);

		if (t != NULL &&
		    !icaltime_is_null_time(icalproperty_get_trigger(t).time))
			return al;
	}
	return NULL;
}

/* What EAS makes of STATUS (Complete) and PRIORITY (Importance). */
static int
status_view(icalproperty *p)
{
	return icalproperty_get_status(p) == ICAL_STATUS_COMPLETED;
}

static int
priority_view(icalproperty *p)
{
	int pr = icalproperty_get_priority(p);

	return pr <= 0 ? -1 : pr < 5 ? 2 : pr == 5 ? 1 : 0;
}

/* Where the device sees the same (IN-PROCESS and NEEDS-ACTION are both
 * "not complete"), the stored property stays: the new one goes. */
static void
same_view(icalcomponent *otd, icalcomponent *td, icalproperty_kind kind,
	  int (*view)(icalproperty *p))
{
	icalproperty *o = icalcomponent_get_first_property(otd, kind);
	icalproperty *n = icalcomponent_get_first_property(td, kind);

	if (o != NULL && n != NULL && view(o) == view(n)) {
		icalcomponent_remove_property(td, n);
		icalproperty_free(n);
		/* a copy of the stored one: the merge keeps the stored one */
		icalcomponent_add_property(td, icalproperty_new_clone(o));
	}
}

/* The stored task old with the Change in cal/td merged in, NULL when old
 * is no task we can merge into. */
static const char *
task_merge(struct arena *a, const struct store_item *old, icalcomponent *cal,
	   icalcomponent *td, size_t *len_r)
{
	icalcomponent *ocal, *otd;
	const char *err;
	char *text, *out;

	if (old == NULL || old->data == NULL || old->cls != STORE_CLASS_TASKS)
		return NULL;
	ocal = conv_ical_parse(a, (const char *)old->data, old->data_len, &err);
	if (ocal == NULL)
		return NULL;
	otd = icalcomponent_get_first_component(ocal, ICAL_VTODO_COMPONENT);
	if (otd == NULL)
		return NULL;
	conv_ical_drop_stale(a, ocal, otd);
	same_view(otd, td, ICAL_STATUS_PROPERTY, status_view);
	same_view(otd, td, ICAL_PRIORITY_PROPERTY, priority_view);
	/* DTSTAMP is no EAS property: the stored one stays */
	if (icalcomponent_get_first_property(otd, ICAL_DTSTAMP_PROPERTY)) {
		icalproperty *p = icalcomponent_get_first_property(
			td, ICAL_DTSTAMP_PROPERTY);

		if (p != NULL) {
			icalcomponent_remove_property(td, p);
			icalproperty_free(p);
		}
	}
	conv_ical_merge(a, ocal, otd, cal, td, task_mapped, task_reminder);
	conv_ical_seal(a, ocal, otd);
	text = icalcomponent_as_ical_string_r(ocal);
	*len_r = strlen(text);
	out = arena_memdup(a, text, *len_r + 1);
	free(text);
	return out;
}

int
conv_task_from_eas(struct arena *a, const struct wbxml_node *appdata,
		   const struct conv_ctx *ctx, const struct store_item *old,
		   struct store_item *item_r, const char **error_r)
{
	const struct wbxml_node *n, *unknown[TASK_MAX_UNKNOWN];
	size_t nunknown = 0;
	icalcomponent *cal, *td;
	const char *uid, *rrule = NULL;
	int64_t t, v, due = 0, start = 0, due_local = 0, start_local = 0;
	bool has_due = false, has_start = false, due_utc = false;
	bool start_utc = false, has_due_local = false, has_start_local = false;
	struct store_item_meta meta;

	(void)ctx;
	memset(&meta, 0, sizeof(meta));
	uid = conv_ical_old_uid(a, old, ICAL_VTODO_COMPONENT);
	if ((n = wbxml_child(appdata, EAS_TASKS_RECURRENCE)) != NULL &&
	    conv_rrule_from_eas(a, n, &conv_rec_tasks, &rrule, error_r) < 0)
		return -1;
	if (uid == NULL)
		uid = conv_ical_new_uid(a);
	cal = icalcomponent_new_vcalendar();
	icalcomponent_add_property(
		cal, icalproperty_new_prodid("-//easd//EAS tasks//EN"));
	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	td = icalcomponent_new_vtodo();
	icalcomponent_add_component(cal, td);
	icalcomponent_set_uid(td, uid);
	icalcomponent_add_property(
		td, icalproperty_new_dtstamp(utc_time(time_now())));
	wbxml_foreach(appdata, n)
	{
		size_t i;

		switch (n->tag) {
		case EAS_TASKS_SUBJECT:
			icalcomponent_add_property(
				td, icalproperty_new_summary(wbxml_text(n)));
			meta.subject = arena_strdup(a, wbxml_text(n));
			continue;
		case EAS_TASKS_IMPORTANCE:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 2)
				goto bad;
			icalcomponent_add_property(
				td, icalproperty_new_priority(v == 0   ? 9
							      : v == 1 ? 5
								       : 1));
			continue;
		case EAS_TASKS_SENSITIVITY:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 3)
				goto bad;
			icalcomponent_add_property(
				td, icalproperty_new_class(
					    v == 0   ? ICAL_CLASS_PUBLIC
					    : v == 3 ? ICAL_CLASS_CONFIDENTIAL
						     : ICAL_CLASS_PRIVATE));
			if (v == 1)
				conv_ical_set_x(td, "X-EAS-SENSITIVITY", "1");
			continue;
		case EAS_TASKS_COMPLETE:
			if (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 ||
			    v > 1)
				goto bad;
			icalcomponent_add_property(
				td, icalproperty_new_status(
					    v ? ICAL_STATUS_COMPLETED
					      : ICAL_STATUS_NEEDSACTION));
			meta.complete = v == 1;
			continue;
		case EAS_TASKS_CATEGORIES:
			conv_ical_add_categories(a, td, n);
			continue;
		case EAS_TASKS_RECURRENCE:
			icalcomponent_add_property(
				td,
				icalproperty_new_rrule(
					icalrecurrencetype_from_string(rrule)));
			conv_ical_set_x(td, "X-EAS-RECURRENCE",
					conv_nodes_pack(a, &n, 1));
			continue;
		case EAS_AIRSYNCBASE_BODY:
			conv_ical_set_body(a, td, appdata);
			continue;
		case EAS_AIRSYNCBASE_NATIVEBODYTYPE:
			continue;
		default:
			break;
		}
		for (i = 0; i < N_ELEMENTS(tprops); i++) {
			if (tprops[i].tag == n->tag)
				break;
		}
		if (i == N_ELEMENTS(tprops)) {
			if (nunknown == TASK_MAX_UNKNOWN) {
				conv_fail(a, error_r,
					  "Tasks: too many unknown elements");
				goto fail;
			}
			unknown[nunknown++] = n;
			continue;
		}
		if ((tprops[i].kind == TK_TIME &&
		     conv_parse_time(wbxml_text(n), &t) < 0) ||
		    (tprops[i].kind == TK_INT01 &&
		     (str_to_int64(wbxml_text(n), &v) < 0 || v < 0 || v > 1)))
			goto bad;
		conv_ical_set_x(td, tprops[i].name, wbxml_text(n));
		switch (n->tag) {
		case EAS_TASKS_UTCDUEDATE:
			due = t;
			has_due = due_utc = true;
			break;
		case EAS_TASKS_DUEDATE:
			due_local = t;
			has_due_local = true;
			if (!due_utc) {
				due = t;
				has_due = true;
			}
			break;
		case EAS_TASKS_UTCSTARTDATE:
			start = t;
			has_start = start_utc = true;
			break;
		case EAS_TASKS_STARTDATE:
			start_local = t;
			has_start_local = true;
			if (!start_utc) {
				start = t;
				has_start = true;
			}
			break;
		case EAS_TASKS_DATECOMPLETED:
			icalcomponent_add_property(
				td, icalproperty_new_completed(utc_time(t)));
			break;
		case EAS_TASKS_REMINDERTIME: {
			icalcomponent *al = icalcomponent_new_valarm();
			struct icaltriggertype trig;

			memset(&trig, 0, sizeof(trig));
			trig.time = utc_time(t);
			icalcomponent_add_property(
				al,
				icalproperty_new_action(ICAL_ACTION_DISPLAY));
			icalcomponent_add_property(
				al, icalproperty_new_trigger(trig));
			icalcomponent_add_property(
				al, icalproperty_new_description("Reminder"));
			icalcomponent_add_component(td, al);
			break;
		}
		default:
			break;
		}
	}
	/* The local forms at midnight are dates (tasks are due on a day,
	 * MS-ASTASK 2.2.2.8); else the UTC forms are exact instants, and
	 * without them the local forms become floating times. */
	if (has_start)
		icalcomponent_add_property(
			td, icalproperty_new_dtstart(
				    task_time(start, start_utc, start_local,
					      has_start_local)));
	if (has_due)
		icalcomponent_add_property(
			td, icalproperty_new_due(task_time(
				    due, due_utc, due_local, has_due_local)));
	if (nunknown > 0)
		conv_ical_set_x(td, "X-EAS-NODES",
				conv_nodes_pack(a, unknown, nunknown));
	conv_ical_seal(a, cal, td);
	item_r->meta = meta;
	item_r->meta.date = has_due ? due : 0;
	item_r->meta.date_end = has_due ? due : INT64_MAX;
	item_r->meta.uid = arena_strdup(a, uid);
	{
		const char *merged =
			task_merge(a, old, cal, td, &item_r->data_len);

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
bad:
	conv_fail(a, error_r, "Tasks: bad %s '%s'", wbxml_tag_name(n->tag),
		  wbxml_text(n));
fail:
	icalcomponent_free(cal);
	return -1;
}

static void
add_iso(struct arena *a, struct wbxml_node *app, uint16_t tag, int64_t t)
{
	char buf[32];

	time_format_iso(t, buf);
	wbxml_add_text(a, app, tag, buf);
}

int
conv_task_to_eas(struct arena *a, const struct store_item *item,
		 const struct conv_ctx *ctx, struct wbxml_node *appdata,
		 const char **error_r)
{
	icalcomponent *cal, *td, *al;
	icalproperty *p;
	const char *v;

	if (item->data == NULL)
		return conv_fail(a, error_r, "task without data");
	cal = conv_ical_parse(a, (const char *)item->data, item->data_len,
			      error_r);
	if (cal == NULL)
		return -1;
	td = icalcomponent_get_first_component(cal, ICAL_VTODO_COMPONENT);
	if (td == NULL)
		return conv_fail(a, error_r, "iCalendar: no VTODO");
	if ((p = icalcomponent_get_first_property(td, ICAL_SUMMARY_PROPERTY)))
		wbxml_add_text(a, appdata, EAS_TASKS_SUBJECT,
			       icalproperty_get_summary(p));
	if ((p = icalcomponent_get_first_property(td,
						  ICAL_PRIORITY_PROPERTY))) {
		int pr = icalproperty_get_priority(p);

		if (pr > 0)
			wbxml_add_text(a, appdata, EAS_TASKS_IMPORTANCE,
				       pr < 5	 ? "2"
				       : pr == 5 ? "1"
						 : "0");
	}
	v = conv_ical_shadow(a, cal, td, "X-EAS-SENSITIVITY");
	if (v != NULL) {
		wbxml_add_text(a, appdata, EAS_TASKS_SENSITIVITY, v);
	} else if ((p = icalcomponent_get_first_property(
			    td, ICAL_CLASS_PROPERTY)) != NULL) {
		enum icalproperty_class c = icalproperty_get_class(p);

		wbxml_add_text(a, appdata, EAS_TASKS_SENSITIVITY,
			       c == ICAL_CLASS_PRIVATE	      ? "2"
			       : c == ICAL_CLASS_CONFIDENTIAL ? "3"
							      : "0");
	}
	if ((p = icalcomponent_get_first_property(td, ICAL_STATUS_PROPERTY)))
		wbxml_add_text(a, appdata, EAS_TASKS_COMPLETE,
			       icalproperty_get_status(p) ==
					       ICAL_STATUS_COMPLETED
				       ? "1"
				       : "0");
	/* Our exact EAS texts while they stand for the standard values,
	 * else what the standard values say (an imported task, or one
	 * edited elsewhere). */
	for (size_t i = 0; i < N_ELEMENTS(tprops); i++) {
		v = conv_ical_shadow(a, cal, td, tprops[i].name);
		if (v != NULL)
			wbxml_add_text(a, appdata, tprops[i].tag, v);
	}
	if (conv_ical_shadow(a, cal, td, "X-EAS-DUEDATE") == NULL &&
	    conv_ical_shadow(a, cal, td, "X-EAS-UTCDUEDATE") == NULL &&
	    (p = icalcomponent_get_first_property(td, ICAL_DUE_PROPERTY))) {
		int64_t local, utc;

		task_times(ctx, cal, p, &local, &utc);
		add_iso(a, appdata, EAS_TASKS_DUEDATE, local);
		add_iso(a, appdata, EAS_TASKS_UTCDUEDATE, utc);
	}
	if (conv_ical_shadow(a, cal, td, "X-EAS-STARTDATE") == NULL &&
	    conv_ical_shadow(a, cal, td, "X-EAS-UTCSTARTDATE") == NULL &&
	    (p = icalcomponent_get_first_property(td, ICAL_DTSTART_PROPERTY))) {
		int64_t local, utc;

		task_times(ctx, cal, p, &local, &utc);
		add_iso(a, appdata, EAS_TASKS_STARTDATE, local);
		add_iso(a, appdata, EAS_TASKS_UTCSTARTDATE, utc);
	}
	if (conv_ical_shadow(a, cal, td, "X-EAS-DATECOMPLETED") == NULL &&
	    (p = icalcomponent_get_first_property(td, ICAL_COMPLETED_PROPERTY)))
		add_iso(a, appdata, EAS_TASKS_DATECOMPLETED,
			(int64_t)icaltime_as_timet(
				icalproperty_get_completed(p)));
	al = icalcomponent_get_first_component(td, ICAL_VALARM_COMPONENT);
	if (conv_ical_shadow(a, cal, td, "X-EAS-REMINDERTIME") == NULL &&
	    conv_ical_shadow(a, cal, td, "X-EAS-REMINDERSET") == NULL &&
	    al != NULL &&
	    (p = icalcomponent_get_first_property(al, ICAL_TRIGGER_PROPERTY))) {
		struct icaltriggertype trig = icalproperty_get_trigger(p);

		if (!icaltime_is_null_time(trig.time)) {
			wbxml_add_text(a, appdata, EAS_TASKS_REMINDERSET, "1");
			add_iso(a, appdata, EAS_TASKS_REMINDERTIME,
				(int64_t)icaltime_as_timet(trig.time));
		}
	}
	conv_ical_get_categories(a, cal, td, appdata, EAS_TASKS_CATEGORIES,
				 EAS_TASKS_CATEGORY);
	v = conv_ical_shadow(a, cal, td, "X-EAS-RECURRENCE");
	if (v != NULL) {
		if (conv_nodes_unpack(a, v, strlen(v), appdata) < 0)
			return conv_fail(a, error_r, "bad X-EAS-RECURRENCE");
	} else if ((p = icalcomponent_get_first_property(
			    td, ICAL_RRULE_PROPERTY)) != NULL) {
		struct icalrecurrencetype r = icalproperty_get_rrule(p);
		icalproperty *ds = icalcomponent_get_first_property(
			td, ICAL_DTSTART_PROPERTY);
		icalproperty *du =
			icalcomponent_get_first_property(td, ICAL_DUE_PROPERTY);

		conv_rrule_to_eas(a, &r,
				  ds != NULL   ? icalproperty_get_dtstart(ds)
				  : du != NULL ? icalproperty_get_due(du)
					       : icaltime_null_time(),
				  &conv_rec_tasks, appdata);
	}
	conv_ical_get_body(a, cal, td, ctx, appdata);
	v = conv_ical_get_x(a, td, "X-EAS-NODES");
	if (v != NULL && conv_nodes_unpack(a, v, strlen(v), appdata) < 0)
		return conv_fail(a, error_r, "bad X-EAS-NODES");
	return 0;
}

int
conv_task_from_ical(struct arena *a, icalcomponent *cal,
		    struct store_item *item_r, const char **error_r)
{
	icalcomponent *td =
		icalcomponent_get_first_component(cal, ICAL_VTODO_COMPONENT);
	icalproperty *p;

	if (td == NULL)
		return conv_fail(a, error_r, "iCalendar: no VTODO");
	if (icalcomponent_get_uid(td) != NULL)
		item_r->meta.uid = arena_strdup(a, icalcomponent_get_uid(td));
	if (icalcomponent_get_summary(td) != NULL)
		item_r->meta.subject =
			arena_strdup(a, icalcomponent_get_summary(td));
	item_r->meta.date_end = INT64_MAX;
	if ((p = icalcomponent_get_first_property(td, ICAL_DUE_PROPERTY))) {
		struct icaltimetype tt = icalproperty_get_due(p);

		item_r->meta.date = (int64_t)icaltime_as_timet_with_zone(
			tt, tt.zone != NULL ? tt.zone
					    : icaltimezone_get_utc_timezone());
		item_r->meta.date_end = item_r->meta.date;
	}
	if ((p = icalcomponent_get_first_property(td, ICAL_STATUS_PROPERTY)))
		item_r->meta.complete =
			icalproperty_get_status(p) == ICAL_STATUS_COMPLETED;
	return 0;
}
