/* The free/busy view of an account: when its calendar makes it busy, with
 * recurrences expanded (libical), deleted and changed occurrences
 * applied, cancelled and declined meetings and free or transparent events
 * left out. ResolveRecipients Availability reads it; the meetings work
 * (MeetingResponse, invitations) reads and tests it the same way. */
#ifndef EASD_FREEBUSY_H
#define EASD_FREEBUSY_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "store.h"

/* The digits of MS-ASCMD 2.2.3.107 MergedFreeBusy, which are also the
 * order of precedence when spans overlap: the highest wins. */
enum freebusy_status {
	FREEBUSY_FREE = 0,
	FREEBUSY_TENTATIVE = 1,
	FREEBUSY_BUSY = 2,
	FREEBUSY_OOF = 3,
	FREEBUSY_NO_DATA = 4,
};

/* One busy period: [start, end) in unix time. */
struct freebusy_span {
	int64_t start, end;
	enum freebusy_status status; /* never FREE or NO_DATA */
	const char *uid;	     /* the event's UID (in the arena) */
};

/* The longest window asked at once (MergedFreeBusy is capped at 32 KB of
 * 30-minute digits: about 680 days). */
#define FREEBUSY_MAX_WINDOW ((int64_t)32768 * 1800)
/* Occurrences expanded per series at most (a series that has more in the
 * window is cut there, and logged). */
#define FREEBUSY_MAX_OCCURRENCES 20000

/* The busy spans of one stored calendar item (its VCALENDAR text) that
 * overlap [from, to). self (NULL-terminated, may be NULL) lists the
 * calendar owner's addresses: an ATTENDEE among them with
 * PARTSTAT=DECLINED makes a meeting free, TENTATIVE or NEEDS-ACTION
 * tentative. Spans are appended to *spans (an arena array of *n entries,
 * capacity *cap). Returns 0, or -1 with *error_r when the text is not
 * iCalendar. */
int freebusy_item_spans(struct arena *a, const char *ical, size_t len,
			const char *const *self, int64_t from, int64_t to,
			struct freebusy_span **spans, size_t *n, size_t *cap,
			const char **error_r);

/* Every busy span of the account in [from, to), sorted by start. Returns
 * STORE_OK, or the store's error; unreadable items are skipped (and
 * logged). */
enum store_error freebusy_account(struct store *s, struct arena *a,
				  int64_t account_id, int64_t from, int64_t to,
				  struct freebusy_span **spans_r, size_t *n_r);

/* The MergedFreeBusy string of spans over [from, to): one digit per slot
 * of slot_s seconds (the last slot may be partial), each the highest
 * status of any span touching the slot (in a). */
char *freebusy_merge(struct arena *a, const struct freebusy_span *spans,
		     size_t n, int64_t from, int64_t to, int64_t slot_s);

#endif
