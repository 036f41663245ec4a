/* iTIP in conv: the corpus of tests/data/itip read at delivery (message
 * class, the invitation kept), shown as Email:MeetingRequest at 14.1 and
 * 16.1, hostile invitations left as plain mail, and the REPLY, REQUEST,
 * CANCEL and mail easd builds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conv.h"
#include "ical.h"
#include "itip.h"
#include "mail.h"
#include "test-main.h"
#include "util.h"

static struct arena *A;

static int
suite_init(void)
{
	A = arena_new(0);
	return 0;
}

static int
suite_clean(void)
{
	arena_free(&A);
	return 0;
}

static char *
read_data(const char *name, size_t *len_r)
{
	const char *dir = getenv("EASD_SRCDIR");
	char path[512], *data = NULL;
	const char *error;

	snprintf(path, sizeof(path), "%s/tests/data/itip/%s",
		 dir != NULL ? dir : ".", name);
	if (arena_read_path(A, path, 0, &data, len_r, &error) < 0)
		return NULL;
	return data;
}

static struct store_item
deliver(const char *name)
{
	struct store_item it;
	const char *error = NULL;
	size_t len = 0;
	char *data = read_data(name, &len);

	memset(&it, 0, sizeof(it));
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(A, data, len, &it, &error),
			      0);
	it.server_id = "1:1";
	return it;
}

static struct wbxml_node *
to_eas(const struct store_item *it, unsigned version)
{
	struct conv_ctx ctx;
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	const char *error = NULL;

	memset(&ctx, 0, sizeof(ctx));
	ctx.version = version;
	CU_ASSERT_EQUAL_FATAL(conv_to_eas(A, it, &ctx, app, &error), 0);
	return app;
}

static const char *
mr_text(const struct wbxml_node *app, uint16_t tag)
{
	const struct wbxml_node *mr =
		wbxml_child(app, EAS_EMAIL_MEETINGREQUEST);

	return mr != NULL ? wbxml_child_text(mr, tag) : NULL;
}

static void
assert_text(const char *got, const char *want)
{
	CU_ASSERT_PTR_NOT_NULL(got);
	if (got != NULL && strcmp(got, want) != 0) {
		fprintf(stderr, "got '%s', want '%s'\n", got, want);
		CU_FAIL("text differs");
	}
}

static void
test_corpus_classes(void)
{
	static const struct {
		const char *file, *cls;
		bool meeting;
	} cases[] = {
		{"outlook-request.eml", "IPM.Schedule.Meeting.Request", true},
		{"outlook-cancel.eml", "IPM.Schedule.Meeting.Canceled", true},
		{"outlook-occurrence.eml", "IPM.Schedule.Meeting.Request",
		 true},
		{"google-request.eml", "IPM.Schedule.Meeting.Request", true},
		{"google-update.eml", "IPM.Schedule.Meeting.Request", true},
		{"thunderbird-request.eml", "IPM.Schedule.Meeting.Request",
		 true},
		{"apple-request.eml", "IPM.Schedule.Meeting.Request", true},
		{"hostile-no-uid.eml", "IPM.Note", false},
		{"hostile-not-ical.eml", "IPM.Note", false},
		{"hostile-broken-base64.eml", "IPM.Note", false},
		{"hostile-huge-rrule.eml", "IPM.Schedule.Meeting.Request",
		 true},
		{"hostile-unknown-tz.eml", "IPM.Schedule.Meeting.Request",
		 true},
	};

	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct store_item it = deliver(cases[i].file);
		struct wbxml_node *app = to_eas(&it, 141);
		size_t len;

		fprintf(stderr, "%s\n", cases[i].file);
		assert_text(wbxml_child_text(app, EAS_EMAIL_MESSAGECLASS),
			    cases[i].cls);
		CU_ASSERT_EQUAL(mail_calendar_text(A, &it, &len) != NULL,
				cases[i].meeting);
		CU_ASSERT_EQUAL(wbxml_child(app, EAS_EMAIL_MEETINGREQUEST) !=
					NULL,
				cases[i].meeting);
		/* the invitation stays an attachment the user can open */
		if (cases[i].meeting)
			CU_ASSERT_PTR_NOT_NULL(
				wbxml_child(app, EAS_AIRSYNCBASE_ATTACHMENTS));
	}
}

static void
test_outlook_request_fields(void)
{
	struct store_item it = deliver("outlook-request.eml");
	struct wbxml_node *app = to_eas(&it, 141);
	const struct wbxml_node *mr =
		wbxml_child(app, EAS_EMAIL_MEETINGREQUEST);
	const struct wbxml_node *rec;
	const char *goid;
	uint8_t raw[256];
	long n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mr);
	/* 10:00 W. Europe Standard Time in December is 09:00 UTC */
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-08T09:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL_ENDTIME),
		    "2026-12-08T10:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL_DTSTAMP),
		    "2026-12-01T09:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL_ALLDAYEVENT), "0");
	assert_text(mr_text(app, EAS_EMAIL_INSTANCETYPE), "1");
	assert_text(mr_text(app, EAS_EMAIL_LOCATION), "Room 4.12");
	assert_text(mr_text(app, EAS_EMAIL_ORGANIZER),
		    "\"Olivia Partner\" <olivia@partner.example>");
	/* seconds in the Email namespace */
	assert_text(mr_text(app, EAS_EMAIL_REMINDER), "900");
	assert_text(mr_text(app, EAS_EMAIL_RESPONSEREQUESTED), "1");
	/* what the organizer intends, not the tentative it shows as */
	assert_text(mr_text(app, EAS_EMAIL_BUSYSTATUS), "2");
	assert_text(mr_text(app, EAS_EMAIL_SENSITIVITY), "0");
	assert_text(mr_text(app, EAS_EMAIL_DISALLOWNEWTIMEPROPOSAL), "0");
	assert_text(mr_text(app, EAS_EMAIL2_MEETINGMESSAGETYPE), "1");
	CU_ASSERT_PTR_NOT_NULL(mr_text(app, EAS_EMAIL_TIMEZONE));
	rec = wbxml_child(wbxml_child(mr, EAS_EMAIL_RECURRENCES),
			  EAS_EMAIL_RECURRENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rec);
	assert_text(wbxml_child_text(rec, EAS_EMAIL_TYPE), "1");
	assert_text(wbxml_child_text(rec, EAS_EMAIL_OCCURRENCES), "10");
	assert_text(wbxml_child_text(rec, EAS_EMAIL_DAYOFWEEK), "4");
	/* an Outlook UID is the global object id itself */
	goid = mr_text(app, EAS_EMAIL_GLOBALOBJID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(goid);
	n = base64_decode(goid, strlen(goid), raw);
	CU_ASSERT_EQUAL(n, 56);
	CU_ASSERT(n >= 4 && raw[0] == 0x04 && raw[1] == 0x00 && raw[4] == 0x82);
	CU_ASSERT_PTR_NULL(mr_text(app, EAS_CALENDAR_UID));
	/* 16.1: calendar:UID instead, the location a container */
	app = to_eas(&it, 161);
	CU_ASSERT_PTR_NULL(mr_text(app, EAS_EMAIL_GLOBALOBJID));
	CU_ASSERT_PTR_NOT_NULL(mr_text(app, EAS_CALENDAR_UID));
	CU_ASSERT_PTR_NULL(mr_text(app, EAS_EMAIL_LOCATION));
	CU_ASSERT_PTR_NOT_NULL(
		wbxml_child(wbxml_child(app, EAS_EMAIL_MEETINGREQUEST),
			    EAS_AIRSYNCBASE_LOCATION));
}

static void
test_other_senders(void)
{
	struct store_item it = deliver("google-request.eml");
	struct wbxml_node *app = to_eas(&it, 141);
	const char *goid;
	uint8_t raw[512];
	long n;

	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-10T15:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL_INSTANCETYPE), "0");
	assert_text(mr_text(app, EAS_EMAIL_REMINDER), "600");
	/* a UID from elsewhere is wrapped as a vCal-Uid */
	goid = mr_text(app, EAS_EMAIL_GLOBALOBJID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(goid);
	n = base64_decode(goid, strlen(goid), raw);
	CU_ASSERT(n > 52 && memcmp(raw + 40, "vCal-Uid", 8) == 0 &&
		  strcmp((const char *)raw + 52,
			 "5k2j9v1q8c7m4t3r2e1w0p9o8i@google.com") == 0);

	it = deliver("google-update.eml");
	app = to_eas(&it, 141);
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-11T09:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL2_MEETINGMESSAGETYPE), "2");

	it = deliver("thunderbird-request.eml");
	app = to_eas(&it, 141);
	/* 14:00 Europe/Berlin */
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-15T13:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL_LOCATION), "Big room");

	it = deliver("apple-request.eml");
	app = to_eas(&it, 161);
	assert_text(mr_text(app, EAS_EMAIL_ALLDAYEVENT), "1");
	/* transparent: the organizer means free */
	assert_text(mr_text(app, EAS_EMAIL_BUSYSTATUS), "0");

	it = deliver("outlook-occurrence.eml");
	app = to_eas(&it, 141);
	assert_text(mr_text(app, EAS_EMAIL_INSTANCETYPE), "3");
	assert_text(mr_text(app, EAS_EMAIL_RECURRENCEID),
		    "2026-12-22T09:00:00.000Z");
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-23T13:00:00.000Z");

	it = deliver("outlook-cancel.eml");
	app = to_eas(&it, 141);
	assert_text(mr_text(app, EAS_EMAIL2_MEETINGMESSAGETYPE), "0");
}

/* Thousands of attendees, a series of two billion seconds, an unknown
 * zone: read in bounded time, shown with what could be read. */
static void
test_hostile(void)
{
	struct buf b;
	struct store_item it;
	struct wbxml_node *app;
	const char *error = NULL;

	buf_init(&b, 0);
	buf_puts(&b, "From: m@evil.example\r\nTo: ada@example.org\r\n"
		     "Subject: Crowd\r\nMIME-Version: 1.0\r\n"
		     "Content-Type: text/calendar; method=REQUEST\r\n\r\n"
		     "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
		     "BEGIN:VEVENT\r\nUID:crowd@evil.example\r\n"
		     "DTSTAMP:20261201T000000Z\r\n"
		     "DTSTART:20261220T090000Z\r\nDTEND:20261220T100000Z\r\n"
		     "ORGANIZER:mailto:m@evil.example\r\n");
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "ATTENDEE;RSVP=TRUE:mailto:a%d@example.org\r\n",
			   i);
	buf_puts(&b, "END:VEVENT\r\nEND:VCALENDAR\r\n");
	memset(&it, 0, sizeof(it));
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(A, (const char *)b.data,
						  b.len, &it, &error),
			      0);
	buf_deinit(&b);
	app = to_eas(&it, 161);
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-20T09:00:00.000Z");

	it = deliver("hostile-huge-rrule.eml");
	app = to_eas(&it, 141);
	CU_ASSERT_PTR_NOT_NULL(mr_text(app, EAS_EMAIL_STARTTIME));
	it = deliver("hostile-unknown-tz.eml");
	app = to_eas(&it, 141);
	/* an unknown zone is read as UTC */
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-20T09:00:00.000Z");
}

static icalcomponent *
parse(const char *text)
{
	const char *error;

	return conv_ical_parse(A, text, strlen(text), &error);
}

static void
test_build_reply(void)
{
	struct store_item it = deliver("outlook-request.eml");
	struct itip inv, rep;
	const char *ics, *error;
	size_t len;
	struct itip_reply r = {.attendee = "ada@example.org",
			       .attendee_name = "Ada",
			       .answer = ITIP_ACCEPTED,
			       .comment = "See you there"};
	icalproperty *att;

	ics = mail_calendar_text(A, &it, &len);
	CU_ASSERT_EQUAL_FATAL(itip_parse(A, ics, len, &inv, &error), 0);
	ics = itip_build_reply(A, inv.cal, inv.ev, &r, &len);
	CU_ASSERT_EQUAL_FATAL(itip_parse(A, ics, len, &rep, &error), 0);
	CU_ASSERT_EQUAL(rep.method, ITIP_REPLY);
	CU_ASSERT_STRING_EQUAL(rep.uid, inv.uid);
	CU_ASSERT_EQUAL(rep.sequence, inv.sequence);
	CU_ASSERT_STRING_EQUAL(rep.organizer, "olivia@partner.example");
	/* only the one who answers, with the answer */
	att = icalcomponent_get_first_property(rep.ev, ICAL_ATTENDEE_PROPERTY);
	CU_ASSERT_PTR_NOT_NULL_FATAL(att);
	CU_ASSERT_EQUAL(itip_answer_of(att), ITIP_ACCEPTED);
	CU_ASSERT_PTR_NULL(icalcomponent_get_next_property(
		rep.ev, ICAL_ATTENDEE_PROPERTY));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "COMMENT:See you there"));
	CU_ASSERT_PTR_NULL(strstr(ics, "RSVP"));

	/* one occurrence, with another time proposed */
	r.answer = ITIP_TENTATIVE;
	r.has_rid = true;
	r.rid = 1797325200; /* 2026-12-15T09:00:00Z */
	r.propose = true;
	r.proposed_start = 1797328800;
	r.proposed_end = 1797332400;
	ics = itip_build_reply(A, inv.cal, inv.ev, &r, &len);
	CU_ASSERT_EQUAL_FATAL(itip_parse(A, ics, len, &rep, &error), 0);
	CU_ASSERT_EQUAL(rep.method, ITIP_COUNTER);
	CU_ASSERT(rep.has_rid && rep.rid == 1797325200);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "DTSTART:20261215T100000Z"));
}

static void
test_build_organizer(void)
{
	static const char stored[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//easd//EN\r\n"
		"BEGIN:VEVENT\r\nUID:m1@example.org\r\nSEQUENCE:2\r\n"
		"DTSTAMP:20261101T000000Z\r\n"
		"DTSTART:20261220T090000Z\r\nDTEND:20261220T100000Z\r\n"
		"SUMMARY:Plan\r\n"
		"ATTENDEE;X-EAS-STATUS=5;X-EAS-HASH=00000000:mailto:bob@"
		"example.org\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:carl@partner.example\r\n"
		"X-EAS-MEETINGSTATUS:1\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	const char *only[] = {"carl@partner.example"};
	const char *ics, *error = NULL;
	struct itip it;
	size_t len;
	icalproperty *p;

	ics = itip_build_organizer(A, stored, strlen(stored), ITIP_REQUEST,
				   "ada@example.org", "Ada", NULL, 0, &len,
				   &error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ics);
	CU_ASSERT_EQUAL_FATAL(itip_parse(A, ics, len, &it, &error), 0);
	CU_ASSERT_EQUAL(it.method, ITIP_REQUEST);
	CU_ASSERT_EQUAL(it.sequence, 2);
	CU_ASSERT_STRING_EQUAL(it.organizer, "ada@example.org");
	CU_ASSERT_PTR_NULL(strstr(ics, "X-EAS-"));
	p = itip_attendee(A, it.ev, "bob@example.org");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "RSVP=TRUE"));
	CU_ASSERT_EQUAL(
		itip_answer_of(itip_attendee(A, it.ev, "carl@partner.example")),
		ITIP_ACCEPTED);
	/* a CANCEL for the one removed */
	ics = itip_build_organizer(A, stored, strlen(stored), ITIP_CANCEL,
				   "ada@example.org", "Ada", only, 1, &len,
				   &error);
	CU_ASSERT_EQUAL_FATAL(itip_parse(A, ics, len, &it, &error), 0);
	CU_ASSERT_EQUAL(it.method, ITIP_CANCEL);
	CU_ASSERT_PTR_NULL(itip_attendee(A, it.ev, "bob@example.org"));
	CU_ASSERT_PTR_NOT_NULL(itip_attendee(A, it.ev, "carl@partner.example"));
	CU_ASSERT_EQUAL(icalcomponent_get_status(it.ev), ICAL_STATUS_CANCELLED);
	CU_ASSERT_PTR_NULL(itip_build_organizer(A, "garbage", 7, ITIP_REQUEST,
						"ada@example.org", "Ada", NULL,
						0, &len, &error));
}

static void
test_mail_build(void)
{
	static const char ics[] =
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
		"BEGIN:VEVENT\r\nUID:m2@example.org\r\n"
		"DTSTAMP:20261101T000000Z\r\n"
		"DTSTART;TZID=Europe/Berlin:20261220T090000\r\n"
		"DTEND;TZID=Europe/Berlin:20261220T100000\r\n"
		"SUMMARY:Plan\r\nLOCATION:Room 1\r\n"
		"ORGANIZER:mailto:ada@example.org\r\n"
		"ATTENDEE;RSVP=TRUE:mailto:bob@example.org\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n";
	const char *to[] = {"bob@example.org"}, *names[] = {"Bob"};
	struct itip_mail m = {.from = "Ada <ada@example.org>",
			      .to = to,
			      .to_names = names,
			      .nto = 1,
			      .subject = "Plan",
			      .ics = ics,
			      .ics_len = strlen(ics),
			      .method = ITIP_REQUEST};
	struct store_item it;
	const char *mime, *back, *error = NULL;
	size_t len, blen;
	struct wbxml_node *app;

	mime = itip_mail_build(A, &m, &len);
	CU_ASSERT_PTR_NOT_NULL(strstr(mime, "method=REQUEST"));
	CU_ASSERT_PTR_NOT_NULL(strstr(mime, "When: 2026-12-20 09:00"));
	CU_ASSERT_PTR_NOT_NULL(strstr(mime, "Where: Room 1"));
	memset(&it, 0, sizeof(it));
	CU_ASSERT_EQUAL_FATAL(mail_item_from_mime(A, mime, len, &it, &error),
			      0);
	back = mail_calendar_text(A, &it, &blen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_PTR_NOT_NULL(strstr(back, "UID:m2@example.org"));
	app = to_eas(&it, 161);
	assert_text(wbxml_child_text(app, EAS_EMAIL_MESSAGECLASS),
		    "IPM.Schedule.Meeting.Request");
	assert_text(mr_text(app, EAS_EMAIL_STARTTIME),
		    "2026-12-20T08:00:00.000Z");
	(void)parse;
}

static CU_TestInfo itip_tests[] = {
	{"the corpus: classes and invitations kept", test_corpus_classes},
	{"Outlook: every MeetingRequest field", test_outlook_request_fields},
	{"Google, Thunderbird, Apple, occurrence, cancel", test_other_senders},
	{"hostile invitations in bounded time", test_hostile},
	{"REPLY and COUNTER", test_build_reply},
	{"the organizer's REQUEST and CANCEL", test_build_organizer},
	{"the mail carrying an invitation", test_mail_build},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"itip", suite_init, suite_clean, NULL, NULL, itip_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
