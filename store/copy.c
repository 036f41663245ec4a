/* Copying a whole store into another, empty one (easctl migrate: an SQLite
 * data directory into PostgreSQL): every table row for row, ids and sync
 * states as they are, so that devices carry on with the keys they hold.
 * Through the drivers only: any backend to any other. The table list is
 * the schema's: a migration that adds a table or a column adds it here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

struct copy_table {
	const char *name;
	const char *cols;
	/* one letter per column: I integer, T text, B blob */
	const char *types;
	/* what an INSERT of a row meets in a fresh database, else NULL */
	const char *conflict;
	bool identity; /* an id column the backend numbers itself */
};

/* Parents before children (foreign keys). */
static const struct copy_table copy_tables[] = {
	{"meta", "key, value", "TI",
	 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", false},
	{"accounts",
	 "id, login, email, display_name, password, enabled, created, "
	 "modseq, next_folder, admin, shared",
	 "ITTTTIIIIII", NULL, true},
	{"policies", "account_id, key, value", "ITT", NULL, false},
	{"devices",
	 "id, account_id, device_id, device_type, user_agent, model, imei, "
	 "friendly_name, os, os_language, phone_number, mobile_operator, "
	 "info_user_agent, protocol_version, last_command, first_seen, "
	 "last_seen, policy_key, policy_key_temp, policy_version, access, "
	 "wipe",
	 "IITTTTTTTTTTTTTIIIIIII", NULL, true},
	{"device_events", "id, device_id, time, what, origin", "IIITT", NULL,
	 true},
	{"device_blobs", "device_id, name, data", "ITB", NULL, false},
	{"folders",
	 "id, account_id, parent_id, server_id, name, type, builtin, modseq, "
	 "created_modseq, origin_device, deleted",
	 "IIITTIIIIII", NULL, true},
	{"items",
	 "id, account_id, folder_id, cls, data, extra, date, date_end, read, "
	 "flag_status, complete, size, subject, message_id, uid, modseq, "
	 "origin_device, deleted",
	 "IIIIBBIIIIIITTTIII", NULL, true},
	{"sync_states",
	 "id, device_id, folder_id, cur_key, prev_key, hwm, filter_since, "
	 "backfill_after, options, synced",
	 "IIITTIIIBI", NULL, true},
	{"sync_responses", "state_id, response", "IB", NULL, false},
	{"device_items", "state_id, item_id, modseq", "III", NULL, false},
	{"aliases", "address, account_id", "TI", NULL, false},
	{"submissions", "id, account_id, client_id, time, recipients", "IITII",
	 NULL, true},
	{"outbound_messages",
	 "id, account_id, envelope_from, message_ident, data, created, "
	 "expires",
	 "IITTBII", NULL, true},
	{"outbound_rcpts",
	 "id, message_id, rcpt, next_attempt, attempts, last_reply", "IITIIT",
	 NULL, true},
	{"oof",
	 "account_id, state, start_time, end_time, internal_on, "
	 "internal_text, internal_html, known_on, known_text, known_html, "
	 "external_on, external_text, external_html, changed",
	 "IIIIITIITIITII", NULL, false},
	{"oof_replies", "account_id, sender, time", "ITI", NULL, false},
	{"search_pending", "item_id", "I", "ON CONFLICT DO NOTHING", false},
	{"account_props",
	 "account_id, first_name, last_name, phone, mobile, home_phone, "
	 "office, title, company, department, photo",
	 "ITTTTTTTTTB", NULL, false},
	{"gal_entries",
	 "id, uid, display_name, first_name, last_name, email, alias, phone, "
	 "mobile, home_phone, office, title, company, department, photo",
	 "ITTTTTTTTTTTTTB", NULL, true},
	{"debug_traces", "account_id, device_id, bodies, since", "ITII", NULL,
	 false},
	{"web_sessions", "key, account_id, kind, csrf, created, last_used",
	 "TITTII", NULL, false},
	{"shares", "id, owner_id, folder_id, grantee_id, rights, send",
	 "IIIIII", NULL, true},
	{"share_folders",
	 "id, grantee_id, owner_id, folder_id, server_id, parent_sid, name, "
	 "type, rights, modseq, created_modseq, deleted",
	 "IIIITTTIIIII", NULL, true},
};

static enum store_error
count_rows(struct store *s, const char *table, int64_t *n_r)
{
	char sql[96];
	struct store_stmt *st;
	enum store_error e;
	bool row;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	st = s->drv->prepare(s, sql);
	if (st == NULL)
		return STORE_INTERNAL;
	e = st->drv->step(s, st, &row);
	*n_r = e == STORE_OK && row ? st->drv->col_int64(st, 0) : 0;
	st->drv->finalize(st);
	return e;
}

/* Bind column i of the source row to parameter i + 1 of the insert. */
static void
copy_value(struct store_stmt *from, struct store_stmt *to, int i, char type)
{
	const void *p;
	size_t len;
	bool null;

	p = from->drv->col_blob(from, i, &len, &null);
	if (null) {
		to->drv->bind_text(to, i + 1, NULL, false);
		return;
	}
	switch (type) {
	case 'I':
		to->drv->bind_int64(to, i + 1, from->drv->col_int64(from, i));
		break;
	case 'T':
		to->drv->bind_text(to, i + 1,
				   from->drv->col_text(from, i, &len), false);
		break;
	default:
		to->drv->bind_blob(to, i + 1, p != NULL ? p : "", len);
		break;
	}
}

static enum store_error
copy_table(struct store *src, struct store *dst, const struct copy_table *t,
	   int64_t *rows_r)
{
	size_t ncols = strlen(t->types);
	char *sel, *ins;
	struct buf values;
	struct store_stmt *from = NULL, *to = NULL;
	enum store_error e;
	int64_t rows = 0;
	bool row;

	buf_init(&values, 0);
	for (size_t i = 0; i < ncols; i++)
		buf_printf(&values, "%s?%zu", i > 0 ? ", " : "", i + 1);
	buf_putc(&values, '\0');
	sel = xasprintf("SELECT %s FROM %s", t->cols, t->name);
	ins = xasprintf("INSERT INTO %s (%s) VALUES (%s)%s%s", t->name, t->cols,
			(const char *)values.data,
			t->conflict != NULL ? " " : "",
			t->conflict != NULL ? t->conflict : "");
	from = src->drv->prepare(src, sel);
	to = dst->drv->prepare(dst, ins);
	if (from == NULL || to == NULL) {
		e = STORE_INTERNAL;
		goto out;
	}
	while ((e = from->drv->step(src, from, &row)) == STORE_OK && row) {
		bool done;

		for (size_t i = 0; i < ncols; i++)
			copy_value(from, to, (int)i, t->types[i]);
		e = to->drv->step(dst, to, &done);
		to->drv->reset(to);
		if (e != STORE_OK) {
			log_error("store: copying a row of %s: %s", t->name,
				  store_error_str(e));
			break;
		}
		rows++;
	}
out:
	if (from != NULL)
		from->drv->finalize(from);
	if (to != NULL)
		to->drv->finalize(to);
	free(sel);
	free(ins);
	buf_deinit(&values);
	*rows_r = rows;
	return e;
}

/* The ids the destination hands out next follow the copied ones. */
static enum store_error
advance_ids(struct store *dst, const char *table)
{
	char sql[256];

	if (dst->drv == &store_driver_sqlite)
		return STORE_OK; /* a rowid follows the largest by itself */
	snprintf(sql, sizeof(sql),
		 "SELECT setval(pg_get_serial_sequence('%s', 'id'), "
		 "coalesce((SELECT max(id) FROM %s), 0) + 1, false)",
		 table, table);
	return dst->drv->exec(dst, sql);
}

enum store_error
store_copy(struct store *src, struct store *dst,
	   store_copy_progress_fn *progress, void *ctx, const char **error_r)
{
	enum store_error e;
	int64_t n = 0;

	*error_r = NULL;
	if (src->in_txn || dst->in_txn || src->in_snapshot ||
	    dst->in_snapshot) {
		*error_r = "a transaction is open";
		return STORE_INVALID;
	}
	e = count_rows(dst, "accounts", &n);
	if (e == STORE_OK && n > 0) {
		*error_r = "the destination store is not empty";
		return STORE_EXISTS;
	}
	if (e != STORE_OK) {
		*error_r = "cannot read the destination store";
		return e;
	}
	/* one read snapshot of the source, one write transaction into the
	 * destination: a failure leaves it empty */
	e = store_begin(src, false);
	if (e == STORE_OK && (e = store_begin(dst, true)) != STORE_OK)
		store_rollback(src);
	if (e != STORE_OK) {
		*error_r = "cannot begin the copy";
		return e;
	}
	for (size_t i = 0; i < N_ELEMENTS(copy_tables) && e == STORE_OK; i++) {
		const struct copy_table *t = &copy_tables[i];
		int64_t rows = 0, have = 0, want = 0;

		e = copy_table(src, dst, t, &rows);
		if (e == STORE_OK && t->identity)
			e = advance_ids(dst, t->name);
		if (e == STORE_OK)
			e = count_rows(src, t->name, &want);
		if (e == STORE_OK)
			e = count_rows(dst, t->name, &have);
		if (e != STORE_OK) {
			*error_r = "copying a table failed";
			break;
		}
		/* meta and the queue may hold rows of the fresh schema */
		if (have != want && t->conflict == NULL) {
			log_error("store: %s: %lld rows copied, %lld there",
				  t->name, (long long)want, (long long)have);
			*error_r = "the copy does not have the source's rows";
			e = STORE_INTERNAL;
			break;
		}
		if (progress != NULL)
			progress(ctx, t->name, rows);
	}
	if (e == STORE_OK)
		/* The mail index is the backend's own (FTS5, or PostgreSQL's
		 * tsvectors): all live mail waits in the queue, and the first
		 * easd started on the copy indexes it. The address list's
		 * index was made by its triggers as the rows came in. */
		e = dst->drv->exec(dst, "INSERT INTO search_pending (item_id) "
					"SELECT id FROM items WHERE cls = 1 "
					"AND deleted = 0 ON CONFLICT DO "
					"NOTHING");
	store_rollback(src);
	if (e == STORE_OK && (e = store_commit(dst)) != STORE_OK)
		*error_r = "cannot commit the copy";
	if (e != STORE_OK)
		store_rollback(dst);
	return e;
}
