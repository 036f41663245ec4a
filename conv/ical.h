/* iCalendar helpers over libical that know nothing of EAS (ical.c): used
 * by the calendar and task classes, import and export, and later iTIP. */
#ifndef EASD_ICAL_H
#define EASD_ICAL_H

#include <stdbool.h>
#include <stddef.h>

#include <libical/ical.h>

#include "arena.h"
#include "store.h"

/* Parse a VCALENDAR; the component is freed with the arena. NULL with
 * *error_r (a static text) when it is not one. */
icalcomponent *conv_ical_parse(struct arena *a, const char *data, size_t len,
			       const char **error_r);
/* A new random UID (UUID form), in the arena. */
const char *conv_ical_new_uid(struct arena *a);
/* The UID a stored VEVENT/VTODO had (kept across Changes), or NULL. */
const char *conv_ical_old_uid(struct arena *a, const struct store_item *old,
			      icalcomponent_kind kind);
/* Serialize into the arena; the component stays (one from
 * conv_ical_parse is freed with its arena). */
const char *conv_ical_text(struct arena *a, icalcomponent *cal, size_t *len_r);
/* Serialize into the arena; the component is freed. */
const char *conv_ical_finish(struct arena *a, icalcomponent *cal,
			     size_t *len_r);
/* Add an X- property; the value of the first one called name (in the
 * arena), or NULL. */
void conv_ical_set_x(icalcomponent *c, const char *name, const char *value);
const char *conv_ical_get_x(struct arena *a, icalcomponent *c,
			    const char *name);
/* cal's VTIMEZONE of that TZID, or NULL. */
icalcomponent *conv_ical_vtimezone(icalcomponent *cal, const char *tzid);
/* The zone tzid names in cal: its VTIMEZONE of that TZID, else libical's
 * own zone of that name or TZID; NULL when there is none. A VTIMEZONE's
 * zone is kept for the thread and shared with every calendar that has the
 * same definition (the zone stays valid after cal is freed). */
icaltimezone *conv_ical_zone(icalcomponent *cal, const char *tzid);
/* Whether z stays as long as this thread: one of its zones made by
 * conv_ical_zone, or one of libical's own. */
bool conv_ical_zone_lasting(icaltimezone *z);

#endif
