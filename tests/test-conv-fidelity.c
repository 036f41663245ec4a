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

/* --- what a device edit keeps (contacts) --- */

static char *
read_data(const char *name, size_t *len_r)
{
	const char *dir = getenv("EASD_SRCDIR");
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/conv/%s",
		 dir != NULL ? dir : ".", name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = arena_alloc(A, (size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	buf[n] = '\0';
	fclose(f);
	*len_r = (size_t)n;
	return buf;
}

static void
import_text(enum store_class cls, const char *text, size_t len,
	    struct store_item *item)
{
	const char *err = NULL;

	memset(item, 0, sizeof(*item));
	if (conv_from_standard(A, cls, text, len, item, &err) < 0) {
		fprintf(stderr, "import: %s\n", err);
		CU_FAIL_FATAL("conv_from_standard refused");
	}
	item->cls = cls;
}

static void
import_file(enum store_class cls, const char *name, struct store_item *item)
{
	size_t len = 0;
	char *text = read_data(name, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(text);
	import_text(cls, text, len, item);
}

/* Replace the text of the first child with tag (or add one). */
static void
set_text(struct wbxml_node *app, uint16_t tag, const char *v)
{
	struct wbxml_node *n;

	for (n = app->child; n != NULL; n = n->next)
		if (n->tag == tag)
			break;
	if (n == NULL) {
		wbxml_add_text(A, app, tag, v);
		return;
	}
	n->data = (const uint8_t *)arena_strdup(A, v);
	n->len = strlen(v);
	n->opaque = false;
}

/* What a device does: receive the item, change one field, send it back
 * (everything else as received). */
static void
device_change(const struct store_item *old, const struct conv_ctx *ctx,
	      uint16_t tag, const char *v, struct store_item *item)
{
	struct wbxml_node *app = to_eas(old, ctx);

	set_text(app, tag, v);
	from_eas(old->cls, app, ctx, old, item);
	item->cls = old->cls;
}

/* text with one substring replaced (which must be there once). */
static char *
replaced(const char *text, const char *from, const char *to)
{
	const char *p = strstr(text, from);

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(strstr(p + 1, from));
	return arena_printf(A, "%.*s%s%s", (int)(p - text), text, to,
			    p + strlen(from));
}

static void
assert_text(const struct store_item *item, const char *want)
{
	if (strcmp((const char *)item->data, want) != 0)
		fprintf(stderr, "\n--- want\n%s--- got\n%s---\n", want,
			(const char *)item->data);
	CU_ASSERT_STRING_EQUAL((const char *)item->data, want);
}

static struct conv_tz zone_at(int minutes_east);

/* A vCard 3.0 from Apple Contacts: after a phone changes the job title,
 * the file is the same but for that line, byte for byte (PO box and
 * extended address, the third ORG unit, labels, a fourth address, GEO,
 * unknown properties). */
static void
test_keep_vcard3(void)
{
	struct conv_tz z = zone_at(-5 * 60);
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item, changed;
	const struct wbxml_node *out;

	ctx.date_tz = &z;
	import_file(STORE_CLASS_CONTACTS, "rich-3.vcf", &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_JOBTITLE), "Engineer");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_HOMEADDRESSSTREET),
			       "1 Infinite Loop");
	device_change(&item, &ctx, EAS_CONTACTS_JOBTITLE, "Chief Engineer",
		      &changed);
	assert_text(&changed,
		    replaced((const char *)item.data, "TITLE:Engineer\r\n",
			     "TITLE:Chief Engineer\r\n"));
	/* a structured value: only the components the phone maps change */
	device_change(&item, &ctx, EAS_CONTACTS_HOMEADDRESSCITY, "Palo Alto",
		      &changed);
	assert_text(&changed, replaced((const char *)item.data, ";Cupertino;",
				       ";Palo Alto;"));
	device_change(&item, &ctx, EAS_CONTACTS_DEPARTMENT, "Hardware",
		      &changed);
	assert_text(&changed,
		    replaced((const char *)item.data, "Engineering;Core OS",
			     "Hardware;Core OS"));
}

/* vCard 4.0 stays 4.0: values are written in its syntax (tel: URIs come
 * back as URIs, the PNG photo stays), the rest is kept. */
static void
test_keep_vcard4(void)
{
	struct conv_ctx ctx = ctx_for(161);
	struct store_item item, changed;
	const struct wbxml_node *out;
	const char *text;

	import_file(STORE_CLASS_CONTACTS, "rich-4.vcf", &item);
	out = to_eas(&item, &ctx);
	/* RFC 6350 tel: URIs show as the number */
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_MOBILEPHONENUMBER),
			       "+49-170-1234567");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_BUSINESSPHONENUMBER),
			       "+49-30-1234");
	device_change(&item, &ctx, EAS_CONTACTS_JOBTITLE, "Head of Sales",
		      &changed);
	text = (const char *)changed.data;
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "VERSION:4.0\r\n"));
	assert_text(&changed, replaced((const char *)item.data, "END:VCARD\r\n",
				       "TITLE:Head of Sales\r\nEND:VCARD\r\n"));
	/* a changed number regains its scheme */
	device_change(&item, &ctx, EAS_CONTACTS_MOBILEPHONENUMBER,
		      "+49 170 7654321", &changed);
	text = (const char *)changed.data;
	CU_ASSERT_PTR_NOT_NULL(strstr(
		text, "TEL;VALUE=uri;TYPE=cell,voice;PREF=1;X-EAS-TYPE=Mobile:"
		      "tel:+49-170-7654321\r\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "TEL;VALUE=uri;TYPE=work:tel:+49-30-1234\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "PHOTO:data:image/png;base64,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "KIND:individual\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "GEO:geo:52.52,13.405\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "X-FOO;X-BAR=baz:keep\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "BDAY:19640812\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "ANNIVERSARY:19900601\r\n"));
	/* a new birthday is written the 4.0 way */
	out = to_eas(&item, &ctx);
	{
		struct wbxml_node *app = to_eas(&item, &ctx);

		set_text(app, EAS_CONTACTS_BIRTHDAY,
			 "1964-08-13T00:00:00.000Z");
		from_eas(STORE_CLASS_CONTACTS, app, &ctx, &item, &changed);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
					      "\r\nBDAY:19640813\r\n"));
	}
	(void)out;
}

/* A PNG picture from a phone is stored as PNG (3.0 and 4.0). */
static void
test_png_picture(void)
{
	static const char png[] =
		"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42"
		"mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
	struct conv_ctx ctx = ctx_for(141);
	struct wbxml_node *in = app_new();
	struct store_item item, v4, changed;

	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Pix");
	wbxml_add_text(A, in, EAS_CONTACTS_PICTURE, png);
	from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &item);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)item.data,
				      "PHOTO;ENCODING=b;TYPE=PNG:iVBOR"));
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&item, &ctx), EAS_CONTACTS_PICTURE), png);
	/* a new PNG into a 4.0 card */
	{
		static const char four[] = "BEGIN:VCARD\r\nVERSION:4.0\r\n"
					   "FN:Four\r\nEND:VCARD\r\n";

		import_text(STORE_CLASS_CONTACTS, four, strlen(four), &v4);
	}
	device_change(&v4, &ctx, EAS_CONTACTS_PICTURE, png, &changed);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
				      "PHOTO:data:image/png;base64,iVBOR"));
}

/* RFC 6350 4.3.1: BDAY;VALUE=text is no date: accepted and kept, and a
 * birthday the phone sets replaces it. */
static void
test_bday_text(void)
{
	static const char card[] = "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Old\r\n"
				   "BDAY;VALUE=text:circa 1800\r\n"
				   "END:VCARD\r\n";
	struct conv_ctx ctx = ctx_for(161);
	struct store_item item, changed;
	const struct wbxml_node *out;

	import_text(STORE_CLASS_CONTACTS, card, strlen(card), &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_BIRTHDAY));
	device_change(&item, &ctx, EAS_CONTACTS_JOBTITLE, "Ancestor", &changed);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
				      "BDAY;VALUE=text:circa 1800\r\n"));
	device_change(&item, &ctx, EAS_CONTACTS_BIRTHDAY,
		      "1800-01-01T00:00:00.000Z", &changed);
	CU_ASSERT_PTR_NULL(strstr((const char *)changed.data, "circa"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)changed.data, "BDAY:18000101\r\n"));
	/* without VALUE=text a bad date is refused (the import reports
	 * it) */
	{
		static const char bad[] = "BEGIN:VCARD\r\nVERSION:3.0\r\n"
					  "FN:X\r\nBDAY:someday\r\n"
					  "END:VCARD\r\n";
		const char *err = NULL;

		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL(conv_from_standard(A, STORE_CLASS_CONTACTS, bad,
						   strlen(bad), &item, &err),
				-1);
		CU_ASSERT_PTR_NOT_NULL_FATAL(err);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "BDAY"));
	}
}

/* --- the stored vCard is authoritative (our markers) --- */

static void
test_contact_shadows(void)
{
	struct conv_tz z = zone_at(2 * 60);
	struct conv_ctx ctx = ctx_for(141);
	struct wbxml_node *in = app_new();
	struct store_item item, edited;
	const struct wbxml_node *out, *b;
	const char *text;

	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Max");
	wbxml_add_text(A, in, EAS_CONTACTS_LASTNAME, "Muster");
	wbxml_add_text(A, in, EAS_CONTACTS_BUSINESS2PHONENUMBER, "+1 555 2");
	add_body(in, "2", "<b>bold</b>");
	/* the device takes HTML bodies, and lives at UTC+2 */
	ctx.nprefs = 1;
	ctx.prefs[0].type = 2;
	ctx.date_tz = &z;
	from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &item);
	text = (const char *)item.data;
	out = to_eas(&item, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_BUSINESS2PHONENUMBER),
			       "+1 555 2");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_FILEAS));
	b = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(text_of(b, EAS_AIRSYNCBASE_TYPE), "2");

	/* X-EAS-TYPE: another program makes the phone a home phone */
	edited = item;
	edited.data = (const uint8_t *)replaced(text, "TYPE=WORK,VOICE",
						"TYPE=HOME,VOICE");
	out = to_eas(&edited, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_HOMEPHONENUMBER),
			       "+1 555 2");
	CU_ASSERT_PTR_NULL(wbxml_child(out, EAS_CONTACTS_BUSINESS2PHONENUMBER));

	/* X-EAS-COMPUTED: an FN edited elsewhere is a display name */
	edited.data = (const uint8_t *)replaced(text, ":Max Muster\r\n",
						":Dr. Max Muster\r\n");
	out = to_eas(&edited, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CONTACTS_FILEAS),
			       "Dr. Max Muster");

	/* X-EAS-BODYTYPE: a NOTE edited elsewhere is plain text */
	edited.data =
		(const uint8_t *)replaced(text, "<b>bold</b>", "now plain");
	out = to_eas(&edited, &ctx);
	b = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_STRING_EQUAL(text_of(b, EAS_AIRSYNCBASE_TYPE), "1");
	CU_ASSERT_STRING_EQUAL(text_of(b, EAS_AIRSYNCBASE_DATA), "now plain");

	/* X-EAS-NL: a value with LF only is marked; edited, the mark goes */
	in = app_new();
	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Lf");
	add_body(in, "1", "one\ntwo");
	from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &item);
	b = wbxml_child(to_eas(&item, &ctx), EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(text_of(b, EAS_AIRSYNCBASE_DATA), "one\ntwo");
	edited = item;
	edited.data = (const uint8_t *)replaced((const char *)item.data,
						"one\\ntwo", "one\\nthree");
	b = wbxml_child(to_eas(&edited, &ctx), EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(text_of(b, EAS_AIRSYNCBASE_DATA),
			       "one\r\nthree");

	/* the birthday has no copy beside it: an edited BDAY is seen */
	in = app_new();
	wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "Bday");
	wbxml_add_text(A, in, EAS_CONTACTS_BIRTHDAY,
		       "1990-05-14T22:00:00.000Z");
	from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &item);
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)item.data, "BDAY;VALUE=DATE:1990-05-15"));
	edited = item;
	edited.data = (const uint8_t *)replaced((const char *)item.data,
						"1990-05-15", "1991-06-16");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&edited, &ctx), EAS_CONTACTS_BIRTHDAY),
		"1991-06-15T22:00:00.000Z");
}

/* --- dates in every zone --- */

/* A zone without daylight saving, minutes east of UTC. */
static struct conv_tz
zone_at(int minutes_east)
{
	struct conv_tz z;

	memset(&z, 0, sizeof(z));
	z.bias = -minutes_east;
	return z;
}

/* MS-ASCNTC Birthday from devices at UTC-11 .. UTC+14: the value they
 * get is their local midnight, what they send back (the same, or
 * their own local midnight, an hour off or not) is the same date. */
static void
test_birthday_zones(void)
{
	static const int offsets[] = {-11 * 60, -5 * 60, 0,
				      2 * 60,	9 * 60,	 14 * 60};
	static const char card[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Z;B;;;\r\n"
				   "FN:B Z\r\nBDAY;VALUE=DATE:2018-01-20\r\n"
				   "END:VCARD\r\n";
	const int64_t midnight = 1516406400; /* 2018-01-20T00:00:00Z */

	for (size_t i = 0; i < N_ELEMENTS(offsets); i++) {
		struct conv_tz z = zone_at(offsets[i]);
		struct conv_ctx ctx = ctx_for(141);
		struct store_item item, changed, added;
		struct wbxml_node *in;
		const char *got;
		char want[32];
		int64_t t;

		ctx.date_tz = &z;
		import_text(STORE_CLASS_CONTACTS, card, strlen(card), &item);
		got = text_of(to_eas(&item, &ctx), EAS_CONTACTS_BIRTHDAY);
		time_format_iso(midnight - offsets[i] * 60, want);
		CU_ASSERT_STRING_EQUAL(got, want);
		/* a phone edit of something else keeps the date */
		device_change(&item, &ctx, EAS_CONTACTS_JOBTITLE, "x",
			      &changed);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
					      "BDAY;VALUE=DATE:2018-01-20"));
		/* the phone's own value an hour early or late is the same
		 * date */
		for (int slack = -1; slack <= 1; slack++) {
			char v[32];

			time_format_iso(
				midnight - offsets[i] * 60 + slack * 3600, v);
			in = app_new();
			wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "B");
			wbxml_add_text(A, in, EAS_CONTACTS_BIRTHDAY, v);
			from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &added);
			CU_ASSERT_PTR_NOT_NULL(
				strstr((const char *)added.data,
				       "BDAY;VALUE=DATE:2018-01-20"));
		}
		/* a client that writes the UTC day (quirk table) */
		ctx.dates_as_utc = true;
		CU_ASSERT_STRING_EQUAL(
			text_of(to_eas(&item, &ctx), EAS_CONTACTS_BIRTHDAY),
			"2018-01-20T00:00:00.000Z");
		in = app_new();
		wbxml_add_text(A, in, EAS_CONTACTS_FIRSTNAME, "B");
		wbxml_add_text(A, in, EAS_CONTACTS_BIRTHDAY,
			       "2018-01-20T12:00:00.000Z");
		from_eas(STORE_CLASS_CONTACTS, in, &ctx, NULL, &added);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)added.data,
					      "BDAY;VALUE=DATE:2018-01-20"));
		(void)t;
	}
}

static CU_TestInfo contact_keep_tests[] = {
	{"vCard 3.0: a phone edit keeps everything else", test_keep_vcard3},
	{"vCard 4.0 stays 4.0, tel: URIs, PNG", test_keep_vcard4},
	{"PNG pictures keep their type", test_png_picture},
	{"BDAY;VALUE=text accepted and kept", test_bday_text},
	{"markers only while they stand for the value", test_contact_shadows},
	{"birthdays from UTC-11 to UTC+14", test_birthday_zones},
	CU_TEST_INFO_NULL,
};

/* --- what a device edit keeps (calendar, tasks, notes) --- */

/* Every property of an iCalendar object, as "component path|line". */
struct plines {
	char *v[512];
	size_t n;
};

static void
collect(icalcomponent *c, const char *path, struct plines *pl)
{
	icalproperty *p;
	icalcomponent *sub;
	size_t nalarm = 0;

	for (p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY);
	     p != NULL && pl->n < N_ELEMENTS(pl->v);
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY))
		pl->v[pl->n++] = arena_printf(A, "%s|%s", path,
					      icalproperty_as_ical_string(p));
	for (sub = icalcomponent_get_first_component(c, ICAL_ANY_COMPONENT);
	     sub != NULL;
	     sub = icalcomponent_get_next_component(c, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind k = icalcomponent_isa(sub);
		icalproperty *id =
			k == ICAL_VTIMEZONE_COMPONENT
				? icalcomponent_get_first_property(
					  sub, ICAL_TZID_PROPERTY)
				: icalcomponent_get_first_property(
					  sub, ICAL_RECURRENCEID_PROPERTY);
		const char *sp = arena_printf(
			A, "%s/%s[%s]", path, icalcomponent_kind_to_string(k),
			k == ICAL_VALARM_COMPONENT
				? arena_printf(A, "%zu", nalarm++)
			: id != NULL ? icalproperty_get_value_as_string(id)
				     : "");

		collect(sub, sp, pl);
	}
}

static bool
in_lines(const struct plines *pl, const char *line)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->v[i], line) == 0)
			return true;
	return false;
}

/* The property name of a "path|NAME;...:value" line. */
static bool
line_is(const char *line, const char *name)
{
	const char *bar = strchr(line, '|');
	size_t n = strlen(name);

	return bar != NULL && strncmp(bar + 1, name, n) == 0 &&
	       (bar[1 + n] == ':' || bar[1 + n] == ';');
}

static bool
ours(const char *line)
{
	const char *bar = strchr(line, '|');

	return bar != NULL && (strncmp(bar + 1, "X-EAS-", 6) == 0 ||
			       strncmp(bar + 1, "X-MICROSOFT-CDO-", 16) == 0);
}

/* Property for property: everything of before is in after but the
 * changed property; after adds only our markers and the changed
 * property. */
static void
assert_ical_kept(const char *before, const char *after, const char *changed)
{
	icalcomponent *x = icalparser_parse_string(before);
	icalcomponent *y = icalparser_parse_string(after);
	struct plines *bl = arena_zalloc(A, sizeof(*bl));
	struct plines *al = arena_zalloc(A, sizeof(*al));

	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_PTR_NOT_NULL_FATAL(y);
	collect(x, "", bl);
	collect(y, "", al);
	for (size_t i = 0; i < bl->n; i++) {
		if (line_is(bl->v[i], changed) || in_lines(al, bl->v[i]))
			continue;
		fprintf(stderr, "\nlost: %s", bl->v[i]);
		CU_FAIL("a property the device did not change is lost");
	}
	for (size_t i = 0; i < al->n; i++) {
		if (line_is(al->v[i], changed) || ours(al->v[i]) ||
		    in_lines(bl, al->v[i]))
			continue;
		fprintf(stderr, "\nadded: %s", al->v[i]);
		CU_FAIL("a property was added or changed");
	}
	icalcomponent_free(x);
	icalcomponent_free(y);
}

static const struct conv_tz *
berlin_tz(void)
{
	static struct conv_tz tz;

	tz.bias = -60;
	tz.std_date = (struct conv_tz_date){0, 10, 0, 5, 3, 0, 0, 0};
	tz.dst_date = (struct conv_tz_date){0, 3, 0, 5, 2, 0, 0, 0};
	tz.dst_bias = -60;
	return &tz;
}

/* An event from Apple Calendar (zone, recurrence, a deleted and a moved
 * occurrence, attendees with RSVP, an organizer with SENT-BY, alarms with
 * sound and a fixed time, ATTACH, GEO, URL, unknown properties): after a
 * phone changes the subject, everything else is as it was. */
static void
test_keep_event(void)
{
	static const unsigned versions[] = {141, 161};

	for (size_t v = 0; v < N_ELEMENTS(versions); v++) {
		struct conv_ctx ctx = ctx_for(versions[v]);
		struct store_item item, changed;
		const struct wbxml_node *out;

		ctx.date_tz = berlin_tz();
		import_file(STORE_CLASS_CALENDAR, "rich-event.ics", &item);
		out = to_eas(&item, &ctx);
		CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_SUBJECT),
				       "Planning");
		device_change(&item, &ctx, EAS_CALENDAR_SUBJECT,
			      "Planning 2025", &changed);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
					      "SUMMARY:Planning 2025"));
		assert_ical_kept((const char *)item.data,
				 (const char *)changed.data, "SUMMARY");
		/* and the device sees its change and nothing else moved */
		out = to_eas(&changed, &ctx);
		CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_SUBJECT),
				       "Planning 2025");
		CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_REMINDER),
				       "15");
		/* a changed reminder keeps the sound of the alarm */
		device_change(&item, &ctx, EAS_CALENDAR_REMINDER, "30",
			      &changed);
		CU_ASSERT_PTR_NOT_NULL(
			strstr((const char *)changed.data, "TRIGGER:-PT30M"));
		CU_ASSERT_PTR_NOT_NULL(
			strstr((const char *)changed.data, "ACTION:AUDIO"));
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
					      "X-WR-ALARMUID:alarm-1"));
	}
}

static void
test_keep_task(void)
{
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item, changed;
	const struct wbxml_node *out;

	ctx.date_tz = berlin_tz();
	import_file(STORE_CLASS_TASKS, "rich-task.ics", &item);
	out = to_eas(&item, &ctx);
	/* a date: local midnight for the device */
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_TASKS_DUEDATE),
			       "2024-07-01T00:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_TASKS_UTCDUEDATE),
			       "2024-06-30T22:00:00.000Z");
	device_change(&item, &ctx, EAS_TASKS_SUBJECT, "Renew passport (kids)",
		      &changed);
	assert_ical_kept((const char *)item.data, (const char *)changed.data,
			 "SUMMARY");
	/* moved by a day on the phone: still a date */
	{
		struct wbxml_node *app = to_eas(&item, &ctx);

		set_text(app, EAS_TASKS_DUEDATE, "2024-07-02T00:00:00.000Z");
		set_text(app, EAS_TASKS_UTCDUEDATE, "2024-07-01T22:00:00.000Z");
		from_eas(STORE_CLASS_TASKS, app, &ctx, &item, &changed);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
					      "DUE;VALUE=DATE:20240702"));
	}
}

static void
test_keep_note(void)
{
	struct conv_ctx ctx = ctx_for(141);
	struct store_item item, changed;

	import_file(STORE_CLASS_NOTES, "rich-note.txt", &item);
	device_change(&item, &ctx, EAS_NOTES_SUBJECT, "Groceries today",
		      &changed);
	CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
				      "Subject: Groceries today\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)changed.data, "X-Color: yellow\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)changed.data, "X-Pinned: true\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)changed.data, "Category: Home\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)changed.data,
		       "Last-Modified: 2024-03-05T14:30:00.000Z"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr((const char *)changed.data, "\n\nMilk\nEggs\n"));
}

/* --- the stored calendar is authoritative (our shadows) --- */

/* item with one text replaced, as another program would edit it. */
static struct store_item
edited(const struct store_item *item, const char *from, const char *to)
{
	struct store_item e = *item;

	e.data = (const uint8_t *)replaced((const char *)item->data, from, to);
	e.data_len = strlen((const char *)e.data);
	return e;
}

static void
test_event_shadows(void)
{
	struct conv_ctx c14 = ctx_for(141), c16 = ctx_for(161);
	struct store_item series, item, e;
	struct wbxml_node *in = app_new(), *l, *at;
	const struct wbxml_node *out, *rec, *x;
	const char *text;

	weekly_series(&series);
	text = (const char *)series.data;
	/* X-EAS-RECURRENCE stands for RRULE: COUNT=10 -> COUNT=3 */
	out = to_eas(&series, &c14);
	rec = wbxml_child(out, EAS_CALENDAR_RECURRENCE);
	CU_ASSERT_STRING_EQUAL(text_of(rec, EAS_CALENDAR_OCCURRENCES), "10");
	e = edited(&series, "COUNT=10", "COUNT=3");
	rec = wbxml_child(to_eas(&e, &c14), EAS_CALENDAR_RECURRENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_STRING_EQUAL(text_of(rec, EAS_CALENDAR_OCCURRENCES), "3");
	/* X-EAS-TIMEZONE stands for the zone DTSTART names: moved to UTC */
	e = edited(&series, "DTSTART;TZID=Europe/Berlin:20240305T153000",
		   "DTSTART:20240305T120000Z");
	out = to_eas(&e, &c14);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_STARTTIME),
			       "20240305T120000Z");
	CU_ASSERT_STRING_NOT_EQUAL(text_of(out, EAS_CALENDAR_TIMEZONE),
				   tz_berlin());
	(void)text;

	/* an event with every shadow */
	in = app_new();
	wbxml_add_text(A, in, EAS_CALENDAR_TIMEZONE, tz_berlin());
	wbxml_add_text(A, in, EAS_CALENDAR_SUBJECT, "Shadows");
	wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME, "20240305T143000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240305T153000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ALLDAYEVENT, "0");
	wbxml_add_text(A, in, EAS_CALENDAR_BUSYSTATUS, "1");
	wbxml_add_text(A, in, EAS_CALENDAR_SENSITIVITY, "1");
	l = wbxml_add(A, in, EAS_AIRSYNCBASE_LOCATION);
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_DISPLAYNAME, "Room 1");
	wbxml_add_text(A, l, EAS_AIRSYNCBASE_CITY, "Berlin");
	l = wbxml_add(A, in, EAS_CALENDAR_CATEGORIES);
	wbxml_add_text(A, l, EAS_CALENDAR_CATEGORY, "Team, core");
	l = wbxml_add(A, in, EAS_CALENDAR_ATTENDEES);
	at = wbxml_add(A, l, EAS_CALENDAR_ATTENDEE);
	wbxml_add_text(A, at, EAS_CALENDAR_EMAIL, "bob@example.org");
	wbxml_add_text(A, at, EAS_CALENDAR_NAME, "Bob");
	wbxml_add_text(A, at, EAS_CALENDAR_ATTENDEESTATUS, "3");
	wbxml_add_text(A, at, EAS_CALENDAR_ATTENDEETYPE, "1");
	add_body(in, "1", "line one\r\nline two");
	from_eas(STORE_CLASS_CALENDAR, in, &c16, NULL, &item);
	text = (const char *)item.data;
	out = to_eas(&item, &c16);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_BUSYSTATUS), "1");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_SENSITIVITY), "1");
	x = wbxml_child(out, EAS_AIRSYNCBASE_LOCATION);
	CU_ASSERT_STRING_EQUAL(text_of(x, EAS_AIRSYNCBASE_CITY), "Berlin");
	/* X-EAS-LOCATION stands for LOCATION */
	e = edited(&item, "LOCATION:Room 1", "LOCATION:Room 9");
	x = wbxml_child(to_eas(&e, &c16), EAS_AIRSYNCBASE_LOCATION);
	CU_ASSERT_STRING_EQUAL(text_of(x, EAS_AIRSYNCBASE_DISPLAYNAME),
			       "Room 9");
	CU_ASSERT_PTR_NULL(wbxml_child(x, EAS_AIRSYNCBASE_CITY));
	/* X-EAS-SENSITIVITY stands for CLASS */
	e = edited(&item, "CLASS:PRIVATE", "CLASS:PUBLIC");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&e, &c16), EAS_CALENDAR_SENSITIVITY), "0");
	/* X-MICROSOFT-CDO-BUSYSTATUS (ours) stands for TRANSP */
	e = edited(&item, "TRANSP:OPAQUE", "TRANSP:TRANSPARENT");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&e, &c16), EAS_CALENDAR_BUSYSTATUS), "0");
	/* X-MICROSOFT-CDO-ALLDAYEVENT (ours) stands for DTSTART */
	e = edited(&item, "DTSTART;TZID=Europe/Berlin:20240305T153000",
		   "DTSTART;VALUE=DATE:20240305");
	e = edited(&e, "DTEND;TZID=Europe/Berlin:20240305T163000",
		   "DTEND;VALUE=DATE:20240306");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&e, &c14), EAS_CALENDAR_ALLDAYEVENT), "1");
	/* X-EAS-CATEGORIES stands for CATEGORIES */
	e = edited(&item, "CATEGORIES:Team, core", "CATEGORIES:Sales");
	x = wbxml_child(to_eas(&e, &c16), EAS_CALENDAR_CATEGORIES);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(wbxml_count_children(x), 1);
	CU_ASSERT_STRING_EQUAL(text_of(x, EAS_CALENDAR_CATEGORY), "Sales");
	/* the ATTENDEE markers stand for PARTSTAT and ROLE */
	e = edited(&item, "PARTSTAT=ACCEPTED", "PARTSTAT=DECLINED");
	x = wbxml_child(to_eas(&e, &c16), EAS_CALENDAR_ATTENDEES);
	x = wbxml_child(x, EAS_CALENDAR_ATTENDEE);
	CU_ASSERT_STRING_EQUAL(text_of(x, EAS_CALENDAR_ATTENDEESTATUS), "4");
	/* X-EAS-NL stands for DESCRIPTION: an edited text has plain LFs */
	x = wbxml_child(out, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(text_of(x, EAS_AIRSYNCBASE_DATA),
			       "line one\r\nline two");
	e = edited(&item, "line two", "line 2");
	x = wbxml_child(to_eas(&e, &c16), EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_STRING_EQUAL(text_of(x, EAS_AIRSYNCBASE_DATA),
			       "line one\nline 2");
	(void)text;
}

static void
test_exception_shadow(void)
{
	struct conv_ctx c14 = ctx_for(141);
	struct store_item item, e;
	struct wbxml_node *in = app_new(), *rec, *l, *ex;
	const struct wbxml_node *got;

	wbxml_add_text(A, in, EAS_CALENDAR_TIMEZONE, tz_berlin());
	wbxml_add_text(A, in, EAS_CALENDAR_SUBJECT, "Weekly");
	wbxml_add_text(A, in, EAS_CALENDAR_STARTTIME, "20240305T143000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_ENDTIME, "20240305T153000Z");
	wbxml_add_text(A, in, EAS_CALENDAR_UID, "exception-shadow");
	rec = wbxml_add(A, in, EAS_CALENDAR_RECURRENCE);
	wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, "1");
	wbxml_add_text(A, rec, EAS_CALENDAR_DAYOFWEEK, "4");
	l = wbxml_add(A, in, EAS_CALENDAR_EXCEPTIONS);
	ex = wbxml_add(A, l, EAS_CALENDAR_EXCEPTION);
	wbxml_add_text(A, ex, EAS_CALENDAR_EXCEPTIONSTARTTIME,
		       "20240319T143000Z");
	wbxml_add_text(A, ex, EAS_CALENDAR_SUBJECT, "Moved");
	from_eas(STORE_CLASS_CALENDAR, in, &c14, NULL, &item);
	got = exception_at(to_eas(&item, &c14), EAS_CALENDAR_EXCEPTIONSTARTTIME,
			   "20240319T143000Z");
	CU_ASSERT_STRING_EQUAL(text_of(got, EAS_CALENDAR_SUBJECT), "Moved");
	/* X-EAS-EXCEPTION stands for the override as it was written */
	e = edited(&item, "SUMMARY:Moved", "SUMMARY:Moved elsewhere");
	got = exception_at(to_eas(&e, &c14), EAS_CALENDAR_EXCEPTIONSTARTTIME,
			   "20240319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(text_of(got, EAS_CALENDAR_SUBJECT),
			       "Moved elsewhere");
}

static void
test_task_shadows(void)
{
	struct conv_ctx ctx = ctx_for(141);
	struct wbxml_node *in = app_new(), *rec;
	struct store_item item, e;
	const struct wbxml_node *out;

	ctx.date_tz = berlin_tz();
	wbxml_add_text(A, in, EAS_TASKS_SUBJECT, "Taxes");
	wbxml_add_text(A, in, EAS_TASKS_STARTDATE, "2024-03-01T09:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_UTCSTARTDATE,
		       "2024-03-01T08:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_DUEDATE, "2024-04-15T17:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_UTCDUEDATE, "2024-04-15T15:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_COMPLETE, "1");
	wbxml_add_text(A, in, EAS_TASKS_DATECOMPLETED,
		       "2024-04-10T09:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_REMINDERSET, "1");
	wbxml_add_text(A, in, EAS_TASKS_REMINDERTIME,
		       "2024-04-14T07:00:00.000Z");
	wbxml_add_text(A, in, EAS_TASKS_SENSITIVITY, "1");
	rec = wbxml_add(A, in, EAS_TASKS_RECURRENCE);
	wbxml_add_text(A, rec, EAS_TASKS_TYPE, "0");
	wbxml_add_text(A, rec, EAS_TASKS_OCCURRENCES, "5");
	wbxml_add_text(A, rec, EAS_TASKS_START, "2024-03-01T09:00:00.000Z");
	from_eas(STORE_CLASS_TASKS, in, &ctx, NULL, &item);
	out = to_eas(&item, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_TASKS_UTCDUEDATE),
			       "2024-04-15T15:00:00.000Z");
	/* X-EAS-DUEDATE / UTCDUEDATE stand for DUE */
	e = edited(&item, "DUE:20240415T150000Z", "DUE:20240420T150000Z");
	out = to_eas(&e, &ctx);
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_TASKS_UTCDUEDATE),
			       "2024-04-20T15:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(text_of(out, EAS_TASKS_DUEDATE),
			       "2024-04-20T17:00:00.000Z");
	/* X-EAS-STARTDATE / UTCSTARTDATE stand for DTSTART */
	e = edited(&item, "DTSTART:20240301T080000Z",
		   "DTSTART:20240302T080000Z");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&e, &ctx), EAS_TASKS_UTCSTARTDATE),
		"2024-03-02T08:00:00.000Z");
	/* X-EAS-DATECOMPLETED stands for COMPLETED */
	e = edited(&item, "COMPLETED:20240410T090000Z",
		   "COMPLETED:20240411T090000Z");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&e, &ctx), EAS_TASKS_DATECOMPLETED),
		"2024-04-11T09:00:00.000Z");
	/* X-EAS-REMINDERTIME / REMINDERSET stand for the alarm */
	e = edited(&item, "TRIGGER;VALUE=DATE-TIME:20240414T070000Z",
		   "TRIGGER;VALUE=DATE-TIME:20240413T070000Z");
	CU_ASSERT_STRING_EQUAL(
		text_of(to_eas(&e, &ctx), EAS_TASKS_REMINDERTIME),
		"2024-04-13T07:00:00.000Z");
	/* X-EAS-RECURRENCE stands for RRULE */
	e = edited(&item, "COUNT=5", "COUNT=2");
	rec = (struct wbxml_node *)wbxml_child(to_eas(&e, &ctx),
					       EAS_TASKS_RECURRENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	CU_ASSERT_STRING_EQUAL(text_of(rec, EAS_TASKS_OCCURRENCES), "2");
	/* X-EAS-SENSITIVITY stands for CLASS */
	e = edited(&item, "CLASS:PRIVATE", "CLASS:CONFIDENTIAL");
	CU_ASSERT_STRING_EQUAL(text_of(to_eas(&e, &ctx), EAS_TASKS_SENSITIVITY),
			       "3");
}

/* All-day events without a zone of their own: a <= 14.1 device gets its
 * local midnight and its TimeZone; what it sends back is the date. */
static void
test_allday_zones(void)
{
	static const int offsets[] = {-11 * 60, -5 * 60, 0,
				      2 * 60,	9 * 60,	 14 * 60};
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
		"PRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
		"UID:allday-zones\r\nDTSTAMP:20180101T000000Z\r\n"
		"DTSTART;VALUE=DATE:20180120\r\n"
		"DTEND;VALUE=DATE:20180121\r\n"
		"SUMMARY:Holiday\r\nEND:VEVENT\r\n"
		"END:VCALENDAR\r\n";

	for (size_t i = 0; i < N_ELEMENTS(offsets); i++) {
		struct conv_tz z = zone_at(offsets[i]);
		struct conv_ctx ctx = ctx_for(141);
		struct store_item item, changed;
		const struct wbxml_node *out;
		char want[32];

		ctx.date_tz = &z;
		import_text(STORE_CLASS_CALENDAR, ics, strlen(ics), &item);
		out = to_eas(&item, &ctx);
		time_format_compact(1516406400 - offsets[i] * 60, want);
		CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_STARTTIME),
				       want);
		CU_ASSERT_STRING_EQUAL(text_of(out, EAS_CALENDAR_ALLDAYEVENT),
				       "1");
		device_change(&item, &ctx, EAS_CALENDAR_SUBJECT, "Holiday!",
			      &changed);
		CU_ASSERT_PTR_NOT_NULL(strstr((const char *)changed.data,
					      "DTSTART;VALUE=DATE:20180120"));
		/* and without a TimeZone from the device */
		{
			struct wbxml_node *app = to_eas(&item, &ctx);
			struct wbxml_node **pp = &app->child;

			while (*pp != NULL) {
				if ((*pp)->tag == EAS_CALENDAR_TIMEZONE)
					*pp = (*pp)->next;
				else
					pp = &(*pp)->next;
			}
			app->last = NULL;
			for (struct wbxml_node *n = app->child; n != NULL;
			     n = n->next)
				app->last = n;
			from_eas(STORE_CLASS_CALENDAR, app, &ctx, NULL,
				 &changed);
			CU_ASSERT_PTR_NOT_NULL(
				strstr((const char *)changed.data,
				       "DTSTART;VALUE=DATE:20180120"));
		}
	}
}

static CU_TestInfo ical_keep_tests[] = {
	{"event: a phone edit keeps everything else", test_keep_event},
	{"task: a phone edit keeps everything else", test_keep_task},
	{"note: a phone edit keeps the other headers", test_keep_note},
	{"event shadows only while they stand", test_event_shadows},
	{"exception shadow only while it stands", test_exception_shadow},
	{"task shadows only while they stand", test_task_shadows},
	{"all-day events from UTC-11 to UTC+14", test_allday_zones},
	CU_TEST_INFO_NULL,
};

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
	{"contacts: edits keep, markers, dates", setup, teardown, NULL, NULL,
	 contact_keep_tests},
	{"calendar, tasks, notes: edits keep, shadows, dates", setup, teardown,
	 NULL, NULL, ical_keep_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
