/* Web sessions: the browser logins of the admin and self-service pages,
 * kept in the database so that every worker thread (and a restart) sees
 * the same ones. */
#include <string.h>

#include "store-int.h"

#define SESSION_COLS "key, account_id, kind, csrf, created, last_used"

enum store_error
store_session_add(struct store *s, const struct store_session *sess)
{
	static const char sql[] = "INSERT INTO web_sessions (" SESSION_COLS
				  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

	if (sess->key == NULL || sess->kind == NULL || sess->csrf == NULL)
		return STORE_INVALID;
	return store_execute(s, sql, "tIttII", sess->key, sess->account_id,
			     sess->kind, sess->csrf, sess->created,
			     sess->last_used);
}

enum store_error
store_session_get(struct store *s, struct arena *a, const char *key,
		  struct store_session *r)
{
	static const char sql[] =
		"SELECT " SESSION_COLS " FROM web_sessions WHERE key = ?1";
	struct store_stmt *st = store_query(s, sql, "t", key);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK) {
		r->key = store_col_text(a, st, 0);
		r->account_id = store_col_int64(st, 1);
		r->kind = store_col_text(a, st, 2);
		r->csrf = store_col_text(a, st, 3);
		r->created = store_col_int64(st, 4);
		r->last_used = store_col_int64(st, 5);
	}
	store_done(st);
	return e;
}

static enum store_error
changed_one(struct store *s, enum store_error e)
{
	if (e == STORE_OK && store_changes(s) == 0)
		return STORE_NOTFOUND;
	return e;
}

enum store_error
store_session_touch(struct store *s, const char *key, int64_t when)
{
	static const char sql[] =
		"UPDATE web_sessions SET last_used = ?2 WHERE key = ?1";

	return changed_one(s, store_execute(s, sql, "tI", key, when));
}

enum store_error
store_session_set_times(struct store *s, const char *key, int64_t created,
			int64_t last_used)
{
	static const char sql[] = "UPDATE web_sessions SET created = ?2, "
				  "last_used = ?3 WHERE key = ?1";

	return changed_one(
		s, store_execute(s, sql, "tII", key, created, last_used));
}

enum store_error
store_session_remove(struct store *s, const char *key)
{
	static const char sql[] = "DELETE FROM web_sessions WHERE key = ?1";

	return changed_one(s, store_execute(s, sql, "t", key));
}

enum store_error
store_session_expire(struct store *s, int64_t idle_before,
		     int64_t created_before, int64_t *removed_r)
{
	static const char sql[] = "DELETE FROM web_sessions WHERE "
				  "last_used < ?1 OR created < ?2";
	enum store_error e =
		store_execute(s, sql, "II", idle_before, created_before);

	if (removed_r != NULL)
		*removed_r = e == STORE_OK ? store_changes(s) : 0;
	return e;
}

enum store_error
store_session_count(struct store *s, int64_t account_id, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM web_sessions WHERE "
				  "?1 = 0 OR account_id = ?1";

	return store_fetch_int64(s, count_r, sql, "I", account_id);
}
