/* End-to-end tests of the HTTP front end against a real easd: the first
 * contact of a phone (Autodiscover, OPTIONS, provisioning, FolderSync and
 * the folder commands), the base64 query form, every bad input the front
 * end must survive, and the remote wipe flow. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"

static struct easd_proc *srv;

static int
suite_init(void)
{
	static const char *const args[] = {"--max-body", "65536", NULL};

	srv = easd_start(args);
	return srv == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	return easd_stop(&srv) == 0 ? 0 : -1;
}

/* A WBXML request with one text child under a root. */
static struct wbxml_node *
req1(struct arena *a, uint16_t root, uint16_t tag, const char *text)
{
	struct wbxml_node *r = wbxml_new(a, root);

	wbxml_add_text(a, r, tag, text);
	return r;
}

static int
top_status(const struct eas_response *r)
{
	int64_t v = -1;

	if (r->tree == NULL)
		return -1;
	wbxml_child_int(r->tree, EAS_FOLDERHIERARCHY_STATUS, &v);
	if (v == -1)
		wbxml_child_int(r->tree, EAS_AIRSYNC_STATUS, &v);
	return (int)v;
}

static void
test_first_contact(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, "ada", "PHONE1");
	struct eas_response r;
	const char *url = NULL;
	int status = 0;

	CU_ASSERT_FATAL(c != NULL);
	/* Autodiscover answers the ActiveSync URL of this server. */
	CU_ASSERT_EQUAL(eas_client_autodiscover(c, a, HARNESS_ADA_EMAIL, &url),
			0);
	CU_ASSERT(url != NULL &&
		  strstr(url, "/Microsoft-Server-ActiveSync") != NULL);
	/* OPTIONS lists 16.1 and only implemented commands. */
	CU_ASSERT_EQUAL(eas_client_options(c, a, &r), 0);
	CU_ASSERT(r.ms_versions != NULL &&
		  strstr(r.ms_versions, "16.1") != NULL);
	CU_ASSERT(r.ms_commands != NULL &&
		  strstr(r.ms_commands, "FolderSync") != NULL);
	CU_ASSERT(r.ms_commands != NULL &&
		  strstr(r.ms_commands, "MeetingResponse") != NULL &&
		  strstr(r.ms_commands, "ValidateCert") == NULL);
	CU_ASSERT(r.ms_commands != NULL &&
		  strstr(r.ms_commands, "Search") != NULL &&
		  strstr(r.ms_commands, "ResolveRecipients") != NULL &&
		  strstr(r.ms_commands, "Find") != NULL);
	CU_ASSERT(r.ms_server != NULL);
	/* Not provisioned yet: 16.1 gets status 142. */
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT_EQUAL(top_status(&r), 142);
	/* Both phases give a final key, and FolderSync shows the folders. */
	CU_ASSERT_EQUAL(eas_client_provision(c, a, NULL), 0);
	CU_ASSERT(c->policy_key != 0);
	CU_ASSERT_EQUAL(eas_client_foldersync(c, a, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_EQUAL(c->nfolders, 10);
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_by_type(c, 2));
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_by_type(c, 9));
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_by_type(c, 8));
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_by_type(c, 7));
	CU_ASSERT_PTR_NOT_NULL(eas_client_folder_by_type(c, 10));
	eas_client_free(&c);
	arena_free(&a);
}

/* Sends a folder command with the client's hierarchy key; returns the
 * response status and updates the key on success. */
static int
folder_cmd(struct eas_client *c, struct arena *a, const char *cmd,
	   uint16_t root, const char *server_id, const char *parent,
	   const char *name, int type, const char **new_id_r)
{
	struct wbxml_node *q = wbxml_new(a, root);
	struct eas_response r;
	const char *key;
	int64_t st = -1;

	wbxml_add_text(a, q, EAS_FOLDERHIERARCHY_SYNCKEY,
		       c->hierarchy_key != NULL ? c->hierarchy_key : "0");
	if (server_id != NULL)
		wbxml_add_text(a, q, EAS_FOLDERHIERARCHY_SERVERID, server_id);
	if (parent != NULL)
		wbxml_add_text(a, q, EAS_FOLDERHIERARCHY_PARENTID, parent);
	if (name != NULL)
		wbxml_add_text(a, q, EAS_FOLDERHIERARCHY_DISPLAYNAME, name);
	if (type != 0)
		wbxml_add_int(a, q, EAS_FOLDERHIERARCHY_TYPE, type);
	if (eas_client_post(c, a, cmd, q, NULL, &r) < 0 || r.tree == NULL)
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

static const struct eas_folder *
find_name(const struct eas_client *c, const char *name)
{
	for (size_t i = 0; i < c->nfolders; i++)
		if (strcmp(c->folders[i].name, name) == 0)
			return &c->folders[i];
	return NULL;
}

static void
test_folder_commands(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *pa = harness_client(srv, "ada", "FOLDERA");
	struct eas_client *pb = harness_client(srv, "ada", "FOLDERB");
	const struct eas_folder *inbox;
	const char *id = NULL;
	char *saved_id;
	int status;
	size_t before;

	CU_ASSERT_FATAL(pa != NULL && pb != NULL);
	CU_ASSERT_EQUAL(eas_client_foldersync(pa, a, &status), 0);
	CU_ASSERT_EQUAL(eas_client_foldersync(pb, a, &status), 0);
	/* a no-change answer, which the server remembers for B's key */
	CU_ASSERT_EQUAL(eas_client_foldersync(pb, a, &status), 0);
	before = pb->nfolders;
	inbox = eas_client_folder_by_type(pa, 2);
	CU_ASSERT_FATAL(inbox != NULL);

	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderCreate",
				   EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL,
				   inbox->server_id, "Projects", 12, &id),
			1);
	CU_ASSERT_FATAL(id != NULL);
	saved_id = strdup(id);
	/* Same name under the same parent: status 2. */
	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderCreate",
				   EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL,
				   inbox->server_id, "Projects", 12, NULL),
			2);
	/* Missing parent: status 5. */
	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderCreate",
				   EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL,
				   "99999", "X", 12, NULL),
			5);
	/* Device B sees the new folder; device A is not sent its own. */
	CU_ASSERT_EQUAL(eas_client_foldersync(pb, a, &status), 0);
	CU_ASSERT_EQUAL(pb->nfolders, before + 1);
	CU_ASSERT_PTR_NOT_NULL(find_name(pb, "Projects"));
	CU_ASSERT_EQUAL(eas_client_foldersync(pa, a, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_EQUAL(eas_client_foldersync(pb, a, &status), 0);
	CU_ASSERT_EQUAL(pb->nfolders, before + 1);

	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderUpdate",
				   EAS_FOLDERHIERARCHY_FOLDERUPDATE, saved_id,
				   inbox->server_id, "Projects 2026", 0, NULL),
			1);
	/* Special folders cannot be renamed (FolderUpdate Status 2,
	 * MS-ASCMD 2.2.3.177.6) or deleted (FolderDelete Status 3). */
	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderUpdate",
				   EAS_FOLDERHIERARCHY_FOLDERUPDATE,
				   inbox->server_id, "0", "Renamed", 0, NULL),
			2);
	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderDelete",
				   EAS_FOLDERHIERARCHY_FOLDERDELETE,
				   inbox->server_id, NULL, NULL, 0, NULL),
			3);
	CU_ASSERT_EQUAL(eas_client_foldersync(pb, a, &status), 0);
	CU_ASSERT_PTR_NOT_NULL(find_name(pb, "Projects 2026"));
	CU_ASSERT_PTR_NULL(find_name(pb, "Projects"));

	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderDelete",
				   EAS_FOLDERHIERARCHY_FOLDERDELETE, saved_id,
				   NULL, NULL, 0, NULL),
			1);
	CU_ASSERT_EQUAL(folder_cmd(pa, a, "FolderDelete",
				   EAS_FOLDERHIERARCHY_FOLDERDELETE, saved_id,
				   NULL, NULL, 0, NULL),
			4);
	CU_ASSERT_EQUAL(eas_client_foldersync(pb, a, &status), 0);
	CU_ASSERT_EQUAL(pb->nfolders, before);
	CU_ASSERT_PTR_NULL(find_name(pb, "Projects 2026"));
	free(saved_id);
	eas_client_free(&pa);
	eas_client_free(&pb);
	arena_free(&a);
}

static void
test_hierarchy_key_rules(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "KEYS1");
	struct eas_client *other = harness_client(srv, "ada", "KEYS2");
	struct eas_response r1, r2;
	const char *k1, *k2;
	int status;

	CU_ASSERT_FATAL(c != NULL && other != NULL);
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r1),
			0);
	k1 = wbxml_child_text(r1.tree, EAS_FOLDERHIERARCHY_SYNCKEY);
	CU_ASSERT_FATAL(k1 != NULL);
	/* Another device adds a folder: the next answer has a new key. */
	CU_ASSERT_EQUAL(eas_client_foldersync(other, a, &status), 0);
	CU_ASSERT_EQUAL(folder_cmd(other, a, "FolderCreate",
				   EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL, "0",
				   "Archive", 12, NULL),
			1);
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, k1),
					NULL, &r1),
			0);
	k2 = wbxml_child_text(r1.tree, EAS_FOLDERHIERARCHY_SYNCKEY);
	CU_ASSERT(k2 != NULL && strcmp(k1, k2) != 0);
	/* The answer was "lost": the same key again gets the same bytes. */
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, k1),
					NULL, &r2),
			0);
	CU_ASSERT_EQUAL(r1.body_len, r2.body_len);
	CU_ASSERT(r1.body_len == r2.body_len &&
		  memcmp(r1.body, r2.body, r1.body_len) == 0);
	/* A key never issued: status 9. */
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY,
					     "{deadbeef}77"),
					NULL, &r2),
			0);
	CU_ASSERT_EQUAL(top_status(&r2), 9);
	eas_client_free(&c);
	eas_client_free(&other);
	arena_free(&a);
}

static void
test_base64_query(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "B64DEVICE");
	static const uint8_t devid[16] = {
		0xB6, 0x4D, 0xE7, 0x1C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct eas_b64_query q;
	struct eas_response r;
	const char *query;
	struct buf body;
	struct wbxml_node *fs = req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
				     EAS_FOLDERHIERARCHY_SYNCKEY, "0");
	static const char *const ct[] = {
		"Content-Type: application/vnd.ms-sync.wbxml", NULL};

	CU_ASSERT_FATAL(c != NULL);
	/* A new binary DeviceId: provision through the base64 form. */
	memset(&q, 0, sizeof(q));
	q.version = 161;
	q.command = 9;
	q.locale = 0x0409;
	q.device_id = devid;
	q.device_id_len = sizeof(devid);
	q.device_type = "iPhone";
	query = eas_url_escape(a, eas_query_b64(a, &q));
	buf_init(&body, 0);
	wbxml_encode(fs, &body);
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST", NULL, query, ct, body.data,
				       body.len, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	/* Understood as FolderSync from an unprovisioned device. */
	CU_ASSERT_EQUAL(top_status(&r), 142);
	/* Truncated binary query: 400. */
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST", NULL, "jQkJBBA", ct,
				       body.data, body.len, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 400);
	/* Not base64 at all: 400. */
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST", NULL, "%21%21%21", ct,
				       body.data, body.len, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 400);
	buf_deinit(&body);
	eas_client_free(&c);
	arena_free(&a);
}

static void
test_bad_requests(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "BADREQ");
	struct eas_client *wrong = harness_client_new(srv, "ada", "BADREQ2");
	struct eas_response r;
	static const char *const wbxml_ct[] = {
		"Content-Type: application/vnd.ms-sync.wbxml",
		"MS-ASProtocolVersion: 16.1", NULL};
	static const uint8_t garbage[] = {0x03, 0x01, 0x6A, 0x00, 0x00,
					  0x07, 0x56, 0x52, 0x03, 0x30};
	char *big;
	const char *q;

	CU_ASSERT_FATAL(c != NULL && wrong != NULL);
	/* Unknown command: 501. */
	CU_ASSERT_EQUAL(eas_client_post(c, a, "Frobnicate", NULL, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 501);
	/* Missing DeviceId / DeviceType: 400. */
	q = "Cmd=FolderSync&User=ada&DeviceType=iPhone";
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "POST", NULL, q, wbxml_ct, NULL, 0, &r),
		0);
	CU_ASSERT_EQUAL(r.http_status, 400);
	q = "Cmd=FolderSync&User=ada&DeviceId=BADREQ";
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "POST", NULL, q, wbxml_ct, NULL, 0, &r),
		0);
	CU_ASSERT_EQUAL(r.http_status, 400);
	/* Unsupported protocol version: 400. */
	eas_client_set_version(c, "2.5");
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 400);
	eas_client_set_version(c, "16.1");
	/* Truncated WBXML: status 102 for 14.0+. */
	q = "Cmd=FolderSync&User=ada&DeviceId=BADREQ&DeviceType=iPhone";
	{
		char pk[64];
		const char *hdrs[4];

		snprintf(pk, sizeof(pk), "X-MS-PolicyKey: %u", c->policy_key);
		hdrs[0] = wbxml_ct[0];
		hdrs[1] = wbxml_ct[1];
		hdrs[2] = pk;
		hdrs[3] = NULL;
		CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST", NULL, q, hdrs,
					       garbage, sizeof(garbage), &r),
				0);
		CU_ASSERT_EQUAL(r.http_status, 200);
		CU_ASSERT_EQUAL(top_status(&r), 102);
	}
	/* A body over --max-body: 413. */
	big = calloc(1, 100000);
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST", NULL, q, wbxml_ct, big,
				       100000, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 413);
	free(big);
	/* Wrong password: 401 with a challenge. */
	free(wrong->password);
	wrong->password = strdup("not-the-password");
	CU_ASSERT_EQUAL(eas_client_options(wrong, a, &r), -1);
	CU_ASSERT_EQUAL(r.http_status, 401);
	CU_ASSERT_PTR_NOT_NULL(r.www_authenticate);
	/* User parameter naming somebody else: 403. */
	q = "Cmd=FolderSync&User=bob&DeviceId=BADREQ&DeviceType=iPhone";
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "POST", NULL, q, wbxml_ct, NULL, 0, &r),
		0);
	CU_ASSERT_EQUAL(r.http_status, 403);
	/* A GET has no protocol meaning. */
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "GET", NULL, NULL, NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 405);
	eas_client_free(&c);
	eas_client_free(&wrong);
	arena_free(&a);
}

static const char *
header_of(const struct eas_response *r, const char *name)
{
	for (const struct eas_http_header *h = r->headers; h != NULL;
	     h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

/* The route table: an unknown path is 404, a method the path does not
 * take is 405 with Allow, and both known paths match in any case. */
static void
test_routes(void)
{
	static const char ad_body[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
		"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/"
		"autodiscover/mobilesync/requestschema/2006\"><Request>"
		"<EMailAddress>ada@example.org</EMailAddress>"
		"<AcceptableResponseSchema>http://schemas.microsoft.com/"
		"exchange/autodiscover/mobilesync/responseschema/2006"
		"</AcceptableResponseSchema></Request></Autodiscover>";
	static const char *const xml_ct[] = {"Content-Type: text/xml", NULL};
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, "ada", "ROUTES");
	struct eas_response r;
	const char *allow;

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "GET", "/nowhere", NULL, NULL,
				       NULL, 0, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 404);
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST",
				       "/Microsoft-Server-ActiveSyncX", NULL,
				       NULL, "x", 1, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 404);
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "PUT", NULL, NULL, NULL, NULL, 0, &r), 0);
	CU_ASSERT_EQUAL(r.http_status, 405);
	allow = header_of(&r, "Allow");
	CU_ASSERT(allow != NULL && strcmp(allow, "OPTIONS,POST") == 0);
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "GET",
				       "/autodiscover/autodiscover.xml", NULL,
				       NULL, NULL, 0, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 405);
	allow = header_of(&r, "Allow");
	CU_ASSERT(allow != NULL && strcmp(allow, "POST") == 0);
	/* paths in another case */
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "OPTIONS",
				       "/microsoft-server-activesync", NULL,
				       NULL, NULL, 0, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT_PTR_NOT_NULL(r.ms_commands);
	CU_ASSERT_EQUAL(eas_client_raw(c, a, "POST",
				       "/AutoDiscover/AutoDiscover.XML", NULL,
				       xml_ct, ad_body, strlen(ad_body), &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT(r.body_len > 0 &&
		  strstr((const char *)r.body,
			 "/Microsoft-Server-ActiveSync") != NULL);
	/* a known path without credentials is still 401 */
	c->user[0] = '\0';
	CU_ASSERT_EQUAL(
		eas_client_raw(c, a, "OPTIONS", NULL, NULL, NULL, NULL, 0, &r),
		0);
	CU_ASSERT_EQUAL(r.http_status, 401);
	eas_client_free(&c);
	arena_free(&a);
}

static void
test_other_users_folder(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *ada = harness_client(srv, "ada", "OTHER1");
	struct eas_client *bob = harness_client(srv, "bob", "OTHER2");
	const struct eas_folder *bob_inbox;
	int status;

	CU_ASSERT_FATAL(ada != NULL && bob != NULL);
	CU_ASSERT_EQUAL(eas_client_foldersync(ada, a, &status), 0);
	CU_ASSERT_EQUAL(eas_client_foldersync(bob, a, &status), 0);
	CU_ASSERT_EQUAL(folder_cmd(bob, a, "FolderCreate",
				   EAS_FOLDERHIERARCHY_FOLDERCREATE, NULL, "0",
				   "Bob private", 12, NULL),
			1);
	CU_ASSERT_EQUAL(eas_client_foldersync(bob, a, &status), 0);
	bob_inbox = find_name(bob, "Bob private");
	if (bob_inbox == NULL) {
		/* bob's own create is not echoed; look it up by type 12 */
		for (size_t i = 0; i < bob->nfolders; i++)
			if (bob->folders[i].type == 12 &&
			    strcmp(bob->folders[i].name, "Junk E-mail") != 0)
				bob_inbox = &bob->folders[i];
	}
	/* ada cannot rename or delete bob's folder: "does not exist". */
	{
		struct eas_client *probe = harness_client(srv, "bob", "OTHER3");
		const struct eas_folder *f;

		CU_ASSERT_EQUAL(eas_client_foldersync(probe, a, &status), 0);
		f = find_name(probe, "Bob private");
		CU_ASSERT_FATAL(f != NULL);
		CU_ASSERT_EQUAL(folder_cmd(ada, a, "FolderDelete",
					   EAS_FOLDERHIERARCHY_FOLDERDELETE,
					   f->server_id, NULL, NULL, 0, NULL),
				4);
		CU_ASSERT_EQUAL(folder_cmd(ada, a, "FolderUpdate",
					   EAS_FOLDERHIERARCHY_FOLDERUPDATE,
					   f->server_id, "0", "Stolen", 0,
					   NULL),
				4);
		CU_ASSERT_EQUAL(eas_client_foldersync(probe, a, &status), 0);
		CU_ASSERT_PTR_NOT_NULL(find_name(probe, "Bob private"));
		eas_client_free(&probe);
	}
	(void)bob_inbox;
	eas_client_free(&ada);
	eas_client_free(&bob);
	arena_free(&a);
}

static void
test_legacy_449(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, "ada", "OLDPHONE");
	struct eas_response r;

	CU_ASSERT_FATAL(c != NULL);
	eas_client_set_version(c, "12.1");
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 449);
	CU_ASSERT_EQUAL(eas_client_provision(c, a, NULL), 0);
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r),
			0);
	CU_ASSERT_EQUAL(r.http_status, 200);
	CU_ASSERT_EQUAL(top_status(&r), 1);
	eas_client_free(&c);
	arena_free(&a);
}

static void
test_remote_wipe(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "LOSTPHONE");
	struct eas_response r;
	struct store *s;
	struct store_device d;

	CU_ASSERT_FATAL(c != NULL);
	s = easd_store(srv);
	CU_ASSERT_FATAL(s != NULL);
	CU_ASSERT_EQUAL_FATAL(
		store_device_get(s, a, srv->ada_id, "LOSTPHONE", &d), STORE_OK);
	CU_ASSERT_EQUAL(
		store_device_set_wipe(s, d.id, STORE_WIPE_REQUESTED, "admin"),
		STORE_OK);
	/* The next command sends the device to Provision (status 140). */
	c->auto_provision = false;
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r),
			0);
	CU_ASSERT_EQUAL(top_status(&r), 140);
	/* Provision delivers the wipe; the client acknowledges it. */
	CU_ASSERT_EQUAL(eas_client_provision(c, a, NULL), 1);
	CU_ASSERT(c->wiped);
	CU_ASSERT_EQUAL(store_device_get(s, a, srv->ada_id, "LOSTPHONE", &d),
			STORE_OK);
	CU_ASSERT_EQUAL(d.wipe, STORE_WIPE_ACKNOWLEDGED);
	store_close(&s);
	eas_client_free(&c);
	arena_free(&a);
}

static void
test_blocked_device(void)
{
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "ada", "BLOCKME");
	struct eas_response r;
	struct store *s = easd_store(srv);
	struct store_device d;

	CU_ASSERT_FATAL(c != NULL && s != NULL);
	CU_ASSERT_EQUAL_FATAL(
		store_device_get(s, a, srv->ada_id, "BLOCKME", &d), STORE_OK);
	CU_ASSERT_EQUAL(
		store_device_set_access(s, d.id, STORE_ACCESS_BLOCKED, "admin"),
		STORE_OK);
	CU_ASSERT_EQUAL(eas_client_post(c, a, "FolderSync",
					req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
					     EAS_FOLDERHIERARCHY_SYNCKEY, "0"),
					NULL, &r),
			0);
	CU_ASSERT_EQUAL(top_status(&r), 129);
	store_close(&s);
	eas_client_free(&c);
	arena_free(&a);
}

/* HTTPS through libmicrohttpd's GnuTLS support, with a self-signed
 * certificate made for the test (skipped without openssl or curl). */
static void
test_tls(void)
{
	char dir[] = "/tmp/easd-tls-XXXXXX", cmd[1024], cert[128], key[128];
	char code[16] = "";
	const char *args[6];
	struct easd_proc *p;
	FILE *f;

	if (system("command -v openssl >/dev/null && command -v curl "
		   ">/dev/null") != 0 ||
	    mkdtemp(dir) == NULL) {
		printf("openssl or curl missing: TLS test skipped\n");
		return;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes "
		 "-keyout %s -out %s -days 2 -subj /CN=localhost "
		 ">/dev/null 2>&1",
		 key, cert);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	args[0] = "--tls-cert";
	args[1] = cert;
	args[2] = "--tls-key";
	args[3] = key;
	args[4] = NULL;
	p = easd_start(args);
	CU_ASSERT_FATAL(p != NULL);
	snprintf(cmd, sizeof(cmd),
		 "curl -sk --max-time 20 -u ada:%s -X OPTIONS "
		 "-o /dev/null -w '%%{http_code}' "
		 "https://127.0.0.1:%d/Microsoft-Server-ActiveSync",
		 HARNESS_PASSWORD, p->port);
	f = popen(cmd, "r");
	if (f != NULL) {
		if (fgets(code, sizeof(code), f) == NULL)
			code[0] = '\0';
		pclose(f);
	}
	CU_ASSERT_STRING_EQUAL(code, "200");
	/* Plain HTTP on the TLS port gets no ActiveSync answer. */
	snprintf(cmd, sizeof(cmd),
		 "curl -s --max-time 20 -u ada:%s -X OPTIONS "
		 "-o /dev/null -w '%%{http_code}' "
		 "http://127.0.0.1:%d/Microsoft-Server-ActiveSync",
		 HARNESS_PASSWORD, p->port);
	f = popen(cmd, "r");
	code[0] = '\0';
	if (f != NULL) {
		if (fgets(code, sizeof(code), f) == NULL)
			code[0] = '\0';
		pclose(f);
	}
	CU_ASSERT_STRING_NOT_EQUAL(code, "200");
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	harness_rmtree(dir);
}

/* What openssl s_client negotiates with the server at port (the cipher,
 * "(NONE)" when the handshake failed) with the given options. */
static void
tls_negotiated(int port, const char *opts, char *cipher, size_t len)
{
	char cmd[512], line[512];
	FILE *f;

	snprintf(cmd, sizeof(cmd),
		 "openssl s_client -connect 127.0.0.1:%d %s </dev/null 2>&1",
		 port, opts);
	snprintf(cipher, len, "?");
	f = popen(cmd, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *c = strstr(line, ", Cipher is ");

		if (c != NULL) {
			snprintf(cipher, len, "%s", c + strlen(", Cipher is "));
			cipher[strcspn(cipher, "\n")] = '\0';
		}
	}
	pclose(f);
}

/* By default TLS 1.2+ with forward-secret AEAD ciphers only: TLS 1.1 and
 * 1.0, a static-RSA key exchange and a CBC cipher are refused even by a
 * client willing to use them (SECLEVEL=0), ECDHE with AES-GCM and TLS 1.3
 * are accepted; --tls-priority can open it again. */
static void
test_tls_versions(void)
{
	char dir[] = "/tmp/easd-tls-XXXXXX", cmd[1024], cert[128], key[128];
	char cipher[128];
	const char *args[8];
	struct easd_proc *p;

	if (system("command -v openssl >/dev/null") != 0 ||
	    mkdtemp(dir) == NULL) {
		printf("openssl missing: TLS version test skipped\n");
		return;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey rsa:2048 -nodes "
		 "-keyout %s -out %s -days 2 -subj /CN=localhost "
		 ">/dev/null 2>&1",
		 key, cert);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	args[0] = "--tls-cert";
	args[1] = cert;
	args[2] = "--tls-key";
	args[3] = key;
	args[4] = NULL;
	p = easd_start(args);
	CU_ASSERT_FATAL(p != NULL);
	tls_negotiated(p->port, "-tls1_1 -cipher DEFAULT@SECLEVEL=0", cipher,
		       sizeof(cipher));
	CU_ASSERT_STRING_EQUAL(cipher, "(NONE)");
	tls_negotiated(p->port, "-tls1 -cipher DEFAULT@SECLEVEL=0", cipher,
		       sizeof(cipher));
	CU_ASSERT_STRING_EQUAL(cipher, "(NONE)");
	tls_negotiated(p->port, "-tls1_2 -cipher AES128-SHA@SECLEVEL=0", cipher,
		       sizeof(cipher));
	CU_ASSERT_STRING_EQUAL(cipher, "(NONE)");
	tls_negotiated(p->port, "-tls1_2 -cipher ECDHE-RSA-AES128-SHA", cipher,
		       sizeof(cipher));
	CU_ASSERT_STRING_EQUAL(cipher, "(NONE)");
	tls_negotiated(p->port, "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256",
		       cipher, sizeof(cipher));
	CU_ASSERT_STRING_EQUAL(cipher, "ECDHE-RSA-AES128-GCM-SHA256");
	tls_negotiated(p->port, "-tls1_3", cipher, sizeof(cipher));
	CU_ASSERT(strncmp(cipher, "TLS_", 4) == 0);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);

	/* An administrator who needs TLS 1.1 can have it back. */
	args[4] = "--tls-priority";
	args[5] = "NORMAL:+VERS-TLS1.1";
	args[6] = NULL;
	p = easd_start(args);
	CU_ASSERT_FATAL(p != NULL);
	tls_negotiated(p->port, "-tls1_1 -cipher DEFAULT@SECLEVEL=0", cipher,
		       sizeof(cipher));
	CU_ASSERT_STRING_NOT_EQUAL(cipher, "(NONE)");
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	harness_rmtree(dir);
}

/* A password changed with easctl while the server runs takes effect at
 * once, although the old one was just verified (and cached). */
static void
test_password_change(void)
{
	const char *easctl = harness_easctl();
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client_new(srv, "ada", "PWCHANGE");
	struct eas_response r;
	char cmd[1024];

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(eas_client_options(c, a, &r), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' --data '%s' user passwd ada "
		 "--password changed-pass >/dev/null",
		 easctl, srv->dir);
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
	eas_client_options(c, a, &r);
	CU_ASSERT_EQUAL(r.http_status, 401);
	free(c->password);
	c->password = strdup("changed-pass");
	CU_ASSERT_EQUAL(eas_client_options(c, a, &r), 0);
	snprintf(cmd, sizeof(cmd),
		 "'%s' --data '%s' user passwd ada "
		 "--password '%s' >/dev/null",
		 easctl, srv->dir, HARNESS_PASSWORD);
	CU_ASSERT_EQUAL(system(cmd), 0);
	eas_client_free(&c);
	arena_free(&a);
}

/* Accounts and devices are answered from memory (server/standing.c),
 * but a change that easctl made is in force for the very next request:
 * disabling the account, blocking the device, and undoing both. Each
 * state is first read twice, so that it is cached when easctl runs. */
static void
easctl_ok(const char *const *args)
{
	char cmd[1024];
	int n = snprintf(cmd, sizeof(cmd), "'%s' --data '%s'", harness_easctl(),
			 srv->dir);

	for (size_t i = 0; args[i] != NULL; i++)
		n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " '%s'",
			      args[i]);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, " >/dev/null 2>&1");
	CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
}

/* A FolderSync with key (NULL: "0"); the key of the answer in *key_r
 * when it has one. */
static int
foldersync_key_status(struct eas_client *c, struct arena *a, const char *key,
		      long *http_r, const char **key_r)
{
	struct eas_response r;

	if (eas_client_post(c, a, "FolderSync",
			    req1(a, EAS_FOLDERHIERARCHY_FOLDERSYNC,
				 EAS_FOLDERHIERARCHY_SYNCKEY,
				 key != NULL ? key : "0"),
			    NULL, &r) < 0)
		return -1;
	*http_r = r.http_status;
	if (key_r != NULL && r.tree != NULL)
		*key_r = wbxml_child_text(r.tree, EAS_FOLDERHIERARCHY_SYNCKEY);
	return r.http_status == 200 ? top_status(&r) : 0;
}

static int
foldersync_status(struct eas_client *c, struct arena *a, long *http_r)
{
	return foldersync_key_status(c, a, NULL, http_r, NULL);
}

static void
test_standing_never_stale(void)
{
	static const char *const disable[] = {"user", "disable", "bob", NULL};
	static const char *const enable[] = {"user", "enable", "bob", NULL};
	static const char *const block[] = {"device", "block", "bob", "STALE",
					    NULL};
	static const char *const allow[] = {"device", "allow", "bob", "STALE",
					    NULL};
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "bob", "STALE");
	long http = 0;

	CU_ASSERT_FATAL(c != NULL);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(foldersync_status(c, a, &http), 1);
		CU_ASSERT_EQUAL(http, 200);
	}
	easctl_ok(disable);
	CU_ASSERT_EQUAL(foldersync_status(c, a, &http), 0);
	CU_ASSERT_EQUAL(http, 403);
	easctl_ok(enable);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(foldersync_status(c, a, &http), 1);
		CU_ASSERT_EQUAL(http, 200);
	}
	easctl_ok(block);
	CU_ASSERT_EQUAL(foldersync_status(c, a, &http), 129);
	CU_ASSERT_EQUAL(foldersync_status(c, a, &http), 129);
	easctl_ok(allow);
	CU_ASSERT_EQUAL(foldersync_status(c, a, &http), 1);
	eas_client_free(&c);
	arena_free(&a);
}

/* The same, once a repeated no-change FolderSync is answered from
 * memory (its key remembered with the device): blocking the device,
 * changing the password and disabling the account are each in force for
 * the next such request. */
static void
test_standing_foldersync_never_stale(void)
{
	static const char *const block[] = {"device", "block", "bob", "NOCHG",
					    NULL};
	static const char *const allow[] = {"device", "allow", "bob", "NOCHG",
					    NULL};
	static const char *const passwd[] = {"user",	   "passwd",	 "bob",
					     "--password", "other-pass", NULL};
	static const char *const passwd_back[] = {
		"user", "passwd", "bob", "--password", HARNESS_PASSWORD, NULL};
	static const char *const disable[] = {"user", "disable", "bob", NULL};
	static const char *const enable[] = {"user", "enable", "bob", NULL};
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "bob", "NOCHG");
	const char *key = NULL;
	char *k;
	long http = 0;

	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL_FATAL(foldersync_key_status(c, a, NULL, &http, &key),
			      1);
	CU_ASSERT_FATAL(key != NULL);
	k = strdup(key);
	/* the second no-change answer comes from memory */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 1);
	easctl_ok(block);
	CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 129);
	easctl_ok(allow);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 1);
	easctl_ok(passwd);
	CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 0);
	CU_ASSERT_EQUAL(http, 401);
	easctl_ok(passwd_back);
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 1);
	easctl_ok(disable);
	CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 0);
	CU_ASSERT_EQUAL(http, 403);
	easctl_ok(enable);
	CU_ASSERT_EQUAL(foldersync_key_status(c, a, k, &http, NULL), 1);
	free(k);
	eas_client_free(&c);
	arena_free(&a);
}

/* A no-change Sync of contacts; -1 on failure, else the items it got. */
static int
contacts_sync(struct eas_client *c, struct arena *a, const char *cid)
{
	struct eas_sync_result r;

	if (eas_client_sync(c, a, cid, NULL, &r) < 0 || r.status != 1)
		return -1;
	return (int)r.count;
}

/* A repeated no-change Sync is answered from memory (server/standing.c),
 * but a change made right after it, by easctl in its own process or by
 * another device of the account, is seen by the very next Sync. */
static void
test_standing_sync_never_stale(void)
{
	static const char vcard[] = "BEGIN:VCARD\r\nVERSION:3.0\r\n"
				    "FN:Nora Nochange\r\n"
				    "N:Nochange;Nora;;;\r\nEND:VCARD\r\n";
	struct arena *a = arena_new(0);
	struct eas_client *c = harness_client(srv, "bob", "NCSYNC");
	struct eas_client *other = harness_client(srv, "bob", "NCOTHER");
	const struct eas_folder *f;
	struct wbxml_node *app;
	char path[] = "/tmp/easd-ncsync-XXXXXX";
	const char *import[] = {"import", "bob", path, NULL};
	const char *sid = NULL;
	char *cid;
	int status = 0, fd, hits;
	FILE *fp;

	CU_ASSERT_FATAL(c != NULL && other != NULL);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(c, a, &status), 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(other, a, &status), 0);
	f = eas_client_folder_by_type(c, 9);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	cid = strdup(f->server_id);
	CU_ASSERT_FATAL(contacts_sync(c, a, cid) >= 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync_prime(other, a, cid), 0);

	/* from memory after the first; then easctl imports a contact */
	hits = harness_log_count(srv, "NCSYNC: no change, from memory");
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 0);
	/* (the log line may come just after the answer) */
	CU_ASSERT(harness_wait_log(srv, "NCSYNC: no change, from memory",
				   hits + 2, 10000) >= hits + 2);
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fp = fdopen(fd, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fputs(vcard, fp);
	fclose(fp);
	easctl_ok(import);
	unlink(path);
	CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 1);

	/* the same with another device's Add */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 0);
	app = wbxml_new(a, EAS_AIRSYNC_APPLICATIONDATA);
	wbxml_add_text(a, app, EAS_CONTACTS_FIRSTNAME, "Otto");
	wbxml_add_text(a, app, EAS_CONTACTS_LASTNAME, "Other");
	CU_ASSERT_EQUAL(eas_client_add(other, a, cid, app, &sid, &status), 0);
	CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 1);

	/* and with the other device deleting it */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 0);
	CU_ASSERT_FATAL(sid != NULL);
	CU_ASSERT_EQUAL(eas_client_delete(other, a, cid, sid, &status), 0);
	CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 1);
	CU_ASSERT_EQUAL(contacts_sync(c, a, cid), 0);
	free(cid);
	eas_client_free(&other);
	eas_client_free(&c);
	arena_free(&a);
}

/* Ten wrong passwords lock the account from that address for a while:
 * even the right one is then answered 503 with Retry-After, and the
 * server logs it. Its own server, without the growing delay of failed
 * answers (test-harden checks that). */
static void
test_login_throttle(void)
{
	static const char *const args[] = {"--auth-delay-max", "0", NULL};
	struct easd_proc *p = easd_start(args);
	struct arena *a = arena_new(0);
	struct eas_client *c;
	struct eas_response r;

	CU_ASSERT_FATAL(p != NULL);
	c = harness_client_new(p, "bob", "THROTTLE");
	CU_ASSERT_FATAL(c != NULL);
	free(c->password);
	c->password = strdup("wrong");
	for (int i = 0; i < 10; i++) {
		eas_client_options(c, a, &r);
		CU_ASSERT_EQUAL(r.http_status, 401);
	}
	free(c->password);
	c->password = strdup(HARNESS_PASSWORD);
	eas_client_options(c, a, &r);
	CU_ASSERT_EQUAL(r.http_status, 503);
	CU_ASSERT_PTR_NOT_NULL(r.retry_after);
	/* Another account from the same address is not affected. */
	{
		struct eas_client *ok = harness_client_new(p, "ada", "THR2");

		CU_ASSERT_EQUAL(eas_client_options(ok, a, &r), 0);
		CU_ASSERT_EQUAL(r.http_status, 200);
		eas_client_free(&ok);
	}
	CU_ASSERT(harness_log_count(p, "auth: login locked: client=127.0.0.1 "
				       "account='bob'") == 1);
	eas_client_free(&c);
	CU_ASSERT_EQUAL(easd_stop(&p), 0);
	arena_free(&a);
}

static CU_TestInfo frontend_tests[] = {
	{"route table: 404, 405 with Allow, paths in any case", test_routes},
	{"first contact: autodiscover, options, provision, foldersync",
	 test_first_contact},
	{"folder create/update/delete seen by another device",
	 test_folder_commands},
	{"hierarchy key: repeat gives the same bytes, unknown gives 9",
	 test_hierarchy_key_rules},
	{"base64 query form, truncated and malformed", test_base64_query},
	{"bad requests get their documented answers", test_bad_requests},
	{"another user's folder ids change nothing", test_other_users_folder},
	{"12.1 device is asked to provision with 449", test_legacy_449},
	{"remote wipe delivered and acknowledged", test_remote_wipe},
	{"blocked device refused with 129", test_blocked_device},
	{"HTTPS with --tls-cert/--tls-key", test_tls},
	{"TLS 1.1 and non-forward-secret ciphers refused", test_tls_versions},
	{"a password changed by easctl applies at once", test_password_change},
	{"accounts and devices from memory, never stale after easctl",
	 test_standing_never_stale},
	{"a no-change FolderSync from memory, never stale after easctl",
	 test_standing_foldersync_never_stale},
	{"a no-change Sync from memory, never stale after a change",
	 test_standing_sync_never_stale},
	{"failed logins lock the account from that address, not the address",
	 test_login_throttle},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"frontend", suite_init, suite_clean, NULL, NULL, frontend_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
