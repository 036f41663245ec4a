/* iCalendar helpers over libical that know nothing of EAS: parsing into
 * an arena, serializing, X- properties, UIDs, time zones. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "ical.h"
#include "util.h"

static void
ical_free_cb(void *p)
{
	icalcomponent_free(p);
}

icalcomponent *
conv_ical_parse(struct arena *a, const char *data, size_t len,
		const char **error_r)
{
	char *copy = arena_alloc(a, len + 1);
	icalcomponent *c;

	memcpy(copy, data, len);
	copy[len] = '\0';
	c = icalparser_parse_string(copy);
	if (c == NULL) {
		*error_r = "not an iCalendar object";
		return NULL;
	}
	arena_add_cleanup(a, ical_free_cb, c);
	if (icalcomponent_isa(c) != ICAL_VCALENDAR_COMPONENT) {
		*error_r = "iCalendar: no VCALENDAR";
		return NULL;
	}
	return c;
}

const char *
conv_ical_new_uid(struct arena *a)
{
	uint8_t r[16];
	char *u = arena_alloc(a, 40);

	random_bytes(r, sizeof(r));
	snprintf(u, 40,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		 "%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
		 r[10], r[11], r[12], r[13], r[14], r[15]);
	return u;
}

const char *
conv_ical_old_uid(struct arena *a, const struct store_item *old,
		  icalcomponent_kind kind)
{
	const char *err;
	icalcomponent *cal, *c;

	if (old == NULL || old->data == NULL)
		return NULL;
	if (old->meta.uid != NULL)
		return old->meta.uid;
	cal = conv_ical_parse(a, (const char *)old->data, old->data_len, &err);
	if (cal == NULL)
		return NULL;
	c = icalcomponent_get_first_component(cal, kind);
	return c != NULL && icalcomponent_get_uid(c) != NULL
		       ? arena_strdup(a, icalcomponent_get_uid(c))
		       : NULL;
}

const char *
conv_ical_text(struct arena *a, icalcomponent *cal, size_t *len_r)
{
	char *s = icalcomponent_as_ical_string_r(cal);
	size_t len = strlen(s);
	char *out = arena_alloc(a, len + 1);

	memcpy(out, s, len + 1);
	free(s);
	*len_r = len;
	return out;
}

const char *
conv_ical_finish(struct arena *a, icalcomponent *cal, size_t *len_r)
{
	char *s = icalcomponent_as_ical_string_r(cal);
	size_t len = strlen(s);
	char *out = arena_alloc(a, len + 1);

	memcpy(out, s, len + 1);
	free(s);
	icalcomponent_free(cal);
	*len_r = len;
	return out;
}

void
conv_ical_set_x(icalcomponent *c, const char *name, const char *value)
{
	icalproperty *p = icalproperty_new_x(value);

	icalproperty_set_x_name(p, name);
	icalcomponent_add_property(c, p);
}

const char *
conv_ical_get_x(struct arena *a, icalcomponent *c, const char *name)
{
	icalproperty *p;

	for (p = icalcomponent_get_first_property(c, ICAL_X_PROPERTY);
	     p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_X_PROPERTY)) {
		const char *n = icalproperty_get_x_name(p);

		if (n != NULL && strcasecmp(n, name) == 0) {
			const char *v = icalproperty_get_x(p);

			return arena_strdup(a, v != NULL ? v : "");
		}
	}
	return NULL;
}

/* Zones of VTIMEZONEs, made once a thread for every calendar that carries
 * the same definition. libical works out a zone's changes from the start
 * of its first rule on first use (from 1970, or 1601 in what Outlook
 * writes: hundreds of recurrence steps), and a zone belongs to its
 * calendar, so without this every event read paid for it again. Each
 * thread has its own zones: libical's are not safe to share while it
 * expands them. */
#define ICAL_ZONES_PER_THREAD 64

static pthread_key_t zones_key;
static pthread_once_t zones_once = PTHREAD_ONCE_INIT;
/* this thread's zones, for conv_ical_zone_lasting */
static __thread GHashTable *zones_made;

static void
zone_free_cb(void *p)
{
	icaltimezone_free(p, 1);
}

static void
zones_free_cb(void *p)
{
	zones_made = NULL;
	g_hash_table_destroy(p);
}

static void
zones_init(void)
{
	(void)pthread_key_create(&zones_key, zones_free_cb);
}

static icaltimezone *
cached_zone(icalcomponent *vtz)
{
	GHashTable *zones;
	icaltimezone *z;
	char *text;

	pthread_once(&zones_once, zones_init);
	zones = pthread_getspecific(zones_key);
	if (zones == NULL) {
		zones = g_hash_table_new_full(g_str_hash, g_str_equal, free,
					      zone_free_cb);
		if (pthread_setspecific(zones_key, zones) != 0) {
			g_hash_table_destroy(zones);
			return NULL;
		}
		zones_made = zones;
	}
	text = icalcomponent_as_ical_string_r(vtz);
	if (text == NULL)
		return NULL;
	z = g_hash_table_lookup(zones, text);
	if (z != NULL || g_hash_table_size(zones) >= ICAL_ZONES_PER_THREAD) {
		free(text);
		return z;
	}
	z = icaltimezone_new();
	if (icaltimezone_set_component(z, icalcomponent_new_clone(vtz)) == 0) {
		icaltimezone_free(z, 1);
		free(text);
		return NULL;
	}
	g_hash_table_insert(zones, text, z);
	return z;
}

icalcomponent *
conv_ical_vtimezone(icalcomponent *cal, const char *tzid)
{
	if (tzid == NULL)
		return NULL;
	for (icalcomponent *c = icalcomponent_get_first_component(
		     cal, ICAL_VTIMEZONE_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(
				cal, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *p =
			icalcomponent_get_first_property(c, ICAL_TZID_PROPERTY);

		if (p != NULL && icalproperty_get_tzid(p) != NULL &&
		    strcmp(icalproperty_get_tzid(p), tzid) == 0)
			return c;
	}
	return NULL;
}

icaltimezone *
conv_ical_zone(icalcomponent *cal, const char *tzid)
{
	icalcomponent *vtz;
	icaltimezone *z;

	if (tzid == NULL)
		return NULL;
	vtz = conv_ical_vtimezone(cal, tzid);
	z = vtz != NULL ? cached_zone(vtz) : NULL;
	if (z == NULL)
		z = icalcomponent_get_timezone(cal, tzid);
	if (z == NULL)
		z = icaltimezone_get_builtin_timezone(tzid);
	if (z == NULL)
		z = icaltimezone_get_builtin_timezone_from_tzid(tzid);
	return z;
}

bool
conv_ical_zone_lasting(icaltimezone *z)
{
	const char *loc;
	GHashTableIter it;
	void *v;

	if (zones_made != NULL) {
		g_hash_table_iter_init(&it, zones_made);
		while (g_hash_table_iter_next(&it, NULL, &v))
			if (v == z)
				return true;
	}
	loc = icaltimezone_get_location(z);
	return loc != NULL && icaltimezone_get_builtin_timezone(loc) == z;
}
