/* Helpers shared by the conv-*.c files (not part of the conv API). */
#ifndef EASD_CONV_INT_H
#define EASD_CONV_INT_H

#include <libical/ical.h>

#include "conv.h"
#include "ical.h"

/* Set *error_r to the formatted text (in the arena) and return -1. */
int conv_fail(struct arena *a, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Pack a list of nodes (their subtrees included) into a base64 string, so
 * elements we have no home for survive in an X-EAS-NODES property. */
char *conv_nodes_pack(struct arena *a, const struct wbxml_node *const *nodes,
		      size_t count);
/* Append the nodes packed by conv_nodes_pack to parent. Returns 0, or -1
 * when the text is not a valid packing. */
int conv_nodes_unpack(struct arena *a, const char *b64, size_t len,
		      struct wbxml_node *parent);

/* The airsyncbase:Body of a client item: text and type (1 plain, 2 HTML;
 * others are kept as sent). Returns 1 when present, 0 when absent. */
int conv_body_get(const struct wbxml_node *appdata, const char **text_r,
		  size_t *len_r, int *type_r);

/* An EAS ISO dateTime (or the compact form) -> UTC seconds. */
int conv_parse_time(const char *s, int64_t *t_r);

/* Date-only values toward and from a device (ctx->date_tz, else the
 * server's zone). A date is written as its midnight in seconds as if UTC
 * (days * 86400). conv_date_to_eas: the UTC instant of that local
 * midnight. conv_date_from_eas: the date a device meant by instant t, the
 * local day of t with three hours of slack before midnight (clients whose
 * rules are an hour or two off, and those that send noon, land on the
 * right day). ctx may be NULL. */
int64_t conv_date_to_eas(const struct conv_ctx *ctx, int64_t date);
int64_t conv_date_from_eas(const struct conv_ctx *ctx, int64_t t);
/* The zone date-only values are written in for this device. */
const struct conv_tz *conv_date_zone(const struct conv_ctx *ctx);
/* Local wall time (seconds as if UTC) of the same zone <-> UTC. */
int64_t conv_local_to_utc(const struct conv_ctx *ctx, int64_t local);
int64_t conv_utc_to_local(const struct conv_ctx *ctx, int64_t t);

/* A short hash of a standard value, stored beside a copy (a shadow) that
 * stands for it: the shadow is used only while the hash still matches.
 * FNV-1a, 32 bits, as 8 lower-case hex digits and a NUL. */
struct conv_hash {
	uint32_t h;
};
void conv_hash_init(struct conv_hash *h);
void conv_hash_feed(struct conv_hash *h, const void *s, size_t len);
void conv_hash_final(const struct conv_hash *h, char out[9]);
void conv_hash_hex(const void *s, size_t len, char out[9]);
/* Whether hex (hexlen characters) is the hash of s. */
bool conv_hash_ok(const char *hex, size_t hexlen, const void *s, size_t len);

/* Body type 0 in a preference means "the native type" (used internally when
 * reading the old item for ghosting). */
#define CONV_BODY_NATIVE 0

/* Standard text -> item, per class. Calendar and tasks share the iCalendar
 * reader (conv-calendar.c / conv-task.c register through cls). */
int conv_contact_from_standard(struct arena *a, const char *data, size_t len,
			       struct store_item *item_r, const char **error_r);
int conv_ical_from_standard(struct arena *a, enum store_class cls,
			    const char *data, size_t len,
			    struct store_item *item_r, const char **error_r);
int conv_note_from_standard(struct arena *a, const char *data, size_t len,
			    struct store_item *item_r, const char **error_r);
/* In conv-mail.c. */
int conv_email_from_standard(struct arena *a, const char *data, size_t len,
			     struct store_item *item_r, const char **error_r);

/* --- iCalendar helpers shared by conv-calendar.c and conv-task.c --- */

/* Shadows: X- properties that repeat a standard value in EAS form
 * (X-EAS-TIMEZONE for the zone of DTSTART, X-EAS-RECURRENCE for RRULE,
 * X-EAS-LOCATION, X-EAS-CATEGORIES, X-EAS-SENSITIVITY for CLASS, the body
 * markers for DESCRIPTION, X-EAS-EXCEPTION for an override, the task date
 * copies for DTSTART/DUE/COMPLETED and the alarm, and the X-MICROSOFT-CDO
 * busy status and all-day flag we write), and the X-EAS-STATUS/TYPE/
 * NOEMAIL parameters of ATTENDEE and ORGANIZER. conv_ical_seal gives each
 * shadow in c an X-EAS-HASH parameter, the hash of the standard value it
 * stands for; call it when c is complete. conv_ical_shadow is the value
 * of the shadow called name when it still stands for it (NULL when absent
 * or when the standard value was changed since; X-MICROSOFT-CDO ones that
 * we did not write count as standing). Other names: the plain value. */
void conv_ical_seal(struct arena *a, icalcomponent *cal, icalcomponent *c);
const char *conv_ical_shadow(struct arena *a, icalcomponent *cal,
			     icalcomponent *c, const char *name);
/* Remove the shadows of c that no longer stand, so that sealing c again
 * after a change cannot revive them. */
void conv_ical_drop_stale(struct arena *a, icalcomponent *cal,
			  icalcomponent *c);
/* Whether the X-EAS-* parameters of an ATTENDEE or ORGANIZER stand. */
bool conv_ical_params_stand(icalproperty *p);
/* A Change merged into the stored component old_ev (of old_cal) from the
 * one built from the device's data, new_ev (of new_cal): the properties
 * mapped() says the class reads are replaced by new_ev's, except where
 * the device saw no difference (those stay as they are, parameters and
 * all); everything else of old_ev stays. The alarm reminder_of() finds
 * keeps its other properties and takes the new trigger. new_ev is left
 * empty. */
void conv_ical_merge(struct arena *a, icalcomponent *old_cal,
		     icalcomponent *old_ev, icalcomponent *new_cal,
		     icalcomponent *new_ev, bool (*mapped)(icalproperty *p),
		     icalcomponent *(*reminder_of)(icalcomponent *c));

void conv_ical_add_categories(struct arena *a, icalcomponent *c,
			      const struct wbxml_node *list);
void conv_ical_get_categories(struct arena *a, icalcomponent *cal,
			      icalcomponent *c, struct wbxml_node *appdata,
			      uint16_t list_tag, uint16_t item_tag);
/* Body <-> DESCRIPTION (plain) / X-ALT-DESC;FMTTYPE=text/html. */
void conv_ical_set_body(struct arena *a, icalcomponent *c,
			const struct wbxml_node *appdata);
void conv_ical_get_body(struct arena *a, icalcomponent *cal, icalcomponent *c,
			const struct conv_ctx *ctx, struct wbxml_node *appdata);

/* Recurrence elements of calendar and tasks share their shape but not
 * their tags. */
struct conv_rec_tags {
	uint16_t rec, type, interval, until, occurrences, dow, dom, wom, moy,
		caltype, leap, fdow, start, regenerate, deadoccur;
	bool iso_dates; /* tasks write ISO dateTime, calendar compact */
};
extern const struct conv_rec_tags conv_rec_calendar, conv_rec_tasks;
/* Recurrence element -> RRULE text. Returns 0 or -1 with *error_r. */
int conv_rrule_from_eas(struct arena *a, const struct wbxml_node *rec,
			const struct conv_rec_tags *t, const char **rrule_r,
			const char **error_r);
/* RRULE -> Recurrence element (for items that came from elsewhere). */
void conv_rrule_to_eas(struct arena *a, struct icalrecurrencetype *r,
		       struct icaltimetype dtstart,
		       const struct conv_rec_tags *t,
		       struct wbxml_node *appdata);
/* conv-calendar.c: the occurrence at instance (UTC) of the stored series
 * old; sent is the client's ApplicationData as it came (its tags say what
 * it replaces), appdata the same without empty elements, NULL to delete
 * the occurrence. */
int conv_calendar_instance(struct arena *a, const struct store_item *old,
			   int64_t instance, const struct wbxml_node *sent,
			   const struct wbxml_node *appdata,
			   const struct conv_ctx *ctx,
			   struct store_item *item_r, const char **error_r);
/* Meta of an imported VTODO (conv-task.c); item_r->data is set. */
int conv_task_from_ical(struct arena *a, icalcomponent *cal,
			struct store_item *item_r, const char **error_r);

#endif
