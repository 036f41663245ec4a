/* iTIP objects (RFC 5546) and the mail that carries them (RFC 6047),
 * through libical and GMime. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "ical.h"
#include "itip.h"
#include "mail.h"
#include "util.h"

static const char *const method_names[] = {
	[ITIP_NONE] = "",
	[ITIP_PUBLISH] = "PUBLISH",
	[ITIP_REQUEST] = "REQUEST",
	[ITIP_REPLY] = "REPLY",
	[ITIP_ADD] = "ADD",
	[ITIP_CANCEL] = "CANCEL",
	[ITIP_REFRESH] = "REFRESH",
	[ITIP_COUNTER] = "COUNTER",
	[ITIP_DECLINECOUNTER] = "DECLINECOUNTER",
};

enum itip_method
itip_method_of(const char *name)
{
	if (name == NULL)
		return ITIP_NONE;
	for (size_t i = 1; i < N_ELEMENTS(method_names); i++)
		if (str_ieq(name, method_names[i]))
			return (enum itip_method)i;
	return ITIP_NONE;
}

const char *
itip_method_name(enum itip_method m)
{
	return (size_t)m < N_ELEMENTS(method_names) ? method_names[m] : "";
}

const char *
itip_address(struct arena *a, const char *v)
{
	const char *at;

	if (v == NULL)
		return NULL;
	if (str_has_iprefix(v, "mailto:"))
		v += 7;
	while (*v == ' ')
		v++;
	at = strchr(v, '@');
	if (at == NULL || at == v || at[1] == '\0' || strlen(v) > 320 ||
	    strpbrk(v, " <>,;\r\n\t") != NULL)
		return NULL;
	return arena_strdup(a, v);
}

icalproperty *
itip_attendee(struct arena *a, icalcomponent *ev, const char *addr)
{
	size_t n = 0;

	if (addr == NULL)
		return NULL;
	for (icalproperty *p = icalcomponent_get_first_property(
		     ev, ICAL_ATTENDEE_PROPERTY);
	     p != NULL && n < ITIP_MAX_ATTENDEES;
	     p = icalcomponent_get_next_property(ev, ICAL_ATTENDEE_PROPERTY),
			  n++) {
		const char *x = itip_address(a, icalproperty_get_attendee(p));

		if (x != NULL && str_ieq(x, addr))
			return p;
	}
	return NULL;
}

enum itip_answer
itip_answer_of(icalproperty *att)
{
	icalparameter *q =
		icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);

	if (q == NULL)
		return ITIP_NO_ANSWER;
	switch (icalparameter_get_partstat(q)) {
	case ICAL_PARTSTAT_ACCEPTED:
		return ITIP_ACCEPTED;
	case ICAL_PARTSTAT_TENTATIVE:
		return ITIP_TENTATIVE;
	case ICAL_PARTSTAT_DECLINED:
		return ITIP_DECLINED;
	default:
		return ITIP_NO_ANSWER;
	}
}

void
itip_set_answer(icalproperty *att, enum itip_answer ans)
{
	static const icalparameter_partstat ps[] = {
		[ITIP_NO_ANSWER] = ICAL_PARTSTAT_NEEDSACTION,
		[ITIP_ACCEPTED] = ICAL_PARTSTAT_ACCEPTED,
		[ITIP_TENTATIVE] = ICAL_PARTSTAT_TENTATIVE,
		[ITIP_DECLINED] = ICAL_PARTSTAT_DECLINED,
	};

	icalproperty_set_parameter(att, icalparameter_new_partstat(ps[ans]));
	if (ans != ITIP_NO_ANSWER)
		icalproperty_remove_parameter_by_kind(att, ICAL_RSVP_PARAMETER);
}

int64_t
itip_time(icalcomponent *cal, icalproperty *p)
{
	struct icaltimetype tt =
		icalvalue_get_datetime(icalproperty_get_value(p));
	icalparameter *tzp =
		icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);
	icaltimezone *z = NULL;

	if (icaltime_is_null_time(tt))
		return 0;
	if (tt.is_date || icaltime_is_utc(tt) || tzp == NULL) {
		tt.zone = NULL;
		return (int64_t)icaltime_as_timet(tt);
	}
	z = conv_ical_zone(cal, icalparameter_get_tzid(tzp));
	tt.zone = NULL;
	if (z == NULL)
		return (int64_t)icaltime_as_timet(tt);
	return (int64_t)icaltime_as_timet_with_zone(tt, z);
}

icalcomponent *
itip_event(icalcomponent *cal, bool has_rid, int64_t rid)
{
	size_t n = 0;

	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL && n < ITIP_MAX_EVENTS;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT),
			   n++) {
		icalproperty *p = icalcomponent_get_first_property(
			c, ICAL_RECURRENCEID_PROPERTY);

		if (!has_rid && p == NULL)
			return c;
		if (has_rid && p != NULL && itip_time(cal, p) == rid)
			return c;
	}
	return NULL;
}

int
itip_parse(struct arena *a, const char *ics, size_t len, struct itip *it,
	   const char **error_r)
{
	icalproperty *p;
	const char *uid;

	memset(it, 0, sizeof(*it));
	if (len > ITIP_MAX_SIZE) {
		*error_r = "iTIP: too large";
		return -1;
	}
	it->cal = conv_ical_parse(a, ics, len, error_r);
	if (it->cal == NULL)
		return -1;
	p = icalcomponent_get_first_property(it->cal, ICAL_METHOD_PROPERTY);
	if (p == NULL) {
		*error_r = "iTIP: no METHOD";
		return -1;
	}
	it->method = itip_method_of(icalproperty_get_value_as_string(p));
	if (it->method == ITIP_NONE) {
		*error_r = "iTIP: unknown METHOD";
		return -1;
	}
	it->ev = icalcomponent_get_first_component(it->cal,
						   ICAL_VEVENT_COMPONENT);
	if (it->ev == NULL) {
		*error_r = "iTIP: no VEVENT";
		return -1;
	}
	uid = icalcomponent_get_uid(it->ev);
	if (uid == NULL || *uid == '\0' || strlen(uid) > 1000) {
		*error_r = "iTIP: VEVENT without a usable UID";
		return -1;
	}
	it->uid = arena_strdup(a, uid);
	it->sequence = icalcomponent_get_sequence(it->ev);
	if (it->sequence < 0)
		it->sequence = 0;
	p = icalcomponent_get_first_property(it->ev,
					     ICAL_RECURRENCEID_PROPERTY);
	if (p != NULL) {
		it->has_rid = true;
		it->rid = itip_time(it->cal, p);
	}
	p = icalcomponent_get_first_property(it->ev, ICAL_ORGANIZER_PROPERTY);
	if (p != NULL) {
		icalparameter *cn =
			icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);

		it->organizer = itip_address(a, icalproperty_get_organizer(p));
		if (cn != NULL && icalparameter_get_cn(cn) != NULL)
			it->organizer_name =
				arena_strdup(a, icalparameter_get_cn(cn));
	}
	it->summary =
		icalcomponent_get_summary(it->ev) != NULL
			? arena_strdup(a, icalcomponent_get_summary(it->ev))
			: "";
	p = icalcomponent_get_first_property(it->ev, ICAL_DTSTAMP_PROPERTY);
	if (p != NULL)
		it->dtstamp = itip_time(it->cal, p);
	return 0;
}

/* --- GlobalObjId --- */

static const uint8_t goid_class[16] = {0x04, 0x00, 0x00, 0x00, 0x82, 0x00,
				       0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10,
				       0x1A, 0x82, 0xE0, 0x08};

const char *
itip_global_obj_id(struct arena *a, const char *uid, int64_t rid)
{
	size_t ulen = strlen(uid), n = 0;
	uint8_t *b = arena_alloc(a, 40 + 12 + ulen + 1 + ulen / 2);
	char *out;
	bool outlook = ulen >= 2 * 40 && ulen % 2 == 0;

	/* an Outlook id in hex: its own bytes */
	for (size_t i = 0; outlook && i < ulen; i++)
		outlook = str_hex_val(uid[i]) >= 0;
	if (outlook) {
		for (size_t i = 0; i < ulen; i += 2)
			b[n++] = (uint8_t)(str_hex_val(uid[i]) << 4 |
					   str_hex_val(uid[i + 1]));
		outlook = memcmp(b, goid_class, 16) == 0;
	}
	if (!outlook) {
		uint32_t dlen = (uint32_t)(12 + ulen + 1);

		n = 0;
		memcpy(b, goid_class, 16);
		memset(b + 16, 0, 24); /* date, creation time, reserved */
		b[36] = (uint8_t)dlen;
		b[37] = (uint8_t)(dlen >> 8);
		b[38] = (uint8_t)(dlen >> 16);
		b[39] = (uint8_t)(dlen >> 24);
		memcpy(b + 40, "vCal-Uid\x01\x00\x00\x00", 12);
		memcpy(b + 52, uid, ulen + 1);
		n = 52 + ulen + 1;
	}
	/* bytes 16..19: the occurrence's date (year high, low, month, day) */
	if (rid != 0 && n >= 20) {
		time_t t = (time_t)rid;
		struct tm tm;

		gmtime_r(&t, &tm);
		b[16] = (uint8_t)((tm.tm_year + 1900) >> 8);
		b[17] = (uint8_t)(tm.tm_year + 1900);
		b[18] = (uint8_t)(tm.tm_mon + 1);
		b[19] = (uint8_t)tm.tm_mday;
	} else if (n >= 20) {
		memset(b + 16, 0, 4);
	}
	out = arena_alloc(a, base64_encoded_len(n) + 1);
	base64_encode(b, n, out);
	return out;
}

/* --- building --- */

static icalproperty *
utc_time_prop(icalproperty_kind kind, int64_t t)
{
	icalproperty *p = icalproperty_new(kind);

	icalproperty_set_value(
		p, icalvalue_new_datetime(icaltime_from_timet_with_zone(
			   (time_t)t, 0, icaltimezone_get_utc_timezone())));
	return p;
}

static void
copy_prop(icalcomponent *to, icalcomponent *from, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(from, kind);

	if (p != NULL)
		icalcomponent_add_property(to, icalproperty_new_clone(p));
}

/* The VTIMEZONEs cal has for the TZIDs ev's times name. */
static void
copy_zones(icalcomponent *to, icalcomponent *cal, icalcomponent *ev)
{
	static const icalproperty_kind kinds[] = {ICAL_DTSTART_PROPERTY,
						  ICAL_DTEND_PROPERTY};

	for (size_t i = 0; i < N_ELEMENTS(kinds); i++) {
		icalproperty *p =
			icalcomponent_get_first_property(ev, kinds[i]);
		icalparameter *tzp = p != NULL
					     ? icalproperty_get_first_parameter(
						       p, ICAL_TZID_PARAMETER)
					     : NULL;
		const char *tzid =
			tzp != NULL ? icalparameter_get_tzid(tzp) : NULL;
		bool have = false;

		if (tzid == NULL)
			continue;
		for (icalcomponent *z = icalcomponent_get_first_component(
			     to, ICAL_VTIMEZONE_COMPONENT);
		     z != NULL; z = icalcomponent_get_next_component(
					to, ICAL_VTIMEZONE_COMPONENT)) {
			icalproperty *id = icalcomponent_get_first_property(
				z, ICAL_TZID_PROPERTY);

			have = have ||
			       (id != NULL &&
				strcmp(icalproperty_get_tzid(id), tzid) == 0);
		}
		for (icalcomponent *z = icalcomponent_get_first_component(
			     cal, ICAL_VTIMEZONE_COMPONENT);
		     z != NULL && !have;
		     z = icalcomponent_get_next_component(
			     cal, ICAL_VTIMEZONE_COMPONENT)) {
			icalproperty *id = icalcomponent_get_first_property(
				z, ICAL_TZID_PROPERTY);

			if (id != NULL &&
			    strcmp(icalproperty_get_tzid(id), tzid) == 0) {
				icalcomponent_add_component(
					to, icalcomponent_new_clone(z));
				have = true;
			}
		}
	}
}

static icalcomponent *
new_vcalendar(enum itip_method m)
{
	icalcomponent *cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);

	icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(cal, icalproperty_new_prodid("-//easd//EN"));
	icalcomponent_add_property(
		cal, icalproperty_new_method(
			     m == ITIP_REPLY	 ? ICAL_METHOD_REPLY
			     : m == ITIP_COUNTER ? ICAL_METHOD_COUNTER
			     : m == ITIP_CANCEL	 ? ICAL_METHOD_CANCEL
						 : ICAL_METHOD_REQUEST));
	return cal;
}

const char *
itip_build_reply(struct arena *a, icalcomponent *cal, icalcomponent *ev,
		 const struct itip_reply *r, size_t *len_r)
{
	icalcomponent *out =
		new_vcalendar(r->propose ? ITIP_COUNTER : ITIP_REPLY);
	icalcomponent *re = icalcomponent_new(ICAL_VEVENT_COMPONENT);
	icalproperty *att, *old;

	copy_zones(out, cal, ev);
	icalcomponent_add_property(
		re, icalproperty_new_uid(icalcomponent_get_uid(ev)));
	icalcomponent_add_property(
		re, utc_time_prop(ICAL_DTSTAMP_PROPERTY, time_now()));
	copy_prop(re, ev, ICAL_SEQUENCE_PROPERTY);
	copy_prop(re, ev, ICAL_ORGANIZER_PROPERTY);
	copy_prop(re, ev, ICAL_SUMMARY_PROPERTY);
	if (r->propose) {
		icalcomponent_add_property(re,
					   utc_time_prop(ICAL_DTSTART_PROPERTY,
							 r->proposed_start));
		icalcomponent_add_property(
			re,
			utc_time_prop(ICAL_DTEND_PROPERTY, r->proposed_end));
	} else {
		copy_prop(re, ev, ICAL_DTSTART_PROPERTY);
		copy_prop(re, ev, ICAL_DTEND_PROPERTY);
	}
	if (r->has_rid && icalcomponent_get_first_property(
				  ev, ICAL_RECURRENCEID_PROPERTY) == NULL)
		icalcomponent_add_property(
			re, utc_time_prop(ICAL_RECURRENCEID_PROPERTY, r->rid));
	else
		copy_prop(re, ev, ICAL_RECURRENCEID_PROPERTY);
	old = itip_attendee(a, ev, r->attendee);
	if (old != NULL) {
		att = icalproperty_new_clone(old);
		icalproperty_remove_parameter_by_kind(att, ICAL_X_PARAMETER);
	} else {
		att = icalproperty_new_attendee(
			arena_printf(a, "mailto:%s", r->attendee));
		if (r->attendee_name != NULL && *r->attendee_name != '\0')
			icalproperty_add_parameter(
				att, icalparameter_new_cn(r->attendee_name));
	}
	itip_set_answer(att, r->answer);
	icalcomponent_add_property(re, att);
	if (r->comment != NULL && *r->comment != '\0')
		icalcomponent_add_property(
			re, icalproperty_new_comment(r->comment));
	icalcomponent_add_component(out, re);
	return conv_ical_finish(a, out, len_r);
}

/* Drop our own X-EAS-* properties and parameters from c and below. */
static void
strip_ours(icalcomponent *c)
{
	icalproperty *p, *next;

	for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
	     p != NULL; p = next) {
		next = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY);
		if (icalproperty_isa(p) == ICAL_X_PROPERTY &&
		    str_has_iprefix(icalproperty_get_x_name(p), "X-EAS-")) {
			icalcomponent_remove_property(c, p);
			icalproperty_free(p);
			continue;
		}
		for (icalparameter *q = icalproperty_get_first_parameter(
			     p, ICAL_X_PARAMETER);
		     q != NULL;) {
			const char *n = icalparameter_get_xname(q);

			if (n != NULL && str_has_iprefix(n, "X-EAS-")) {
				icalproperty_remove_parameter_by_ref(p, q);
				q = icalproperty_get_first_parameter(
					p, ICAL_X_PARAMETER);
				continue;
			}
			q = icalproperty_get_next_parameter(p,
							    ICAL_X_PARAMETER);
		}
	}
	for (icalcomponent *s =
		     icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     s != NULL;
	     s = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT))
		strip_ours(s);
}

static bool
named(struct arena *a, icalproperty *att, const char *const *only, size_t nonly)
{
	const char *x = itip_address(a, icalproperty_get_attendee(att));

	for (size_t i = 0; x != NULL && i < nonly; i++)
		if (str_ieq(x, only[i]))
			return true;
	return false;
}

const char *
itip_build_organizer(struct arena *a, const char *stored, size_t stored_len,
		     enum itip_method method, const char *organizer,
		     const char *organizer_name, const char *const *only,
		     size_t nonly, size_t *len_r, const char **error_r)
{
	icalcomponent *cal = conv_ical_parse(a, stored, stored_len, error_r);
	icalcomponent *out;
	icalproperty *p;
	int64_t now = time_now();

	if (cal == NULL)
		return NULL;
	out = new_vcalendar(method);
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VTIMEZONE_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(
				cal, ICAL_VTIMEZONE_COMPONENT))
		icalcomponent_add_component(out, icalcomponent_new_clone(c));
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VEVENT_COMPONENT);
	     c != NULL;
	     c = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT)) {
		icalcomponent *ev = icalcomponent_new_clone(c);
		icalproperty *next;

		strip_ours(ev);
		while ((p = icalcomponent_get_first_property(
				ev, ICAL_DTSTAMP_PROPERTY)) != NULL) {
			icalcomponent_remove_property(ev, p);
			icalproperty_free(p);
		}
		icalcomponent_add_property(
			ev, utc_time_prop(ICAL_DTSTAMP_PROPERTY, now));
		if (icalcomponent_get_first_property(
			    ev, ICAL_ORGANIZER_PROPERTY) == NULL) {
			p = icalproperty_new_organizer(
				arena_printf(a, "mailto:%s", organizer));
			if (organizer_name != NULL && *organizer_name != '\0')
				icalproperty_add_parameter(
					p,
					icalparameter_new_cn(organizer_name));
			icalcomponent_add_property(ev, p);
		}
		for (p = icalcomponent_get_first_property(
			     ev, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = next) {
			next = icalcomponent_get_next_property(
				ev, ICAL_ATTENDEE_PROPERTY);
			if (only != NULL && !named(a, p, only, nonly)) {
				icalcomponent_remove_property(ev, p);
				icalproperty_free(p);
				continue;
			}
			if (method == ITIP_REQUEST &&
			    itip_answer_of(p) == ITIP_NO_ANSWER) {
				itip_set_answer(p, ITIP_NO_ANSWER);
				icalproperty_set_parameter(
					p,
					icalparameter_new_rsvp(ICAL_RSVP_TRUE));
			}
		}
		if (method == ITIP_CANCEL) {
			icalcomponent_set_status(ev, ICAL_STATUS_CANCELLED);
			for (icalcomponent *al;
			     (al = icalcomponent_get_first_component(
				      ev, ICAL_VALARM_COMPONENT)) != NULL;) {
				icalcomponent_remove_component(ev, al);
				icalcomponent_free(al);
			}
		}
		icalcomponent_add_component(out, ev);
	}
	if (icalcomponent_get_first_component(out, ICAL_VEVENT_COMPONENT) ==
	    NULL) {
		icalcomponent_free(out);
		*error_r = "iCalendar: no VEVENT";
		return NULL;
	}
	return conv_ical_finish(a, out, len_r);
}

/* --- the mail --- */

static void
unref_cb(void *p)
{
	g_object_unref(p);
}

/* "2026-12-02 09:00 (Europe/Berlin)", the zone the organizer wrote. */
static void
when_text(struct buf *b, icalcomponent *cal, icalproperty *p)
{
	struct icaltimetype tt =
		icalvalue_get_datetime(icalproperty_get_value(p));
	icalparameter *tzp =
		icalproperty_get_first_parameter(p, ICAL_TZID_PARAMETER);

	(void)cal;
	if (tt.is_date) {
		buf_printf(b, "%04d-%02d-%02d", tt.year, tt.month, tt.day);
		return;
	}
	buf_printf(b, "%04d-%02d-%02d %02d:%02d", tt.year, tt.month, tt.day,
		   tt.hour, tt.minute);
	if (icaltime_is_utc(tt))
		buf_puts(b, " UTC");
	else if (tzp != NULL && icalparameter_get_tzid(tzp) != NULL)
		buf_printf(b, " (%s)", icalparameter_get_tzid(tzp));
}

static const char *
summary_text(struct arena *a, const struct itip_mail *m)
{
	struct buf b;
	const char *err;
	icalcomponent *cal = conv_ical_parse(a, m->ics, m->ics_len, &err);
	icalcomponent *ev = cal != NULL ? icalcomponent_get_first_component(
						  cal, ICAL_VEVENT_COMPONENT)
					: NULL;
	icalproperty *p;

	const char *out;

	buf_init(&b, 0);
	if (m->note != NULL && *m->note != '\0')
		buf_printf(&b, "%s\n\n", m->note);
	if (ev == NULL)
		goto done;
	if ((p = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY))) {
		buf_puts(&b, "When: ");
		when_text(&b, cal, p);
		if ((p = icalcomponent_get_first_property(
			     ev, ICAL_DTEND_PROPERTY))) {
			buf_puts(&b, " - ");
			when_text(&b, cal, p);
		}
		buf_puts(&b, "\n");
	}
	if (icalcomponent_get_location(ev) != NULL)
		buf_printf(&b, "Where: %s\n", icalcomponent_get_location(ev));
	if (m->method != ITIP_REPLY && m->method != ITIP_COUNTER &&
	    icalcomponent_get_description(ev) != NULL)
		buf_printf(&b, "\n%s\n", icalcomponent_get_description(ev));
done:
	out = arena_strndup(a, b.data != NULL ? (const char *)b.data : "",
			    b.len);
	buf_deinit(&b);
	return out;
}

const char *
itip_mail_build(struct arena *a, const struct itip_mail *m, size_t *len_r)
{
	GMimeMessage *msg;
	GMimeMultipart *alt;
	GMimeTextPart *text, *ics;
	GMimeFormatOptions *fo;
	GDateTime *now;
	InternetAddressList *to;
	char *s, *out;
	uint8_t rnd[12];
	char id[64];
	size_t k = 0;
	const char *at;

	mail_init();
	msg = g_mime_message_new(TRUE);
	arena_add_cleanup(a, unref_cb, msg);
	g_mime_object_set_header(GMIME_OBJECT(msg), "From", m->from, "utf-8");
	to = g_mime_message_get_to(msg);
	for (size_t i = 0; i < m->nto; i++)
		internet_address_list_add(
			to,
			internet_address_mailbox_new(
				m->to_names != NULL && m->to_names[i] != NULL
					? m->to_names[i]
					: "",
				m->to[i]));
	g_mime_message_set_subject(msg, m->subject, "utf-8");
	now = g_date_time_new_now_utc();
	g_mime_message_set_date(msg, now);
	g_date_time_unref(now);
	random_bytes(rnd, sizeof(rnd));
	for (size_t i = 0; i < sizeof(rnd); i++)
		k += (size_t)snprintf(id + k, sizeof(id) - k, "%02x", rnd[i]);
	at = strrchr(m->from, '@');
	snprintf(id + k, sizeof(id) - k, ".itip@%.*s",
		 at != NULL ? (int)strcspn(at + 1, ">") : 12,
		 at != NULL ? at + 1 : "easd.invalid");
	g_mime_message_set_message_id(msg, id);

	alt = g_mime_multipart_new_with_subtype("alternative");
	arena_add_cleanup(a, unref_cb, alt);
	text = g_mime_text_part_new_with_subtype("plain");
	arena_add_cleanup(a, unref_cb, text);
	g_mime_text_part_set_text(text, summary_text(a, m));
	g_mime_multipart_add(alt, GMIME_OBJECT(text));
	ics = g_mime_text_part_new_with_subtype("calendar");
	arena_add_cleanup(a, unref_cb, ics);
	g_mime_text_part_set_text(ics, arena_strndup(a, m->ics, m->ics_len));
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(ics), "method",
						 itip_method_name(m->method));
	g_mime_part_set_content_encoding(GMIME_PART(ics),
					 GMIME_CONTENT_ENCODING_BASE64);
	g_mime_multipart_add(alt, GMIME_OBJECT(ics));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(alt));

	fo = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	s = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
	g_mime_format_options_free(fo);
	out = arena_strdup(a, s != NULL ? s : "");
	g_free(s);
	*len_r = strlen(out);
	return out;
}
