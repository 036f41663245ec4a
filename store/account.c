/* Accounts (with yescrypt password hashes and their default folders) and
 * policies (global and per-account key/value settings). */
#include <crypt.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

#define ACCOUNT_FIELD_MAX 320 /* RFC 5321 path limit, generously */
#define PASSWORD_MAX 1024
#define POLICY_FIELD_MAX 4096

/* password_stamp: the hash's last 16 characters, as both backends write
 * it (a negative start counts from the end on SQLite only) */
#define ACCOUNT_COLS                                                           \
	"id, login, email, display_name, enabled, created, "                   \
	"substr(password, length(password) - 15), admin"

static void
account_row(struct arena *a, struct store_stmt *st, struct store_account *r)
{
	r->id = store_col_int64(st, 0);
	r->login = store_col_text(a, st, 1);
	r->email = store_col_text(a, st, 2);
	r->display_name = store_col_text(a, st, 3);
	r->enabled = store_col_int(st, 4) != 0;
	r->created = store_col_int64(st, 5);
	r->password_stamp = store_col_text(a, st, 6);
	r->admin = store_col_int(st, 7) != 0;
}

/* The yescrypt hash of password as a heap string, or NULL. */
static char *
hash_password(const char *password)
{
	struct crypt_data *cd;
	char *setting, *hash = NULL;
	const char *h;

	/* count 0: libxcrypt's default cost for yescrypt */
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL) {
		log_error("store: crypt_gensalt_ra failed");
		return NULL;
	}
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_r(password, setting, cd);
	if (h != NULL && h[0] != '*')
		hash = xstrdup(h);
	else
		log_error("store: crypt_r failed");
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	free(setting);
	return hash;
}

static bool
password_matches(const char *password, const char *stored)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *h = crypt_r(password, stored, cd);
	bool ok = false;
	size_t n;

	if (h != NULL && h[0] != '*') {
		n = strlen(stored);
		/* constant time over the hash length */
		if (strlen(h) == n) {
			unsigned char diff = 0;

			for (size_t i = 0; i < n; i++)
				diff |= (unsigned char)(h[i] ^ stored[i]);
			ok = diff == 0;
		}
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* A hash of the default cost for names that match no account (made on
 * first use, kept for the life of the process). */
static char *dummy_hash;
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void
dummy_hash_make(void)
{
	dummy_hash = hash_password("no account has this password");
}

static bool
field_ok(const char *v, bool empty_ok)
{
	size_t n;

	if (v == NULL)
		return empty_ok;
	n = strlen(v);
	if ((n == 0 && !empty_ok) || n > ACCOUNT_FIELD_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)v[i] < 0x20)
			return false;
	}
	return true;
}

static const struct {
	const char *name;
	int type;
} default_folders[] = {
	{"Inbox", EAS_FOLDER_INBOX},
	{"Drafts", EAS_FOLDER_DRAFTS},
	{"Deleted Items", EAS_FOLDER_DELETED},
	{"Sent Items", EAS_FOLDER_SENT},
	{"Outbox", EAS_FOLDER_OUTBOX},
	{"Junk E-mail", EAS_FOLDER_USER_MAIL},
	{"Contacts", EAS_FOLDER_CONTACTS},
	{"Calendar", EAS_FOLDER_CALENDAR},
	{"Tasks", EAS_FOLDER_TASKS},
	{"Notes", EAS_FOLDER_NOTES},
};

enum store_error
store_account_add(struct store *s, const char *login, const char *email,
		  const char *display_name, const char *password, int64_t *id_r)
{
	static const char sql[] =
		"INSERT INTO accounts (login, email, display_name, password, "
		"created) VALUES (?1, ?2, ?3, ?4, ?5)";
	enum store_error e;
	char *hash = NULL;
	int64_t id = 0;
	bool own = false;

	if (!field_ok(login, false) || !field_ok(email, false) ||
	    !field_ok(display_name, true) || password == NULL ||
	    strlen(password) > PASSWORD_MAX)
		return STORE_INVALID;
	/* Hash before taking the write lock: it is slow on purpose. */
	hash = hash_password(password);
	if (hash == NULL)
		return STORE_INTERNAL;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		goto out;
	e = store_insert(s, &id, sql, "ttttI", login, email,
			 display_name != NULL ? display_name : "", hash,
			 time_now());
	if (e != STORE_OK)
		goto out;
	for (size_t i = 0; i < N_ELEMENTS(default_folders); i++) {
		e = store_folder_insert(s, id, 0, default_folders[i].name,
					default_folders[i].type, true, 0, NULL);
		if (e != STORE_OK)
			goto out;
	}
out:
	e = store_wend(s, own, e);
	if (hash != NULL) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
	}
	if (e == STORE_OK && id_r != NULL)
		*id_r = id;
	return e;
}

/* One account from a query of store_query; with hash_r, column 8 is the
 * password hash (a heap copy). */
static enum store_error
account_lookup(struct store *s, struct arena *a, struct store_stmt *st,
	       struct store_account *r, char **hash_r)
{
	enum store_error e = store_row(s, st);

	if (e == STORE_OK) {
		account_row(a, st, r);
		if (hash_r != NULL)
			*hash_r = xstrdup(store_col_str(st, 8));
	}
	store_done(st);
	return e;
}

/* The login first, then the address: one index each. (One statement with
 * "login = ?1 OR email = ?1 ORDER BY login = ?1 DESC" built two temporary
 * b-trees per lookup, and every delivery and login looks one up.) */
static const char sql_by_login[] =
	"SELECT " ACCOUNT_COLS ", password FROM accounts WHERE login = ?1";
static const char sql_by_email[] =
	"SELECT " ACCOUNT_COLS ", password FROM accounts WHERE email = ?1";

static enum store_error
account_by_name(struct store *s, struct arena *a, const char *login_or_email,
		struct store_account *r, char **hash_r)
{
	enum store_error e;

	if (login_or_email == NULL)
		return STORE_NOTFOUND;
	e = account_lookup(s, a,
			   store_query(s, sql_by_login, "t", login_or_email), r,
			   hash_r);
	if (e != STORE_NOTFOUND)
		return e;
	return account_lookup(s, a,
			      store_query(s, sql_by_email, "t", login_or_email),
			      r, hash_r);
}

enum store_error
store_account_get(struct store *s, struct arena *a, const char *login_or_email,
		  struct store_account *r)
{
	return account_by_name(s, a, login_or_email, r, NULL);
}

enum store_error
store_account_get_by_id(struct store *s, struct arena *a, int64_t id,
			struct store_account *r)
{
	static const char sql[] =
		"SELECT " ACCOUNT_COLS " FROM accounts WHERE id = ?1";

	return account_lookup(s, a, store_query(s, sql, "I", id), r, NULL);
}

enum store_error
store_account_list(struct store *s, struct arena *a,
		   struct store_account **list_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT " ACCOUNT_COLS " FROM accounts ORDER BY id";
	struct store_stmt *st = store_query(s, sql, "");
	struct store_account *list = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		account_row(a, st, &list[count++]);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

enum store_error
store_account_check_password(struct store *s, struct arena *a,
			     const char *login_or_email, const char *password,
			     struct store_account *r)
{
	struct store_account acc;
	enum store_error e;
	char *hash = NULL;
	bool ok;

	if (login_or_email == NULL || password == NULL ||
	    strlen(password) > PASSWORD_MAX)
		return STORE_NOTFOUND;
	e = account_by_name(s, a, login_or_email, &acc, &hash);
	if (e == STORE_NOTFOUND) {
		/* The same work as for a wrong password, so that the answer's
		 * time does not tell which names exist. */
		pthread_once(&dummy_once, dummy_hash_make);
		if (dummy_hash != NULL)
			(void)password_matches(password, dummy_hash);
		log_debug("store: no such account; the password was checked "
			  "against a dummy hash");
	}
	if (e != STORE_OK)
		return e;
	/* The statement is reset: no lock is held while hashing. */
	ok = password_matches(password, hash);
	free(hash);
	if (!ok)
		return STORE_NOTFOUND;
	if (r != NULL)
		*r = acc;
	return STORE_OK;
}

/* Run an UPDATE of one account row (?1 = id, ?2 = text or value);
 * drop_sessions ends the account's web sessions in the same transaction
 * (a new password or a disabled account logs every browser out). */
static enum store_error
update_one(struct store *s, const char *sql, int64_t id, const char *text,
	   int64_t value, bool drop_sessions)
{
	static const char sql_drop[] =
		"DELETE FROM web_sessions WHERE account_id = ?1";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	if (text != NULL)
		e = store_execute(s, sql, "It", id, text);
	else
		e = store_execute(s, sql, "II", id, value);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	if (e == STORE_OK && drop_sessions)
		e = store_execute(s, sql_drop, "I", id);
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_ACCOUNT, id, 0);
	return store_wend(s, own, e);
}

enum store_error
store_account_set_password(struct store *s, int64_t id, const char *password)
{
	static const char sql[] =
		"UPDATE accounts SET password = ?2 WHERE id = ?1";
	enum store_error e;
	char *hash;

	if (password == NULL || strlen(password) > PASSWORD_MAX)
		return STORE_INVALID;
	hash = hash_password(password);
	if (hash == NULL)
		return STORE_INTERNAL;
	e = update_one(s, sql, id, hash, 0, true);
	explicit_bzero(hash, strlen(hash));
	free(hash);
	return e;
}

enum store_error
store_account_set_enabled(struct store *s, int64_t id, bool enabled)
{
	static const char sql[] =
		"UPDATE accounts SET enabled = ?2 WHERE id = ?1";

	return update_one(s, sql, id, NULL, enabled ? 1 : 0, !enabled);
}

enum store_error
store_account_set_admin(struct store *s, int64_t id, bool admin)
{
	static const char sql[] =
		"UPDATE accounts SET admin = ?2 WHERE id = ?1";

	return update_one(s, sql, id, NULL, admin ? 1 : 0, !admin);
}

enum store_error
store_account_delete(struct store *s, int64_t id)
{
	static const char sql_pol[] =
		"DELETE FROM policies WHERE account_id = ?1";
	static const char sql[] = "DELETE FROM accounts WHERE id = ?1";
	enum store_error e;
	bool own;

	if (id <= 0)
		return STORE_NOTFOUND;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql_pol, "I", id);
	if (e == STORE_OK)
		e = store_share_account_gone(s, id);
	if (e != STORE_OK)
		goto out;
	/* devices, folders, items and sync state go by ON DELETE CASCADE */
	e = store_execute(s, sql, "I", id);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_ACCOUNT, id, 0);
out:
	return store_wend(s, own, e);
}

enum store_error
store_account_modseq(struct store *s, int64_t account_id, int64_t *modseq_r)
{
	static const char sql[] = "SELECT modseq FROM accounts WHERE id = ?1";

	return store_fetch_int64(s, modseq_r, sql, "I", account_id);
}

/* --- policies --- */

enum store_error
store_policy_get(struct store *s, struct arena *a, int64_t account_id,
		 struct store_policy_kv **kv_r, size_t *count_r)
{
	/* The account's own value wins over the global one (account 0). */
	static const char sql[] =
		"SELECT key, value FROM policies p WHERE account_id = ?1 "
		"OR (account_id = 0 AND NOT EXISTS (SELECT 1 FROM policies q "
		"WHERE q.account_id = ?1 AND q.key = p.key)) ORDER BY key";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	struct store_policy_kv *kv = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*kv_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		kv = arena_grow(a, kv, count, &cap, sizeof(*kv));
		kv[count].key = store_col_text(a, st, 0);
		kv[count].value = store_col_text(a, st, 1);
		count++;
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*kv_r = kv;
	*count_r = count;
	return STORE_OK;
}

enum store_error
store_policy_set(struct store *s, int64_t account_id, const char *key,
		 const char *value)
{
	static const char sql_set[] =
		"INSERT INTO policies (account_id, key, value) VALUES "
		"(?1, ?2, ?3) ON CONFLICT (account_id, key) DO UPDATE SET "
		"value = excluded.value";
	static const char sql_del[] =
		"DELETE FROM policies WHERE account_id = ?1 AND key = ?2";
	/* A global counter and one per account with settings of its own:
	 * the account's version is their sum, so a change to one account's
	 * policy asks only its devices to provision again. */
	static const char sql_bump[] =
		"INSERT INTO meta (key, value) VALUES "
		"(CASE WHEN ?1 = 0 THEN 'policy_version' "
		"ELSE 'policy_version:' || ?1 END, 1) "
		"ON CONFLICT (key) DO UPDATE SET value = meta.value + 1";
	enum store_error e;
	bool own;

	if (key == NULL || key[0] == '\0' || strlen(key) > POLICY_FIELD_MAX ||
	    (value != NULL && strlen(value) > POLICY_FIELD_MAX) ||
	    account_id < 0)
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	if (value != NULL)
		e = store_execute(s, sql_set, "Itt", account_id, key, value);
	else
		e = store_execute(s, sql_del, "It", account_id, key);
	if (e != STORE_OK)
		goto out;
	e = store_execute(s, sql_bump, "I", account_id);
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_ACCOUNT, account_id, 0);
out:
	return store_wend(s, own, e);
}

enum store_error
store_policy_version(struct store *s, int64_t account_id, int64_t *version_r)
{
	static const char sql[] =
		"SELECT value + COALESCE((SELECT value FROM meta "
		"WHERE key = 'policy_version:' || ?1), 0) "
		"FROM meta WHERE key = 'policy_version'";
	enum store_error e;

	e = store_fetch_int64(s, version_r, sql, "I", account_id);
	/* the global row is written by the first migration */
	return e == STORE_NOTFOUND ? STORE_CORRUPT : e;
}
