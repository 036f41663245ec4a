/* Folders: the per-account hierarchy with short numeric ServerIds, name
 * rules of FolderCreate/FolderUpdate, cascading deletes into tombstones and
 * the change list FolderSync sends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

#define FOLDER_NAME_MAX 256
#define FOLDERS_PER_ACCOUNT_MAX 10000
#define FOLDER_DEPTH_MAX 64

#define FOLDER_SELECT                                                          \
	"SELECT f.id, f.account_id, f.parent_id, f.server_id, "                \
	"coalesce(p.server_id, '0'), f.name, f.type, f.modseq, "               \
	"f.created_modseq, f.deleted, f.origin_device, f.builtin "             \
	"FROM folders f LEFT JOIN folders p ON p.id = f.parent_id "

static void
folder_row(struct arena *a, struct store_stmt *st, struct store_folder *r)
{
	r->id = store_col_int64(st, 0);
	r->account_id = store_col_int64(st, 1);
	r->parent_id = store_col_int64(st, 2);
	r->server_id = store_col_text(a, st, 3);
	r->parent_server_id = store_col_text(a, st, 4);
	r->name = store_col_text(a, st, 5);
	r->type = store_col_int(st, 6);
	r->modseq = store_col_int64(st, 7);
	r->created_modseq = store_col_int64(st, 8);
	r->deleted = store_col_int(st, 9) != 0;
	r->rights = STORE_RIGHT_OWNER;
}

static bool
name_ok(const char *name)
{
	size_t n;

	if (name == NULL)
		return false;
	n = strlen(name);
	if (n == 0 || n > FOLDER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	}
	return true;
}

enum store_error
store_folder_list(struct store *s, struct arena *a, int64_t account_id,
		  struct store_folder **list_r, size_t *count_r)
{
	static const char sql[] = FOLDER_SELECT
		"WHERE f.account_id = ?1 AND f.deleted = 0 ORDER BY f.id";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	struct store_folder *list = NULL;
	size_t count = 0, cap = 0;
	enum store_error e;

	*list_r = NULL;
	*count_r = 0;
	while (store_next(s, st, &e)) {
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		folder_row(a, st, &list[count++]);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

/* One live folder from a FOLDER_SELECT query of store_query. */
static enum store_error
folder_one(struct store *s, struct arena *a, struct store_stmt *st,
	   struct store_folder *r, bool *builtin_r)
{
	enum store_error e = store_row(s, st);

	if (e == STORE_OK) {
		folder_row(a, st, r);
		if (builtin_r != NULL)
			*builtin_r = store_col_int(st, 11) != 0;
	}
	store_done(st);
	return e;
}

enum store_error
store_folder_get(struct store *s, struct arena *a, int64_t account_id,
		 const char *server_id, struct store_folder *r)
{
	static const char sql[] =
		FOLDER_SELECT "WHERE f.account_id = ?1 AND f.server_id = ?2 "
			      "AND f.deleted = 0";

	enum store_error e;

	if (server_id == NULL || strlen(server_id) > 64)
		return STORE_NOTFOUND;
	e = folder_one(s, a, store_query(s, sql, "It", account_id, server_id),
		       r, NULL);
	if (e == STORE_NOTFOUND)
		e = store_share_folder_get(s, a, account_id, server_id, r);
	return e;
}

static const char sql_by_id[] =
	FOLDER_SELECT "WHERE f.account_id = ?1 AND f.id = ?2 AND f.deleted = 0";

/* The account's own folder only: what a folder of the account may be
 * created under or moved to. */
static enum store_error
own_folder_by_id(struct store *s, struct arena *a, int64_t account_id,
		 int64_t id, struct store_folder *r)
{
	return folder_one(s, a, store_query(s, sql_by_id, "II", account_id, id),
			  r, NULL);
}

enum store_error
store_folder_get_by_id(struct store *s, struct arena *a, int64_t account_id,
		       int64_t id, struct store_folder *r)
{
	enum store_error e = own_folder_by_id(s, a, account_id, id, r);

	if (e == STORE_NOTFOUND)
		e = store_share_folder_get_by_id(s, a, account_id, id, r);
	return e;
}

enum store_error
store_folder_get_by_type(struct store *s, struct arena *a, int64_t account_id,
			 int type, struct store_folder *r)
{
	/* Default folders first (Junk E-mail shares type 12 with every
	 * user-created mail folder), then the oldest. Chosen here from the
	 * few rows rather than by ORDER BY, whose temporary b-tree was half
	 * the cost of this lookup that every delivery makes. */
	static const char sql[] = FOLDER_SELECT
		"WHERE f.account_id = ?1 AND f.type = ?2 AND f.deleted = 0";
	struct store_stmt *st = store_query(s, sql, "Ii", account_id, type);
	bool found = false, best_builtin = false;
	int64_t best_id = 0;
	enum store_error e;

	while (store_next(s, st, &e)) {
		bool builtin = store_col_int(st, 11) != 0;
		int64_t id = store_col_int64(st, 0);

		if (found && ((best_builtin && !builtin) ||
			      (best_builtin == builtin && best_id < id)))
			continue;
		folder_row(a, st, r);
		found = true;
		best_builtin = builtin;
		best_id = id;
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	return found ? STORE_OK : STORE_NOTFOUND;
}

enum store_error
store_folder_find(struct store *s, struct arena *a, int64_t account_id,
		  const char *name, struct store_folder *r)
{
	static const char sql[] = FOLDER_SELECT
		"WHERE f.account_id = ?1 AND f.deleted = 0 AND "
		"(f.server_id = ?2 OR f.name = ?2 COLLATE NOCASE) "
		"ORDER BY f.server_id = ?2 DESC, f.id LIMIT 1";

	if (name == NULL || strlen(name) > FOLDER_NAME_MAX)
		return STORE_NOTFOUND;
	return folder_one(s, a, store_query(s, sql, "It", account_id, name), r,
			  NULL);
}

const char *
store_folder_sid(struct store *s, struct arena *a, int64_t folder_id)
{
	static const char sql[] =
		"SELECT server_id FROM folders WHERE id = ?1 AND deleted = 0";
	struct store_stmt *st = store_query(s, sql, "I", folder_id);
	const char *sid = NULL;
	bool row;

	/* store_step rather than store_row: any failure is just NULL here,
	 * unlogged, as it always was */
	if (st != NULL && store_step(s, st, &row) == STORE_OK && row)
		sid = store_col_text(a, st, 0);
	store_done(st);
	return sid;
}

enum store_error
store_folder_insert(struct store *s, int64_t account_id, int64_t parent_id,
		    const char *name, int type, bool builtin,
		    int64_t origin_device, int64_t *id_r)
{
	/* ServerIds: a per-account counter, so they stay short ("1", "2",
	 * ...) and are never reused within the account. */
	static const char sql_sid[] =
		"UPDATE accounts SET next_folder = next_folder + 1 "
		"WHERE id = ?1 RETURNING next_folder - 1";
	static const char sql[] =
		"INSERT INTO folders (account_id, parent_id, server_id, name, "
		"type, builtin, modseq, created_modseq, origin_device) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)";
	enum store_error e;
	int64_t sid = 0, modseq = 0, id = 0;
	char sidbuf[24];

	e = store_fetch_int64(s, &sid, sql_sid, "I", account_id);
	if (e != STORE_OK)
		return e;
	e = store_next_modseq(s, account_id, &modseq);
	if (e != STORE_OK)
		return e;
	snprintf(sidbuf, sizeof(sidbuf), "%lld", (long long)sid);
	e = store_insert(s, &id, sql, "IITtiiII", account_id, parent_id, sidbuf,
			 name, type, builtin ? 1 : 0, modseq, origin_device);
	if (e != STORE_OK)
		return e;
	if (id_r != NULL)
		*id_r = id;
	store_touch(s, STORE_CHANGED_HIERARCHY, account_id, 0);
	return STORE_OK;
}

static enum store_error
count_folders(struct store *s, int64_t account_id, int64_t *n_r)
{
	static const char sql[] =
		"SELECT count(*) FROM folders WHERE account_id = ?1";

	return store_fetch_int64(s, n_r, sql, "I", account_id);
}

enum store_error
store_folder_create(struct store *s, struct arena *a, int64_t account_id,
		    int64_t parent_id, const char *name, int type,
		    int64_t origin_device, struct store_folder *r)
{
	struct store_folder parent;
	enum store_error e;
	int64_t id = 0, n = 0;
	bool own;

	/* MS-ASCMD 2.2.3.186.3: clients create user folders (1, 12-17); the
	 * default folders exist once per account. */
	if (!name_ok(name) || type < EAS_FOLDER_GENERIC ||
	    type > EAS_FOLDER_RI_CACHE || store_folder_type_is_special(type))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	if (parent_id != 0) {
		e = own_folder_by_id(s, a, account_id, parent_id, &parent);
		if (e != STORE_OK)
			goto out;
	}
	e = count_folders(s, account_id, &n);
	if (e != STORE_OK)
		goto out;
	if (n >= FOLDERS_PER_ACCOUNT_MAX) {
		e = STORE_INVALID;
		goto out;
	}
	e = store_folder_insert(s, account_id, parent_id, name, type, false,
				origin_device, &id);
out:
	e = store_wend(s, own, e);
	if (e == STORE_OK && r != NULL)
		e = own_folder_by_id(s, a, account_id, id, r);
	return e;
}

static enum store_error
folder_parent_of(struct store *s, int64_t id, int64_t *parent_r)
{
	static const char sql[] = "SELECT parent_id FROM folders WHERE id = ?1";

	return store_fetch_int64(s, parent_r, sql, "I", id);
}

enum store_error
store_folder_update(struct store *s, int64_t account_id, int64_t folder_id,
		    int64_t parent_id, const char *name, int64_t origin_device)
{
	static const char sql[] =
		"UPDATE folders SET parent_id = ?2, name = ?3, modseq = ?4, "
		"origin_device = ?5 WHERE id = ?1";
	struct arena *a = arena_new(0);
	struct store_folder f, parent;
	enum store_error e;
	int64_t modseq, p;
	bool own, builtin = false;

	if (name != NULL && !name_ok(name)) {
		arena_free(&a);
		return STORE_INVALID;
	}
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		goto out;
	/* another mailbox's folder: by its owner, or with the owner right,
	 * and then only within the owner's tree */
	e = store_share_folder_access(s, &account_id, folder_id,
				      STORE_RIGHT_OWNER);
	if (e != STORE_OK)
		goto out;
	e = folder_one(s, a,
		       store_query(s, sql_by_id, "II", account_id, folder_id),
		       &f, &builtin);
	if (e != STORE_OK)
		goto out;
	if (builtin || store_folder_type_is_special(f.type)) {
		e = STORE_INVALID;
		goto out;
	}
	if (parent_id == STORE_FOLDER_SAME_PARENT)
		parent_id = f.parent_id;
	if (parent_id != 0) {
		e = own_folder_by_id(s, a, account_id, parent_id, &parent);
		if (e != STORE_OK)
			goto out;
		/* A move under itself or one of its descendants would cut
		 * the subtree loose. */
		p = parent_id;
		for (int depth = 0; p != 0; depth++) {
			if (p == folder_id || depth > FOLDER_DEPTH_MAX) {
				e = STORE_INVALID;
				goto out;
			}
			e = folder_parent_of(s, p, &p);
			if (e != STORE_OK)
				goto out;
		}
	}
	e = store_next_modseq(s, account_id, &modseq);
	if (e != STORE_OK)
		goto out;
	e = store_execute(s, sql, "IItII", folder_id, parent_id,
			  name != NULL ? name : f.name, modseq, origin_device);
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_HIERARCHY, account_id, 0);
out:
	e = store_wend(s, own, e);
	arena_free(&a);
	return e;
}

/* Turn every live item of a folder into a tombstone, each with its own
 * modseq taken as one block from the account's counter. */
static enum store_error
tombstone_items(struct store *s, int64_t account_id, int64_t folder_id,
		int64_t origin_device)
{
	static const char sql_count[] = "SELECT count(*) FROM items WHERE "
					"folder_id = ?1 AND deleted = 0";
	static const char sql_reserve[] =
		"UPDATE accounts SET modseq = modseq + ?2 WHERE id = ?1 "
		"RETURNING modseq";
	static const char sql[] =
		"UPDATE items SET deleted = 1, data = NULL, extra = NULL, "
		"size = 0, origin_device = ?3, modseq = ?2 + r.n FROM "
		"(SELECT id, row_number() OVER (ORDER BY id) AS n FROM items "
		"WHERE folder_id = ?1 AND deleted = 0) AS r "
		"WHERE items.id = r.id";
	enum store_error e;
	int64_t n = 0, top = 0;

	/* count(*) always has its row; the account's row exists (its
	 * folder was just read in this transaction) */
	e = store_fetch_int64(s, &n, sql_count, "I", folder_id);
	if (e != STORE_OK || n == 0)
		return e;
	e = store_fetch_int64(s, &top, sql_reserve, "II", account_id, n);
	if (e != STORE_OK)
		return e;
	store_touch(s, STORE_CHANGED_FOLDER, account_id, folder_id);
	return store_execute(s, sql, "III", folder_id, top - n, origin_device);
}

enum store_error
store_folder_delete(struct store *s, int64_t account_id, int64_t folder_id,
		    int64_t origin_device)
{
	static const char sql_children[] =
		"SELECT id FROM folders WHERE parent_id = ?1 AND deleted = 0";
	static const char sql_del[] =
		"UPDATE folders SET deleted = 1, modseq = ?2, "
		"origin_device = ?3 WHERE id = ?1";
	struct arena *a = arena_new(0);
	struct store_folder f;
	enum store_error e;
	struct store_stmt *st;
	int64_t *ids = NULL, modseq;
	size_t count = 0, cap = 0;
	bool own, builtin = false;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		goto out;
	e = store_share_folder_access(s, &account_id, folder_id,
				      STORE_RIGHT_OWNER);
	if (e != STORE_OK)
		goto out;
	e = folder_one(s, a,
		       store_query(s, sql_by_id, "II", account_id, folder_id),
		       &f, &builtin);
	if (e != STORE_OK)
		goto out;
	if (builtin || store_folder_type_is_special(f.type)) {
		e = STORE_INVALID;
		goto out;
	}
	/* Collect the subtree breadth first; the list doubles as the queue. */
	cap = 16;
	ids = xmalloc(cap * sizeof(*ids));
	ids[count++] = folder_id;
	for (size_t i = 0; i < count; i++) {
		st = store_query(s, sql_children, "I", ids[i]);
		while (store_next(s, st, &e)) {
			if (count == cap) {
				cap *= 2;
				ids = xrealloc(ids, cap * sizeof(*ids));
			}
			ids[count++] = store_col_int64(st, 0);
		}
		store_done(st);
		if (e != STORE_OK)
			goto out;
	}
	for (size_t i = 0; i < count; i++) {
		e = tombstone_items(s, account_id, ids[i], origin_device);
		if (e != STORE_OK)
			goto out;
		e = store_next_modseq(s, account_id, &modseq);
		if (e != STORE_OK)
			goto out;
		e = store_execute(s, sql_del, "III", ids[i], modseq,
				  origin_device);
		if (e != STORE_OK)
			goto out;
	}
	store_touch(s, STORE_CHANGED_HIERARCHY, account_id, 0);
out:
	e = store_wend(s, own, e);
	free(ids);
	arena_free(&a);
	return e;
}

static int
change_by_modseq(const void *x, const void *y)
{
	const struct store_folder_change *a = x, *b = y;

	return a->folder.modseq < b->folder.modseq   ? -1
	       : a->folder.modseq > b->folder.modseq ? 1
						     : 0;
}

enum store_error
store_folder_changes(struct store *s, struct arena *a, int64_t account_id,
		     int64_t since, int64_t exclude_device,
		     struct store_folder_change **list_r, size_t *count_r,
		     int64_t *hwm_r)
{
	static const char sql[] = FOLDER_SELECT
		"WHERE f.account_id = ?1 AND f.modseq > ?2 ORDER BY f.modseq";
	struct store_folder_change *list = NULL;
	enum store_error e;
	struct store_stmt *st;
	size_t count = 0, cap = 0;
	bool own;

	*list_r = NULL;
	*count_r = 0;
	e = store_rbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_account_modseq(s, account_id, hwm_r);
	if (e != STORE_OK)
		goto out;
	st = store_query(s, sql, "II", account_id, since);
	while (store_next(s, st, &e)) {
		struct store_folder_change c;

		folder_row(a, st, &c.folder);
		if (exclude_device != 0 &&
		    store_col_int64(st, 10) == exclude_device)
			continue;
		if (c.folder.deleted) {
			/* created and deleted since: the device never saw it */
			if (c.folder.created_modseq > since)
				continue;
			c.kind = STORE_CHANGE_DELETE;
		} else if (c.folder.created_modseq > since) {
			c.kind = STORE_CHANGE_ADD;
		} else {
			c.kind = STORE_CHANGE_CHANGE;
		}
		list = arena_grow(a, list, count, &cap, sizeof(*list));
		list[count++] = c;
	}
	store_done(st);
	if (e == STORE_OK)
		e = store_share_folder_changes(s, a, account_id, since, &list,
					       &count, &cap);
	/* own and shared folders take modseqs of one counter: in order */
	if (e == STORE_OK && count > 1)
		qsort(list, count, sizeof(*list), change_by_modseq);
out:
	store_rend(s, own);
	if (e == STORE_OK) {
		*list_r = list;
		*count_r = count;
	}
	return e;
}
