/* Sharing: grants of one account's folders (or whole mailbox) to another,
 * and the grantee's view of them. The view is kept as rows of its own
 * (share_folders) with the grantee's modseqs, so that FolderSync reads a
 * grantee's hierarchy changes (a grant added or removed, the owner's folder
 * renamed) exactly like its own folders' changes, and so that resolving a
 * shared ServerId or checking a right is one indexed lookup. Every folder
 * and item function of the store goes through the resolution here; the
 * commands never see a grant. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"
#include "xalloc.h"

#define SHARE_GRANTS_MAX 10000
/* The schema version with the tables (store.c 11 -> 12); a database
 * opened at an older one (a testing aid) shares nothing. */
#define SHARE_SCHEMA 12

const char *
store_right_name(int right)
{
	switch (right) {
	case STORE_RIGHT_READ:
		return "read";
	case STORE_RIGHT_WRITE:
		return "write";
	case STORE_RIGHT_OWNER:
		return "owner";
	default:
		return "none";
	}
}

int
store_right_parse(const char *name)
{
	static const char *const names[] = {"none", "read", "write", "owner"};

	for (int i = 0; name != NULL && i < (int)N_ELEMENTS(names); i++) {
		if (strcasecmp(name, names[i]) == 0)
			return i;
	}
	return -1;
}

/* The user-created folder type of a class: how iOS, Android and Outlook
 * show another mailbox's folders beside their own (MS-ASCMD 2.2.3.186.3). */
static int
view_type(int type)
{
	switch (store_class_of_folder_type(type)) {
	case STORE_CLASS_EMAIL:
		return EAS_FOLDER_USER_MAIL;
	case STORE_CLASS_CALENDAR:
		return EAS_FOLDER_USER_CALENDAR;
	case STORE_CLASS_CONTACTS:
		return EAS_FOLDER_USER_CONTACTS;
	case STORE_CLASS_TASKS:
		return EAS_FOLDER_USER_TASKS;
	case STORE_CLASS_NOTES:
		return EAS_FOLDER_USER_NOTES;
	default:
		return EAS_FOLDER_GENERIC;
	}
}

/* --- resolution --- */

#define VIEW_SELECT                                                            \
	"SELECT v.folder_id, v.owner_id, v.server_id, v.parent_sid, v.name, "  \
	"v.type, v.modseq, v.created_modseq, v.rights FROM share_folders v "   \
	"JOIN folders f ON f.id = v.folder_id AND f.deleted = 0 "

static void
view_row(struct arena *a, struct store_stmt *st, struct store_folder *r)
{
	memset(r, 0, sizeof(*r));
	r->id = store_col_int64(st, 0);
	r->account_id = store_col_int64(st, 1);
	r->server_id = store_col_text(a, st, 2);
	r->parent_server_id = store_col_text(a, st, 3);
	r->name = store_col_text(a, st, 4);
	r->type = store_col_int(st, 5);
	r->modseq = store_col_int64(st, 6);
	r->created_modseq = store_col_int64(st, 7);
	r->rights = store_col_int(st, 8);
}

static enum store_error
view_one(struct store *s, struct arena *a, struct store_stmt *st,
	 struct store_folder *r)
{
	enum store_error e = store_row(s, st);

	if (e == STORE_OK)
		view_row(a, st, r);
	store_done(st);
	return e;
}

enum store_error
store_share_folder_get(struct store *s, struct arena *a, int64_t grantee_id,
		       const char *server_id, struct store_folder *r)
{
	static const char sql[] = VIEW_SELECT "WHERE v.grantee_id = ?1 AND "
					      "v.server_id = ?2 AND "
					      "v.deleted = 0";

	/* shared ServerIds are "s<owner>.<sid>"; own ones are numbers */
	if (server_id == NULL || server_id[0] != 's' ||
	    s->schema < SHARE_SCHEMA)
		return STORE_NOTFOUND;
	return view_one(s, a, store_query(s, sql, "It", grantee_id, server_id),
			r);
}

enum store_error
store_share_folder_get_by_id(struct store *s, struct arena *a,
			     int64_t grantee_id, int64_t folder_id,
			     struct store_folder *r)
{
	static const char sql[] = VIEW_SELECT "WHERE v.grantee_id = ?1 AND "
					      "v.folder_id = ?2 AND "
					      "v.deleted = 0";

	if (s->schema < SHARE_SCHEMA)
		return STORE_NOTFOUND;
	return view_one(s, a, store_query(s, sql, "II", grantee_id, folder_id),
			r);
}

enum store_error
store_share_right(struct store *s, int64_t account_id, int64_t owner_id,
		  int64_t folder_id, int need, int64_t *account_r)
{
	static const char sql[] =
		"SELECT rights FROM share_folders WHERE grantee_id = ?1 AND "
		"folder_id = ?2 AND deleted = 0";
	enum store_error e;
	int64_t rights = 0;

	if (owner_id == account_id)
		return STORE_OK;
	if (s->schema < SHARE_SCHEMA)
		return STORE_NOTFOUND;
	e = store_fetch_int64(s, &rights, sql, "II", account_id, folder_id);
	if (e != STORE_OK)
		return e;
	if (rights < STORE_RIGHT_READ)
		return STORE_NOTFOUND;
	if (rights < need)
		return STORE_DENIED;
	*account_r = owner_id;
	return STORE_OK;
}

enum store_error
store_share_folder_access(struct store *s, int64_t *account_id,
			  int64_t folder_id, int need)
{
	static const char sql[] =
		"SELECT account_id FROM folders WHERE id = ?1 AND deleted = 0";
	enum store_error e;
	int64_t owner = 0;

	e = store_fetch_int64(s, &owner, sql, "I", folder_id);
	if (e != STORE_OK)
		return e;
	return store_share_right(s, *account_id, owner, folder_id, need,
				 account_id);
}

enum store_error
store_share_item_access(struct store *s, int64_t *account_id, int64_t item_id,
			int need)
{
	static const char sql[] = "SELECT account_id, folder_id FROM items "
				  "WHERE id = ?1 AND deleted = 0";
	struct store_stmt *st = store_query(s, sql, "I", item_id);
	enum store_error e = store_row(s, st);
	int64_t owner = 0, folder = 0;

	if (e == STORE_OK) {
		owner = store_col_int64(st, 0);
		folder = store_col_int64(st, 1);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	return store_share_right(s, *account_id, owner, folder, need,
				 account_id);
}

/* --- the grantee's view --- */

struct view_folder {
	int64_t folder_id; /* the owner's; -owner for the top folder */
	int64_t parent_id;
	const char *sid, *parent_sid, *name;
	int type, rights, depth;
	bool seen;
};

struct view_row {
	int64_t id, folder_id;
	const char *sid, *parent_sid, *name;
	int type, rights;
	bool deleted, seen;
};

static int
view_by_depth(const void *x, const void *y)
{
	const struct view_folder *a = x, *b = y;

	if (a->depth != b->depth)
		return a->depth < b->depth ? -1 : 1;
	return a->folder_id < b->folder_id ? -1 : a->folder_id > b->folder_id;
}

/* The top folder's name: a shared mailbox by its address, a person by
 * name ("info@example.org", "Anna Example"). */
static enum store_error
owner_name(struct store *s, struct arena *a, int64_t owner_id,
	   const char **name_r)
{
	static const char sql[] = "SELECT email, display_name, shared FROM "
				  "accounts WHERE id = ?1";
	struct store_stmt *st = store_query(s, sql, "I", owner_id);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK) {
		const char *email = store_col_text(a, st, 0);
		const char *dn = store_col_text(a, st, 1);

		*name_r =
			store_col_int(st, 2) != 0 || dn == NULL || dn[0] == '\0'
				? email
				: dn;
	}
	store_done(st);
	return e;
}

/* What grantee should see of owner's folders now. */
static enum store_error
view_wanted(struct store *s, struct arena *a, int64_t grantee_id,
	    int64_t owner_id, struct view_folder **list_r, size_t *count_r)
{
	/* the grants to the grantee and to the groups it is a member of */
	static const char sql_grants[] =
		"SELECT folder_id, rights FROM shares WHERE owner_id = ?1 AND "
		"(grantee_id = ?2 OR grantee_id IN (SELECT m.owner_id FROM "
		"shares m JOIN accounts g ON g.id = m.owner_id AND g.shared = "
		"1 "
		"WHERE m.grantee_id = ?2 AND m.folder_id = 0 AND m.rights = 3 "
		"AND m.owner_id <> ?1))";
	static const char sql_folders[] =
		"SELECT id, parent_id, server_id, name, type FROM folders "
		"WHERE account_id = ?1 AND deleted = 0 ORDER BY id";
	struct view_folder *list = NULL;
	int64_t *gf = NULL;
	int *gr = NULL, whole = 0, any = 0;
	size_t ng = 0, gcap = 0, rcap = 0, n = 0, cap = 0, kept = 0;
	enum store_error e;
	struct store_stmt *st;

	*list_r = NULL;
	*count_r = 0;
	st = store_query(s, sql_grants, "II", owner_id, grantee_id);
	while (store_next(s, st, &e)) {
		int64_t f = store_col_int64(st, 0);
		int r = store_col_int(st, 1);

		if (f == 0) {
			whole = r;
		} else if (ng < SHARE_GRANTS_MAX) {
			gf = arena_grow(a, gf, ng, &gcap, sizeof(*gf));
			gr = arena_grow(a, gr, ng, &rcap, sizeof(*gr));
			gf[ng] = f;
			gr[ng++] = r;
		}
		if (r > any)
			any = r;
	}
	store_done(st);
	if (e != STORE_OK || any == 0)
		return e;
	/* the top folder first, then the owner's folders */
	list = arena_grow(a, list, n, &cap, sizeof(*list));
	memset(&list[0], 0, sizeof(list[0]));
	list[0].folder_id = -owner_id;
	list[0].sid = arena_printf(a, "s%lld", (long long)owner_id);
	list[0].parent_sid = "0";
	list[0].type = EAS_FOLDER_USER_MAIL;
	e = owner_name(s, a, owner_id, &list[0].name);
	if (e != STORE_OK)
		return e;
	n = 1;
	st = store_query(s, sql_folders, "I", owner_id);
	while (store_next(s, st, &e)) {
		struct view_folder v;
		int type = store_col_int(st, 4);

		memset(&v, 0, sizeof(v));
		v.folder_id = store_col_int64(st, 0);
		v.parent_id = store_col_int64(st, 1);
		v.rights = whole;
		for (size_t i = 0; i < ng; i++) {
			if (gf[i] == v.folder_id && gr[i] > v.rights)
				v.rights = gr[i];
		}
		/* the Outbox and the recipient cache are the owner's
		 * machinery, not something to share */
		if (v.rights == 0 || type == EAS_FOLDER_OUTBOX ||
		    type == EAS_FOLDER_RI_CACHE)
			continue;
		v.sid = arena_printf(a, "s%lld.%s", (long long)owner_id,
				     store_col_str(st, 2));
		v.name = store_col_text(a, st, 3);
		v.type = view_type(type);
		list = arena_grow(a, list, n, &cap, sizeof(*list));
		list[n++] = v;
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	/* Parents: a shared folder whose parent is shared too stays under
	 * it, the others go under the top folder. The list is in id order
	 * (binary search); the depth orders the Adds parents first. */
	for (size_t i = 1; i < n; i++) {
		int64_t p = list[i].parent_id;
		int depth = 1;

		list[i].parent_sid = list[0].sid;
		for (int guard = 0; p != 0 && guard < 64; guard++) {
			size_t lo = 1, hi = n;

			while (lo < hi) {
				size_t mid = (lo + hi) / 2;

				if (list[mid].folder_id < p)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo >= n || list[lo].folder_id != p)
				break;
			if (depth == 1)
				list[i].parent_sid = list[lo].sid;
			depth++;
			p = list[lo].parent_id;
		}
		list[i].depth = depth;
	}
	kept = n;
	if (kept == 1)
		kept = 0; /* nothing of the owner's to show */
	qsort(list, kept, sizeof(*list), view_by_depth);
	*list_r = list;
	*count_r = kept;
	return STORE_OK;
}

static bool
str_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Bring grantee's rows of owner's folders to what the grants say now,
 * each change with the grantee's next modseq; the grantee's hierarchy is
 * noted as changed when anything it shows did. */
static enum store_error
view_refresh(struct store *s, int64_t grantee_id, int64_t owner_id)
{
	static const char sql_rows[] =
		"SELECT id, folder_id, server_id, parent_sid, name, type, "
		"rights, deleted FROM share_folders WHERE grantee_id = ?1 AND "
		"owner_id = ?2";
	static const char sql_ins[] =
		"INSERT INTO share_folders (grantee_id, owner_id, folder_id, "
		"server_id, parent_sid, name, type, rights, modseq, "
		"created_modseq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
		"?9)";
	static const char sql_upd[] =
		"UPDATE share_folders SET parent_sid = ?2, name = ?3, type = "
		"?4, "
		"rights = ?5, modseq = ?6, folder_id = ?7 WHERE id = ?1";
	static const char sql_revive[] =
		"UPDATE share_folders SET parent_sid = ?2, name = ?3, type = "
		"?4, "
		"rights = ?5, modseq = ?6, created_modseq = ?6, deleted = 0, "
		"folder_id = ?7 WHERE id = ?1";
	static const char sql_rights[] =
		"UPDATE share_folders SET rights = ?2 WHERE id = ?1";
	static const char sql_gone[] = "UPDATE share_folders SET deleted = 1, "
				       "modseq = ?2 WHERE id = ?1";
	/* what the grantee's devices held of a folder it lost: nothing of
	 * it stays reachable */
	static const char sql_states[] =
		"DELETE FROM sync_states WHERE folder_id = ?1 AND device_id IN "
		"(SELECT id FROM devices WHERE account_id = ?2)";
	struct arena *a = arena_new(0);
	struct view_folder *want;
	struct view_row *rows = NULL;
	size_t nwant, nrows = 0, cap = 0;
	enum store_error e;
	struct store_stmt *st;
	bool changed = false;
	int64_t modseq;

	e = view_wanted(s, a, grantee_id, owner_id, &want, &nwant);
	if (e != STORE_OK)
		goto out;
	st = store_query(s, sql_rows, "II", grantee_id, owner_id);
	while (store_next(s, st, &e)) {
		struct view_row r;

		memset(&r, 0, sizeof(r));
		r.id = store_col_int64(st, 0);
		r.folder_id = store_col_int64(st, 1);
		r.sid = store_col_text(a, st, 2);
		r.parent_sid = store_col_text(a, st, 3);
		r.name = store_col_text(a, st, 4);
		r.type = store_col_int(st, 5);
		r.rights = store_col_int(st, 6);
		r.deleted = store_col_int(st, 7) != 0;
		rows = arena_grow(a, rows, nrows, &cap, sizeof(*rows));
		rows[nrows++] = r;
	}
	store_done(st);
	if (e != STORE_OK)
		goto out;
	for (size_t i = 0; i < nwant; i++) {
		const struct view_folder *v = &want[i];
		struct view_row *r = NULL;

		for (size_t j = 0; j < nrows && r == NULL; j++) {
			if (strcmp(rows[j].sid, v->sid) == 0)
				r = &rows[j];
		}
		if (r != NULL)
			r->seen = true;
		if (r != NULL && !r->deleted && str_eq(r->name, v->name) &&
		    str_eq(r->parent_sid, v->parent_sid) &&
		    r->type == v->type) {
			if (r->rights != v->rights)
				e = store_execute(s, sql_rights, "Ii", r->id,
						  v->rights);
			if (e != STORE_OK)
				goto out;
			continue;
		}
		e = store_next_modseq(s, grantee_id, &modseq);
		if (e != STORE_OK)
			goto out;
		if (r == NULL)
			e = store_execute(s, sql_ins, "IIItttiiI", grantee_id,
					  owner_id, v->folder_id, v->sid,
					  v->parent_sid, v->name, v->type,
					  v->rights, modseq);
		else
			e = store_execute(s, r->deleted ? sql_revive : sql_upd,
					  "IttiiII", r->id, v->parent_sid,
					  v->name, v->type, v->rights, modseq,
					  v->folder_id);
		if (e != STORE_OK)
			goto out;
		changed = true;
	}
	/* what is no longer shared: subfolders before the top folder */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 0; j < nrows; j++) {
			struct view_row *r = &rows[j];

			if (r->seen || r->deleted || (r->folder_id < 0) != pass)
				continue;
			e = store_next_modseq(s, grantee_id, &modseq);
			if (e == STORE_OK)
				e = store_execute(s, sql_gone, "II", r->id,
						  modseq);
			if (e == STORE_OK && r->folder_id > 0)
				e = store_execute(s, sql_states, "II",
						  r->folder_id, grantee_id);
			if (e != STORE_OK)
				goto out;
			changed = true;
		}
	}
	if (changed)
		store_touch(s, STORE_CHANGED_HIERARCHY, grantee_id, 0);
out:
	arena_free(&a);
	return e;
}

/* The ids a query of one int64 argument returns, in a. */
static enum store_error
ids_of(struct store *s, struct arena *a, const char *sql, int64_t arg,
       int64_t **ids_r, size_t *count_r)
{
	struct store_stmt *st = store_query(s, sql, "I", arg);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	enum store_error e;

	while (store_next(s, st, &e)) {
		ids = arena_grow(a, ids, n, &cap, sizeof(*ids));
		ids[n++] = store_col_int64(st, 0);
	}
	store_done(st);
	*ids_r = ids;
	*count_r = e == STORE_OK ? n : 0;
	return e;
}

static enum store_error
grantees_of_owner(struct store *s, struct arena *a, int64_t owner_id,
		  int64_t **ids_r, size_t *count_r)
{
	/* and the members of the groups it grants something */
	static const char sql[] =
		"SELECT grantee_id FROM shares WHERE owner_id = ?1 UNION "
		"SELECT m.grantee_id FROM shares sh JOIN accounts g ON g.id = "
		"sh.grantee_id AND g.shared = 1 JOIN shares m ON m.owner_id = "
		"sh.grantee_id AND m.folder_id = 0 AND m.rights = 3 "
		"WHERE sh.owner_id = ?1";

	return ids_of(s, a, sql, owner_id, ids_r, count_r);
}

/* A shared mailbox is also a group: a grant to it is a grant to each of
 * its members (OWNER on its whole mailbox), one level deep. */
static const char sql_members[] =
	"SELECT m.grantee_id FROM shares m JOIN accounts g ON g.id = "
	"m.owner_id AND g.shared = 1 WHERE m.owner_id = ?1 AND m.folder_id = "
	"0 AND m.rights = 3";
static const char sql_granting[] =
	"SELECT DISTINCT owner_id FROM shares WHERE grantee_id = ?1";

/* After a grant of owner to grantee changed: the grantee's view of the
 * owner, the members' when the grantee is a group, and when the owner is
 * a group (its members changed), the grantee's views of every account
 * that grants the group something. */
static enum store_error
grant_changed(struct store *s, int64_t owner_id, int64_t grantee_id)
{
	struct arena *a = arena_new(0);
	enum store_error e;
	int64_t *ids;
	size_t n;

	e = view_refresh(s, grantee_id, owner_id);
	if (e == STORE_OK)
		e = ids_of(s, a, sql_members, grantee_id, &ids, &n);
	for (size_t i = 0; e == STORE_OK && i < n; i++)
		if (ids[i] != owner_id)
			e = view_refresh(s, ids[i], owner_id);
	if (e == STORE_OK)
		e = ids_of(s, a, sql_granting, owner_id, &ids, &n);
	for (size_t i = 0; e == STORE_OK && i < n; i++)
		if (ids[i] != grantee_id)
			e = view_refresh(s, grantee_id, ids[i]);
	arena_free(&a);
	return e;
}

enum store_error
store_share_before_commit(struct store *s)
{
	static const char sql_folder[] =
		"SELECT grantee_id FROM share_folders WHERE folder_id = ?1 AND "
		"owner_id = ?2 AND deleted = 0";
	/* the changes this transaction made itself; what is added here are
	 * the grantees' own, which nobody shares further */
	size_t n = s->changes_count;
	enum store_error e = STORE_OK;

	if (s->schema < SHARE_SCHEMA)
		return STORE_OK;
	for (size_t i = 0; i < n && e == STORE_OK; i++) {
		struct store_change c = s->changes[i];

		if (c.what == STORE_CHANGED_FOLDER && c.id > 0) {
			struct store_stmt *st = store_query(s, sql_folder, "II",
							    c.id, c.account_id);

			/* store_touch only appends to s->changes (c is a
			 * copy, n the count before) */
			while (store_next(s, st, &e))
				store_touch(s, STORE_CHANGED_FOLDER,
					    store_col_int64(st, 0), c.id);
			store_done(st);
		} else if (c.what == STORE_CHANGED_HIERARCHY) {
			struct arena *a = arena_new(0);
			int64_t *ids;
			size_t k;

			e = grantees_of_owner(s, a, c.account_id, &ids, &k);
			for (size_t j = 0; j < k && e == STORE_OK; j++)
				e = view_refresh(s, ids[j], c.account_id);
			arena_free(&a);
		}
	}
	return e;
}

enum store_error
store_share_account_gone(struct store *s, int64_t account_id)
{
	static const char sql[] = "DELETE FROM shares WHERE owner_id = ?1";
	static const char sql_to[] = "DELETE FROM shares WHERE grantee_id = ?1";
	struct arena *a = arena_new(0);
	enum store_error e;
	int64_t *ids, *members = NULL, *owners = NULL;
	size_t n, nm = 0, no = 0;

	if (s->schema < SHARE_SCHEMA) {
		arena_free(&a);
		return STORE_OK;
	}
	e = grantees_of_owner(s, a, account_id, &ids, &n);
	/* a group going: its members lose what was granted to it */
	if (e == STORE_OK)
		e = ids_of(s, a, sql_members, account_id, &members, &nm);
	if (e == STORE_OK)
		e = ids_of(s, a, sql_granting, account_id, &owners, &no);
	if (e == STORE_OK)
		e = store_execute(s, sql, "I", account_id);
	if (e == STORE_OK)
		e = store_execute(s, sql_to, "I", account_id);
	for (size_t i = 0; i < n && e == STORE_OK; i++)
		e = view_refresh(s, ids[i], account_id);
	for (size_t i = 0; i < nm && e == STORE_OK; i++)
		for (size_t k = 0; k < no && e == STORE_OK; k++)
			if (members[i] != owners[k])
				e = view_refresh(s, members[i], owners[k]);
	arena_free(&a);
	return e;
}

/* --- FolderSync --- */

enum store_error
store_share_folder_changes(struct store *s, struct arena *a, int64_t grantee_id,
			   int64_t since, struct store_folder_change **list,
			   size_t *count, size_t *cap)
{
	static const char sql[] =
		"SELECT folder_id, owner_id, server_id, parent_sid, name, "
		"type, "
		"modseq, created_modseq, rights, deleted FROM share_folders "
		"WHERE grantee_id = ?1 AND modseq > ?2 ORDER BY modseq";
	struct store_stmt *st;
	enum store_error e;

	if (s->schema < SHARE_SCHEMA)
		return STORE_OK;
	st = store_query(s, sql, "II", grantee_id, since);
	while (store_next(s, st, &e)) {
		struct store_folder_change c;

		view_row(a, st, &c.folder);
		c.folder.deleted = store_col_int(st, 9) != 0;
		if (c.folder.deleted) {
			if (c.folder.created_modseq > since)
				continue;
			c.kind = STORE_CHANGE_DELETE;
		} else if (c.folder.created_modseq > since) {
			c.kind = STORE_CHANGE_ADD;
		} else {
			c.kind = STORE_CHANGE_CHANGE;
		}
		*list = arena_grow(a, *list, *count, cap, sizeof(**list));
		(*list)[(*count)++] = c;
	}
	store_done(st);
	return e;
}

/* --- grants --- */

enum store_error
store_share_set(struct store *s, int64_t owner_id, int64_t folder_id,
		int64_t grantee_id, int rights, int send)
{
	static const char sql[] =
		"INSERT INTO shares (owner_id, folder_id, grantee_id, rights, "
		"send) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (owner_id, "
		"folder_id, grantee_id) DO UPDATE SET rights = "
		"excluded.rights, "
		"send = excluded.send";
	static const char sql_folder[] =
		"SELECT account_id FROM folders WHERE id = ?1 AND deleted = 0";
	static const char sql_account[] =
		"SELECT count(*) FROM accounts WHERE id IN (?1, ?2)";
	enum store_error e;
	int64_t owner = 0, n = 0;
	bool own;

	if (rights < STORE_RIGHT_NONE || rights > STORE_RIGHT_OWNER ||
	    send < STORE_SEND_NONE || send > STORE_SEND_AS ||
	    owner_id == grantee_id || (folder_id != 0 && send != 0) ||
	    folder_id < 0)
		return STORE_INVALID;
	if (rights == STORE_RIGHT_NONE && send == STORE_SEND_NONE)
		return store_share_remove(s, owner_id, folder_id, grantee_id);
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_fetch_int64(s, &n, sql_account, "II", owner_id, grantee_id);
	if (e == STORE_OK && n != 2)
		e = STORE_NOTFOUND;
	if (e == STORE_OK && folder_id != 0) {
		e = store_fetch_int64(s, &owner, sql_folder, "I", folder_id);
		if (e == STORE_OK && owner != owner_id)
			e = STORE_NOTFOUND;
	}
	if (e == STORE_OK)
		e = store_execute(s, sql, "IIIii", owner_id, folder_id,
				  grantee_id, rights, send);
	/* the send right is read per message: only the folders notify */
	if (e == STORE_OK)
		e = grant_changed(s, owner_id, grantee_id);
	return store_wend(s, own, e);
}

enum store_error
store_share_remove(struct store *s, int64_t owner_id, int64_t folder_id,
		   int64_t grantee_id)
{
	static const char sql[] = "DELETE FROM shares WHERE owner_id = ?1 AND "
				  "folder_id = ?2 AND grantee_id = ?3";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_execute(s, sql, "III", owner_id, folder_id, grantee_id);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		e = grant_changed(s, owner_id, grantee_id);
	return store_wend(s, own, e);
}

enum store_error
store_share_list(struct store *s, struct arena *a, int64_t account_id,
		 struct store_share **list_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT sh.owner_id, sh.folder_id, sh.grantee_id, sh.rights, "
		"sh.send, o.email, g.email, f.name FROM shares sh "
		"JOIN accounts o ON o.id = sh.owner_id "
		"JOIN accounts g ON g.id = sh.grantee_id "
		"LEFT JOIN folders f ON f.id = sh.folder_id "
		"WHERE ?1 = 0 OR sh.owner_id = ?1 OR sh.grantee_id = ?1 "
		"ORDER BY o.email, sh.folder_id, g.email";
	struct store_stmt *st = store_query(s, sql, "I", account_id);
	struct store_share *list = NULL;
	size_t n = 0, cap = 0;
	enum store_error e;

	while (store_next(s, st, &e)) {
		struct store_share sh;

		sh.owner_id = store_col_int64(st, 0);
		sh.folder_id = store_col_int64(st, 1);
		sh.grantee_id = store_col_int64(st, 2);
		sh.rights = store_col_int(st, 3);
		sh.send = store_col_int(st, 4);
		sh.owner = store_col_text(a, st, 5);
		sh.grantee = store_col_text(a, st, 6);
		sh.folder = store_col_text(a, st, 7);
		list = arena_grow(a, list, n, &cap, sizeof(*list));
		list[n++] = sh;
	}
	store_done(st);
	*list_r = e == STORE_OK ? list : NULL;
	*count_r = e == STORE_OK ? n : 0;
	return e;
}

enum store_error
store_share_send_right(struct store *s, int64_t account_id, int64_t owner_id,
		       int *send_r)
{
	static const char sql[] = "SELECT send FROM shares WHERE owner_id = ?1 "
				  "AND grantee_id = ?2 AND folder_id = 0";
	enum store_error e;
	int64_t send = 0;

	*send_r = STORE_SEND_NONE;
	if (account_id == owner_id) {
		*send_r = STORE_SEND_AS;
		return STORE_OK;
	}
	e = store_fetch_int64(s, &send, sql, "II", owner_id, account_id);
	if (e == STORE_NOTFOUND)
		return STORE_OK;
	if (e == STORE_OK)
		*send_r = (int)send;
	return e;
}

enum store_error
store_share_grantees(struct store *s, struct arena *a, int64_t owner_id,
		     int64_t folder_id, int64_t **ids_r, size_t *count_r)
{
	static const char sql[] =
		"SELECT DISTINCT grantee_id FROM shares WHERE owner_id = ?1 "
		"AND "
		"(folder_id = 0 OR folder_id = ?2) AND rights > 0 "
		"ORDER BY grantee_id";
	struct store_stmt *st = store_query(s, sql, "II", owner_id, folder_id);
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	enum store_error e;

	while (store_next(s, st, &e)) {
		ids = arena_grow(a, ids, n, &cap, sizeof(*ids));
		ids[n++] = store_col_int64(st, 0);
	}
	store_done(st);
	*ids_r = ids;
	*count_r = e == STORE_OK ? n : 0;
	return e;
}

enum store_error
store_account_set_shared(struct store *s, int64_t id, bool shared)
{
	/* "!" is no yescrypt hash: no password matches it */
	static const char sql[] =
		"UPDATE accounts SET shared = ?2, password = CASE WHEN ?3 <> 0 "
		"THEN '!' ELSE password END WHERE id = ?1";
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	/* the flag twice: PostgreSQL deduces one type per parameter, and
	 * the column and the comparison want two */
	e = store_execute(s, sql, "Iii", id, shared ? 1 : 0, shared ? 1 : 0);
	if (e == STORE_OK && store_changes(s) == 0)
		e = STORE_NOTFOUND;
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_ACCOUNT, id, 0);
	return store_wend(s, own, e);
}

enum store_error
store_account_is_shared(struct store *s, int64_t id, bool *shared_r)
{
	static const char sql[] = "SELECT shared FROM accounts WHERE id = ?1";
	int64_t v = 0;
	enum store_error e = store_fetch_int64(s, &v, sql, "I", id);

	*shared_r = v != 0;
	return e;
}
