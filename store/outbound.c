/* Sending, in the store: aliases (what an account receives and sends as),
 * submissions (ClientIds seen, recipients counted for the sending limit)
 * and the outbound queue (a message and one entry per remote recipient,
 * claimed for a lease while a runner submits it). */
#include <string.h>

#include "store-int.h"
#include "util.h"

#define ADDRESS_MAX 320 /* RFC 5321 path limit */
#define REPLY_MAX 512

static bool
address_ok(const char *a)
{
	const char *at;

	if (a == NULL || strlen(a) > ADDRESS_MAX)
		return false;
	at = strrchr(a, '@');
	if (at == NULL || at == a || at[1] == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>')
			return false;
	return true;
}

/* --- addresses --- */

enum store_error
store_account_by_address(struct store *s, struct arena *a, const char *address,
			 struct store_account *r)
{
	static const char sql[] = "SELECT account_id FROM aliases "
				  "WHERE address = ?1";
	enum store_error e;
	int64_t id = 0;

	if (address == NULL)
		return STORE_NOTFOUND;
	e = store_account_get(s, a, address, r);
	if (e != STORE_NOTFOUND)
		return e;
	e = store_fetch_int64(s, &id, sql, "t", address);
	if (e != STORE_OK)
		return e;
	return store_account_get_by_id(s, a, id, r);
}

enum store_error
store_alias_add(struct store *s, int64_t account_id, const char *address)
{
	static const char sql_taken[] =
		"SELECT count(*) FROM accounts WHERE login = ?1 OR email = ?1";
	static const char sql[] =
		"INSERT INTO aliases (address, account_id) VALUES (?1, ?2)";
	enum store_error e;
	int64_t taken = 0;
	bool own;

	if (!address_ok(address))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_fetch_int64(s, &taken, sql_taken, "t", address);
	if (e == STORE_OK && taken > 0)
		e = STORE_EXISTS;
	if (e == STORE_OK)
		e = store_execute(s, sql, "tI", address, account_id);
	return store_wend(s, own, e);
}

enum store_error
store_alias_remove(struct store *s, int64_t account_id, const char *address)
{
	static const char sql[] =
		"DELETE FROM aliases WHERE address = ?1 AND account_id = ?2";
	enum store_error e;
	bool own;

	if (address == NULL)
		return STORE_NOTFOUND;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "tI", address, account_id);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	return store_wend(s, own, e);
}

enum store_error
store_alias_list(struct store *s, struct arena *a, int64_t account_id,
		 const char ***list_r, size_t *count_r)
{
	static const char sql[] = "SELECT address FROM aliases "
				  "WHERE account_id = ?1 ORDER BY address";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	enum store_error e = STORE_OK;
	const char **list = NULL;
	size_t n = 0, cap = 0;

	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, n, &cap, sizeof(*list));
		list[n++] = store_col_text(a, st, 0);
	}
	store_done(st);
	*list_r = list;
	*count_r = e == STORE_OK ? n : 0;
	return e;
}

/* --- submissions --- */

enum store_error
store_submission_add(struct store *s, int64_t account_id, const char *client_id,
		     int64_t when, int recipients)
{
	static const char sql[] =
		"INSERT INTO submissions (account_id, client_id, time, "
		"recipients) VALUES (?1, ?2, ?3, ?4)";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "ItIi", account_id, client_id, when,
			  recipients);
	return store_wend(s, own, e);
}

enum store_error
store_submission_recipients(struct store *s, int64_t account_id, int64_t since,
			    int64_t *count_r)
{
	static const char sql[] =
		"SELECT coalesce(sum(recipients), 0) FROM submissions "
		"WHERE account_id = ?1 AND time >= ?2";

	*count_r = 0;
	return store_fetch_int64(s, count_r, sql, "II", account_id, since);
}

/* --- the outbound queue --- */

enum store_error
store_outbound_add(struct store *s, int64_t account_id,
		   const char *envelope_from, const char *message_ident,
		   const char *data, size_t len, const char *const *rcpts,
		   size_t n, int64_t now, int64_t expires)
{
	static const char sql_msg[] =
		"INSERT INTO outbound_messages (account_id, envelope_from, "
		"message_ident, data, created, expires) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6)";
	static const char sql_rcpt[] =
		"INSERT INTO outbound_rcpts (message_id, rcpt, next_attempt) "
		"VALUES (?1, ?2, ?3)";
	enum store_error e;
	int64_t id;
	bool own;

	if (n == 0 || !address_ok(envelope_from) || data == NULL)
		return STORE_INVALID;
	for (size_t i = 0; i < n; i++)
		if (!address_ok(rcpts[i]))
			return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_insert(s, &id, sql_msg, "IttzII", account_id, envelope_from,
			 message_ident != NULL ? message_ident : "", data, len,
			 now, expires);
	if (e != STORE_OK)
		goto out;
	for (size_t i = 0; i < n && e == STORE_OK; i++)
		e = store_execute(s, sql_rcpt, "ItI", id, rcpts[i], now);
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_OUTBOUND, account_id, 0);
out:
	return store_wend(s, own, e);
}

#define OUTBOUND_COLS                                                          \
	"r.id, r.message_id, m.account_id, m.envelope_from, "                  \
	"m.message_ident, r.rcpt, m.created, r.next_attempt, m.expires, "      \
	"r.attempts, r.last_reply"

static void
outbound_row(struct arena *a, struct store_stmt *st, struct store_outbound *q)
{
	memset(q, 0, sizeof(*q));
	q->id = store_col_int64(st, 0);
	q->message_id = store_col_int64(st, 1);
	q->account_id = store_col_int64(st, 2);
	q->envelope_from = store_col_text(a, st, 3);
	q->message_ident = store_col_text(a, st, 4);
	q->rcpt = store_col_text(a, st, 5);
	q->created = store_col_int64(st, 6);
	q->next_attempt = store_col_int64(st, 7);
	q->expires = store_col_int64(st, 8);
	q->attempts = store_col_int(st, 9);
	q->last_reply = store_col_text(a, st, 10);
}

enum store_error
store_outbound_claim(struct store *s, struct arena *a, int64_t now,
		     int64_t lease_until, size_t max,
		     struct store_outbound **list_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT " OUTBOUND_COLS ", m.data FROM outbound_rcpts r "
		"JOIN outbound_messages m ON m.id = r.message_id "
		"WHERE r.next_attempt <= ?1 ORDER BY r.next_attempt, r.id "
		"LIMIT ?2";
	static const char sql_lease[] =
		"UPDATE outbound_rcpts SET next_attempt = ?2 WHERE id = ?1";
	struct store_outbound *list = NULL;
	size_t n = 0, cap = 0;
	struct store_stmt *st;
	enum store_error e;
	bool own;

	*list_r = NULL;
	*count_r = 0;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	st = store_query(s, sql, "II", now, (int64_t)max);
	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, n, &cap, sizeof(*list));
		outbound_row(a, st, &list[n]);
		list[n].data = store_col_blob(a, st, 11, &list[n].len);
		n++;
	}
	store_done(st);
	for (size_t i = 0; i < n && e == STORE_OK; i++)
		e = store_execute(s, sql_lease, "II", list[i].id, lease_until);
	e = store_wend(s, own, e);
	if (e == STORE_OK) {
		*list_r = list;
		*count_r = n;
	}
	return e;
}

enum store_error
store_outbound_next_due(struct store *s, int64_t *when_r)
{
	static const char sql[] = "SELECT next_attempt FROM outbound_rcpts "
				  "ORDER BY next_attempt LIMIT 1";

	return store_fetch_int64(s, when_r, sql, "");
}

enum store_error
store_outbound_defer(struct store *s, int64_t id, int64_t next_attempt,
		     const char *reply)
{
	static const char sql[] =
		"UPDATE outbound_rcpts SET next_attempt = ?2, "
		"attempts = attempts + 1, last_reply = substr(?3, 1, ?4) "
		"WHERE id = ?1";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "IItI", id, next_attempt, reply,
			  (int64_t)REPLY_MAX);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	return store_wend(s, own, e);
}

enum store_error
store_outbound_remove(struct store *s, int64_t id)
{
	static const char sql_msg[] =
		"SELECT message_id FROM outbound_rcpts WHERE id = ?1";
	static const char sql[] = "DELETE FROM outbound_rcpts WHERE id = ?1";
	static const char sql_gone[] =
		"DELETE FROM outbound_messages WHERE id = ?1 AND NOT EXISTS "
		"(SELECT 1 FROM outbound_rcpts WHERE message_id = ?1)";
	enum store_error e;
	int64_t msg = 0;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_fetch_int64(s, &msg, sql_msg, "I", id);
	if (e == STORE_OK)
		e = store_execute(s, sql, "I", id);
	if (e == STORE_OK)
		e = store_execute(s, sql_gone, "I", msg);
	return store_wend(s, own, e);
}

enum store_error
store_outbound_list(struct store *s, struct arena *a, int64_t account_id,
		    struct store_outbound **list_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT " OUTBOUND_COLS " FROM outbound_rcpts r "
		"JOIN outbound_messages m ON m.id = r.message_id "
		"WHERE ?1 = 0 OR m.account_id = ?1 ORDER BY r.id";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	struct store_outbound *list = NULL;
	enum store_error e = STORE_OK;
	size_t n = 0, cap = 0;

	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, n, &cap, sizeof(*list));
		outbound_row(a, st, &list[n++]);
	}
	store_done(st);
	*list_r = list;
	*count_r = e == STORE_OK ? n : 0;
	return e;
}

enum store_error
store_outbound_retry(struct store *s, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE outbound_rcpts SET next_attempt = ?2 "
				  "WHERE ?1 = 0 OR id = ?1";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "II", id, now);
	if (e == STORE_OK && id != 0 && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_OUTBOUND, 0, 0);
	return store_wend(s, own, e);
}

enum store_error
store_outbound_count(struct store *s, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM outbound_rcpts";

	*count_r = 0;
	return store_fetch_int64(s, count_r, sql, "");
}
