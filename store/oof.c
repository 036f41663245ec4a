/* Out of office in the store: an account's settings, whom it answered
 * when (one automatic reply per sender per period), whether a sender is
 * among its contacts; and the installation's small meta settings. */
#include <string.h>

#include "store-int.h"
#include "util.h"

#define OOF_TEXT_MAX (64 * 1024)

enum store_error
store_oof_get(struct store *s, struct arena *a, int64_t account_id,
	      struct store_oof *r)
{
	static const char sql[] =
		"SELECT state, start_time, end_time, internal_on, "
		"internal_text, internal_html, known_on, known_text, "
		"known_html, external_on, external_text, external_html, "
		"changed FROM oof WHERE account_id = ?1";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	enum store_error e = store_row(s, st);

	memset(r, 0, sizeof(*r));
	if (e == STORE_OK) {
		r->state = store_col_int(st, 0);
		r->start = store_col_int64(st, 1);
		r->end = store_col_int64(st, 2);
		for (int i = 0; i < 3; i++) {
			r->msg[i].enabled = store_col_int(st, 3 + 3 * i) != 0;
			r->msg[i].text = store_col_text(a, st, 4 + 3 * i);
			r->msg[i].html = store_col_int(st, 5 + 3 * i) != 0;
		}
		r->changed = store_col_int64(st, 12);
	}
	store_done(st);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

enum store_error
store_oof_set(struct store *s, int64_t account_id, const struct store_oof *o)
{
	static const char sql[] =
		"INSERT INTO oof (account_id, state, start_time, "
		"end_time, internal_on, internal_text, internal_html, "
		"known_on, known_text, known_html, external_on, "
		"external_text, external_html, changed) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
		"ON CONFLICT (account_id) DO UPDATE SET state = "
		"excluded.state, "
		"start_time = excluded.start_time, "
		"end_time = excluded.end_time, "
		"internal_on = excluded.internal_on, "
		"internal_text = excluded.internal_text, "
		"internal_html = excluded.internal_html, "
		"known_on = excluded.known_on, known_text = "
		"excluded.known_text, "
		"known_html = excluded.known_html, "
		"external_on = excluded.external_on, "
		"external_text = excluded.external_text, "
		"external_html = excluded.external_html, "
		"changed = excluded.changed";
	static const char sql_forget[] =
		"DELETE FROM oof_replies WHERE account_id = ?1";
	enum store_error e;
	bool own;

	if (o->state < 0 || o->state > 2)
		return STORE_INVALID;
	for (int i = 0; i < 3; i++)
		if (o->msg[i].text != NULL &&
		    strlen(o->msg[i].text) > OOF_TEXT_MAX)
			return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "IiIIitiitiitiI", account_id, o->state,
			  o->start, o->end, (int)o->msg[0].enabled,
			  o->msg[0].text, (int)o->msg[0].html,
			  (int)o->msg[1].enabled, o->msg[1].text,
			  (int)o->msg[1].html, (int)o->msg[2].enabled,
			  o->msg[2].text, (int)o->msg[2].html, time_now());
	if (e == STORE_OK)
		e = store_execute(s, sql_forget, "I", account_id);
	return store_wend(s, own, e);
}

enum store_error
store_oof_claim(struct store *s, int64_t account_id, const char *sender,
		int64_t now, int64_t period, bool *claimed_r)
{
	/* one statement: a new sender, or one answered before the period */
	static const char sql[] =
		"INSERT INTO oof_replies (account_id, sender, time) "
		"VALUES (?1, ?2, ?3) ON CONFLICT (account_id, sender) DO "
		"UPDATE SET time = excluded.time WHERE time <= ?4";
	enum store_error e;
	bool own;

	*claimed_r = false;
	if (sender == NULL || *sender == '\0')
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "ItII", account_id, sender, now,
			  now - period);
	if (e == STORE_OK)
		*claimed_r = store_changes(s) > 0;
	return store_wend(s, own, e);
}

enum store_error
store_contacts_have_address(struct store *s, int64_t account_id,
			    const char *address, bool *found_r)
{
	/* An address is written as it is in a vCard's EMAIL line; a match in
	 * a contact's notes would count too, which is harmless for choosing
	 * a reply text. */
	static const char sql[] =
		"SELECT count(*) FROM items WHERE account_id = ?1 AND "
		"cls = ?2 AND deleted = 0 AND "
		"instr(lower(CAST(data AS TEXT)), lower(?3)) > 0";
	static const char sql_pg[] =
		"SELECT count(*) FROM items WHERE account_id = ?1 AND "
		"cls = ?2 AND deleted = 0 AND "
		"strpos(lower(convert_from(data, 'UTF8')), lower(?3)) > 0";
	int64_t n = 0;
	enum store_error e;

	*found_r = false;
	if (address == NULL || *address == '\0')
		return STORE_OK;
	e = store_fetch_int64(s, &n, STORE_SQL(s, sql, sql_pg), "Iit",
			      account_id, (int)STORE_CLASS_CONTACTS, address);
	*found_r = e == STORE_OK && n > 0;
	return e;
}

enum store_error
store_meta_get(struct store *s, const char *key, int64_t *value_r)
{
	static const char sql[] = "SELECT value FROM meta WHERE key = ?1";
	enum store_error e;

	*value_r = 0;
	e = store_fetch_int64(s, value_r, sql, "t", key);
	return e == STORE_NOTFOUND ? STORE_OK : e;
}

enum store_error
store_meta_set(struct store *s, const char *key, int64_t value)
{
	static const char sql[] =
		"INSERT INTO meta (key, value) VALUES (?1, ?2) "
		"ON CONFLICT (key) DO UPDATE SET value = excluded.value";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "tI", key, value);
	return store_wend(s, own, e);
}
