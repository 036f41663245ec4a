/* Meetings in an account's calendar (meeting.c): what an invitation, an
 * update, a cancellation or a reply delivered to the account does to its
 * calendar; what its own answer does (MeetingResponse); and, for an
 * organizer whose device no longer mails the attendees itself (16.x),
 * which messages a change of a meeting sends. The calendar item is the
 * iCalendar object as the organizer sent it, with the account's answer
 * in its ATTENDEE's PARTSTAT and the EAS view (MeetingStatus,
 * ResponseType, BusyStatus) in the calendar class's X- properties. */
#ifndef EASD_MEETING_H
#define EASD_MEETING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "itip.h"
#include "store.h"

/* The addresses that are the account: login, e-mail and aliases. */
struct meeting_self {
	int64_t account_id;
	const char *email, *name;
	const char **addrs;
	size_t naddrs;
};
enum store_error meeting_self_get(struct store *s, struct arena *a,
				  int64_t account_id, struct meeting_self *me);
bool meeting_is_self(const struct meeting_self *me, const char *addr);

/* A meeting message just delivered to the account's Inbox (mail, as
 * stored): a REQUEST places or updates the meeting in its calendar
 * (tentative, not answered yet; a newer SEQUENCE replaces the meeting, an
 * occurrence becomes an exception of the series), a CANCEL from the
 * meeting's organizer marks it cancelled (or removes the occurrence), a
 * REPLY from one of the attendees of a meeting the account organizes sets
 * that attendee's answer. Anything else, or a message from someone with
 * no say over the meeting, changes nothing. Inside the caller's write
 * transaction; STORE_OK also when nothing changed, with *what_r saying
 * what happened (for the log). */
enum store_error meeting_delivered(struct store *s, struct arena *a,
				   int64_t account_id,
				   const struct store_item *mail,
				   const char **what_r);

/* MeetingResponse (MS-ASCMD 2.2.1.11) for item, a meeting request in the
 * Inbox or a calendar item; with has_instance one occurrence of it. */
struct meeting_answer {
	enum itip_answer answer;
	bool has_instance;
	int64_t instance; /* UTC start of the occurrence */
};

struct meeting_result {
	int status; /* 1 done, 2 not a meeting the account can answer */
	const char *why;
	/* the calendar item after the answer; NULL when it was removed */
	const char *calendar_id;
	/* what a reply to the organizer needs */
	icalcomponent *cal, *ev;
	const char *organizer, *organizer_name, *summary;
	const char *self_addr, *self_name;
	bool response_requested;
};

enum store_error meeting_respond(struct store *s, struct arena *a,
				 const struct meeting_self *me,
				 const struct store_item *item,
				 const struct meeting_answer *ans,
				 struct meeting_result *out);

/* The messages an organizer's change sends (16.x). */
struct meeting_message {
	enum itip_method method; /* ITIP_REQUEST or ITIP_CANCEL */
	const char *ics;
	size_t ics_len;
	const char **to, **to_names;
	size_t nto;
	const char *subject;
};

/* The account changed a calendar item through Sync: old is the stored
 * item before (NULL for an Add), item the one about to be stored (NULL
 * for a Delete). When the account organizes the meeting and the change is
 * one the attendees see, item's SEQUENCE is raised (item->data replaced)
 * and *msgs_r lists the REQUEST for the attendees and the CANCEL for those
 * removed (or for all, when the meeting is deleted or cancelled). A
 * meeting the account was invited to sends nothing. 0, or -1 with
 * *error_r when the iCalendar cannot be read. */
int meeting_organizer_change(struct arena *a, const struct meeting_self *me,
			     const struct store_item *old,
			     struct store_item *item,
			     struct meeting_message **msgs_r, size_t *nmsgs_r,
			     const char **error_r);

#endif
