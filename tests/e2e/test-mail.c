/* End-to-end mail tests: messages delivered over LMTP (swaks and a small
 * LMTP client) appear in Sync with the right properties, bodies are
 * truncated and fetched whole, attachments come back byte-identical, read
 * flags travel between devices, moves and deletes-as-moves, and a corpus
 * of malformed messages is stored and synced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"

static struct easd_proc *srv;

static int
suite_init(void)
{
	srv = easd_start(NULL);
	return srv == NULL || srv->lmtp_port == 0 ? -1 : 0;
}

static int
suite_clean(void)
{
	return easd_stop(&srv) == 0 ? 0 : -1;
}

static const struct wbxml_node *
find_subject(const struct eas_sync_result *r, const char *subject)
{
	for (size_t i = 0; i < r->count; i++) {
		const char *s;

		if (r->items[i].appdata == NULL)
			continue;
		s = wbxml_child_text(r->items[i].appdata, EAS_EMAIL_SUBJECT);
		if (s != NULL && strcmp(s, subject) == 0)
			return r->items[i].appdata;
	}
	return NULL;
}

static const char *
server_id_of(const struct eas_sync_result *r, const char *subject)
{
	const struct wbxml_node *ad = find_subject(r, subject);

	for (size_t i = 0; ad != NULL && i < r->count; i++)
		if (r->items[i].appdata == ad)
			return r->items[i].server_id;
	return NULL;
}

static void
test_swaks_delivery_and_body(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "MAILA");
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	const struct wbxml_node *ad, *body;
	char cmd[1024];
	int status;

	CU_ASSERT_FATAL(c != NULL);
	if (system("command -v swaks >/dev/null 2>&1") != 0) {
		printf("swaks not installed: delivering with the test's "
		       "LMTP client\n");
		CU_ASSERT_EQUAL(
			harness_lmtp_deliver(
				srv, HARNESS_ADA_EMAIL,
				"From: Grace <grace@example.net>\nTo: "
				"ada@example.org\n"
				"Subject: Swaks hello\n\nThe body of a message "
				"that is "
				"long enough to be truncated by the phone.\n"),
			250);
	} else {
		snprintf(
			cmd, sizeof(cmd),
			"swaks --silent 2 --protocol LMTP --server 127.0.0.1 "
			"--port %d --to %s --from grace@example.net "
			"--h-From 'Grace <grace@example.net>' "
			"--header 'Subject: Swaks hello' --body 'The body of a "
			"message that is long enough to be truncated by the "
			"phone.' >/dev/null",
			srv->lmtp_port, HARNESS_ADA_EMAIL);
		CU_ASSERT_EQUAL(system(cmd), 0);
	}
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	inbox = eas_client_folder_by_type(c, 2);
	CU_ASSERT_FATAL(inbox != NULL);
	eas_sync_opts_init(&o);
	o.filter_type = 0;
	o.body_type = 1;
	o.truncation = 20;
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, a, inbox->server_id, &o, &r),
			      0);
	ad = find_subject(&r, "Swaks hello");
	CU_ASSERT_FATAL(ad != NULL);
	CU_ASSERT(strstr(wbxml_child_text(ad, EAS_EMAIL_FROM),
			 "grace@example.net") != NULL);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(ad, EAS_EMAIL_READ), "0");
	body = wbxml_child(ad, EAS_AIRSYNCBASE_BODY);
	CU_ASSERT_FATAL(body != NULL);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(body, EAS_AIRSYNCBASE_TYPE),
			       "1");
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(body, EAS_AIRSYNCBASE_TRUNCATED), "1");
	CU_ASSERT(strlen(wbxml_child_text(body, EAS_AIRSYNCBASE_DATA)) <= 20);
	{
		/* The whole MIME through ItemOperations. */
		struct wbxml_node *q =
			wbxml_new(a, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
		struct wbxml_node *f =
			wbxml_add(a, q, EAS_ITEMOPERATIONS_FETCH);
		struct wbxml_node *op, *bp;
		struct eas_response resp;
		const struct wbxml_node *n;

		wbxml_add_text(a, f, EAS_ITEMOPERATIONS_STORE, "Mailbox");
		wbxml_add_text(a, f, EAS_AIRSYNC_COLLECTIONID,
			       inbox->server_id);
		wbxml_add_text(a, f, EAS_AIRSYNC_SERVERID,
			       server_id_of(&r, "Swaks hello"));
		op = wbxml_add(a, f, EAS_ITEMOPERATIONS_OPTIONS);
		wbxml_add_int(a, op, EAS_AIRSYNC_MIMESUPPORT, 2);
		bp = wbxml_add(a, op, EAS_AIRSYNCBASE_BODYPREFERENCE);
		wbxml_add_int(a, bp, EAS_AIRSYNCBASE_TYPE, 4);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_post(c, a, "ItemOperations", q, NULL, &resp),
			0);
		CU_ASSERT_FATAL(resp.tree != NULL);
		n = wbxml_child(resp.tree, EAS_ITEMOPERATIONS_RESPONSE);
		n = n != NULL ? wbxml_child(n, EAS_ITEMOPERATIONS_FETCH) : NULL;
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(n, EAS_ITEMOPERATIONS_STATUS), "1");
		n = wbxml_child(n, EAS_ITEMOPERATIONS_PROPERTIES);
		n = n != NULL ? wbxml_child(n, EAS_AIRSYNCBASE_BODY) : NULL;
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(n, EAS_AIRSYNCBASE_TYPE), "4");
		CU_ASSERT(strstr(wbxml_child_text(n, EAS_AIRSYNCBASE_DATA),
				 "Subject: Swaks hello") != NULL);
	}
	eas_client_free(&c);
	arena_free(&a);
}

static void
test_attachment_byte_identical(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "MAILATT");
	struct eas_client *bob = harness_client(srv, "bob", "BOBATT");
	uint8_t blob[3000];
	char *b64 = arena_alloc(a, base64_encoded_len(sizeof(blob)) + 1);
	struct buf msg;
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	const struct wbxml_node *ad, *att;
	const char *ref;
	int status;

	CU_ASSERT_FATAL(c != NULL && bob != NULL);
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + (i >> 8));
	base64_encode(blob, sizeof(blob), b64);
	buf_init(&msg, 0);
	buf_printf(&msg,
		   "From: a@example.net\nTo: ada@example.org\n"
		   "Subject: With attachment\nMIME-Version: 1.0\n"
		   "Content-Type: multipart/mixed; boundary=\"XyZ\"\n\n"
		   "--XyZ\nContent-Type: text/plain\n\nSee attached.\n"
		   "--XyZ\nContent-Type: application/octet-stream; "
		   "name=\"data.bin\"\n"
		   "Content-Disposition: attachment; filename=\"data.bin\"\n"
		   "Content-Transfer-Encoding: base64\n\n");
	for (size_t i = 0; i < strlen(b64); i += 76)
		buf_printf(&msg, "%.76s\n", b64 + i);
	buf_printf(&msg, "--XyZ--\n");
	CU_ASSERT_EQUAL(
		harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, (char *)msg.data),
		250);
	buf_deinit(&msg);

	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	inbox = eas_client_folder_by_type(c, 2);
	eas_sync_opts_init(&o);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, a, inbox->server_id, &o, &r),
			      0);
	ad = find_subject(&r, "With attachment");
	CU_ASSERT_FATAL(ad != NULL);
	att = wbxml_child(ad, EAS_AIRSYNCBASE_ATTACHMENTS);
	att = att != NULL ? wbxml_child(att, EAS_AIRSYNCBASE_ATTACHMENT) : NULL;
	CU_ASSERT_FATAL(att != NULL);
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(att, EAS_AIRSYNCBASE_DISPLAYNAME), "data.bin");
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(att, EAS_AIRSYNCBASE_ESTIMATEDDATASIZE),
		"3000");
	ref = wbxml_child_text(att, EAS_AIRSYNCBASE_FILEREFERENCE);
	CU_ASSERT_FATAL(ref != NULL);
	{
		struct wbxml_node *q =
			wbxml_new(a, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
		struct wbxml_node *f =
			wbxml_add(a, q, EAS_ITEMOPERATIONS_FETCH);
		struct eas_response resp;
		const struct wbxml_node *n;
		const char *data;
		uint8_t *dec;
		long len;

		wbxml_add_text(a, f, EAS_ITEMOPERATIONS_STORE, "Mailbox");
		wbxml_add_text(a, f, EAS_AIRSYNCBASE_FILEREFERENCE, ref);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_post(c, a, "ItemOperations", q, NULL, &resp),
			0);
		n = wbxml_child(resp.tree, EAS_ITEMOPERATIONS_RESPONSE);
		n = n != NULL ? wbxml_child(n, EAS_ITEMOPERATIONS_FETCH) : NULL;
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(n, EAS_ITEMOPERATIONS_STATUS), "1");
		n = wbxml_child(n, EAS_ITEMOPERATIONS_PROPERTIES);
		data = n != NULL ? wbxml_child_text(n, EAS_ITEMOPERATIONS_DATA)
				 : NULL;
		CU_ASSERT_FATAL(data != NULL);
		dec = arena_alloc(a, base64_decoded_max(strlen(data)));
		len = base64_decode(data, strlen(data), dec);
		CU_ASSERT_EQUAL(len, (long)sizeof(blob));
		CU_ASSERT(len == (long)sizeof(blob) &&
			  memcmp(dec, blob, sizeof(blob)) == 0);

		/* Bob cannot fetch ada's attachment. */
		CU_ASSERT_EQUAL_FATAL(eas_client_post(bob, a, "ItemOperations",
						      q, NULL, &resp),
				      0);
		n = wbxml_child(resp.tree, EAS_ITEMOPERATIONS_RESPONSE);
		n = n != NULL ? wbxml_child(n, EAS_ITEMOPERATIONS_FETCH) : NULL;
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(n, EAS_ITEMOPERATIONS_STATUS), "15");
		CU_ASSERT_PTR_NULL(
			wbxml_child(n, EAS_ITEMOPERATIONS_PROPERTIES));
	}
	eas_client_free(&c);
	eas_client_free(&bob);
	arena_free(&a);
}

static void
test_read_flags_travel(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *pa = harness_client(srv, "bob", "READA");
	struct eas_client *pb = harness_client(srv, "bob", "READB");
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result ra, rb;
	struct eas_command cmds[20] = {0};
	struct eas_sync_result rc;
	size_t reads = 0;
	int status;

	CU_ASSERT_FATAL(pa != NULL && pb != NULL);
	for (int i = 0; i < 20; i++) {
		char m[256];

		snprintf(m, sizeof(m),
			 "From: x@example.net\nTo: bob@example.org\n"
			 "Subject: Read test %d\n\nBody %d\n",
			 i, i);
		CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, HARNESS_BOB_EMAIL, m),
				250);
	}
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(pa, a, &status), 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(pb, a, &status), 0);
	inbox = eas_client_folder_by_type(pa, 2);
	eas_sync_opts_init(&o);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pa, a, inbox->server_id, &o, &ra),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pb, a, inbox->server_id, &o, &rb),
			      0);
	CU_ASSERT_EQUAL_FATAL(ra.count, 20);
	for (size_t i = 0; i < 20; i++) {
		struct wbxml_node *ad =
			wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);

		wbxml_add_int(a, ad, EAS_EMAIL_READ, 1);
		cmds[i].kind = EAS_ITEM_CHANGE;
		cmds[i].client_id = NULL;
		cmds[i].server_id = ra.items[i].server_id;
		cmds[i].appdata = ad;
	}
	CU_ASSERT_EQUAL(eas_client_sync_commands(pa, a, inbox->server_id, cmds,
						 20, &rc),
			0);
	/* Device B's next Sync: every message read. */
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pb, a, inbox->server_id, &o, &rb),
			      0);
	for (size_t i = 0; i < rb.count; i++) {
		const char *rd = rb.items[i].appdata != NULL
					 ? wbxml_child_text(rb.items[i].appdata,
							    EAS_EMAIL_READ)
					 : NULL;

		if (rb.items[i].kind == EAS_ITEM_CHANGE && rd != NULL &&
		    strcmp(rd, "1") == 0)
			reads++;
	}
	CU_ASSERT_EQUAL(reads, 20);
	/* Device A is not sent its own changes back. */
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pa, a, inbox->server_id, &o, &ra),
			      0);
	CU_ASSERT_EQUAL(ra.count, 0);
	eas_client_free(&pa);
	eas_client_free(&pb);
	arena_free(&a);
}

static void
test_move_and_delete(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *pa = harness_client(srv, "ada", "MOVEA");
	struct eas_client *pb = harness_client(srv, "ada", "MOVEB");
	const struct eas_folder *inbox, *deleted, *junk;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	const char *sid, *sid2;
	struct wbxml_node *q, *mv;
	struct eas_response resp;
	const struct wbxml_node *n;
	int status;

	CU_ASSERT_FATAL(pa != NULL && pb != NULL);
	CU_ASSERT_EQUAL(
		harness_lmtp_deliver(
			srv, HARNESS_ADA_EMAIL,
			"From: x@example.net\nSubject: Move me\n\nbody\n"),
		250);
	CU_ASSERT_EQUAL(
		harness_lmtp_deliver(
			srv, HARNESS_ADA_EMAIL,
			"From: x@example.net\nSubject: Delete me\n\nbody\n"),
		250);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(pa, a, &status), 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(pb, a, &status), 0);
	inbox = eas_client_folder_by_type(pa, 2);
	deleted = eas_client_folder_by_type(pa, 4);
	junk = eas_client_folder_find(pa, "Junk E-mail");
	CU_ASSERT_FATAL(inbox != NULL && deleted != NULL && junk != NULL);
	eas_sync_opts_init(&o);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pa, a, inbox->server_id, &o, &r),
			      0);
	sid = server_id_of(&r, "Move me");
	sid2 = server_id_of(&r, "Delete me");
	CU_ASSERT_FATAL(sid != NULL && sid2 != NULL);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pb, a, inbox->server_id, &o, &r),
			      0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pb, a, junk->server_id, &o, &r),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(pb, a, deleted->server_id, &o, &r), 0);

	q = wbxml_new(a, EAS_MOVE_MOVEITEMS);
	mv = wbxml_add(a, q, EAS_MOVE_MOVE);
	wbxml_add_text(a, mv, EAS_MOVE_SRCMSGID, sid);
	wbxml_add_text(a, mv, EAS_MOVE_SRCFLDID, inbox->server_id);
	wbxml_add_text(a, mv, EAS_MOVE_DSTFLDID, junk->server_id);
	mv = wbxml_add(a, q, EAS_MOVE_MOVE);
	wbxml_add_text(a, mv, EAS_MOVE_SRCMSGID, "999:999999");
	wbxml_add_text(a, mv, EAS_MOVE_SRCFLDID, inbox->server_id);
	wbxml_add_text(a, mv, EAS_MOVE_DSTFLDID, junk->server_id);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_post(pa, a, "MoveItems", q, NULL, &resp), 0);
	n = wbxml_child(resp.tree, EAS_MOVE_RESPONSE);
	CU_ASSERT_FATAL(n != NULL);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(n, EAS_MOVE_STATUS), "3");
	CU_ASSERT_PTR_NOT_NULL(wbxml_child_text(n, EAS_MOVE_DSTMSGID));
	n = wbxml_next_same(n);
	CU_ASSERT_FATAL(n != NULL);
	CU_ASSERT_STRING_EQUAL(wbxml_child_text(n, EAS_MOVE_STATUS), "1");

	/* Delete as a move to Deleted Items. */
	CU_ASSERT_EQUAL(
		eas_client_delete(pa, a, inbox->server_id, sid2, &status), 0);

	/* Device A is not told again; device B sees both. */
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pa, a, inbox->server_id, &o, &r),
			      0);
	CU_ASSERT_EQUAL(r.count, 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pb, a, inbox->server_id, &o, &r),
			      0);
	CU_ASSERT_EQUAL(r.count, 2);
	for (size_t i = 0; i < r.count; i++)
		CU_ASSERT_EQUAL(r.items[i].kind, EAS_ITEM_DELETE);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(pb, a, junk->server_id, &o, &r),
			      0);
	CU_ASSERT_PTR_NOT_NULL(find_subject(&r, "Move me"));
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(pb, a, deleted->server_id, &o, &r), 0);
	CU_ASSERT_PTR_NOT_NULL(find_subject(&r, "Delete me"));
	eas_client_free(&pa);
	eas_client_free(&pb);
	arena_free(&a);
}

static void
test_malformed_corpus(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c;
	const char *dir = getenv("EASD_SRCDIR");
	static const char *const files[] = {
		"01-plain.eml",		  "02-html.eml",
		"03-alternative.eml",	  "04-attachments.eml",
		"05-latin1.eml",	  "06-shift-jis.eml",
		"07-koi8r.eml",		  "08-8bit-unknown-headers.eml",
		"09-broken-boundary.eml", "10-missing-headers.eml",
		"11-huge-headers.eml",	  "12-smime-signed.eml",
		"13-meeting-request.eml",
	};
	struct store *s;
	struct store_account acct;
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	int status, delivered = 0;

	/* A third account so the count is exact. */
	s = easd_store(srv);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL(store_account_add(s, "carol", "carol@example.org",
					  "Carol", HARNESS_PASSWORD, NULL),
			STORE_OK);
	CU_ASSERT_EQUAL(store_account_get(s, a, "carol", &acct), STORE_OK);
	store_close(&s);
	for (size_t i = 0; i < N_ELEMENTS(files); i++) {
		char path[512];
		FILE *f;
		struct buf b;
		char chunk[4096];
		size_t n;

		snprintf(path, sizeof(path), "%s/tests/data/mail/%s",
			 dir != NULL ? dir : ".", files[i]);
		f = fopen(path, "rb");
		CU_ASSERT_PTR_NOT_NULL_FATAL(f);
		buf_init(&b, 0);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&b, chunk, n);
		fclose(f);
		if (harness_lmtp_deliver(srv, "carol@example.org",
					 (char *)b.data) == 250)
			delivered++;
		else
			printf("not delivered: %s\n", files[i]);
		buf_deinit(&b);
	}
	CU_ASSERT_EQUAL(delivered, (int)N_ELEMENTS(files));
	c = harness_client(srv, "carol", "CAROL1");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	inbox = eas_client_folder_by_type(c, 2);
	eas_sync_opts_init(&o);
	o.body_type = 2;
	o.truncation = 500;
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, a, inbox->server_id, &o, &r),
			      0);
	CU_ASSERT_EQUAL(r.count, N_ELEMENTS(files));
	for (size_t i = 0; i < r.count; i++) {
		CU_ASSERT_PTR_NOT_NULL(r.items[i].appdata);
		if (r.items[i].appdata != NULL)
			CU_ASSERT_PTR_NOT_NULL(wbxml_child(
				r.items[i].appdata, EAS_EMAIL_IMPORTANCE));
	}
	eas_client_free(&c);
	arena_free(&a);
}

/* Attachment bytes fetched three ways: GetAttachment (12.x query form),
 * ItemOperations in multipart mode, then EmptyFolderContents removes the
 * message and a second device is told. */
static void
test_getattachment_multipart_empty(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "bob", "ATTBOB");
	struct eas_client *other = harness_client(srv, "bob", "ATTBOB2");
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	const struct wbxml_node *ad, *att;
	const char *ref, *query;
	struct eas_response resp;
	int status;

	CU_ASSERT_FATAL(c != NULL && other != NULL);
	CU_ASSERT_EQUAL(
		harness_lmtp_deliver(
			srv, HARNESS_BOB_EMAIL,
			"From: x@example.net\nTo: bob@example.org\n"
			"Subject: Tiny attachment\nMIME-Version: 1.0\n"
			"Content-Type: multipart/mixed; boundary=b1\n\n"
			"--b1\nContent-Type: text/plain\n\nhi\n"
			"--b1\nContent-Type: text/plain; name=note.txt\n"
			"Content-Disposition: attachment; filename=note.txt\n\n"
			"attached text\n--b1--\n"),
		250);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(other, a, &status), 0);
	inbox = eas_client_folder_by_type(c, 2);
	eas_sync_opts_init(&o);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, a, inbox->server_id, &o, &r),
			      0);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_sync(other, a, inbox->server_id, &o, &r), 0);
	ad = find_subject(&r, "Tiny attachment");
	CU_ASSERT_FATAL(ad != NULL);
	att = wbxml_child(ad, EAS_AIRSYNCBASE_ATTACHMENTS);
	att = att != NULL ? wbxml_child(att, EAS_AIRSYNCBASE_ATTACHMENT) : NULL;
	CU_ASSERT_FATAL(att != NULL);
	ref = wbxml_child_text(att, EAS_AIRSYNCBASE_FILEREFERENCE);
	CU_ASSERT_FATAL(ref != NULL);

	/* 12.1 GetAttachment: the raw bytes. */
	eas_client_set_version(c, "12.1");
	query = arena_printf(a, "AttachmentName=%s", eas_url_escape(a, ref));
	CU_ASSERT_EQUAL(
		eas_client_post(c, a, "GetAttachment", NULL, query, &resp), 0);
	CU_ASSERT_EQUAL(resp.http_status, 200);
	CU_ASSERT(resp.body_len >= 13 &&
		  memcmp(resp.body, "attached text", 13) == 0);
	query = arena_printf(a, "AttachmentName=%s",
			     eas_url_escape(a, "1:999999:0"));
	CU_ASSERT_EQUAL(
		eas_client_post(c, a, "GetAttachment", NULL, query, &resp), 0);
	CU_ASSERT_EQUAL(resp.http_status, 500);
	eas_client_set_version(c, "16.1");

	/* Multipart: part 1 is the attachment, the WBXML names it. */
	{
		struct wbxml_node *q =
			wbxml_new(a, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
		struct wbxml_node *f =
			wbxml_add(a, q, EAS_ITEMOPERATIONS_FETCH);
		struct buf body;
		const char *hdrs[5];
		char pk[64];
		const uint8_t *b;
		uint32_t nparts, off1, len1;

		wbxml_add_text(a, f, EAS_ITEMOPERATIONS_STORE, "Mailbox");
		wbxml_add_text(a, f, EAS_AIRSYNCBASE_FILEREFERENCE, ref);
		buf_init(&body, 0);
		wbxml_encode(q, &body);
		snprintf(pk, sizeof(pk), "X-MS-PolicyKey: %u", c->policy_key);
		hdrs[0] = "Content-Type: application/vnd.ms-sync.wbxml";
		hdrs[1] = "MS-ASProtocolVersion: 16.1";
		hdrs[2] = "MS-ASAcceptMultiPart: T";
		hdrs[3] = pk;
		hdrs[4] = NULL;
		CU_ASSERT_EQUAL_FATAL(
			eas_client_raw(
				c, a, "POST", NULL,
				"Cmd=ItemOperations&User=bob&DeviceId=ATTBOB&"
				"DeviceType=TestDevice",
				hdrs, body.data, body.len, &resp),
			0);
		buf_deinit(&body);
		CU_ASSERT_EQUAL(resp.http_status, 200);
		CU_ASSERT(resp.content_type != NULL &&
			  strstr(resp.content_type, "multipart") != NULL);
		CU_ASSERT_FATAL(resp.body_len >= 20);
		b = resp.body;
		nparts = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
			 (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		CU_ASSERT_EQUAL_FATAL(nparts, 2);
		off1 = (uint32_t)b[12] | (uint32_t)b[13] << 8 |
		       (uint32_t)b[14] << 16 | (uint32_t)b[15] << 24;
		len1 = (uint32_t)b[16] | (uint32_t)b[17] << 8 |
		       (uint32_t)b[18] << 16 | (uint32_t)b[19] << 24;
		CU_ASSERT_FATAL((size_t)off1 + len1 <= resp.body_len);
		CU_ASSERT(len1 >= 13 &&
			  memcmp(b + off1, "attached text", 13) == 0);
	}

	/* EmptyFolderContents: the Inbox is empty for every device. */
	{
		struct wbxml_node *q =
			wbxml_new(a, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
		struct wbxml_node *e =
			wbxml_add(a, q, EAS_ITEMOPERATIONS_EMPTYFOLDERCONTENTS);
		const struct wbxml_node *n;

		wbxml_add_text(a, e, EAS_AIRSYNC_COLLECTIONID,
			       inbox->server_id);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_post(c, a, "ItemOperations", q, NULL, &resp),
			0);
		n = wbxml_child(resp.tree, EAS_ITEMOPERATIONS_RESPONSE);
		n = n != NULL
			    ? wbxml_child(
				      n, EAS_ITEMOPERATIONS_EMPTYFOLDERCONTENTS)
			    : NULL;
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(n, EAS_ITEMOPERATIONS_STATUS), "1");
		CU_ASSERT_EQUAL_FATAL(
			eas_client_sync(other, a, inbox->server_id, &o, &r), 0);
		CU_ASSERT(r.count > 0);
		for (size_t i = 0; i < r.count; i++)
			CU_ASSERT_EQUAL(r.items[i].kind, EAS_ITEM_DELETE);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_sync(other, a, inbox->server_id, &o, &r), 0);
		CU_ASSERT_EQUAL(r.count, 0);
	}
	eas_client_free(&c);
	eas_client_free(&other);
	arena_free(&a);
}

/* An attachment whose size is a power of two (16 bytes): the decoded part
 * fills its buffer exactly, and the copy must not read past it. Fetched
 * with GetAttachment (12.1) and with ItemOperations (inline base64); an
 * over-read crashes the sanitizer build of the server. */
static void
test_power_of_two_attachment(void)
{
	static const uint8_t blob[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
					 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
					 0xcc, 0xdd, 0xee, 0xff};
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "ATT16");
	char b64[64];
	struct buf msg;
	const struct eas_folder *inbox;
	struct eas_sync_opts o;
	struct eas_sync_result r;
	const struct wbxml_node *ad, *att, *n;
	struct eas_response resp;
	const char *ref, *query, *data;
	uint8_t dec[64];
	int status;

	CU_ASSERT_FATAL(c != NULL);
	base64_encode(blob, sizeof(blob), b64);
	buf_init(&msg, 0);
	buf_printf(&msg,
		   "From: a@example.net\nTo: ada@example.org\n"
		   "Subject: Sixteen bytes\nMIME-Version: 1.0\n"
		   "Content-Type: multipart/mixed; boundary=\"s16\"\n\n"
		   "--s16\nContent-Type: text/plain\n\nSee attached.\n"
		   "--s16\nContent-Type: application/octet-stream; "
		   "name=\"16.bin\"\n"
		   "Content-Disposition: attachment; filename=\"16.bin\"\n"
		   "Content-Transfer-Encoding: base64\n\n%s\n--s16--\n",
		   b64);
	CU_ASSERT_EQUAL(
		harness_lmtp_deliver(srv, HARNESS_ADA_EMAIL, (char *)msg.data),
		250);
	buf_deinit(&msg);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	inbox = eas_client_folder_by_type(c, 2);
	CU_ASSERT_FATAL(inbox != NULL);
	eas_sync_opts_init(&o);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(c, a, inbox->server_id, &o, &r),
			      0);
	ad = find_subject(&r, "Sixteen bytes");
	CU_ASSERT_FATAL(ad != NULL);
	att = wbxml_child(ad, EAS_AIRSYNCBASE_ATTACHMENTS);
	att = att != NULL ? wbxml_child(att, EAS_AIRSYNCBASE_ATTACHMENT) : NULL;
	CU_ASSERT_FATAL(att != NULL);
	ref = wbxml_child_text(att, EAS_AIRSYNCBASE_FILEREFERENCE);
	CU_ASSERT_FATAL(ref != NULL);

	/* GetAttachment: the raw bytes, nothing after them. */
	eas_client_set_version(c, "12.1");
	query = arena_printf(a, "AttachmentName=%s", eas_url_escape(a, ref));
	CU_ASSERT_EQUAL_FATAL(
		eas_client_post(c, a, "GetAttachment", NULL, query, &resp), 0);
	CU_ASSERT_EQUAL(resp.http_status, 200);
	CU_ASSERT_EQUAL(resp.body_len, sizeof(blob));
	CU_ASSERT(resp.body_len == sizeof(blob) &&
		  memcmp(resp.body, blob, sizeof(blob)) == 0);
	eas_client_set_version(c, "16.1");

	/* ItemOperations Fetch by FileReference: the same bytes. */
	{
		struct wbxml_node *q =
			wbxml_new(a, EAS_ITEMOPERATIONS_ITEMOPERATIONS);
		struct wbxml_node *f =
			wbxml_add(a, q, EAS_ITEMOPERATIONS_FETCH);
		long len;

		wbxml_add_text(a, f, EAS_ITEMOPERATIONS_STORE, "Mailbox");
		wbxml_add_text(a, f, EAS_AIRSYNCBASE_FILEREFERENCE, ref);
		CU_ASSERT_EQUAL_FATAL(
			eas_client_post(c, a, "ItemOperations", q, NULL, &resp),
			0);
		CU_ASSERT_FATAL(resp.tree != NULL);
		n = wbxml_child(resp.tree, EAS_ITEMOPERATIONS_RESPONSE);
		n = n != NULL ? wbxml_child(n, EAS_ITEMOPERATIONS_FETCH) : NULL;
		CU_ASSERT_FATAL(n != NULL);
		CU_ASSERT_STRING_EQUAL(
			wbxml_child_text(n, EAS_ITEMOPERATIONS_STATUS), "1");
		n = wbxml_child(n, EAS_ITEMOPERATIONS_PROPERTIES);
		data = n != NULL ? wbxml_child_text(n, EAS_ITEMOPERATIONS_DATA)
				 : NULL;
		CU_ASSERT_FATAL(data != NULL && strlen(data) < sizeof(dec));
		len = base64_decode(data, strlen(data), dec);
		CU_ASSERT_EQUAL(len, (long)sizeof(blob));
		CU_ASSERT(len == (long)sizeof(blob) &&
			  memcmp(dec, blob, sizeof(blob)) == 0);
	}
	eas_client_free(&c);
	arena_free(&a);
}

static void
test_unknown_recipient(void)
{
	CU_ASSERT_EQUAL(harness_lmtp_deliver(srv, "nobody@example.org",
					     "Subject: lost\n\nbody\n"),
			550);
}

static CU_TestInfo mail_tests[] = {
	{"swaks delivery appears in Sync with a truncated body; MIME fetch",
	 test_swaks_delivery_and_body},
	{"attachment fetched byte-identical, not by another account",
	 test_attachment_byte_identical},
	{"20 messages read on A are read on B", test_read_flags_travel},
	{"move and delete-as-move, not echoed", test_move_and_delete},
	{"malformed messages are stored and synced", test_malformed_corpus},
	{"GetAttachment, multipart fetch, EmptyFolderContents",
	 test_getattachment_multipart_empty},
	{"a 16-byte attachment through GetAttachment and ItemOperations",
	 test_power_of_two_attachment},
	{"unknown recipient gets 550", test_unknown_recipient},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"mail", suite_init, suite_clean, NULL, NULL, mail_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
