/* End-to-end tests of sending against a real easd and a real SMTP relay on
 * loopback (tests/e2e/smtp-relay.py on Debian's python3-aiosmtpd):
 * SendMail at 12.1, 14.1 and 16.1 to local and remote recipients (Bcc
 * kept out, Sent Items copy), SmartReply and SmartForward with and without
 * ReplaceMime, the repeated ClientId, From that is not the user's,
 * aliases, every refusal status, a relay that is down and comes back, a
 * permanent refusal reported in the Inbox, the two real clients' SendMail
 * requests, a server without a relay, and kill -9 while the queue runs.
 * Waits are for events (a message at the relay, a log line), bounded only
 * so that a broken build cannot hang. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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
server_args(int port)
{
	static char url[64];
	static const char *args[] = {"--smtp-relay",
				     url,
				     "--smtp-insecure",
				     "--max-recipients-per-hour",
				     "60",
				     "--max-send-size",
				     "200000",
				     NULL};

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", port);
	return args;
}

static int
suite_init(void)
{
	relay = relay_start(0, NULL);
	if (relay == NULL)
		return 0; /* the tests skip */
	srv = easd_start(server_args(relay->port));
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

static int
log_count(const char *needle)
{
	FILE *f = fopen(srv->log_path, "r");
	char line[8192];
	int n = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(f);
	return n;
}

static void
wait_log(const char *needle, int n)
{
	for (int i = 0; i < WAIT_STEPS && log_count(needle) < n; i++)
		usleep(10 * 1000);
	CU_ASSERT(log_count(needle) >= n);
}

static int
run_easctl(const char *args)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "'%s' --data '%s' %s >/dev/null 2>&1",
		 harness_easctl(), srv->dir, args);
	return system(cmd);
}

/* The stored messages of an account's folder of a type, concatenated in
 * one heap string "\001" between messages, and their count. */
static char *
folder_text(const char *login, int type, size_t *count_r)
{
	struct arena *a = arena_new(0);
	struct store *s = easd_store(srv);
	struct store_account acc;
	struct store_folder f;
	struct store_item *list = NULL;
	size_t n = 0;
	struct buf b;
	char *r;

	buf_init(&b, 0);
	if (s != NULL && store_account_get(s, a, login, &acc) == STORE_OK &&
	    store_folder_get_by_type(s, a, acc.id, type, &f) == STORE_OK &&
	    store_item_list(s, a, acc.id, f.id, 0, 10000, true, &list, &n) ==
		    STORE_OK)
		for (size_t i = 0; i < n; i++) {
			buf_append(&b, list[i].data, list[i].data_len);
			buf_putc(&b, '\001');
		}
	store_close(&s);
	arena_free(&a);
	*count_r = n;
	r = xstrdup(b.len > 0 ? (const char *)b.data : "");
	buf_deinit(&b);
	return r;
}

static bool
folder_has(const char *login, int type, const char *needle)
{
	size_t n;
	char *t = folder_text(login, type, &n);
	bool r = strstr(t, needle) != NULL;

	free(t);
	return r;
}

static size_t
folder_count(const char *login, int type)
{
	size_t n;

	free(folder_text(login, type, &n));
	return n;
}

static bool
relay_has(const char *needle)
{
	bool found = false;

	for (int i = 1; i <= relay_count(relay) && !found; i++) {
		char *m = relay_message(relay, i);

		found = m != NULL && strstr(m, needle) != NULL;
		free(m);
	}
	return found;
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

static int
send(struct eas_client *c, enum eas_send_kind kind, const char *mime,
     const char *client_id, const char *item_id, bool replace)
{
	struct arena *a = arena_new(0);
	struct eas_send s = {.kind = kind,
			     .mime = mime,
			     .mime_len = strlen(mime),
			     .client_id = client_id,
			     .save_in_sent = true,
			     .replace_mime = replace,
			     .item_id = item_id};
	int status = -1;

	if (kind != EAS_SEND_NEW)
		s.folder_id = eas_client_folder_by_type(c, EAS_FOLDER_INBOX)
				      ->server_id;
	if (eas_client_send(c, a, &s, &status) < 0)
		status = -1;
	arena_free(&a);
	return status;
}

static void
test_sendmail_versions(void)
{
	static const char *const versions[] = {"12.1", "14.1", "16.1"};
	int at_relay;

	NEED_RELAY();
	at_relay = relay_count(relay);
	for (size_t i = 0; i < N_ELEMENTS(versions); i++) {
		struct eas_client *c =
			client(HARNESS_ADA, "SENDV", versions[i]);
		char mime[1024], subject[64];

		snprintf(subject, sizeof(subject), "Plans at %s", versions[i]);
		snprintf(mime, sizeof(mime),
			 "From: Ada <ada@example.org>\r\n"
			 "To: Bob <bob@example.org>\r\n"
			 "Cc: carol@remote.example\r\n"
			 "Bcc: dave@remote.example\r\n"
			 "Subject: %s\r\n\r\nSee you at noon.\r\n",
			 subject);
		CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW, mime, NULL, NULL, false),
				0);
		/* local at once, remote through the relay, Sent Items */
		CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, subject));
		CU_ASSERT(folder_has(HARNESS_ADA, EAS_FOLDER_SENT, subject));
		at_relay += 2;
		CU_ASSERT_EQUAL(wait_relay(at_relay), at_relay);
		CU_ASSERT(relay_has(subject));
		eas_client_free(&c);
	}
	/* Bcc: nobody sees it but the sender's own copy */
	CU_ASSERT_FALSE(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX,
				   "dave@remote.example"));
	CU_ASSERT_FALSE(relay_has("Bcc:"));
	CU_ASSERT(relay_has("X-Relay-To: dave@remote.example"));
	CU_ASSERT(folder_has(HARNESS_ADA, EAS_FOLDER_SENT,
			     "dave@remote.example"));
	/* the envelope sender is the account */
	CU_ASSERT(relay_has("X-Relay-From: ada@example.org"));
}

/* The server-id of the message with subject in the Inbox of c. */
static const char *
inbox_item(struct eas_client *c, struct arena *a, const char *subject)
{
	const struct eas_folder *inbox =
		eas_client_folder_by_type(c, EAS_FOLDER_INBOX);
	struct eas_sync_opts o;
	struct eas_sync_result r;

	eas_sync_opts_init(&o);
	o.filter_type = 0;
	if (eas_client_sync(c, a, inbox->server_id, &o, &r) < 0)
		return NULL;
	for (size_t i = 0; i < r.count; i++) {
		const char *s = r.items[i].appdata != NULL
					? wbxml_child_text(r.items[i].appdata,
							   EAS_EMAIL_SUBJECT)
					: NULL;

		if (s != NULL && strcmp(s, subject) == 0)
			return r.items[i].server_id;
	}
	return NULL;
}

static void
test_smart_reply_forward(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c, *other;
	const char *sid;
	int at_relay;

	NEED_RELAY();
	CU_ASSERT_EQUAL_FATAL(
		harness_lmtp_deliver(
			srv, HARNESS_ADA_EMAIL,
			"From: Bob <bob@example.org>\r\n"
			"To: ada@example.org\r\n"
			"Subject: Budget question\r\n"
			"Message-ID: <budget-1@example.org>\r\n"
			"MIME-Version: 1.0\r\n"
			"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
			"What was the budget for May?\r\n"
			"--b\r\nContent-Type: application/pdf\r\n"
			"Content-Disposition: attachment; "
			"filename=\"figures.pdf\"\r\n"
			"Content-Transfer-Encoding: base64\r\n\r\n"
			"JVBERi0xLjQKJSVFT0YK\r\n--b--\r\n"),
		250);
	c = client(HARNESS_ADA, "SMART1", "16.1");
	other = client(HARNESS_ADA, "SMART2", "16.1");
	sid = inbox_item(c, a, "Budget question");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inbox_item(other, a, "Budget question"));

	/* reply, completed by the server: quoted original, threading */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_REPLY,
			     "From: ada@example.org\r\nTo: bob@example.org\r\n"
			     "Subject: Re: Budget question\r\n\r\n"
			     "It was 4,000.\r\n",
			     NULL, sid, false),
			0);
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "It was 4,000."));
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX,
			     "> What was the budget for May?"));
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX,
			     "In-Reply-To: <budget-1@example.org>"));
	/* the other device sees the original marked replied */
	{
		const struct eas_folder *inbox =
			eas_client_folder_by_type(other, EAS_FOLDER_INBOX);
		struct eas_sync_result r;
		bool replied = false;

		CU_ASSERT_FATAL(eas_client_sync(other, a, inbox->server_id,
						NULL, &r) == 0);
		for (size_t i = 0; i < r.count; i++) {
			const char *v =
				r.items[i].appdata != NULL
					? wbxml_child_text(
						  r.items[i].appdata,
						  EAS_EMAIL2_LASTVERBEXECUTED)
					: NULL;

			replied = replied || (v != NULL && strcmp(v, "1") == 0);
		}
		CU_ASSERT(replied);
	}

	/* reply with ReplaceMime: sent as it is */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_REPLY,
			     "From: ada@example.org\r\nTo: bob@example.org\r\n"
			     "Subject: Re: Budget (complete)\r\n\r\n"
			     "Only this.\r\n",
			     NULL, sid, true),
			0);
	{
		size_t n;
		char *t = folder_text(HARNESS_BOB, EAS_FOLDER_INBOX, &n);
		char *m = strstr(t, "Only this.");

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		/* nothing quoted after it in that message */
		CU_ASSERT(strchr(m, '\001') != NULL);
		*strchr(m, '\001') = '\0';
		CU_ASSERT_PTR_NULL(strstr(m, "What was the budget"));
		free(t);
	}

	/* the same at 12.1: the query names the original */
	{
		struct eas_client *old = client(HARNESS_ADA, "SMART12", "12.1");
		const char *sid12 = inbox_item(old, a, "Budget question");

		CU_ASSERT_PTR_NOT_NULL_FATAL(sid12);
		CU_ASSERT_EQUAL(send(old, EAS_SEND_REPLY,
				     "From: ada@example.org\r\n"
				     "To: bob@example.org\r\n"
				     "Subject: Re: Budget at 12.1\r\n\r\n"
				     "Replying the old way.\r\n",
				     NULL, sid12, false),
				0);
		CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX,
				     "Replying the old way."));
		eas_client_free(&old);
	}

	/* forward to the outside: the attachment goes along */
	at_relay = relay_count(relay);
	CU_ASSERT_EQUAL(send(c, EAS_SEND_FORWARD,
			     "From: ada@example.org\r\n"
			     "To: auditor@remote.example\r\n"
			     "Subject: Fwd: Budget question\r\n\r\nFYI.\r\n",
			     NULL, sid, false),
			0);
	CU_ASSERT_EQUAL(wait_relay(at_relay + 1), at_relay + 1);
	{
		char *m = relay_message(relay, at_relay + 1);

		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "FYI."));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "figures.pdf"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "JVBERi0xLjQKJSVFT0YK"));
		CU_ASSERT_PTR_NOT_NULL(strstr(m, "What was the budget"));
		free(m);
	}
	eas_client_free(&c);
	eas_client_free(&other);
	arena_free(&a);
}

static void
test_client_id_repeat(void)
{
	struct eas_client *c;
	static const char mime[] =
		"From: ada@example.org\r\nTo: bob@example.org, "
		"eve@remote.example\r\nSubject: Only once\r\n\r\nOnce.\r\n";
	size_t before;
	int at_relay;

	NEED_RELAY();
	c = client(HARNESS_ADA, "REPEAT1", "14.1");
	before = folder_count(HARNESS_BOB, EAS_FOLDER_INBOX);
	at_relay = relay_count(relay);
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW, mime, "client-7", NULL, false),
			0);
	CU_ASSERT_EQUAL(wait_relay(at_relay + 1), at_relay + 1);
	/* the response was lost; the phone sends it again: 118, nothing */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW, mime, "client-7", NULL, false),
			118);
	CU_ASSERT_EQUAL(folder_count(HARNESS_BOB, EAS_FOLDER_INBOX),
			before + 1);
	/* a later message with a new ClientId goes; bob got it once */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: ada@example.org\r\nTo: bob@example.org\r\n"
			     "Subject: Next\r\n\r\nx\r\n",
			     "client-8", NULL, false),
			0);
	CU_ASSERT_EQUAL(folder_count(HARNESS_BOB, EAS_FOLDER_INBOX),
			before + 2);
	CU_ASSERT_EQUAL(wait_relay(at_relay + 1), at_relay + 1);
	eas_client_free(&c);
}

static void
test_from_and_aliases(void)
{
	struct eas_client *c;

	NEED_RELAY();
	c = client(HARNESS_ADA, "FROM1", "16.1");
	/* somebody else's address: refused, not rewritten */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: Bob <bob@example.org>\r\n"
			     "To: carol@remote.example\r\n"
			     "Subject: Spoofed\r\n\r\nx\r\n",
			     NULL, NULL, false),
			130);
	CU_ASSERT_FALSE(relay_has("Subject: Spoofed"));
	/* an alias of hers is hers */
	CU_ASSERT_EQUAL(run_easctl("user alias add ada countess@example.org"),
			0);
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: The Countess <countess@example.org>\r\n"
			     "To: bob@example.org\r\n"
			     "Subject: From my alias\r\n\r\nx\r\n",
			     NULL, NULL, false),
			0);
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "From my alias"));
	/* and mail for it comes to her, over LMTP and from a colleague */
	CU_ASSERT_EQUAL(
		harness_lmtp_deliver(srv, "countess@example.org",
				     "From: x@remote.example\r\n"
				     "Subject: To the alias\r\n\r\nx\r\n"),
		250);
	CU_ASSERT(folder_has(HARNESS_ADA, EAS_FOLDER_INBOX, "To the alias"));
	/* no From at all: the account's address goes in */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "To: bob@example.org\r\n"
			     "Subject: Without From\r\n\r\nx\r\n",
			     NULL, NULL, false),
			0);
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX,
			     "From: ada <ada@example.org>") ||
		  folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "ada@example.org"));
	/* an alias that is somebody's address is taken */
	CU_ASSERT(run_easctl("user alias add ada bob@example.org") != 0);
	eas_client_free(&c);
}

static void
test_refusals(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c, *bob;
	struct eas_response r;
	char many[4096];
	size_t len = 0;

	NEED_RELAY();
	c = client(HARNESS_ADA, "BADSEND", "16.1");
	bob = client(HARNESS_BOB, "BOBSEND", "16.1");
	/* not a message at all */
	CU_ASSERT_EQUAL(
		send(c, EAS_SEND_NEW, "\x01\x02\x03 binary", NULL, NULL, false),
		107);
	/* no recipients */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: ada@example.org\r\nSubject: Nobody\r\n\r\n"
			     "x\r\n",
			     NULL, NULL, false),
			119);
	/* a Source that does not exist, and one of another account */
	CU_ASSERT_EQUAL(send(c, EAS_SEND_REPLY,
			     "From: ada@example.org\r\nTo: bob@example.org\r\n"
			     "Subject: Re\r\n\r\nx\r\n",
			     NULL, "1:999999", false),
			150);
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, HARNESS_BOB_EMAIL,
					     "From: x@remote.example\r\n"
					     "Subject: Bob's own\r\n\r\nx\r\n"),
			250);
	{
		const char *bobs = inbox_item(bob, a, "Bob's own");

		CU_ASSERT_PTR_NOT_NULL_FATAL(bobs);
		CU_ASSERT_EQUAL(send(c, EAS_SEND_FORWARD,
				     "From: ada@example.org\r\nTo: "
				     "x@remote.example\r\nSubject: Fwd\r\n\r\n"
				     "x\r\n",
				     NULL, bobs, false),
				150);
	}
	/* malformed WBXML and a request without Mime */
	{
		static const uint8_t garbage[] = {0x03, 0x01, 0x6a, 0x00,
						  0x00, 0x15, 0x45, 0x51};
		const char *hdrs[] = {
			"Content-Type: application/vnd.ms-sync.wbxml",
			"MS-ASProtocolVersion: 16.1", NULL, NULL};
		const char *q = arena_printf(
			a, "Cmd=SendMail&User=ada&DeviceId=BADSEND&"
			   "DeviceType=TestDevice");
		int64_t st = 0;

		hdrs[2] = arena_printf(a, "X-MS-PolicyKey: %u", c->policy_key);
		CU_ASSERT_EQUAL_FATAL(eas_client_raw(c, a, "POST", NULL, q,
						     hdrs, garbage,
						     sizeof(garbage), &r),
				      0);
		CU_ASSERT_EQUAL(r.http_status, 200);
		CU_ASSERT_FATAL(r.tree != NULL);
		wbxml_child_int(r.tree, EAS_COMPOSEMAIL_STATUS, &st);
		CU_ASSERT_EQUAL(st, 102);
	}
	/* more recipients in an hour than the limit (60 here) */
	len = (size_t)snprintf(many, sizeof(many),
			       "From: ada@example.org\r\nTo: ");
	for (int i = 0; i < 61; i++)
		len += (size_t)snprintf(many + len, sizeof(many) - len,
					"%sr%d@remote.example",
					i > 0 ? ", " : "", i);
	snprintf(many + len, sizeof(many) - len,
		 "\r\nSubject: Spam cannon\r\n\r\nx\r\n");
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW, many, NULL, NULL, false), 115);
	/* larger than --max-send-size */
	{
		size_t big = 300000;
		char *m = xmalloc(big + 1);

		len = (size_t)snprintf(
			m, big,
			"From: ada@example.org\r\nTo: "
			"bob@example.org\r\nSubject: Huge\r\n\r\n");
		memset(m + len, 'x', big - len);
		m[big] = '\0';
		CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW, m, NULL, NULL, false),
				122);
		free(m);
		CU_ASSERT_FALSE(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX,
					   "Subject: Huge"));
	}
	CU_ASSERT(log_count("recipients per hour") >= 1);
	CU_ASSERT_FALSE(relay_has("Spam cannon"));
	eas_client_free(&c);
	eas_client_free(&bob);
	arena_free(&a);
}

static void
test_permanent_refusal(void)
{
	struct eas_client *c;

	NEED_RELAY();
	c = client(HARNESS_ADA, "REFUSED1", "16.1");
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: ada@example.org\r\n"
			     "To: refuse-me@remote.example\r\n"
			     "Subject: Into the void\r\n\r\nsecret words\r\n",
			     NULL, NULL, false),
			0);
	wait_log("given up", 1);
	CU_ASSERT(folder_has(HARNESS_ADA, EAS_FOLDER_INBOX,
			     "Undeliverable: a message to "
			     "refuse-me@remote.example"));
	CU_ASSERT(folder_has(HARNESS_ADA, EAS_FOLDER_INBOX,
			     "550 5.1.1 <refuse-me@remote.example>"));
	CU_ASSERT(folder_has(HARNESS_ADA, EAS_FOLDER_INBOX,
			     "Subject: Into the void"));
	/* the report quotes headers, never the body */
	CU_ASSERT_FALSE(
		folder_has(HARNESS_ADA, EAS_FOLDER_INBOX, "Undeliverable") &&
		folder_has(HARNESS_ADA, EAS_FOLDER_INBOX, "secret words"));
	eas_client_free(&c);
}

static void
test_relay_down_then_up(void)
{
	struct eas_client *c;
	int port;

	NEED_RELAY();
	c = client(HARNESS_ADA, "DOWNUP", "16.1");
	port = relay->port;
	relay_stop(&relay, false);
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: ada@example.org\r\n"
			     "To: patient@remote.example\r\n"
			     "Subject: While the relay was down\r\n\r\nx\r\n",
			     NULL, NULL, false),
			0);
	/* accepted, tried, deferred */
	wait_log("to patient@remote.example deferred", 1);
	relay = relay_start(port, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(relay);
	/* the admin does not wait for the backoff */
	CU_ASSERT_EQUAL(run_easctl("queue retry all"), 0);
	CU_ASSERT_EQUAL(wait_relay(1), 1);
	CU_ASSERT(relay_has("While the relay was down"));
	wait_log("to patient@remote.example relayed", 1);
	eas_client_free(&c);
}

/* 16.1 drafts: made on one device, seen on another, changed (an
 * attachment dropped, one added) and sent with email2:Send: bob gets it,
 * Drafts lose it, Sent Items have it. */
static void
test_drafts(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c, *other;
	struct eas_sync_result r;
	struct wbxml_node *app, *body, *atts, *add;
	const struct eas_folder *drafts;
	const struct wbxml_node *rat;
	struct eas_command cmd;
	const char *sid = NULL, *ref;
	bool seen = false;

	NEED_RELAY();
	c = client(HARNESS_ADA, "DRAFT1", "16.1");
	other = client(HARNESS_ADA, "DRAFT2", "16.1");
	drafts = eas_client_folder_by_type(c, EAS_FOLDER_DRAFTS);
	CU_ASSERT_PTR_NOT_NULL_FATAL(drafts);
	CU_ASSERT_FATAL(
		eas_client_sync(other, a, drafts->server_id, NULL, &r) == 0);

	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_EMAIL_TO, "Bob <bob@example.org>");
	wbxml_add_text(a, app, EAS_EMAIL_SUBJECT, "Draft minutes");
	body = wbxml_add(a, app, EAS_AIRSYNCBASE_BODY);
	wbxml_add_int(a, body, EAS_AIRSYNCBASE_TYPE, 1);
	wbxml_add_text(a, body, EAS_AIRSYNCBASE_DATA, "Notes so far.");
	atts = wbxml_add(a, app, EAS_AIRSYNCBASE_ATTACHMENTS);
	add = wbxml_add(a, atts, EAS_AIRSYNCBASE_ADD);
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_CLIENTID, "a1");
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_DISPLAYNAME, "old.txt");
	wbxml_add_int(a, add, EAS_AIRSYNCBASE_METHOD, 1);
	wbxml_add_opaque(a, add, EAS_AIRSYNCBASE_CONTENT, "old attachment", 14);
	memset(&cmd, 0, sizeof(cmd));
	cmd.kind = EAS_ITEM_ADD;
	cmd.appdata = app;
	CU_ASSERT_FATAL(eas_client_sync_commands(c, a, drafts->server_id, &cmd,
						 1, &r) == 0);
	CU_ASSERT_EQUAL_FATAL(r.nreplies, 1);
	CU_ASSERT_EQUAL(r.replies[0].status, 1);
	sid = r.replies[0].server_id;
	CU_ASSERT_PTR_NOT_NULL_FATAL(sid);
	/* the FileReference of the added attachment, beside its ClientId */
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.replies[0].appdata);
	rat = wbxml_child(r.replies[0].appdata, EAS_AIRSYNCBASE_ATTACHMENTS);
	rat = rat != NULL ? wbxml_child(rat, EAS_AIRSYNCBASE_ATTACHMENT) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rat);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(rat, EAS_AIRSYNCBASE_CLIENTID),
			       "a1");
	ref = wbxml_child_text(rat, EAS_AIRSYNCBASE_FILEREFERENCE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ref);

	/* the other device has it, as a draft */
	CU_ASSERT_FATAL(
		eas_client_sync(other, a, drafts->server_id, NULL, &r) == 0);
	for (size_t i = 0; i < r.count; i++)
		if (r.items[i].appdata != NULL &&
		    strcmp(r.items[i].server_id, sid) == 0) {
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(r.items[i].appdata,
						 EAS_EMAIL_SUBJECT),
				"Draft minutes");
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(r.items[i].appdata,
						 EAS_EMAIL2_ISDRAFT),
				"1");
			seen = true;
		}
	CU_ASSERT(seen);

	/* change: new subject, old attachment out, new one in, and send */
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_EMAIL_SUBJECT, "Minutes of Monday");
	atts = wbxml_add(a, app, EAS_AIRSYNCBASE_ATTACHMENTS);
	add = wbxml_add(a, atts, EAS_AIRSYNCBASE_DELETE);
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_FILEREFERENCE, ref);
	add = wbxml_add(a, atts, EAS_AIRSYNCBASE_ADD);
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_CLIENTID, "a2");
	wbxml_add_text(a, add, EAS_AIRSYNCBASE_DISPLAYNAME, "minutes.txt");
	wbxml_add_int(a, add, EAS_AIRSYNCBASE_METHOD, 1);
	wbxml_add_opaque(a, add, EAS_AIRSYNCBASE_CONTENT, "the final minutes",
			 17);
	wbxml_add(a, app, EAS_EMAIL2_SEND);
	memset(&cmd, 0, sizeof(cmd));
	cmd.kind = EAS_ITEM_CHANGE;
	cmd.server_id = sid;
	cmd.appdata = app;
	CU_ASSERT_FATAL(eas_client_sync_commands(c, a, drafts->server_id, &cmd,
						 1, &r) == 0);
	for (size_t i = 0; i < r.nreplies; i++)
		CU_ASSERT_EQUAL(r.replies[i].status, 1);
	CU_ASSERT(
		folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "Minutes of Monday"));
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "minutes.txt"));
	CU_ASSERT(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "Notes so far."));
	CU_ASSERT_FALSE(folder_has(HARNESS_BOB, EAS_FOLDER_INBOX, "old.txt"));
	CU_ASSERT(
		folder_has(HARNESS_ADA, EAS_FOLDER_SENT, "Minutes of Monday"));
	CU_ASSERT_FALSE(folder_has(HARNESS_ADA, EAS_FOLDER_DRAFTS,
				   "Minutes of Monday"));
	/* the other device sees the draft go */
	CU_ASSERT_FATAL(
		eas_client_sync(other, a, drafts->server_id, NULL, &r) == 0);
	seen = false;
	for (size_t i = 0; i < r.count; i++)
		seen = seen || (r.items[i].kind == EAS_ITEM_DELETE &&
				strcmp(r.items[i].server_id, sid) == 0);
	CU_ASSERT(seen);
	eas_client_free(&c);
	eas_client_free(&other);
	arena_free(&a);
}

/* What TbSync (Mime as an inline string) and pyactivesync (Mime as
 * OPAQUE) send, as captured (../shared/fixtures). */
static void
test_client_fixtures(void)
{
	static const char *const files[] = {
		"eas4tbsync-5.3.4-eas16.1/009-SendMail.wbxml",
		"pyactivesync-eas16.1/012-SendMail.wbxml",
	};
	const char *src = getenv("EASD_SRCDIR");
	struct arena *a = arena_new(0);
	struct eas_client *c;
	size_t before;

	NEED_RELAY();
	{
		char *probe = arena_printf(a,
					   "%s/../shared/fixtures/"
					   "client-requests",
					   src != NULL ? src : ".");

		if (access(probe, R_OK) != 0) {
			fprintf(stderr, "no shared fixtures: skipped\n");
			arena_free(&a);
			return;
		}
	}
	CU_ASSERT_EQUAL(run_easctl("user add alice --email alice@example.test "
				   "--password secret-pass"),
			0);
	CU_ASSERT_EQUAL(run_easctl("user add bobt --email bob@example.test "
				   "--password x"),
			0);
	c = client("alice", "FIXTURE1", "16.1");
	before = folder_count("bobt", EAS_FOLDER_INBOX);
	for (size_t i = 0; i < N_ELEMENTS(files); i++) {
		char *path = arena_printf(a,
					  "%s/../shared/fixtures/"
					  "client-requests/%s",
					  src != NULL ? src : ".", files[i]);
		const char *hdrs[] = {
			"Content-Type: application/vnd.ms-sync.wbxml",
			"MS-ASProtocolVersion: 16.1", NULL, NULL};
		const char *q = "Cmd=SendMail&User=alice&DeviceId=FIXTURE1&"
				"DeviceType=TestDevice";
		struct eas_response r;
		char *body;
		size_t len;
		const char *err;

		CU_ASSERT_EQUAL_FATAL(
			arena_read_path(a, path, 1 << 20, &body, &len, &err),
			0);
		hdrs[2] = arena_printf(a, "X-MS-PolicyKey: %u", c->policy_key);
		CU_ASSERT_EQUAL_FATAL(eas_client_raw(c, a, "POST", NULL, q,
						     hdrs, body, len, &r),
				      0);
		CU_ASSERT_EQUAL(r.http_status, 200);
		CU_ASSERT_EQUAL(r.body_len, 0);
	}
	CU_ASSERT_EQUAL(folder_count("bobt", EAS_FOLDER_INBOX), before + 2);
	CU_ASSERT(folder_has("bobt", EAS_FOLDER_INBOX,
			     "hello from EAS-4-TbSync"));
	CU_ASSERT(folder_has("bobt", EAS_FOLDER_INBOX,
			     "hello from pyactivesync"));
	CU_ASSERT(folder_has("alice", EAS_FOLDER_SENT, "interop test"));
	eas_client_free(&c);
	arena_free(&a);
}

/* kill -9 while the runner waits on a relay that holds DATA: after the
 * restart the message is delivered once. */
static void
test_kill_during_submission(void)
{
	static const char *const hold[] = {"--hold-data", NULL};
	struct eas_client *c;
	char *dir = NULL;
	int port;

	NEED_RELAY();
	c = client(HARNESS_ADA, "KILL9", "16.1");
	port = relay->port;
	relay_stop(&relay, false);
	relay = relay_start(port, hold);
	CU_ASSERT_PTR_NOT_NULL_FATAL(relay);
	CU_ASSERT_EQUAL(send(c, EAS_SEND_NEW,
			     "From: ada@example.org\r\n"
			     "To: survivor@remote.example\r\n"
			     "Subject: Through a crash\r\n\r\nx\r\n",
			     NULL, NULL, false),
			0);
	eas_client_free(&c);
	wait_log("submitting <", 1);
	kill(srv->pid, SIGKILL);
	easd_stop_keep(&srv, &dir);
	relay_stop(&relay, false);
	relay = relay_start(port, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(relay);
	srv = easd_start_dir(dir, server_args(port));
	free(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
	CU_ASSERT_EQUAL(wait_relay(1), 1);
	CU_ASSERT(relay_has("Through a crash"));
	wait_log("to survivor@remote.example relayed", 1);
	CU_ASSERT_EQUAL(relay_count(relay), 1);
}

static CU_TestInfo send_tests[] = {
	{"SendMail at 12.1, 14.1, 16.1: local, remote, Bcc, Sent Items",
	 test_sendmail_versions},
	{"SmartReply and SmartForward, with and without ReplaceMime",
	 test_smart_reply_forward},
	{"a repeated ClientId is answered 118 and not sent",
	 test_client_id_repeat},
	{"From must be the user's; aliases", test_from_and_aliases},
	{"refusals: MIME, recipients, Source, WBXML, rate", test_refusals},
	{"a permanent refusal comes back as a report", test_permanent_refusal},
	{"relay down, then up: delivered once", test_relay_down_then_up},
	{"16.1 drafts: add, other device, change, send", test_drafts},
	{"TbSync's and pyactivesync's SendMail", test_client_fixtures},
	{"kill -9 during submission: delivered once after restart",
	 test_kill_during_submission},
	CU_TEST_INFO_NULL,
};

/* A server without a relay: local mail works, outside addresses are
 * refused at once so the phone shows it. */
static struct easd_proc *norelay;

static int
norelay_init(void)
{
	norelay = easd_start(NULL);
	return norelay == NULL ? -1 : 0;
}

static int
norelay_clean(void)
{
	return easd_stop(&norelay) == 0 ? 0 : -1;
}

static void
test_no_relay(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(norelay, HARNESS_ADA, "NORELAY");
	struct eas_send s = {.kind = EAS_SEND_NEW, .save_in_sent = true};
	static const char remote[] = "From: ada@example.org\r\n"
				     "To: someone@remote.example\r\n"
				     "Subject: Out\r\n\r\nx\r\n";
	static const char local[] = "From: ada@example.org\r\n"
				    "To: bob@example.org\r\n"
				    "Subject: In\r\n\r\nx\r\n";
	int status = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	s.mime = remote;
	s.mime_len = strlen(remote);
	CU_ASSERT_EQUAL(eas_client_send(c, a, &s, &status), 0);
	CU_ASSERT_EQUAL(status, 116);
	s.mime = local;
	s.mime_len = strlen(local);
	CU_ASSERT_EQUAL(eas_client_send(c, a, &s, &status), 0);
	CU_ASSERT_EQUAL(status, 0);
	/* OPTIONS lists the commands now that they work */
	{
		struct eas_response r;

		CU_ASSERT_EQUAL(eas_client_options(c, a, &r), 0);
		CU_ASSERT(r.ms_commands != NULL &&
			  strstr(r.ms_commands, "SendMail") != NULL &&
			  strstr(r.ms_commands, "SmartReply") != NULL &&
			  strstr(r.ms_commands, "SmartForward") != NULL);
	}
	eas_client_free(&c);
	arena_free(&a);
}

static CU_TestInfo norelay_tests[] = {
	{"without a relay: 116 for outside, local works", test_no_relay},
	CU_TEST_INFO_NULL,
};

/* The relay offers STARTTLS with a certificate easd is told to trust:
 * the message goes over TLS. A relay without STARTTLS gets nothing unless
 * the admin said --smtp-insecure: the message waits in the queue. */
static char tls_dir[64];

static void
test_starttls(void)
{
	char cert[128], key[128], cmd[512], url[64];
	const char *tls[] = {"--tls", cert, key, NULL};
	struct relay_proc *r;
	struct easd_proc *p;
	struct eas_client *c;
	struct arena *a = arena_new(0);
	struct eas_send s = {.kind = EAS_SEND_NEW};
	static const char mime[] = "From: ada@example.org\r\n"
				   "To: secure@remote.example\r\n"
				   "Subject: Over TLS\r\n\r\nx\r\n";
	int status = -1;

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/easd-smtptls-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tls_dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", tls_dir);
	snprintf(key, sizeof(key), "%s/key.pem", tls_dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes -keyout %s -out %s "
		 "-days 2 -subj /CN=127.0.0.1 -addext "
		 "subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
		 key, cert);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	r = relay_start(0, tls);
	if (r == NULL) {
		fprintf(stderr, "no SMTP relay: skipped\n");
		harness_rmtree(tls_dir);
		arena_free(&a);
		return;
	}
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", r->port);
	{
		const char *args[] = {"--smtp-relay", url, "--smtp-cainfo",
				      cert, NULL};

		p = easd_start(args);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = harness_client(p, HARNESS_ADA, "TLS1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	s.mime = mime;
	s.mime_len = strlen(mime);
	CU_ASSERT_EQUAL(eas_client_send(c, a, &s, &status), 0);
	CU_ASSERT_EQUAL(status, 0);
	for (int i = 0; i < WAIT_STEPS && relay_count(r) < 1; i++)
		usleep(10 * 1000);
	CU_ASSERT_EQUAL(relay_count(r), 1);
	eas_client_free(&c);
	easd_stop(&p);
	relay_stop(&r, false);

	/* a plain relay: not without --smtp-insecure */
	r = relay_start(0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", r->port);
	{
		const char *args[] = {"--smtp-relay", url, NULL};

		p = easd_start(args);
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	c = harness_client(p, HARNESS_ADA, "TLS2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(eas_client_send(c, a, &s, &status), 0);
	CU_ASSERT_EQUAL(status, 0);
	{
		struct easd_proc *save = srv;

		srv = p;
		wait_log("to secure@remote.example deferred", 1);
		srv = save;
	}
	CU_ASSERT_EQUAL(relay_count(r), 0);
	eas_client_free(&c);
	easd_stop(&p);
	relay_stop(&r, false);
	harness_rmtree(tls_dir);
	arena_free(&a);
}

static CU_TestInfo tls_tests[] = {
	{"STARTTLS to the relay, required unless insecure", test_starttls},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"send", suite_init, suite_clean, NULL, NULL, send_tests},
	{"no relay", norelay_init, norelay_clean, NULL, NULL, norelay_tests},
	{"relay over TLS", NULL, NULL, NULL, NULL, tls_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
