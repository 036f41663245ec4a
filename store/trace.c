/* Which devices the server traces (easctl debug on|off): rows of
 * debug_traces, announced to running servers as STORE_CHANGED_TRACE. */
#include <string.h>

#include "store-int.h"
#include "util.h"

enum store_error
store_trace_on(struct store *s, int64_t account_id, const char *device_id,
	       bool bodies)
{
	static const char sql[] =
		"INSERT INTO debug_traces (account_id, device_id, bodies, "
		"since) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET "
		"bodies = excluded.bodies, since = excluded.since";
	enum store_error e;
	bool own;

	if (device_id == NULL)
		device_id = "";
	if (strlen(device_id) > 64)
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "ItiI", account_id, device_id, (int)bodies,
			  time_now());
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_TRACE, account_id, 0);
	return store_wend(s, own, e);
}

enum store_error
store_trace_off(struct store *s, int64_t account_id, const char *device_id)
{
	static const char sql[] = "DELETE FROM debug_traces WHERE "
				  "account_id = ?1 AND (?2 IS NULL OR "
				  "device_id = ?2)";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "It", account_id, device_id);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_TRACE, account_id, 0);
	return store_wend(s, own, e);
}

enum store_error
store_trace_list(struct store *s, struct arena *a, struct store_trace **list_r,
		 size_t *count_r)
{
	static const char sql[] =
		"SELECT t.account_id, a.login, t.device_id, t.bodies, t.since "
		"FROM debug_traces t JOIN accounts a ON a.id = t.account_id "
		"ORDER BY a.login, t.device_id";
	struct store_stmt *st = store_query(s, sql, "");
	struct store_trace *list = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		struct store_trace *t;

		list = arena_grow(a, list, count, &cap, sizeof(*list));
		t = &list[count++];
		t->account_id = store_col_int64(st, 0);
		t->login = store_col_text(a, st, 1);
		t->device_id = store_col_text(a, st, 2);
		if (t->device_id == NULL)
			t->device_id = "";
		t->bodies = store_col_int(st, 3) != 0;
		t->since = store_col_int64(st, 4);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}
