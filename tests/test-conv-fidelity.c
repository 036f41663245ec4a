/* Fidelity of the conversions with what real clients send and what other
 * programs store (issue 12): empty elements on Add and Change for every
 * class. Links only libconv, libwbxml and libcommon. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libical/ical.h>

#include "conv.h"
#include "conv-tz.h"
#include "test-main.h"
#include "util.h"

static struct arena *A;

static int
setup(void)
{
	A = arena_new(1 << 16);
	return 0;
}

static int
teardown(void)
{
	arena_free(&A);
	return 0;
}

static struct conv_ctx
ctx_for(unsigned version)
{
	struct conv_ctx c;

	memset(&c, 0, sizeof(c));
	c.version = version;
	return c;
}

static struct wbxml_node *
app_new(void)
{
	return wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
}

/* Client ApplicationData -> item (old: NULL for an Add). Fails the test
 * when the conversion refuses. */
static void
from_eas(enum store_class cls, const struct wbxml_node *in,
	 const struct conv_ctx *ctx, const struct store_item *old,
	 struct store_item *item)
{
	const char *err = NULL;

	memset(item, 0, sizeof(*item));
	if (conv_from_eas(A, cls, in, ctx, old, item, &err) < 0) {
		fprintf(stderr, "conv_from_eas: %s\n", err);
		CU_FAIL_FATAL("conv_from_eas refused the item");
	}
}

static struct wbxml_node *
to_eas(const struct store_item *item, const struct conv_ctx *ctx)
{
	struct wbxml_node *out = app_new();
	const char *err = NULL;

	if (conv_to_eas(A, item, ctx, out, &err) < 0) {
		fprintf(stderr, "conv_to_eas: %s\n", err);
		CU_FAIL_FATAL("conv_to_eas failed");
	}
	return out;
}

static void
add_body(struct wbxml_node *app, const char *type, const char *text)
{
	struct wbxml_node *b = wbxml_add(A, app, EAS_AIRSYNCBASE_BODY);

	wbxml_add_text(A, b, EAS_AIRSYNCBASE_TYPE, type);
	if (text != NULL)
		wbxml_add_text(A, b, EAS_AIRSYNCBASE_DATA, text);
}

static void
add_list(struct wbxml_node *app, uint16_t list, uint16_t item,
	 const char *const *v)
{
	struct wbxml_node *l = wbxml_add(A, app, list);

	for (; v != NULL && *v != NULL; v++)
		wbxml_add_text(A, l, item, *v);
}

static const char *
text_of(const struct wbxml_node *app, uint16_t tag)
{
	const char *t = wbxml_child_text(app, tag);

	return t != NULL ? t : "(absent)";
}

/* --- empty elements (digest 5.16) --- */

/* A contact Add as Thunderbird's add-on sends it: the fields it has no
 * value for are empty elements. */
static void
test_empty_contact_add(void)
{
	struct wbxml_node *in = app_new(), *out;
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item;

	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Tilde");
	wbxml_add(A, in, EAS_CONTACTS_LASTNAME);
	wbxml_add(A, in, EAS_CONTACTS_BIRTHDAY);
	wbxml_add(A, in, EAS_CONTACTS_ANNIVERSARY);
	wbxml_add(A, in, EAS_CONTACTS_JOBTITLE);
	wbxml_add(A, in, EAS_CONTACTS_PICTURE);
	wbxml_add(A, in, EAS_CONTACTS_HOMEADDRESSCITY);
	wbxml_add(A, in, EAS_CONTACTS_CATEGORIES);
	wbxml_add(A, in, EAS_CONTACTS2_NICKNAME);
	add_body(in, "1", NULL);
	from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_FIRSTNAME), "Tilde");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_LASTNAME));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_BIRTHDAY));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_ANNIVERSARY));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_JOBTITLE));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_PICTURE));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_HOMEADDRESSCITY));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_CATEGORIES));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS2_NICKNAME));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_AIRSYNCBASE_BODY));
	CU_ASSERT_PTR_NULL(strstr((const char *)item.data, "BDAY"));
	CU_ASSERT_PTR_NULL(strstr((const char *)item.data, "TITLE"));
}

static struct wbxml_node *
rich_contact(void)
{
	static const char *const cats[] = {"Friends", NULL};
	struct wbxml_node *in = app_new();

	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Max");
	wbxml_add_text(A, in, EAS_CONTACTS_LASTNAME, "Muster");
	wbxml_add_text(A, in, EAS_CONTACTS_BIRTHDAY,
		       "1990-05-14T22:00:00.000Z");
	wbxml_add_text(A, in, EAS_CONTACTS_JOBTITLE, "Tester");
	wbxml_add_text(A, in, EAS_CONTACTS_HOMEADDRESSCITY, "Köln");
	wbxml_add_text(A, in, EAS_CONTACTS_MOBILEPHONENUMBER, "+49 170 1");
	wbxml_add_text(A, in, EAS_CONTACTS_PICTURE,
		       "/9j/4AAQSkZJRgABAQEASABIAAD/2Q==");
	add_list(in, EAS_CONTACTS_CATEGORIES, EAS_CONTACTS_CATEGORY, cats);
	add_body(in, "1", "notes");
	return in;
}

/* Thunderbird's 14.1 Change: every field it does not hold is an empty
 * element; each of them clears the property, ghosting or not. */
static void
test_empty_contact_change(void)
{
	static const uint16_t supported[] = {
		EAS_CONTACTS_FIRSTNAME,
		EAS_CONTACTS_LASTNAME,
		EAS_CONTACTS_MOBILEPHONENUMBER,
	};
	struct conv_ctx ctx = ctx_for(141);
	struct store_item old, item;
	struct wbxml_node *change, *out;

	for (int ghost = 0; ghost < 2; ghost++) {
		from_eas(STORE_CLASS_CONTACTS, rich_contact(), &ctx, NULL,
			 &old);
		change = app_new();
		wbxml_add_text(A, change, EAS_CONTACTS_FIRSTNAME, "Max");
		wbxml_add_text(A, change, EAS_CONTACTS_LASTNAME, "Muster");
		wbxml_add(A, change, EAS_CONTACTS_BIRTHDAY);
		wbxml_add(A, change, EAS_CONTACTS_JOBTITLE);
		wbxml_add(A, change, EAS_CONTACTS_HOMEADDRESSCITY);
		wbxml_add(A, change, EAS_CONTACTS_PICTURE);
		wbxml_add(A, change, EAS_CONTACTS_CATEGORIES);
		wbxml_add(A, change, EAS_CONTACTS_MOBILEPHONENUMBER);
		add_body(change, "1", "");
		if (ghost) {
			ctx.supported = supported;
			ctx.nsupported = N_ELEMENTS(supported);
		}
		from_eas(STORE_CLASS_CONTACTS, change, &ctx, &old, &item);
		ctx.supported = NULL;
		ctx.nsupported = 0;
		out = to_eas(&item, &ctx);
		CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_FIRSTNAME),
				       "Max");
		CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_BIRTHDAY));
		CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_JOBTITLE));
		CU_ASSERT_PTR_NULL(
			wbxml_child(out, EAS_CONTACTS_HOMEADDRESSCITY));
		CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_PICTURE));
		CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_CATEGORIES));
		CU_ASSERT_PTR_NULL(
			wbxml_child(out, EAS_CONTACTS_MOBILEPHONENUMBER));
		CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_AIRSYNCBASE_BODY));
	}
}

static struct wbxml_node *
event(unsigned version)
{
	struct wbxml_node *in = app_new();

	wbxml_add_text(A, in, EAS_CALENDAR_SUBJECT, "Standup");
	wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME, "20240305T090000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240305T091500Z");
	wbxml_add_text(A, in, EAS_CALENDAR_DTSTAMP, "20240301T080000Z");
	if (version < 160)
		wbxml_add_text(A, in, EAS_CALENDAR_UID, "empty-elements-1");
	return in;
}

/* Thunderbird at 16.1: <Reminder/> on every event without an alarm;
 * evolution-activesync: an empty <Exceptions/> without Recurrence. */
static void
test_empty_calendar_add(void)
{
	struct conv_ctx ctx = ctx_for(161);
	struct store_item item;
	struct wbxml_node *in = event(161), *out, *rec;

	wbxml_add(A, in, EAS_CALENDAR_REMINDER);
	wbxml_add(A, in, EAS_CALENDAR_LOCATION);
	wbxml_add(A, in, EAS_CALENDAR_CATEGORIES);
	wbxml_add(A, in, EAS_CALENDAR_ATTENDEES);
	wbxml_add(A, in, EAS_CALENDAR_EXCEPTIONS);
	wbxml_add(A, in, EAS_CALENDAR_SENSITIVITY);
	add_body(in, "1", NULL);
	from_eas(STORE_CLASS_CALENDAR, in, &ctx, NULL, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_SUBJECT), "Standup");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CALENDAR_REMINDER));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CALENDAR_EXCEPTIONS));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CALENDAR_ATTENDEES));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_AIRSYNCBASE_LOCATION));
	CU_ASSERT_PTR_NULL(strstr((const char *)item.data, "VALARM"));

	/* Empty parts inside a Recurrence and an Exception go the same
	 * way. */
	in = event(141);
	ctx = ctx_for(141);
	rec = wbxml_add(A, in, EAS_CALENDAR_RECURRENCE);
	wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, "0");
	wbxml_add(A, rec, EAS_CALENDAR_UNTIL);
	wbxml_add(A, rec, EAS_CALENDAR_OCCURRENCES);
	wbxml_add_text(A, rec, EAS_CALENDAR_INTERVAL, "1");
	{
		struct wbxml_node *l =
			wbxml_add(A, in, EAS_CALENDAR_EXCEPTIONS);
		struct wbxml_node *ex = wbxml_add(A, l, EAS_CALENDAR_EXCEPTION);

		wbxml_add_text(A, ex, EAS_CALENDAR_EXCEPTIONSTARTTIME,
			       "20240306T090000Z");
		wbxml_add(A, ex, EAS_CALENDAR_SUBJECT);
		wbxml_add(A, ex, EAS_CALENDAR_REMINDER);
		wbxml_add_text(A, ex, EAS_CALENDAR_DELETED, "1");
	}
	from_eas(STORE_CLASS_CALENDAR, in, &ctx, NULL, &item);
	out = to_eas(&item, &ctx);
	rec = (struct wbxml_node *)wbxml_child(out, EAS_CALENDAR_RECURRENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_PTR_NULL(wbxml_child(rec, EAS_CALENDAR_UNTIL));
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data, "EXDATE"));
}

static void
test_empty_calendar_change(void)
{
	struct conv_ctx ctx = ctx_for(141);
	struct store_item old, item;
	struct wbxml_node *in = event(141), *out;

	wbxml_add_text(A, in, EAS_CALENDAR_REMINDER, "15");
	wbxml_add_text(A, in, EAS_CALENDAR_LOCATION, "Room 1");
	add_body(in, "1", "Agenda");
	from_eas(STORE_CLASS_CALENDAR, in, &ctx, NULL, &old);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)old.data, "VALARM"));
	in = event(141);
	wbxml_add(A, in, EAS_CALENDAR_REMINDER);
	wbxml_add(A, in, EAS_CALENDAR_LOCATION);
	add_body(in, "1", "");
	from_eas(STORE_CLASS_CALENDAR, in, &ctx, &old, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CALENDAR_REMINDER));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CALENDAR_LOCATION));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_AIRSYNCBASE_BODY));
	CU_ASSERT_PTR_NULL(strstr((const char *)item.data, "VALARM"));
}

static void
test_empty_task_and_note(void)
{
	struct conv_ctx ctx = ctx_for(141);
	struct store_item old, item;
	struct wbxml_node *in = app_new(), *out;

	/* tasks: Add with empty dates, then a Change that clears */
	wbxml_add_text(A, in, EAS_TASKS_SUBJECT, "Taxes");
	wbxml_add(A, in, EAS_TASKS_DUEDATE);
	wbxml_add(A, in, EAS_TASKS_UTCDUEDATE);
	wbxml_add(A, in, EAS_TASKS_REMINDERTIME);
	wbxml_add(A, in, EAS_TASKS_CATEGORIES);
	wbxml_add(A, in, EAS_TASKS_IMPORTANCE);
	from_eas(STORE_CLASS_TASKS, in, &ctx, NULL, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_TASKS_SUBJECT), "Taxes");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_TASKS_DUEDATE));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_TASKS_IMPORTANCE));
	in = app_new();
	wbxml_add_text(A, in, EAS_TASKS_SUBJECT, "Taxes");
	wbxml_add_text(A, in, EAS_TASKS_DUEDATE, "2024-04-30T00:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_UTCDUEDATE, "2024-04-29T22:00:00.000Z");
	from_eas(STORE_CLASS_TASKS, in, &ctx, NULL, &old);
	in = app_new();
	wbxml_add_text(A, in, EAS_TASKS_SUBJECT, "Taxes");
	wbxml_add(A, in, EAS_TASKS_DUEDATE);
	wbxml_add(A, in, EAS_TASKS_UTCDUEDATE);
	from_eas(STORE_CLASS_TASKS, in, &ctx, &old, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_TASKS_DUEDATE));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_TASKS_UTCDUEDATE));
	CU_ASSERT_PTR_NULL(strstr((const char *)item.data, "DUE"));

	/* notes */
	in = app_new();
	wbxml_add(A, in, EAS_NOTES_SUBJECT);
	wbxml_add(A, in, EAS_NOTES_CATEGORIES);
	wbxml_add(A, in, EAS_NOTES_LASTMODIFIEDDATE);
	add_body(in, "1", "just text");
	from_eas(STORE_CLASS_NOTES, in, &ctx, NULL, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_NOTES_SUBJECT));
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_NOTES_CATEGORIES));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_NOTES_LASTMODIFIEDDATE));
}

/* --- single occurrences (16.x InstanceId) --- */

/* Central Europe, as phones send it. */
static const char *
tz_berlin(void)
{
	struct conv_tz tz;

	memset(&tz, 0, sizeof(tz));
	tz.bias = -60;
	tz.std_date = (struct conv_tz_date){0, 10, 0, 5, 3, 0, 0, 0};
	tz.dst_date = (struct conv_tz_date){0, 3, 0, 5, 2, 0, 0, 0};
	tz.dst_bias = -60;
	return conv_tz_encode(A, &tz);
}

/* A weekly series on Tuesdays 15:30 Berlin time from 2024-03-05. */
static void
weekly_series(struct store_item *item)
{
	struct wbxml_node *in = app_new(), *rec;
	struct conv_ctx ctx = ctx_for(141);

	wbxml_add_text(A, in, EAS_CALENDAR_TIMEZONE, tz_berlin());
	wbxml_add_text(A, in, EAS_CALENDAR_SUBJECT, "Weekly");
	wbxml_add_text(A, in, EAS_CALENDAR_LOCATION, "Room 1");
	wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME, "20240305T143000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240305T153000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_DTSTAMP, "20240301T080000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_UID, "weekly-1");
	wbxml_add_text(A, in, EAS_CALENDAR_REMINDER, "10");
	rec = wbxml_add(A, in, EAS_CALENDAR_RECURRENCE);
	wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, "1");
	wbxml_add_text(A, rec, EAS_CALENDAR_DAYOFWEEK, "4");
	wbxml_add_text(A, rec, EAS_CALENDAR_OCCURRENCES, "10");
	from_eas(STORE_CLASS_CALENDAR, in, &ctx, NULL, item);
}

static void
instance(const struct store_item *old, const char *id,
	 const struct wbxml_node *app, struct store_item *item)
{
	struct conv_ctx ctx = ctx_for(161);
	const char *err = NULL;
	int64_t t;

	memset(item, 0, sizeof(*item));
	if (conv_instance_from_eas(A, STORE_CLASS_CALENDAR, id, app, &ctx, old,
				   item, &t, &err) < 0) {
		fprintf(stderr, "instance: %s\n", err);
		CU_FAIL_FATAL("conv_instance_from_eas refused");
	}
}

static const struct wbxml_node *
exception_at(const struct wbxml_node *app, uint16_t id_tag, const char *when)
{
	const struct wbxml_node *l = wbxml_child(app, EAS_CALENDAR_EXCEPTIONS);
	const struct wbxml_node *ex;

	if (l == NULL)
		return NULL;
	wbxml_foreach(l, ex)
	{
		const char *t = wbxml_child_text(ex, id_tag);

		if (t != NULL && strcmp(t, when) == 0)
			return ex;
	}
	return NULL;
}

static size_t
count_exceptions(const struct wbxml_node *app)
{
	const struct wbxml_node *l = wbxml_child(app, EAS_CALENDAR_EXCEPTIONS);

	return l != NULL ? wbxml_count_children(l) : 0;
}

static void
test_instance_delete(void)
{
	struct store_item series, item;
	struct conv_ctx c16 = ctx_for(161), c14 = ctx_for(141);
	const struct wbxml_node *out, *ex;

	weekly_series(&series);
	instance(&series, "20240312T143000Z", NULL, &item);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data, "RRULE"));
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
				      "EXDATE;TZID=Europe/Berlin:"
				      "20240312T153000"));
	out = to_eas(&item, &c16);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_SUBJECT), "Weekly");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_CALENDAR_RECURRENCE));
	ex = exception_at(out, EAS_AIRSYNCBASE_INSTANCEID, "20240312T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_DELETED), "1");
	out = to_eas(&item, &c14);
	ex = exception_at(out, EAS_CALENDAR_EXCEPTIONSTARTTIME,
			  "20240312T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_DELETED), "1");
	/* deleting it twice keeps one EXDATE */
	series = item;
	instance(&series, "2024-03-12T14:30:00.000Z", NULL, &item);
	CU_ASSERT_EQUAL(count_exceptions(to_eas(&item, &c16)), 1);
}

static void
test_instance_change(void)
{
	struct store_item series, item, again;
	struct conv_ctx c16 = ctx_for(161), c14 = ctx_for(141);
	struct wbxml_node *app = app_new();
	const struct wbxml_node *out, *ex;

	weekly_series(&series);
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Moved");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20240320T100000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20240320T110000Z");
	wbxml_add(A, app, EAS_CALENDAR_REMINDER);
	/* a client may send the ISO form; the server answers compact */
	instance(&series, "2024-03-19T14:30:00.000Z", app, &item);
	out = to_eas(&item, &c16);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_SUBJECT), "Weekly");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_STARTTIME),
			       "20240305T143000Z");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(out, EAS_CALENDAR_RECURRENCE));
	CU_ASSERT_EQUAL(count_exceptions(out), 1);
	ex = exception_at(out, EAS_AIRSYNCBASE_INSTANCEID, "20240319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_SUBJECT), "Moved");
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_STARTTIME),
			       "20240320T100000Z");
	CU_ASSERT_PTR_NULL(wbxml_child(ex, EAS_CALENDAR_DELETED));
	/* the occurrence keeps what the client did not send: Location;
	 * the empty Reminder cleared its alarm */
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(ex, EAS_AIRSYNCBASE_LOCATION));
	CU_ASSERT_PTR_NULL(wbxml_child(ex, EAS_CALENDAR_REMINDER));
	out = to_eas(&item, &c14);
	ex = exception_at(out, EAS_CALENDAR_EXCEPTIONSTARTTIME,
			  "20240319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_SUBJECT), "Moved");
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_LOCATION), "Room 1");

	/* changing it again updates the same override */
	app = app_new();
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Moved again");
	instance(&item, "20240319T143000Z", app, &again);
	out = to_eas(&again, &c16);
	CU_ASSERT_EQUAL(count_exceptions(out), 1);
	ex = exception_at(out, EAS_AIRSYNCBASE_INSTANCEID, "20240319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_SUBJECT),
			       "Moved again");
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_STARTTIME),
			       "20240320T100000Z");

	/* deleting a changed occurrence: the override goes, EXDATE comes */
	instance(&again, "20240319T143000Z", NULL, &item);
	out = to_eas(&item, &c16);
	CU_ASSERT_EQUAL(count_exceptions(out), 1);
	ex = exception_at(out, EAS_AIRSYNCBASE_INSTANCEID, "20240319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(text_of(ex, EAS_CALENDAR_DELETED), "1");
	CU_ASSERT_PTR_NULL(strstr((const char *)item.data, "Moved again"));
}

static void
test_instance_refused(void)
{
	struct conv_ctx ctx = ctx_for(161);
	struct store_item single, series, item;
	const char *err = NULL;
	int64_t t;

	from_eas(STORE_CLASS_CALENDAR, event(161), &ctx, NULL, &single);
	CU_ASSERT_EQUAL(conv_instance_from_eas(A, STORE_CLASS_CALENDAR,
					       "20240305T090000Z", NULL, &ctx,
					       &single, &item, &t, &err),
			-1);
	CU_ASSERT_PTR_NOT_NULL(err);
	weekly_series(&series);
	CU_ASSERT_EQUAL(conv_instance_from_eas(A, STORE_CLASS_CALENDAR,
					       "yesterday", NULL, &ctx, &series,
					       &item, &t, &err),
			-1);
	CU_ASSERT_EQUAL(conv_instance_from_eas(A, STORE_CLASS_CONTACTS,
					       "20240312T143000Z", NULL, &ctx,
					       &series, &item, &t, &err),
			-1);
}

static CU_TestInfo instance_tests[] = {
	{"delete one occurrence: EXDATE, series stays", test_instance_delete},
	{"change one occurrence: RECURRENCE-ID override", test_instance_change},
	{"InstanceId refused when it cannot apply", test_instance_refused},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo empty_tests[] = {
	{"contact Add with empty elements", test_empty_contact_add},
	{"contact Change with empty elements clears",
	 test_empty_contact_change},
	{"event Add with <Reminder/> and <Exceptions/>",
	 test_empty_calendar_add},
	{"event Change with empty elements clears", test_empty_calendar_change},
	{"tasks and notes with empty elements", test_empty_task_and_note},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"empty elements", setup, teardown, NULL, NULL, empty_tests},
	{"single occurrences", setup, teardown, NULL, NULL, instance_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
