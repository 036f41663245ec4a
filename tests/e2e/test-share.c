/* End-to-end tests of sharing against a real easd with three people (ada,
 * bob, cy) and a shared mailbox (info@): both members see the team Inbox
 * fill over LMTP, one reads a message and the other's parked Ping wakes
 * with the Change; a reply goes out as info@ (send-as, its Sent Items) and
 * on behalf of it (Sender); ada's calendar is read-only for bob (his
 * writes refused, the item sent back) and writable for cy (her Add wakes
 * ada's phone); ada's address book shows on bob's phone; a grant removed
 * takes the folder away at the next FolderSync, pushed to a waiting Ping,
 * and afterwards no id of it works; and every id of ada's that was not
 * shared is refused to each grantee whatever right it holds elsewhere. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"

#define CLIENT_TIMEOUT_MS 30000
#define LONG_HEARTBEAT 600

static struct easd_proc *srv;
static struct arena *A;

static int
easctl(const char *a1, const char *a2, const char *a3, const char *a4,
       const char *a5, const char *a6, const char *a7)
{
	const char *argv[] = {harness_easctl(),
			      "--data",
			      srv->dir,
			      a1,
			      a2,
			      a3,
			      a4,
			      a5,
			      a6,
			      a7,
			      NULL};
	char *out = NULL;
	int rc = harness_run(argv, &out, 60000);

	if (rc != 0)
		fprintf(stderr, "easctl %s %s: rc %d: %s\n", a1, a2 ? a2 : "",
			rc, out != NULL ? out : "");
	free(out);
	return rc;
}

/* easctl share list USER's output (heap) */
static char *
share_list(const char *user)
{
	const char *argv[] = {harness_easctl(), "--data", srv->dir, "share",
			      "list",		user,	  NULL};
	char *out = NULL;

	CU_ASSERT_EQUAL(harness_run(argv, &out, 60000), 0);
	return out;
}

static int
suite_init(void)
{
	static const char *const args[] = {"--heartbeat-min", "1", NULL};

	setenv("TZ", "UTC", 1);
	srv = easd_start(args);
	A = arena_new(1 << 20);
	if (srv == NULL)
		return -1;
	/* cy, and the team mailbox with ada and bob as members */
	if (easctl("user", "add", "cy", "--email", "cy@example.org",
		   "--password", HARNESS_PASSWORD) != 0 ||
	    easctl("user", "add", "info", "--email", "info@example.org",
		   "--shared", NULL) != 0 ||
	    easctl("member", "add", "info", "ada", NULL, NULL, NULL) != 0 ||
	    easctl("member", "add", "info", "bob", NULL, NULL, NULL) != 0)
		return -1;
	return 0;
}

static int
suite_clean(void)
{
	arena_free(&A);
	return easd_stop(&srv) == 0 ? 0 : -1;
}

static struct eas_client *
device(const char *user, const char *id)
{
	struct eas_client *c = harness_client(srv, user, id);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	c->timeout_ms = CLIENT_TIMEOUT_MS;
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, A, NULL), 0);
	return c;
}

/* The folder named name under the folder named parent_name. */
static const struct eas_folder *
shared_folder(const struct eas_client *c, const char *parent_name,
	      const char *name)
{
	for (size_t i = 0; i < c->nfolders; i++) {
		const struct eas_folder *p = &c->folders[i];

		if (strcmp(p->name, parent_name) != 0 ||
		    strcmp(p->parent_id, "0") != 0)
			continue;
		for (size_t k = 0; k < c->nfolders; k++)
			if (strcmp(c->folders[k].parent_id, p->server_id) ==
				    0 &&
			    strcmp(c->folders[k].name, name) == 0)
				return &c->folders[k];
	}
	return NULL;
}

/* A Ping on its own thread, so that the test can make the change. */
struct ping_job {
	struct eas_client *c;
	struct arena *a;
	const char *ids[2];
	size_t n;
	int rc, status;
	const char **changed;
	size_t nchanged;
	pthread_t thread;
};

static void *
ping_thread(void *arg)
{
	struct ping_job *j = arg;

	j->rc = eas_client_ping(j->c, j->a, LONG_HEARTBEAT, j->ids, j->n,
				&j->status, &j->changed, &j->nchanged);
	return NULL;
}

static void
ping_start(struct ping_job *j, struct eas_client *c, const char *id)
{
	int parked;

	memset(j, 0, sizeof(*j));
	j->c = c;
	j->a = arena_new(0);
	j->ids[0] = id;
	j->n = 1;
	parked = harness_log_count(srv, "push: parked");
	CU_ASSERT_FATAL(pthread_create(&j->thread, NULL, ping_thread, j) == 0);
	/* a wake-up if it parked, an answer at once if not: either way the
	 * Ping reports the change */
	harness_wait_log(srv, "push: parked", parked + 1, 5000);
}

static bool
ping_join(struct ping_job *j, const char *id)
{
	bool hit = false;

	pthread_join(j->thread, NULL);
	for (size_t i = 0; i < j->nchanged; i++)
		hit = hit || strcmp(j->changed[i], id) == 0;
	arena_free(&j->a);
	return j->rc == 0 && (id == NULL || hit);
}

static struct wbxml_node *
event(const char *subject)
{
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	int64_t start = time_now() + 7 * 86400 - time_now() % 3600;
	char s[32], e[32];

	time_format_compact(start, s);
	time_format_compact(start + 3600, e);
	wbxml_add_text(A, app, EAS_CALENDAR_ALLDAYEVENT, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_BUSYSTATUS, "2");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, s);
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, e);
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, subject);
	return app;
}

static const struct eas_item *
item_named(const struct eas_sync_result *r, uint16_t tag, const char *text)
{
	for (size_t i = 0; i < r->count; i++) {
		const char *t =
			r->items[i].appdata != NULL
				? wbxml_child_text(r->items[i].appdata, tag)
				: NULL;

		if (t != NULL && strcmp(t, text) == 0)
			return &r->items[i];
	}
	return NULL;
}

static void
test_shared_mailbox(void)
{
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-1");
	struct eas_client *bob = device(HARNESS_BOB, "share-bob-1");
	const struct eas_folder *fa, *fb, *top;
	struct eas_sync_result ra, rb;
	struct eas_command cmd;
	struct ping_job pj;
	struct wbxml_node *ad;
	const char *sid;
	char *prev;
	int status = 0;

	/* the team Inbox under a folder named after the mailbox, with the
	 * type of a user-created mail folder */
	fa = shared_folder(ada, "info@example.org", "Inbox");
	fb = shared_folder(bob, "info@example.org", "Inbox");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fa);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	CU_ASSERT_EQUAL(fa->type, 12);
	CU_ASSERT_STRING_EQUAL(fa->server_id, fb->server_id);
	top = eas_client_folder_find(ada, fa->parent_id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	CU_ASSERT_STRING_EQUAL(top->parent_id, "0");
	/* the own Inbox is still there, apart */
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_by_type(ada, 2));

	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, fa->server_id, NULL, &ra),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, fb->server_id, NULL, &rb),
			      0);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, "info@example.org",
					     "From: customer@example.net\n"
					     "To: info@example.org\n"
					     "Message-ID: <q1@example.net>\n"
					     "Subject: Where is my order?\n\n"
					     "Order 42 has not come.\n"),
			250);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, fa->server_id, NULL, &ra),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, fb->server_id, NULL, &rb),
			      0);
	CU_ASSERT_EQUAL_FATAL(ra.count, 1);
	CU_ASSERT_EQUAL_FATAL(rb.count, 1);
	CU_ASSERT_STRING_EQUAL(ra.items[0].server_id, rb.items[0].server_id);
	sid = ra.items[0].server_id;

	/* ada reads it; bob's waiting phone is woken and gets the Change */
	ping_start(&pj, bob, fb->server_id);
	ad = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_int(A, ad, EAS_EMAIL_READ, 1);
	CU_ASSERT_EQUAL(
		eas_client_change(ada, A, fa->server_id, sid, ad, &status), 0);
	CU_ASSERT(ping_join(&pj, fb->server_id));
	CU_ASSERT_EQUAL(pj.status, 2);
	prev = strdup(eas_client_sync_key(bob, fb->server_id));
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, fb->server_id, NULL, &rb),
			      0);
	CU_ASSERT_EQUAL_FATAL(rb.count, 1);
	CU_ASSERT_EQUAL(rb.items[0].kind, EAS_ITEM_CHANGE);
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(rb.items[0].appdata, EAS_EMAIL_READ), "1");
	/* the answer lost on the way: the same key gets the same answer */
	{
		char *next = strdup(rb.sync_key);

		eas_client_set_sync_key(bob, fb->server_id, prev);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_sync(bob, A, fb->server_id, NULL, &rb), 0);
		CU_ASSERT_EQUAL(rb.count, 1);
		CU_ASSERT_STRING_EQUAL(rb.sync_key, next);
		free(next);
		free(prev);
	}
	/* ada's own phone is not told of its own change */
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, fa->server_id, NULL, &ra),
			      0);
	CU_ASSERT_EQUAL(ra.count, 0);

	/* bob takes the message into his own Inbox (MoveItems across
	 * owners): gone from the team Inbox for ada, his own now */
	{
		const struct eas_folder *mine =
			eas_client_folder_by_type(bob, 2);
		struct wbxml_node *q = wbxml_new(A, EAS_MOVE_MOVEITEMS);
		struct wbxml_node *mv = wbxml_add(A, q, EAS_MOVE_MOVE);
		const struct wbxml_node *rn;
		struct eas_response resp;
		struct store *st;
		struct store_item it;
		const char *dst;
		int64_t id = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(mine);
		wbxml_add_text(A, mv, EAS_MOVE_SRCMSGID, sid);
		wbxml_add_text(A, mv, EAS_MOVE_SRCFLDID, fb->server_id);
		wbxml_add_text(A, mv, EAS_MOVE_DSTFLDID, mine->server_id);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_post(bob, A, "MoveItems", q, NULL, &resp),
			0);
		rn = resp.tree != NULL
			     ? wbxml_child(resp.tree, EAS_MOVE_RESPONSE)
			     : NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(rn);
		CU_ASSERT_STRING_EQUAL(wbxml_child_text(rn, EAS_MOVE_STATUS),
				       "3");
		dst = wbxml_child_text(rn, EAS_MOVE_DSTMSGID);
		CU_ASSERT_PTR_NOT_NULL_FATAL(dst);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_sync(ada, A, fa->server_id, NULL, &ra), 0);
		CU_ASSERT_EQUAL(ra.count, 1);
		if (ra.count == 1)
			CU_ASSERT_EQUAL(ra.items[0].kind, EAS_ITEM_DELETE);
		st = easd_store(srv);
		CU_ASSERT_PTR_NOT_NULL_FATAL(st);
		CU_ASSERT_EQUAL(str_to_int64(strrchr(dst, ':') + 1, &id), 0);
		CU_ASSERT_EQUAL(store_item_get_by_id(st, A, srv->bob_id, id,
						     false, &it),
				STORE_OK);
		CU_ASSERT_EQUAL(it.account_id, srv->bob_id);
		CU_ASSERT_EQUAL(store_item_get_by_id(st, A, srv->ada_id, id,
						     false, &it),
				STORE_NOTFOUND);
		store_close(&st);
	}

	/* nobody logs in as the shared mailbox itself */
	{
		struct eas_client *info = eas_client_new(
			srv->url, "info", HARNESS_PASSWORD, "share-info", NULL);
		struct eas_response r;

		CU_ASSERT_PTR_NOT_NULL_FATAL(info);
		CU_ASSERT_EQUAL(
			eas_client_post(info, A, "FolderSync", NULL, NULL, &r),
			0);
		CU_ASSERT_EQUAL(r.http_status, 401);
		eas_client_free(&info);
	}
	(void)cmd;
	eas_client_free(&ada);
	eas_client_free(&bob);
}

/* The stored message cy received from send, by Subject. */
static char *
received(int64_t account_id, const char *subject)
{
	struct store *s = easd_store(srv);
	struct store_folder inbox;
	struct store_item *items;
	size_t n;
	char *r = NULL;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(
		store_folder_get_by_type(s, A, account_id, 2, &inbox),
		STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_item_list(s, A, account_id, inbox.id, 0,
					      1000, true, &items, &n),
			      STORE_OK);
	for (size_t i = 0; i < n && r == NULL; i++)
		if (items[i].meta.subject != NULL &&
		    strcmp(items[i].meta.subject, subject) == 0)
			r = strdup((const char *)items[i].data);
	store_close(&s);
	return r;
}

static int64_t
account_id(const char *login)
{
	struct store *s = easd_store(srv);
	struct store_account acc;
	int64_t id = 0;

	if (s != NULL && store_account_get(s, A, login, &acc) == STORE_OK)
		id = acc.id;
	store_close(&s);
	return id;
}

static void
test_send_as(void)
{
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-2");
	struct eas_client *cy = device("cy", "share-cy-1");
	const struct eas_folder *sent, *inbox;
	const struct eas_item *q;
	struct eas_sync_result r;
	struct eas_send snd;
	const char *msg_as = "From: Info <info@example.org>\r\n"
			     "To: cy@example.org\r\n"
			     "Subject: Your order\r\n\r\n"
			     "It left today.\r\n";
	const char *msg_behalf = "From: Info <info@example.org>\r\n"
				 "To: bob@example.org\r\n"
				 "Sender: someone@else.example\r\n"
				 "Subject: On behalf\r\n\r\n"
				 "From cy, for the team.\r\n";
	char *got;
	int status = -1;

	/* ada, a member, answers cy's question in the team Inbox as info@
	 * (SmartReply, its Source in the shared folder) and keeps the copy
	 * in the team's Sent Items */
	inbox = shared_folder(ada, "info@example.org", "Inbox");
	CU_ASSERT_PTR_NOT_NULL_FATAL(inbox);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(ada, A, inbox->server_id, NULL, &r), 0);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, "info@example.org",
					     "From: cy@example.org\n"
					     "To: info@example.org\n"
					     "Subject: My order\n\n"
					     "Where is it?\n"),
			250);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(ada, A, inbox->server_id, NULL, &r), 0);
	q = item_named(&r, EAS_EMAIL_SUBJECT, "My order");
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	memset(&snd, 0, sizeof(snd));
	snd.kind = EAS_SEND_REPLY;
	snd.folder_id = inbox->server_id;
	snd.item_id = q->server_id;
	snd.mime = msg_as;
	snd.mime_len = strlen(msg_as);
	snd.save_in_sent = true;
	CU_ASSERT_EQUAL(eas_client_send(ada, A, &snd, &status), 0);
	CU_ASSERT_EQUAL(status, 0);
	got = received(account_id("cy"), "Your order");
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "From: Info <info@example.org>"));
	CU_ASSERT_PTR_NULL(strstr(got, "Sender:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "Where is it?")); /* quoted */
	free(got);
	sent = shared_folder(ada, "info@example.org", "Sent Items");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sent);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(ada, A, sent->server_id, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.count, 1);
	CU_ASSERT_PTR_NOT_NULL(item_named(&r, EAS_EMAIL_SUBJECT, "Your order"));

	/* cy, no member, may not */
	memset(&snd, 0, sizeof(snd));
	snd.mime = msg_behalf;
	snd.mime_len = strlen(msg_behalf);
	CU_ASSERT_EQUAL(eas_client_send(cy, A, &snd, &status), 0);
	CU_ASSERT_EQUAL(status, 130);
	/* with send-on-behalf the message says who sent it */
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "info", "*", "cy",
				     "--rights", "send-on-behalf"),
			      0);
	CU_ASSERT_EQUAL(eas_client_send(cy, A, &snd, &status), 0);
	CU_ASSERT_EQUAL(status, 0);
	got = received(account_id("bob"), "On behalf");
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "From: Info <info@example.org>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(got, "Sender: cy <cy@example.org>"));
	CU_ASSERT_PTR_NULL(strstr(got, "someone@else"));
	free(got);
	/* a send right alone shows no folder */
	CU_ASSERT_EQUAL(eas_client_foldersync(cy, A, NULL), 0);
	CU_ASSERT_PTR_NULL(shared_folder(cy, "info@example.org", "Inbox"));
	CU_ASSERT_EQUAL(
		easctl("share", "remove", "info", "*", "cy", NULL, NULL), 0);
	eas_client_free(&ada);
	eas_client_free(&cy);
}

static void
test_shared_calendar(void)
{
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-3");
	struct eas_client *bob, *cy;
	const struct eas_folder *own, *fb, *fc;
	struct eas_sync_result r;
	struct eas_command cmd;
	struct ping_job pj;
	const struct eas_item *it;
	const char *sid = NULL;
	int status = 0;

	own = eas_client_folder_by_type(ada, 8);
	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, own->server_id, NULL, &r),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_add(ada, A, own->server_id,
					     event("Dentist"), &sid, &status),
			      0);
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Calendar", "bob",
				     "--rights", "read"),
			      0);
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Calendar", "cy",
				     "--rights", "write"),
			      0);
	{
		char *out = share_list("bob");

		CU_ASSERT_PTR_NOT_NULL_FATAL(out);
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "Calendar"));
		CU_ASSERT_PTR_NOT_NULL(strstr(out, "read"));
		CU_ASSERT_PTR_NULL(strstr(out, "cy@example.org"));
		free(out);
	}
	/* nonsense refused with the usage or the reason */
	CU_ASSERT_EQUAL(easctl("share", "add", "ada", "Calendar", "bob",
			       "--rights", "admin"),
			2);
	CU_ASSERT_EQUAL(easctl("share", "add", "ada", "No such", "bob",
			       "--rights", "read"),
			1);
	CU_ASSERT_EQUAL(easctl("share", "add", "ada", "Calendar", "ada",
			       "--rights", "read"),
			1);
	CU_ASSERT_EQUAL(easctl("member", "add", "ada", "bob", NULL, NULL, NULL),
			1);
	bob = device(HARNESS_BOB, "share-bob-3");
	cy = device("cy", "share-cy-3");
	fb = shared_folder(bob, "Ada Lovelace", "Calendar");
	fc = shared_folder(cy, "Ada Lovelace", "Calendar");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
	CU_ASSERT_EQUAL(fb->type, 13);
	/* a grant of the calendar opens nothing else of ada's */
	CU_ASSERT_PTR_NULL(shared_folder(bob, "Ada Lovelace", "Inbox"));
	CU_ASSERT_PTR_NULL(shared_folder(bob, "Ada Lovelace", "Contacts"));

	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, fb->server_id, NULL, &r),
			      0);
	CU_ASSERT_EQUAL_FATAL(r.count, 1);
	it = item_named(&r, EAS_CALENDAR_SUBJECT, "Dentist");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(it->server_id, sid);

	/* read-only: bob's Add and Change refused (Status 6), and the event
	 * goes back to his phone as it is */
	status = 0;
	CU_ASSERT_NOT_EQUAL(eas_client_add(bob, A, fb->server_id,
					   event("Bob's party"), NULL, &status),
			    0);
	CU_ASSERT_EQUAL(status, 6);
	memset(&cmd, 0, sizeof(cmd));
	cmd.kind = EAS_ITEM_CHANGE;
	cmd.server_id = sid;
	cmd.appdata = event("Cancelled by Bob");
	eas_client_sync_commands(bob, A, fb->server_id, &cmd, 1, &r);
	CU_ASSERT_EQUAL_FATAL(r.nreplies, 1);
	CU_ASSERT_EQUAL(r.replies[0].status, 6);
	CU_ASSERT_PTR_NOT_NULL(item_named(&r, EAS_CALENDAR_SUBJECT, "Dentist"));
	cmd.kind = EAS_ITEM_DELETE;
	cmd.appdata = NULL;
	eas_client_sync_commands(bob, A, fb->server_id, &cmd, 1, &r);
	CU_ASSERT_EQUAL_FATAL(r.nreplies, 1);
	CU_ASSERT_EQUAL(r.replies[0].status, 6);

	/* writable for cy: her Add reaches ada's phone, woken */
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, own->server_id, NULL, &r),
			      0);
	ping_start(&pj, ada, own->server_id);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(cy, A, fc->server_id, NULL, &r),
			      0);
	CU_ASSERT_EQUAL(eas_client_add(cy, A, fc->server_id,
				       event("School play"), NULL, &status),
			0);
	CU_ASSERT(ping_join(&pj, own->server_id));
	CU_ASSERT_EQUAL(pj.status, 2);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, own->server_id, NULL, &r),
			      0);
	CU_ASSERT_PTR_NOT_NULL(
		item_named(&r, EAS_CALENDAR_SUBJECT, "School play"));
	/* and bob, who may read it, sees it too; the event stays ada's */
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, fb->server_id, NULL, &r),
			      0);
	CU_ASSERT_PTR_NOT_NULL(
		item_named(&r, EAS_CALENDAR_SUBJECT, "School play"));
	CU_ASSERT_STRING_EQUAL(eas_client_folder_by_type(ada, 8)->server_id,
			       own->server_id);
	eas_client_free(&ada);
	eas_client_free(&bob);
	eas_client_free(&cy);
}

static struct wbxml_node *
contact(const char *first, const char *last)
{
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	wbxml_add_text(A, app, EAS_CONTACTS_FIRSTNAME, first);
	wbxml_add_text(A, app, EAS_CONTACTS_LASTNAME, last);
	wbxml_add_text(A, app, EAS_CONTACTS_EMAIL1ADDRESS,
		       "grandma@example.net");
	return app;
}

static void
test_shared_contacts(void)
{
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-4");
	struct eas_client *bob;
	const struct eas_folder *own, *fb;
	struct eas_sync_result r;
	int status = 0;

	own = eas_client_folder_by_type(ada, 9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, own->server_id, NULL, &r),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_add(ada, A, own->server_id,
					     contact("Grandma", "Lovelace"),
					     NULL, &status),
			      0);
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Contacts", "bob",
				     "--rights", "write"),
			      0);
	bob = device(HARNESS_BOB, "share-bob-4");
	fb = shared_folder(bob, "Ada Lovelace", "Contacts");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	CU_ASSERT_EQUAL(fb->type, 14);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, fb->server_id, NULL, &r),
			      0);
	CU_ASSERT_PTR_NOT_NULL(
		item_named(&r, EAS_CONTACTS_FIRSTNAME, "Grandma"));
	/* bob adds the plumber; ada's phone has him */
	CU_ASSERT_EQUAL(eas_client_add(bob, A, fb->server_id,
				       contact("Mario", "Plumber"), NULL,
				       &status),
			0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, own->server_id, NULL, &r),
			      0);
	CU_ASSERT_PTR_NOT_NULL(item_named(&r, EAS_CONTACTS_FIRSTNAME, "Mario"));
	/* a grant to the team is a grant to each member */
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "cy", "Contacts", "info",
				     "--rights", "read"),
			      0);
	CU_ASSERT_EQUAL(eas_client_foldersync(ada, A, NULL), 0);
	CU_ASSERT_EQUAL(eas_client_foldersync(bob, A, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(
		shared_folder(ada, "cy@example.org", "Contacts"));
	CU_ASSERT_PTR_NOT_NULL(
		shared_folder(bob, "cy@example.org", "Contacts"));
	CU_ASSERT_EQUAL(
		easctl("share", "remove", "cy", "Contacts", "info", NULL, NULL),
		0);
	CU_ASSERT_EQUAL(eas_client_foldersync(ada, A, NULL), 0);
	CU_ASSERT_PTR_NULL(shared_folder(ada, "cy@example.org", "Contacts"));
	eas_client_free(&ada);
	eas_client_free(&bob);
}

/* Every way bob might reach a folder or item of ada's that he holds no
 * grant on (or no longer holds), by id. */
static void
assert_unreachable(struct eas_client *bob, const char *cid, const char *sid,
		   const char *own_cid)
{
	struct eas_sync_result r;
	struct wbxml_node *q, *n;
	const struct wbxml_node *rn;
	struct eas_response resp;
	const struct wbxml_node *props;
	int64_t est = 0;
	int status = 0;

	/* Sync: the hierarchy changed (12) */
	eas_client_set_sync_key(bob, cid, NULL);
	eas_client_sync(bob, A, cid, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 12);
	/* ItemOperations Fetch by CollectionId and ServerId, and by LongId */
	eas_client_fetch(bob, A, cid, sid, &props, &status);
	CU_ASSERT_EQUAL(status, 6);
	q = wbxml_new(A, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
	n = wbxml_add(A, q, EAS_ITEMOPERATIONS_FETCH);
	wbxml_add_text(A, n, EAS_ITEMOPERATIONS_STORE, "Mailbox");
	wbxml_add_text(A, n, EAS_SEARCH_LONGID, sid);
	CU_ASSERT_EQUAL(
		eas_client_post(bob, A, "ItemOperations", q, NULL, &resp), 0);
	rn = resp.tree != NULL
		     ? wbxml_child(resp.tree, EAS_ITEMOPERATIONS_RESPONSE)
		     : NULL;
	rn = rn != NULL ? wbxml_child(rn, EAS_ITEMOPERATIONS_FETCH) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rn);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(rn, EAS_ITEMOPERATIONS_STATUS),
			       "6");
	/* MoveItems out of it, and of its item into his own folder */
	q = wbxml_new(A, EAS_MOVE_MOVEITEMS);
	n = wbxml_add(A, q, EAS_MOVE_MOVE);
	wbxml_add_text(A, n, EAS_MOVE_SRCMSGID, sid);
	wbxml_add_text(A, n, EAS_MOVE_SRCFLDID, cid);
	wbxml_add_text(A, n, EAS_MOVE_DSTFLDID, own_cid);
	n = wbxml_add(A, q, EAS_MOVE_MOVE);
	wbxml_add_text(A, n, EAS_MOVE_SRCMSGID, sid);
	wbxml_add_text(A, n, EAS_MOVE_SRCFLDID, own_cid);
	wbxml_add_text(A, n, EAS_MOVE_DSTFLDID, cid);
	CU_ASSERT_EQUAL(eas_client_post(bob, A, "MoveItems", q, NULL, &resp),
			0);
	rn = resp.tree != NULL ? wbxml_child(resp.tree, EAS_MOVE_RESPONSE)
			       : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rn);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(rn, EAS_MOVE_STATUS), "1");
	rn = wbxml_next_same(rn);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rn);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(rn, EAS_MOVE_STATUS), "1");
	/* GetItemEstimate: an invalid collection (2) */
	eas_client_estimate(bob, A, cid, &est, &status);
	CU_ASSERT_EQUAL(status, 2);
	/* SmartReply with it as the Source */
	{
		const char *m = "From: bob@example.org\r\nTo: x@example.org\r\n"
				"Subject: Re\r\n\r\nhi\r\n";
		struct eas_send snd;

		memset(&snd, 0, sizeof(snd));
		snd.kind = EAS_SEND_REPLY;
		snd.mime = m;
		snd.mime_len = strlen(m);
		snd.folder_id = cid;
		snd.item_id = sid;
		CU_ASSERT_EQUAL(eas_client_send(bob, A, &snd, &status), 0);
		CU_ASSERT_EQUAL(status, 150);
	}
}

static void
test_revocation(void)
{
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-5");
	struct eas_client *bob;
	const struct eas_folder *own, *fb, *inbox;
	struct eas_sync_result r;
	struct ping_job pj;
	char *cid, *sid;
	int status = 0;
	const char *added = NULL;

	own = eas_client_folder_by_type(ada, 7); /* Tasks */
	CU_ASSERT_PTR_NOT_NULL_FATAL(own);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(ada, A, own->server_id, NULL, &r),
			      0);
	{
		struct wbxml_node *app =
			wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

		wbxml_add_text(A, app, EAS_TASKS_SUBJECT, "Water plants");
		CU_ASSERT_EQUAL_FATAL(eas_client_add(ada, A, own->server_id,
						     app, &added, &status),
				      0);
	}
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Tasks", "bob",
				     "--rights", "owner"),
			      0);
	bob = device(HARNESS_BOB, "share-bob-5");
	fb = shared_folder(bob, "Ada Lovelace", "Tasks");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	CU_ASSERT_EQUAL(fb->type, 15);
	cid = strdup(fb->server_id);
	sid = strdup(added);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(bob, A, cid, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.count, 1);
	inbox = eas_client_folder_by_type(bob, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inbox);

	/* removed while bob's phone waits: the Ping says the hierarchy
	 * changed (7, MS-ASCMD 2.2.3.177.13), the next FolderSync deletes
	 * the folder */
	ping_start(&pj, bob, cid);
	CU_ASSERT_EQUAL(
		easctl("share", "remove", "ada", "Tasks", "bob", NULL, NULL),
		0);
	ping_join(&pj, NULL); /* the client reports 7 as a failure */
	CU_ASSERT_EQUAL(pj.status, 7);
	CU_ASSERT_EQUAL(eas_client_foldersync(bob, A, &status), 0);
	CU_ASSERT_PTR_NULL(eas_client_folder_find(bob, cid));
	CU_ASSERT_PTR_NULL(shared_folder(bob, "Ada Lovelace", "Tasks"));
	assert_unreachable(bob, cid, sid, inbox->server_id);
	free(cid);
	free(sid);
	eas_client_free(&ada);
	eas_client_free(&bob);
}

/* What a grantee with each right reaches of ada's that was not shared:
 * nothing, by any id, whether it guesses the shared form of a ServerId or
 * uses ada's own. */
static void
test_cross_account(void)
{
	static const char *const rights[] = {"read", "write", "owner"};
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-6");
	const struct eas_folder *inbox;
	struct eas_sync_result r;
	int64_t ada_id = account_id("ada");
	const char *sid;

	inbox = eas_client_folder_by_type(ada, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inbox);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL,
					     "From: doctor@example.net\n"
					     "To: ada@example.org\n"
					     "Subject: Results\n\nprivate\n"),
			250);
	eas_client_set_sync_key(ada, inbox->server_id, NULL);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(ada, A, inbox->server_id, NULL, &r), 0);
	CU_ASSERT_FATAL(r.count >= 1);
	sid = arena_strdup(A, r.items[r.count - 1].server_id);
	for (size_t i = 0; i < N_ELEMENTS(rights); i++) {
		char dev[32];
		struct eas_client *cy;
		const struct eas_folder *own;
		const char *guess = arena_printf(
			A, "s%lld.%s", (long long)ada_id, inbox->server_id);

		CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Notes",
					     "cy", "--rights", rights[i]),
				      0);
		snprintf(dev, sizeof(dev), "share-cy-x%zu", i);
		cy = device("cy", dev);
		CU_ASSERT_PTR_NOT_NULL(
			shared_folder(cy, "Ada Lovelace", "Notes"));
		own = eas_client_folder_by_type(cy, 2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(own);
		/* the shared form of ada's Inbox, and ada's own ids */
		assert_unreachable(cy, guess, sid, own->server_id);
		{
			const struct wbxml_node *props;
			int status = 0;

			eas_client_fetch(cy, A, own->server_id, sid, &props,
					 &status);
			CU_ASSERT_EQUAL(status, 6);
		}
		eas_client_free(&cy);
	}
	CU_ASSERT_EQUAL(
		easctl("share", "remove", "ada", "Notes", "cy", NULL, NULL), 0);
	eas_client_free(&ada);
}

/* FolderCreate/Update/Delete with the client's hierarchy key; the Status,
 * the key kept on success. */
static int
folder_cmd(struct eas_client *c, const char *cmd, uint16_t root,
	   const char *server_id, const char *parent, const char *name,
	   const char **new_id_r)
{
	struct wbxml_node *q = wbxml_new(A, root);
	struct eas_response r;
	const char *key;
	int64_t st = -1;

	wbxml_add_text(A, q, EAS_FOLDERHIERARCHY_SYNCKEY,
		       c->hierarchy_key != NULL ? c->hierarchy_key : "0");
	if (server_id != NULL)
		wbxml_add_text(A, q, EAS_FOLDERHIERARCHY_SERVERID, server_id);
	if (parent != NULL)
		wbxml_add_text(A, q, EAS_FOLDERHIERARCHY_PARENTID, parent);
	if (name != NULL)
		wbxml_add_text(A, q, EAS_FOLDERHIERARCHY_DISPLAYNAME, name);
	if (root == EAS_FOLDERHIERARCHY_FOLDERCREATE)
		wbxml_add_int(A, q, EAS_FOLDERHIERARCHY_TYPE, 17);
	if (eas_client_post(c, A, cmd, q, NULL, &r) < 0 || r.tree == NULL)
		return -1;
	wbxml_child_int(r.tree, EAS_FOLDERHIERARCHY_STATUS, &st);
	key = wbxml_child_text(r.tree, EAS_FOLDERHIERARCHY_SYNCKEY);
	if (st == 1 && key != NULL) {
		free(c->hierarchy_key);
		c->hierarchy_key = strdup(key);
	}
	if (new_id_r != NULL)
		*new_id_r =
			wbxml_child_text(r.tree, EAS_FOLDERHIERARCHY_SERVERID);
	return (int)st;
}

/* The owner right renames and deletes the owner's folder over EAS; write
 * does not; nobody creates folders in another mailbox. */
static void
test_owner_right(void)
{
	struct eas_client *ada = device(HARNESS_ADA, "share-ada-7");
	struct eas_client *bob, *cy;
	const struct eas_folder *fb, *fc;
	const char *id = NULL;
	char *cid;

	CU_ASSERT_EQUAL_FATAL(folder_cmd(ada, "FolderCreate",
					 EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL,
					 "0", "Recipes", &id),
			      1);
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Recipes", "bob",
				     "--rights", "owner"),
			      0);
	CU_ASSERT_EQUAL_FATAL(easctl("share", "add", "ada", "Recipes", "cy",
				     "--rights", "write"),
			      0);
	bob = device(HARNESS_BOB, "share-bob-7");
	cy = device("cy", "share-cy-7");
	fb = shared_folder(bob, "Ada Lovelace", "Recipes");
	fc = shared_folder(cy, "Ada Lovelace", "Recipes");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fc);
	CU_ASSERT_EQUAL(fb->type, 17);
	cid = strdup(fb->server_id);
	/* write is not enough to rename or delete */
	CU_ASSERT_EQUAL(folder_cmd(cy, "FolderUpdate",
				   EAS_FOLDERHIERARCHY_FOLDERUPDATE,
				   fc->server_id, fc->parent_id, "Mine", NULL),
			2);
	CU_ASSERT_EQUAL(folder_cmd(cy, "FolderDelete",
				   EAS_FOLDERHIERARCHY_FOLDERDELETE,
				   fc->server_id, NULL, NULL, NULL),
			3);
	/* no folder is created in another mailbox */
	CU_ASSERT_EQUAL(folder_cmd(bob, "FolderCreate",
				   EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL, cid,
				   "Cakes", NULL),
			5);
	/* owner: bob renames it where it is; ada and cy see the new name */
	CU_ASSERT_EQUAL(folder_cmd(bob, "FolderUpdate",
				   EAS_FOLDERHIERARCHY_FOLDERUPDATE, cid,
				   fb->parent_id, "Family recipes", NULL),
			1);
	CU_ASSERT_EQUAL(eas_client_foldersync(ada, A, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_find(ada, "Family recipes"));
	CU_ASSERT_EQUAL(eas_client_foldersync(cy, A, NULL), 0);
	CU_ASSERT_PTR_NOT_NULL(
		shared_folder(cy, "Ada Lovelace", "Family recipes"));
	/* and deletes it: gone for all three */
	CU_ASSERT_EQUAL(folder_cmd(bob, "FolderDelete",
				   EAS_FOLDERHIERARCHY_FOLDERDELETE, cid, NULL,
				   NULL, NULL),
			1);
	CU_ASSERT_EQUAL(eas_client_foldersync(ada, A, NULL), 0);
	CU_ASSERT_PTR_NULL(eas_client_folder_find(ada, "Family recipes"));
	CU_ASSERT_EQUAL(eas_client_foldersync(cy, A, NULL), 0);
	CU_ASSERT_PTR_NULL(shared_folder(cy, "Ada Lovelace", "Family recipes"));
	CU_ASSERT_EQUAL(eas_client_foldersync(bob, A, NULL), 0);
	CU_ASSERT_PTR_NULL(eas_client_folder_find(bob, cid));
	free(cid);
	eas_client_free(&ada);
	eas_client_free(&bob);
	eas_client_free(&cy);
}

static CU_TestInfo tests[] = {
	{"shared mailbox: two members, one copy, woken", test_shared_mailbox},
	{"send as, on behalf, refused without a grant", test_send_as},
	{"shared calendar: read-only and writable", test_shared_calendar},
	{"shared address book", test_shared_contacts},
	{"revocation removes the folder and every id", test_revocation},
	{"cross-account ids refused for every right", test_cross_account},
	{"owner right renames and deletes, write does not", test_owner_right},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"share", suite_init, suite_clean, NULL, NULL, tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
