/* End-to-end fidelity with real clients (issue 12), against a real easd:
 * the request shapes Thunderbird's add-on and evolution-activesync send
 * (empty elements), replayed from the tests' own trees, with what a
 * second device then sees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <libical/ical.h>

#include "conv.h"
#include "harness.h"
#include "test-main.h"
#include "util.h"

static struct easd_proc *srv;
static struct arena *A;

static int
suite_init(void)
{
	/* Date-only values follow the server's zone when nothing better is
	 * known: pin it so the tests do not depend on the machine's. */
	setenv("TZ", "UTC", 1);
	srv = easd_start(NULL);
	A = arena_new(1 << 20);
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	arena_free(&A);
	return easd_stop(&srv) == 0 ? 0 : -1;
}

/* A provisioned device of ada at version with the hierarchy synced. */
static struct eas_client *
device(const char *id, const char *version)
{
	struct eas_client *c = harness_client(srv, HARNESS_ADA, id);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	eas_client_set_version(c, version);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, A, NULL), 0);
	return c;
}

static const char *
folder_of(struct eas_client *c, int type)
{
	const struct eas_folder *f = eas_client_folder_by_type(c, type);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	return f->server_id;
}

static struct wbxml_node *
app_new(void)
{
	return wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
}

static void
add_body(struct wbxml_node *app, const char *text)
{
	struct wbxml_node *b = wbxml_add(A, app, EAS_AIRSYNCBASE_BODY);

	wbxml_add_text(A, b, EAS_AIRSYNCBASE_TYPE, "1");
	if (text != NULL)
		wbxml_add_text(A, b, EAS_AIRSYNCBASE_DATA, text);
}

static const struct eas_item *
find_item(const struct eas_sync_result *r, enum eas_item_kind k,
	  const char *sid)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->items[i].kind == k &&
		    (sid == NULL || strcmp(r->items[i].server_id, sid) == 0))
			return &r->items[i];
	return NULL;
}

/* The item as another device receives it next (Add or Change). */
static const struct wbxml_node *
seen_by(struct eas_client *c, const char *folder, const char *sid)
{
	struct eas_sync_result r;
	const struct eas_item *it;

	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, A, folder, NULL, &r), 0);
	it = find_item(&r, EAS_ITEM_ADD, sid);
	if (it == NULL)
		it = find_item(&r, EAS_ITEM_CHANGE, sid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	return it->appdata;
}

/* --- empty elements (issue 12, item 1) --- */

/* Thunderbird's add-on at 16.1: an event without an alarm carries
 * <calendar:Reminder/>, and the fields it has no value for are empty. */
static void
test_thunderbird_event_add(void)
{
	struct eas_client *tb = device("tbEmpty", "16.1");
	struct eas_client *other = device("tbOther", "14.1");
	const char *f = folder_of(tb, EAS_FOLDER_CALENDAR);
	struct wbxml_node *app = app_new();
	const struct wbxml_node *got;
	const char *sid = NULL;
	int status = 0;

	CU_ASSERT_EQUAL(eas_client_sync_prime(other, A, f), 0);
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "No alarm");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300305T090000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300305T100000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_DTSTAMP, "20300301T080000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ALLDAYEVENT, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_BUSYSTATUS, "2");
	wbxml_add_text(A, app, EAS_CALENDAR_SENSITIVITY, "0");
	wbxml_add(A, app, EAS_CALENDAR_REMINDER);
	wbxml_add(A, app, EAS_CALENDAR_CATEGORIES);
	wbxml_add(A, app, EAS_CALENDAR_ATTENDEES);
	add_body(app, NULL);
	CU_ASSERT_EQUAL(eas_client_add(tb, A, f, app, &sid, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sid);
	got = seen_by(other, f, sid);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CALENDAR_SUBJECT),
			       "No alarm");
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CALENDAR_REMINDER));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CALENDAR_CATEGORIES));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CALENDAR_ATTENDEES));
	eas_client_free(&tb);
	eas_client_free(&other);
}

/* evolution-activesync at 16.1: an empty <calendar:Exceptions/> on an
 * event without Recurrence. */
static void
test_evolution_event_add(void)
{
	struct eas_client *evo = device("evoEmpty", "16.1");
	struct eas_client *other = device("evoOther", "16.1");
	const char *f = folder_of(evo, EAS_FOLDER_CALENDAR);
	struct wbxml_node *app = app_new();
	const struct wbxml_node *got;
	const char *sid = NULL;
	int status = 0;

	CU_ASSERT_EQUAL(eas_client_sync_prime(other, A, f), 0);
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Single");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300306T090000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300306T100000Z");
	wbxml_add(A, app, EAS_CALENDAR_EXCEPTIONS);
	CU_ASSERT_EQUAL(eas_client_add(evo, A, f, app, &sid, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sid);
	got = seen_by(other, f, sid);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CALENDAR_SUBJECT),
			       "Single");
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CALENDAR_EXCEPTIONS));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CALENDAR_RECURRENCE));
	eas_client_free(&evo);
	eas_client_free(&other);
}

/* Thunderbird at 14.1: a contact Change with <contacts:Birthday/> and
 * other empty elements clears those properties. */
static void
test_thunderbird_contact_change(void)
{
	struct eas_client *tb = device("tbCard", "14.1");
	struct eas_client *other = device("tbCardOther", "14.1");
	const char *f = folder_of(tb, EAS_FOLDER_CONTACTS);
	struct wbxml_node *app = app_new();
	const struct wbxml_node *got;
	const char *sid = NULL;
	int status = 0;

	CU_ASSERT_EQUAL(eas_client_sync_prime(other, A, f), 0);
	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, "Thea");
	wbxml_add_text(A, app, EAS_CONTACTS_LASTNAME, "Bird");
	wbxml_add_text(A, app, EAS_CONTACTS_BIRTHDAY,
		       "1980-01-20T00:00:00.000Z");
	wbxml_add_text(A, app, EAS_CONTACTS_JOBTITLE, "Pilot");
	wbxml_add_text(A, app, EAS_CONTACTS_HOMEPHONENUMBER, "+1 555 0199");
	wbxml_add_text(A, app, EAS_CONTACTS2_NICKNAME, "T");
	add_body(app, "a note");
	CU_ASSERT_EQUAL_FATAL(eas_client_add(tb, A, f, app, &sid, &status), 0);
	got = seen_by(other, f, sid);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(got, EAS_CONTACTS_BIRTHDAY));

	app = app_new();
	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, "Thea");
	wbxml_add_text(A, app, EAS_CONTACTS_LASTNAME, "Bird");
	wbxml_add(A, app, EAS_CONTACTS_BIRTHDAY);
	wbxml_add(A, app, EAS_CONTACTS_ANNIVERSARY);
	wbxml_add(A, app, EAS_CONTACTS_JOBTITLE);
	wbxml_add(A, app, EAS_CONTACTS_HOMEPHONENUMBER);
	wbxml_add(A, app, EAS_CONTACTS2_NICKNAME);
	wbxml_add(A, app, EAS_CONTACTS_PICTURE);
	wbxml_add(A, app, EAS_CONTACTS_CATEGORIES);
	add_body(app, "");
	CU_ASSERT_EQUAL(eas_client_change(tb, A, f, sid, app, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	got = seen_by(other, f, sid);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CONTACTS_FIRSTNAME),
			       "Thea");
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CONTACTS_BIRTHDAY));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CONTACTS_JOBTITLE));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CONTACTS_HOMEPHONENUMBER));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_CONTACTS2_NICKNAME));
	CU_ASSERT_PTR_NULL(wbxml_child(got, EAS_AIRSYNCBASE_BODY));
	eas_client_free(&tb);
	eas_client_free(&other);
}

/* --- single occurrences at 16.x (issue 12, item 2) --- */

/* 172 bytes of Central European rules, base64 (bias -60, last Sunday of
 * October 03:00 / March 02:00, daylight bias -60). */
static const char *
tz_berlin(void)
{
	uint8_t raw[172];
	char *b64 = arena_alloc(A, base64_encoded_len(sizeof(raw)) + 1);

	memset(raw, 0, sizeof(raw));
	raw[0] = 0xc4; /* -60, little-endian */
	raw[1] = raw[2] = raw[3] = 0xff;
	raw[68 + 2] = 10; /* StandardDate: October, Sunday, last, 03:00 */
	raw[68 + 6] = 5;
	raw[68 + 8] = 3;
	raw[152 + 2] = 3; /* DaylightDate: March, Sunday, last, 02:00 */
	raw[152 + 6] = 5;
	raw[152 + 8] = 2;
	raw[168] = 0xc4; /* DaylightBias -60 */
	raw[169] = raw[170] = raw[171] = 0xff;
	base64_encode(raw, sizeof(raw), b64);
	return b64;
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

/* One Sync with one occurrence command; the reply for it. */
static struct eas_reply
occurrence_cmd(struct eas_client *c, const char *folder, const char *sid,
	       const char *instance, const struct wbxml_node *app)
{
	struct eas_command cmd = {
		.kind = app != NULL ? EAS_ITEM_CHANGE : EAS_ITEM_DELETE,
		.server_id = sid,
		.instance_id = instance,
		.appdata = app,
	};
	struct eas_sync_result r;
	struct eas_reply none;

	memset(&none, 0, sizeof(none));
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync_commands(c, A, folder, &cmd, 1, &r), 0);
	CU_ASSERT_EQUAL(r.nreplies, 1);
	return r.nreplies == 1 ? r.replies[0] : none;
}

/* A 16.1 device moves one occurrence and deletes another; devices at
 * 14.1 and 16.1 see the series with an exception and a deleted
 * occurrence. */
static void
test_single_occurrence(void)
{
	struct eas_client *a = device("occA16", "16.1");
	struct eas_client *b14 = device("occB14", "14.1");
	struct eas_client *b16 = device("occB16", "16.1");
	const char *f = folder_of(a, EAS_FOLDER_CALENDAR);
	struct wbxml_node *app = app_new(), *rec;
	const struct wbxml_node *got, *ex;
	struct eas_reply rep;
	const char *sid = NULL;
	int status = 0;

	CU_ASSERT_EQUAL(eas_client_sync_prime(b14, A, f), 0);
	CU_ASSERT_EQUAL(eas_client_sync_prime(b16, A, f), 0);
	/* weekly on Tuesdays 15:30 Berlin, ten times, from 2030-03-05 */
	wbxml_add_text(A, app, EAS_CALENDAR_TIMEZONE, tz_berlin());
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Jour fixe");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300305T143000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300305T153000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_CLIENTUID, "occ-client-1");
	rec = wbxml_add(A, app, EAS_CALENDAR_RECURRENCE);
	wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, "1");
	wbxml_add_text(A, rec, EAS_CALENDAR_DAYOFWEEK, "4");
	wbxml_add_text(A, rec, EAS_CALENDAR_OCCURRENCES, "10");
	CU_ASSERT_EQUAL_FATAL(eas_client_add(a, A, f, app, &sid, &status), 0);
	got = seen_by(b14, f, sid);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(got, EAS_CALENDAR_RECURRENCE));
	got = seen_by(b16, f, sid);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(got, EAS_CALENDAR_RECURRENCE));

	/* the second occurrence moves to Wednesday and is renamed */
	app = app_new();
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Jour fixe (moved)");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300313T090000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300313T100000Z");
	rep = occurrence_cmd(a, f, sid, "20300312T143000Z", app);
	CU_ASSERT_EQUAL(rep.kind, EAS_ITEM_CHANGE);
	CU_ASSERT_EQUAL(rep.status, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep.server_id);
	CU_ASSERT_STRING_EQUAL(rep.server_id, sid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep.instance_id);
	CU_ASSERT_STRING_EQUAL(rep.instance_id, "20300312T143000Z");
	/* the third is deleted (given in the ISO form: echoed compact) */
	rep = occurrence_cmd(a, f, sid, "2030-03-19T14:30:00.000Z", NULL);
	CU_ASSERT_EQUAL(rep.kind, EAS_ITEM_DELETE);
	CU_ASSERT_EQUAL(rep.status, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep.instance_id);
	CU_ASSERT_STRING_EQUAL(rep.instance_id, "20300319T143000Z");

	/* 14.1 sees the series with both exceptions */
	got = seen_by(b14, f, sid);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CALENDAR_SUBJECT),
			       "Jour fixe");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CALENDAR_STARTTIME),
			       "20300305T143000Z");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(got, EAS_CALENDAR_RECURRENCE));
	ex = exception_at(got, EAS_CALENDAR_EXCEPTIONSTARTTIME,
			  "20300312T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(ex, EAS_CALENDAR_SUBJECT),
			       "Jour fixe (moved)");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(ex, EAS_CALENDAR_STARTTIME),
			       "20300313T090000Z");
	ex = exception_at(got, EAS_CALENDAR_EXCEPTIONSTARTTIME,
			  "20300319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(ex, EAS_CALENDAR_DELETED), "1");
	/* 16.1 the same, with compact InstanceIds */
	got = seen_by(b16, f, sid);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(got, EAS_CALENDAR_RECURRENCE));
	ex = exception_at(got, EAS_AIRSYNCBASE_INSTANCEID, "20300312T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(ex, EAS_CALENDAR_SUBJECT),
			       "Jour fixe (moved)");
	ex = exception_at(got, EAS_AIRSYNCBASE_INSTANCEID, "20300319T143000Z");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ex);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(ex, EAS_CALENDAR_DELETED), "1");

	/* an InstanceId on an event that does not recur: Status 6 */
	app = app_new();
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Once");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300401T090000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300401T100000Z");
	CU_ASSERT_EQUAL_FATAL(eas_client_add(a, A, f, app, &sid, &status), 0);
	rep = occurrence_cmd(a, f, sid, "20300401T090000Z", NULL);
	CU_ASSERT_EQUAL(rep.status, 6);
	eas_client_free(&a);
	eas_client_free(&b14);
	eas_client_free(&b16);
}

/* --- easctl on the server's data --- */

/* Run easctl --data <server dir> with args (NULL-terminated), standard
 * input from in (may be NULL); its standard output, and with errors its
 * standard error too, in *out_r (arena). Returns the exit status. */
static int
easctl_run(const char *in, char **out_r, bool errors, const char *const *args)
{
	char *cmd =
		arena_printf(A, "'%s' --data '%s'", harness_easctl(), srv->dir);
	char *in_path = arena_printf(A, "%s.stdin", srv->dir);
	struct buf b;
	FILE *f;
	int st;

	for (size_t i = 0; args[i] != NULL; i++)
		cmd = arena_printf(A, "%s '%s'", cmd, args[i]);
	if (in != NULL) {
		f = fopen(in_path, "w");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		fputs(in, f);
		fclose(f);
		cmd = arena_printf(A, "%s < '%s'", cmd, in_path);
	}
	cmd = arena_printf(A, "%s %s", cmd, errors ? "2>&1" : "2>/dev/null");
	f = popen(cmd, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	buf_init(&b, 0);
	for (;;) {
		char chunk[4096];
		size_t n = fread(chunk, 1, sizeof(chunk), f);

		if (n == 0)
			break;
		buf_append(&b, chunk, n);
	}
	st = pclose(f);
	*out_r = arena_strndup(A, b.len > 0 ? (const char *)b.data : "", b.len);
	buf_deinit(&b);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define EASCTL(in, out, ...)                                                   \
	easctl_run((in), (out), true, (const char *const[]){__VA_ARGS__, NULL})
/* standard output only: what an export writes, byte for byte */
#define EASCTL_OUT(in, out, ...)                                               \
	easctl_run((in), (out), false, (const char *const[]){__VA_ARGS__, NULL})

/* --- birthdays across zones (issue 12, item 5) --- */

/* A zone without daylight saving, minutes east of UTC, as a blob. */
static const char *
tz_fixed(int minutes_east)
{
	uint8_t raw[172];
	char *b64 = arena_alloc(A, base64_encoded_len(sizeof(raw)) + 1);
	int32_t bias = -minutes_east;

	memset(raw, 0, sizeof(raw));
	for (int i = 0; i < 4; i++)
		raw[i] = (uint8_t)((uint32_t)bias >> (8 * i));
	base64_encode(raw, sizeof(raw), b64);
	return b64;
}

/* Devices at UTC-11, -5, 0, +2, +9, +14 (zones learnt from the events they
 * create) each get 2018-01-20 as their local midnight, change the
 * contact, and the date stays; a device whose zone is not known yet
 * follows its account's zone. */
static void
test_birthday_zones(void)
{
	static const int offsets[] = {-11 * 60, -5 * 60, 0,
				      2 * 60,	9 * 60,	 14 * 60};
	static const char card[] =
		"BEGIN:VCARD\r\nVERSION:3.0\r\n"
		"UID:bday-zones-1\r\nN:Zones;Birgit;;;\r\n"
		"FN:Birgit Zones\r\n"
		"BDAY;VALUE=DATE:2018-01-20\r\nEND:VCARD\r\n";
	const int64_t midnight = 1516406400; /* 2018-01-20T00:00:00Z */
	char *out, *path = arena_printf(A, "%s/bday.vcf", srv->dir);
	const char *sid = NULL;
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(card, f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(EASCTL(NULL, &out, "import", "ada", path), 0);
	for (size_t i = 0; i < N_ELEMENTS(offsets); i++) {
		char id[32], want[32], stamp[32];
		struct eas_client *c;
		const char *cal, *con;
		struct wbxml_node *ev = app_new(), *app;
		const struct wbxml_node *got;
		struct eas_sync_result r;
		int status;

		snprintf(id, sizeof(id), "bday%zu", i);
		c = device(id, "14.1");
		cal = folder_of(c, EAS_FOLDER_CALENDAR);
		con = folder_of(c, EAS_FOLDER_CONTACTS);
		/* an event made on the device tells its zone */
		time_format_compact(1900000000, stamp);
		wbxml_add_text(A, ev, EAS_CALENDAR_TIMEZONE,
			       tz_fixed(offsets[i]));
		wbxml_add_text(A, ev, EAS_CALENDAR_SUBJECT, "Here");
		wbxml_add_text(A, ev, EAS_CALENDAR_STARTTIME, stamp);
		wbxml_add_text(A, ev, EAS_CALENDAR_ENDTIME, stamp);
		wbxml_add_text(A, ev, EAS_CALENDAR_UID, id);
		CU_ASSERT_EQUAL(eas_client_add(c, A, cal, ev, NULL, &status),
				0);
		CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, A, con, NULL, &r), 0);
		got = NULL;
		for (size_t k = 0; k < r.count; k++) {
			const char *fn = wbxml_child_text(
				r.items[k].appdata, EAS_CONTACTS_FIRSTNAME);

			if (fn != NULL && strcmp(fn, "Birgit") == 0) {
				got = r.items[k].appdata;
				sid = r.items[k].server_id;
			}
		}
		CU_ASSERT_PTR_NOT_NULL_FATAL(got);
		time_format_iso(midnight - offsets[i] * 60, want);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(got, EAS_CONTACTS_BIRTHDAY), want);
		/* the phone edits the job title and sends the rest back */
		app = wbxml_clone(A, got);
		wbxml_add_text(A, app, EAS_CONTACTS_JOBTITLE, id);
		CU_ASSERT_EQUAL(eas_client_change(c, A, con, sid, app, &status),
				0);
		CU_ASSERT_EQUAL_FATAL(EASCTL_OUT(NULL, &out, "export", "ada",
						 "Contacts", "-"),
				      0);
		CU_ASSERT_PTR_NOT_NULL(
			strstr(out, "BDAY;VALUE=DATE:2018-01-20\r\n"));
		CU_ASSERT_PTR_NOT_NULL(
			strstr(out, arena_printf(A, "TITLE:%s\r\n", id)));
		eas_client_free(&c);
	}
	/* no event yet: the account's zone (UTC+9) */
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "user", "set", "ada", "--timezone",
			       "Asia/Tokyo"),
			0);
	{
		struct eas_client *c = device("bdayAcct", "14.1");
		const char *con = folder_of(c, EAS_FOLDER_CONTACTS);
		struct eas_sync_result r;
		const struct eas_item *it = NULL;

		CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, A, con, NULL, &r), 0);
		for (size_t k = 0; k < r.count; k++)
			if (strcmp(r.items[k].server_id, sid) == 0)
				it = &r.items[k];
		CU_ASSERT_PTR_NOT_NULL_FATAL(it);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(it->appdata, EAS_CONTACTS_BIRTHDAY),
			"2018-01-19T15:00:00.000Z");
		eas_client_free(&c);
	}
	CU_ASSERT_EQUAL(
		EASCTL(NULL, &out, "user", "set", "ada", "--timezone", ""), 0);
}

/* --- delivery records the envelope sender (issue 12, item 6) --- */

static void
test_return_path(void)
{
	static const char msg[] = "From: Someone <someone@example.net>\r\n"
				  "To: ada@example.org\r\n"
				  "Subject: Envelope\r\n"
				  "Message-ID: <rp-1@example.net>\r\n"
				  "\r\n"
				  "Hello body.\r\n";
	static const char msg2[] = "From: daemon@example.net\n"
				   "To: ada@example.org\n"
				   "Subject: Bounce\n"
				   "\n"
				   "Null sender.\n";
	struct eas_client *c = device("rpDev", "14.1");
	const char *inbox = folder_of(c, EAS_FOLDER_INBOX);
	struct eas_sync_opts o;
	struct eas_sync_result r;
	bool seen = false;
	char *out;

	CU_ASSERT_EQUAL(eas_client_sync_prime(c, A, inbox), 0);
	/* LMTP: MAIL FROM:<sender@example.net> (the harness's) */
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, msg), 250);
	CU_ASSERT_EQUAL(EASCTL_OUT(NULL, &out, "export", "ada", "Inbox", "-"),
			0);
	CU_ASSERT_PTR_NOT_NULL(strstr(
		out, "Return-Path: <sender@example.net>\r\nFrom: Someone"));
	/* the body the device gets is untouched by the added line */
	eas_sync_opts_init(&o);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, A, inbox, &o, &r), 0);
	for (size_t i = 0; i < r.count; i++) {
		const struct wbxml_node *b =
			wbxml_child(r.items[i].appdata, EAS_AIRSYNCBASE_BODY);
		const char *subj =
			wbxml_child_text(r.items[i].appdata, EAS_EMAIL_SUBJECT);

		if (subj == NULL || strcmp(subj, "Envelope") != 0 || b == NULL)
			continue;
		seen = true;
		CU_ASSERT_PTR_NOT_NULL(
			strstr(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA),
			       "Hello body."));
		CU_ASSERT_PTR_NULL(
			strstr(wbxml_child_text(b, EAS_AIRSYNCBASE_DATA),
			       "Return-Path"));
	}
	CU_ASSERT(seen);
	/* easctl deliver --from: the null sender */
	CU_ASSERT_EQUAL(EASCTL(msg2, &out, "deliver", "ada", "--from", ""), 0);
	CU_ASSERT_EQUAL(EASCTL_OUT(NULL, &out, "export", "ada", "Inbox", "-"),
			0);
	CU_ASSERT_PTR_NOT_NULL(
		strstr(out, "Return-Path: <>\nFrom: daemon@example.net\n"));
	eas_client_free(&c);
}

/* --- a phone edit keeps what it cannot show (issue 12, item 4) --- */

static char *
read_data(const char *name)
{
	const char *dir = getenv("EASD_SRCDIR");
	char *path = arena_printf(A, "%s/tests/data/conv/%s",
				  dir != NULL ? dir : ".", name);
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;
	char *r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	r = arena_strndup(A, (const char *)b.data, b.len);
	buf_deinit(&b);
	return r;
}

static const char *
import_data(const char *name)
{
	const char *dir = getenv("EASD_SRCDIR");
	char *out;

	CU_ASSERT_EQUAL_FATAL(
		EASCTL(NULL, &out, "import", "ada",
		       arena_printf(A, "%s/tests/data/conv/%s",
				    dir != NULL ? dir : ".", name)),
		0);
	return out;
}

/* The item of folder whose tag has value, as a device gets it. */
static const struct eas_item *
item_with(struct eas_client *c, const char *folder, uint16_t tag,
	  const char *value)
{
	struct eas_sync_result r;

	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, A, folder, NULL, &r), 0);
	for (size_t i = 0; i < r.count; i++) {
		const char *v =
			r.items[i].appdata != NULL
				? wbxml_child_text(r.items[i].appdata, tag)
				: NULL;

		if (v != NULL && strcmp(v, value) == 0)
			return &r.items[i];
	}
	CU_FAIL_FATAL("item not found on the device");
	return NULL;
}

/* What the device sends back: what it got, one property changed. */
static void
change_one(struct eas_client *c, const char *folder, const struct eas_item *it,
	   uint16_t tag, const char *value)
{
	struct wbxml_node *app = wbxml_clone(A, it->appdata), *n;
	int status = 0;

	for (n = app->child; n != NULL; n = n->next)
		if (n->tag == tag) {
			n->data = (const uint8_t *)arena_strdup(A, value);
			n->len = strlen(value);
			break;
		}
	if (n == NULL)
		wbxml_add_text(A, app, tag, value);
	CU_ASSERT_EQUAL(
		eas_client_change(c, A, folder, it->server_id, app, &status),
		0);
	CU_ASSERT_EQUAL(status, 1);
}

static char *
export_of(const char *folder)
{
	char *out;

	CU_ASSERT_EQUAL_FATAL(
		EASCTL_OUT(NULL, &out, "export", "ada", folder, "-"), 0);
	return out;
}

/* Unfolded content lines of an iCalendar text as libical writes it (the
 * export is libical's), one per entry. */
static size_t
ical_lines(const char *text, char **v, size_t max)
{
	icalcomponent *c = icalparser_parse_string(text);
	char *s, *save = NULL, *line, *u;
	size_t n = 0, k = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	s = icalcomponent_as_ical_string_r(c);
	u = arena_alloc(A, strlen(s) + 1);
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n' && (p[1] == ' ' || p[1] == '\t')) {
			p++;
			continue;
		}
		u[k++] = *p;
	}
	u[k] = '\0';
	free(s);
	icalcomponent_free(c);
	for (line = strtok_r(u, "\n", &save); line != NULL && n < max;
	     line = strtok_r(NULL, "\n", &save))
		v[n++] = line;
	return n;
}

static bool
has_line(char *const *v, size_t n, const char *line)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], line) == 0)
			return true;
	return false;
}

/* Every line of before but those starting with changed (and the
 * envelope) is in after; after adds nothing but changed lines and our
 * markers. */
static void
assert_ical_kept(const char *before, const char *after, const char *changed)
{
	char *bv[600], *av[600];
	size_t bn = ical_lines(before, bv, 600),
	       an = ical_lines(after, av, 600);

	for (size_t i = 0; i < bn; i++) {
		if (strncmp(bv[i], changed, strlen(changed)) == 0 ||
		    strncmp(bv[i], "PRODID:", 7) == 0 ||
		    has_line(av, an, bv[i]))
			continue;
		fprintf(stderr, "\nlost: %s\n", bv[i]);
		CU_FAIL("a property the device did not change is lost");
	}
	for (size_t i = 0; i < an; i++) {
		if (strncmp(av[i], changed, strlen(changed)) == 0 ||
		    strncmp(av[i], "PRODID:", 7) == 0 ||
		    strncmp(av[i], "X-EAS-", 6) == 0 ||
		    strncmp(av[i], "X-MICROSOFT-CDO-", 16) == 0 ||
		    has_line(bv, bn, av[i]))
			continue;
		fprintf(stderr, "\nadded: %s\n", av[i]);
		CU_FAIL("a property was added or changed");
	}
}

static void
test_keep_contact(void)
{
	struct eas_client *c = device("keepCard", "14.1");
	const char *f = folder_of(c, EAS_FOLDER_CONTACTS);
	char *before = read_data("rich-3.vcf"), *after, *p;
	const struct eas_item *it;

	import_data("rich-3.vcf");
	it = item_with(c, f, EAS_CONTACTS_FIRSTNAME, "Johnny");
	change_one(c, f, it, EAS_CONTACTS_JOBTITLE, "Chief Engineer");
	after = export_of("Contacts");
	/* byte for byte, but the one line */
	p = strstr(before, "TITLE:Engineer\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(after,
			       arena_printf(A, "%.*sTITLE:Chief Engineer\r\n%s",
					    (int)(p - before), before,
					    p + strlen("TITLE:Engineer\r\n")));
	eas_client_free(&c);
}

static void
test_keep_event(void)
{
	struct eas_client *c = device("keepEvent", "16.1");
	const char *f = folder_of(c, EAS_FOLDER_CALENDAR);
	const struct eas_item *it;

	import_data("rich-event.ics");
	it = item_with(c, f, EAS_CALENDAR_SUBJECT, "Planning");
	change_one(c, f, it, EAS_CALENDAR_SUBJECT, "Planning, revised");
	assert_ical_kept(read_data("rich-event.ics"), export_of("Calendar"),
			 "SUMMARY:Planning");
	CU_ASSERT_PTR_NOT_NULL(
		strstr(export_of("Calendar"), "SUMMARY:Planning\\, revised"));
	eas_client_free(&c);
}

static void
test_keep_task(void)
{
	struct eas_client *c = device("keepTask", "14.1");
	const char *f = folder_of(c, EAS_FOLDER_TASKS);
	const struct eas_item *it;

	import_data("rich-task.ics");
	it = item_with(c, f, EAS_TASKS_SUBJECT, "Renew passport");
	change_one(c, f, it, EAS_TASKS_SUBJECT, "Renew both passports");
	assert_ical_kept(read_data("rich-task.ics"), export_of("Tasks"),
			 "SUMMARY:");
	eas_client_free(&c);
}

static void
test_keep_note(void)
{
	struct eas_client *c = device("keepNote", "14.1");
	const char *f = folder_of(c, EAS_FOLDER_NOTES);
	const struct eas_item *it;
	char *out, *at;

	/* easctl imports no notes: straight into the store */
	{
		struct store *st = easd_store(srv);
		struct store_folder nf;
		struct store_item item;
		const char *err, *text = read_data("rich-note.txt");

		CU_ASSERT_PTR_NOT_NULL_FATAL(st);
		CU_ASSERT_EQUAL_FATAL(
			store_folder_get_by_type(st, A, srv->ada_id,
						 EAS_FOLDER_NOTES, &nf),
			STORE_OK);
		memset(&item, 0, sizeof(item));
		CU_ASSERT_EQUAL_FATAL(conv_from_standard(A, STORE_CLASS_NOTES,
							 text, strlen(text),
							 &item, &err),
				      0);
		CU_ASSERT_EQUAL_FATAL(
			store_item_add(st, A, srv->ada_id, nf.id, &item, 0),
			STORE_OK);
		store_close(&st);
	}
	it = item_with(c, f, EAS_NOTES_SUBJECT, "Groceries");
	change_one(c, f, it, EAS_NOTES_SUBJECT, "Groceries today");
	out = export_of("Notes");
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "Subject: Groceries today\n"));
	/* every other line of the note is there */
	at = read_data("rich-note.txt");
	for (char *save = NULL, *line = strtok_r(at, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "Subject:", 8) == 0)
			continue;
		CU_ASSERT_PTR_NOT_NULL(strstr(out, line));
	}
	eas_client_free(&c);
}

/* --- the stored object is authoritative (issue 12, item 3) --- */

/* export -> edit -> import into the same UID, as the issue tells it:
 * RRULE COUNT=10 -> 3 and a task's DUE; the device sees the edits. */
static void
test_edit_elsewhere(void)
{
	struct eas_client *c = device("editElse", "14.1");
	const char *cal = folder_of(c, EAS_FOLDER_CALENDAR);
	const char *tasks = folder_of(c, EAS_FOLDER_TASKS);
	struct wbxml_node *app = app_new(), *rec;
	const struct eas_item *it;
	const struct wbxml_node *got;
	char *text, *path = arena_printf(A, "%s/edited.ics", srv->dir), *out;
	const char *sid;
	FILE *fp;
	int status;

	CU_ASSERT_EQUAL(eas_client_sync_prime(c, A, cal), 0);
	CU_ASSERT_EQUAL(eas_client_sync_prime(c, A, tasks), 0);
	wbxml_add_text(A, app, EAS_CALENDAR_TIMEZONE, tz_berlin());
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Ten times");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300305T143000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300305T153000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_UID, "edit-elsewhere-1");
	rec = wbxml_add(A, app, EAS_CALENDAR_RECURRENCE);
	wbxml_add_text(A, rec, EAS_CALENDAR_TYPE, "1");
	wbxml_add_text(A, rec, EAS_CALENDAR_DAYOFWEEK, "4");
	wbxml_add_text(A, rec, EAS_CALENDAR_OCCURRENCES, "10");
	CU_ASSERT_EQUAL_FATAL(eas_client_add(c, A, cal, app, &sid, &status), 0);
	app = app_new();
	wbxml_add_text(A, app, EAS_TASKS_SUBJECT, "Due soon");
	wbxml_add_text(A, app, EAS_TASKS_DUEDATE, "2030-04-15T17:00:00.000Z");
	wbxml_add_text(A, app, EAS_TASKS_UTCDUEDATE,
		       "2030-04-15T15:00:00.000Z");
	CU_ASSERT_EQUAL_FATAL(eas_client_add(c, A, tasks, app, NULL, &status),
			      0);

	text = export_of("Calendar");
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(text, "COUNT=10"));
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	{
		char *p = strstr(text, "COUNT=10");

		fprintf(fp, "%.*sCOUNT=3%s", (int)(p - text), text, p + 8);
	}
	fclose(fp);
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "import", "ada", path), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "replacing"));
	it = item_with(c, cal, EAS_CALENDAR_SUBJECT, "Ten times");
	got = wbxml_child(it->appdata, EAS_CALENDAR_RECURRENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CALENDAR_OCCURRENCES),
			       "3");

	text = export_of("Tasks");
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(text, "DUE:20300415T150000Z"));
	fp = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	{
		char *p = strstr(text, "DUE:20300415T150000Z");

		fprintf(fp, "%.*sDUE:20300420T150000Z%s", (int)(p - text), text,
			p + strlen("DUE:20300415T150000Z"));
	}
	fclose(fp);
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "import", "ada", path), 0);
	it = item_with(c, tasks, EAS_TASKS_SUBJECT, "Due soon");
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(it->appdata, EAS_TASKS_UTCDUEDATE),
		"2030-04-20T15:00:00.000Z");
	eas_client_free(&c);
}

static CU_TestInfo keep_tests[] = {
	{"contact: a phone edit keeps the vCard byte for byte",
	 test_keep_contact},
	{"event: a phone edit keeps every other property", test_keep_event},
	{"task: a phone edit keeps every other property", test_keep_task},
	{"note: a phone edit keeps the other headers", test_keep_note},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo elsewhere_tests[] = {
	{"export, edit RRULE and DUE, import: the device sees it",
	 test_edit_elsewhere},
	CU_TEST_INFO_NULL,
};

/* --- the quirk table (issue 12) --- */

/* A device that says it is another client. */
static struct eas_client *
client_as(const char *id, const char *version, const char *device_type,
	  const char *user_agent)
{
	struct eas_client *c = device(id, version);

	free(c->device_type);
	c->device_type = strdup(device_type);
	eas_client_set_user_agent(c, user_agent);
	return c;
}

/* One no-change Sync of folder from the client's current key. */
static struct eas_response
sync_once(struct eas_client *c, const char *folder)
{
	struct wbxml_node *root = wbxml_new(A, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs = wbxml_add(A, root, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *coll = wbxml_add(A, cs, EAS_AIRSYNC_COLLECTION);
	struct eas_response r;

	wbxml_add_text(A, coll, EAS_AIRSYNC_SYNCKEY,
		       eas_client_sync_key(c, folder));
	wbxml_add_text(A, coll, EAS_AIRSYNC_COLLECTIONID, folder);
	CU_ASSERT_EQUAL_FATAL(eas_client_post(c, A, "Sync", root, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	return r;
}

/* pyactivesync cannot read the empty body of a no-change Sync: it gets
 * the collection with its unchanged key and Status 1; others still get
 * the empty body. */
static void
test_quirk_full_sync(void)
{
	struct eas_client *py = client_as("pyQuirk", "16.1", "pyactivesync",
					  "python-requests/2.28.1");
	struct eas_client *plain = device("plainQuirk", "16.1");
	const char *f = folder_of(py, EAS_FOLDER_NOTES);
	struct eas_sync_result sr;
	struct eas_response r;
	const struct wbxml_node *coll;
	int64_t st = 0;

	CU_ASSERT_EQUAL_FATAL(eas_client_sync(py, A, f, NULL, &sr), 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(plain, A, f, NULL, &sr), 0);
	r = sync_once(py, f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.tree);
	coll = wbxml_child(wbxml_child(r.tree, EAS_AIRSYNC_COLLECTIONS),
			   EAS_AIRSYNC_COLLECTION);
	CU_ASSERT_PTR_NOT_NULL_FATAL(coll);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY),
			       eas_client_sync_key(py, f));
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(coll, EAS_AIRSYNC_COLLECTIONID),
			       f);
	CU_ASSERT_EQUAL(wbxml_child_int(coll, EAS_AIRSYNC_STATUS, &st), 1);
	CU_ASSERT_EQUAL(st, 1);
	CU_ASSERT_PTR_NULL(wbxml_child(coll, EAS_AIRSYNC_COMMANDS));
	/* the key did not move: the same answer again */
	r = sync_once(py, f);
	CU_ASSERT_PTR_NOT_NULL(r.tree);
	r = sync_once(plain, f);
	CU_ASSERT_EQUAL(r.body_len, 0);
	eas_client_free(&py);
	eas_client_free(&plain);
}

static bool
any_opaque(const struct wbxml_node *n)
{
	const struct wbxml_node *c;

	if (n->opaque)
		return true;
	wbxml_foreach(n, c)
	{
		if (any_opaque(c))
			return true;
	}
	return false;
}

/* Thunderbird's add-on misreads OPAQUE: it gets text as strings. */
static void
test_quirk_no_opaque(void)
{
	struct eas_client *tb = client_as("tbQuirk", "14.1", "TbSync",
					  "Thunderbird ActiveSync");
	struct eas_client *other = device("opaqueOther", "14.1");
	const char *f = folder_of(tb, EAS_FOLDER_CONTACTS);
	struct wbxml_node *app = app_new();
	struct eas_sync_result r;
	const struct eas_item *it = NULL;
	int status;

	CU_ASSERT_EQUAL(eas_client_sync_prime(tb, A, f), 0);
	CU_ASSERT_EQUAL(eas_client_sync_prime(other, A, f), 0);
	/* an element easd keeps as it came: OPAQUE text */
	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, "Opal");
	wbxml_add_opaque(A, app, EAS_CONTACTS_COMPRESSEDRTF, "rtf-ish", 7);
	CU_ASSERT_EQUAL_FATAL(eas_client_add(other, A, f, app, NULL, &status),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(tb, A, f, NULL, &r), 0);
	for (size_t i = 0; i < r.count; i++)
		if (r.items[i].appdata != NULL &&
		    wbxml_child(r.items[i].appdata, EAS_CONTACTS_COMPRESSEDRTF))
			it = &r.items[i];
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT(!any_opaque(it->appdata));
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(it->appdata, EAS_CONTACTS_COMPRESSEDRTF),
		"rtf-ish");
	/* a client without the quirk gets it as it was sent */
	{
		struct eas_client *x = device("opaqueX", "14.1");

		CU_ASSERT_EQUAL_FATAL(eas_client_sync(x, A, f, NULL, &r), 0);
		it = NULL;
		for (size_t i = 0; i < r.count; i++)
			if (r.items[i].appdata != NULL &&
			    wbxml_child(r.items[i].appdata,
					EAS_CONTACTS_COMPRESSEDRTF))
				it = &r.items[i];
		CU_ASSERT_PTR_NOT_NULL_FATAL(it);
		CU_ASSERT(wbxml_child(it->appdata, EAS_CONTACTS_COMPRESSEDRTF)
				  ->opaque);
		eas_client_free(&x);
	}
	eas_client_free(&tb);
	eas_client_free(&other);
}

#define PNG_1PX                                                                \
	"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD" \
	"hgGAWjR9awAAAABJRU5ErkJggg=="

/* iOS sends an empty Picture on every edit of a contact whose picture it
 * did not make: the picture stays. */
static void
test_quirk_ios_picture(void)
{
	struct eas_client *ios = client_as("iosQuirk", "16.1", "iPhone",
					   "Apple-iPhone14C2/2101.48");
	struct eas_client *other = device("picOther", "14.1");
	const char *f = folder_of(ios, EAS_FOLDER_CONTACTS);
	struct wbxml_node *app = app_new();
	const char *sid = NULL;
	const struct wbxml_node *got;
	int status;

	CU_ASSERT_EQUAL(eas_client_sync_prime(ios, A, f), 0);
	CU_ASSERT_EQUAL(eas_client_sync_prime(other, A, f), 0);
	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, "Pia");
	wbxml_add_text(A, app, EAS_CONTACTS_PICTURE, PNG_1PX);
	CU_ASSERT_EQUAL_FATAL(eas_client_add(other, A, f, app, &sid, &status),
			      0);
	got = seen_by(ios, f, sid);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(got, EAS_CONTACTS_PICTURE));
	app = app_new();
	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, "Pia");
	wbxml_add_text(A, app, EAS_CONTACTS_JOBTITLE, "Painter");
	wbxml_add(A, app, EAS_CONTACTS_PICTURE);
	CU_ASSERT_EQUAL(eas_client_change(ios, A, f, sid, app, &status), 0);
	got = seen_by(other, f, sid);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CONTACTS_JOBTITLE),
			       "Painter");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(got, EAS_CONTACTS_PICTURE),
			       PNG_1PX);
	eas_client_free(&ios);
	eas_client_free(&other);
}

/* Gmail sends birthdays at 12:00 UTC and reads the UTC day, whatever
 * its zone. */
static void
test_quirk_gmail_dates(void)
{
	struct eas_client *g = client_as("gmailQuirk", "14.1", "Android",
					 "Android-Mail/2023.05.14.534281893");
	const char *f = folder_of(g, EAS_FOLDER_CONTACTS);
	const char *cal = folder_of(g, EAS_FOLDER_CALENDAR);
	struct wbxml_node *app = app_new();
	const struct wbxml_node *got;
	const char *sid = NULL;
	char *out;
	int status;

	CU_ASSERT_EQUAL(eas_client_sync_prime(g, A, f), 0);
	/* its zone is known (UTC+9): it still gets the UTC day */
	app = app_new();
	wbxml_add_text(A, app, EAS_CALENDAR_TIMEZONE, tz_fixed(9 * 60));
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, "Tokyo");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, "20300101T000000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, "20300101T010000Z");
	wbxml_add_text(A, app, EAS_CALENDAR_UID, "gmail-zone");
	CU_ASSERT_EQUAL(eas_client_add(g, A, cal, app, NULL, &status), 0);
	app = app_new();
	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, "Gemma");
	wbxml_add_text(A, app, EAS_CONTACTS_BIRTHDAY,
		       "2018-01-20T12:00:00.000Z");
	CU_ASSERT_EQUAL_FATAL(eas_client_add(g, A, f, app, &sid, &status), 0);
	CU_ASSERT_EQUAL(
		EASCTL_OUT(NULL, &out, "export", "ada", "Contacts", "-"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "BDAY;VALUE=DATE:2018-01-20"));
	{
		struct eas_client *g2 =
			client_as("gmailQuirk2", "14.1", "Android",
				  "Android-Mail/2023.05.14.534281893");

		got = seen_by(g2, f, sid);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(got, EAS_CONTACTS_BIRTHDAY),
			"2018-01-20T00:00:00.000Z");
		eas_client_free(&g2);
	}
	eas_client_free(&g);
}

/* --- loops (issue 12) --- */

/* A raw Sync of folder from key with a window; the answer's Collection
 * in *coll_r (NULL for an empty body). */
static struct eas_response
sync_from(struct eas_client *c, const char *folder, const char *key,
	  unsigned window, const struct wbxml_node **coll_r)
{
	struct wbxml_node *root = wbxml_new(A, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs = wbxml_add(A, root, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *coll = wbxml_add(A, cs, EAS_AIRSYNC_COLLECTION);
	struct eas_response r;

	wbxml_add_text(A, coll, EAS_AIRSYNC_SYNCKEY, key);
	wbxml_add_text(A, coll, EAS_AIRSYNC_COLLECTIONID, folder);
	wbxml_add_textf(A, coll, EAS_AIRSYNC_WINDOWSIZE, "%u", window);
	CU_ASSERT_EQUAL_FATAL(eas_client_post(c, A, "Sync", root, NULL, &r), 0);
	CU_ASSERT_EQUAL_FATAL(r.http_status, 200);
	*coll_r = r.tree == NULL
			  ? NULL
			  : wbxml_child(wbxml_child(r.tree,
						    EAS_AIRSYNC_COLLECTIONS),
					EAS_AIRSYNC_COLLECTION);
	return r;
}

static size_t
count_items(const struct wbxml_node *coll)
{
	const struct wbxml_node *cmds =
		coll != NULL ? wbxml_child(coll, EAS_AIRSYNC_COMMANDS) : NULL;
	const struct wbxml_node *n;
	size_t k = 0;

	if (cmds != NULL)
		wbxml_foreach(cmds, n) k += n->tag == EAS_AIRSYNC_ADD ||
					    n->tag == EAS_AIRSYNC_CHANGE;
	return k;
}

/* Whether the answer carries the contact filed as name. */
static bool
carries(const struct wbxml_node *coll, const char *name)
{
	const struct wbxml_node *cmds =
		coll != NULL ? wbxml_child(coll, EAS_AIRSYNC_COMMANDS) : NULL;
	const struct wbxml_node *n;

	if (cmds != NULL)
		wbxml_foreach(cmds, n)
		{
			const char *fa = wbxml_child_text(
				wbxml_child(n, EAS_AIRSYNC_APPLICATIONDATA),
				EAS_CONTACTS_FILEAS);

			if (fa != NULL && strcmp(fa, name) == 0)
				return true;
		}
	return false;
}

/* A device that cannot take any answer carrying the contact `broken`
 * asks again with the same key; everything else it takes. Returns the
 * key it ends at; *got_r counts what it took, *alone_r the answers that
 * carried `broken` alone. */
static const char *
broken_client(struct eas_client *c, const char *f, const char *key,
	      const char *broken, size_t *got_r, size_t *alone_r)
{
	*got_r = 0;
	*alone_r = 0;
	for (int round = 0; round < 60; round++) {
		const struct wbxml_node *coll;
		bool more;

		sync_from(c, f, key, 10, &coll);
		if (coll == NULL)
			return key; /* nothing more */
		more = wbxml_child(coll, EAS_AIRSYNC_MOREAVAILABLE) != NULL;
		if (carries(coll, broken)) {
			*alone_r += count_items(coll) == 1;
			continue; /* cannot parse it: the same key again */
		}
		*got_r += count_items(coll);
		key = arena_strdup(A,
				   wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY));
		if (!more && count_items(coll) == 0)
			return key;
	}
	CU_FAIL("the device never got through");
	return key;
}

static void
add_contact(struct eas_client *c, const char *f, const char *name)
{
	struct wbxml_node *app = app_new();
	const char *sid;
	int status;

	wbxml_add_text(A, app, EAS_CONTACTS_FILEAS, name);
	wbxml_add_text(A, app, EAS_CONTACTS_LASTNAME, name);
	CU_ASSERT_EQUAL_FATAL(eas_client_add(c, A, f, app, &sid, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
}

/* The lost answer is repeated byte for byte (more than once); the third
 * repeat is a loop: the answer goes one item at a time, the item the
 * device chokes on is isolated after it looped alone, `device list`
 * shows it and `device clearloop` sends it again. */
static void
test_sync_loop(void)
{
	struct eas_client *feed = device("loopFeed", "16.1");
	struct eas_client *c = device("loopDev", "16.1");
	const char *f = folder_of(c, EAS_FOLDER_CONTACTS);
	const char *names[] = {"Loop1", "Loop2", "Loop3", "Loop4", "Loop5"};
	const struct wbxml_node *coll;
	struct eas_response first, again;
	const char *k0, *k1, *key;
	size_t got, alone;
	char *out;

	for (size_t i = 0; i < N_ELEMENTS(names); i++)
		add_contact(feed, f, names[i]);
	sync_from(c, f, "0", 10, &coll);
	CU_ASSERT_PTR_NOT_NULL_FATAL(coll);
	k0 = arena_strdup(A, wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY));
	first = sync_from(c, f, k0, 10, &coll);
	CU_ASSERT_EQUAL(count_items(coll), 5);
	k1 = arena_strdup(A, wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY));
	/* lost answers: the same bytes, twice */
	for (int i = 0; i < 2; i++) {
		again = sync_from(c, f, k0, 10, &coll);
		CU_ASSERT_EQUAL_FATAL(again.body_len, first.body_len);
		CU_ASSERT(memcmp(again.body, first.body, first.body_len) == 0);
	}
	/* the third is a loop: one item, more to come, the same next key */
	sync_from(c, f, k0, 10, &coll);
	CU_ASSERT_EQUAL(count_items(coll), 1);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(coll, EAS_AIRSYNC_MOREAVAILABLE));
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY), k1);
	/* from there a device that chokes on Loop3 */
	key = broken_client(c, f, k0, "Loop3", &got, &alone);
	CU_ASSERT_EQUAL(got, 4);
	CU_ASSERT(alone >= 3);
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "isolated:     Contacts: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "loops:        Contacts: 2"));
	/* cleared: it comes again (and the device, mended, takes it) */
	CU_ASSERT_EQUAL(
		EASCTL(NULL, &out, "device", "clearloop", "ada", "loopDev"), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "1 isolated item sent again"));
	sync_from(c, f, key, 10, &coll);
	CU_ASSERT(carries(coll, "Loop3"));
	CU_ASSERT_EQUAL(count_items(coll), 1);
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NULL(strstr(out, "isolated:"));
	eas_client_free(&feed);
	eas_client_free(&c);
}

/* The same with Changes: the answer's items are held as older again and
 * come one at a time; the one the device chokes on stays at the version
 * it had until clearloop. */
static void
test_sync_loop_changes(void)
{
	struct eas_client *feed = device("loopFeed2", "16.1");
	struct eas_client *c = device("loopDev2", "16.1");
	const char *f = folder_of(c, EAS_FOLDER_CONTACTS);
	const struct wbxml_node *coll;
	struct eas_response first, again;
	struct eas_sync_result r;
	const char *k0, *key;
	size_t got, alone, changes = 0;
	char *out;

	sync_from(c, f, "0", 10, &coll);
	CU_ASSERT_PTR_NOT_NULL_FATAL(coll);
	k0 = arena_strdup(A, wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY));
	k0 = broken_client(c, f, k0, "nobody", &got, &alone);
	CU_ASSERT_EQUAL(got, 5);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(feed, A, f, NULL, &r), 0);
	for (size_t i = 0; i < r.count; i++)
		if (r.items[i].kind == EAS_ITEM_ADD) {
			change_one(feed, f, &r.items[i], EAS_CONTACTS_JOBTITLE,
				   "Edited");
			changes++;
		}
	CU_ASSERT_EQUAL(changes, 5);
	first = sync_from(c, f, k0, 10, &coll);
	CU_ASSERT_EQUAL(count_items(coll), 5);
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(
		wbxml_child(coll, EAS_AIRSYNC_COMMANDS), EAS_AIRSYNC_CHANGE));
	for (int i = 0; i < 2; i++) {
		again = sync_from(c, f, k0, 10, &coll);
		CU_ASSERT_EQUAL_FATAL(again.body_len, first.body_len);
		CU_ASSERT(memcmp(again.body, first.body, first.body_len) == 0);
	}
	key = broken_client(c, f, k0, "Loop3", &got, &alone);
	CU_ASSERT_EQUAL(got, 4);
	CU_ASSERT(alone >= 3);
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(out, "ada/loopDev2"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(strstr(out, "ada/loopDev2"), "isolated:     Contacts"));
	CU_ASSERT_EQUAL(
		EASCTL(NULL, &out, "device", "clearloop", "ada", "loopDev2"),
		0);
	sync_from(c, f, key, 10, &coll);
	CU_ASSERT(carries(coll, "Loop3"));
	CU_ASSERT_PTR_NOT_NULL(wbxml_child(
		wbxml_child(coll, EAS_AIRSYNC_COMMANDS), EAS_AIRSYNC_CHANGE));
	eas_client_free(&feed);
	eas_client_free(&c);
}

/* A raw FolderSync from key. */
static const struct wbxml_node *
foldersync_from(struct eas_client *c, const char *key,
		struct eas_response *r_out)
{
	struct wbxml_node *root = wbxml_new(A, EAS_FOLDERHIERARCHY_FOLDERSYNC);
	struct eas_response r;

	wbxml_add_text(A, root, EAS_FOLDERHIERARCHY_SYNCKEY, key);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_post(c, A, "FolderSync", root, NULL, &r), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.tree);
	if (r_out != NULL)
		*r_out = r;
	return r.tree;
}

static int64_t
folder_count(const struct wbxml_node *fs)
{
	int64_t n = -1;

	wbxml_child_int(wbxml_child(fs, EAS_FOLDERHIERARCHY_CHANGES),
			EAS_FOLDERHIERARCHY_COUNT, &n);
	return n;
}

static bool
names_folder(const struct wbxml_node *fs, const char *name)
{
	const struct wbxml_node *ch =
		wbxml_child(fs, EAS_FOLDERHIERARCHY_CHANGES);
	const struct wbxml_node *n;

	if (ch != NULL)
		wbxml_foreach(ch, n)
		{
			const char *d = wbxml_child_text(
				n, EAS_FOLDERHIERARCHY_DISPLAYNAME);

			if (d != NULL && strcmp(d, name) == 0)
				return true;
		}
	return false;
}

static void
folder_create(struct eas_client *c, const char *name)
{
	struct wbxml_node *root =
		wbxml_new(A, EAS_FOLDERHIERARCHY_FOLDERCREATE);
	struct eas_response r;
	int64_t st = 0;

	wbxml_add_text(A, root, EAS_FOLDERHIERARCHY_SYNCKEY, c->hierarchy_key);
	wbxml_add_text(A, root, EAS_FOLDERHIERARCHY_PARENTID, "0");
	wbxml_add_text(A, root, EAS_FOLDERHIERARCHY_DISPLAYNAME, name);
	wbxml_add_text(A, root, EAS_FOLDERHIERARCHY_TYPE, "12");
	CU_ASSERT_EQUAL_FATAL(
		eas_client_post(c, A, "FolderCreate", root, NULL, &r), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.tree);
	CU_ASSERT_EQUAL(
		wbxml_child_int(r.tree, EAS_FOLDERHIERARCHY_STATUS, &st), 1);
	CU_ASSERT_EQUAL_FATAL(st, 1);
	free(c->hierarchy_key);
	c->hierarchy_key =
		strdup(wbxml_child_text(r.tree, EAS_FOLDERHIERARCHY_SYNCKEY));
}

/* FolderSync: the lost answer twice byte for byte, then a loop: one
 * folder an answer, and the folder the device chokes on is isolated. A
 * device that asks for key 0 again and again gets one folder an answer
 * too. */
static void
test_foldersync_loop(void)
{
	struct eas_client *feed = device("fsFeed", "16.1");
	struct eas_client *c = device("fsDev", "16.1");
	struct eas_client *z = device("fsZero", "16.1");
	const char *k1 = arena_strdup(A, c->hierarchy_key), *key;
	struct eas_response first, again;
	const struct wbxml_node *fs;
	int64_t live;
	size_t alone = 0, taken = 0;
	char *out;

	folder_create(feed, "LoopFine");
	folder_create(feed, "LoopBroken");
	fs = foldersync_from(c, k1, &first);
	CU_ASSERT_EQUAL(folder_count(fs), 2);
	for (int i = 0; i < 2; i++) {
		foldersync_from(c, k1, &again);
		CU_ASSERT_EQUAL_FATAL(again.body_len, first.body_len);
		CU_ASSERT(memcmp(again.body, first.body, first.body_len) == 0);
	}
	fs = foldersync_from(c, k1, NULL);
	CU_ASSERT_EQUAL(folder_count(fs), 1);
	CU_ASSERT(names_folder(fs, "LoopFine"));
	key = arena_strdup(A,
			   wbxml_child_text(fs, EAS_FOLDERHIERARCHY_SYNCKEY));
	for (int round = 0; round < 20; round++) {
		fs = foldersync_from(c, key, NULL);
		if (names_folder(fs, "LoopBroken")) {
			alone += folder_count(fs) == 1;
			continue;
		}
		key = arena_strdup(
			A, wbxml_child_text(fs, EAS_FOLDERHIERARCHY_SYNCKEY));
		if (folder_count(fs) == 0)
			break;
	}
	CU_ASSERT_EQUAL(alone, 3);
	CU_ASSERT_EQUAL(folder_count(foldersync_from(c, key, NULL)), 0);
	CU_ASSERT_EQUAL(EASCTL(NULL, &out, "device", "list", "ada"), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(strstr(out, "ada/fsDev"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(strstr(out, "ada/fsDev"), "isolated:     hierarchy"));
	CU_ASSERT_EQUAL(
		EASCTL(NULL, &out, "device", "clearloop", "ada", "fsDev"), 0);
	fs = foldersync_from(c, key, NULL);
	CU_ASSERT(names_folder(fs, "LoopBroken"));

	/* key 0 over and over (the first came with device()) */
	fs = foldersync_from(z, "0", NULL);
	live = folder_count(fs);
	CU_ASSERT(live > 2);
	foldersync_from(z, "0", NULL);
	fs = foldersync_from(z, "0", NULL);
	CU_ASSERT_EQUAL(folder_count(fs), 1);
	key = arena_strdup(A,
			   wbxml_child_text(fs, EAS_FOLDERHIERARCHY_SYNCKEY));
	for (taken = 1; taken < (size_t)live + 2; taken++) {
		fs = foldersync_from(z, key, NULL);
		key = arena_strdup(
			A, wbxml_child_text(fs, EAS_FOLDERHIERARCHY_SYNCKEY));
		if (folder_count(fs) == 0)
			break;
		CU_ASSERT_EQUAL(folder_count(fs), 1);
		CU_ASSERT_PTR_NOT_NULL(wbxml_child(
			wbxml_child(fs, EAS_FOLDERHIERARCHY_CHANGES),
			EAS_FOLDERHIERARCHY_ADD));
	}
	CU_ASSERT_EQUAL(taken, (size_t)live);
	eas_client_free(&feed);
	eas_client_free(&c);
	eas_client_free(&z);
}

/* easd --loop-repeats 5: four lost answers in a row are still just
 * that; the fifth repeat is the loop. */
static void
test_loop_repeats_option(void)
{
	struct eas_client *feed = device("loopFeed5", "16.1");
	struct eas_client *c = device("loopDev5", "16.1");
	const char *f = folder_of(c, EAS_FOLDER_CONTACTS);
	const struct wbxml_node *coll;
	struct eas_response first, again;
	const char *k0;

	add_contact(feed, f, "Five1");
	add_contact(feed, f, "Five2");
	sync_from(c, f, "0", 10, &coll);
	CU_ASSERT_PTR_NOT_NULL_FATAL(coll);
	k0 = arena_strdup(A, wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY));
	first = sync_from(c, f, k0, 10, &coll);
	CU_ASSERT_EQUAL(count_items(coll), 2);
	for (int i = 0; i < 4; i++) {
		again = sync_from(c, f, k0, 10, &coll);
		CU_ASSERT_EQUAL_FATAL(again.body_len, first.body_len);
		CU_ASSERT(memcmp(again.body, first.body, first.body_len) == 0);
	}
	sync_from(c, f, k0, 10, &coll);
	CU_ASSERT_EQUAL(count_items(coll), 1);
	eas_client_free(&feed);
	eas_client_free(&c);
}

static int
suite_init_repeats5(void)
{
	static const char *const args[] = {"--loop-repeats", "5", NULL};

	setenv("TZ", "UTC", 1);
	srv = easd_start(args);
	A = arena_new(1 << 20);
	return srv == NULL ? -1 : 0;
}

static CU_TestInfo loop_option_tests[] = {
	{"--loop-repeats 5", test_loop_repeats_option},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo loop_tests[] = {
	{"a Sync loop: probe, isolate, clearloop", test_sync_loop},
	{"a Sync loop over Changes", test_sync_loop_changes},
	{"FolderSync loops, also on key 0", test_foldersync_loop},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo quirk_tests[] = {
	{"pyactivesync gets a full no-change Sync", test_quirk_full_sync},
	{"Thunderbird's add-on never gets OPAQUE", test_quirk_no_opaque},
	{"iOS: an empty Picture keeps the picture", test_quirk_ios_picture},
	{"Gmail: birthdays are the UTC day", test_quirk_gmail_dates},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo mail_tests[] = {
	{"delivered mail gets Return-Path from the envelope sender",
	 test_return_path},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo date_tests[] = {
	{"birthdays from UTC-11 to UTC+14 and the account's zone",
	 test_birthday_zones},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo occurrence_tests[] = {
	{"16.1 change and delete of one occurrence, seen at 14.1 and 16.1",
	 test_single_occurrence},
	CU_TEST_INFO_NULL,
};

static CU_TestInfo empty_tests[] = {
	{"Thunderbird 16.1 event Add with <Reminder/>",
	 test_thunderbird_event_add},
	{"evolution 16.1 Add with empty <Exceptions/>",
	 test_evolution_event_add},
	{"Thunderbird 14.1 contact Change with <Birthday/>",
	 test_thunderbird_contact_change},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"empty elements", suite_init, suite_clean, NULL, NULL, empty_tests},
	{"single occurrences", suite_init, suite_clean, NULL, NULL,
	 occurrence_tests},
	{"dates", suite_init, suite_clean, NULL, NULL, date_tests},
	{"mail", suite_init, suite_clean, NULL, NULL, mail_tests},
	{"what a phone edit keeps", suite_init, suite_clean, NULL, NULL,
	 keep_tests},
	{"edits elsewhere", suite_init, suite_clean, NULL, NULL,
	 elsewhere_tests},
	{"quirk table", suite_init, suite_clean, NULL, NULL, quirk_tests},
	{"loops", suite_init, suite_clean, NULL, NULL, loop_tests},
	{"loops, configured", suite_init_repeats5, suite_clean, NULL, NULL,
	 loop_option_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
