/* The store's core: opening and migrating the database, the statement
 * cache, transactions with change notification, busy injection, and the
 * housekeeping calls (gc, stats, integrity check). */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store-sqlite.h"
#include "util.h"
#include "xalloc.h"

/* Schema migrations: step i takes user_version i to i + 1; all pending
 * steps run in one transaction so a crash leaves the old version. */
static const char *const migrations[] = {
	/* 0 -> 1: the initial schema */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO meta VALUES ('policy_version', 1);"
	"CREATE TABLE accounts ("
	" id INTEGER PRIMARY KEY,"
	" login TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	" email TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	" display_name TEXT NOT NULL DEFAULT '',"
	" password TEXT NOT NULL,"
	" enabled INTEGER NOT NULL DEFAULT 1,"
	" created INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL DEFAULT 0,"
	" next_folder INTEGER NOT NULL DEFAULT 1);"
	"CREATE TABLE policies ("
	" account_id INTEGER NOT NULL,"
	" key TEXT NOT NULL,"
	" value TEXT NOT NULL,"
	" PRIMARY KEY (account_id, key)) WITHOUT ROWID;"
	"CREATE TABLE devices ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" device_id TEXT NOT NULL COLLATE NOCASE,"
	" device_type TEXT NOT NULL DEFAULT '',"
	" user_agent TEXT, model TEXT, imei TEXT, friendly_name TEXT,"
	" os TEXT, os_language TEXT, phone_number TEXT, mobile_operator TEXT,"
	" info_user_agent TEXT, protocol_version TEXT, last_command TEXT,"
	" first_seen INTEGER NOT NULL DEFAULT 0,"
	" last_seen INTEGER NOT NULL DEFAULT 0,"
	" policy_key INTEGER NOT NULL DEFAULT 0,"
	" policy_key_temp INTEGER NOT NULL DEFAULT 0,"
	" policy_version INTEGER NOT NULL DEFAULT 0,"
	" access INTEGER NOT NULL DEFAULT 0,"
	" wipe INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (account_id, device_id));"
	"CREATE TABLE device_events ("
	" id INTEGER PRIMARY KEY,"
	" device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" time INTEGER NOT NULL, what TEXT NOT NULL, origin TEXT NOT NULL);"
	"CREATE INDEX device_events_device ON device_events(device_id);"
	"CREATE TABLE device_blobs ("
	" device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, data BLOB NOT NULL,"
	" PRIMARY KEY (device_id, name)) WITHOUT ROWID;"
	"CREATE TABLE folders ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" parent_id INTEGER NOT NULL DEFAULT 0,"
	" server_id TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type INTEGER NOT NULL,"
	" builtin INTEGER NOT NULL DEFAULT 0,"
	" modseq INTEGER NOT NULL,"
	" created_modseq INTEGER NOT NULL,"
	" origin_device INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (account_id, server_id));"
	"CREATE INDEX folders_modseq ON folders(account_id, modseq);"
	"CREATE INDEX folders_parent ON folders(parent_id);"
	/* FolderCreate: names unique under a parent, ignoring case
	 * (MS-ASCMD 2.2.3.170.2 Status 2). */
	"CREATE UNIQUE INDEX folders_name ON folders"
	" (account_id, parent_id, name COLLATE NOCASE) WHERE deleted = 0;"
	"CREATE TABLE items ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	" cls INTEGER NOT NULL,"
	" data BLOB, extra BLOB,"
	" date INTEGER NOT NULL DEFAULT 0,"
	" date_end INTEGER NOT NULL DEFAULT 0,"
	" read INTEGER NOT NULL DEFAULT 0,"
	" flag_status INTEGER NOT NULL DEFAULT 0,"
	" complete INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0,"
	" subject TEXT, message_id TEXT, uid TEXT,"
	" modseq INTEGER NOT NULL,"
	" origin_device INTEGER NOT NULL DEFAULT 0,"
	" deleted INTEGER NOT NULL DEFAULT 0);"
	/* Sync walks a folder by modseq, backfill by id, SOFTDELETE by the
	 * end of the item's date range. */
	"CREATE INDEX items_folder ON items(folder_id);"
	"CREATE INDEX items_folder_modseq ON items(folder_id, modseq);"
	"CREATE INDEX items_folder_date_end ON items(folder_id, date_end);"
	"CREATE TABLE sync_states ("
	" id INTEGER PRIMARY KEY,"
	" device_id INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" folder_id INTEGER NOT NULL,"
	" cur_key TEXT, prev_key TEXT,"
	" hwm INTEGER NOT NULL DEFAULT 0,"
	" filter_since INTEGER NOT NULL DEFAULT 0,"
	" backfill_after INTEGER NOT NULL DEFAULT -1,"
	" response BLOB, options BLOB,"
	" UNIQUE (device_id, folder_id));"
	"CREATE TABLE device_items ("
	" state_id INTEGER NOT NULL REFERENCES sync_states(id)"
	"  ON DELETE CASCADE,"
	" item_id INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL,"
	" PRIMARY KEY (state_id, item_id)) WITHOUT ROWID;",
	/* 1 -> 2: store_gc asks "does any device hold this tombstone" per
	 * item; without this index that is a scan of device_items. */
	"CREATE INDEX device_items_item ON device_items(item_id);"
	"CREATE INDEX items_tombstones ON items(deleted) WHERE deleted = 1;",
	/* 2 -> 3: sending. Aliases an account receives and sends as; what it
	 * submitted (a repeated ClientId is answered, not sent again, and
	 * the recipients of the last hour are counted); the outbound queue,
	 * one row per remote recipient so each is retried and reported on
	 * its own. */
	"CREATE TABLE aliases ("
	" address TEXT PRIMARY KEY COLLATE NOCASE,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE) WITHOUT ROWID;"
	"CREATE INDEX aliases_account ON aliases(account_id);"
	"CREATE TABLE submissions ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" client_id TEXT,"
	" time INTEGER NOT NULL,"
	" recipients INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX submissions_client ON submissions"
	" (account_id, client_id) WHERE client_id IS NOT NULL;"
	"CREATE INDEX submissions_time ON submissions(account_id, time);"
	"CREATE TABLE outbound_messages ("
	" id INTEGER PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" envelope_from TEXT NOT NULL,"
	" message_ident TEXT NOT NULL,"
	" data BLOB NOT NULL,"
	" created INTEGER NOT NULL,"
	" expires INTEGER NOT NULL);"
	"CREATE TABLE outbound_rcpts ("
	" id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES outbound_messages(id)"
	"  ON DELETE CASCADE,"
	" rcpt TEXT NOT NULL,"
	" next_attempt INTEGER NOT NULL,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_reply TEXT);"
	"CREATE INDEX outbound_due ON outbound_rcpts(next_attempt);"
	"CREATE INDEX outbound_rcpts_message ON outbound_rcpts(message_id);",
	/* 3 -> 4: out of office. The settings of an account (three
	 * audiences, each with its message), and whom it answered when, so
	 * a sender gets one automatic reply per period (RFC 3834). */
	"CREATE TABLE oof ("
	" account_id INTEGER PRIMARY KEY REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" state INTEGER NOT NULL,"
	" start_time INTEGER NOT NULL,"
	" end_time INTEGER NOT NULL,"
	" internal_on INTEGER NOT NULL, internal_text TEXT,"
	" internal_html INTEGER NOT NULL,"
	" known_on INTEGER NOT NULL, known_text TEXT,"
	" known_html INTEGER NOT NULL,"
	" external_on INTEGER NOT NULL, external_text TEXT,"
	" external_html INTEGER NOT NULL,"
	" changed INTEGER NOT NULL);"
	"CREATE TABLE oof_replies ("
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" sender TEXT NOT NULL COLLATE NOCASE,"
	" time INTEGER NOT NULL,"
	" PRIMARY KEY (account_id, sender)) WITHOUT ROWID;",
	/* 4 -> 5: search and the address list. search_fts indexes live
	 * mail (rowid = item id; the text comes from conv at delivery, see
	 * search.c for the tokenizer); mail the store has no text for waits
	 * in search_pending, which this step fills with every existing
	 * message so older mailboxes get indexed too. Triggers drop an
	 * item's index row in the statement that deletes or tombstones it.
	 * gal_fts indexes names and addresses of accounts (rowid = account
	 * id) and of published contacts (rowid = -entry id) for prefix
	 * search, kept by triggers on every table it reads. */
	"CREATE VIRTUAL TABLE search_fts USING fts5("
	" subject, addrs, body, atts, conv,"
	" tokenize = 'unicode61 remove_diacritics 2', columnsize = 0);"
	"CREATE TABLE search_pending (item_id INTEGER PRIMARY KEY);"
	"INSERT INTO search_pending SELECT id FROM items"
	" WHERE cls = 1 AND deleted = 0;"
	"CREATE TRIGGER items_search_tombstone AFTER UPDATE OF deleted ON items"
	" WHEN new.deleted = 1 AND old.deleted = 0 BEGIN"
	" DELETE FROM search_fts WHERE rowid = old.id;"
	" DELETE FROM search_pending WHERE item_id = old.id; END;"
	"CREATE TRIGGER items_search_delete AFTER DELETE ON items"
	" WHEN old.deleted = 0 BEGIN"
	" DELETE FROM search_fts WHERE rowid = old.id;"
	" DELETE FROM search_pending WHERE item_id = old.id; END;"
	"CREATE TABLE account_props ("
	" account_id INTEGER PRIMARY KEY REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" first_name TEXT, last_name TEXT, phone TEXT, mobile TEXT,"
	" home_phone TEXT, office TEXT, title TEXT, company TEXT,"
	" department TEXT, photo BLOB);"
	"CREATE TABLE gal_entries ("
	" id INTEGER PRIMARY KEY,"
	" uid TEXT UNIQUE,"
	" display_name TEXT NOT NULL DEFAULT '',"
	" first_name TEXT, last_name TEXT, email TEXT COLLATE NOCASE,"
	" alias TEXT, phone TEXT, mobile TEXT, home_phone TEXT, office TEXT,"
	" title TEXT, company TEXT, department TEXT, photo BLOB);"
	"CREATE INDEX gal_entries_email ON gal_entries(email);"
	"CREATE VIRTUAL TABLE gal_fts USING fts5(names, addrs,"
	" tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');"
	"CREATE VIEW gal_account_text AS SELECT a.id AS id,"
	" a.display_name || ' ' || a.login || ' ' || coalesce(p.first_name, '')"
	"  || ' ' || coalesce(p.last_name, '') AS names,"
	" a.email || ' ' || coalesce((SELECT group_concat(x.address, ' ')"
	"  FROM aliases x WHERE x.account_id = a.id), '') AS addrs"
	" FROM accounts a LEFT JOIN account_props p ON p.account_id = a.id;"
	"INSERT INTO gal_fts(rowid, names, addrs)"
	" SELECT id, names, addrs FROM gal_account_text;"
	"CREATE TRIGGER accounts_gal_insert AFTER INSERT ON accounts BEGIN"
	" INSERT INTO gal_fts(rowid, names, addrs) SELECT id, names, addrs"
	"  FROM gal_account_text WHERE id = new.id; END;"
	"CREATE TRIGGER accounts_gal_update"
	" AFTER UPDATE OF login, email, display_name ON accounts BEGIN"
	" DELETE FROM gal_fts WHERE rowid = new.id;"
	" INSERT INTO gal_fts(rowid, names, addrs) SELECT id, names, addrs"
	"  FROM gal_account_text WHERE id = new.id; END;"
	"CREATE TRIGGER accounts_gal_delete AFTER DELETE ON accounts BEGIN"
	" DELETE FROM gal_fts WHERE rowid = old.id; END;"
	"CREATE TRIGGER aliases_gal_insert AFTER INSERT ON aliases BEGIN"
	" DELETE FROM gal_fts WHERE rowid = new.account_id;"
	" INSERT INTO gal_fts(rowid, names, addrs) SELECT id, names, addrs"
	"  FROM gal_account_text WHERE id = new.account_id; END;"
	"CREATE TRIGGER aliases_gal_delete AFTER DELETE ON aliases BEGIN"
	" DELETE FROM gal_fts WHERE rowid = old.account_id;"
	" INSERT INTO gal_fts(rowid, names, addrs) SELECT id, names, addrs"
	"  FROM gal_account_text WHERE id = old.account_id; END;"
	"CREATE TRIGGER props_gal_insert AFTER INSERT ON account_props BEGIN"
	" DELETE FROM gal_fts WHERE rowid = new.account_id;"
	" INSERT INTO gal_fts(rowid, names, addrs) SELECT id, names, addrs"
	"  FROM gal_account_text WHERE id = new.account_id; END;"
	"CREATE TRIGGER props_gal_update AFTER UPDATE ON account_props BEGIN"
	" DELETE FROM gal_fts WHERE rowid = new.account_id;"
	" INSERT INTO gal_fts(rowid, names, addrs) SELECT id, names, addrs"
	"  FROM gal_account_text WHERE id = new.account_id; END;"
	"CREATE TRIGGER entries_gal_insert AFTER INSERT ON gal_entries BEGIN"
	" INSERT INTO gal_fts(rowid, names, addrs) VALUES (-new.id,"
	"  new.display_name || ' ' || coalesce(new.first_name, '') || ' ' ||"
	"  coalesce(new.last_name, '') || ' ' || coalesce(new.alias, ''),"
	"  coalesce(new.email, '')); END;"
	"CREATE TRIGGER entries_gal_update AFTER UPDATE ON gal_entries BEGIN"
	" DELETE FROM gal_fts WHERE rowid = -old.id;"
	" INSERT INTO gal_fts(rowid, names, addrs) VALUES (-new.id,"
	"  new.display_name || ' ' || coalesce(new.first_name, '') || ' ' ||"
	"  coalesce(new.last_name, '') || ' ' || coalesce(new.alias, ''),"
	"  coalesce(new.email, '')); END;"
	"CREATE TRIGGER entries_gal_delete AFTER DELETE ON gal_entries BEGIN"
	" DELETE FROM gal_fts WHERE rowid = -old.id; END;",
	/* 5 -> 6: meetings. An invitation, a reply or a cancellation finds
	 * the calendar item of its UID. */
	"CREATE INDEX items_uid ON items(account_id, uid)"
	" WHERE uid IS NOT NULL AND deleted = 0;",
	/* 6 -> 7: when each folder of a device last synced (its state was
	 * saved), for easctl device list, */
	"ALTER TABLE sync_states ADD COLUMN synced INTEGER NOT NULL"
	" DEFAULT 0;"
	/* and which devices the server traces (easctl debug) */
	"CREATE TABLE debug_traces ("
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" device_id TEXT NOT NULL COLLATE NOCASE,"
	" bodies INTEGER NOT NULL,"
	" since INTEGER NOT NULL,"
	" PRIMARY KEY (account_id, device_id)) WITHOUT ROWID;",
	/* 7 -> 8: the web pages. Accounts that may use the admin pages, and
	 * the browser sessions of the admin and self-service pages (key: a
	 * digest of the cookie, never the cookie itself). */
	"ALTER TABLE accounts ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE web_sessions ("
	" key TEXT PRIMARY KEY,"
	" account_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"
	" csrf TEXT NOT NULL,"
	" created INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE INDEX web_sessions_account ON web_sessions(account_id);",
	/* 8 -> 9: the cached Sync answer in a table of its own. In
	 * sync_states it came before options, and SQLite walks a column's
	 * overflow pages to reach the columns after it: every no-change Sync
	 * paid for the size of the previous answer (819 KB after a window of
	 * 512 mails). Now it is read only for a repeated key. */
	"CREATE TABLE sync_responses ("
	" state_id INTEGER PRIMARY KEY REFERENCES sync_states(id)"
	"  ON DELETE CASCADE,"
	" response BLOB NOT NULL);"
	"INSERT INTO sync_responses SELECT id, response FROM sync_states"
	" WHERE response IS NOT NULL;"
	"ALTER TABLE sync_states DROP COLUMN response;",
	/* 9 -> 10: search at the size of a large mailbox. A row's rowid is
	 * (account << 40) + item id, so a query is narrowed to the account
	 * by a rowid range inside FTS5 and counted there, without reading
	 * items; a scope column holds the folder (a token of the store's
	 * own, see search.c), and the ConversationId is one too;
	 * items_mail_date walks an account's live mail newest first, for the
	 * page of results. The index is made again from the queue. */
	"DROP TRIGGER items_search_tombstone;"
	"DROP TRIGGER items_search_delete;"
	"DROP TABLE search_fts;"
	"CREATE VIRTUAL TABLE search_fts USING fts5("
	" subject, addrs, body, atts, conv, scope,"
	" tokenize = 'unicode61 remove_diacritics 2', columnsize = 0);"
	"INSERT OR IGNORE INTO search_pending SELECT id FROM items"
	" WHERE cls = 1 AND deleted = 0;"
	"CREATE TRIGGER items_search_tombstone AFTER UPDATE OF deleted ON items"
	" WHEN new.deleted = 1 AND old.deleted = 0 BEGIN"
	" DELETE FROM search_fts WHERE rowid = (old.account_id << 40) + old.id;"
	" DELETE FROM search_pending WHERE item_id = old.id; END;"
	"CREATE TRIGGER items_search_delete AFTER DELETE ON items"
	" WHEN old.deleted = 0 BEGIN"
	" DELETE FROM search_fts WHERE rowid = (old.account_id << 40) + old.id;"
	" DELETE FROM search_pending WHERE item_id = old.id; END;"
	"CREATE INDEX items_mail_date ON items(account_id, date)"
	" WHERE cls = 1 AND deleted = 0;",
	/* 10 -> 11: the address list at the size of a company, where a
	 * prefix of a letter or two matches most of it: such a page walks
	 * the names in order instead of sorting every match, and the Total
	 * is FTS5's count less the disabled accounts that match (few, so
	 * each is looked up). See gal.c. */
	"CREATE INDEX accounts_gal_name ON accounts(display_name COLLATE"
	" NOCASE, email COLLATE NOCASE, id) WHERE enabled = 1;"
	"CREATE INDEX accounts_disabled ON accounts(id) WHERE enabled = 0;"
	"CREATE INDEX gal_entries_name ON gal_entries(display_name COLLATE"
	" NOCASE, email COLLATE NOCASE, id);",
	/* 11 -> 12: sharing (share.c). shares are the grants (folder_id 0:
	 * the whole mailbox); share_folders is what each grantee sees of
	 * them, kept up to date by the store with the grantee's modseqs so
	 * FolderSync reads it like its own folders, tombstones included.
	 * A shared mailbox is an account marked shared, without a
	 * password. */
	"ALTER TABLE accounts ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;"
	"CREATE TABLE shares ("
	" id INTEGER PRIMARY KEY,"
	" owner_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
	" folder_id INTEGER NOT NULL DEFAULT 0,"
	" grantee_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" rights INTEGER NOT NULL DEFAULT 0,"
	" send INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (owner_id, folder_id, grantee_id));"
	"CREATE INDEX shares_grantee ON shares(grantee_id, owner_id);"
	"CREATE TABLE share_folders ("
	" id INTEGER PRIMARY KEY,"
	" grantee_id INTEGER NOT NULL REFERENCES accounts(id)"
	"  ON DELETE CASCADE,"
	" owner_id INTEGER NOT NULL,"
	" folder_id INTEGER NOT NULL,"
	" server_id TEXT NOT NULL,"
	" parent_sid TEXT NOT NULL,"
	" name TEXT NOT NULL,"
	" type INTEGER NOT NULL,"
	" rights INTEGER NOT NULL,"
	" modseq INTEGER NOT NULL,"
	" created_modseq INTEGER NOT NULL,"
	" deleted INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE (grantee_id, server_id));"
	"CREATE INDEX share_folders_access ON share_folders(grantee_id,"
	" folder_id) WHERE deleted = 0;"
	"CREATE INDEX share_folders_folder ON share_folders(folder_id)"
	" WHERE deleted = 0;"
	"CREATE INDEX share_folders_modseq ON share_folders(grantee_id,"
	" modseq);",
};

int
store_schema_version(void)
{
	return (int)N_ELEMENTS(migrations);
}

const char *
store_error_str(enum store_error e)
{
	switch (e) {
	case STORE_OK:
		return "ok";
	case STORE_NOTFOUND:
		return "not found";
	case STORE_EXISTS:
		return "already exists";
	case STORE_CONFLICT:
		return "conflict";
	case STORE_BUSY:
		return "database busy";
	case STORE_CORRUPT:
		return "database corrupt";
	case STORE_INVALID:
		return "invalid argument";
	case STORE_INTERNAL:
		return "internal error";
	case STORE_DENIED:
		return "not permitted";
	}
	return "unknown error";
}

void
store_inject_busy(struct store *s, int n)
{
	s->inject_busy = n;
}

/* Commits still to be lost as a deadlock's loser would lose them: what
 * store_lose_commits set (for the tests of the callers' runs again). */
static atomic_int commits_to_lose;

void
store_lose_commits(int n)
{
	atomic_store(&commits_to_lose, n);
}

void
store_retry_pause(int run)
{
	/* a pause that grows and differs between the losers, so that they
	 * do not meet again in step */
	struct timespec ts = {0, (long)(1000000L << (run < 8 ? run : 8)) +
					 (long)(random() % 1000000L)};

	nanosleep(&ts, NULL);
}

/* Errors that were neither an answer (not found, exists) nor contention
 * (busy): what /metrics reports as store errors. */
static _Atomic uint64_t store_errors;

uint64_t
store_error_count(void)
{
	return store_errors;
}

void
store_error_counted(void)
{
	store_errors++;
}

static size_t
slot_hash(const char *sql)
{
	uintptr_t p = (uintptr_t)sql;

	return (size_t)((p >> 3) * 2654435761u) % STORE_STMT_SLOTS;
}

struct store_stmt *
store_stmt(struct store *s, const char *sql)
{
	size_t h = slot_hash(sql);

	for (size_t i = 0; i < STORE_STMT_SLOTS; i++) {
		struct store_stmt_slot *slot =
			&s->stmts[(h + i) % STORE_STMT_SLOTS];

		if (slot->sql == sql)
			return slot->st;
		if (slot->sql != NULL)
			continue;
		slot->st = s->drv->prepare(s, sql);
		if (slot->st == NULL)
			return NULL; /* logged */
		slot->sql = sql;
		return slot->st;
	}
	eas_panic("store: statement cache full");
}

/* Before a statement runs: the error a statement sent ahead left for the
 * next one, or a failure the tests inject; STORE_OK to go on. */
static enum store_error
before_statement(struct store *s)
{
	enum store_error e = s->deferred;

	if (e != STORE_OK) {
		s->deferred = STORE_OK;
		return e;
	}
	if (s->inject_busy > 0) {
		s->inject_busy--;
		return STORE_BUSY;
	}
	return STORE_OK;
}

enum store_error
store_step(struct store *s, struct store_stmt *st, bool *row_r)
{
	enum store_error e = before_statement(s);

	if (e != STORE_OK) {
		*row_r = false;
		return e;
	}
	return st->drv->step(s, st, row_r);
}

enum store_error
store_run(struct store *s, struct store_stmt *st)
{
	enum store_error e;
	bool row;

	if (st == NULL)
		return STORE_INTERNAL; /* store_stmt logged why */
	e = store_step(s, st, &row);
	while (e == STORE_OK && row)
		e = st->drv->step(s, st, &row);
	st->drv->reset(st);
	return e;
}

static void
bind_args(struct store_stmt *st, const char *sql, const char *fmt, va_list ap)
{
	const struct store_driver *drv = st->drv;

	for (int n = 1; *fmt != '\0'; fmt++, n++) {
		const void *p;
		size_t len;

		switch (*fmt) {
		case 'i':
			drv->bind_int64(st, n, va_arg(ap, int));
			break;
		case 'I':
			drv->bind_int64(st, n, va_arg(ap, int64_t));
			break;
		case 't':
			drv->bind_text(st, n, va_arg(ap, const char *), false);
			break;
		case 'T':
			drv->bind_text(st, n, va_arg(ap, const char *), true);
			break;
		case 'b':
		case 'z':
			p = va_arg(ap, const void *);
			len = va_arg(ap, size_t);
			if (p == NULL && *fmt == 'z')
				drv->bind_blob(st, n, "", 0);
			else
				drv->bind_blob(st, n, p, p != NULL ? len : 0);
			break;
		default:
			eas_panic("store: bind format '%c' for ?%d: %.80s",
				  *fmt, n, sql);
		}
	}
}

static enum store_error store_tx(struct store *s, const char *sql);

/* The read transaction of a snapshot begins with its first statement: a
 * request answered from memory (OPTIONS, say) takes no file lock. */
static void
snapshot_open(struct store *s)
{
	if (s->in_snapshot && !s->snapshot_open &&
	    store_tx(s, s->drv->begin_read) == STORE_OK)
		s->snapshot_open = true;
}

static struct store_stmt *
store_vquery(struct store *s, const char *sql, const char *fmt, va_list ap)
{
	struct store_stmt *st;
	enum store_error e;

	/* deferred marks go first: this statement may read them */
	if (s->marks_count > 0 && (e = store_sync_flush(s)) != STORE_OK &&
	    s->deferred == STORE_OK)
		s->deferred = e;
	snapshot_open(s);
	st = store_stmt(s, sql);

	if (st != NULL)
		bind_args(st, sql, fmt, ap);
	return st;
}

struct store_stmt *
store_query(struct store *s, const char *sql, const char *fmt, ...)
{
	struct store_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = store_vquery(s, sql, fmt, ap);
	va_end(ap);
	return st;
}

enum store_error
store_execute(struct store *s, const char *sql, const char *fmt, ...)
{
	struct store_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = store_vquery(s, sql, fmt, ap);
	va_end(ap);
	return store_run(s, st);
}

enum store_error
store_send(struct store *s, const char *sql, const char *fmt, ...)
{
	struct store_stmt *st;
	enum store_error e;
	va_list ap;

	va_start(ap, fmt);
	st = store_vquery(s, sql, fmt, ap);
	va_end(ap);
	if (st == NULL || s->drv->send == NULL || !s->in_txn)
		return store_run(s, st);
	if ((e = before_statement(s)) == STORE_OK)
		e = st->drv->send(s, st);
	st->drv->reset(st);
	return e;
}

enum store_error
store_insert(struct store *s, int64_t *id_r, const char *sql, const char *fmt,
	     ...)
{
	struct store_stmt *st;
	enum store_error e;
	va_list ap;

	va_start(ap, fmt);
	st = store_vquery(s, sql, fmt, ap);
	va_end(ap);
	if (st == NULL)
		return STORE_INTERNAL; /* store_stmt logged why */
	if ((e = before_statement(s)) != STORE_OK)
		return e;
	e = st->drv->insert(s, st, id_r);
	st->drv->reset(st);
	return e;
}

enum store_error
store_row(struct store *s, struct store_stmt *st)
{
	enum store_error e;
	bool row;

	if (st == NULL)
		return STORE_INTERNAL; /* store_stmt logged why */
	e = store_step(s, st, &row);
	if (e == STORE_OK && !row)
		return STORE_NOTFOUND;
	return e;
}

bool
store_next(struct store *s, struct store_stmt *st, enum store_error *e_r)
{
	enum store_error e;
	bool row;

	if (st == NULL) {
		*e_r = STORE_INTERNAL; /* store_stmt logged why */
		return false;
	}
	e = store_step(s, st, &row);
	if (e == STORE_OK && row)
		return true;
	*e_r = e;
	return false;
}

enum store_error
store_fetch_int64(struct store *s, int64_t *r, const char *sql, const char *fmt,
		  ...)
{
	enum store_error e;
	struct store_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	st = store_vquery(s, sql, fmt, ap);
	va_end(ap);
	e = store_row(s, st);
	if (e == STORE_OK)
		*r = store_col_int64(st, 0);
	store_done(st);
	return e;
}

enum store_error
store_exec(struct store *s, const char *sql)
{
	enum store_error e;

	if (s->marks_count > 0 && (e = store_sync_flush(s)) != STORE_OK)
		return e;
	if (s->inject_busy > 0) {
		s->inject_busy--;
		return STORE_BUSY;
	}
	return s->drv->exec(s, sql);
}

static void
notify_after_commit(struct store *s)
{
	size_t n = s->changes_count;

	s->changes_count = 0;
	store_publish(s, s->changes, n);
}

/* BEGIN and COMMIT through the statement cache: parsed once per
 * connection rather than on every request. */
static enum store_error
store_tx(struct store *s, const char *sql)
{
	struct store_stmt *st;
	enum store_error e;
	bool row;

	if (s->inject_busy > 0) {
		s->inject_busy--;
		return STORE_BUSY;
	}
	st = store_stmt(s, sql);
	if (st == NULL)
		return STORE_INTERNAL;
	e = st->drv->step(s, st, &row);
	st->drv->reset(st);
	return e;
}

/* ROLLBACK from the statement cache: every read-only request ends its
 * transaction so, and parsing it each time was a tenth of a no-change
 * Sync. */
static void
end_by_rollback(struct store *s)
{
	struct store_stmt *st = store_stmt(s, "ROLLBACK");
	bool row;

	if (st == NULL) {
		(void)s->drv->exec(s, "ROLLBACK");
		return;
	}
	(void)st->drv->step(s, st, &row);
	st->drv->reset(st);
}

void
store_map_file(struct store *s, size_t bytes)
{
	char sql[64];

	if (s->drv != &store_driver_sqlite)
		return; /* a file of SQLite's */
	snprintf(sql, sizeof(sql), "PRAGMA mmap_size = %zu", bytes);
	if (store_exec(s, sql) != STORE_OK)
		log_warn("store: the database file is read without a mapping");
}

#define STORE_WAL_KICK_PAGES 1000 /* SQLite's own threshold */
#define STORE_WAL_MAX_PAGES 8000

static void (*checkpoint_kick)(void);
/* The WAL's pages at the last kick: the next comes 1,000 pages later (a
 * log that commits keep busy is not started again after a checkpoint,
 * and a kick at every commit past 1,000 pages made a checkpoint, fsyncs
 * and all, per commit) */
static atomic_int checkpoint_kicked_at;
/* Likewise the pages at the last checkpoint a commit made itself, past
 * STORE_WAL_MAX_PAGES. Each one walks the whole log with an index of its
 * frames that SQLite allocates and zeroes (100-160 KB at 8,000 pages);
 * while other connections read, a passive checkpoint cannot start the log
 * again, so in a storm of Pings (each device's first request commits)
 * every commit made one (about 110 a second over six workers), and the
 * freed indexes' zeroed pages stayed resident under the connections
 * that reused them (bench-push: 9.7 KiB a parked Ping at 36,000 instead
 * of 8.2). */
static atomic_int checkpoint_inline_at;

void
store_checkpoints_elsewhere(void (*kick)(void))
{
	checkpoint_kick = kick;
}

/* After every commit of a store opened after store_checkpoints_elsewhere,
 * with the pages now in the WAL (in place of SQLite's autocheckpoint). */
static int
wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	int last = atomic_load(&checkpoint_kicked_at);
	int inline_at = atomic_load(&checkpoint_inline_at);

	(void)arg;
	if (pages < last) /* the log was started again */
		atomic_store(&checkpoint_kicked_at, last = 0);
	if (pages < inline_at)
		atomic_store(&checkpoint_inline_at, inline_at = 0);
	if (pages >= STORE_WAL_MAX_PAGES &&
	    pages - inline_at >= STORE_WAL_KICK_PAGES &&
	    atomic_compare_exchange_strong(&checkpoint_inline_at, &inline_at,
					   pages)) {
		(void)sqlite3_wal_checkpoint_v2(
			db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	} else if (pages - last >= STORE_WAL_KICK_PAGES) {
		atomic_store(&checkpoint_kicked_at, pages);
		checkpoint_kick();
	}
	return SQLITE_OK;
}

enum store_error
store_checkpoint(struct store *s)
{
	int rc;

	/* PostgreSQL checkpoints by itself */
	if (s->db == NULL)
		return STORE_OK;
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
				       NULL, NULL);

	/* BUSY: another checkpoint is running, which is as good */
	if (rc == SQLITE_OK || rc == SQLITE_BUSY)
		return STORE_OK;
	return store_err(s, rc, "checkpoint");
}

enum store_error
store_begin(struct store *s, bool write)
{
	enum store_error e;

	store_snapshot_end(s);
	if (s->in_txn)
		eas_panic("store: nested transaction");
	s->changes_count = 0;
	s->retryable = false;
	e = store_tx(s, write ? s->drv->begin_write : s->drv->begin_read);
	if (e == STORE_OK)
		s->in_txn = true;
	return e;
}

/* EASD_TEST_LOSE_COMMITS=N (undocumented, for the tests): the process's
 * first N write commits are lost. */
static void
lose_from_env(void)
{
	const char *n = getenv("EASD_TEST_LOSE_COMMITS");

	if (n != NULL)
		store_lose_commits(atoi(n));
}

static enum store_error
commit_or_lose(struct store *s)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int left;

	pthread_once(&once, lose_from_env);
	left = atomic_load(&commits_to_lose);

	while (left > 0 &&
	       !atomic_compare_exchange_weak(&commits_to_lose, &left, left - 1))
		;
	if (left > 0) {
		log_info("store: a commit lost as a deadlock's loser "
			 "(store_lose_commits)");
		s->retryable = true;
		return STORE_BUSY;
	}
	return store_tx(s, "COMMIT");
}

enum store_error
store_commit(struct store *s)
{
	enum store_error e;

	eas_assert(s->in_txn);
	e = store_sync_flush(s);
	if (e == STORE_OK)
		e = store_share_before_commit(s);
	if (e == STORE_OK)
		e = store_notify_before_commit(s);
	if (e == STORE_OK)
		e = commit_or_lose(s);
	if (e != STORE_OK)
		return e; /* still open: the caller rolls back */
	s->in_txn = false;
	notify_after_commit(s);
	return STORE_OK;
}

bool
store_in_transaction(const struct store *s)
{
	return s->in_txn;
}

enum store_error
store_savepoint(struct store *s)
{
	eas_assert(s->in_txn);
	/* deferred marks go first (store_exec): they belong before it */
	return store_exec(s, "SAVEPOINT easd_part");
}

enum store_error
store_savepoint_end(struct store *s, enum store_error e)
{
	enum store_error e2;

	eas_assert(s->in_txn);
	if (e == STORE_OK)
		return store_exec(s, "RELEASE easd_part");
	/* what was deferred since the savepoint is undone with it */
	store_sync_drop(s);
	e2 = store_exec(s, "ROLLBACK TO easd_part");
	if (e2 == STORE_OK)
		e2 = store_exec(s, "RELEASE easd_part");
	if (e2 != STORE_OK)
		log_warn("store: cannot undo a part of the transaction: %s",
			 store_error_str(e2));
	return e;
}

bool
store_retryable(const struct store *s)
{
	return s->retryable;
}

enum store_error
store_txn(struct store *s, bool write, store_txn_fn *fn, void *ctx)
{
	enum store_error e = STORE_BUSY;

	for (int run = 0; run < STORE_TXN_TRIES; run++) {
		if (run > 0) {
			store_retry_pause(run);
			log_info("store: transaction run again after a "
				 "deadlock or serialization failure (%d)",
				 run + 1);
		}
		e = store_begin(s, write);
		if (e == STORE_OK) {
			e = fn(s, ctx);
			if (e == STORE_OK)
				e = store_commit(s);
			if (e == STORE_OK)
				return STORE_OK;
			store_rollback(s);
		}
		if (e != STORE_BUSY || !s->retryable)
			return e;
	}
	return e;
}

void
store_rollback(struct store *s)
{
	/* Not through store_tx: an injected failure must not keep a
	 * transaction open. */
	store_sync_drop(s);
	if (s->drv->in_txn(s))
		end_by_rollback(s);
	s->in_txn = false;
	s->in_snapshot = false;
	s->snapshot_open = false;
	s->changes_count = 0;
}

enum store_error
store_snapshot_begin(struct store *s)
{
	if (s->in_txn || s->in_snapshot)
		return STORE_OK;
	/* BEGIN comes with the first read (snapshot_open) */
	s->in_snapshot = true;
	s->snapshot_open = false;
	return STORE_OK;
}

void
store_snapshot_end(struct store *s)
{
	bool opened = s->snapshot_open;

	if (!s->in_snapshot)
		return;
	s->in_snapshot = false;
	s->snapshot_open = false;
	if (opened && s->drv->in_txn(s) && store_tx(s, "COMMIT") != STORE_OK)
		end_by_rollback(s);
}

enum store_error
store_wbegin(struct store *s, bool *own_r)
{
	enum store_error e;

	*own_r = false;
	/* A write never starts from a read snapshot: it could be stale. */
	store_snapshot_end(s);
	if (s->in_txn)
		return STORE_OK;
	s->changes_count = 0;
	s->retryable = false;
	e = store_tx(s, s->drv->begin_write);
	if (e == STORE_OK)
		*own_r = true;
	return e;
}

enum store_error
store_wend(struct store *s, bool own, enum store_error e)
{
	if (!own)
		return e;
	if (e == STORE_OK)
		e = store_sync_flush(s);
	if (e == STORE_OK)
		e = store_share_before_commit(s);
	if (e == STORE_OK) {
		e = store_notify_before_commit(s);
		if (e == STORE_OK)
			e = commit_or_lose(s);
		if (e == STORE_OK) {
			notify_after_commit(s);
			return STORE_OK;
		}
	}
	store_rollback(s);
	return e;
}

enum store_error
store_rbegin(struct store *s, bool *own_r)
{
	enum store_error e;

	*own_r = false;
	if (s->in_snapshot)
		snapshot_open(s);
	if (s->in_txn || s->in_snapshot)
		return STORE_OK;
	e = store_tx(s, s->drv->begin_read);
	if (e == STORE_OK)
		*own_r = true;
	return e;
}

void
store_rend(struct store *s, bool own)
{
	if (own && s->drv->in_txn(s) && store_tx(s, "COMMIT") != STORE_OK)
		(void)s->drv->exec(s, "ROLLBACK");
}

enum store_error
store_next_modseq(struct store *s, int64_t account_id, int64_t *modseq_r)
{
	static const char sql[] =
		"UPDATE accounts SET modseq = modseq + 1 WHERE id = ?1 "
		"RETURNING modseq";
	static const char sql_bump[] =
		"UPDATE accounts SET modseq = modseq + 1 WHERE id = ?1";
	static const char sql_get[] =
		"SELECT modseq FROM accounts WHERE id = ?1";
	enum store_error e;

	if (!s->in_txn)
		return store_fetch_int64(s, modseq_r, sql, "I", account_id);
	/* Inside the transaction nothing comes between the two, and they
	 * cost a third of RETURNING's temporary table (every stored item
	 * takes a modseq). */
	if ((e = store_execute(s, sql_bump, "I", account_id)) != STORE_OK)
		return e;
	return store_fetch_int64(s, modseq_r, sql_get, "I", account_id);
}

const char *
store_col_text(struct arena *a, struct store_stmt *st, int col)
{
	size_t len;
	const char *t = st->drv->col_text(st, col, &len);

	if (t == NULL)
		return NULL;
	return arena_strndup(a, t, len);
}

const uint8_t *
store_col_blob(struct arena *a, struct store_stmt *st, int col, size_t *len_r)
{
	const void *p;
	size_t n;
	uint8_t *r;
	bool null;

	*len_r = 0;
	p = st->drv->col_blob(st, col, &n, &null);
	if (null)
		return NULL;
	r = arena_alloc(a, n + 1);
	if (n > 0)
		memcpy(r, p, n);
	r[n] = '\0';
	*len_r = n;
	return r;
}

/* --- opening and migrating --- */

static enum store_error
get_user_version(struct store *s, int *version_r)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return store_err(s, rc, "user_version");
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version_r = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? STORE_OK : store_err(s, rc, "user_version");
}

static enum store_error
migrate(struct store *s, int target, const char **error_r)
{
	enum store_error e;
	int version = 0;
	char sql[64];

	/* IMMEDIATE: two processes opening an old file at once must not both
	 * run the steps; the second waits and then sees the new version. */
	e = store_tx(s, s->drv->begin_write);
	if (e != STORE_OK) {
		*error_r = "cannot lock the database for migration";
		return e;
	}
	e = get_user_version(s, &version);
	if (e != STORE_OK) {
		*error_r = "cannot read the schema version";
		goto out;
	}
	if (version > store_schema_version()) {
		*error_r = "database written by a newer easd";
		e = STORE_INVALID;
		goto out;
	}
	for (int v = version; v < target; v++) {
		e = store_exec(s, migrations[v]);
		if (e != STORE_OK) {
			*error_r = "schema migration failed";
			goto out;
		}
	}
	if (version < target) {
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
		e = store_exec(s, sql);
		if (e != STORE_OK) {
			*error_r = "cannot write the schema version";
			goto out;
		}
		if (version > 0)
			log_info("store: schema upgraded from %d to %d",
				 version, target);
	}
	e = store_tx(s, "COMMIT");
	if (e != STORE_OK)
		*error_r = "cannot commit the schema migration";
out:
	if (e != STORE_OK)
		store_rollback(s);
	return e;
}

enum store_error
store_open_at_version(const char *path, int version, struct store **store_r,
		      const char **error_r)
{
	struct store *s;
	enum store_error e;

	*store_r = NULL;
	*error_r = NULL;
	if (version < 0 || version > store_schema_version()) {
		*error_r = "unknown schema version";
		return STORE_INVALID;
	}
	s = xcalloc(1, sizeof(*s));
	store_notify_init(s, path);
	if (store_is_url(path)) {
		/* its own schema, always the newest: older versions are
		 * SQLite's testing aid */
		e = store_pg_open(s, path, error_r);
		s->schema = store_schema_version();
		goto out;
	}
	e = store_lite_open(s, path, error_r);
	if (e != STORE_OK)
		goto out;
	if (checkpoint_kick != NULL)
		sqlite3_wal_hook(s->db, wal_hook, NULL);
	e = migrate(s, version, error_r);
	s->schema = version;
	if (e == STORE_OK && (e = store_search_register(s)) != STORE_OK)
		*error_r = "cannot set up the database";
out:
	if (e != STORE_OK) {
		store_close(&s);
		return e;
	}
	*store_r = s;
	return STORE_OK;
}

enum store_error
store_open(const char *path, struct store **store_r, const char **error_r)
{
	return store_open_at_version(path, store_schema_version(), store_r,
				     error_r);
}

enum store_error
store_db_version(struct store *s, int *version_r)
{
	if (s->drv != &store_driver_sqlite) {
		*version_r = s->schema;
		return STORE_OK;
	}
	return get_user_version(s, version_r);
}

bool
store_sqlite_only(struct store *s, const char *what)
{
	if (s->drv == &store_driver_sqlite)
		return true;
	log_warn("store: %s is not implemented on %s yet", what, s->drv->name);
	return false;
}

void
store_close(struct store **sp)
{
	struct store *s = *sp;

	if (s == NULL)
		return;
	free(s->marks);
	for (size_t i = 0; i < STORE_STMT_SLOTS; i++)
		if (s->stmts[i].st != NULL)
			s->stmts[i].st->drv->finalize(s->stmts[i].st);
	if (s->drv != NULL)
		s->drv->close(s);
	store_notify_deinit(s);
	free(s);
	*sp = NULL;
}

/* --- classes and folder types --- */

static const char *const class_names[] = {
	[STORE_CLASS_EMAIL] = "Email",
	[STORE_CLASS_CONTACTS] = "Contacts",
	[STORE_CLASS_CALENDAR] = "Calendar",
	[STORE_CLASS_TASKS] = "Tasks",
	[STORE_CLASS_NOTES] = "Notes",
};

const char *
store_class_name(enum store_class c)
{
	if ((size_t)c >= N_ELEMENTS(class_names) || class_names[c] == NULL)
		return "";
	return class_names[c];
}

enum store_class
store_class_parse(const char *name)
{
	if (name == NULL)
		return STORE_CLASS_NONE;
	for (size_t i = 1; i < N_ELEMENTS(class_names); i++) {
		if (str_ieq(name, class_names[i]))
			return (enum store_class)i;
	}
	return STORE_CLASS_NONE;
}

/* MS-ASCMD 2.2.3.186.3: which class of item each folder type holds. */
enum store_class
store_class_of_folder_type(int type)
{
	switch (type) {
	case EAS_FOLDER_GENERIC:
	case EAS_FOLDER_INBOX:
	case EAS_FOLDER_DRAFTS:
	case EAS_FOLDER_DELETED:
	case EAS_FOLDER_SENT:
	case EAS_FOLDER_OUTBOX:
	case EAS_FOLDER_USER_MAIL:
		return STORE_CLASS_EMAIL;
	case EAS_FOLDER_TASKS:
	case EAS_FOLDER_USER_TASKS:
		return STORE_CLASS_TASKS;
	case EAS_FOLDER_CALENDAR:
	case EAS_FOLDER_USER_CALENDAR:
		return STORE_CLASS_CALENDAR;
	case EAS_FOLDER_CONTACTS:
	case EAS_FOLDER_USER_CONTACTS:
		return STORE_CLASS_CONTACTS;
	case EAS_FOLDER_NOTES:
	case EAS_FOLDER_USER_NOTES:
		return STORE_CLASS_NOTES;
	default:
		return STORE_CLASS_NONE;
	}
}

bool
store_folder_type_is_special(int type)
{
	return (type >= EAS_FOLDER_INBOX && type <= EAS_FOLDER_JOURNAL) ||
	       type == EAS_FOLDER_RI_CACHE;
}

/* --- housekeeping --- */

enum store_error
store_gc(struct store *s, int64_t *removed_r)
{
	/* A deleted folder cannot be synced any more, so what devices hold
	 * in it is moot. */
	static const char sql_states[] =
		"DELETE FROM sync_states WHERE folder_id IN "
		"(SELECT id FROM folders WHERE deleted = 1)";
	static const char sql_items[] =
		"DELETE FROM items WHERE deleted = 1 AND NOT EXISTS "
		"(SELECT 1 FROM device_items d WHERE d.item_id = items.id)";
	/* A folder tombstone goes once every hierarchy sync state of the
	 * account has moved past its deletion and no items remain. */
	static const char sql_folders[] =
		"DELETE FROM folders WHERE deleted = 1 AND NOT EXISTS "
		"(SELECT 1 FROM items i WHERE i.folder_id = folders.id) "
		"AND NOT EXISTS (SELECT 1 FROM sync_states ss JOIN devices d "
		"ON d.id = ss.device_id WHERE d.account_id = "
		"folders.account_id AND ss.folder_id = 0 "
		"AND ss.hwm < folders.modseq)";
	/* A ClientId is repeated when a response was lost: minutes, not
	 * weeks; the sending limit looks back one hour. */
	static const char sql_submissions[] =
		"DELETE FROM submissions WHERE time < ?1";
	enum store_error e;
	int64_t removed = 0;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql_submissions, "I",
			  time_now() - STORE_SUBMISSION_KEEP_S);
	if (e != STORE_OK)
		goto out;
	e = store_execute(s, sql_states, "");
	if (e != STORE_OK)
		goto out;
	e = store_execute(s, sql_items, "");
	if (e != STORE_OK)
		goto out;
	removed += store_changes(s);
	e = store_execute(s, sql_folders, "");
	if (e != STORE_OK)
		goto out;
	removed += store_changes(s);
out:
	e = store_wend(s, own, e);
	if (removed_r != NULL)
		*removed_r = e == STORE_OK ? removed : 0;
	return e;
}

enum store_error
store_stats(struct store *s, struct store_stats *r)
{
	static const char sql_acc[] = "SELECT count(*) FROM accounts";
	static const char sql_dev[] = "SELECT count(*) FROM devices";
	static const char sql_fol[] =
		"SELECT count(*) FROM folders WHERE deleted = 0";
	static const char sql_items[] =
		"SELECT cls, count(*) FROM items WHERE deleted = 0 "
		"GROUP BY cls";
	static const char sql_pages[] = "PRAGMA page_count";
	static const char sql_psize[] = "PRAGMA page_size";
	static const char sql_pg_bytes[] =
		"SELECT pg_database_size(current_database())";
	static const char sql_pg_one[] = "SELECT 1";
	enum store_error e;
	struct store_stmt *st;
	int64_t pages = 0, psize = 0;
	bool own;

	memset(r, 0, sizeof(*r));
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		return e;
	/* count(*) and these pragmas always return their one row */
	if ((e = store_fetch_int64(s, &r->accounts, sql_acc, "")) != STORE_OK ||
	    (e = store_fetch_int64(s, &r->devices, sql_dev, "")) != STORE_OK ||
	    (e = store_fetch_int64(s, &r->folders, sql_fol, "")) != STORE_OK ||
	    (e = store_fetch_int64(s, &pages,
				   STORE_SQL(s, sql_pages, sql_pg_bytes),
				   "")) != STORE_OK ||
	    (e = store_fetch_int64(s, &psize,
				   STORE_SQL(s, sql_psize, sql_pg_one), "")) !=
		    STORE_OK)
		goto out;
	r->db_bytes = pages * psize;
	st = store_query(s, sql_items, "");
	while (store_next(s, st, &e)) {
		int c = store_col_int(st, 0);

		if (c >= 0 && c < (int)N_ELEMENTS(r->items))
			r->items[c] = store_col_int64(st, 1);
	}
	store_done(st);
out:
	store_rend(s, own);
	return e;
}

enum store_error
store_check(struct store *s)
{
	static const char sql[] = "PRAGMA integrity_check";
	/* PostgreSQL checks its pages itself (and amcheck is an extension) */
	static const char sql_pg[] = "SELECT 'ok'";
	struct store_stmt *st = store_query(s, STORE_SQL(s, sql, sql_pg), "");
	/* the pragma always returns at least one row */
	enum store_error e = store_row(s, st);

	if (e == STORE_OK) {
		const char *t = store_col_str(st, 0);

		if (t == NULL || strcmp(t, "ok") != 0) {
			log_error("store: integrity check: %s",
				  t != NULL ? t : "?");
			e = STORE_CORRUPT;
		}
	}
	store_done(st);
	return e;
}
