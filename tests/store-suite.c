/* The store's tests that speak only store.h, for any backend: each test
 * runs on a fresh database the runner's backend creates (store-suite.h).
 * What needs one backend's files or internals stays in that backend's
 * runner (tests/test-store.c for SQLite). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "store-suite.h"
#include "store.h"

static const struct store_suite_backend *backend;
static const char *where; /* the database, as store_subscribe names it */
static struct store *s;
static struct arena *a;
static struct store_subscription *sub;

void
store_suite_init(const struct store_suite_backend *b)
{
	backend = b;
}

void
store_suite_setup(void)
{
	s = backend->create(backend->ctx, &where);
	a = arena_new(0);
}

void
store_suite_teardown(void)
{
	store_unsubscribe(&sub);
	store_close(&s);
	arena_free(&a);
	backend->destroy(backend->ctx);
	where = NULL;
}

struct store **
store_suite_store(void)
{
	return &s;
}

struct arena *
store_suite_arena(void)
{
	return a;
}

static int64_t
add_account(const char *login)
{
	char email[128];
	int64_t id = 0;

	snprintf(email, sizeof(email), "%s@example.org", login);
	CU_ASSERT_EQUAL_FATAL(
		store_account_add(s, login, email, login, "secret", &id),
		STORE_OK);
	return id;
}

static int64_t
add_device(int64_t account, const char *device_id)
{
	struct store_device d;

	CU_ASSERT_EQUAL_FATAL(store_device_create(s, a, account, device_id,
						  "TestPhone", "ua/1", &d),
			      STORE_OK);
	return d.id;
}

static int64_t
folder_of_type(int64_t account, int type)
{
	struct store_folder f;

	CU_ASSERT_EQUAL_FATAL(store_folder_get_by_type(s, a, account, type, &f),
			      STORE_OK);
	return f.id;
}

static int64_t
add_item(int64_t account, int64_t folder, const char *text, int64_t date_end,
	 int64_t origin)
{
	struct store_item it;

	memset(&it, 0, sizeof(it));
	it.data = (const uint8_t *)text;
	it.data_len = strlen(text);
	it.meta.subject = text;
	it.meta.date = date_end;
	it.meta.date_end = date_end;
	CU_ASSERT_EQUAL_FATAL(
		store_item_add(s, a, account, folder, &it, origin), STORE_OK);
	return it.id;
}

/* A device's sync state for a folder, saved so it has an id. */
static void
state_new(struct store_sync_state *st, int64_t device, int64_t folder)
{
	memset(st, 0, sizeof(*st));
	st->device_id = device;
	st->folder_id = folder;
	st->cur_key = "1";
	st->backfill_after = -1;
	CU_ASSERT_EQUAL_FATAL(store_sync_save(s, st), STORE_OK);
}

/* One Sync round as a handler does it: changes, marks, save, in one write
 * transaction. */
static size_t
sync_round(struct store_sync_state *st, const struct store_sync_filter *f,
	   size_t max, struct store_sync_change **list_r, bool *more_r)
{
	struct store_sync_change *list = NULL;
	size_t n = 0;
	bool more = false;

	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(
		store_sync_changes(s, a, st, f, max, true, &list, &n, &more),
		STORE_OK);
	for (size_t i = 0; i < n; i++) {
		bool present = list[i].kind == STORE_CHANGE_ADD ||
			       list[i].kind == STORE_CHANGE_CHANGE;

		CU_ASSERT_EQUAL(store_sync_mark(s, st->id, list[i].item.id,
						list[i].item.modseq, present),
				STORE_OK);
	}
	CU_ASSERT_EQUAL(store_sync_save(s, st), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_commit(s), STORE_OK);
	if (list_r != NULL)
		*list_r = list;
	if (more_r != NULL)
		*more_r = more;
	return n;
}

/* The kind reported for item id in the list, 0 when absent. */
static int
kind_of(const struct store_sync_change *list, size_t n, int64_t id)
{
	int kind = 0;

	for (size_t i = 0; i < n; i++) {
		if (list[i].item.id == id) {
			CU_ASSERT_EQUAL(kind, 0); /* reported once */
			kind = (int)list[i].kind;
		}
	}
	return kind;
}

static bool
no_pending(const struct store_sync_state *st, const struct store_sync_filter *f)
{
	bool pending = true;

	CU_ASSERT_EQUAL(store_sync_pending(s, st, f, &pending), STORE_OK);
	return !pending;
}

/* The helpers under their exported names, for the runners' own tests. */

int64_t
store_suite_add_account(const char *login)
{
	return add_account(login);
}

int64_t
store_suite_add_device(int64_t account, const char *device_id)
{
	return add_device(account, device_id);
}

int64_t
store_suite_folder_of_type(int64_t account, int type)
{
	return folder_of_type(account, type);
}

int64_t
store_suite_add_item(int64_t account, int64_t folder, const char *text,
		     int64_t date_end, int64_t origin)
{
	return add_item(account, folder, text, date_end, origin);
}

void
store_suite_state_new(struct store_sync_state *st, int64_t device,
		      int64_t folder)
{
	state_new(st, device, folder);
}

size_t
store_suite_sync_round(struct store_sync_state *st,
		       const struct store_sync_filter *f, size_t max,
		       struct store_sync_change **list_r, bool *more_r)
{
	return sync_round(st, f, max, list_r, more_r);
}

/* --- accounts, devices, policies --- */

static void
test_account_basics(void)
{
	struct store_account acc;
	struct store_folder *folders;
	size_t n;
	int64_t id = add_account("ada"), id2;

	CU_ASSERT_EQUAL(store_account_get(s, a, "ADA", &acc), STORE_OK);
	CU_ASSERT_EQUAL(acc.id, id);
	CU_ASSERT_STRING_EQUAL(acc.email, "ada@example.org");
	CU_ASSERT(acc.enabled);
	CU_ASSERT_EQUAL(store_account_get(s, a, "Ada@Example.org", &acc),
			STORE_OK);
	CU_ASSERT_EQUAL(acc.id, id);
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "ada", "secret", &acc),
		STORE_OK);
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "ada", "wrong", &acc),
		STORE_NOTFOUND);
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "nobody", "secret", &acc),
		STORE_NOTFOUND);
	CU_ASSERT_EQUAL(
		store_account_add(s, "ADA", "other@example.org", "", "x", &id2),
		STORE_EXISTS);
	CU_ASSERT_EQUAL(
		store_account_add(s, "other", "ada@EXAMPLE.org", "", "x", &id2),
		STORE_EXISTS);
	CU_ASSERT_EQUAL(store_account_set_password(s, id, "new"), STORE_OK);
	CU_ASSERT_EQUAL(store_account_check_password(s, a, "ada", "new", NULL),
			STORE_OK);
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "ada", "secret", NULL),
		STORE_NOTFOUND);

	/* default folders: top level, numeric ServerIds "1".."10" */
	CU_ASSERT_EQUAL(store_folder_list(s, a, id, &folders, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 10);
	static const int types[] = {2, 3, 4, 5, 6, 12, 9, 8, 7, 10};
	for (size_t i = 0; i < n; i++) {
		char sid[24];

		snprintf(sid, sizeof(sid), "%zu", i + 1);
		CU_ASSERT_STRING_EQUAL(folders[i].server_id, sid);
		CU_ASSERT_STRING_EQUAL(folders[i].parent_server_id, "0");
		CU_ASSERT_EQUAL(folders[i].type, types[i]);
	}
	CU_ASSERT_STRING_EQUAL(folders[5].name, "Junk E-mail");
	CU_ASSERT_EQUAL(store_account_set_enabled(s, id, false), STORE_OK);
	CU_ASSERT_EQUAL(store_account_get_by_id(s, a, id, &acc), STORE_OK);
	CU_ASSERT(!acc.enabled);
	CU_ASSERT_EQUAL(store_account_delete(s, id), STORE_OK);
	CU_ASSERT_EQUAL(store_account_get(s, a, "ada", &acc), STORE_NOTFOUND);
}

static void
test_devices_and_policies(void)
{
	int64_t acc = add_account("ada");
	int64_t dev = add_device(acc, "Dev1ABC");
	struct store_device d;
	struct store_device_event *ev;
	struct store_policy_kv *kv;
	struct store_device_info info = {.model = "M1", .os = "OS 1"};
	uint8_t *blob;
	size_t n, len;
	int64_t v1, v2;

	CU_ASSERT_EQUAL(
		store_device_create(s, a, acc, "dev1abc", "x", NULL, &d),
		STORE_EXISTS);
	CU_ASSERT_EQUAL(store_device_get(s, a, acc, "DEV1ABC", &d), STORE_OK);
	CU_ASSERT_EQUAL(d.id, dev);
	CU_ASSERT_EQUAL(store_device_seen(s, dev, "ua/2", "16.1", "Sync", 42),
			STORE_OK);
	CU_ASSERT_EQUAL(store_device_set_info(s, dev, &info), STORE_OK);
	CU_ASSERT_EQUAL(store_device_set_policy(s, dev, 7, 9, 3), STORE_OK);
	CU_ASSERT_EQUAL(
		store_device_set_access(s, dev, STORE_ACCESS_BLOCKED, "admin"),
		STORE_OK);
	CU_ASSERT_EQUAL(
		store_device_set_wipe(s, dev, STORE_WIPE_REQUESTED, "admin"),
		STORE_OK);
	CU_ASSERT_EQUAL(store_device_get_by_id(s, a, dev, &d), STORE_OK);
	CU_ASSERT_STRING_EQUAL(d.user_agent, "ua/2");
	CU_ASSERT_STRING_EQUAL(d.protocol_version, "16.1");
	CU_ASSERT_STRING_EQUAL(d.last_command, "Sync");
	CU_ASSERT_EQUAL(d.last_seen, 42);
	CU_ASSERT_STRING_EQUAL(d.info.model, "M1");
	CU_ASSERT_EQUAL(d.policy_key_temp, 7);
	CU_ASSERT_EQUAL(d.policy_key, 9);
	CU_ASSERT_EQUAL(d.policy_version, 3);
	CU_ASSERT_EQUAL(d.access, STORE_ACCESS_BLOCKED);
	CU_ASSERT_EQUAL(d.wipe, STORE_WIPE_REQUESTED);
	CU_ASSERT_EQUAL(store_device_history(s, a, dev, &ev, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(ev[0].what, "access blocked");
	CU_ASSERT_STRING_EQUAL(ev[1].what, "wipe requested");
	CU_ASSERT_STRING_EQUAL(ev[1].origin, "admin");

	CU_ASSERT_EQUAL(store_device_blob_get(s, a, dev, "sync", &blob, &len),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_device_blob_set(s, dev, "sync", "\0ab", 3),
			STORE_OK);
	CU_ASSERT_EQUAL(store_device_blob_get(s, a, dev, "sync", &blob, &len),
			STORE_OK);
	CU_ASSERT_EQUAL(len, 3);
	CU_ASSERT(memcmp(blob, "\0ab", 3) == 0);

	CU_ASSERT_EQUAL(store_policy_version(s, acc, &v1), STORE_OK);
	CU_ASSERT_EQUAL(store_policy_set(s, 0, "DevicePasswordEnabled", "0"),
			STORE_OK);
	CU_ASSERT_EQUAL(store_policy_set(s, 0, "MaxInactivityTime", "900"),
			STORE_OK);
	CU_ASSERT_EQUAL(store_policy_set(s, acc, "DevicePasswordEnabled", "1"),
			STORE_OK);
	CU_ASSERT_EQUAL(store_policy_version(s, acc, &v2), STORE_OK);
	CU_ASSERT_NOT_EQUAL(v1, v2);
	/* Another account's setting leaves this account's version alone;
	 * a global one moves both. */
	{
		int64_t other = add_account("other"), v3, o1, o2;

		CU_ASSERT_EQUAL(store_policy_version(s, other, &o1), STORE_OK);
		CU_ASSERT_EQUAL(store_policy_set(s, other, "AllowCamera", "0"),
				STORE_OK);
		CU_ASSERT_EQUAL(store_policy_version(s, acc, &v3), STORE_OK);
		CU_ASSERT_EQUAL(v3, v2);
		CU_ASSERT_EQUAL(store_policy_version(s, other, &o2), STORE_OK);
		CU_ASSERT_NOT_EQUAL(o1, o2);
		CU_ASSERT_EQUAL(store_policy_set(s, 0, "AllowWiFi", "1"),
				STORE_OK);
		CU_ASSERT_EQUAL(store_policy_version(s, acc, &v3), STORE_OK);
		CU_ASSERT_NOT_EQUAL(v3, v2);
		CU_ASSERT_EQUAL(store_policy_set(s, 0, "AllowWiFi", NULL),
				STORE_OK);
	}
	CU_ASSERT_EQUAL(store_policy_get(s, a, acc, &kv, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(kv[0].key, "DevicePasswordEnabled");
	CU_ASSERT_STRING_EQUAL(kv[0].value, "1");
	CU_ASSERT_STRING_EQUAL(kv[1].value, "900");
	CU_ASSERT_EQUAL(store_policy_get(s, a, 0, &kv, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(kv[0].value, "0");

	CU_ASSERT_EQUAL(store_device_remove(s, dev), STORE_OK);
	CU_ASSERT_EQUAL(store_device_get_by_id(s, a, dev, &d), STORE_NOTFOUND);
}

/* --- items and sync --- */

static void
test_change_set(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	int64_t contacts = folder_of_type(acc, EAS_FOLDER_CONTACTS);
	struct store_sync_state st;
	struct store_sync_change *list;
	struct store_item it;
	int64_t i1, i2, i3, i4;
	size_t n;

	state_new(&st, dev, contacts);
	i1 = add_item(acc, contacts, "BEGIN:VCARD\r\nFN:One\r\nEND:VCARD", 0,
		      0);
	i2 = add_item(acc, contacts, "BEGIN:VCARD\r\nFN:Two\r\nEND:VCARD", 0,
		      0);
	i3 = add_item(acc, contacts, "three", 0, 0);
	n = sync_round(&st, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(kind_of(list, n, i1), STORE_CHANGE_ADD);
	CU_ASSERT_EQUAL(kind_of(list, n, i2), STORE_CHANGE_ADD);
	CU_ASSERT_EQUAL(kind_of(list, n, i3), STORE_CHANGE_ADD);
	CU_ASSERT_STRING_EQUAL((const char *)list[0].item.data,
			       "BEGIN:VCARD\r\nFN:One\r\nEND:VCARD");
	CU_ASSERT(no_pending(&st, NULL));

	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, acc, i2, true, &it),
			STORE_OK);
	it.data = (const uint8_t *)"changed";
	it.data_len = 7;
	CU_ASSERT_EQUAL(store_item_update(s, acc, i2, &it, 0), STORE_OK);
	CU_ASSERT_EQUAL(store_item_delete(s, acc, i3, 0), STORE_OK);
	i4 = add_item(acc, contacts, "four", 0, 0);
	CU_ASSERT(!no_pending(&st, NULL));
	n = sync_round(&st, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(kind_of(list, n, i1), 0);
	CU_ASSERT_EQUAL(kind_of(list, n, i2), STORE_CHANGE_CHANGE);
	CU_ASSERT_EQUAL(kind_of(list, n, i3), STORE_CHANGE_DELETE);
	CU_ASSERT_EQUAL(kind_of(list, n, i4), STORE_CHANGE_ADD);
	CU_ASSERT(no_pending(&st, NULL));
	CU_ASSERT_EQUAL(sync_round(&st, NULL, 100, NULL, NULL), 0);

	/* the ServerId finds the item; a tombstone is gone */
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, acc, i2, false, &it),
			STORE_OK);
	CU_ASSERT_EQUAL(store_item_get(s, a, acc, it.server_id, true, &it),
			STORE_OK);
	CU_ASSERT_STRING_EQUAL((const char *)it.data, "changed");
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, acc, i3, false, &it),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_get(s, a, acc, "7:999999", false, &it),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_get(s, a, acc, "garbage", false, &it),
			STORE_NOTFOUND);
}

static void
test_windows_more_available(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	int64_t contacts = folder_of_type(acc, EAS_FOLDER_CONTACTS);
	struct store_sync_state st;
	struct store_sync_change *list;
	int64_t count = 0;
	bool more = false;
	size_t total = 0;

	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	for (int i = 0; i < 1000; i++)
		add_item(acc, contacts, "BEGIN:VCARD\r\nEND:VCARD", 0, 0);
	CU_ASSERT_EQUAL_FATAL(store_commit(s), STORE_OK);
	state_new(&st, dev, contacts);
	CU_ASSERT_EQUAL(store_sync_count(s, &st, NULL, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, 1000);
	for (int w = 0; w < 10; w++) {
		size_t n = sync_round(&st, NULL, 100, &list, &more);

		CU_ASSERT_EQUAL(n, 100);
		CU_ASSERT_EQUAL(more, w < 9);
		total += n;
	}
	CU_ASSERT_EQUAL(total, 1000);
	CU_ASSERT_EQUAL(sync_round(&st, NULL, 100, &list, &more), 0);
	CU_ASSERT(!more);
	CU_ASSERT_EQUAL(store_sync_count(s, &st, NULL, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(store_item_count(s, contacts, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, 1000);
}

static void
test_echo_and_two_devices(void)
{
	int64_t acc = add_account("ada");
	int64_t da = add_device(acc, "A"), db = add_device(acc, "B");
	int64_t inbox = folder_of_type(acc, EAS_FOLDER_INBOX);
	struct store_sync_state sa, sb;
	struct store_sync_change *list;
	struct store_item_meta meta;
	int64_t x, y;
	size_t n;

	state_new(&sa, da, inbox);
	state_new(&sb, db, inbox);
	/* device A adds x (as a client Add would, then marks it held) */
	x = add_item(acc, inbox, "From: a\r\n\r\nx", 0, da);
	CU_ASSERT_EQUAL(store_sync_mark(s, sa.id, x, 0, true), STORE_OK);
	n = sync_round(&sa, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 0);
	n = sync_round(&sb, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kind_of(list, n, x), STORE_CHANGE_ADD);

	/* B marks x read: A sees the change, B does not */
	memset(&meta, 0, sizeof(meta));
	meta.read = true;
	CU_ASSERT_EQUAL(store_item_update_meta(s, acc, x, NULL, 0, &meta, db),
			STORE_OK);
	y = add_item(acc, inbox, "From: b\r\n\r\ny", 0, db);
	n = sync_round(&sb, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 0);
	n = sync_round(&sa, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(kind_of(list, n, x), STORE_CHANGE_CHANGE);
	CU_ASSERT_EQUAL(kind_of(list, n, y), STORE_CHANGE_ADD);
	CU_ASSERT(list[0].item.meta.read || list[1].item.meta.read);
}

static void
test_tombstones_and_gc(void)
{
	int64_t acc = add_account("ada");
	int64_t da = add_device(acc, "A"), db = add_device(acc, "B");
	int64_t tasks = folder_of_type(acc, EAS_FOLDER_TASKS);
	struct store_sync_state sa, sb;
	struct store_sync_change *list;
	int64_t x, y, removed = -1;
	size_t n;

	state_new(&sa, da, tasks);
	state_new(&sb, db, tasks);
	x = add_item(acc, tasks, "x", 0, 0);
	y = add_item(acc, tasks, "y", 0, 0);
	CU_ASSERT_EQUAL(sync_round(&sa, NULL, 100, NULL, NULL), 2);
	CU_ASSERT_EQUAL(store_item_delete(s, acc, y, 0), STORE_OK);
	CU_ASSERT_EQUAL(store_item_delete(s, acc, y, 0), STORE_NOTFOUND);

	/* B never held y: no DELETE for it */
	n = sync_round(&sb, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kind_of(list, n, x), STORE_CHANGE_ADD);
	/* A still holds y: the tombstone stays */
	CU_ASSERT_EQUAL(store_gc(s, &removed), STORE_OK);
	CU_ASSERT_EQUAL(removed, 0);
	n = sync_round(&sa, NULL, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kind_of(list, n, y), STORE_CHANGE_DELETE);
	CU_ASSERT_EQUAL(store_gc(s, &removed), STORE_OK);
	CU_ASSERT_EQUAL(removed, 1);
	CU_ASSERT_EQUAL(sync_round(&sa, NULL, 100, NULL, NULL), 0);
	CU_ASSERT_EQUAL(sync_round(&sb, NULL, 100, NULL, NULL), 0);
}

static void
test_filter_window(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	int64_t cal = folder_of_type(acc, EAS_FOLDER_CALENDAR);
	struct store_sync_filter f = {.since = 1500};
	struct store_sync_state st;
	struct store_sync_change *list;
	int64_t e1, e2, e3, count;
	size_t n;

	e1 = add_item(acc, cal, "old", 1000, 0);
	e2 = add_item(acc, cal, "mid", 2000, 0);
	e3 = add_item(acc, cal, "new", 3000, 0);
	state_new(&st, dev, cal);
	n = sync_round(&st, &f, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(kind_of(list, n, e1), 0);
	CU_ASSERT_EQUAL(kind_of(list, n, e2), STORE_CHANGE_ADD);
	CU_ASSERT_EQUAL(kind_of(list, n, e3), STORE_CHANGE_ADD);
	CU_ASSERT(no_pending(&st, &f));

	/* time passes: mid falls out of the window */
	f.since = 2500;
	CU_ASSERT(!no_pending(&st, &f));
	CU_ASSERT_EQUAL(store_sync_count(s, &st, &f, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, 1);
	n = sync_round(&st, &f, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kind_of(list, n, e2), STORE_CHANGE_SOFTDELETE);
	CU_ASSERT(no_pending(&st, &f));
	/* a new item outside the window is not added */
	add_item(acc, cal, "older", 500, 0);
	CU_ASSERT_EQUAL(sync_round(&st, &f, 100, NULL, NULL), 0);

	/* the device widens its FilterType: old and mid come back */
	f.since = 900;
	n = sync_round(&st, &f, 1, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT(st.backfill_after >= 0);
	n += sync_round(&st, &f, 100, &list, NULL);
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(st.backfill_after, -1);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, e1, NULL), STORE_OK);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, e2, NULL), STORE_OK);
	CU_ASSERT(no_pending(&st, &f));
}

static void
test_sync_state_roundtrip(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	struct store_sync_state st, got;
	struct store_sync_info *list;
	size_t n;

	memset(&st, 0, sizeof(st));
	st.device_id = dev;
	st.folder_id = 0;
	st.cur_key = "{abc}2";
	st.prev_key = "{abc}1";
	st.hwm = 17;
	st.filter_since = 1234;
	st.backfill_after = 5;
	st.response = (const uint8_t *)"\x03\x01\x6a\x00resp";
	st.response_len = 8;
	st.options = (const uint8_t *)"opts";
	st.options_len = 4;
	CU_ASSERT_EQUAL(store_sync_save(s, &st), STORE_OK);
	CU_ASSERT(st.id > 0);
	/* when it was saved, for easctl device list */
	CU_ASSERT_EQUAL(store_sync_list(s, a, dev, &list, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT(list[0].synced > 0);
	CU_ASSERT_STRING_EQUAL(list[0].key, "{abc}2");
	CU_ASSERT_EQUAL(store_sync_get(s, a, dev, 0, &got), STORE_OK);
	CU_ASSERT_EQUAL(got.id, st.id);
	CU_ASSERT_STRING_EQUAL(got.cur_key, "{abc}2");
	CU_ASSERT_STRING_EQUAL(got.prev_key, "{abc}1");
	CU_ASSERT_EQUAL(got.hwm, 17);
	CU_ASSERT_EQUAL(got.filter_since, 1234);
	CU_ASSERT_EQUAL(got.backfill_after, 5);
	/* The cached answer is loaded only on demand. */
	CU_ASSERT_PTR_NULL(got.response);
	CU_ASSERT_EQUAL(got.response_len, 8);
	CU_ASSERT_EQUAL_FATAL(got.options_len, 4);
	CU_ASSERT(memcmp(got.options, "opts", 4) == 0);
	/* Saved without loading it: it stays as it was. */
	got.hwm = 18;
	CU_ASSERT_EQUAL(store_sync_save(s, &got), STORE_OK);
	CU_ASSERT_EQUAL(store_sync_get(s, a, dev, 0, &got), STORE_OK);
	CU_ASSERT_EQUAL(got.hwm, 18);
	CU_ASSERT_EQUAL(store_sync_response(s, a, &got), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(got.response_len, 8);
	CU_ASSERT(memcmp(got.response, st.response, 8) == 0);

	got.prev_key = NULL;
	got.response = NULL;
	got.response_len = 0;
	got.cur_key = "{abc}3";
	CU_ASSERT_EQUAL(store_sync_save(s, &got), STORE_OK);
	CU_ASSERT_EQUAL(store_sync_get(s, a, dev, 0, &got), STORE_OK);
	CU_ASSERT_PTR_NULL(got.prev_key);
	CU_ASSERT_EQUAL(got.response_len, 0);
	CU_ASSERT_STRING_EQUAL(got.cur_key, "{abc}3");
	CU_ASSERT_EQUAL(store_sync_delete(s, dev, -1), STORE_OK);
	CU_ASSERT_EQUAL(store_sync_get(s, a, dev, 0, &got), STORE_NOTFOUND);
}

/* What a device holds goes with its sync state, and no mark is kept for a
 * state that is not there: one written alone or with others at commit
 * (PostgreSQL writes a transaction's marks as one statement). */
static void
test_sync_marks_follow_state(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	int64_t con = folder_of_type(acc, EAS_FOLDER_CONTACTS);
	int64_t i1 = add_item(acc, con, "one", 0, 0);
	int64_t i2 = add_item(acc, con, "two", 0, 0);
	struct store_sync_state st, again;
	enum store_error e;
	int64_t gone;

	state_new(&st, dev, con);
	CU_ASSERT_EQUAL(sync_round(&st, NULL, 100, NULL, NULL), 2);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, i1, NULL), STORE_OK);
	gone = st.id + 1000;
	CU_ASSERT_EQUAL(store_sync_mark(s, gone, i1, 1, true), STORE_NOTFOUND);
	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	e = store_sync_mark(s, gone, i1, 1, true);
	if (e == STORE_OK)
		e = store_sync_mark(s, gone, i2, 1, true);
	if (e == STORE_OK)
		e = store_commit(s);
	CU_ASSERT_NOT_EQUAL(e, STORE_OK);
	store_rollback(s);
	CU_ASSERT_EQUAL(store_sync_held(s, gone, i1, NULL), STORE_NOTFOUND);

	/* the state goes, and its marks with it: a new state for the same
	 * folder starts from nothing */
	CU_ASSERT_EQUAL(store_sync_delete(s, dev, con), STORE_OK);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, i1, NULL), STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, i2, NULL), STORE_NOTFOUND);
	state_new(&again, dev, con);
	CU_ASSERT_EQUAL(sync_round(&again, NULL, 100, NULL, NULL), 2);

	/* and with the device */
	CU_ASSERT_EQUAL(store_device_remove(s, dev), STORE_OK);
	CU_ASSERT_EQUAL(store_sync_held(s, again.id, i1, NULL), STORE_NOTFOUND);
}

/* A transaction of many marks (PostgreSQL sends them ahead in pieces while
 * the caller goes on): all of them or none, and a failure of any piece is
 * the transaction's. */
static void
test_many_marks(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	int64_t con = folder_of_type(acc, EAS_FOLDER_CONTACTS);
	struct store_sync_state st;
	enum store_error e = STORE_OK;
	int64_t m;

	state_new(&st, dev, con);
	/* rolled back: none of them */
	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	for (int64_t i = 1; i <= 1000 && e == STORE_OK; i++)
		e = store_sync_mark(s, st.id, i, i, true);
	CU_ASSERT_EQUAL(e, STORE_OK);
	store_rollback(s);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 1, NULL), STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 1000, NULL), STORE_NOTFOUND);

	/* committed: all, the later call for an item winning */
	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	for (int64_t i = 1; i <= 1000 && e == STORE_OK; i++)
		e = store_sync_mark(s, st.id, i, i, true);
	for (int64_t i = 1; i <= 1000 && e == STORE_OK; i += 2)
		e = store_sync_mark(s, st.id, i, i + 5000, true);
	if (e == STORE_OK)
		e = store_sync_mark(s, st.id, 500, 0, false);
	if (e == STORE_OK)
		e = store_commit(s);
	CU_ASSERT_EQUAL(e, STORE_OK);
	if (e != STORE_OK)
		store_rollback(s);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 1, &m), STORE_OK);
	CU_ASSERT_EQUAL(m, 5001);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 2, &m), STORE_OK);
	CU_ASSERT_EQUAL(m, 2);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 999, &m), STORE_OK);
	CU_ASSERT_EQUAL(m, 5999);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 1000, &m), STORE_OK);
	CU_ASSERT_EQUAL(m, 1000);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 500, NULL), STORE_NOTFOUND);

	/* a piece that fails (no such state) fails the transaction, and
	 * what came before it in the transaction goes with it */
	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	e = store_sync_mark(s, st.id, 2000, 1, true);
	for (int64_t i = 1; i <= 1000 && e == STORE_OK; i++)
		e = store_sync_mark(s, st.id + 1000, i, i, true);
	for (int64_t i = 3000; i <= 3300 && e == STORE_OK; i++)
		e = store_sync_mark(s, st.id, i, i, true);
	if (e == STORE_OK)
		e = store_commit(s);
	CU_ASSERT_NOT_EQUAL(e, STORE_OK);
	store_rollback(s);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 2000, NULL), STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 3000, NULL), STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_sync_held(s, st.id + 1000, 1, NULL),
			STORE_NOTFOUND);
	/* and the store goes on */
	CU_ASSERT_EQUAL(store_sync_held(s, st.id, 1000, &m), STORE_OK);
	CU_ASSERT_EQUAL(sync_round(&st, NULL, 100, NULL, NULL), 0);
}

static void
test_folders(void)
{
	int64_t acc = add_account("ada");
	int64_t da = add_device(acc, "A"), db = add_device(acc, "B");
	struct store_folder f1, f2, f3, got;
	struct store_folder_change *ch;
	struct store_sync_state st;
	struct store_item it;
	int64_t h0, h1, h2, hwm, item;
	size_t n;

	CU_ASSERT_EQUAL(store_account_modseq(s, acc, &h0), STORE_OK);
	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 0, "Work", 12, da, &f1),
			STORE_OK);
	CU_ASSERT_STRING_EQUAL(f1.server_id, "11");
	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 0, "wORK", 12, 0, &got),
			STORE_EXISTS);
	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 9999, "X", 12, 0, &got),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 0, "", 12, 0, &got),
			STORE_INVALID);
	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 0, "Box", 2, 0, &got),
			STORE_INVALID);
	CU_ASSERT_EQUAL(
		store_folder_create(s, a, acc, 0, "Projects", 12, 0, &f2),
		STORE_OK);
	CU_ASSERT_EQUAL(
		store_folder_create(s, a, acc, f2.id, "Work", 12, 0, &f3),
		STORE_OK);
	CU_ASSERT_STRING_EQUAL(f3.parent_server_id, f2.server_id);

	CU_ASSERT_EQUAL(store_folder_changes(s, a, acc, h0, da, &ch, &n, &hwm),
			STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(ch[0].kind, STORE_CHANGE_ADD);
	CU_ASSERT_EQUAL(ch[0].folder.id, f2.id);
	CU_ASSERT_EQUAL(ch[1].folder.id, f3.id);
	CU_ASSERT_EQUAL(store_folder_changes(s, a, acc, h0, db, &ch, &n, &h1),
			STORE_OK);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(hwm, h1);

	/* special folders are protected; no move under itself */
	struct store_folder inbox;
	CU_ASSERT_EQUAL(store_folder_get_by_type(s, a, acc, 2, &inbox),
			STORE_OK);
	CU_ASSERT_EQUAL(store_folder_update(s, acc, inbox.id, 0, "In", 0),
			STORE_INVALID);
	CU_ASSERT_EQUAL(store_folder_delete(s, acc, inbox.id, 0),
			STORE_INVALID);
	CU_ASSERT_EQUAL(store_folder_update(s, acc, f2.id, f3.id, NULL, 0),
			STORE_INVALID);
	CU_ASSERT_EQUAL(store_folder_update(s, acc, f1.id, 0, "projects", 0),
			STORE_EXISTS);
	CU_ASSERT_EQUAL(store_folder_update(s, acc, f1.id, 0, "Job", db),
			STORE_OK);
	CU_ASSERT_EQUAL(store_folder_changes(s, a, acc, h1, da, &ch, &n, &h2),
			STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(ch[0].kind, STORE_CHANGE_CHANGE);
	CU_ASSERT_STRING_EQUAL(ch[0].folder.name, "Job");
	CU_ASSERT_EQUAL(store_folder_changes(s, a, acc, h1, db, &ch, &n, &h2),
			STORE_OK);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_EQUAL(store_folder_find(s, a, acc, "job", &got), STORE_OK);
	CU_ASSERT_EQUAL(got.id, f1.id);

	/* delete cascades into subfolders and items */
	item = add_item(acc, f3.id, "in sub", 0, 0);
	state_new(&st, da, f3.id);
	CU_ASSERT_EQUAL(sync_round(&st, NULL, 10, NULL, NULL), 1);
	CU_ASSERT_EQUAL(store_account_modseq(s, acc, &h2), STORE_OK);
	CU_ASSERT_EQUAL(store_folder_delete(s, acc, f2.id, 0), STORE_OK);
	CU_ASSERT_EQUAL(store_folder_changes(s, a, acc, h2, 0, &ch, &n, &hwm),
			STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_EQUAL(ch[0].kind, STORE_CHANGE_DELETE);
	CU_ASSERT_EQUAL(ch[1].kind, STORE_CHANGE_DELETE);
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, acc, item, false, &it),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_folder_get_by_id(s, a, acc, f3.id, &got),
			STORE_NOTFOUND);
	/* a folder created and deleted since is not reported at all */
	CU_ASSERT_EQUAL(store_folder_changes(s, a, acc, h0, 0, &ch, &n, &hwm),
			STORE_OK);
	CU_ASSERT_EQUAL(n, 1); /* only "Job" */
	/* the name is free again */
	CU_ASSERT_EQUAL(
		store_folder_create(s, a, acc, 0, "Projects", 12, 0, &got),
		STORE_OK);
}

static void
test_other_account_notfound(void)
{
	int64_t ada = add_account("ada"), bob = add_account("bob");
	int64_t inbox = folder_of_type(ada, EAS_FOLDER_INBOX);
	struct store_folder f;
	struct store_item it, moved;
	struct store_item_meta meta;
	int64_t x = add_item(ada, inbox, "secret mail", 0, 0);
	int64_t bob_inbox = folder_of_type(bob, EAS_FOLDER_INBOX);
	struct store_item *list;
	size_t n;

	CU_ASSERT_EQUAL(store_folder_get_by_id(s, a, bob, inbox, &f),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, bob, x, true, &it),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, ada, x, true, &it),
			STORE_OK);
	/* the same ServerId text exists in bob's account: still not his */
	CU_ASSERT_EQUAL(store_item_get(s, a, bob, it.server_id, true, &it),
			STORE_NOTFOUND);
	memset(&meta, 0, sizeof(meta));
	CU_ASSERT_EQUAL(store_item_update_meta(s, bob, x, NULL, 0, &meta, 0),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_delete(s, bob, x, 0), STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_move(s, a, bob, x, bob_inbox, 0, &moved),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_move(s, a, ada, x, bob_inbox, 0, &moved),
			STORE_NOTFOUND);
	memset(&it, 0, sizeof(it));
	it.data = (const uint8_t *)"x";
	it.data_len = 1;
	CU_ASSERT_EQUAL(store_item_add(s, a, bob, inbox, &it, 0),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_folder_delete(s, bob, inbox, 0), STORE_NOTFOUND);
	CU_ASSERT_EQUAL(
		store_item_list(s, a, bob, inbox, 0, 10, false, &list, &n),
		STORE_OK);
	CU_ASSERT_EQUAL(n, 0);
}

static void
test_move(void)
{
	int64_t acc = add_account("ada"), dev = add_device(acc, "A");
	int64_t inbox = folder_of_type(acc, EAS_FOLDER_INBOX);
	int64_t junk = folder_of_type(acc, EAS_FOLDER_USER_MAIL);
	struct store_sync_state si, sj;
	struct store_sync_change *list;
	struct store_item moved;
	int64_t x = add_item(acc, inbox, "mail", 0, 0);
	size_t n;

	state_new(&si, dev, inbox);
	state_new(&sj, dev, junk);
	CU_ASSERT_EQUAL(sync_round(&si, NULL, 10, NULL, NULL), 1);
	CU_ASSERT_EQUAL(store_item_move(s, a, acc, x, junk, 0, &moved),
			STORE_OK);
	CU_ASSERT_NOT_EQUAL(moved.id, x);
	CU_ASSERT_EQUAL(strncmp(moved.server_id, "6:", 2), 0);
	n = sync_round(&si, NULL, 10, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kind_of(list, n, x), STORE_CHANGE_DELETE);
	n = sync_round(&sj, NULL, 10, &list, NULL);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(kind_of(list, n, moved.id), STORE_CHANGE_ADD);
	CU_ASSERT_STRING_EQUAL((const char *)list[0].item.data, "mail");
}

/* --- notification, busy injection, connections --- */

static struct store_change notified[64];
static size_t notified_count;
static int notify_calls;

static void
record_notify(void *ctx, const struct store_change *changes, size_t count)
{
	(void)ctx;
	notify_calls++;
	notified_count = 0;
	for (size_t i = 0;
	     i < count && i < sizeof(notified) / sizeof(notified[0]); i++)
		notified[notified_count++] = changes[i];
}

/* folder 0: the hierarchy */
static bool
was_notified(int64_t account, int64_t folder)
{
	for (size_t i = 0; i < notified_count; i++) {
		const struct store_change *c = &notified[i];

		if (c->account_id == account &&
		    (folder == 0 ? c->what == STORE_CHANGED_HIERARCHY
				 : c->what == STORE_CHANGED_FOLDER &&
					   c->id == folder))
			return true;
	}
	return false;
}

static void
subscribe(void)
{
	const char *err = NULL;

	CU_ASSERT_EQUAL_FATAL(
		store_subscribe(where, false, record_notify, NULL, &sub, &err),
		STORE_OK);
}

static bool
was_notified_of(enum store_change_what what, int64_t account, int64_t id)
{
	for (size_t i = 0; i < notified_count; i++)
		if (notified[i].what == what &&
		    notified[i].account_id == account && notified[i].id == id)
			return true;
	return false;
}

static void
test_notify(void)
{
	int64_t acc = add_account("ada");
	int64_t inbox = folder_of_type(acc, EAS_FOLDER_INBOX);
	int64_t contacts = folder_of_type(acc, EAS_FOLDER_CONTACTS);
	struct store_folder f;

	subscribe();
	notify_calls = 0;
	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	add_item(acc, inbox, "1", 0, 0);
	add_item(acc, contacts, "2", 0, 0);
	add_item(acc, inbox, "3", 0, 0);
	CU_ASSERT_EQUAL(notify_calls, 0);
	CU_ASSERT_EQUAL(store_commit(s), STORE_OK);
	CU_ASSERT_EQUAL(notify_calls, 1);
	/* the two folders, and once that mail waits for the index */
	CU_ASSERT_EQUAL(notified_count, 3);
	CU_ASSERT(was_notified(acc, inbox));
	CU_ASSERT(was_notified(acc, contacts));
	CU_ASSERT(was_notified_of(STORE_CHANGED_SEARCH, acc, 0));

	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	add_item(acc, inbox, "4", 0, 0);
	store_rollback(s);
	CU_ASSERT_EQUAL(notify_calls, 1);

	add_item(acc, contacts, "5", 0, 0);
	CU_ASSERT_EQUAL(notify_calls, 2);
	CU_ASSERT_EQUAL(notified_count, 1);
	CU_ASSERT(was_notified(acc, contacts));

	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 0, "New", 12, 0, &f),
			STORE_OK);
	CU_ASSERT_EQUAL(notify_calls, 3);
	CU_ASSERT(was_notified(acc, 0));
}

/* Device and account changes name exactly the device or account; what a
 * device does for itself every request (last seen, blobs) is quiet. */
static void
test_notify_devices_accounts(void)
{
	int64_t ada = add_account("ada"), bob = add_account("bob");
	struct store_device d1, d2;

	CU_ASSERT_EQUAL_FATAL(
		store_device_create(s, a, ada, "D1", "t", NULL, &d1), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(
		store_device_create(s, a, ada, "D2", "t", NULL, &d2), STORE_OK);
	subscribe();
	notify_calls = 0;
	CU_ASSERT_EQUAL(store_device_seen(s, d1.id, "ua", "16.1", "Sync", 5),
			STORE_OK);
	CU_ASSERT_EQUAL(store_device_blob_set(s, d1.id, "ping", "x", 1),
			STORE_OK);
	CU_ASSERT_EQUAL(notify_calls, 0);

	CU_ASSERT_EQUAL(store_device_set_access(s, d2.id, STORE_ACCESS_BLOCKED,
						"admin"),
			STORE_OK);
	CU_ASSERT_EQUAL(notify_calls, 1);
	CU_ASSERT_EQUAL(notified_count, 1);
	CU_ASSERT(was_notified_of(STORE_CHANGED_DEVICE, ada, d2.id));
	CU_ASSERT_EQUAL(
		store_device_set_wipe(s, d1.id, STORE_WIPE_REQUESTED, "admin"),
		STORE_OK);
	CU_ASSERT(was_notified_of(STORE_CHANGED_DEVICE, ada, d1.id));
	CU_ASSERT_EQUAL(store_sync_delete(s, d1.id, -1), STORE_OK);
	CU_ASSERT(was_notified_of(STORE_CHANGED_DEVICE, ada, d1.id));
	CU_ASSERT_EQUAL(store_device_remove(s, d1.id), STORE_OK);
	CU_ASSERT(was_notified_of(STORE_CHANGED_DEVICE, ada, d1.id));

	CU_ASSERT_EQUAL(store_account_set_enabled(s, bob, false), STORE_OK);
	CU_ASSERT_EQUAL(notified_count, 1);
	CU_ASSERT(was_notified_of(STORE_CHANGED_ACCOUNT, bob, 0));
	CU_ASSERT_EQUAL(store_policy_set(s, ada, "MaxInactivityTime", "60"),
			STORE_OK);
	CU_ASSERT(was_notified_of(STORE_CHANGED_ACCOUNT, ada, 0));
	CU_ASSERT_EQUAL(store_policy_set(s, 0, "MaxInactivityTime", "30"),
			STORE_OK);
	CU_ASSERT(was_notified_of(STORE_CHANGED_ACCOUNT, 0, 0));
	CU_ASSERT_EQUAL(store_account_delete(s, bob), STORE_OK);
	CU_ASSERT(was_notified_of(STORE_CHANGED_ACCOUNT, bob, 0));
	/* unsubscribed: no more calls */
	store_unsubscribe(&sub);
	notify_calls = 0;
	CU_ASSERT_EQUAL(store_account_set_enabled(s, ada, false), STORE_OK);
	CU_ASSERT_EQUAL(notify_calls, 0);
}

static void
test_busy_injection(void)
{
	int64_t acc = add_account("ada");
	int64_t inbox = folder_of_type(acc, EAS_FOLDER_INBOX);
	struct store_item it;
	int64_t count = -1;

	subscribe();
	notify_calls = 0;
	memset(&it, 0, sizeof(it));
	it.data = (const uint8_t *)"x";
	it.data_len = 1;
	/* autocommit write: its own transaction fails to start */
	store_inject_busy(s, 1);
	CU_ASSERT_EQUAL(store_item_add(s, a, acc, inbox, &it, 0), STORE_BUSY);
	/* failure in the middle of the caller's transaction */
	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	add_item(acc, inbox, "gone with the rollback", 0, 0);
	store_inject_busy(s, 1);
	CU_ASSERT_EQUAL(store_item_add(s, a, acc, inbox, &it, 0), STORE_BUSY);
	store_rollback(s);
	/* several statements in a row */
	store_inject_busy(s, 3);
	CU_ASSERT_EQUAL(store_item_add(s, a, acc, inbox, &it, 0), STORE_BUSY);
	CU_ASSERT_EQUAL(store_item_add(s, a, acc, inbox, &it, 0), STORE_BUSY);
	CU_ASSERT_EQUAL(store_folder_create(s, a, acc, 0, "F", 12, 0, NULL),
			STORE_BUSY);
	CU_ASSERT_EQUAL(store_begin(s, true), STORE_OK);
	store_inject_busy(s, 1);
	CU_ASSERT_EQUAL(store_commit(s), STORE_BUSY);
	store_rollback(s);
	CU_ASSERT_EQUAL(store_item_count(s, inbox, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, 0);
	CU_ASSERT_EQUAL(notify_calls, 0);
	CU_ASSERT_EQUAL(store_check(s), STORE_OK);
	/* and the connection works afterwards */
	CU_ASSERT_EQUAL(store_item_add(s, a, acc, inbox, &it, 0), STORE_OK);
	CU_ASSERT_EQUAL(store_item_count(s, inbox, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, 1);
	CU_ASSERT_EQUAL(notify_calls, 1);
}

struct writer {
	int64_t account, folder;
	int failures;
};

/* One connection per thread, as the server runs. */
static void *
writer_thread(void *p)
{
	struct writer *w = p;
	struct store *ws = backend->connect(backend->ctx);
	struct arena *wa = arena_new(0);

	if (ws == NULL) {
		w->failures++;
		arena_free(&wa);
		return NULL;
	}
	for (int i = 0; i < 50; i++) {
		struct store_item it;

		memset(&it, 0, sizeof(it));
		it.data = (const uint8_t *)"t";
		it.data_len = 1;
		if (store_begin(ws, true) != STORE_OK) {
			w->failures++;
			continue;
		}
		if (store_item_add(ws, wa, w->account, w->folder, &it, 0) !=
			    STORE_OK ||
		    store_item_add(ws, wa, w->account, w->folder, &it, 0) !=
			    STORE_OK ||
		    store_commit(ws) != STORE_OK) {
			w->failures++;
			store_rollback(ws);
		}
		arena_reset(wa);
	}
	store_close(&ws);
	arena_free(&wa);
	return NULL;
}

static void
test_concurrent_connections(void)
{
	enum { THREADS = 4 };
	int64_t acc = add_account("ada");
	int64_t notes = folder_of_type(acc, EAS_FOLDER_NOTES);
	struct writer w[THREADS];
	pthread_t th[THREADS];
	int64_t count = 0, modseq = 0;

	for (int i = 0; i < THREADS; i++) {
		w[i].account = acc;
		w[i].folder = notes;
		w[i].failures = 0;
		CU_ASSERT_EQUAL_FATAL(
			pthread_create(&th[i], NULL, writer_thread, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(w[i].failures, 0);
	}
	CU_ASSERT_EQUAL(store_item_count(s, notes, &count), STORE_OK);
	CU_ASSERT_EQUAL(count, THREADS * 50 * 2);
	/* every change took its own modseq */
	CU_ASSERT_EQUAL(store_account_modseq(s, acc, &modseq), STORE_OK);
	CU_ASSERT_EQUAL(modseq, 10 + THREADS * 50 * 2);
}

static void
test_stats(void)
{
	int64_t acc = add_account("ada");
	struct store_stats st;

	add_item(acc, folder_of_type(acc, EAS_FOLDER_CONTACTS), "c", 0, 0);
	add_item(acc, folder_of_type(acc, EAS_FOLDER_INBOX), "m", 0, 0);
	add_device(acc, "A");
	CU_ASSERT_EQUAL(store_stats(s, &st), STORE_OK);
	CU_ASSERT_EQUAL(st.accounts, 1);
	CU_ASSERT_EQUAL(st.devices, 1);
	CU_ASSERT_EQUAL(st.folders, 10);
	CU_ASSERT_EQUAL(st.items[STORE_CLASS_CONTACTS], 1);
	CU_ASSERT_EQUAL(st.items[STORE_CLASS_EMAIL], 1);
	CU_ASSERT(st.db_bytes > 0);
	CU_ASSERT_STRING_EQUAL(store_class_name(STORE_CLASS_CALENDAR),
			       "Calendar");
	CU_ASSERT_EQUAL(store_class_parse("Tasks"), STORE_CLASS_TASKS);
	CU_ASSERT_EQUAL(store_class_of_folder_type(14), STORE_CLASS_CONTACTS);
	CU_ASSERT(store_folder_type_is_special(2));
	CU_ASSERT(!store_folder_type_is_special(12));
}

/* --- sharing --- */

/* The grantee's view of a folder of owner, by the owner's folder row. */
static bool
sees(int64_t grantee, int64_t folder, struct store_folder *r)
{
	return store_folder_get_by_id(s, a, grantee, folder, r) == STORE_OK;
}

static void
test_share_resolution(void)
{
	int64_t ada = add_account("ada"), bob = add_account("bob");
	int64_t cal = folder_of_type(ada, EAS_FOLDER_CALENDAR);
	int64_t inbox = folder_of_type(ada, EAS_FOLDER_INBOX);
	int64_t bob_inbox = folder_of_type(bob, EAS_FOLDER_INBOX);
	int64_t item = add_item(ada, cal, "dentist", 100, 0);
	struct store_folder v, byid;
	struct store_item it;

	CU_ASSERT_FALSE(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, bob, item, false, &it),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_share_set(s, ada, cal, bob, STORE_RIGHT_READ, 0),
			STORE_OK);
	/* bob's view: ada's folder row and account, a ServerId of bob's,
	 * the user-created calendar type, the right */
	CU_ASSERT_FATAL(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(v.id, cal);
	CU_ASSERT_EQUAL(v.account_id, ada);
	CU_ASSERT_EQUAL(v.type, EAS_FOLDER_USER_CALENDAR);
	CU_ASSERT_EQUAL(v.rights, STORE_RIGHT_READ);
	CU_ASSERT_EQUAL_FATAL(store_folder_get(s, a, bob, v.server_id, &byid),
			      STORE_OK);
	CU_ASSERT_EQUAL(byid.id, cal);
	/* ada's own ServerId of the folder means bob's own folder, if any */
	CU_ASSERT_EQUAL(store_folder_get(s, a, ada, v.server_id, &byid),
			STORE_NOTFOUND);
	/* reading within the right, writing refused */
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, bob, item, false, &it),
			STORE_OK);
	CU_ASSERT_EQUAL(it.account_id, ada);
	CU_ASSERT_EQUAL(store_item_delete(s, bob, item, 0), STORE_DENIED);
	memset(&it, 0, sizeof(it));
	it.data = (const uint8_t *)"x";
	it.data_len = 1;
	CU_ASSERT_EQUAL(store_item_add(s, a, bob, cal, &it, 0), STORE_DENIED);
	/* the grant of one folder opens no other */
	CU_ASSERT_FALSE(sees(bob, inbox, &v));
	/* write: bob's add is ada's item, with ada's modseq */
	CU_ASSERT_EQUAL(store_share_set(s, ada, cal, bob, STORE_RIGHT_WRITE, 0),
			STORE_OK);
	memset(&it, 0, sizeof(it));
	it.data = (const uint8_t *)"party";
	it.data_len = 5;
	CU_ASSERT_EQUAL_FATAL(store_item_add(s, a, bob, cal, &it, 0), STORE_OK);
	CU_ASSERT_EQUAL(it.account_id, ada);
	{
		int64_t m = 0;

		CU_ASSERT_EQUAL(store_account_modseq(s, ada, &m), STORE_OK);
		CU_ASSERT_EQUAL(it.modseq, m);
	}
	/* a move out of the shared folder into bob's own Inbox: both ends
	 * checked; a calendar item into a mail folder of another owner */
	CU_ASSERT_EQUAL(store_item_move(s, a, bob, item, inbox, 0, &it),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_share_set(s, ada, cal, bob, STORE_RIGHT_READ, 0),
			STORE_OK);
	CU_ASSERT_EQUAL(store_item_move(s, a, bob, item, bob_inbox, 0, &it),
			STORE_DENIED);
	/* removed: nothing reachable by any id */
	CU_ASSERT_EQUAL(store_share_remove(s, ada, cal, bob), STORE_OK);
	CU_ASSERT_EQUAL(store_share_remove(s, ada, cal, bob), STORE_NOTFOUND);
	CU_ASSERT_FALSE(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(store_folder_get(s, a, bob, byid.server_id, &v),
			STORE_NOTFOUND);
	CU_ASSERT_EQUAL(store_item_get_by_id(s, a, bob, item, false, &it),
			STORE_NOTFOUND);
	/* nonsense grants */
	CU_ASSERT_EQUAL(store_share_set(s, ada, cal, ada, STORE_RIGHT_READ, 0),
			STORE_INVALID);
	CU_ASSERT_EQUAL(store_share_set(s, ada, cal, bob, STORE_RIGHT_READ,
					STORE_SEND_AS),
			STORE_INVALID);
	CU_ASSERT_EQUAL(store_share_set(s, bob, cal, ada, STORE_RIGHT_READ, 0),
			STORE_NOTFOUND);
}

static const struct store_folder_change *
change_of(const struct store_folder_change *ch, size_t n, const char *sid)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ch[i].folder.server_id, sid) == 0)
			return &ch[i];
	return NULL;
}

static void
test_share_hierarchy(void)
{
	int64_t info = add_account("info"), bob = add_account("bob");
	struct store_folder_change *ch;
	const struct store_folder_change *c;
	struct store_folder v, made;
	struct store_share *list;
	size_t n;
	int64_t hwm = 0, since, *ids;
	int send = 0;
	bool shared = false;

	CU_ASSERT_EQUAL(store_account_set_shared(s, info, true), STORE_OK);
	CU_ASSERT_EQUAL(store_account_is_shared(s, info, &shared), STORE_OK);
	CU_ASSERT_TRUE(shared);
	/* no password lets anyone in as the shared mailbox */
	CU_ASSERT_EQUAL(
		store_account_check_password(s, a, "info", "secret",
					     &(struct store_account){0}),
		STORE_NOTFOUND);
	/* the address list shows it, as any account (its search is
	 * SQLite's alone for now) */
	if (strcmp(backend->name, "sqlite") == 0) {
		struct store_gal_entry *gal;
		int64_t total = 0;

		CU_ASSERT_EQUAL_FATAL(store_gal_search(s, a, "info", 0, 10,
						       false, &gal, &n, &total),
				      STORE_OK);
		CU_ASSERT_EQUAL_FATAL(n, 1);
		CU_ASSERT_STRING_EQUAL(gal[0].email, "info@example.org");
	}
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, 0, 0, &ch, &n, &since),
		STORE_OK);
	subscribe();
	CU_ASSERT_EQUAL(store_share_set(s, info, 0, bob, STORE_RIGHT_OWNER,
					STORE_SEND_AS),
			STORE_OK);
	CU_ASSERT_TRUE(was_notified(bob, 0));
	/* Adds since the key: the top folder first, named by address, then
	 * the mailbox's folders under it (not its Outbox) */
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, since, 0, &ch, &n, &hwm),
		STORE_OK);
	CU_ASSERT_FATAL(n >= 2);
	CU_ASSERT_EQUAL(ch[0].kind, STORE_CHANGE_ADD);
	CU_ASSERT_STRING_EQUAL(ch[0].folder.name, "info@example.org");
	CU_ASSERT_STRING_EQUAL(ch[0].folder.parent_server_id, "0");
	for (size_t i = 1; i < n; i++) {
		CU_ASSERT_EQUAL(ch[i].kind, STORE_CHANGE_ADD);
		CU_ASSERT_STRING_EQUAL(ch[i].folder.parent_server_id,
				       ch[0].folder.server_id);
		CU_ASSERT_NOT_EQUAL(ch[i].folder.type, EAS_FOLDER_OUTBOX);
		CU_ASSERT(ch[i].folder.modseq > ch[i - 1].folder.modseq);
	}
	CU_ASSERT_EQUAL(store_share_send_right(s, bob, info, &send), STORE_OK);
	CU_ASSERT_EQUAL(send, STORE_SEND_AS);
	CU_ASSERT_EQUAL(store_share_grantees(s, a, info, 0, &ids, &n),
			STORE_OK);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(store_share_list(s, a, bob, &list, &n), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_EQUAL(list[0].rights, STORE_RIGHT_OWNER);

	/* the owner makes a folder and renames it: bob sees the Add and the
	 * Change, and an item added there notifies bob too */
	since = hwm;
	CU_ASSERT_EQUAL_FATAL(store_folder_create(s, a, info, 0, "Orders",
						  EAS_FOLDER_USER_MAIL, 0,
						  &made),
			      STORE_OK);
	CU_ASSERT_TRUE(was_notified(bob, 0));
	CU_ASSERT_FATAL(sees(bob, made.id, &v));
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, since, 0, &ch, &n, &hwm),
		STORE_OK);
	c = change_of(ch, n, v.server_id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->kind, STORE_CHANGE_ADD);
	since = hwm;
	CU_ASSERT_EQUAL(
		store_folder_update(s, info, made.id, 0, "Orders 2026", 0),
		STORE_OK);
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, since, 0, &ch, &n, &hwm),
		STORE_OK);
	c = change_of(ch, n, v.server_id);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL(c->kind, STORE_CHANGE_CHANGE);
	CU_ASSERT_STRING_EQUAL(c->folder.name, "Orders 2026");
	add_item(info, made.id, "order 42", 100, 0);
	CU_ASSERT_TRUE(was_notified(info, made.id));
	CU_ASSERT_TRUE(was_notified(bob, made.id));

	/* the grant goes: Deletes, the top folder last */
	since = hwm;
	CU_ASSERT_EQUAL(store_share_remove(s, info, 0, bob), STORE_OK);
	CU_ASSERT_TRUE(was_notified(bob, 0));
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, since, 0, &ch, &n, &hwm),
		STORE_OK);
	CU_ASSERT_FATAL(n >= 2);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(ch[i].kind, STORE_CHANGE_DELETE);
	CU_ASSERT_STRING_EQUAL(ch[n - 1].folder.server_id,
			       arena_printf(a, "s%lld", (long long)info));
	CU_ASSERT_FALSE(sees(bob, made.id, &v));
	CU_ASSERT_EQUAL(store_share_send_right(s, bob, info, &send), STORE_OK);
	CU_ASSERT_EQUAL(send, STORE_SEND_NONE);
	/* granted again: Adds again; the owner deleted: Deletes */
	since = hwm;
	CU_ASSERT_EQUAL(store_share_set(s, info, 0, bob, STORE_RIGHT_READ, 0),
			STORE_OK);
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, since, 0, &ch, &n, &hwm),
		STORE_OK);
	CU_ASSERT_FATAL(n >= 2);
	CU_ASSERT_EQUAL(ch[0].kind, STORE_CHANGE_ADD);
	since = hwm;
	CU_ASSERT_EQUAL(store_account_delete(s, info), STORE_OK);
	CU_ASSERT_EQUAL_FATAL(
		store_folder_changes(s, a, bob, since, 0, &ch, &n, &hwm),
		STORE_OK);
	CU_ASSERT_FATAL(n >= 2);
	for (size_t i = 0; i < n; i++)
		CU_ASSERT_EQUAL(ch[i].kind, STORE_CHANGE_DELETE);
}

/* A grant to a shared mailbox is a grant to each of its members. */
static void
test_share_group(void)
{
	int64_t ada = add_account("ada"), family = add_account("family");
	int64_t bob = add_account("bob"), cy = add_account("cy");
	int64_t cal = folder_of_type(ada, EAS_FOLDER_CALENDAR);
	int64_t fam_cal = folder_of_type(family, EAS_FOLDER_CALENDAR);
	struct store_folder v;

	CU_ASSERT_EQUAL(store_account_set_shared(s, family, true), STORE_OK);
	CU_ASSERT_EQUAL(store_share_set(s, family, 0, bob, STORE_RIGHT_OWNER,
					STORE_SEND_AS),
			STORE_OK);
	CU_ASSERT_EQUAL(
		store_share_set(s, ada, cal, family, STORE_RIGHT_READ, 0),
		STORE_OK);
	CU_ASSERT_TRUE(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(v.rights, STORE_RIGHT_READ);
	CU_ASSERT_TRUE(sees(bob, fam_cal, &v));
	/* a member added later sees it too, one removed no longer */
	CU_ASSERT_FALSE(sees(cy, cal, &v));
	CU_ASSERT_EQUAL(store_share_set(s, family, 0, cy, STORE_RIGHT_OWNER,
					STORE_SEND_AS),
			STORE_OK);
	CU_ASSERT_TRUE(sees(cy, cal, &v));
	CU_ASSERT_EQUAL(store_share_remove(s, family, 0, cy), STORE_OK);
	CU_ASSERT_FALSE(sees(cy, cal, &v));
	CU_ASSERT_FALSE(sees(cy, fam_cal, &v));
	/* a direct grant adds to the group's */
	CU_ASSERT_EQUAL(store_share_set(s, ada, cal, bob, STORE_RIGHT_WRITE, 0),
			STORE_OK);
	CU_ASSERT_TRUE(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(v.rights, STORE_RIGHT_WRITE);
	CU_ASSERT_EQUAL(store_share_remove(s, ada, cal, bob), STORE_OK);
	CU_ASSERT_TRUE(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(v.rights, STORE_RIGHT_READ);
	/* the group's grant goes: so does the members' view */
	CU_ASSERT_EQUAL(store_share_remove(s, ada, cal, family), STORE_OK);
	CU_ASSERT_FALSE(sees(bob, cal, &v));
	CU_ASSERT_TRUE(sees(bob, fam_cal, &v));
	/* and the group itself */
	CU_ASSERT_EQUAL(
		store_share_set(s, ada, cal, family, STORE_RIGHT_READ, 0),
		STORE_OK);
	CU_ASSERT_TRUE(sees(bob, cal, &v));
	CU_ASSERT_EQUAL(store_account_delete(s, family), STORE_OK);
	CU_ASSERT_FALSE(sees(bob, cal, &v));
	CU_ASSERT_FALSE(sees(bob, fam_cal, &v));
}

/* A caller that goes on after an expected error in its transaction: the
 * savepoint undoes the failed part, the rest commits. */
static void
test_savepoint(void)
{
	struct store_account acc;
	int64_t ann = 0, ann2 = 0, bob = 0;
	enum store_error e;

	CU_ASSERT_EQUAL_FATAL(store_begin(s, true), STORE_OK);
	CU_ASSERT_EQUAL(store_account_add(s, "spann", "spann@example.org", "",
					  "pw", &ann),
			STORE_OK);
	CU_ASSERT_EQUAL_FATAL(store_savepoint(s), STORE_OK);
	e = store_account_add(s, "spann", "spann2@example.org", "", "pw",
			      &ann2);
	CU_ASSERT_EQUAL(e, STORE_EXISTS);
	CU_ASSERT_EQUAL(store_savepoint_end(s, e), STORE_EXISTS);
	/* the transaction goes on, and a part that succeeds is kept */
	CU_ASSERT_EQUAL_FATAL(store_savepoint(s), STORE_OK);
	e = store_account_add(s, "spbob", "spbob@example.org", "", "pw", &bob);
	CU_ASSERT_EQUAL(store_savepoint_end(s, e), STORE_OK);
	CU_ASSERT_EQUAL(store_commit(s), STORE_OK);
	CU_ASSERT_EQUAL(store_account_get(s, a, "spann", &acc), STORE_OK);
	CU_ASSERT_EQUAL(store_account_get(s, a, "spbob", &acc), STORE_OK);
	CU_ASSERT_EQUAL(store_account_get(s, a, "spann2@example.org", &acc),
			STORE_NOTFOUND);
}

#define TEST(fn)                                                               \
	{                                                                      \
#fn, fn                                                        \
	}

CU_TestInfo store_suite_tests[] = {
	TEST(test_account_basics),
	TEST(test_devices_and_policies),
	TEST(test_change_set),
	TEST(test_windows_more_available),
	TEST(test_echo_and_two_devices),
	TEST(test_tombstones_and_gc),
	TEST(test_filter_window),
	TEST(test_sync_state_roundtrip),
	TEST(test_sync_marks_follow_state),
	TEST(test_many_marks),
	TEST(test_folders),
	TEST(test_other_account_notfound),
	TEST(test_move),
	TEST(test_notify),
	TEST(test_notify_devices_accounts),
	TEST(test_busy_injection),
	TEST(test_concurrent_connections),
	TEST(test_stats),
	TEST(test_share_resolution),
	TEST(test_share_hierarchy),
	TEST(test_share_group),
	TEST(test_savepoint),
	CU_TEST_INFO_NULL,
};
