/* End-to-end tests of Sync and GetItemEstimate against a real easd: items
 * of every PIM class travel between two devices of one account property by
 * property; changes, deletes and conflicts (both resolutions); windows of
 * 100 with MoreAvailable; a repeated SyncKey answered byte for byte with
 * nothing applied twice; bad keys, bad items, a FilterType that narrows the
 * calendar window; the cached empty request; Wait out of range. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "test-main.h"
#include "util.h"

static struct easd_proc *srv;
static struct arena *A;

static int
suite_init(void)
{
	/* date-only values follow the server's zone when the device's is
	 * not known: the same on every machine */
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

/* A provisioned 14.1 device of ada with the hierarchy synced. */
static struct eas_client *
device(const char *id)
{
	struct eas_client *c = harness_client(srv, HARNESS_ADA, id);

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	eas_client_set_version(c, "14.1");
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

/* --- raw Sync requests, for what the flows do not expose --- */

struct sync_opt {
	const char *key; /* NULL = the client's stored key */
	int window;	 /* 0 = not sent */
	int get_changes; /* -1 = not sent */
	int filter_type; /* -1 = not sent */
	int conflict;	 /* -1 = not sent */
	struct wbxml_node *commands;
};

static void
sync_opt_init(struct sync_opt *o)
{
	memset(o, 0, sizeof(*o));
	o->get_changes = -1;
	o->filter_type = -1;
	o->conflict = -1;
}

struct sync_res {
	long http;
	int top_status; /* 0 = none */
	int64_t limit;	/* -1 = none */
	int status;	/* collection Status, 0 = no collection */
	const char *key;
	bool more;
	struct eas_item items[600];
	size_t count;
	struct eas_reply replies[64];
	size_t nreplies;
	const uint8_t *body;
	size_t body_len;
};

static struct wbxml_node *
sync_tree(struct eas_client *c, const char *cid, const struct sync_opt *o)
{
	struct wbxml_node *root = wbxml_new(A, EAS_AIRSYNC_SYNC);
	struct wbxml_node *cs = wbxml_add(A, root, EAS_AIRSYNC_COLLECTIONS);
	struct wbxml_node *coll = wbxml_add(A, cs, EAS_AIRSYNC_COLLECTION);

	wbxml_add_text(A, coll, EAS_AIRSYNC_SYNCKEY,
		       o->key != NULL ? o->key : eas_client_sync_key(c, cid));
	wbxml_add_text(A, coll, EAS_AIRSYNC_COLLECTIONID, cid);
	if (o->get_changes >= 0)
		wbxml_add_int(A, coll, EAS_AIRSYNC_GETCHANGES, o->get_changes);
	if (o->window > 0)
		wbxml_add_int(A, coll, EAS_AIRSYNC_WINDOWSIZE, o->window);
	if (o->filter_type >= 0 || o->conflict >= 0) {
		struct wbxml_node *opt =
			wbxml_add(A, coll, EAS_AIRSYNC_OPTIONS);

		if (o->filter_type >= 0)
			wbxml_add_int(A, opt, EAS_AIRSYNC_FILTERTYPE,
				      o->filter_type);
		if (o->conflict >= 0)
			wbxml_add_int(A, opt, EAS_AIRSYNC_CONFLICT,
				      o->conflict);
	}
	if (o->commands != NULL)
		wbxml_append(coll, o->commands);
	return root;
}

static enum eas_item_kind
kind_of(uint16_t tag)
{
	switch (tag) {
	case EAS_AIRSYNC_ADD:
		return EAS_ITEM_ADD;
	case EAS_AIRSYNC_CHANGE:
		return EAS_ITEM_CHANGE;
	case EAS_AIRSYNC_DELETE:
		return EAS_ITEM_DELETE;
	case EAS_AIRSYNC_SOFTDELETE:
		return EAS_ITEM_SOFTDELETE;
	default:
		return 0;
	}
}

static void
parse_res(const struct wbxml_node *root, struct sync_res *r)
{
	const struct wbxml_node *cs, *coll, *n, *x;
	int64_t v;

	if (root == NULL)
		return;
	if (wbxml_child_int(root, EAS_AIRSYNC_STATUS, &v) == 1)
		r->top_status = (int)v;
	if (wbxml_child_int(root, EAS_AIRSYNC_LIMIT, &v) == 1)
		r->limit = v;
	cs = wbxml_child(root, EAS_AIRSYNC_COLLECTIONS);
	coll = cs != NULL ? wbxml_child(cs, EAS_AIRSYNC_COLLECTION) : NULL;
	if (coll == NULL)
		return;
	if (wbxml_child_int(coll, EAS_AIRSYNC_STATUS, &v) == 1)
		r->status = (int)v;
	r->key = wbxml_child_text(coll, EAS_AIRSYNC_SYNCKEY);
	r->more = wbxml_child(coll, EAS_AIRSYNC_MOREAVAILABLE) != NULL;
	n = wbxml_child(coll, EAS_AIRSYNC_COMMANDS);
	if (n != NULL) {
		wbxml_foreach(n, x)
		{
			struct eas_item *it;

			if (r->count >= N_ELEMENTS(r->items))
				break;
			it = &r->items[r->count++];
			it->kind = kind_of(x->tag);
			it->server_id =
				wbxml_child_text(x, EAS_AIRSYNC_SERVERID);
			it->appdata =
				wbxml_child(x, EAS_AIRSYNC_APPLICATIONDATA);
		}
	}
	n = wbxml_child(coll, EAS_AIRSYNC_RESPONSES);
	if (n != NULL) {
		wbxml_foreach(n, x)
		{
			struct eas_reply *rp;

			if (r->nreplies >= N_ELEMENTS(r->replies))
				break;
			rp = &r->replies[r->nreplies++];
			rp->kind = kind_of(x->tag);
			rp->client_id =
				wbxml_child_text(x, EAS_AIRSYNC_CLIENTID);
			rp->server_id =
				wbxml_child_text(x, EAS_AIRSYNC_SERVERID);
			if (wbxml_child_int(x, EAS_AIRSYNC_STATUS, &v) == 1)
				rp->status = (int)v;
		}
	}
}

/* POST body (NULL = empty request); the client's key moves on. */
static void
post_sync(struct eas_client *c, const char *cid, const struct wbxml_node *body,
	  struct sync_res *r)
{
	struct eas_response resp;

	memset(r, 0, sizeof(*r));
	r->limit = -1;
	CU_ASSERT_EQUAL_FATAL(eas_client_post(c, A, "Sync", body, NULL, &resp),
			      0);
	r->http = resp.http_status;
	r->body = resp.body;
	r->body_len = resp.body_len;
	parse_res(resp.tree, r);
	if (r->status == 1 && r->key != NULL && cid != NULL)
		eas_client_set_sync_key(c, cid, r->key);
	if (r->status == 3 && cid != NULL)
		eas_client_set_sync_key(c, cid, NULL);
}

static void
raw_sync(struct eas_client *c, const char *cid, const struct sync_opt *o,
	 struct sync_res *r)
{
	post_sync(c, cid, sync_tree(c, cid, o), r);
}

/* Prime (key 0) with options. */
static void
prime(struct eas_client *c, const char *cid, int filter_type)
{
	struct sync_opt o;
	struct sync_res r;

	sync_opt_init(&o);
	o.key = "0";
	o.filter_type = filter_type;
	raw_sync(c, cid, &o, &r);
	CU_ASSERT_EQUAL_FATAL(r.status, 1);
	CU_ASSERT_EQUAL(r.count, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.key);
	CU_ASSERT_STRING_NOT_EQUAL(r.key, "0");
}

/* --- items --- */

static void
add_body(struct wbxml_node *app, const char *text)
{
	struct wbxml_node *b = wbxml_add(A, app, EAS_AIRSYNCBASE_BODY);

	wbxml_add_text(A, b, EAS_AIRSYNCBASE_TYPE, "1");
	wbxml_add_text(A, b, EAS_AIRSYNCBASE_DATA, text);
}

static void
add_list(struct wbxml_node *app, uint16_t list, uint16_t item, const char *a,
	 const char *b)
{
	struct wbxml_node *l = wbxml_add(A, app, list);

	wbxml_add_text(A, l, item, a);
	wbxml_add_text(A, l, item, b);
}

struct prop {
	uint16_t tag;
	const char *v;
};

static struct wbxml_node *
props_tree(const struct prop *p, size_t n)
{
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	for (size_t i = 0; i < n; i++)
		wbxml_add_text(A, app, p[i].tag, p[i].v);
	return app;
}

static struct wbxml_node *
rich_contact(const char *last)
{
	const struct prop p[] = {
		{EAS_CONTACTS_FIRSTNAME, "Grace"},
		{EAS_CONTACTS_MIDDLENAME, "Brewster"},
		{EAS_CONTACTS_LASTNAME, last},
		{EAS_CONTACTS_TITLE, "Rear Adm."},
		{EAS_CONTACTS_FILEAS, "Hopper, Grace"},
		{EAS_CONTACTS_COMPANYNAME, "US Navy; Reserve"},
		{EAS_CONTACTS_DEPARTMENT, "Computing"},
		{EAS_CONTACTS_JOBTITLE, "Programmer, first class"},
		{EAS_CONTACTS_EMAIL1ADDRESS, "grace@example.net"},
		{EAS_CONTACTS_EMAIL2ADDRESS, "\"G H\" <gh@example.org>"},
		{EAS_CONTACTS_MOBILEPHONENUMBER, "+1 555 0100"},
		{EAS_CONTACTS_BUSINESSPHONENUMBER, "+1 555 0101"},
		{EAS_CONTACTS_HOMEPHONENUMBER, "+1 555 0102"},
		{EAS_CONTACTS_BUSINESSADDRESSSTREET, "1 Main St\r\nSuite 2"},
		{EAS_CONTACTS_BUSINESSADDRESSCITY, "Arlington"},
		{EAS_CONTACTS_BUSINESSADDRESSSTATE, "VA"},
		{EAS_CONTACTS_BUSINESSADDRESSPOSTALCODE, "22201"},
		{EAS_CONTACTS_BUSINESSADDRESSCOUNTRY, "USA"},
		{EAS_CONTACTS_HOMEADDRESSCITY, "Zürich"},
		/* a date: local midnight of the device's zone (here the
		 * server's, pinned to UTC below) */
		{EAS_CONTACTS_BIRTHDAY, "1906-12-09T00:00:00.000Z"},
		{EAS_CONTACTS_WEBPAGE, "https://example.net/grace?a=1,b=2"},
		{EAS_CONTACTS_SPOUSE, "Vincent"},
		{EAS_CONTACTS2_NICKNAME, "Amazing Grace"},
		{EAS_CONTACTS2_IMADDRESS, "xmpp:grace@example.net"},
		{EAS_CONTACTS2_MANAGERNAME, "Howard"},
	};
	struct wbxml_node *app = props_tree(p, N_ELEMENTS(p));

	add_list(app, EAS_CONTACTS_CATEGORIES, EAS_CONTACTS_CATEGORY,
		 "Pioneers", "Navy, US");
	add_list(app, EAS_CONTACTS_CHILDREN, EAS_CONTACTS_CHILD, "None", "Nil");
	add_body(app, "Coined \"bug\".\r\nCOBOL; compilers.");
	return app;
}

/* 172 zero bytes: UTC without daylight rules (MS-ASDTYPE 2.7.6). */
#define TZ_UTC                                                                 \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AAAAAAAAAAAAAAAAAAAAAAAA"                                             \
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
	"AA=="

static struct wbxml_node *
event_at(const char *subject, int64_t start)
{
	char s[32], e[32], stamp[32];
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	time_format_compact(start, s);
	time_format_compact(start + 3600, e);
	time_format_compact(1700000000, stamp);
	wbxml_add_text(A, app, EAS_CALENDAR_TIMEZONE, TZ_UTC);
	wbxml_add_text(A, app, EAS_CALENDAR_ALLDAYEVENT, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_BUSYSTATUS, "2");
	wbxml_add_text(A, app, EAS_CALENDAR_DTSTAMP, stamp);
	wbxml_add_text(A, app, EAS_CALENDAR_ENDTIME, e);
	wbxml_add_text(A, app, EAS_CALENDAR_LOCATION, "Room 1; Building B");
	wbxml_add_text(A, app, EAS_CALENDAR_MEETINGSTATUS, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_REMINDER, "15");
	wbxml_add_text(A, app, EAS_CALENDAR_SENSITIVITY, "0");
	wbxml_add_text(A, app, EAS_CALENDAR_STARTTIME, s);
	wbxml_add_text(A, app, EAS_CALENDAR_SUBJECT, subject);
	add_list(app, EAS_CALENDAR_CATEGORIES, EAS_CALENDAR_CATEGORY,
		 "Planning", "Team, core");
	add_body(app, "Agenda:\r\n1. Sync\r\n2. Ping");
	return app;
}

static struct wbxml_node *
rich_event(const char *subject)
{
	return event_at(subject, time_now() + 7 * 86400 - time_now() % 3600);
}

static struct wbxml_node *
rich_task(const char *subject)
{
	const struct prop p[] = {
		{EAS_TASKS_SUBJECT, subject},
		{EAS_TASKS_IMPORTANCE, "2"},
		{EAS_TASKS_UTCSTARTDATE, "2030-03-01T09:00:00.000Z"},
		{EAS_TASKS_STARTDATE, "2030-03-01T09:00:00.000Z"},
		{EAS_TASKS_UTCDUEDATE, "2030-03-05T17:00:00.000Z"},
		{EAS_TASKS_DUEDATE, "2030-03-05T17:00:00.000Z"},
		{EAS_TASKS_COMPLETE, "0"},
		{EAS_TASKS_SENSITIVITY, "0"},
		{EAS_TASKS_REMINDERSET, "0"},
	};
	struct wbxml_node *app = props_tree(p, N_ELEMENTS(p));

	add_list(app, EAS_TASKS_CATEGORIES, EAS_TASKS_CATEGORY, "Home",
		 "Errands, weekly");
	add_body(app, "Milk\r\nEggs; bread");
	return app;
}

static struct wbxml_node *
rich_note(const char *subject)
{
	const struct prop p[] = {
		{EAS_NOTES_SUBJECT, subject},
		{EAS_NOTES_MESSAGECLASS, "IPM.StickyNote"},
		{EAS_NOTES_LASTMODIFIEDDATE, "2024-03-05T14:30:00.000Z"},
	};
	struct wbxml_node *app = props_tree(p, N_ELEMENTS(p));

	add_list(app, EAS_NOTES_CATEGORIES, EAS_NOTES_CATEGORY, "Ideas",
		 "Later, maybe");
	add_body(app, "Line one\r\nLine two; three");
	return app;
}

/* Every property sent comes back with the same value (the server may add
 * its own, like a UID or the body's size). */
static void
assert_props(const struct wbxml_node *sent, const struct wbxml_node *got)
{
	const struct wbxml_node *n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	wbxml_foreach(sent, n)
	{
		const struct wbxml_node *g = wbxml_child(got, n->tag);

		if (g == NULL) {
			fprintf(stderr, "missing %s\n", wbxml_tag_name(n->tag));
			CU_FAIL("property missing");
			continue;
		}
		if (n->tag == EAS_AIRSYNCBASE_BODY) {
			CU_ASSERT_STRING_EQUAL(
				wbxml_child_text(g, EAS_AIRSYNCBASE_DATA),
				wbxml_child_text(n, EAS_AIRSYNCBASE_DATA));
			continue;
		}
		if (n->child != NULL) {
			const struct wbxml_node *a = n->child, *b = g->child;

			for (; a != NULL && b != NULL; a = a->next, b = b->next)
				CU_ASSERT_STRING_EQUAL(wbxml_text(a),
						       wbxml_text(b));
			CU_ASSERT(a == NULL && b == NULL);
			continue;
		}
		if (strcmp(wbxml_text(n), wbxml_text(g)) != 0) {
			fprintf(stderr, "%s: sent '%s' got '%s'\n",
				wbxml_tag_name(n->tag), wbxml_text(n),
				wbxml_text(g));
			CU_FAIL("property differs");
		}
	}
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

/* --- add on A -> B, change on B -> A, delete, for one class --- */

typedef struct wbxml_node *make_fn(const char *name);

static void
roundtrip_class(int folder_type, make_fn *make, const char *dev_a,
		const char *dev_b)
{
	struct eas_client *a = device(dev_a), *b = device(dev_b);
	const char *fa = folder_of(a, folder_type),
		   *fb = folder_of(b, folder_type);
	struct eas_sync_result r;
	const struct eas_item *it;
	struct wbxml_node *item = make("First"), *changed;
	const char *sid = NULL;
	int status = 0;

	CU_ASSERT_STRING_EQUAL(fa, fb);
	/* both hold the folder before anything happens */
	CU_ASSERT_EQUAL(eas_client_sync(a, A, fa, NULL, &r), 0);
	CU_ASSERT_EQUAL(eas_client_sync(b, A, fb, NULL, &r), 0);

	CU_ASSERT_EQUAL_FATAL(eas_client_add(a, A, fa, item, &sid, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sid);
	CU_ASSERT_EQUAL(eas_client_sync(b, A, fb, NULL, &r), 0);
	it = find_item(&r, EAS_ITEM_ADD, sid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	assert_props(item, it->appdata);
	/* A made it: it is not echoed back to A */
	CU_ASSERT_EQUAL(eas_client_sync(a, A, fa, NULL, &r), 0);
	CU_ASSERT_PTR_NULL(find_item(&r, EAS_ITEM_ADD, sid));

	changed = make("Second");
	CU_ASSERT_EQUAL(eas_client_change(b, A, fb, sid, changed, &status), 0);
	CU_ASSERT_EQUAL(eas_client_sync(a, A, fa, NULL, &r), 0);
	it = find_item(&r, EAS_ITEM_CHANGE, sid);
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	assert_props(changed, it->appdata);

	CU_ASSERT_EQUAL(eas_client_delete(b, A, fb, sid, &status), 0);
	CU_ASSERT_EQUAL(eas_client_sync(a, A, fa, NULL, &r), 0);
	CU_ASSERT_PTR_NOT_NULL(find_item(&r, EAS_ITEM_DELETE, sid));
	/* deleting it again: not found */
	CU_ASSERT_NOT_EQUAL(eas_client_delete(a, A, fa, sid, &status), 0);
	CU_ASSERT_EQUAL(status, 8);
	eas_client_free(&a);
	eas_client_free(&b);
}

static void
test_contacts(void)
{
	roundtrip_class(EAS_FOLDER_CONTACTS, rich_contact, "ctA", "ctB");
}

static void
test_calendar(void)
{
	roundtrip_class(EAS_FOLDER_CALENDAR, rich_event, "calA", "calB");
}

static void
test_tasks(void)
{
	roundtrip_class(EAS_FOLDER_TASKS, rich_task, "tskA", "tskB");
}

static void
test_notes(void)
{
	roundtrip_class(EAS_FOLDER_NOTES, rich_note, "ntA", "ntB");
}

/* --- conflicts --- */

static struct wbxml_node *
change_cmd(const char *sid, struct wbxml_node *app)
{
	struct wbxml_node *cmds = wbxml_new(A, EAS_AIRSYNC_COMMANDS);
	struct wbxml_node *ch = wbxml_add(A, cmds, EAS_AIRSYNC_CHANGE);

	wbxml_add_text(A, ch, EAS_AIRSYNC_SERVERID, sid);
	wbxml_append(ch, app);
	return cmds;
}

static void
test_conflict(void)
{
	struct eas_client *a = device("cfA"), *b = device("cfB");
	const char *f = folder_of(a, EAS_FOLDER_CONTACTS);
	struct eas_sync_result r;
	struct sync_opt o;
	struct sync_res sr;
	const char *sid;
	int status;

	CU_ASSERT_EQUAL(eas_client_sync(a, A, f, NULL, &r), 0);
	CU_ASSERT_EQUAL(eas_client_sync(b, A, f, NULL, &r), 0);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(a, A, f, rich_contact("Base"), &sid, &status),
		0);
	CU_ASSERT_EQUAL(eas_client_sync(b, A, f, NULL, &r), 0);

	/* B changes first; A changes the version it holds: server wins by
	 * default, A gets Status 7 and B's version in the same answer. */
	CU_ASSERT_EQUAL(
		eas_client_change(b, A, f, sid, rich_contact("ByB"), &status),
		0);
	sync_opt_init(&o);
	o.get_changes = 0;
	o.commands = change_cmd(sid, rich_contact("ByA"));
	raw_sync(a, f, &o, &sr);
	CU_ASSERT_EQUAL(sr.status, 1);
	CU_ASSERT_EQUAL_FATAL(sr.nreplies, 1);
	CU_ASSERT_EQUAL(sr.replies[0].status, 7);
	CU_ASSERT_EQUAL_FATAL(sr.count, 1);
	CU_ASSERT_EQUAL(sr.items[0].kind, EAS_ITEM_CHANGE);
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(sr.items[0].appdata, EAS_CONTACTS_LASTNAME),
		"ByB");
	/* and it is not sent a second time */
	CU_ASSERT_EQUAL(eas_client_sync(a, A, f, NULL, &r), 0);
	CU_ASSERT_PTR_NULL(find_item(&r, EAS_ITEM_CHANGE, sid));

	/* Client wins (Conflict 0): A's change is applied over B's newer
	 * one, and B receives it. */
	CU_ASSERT_EQUAL(
		eas_client_change(b, A, f, sid, rich_contact("ByB2"), &status),
		0);
	sync_opt_init(&o);
	o.get_changes = 0;
	o.conflict = 0;
	o.commands = change_cmd(sid, rich_contact("ByA2"));
	raw_sync(a, f, &o, &sr);
	CU_ASSERT_EQUAL(sr.status, 1);
	CU_ASSERT_EQUAL(sr.nreplies, 0);
	CU_ASSERT_EQUAL(sr.count, 0);
	CU_ASSERT_EQUAL(eas_client_sync(b, A, f, NULL, &r), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(find_item(&r, EAS_ITEM_CHANGE, sid));
	CU_ASSERT_STRING_EQUAL(
		wbxml_child_text(find_item(&r, EAS_ITEM_CHANGE, sid)->appdata,
				 EAS_CONTACTS_LASTNAME),
		"ByA2");
	eas_client_free(&a);
	eas_client_free(&b);
}

/* --- windows --- */

static int64_t
folder_count(const char *sid)
{
	struct store *s = easd_store(srv);
	struct arena *a = arena_new(4096);
	struct store_folder f;
	int64_t n = -1;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	if (store_folder_get(s, a, srv->ada_id, sid, &f) == STORE_OK)
		store_item_count(s, f.id, &n);
	arena_free(&a);
	store_close(&s);
	return n;
}

static struct wbxml_node *
small_contact(unsigned i)
{
	struct wbxml_node *app = wbxml_new(A, EAS_AIRSYNC_APPLICATIONDATA);

	wbxml_add_textf(A, app, EAS_CONTACTS_FIRSTNAME, "Person%u", i);
	wbxml_add_text(A, app, EAS_CONTACTS_LASTNAME, "Window");
	return app;
}

static void
test_windows(void)
{
	struct eas_client *a = device("winA"), *b = device("winB");
	struct eas_client *x = device("winX");
	const char *f = folder_of(a, EAS_FOLDER_CONTACTS);
	struct eas_sync_result r;
	struct eas_command cmds[100] = {0};
	struct sync_opt o;
	struct sync_res sr;
	const char **seen = arena_zalloc(A, sizeof(char *) * 1100);
	size_t nseen = 0, windows = 0;
	int64_t before, estimate = -1;
	int status = 0;

	/* B holds what the other tests left; then A adds 1,000 */
	CU_ASSERT_EQUAL(eas_client_sync(x, A, f, NULL, &r), 0);
	before = folder_count(f);
	prime(b, f, -1);
	CU_ASSERT_EQUAL(eas_client_sync(b, A, f, NULL, &r), 0);
	CU_ASSERT_EQUAL(r.count, (size_t)before);
	for (unsigned batch = 0; batch < 10; batch++) {
		for (unsigned i = 0; i < 100; i++) {
			cmds[i].kind = EAS_ITEM_ADD;
			cmds[i].client_id =
				arena_printf(A, "c%u", batch * 100 + i);
			cmds[i].server_id = NULL;
			cmds[i].appdata = small_contact(batch * 100 + i);
		}
		CU_ASSERT_EQUAL_FATAL(
			eas_client_sync_commands(a, A, f, cmds, 100, &r), 0);
		CU_ASSERT_EQUAL(r.nreplies, 100);
	}
	CU_ASSERT_EQUAL(folder_count(f), before + 1000);

	CU_ASSERT_EQUAL(eas_client_estimate(b, A, f, &estimate, &status), 0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_EQUAL(estimate, 1000);

	sync_opt_init(&o);
	o.window = 100;
	do {
		raw_sync(b, f, &o, &sr);
		CU_ASSERT_EQUAL_FATAL(sr.status, 1);
		CU_ASSERT_EQUAL(sr.count, 100);
		for (size_t i = 0; i < sr.count; i++) {
			CU_ASSERT_EQUAL(sr.items[i].kind, EAS_ITEM_ADD);
			for (size_t j = 0; j < nseen; j++)
				CU_ASSERT(strcmp(seen[j],
						 sr.items[i].server_id) != 0);
			if (nseen < 1100)
				seen[nseen++] = sr.items[i].server_id;
		}
		windows++;
	} while (sr.more && windows < 20);
	CU_ASSERT_EQUAL(windows, 10);
	CU_ASSERT_EQUAL(nseen, 1000);
	/* and then nothing: an empty answer, keys unchanged */
	raw_sync(b, f, &o, &sr);
	CU_ASSERT_EQUAL(sr.http, 200);
	CU_ASSERT_EQUAL(sr.count, 0);
	CU_ASSERT_EQUAL(eas_client_estimate(b, A, f, &estimate, &status), 0);
	CU_ASSERT_EQUAL(estimate, 0);
	eas_client_free(&a);
	eas_client_free(&b);
	eas_client_free(&x);
}

/* --- replay, bad keys --- */

static struct wbxml_node *
add_cmds(const char *cid1, struct wbxml_node *app1, const char *cid2,
	 struct wbxml_node *app2)
{
	struct wbxml_node *cmds = wbxml_new(A, EAS_AIRSYNC_COMMANDS);
	struct wbxml_node *ad = wbxml_add(A, cmds, EAS_AIRSYNC_ADD);

	wbxml_add_text(A, ad, EAS_AIRSYNC_CLIENTID, cid1);
	wbxml_append(ad, app1);
	if (cid2 != NULL) {
		ad = wbxml_add(A, cmds, EAS_AIRSYNC_ADD);
		wbxml_add_text(A, ad, EAS_AIRSYNC_CLIENTID, cid2);
		wbxml_append(ad, app2);
	}
	return cmds;
}

static void
test_replay(void)
{
	struct eas_client *a = device("rpA"), *b = device("rpB");
	const char *f = folder_of(a, EAS_FOLDER_NOTES);
	struct sync_opt o;
	struct sync_res r1, r2;
	const char *k1;
	int64_t before;

	prime(a, f, -1);
	prime(b, f, -1);
	/* A's Add, sent twice with the same key */
	before = folder_count(f);
	k1 = arena_strdup(A, eas_client_sync_key(a, f));
	sync_opt_init(&o);
	o.key = k1;
	o.commands =
		add_cmds("n1", rich_note("Once"), "n2", rich_note("Twice"));
	raw_sync(a, f, &o, &r1);
	CU_ASSERT_EQUAL_FATAL(r1.status, 1);
	CU_ASSERT_EQUAL_FATAL(r1.nreplies, 2);
	raw_sync(a, f, &o, &r2);
	CU_ASSERT_EQUAL_FATAL(r2.status, 1);
	CU_ASSERT_EQUAL(r1.body_len, r2.body_len);
	CU_ASSERT(r1.body_len == r2.body_len &&
		  memcmp(r1.body, r2.body, r1.body_len) == 0);
	CU_ASSERT_STRING_EQUAL(r1.replies[0].server_id,
			       r2.replies[0].server_id);
	CU_ASSERT_EQUAL(folder_count(f), before + 2);

	/* B receives them; repeating B's key gives the same bytes too */
	k1 = arena_strdup(A, eas_client_sync_key(b, f));
	sync_opt_init(&o);
	o.key = k1;
	raw_sync(b, f, &o, &r1);
	CU_ASSERT_EQUAL(r1.count, 2);
	raw_sync(b, f, &o, &r2);
	CU_ASSERT(r1.body_len == r2.body_len &&
		  memcmp(r1.body, r2.body, r1.body_len) == 0);

	/* the key before that one, or a made-up one: Status 3 */
	sync_opt_init(&o);
	o.key = "{deadbeef}7";
	raw_sync(b, f, &o, &r1);
	CU_ASSERT_EQUAL(r1.status, 3);
	/* Commands with key 0: protocol error, nothing added */
	before = folder_count(f);
	sync_opt_init(&o);
	o.key = "0";
	o.commands = add_cmds("z", rich_note("Zero"), NULL, NULL);
	raw_sync(b, f, &o, &r1);
	CU_ASSERT_EQUAL(r1.status, 4);
	CU_ASSERT_EQUAL(folder_count(f), before);
	/* a folder that does not exist: the hierarchy changed */
	sync_opt_init(&o);
	o.key = "{00000000}1";
	raw_sync(b, "no-such-folder", &o, &r1);
	CU_ASSERT_EQUAL(r1.status, 12);
	eas_client_free(&a);
	eas_client_free(&b);
}

static void
test_bad_item(void)
{
	struct eas_client *a = device("badA");
	const char *f = folder_of(a, EAS_FOLDER_CONTACTS);
	struct wbxml_node *bad = small_contact(7), *cmds;
	struct sync_opt o;
	struct sync_res r;
	struct wbxml_node *ad;
	int64_t before;

	prime(a, f, -1);
	before = folder_count(f);
	wbxml_add_text(A, bad, EAS_CONTACTS_BIRTHDAY, "32/13/2024");
	cmds = add_cmds("good1", small_contact(1), "bad", bad);
	ad = wbxml_add(A, cmds, EAS_AIRSYNC_ADD);
	wbxml_add_text(A, ad, EAS_AIRSYNC_CLIENTID, "good2");
	wbxml_append(ad, small_contact(2));
	sync_opt_init(&o);
	o.commands = cmds;
	raw_sync(a, f, &o, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL_FATAL(r.nreplies, 3);
	CU_ASSERT_STRING_EQUAL(r.replies[0].client_id, "good1");
	CU_ASSERT_EQUAL(r.replies[0].status, 1);
	CU_ASSERT_STRING_EQUAL(r.replies[1].client_id, "bad");
	CU_ASSERT_EQUAL(r.replies[1].status, 6);
	CU_ASSERT_PTR_NULL(r.replies[1].server_id);
	CU_ASSERT_EQUAL(r.replies[2].status, 1);
	CU_ASSERT_EQUAL(folder_count(f), before + 2);
	eas_client_free(&a);
}

/* --- FilterType: an event two months old leaves a one-month window --- */

static void
test_filter_window(void)
{
	struct eas_client *a = device("flA"), *b = device("flB");
	const char *f = folder_of(a, EAS_FOLDER_CALENDAR);
	int64_t now = time_now() - time_now() % 3600;
	const char *old_sid = NULL, *new_sid = NULL;
	struct sync_opt o;
	struct sync_res r;
	int status;
	bool old_seen = false, new_seen = false;

	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(a, A, f,
			       event_at("Two months ago", now - 60 * 86400),
			       &old_sid, &status),
		0);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(a, A, f, event_at("Next week", now + 7 * 86400),
			       &new_sid, &status),
		0);
	prime(b, f, 6);
	sync_opt_init(&o);
	o.window = 500;
	raw_sync(b, f, &o, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	for (size_t i = 0; i < r.count; i++) {
		old_seen |= strcmp(r.items[i].server_id, old_sid) == 0;
		new_seen |= strcmp(r.items[i].server_id, new_sid) == 0;
	}
	CU_ASSERT(old_seen && new_seen);

	/* three months -> one month: the old one is soft-deleted */
	o.filter_type = 5;
	raw_sync(b, f, &o, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL_FATAL(r.count, 1);
	CU_ASSERT_EQUAL(r.items[0].kind, EAS_ITEM_SOFTDELETE);
	CU_ASSERT_STRING_EQUAL(r.items[0].server_id, old_sid);
	/* and back to three months: it returns */
	o.filter_type = 6;
	raw_sync(b, f, &o, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL_FATAL(r.count, 1);
	CU_ASSERT_EQUAL(r.items[0].kind, EAS_ITEM_ADD);
	CU_ASSERT_STRING_EQUAL(r.items[0].server_id, old_sid);
	eas_client_free(&a);
	eas_client_free(&b);
}

/* --- the cached request and Wait --- */

static void
test_empty_request(void)
{
	struct eas_client *a = device("emA"), *b = device("emB");
	struct eas_client *fresh = device("emC");
	const char *f = folder_of(a, EAS_FOLDER_NOTES);
	struct sync_opt o;
	struct sync_res r;
	const char *sid;
	int status;

	/* no request cached yet: Status 13 */
	post_sync(fresh, NULL, NULL, &r);
	CU_ASSERT_EQUAL(r.http, 200);
	CU_ASSERT_EQUAL(r.top_status, 13);

	prime(b, f, -1);
	sync_opt_init(&o);
	o.window = 50;
	raw_sync(b, f, &o, &r); /* full request: cached */
	CU_ASSERT_EQUAL(
		eas_client_add(a, A, f, rich_note("Cached"), &sid, &status), 0);
	post_sync(b, f, NULL, &r);
	CU_ASSERT_EQUAL(r.status, 1);
	CU_ASSERT_EQUAL_FATAL(r.count, 1);
	CU_ASSERT_EQUAL(r.items[0].kind, EAS_ITEM_ADD);
	CU_ASSERT_STRING_EQUAL(r.items[0].server_id, sid);
	/* nothing new: empty answer */
	post_sync(b, f, NULL, &r);
	CU_ASSERT_EQUAL(r.http, 200);
	CU_ASSERT_EQUAL(r.count, 0);
	eas_client_free(&a);
	eas_client_free(&b);
	eas_client_free(&fresh);
}

/* Partial (MS-ASCMD 2.2.3.124): a request naming one collection is merged
 * with the cached one, so both collections are synced. */
static void
test_partial_request(void)
{
	struct eas_client *a = device("ptA"), *b = device("ptB");
	const char *notes = folder_of(b, EAS_FOLDER_NOTES);
	const char *contacts = folder_of(b, EAS_FOLDER_CONTACTS);
	struct wbxml_node *q, *cs, *c;
	struct eas_response resp;
	const struct wbxml_node *rc, *coll;
	const char *kn, *kc, *sid;
	int status, adds = 0, colls = 0;

	prime(b, notes, -1);
	prime(b, contacts, -1);
	kn = arena_strdup(A, eas_client_sync_key(b, notes));
	kc = arena_strdup(A, eas_client_sync_key(b, contacts));
	/* the full request with both collections is cached */
	q = wbxml_new(A, EAS_AIRSYNC_SYNC);
	cs = wbxml_add(A, q, EAS_AIRSYNC_COLLECTIONS);
	c = wbxml_add(A, cs, EAS_AIRSYNC_COLLECTION);
	wbxml_add_text(A, c, EAS_AIRSYNC_SYNCKEY, kn);
	wbxml_add_text(A, c, EAS_AIRSYNC_COLLECTIONID, notes);
	c = wbxml_add(A, cs, EAS_AIRSYNC_COLLECTION);
	wbxml_add_text(A, c, EAS_AIRSYNC_SYNCKEY, kc);
	wbxml_add_text(A, c, EAS_AIRSYNC_COLLECTIONID, contacts);
	CU_ASSERT_EQUAL_FATAL(eas_client_post(b, A, "Sync", q, NULL, &resp), 0);
	CU_ASSERT_EQUAL(resp.http_status, 200);

	CU_ASSERT_EQUAL(eas_client_add(a, A, folder_of(a, EAS_FOLDER_NOTES),
				       rich_note("Partial"), &sid, &status),
			0);
	CU_ASSERT_EQUAL(eas_client_add(a, A, folder_of(a, EAS_FOLDER_CONTACTS),
				       rich_contact("Partial"), &sid, &status),
			0);

	q = wbxml_new(A, EAS_AIRSYNC_SYNC);
	cs = wbxml_add(A, q, EAS_AIRSYNC_COLLECTIONS);
	c = wbxml_add(A, cs, EAS_AIRSYNC_COLLECTION);
	wbxml_add_text(A, c, EAS_AIRSYNC_SYNCKEY, kc);
	wbxml_add_text(A, c, EAS_AIRSYNC_COLLECTIONID, contacts);
	wbxml_add(A, q, EAS_AIRSYNC_PARTIAL);
	CU_ASSERT_EQUAL_FATAL(eas_client_post(b, A, "Sync", q, NULL, &resp), 0);
	CU_ASSERT_EQUAL(resp.http_status, 200);
	CU_ASSERT_FATAL(resp.tree != NULL);
	rc = wbxml_child(resp.tree, EAS_AIRSYNC_COLLECTIONS);
	CU_ASSERT_FATAL(rc != NULL);
	wbxml_foreach(rc, coll)
	{
		const struct wbxml_node *cmds =
			wbxml_child(coll, EAS_AIRSYNC_COMMANDS);

		colls++;
		if (cmds != NULL && wbxml_child(cmds, EAS_AIRSYNC_ADD) != NULL)
			adds++;
	}
	CU_ASSERT_EQUAL(colls, 2);
	CU_ASSERT_EQUAL(adds, 2);
	eas_client_free(&a);
	eas_client_free(&b);
}

static void
test_wait_range(void)
{
	struct eas_client *b = device("wtB");
	const char *f = folder_of(b, EAS_FOLDER_NOTES);
	static const struct {
		uint16_t tag;
		int v;
		int64_t limit;
	} cases[] = {
		{EAS_AIRSYNC_WAIT, 0, 1},
		{EAS_AIRSYNC_WAIT, 60, 59},
		{EAS_AIRSYNC_HEARTBEATINTERVAL, 5, -2},
		{EAS_AIRSYNC_HEARTBEATINTERVAL, 100000, -2},
	};

	prime(b, f, -1);
	for (size_t i = 0; i < N_ELEMENTS(cases); i++) {
		struct sync_opt o;
		struct sync_res r;
		struct wbxml_node *t;

		sync_opt_init(&o);
		t = sync_tree(b, f, &o);
		wbxml_add_int(A, t, cases[i].tag, cases[i].v);
		post_sync(b, f, t, &r);
		CU_ASSERT_EQUAL(r.top_status, 14);
		if (cases[i].limit >= 0) {
			CU_ASSERT_EQUAL(r.limit, cases[i].limit);
		} else {
			CU_ASSERT(r.limit > 0);
		}
		CU_ASSERT_EQUAL(r.status, 0);
	}
	eas_client_free(&b);
}

static CU_TestInfo tests[] = {
	{"contacts A -> B, change, delete", test_contacts},
	{"calendar A -> B, change, delete", test_calendar},
	{"tasks A -> B, change, delete", test_tasks},
	{"notes A -> B, change, delete", test_notes},
	{"conflict: server wins, client wins", test_conflict},
	{"1000 items in windows of 100, estimate", test_windows},
	{"repeated key, bad keys, key 0 with commands", test_replay},
	{"bad item in a batch", test_bad_item},
	{"FilterType narrows and widens", test_filter_window},
	{"empty request repeats the cached one", test_empty_request},
	{"Partial request merged with the cached one", test_partial_request},
	{"Wait/HeartbeatInterval out of range", test_wait_range},
	CU_TEST_INFO_NULL,
};

/* --- commits lost as a deadlock's loser loses them --- */

/* fewer than a command's runs (DISPATCH_RUNS, 5): some may be the
 * server's own at its start */
#define LOST_COMMITS 4
#define LOST_COMMITS_ENV "EASD_TEST_LOSE_COMMITS=4"

static struct easd_proc *loser;

static int
loser_init(void)
{
	static const char *const env[] = {"/usr/bin/env", LOST_COMMITS_ENV,
					  NULL};

	harness_set_wrapper(env);
	loser = easd_start(NULL);
	harness_set_wrapper(NULL);
	A = arena_new(1 << 20);
	return loser == NULL ? -1 : 0;
}

static int
loser_clean(void)
{
	arena_free(&A);
	return easd_stop(&loser) == 0 ? 0 : -1;
}

/* When PostgreSQL gives a command's transaction up for another's sake (a
 * deadlock, a serialization failure: here the server's first commits are
 * made to fail so), the command runs again and the device never sees it:
 * it provisions, syncs its folders and adds a contact as if nothing had
 * happened, and the contact is there once. */
static void
test_lost_commits_run_again(void)
{
	struct eas_client *a = harness_client(loser, HARNESS_ADA, "LOSER1");
	struct eas_client *b;
	struct eas_sync_result r;
	const char *sid = NULL;
	int status = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	eas_client_set_version(a, "14.1");
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(a, A, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(
		eas_client_add(a, A,
			       eas_client_folder_by_type(a, EAS_FOLDER_CONTACTS)
				       ->server_id,
			       rich_contact("Once"), &sid, &status),
		0);
	CU_ASSERT_EQUAL(status, 1);
	CU_ASSERT_EQUAL(harness_log_count(loser, "store: a commit lost"),
			LOST_COMMITS);
	CU_ASSERT(harness_log_count(loser, "run again after a deadlock") >= 1);
	CU_ASSERT_EQUAL(harness_log_count(loser, "answered 503"), 0);
	b = harness_client(loser, HARNESS_ADA, "LOSER2");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	eas_client_set_version(b, "14.1");
	CU_ASSERT_EQUAL_FATAL(eas_client_foldersync(b, A, NULL), 0);
	CU_ASSERT_EQUAL_FATAL(eas_client_sync(b, A,
					      eas_client_folder_by_type(
						      b, EAS_FOLDER_CONTACTS)
						      ->server_id,
					      NULL, &r),
			      0);
	CU_ASSERT_EQUAL(r.count, 1);
	eas_client_free(&a);
	eas_client_free(&b);
}

static CU_TestInfo loser_tests[] = {
	{"a command whose commit is lost runs again, once",
	 test_lost_commits_run_again},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sync", suite_init, suite_clean, NULL, NULL, tests},
	{"lost commits", loser_init, loser_clean, NULL, NULL, loser_tests},
	CU_SUITE_INFO_NULL,
};

int
main(void)
{
	return test_main(suites);
}
