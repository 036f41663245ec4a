/* iTIP (RFC 5546), the scheduling messages of meetings, over libical and
 * GMime (itip.c): reading an invitation, a reply or a cancellation out of
 * its text/calendar part, and building the REQUEST, CANCEL and REPLY an
 * account sends, with the mail that carries them. Nothing here touches
 * the store; meeting.c applies the messages to calendars. */
#ifndef EASD_ITIP_H
#define EASD_ITIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libical/ical.h>

#include "arena.h"

/* A text/calendar part larger than this is left as an attachment. */
#define ITIP_MAX_SIZE ((size_t)1024 * 1024)
/* Attendees read from one VEVENT; the rest are ignored. */
#define ITIP_MAX_ATTENDEES 1000
/* VEVENTs (a series and its changed occurrences) read from one object. */
#define ITIP_MAX_EVENTS 1000

enum itip_method {
	ITIP_NONE = 0,
	ITIP_PUBLISH,
	ITIP_REQUEST,
	ITIP_REPLY,
	ITIP_ADD,
	ITIP_CANCEL,
	ITIP_REFRESH,
	ITIP_COUNTER,
	ITIP_DECLINECOUNTER,
};

/* An attendee's answer (PARTSTAT), in MeetingResponse's order. */
enum itip_answer {
	ITIP_NO_ANSWER = 0,
	ITIP_ACCEPTED = 1,
	ITIP_TENTATIVE = 2,
	ITIP_DECLINED = 3,
};

struct itip {
	enum itip_method method;
	icalcomponent *cal; /* the VCALENDAR; freed with the arena */
	icalcomponent *ev;  /* the first VEVENT (a series or an occurrence) */
	const char *uid;
	int sequence;
	bool has_rid;
	int64_t rid;	       /* RECURRENCE-ID of ev, UTC */
	const char *organizer; /* addr-spec, NULL when none */
	const char *organizer_name;
	const char *summary; /* "" when none */
	int64_t dtstamp;     /* 0 when none */
};

/* The method named by a METHOD value or a Content-Type parameter. */
enum itip_method itip_method_of(const char *name);
const char *itip_method_name(enum itip_method m);

/* Read a scheduling object. Returns 0, or -1 with *error_r (in a) when
 * it is not iCalendar, has no METHOD we know, no VEVENT or a VEVENT
 * without UID: such mail is shown as plain mail. */
int itip_parse(struct arena *a, const char *ics, size_t len, struct itip *it,
	       const char **error_r);

/* The address of a CAL-ADDRESS value ("mailto:" dropped), in a, or NULL
 * when it is not a mail address. */
const char *itip_address(struct arena *a, const char *cal_address);
/* The ATTENDEE of ev with that mail address, or NULL. */
icalproperty *itip_attendee(struct arena *a, icalcomponent *ev,
			    const char *addr);
/* PARTSTAT of an ATTENDEE as an answer (NEEDS-ACTION and others: none). */
enum itip_answer itip_answer_of(icalproperty *attendee);
/* Set PARTSTAT (and drop RSVP, answered). */
void itip_set_answer(icalproperty *attendee, enum itip_answer ans);
/* The VEVENT of cal for one occurrence (RECURRENCE-ID rid, UTC), or with
 * has_rid false the series (the VEVENT without RECURRENCE-ID). */
icalcomponent *itip_event(icalcomponent *cal, bool has_rid, int64_t rid);
/* The UTC instant of a DATE-TIME/DATE property of ev in cal (its TZID
 * read from cal's VTIMEZONE or libical's zones; floating and unknown
 * zones as UTC, dates as UTC midnight). */
int64_t itip_time(icalcomponent *cal, icalproperty *p);

/* email:GlobalObjId (MS-ASEMAIL 2.2.2.37, the MAPI global object id of
 * MS-OXOCAL 2.2.1.27) for a UID, base64 in a: an Outlook UID (the hex
 * of such an id) is decoded, any other wrapped as a "vCal-Uid". rid
 * (UTC, 0 for the series) is the occurrence's date in it. */
const char *itip_global_obj_id(struct arena *a, const char *uid, int64_t rid);

/* The REPLY (or, with a proposed time, the COUNTER) of one attendee to
 * the meeting in cal: ev is the series or the occurrence answered. */
struct itip_reply {
	const char *attendee; /* addr-spec */
	const char *attendee_name;
	enum itip_answer answer;
	const char *comment; /* the attendee's note, or NULL */
	bool has_rid;
	int64_t rid;
	bool propose; /* 16.1 ProposedStartTime/EndTime */
	int64_t proposed_start, proposed_end;
};
const char *itip_build_reply(struct arena *a, icalcomponent *cal,
			     icalcomponent *ev, const struct itip_reply *r,
			     size_t *len_r);

/* What the organizer sends for a stored meeting (the server sends them
 * for 16.x clients): REQUEST (new or changed) or CANCEL. stored is the
 * calendar item's iCalendar; the copy gets METHOD, ORGANIZER when it has
 * none, RSVP on attendees who have not answered, and none of our own
 * X-EAS-* properties. With only, a CANCEL names only those attendees (the
 * ones removed from the meeting). NULL with *error_r when stored cannot
 * be read. */
const char *itip_build_organizer(struct arena *a, const char *stored,
				 size_t stored_len, enum itip_method method,
				 const char *organizer,
				 const char *organizer_name,
				 const char *const *only, size_t nonly,
				 size_t *len_r, const char **error_r);

/* The mail that carries an iTIP object: multipart/alternative of a plain
 * text summary (When, Where, the description or the note) and the
 * text/calendar part with its method (RFC 6047). */
struct itip_mail {
	const char *from;      /* "Name <addr>" */
	const char *const *to; /* addr-specs */
	const char *const *to_names;
	size_t nto;
	const char *subject;
	const char *note; /* text above the summary, or NULL */
	const char *ics;
	size_t ics_len;
	enum itip_method method;
};
const char *itip_mail_build(struct arena *a, const struct itip_mail *m,
			    size_t *len_r);

#endif
