/* End-to-end tests of meetings against a real easd with two accounts and
 * a real SMTP relay on loopback: invitations from the corpus of
 * tests/data/itip delivered over LMTP and shown with MeetingRequest and
 * in the calendar, MeetingResponse accept/tentative/decline at 14.1 and
 * 16.1 (the REPLY received by the organizer), an updated invitation, one
 * occurrence moved, a cancellation, a 16.1 organizer whose meeting the
 * server sends (request, update, cancel), a 14.1 organizer who sends it
 * with SendMail, free/busy, and the bad input: hostile iCalendar,
 * strangers' replies and cancellations, requests MeetingResponse refuses.
 * Waits are for events, bounded only so that a broken build cannot hang. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "mail.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

#define WAIT_STEPS 3000 /* of 10 ms */

static struct relay_proc *relay;
static struct easd_proc *srv;

static int
suite_init(void)
{
	static char url[64];
	const char *args[] = {"--smtp-relay", url, "--smtp-insecure", NULL};

	relay = relay_start(0, NULL);
	if (relay == NULL)
		return 0; /* the tests skip */
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", relay->port);
	srv = easd_start(args);
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	int rc = srv != NULL && easd_stop(&srv) != 0 ? -1 : 0;

	relay_stop(&relay, false);
	return rc;
}

#define NEED_RELAY()                                                           \
	do {                                                                   \
		if (relay == NULL || srv == NULL) {                            \
			fprintf(stderr, "no SMTP relay: skipped\n");           \
			return;                                                \
		}                                                              \
	} while (0)

static int
wait_relay(int n)
{
	for (int i = 0; i < WAIT_STEPS && relay_count(relay) < n; i++)
		usleep(10 * 1000);
	return relay_count(relay);
}

/* The decoded iCalendar of relayed message n (1-based), in a; "" when it
 * has none. */
static const char *
relay_ics(struct arena *a, int n)
{
	char *m = relay_message(relay, n);
	struct store_item it;
	const char *error, *ics = NULL;
	size_t len;

	memset(&it, 0, sizeof(it));
	if (m != NULL && mail_item_from_mime(a, m, strlen(m), &it, &error) == 0)
		ics = mail_calendar_text(a, &it, &len);
	if (m != NULL && ics == NULL)
		fprintf(stderr, "relayed message %d has no iCalendar:\n%s\n", n,
			m);
	free(m);
	return ics != NULL ? ics : "";
}

static bool
relay_header(int n, const char *needle)
{
	char *m = relay_message(relay, n);
	bool r = m != NULL && strstr(m, needle) != NULL;

	free(m);
	return r;
}

static char *
read_itip(const char *name)
{
	const char *dir = getenv("EASD_SRCDIR");
	char path[512];
	struct buf b;
	const char *error;
	char *r;

	snprintf(path, sizeof(path), "%s/tests/data/itip/%s",
		 dir != NULL ? dir : ".", name);
	buf_init(&b, 0);
	if (buf_read_path(&b, path, &error) < 0) {
		fprintf(stderr, "%s: %s\n", path, error);
		buf_deinit(&b);
		return NULL;
	}
	r = xstrdup((const char *)b.data);
	buf_deinit(&b);
	return r;
}

static int
deliver_itip(const char *rcpt, const char *name)
{
	char *m = read_itip(name);
	int r = m != NULL ? harness_lmtp_deliver(srv, rcpt, m) : -1;

	free(m);
	return r;
}

static struct eas_client *
client(const char *user, const char *device, const char *version)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, user, device);
	int st = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	eas_client_set_version(c, version);
	CU_ASSERT_FATAL(eas_client_provision(c, a, NULL) == 0);
	CU_ASSERT_FATAL(eas_client_foldersync(c, a, &st) == 0);
	arena_free(&a);
	return c;
}

static const char *
folder_id(struct eas_client *c, int type)
{
	return eas_client_folder_by_type(c, type)->server_id;
}

/* What a folder's Sync brings, all of it. */
static struct eas_sync_result
sync_type(struct eas_client *c, struct arena *a, int type)
{
	struct eas_sync_opts o;
	struct eas_sync_result r;

	eas_sync_opts_init(&o);
	o.filter_type = 0;
	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(eas_client_sync(c, a, folder_id(c, type), &o, &r), 0);
	return r;
}

/* The last Add or Change of the result whose subject tag is subject. */
static const struct eas_item *
find(const struct eas_sync_result *r, uint16_t tag, const char *subject)
{
	const struct eas_item *found = NULL;

	for (size_t i = 0; i < r->count; i++) {
		const char *s =
			r->items[i].appdata != NULL
				? wbxml_child_text(r->items[i].appdata, tag)
				: NULL;

		if (s != NULL && strcmp(s, subject) == 0)
			found = &r->items[i];
	}
	return found;
}

static bool
deleted(const struct eas_sync_result *r, const char *server_id)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->items[i].kind == EAS_ITEM_DELETE &&
		    strcmp(r->items[i].server_id, server_id) == 0)
			return true;
	return false;
}

/* The text at a path of tags below n ("" when missing). */
static const char *
at(const struct wbxml_node *n, int depth, ...)
{
	va_list ap;

	va_start(ap, depth);
	for (int i = 0; i < depth && n != NULL; i++)
		n = wbxml_child(n, (uint16_t)va_arg(ap, int));
	va_end(ap);
	return n != NULL ? wbxml_text(n) : "";
}

static const struct wbxml_node *
post_xml(struct eas_client *c, struct arena *a, const char *cmd,
	 const char *xml, long *http_r)
{
	struct wbxml_node *req;
	struct eas_response r;
	const char *err;

	*http_r = 0;
	if (wbxml_from_xml(a, xml, strlen(xml), &req, &err) < 0) {
		fprintf(stderr, "bad test XML: %s\n%s\n", err, xml);
		return NULL;
	}
	if (eas_client_post(c, a, cmd, req, NULL, &r) < 0)
		return NULL;
	*http_r = r.http_status;
	return r.tree;
}

struct answer {
	int response; /* UserResponse */
	const char *instance;
	bool send;
	const char *note;
	const char *proposed_start, *proposed_end;
};

/* MeetingResponse for one request; the Result's Status (-1 when none),
 * its CalendarId in *cal_id_r. */
static int
respond(struct eas_client *c, struct arena *a, const char *collection,
	const char *request, const struct answer *an, const char **cal_id_r)
{
	char xml[4096];
	const struct wbxml_node *r;
	const char *st;
	long http;
	size_t k;

	k = (size_t)snprintf(
		xml, sizeof(xml),
		"<MeetingResponse xmlns=\"MeetingResponse:\""
		" xmlns:airsyncbase=\"AirSyncBase:\"><Request>"
		"<UserResponse>%d</UserResponse><CollectionId>%s</CollectionId>"
		"<RequestId>%s</RequestId>",
		an->response, collection, request);
	if (an->instance != NULL)
		k += (size_t)snprintf(xml + k, sizeof(xml) - k,
				      "<InstanceId>%s</InstanceId>",
				      an->instance);
	if (an->send) {
		k += (size_t)snprintf(xml + k, sizeof(xml) - k,
				      "<SendResponse>");
		if (an->note != NULL)
			k += (size_t)snprintf(
				xml + k, sizeof(xml) - k,
				"<airsyncbase:Body><airsyncbase:Type>1"
				"</airsyncbase:Type><airsyncbase:Data>%s"
				"</airsyncbase:Data></airsyncbase:Body>",
				an->note);
		if (an->proposed_start != NULL)
			k += (size_t)snprintf(
				xml + k, sizeof(xml) - k,
				"<ProposedStartTime>%s</ProposedStartTime>"
				"<ProposedEndTime>%s</ProposedEndTime>",
				an->proposed_start, an->proposed_end);
		k += (size_t)snprintf(xml + k, sizeof(xml) - k,
				      "</SendResponse>");
	}
	snprintf(xml + k, sizeof(xml) - k, "</Request></MeetingResponse>");
	r = post_xml(c, a, "MeetingResponse", xml, &http);
	CU_ASSERT_EQUAL(http, 200);
	if (cal_id_r != NULL)
		*cal_id_r = r != NULL ? at(r, 2, EAS_MEETINGRESPONSE_RESULT,
					   EAS_MEETINGRESPONSE_CALENDARID)
				      : "";
	st = r != NULL ? at(r, 2, EAS_MEETINGRESPONSE_RESULT,
			    EAS_MEETINGRESPONSE_STATUS)
		       : "";
	return *st != '\0' ? atoi(st) : -1;
}

static const char *
cal_text(const struct eas_item *it, uint16_t tag)
{
	return it != NULL && it->appdata != NULL
		       ? wbxml_child_text(it->appdata, tag)
		       : NULL;
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

/* The AttendeeStatus the calendar item shows for addr, or NULL. */
static const char *
attendee_status(const struct eas_item *it, const char *addr)
{
	const struct wbxml_node *list =
		it != NULL && it->appdata != NULL
			? wbxml_child(it->appdata, EAS_CALENDAR_ATTENDEES)
			: NULL;
	const struct wbxml_node *n;

	if (list == NULL)
		return NULL;
	wbxml_foreach(list, n)
	{
		const char *e = wbxml_child_text(n, EAS_CALENDAR_EMAIL);

		if (e != NULL && str_ieq(e, addr))
			return wbxml_child_text(n, EAS_CALENDAR_ATTENDEESTATUS);
	}
	return NULL;
}

/* --- invitations from outside --- */

static void
test_invitations(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c14 = client(HARNESS_ADA, "MTG14", "14.1");
	struct eas_client *c16 = client(HARNESS_ADA, "MTG16", "16.1");
	struct eas_sync_result inbox, cal;
	const struct eas_item *msg, *ev;
	const char *cal_id, *ics;
	int at_relay;

	NEED_RELAY();
	sync_type(c14, a, EAS_FOLDER_CALENDAR);
	sync_type(c16, a, EAS_FOLDER_CALENDAR);
	sync_type(c16, a, EAS_FOLDER_INBOX);
	at_relay = relay_count(relay);

	/* Outlook: the request in the Inbox, the meeting in the calendar
	 * as tentative and not answered */
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "outlook-request.eml"), 250);
	inbox = sync_type(c14, a, EAS_FOLDER_INBOX);
	msg = find(&inbox, EAS_EMAIL_SUBJECT, "Project review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	assert_text(cal_text(msg, EAS_EMAIL_MESSAGECLASS),
		    "IPM.Schedule.Meeting.Request");
	assert_text(at(msg->appdata, 2, EAS_EMAIL_MEETINGREQUEST,
		       EAS_EMAIL_STARTTIME),
		    "2026-12-08T09:00:00.000Z");
	cal = sync_type(c14, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Project review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(cal_text(ev, EAS_CALENDAR_MEETINGSTATUS), "3");
	assert_text(cal_text(ev, EAS_CALENDAR_RESPONSETYPE), "5");
	assert_text(cal_text(ev, EAS_CALENDAR_BUSYSTATUS), "1");
	assert_text(cal_text(ev, EAS_CALENDAR_ORGANIZEREMAIL),
		    "olivia@partner.example");

	/* accepted at 14.1: busy, answered, the CalendarId; the device
	 * mails the organizer itself (SendMail), the server sends nothing */
	CU_ASSERT_EQUAL(respond(c14, a, folder_id(c14, EAS_FOLDER_INBOX),
				msg->server_id, &(struct answer){.response = 1},
				&cal_id),
			1);
	CU_ASSERT_STRING_EQUAL(cal_id, ev->server_id);
	cal = sync_type(c14, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Project review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(cal_text(ev, EAS_CALENDAR_BUSYSTATUS), "2");
	assert_text(cal_text(ev, EAS_CALENDAR_RESPONSETYPE), "3");
	assert_text(attendee_status(ev, HARNESS_ADA_EMAIL), "3");
	CU_ASSERT_EQUAL(relay_count(relay), at_relay);
	/* the other device sees the answer too */
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	assert_text(cal_text(find(&cal, EAS_CALENDAR_SUBJECT, "Project review"),
			     EAS_CALENDAR_RESPONSETYPE),
		    "3");

	/* Thunderbird, tentative at 16.1 with a note: the server sends the
	 * REPLY to the organizer */
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "thunderbird-request.eml"),
		250);
	inbox = sync_type(c16, a, EAS_FOLDER_INBOX);
	msg = find(&inbox, EAS_EMAIL_SUBJECT, "Invitation: Release planning");
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	CU_ASSERT_EQUAL(respond(c16, a, folder_id(c16, EAS_FOLDER_INBOX),
				msg->server_id,
				&(struct answer){.response = 2,
						 .send = true,
						 .note = "Running late"},
				&cal_id),
			1);
	CU_ASSERT(*cal_id != '\0');
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	CU_ASSERT(relay_header(at_relay, "X-Relay-To: theo@mozilla.example"));
	CU_ASSERT(
		relay_header(at_relay, "Subject: Tentative: Release planning"));
	ics = relay_ics(a, at_relay);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "METHOD:REPLY"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "PARTSTAT=TENTATIVE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "UID:7f3c2a10-1d2e-4b5a-9c8d-"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "COMMENT:Running late"));
	CU_ASSERT_PTR_NULL(strstr(ics, "X-EAS-"));
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Release planning");
	assert_text(cal_text(ev, EAS_CALENDAR_RESPONSETYPE), "2");
	assert_text(cal_text(ev, EAS_CALENDAR_BUSYSTATUS), "1");

	/* Google, then its update: the same calendar item moves */
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "google-request.eml"), 250);
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Quarterly coffee");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(cal_text(ev, EAS_CALENDAR_STARTTIME), "20261210T150000Z");
	cal_id = arena_strdup(a, ev->server_id);
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "google-update.eml"), 250);
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Quarterly coffee");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_EQUAL(ev->kind, EAS_ITEM_CHANGE);
	CU_ASSERT_STRING_EQUAL(ev->server_id, cal_id);
	assert_text(cal_text(ev, EAS_CALENDAR_STARTTIME), "20261211T090000Z");
	/* the older invitation again changes nothing */
	CU_ASSERT_EQUAL(deliver_itip(HARNESS_ADA_EMAIL, "google-request.eml"),
			250);
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_PTR_NULL(
		find(&cal, EAS_CALENDAR_SUBJECT, "Quarterly coffee"));

	/* declined from the calendar item at 16.1: removed, REPLY sent */
	CU_ASSERT_EQUAL(
		respond(c16, a, folder_id(c16, EAS_FOLDER_CALENDAR), cal_id,
			&(struct answer){.response = 3, .send = true}, NULL),
		1);
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	CU_ASSERT(relay_header(at_relay, "X-Relay-To: gina@gmail.example"));
	ics = relay_ics(a, at_relay);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "PARTSTAT=DECLINED"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "SEQUENCE:1"));
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT(deleted(&cal, cal_id));

	/* Apple: an all-day event offered as free */
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "apple-request.eml"), 250);
	cal = sync_type(c16, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Team offsite");
	assert_text(cal_text(ev, EAS_CALENDAR_ALLDAYEVENT), "1");
	assert_text(cal_text(ev, EAS_CALENDAR_BUSYSTATUS), "0");
	eas_client_free(&c14);
	eas_client_free(&c16);
	arena_free(&a);
}

/* One occurrence moved by the organizer, then the series cancelled. */
static void
test_occurrence_and_cancel(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_ADA, "MTGOCC", "14.1");
	struct eas_sync_result cal, inbox;
	const struct eas_item *ev;
	const struct wbxml_node *ex;

	NEED_RELAY();
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "outlook-request.eml"), 250);
	sync_type(c, a, EAS_FOLDER_CALENDAR);
	sync_type(c, a, EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "outlook-occurrence.eml"), 250);
	cal = sync_type(c, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Project review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	/* still one series, with the moved occurrence as its exception */
	CU_ASSERT_EQUAL(cal.count, 1);
	CU_ASSERT_PTR_NOT_NULL(
		wbxml_child(ev->appdata, EAS_CALENDAR_RECURRENCE));
	ex = wbxml_child(wbxml_child(ev->appdata, EAS_CALENDAR_EXCEPTIONS),
			 EAS_CALENDAR_EXCEPTION);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	assert_text(wbxml_child_text(ex, EAS_CALENDAR_EXCEPTIONSTARTTIME),
		    "20261222T090000Z");
	assert_text(wbxml_child_text(ex, EAS_CALENDAR_STARTTIME),
		    "20261223T130000Z");

	/* 16.1 declines the occurrence of 29 December from the calendar,
	 * and refuses one the series does not have */
	{
		struct eas_client *c16 =
			client(HARNESS_ADA, "MTGOCC16", "16.1");
		struct eas_sync_result c16cal =
			sync_type(c16, a, EAS_FOLDER_CALENDAR);
		const struct eas_item *series =
			find(&c16cal, EAS_CALENDAR_SUBJECT, "Project review");
		int at_relay = relay_count(relay);
		bool found = false;

		CU_ASSERT_PTR_NOT_NULL_FATAL(series);
		CU_ASSERT_EQUAL(
			respond(c16, a, folder_id(c16, EAS_FOLDER_CALENDAR),
				series->server_id,
				&(struct answer){
					.response = 3,
					.instance = "2026-12-29T09:00:00.000Z",
					.send = true},
				NULL),
			1);
		/* the organizer hears of that one occurrence */
		CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
		CU_ASSERT(relay_header(at_relay + 1,
				       "X-Relay-To: olivia@partner.example"));
		CU_ASSERT_PTR_NOT_NULL(
			strstr(relay_ics(a, at_relay + 1),
			       "RECURRENCE-ID:20261229T090000Z"));
		CU_ASSERT_EQUAL(
			respond(c16, a, folder_id(c16, EAS_FOLDER_CALENDAR),
				series->server_id,
				&(struct answer){
					.response = 1,
					.instance = "2026-12-30T09:00:00.000Z"},
				NULL),
			2);
		cal = sync_type(c, a, EAS_FOLDER_CALENDAR);
		ev = find(&cal, EAS_CALENDAR_SUBJECT, "Project review");
		CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
		wbxml_foreach(wbxml_child(ev->appdata, EAS_CALENDAR_EXCEPTIONS),
			      ex)
		{
			const char *t = wbxml_child_text(
				ex, EAS_CALENDAR_EXCEPTIONSTARTTIME);

			if (t != NULL && strcmp(t, "20261229T090000Z") == 0)
				found = strcmp(at(ex, 1, EAS_CALENDAR_DELETED),
					       "1") == 0;
		}
		CU_ASSERT(found);
		/* the series stands: its other occurrences are still on */
		assert_text(cal_text(ev, EAS_CALENDAR_MEETINGSTATUS), "3");
		eas_client_free(&c16);
	}

	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "outlook-cancel.eml"), 250);
	inbox = sync_type(c, a, EAS_FOLDER_INBOX);
	assert_text(cal_text(find(&inbox, EAS_EMAIL_SUBJECT,
				  "Canceled: Project review"),
			     EAS_EMAIL_MESSAGECLASS),
		    "IPM.Schedule.Meeting.Canceled");
	cal = sync_type(c, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Project review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(cal_text(ev, EAS_CALENDAR_MEETINGSTATUS), "7");
	assert_text(cal_text(ev, EAS_CALENDAR_BUSYSTATUS), "0");
	eas_client_free(&c);
	arena_free(&a);
}

/* --- the organizer is one of ours --- */

static struct wbxml_node *
meeting(struct arena *a, const char *subject, const char *start,
	const char *end, bool with_remote, const char *uid)
{
	char xml[2048];
	struct wbxml_node *app;
	const char *err;

	snprintf(
		xml, sizeof(xml),
		"<ApplicationData xmlns=\"AirSync:\" xmlns:cal=\"Calendar:\">"
		"<cal:DtStamp>20261201T120000Z</cal:DtStamp>"
		"<cal:StartTime>%s</cal:StartTime><cal:EndTime>%s</cal:EndTime>"
		"<cal:Subject>%s</cal:Subject><cal:BusyStatus>2</"
		"cal:BusyStatus>"
		"<cal:MeetingStatus>1</cal:MeetingStatus>"
		"<cal:Attendees><cal:Attendee><cal:Email>ada@example.org"
		"</cal:Email><cal:Name>Ada</cal:Name>"
		"<cal:AttendeeType>1</cal:AttendeeType></cal:Attendee>%s"
		"</cal:Attendees>%s</ApplicationData>",
		start, end, subject,
		with_remote ? "<cal:Attendee><cal:Email>carl@partner.example"
			      "</cal:Email><cal:Name>Carl</cal:Name>"
			      "<cal:AttendeeType>2</cal:AttendeeType>"
			      "</cal:Attendee>"
			    : "",
		uid != NULL
			? arena_printf(a, "<cal:UID>%s</cal:UID>", uid)
			: arena_printf(a, "<cal:ClientUid>%s</cal:ClientUid>",
				       subject));
	CU_ASSERT_FATAL(wbxml_from_xml(a, xml, strlen(xml), &app, &err) == 0);
	return app;
}

static void
test_organizer_16(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *bob = client(HARNESS_BOB, "MTGBOB16", "16.1");
	struct eas_client *ada = client(HARNESS_ADA, "MTGADA16", "16.1");
	struct eas_sync_result cal, inbox;
	const struct eas_item *ev, *msg;
	const char *sid, *ada_cal, *ics;
	int at_relay, st;

	NEED_RELAY();
	sync_type(bob, a, EAS_FOLDER_CALENDAR);
	sync_type(ada, a, EAS_FOLDER_CALENDAR);
	sync_type(ada, a, EAS_FOLDER_INBOX);
	at_relay = relay_count(relay);

	/* bob adds a meeting: the server invites ada at once, carl through
	 * the relay */
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(bob, a, folder_id(bob, EAS_FOLDER_CALENDAR),
			       meeting(a, "Design review", "20261214T100000Z",
				       "20261214T110000Z", true, NULL),
			       &sid, &st),
		0);
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	CU_ASSERT(relay_header(at_relay, "X-Relay-To: carl@partner.example"));
	CU_ASSERT(relay_header(at_relay, "X-Relay-From: bob@example.org"));
	ics = relay_ics(a, at_relay);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "METHOD:REQUEST"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "ORGANIZER"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "mailto:bob@example.org"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "DTSTART:20261214T100000Z"));
	CU_ASSERT_PTR_NULL(strstr(ics, "X-EAS-"));
	inbox = sync_type(ada, a, EAS_FOLDER_INBOX);
	msg = find(&inbox, EAS_EMAIL_SUBJECT, "Design review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	assert_text(cal_text(msg, EAS_EMAIL_MESSAGECLASS),
		    "IPM.Schedule.Meeting.Request");
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Design review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(cal_text(ev, EAS_CALENDAR_MEETINGSTATUS), "3");
	ada_cal = arena_strdup(a, ev->server_id);

	/* bob moves it: the update reaches both */
	CU_ASSERT_EQUAL_FATAL(
		eas_client_change(
			bob, a, folder_id(bob, EAS_FOLDER_CALENDAR), sid,
			meeting(a, "Design review", "20261214T120000Z",
				"20261214T130000Z", true, NULL),
			&st),
		0);
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	ics = relay_ics(a, at_relay);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "SEQUENCE:1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "DTSTART:20261214T120000Z"));
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Design review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_STRING_EQUAL(ev->server_id, ada_cal);
	assert_text(cal_text(ev, EAS_CALENDAR_STARTTIME), "20261214T120000Z");

	/* ada accepts at 16.1: bob's calendar shows it at once */
	CU_ASSERT_EQUAL(
		respond(ada, a, folder_id(ada, EAS_FOLDER_CALENDAR), ada_cal,
			&(struct answer){.response = 1, .send = true}, NULL),
		1);
	cal = sync_type(bob, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Design review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(attendee_status(ev, HARNESS_ADA_EMAIL), "3");
	/* the organizer answering his own meeting is refused */
	CU_ASSERT_EQUAL(respond(bob, a, folder_id(bob, EAS_FOLDER_CALENDAR),
				sid, &(struct answer){.response = 1}, NULL),
			2);

	/* bob deletes it: CANCEL to both */
	CU_ASSERT_EQUAL_FATAL(
		eas_client_delete(bob, a, folder_id(bob, EAS_FOLDER_CALENDAR),
				  sid, &st),
		0);
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	ics = relay_ics(a, at_relay);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "METHOD:CANCEL"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "STATUS:CANCELLED"));
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Design review");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	assert_text(cal_text(ev, EAS_CALENDAR_MEETINGSTATUS), "7");
	eas_client_free(&bob);
	eas_client_free(&ada);
	arena_free(&a);
}

/* A 16.1 organizer deletes one occurrence of a weekly meeting (Sync
 * Delete with InstanceId): the series stays, the attendees get the
 * update with that occurrence excluded, and the attendee's calendar
 * shows it deleted. */
static void
test_organizer_16_occurrence(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *bob = client(HARNESS_BOB, "MTGBOBOC", "16.1");
	struct eas_client *ada = client(HARNESS_ADA, "MTGADAOC", "16.1");
	struct eas_sync_result cal;
	const struct eas_item *ev;
	const struct wbxml_node *exc, *n;
	const char *sid, *ics, *err;
	struct wbxml_node *app;
	bool deleted = false;
	int at_relay, st;
	static const char xml[] =
		"<ApplicationData xmlns=\"AirSync:\" xmlns:cal=\"Calendar:\">"
		"<cal:DtStamp>20261201T120000Z</cal:DtStamp>"
		"<cal:StartTime>20270104T090000Z</cal:StartTime>"
		"<cal:EndTime>20270104T093000Z</cal:EndTime>"
		"<cal:Subject>Weekly sync</cal:Subject>"
		"<cal:BusyStatus>2</cal:BusyStatus>"
		"<cal:MeetingStatus>1</cal:MeetingStatus>"
		"<cal:Recurrence><cal:Type>1</cal:Type>"
		"<cal:Interval>1</cal:Interval><cal:Occurrences>4"
		"</cal:Occurrences><cal:DayOfWeek>2</cal:DayOfWeek>"
		"</cal:Recurrence>"
		"<cal:Attendees><cal:Attendee><cal:Email>ada@example.org"
		"</cal:Email><cal:Name>Ada</cal:Name>"
		"<cal:AttendeeType>1</cal:AttendeeType></cal:Attendee>"
		"<cal:Attendee><cal:Email>carl@partner.example</cal:Email>"
		"<cal:Name>Carl</cal:Name><cal:AttendeeType>1</"
		"cal:AttendeeType>"
		"</cal:Attendee></cal:Attendees>"
		"<cal:ClientUid>weekly-sync-1</cal:ClientUid></"
		"ApplicationData>";

	NEED_RELAY();
	sync_type(bob, a, EAS_FOLDER_CALENDAR);
	sync_type(ada, a, EAS_FOLDER_CALENDAR);
	at_relay = relay_count(relay);
	CU_ASSERT_FATAL(wbxml_from_xml(a, xml, strlen(xml), &app, &err) == 0);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(bob, a, folder_id(bob, EAS_FOLDER_CALENDAR), app,
			       &sid, &st),
		0);
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_PTR_NOT_NULL_FATAL(
		find(&cal, EAS_CALENDAR_SUBJECT, "Weekly sync"));

	/* bob deletes the second Monday only */
	CU_ASSERT_EQUAL_FATAL(
		eas_client_change_instance(bob, a,
					   folder_id(bob, EAS_FOLDER_CALENDAR),
					   sid, "20270111T090000Z", NULL, &st),
		0);
	CU_ASSERT_EQUAL_FATAL(wait_relay(at_relay + 1), at_relay + 1);
	at_relay++;
	ics = relay_ics(a, at_relay);
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "METHOD:REQUEST"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "RRULE:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "EXDATE"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "20270111T090000Z"));
	CU_ASSERT_PTR_NOT_NULL(strstr(ics, "SEQUENCE:1"));

	/* ada's phone: the same series, that occurrence deleted */
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Weekly sync");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	CU_ASSERT_PTR_NOT_NULL(
		wbxml_child(ev->appdata, EAS_CALENDAR_RECURRENCE));
	exc = wbxml_child(ev->appdata, EAS_CALENDAR_EXCEPTIONS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(exc);
	wbxml_foreach(exc, n)
	{
		/* 16.x names an exception by its InstanceId */
		const char *when =
			wbxml_child_text(n, EAS_AIRSYNCBASE_INSTANCEID);
		const char *del = wbxml_child_text(n, EAS_CALENDAR_DELETED);

		if (when != NULL && strcmp(when, "20270111T090000Z") == 0 &&
		    del != NULL && strcmp(del, "1") == 0)
			deleted = true;
	}
	CU_ASSERT(deleted);
	eas_client_free(&bob);
	eas_client_free(&ada);
	arena_free(&a);
}

/* Below 16.0 the device sends the invitation and the answer itself. */
static void
test_organizer_14(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *bob = client(HARNESS_BOB, "MTGBOB14", "14.1");
	struct eas_client *ada = client(HARNESS_ADA, "MTGADA14", "14.1");
	struct eas_sync_result cal, inbox;
	const struct eas_item *ev;
	const char *sid, *cal_id;
	char mime[2048];
	int at_relay, st;
	struct eas_send s = {.kind = EAS_SEND_NEW, .save_in_sent = true};

	NEED_RELAY();
	sync_type(bob, a, EAS_FOLDER_CALENDAR);
	sync_type(ada, a, EAS_FOLDER_CALENDAR);
	sync_type(ada, a, EAS_FOLDER_INBOX);
	at_relay = relay_count(relay);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(bob, a, folder_id(bob, EAS_FOLDER_CALENDAR),
			       meeting(a, "Budget talk", "20261216T100000Z",
				       "20261216T110000Z", true,
				       "budget-talk@example.org"),
			       &sid, &st),
		0);
	/* nothing from the server */
	inbox = sync_type(ada, a, EAS_FOLDER_INBOX);
	CU_ASSERT_PTR_NULL(find(&inbox, EAS_EMAIL_SUBJECT, "Budget talk"));
	CU_ASSERT_EQUAL(relay_count(relay), at_relay);

	/* the device's own invitation, as iOS sends it */
	snprintf(
		mime, sizeof(mime),
		"From: Bob <bob@example.org>\r\nTo: ada@example.org\r\n"
		"Subject: Budget talk\r\nMIME-Version: 1.0\r\n"
		"Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n"
		"\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
		"BEGIN:VEVENT\r\nUID:budget-talk@example.org\r\n"
		"DTSTAMP:20261201T120000Z\r\nSEQUENCE:0\r\n"
		"DTSTART:20261216T100000Z\r\nDTEND:20261216T110000Z\r\n"
		"SUMMARY:Budget talk\r\n"
		"ORGANIZER;CN=Bob:mailto:bob@example.org\r\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ada@example."
		"org"
		"\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
	s.mime = mime;
	s.mime_len = strlen(mime);
	CU_ASSERT_EQUAL(eas_client_send(bob, a, &s, &st), 0);
	CU_ASSERT_EQUAL(st, 0);
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Budget talk");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	cal_id = arena_strdup(a, ev->server_id);
	CU_ASSERT_EQUAL(respond(ada, a, folder_id(ada, EAS_FOLDER_CALENDAR),
				cal_id, &(struct answer){.response = 1}, NULL),
			1);
	/* ada's device mails the REPLY; bob's event of that UID shows it */
	snprintf(mime, sizeof(mime),
		 "From: Ada <ada@example.org>\r\nTo: bob@example.org\r\n"
		 "Subject: Accepted: Budget talk\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n"
		 "\r\nBEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\n"
		 "BEGIN:VEVENT\r\nUID:budget-talk@example.org\r\n"
		 "DTSTAMP:20261201T130000Z\r\nSEQUENCE:0\r\n"
		 "DTSTART:20261216T100000Z\r\nDTEND:20261216T110000Z\r\n"
		 "ORGANIZER:mailto:bob@example.org\r\n"
		 "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@example.org\r\n"
		 "END:VEVENT\r\nEND:VCALENDAR\r\n");
	s.mime = mime;
	s.mime_len = strlen(mime);
	CU_ASSERT_EQUAL(eas_client_send(ada, a, &s, &st), 0);
	inbox = sync_type(bob, a, EAS_FOLDER_INBOX);
	assert_text(cal_text(find(&inbox, EAS_EMAIL_SUBJECT,
				  "Accepted: Budget talk"),
			     EAS_EMAIL_MESSAGECLASS),
		    "IPM.Schedule.Meeting.Resp.Pos");
	cal = sync_type(bob, a, EAS_FOLDER_CALENDAR);
	assert_text(
		attendee_status(find(&cal, EAS_CALENDAR_SUBJECT, "Budget talk"),
				HARNESS_ADA_EMAIL),
		"3");
	CU_ASSERT_EQUAL(relay_count(relay), at_relay);
	eas_client_free(&bob);
	eas_client_free(&ada);
	arena_free(&a);
}

/* ada's MergedFreeBusy from 12:00 to 16:00 UTC on 15 December, as bob
 * asks for it. */
static const char *
ada_freebusy(struct eas_client *bob, struct arena *a)
{
	long http;
	const struct wbxml_node *r =
		post_xml(bob, a, "ResolveRecipients",
			 "<ResolveRecipients xmlns=\"ResolveRecipients:\">"
			 "<To>ada@example.org</To><Options><Availability>"
			 "<StartTime>2026-12-15T12:00:00.000Z</StartTime>"
			 "<EndTime>2026-12-15T16:00:00.000Z</EndTime>"
			 "</Availability></Options></ResolveRecipients>",
			 &http);

	return at(r, 4, EAS_RESOLVERECIPIENTS_RESPONSE,
		  EAS_RESOLVERECIPIENTS_RECIPIENT,
		  EAS_RESOLVERECIPIENTS_AVAILABILITY,
		  EAS_RESOLVERECIPIENTS_MERGEDFREEBUSY);
}

/* An accepted meeting is busy in free/busy; a tentative one tentative. */
static void
test_freebusy(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *bob = client(HARNESS_BOB, "MTGFB", "14.1");
	struct eas_client *ada = client(HARNESS_ADA, "MTGFBA", "14.1");
	struct eas_sync_result inbox;
	const struct eas_item *msg;

	NEED_RELAY();
	sync_type(ada, a, EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "thunderbird-request.eml"),
		250);
	inbox = sync_type(ada, a, EAS_FOLDER_INBOX);
	msg = find(&inbox, EAS_EMAIL_SUBJECT, "Invitation: Release planning");
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	/* 13:00-14:30 UTC on 15 December, tentative */
	assert_text(ada_freebusy(bob, a), "00111000");
	CU_ASSERT_EQUAL(respond(ada, a, folder_id(ada, EAS_FOLDER_INBOX),
				msg->server_id, &(struct answer){.response = 1},
				NULL),
			1);
	assert_text(ada_freebusy(bob, a), "00222000");
	eas_client_free(&bob);
	eas_client_free(&ada);
	arena_free(&a);
}

/* --- bad input --- */

static void
test_hostile_mail(void)
{
	static const char *const plain[] = {"hostile-no-uid.eml",
					    "hostile-not-ical.eml",
					    "hostile-broken-base64.eml"};
	static const char *const subjects[] = {"No UID", "Not iCalendar",
					       "Broken encoding"};
	struct arena *a = arena_new(0);
	struct eas_client *c = client(HARNESS_BOB, "MTGBAD", "16.1");
	struct eas_sync_result inbox, cal;
	struct buf b;

	NEED_RELAY();
	sync_type(c, a, EAS_FOLDER_INBOX);
	sync_type(c, a, EAS_FOLDER_CALENDAR);
	for (size_t i = 0; i < N_ELEMENTS(plain); i++)
		CU_ASSERT_EQUAL(deliver_itip(HARNESS_BOB_EMAIL, plain[i]), 250);
	inbox = sync_type(c, a, EAS_FOLDER_INBOX);
	for (size_t i = 0; i < N_ELEMENTS(subjects); i++) {
		const struct eas_item *m =
			find(&inbox, EAS_EMAIL_SUBJECT, subjects[i]);

		CU_ASSERT_PTR_NOT_NULL(m);
		assert_text(cal_text(m, EAS_EMAIL_MESSAGECLASS), "IPM.Note");
	}
	cal = sync_type(c, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_EQUAL(cal.count, 0);

	/* a series of two billion, an unknown zone, 5,000 attendees: kept
	 * as meetings with what could be read, and the server goes on */
	CU_ASSERT_EQUAL(
		deliver_itip(HARNESS_BOB_EMAIL, "hostile-huge-rrule.eml"), 250);
	CU_ASSERT_EQUAL(
		deliver_itip(HARNESS_BOB_EMAIL, "hostile-unknown-tz.eml"), 250);
	buf_init(&b, 0);
	buf_puts(&b, "From: m@evil.example\r\nTo: bob@example.org\r\n"
		     "Subject: Crowd\r\nMIME-Version: 1.0\r\n"
		     "Content-Type: text/calendar; method=REQUEST\r\n\r\n"
		     "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
		     "BEGIN:VEVENT\r\nUID:crowd@evil.example\r\n"
		     "DTSTAMP:20261201T000000Z\r\nSUMMARY:Crowd\r\n"
		     "DTSTART:20261220T090000Z\r\nDTEND:20261220T100000Z\r\n"
		     "ORGANIZER:mailto:m@evil.example\r\n");
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "ATTENDEE;RSVP=TRUE:mailto:a%d@example.org\r\n",
			   i);
	buf_puts(&b, "END:VEVENT\r\nEND:VCALENDAR\r\n");
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, HARNESS_BOB_EMAIL,
					     (const char *)b.data),
			250);
	buf_deinit(&b);
	cal = sync_type(c, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_PTR_NOT_NULL(
		find(&cal, EAS_CALENDAR_SUBJECT, "Every second"));
	CU_ASSERT_PTR_NOT_NULL(find(&cal, EAS_CALENDAR_SUBJECT, "Mars time"));
	CU_ASSERT_PTR_NOT_NULL(find(&cal, EAS_CALENDAR_SUBJECT, "Crowd"));
	eas_client_free(&c);
	arena_free(&a);
}

/* A CANCEL of the Apple meeting From m@evil.example naming organizer as
 * its ORGANIZER. */
static int
forged_cancel(const char *organizer)
{
	char mime[1024];

	snprintf(mime, sizeof(mime),
		 "From: m@evil.example\r\nTo: ada@example.org\r\n"
		 "Subject: Off\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: text/calendar; method=CANCEL\r\n\r\n"
		 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:CANCEL\r\n"
		 "BEGIN:VEVENT\r\nUID:3A1B4C5D-6E7F-4A8B-9C0D-1E2F3A4B5C6D\r\n"
		 "DTSTAMP:20261202T000000Z\r\nSEQUENCE:5\r\n"
		 "DTSTART;VALUE=DATE:20261218\r\nORGANIZER:mailto:%s\r\n"
		 "END:VEVENT\r\nEND:VCALENDAR\r\n",
		 organizer);
	return harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, mime);
}

/* Strangers: a CANCEL from someone who does not organize the meeting, a
 * REPLY from someone who is not invited. */
static void
test_strangers(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *ada = client(HARNESS_ADA, "MTGSTR", "16.1");
	struct eas_client *bob = client(HARNESS_BOB, "MTGSTRB", "16.1");
	struct eas_sync_result cal;
	const struct eas_item *ev;
	const char *sid, *uid;
	char mime[2048];
	int st;

	NEED_RELAY();
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "apple-request.eml"), 250);
	sync_type(ada, a, EAS_FOLDER_CALENDAR);
	/* a stranger cancels; a stranger cancels in the organizer's name */
	CU_ASSERT_EQUAL(forged_cancel("m@evil.example"), 250);
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_EQUAL(cal.count, 0);
	CU_ASSERT_EQUAL(forged_cancel("andrea@icloud.example"), 250);
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_EQUAL(cal.count, 0);

	/* bob organizes; mallory answers for a meeting he is not in */
	sync_type(bob, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(bob, a, folder_id(bob, EAS_FOLDER_CALENDAR),
			       meeting(a, "Retro", "20261217T100000Z",
				       "20261217T110000Z", false, NULL),
			       &sid, &st),
		0);
	cal = sync_type(ada, a, EAS_FOLDER_CALENDAR);
	ev = find(&cal, EAS_CALENDAR_SUBJECT, "Retro");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ev);
	uid = cal_text(ev, EAS_CALENDAR_UID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(uid);
	snprintf(mime, sizeof(mime),
		 "From: m@evil.example\r\nTo: bob@example.org\r\n"
		 "Subject: Accepted\r\nMIME-Version: 1.0\r\n"
		 "Content-Type: text/calendar; method=REPLY\r\n\r\n"
		 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REPLY\r\n"
		 "BEGIN:VEVENT\r\nUID:%s\r\nDTSTAMP:20261202T000000Z\r\n"
		 "ORGANIZER:mailto:bob@example.org\r\n"
		 "ATTENDEE;PARTSTAT=ACCEPTED:mailto:m@evil.example\r\n"
		 "END:VEVENT\r\nEND:VCALENDAR\r\n",
		 uid);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, HARNESS_BOB_EMAIL, mime),
			250);
	cal = sync_type(bob, a, EAS_FOLDER_CALENDAR);
	CU_ASSERT_PTR_NULL(find(&cal, EAS_CALENDAR_SUBJECT, "Retro"));
	eas_client_free(&ada);
	eas_client_free(&bob);
	arena_free(&a);
}

static void
test_refusals(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *ada = client(HARNESS_ADA, "MTGREF", "16.1");
	struct eas_client *bob = client(HARNESS_BOB, "MTGREFB", "16.1");
	struct eas_sync_result inbox;
	const struct eas_item *plain, *msg;
	const char *inbox_id;
	const struct wbxml_node *r;
	long http;

	NEED_RELAY();
	sync_type(ada, a, EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(
				srv, HARNESS_ADA_EMAIL,
				"From: bob@example.org\r\nTo: ada@example.org"
				"\r\nSubject: Just mail\r\n\r\nHello\r\n"),
			250);
	CU_ASSERT_EQUAL_FATAL(
		deliver_itip(HARNESS_ADA_EMAIL, "thunderbird-request.eml"),
		250);
	inbox = sync_type(ada, a, EAS_FOLDER_INBOX);
	plain = find(&inbox, EAS_EMAIL_SUBJECT, "Just mail");
	msg = find(&inbox, EAS_EMAIL_SUBJECT, "Invitation: Release planning");
	CU_ASSERT_PTR_NOT_NULL_FATAL(plain);
	CU_ASSERT_PTR_NOT_NULL_FATAL(msg);
	inbox_id = folder_id(ada, EAS_FOLDER_INBOX);
	/* a message that is not a meeting request */
	CU_ASSERT_EQUAL(respond(ada, a, inbox_id, plain->server_id,
				&(struct answer){.response = 1}, NULL),
			2);
	/* no such item; another account's item */
	CU_ASSERT_EQUAL(respond(ada, a, inbox_id, "99:99999",
				&(struct answer){.response = 1}, NULL),
			2);
	sync_type(bob, a, EAS_FOLDER_INBOX);
	CU_ASSERT_EQUAL(respond(bob, a, folder_id(bob, EAS_FOLDER_INBOX),
				msg->server_id, &(struct answer){.response = 1},
				NULL),
			2);
	/* an occurrence of a mail; an answer that is none */
	CU_ASSERT_EQUAL(respond(ada, a, inbox_id, msg->server_id,
				&(struct answer){
					.response = 1,
					.instance = "2026-12-15T13:00:00.000Z"},
				NULL),
			2);
	CU_ASSERT_EQUAL(respond(ada, a, inbox_id, msg->server_id,
				&(struct answer){.response = 7}, NULL),
			2);
	/* not a MeetingResponse at all */
	r = post_xml(ada, a, "MeetingResponse",
		     "<Ping xmlns=\"Ping:\"><HeartbeatInterval>60"
		     "</HeartbeatInterval></Ping>",
		     &http);
	CU_ASSERT_EQUAL(http, 400);
	(void)r;
	eas_client_free(&ada);
	eas_client_free(&bob);
	arena_free(&a);
}

static CU_TestInfo meeting_tests[] = {
	{"invitations: Outlook, Thunderbird, Google, Apple", test_invitations},
	{"one occurrence moved, the series cancelled",
	 test_occurrence_and_cancel},
	{"16.1 organizer: the server sends request, update, cancel",
	 test_organizer_16},
	{"16.1 organizer deletes one occurrence: an update, not a cancel of "
	 "all",
	 test_organizer_16_occurrence},
	{"14.1 organizer: the devices send them", test_organizer_14},
	{"free/busy: tentative, then accepted", test_freebusy},
	{"hostile iCalendar is plain mail or bounded", test_hostile_mail},
	{"strangers cancel and answer nothing", test_strangers},
	{"MeetingResponse refusals", test_refusals},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"meeting", suite_init, suite_clean, NULL, NULL, meeting_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
