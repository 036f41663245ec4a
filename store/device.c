/* Devices: the partnership of an account and a DeviceId, with provisioning
 * state, access and wipe states (and their history), and small blobs. */
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"

#define DEVICE_FIELD_MAX 1024
#define BLOB_NAME_MAX 64
#define BLOB_MAX (16 * 1024 * 1024)

#define DEVICE_COLS                                                            \
	"id, account_id, device_id, device_type, user_agent, model, imei, "    \
	"friendly_name, os, os_language, phone_number, mobile_operator, "      \
	"info_user_agent, protocol_version, last_command, first_seen, "        \
	"last_seen, policy_key, policy_key_temp, policy_version, access, "     \
	"wipe"

static void
device_row(struct arena *a, struct store_stmt *st, struct store_device *r)
{
	memset(r, 0, sizeof(*r));
	r->id = store_col_int64(st, 0);
	r->account_id = store_col_int64(st, 1);
	r->device_id = store_col_text(a, st, 2);
	r->device_type = store_col_text(a, st, 3);
	r->user_agent = store_col_text(a, st, 4);
	r->info.model = store_col_text(a, st, 5);
	r->info.imei = store_col_text(a, st, 6);
	r->info.friendly_name = store_col_text(a, st, 7);
	r->info.os = store_col_text(a, st, 8);
	r->info.os_language = store_col_text(a, st, 9);
	r->info.phone_number = store_col_text(a, st, 10);
	r->info.mobile_operator = store_col_text(a, st, 11);
	r->info.user_agent = store_col_text(a, st, 12);
	r->protocol_version = store_col_text(a, st, 13);
	r->last_command = store_col_text(a, st, 14);
	r->first_seen = store_col_int64(st, 15);
	r->last_seen = store_col_int64(st, 16);
	r->policy_key = (uint32_t)store_col_int64(st, 17);
	r->policy_key_temp = (uint32_t)store_col_int64(st, 18);
	r->policy_version = store_col_int64(st, 19);
	r->access = (enum store_access)store_col_int(st, 20);
	r->wipe = (enum store_wipe)store_col_int(st, 21);
}

static bool
text_ok(const char *v)
{
	return v == NULL || strlen(v) <= DEVICE_FIELD_MAX;
}

/* One device from a query of store_query. */
static enum store_error
device_query(struct store *s, struct arena *a, struct store_stmt *st,
	     struct store_device *r)
{
	enum store_error e = store_row(s, st);

	if (e == STORE_OK)
		device_row(a, st, r);
	store_done(st);
	return e;
}

enum store_error
store_device_get(struct store *s, struct arena *a, int64_t account_id,
		 const char *device_id, struct store_device *r)
{
	static const char sql[] = "SELECT " DEVICE_COLS " FROM devices "
				  "WHERE account_id = ?1 AND device_id = ?2";

	if (device_id == NULL)
		return STORE_NOTFOUND;
	return device_query(
		s, a, store_query(s, sql, "It", account_id, device_id), r);
}

enum store_error
store_device_get_by_id(struct store *s, struct arena *a, int64_t id,
		       struct store_device *r)
{
	static const char sql[] =
		"SELECT " DEVICE_COLS " FROM devices WHERE id = ?1";

	return device_query(s, a, store_query(s, sql, "I", id), r);
}

enum store_error
store_device_create(struct store *s, struct arena *a, int64_t account_id,
		    const char *device_id, const char *device_type,
		    const char *user_agent, struct store_device *r)
{
	static const char sql[] =
		"INSERT INTO devices (account_id, device_id, device_type, "
		"user_agent, first_seen, last_seen) VALUES (?1, ?2, ?3, ?4, "
		"?5, ?5)";
	enum store_error e;
	int64_t id = 0;
	bool own;

	/* MS-ASHTTP 2.2.1.1.1.2.3: DeviceId is at most 32 characters; be
	 * lenient but bounded. */
	if (device_id == NULL || device_id[0] == '\0' ||
	    strlen(device_id) > 128 || !text_ok(device_type) ||
	    !text_ok(user_agent))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_insert(s, &id, sql, "ItttI", account_id, device_id,
			 device_type != NULL ? device_type : "", user_agent,
			 time_now());
	e = store_wend(s, own, e);
	if (e == STORE_OK && r != NULL)
		e = store_device_get_by_id(s, a, id, r);
	return e;
}

/* After an UPDATE or DELETE of one device row (?1 = id): no such row is
 * STORE_NOTFOUND. */
static enum store_error
device_updated(struct store *s, enum store_error e)
{
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	return e;
}

enum store_error
store_device_seen(struct store *s, int64_t id, const char *user_agent,
		  const char *protocol_version, const char *command,
		  int64_t when)
{
	static const char sql[] =
		"UPDATE devices SET last_seen = ?2, "
		"user_agent = coalesce(?3, user_agent), "
		"protocol_version = coalesce(?4, protocol_version), "
		"last_command = coalesce(?5, last_command) WHERE id = ?1";
	enum store_error e;
	bool own;

	if (!text_ok(user_agent) || !text_ok(protocol_version) ||
	    !text_ok(command))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e == STORE_OK)
		e = store_execute(s, sql, "IIttt", id, when, user_agent,
				  protocol_version, command);
	return store_wend(s, own, device_updated(s, e));
}

enum store_error
store_device_set_info(struct store *s, int64_t id,
		      const struct store_device_info *info)
{
	static const char sql[] =
		"UPDATE devices SET model = ?2, imei = ?3, friendly_name = ?4, "
		"os = ?5, os_language = ?6, phone_number = ?7, "
		"mobile_operator = ?8, info_user_agent = ?9 WHERE id = ?1";
	const char *v[8] = {info->model,	   info->imei,
			    info->friendly_name,   info->os,
			    info->os_language,	   info->phone_number,
			    info->mobile_operator, info->user_agent};
	enum store_error e;
	bool own;

	for (size_t i = 0; i < N_ELEMENTS(v); i++) {
		if (!text_ok(v[i]))
			return STORE_INVALID;
	}
	e = store_wbegin(s, &own);
	if (e == STORE_OK)
		e = store_execute(s, sql, "Itttttttt", id, v[0], v[1], v[2],
				  v[3], v[4], v[5], v[6], v[7]);
	return store_wend(s, own, device_updated(s, e));
}

enum store_error
store_device_set_policy(struct store *s, int64_t id, uint32_t policy_key_temp,
			uint32_t policy_key, int64_t policy_version)
{
	static const char sql[] =
		"UPDATE devices SET policy_key_temp = ?2, policy_key = ?3, "
		"policy_version = ?4 WHERE id = ?1";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "IIII", id, (int64_t)policy_key_temp,
			  (int64_t)policy_key, policy_version);
	e = device_updated(s, e);
	if (e == STORE_OK)
		e = store_touch_device(s, id);
	return store_wend(s, own, e);
}

static const char *const access_names[] = {
	[STORE_ACCESS_ALLOWED] = "access allowed",
	[STORE_ACCESS_BLOCKED] = "access blocked",
	[STORE_ACCESS_QUARANTINED] = "access quarantined",
};

const char *
store_access_name(enum store_access access)
{
	switch (access) {
	case STORE_ACCESS_ALLOWED:
		return "allowed";
	case STORE_ACCESS_BLOCKED:
		return "blocked";
	case STORE_ACCESS_QUARANTINED:
		return "quarantined";
	}
	return "?";
}

static const char *const wipe_names[] = {
	[STORE_WIPE_NONE] = "wipe cleared",
	[STORE_WIPE_REQUESTED] = "wipe requested",
	[STORE_WIPE_ACKNOWLEDGED] = "wipe acknowledged",
	[STORE_WIPE_ACCOUNT_REQUESTED] = "account wipe requested",
	[STORE_WIPE_ACCOUNT_ACKNOWLEDGED] = "account wipe acknowledged",
};

/* Set the access or wipe column and log the event, in one transaction. */
static enum store_error
device_set_state(struct store *s, const char *sql, int64_t id, int value,
		 const char *what, const char *origin)
{
	static const char sql_event[] =
		"INSERT INTO device_events (device_id, time, what, origin) "
		"VALUES (?1, ?2, ?3, ?4)";
	enum store_error e;
	bool own;

	if (!text_ok(origin))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = device_updated(s, store_execute(s, sql, "Ii", id, value));
	if (e != STORE_OK)
		goto out;
	e = store_execute(s, sql_event, "IItt", id, time_now(), what,
			  origin != NULL ? origin : "");
	if (e == STORE_OK)
		e = store_touch_device(s, id);
out:
	return store_wend(s, own, e);
}

enum store_error
store_device_set_access(struct store *s, int64_t id, enum store_access access,
			const char *origin)
{
	static const char sql[] =
		"UPDATE devices SET access = ?2 WHERE id = ?1";

	if ((size_t)access >= N_ELEMENTS(access_names))
		return STORE_INVALID;
	return device_set_state(s, sql, id, (int)access, access_names[access],
				origin);
}

enum store_error
store_device_set_wipe(struct store *s, int64_t id, enum store_wipe wipe,
		      const char *origin)
{
	static const char sql[] = "UPDATE devices SET wipe = ?2 WHERE id = ?1";

	if ((size_t)wipe >= N_ELEMENTS(wipe_names))
		return STORE_INVALID;
	return device_set_state(s, sql, id, (int)wipe, wipe_names[wipe],
				origin);
}

enum store_error
store_device_list(struct store *s, struct arena *a, int64_t account_id,
		  struct store_device **list_r, size_t *count_r)
{
	static const char sql[] = "SELECT " DEVICE_COLS " FROM devices "
				  "WHERE ?1 = 0 OR account_id = ?1 ORDER BY id";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	struct store_device *list = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		device_row(a, st, &list[count++]);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

enum store_error
store_device_history(struct store *s, struct arena *a, int64_t id,
		     struct store_device_event **list_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT time, what, origin FROM device_events "
		"WHERE device_id = ?1 ORDER BY id";
	struct store_stmt *st = store_query(s, sql, "I", id);
	struct store_device_event *list = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		list[count].when = store_col_int64(st, 0);
		list[count].what = store_col_text(a, st, 1);
		list[count].origin = store_col_text(a, st, 2);
		count++;
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

enum store_error
store_device_remove(struct store *s, int64_t id)
{
	static const char sql[] = "DELETE FROM devices WHERE id = ?1";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	/* The account is known only while the row exists. */
	e = store_touch_device(s, id);
	/* sync states, what the device holds, events and blobs cascade */
	if (e == STORE_OK)
		e = device_updated(s, store_execute(s, sql, "I", id));
	return store_wend(s, own, e);
}

enum store_error
store_device_blob_get(struct store *s, struct arena *a, int64_t id,
		      const char *name, uint8_t **data_r, size_t *len_r)
{
	static const char sql[] = "SELECT data FROM device_blobs "
				  "WHERE device_id = ?1 AND name = ?2";
	enum store_error e;
	struct store_stmt *st;

	*data_r = NULL;
	*len_r = 0;
	if (name == NULL)
		return STORE_NOTFOUND;
	st = store_query(s, sql, "It", id, name);
	e = store_row(s, st);
	if (e == STORE_OK) {
		size_t n;
		const uint8_t *p = store_col_blob(a, st, 0, &n);

		if (p == NULL)
			p = arena_zalloc(a, 1);
		*data_r = (uint8_t *)p;
		*len_r = n;
	}
	store_done(st);
	return e;
}

enum store_error
store_device_blob_set(struct store *s, int64_t id, const char *name,
		      const void *data, size_t len)
{
	static const char sql[] =
		"INSERT INTO device_blobs (device_id, name, data) VALUES "
		"(?1, ?2, ?3) ON CONFLICT (device_id, name) DO UPDATE SET "
		"data = excluded.data";
	enum store_error e;
	bool own;

	if (name == NULL || name[0] == '\0' || strlen(name) > BLOB_NAME_MAX ||
	    len > BLOB_MAX || (data == NULL && len > 0))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	/* an empty blob for len 0 so the column is never NULL (NOT NULL) */
	if (e == STORE_OK)
		e = store_execute(s, sql, "Itz", id, name,
				  len == 0 ? NULL : data, len);
	return store_wend(s, own, e);
}

enum store_error
store_devices_seen_since(struct store *s, int64_t since, int64_t *count_r)
{
	static const char sql[] =
		"SELECT count(*) FROM devices WHERE last_seen >= ?1";

	*count_r = 0;
	return store_fetch_int64(s, count_r, sql, "I", since);
}
