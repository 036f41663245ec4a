/* End-to-end tests of Search, Find and ResolveRecipients against a real
 * easd: the GAL by first name, last name and address (properties set with
 * easctl, disabled accounts hidden, pictures), a mailbox corpus delivered
 * over LMTP in English, German and Chinese searched with folder and date
 * conditions, Range and Total, results fetched through ItemOperations,
 * Find at 16.1, recipients resolved (a colleague, an ambiguous name, an
 * outside address) with MergedFreeBusy from an event and a declined
 * meeting, and every security and bad-input case with its status. All of
 * it twice: on an SQLite data directory (FTS5), and on PostgreSQL (its own
 * full-text search) in a database of a server the test starts
 * (tests/pgtest.c), when PostgreSQL is installed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conv.h"
#include "harness.h"
#include "pgtest.h"
#include "test-main.h"
#include "util.h"
#include "xalloc.h"

static struct easd_proc *srv;
static struct eas_client *ada, *bob;
static int64_t grace_id;
/* the database of the PostgreSQL suite while it runs, else NULL */
static char *pg_url;
static const char *pg_server;

#define NS                                                                     \
	" xmlns:airsync=\"AirSync:\" xmlns:email=\"Email:\""                   \
	" xmlns:airsyncbase=\"AirSyncBase:\" xmlns:gal=\"GAL:\""               \
	" xmlns:io=\"ItemOperations:\" xmlns:search=\"Search:\""

/* POST an XML request; the decoded answer (NULL when none). */
static struct wbxml_node *
post(struct eas_client *c, struct arena *a, const char *cmd, const char *xml)
{
	struct wbxml_node *req;
	struct eas_response r;
	const char *err;

	if (wbxml_from_xml(a, xml, strlen(xml), &req, &err) < 0) {
		fprintf(stderr, "bad test XML: %s\n%s\n", err, xml);
		return NULL;
	}
	if (eas_client_post(c, a, cmd, req, NULL, &r) < 0 ||
	    r.http_status != 200) {
		fprintf(stderr, "%s: HTTP %ld\n", cmd, r.http_status);
		return NULL;
	}
	return r.tree;
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

static size_t
count_tag(const struct wbxml_node *n, uint16_t tag)
{
	size_t k = 0;
	const struct wbxml_node *c;

	if (n == NULL)
		return 0;
	wbxml_foreach(n, c)
	{
		if (c->tag == tag && c->child != NULL)
			k++;
	}
	return k;
}

static const struct wbxml_node *
store_of(const struct wbxml_node *root)
{
	const struct wbxml_node *r =
		root != NULL ? wbxml_child(root, EAS_SEARCH_RESPONSE) : NULL;

	return r != NULL ? wbxml_child(r, EAS_SEARCH_STORE) : NULL;
}

/* --- the fixture --- */

static const char *const corpus[] = {
	"From: Carol <carol@partner.example>\r\nTo: ada@example.org\r\n"
	"Subject: Quarterly budget review\r\n"
	"Date: Thu, 10 Jan 2030 09:00:00 +0000\r\n"
	"Message-ID: <m1@partner.example>\r\n\r\n"
	"Please review the budget numbers before Friday.\r\n",
	"From: Jürgen <juergen@partner.example>\r\nTo: ada@example.org\r\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen?=\r\n"
	"Date: Sun, 10 Feb 2030 09:00:00 +0000\r\n"
	"Message-ID: <m2@partner.example>\r\nMIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: 8bit\r\n\r\n"
	"Wir treffen uns im Büro am Marienplatz.\r\n",
	"From: Li <li@partner.example>\r\nTo: ada@example.org\r\n"
	"Subject: =?UTF-8?B?5Lya6K6u6YCa55+l?=\r\n"
	"Date: Sun, 10 Mar 2030 09:00:00 +0000\r\n"
	"Message-ID: <m3@partner.example>\r\nMIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\n"
	"5piO5aSp5LiK5Y2I5Y2B54K55byA5Lya77yM6K+35YeG5pe25Yiw44CC\r\n",
	"From: Carol <carol@partner.example>\r\nTo: ada@example.org\r\n"
	"Subject: Budget follow-up\r\n"
	"Date: Wed, 10 Apr 2030 09:00:00 +0000\r\n"
	"Message-ID: <m4@partner.example>\r\n\r\n"
	"The budget is approved.\r\n",
};

static int
run_easctl(const char *args)
{
	char cmd[1024];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s --data %s%s%s %s >/dev/null",
		 harness_easctl(), srv->dir, pg_url != NULL ? " --store " : "",
		 pg_url != NULL ? pg_url : "", args);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int
add_event(struct store *s, struct arena *a, int64_t account, const char *ical)
{
	struct store_item it;
	struct store_folder f;
	const char *err;

	memset(&it, 0, sizeof(it));
	if (conv_from_standard(a, STORE_CLASS_CALENDAR, ical, strlen(ical), &it,
			       &err) < 0) {
		fprintf(stderr, "event: %s\n", err);
		return -1;
	}
	if (store_folder_get_by_type(s, a, account, EAS_FOLDER_CALENDAR, &f) !=
	    STORE_OK)
		return -1;
	return store_item_add(s, a, account, f.id, &it, 0) == STORE_OK ? 0 : -1;
}

/* easd's arguments: the PostgreSQL database in its suite. */
static const char *const *
srv_args(void)
{
	static const char *args[3];

	if (pg_url == NULL)
		return NULL;
	args[0] = "--store";
	args[1] = pg_url;
	args[2] = NULL;
	return args;
}

static int
suite_init(void)
{
	struct arena *a = arena_new(4096);
	struct store *s;
	struct store_folder inbox, sub;
	int64_t id;
	int rc = -1;

	srv = easd_start(srv_args());
	if (srv == NULL)
		goto out;
	s = easd_store(srv);
	if (s == NULL ||
	    store_account_add(s, "grace", "grace.hopper@example.org",
			      "Grace Hopper", HARNESS_PASSWORD,
			      &grace_id) != STORE_OK ||
	    store_account_add(s, "gkelly", "grace.kelly@example.org",
			      "Grace Kelly", HARNESS_PASSWORD,
			      &id) != STORE_OK ||
	    store_account_add(s, "mallory", "mallory@example.org",
			      "Mallory Grace", HARNESS_PASSWORD,
			      &id) != STORE_OK ||
	    store_account_set_enabled(s, id, false) != STORE_OK ||
	    store_folder_get_by_type(s, a, srv->ada_id, EAS_FOLDER_INBOX,
				     &inbox) != STORE_OK ||
	    store_folder_create(s, a, srv->ada_id, inbox.id, "Projects",
				EAS_FOLDER_USER_MAIL, 0, &sub) != STORE_OK) {
		store_close(&s);
		goto out;
	}
	/* grace: busy 10:00-11:00, a declined meeting 11:00-12:00 on
	 * 2030-01-07 */
	if (add_event(s, a, grace_id,
		      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
		      "BEGIN:VEVENT\r\nUID:ev1\r\nDTSTAMP:20300101T000000Z\r\n"
		      "DTSTART:20300107T100000Z\r\nDTEND:20300107T110000Z\r\n"
		      "SUMMARY:Review\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n") <
		    0 ||
	    add_event(s, a, grace_id,
		      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n"
		      "BEGIN:VEVENT\r\nUID:ev2\r\nDTSTAMP:20300101T000000Z\r\n"
		      "DTSTART:20300107T110000Z\r\nDTEND:20300107T120000Z\r\n"
		      "SUMMARY:Declined\r\n"
		      "ORGANIZER:mailto:bob@example.org\r\n"
		      "ATTENDEE;PARTSTAT=DECLINED:mailto:"
		      "grace.hopper@example.org\r\n"
		      "END:VEVENT\r\nEND:VCALENDAR\r\n") < 0) {
		store_close(&s);
		goto out;
	}
	for (size_t i = 0; i < sizeof(corpus) / sizeof(*corpus); i++) {
		if (harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, corpus[i]) !=
		    250) {
			store_close(&s);
			goto out;
		}
	}
	harness_lmtp_deliver(srv, HARNESS_BOB_EMAIL,
			     "From: x@y.example\r\nTo: bob@example.org\r\n"
			     "Subject: bob's secret budget\r\n\r\nsecret\r\n");
	/* the last message of ada's moves to Inbox/Projects */
	{
		struct store_item *items;
		size_t n;

		if (store_item_list(s, a, srv->ada_id, inbox.id, 0, 10, false,
				    &items, &n) != STORE_OK ||
		    n != 4 ||
		    store_item_move(s, a, srv->ada_id, items[3].id, sub.id, 0,
				    NULL) != STORE_OK) {
			store_close(&s);
			goto out;
		}
	}
	store_close(&s);
	if (run_easctl("user set grace --phone '+1 555 0100' --title "
		       "'Rear Admiral' --company Navy --office 'Room 7'") != 0)
		goto out;
	ada = harness_client(srv, HARNESS_ADA, "srch1");
	bob = harness_client(srv, HARNESS_BOB, "srch2");
	if (ada == NULL || bob == NULL)
		goto out;
	eas_client_set_version(ada, "14.1");
	eas_client_set_version(bob, "14.1");
	if (eas_client_foldersync(ada, a, NULL) < 0 ||
	    eas_client_foldersync(bob, a, NULL) < 0)
		goto out;
	rc = 0;
out:
	arena_free(&a);
	return rc;
}

static int
suite_clean(void)
{
	eas_client_free(&ada);
	eas_client_free(&bob);
	return srv != NULL && easd_stop(&srv) != 0 ? -1 : 0;
}

static int
suite_pg_init(void)
{
	pg_url = pgtest_createdb("easd_e2e_search");
	return pg_url != NULL ? suite_init() : -1;
}

static int
suite_pg_clean(void)
{
	int rc = suite_clean();

	free(pg_url);
	pg_url = NULL;
	return rc;
}

/* --- GAL --- */

static const struct wbxml_node *
gal(struct arena *a, const char *query, const char *extra)
{
	char xml[2048];

	snprintf(xml, sizeof(xml),
		 "<Search xmlns=\"Search:\"><Store><Name>GAL</Name>"
		 "<Query>%s</Query><Options>%s</Options></Store></Search>",
		 query, extra != NULL ? extra : "<Range>0-9</Range>");
	return store_of(post(ada, a, "Search", xml));
}

static void
test_gal(void)
{
	struct arena *a = arena_new(4096);
	const struct wbxml_node *st, *r;
	static const char *const finds[] = {
		"Grace", "hopper", "grace.hopper@example.org", "grace.hop"};

	for (size_t i = 0; i < 4; i++) {
		bool found = false;

		st = gal(a, finds[i], NULL);
		CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "1");
		for (r = st != NULL ? st->child : NULL; r != NULL; r = r->next)
			if (r->tag == EAS_SEARCH_RESULT &&
			    strcmp(at(r, 2, EAS_SEARCH_PROPERTIES,
				      EAS_GAL_EMAILADDRESS),
				   "grace.hopper@example.org") == 0) {
				found = true;
				CU_ASSERT_STRING_EQUAL(at(r, 2,
							  EAS_SEARCH_PROPERTIES,
							  EAS_GAL_PHONE),
						       "+1 555 0100");
				CU_ASSERT_STRING_EQUAL(at(r, 2,
							  EAS_SEARCH_PROPERTIES,
							  EAS_GAL_TITLE),
						       "Rear Admiral");
				CU_ASSERT_STRING_EQUAL(at(r, 2,
							  EAS_SEARCH_PROPERTIES,
							  EAS_GAL_FIRSTNAME),
						       "Grace");
				CU_ASSERT_STRING_EQUAL(at(r, 2,
							  EAS_SEARCH_PROPERTIES,
							  EAS_GAL_LASTNAME),
						       "Hopper");
			}
		CU_ASSERT(found);
	}
	/* two Graces (Mallory Grace is disabled); Range and Total */
	st = gal(a, "grace", NULL);
	CU_ASSERT_EQUAL(count_tag(st, EAS_SEARCH_RESULT), 2);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_TOTAL), "2");
	st = gal(a, "grace", "<Range>1-1</Range>");
	CU_ASSERT_EQUAL(count_tag(st, EAS_SEARCH_RESULT), 1);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_RANGE), "1-1");
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_TOTAL), "2");
	CU_ASSERT_STRING_EQUAL(at(gal(a, "mallory", NULL), 1, EAS_SEARCH_TOTAL),
			       "0");
	/* nothing found: Range and Total all the same */
	st = gal(a, "zzzz", NULL);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "1");
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_TOTAL), "0");
	/* pictures (14.1): grace has none */
	st = gal(a, "hopper",
		 "<Range>0-9</Range><Picture><MaxPictures>1</MaxPictures>"
		 "</Picture>");
	CU_ASSERT_STRING_EQUAL(at(st, 4, EAS_SEARCH_RESULT,
				  EAS_SEARCH_PROPERTIES, EAS_GAL_PICTURE,
				  EAS_GAL_STATUS),
			       "173");
	/* bad input */
	CU_ASSERT_STRING_EQUAL(at(gal(a, "", NULL), 1, EAS_SEARCH_STATUS), "2");
	CU_ASSERT_STRING_EQUAL(
		at(gal(a, "grace", "<Range>5-1</Range>"), 1, EAS_SEARCH_STATUS),
		"2");
	CU_ASSERT_STRING_EQUAL(at(gal(a, "grace", "<Range>50-59</Range>"), 1,
				  EAS_SEARCH_STATUS),
			       "12");
	CU_ASSERT_STRING_EQUAL(
		at(gal(a, "\" * ( ) :", NULL), 1, EAS_SEARCH_STATUS), "2");
	CU_ASSERT_STRING_EQUAL(
		at(gal(a, "grace*) OR (", NULL), 1, EAS_SEARCH_STATUS), "1");
	{
		char big[400];

		memset(big, 'g', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		CU_ASSERT_STRING_EQUAL(
			at(gal(a, big, NULL), 1, EAS_SEARCH_STATUS), "8");
	}
	/* an unknown store */
	st = store_of(post(ada, a, "Search",
			   "<Search xmlns=\"Search:\"><Store><Name>"
			   "DocumentLibrary</Name><Query>x</Query></Store>"
			   "</Search>"));
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "2");
	/* never a password hash or another's mail in the GAL */
	st = gal(a, "ada", NULL);
	CU_ASSERT_EQUAL(count_tag(st, EAS_SEARCH_RESULT), 1);
	CU_ASSERT(strstr(eas_tree_xml(a, st), "$y$") == NULL);
	arena_free(&a);
}

/* --- Mailbox --- */

static const struct wbxml_node *
mailbox(struct eas_client *c, struct arena *a, const char *query,
	const char *options)
{
	char xml[4096];

	snprintf(xml, sizeof(xml),
		 "<Search xmlns=\"Search:\"" NS
		 "><Store><Name>Mailbox</Name><Query>%s</Query>"
		 "<Options>%s</Options></Store></Search>",
		 query, options != NULL ? options : "<Range>0-9</Range>");
	return store_of(post(c, a, "Search", xml));
}

static const char *
inbox_id(struct eas_client *c)
{
	const struct eas_folder *f = eas_client_folder_by_type(c, 2);

	return f != NULL ? f->server_id : "?";
}

static const char *
total_of(struct eas_client *c, struct arena *a, const char *text)
{
	char q[1024];

	snprintf(q, sizeof(q),
		 "<And><airsync:Class>Email</airsync:Class>"
		 "<FreeText>%s</FreeText></And>",
		 text);
	return at(mailbox(c, a, q, NULL), 1, EAS_SEARCH_TOTAL);
}

static void
test_mailbox(void)
{
	struct arena *a = arena_new(4096);
	const struct wbxml_node *st;
	char q[2048];

	/* English, German with umlauts (any case, accents or not), Chinese
	 * two-character words */
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "budget"), "2");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "BUDGET numbers"), "1");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "München"), "1");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "MUNCHEN"), "1");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "büro"), "1");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "会议"), "1");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "开会"), "1");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "carol@partner.example"), "2");
	/* only one's own mail */
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "secret"), "0");
	CU_ASSERT_STRING_EQUAL(total_of(bob, a, "budget"), "1");
	/* FTS5 syntax is only text */
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "\"budget"), "2");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "budget*"), "2");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "NEAR(budget review)"), "0");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "-budget"), "2");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "subject:budget"), "0");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "budget OR secret"), "0");
	st = mailbox(ada, a, "<FreeText>\" * ( ) - :</FreeText>", NULL);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "2");
	st = mailbox(ada, a, "<FreeText></FreeText>", NULL);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "2");

	/* CollectionId: the Inbox alone, then with its subfolder */
	snprintf(q, sizeof(q),
		 "<And><airsync:CollectionId>%s</airsync:CollectionId>"
		 "<FreeText>budget</FreeText></And>",
		 inbox_id(ada));
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a, q, NULL), 1, EAS_SEARCH_TOTAL), "1");
	CU_ASSERT_STRING_EQUAL(at(mailbox(ada, a, q,
					  "<Range>0-9</Range><DeepTraversal/"
					  "><RebuildResults/>"),
				  1, EAS_SEARCH_TOTAL),
			       "2");
	/* another account's folder is unknown here: FolderSync (11) */
	snprintf(q, sizeof(q),
		 "<And><airsync:CollectionId>%s</airsync:CollectionId>"
		 "<FreeText>budget</FreeText></And>",
		 "no-such-folder");
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a, q, NULL), 1, EAS_SEARCH_STATUS), "11");
	/* dates: after 1 Feb 2030 and before 1 Apr 2030: m2, m3 */
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a,
			   "<And><GreaterThan><email:DateReceived/>"
			   "<Value>2030-02-01T00:00:00.000Z</Value>"
			   "</GreaterThan><LessThan><email:DateReceived/>"
			   "<Value>2030-04-01T00:00:00.000Z</Value></LessThan>"
			   "</And>",
			   NULL),
		   1, EAS_SEARCH_TOTAL),
		"2");
	/* bounds that exclude each other: nothing, not an error */
	st = mailbox(ada, a,
		     "<And><GreaterThan><email:DateReceived/>"
		     "<Value>2030-04-01T00:00:00.000Z</Value></GreaterThan>"
		     "<LessThan><email:DateReceived/>"
		     "<Value>2030-02-01T00:00:00.000Z</Value></LessThan></And>",
		     NULL);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "1");
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_TOTAL), "0");
	st = mailbox(ada, a,
		     "<GreaterThan><email:DateReceived/><Value>yesterday"
		     "</Value></GreaterThan>",
		     NULL);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_STATUS), "2");
	/* Or */
	CU_ASSERT_STRING_EQUAL(at(mailbox(ada, a,
					  "<Or><FreeText>münchen</FreeText>"
					  "<FreeText>会议</FreeText></Or>",
					  NULL),
				  1, EAS_SEARCH_TOTAL),
			       "2");
	/* Range and Total over the whole mailbox (4 messages), newest
	 * first */
	st = mailbox(ada, a, "<airsync:Class>Email</airsync:Class>",
		     "<Range>1-2</Range>");
	CU_ASSERT_EQUAL(count_tag(st, EAS_SEARCH_RESULT), 2);
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_RANGE), "1-2");
	CU_ASSERT_STRING_EQUAL(at(st, 1, EAS_SEARCH_TOTAL), "4");
	CU_ASSERT_STRING_EQUAL(at(st, 3, EAS_SEARCH_RESULT,
				  EAS_SEARCH_PROPERTIES, EAS_EMAIL_SUBJECT),
			       "会议通知");
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a, "<airsync:Class>Email</airsync:Class>",
			   "<Range>4-9</Range>"),
		   1, EAS_SEARCH_STATUS),
		"12");
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a, "<airsync:Class>Email</airsync:Class>",
			   "<Range>9-4</Range>"),
		   1, EAS_SEARCH_STATUS),
		"2");
	/* another class has nothing here */
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a,
			   "<And><airsync:Class>Contacts</airsync:Class>"
			   "<FreeText>budget</FreeText></And>",
			   NULL),
		   1, EAS_SEARCH_TOTAL),
		"0");
	arena_free(&a);
}

/* Search result -> ItemOperations by LongId and by ServerId; the LongId
 * of another account is refused there and in SmartReply. */
static void
test_fetch_results(void)
{
	struct arena *a = arena_new(4096);
	const struct wbxml_node *st, *res, *f;
	const char *long_id, *cid;
	char xml[2048];

	st = mailbox(ada, a, "<FreeText>münchen</FreeText>",
		     "<Range>0-0</Range><airsyncbase:BodyPreference>"
		     "<airsyncbase:Type>1</airsyncbase:Type>"
		     "</airsyncbase:BodyPreference>");
	res = st != NULL ? wbxml_child(st, EAS_SEARCH_RESULT) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	long_id = at(res, 1, EAS_SEARCH_LONGID);
	cid = at(res, 1, EAS_AIRSYNC_COLLECTIONID);
	CU_ASSERT(long_id[0] != '\0' && cid[0] != '\0');
	CU_ASSERT(strstr(at(res, 3, EAS_SEARCH_PROPERTIES, EAS_AIRSYNCBASE_BODY,
			    EAS_AIRSYNCBASE_DATA),
			 "Marienplatz") != NULL);

	snprintf(xml, sizeof(xml),
		 "<ItemOperations xmlns=\"ItemOperations:\"" NS
		 "><Fetch><Store>Mailbox</Store><search:LongId>%s"
		 "</search:LongId></Fetch><Fetch><Store>Mailbox</Store>"
		 "<airsync:CollectionId>%s</airsync:CollectionId>"
		 "<airsync:ServerId>%s</airsync:ServerId></Fetch>"
		 "</ItemOperations>",
		 long_id, cid, long_id);
	st = post(ada, a, "ItemOperations", xml);
	f = st != NULL ? wbxml_child(st, EAS_ITEMOPERATIONS_RESPONSE) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	for (f = f->child; f != NULL; f = f->next) {
		CU_ASSERT_STRING_EQUAL(at(f, 1, EAS_ITEMOPERATIONS_STATUS),
				       "1");
		CU_ASSERT_STRING_EQUAL(at(f, 2, EAS_ITEMOPERATIONS_PROPERTIES,
					  EAS_EMAIL_SUBJECT),
				       "Grüße aus München");
	}
	/* bob with ada's LongId: not found */
	snprintf(xml, sizeof(xml),
		 "<ItemOperations xmlns=\"ItemOperations:\"" NS
		 "><Fetch><Store>Mailbox</Store><search:LongId>%s"
		 "</search:LongId></Fetch></ItemOperations>",
		 long_id);
	st = post(bob, a, "ItemOperations", xml);
	CU_ASSERT_STRING_EQUAL(at(st, 3, EAS_ITEMOPERATIONS_RESPONSE,
				  EAS_ITEMOPERATIONS_FETCH,
				  EAS_ITEMOPERATIONS_STATUS),
			       "6");
	CU_ASSERT(strstr(eas_tree_xml(a, st), "Marienplatz") == NULL);
	/* bob's SmartReply to ada's LongId: refused, nothing sent */
	{
		static const char mime[] = "From: bob@example.org\r\n"
					   "To: ada@example.org\r\n"
					   "Subject: Re\r\n\r\nhi\r\n";
		char b64[256];

		base64_encode(mime, strlen(mime), b64);
		snprintf(xml, sizeof(xml),
			 "<SmartReply xmlns=\"ComposeMail:\"><ClientId>sr-1"
			 "</ClientId><Source><LongId>%s</LongId></Source>"
			 "<Mime>%s</Mime></SmartReply>",
			 long_id, b64);
		st = post(bob, a, "SmartReply", xml);
		CU_ASSERT_PTR_NOT_NULL(st);
		CU_ASSERT(st != NULL &&
			  strcmp(at(st, 1, EAS_COMPOSEMAIL_STATUS), "") != 0);
		CU_ASSERT_STRING_EQUAL(total_of(ada, a, "Re"), "0");
	}
	arena_free(&a);
}

/* --- Find (16.1) --- */

static const struct wbxml_node *
find(struct arena *a, const char *crit)
{
	char xml[2048];

	snprintf(xml, sizeof(xml),
		 "<Find xmlns=\"Find:\" xmlns:airsync=\"AirSync:\">"
		 "<SearchId>0f0e0d0c-0b0a-0908-0706-050403020100</SearchId>"
		 "<ExecuteSearch>%s</ExecuteSearch></Find>",
		 crit);
	return post(ada, a, "Find", xml);
}

static void
test_find(void)
{
	struct arena *a = arena_new(4096);
	const struct wbxml_node *r, *res;
	char crit[1024];

	eas_client_set_version(ada, "16.1");
	snprintf(crit, sizeof(crit),
		 "<MailBoxSearchCriterion><Query><FreeText>budget</FreeText>"
		 "<airsync:Class>Email</airsync:Class>"
		 "<airsync:CollectionId>%s</airsync:CollectionId></Query>"
		 "<Options><Range>0-9</Range><DeepTraversal/></Options>"
		 "</MailBoxSearchCriterion>",
		 inbox_id(ada));
	r = find(a, crit);
	CU_ASSERT_STRING_EQUAL(at(r, 1, EAS_FIND_STATUS), "1");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_FIND_RESPONSE, EAS_FIND_STATUS),
			       "1");
	CU_ASSERT_STRING_EQUAL(
		at(r, 2, EAS_FIND_RESPONSE, EAS_ITEMOPERATIONS_STORE),
		"Mailbox");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_FIND_RESPONSE, EAS_FIND_TOTAL),
			       "2");
	res = r != NULL && wbxml_child(r, EAS_FIND_RESPONSE) != NULL
		      ? wbxml_child(wbxml_child(r, EAS_FIND_RESPONSE),
				    EAS_FIND_RESULT)
		      : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(res);
	CU_ASSERT(at(res, 1, EAS_AIRSYNC_SERVERID)[0] != '\0');
	CU_ASSERT(at(res, 1, EAS_AIRSYNC_COLLECTIONID)[0] != '\0');
	CU_ASSERT_STRING_EQUAL(
		at(res, 2, EAS_FIND_PROPERTIES, EAS_EMAIL_SUBJECT),
		"Budget follow-up");
	CU_ASSERT(strstr(at(res, 2, EAS_FIND_PROPERTIES, EAS_FIND_PREVIEW),
			 "approved") != NULL);
	/* a Range not starting at 0: 4 */
	r = find(a, "<MailBoxSearchCriterion><Query><FreeText>budget"
		    "</FreeText></Query><Options><Range>2-9</Range></Options>"
		    "</MailBoxSearchCriterion>");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_FIND_RESPONSE, EAS_FIND_STATUS),
			       "4");
	/* an unknown folder: FolderSync (3) */
	r = find(a, "<MailBoxSearchCriterion><Query><FreeText>budget"
		    "</FreeText><airsync:CollectionId>nope"
		    "</airsync:CollectionId></Query></MailBoxSearchCriterion>");
	CU_ASSERT_STRING_EQUAL(at(r, 1, EAS_FIND_STATUS), "3");
	/* no criterion, or both: 2 */
	CU_ASSERT_STRING_EQUAL(at(find(a, ""), 1, EAS_FIND_STATUS), "2");
	r = find(a, "<MailBoxSearchCriterion><Query><FreeText>\"*"
		    "</FreeText></Query></MailBoxSearchCriterion>");
	CU_ASSERT_STRING_EQUAL(at(r, 1, EAS_FIND_STATUS), "2");
	/* GAL */
	r = find(a, "<GalSearchCriterion><Query>grace</Query><Options>"
		    "<Range>0-9</Range></Options></GalSearchCriterion>");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_FIND_RESPONSE, EAS_FIND_STATUS),
			       "1");
	CU_ASSERT_STRING_EQUAL(
		at(r, 2, EAS_FIND_RESPONSE, EAS_ITEMOPERATIONS_STORE), "GAL");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_FIND_RESPONSE, EAS_FIND_TOTAL),
			       "2");
	CU_ASSERT_EQUAL(
		count_tag(r != NULL ? wbxml_child(r, EAS_FIND_RESPONSE) : NULL,
			  EAS_FIND_RESULT),
		2);
	eas_client_set_version(ada, "14.1");
	arena_free(&a);
}

/* --- ResolveRecipients --- */

static const struct wbxml_node *
resolve(struct arena *a, const char *to, const char *options)
{
	char xml[2048];

	snprintf(xml, sizeof(xml),
		 "<ResolveRecipients xmlns=\"ResolveRecipients:\"><To>%s</To>"
		 "<Options>%s</Options></ResolveRecipients>",
		 to, options != NULL ? options : "");
	return post(ada, a, "ResolveRecipients", xml);
}

static void
test_resolve(void)
{
	struct arena *a = arena_new(4096);
	const struct wbxml_node *r;

	/* a colleague by address, with free/busy over 09:00-13:00: busy
	 * 10-11, the declined meeting 11-12 free */
	r = resolve(a, "grace.hopper@example.org",
		    "<CertificateRetrieval>2</CertificateRetrieval>"
		    "<Availability><StartTime>2030-01-07T09:00:00.000Z"
		    "</StartTime><EndTime>2030-01-07T13:00:00.000Z</EndTime>"
		    "</Availability>");
	CU_ASSERT_STRING_EQUAL(at(r, 1, EAS_RESOLVERECIPIENTS_STATUS), "1");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "1");
	CU_ASSERT_STRING_EQUAL(at(r, 3, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_RECIPIENT,
				  EAS_RESOLVERECIPIENTS_TYPE),
			       "1");
	CU_ASSERT_STRING_EQUAL(at(r, 3, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_RECIPIENT,
				  EAS_RESOLVERECIPIENTS_DISPLAYNAME),
			       "Grace Hopper");
	CU_ASSERT_STRING_EQUAL(at(r, 4, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_RECIPIENT,
				  EAS_RESOLVERECIPIENTS_AVAILABILITY,
				  EAS_RESOLVERECIPIENTS_MERGEDFREEBUSY),
			       "00220000");
	CU_ASSERT_STRING_EQUAL(at(r, 4, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_RECIPIENT,
				  EAS_RESOLVERECIPIENTS_CERTIFICATES,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "7");
	/* a colleague by name */
	r = resolve(a, "Grace Hopper", NULL);
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "1");
	/* an ambiguous name: both Graces; with a limit of 1, a partial
	 * list */
	r = resolve(a, "Grace", NULL);
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "2");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_RECIPIENTCOUNT),
			       "2");
	CU_ASSERT_EQUAL(
		count_tag(r != NULL ? wbxml_child(
					      r, EAS_RESOLVERECIPIENTS_RESPONSE)
				    : NULL,
			  EAS_RESOLVERECIPIENTS_RECIPIENT),
		2);
	r = resolve(a, "Grace",
		    "<MaxAmbiguousRecipients>1</MaxAmbiguousRecipients>");
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "3");
	CU_ASSERT_EQUAL(
		count_tag(r != NULL ? wbxml_child(
					      r, EAS_RESOLVERECIPIENTS_RESPONSE)
				    : NULL,
			  EAS_RESOLVERECIPIENTS_RECIPIENT),
		1);
	/* an outside address */
	r = resolve(a, "someone@elsewhere.test", NULL);
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "4");
	/* a disabled account is not resolved */
	r = resolve(a, "mallory@example.org", NULL);
	CU_ASSERT_STRING_EQUAL(at(r, 2, EAS_RESOLVERECIPIENTS_RESPONSE,
				  EAS_RESOLVERECIPIENTS_STATUS),
			       "4");
	/* bad input: end before start, no To */
	r = resolve(a, "grace.hopper@example.org",
		    "<Availability><StartTime>2030-01-07T13:00:00.000Z"
		    "</StartTime><EndTime>2030-01-07T09:00:00.000Z</EndTime>"
		    "</Availability>");
	CU_ASSERT_STRING_EQUAL(at(r, 1, EAS_RESOLVERECIPIENTS_STATUS), "5");
	r = post(ada, a, "ResolveRecipients",
		 "<ResolveRecipients xmlns=\"ResolveRecipients:\"><Options/>"
		 "</ResolveRecipients>");
	CU_ASSERT_STRING_EQUAL(at(r, 1, EAS_RESOLVERECIPIENTS_STATUS), "5");
	arena_free(&a);
}

static void
test_options(void)
{
	struct arena *a = arena_new(1024);
	struct eas_response r;

	CU_ASSERT_EQUAL(eas_client_options(ada, a, &r), 0);
	CU_ASSERT(r.ms_commands != NULL &&
		  strstr(r.ms_commands, "Search") != NULL &&
		  strstr(r.ms_commands, "Find") != NULL &&
		  strstr(r.ms_commands, "ResolveRecipients") != NULL);
	arena_free(&a);
}

#define BURST 20

/* With easd down after a kill -9: each of the burst's messages is in
 * the account's index or in its queue, one or the other. */
static void
indexed_or_queued(const char *dir, int64_t account)
{
	struct store_search_cond c = {.kind = STORE_SEARCH_TEXT,
				      .text = "airship"};
	char *path =
		pg_url != NULL ? xstrdup(pg_url) : xasprintf("%s/easd.db", dir);
	struct arena *a = arena_new(4096);
	struct store_item *items;
	struct store *s = NULL;
	const char *err;
	int64_t found = -1;
	size_t n = 0, queued = 0;

	CU_ASSERT_EQUAL(store_open(path, &s, &err), STORE_OK);
	if (s == NULL)
		goto out;
	CU_ASSERT_EQUAL(store_search_mail(s, a, account, &c, 0, BURST, false,
					  &items, &n, &found),
			STORE_OK);
	CU_ASSERT_EQUAL(
		store_search_pending(s, a, account, 1000, 0, false, &items, &n),
		STORE_OK);
	for (size_t i = 0; i < n; i++)
		if (items[i].meta.subject != NULL &&
		    strncmp(items[i].meta.subject, "Airship crew ", 13) == 0)
			queued++;
	CU_ASSERT_EQUAL(found + (int64_t)queued, BURST);
	store_close(&s);
out:
	arena_free(&a);
	free(path);
}

/* Two deliveries, one deleted and one moved to Sent Items at once, while
 * the indexer may or may not have reached them: the deleted one is never
 * found, the moved one only in its new folder; then it is deleted too. */
static void
moved_and_deleted(struct arena *a)
{
	struct store_folder inbox, sent;
	struct store_item *items, moved;
	int64_t del = 0, mov = 0;
	struct store *s;
	size_t n = 0;
	char q[512];

	for (int i = 1; i <= 2; i++) {
		snprintf(q, sizeof(q),
			 "From: Carol <carol@partner.example>\r\n"
			 "To: ada@example.org\r\nSubject: Blimp %d\r\n"
			 "Message-ID: <b%d@partner.example>\r\n\r\n"
			 "The blimp is grounded.\r\n",
			 i, i);
		CU_ASSERT_EQUAL_FATAL(
			harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, q), 250);
	}
	s = easd_store(srv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(store_folder_get_by_type(s, a, srv->ada_id,
						 EAS_FOLDER_INBOX, &inbox),
			STORE_OK);
	CU_ASSERT_EQUAL(store_folder_get_by_type(s, a, srv->ada_id,
						 EAS_FOLDER_SENT, &sent),
			STORE_OK);
	CU_ASSERT_EQUAL(store_item_list(s, a, srv->ada_id, inbox.id, 0, 1000,
					false, &items, &n),
			STORE_OK);
	for (size_t i = 0; i < n; i++) {
		const char *subj = items[i].meta.subject;

		if (subj != NULL && strcmp(subj, "Blimp 1") == 0)
			del = items[i].id;
		else if (subj != NULL && strcmp(subj, "Blimp 2") == 0)
			mov = items[i].id;
	}
	CU_ASSERT_EQUAL(store_item_delete(s, srv->ada_id, del, 0), STORE_OK);
	CU_ASSERT_EQUAL(
		store_item_move(s, a, srv->ada_id, mov, sent.id, 0, &moved),
		STORE_OK);
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "blimp"), "1");
	snprintf(q, sizeof(q),
		 "<And><airsync:CollectionId>%s</airsync:CollectionId>"
		 "<FreeText>blimp</FreeText></And>",
		 inbox.server_id);
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a, q, NULL), 1, EAS_SEARCH_TOTAL), "0");
	snprintf(q, sizeof(q),
		 "<And><airsync:CollectionId>%s</airsync:CollectionId>"
		 "<FreeText>blimp</FreeText></And>",
		 sent.server_id);
	CU_ASSERT_STRING_EQUAL(
		at(mailbox(ada, a, q, NULL), 1, EAS_SEARCH_TOTAL), "1");
	CU_ASSERT_EQUAL(store_item_delete(s, srv->ada_id, moved.id, 0),
			STORE_OK);
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "blimp"), "0");
	store_close(&s);
}

/* Deliveries are indexed by the indexer thread, in batches: a Search
 * right after a delivery finds the message all the same (it indexes what
 * its account has queued first), and a burst of deliveries acknowledged
 * just before a kill -9 is each indexed or queued (the queue is written
 * with the message), and indexed when easd starts again. Runs last: it
 * restarts the server. */
static void
test_deferred_index(void)
{
	static const char msg[] =
		"From: Carol <carol@partner.example>\r\nTo: ada@example.org\r\n"
		"Subject: Zeppelin schedule\r\n"
		"Message-ID: <z1@partner.example>\r\n\r\n"
		"The zeppelin leaves at noon.\r\n";
	struct arena *a = arena_new(4096);
	struct store *s;
	int64_t pending = -1, account = srv->ada_id;
	char *dir;
	int status;

	CU_ASSERT_EQUAL_FATAL(harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, msg),
			      250);
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "zeppelin"), "1");

	for (int i = 0; i < BURST; i++) {
		char m[512];

		snprintf(m, sizeof(m),
			 "From: Carol <carol@partner.example>\r\n"
			 "To: ada@example.org\r\nSubject: Airship crew %d\r\n"
			 "Message-ID: <a%d@partner.example>\r\n\r\n"
			 "The airship crew meets at ten.\r\n",
			 i, i);
		CU_ASSERT_EQUAL_FATAL(
			harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, m), 250);
	}
	kill(srv->pid, SIGKILL);
	status = easd_stop_keep(&srv, &dir);
	CU_ASSERT_EQUAL(status, 128 + SIGKILL);
	indexed_or_queued(dir, account);
	srv = easd_start_dir(dir, srv_args());
	free(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	/* indexed at start, without a search (bounded wait) */
	s = easd_store(srv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (int i = 0; i < 200 && pending != 0; i++) {
		CU_ASSERT_EQUAL(store_search_pending_count(s, 0, &pending),
				STORE_OK);
		if (pending != 0)
			usleep(50 * 1000);
	}
	store_close(&s);
	CU_ASSERT_EQUAL(pending, 0);
	eas_client_free(&ada);
	ada = harness_client(srv, HARNESS_ADA, "ada-after-kill");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ada);
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "airship"), "20");
	CU_ASSERT_STRING_EQUAL(total_of(ada, a, "zeppelin"), "1");
	moved_and_deleted(a);
	arena_free(&a);
}

static CU_TestInfo tests[] = {
	{"GAL by first name, last name, address; bad input", test_gal},
	{"Mailbox: corpus, folders, dates, Range, Total, syntax", test_mailbox},
	{"results fetched by LongId; another account's refused",
	 test_fetch_results},
	{"Find at 16.1", test_find},
	{"ResolveRecipients with MergedFreeBusy", test_resolve},
	{"OPTIONS lists the commands", test_options},
	{"indexed in batches: found at once, kept across kill -9, moved, "
	 "deleted",
	 test_deferred_index},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"search", suite_init, suite_clean, NULL, NULL, tests},
	{"search-postgresql", suite_pg_init, suite_pg_clean, NULL, NULL, tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	const char *why;

	pg_server = pgtest_start("easd_e2e_search0", &why);
	if (pg_server == NULL) {
		printf("e2e-test-search: PostgreSQL skipped: %s\n", why);
		if (strstr(why, "not installed") == NULL)
			return 1;
		suites[1] = (CU_SuiteInfo)CU_SUITE_INFO_NULL;
	}
	return test_main(suites);
}
