/* End-to-end tests of out of office: Settings Oof Set and Get at 12.1,
 * 14.1 and 16.1 (text and HTML, kept across a restart, set from easctl
 * too), the automatic replies at delivery (one per sender per period,
 * internal through local delivery, external through a real SMTP relay on
 * loopback), the messages never answered (lists, bulk, other automatic
 * replies, Bcc, oneself), OofState 2 outside its window, turning it off,
 * and the statuses for bad settings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "harness.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

#define WAIT_STEPS 3000 /* of 10 ms */

static struct relay_proc *relay;
static struct easd_proc *srv;

static const char *const *
server_args(void)
{
	static char url[64];
	static const char *args[] = {"--smtp-relay", url, "--smtp-insecure",
				     NULL};

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d",
		 relay != NULL ? relay->port : 1);
	return relay != NULL ? args : NULL;
}

static int
suite_init(void)
{
	relay = relay_start(0, NULL);
	srv = easd_start(server_args());
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	int rc = easd_stop(&srv) == 0 ? 0 : -1;

	relay_stop(&relay, false);
	return rc;
}

static int
run_easctl(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' --data '%s' %s >/dev/null 2>&1",
		 harness_easctl(), srv->dir, args);
	return system(cmd);
}

/* How many messages in login's Inbox contain needle. */
static size_t
inbox_count(const char *login, const char *needle)
{
	struct arena *a = arena_new(0);
	struct store *s = easd_store(srv);
	struct store_account acc;
	struct store_folder f;
	struct store_item *list = NULL;
	size_t n = 0, hits = 0;

	if (s != NULL && store_account_get(s, a, login, &acc) == STORE_OK &&
	    store_folder_get_by_type(s, a, acc.id, EAS_FOLDER_INBOX, &f) ==
		    STORE_OK &&
	    store_item_list(s, a, acc.id, f.id, 0, 100000, true, &list, &n) ==
		    STORE_OK)
		for (size_t i = 0; i < n; i++)
			if (strstr((const char *)list[i].data, needle) != NULL)
				hits++;
	store_close(&s);
	arena_free(&a);
	return hits;
}

static struct wbxml_node *
oof_set_req(struct arena *a, int state, const char *start, const char *end,
	    const char *text, const char *html)
{
	struct wbxml_node *q = wbxml_new(a, EAS_SETTINGS_SETTINGS);
	struct wbxml_node *oof = wbxml_add(a, q, EAS_SETTINGS_OOF);
	struct wbxml_node *set = wbxml_add(a, oof, EAS_SETTINGS_SET);
	static const uint16_t applies[3] = {
		EAS_SETTINGS_APPLIESTOINTERNAL,
		EAS_SETTINGS_APPLIESTOEXTERNALKNOWN,
		EAS_SETTINGS_APPLIESTOEXTERNALUNKNOWN};

	wbxml_add_int(a, set, EAS_SETTINGS_OOFSTATE, state);
	if (start != NULL)
		wbxml_add_text(a, set, EAS_SETTINGS_STARTTIME, start);
	if (end != NULL)
		wbxml_add_text(a, set, EAS_SETTINGS_ENDTIME, end);
	for (int i = 0; i < 3; i++) {
		struct wbxml_node *m =
			wbxml_add(a, set, EAS_SETTINGS_OOFMESSAGE);

		wbxml_add(a, m, applies[i]);
		wbxml_add_int(a, m, EAS_SETTINGS_ENABLED, 1);
		if (i == 0) {
			wbxml_add_text(a, m, EAS_SETTINGS_REPLYMESSAGE, text);
			wbxml_add_text(a, m, EAS_SETTINGS_BODYTYPE, "Text");
		} else {
			wbxml_add_text(a, m, EAS_SETTINGS_REPLYMESSAGE, html);
			wbxml_add_text(a, m, EAS_SETTINGS_BODYTYPE, "HTML");
		}
	}
	return q;
}

/* The Oof Status of a Settings answer, or -1. */
static int
oof_status(const struct eas_response *r)
{
	const struct wbxml_node *o =
		r->tree != NULL ? wbxml_child(r->tree, EAS_SETTINGS_OOF) : NULL;
	int64_t st = -1;

	if (o != NULL)
		wbxml_child_int(o, EAS_SETTINGS_STATUS, &st);
	return (int)st;
}

static int
settings_set(struct eas_client *c, struct arena *a, struct wbxml_node *q)
{
	struct eas_response r;

	if (eas_client_post(c, a, "Settings", q, NULL, &r) < 0 ||
	    r.http_status != 200)
		return -1;
	return oof_status(&r);
}

/* Get in body type bt; the Get element. */
static const struct wbxml_node *
settings_get(struct eas_client *c, struct arena *a, const char *bt)
{
	struct wbxml_node *q = wbxml_new(a, EAS_SETTINGS_SETTINGS);
	struct wbxml_node *oof = wbxml_add(a, q, EAS_SETTINGS_OOF);
	struct wbxml_node *get = wbxml_add(a, oof, EAS_SETTINGS_GET);
	struct eas_response r;
	const struct wbxml_node *o;

	wbxml_add_text(a, get, EAS_SETTINGS_BODYTYPE, bt);
	if (eas_client_post(c, a, "Settings", q, NULL, &r) < 0 ||
	    r.tree == NULL || oof_status(&r) != 1)
		return NULL;
	o = wbxml_child(r.tree, EAS_SETTINGS_OOF);
	return wbxml_child(o, EAS_SETTINGS_GET);
}

static const char *
message_of(const struct wbxml_node *get, uint16_t applies)
{
	const struct wbxml_node *m;

	wbxml_foreach(get, m)
	{
		if (m->tag == EAS_SETTINGS_OOFMESSAGE &&
		    wbxml_child(m, applies) != NULL)
			return wbxml_child_text(m, EAS_SETTINGS_REPLYMESSAGE);
	}
	return NULL;
}

static void
test_set_get_versions(void)
{
	static const char *const versions[] = {"12.1", "14.1", "16.1"};
	struct arena *a = arena_new(0);

	for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
		struct eas_client *c =
			harness_client_new(srv, HARNESS_BOB, "OOFV");
		const struct wbxml_node *get;
		char text[64];

		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		eas_client_set_version(c, versions[i]);
		CU_ASSERT_FATAL(eas_client_provision(c, a, NULL) == 0);
		snprintf(text, sizeof(text), "Away (%s).", versions[i]);
		CU_ASSERT_EQUAL(settings_set(c, a,
					     oof_set_req(a, 1, NULL, NULL, text,
							 "<p>Away, <b>back "
							 "soon</b>.</p><script>"
							 "x()</script>")),
				1);
		get = settings_get(c, a, "Text");
		CU_ASSERT_PTR_NOT_NULL_FATAL(get);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(get, EAS_SETTINGS_OOFSTATE), "1");
		CU_ASSERT_STRING_EQUAL(
			message_of(get, EAS_SETTINGS_APPLIESTOINTERNAL), text);
		/* HTML asked as text: the text of it */
		CU_ASSERT_PTR_NOT_NULL(strstr(
			message_of(get, EAS_SETTINGS_APPLIESTOEXTERNALUNKNOWN),
			"back soon"));
		/* and as HTML, as given (scripts kept, never run) */
		get = settings_get(c, a, "HTML");
		CU_ASSERT_PTR_NOT_NULL_FATAL(get);
		CU_ASSERT_PTR_NOT_NULL(strstr(
			message_of(get, EAS_SETTINGS_APPLIESTOEXTERNALKNOWN),
			"<script>x()</script>"));
		eas_client_free(&c);
	}
	CU_ASSERT_EQUAL(run_easctl("oof off bob"), 0);
	arena_free(&a);
}

static void
test_bad_settings(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, HARNESS_BOB, "OOFBAD");
	char *huge = xmalloc(70 * 1024);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	/* OofState out of range, times that are not times */
	CU_ASSERT_EQUAL(
		settings_set(c, a, oof_set_req(a, 3, NULL, NULL, "x", "y")), 5);
	CU_ASSERT_EQUAL(settings_set(c, a,
				     oof_set_req(a, 2, "yesterday", "tomorrow",
						 "x", "y")),
			5);
	/* a window that ends before it starts */
	CU_ASSERT_EQUAL(
		settings_set(c, a,
			     oof_set_req(a, 2, "2027-01-10T00:00:00.000Z",
					 "2027-01-01T00:00:00.000Z", "x", "y")),
		6);
	/* a reply over 64 KiB */
	memset(huge, 'a', 70 * 1024 - 1);
	huge[70 * 1024 - 1] = '\0';
	CU_ASSERT_EQUAL(
		settings_set(c, a, oof_set_req(a, 1, NULL, NULL, huge, "y")),
		5);
	/* nothing of it was kept */
	{
		const struct wbxml_node *get = settings_get(c, a, "Text");

		CU_ASSERT_PTR_NOT_NULL_FATAL(get);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(get, EAS_SETTINGS_OOFSTATE), "0");
	}
	free(huge);
	eas_client_free(&c);
	arena_free(&a);
}

/* A message to rcpt with the given headers; the envelope sender is the
 * From address (or envelope_from when given). */
static int
deliver(const char *rcpt, const char *envelope_from, const char *headers)
{
	char msg[2048], from[256] = "";
	const char *f = strstr(headers, "From: ");

	if (envelope_from != NULL) {
		snprintf(from, sizeof(from), "%s", envelope_from);
	} else if (f != NULL) {
		const char *lt = strchr(f, '<'), *end = strstr(f, "\r\n");

		if (lt != NULL && lt < end)
			snprintf(from, sizeof(from), "%.*s",
				 (int)(strchr(lt, '>') - lt - 1), lt + 1);
		else
			snprintf(from, sizeof(from), "%.*s", (int)(end - f - 6),
				 f + 6);
	}
	snprintf(msg, sizeof(msg), "%sTo: <%s>\r\n\r\nHello.\r\n", headers,
		 rcpt);
	return harness_lmtp_deliver_from(srv, from, rcpt, msg);
}

static void
test_replies(void)
{
	size_t before;

	/* ada is away; the internal and the external texts differ */
	CU_ASSERT_EQUAL_FATAL(
		run_easctl("oof set ada --internal 'Ada is away (inside).' "
			   "--external 'Ada is away (outside).'"),
		0);
	/* a colleague writes (sending from a phone): one internal reply */
	{
		struct arena *a = arena_new(0);
		struct eas_client *bob =
			harness_client(srv, HARNESS_BOB, "OOFB1");
		struct eas_send s = {.kind = EAS_SEND_NEW};
		static const char mime[] = "From: bob@example.org\r\n"
					   "To: ada@example.org\r\n"
					   "Subject: Lunch?\r\n\r\nLunch?\r\n";
		int status = -1;

		CU_ASSERT_PTR_NOT_NULL_FATAL(bob);
		s.mime = mime;
		s.mime_len = strlen(mime);
		CU_ASSERT_EQUAL(eas_client_send(bob, a, &s, &status), 0);
		CU_ASSERT_EQUAL(status, 0);
		CU_ASSERT_EQUAL(
			inbox_count(HARNESS_BOB, "Ada is away (inside)."), 1);
		CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB,
					    "Subject: Automatic reply: Lunch?"),
				1);
		CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB,
					    "Auto-Submitted: auto-replied"),
				1);
		/* a second message in the period: no second reply */
		CU_ASSERT_EQUAL(eas_client_send(bob, a, &s, &status), 0);
		CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB, "Ada is away"), 1);
		eas_client_free(&bob);
		arena_free(&a);
	}
	/* never: lists, bulk, other robots' replies, the null sender, Bcc */
	before = inbox_count(HARNESS_BOB, "Ada is away");
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: list@example.org\r\n"
				"List-Id: <team.example.org>\r\n"
				"Subject: list\r\n"),
			250);
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: news@example.org\r\n"
				"Precedence: bulk\r\nSubject: bulk\r\n"),
			250);
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: robot@example.org\r\n"
				"Auto-Submitted: auto-replied\r\n"
				"Subject: robot\r\n"),
			250);
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: MAILER-DAEMON@example.org\r\n"
				"Subject: bounce\r\n"),
			250);
	CU_ASSERT_EQUAL(harness_lmtp_deliver_from(
				srv, "bob@example.org", HARNESS_ADA_EMAIL,
				"From: bob@example.org\r\n"
				"To: team@example.org\r\n"
				"Subject: only Bcc\r\n\r\nHi.\r\n"),
			250);
	/* the null sender (a bounce) */
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, "",
				"From: bob@example.org\r\nSubject: dsn\r\n"),
			250);
	/* ada writing to herself */
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: ada@example.org\r\nSubject: note\r\n"),
			250);
	CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB, "Ada is away"), before);
	CU_ASSERT_EQUAL(inbox_count(HARNESS_ADA, "Automatic reply"), 0);

	/* an outside sender: the external text, through the relay */
	if (relay != NULL) {
		CU_ASSERT_EQUAL(
			deliver(HARNESS_ADA_EMAIL, NULL,
				"From: Vendor <sales@vendor.example>\r\n"
				"Subject: Offer\r\n"),
			250);
		for (int i = 0; i < WAIT_STEPS && relay_count(relay) < 1; i++)
			usleep(10 * 1000);
		CU_ASSERT_EQUAL_FATAL(relay_count(relay), 1);
		{
			char *m = relay_message(relay, 1);

			CU_ASSERT_PTR_NOT_NULL_FATAL(m);
			CU_ASSERT_PTR_NOT_NULL(
				strstr(m, "X-Relay-To: sales@vendor.example"));
			CU_ASSERT_PTR_NOT_NULL(
				strstr(m, "Ada is away (outside)."));
			CU_ASSERT_PTR_NOT_NULL(
				strstr(m, "Subject: Automatic reply: Offer"));
			free(m);
		}
		/* a sender in ada's contacts: the known-external text */
		{
			char path[300], cmd[400];
			FILE *f;
			char *m;

			snprintf(path, sizeof(path), "%s/partner.vcf",
				 srv->dir);
			f = fopen(path, "w");
			CU_ASSERT_PTR_NOT_NULL_FATAL(f);
			fputs("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Pat Partner\r\n"
			      "N:Partner;Pat;;;\r\n"
			      "EMAIL;TYPE=INTERNET:pat@friend.example\r\n"
			      "END:VCARD\r\n",
			      f);
			fclose(f);
			snprintf(cmd, sizeof(cmd), "import ada '%s'", path);
			CU_ASSERT_EQUAL_FATAL(run_easctl(cmd), 0);
			CU_ASSERT_EQUAL_FATAL(
				run_easctl("oof set ada --internal 'In.' "
					   "--known 'Ada is away (partners).' "
					   "--external 'Out.'"),
				0);
			CU_ASSERT_EQUAL(
				deliver(HARNESS_ADA_EMAIL, NULL,
					"From: Pat <pat@friend.example>\r\n"
					"Subject: Contract\r\n"),
				250);
			for (int i = 0;
			     i < WAIT_STEPS && relay_count(relay) < 2; i++)
				usleep(10 * 1000);
			CU_ASSERT_EQUAL_FATAL(relay_count(relay), 2);
			m = relay_message(relay, 2);
			CU_ASSERT_PTR_NOT_NULL_FATAL(m);
			CU_ASSERT_PTR_NOT_NULL(
				strstr(m, "X-Relay-To: pat@friend.example"));
			CU_ASSERT_PTR_NOT_NULL(
				strstr(m, "Ada is away (partners)."));
			free(m);
		}
	} else {
		fprintf(stderr, "no SMTP relay: external reply skipped\n");
	}

	/* off: no more replies */
	CU_ASSERT_EQUAL(run_easctl("oof off ada"), 0);
	CU_ASSERT_EQUAL(run_easctl("oof set ada --internal 'Back on Monday.'"),
			0);
	CU_ASSERT_EQUAL(run_easctl("oof off ada"), 0);
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: bob@example.org\r\nSubject: again\r\n"),
			250);
	CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB, "Back on Monday."), 0);
}

static void
test_window_and_restart(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c;
	const struct wbxml_node *get;
	char *dir = NULL;

	/* a window in the past: nothing is answered */
	CU_ASSERT_EQUAL(run_easctl("oof set ada --from 2020-01-01 --until "
				   "2020-01-31 --internal 'Old trip.'"),
			0);
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: bob@example.org\r\nSubject: now\r\n"),
			250);
	CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB, "Old trip."), 0);
	/* a window around now: answered (settings changed: bob again) */
	CU_ASSERT_EQUAL(run_easctl("oof set ada --from 2020-01-01 --until "
				   "2099-01-01 --internal 'Long trip.'"),
			0);
	CU_ASSERT_EQUAL(deliver(HARNESS_ADA_EMAIL, NULL,
				"From: bob@example.org\r\nSubject: now2\r\n"),
			250);
	CU_ASSERT_EQUAL(inbox_count(HARNESS_BOB, "Long trip."), 1);

	/* kept across a restart, as a phone sees it */
	easd_stop_keep(&srv, &dir);
	srv = easd_start_dir(dir, server_args());
	free(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	c = harness_client(srv, HARNESS_ADA, "OOFRESTART");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	get = settings_get(c, a, "Text");
	CU_ASSERT_PTR_NOT_NULL_FATAL(get);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(get, EAS_SETTINGS_OOFSTATE),
			       "2");
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(get, EAS_SETTINGS_STARTTIME),
			       "2020-01-01T00:00:00.000Z");
	CU_ASSERT_STRING_EQUAL(message_of(get, EAS_SETTINGS_APPLIESTOINTERNAL),
			       "Long trip.");
	CU_ASSERT_EQUAL(run_easctl("oof off ada"), 0);
	eas_client_free(&c);
	arena_free(&a);
}

static CU_TestInfo oof_tests[] = {
	{"Oof Set and Get at 12.1, 14.1, 16.1", test_set_get_versions},
	{"bad settings: statuses 5 and 6, nothing kept", test_bad_settings},
	{"automatic replies: once, internal, external, never to robots",
	 test_replies},
	{"OofState 2 window; kept across a restart", test_window_and_restart},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"oof", suite_init, suite_clean, NULL, NULL, oof_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
