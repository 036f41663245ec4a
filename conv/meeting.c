/* Meetings: iTIP messages applied to an account's calendar, the account's
 * answers, and the messages an organizer's change sends. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conv.h"
#include "ical.h"
#include "itip.h"
#include "log.h"
#include "mail.h"
#include "meeting.h"
#include "util.h"

/* Occurrences walked to check that an answered instance is one. */
#define MEETING_MAX_WALK 100000

enum store_error
meeting_self_get(struct store *s, struct arena *a, int64_t account_id,
		 struct meeting_self *me)
{
	struct store_account acc;
	const char **aliases = NULL;
	size_t n = 0;
	enum store_error e;

	memset(me, 0, sizeof(*me));
	if ((e = store_account_get_by_id(s, a, account_id, &acc)) != STORE_OK)
		return e;
	if ((e = store_alias_list(s, a, account_id, &aliases, &n)) != STORE_OK)
		return e;
	me->account_id = account_id;
	me->email = acc.email;
	me->name = acc.display_name != NULL && *acc.display_name != '\0'
			   ? acc.display_name
			   : acc.login;
	me->addrs = arena_alloc(a, (n + 2) * sizeof(*me->addrs));
	me->addrs[me->naddrs++] = acc.email;
	me->addrs[me->naddrs++] = acc.login;
	for (size_t i = 0; i < n; i++)
		me->addrs[me->naddrs++] = aliases[i];
	return STORE_OK;
}

bool
meeting_is_self(const struct meeting_self *me, const char *addr)
{
	for (size_t i = 0; addr != NULL && i < me->naddrs; i++)
		if (me->addrs[i] != NULL && str_ieq(me->addrs[i], addr))
			return true;
	return false;
}

/* --- small iCalendar edits --- */

static void
remove_props(icalcomponent *c, icalproperty_kind kind, const char *xname)
{
	icalproperty *p, *next;

	for (p = icalcomponent_get_first_property(c, kind); p != NULL;
	     p = next) {
		next = icalcomponent_get_next_property(c, kind);
		if (xname != NULL &&
		    !str_ieq(icalproperty_get_x_name(p), xname))
			continue;
		icalcomponent_remove_property(c, p);
		icalproperty_free(p);
	}
}

static void
x_replace(icalcomponent *c, const char *name, const char *value)
{
	remove_props(c, ICAL_X_PROPERTY, name);
	if (value != NULL)
		conv_ical_set_x(c, name, value);
}

/* The calendar class's own parameters (X-EAS-STATUS and the like) stand
 * for a PARTSTAT that is about to change. */
static void
drop_eas_params(icalproperty *p)
{
	icalparameter *q =
		icalproperty_get_first_parameter(p, ICAL_X_PARAMETER);

	while (q != NULL) {
		const char *n = icalparameter_get_xname(q);

		if (n != NULL && str_has_iprefix(n, "X-EAS-")) {
			icalproperty_remove_parameter_by_ref(p, q);
			q = icalproperty_get_first_parameter(p,
							     ICAL_X_PARAMETER);
			continue;
		}
		q = icalproperty_get_next_parameter(p, ICAL_X_PARAMETER);
	}
}

static icalproperty *
self_attendee(struct arena *a, const struct meeting_self *me, icalcomponent *ev)
{
	for (size_t i = 0; i < me->naddrs; i++) {
		icalproperty *p = itip_attendee(a, ev, me->addrs[i]);

		if (p != NULL)
			return p;
	}
	return NULL;
}

static const char *
organizer_of(struct arena *a, icalcomponent *ev)
{
	icalproperty *p =
		icalcomponent_get_first_property(ev, ICAL_ORGANIZER_PROPERTY);

	return p != NULL ? itip_address(a, icalproperty_get_organizer(p))
			 : NULL;
}

/* The series, else the first VEVENT. */
static icalcomponent *
master_of(icalcomponent *cal)
{
	icalcomponent *m = itip_event(cal, false, 0);

	return m != NULL ? m
			 : icalcomponent_get_first_component(
				   cal, ICAL_VEVENT_COMPONENT);
}

/* MeetingStatus 3/7/11/15: a meeting the account was invited to. */
static bool
received_status(struct arena *a, icalcomponent *ev)
{
	const char *v = conv_ical_get_x(a, ev, "X-EAS-MEETINGSTATUS");
	int64_t n;

	return v != NULL && str_to_int64(v, &n) == 0 && (n & 2) != 0;
}

/* Whether the account organizes the meeting of cal. */
static bool
organized_by(struct arena *a, const struct meeting_self *me, icalcomponent *ev)
{
	const char *org = organizer_of(a, ev);

	if (org != NULL)
		return meeting_is_self(me, org);
	return !received_status(a, ev);
}

/* ResponseType (MS-ASCAL 2.2.2.38) of an answer. */
static int
response_type(enum itip_answer ans)
{
	switch (ans) {
	case ITIP_ACCEPTED:
		return 3;
	case ITIP_TENTATIVE:
		return 2;
	case ITIP_DECLINED:
		return 4;
	default:
		return 5;
	}
}

/* What the time of a received meeting shows as: the organizer's intent
 * once accepted, tentative until then, free when declined or
 * cancelled. */
static const char *
busy_of(struct arena *a, icalcomponent *ev, enum itip_answer ans,
	bool cancelled)
{
	const char *intended =
		conv_ical_get_x(a, ev, "X-MICROSOFT-CDO-INTENDEDSTATUS");
	icalproperty *tr =
		icalcomponent_get_first_property(ev, ICAL_TRANSP_PROPERTY);
	bool transparent = tr != NULL && icalproperty_get_transp(tr) ==
						 ICAL_TRANSP_TRANSPARENT;

	if (cancelled || ans == ITIP_DECLINED || transparent)
		return "FREE";
	if (ans == ITIP_ACCEPTED)
		return intended != NULL ? intended : "BUSY";
	return "TENTATIVE";
}

/* The EAS view of a meeting the account was invited to. */
static void
mark_received(struct arena *a, const struct meeting_self *me, icalcomponent *ev,
	      bool cancelled)
{
	icalproperty *att = self_attendee(a, me, ev);
	enum itip_answer ans =
		att != NULL ? itip_answer_of(att) : ITIP_NO_ANSWER;
	icalparameter *rsvp = att != NULL ? icalproperty_get_first_parameter(
						    att, ICAL_RSVP_PARAMETER)
					  : NULL;
	const char *requested =
		conv_ical_get_x(a, ev, "X-EAS-RESPONSEREQUESTED");

	if (rsvp != NULL)
		requested = icalparameter_get_rsvp(rsvp) == ICAL_RSVP_TRUE
				    ? "1"
				    : "0";
	else if (requested == NULL)
		requested = ans == ITIP_NO_ANSWER ? "1" : "0";
	x_replace(ev, "X-EAS-MEETINGSTATUS", cancelled ? "7" : "3");
	x_replace(ev, "X-EAS-RESPONSETYPE",
		  arena_printf(a, "%d", response_type(ans)));
	x_replace(ev, "X-EAS-RESPONSEREQUESTED", requested);
	x_replace(ev, "X-MICROSOFT-CDO-BUSYSTATUS",
		  busy_of(a, ev, ans, cancelled));
	if (cancelled)
		icalcomponent_set_status(ev, ICAL_STATUS_CANCELLED);
}

static icalproperty *
utc_prop(icalproperty_kind kind, int64_t t, bool is_date)
{
	struct icaltimetype tt = icaltime_from_timet_with_zone(
		(time_t)t, is_date ? 1 : 0,
		is_date ? NULL : icaltimezone_get_utc_timezone());
	icalproperty *p = icalproperty_new(kind);

	if (is_date)
		icalproperty_set_value(p, icalvalue_new_date(tt));
	else
		icalproperty_set_value(p, icalvalue_new_datetime(tt));
	return p;
}

static bool
is_date_prop(icalproperty *p)
{
	return p != NULL &&
	       icalvalue_get_datetime(icalproperty_get_value(p)).is_date;
}

static void
add_exdate(icalcomponent *cal, icalcomponent *master, int64_t rid)
{
	icalproperty *st =
		icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);

	for (icalproperty *p = icalcomponent_get_first_property(
		     master, ICAL_EXDATE_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(master, ICAL_EXDATE_PROPERTY))
		if (itip_time(cal, p) == rid)
			return;
	icalcomponent_add_property(
		master, utc_prop(ICAL_EXDATE_PROPERTY, rid, is_date_prop(st)));
}

static void
drop_exdate(icalcomponent *cal, icalcomponent *master, int64_t rid)
{
	icalproperty *p, *next;

	for (p = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
	     p != NULL; p = next) {
		next = icalcomponent_get_next_property(master,
						       ICAL_EXDATE_PROPERTY);
		if (itip_time(cal, p) == rid) {
			icalcomponent_remove_property(master, p);
			icalproperty_free(p);
		}
	}
}

/* The VTIMEZONEs that from's VEVENT ev needs and cal lacks. */
static void
take_zones(icalcomponent *cal, icalcomponent *from)
{
	for (icalcomponent *z = icalcomponent_get_first_component(
		     from, ICAL_VTIMEZONE_COMPONENT);
	     z != NULL; z = icalcomponent_get_next_component(
				from, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *id =
			icalcomponent_get_first_property(z, ICAL_TZID_PROPERTY);

		if (id == NULL ||
		    icalcomponent_get_timezone(
			    cal, icalproperty_get_tzid(id)) != NULL)
			continue;
		icalcomponent_add_component(cal, icalcomponent_new_clone(z));
	}
}

static void
free_cal_cb(void *p)
{
	icalcomponent_free(p);
}

/* A VCALENDAR of its own (freed with the arena) holding a copy of ev and
 * the zones of cal: what a reply is built from after cal changed. */
static icalcomponent *
snapshot(struct arena *a, icalcomponent *cal, icalcomponent *ev,
	 icalcomponent **ev_r)
{
	icalcomponent *snap = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);

	arena_add_cleanup(a, free_cal_cb, snap);
	take_zones(snap, cal);
	*ev_r = icalcomponent_new_clone(ev);
	icalcomponent_add_component(snap, *ev_r);
	return snap;
}

/* Whether instance (UTC) is an occurrence of master's series. */
static bool
is_occurrence(icalcomponent *cal, icalcomponent *master, int64_t instance)
{
	icalproperty *st =
		icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
	icalproperty *rr =
		icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
	struct icaltimetype tt;
	icalparameter *tzp;
	icaltimezone *zone = icaltimezone_get_utc_timezone();
	icalrecur_iterator *it;
	bool found = false, date;
	size_t n;

	if (st == NULL)
		return false;
	date = is_date_prop(st);
	if (rr == NULL)
		return itip_time(cal, st) == instance;
	tt = icalvalue_get_datetime(icalproperty_get_value(st));
	tzp = icalproperty_get_first_parameter(st, ICAL_TZID_PARAMETER);
	if (tzp != NULL && !date) {
		icaltimezone *z =
			conv_ical_zone(cal, icalparameter_get_tzid(tzp));

		if (z != NULL)
			zone = z;
	}
	if (!icaltime_is_utc(tt))
		tt.zone = zone;
	it = icalrecur_iterator_new(icalproperty_get_rrule(rr), tt);
	if (it == NULL)
		return false;
	for (n = 0; n < MEETING_MAX_WALK && !found; n++) {
		struct icaltimetype next = icalrecur_iterator_next(it);
		int64_t t;

		if (icaltime_is_null_time(next))
			break;
		t = date ? (int64_t)icaltime_as_timet(next)
			 : (int64_t)icaltime_as_timet_with_zone(next, zone);
		/* a date is the device's local midnight: within a day */
		if (date ? instance > t - 86400 && instance < t + 86400
			 : t == instance)
			found = true;
		else if (t > instance + 86400)
			break;
	}
	icalrecur_iterator_free(it);
	/* a series too dense to walk gets the benefit of the doubt */
	return found || n >= MEETING_MAX_WALK;
}

/* The occurrence at instance made an exception of master (a copy with
 * its own start and no rule), added to cal. */
static icalcomponent *
new_exception(icalcomponent *cal, icalcomponent *master, int64_t instance)
{
	icalcomponent *ov = icalcomponent_new_clone(master);
	icalproperty *st =
		icalcomponent_get_first_property(master, ICAL_DTSTART_PROPERTY);
	icalproperty *en =
		icalcomponent_get_first_property(master, ICAL_DTEND_PROPERTY);
	bool date = is_date_prop(st);
	int64_t dur = en != NULL ? itip_time(cal, en) - itip_time(cal, st) : 0;
	int64_t start = instance;

	if (date) /* the UTC day the device's midnight falls in */
		start = (instance + 43200) / 86400 * 86400;
	remove_props(ov, ICAL_RRULE_PROPERTY, NULL);
	remove_props(ov, ICAL_RDATE_PROPERTY, NULL);
	remove_props(ov, ICAL_EXDATE_PROPERTY, NULL);
	remove_props(ov, ICAL_DTSTART_PROPERTY, NULL);
	remove_props(ov, ICAL_RECURRENCEID_PROPERTY, NULL);
	icalcomponent_add_property(
		ov, utc_prop(ICAL_DTSTART_PROPERTY, start, date));
	icalcomponent_add_property(
		ov, utc_prop(ICAL_RECURRENCEID_PROPERTY, start, date));
	if (en != NULL) {
		remove_props(ov, ICAL_DTEND_PROPERTY, NULL);
		icalcomponent_add_property(
			ov, utc_prop(ICAL_DTEND_PROPERTY, start + dur, date));
	}
	icalcomponent_add_component(cal, ov);
	return ov;
}

/* Store cal as the calendar item old (NULL: a new item in the account's
 * calendar). *server_id_r gets its ServerId. */
static enum store_error
store_meeting(struct store *s, struct arena *a, int64_t account_id,
	      const struct store_item *old, icalcomponent *cal,
	      int64_t device_id, const char **server_id_r)
{
	struct store_item it;
	struct store_folder f;
	const char *text, *error;
	size_t len;
	enum store_error e;

	text = conv_ical_text(a, cal, &len);
	memset(&it, 0, sizeof(it));
	if (conv_from_standard(a, STORE_CLASS_CALENDAR, text, len, &it,
			       &error) < 0) {
		log_info("meeting: the calendar item cannot be stored: %s",
			 error);
		return STORE_INVALID;
	}
	if (old != NULL) {
		e = store_item_update(s, account_id, old->id, &it, device_id);
		if (server_id_r != NULL)
			*server_id_r = old->server_id;
		return e;
	}
	e = store_folder_get_by_type(s, a, account_id, EAS_FOLDER_CALENDAR, &f);
	if (e != STORE_OK)
		return e;
	e = store_item_add(s, a, account_id, f.id, &it, device_id);
	if (e == STORE_OK && server_id_r != NULL)
		*server_id_r = it.server_id;
	return e;
}

static icalcomponent *
parse_item(struct arena *a, const struct store_item *item)
{
	const char *error;

	if (item->data == NULL)
		return NULL;
	return conv_ical_parse(a, (const char *)item->data, item->data_len,
			       &error);
}

/* --- what arrives --- */

/* An update or a cancellation must come from the meeting's organizer:
 * the ORGANIZER of the stored meeting, named by the message and its From
 * alike (mail NULL: the account's own request, from MeetingResponse). */
static bool
from_organizer(struct arena *a, const struct store_item *mail,
	       icalcomponent *master, const struct itip *it)
{
	const char *org = organizer_of(a, master);

	return org != NULL && it->organizer != NULL &&
	       str_ieq(org, it->organizer) &&
	       (mail == NULL || mail_from_is(a, mail, it->organizer));
}

static enum store_error
place(struct store *s, struct arena *a, const struct meeting_self *me,
      const struct store_item *mail, const struct itip *it, const char **what_r,
      const char **server_id_r)
{
	struct store_item old;
	icalcomponent *cal = it->cal, *old_cal, *old_ev, *master;
	enum store_error e;

	if (it->organizer != NULL && meeting_is_self(me, it->organizer)) {
		*what_r = "the account's own invitation";
		return STORE_OK;
	}
	remove_props(cal, ICAL_METHOD_PROPERTY, NULL);
	e = store_item_by_uid(s, a, me->account_id, STORE_CLASS_CALENDAR,
			      it->uid, &old);
	if (e == STORE_NOTFOUND) {
		/* an occurrence of a series the account does not have is
		 * a meeting of its own */
		if (it->has_rid && itip_event(cal, false, 0) == NULL)
			remove_props(it->ev, ICAL_RECURRENCEID_PROPERTY, NULL);
		for (icalcomponent *c = icalcomponent_get_first_component(
			     cal, ICAL_VEVENT_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(
					cal, ICAL_VEVENT_COMPONENT))
			mark_received(a, me, c, false);
		*what_r = "placed in the calendar";
		return store_meeting(s, a, me->account_id, NULL, cal, 0,
				     server_id_r);
	}
	if (e != STORE_OK)
		return e;
	if (server_id_r != NULL)
		*server_id_r = old.server_id;
	old_cal = parse_item(a, &old);
	if (old_cal == NULL || (master = master_of(old_cal)) == NULL) {
		*what_r = "the stored meeting cannot be read";
		return STORE_OK;
	}
	if (!from_organizer(a, mail, master, it)) {
		*what_r = "not from the meeting's organizer";
		return STORE_OK;
	}
	old_ev = itip_event(old_cal, it->has_rid, it->rid);
	if (old_ev != NULL) {
		int seq = icalcomponent_get_sequence(old_ev);
		icalproperty *ds = icalcomponent_get_first_property(
			old_ev, ICAL_DTSTAMP_PROPERTY);

		if (it->sequence < seq ||
		    (it->sequence == seq && ds != NULL && it->dtstamp != 0 &&
		     itip_time(old_cal, ds) > it->dtstamp)) {
			*what_r = "outdated";
			return STORE_OK;
		}
	}
	if (it->has_rid && itip_event(cal, false, 0) == NULL) {
		/* one occurrence: it replaces that exception of the
		 * series */
		icalcomponent *ov = icalcomponent_new_clone(it->ev);

		if (old_ev != NULL) {
			icalcomponent_remove_component(old_cal, old_ev);
			icalcomponent_free(old_ev);
		}
		drop_exdate(old_cal, master, it->rid);
		take_zones(old_cal, cal);
		mark_received(a, me, ov, false);
		icalcomponent_add_component(old_cal, ov);
		*what_r = "the occurrence updated";
		return store_meeting(s, a, me->account_id, &old, old_cal, 0,
				     NULL);
	}
	/* the meeting again: it replaces the stored one; an answer to the
	 * same SEQUENCE stays */
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		icalproperty *rid = icalcomponent_get_first_property(
			c, ICAL_RECURRENCEID_PROPERTY);
		icalcomponent *was =
			itip_event(old_cal, rid != NULL,
				   rid != NULL ? itip_time(cal, rid) : 0);
		icalproperty *mine = self_attendee(a, me, c);
		icalproperty *had =
			was != NULL ? self_attendee(a, me, was) : NULL;

		if (mine != NULL && had != NULL &&
		    icalcomponent_get_sequence(c) ==
			    icalcomponent_get_sequence(was) &&
		    itip_answer_of(had) != ITIP_NO_ANSWER)
			itip_set_answer(mine, itip_answer_of(had));
		mark_received(a, me, c, false);
	}
	*what_r = "the meeting updated";
	return store_meeting(s, a, me->account_id, &old, cal, 0, NULL);
}

/* The stored meeting of it's UID: 1 with the item, its iCalendar and its
 * series; 0 when there is none or it cannot be read (*what_r says
 * which); -1 on a store error (*e_r). */
static int
load_meeting(struct store *s, struct arena *a, const struct meeting_self *me,
	     const struct itip *it, struct store_item *old,
	     icalcomponent **cal_r, icalcomponent **master_r,
	     const char **what_r, enum store_error *e_r)
{
	*e_r = store_item_by_uid(s, a, me->account_id, STORE_CLASS_CALENDAR,
				 it->uid, old);
	if (*e_r == STORE_NOTFOUND) {
		*e_r = STORE_OK;
		*what_r = "no such meeting";
		return 0;
	}
	if (*e_r != STORE_OK)
		return -1;
	*cal_r = parse_item(a, old);
	if (*cal_r == NULL || (*master_r = master_of(*cal_r)) == NULL) {
		*what_r = "the stored meeting cannot be read";
		return 0;
	}
	return 1;
}

static enum store_error
cancelled(struct store *s, struct arena *a, const struct meeting_self *me,
	  const struct store_item *mail, const struct itip *it,
	  const char **what_r)
{
	struct store_item old;
	icalcomponent *cal = NULL, *master = NULL;
	enum store_error e;
	int r = load_meeting(s, a, me, it, &old, &cal, &master, what_r, &e);

	if (r <= 0)
		return e;
	if (!from_organizer(a, mail, master, it)) {
		*what_r = "not from the meeting's organizer";
		return STORE_OK;
	}
	if (it->has_rid && icalcomponent_get_first_property(
				   master, ICAL_RRULE_PROPERTY) != NULL) {
		icalcomponent *ov = itip_event(cal, true, it->rid);

		if (ov != NULL) {
			icalcomponent_remove_component(cal, ov);
			icalcomponent_free(ov);
		}
		add_exdate(cal, master, it->rid);
		*what_r = "the occurrence cancelled";
	} else {
		for (icalcomponent *c = icalcomponent_get_first_component(
			     cal, ICAL_VEVENT_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(
					cal, ICAL_VEVENT_COMPONENT))
			mark_received(a, me, c, true);
		*what_r = "the meeting cancelled";
	}
	return store_meeting(s, a, me->account_id, &old, cal, 0, NULL);
}

static enum store_error
replied(struct store *s, struct arena *a, const struct meeting_self *me,
	const struct store_item *mail, const struct itip *it,
	const char **what_r)
{
	struct store_item old;
	icalcomponent *cal = NULL, *master = NULL, *ev;
	icalproperty *from, *att;
	const char *addr;
	enum store_error e;

	from = icalcomponent_get_first_property(it->ev, ICAL_ATTENDEE_PROPERTY);
	addr = from != NULL ? itip_address(a, icalproperty_get_attendee(from))
			    : NULL;
	if (addr == NULL) {
		*what_r = "a reply that names no attendee";
		return STORE_OK;
	}
	if (!mail_from_is(a, mail, addr)) {
		*what_r = "a reply not from the attendee it names";
		return STORE_OK;
	}
	if (load_meeting(s, a, me, it, &old, &cal, &master, what_r, &e) <= 0)
		return e;
	if (!organized_by(a, me, master)) {
		*what_r = "the account does not organize the meeting";
		return STORE_OK;
	}
	ev = it->has_rid ? itip_event(cal, true, it->rid) : NULL;
	if (ev == NULL)
		ev = master;
	att = itip_attendee(a, ev, addr);
	if (att == NULL) {
		*what_r = "the reply is not from an attendee";
		return STORE_OK;
	}
	drop_eas_params(att);
	itip_set_answer(att, itip_answer_of(from));
	*what_r = arena_printf(a, "%s answered", addr);
	return store_meeting(s, a, me->account_id, &old, cal, 0, NULL);
}

enum store_error
meeting_delivered(struct store *s, struct arena *a, int64_t account_id,
		  const struct store_item *mail, const char **what_r)
{
	struct meeting_self me;
	struct itip it;
	const char *ics, *error;
	size_t len = 0;
	enum store_error e;

	*what_r = "not a meeting message";
	ics = mail_calendar_text(a, mail, &len);
	if (ics == NULL)
		return STORE_OK;
	if (itip_parse(a, ics, len, &it, &error) < 0) {
		*what_r = error;
		return STORE_OK;
	}
	if ((e = meeting_self_get(s, a, account_id, &me)) != STORE_OK)
		return e;
	switch (it.method) {
	case ITIP_REQUEST:
	case ITIP_ADD:
		return place(s, a, &me, mail, &it, what_r, NULL);
	case ITIP_CANCEL:
		return cancelled(s, a, &me, mail, &it, what_r);
	case ITIP_REPLY:
	case ITIP_COUNTER:
		return replied(s, a, &me, mail, &it, what_r);
	default:
		*what_r = "a method that changes no calendar";
		return STORE_OK;
	}
}

/* --- the account's answer --- */

static void
answer_event(struct arena *a, const struct meeting_self *me, icalcomponent *ev,
	     enum itip_answer ans)
{
	icalproperty *att = self_attendee(a, me, ev);
	char now[32];

	if (att == NULL) {
		/* invited another way (a list, Bcc): named now */
		att = icalproperty_new_attendee(
			arena_printf(a, "mailto:%s", me->email));
		icalproperty_add_parameter(att, icalparameter_new_cn(me->name));
		icalcomponent_add_property(ev, att);
	}
	drop_eas_params(att);
	itip_set_answer(att, ans);
	mark_received(a, me, ev, false);
	time_format_compact(time_now(), now);
	x_replace(ev, "X-EAS-APPOINTMENTREPLYTIME", now);
}

static int
respond_fail(struct meeting_result *out, const char *why)
{
	out->status = 2;
	out->why = why;
	return 0;
}

enum store_error
meeting_respond(struct store *s, struct arena *a, const struct meeting_self *me,
		const struct store_item *item, const struct meeting_answer *ans,
		struct meeting_result *out)
{
	struct store_item calitem;
	struct itip inv;
	icalcomponent *cal, *master, *ev, *snap_ev;
	icalproperty *mine;
	const char *ics, *error, *what;
	size_t len = 0;
	bool from_mail = item->cls == STORE_CLASS_EMAIL;
	enum store_error e;

	memset(out, 0, sizeof(*out));
	out->status = 2;
	if (ans->answer < ITIP_ACCEPTED || ans->answer > ITIP_DECLINED) {
		respond_fail(out, "no such answer");
		return STORE_OK;
	}
	if (from_mail) {
		if (ans->has_instance) {
			respond_fail(out, "an InstanceId with a mail");
			return STORE_OK;
		}
		ics = mail_calendar_text(a, item, &len);
		if (ics == NULL || itip_parse(a, ics, len, &inv, &error) < 0 ||
		    (inv.method != ITIP_REQUEST && inv.method != ITIP_ADD)) {
			respond_fail(out, "not a meeting request");
			return STORE_OK;
		}
		if (inv.organizer == NULL ||
		    meeting_is_self(me, inv.organizer)) {
			respond_fail(out, "the account organizes the meeting");
			return STORE_OK;
		}
		e = store_item_by_uid(s, a, me->account_id,
				      STORE_CLASS_CALENDAR, inv.uid, &calitem);
		if (e == STORE_NOTFOUND) {
			/* deleted from the calendar meanwhile: again */
			struct itip again;

			if (itip_parse(a, ics, len, &again, &error) < 0)
				return STORE_INTERNAL;
			e = place(s, a, me, item, &again, &what, NULL);
			if (e != STORE_OK)
				return e;
			e = store_item_by_uid(s, a, me->account_id,
					      STORE_CLASS_CALENDAR, inv.uid,
					      &calitem);
		}
		if (e == STORE_NOTFOUND) {
			respond_fail(out, "the meeting cannot be placed");
			return STORE_OK;
		}
		if (e != STORE_OK)
			return e;
	} else if (item->cls == STORE_CLASS_CALENDAR) {
		calitem = *item;
	} else {
		respond_fail(out,
			     "neither a meeting request nor a calendar item");
		return STORE_OK;
	}
	cal = parse_item(a, &calitem);
	if (cal == NULL || (master = master_of(cal)) == NULL) {
		respond_fail(out, "the calendar item cannot be read");
		return STORE_OK;
	}
	out->organizer = organizer_of(a, master);
	if (out->organizer == NULL || organized_by(a, me, master)) {
		respond_fail(out, "the account organizes the meeting");
		return STORE_OK;
	}
	if (ans->has_instance) {
		ev = itip_event(cal, true, ans->instance);
		if (ev == NULL) {
			if (icalcomponent_get_first_property(
				    master, ICAL_RRULE_PROPERTY) == NULL ||
			    !is_occurrence(cal, master, ans->instance)) {
				respond_fail(out, "no such occurrence");
				return STORE_OK;
			}
			ev = new_exception(cal, master, ans->instance);
		}
	} else {
		ev = master;
	}
	mine = self_attendee(a, me, ev);
	{
		icalparameter *rsvp =
			mine != NULL ? icalproperty_get_first_parameter(
					       mine, ICAL_RSVP_PARAMETER)
				     : NULL;
		const char *rr =
			conv_ical_get_x(a, ev, "X-EAS-RESPONSEREQUESTED");

		out->response_requested =
			rsvp != NULL
				? icalparameter_get_rsvp(rsvp) == ICAL_RSVP_TRUE
				: rr == NULL || strcmp(rr, "0") != 0;
	}
	if (from_mail)
		out->cal = snapshot(a, inv.cal, inv.ev, &snap_ev);
	else
		out->cal = snapshot(a, cal, ev, &snap_ev);
	out->ev = snap_ev;
	{
		icalproperty *op = icalcomponent_get_first_property(
			master, ICAL_ORGANIZER_PROPERTY);
		icalparameter *cn = op != NULL
					    ? icalproperty_get_first_parameter(
						      op, ICAL_CN_PARAMETER)
					    : NULL;

		out->organizer_name =
			cn != NULL && icalparameter_get_cn(cn) != NULL
				? arena_strdup(a, icalparameter_get_cn(cn))
				: NULL;
	}
	out->summary = icalcomponent_get_summary(ev) != NULL
			       ? arena_strdup(a, icalcomponent_get_summary(ev))
			       : "";
	out->self_addr =
		mine != NULL ? itip_address(a, icalproperty_get_attendee(mine))
			     : me->email;
	if (out->self_addr == NULL)
		out->self_addr = me->email;
	out->self_name = me->name;

	if (ans->answer == ITIP_DECLINED) {
		if (ans->has_instance) {
			icalcomponent_remove_component(cal, ev);
			icalcomponent_free(ev);
			add_exdate(cal, master, ans->instance);
			e = store_meeting(s, a, me->account_id, &calitem, cal,
					  0, NULL);
		} else {
			e = store_item_delete(s, me->account_id, calitem.id, 0);
		}
		if (e == STORE_OK)
			out->status = 1;
		return e;
	}
	if (ans->has_instance) {
		answer_event(a, me, ev, ans->answer);
	} else {
		/* the series and every exception of it */
		for (icalcomponent *c = icalcomponent_get_first_component(
			     cal, ICAL_VEVENT_COMPONENT);
		     c != NULL; c = icalcomponent_get_next_component(
					cal, ICAL_VEVENT_COMPONENT))
			answer_event(a, me, c, ans->answer);
	}
	/* every device learns the change by Sync, the one that answered
	 * too: its copy of the meeting changed on the server */
	e = store_meeting(s, a, me->account_id, &calitem, cal, 0,
			  &out->calendar_id);
	if (e == STORE_OK)
		out->status = 1;
	return e;
}

/* --- the organizer's changes --- */

struct addr_list {
	const char **v, **names;
	size_t n;
};

static void
attendees_of(struct arena *a, const struct meeting_self *me, icalcomponent *cal,
	     struct addr_list *l)
{
	size_t cap = 0;

	memset(l, 0, sizeof(*l));
	if (cal == NULL)
		return;
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		for (icalproperty *p = icalcomponent_get_first_property(
			     c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL && l->n < ITIP_MAX_ATTENDEES;
		     p = icalcomponent_get_next_property(
			     c, ICAL_ATTENDEE_PROPERTY)) {
			const char *x =
				itip_address(a, icalproperty_get_attendee(p));
			icalparameter *cn = icalproperty_get_first_parameter(
				p, ICAL_CN_PARAMETER);
			bool dup = false;

			if (x == NULL || meeting_is_self(me, x))
				continue;
			for (size_t i = 0; i < l->n && !dup; i++)
				dup = str_ieq(l->v[i], x);
			if (dup)
				continue;
			{
				size_t c2 = cap;

				l->v = arena_grow(a, l->v, l->n, &cap,
						  sizeof(*l->v));
				l->names = arena_grow(a, l->names, l->n, &c2,
						      sizeof(*l->names));
			}
			l->v[l->n] = x;
			l->names[l->n] =
				cn != NULL && icalparameter_get_cn(cn) != NULL
					? arena_strdup(a,
						       icalparameter_get_cn(cn))
					: NULL;
			l->n++;
		}
	}
}

static bool
in_list(const struct addr_list *l, const char *x)
{
	for (size_t i = 0; i < l->n; i++)
		if (str_ieq(l->v[i], x))
			return true;
	return false;
}

/* What attendees see of a meeting (times, rule, place, title, text,
 * status, the exceptions), as one text to compare. */
static const char *
signature(struct arena *a, icalcomponent *cal)
{
	static const icalproperty_kind kinds[] = {
		ICAL_DTSTART_PROPERTY,	    ICAL_DTEND_PROPERTY,
		ICAL_DURATION_PROPERTY,	    ICAL_RRULE_PROPERTY,
		ICAL_RDATE_PROPERTY,	    ICAL_EXDATE_PROPERTY,
		ICAL_LOCATION_PROPERTY,	    ICAL_SUMMARY_PROPERTY,
		ICAL_DESCRIPTION_PROPERTY,  ICAL_STATUS_PROPERTY,
		ICAL_RECURRENCEID_PROPERTY,
	};
	struct buf b;
	const char *out;

	buf_init(&b, 0);
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		buf_puts(&b, "|V");
		for (size_t i = 0; i < N_ELEMENTS(kinds); i++) {
			for (icalproperty *p = icalcomponent_get_first_property(
				     c, kinds[i]);
			     p != NULL;
			     p = icalcomponent_get_next_property(c, kinds[i])) {
				icalparameter *tz =
					icalproperty_get_first_parameter(
						p, ICAL_TZID_PARAMETER);
				const char *v =
					icalproperty_get_value_as_string(p);

				buf_printf(&b, "|%d:%s;%s", (int)kinds[i],
					   tz != NULL
						   ? icalparameter_get_tzid(tz)
						   : "",
					   v != NULL ? v : "");
			}
		}
	}
	out = arena_strndup(a, b.data != NULL ? (const char *)b.data : "",
			    b.len);
	buf_deinit(&b);
	return out;
}

static bool
is_cancelled(struct arena *a, icalcomponent *ev)
{
	const char *v = conv_ical_get_x(a, ev, "X-EAS-MEETINGSTATUS");
	int64_t n;

	if (icalcomponent_get_status(ev) == ICAL_STATUS_CANCELLED)
		return true;
	return v != NULL && str_to_int64(v, &n) == 0 && (n & 4) != 0;
}

static void
set_sequence(icalcomponent *cal, int seq)
{
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		icalcomponent_set_sequence(c, seq);
}

static int
max_sequence(icalcomponent *cal)
{
	int m = 0;

	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
		m = EAS_MAX(m, icalcomponent_get_sequence(c));
	return m;
}

static int
add_message(struct arena *a, const struct meeting_self *me, icalcomponent *cal,
	    enum itip_method method, const struct addr_list *to,
	    struct meeting_message **msgs, size_t *n, size_t *cap,
	    const char **error_r)
{
	struct meeting_message *m;
	const char *text, *summary;
	icalcomponent *master = master_of(cal);
	size_t len;

	if (to->n == 0)
		return 0;
	text = conv_ical_text(a, cal, &len);
	*msgs = arena_grow(a, *msgs, *n, cap, sizeof(**msgs));
	m = &(*msgs)[(*n)++];
	memset(m, 0, sizeof(*m));
	m->method = method;
	m->ics = itip_build_organizer(a, text, len, method, me->email, me->name,
				      method == ITIP_CANCEL ? to->v : NULL,
				      method == ITIP_CANCEL ? to->n : 0,
				      &m->ics_len, error_r);
	if (m->ics == NULL)
		return -1;
	m->to = to->v;
	m->to_names = to->names;
	m->nto = to->n;
	summary = master != NULL && icalcomponent_get_summary(master) != NULL
			  ? icalcomponent_get_summary(master)
			  : "";
	m->subject = method == ITIP_CANCEL
			     ? arena_printf(a, "Canceled: %s", summary)
			     : arena_strdup(a, summary);
	return 0;
}

int
meeting_organizer_change(struct arena *a, const struct meeting_self *me,
			 const struct store_item *old, struct store_item *item,
			 struct meeting_message **msgs_r, size_t *nmsgs_r,
			 const char **error_r)
{
	icalcomponent *old_cal = old != NULL ? parse_item(a, old) : NULL;
	icalcomponent *new_cal = item != NULL ? parse_item(a, item) : NULL;
	icalcomponent *om = old_cal != NULL ? master_of(old_cal) : NULL;
	icalcomponent *nm = new_cal != NULL ? master_of(new_cal) : NULL;
	struct addr_list before, after, gone;
	struct meeting_message *msgs = NULL;
	size_t n = 0, cap = 0;
	bool was_cancelled, now_cancelled, changed;

	*msgs_r = NULL;
	*nmsgs_r = 0;
	if ((old != NULL && om == NULL) || (item != NULL && nm == NULL)) {
		*error_r = "iCalendar: no VEVENT";
		return -1;
	}
	if ((nm != NULL && !organized_by(a, me, nm)) ||
	    (nm == NULL && !organized_by(a, me, om)))
		return 0;
	attendees_of(a, me, old_cal, &before);
	attendees_of(a, me, new_cal, &after);
	if (before.n == 0 && after.n == 0)
		return 0;
	was_cancelled = om != NULL && is_cancelled(a, om);
	if (new_cal == NULL) {
		/* deleted: the attendees hear it is off */
		if (was_cancelled)
			return 0;
		set_sequence(old_cal, max_sequence(old_cal) + 1);
		if (add_message(a, me, old_cal, ITIP_CANCEL, &before, &msgs, &n,
				&cap, error_r) < 0)
			return -1;
		goto done;
	}
	now_cancelled = is_cancelled(a, nm);
	if (icalcomponent_get_first_property(nm, ICAL_ORGANIZER_PROPERTY) ==
	    NULL) {
		icalproperty *p = icalproperty_new_organizer(
			arena_printf(a, "mailto:%s", me->email));

		icalproperty_add_parameter(p, icalparameter_new_cn(me->name));
		icalcomponent_add_property(nm, p);
	}
	memset(&gone, 0, sizeof(gone));
	gone.v = arena_alloc(a, (before.n + 1) * sizeof(*gone.v));
	gone.names = arena_alloc(a, (before.n + 1) * sizeof(*gone.names));
	for (size_t i = 0; i < before.n; i++) {
		if (!in_list(&after, before.v[i])) {
			gone.v[gone.n] = before.v[i];
			gone.names[gone.n++] = before.names[i];
		}
	}
	if (old_cal == NULL) {
		changed = true;
	} else {
		changed = strcmp(signature(a, old_cal),
				 signature(a, new_cal)) != 0;
		for (size_t i = 0; i < after.n && !changed; i++)
			changed = !in_list(&before, after.v[i]);
	}
	if (old_cal != NULL && (changed || gone.n > 0))
		set_sequence(new_cal, EAS_MAX(max_sequence(old_cal),
					      max_sequence(new_cal)) +
					      1);
	if (now_cancelled) {
		if (!was_cancelled &&
		    add_message(a, me, new_cal, ITIP_CANCEL, &after, &msgs, &n,
				&cap, error_r) < 0)
			return -1;
	} else {
		if (gone.n > 0 &&
		    add_message(a, me, new_cal, ITIP_CANCEL, &gone, &msgs, &n,
				&cap, error_r) < 0)
			return -1;
		if (changed && add_message(a, me, new_cal, ITIP_REQUEST, &after,
					   &msgs, &n, &cap, error_r) < 0)
			return -1;
	}
	{
		size_t len;
		const char *text = conv_ical_text(a, new_cal, &len);

		item->data = (const uint8_t *)text;
		item->data_len = len;
		item->meta.size = (int64_t)len;
	}
done:
	*msgs_r = msgs;
	*nmsgs_r = n;
	return 0;
}
