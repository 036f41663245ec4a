/* Items: mail, contacts, events, tasks and notes in their standard formats
 * with the extracted meta columns; every change takes the account's next
 * modseq and deletes leave tombstones for the devices that hold the item. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store-int.h"
#include "util.h"

#define ITEM_DATA_MAX (64 * 1024 * 1024)
#define ITEM_EXTRA_MAX (1024 * 1024)
#define ITEM_TEXT_MAX (64 * 1024)
#define ITEM_LIST_MAX 10000

void
store_item_row(struct arena *a, struct store_stmt *st, const char *folder_sid,
	       bool with_data, struct store_item *r)
{
	memset(r, 0, sizeof(*r));
	r->id = store_col_int64(st, 0);
	r->account_id = store_col_int64(st, 1);
	r->folder_id = store_col_int64(st, 2);
	r->cls = (enum store_class)store_col_int(st, 3);
	if (with_data)
		r->data = store_col_blob(a, st, 4, &r->data_len);
	r->extra = store_col_blob(a, st, 5, &r->extra_len);
	r->meta.date = store_col_int64(st, 6);
	r->meta.date_end = store_col_int64(st, 7);
	r->meta.read = store_col_int(st, 8) != 0;
	r->meta.flag_status = store_col_int(st, 9);
	r->meta.complete = store_col_int(st, 10) != 0;
	r->meta.size = store_col_int64(st, 11);
	r->meta.subject = store_col_text(a, st, 12);
	r->meta.message_id = store_col_text(a, st, 13);
	r->meta.uid = store_col_text(a, st, 14);
	r->modseq = store_col_int64(st, 15);
	r->origin_device = store_col_int64(st, 16);
	r->deleted = store_col_int(st, 17) != 0;
	if (folder_sid == NULL)
		folder_sid = store_col_str(st, STORE_ITEM_NCOLS);
	r->server_id = arena_printf(a, "%s:%lld",
				    folder_sid != NULL ? folder_sid : "0",
				    (long long)r->id);
}

static bool
text_ok(const char *t)
{
	return t == NULL || strlen(t) <= ITEM_TEXT_MAX;
}

static bool
meta_ok(const struct store_item_meta *m)
{
	return text_ok(m->subject) && text_ok(m->message_id) &&
	       text_ok(m->uid) && m->flag_status >= 0 && m->flag_status <= 2;
}

/* The live folder's ServerId and type when the account may add to it
 * (its own, or shared with it for writing: *account_id becomes the
 * owner). */
static enum store_error
folder_of_account(struct store *s, struct arena *a, int64_t *account_id,
		  int64_t folder_id, const char **sid_r, int *type_r)
{
	static const char sql[] = "SELECT server_id, type, account_id FROM "
				  "folders WHERE id = ?1 AND deleted = 0";
	struct store_stmt *st = store_query(s, sql, "I", folder_id);
	enum store_error e = store_row(s, st);
	int64_t owner = 0;

	if (e == STORE_OK) {
		*sid_r = store_col_text(a, st, 0);
		*type_r = store_col_int(st, 1);
		owner = store_col_int64(st, 2);
	}
	store_done(st);
	if (e != STORE_OK)
		return e;
	/* one row read for both: whose folder, and what it is */
	return store_share_right(s, *account_id, owner, folder_id,
				 STORE_RIGHT_WRITE, account_id);
}

static enum store_error
item_insert(struct store *s, struct arena *a, int64_t account_id,
	    int64_t folder_id, const char *folder_sid, int folder_type,
	    struct store_item *item, int64_t origin_device,
	    const struct store_item_text *text)
{
	static const char sql[] =
		"INSERT INTO items (account_id, folder_id, cls, data, extra, "
		"date, date_end, read, flag_status, complete, subject, "
		"message_id, uid, size, modseq, origin_device) VALUES "
		"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
		"?15, ?16)";
	const struct store_item_meta *m = &item->meta;
	enum store_class cls = item->cls;
	enum store_error e;
	int64_t modseq;

	if (cls == STORE_CLASS_NONE)
		cls = store_class_of_folder_type(folder_type);
	e = store_next_modseq(s, account_id, &modseq);
	if (e != STORE_OK)
		return e;
	/* data is never NULL for a live item: tombstones are the NULLs */
	e = store_insert(s, &item->id, sql, "IIizbIIiiitttIII", account_id,
			 folder_id, (int)cls, item->data, item->data_len,
			 item->extra, item->extra_len, m->date, m->date_end,
			 m->read ? 1 : 0, m->flag_status, m->complete ? 1 : 0,
			 m->subject, m->message_id, m->uid,
			 (int64_t)item->data_len, modseq, origin_device);
	if (e != STORE_OK)
		return e;
	item->account_id = account_id;
	item->folder_id = folder_id;
	item->cls = cls;
	item->modseq = modseq;
	item->origin_device = origin_device;
	item->deleted = false;
	item->meta.size = (int64_t)item->data_len;
	item->server_id =
		arena_printf(a, "%s:%lld", folder_sid, (long long)item->id);
	store_touch(s, STORE_CHANGED_FOLDER, account_id, folder_id);
	return store_search_added(s, item, text);
}

static bool
item_ok(const struct store_item *item)
{
	return item->data_len <= ITEM_DATA_MAX &&
	       item->extra_len <= ITEM_EXTRA_MAX &&
	       (item->data != NULL || item->data_len == 0) &&
	       (item->extra != NULL || item->extra_len == 0) &&
	       (int)item->cls >= 0 && item->cls <= STORE_CLASS_NOTES &&
	       meta_ok(&item->meta);
}

enum store_error
store_item_add_with_text(struct store *s, struct arena *a, int64_t account_id,
			 int64_t folder_id, struct store_item *item,
			 int64_t origin_device,
			 const struct store_item_text *text)
{
	enum store_error e;
	const char *sid = NULL;
	int type = 0;
	bool own;

	if (!item_ok(item))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = folder_of_account(s, a, &account_id, folder_id, &sid, &type);
	if (e == STORE_OK)
		e = item_insert(s, a, account_id, folder_id, sid, type, item,
				origin_device, text);
	return store_wend(s, own, e);
}

enum store_error
store_item_add(struct store *s, struct arena *a, int64_t account_id,
	       int64_t folder_id, struct store_item *item,
	       int64_t origin_device)
{
	return store_item_add_with_text(s, a, account_id, folder_id, item,
					origin_device, NULL);
}

/* Run an UPDATE of one live item (?1 id, ?2 account) returning its
 * folder, and note the change. */
static enum store_error
item_change(struct store *s, struct store_stmt *st, int64_t account_id)
{
	enum store_error e = store_row(s, st);
	int64_t folder_id = 0;

	if (e == STORE_OK) {
		folder_id = store_col_int64(st, 0);
		/* to the end of the statement, as always (result unused) */
		store_rest(s, st);
	}
	store_done(st);
	if (e == STORE_OK)
		store_touch(s, STORE_CHANGED_FOLDER, account_id, folder_id);
	return e;
}

enum store_error
store_item_update(struct store *s, int64_t account_id, int64_t item_id,
		  const struct store_item *item, int64_t origin_device)
{
	static const char sql[] =
		"UPDATE items SET data = ?3, extra = ?4, date = ?5, "
		"date_end = ?6, read = ?7, flag_status = ?8, complete = ?9, "
		"subject = ?10, message_id = ?11, uid = ?12, size = ?13, "
		"modseq = ?14, origin_device = ?15 "
		"WHERE id = ?1 AND account_id = ?2 AND deleted = 0 "
		"RETURNING folder_id";
	const struct store_item_meta *m = &item->meta;
	enum store_error e;
	struct store_stmt *st;
	int64_t modseq;
	bool own;

	if (!item_ok(item))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_share_item_access(s, &account_id, item_id, STORE_RIGHT_WRITE);
	if (e != STORE_OK)
		goto out;
	e = store_next_modseq(s, account_id, &modseq);
	if (e != STORE_OK)
		goto out;
	st = store_query(s, sql, "IIzbIIiiitttIII", item_id, account_id,
			 item->data, item->data_len, item->extra,
			 item->extra_len, m->date, m->date_end, m->read ? 1 : 0,
			 m->flag_status, m->complete ? 1 : 0, m->subject,
			 m->message_id, m->uid, (int64_t)item->data_len, modseq,
			 origin_device);
	e = item_change(s, st, account_id);
	if (e == STORE_OK)
		e = store_search_replaced(s, account_id, item_id, item);
out:
	return store_wend(s, own, e);
}

enum store_error
store_item_update_meta(struct store *s, int64_t account_id, int64_t item_id,
		       const void *extra, size_t extra_len,
		       const struct store_item_meta *meta,
		       int64_t origin_device)
{
	static const char sql[] =
		"UPDATE items SET extra = ?3, date = ?4, date_end = ?5, "
		"read = ?6, flag_status = ?7, complete = ?8, subject = ?9, "
		"message_id = ?10, uid = ?11, modseq = ?12, "
		"origin_device = ?13 "
		"WHERE id = ?1 AND account_id = ?2 AND deleted = 0 "
		"RETURNING folder_id";
	const struct store_item_meta *m = meta;
	enum store_error e;
	struct store_stmt *st;
	int64_t modseq;
	bool own;

	if (extra_len > ITEM_EXTRA_MAX || (extra == NULL && extra_len > 0) ||
	    !meta_ok(meta))
		return STORE_INVALID;
	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_share_item_access(s, &account_id, item_id, STORE_RIGHT_WRITE);
	if (e != STORE_OK)
		goto out;
	e = store_next_modseq(s, account_id, &modseq);
	if (e != STORE_OK)
		goto out;
	st = store_query(s, sql, "IIbIIiiitttII", item_id, account_id, extra,
			 extra_len, m->date, m->date_end, m->read ? 1 : 0,
			 m->flag_status, m->complete ? 1 : 0, m->subject,
			 m->message_id, m->uid, modseq, origin_device);
	e = item_change(s, st, account_id);
out:
	return store_wend(s, own, e);
}

/* Tombstone one item inside the current transaction. */
static enum store_error
item_tombstone(struct store *s, int64_t account_id, int64_t item_id,
	       int64_t origin_device)
{
	static const char sql[] =
		"UPDATE items SET deleted = 1, data = NULL, extra = NULL, "
		"size = 0, modseq = ?3, origin_device = ?4 "
		"WHERE id = ?1 AND account_id = ?2 AND deleted = 0 "
		"RETURNING folder_id";
	enum store_error e;
	struct store_stmt *st;
	int64_t modseq;

	e = store_next_modseq(s, account_id, &modseq);
	if (e != STORE_OK)
		return e;
	st = store_query(s, sql, "IIII", item_id, account_id, modseq,
			 origin_device);
	return item_change(s, st, account_id);
}

enum store_error
store_item_delete(struct store *s, int64_t account_id, int64_t item_id,
		  int64_t origin_device)
{
	enum store_error e;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	e = store_share_item_access(s, &account_id, item_id, STORE_RIGHT_WRITE);
	if (e == STORE_OK)
		e = item_tombstone(s, account_id, item_id, origin_device);
	return store_wend(s, own, e);
}

enum store_error
store_item_move(struct store *s, struct arena *a, int64_t account_id,
		int64_t item_id, int64_t dst_folder_id, int64_t origin_device,
		struct store_item *new_r)
{
	struct store_item it;
	enum store_error e;
	const char *sid = NULL;
	int type = 0;
	int64_t dst_account = account_id;
	bool own;

	e = store_wbegin(s, &own);
	if (e != STORE_OK)
		return e;
	/* both ends are checked: a move out of a folder deletes there, a
	 * move into one adds there, and the owners may differ (the item
	 * then leaves one mailbox for the other) */
	e = store_share_item_access(s, &account_id, item_id, STORE_RIGHT_WRITE);
	if (e != STORE_OK)
		goto out;
	e = store_item_get_by_id(s, a, account_id, item_id, true, &it);
	if (e != STORE_OK)
		goto out;
	e = folder_of_account(s, a, &dst_account, dst_folder_id, &sid, &type);
	if (e != STORE_OK)
		goto out;
	/* MS-ASCMD 2.2.3.177.8 MoveItems Status 4: same folder */
	if (dst_folder_id == it.folder_id) {
		e = STORE_INVALID;
		goto out;
	}
	e = item_insert(s, a, dst_account, dst_folder_id, sid, type, &it,
			origin_device, NULL);
	if (e == STORE_OK)
		e = store_search_moved(s, item_id, &it);
	if (e != STORE_OK)
		goto out;
	e = item_tombstone(s, account_id, item_id, origin_device);
out:
	e = store_wend(s, own, e);
	if (e == STORE_OK && new_r != NULL)
		*new_r = it;
	return e;
}

#define ITEM_SELECT                                                            \
	"SELECT " STORE_ITEM_COLS ", f.server_id FROM items i "                \
	"JOIN folders f ON f.id = i.folder_id "

enum store_error
store_item_get_by_id(struct store *s, struct arena *a, int64_t account_id,
		     int64_t id, bool with_data, struct store_item *r)
{
	static const char sql[] = ITEM_SELECT
		"WHERE i.id = ?1 AND i.account_id = ?2 AND i.deleted = 0";
	struct store_stmt *st = store_query(s, sql, "II", id, account_id);
	enum store_error e = store_row(s, st);

	if (e == STORE_OK)
		store_item_row(a, st, NULL, with_data, r);
	store_done(st);
	if (e != STORE_NOTFOUND)
		return e;
	/* not the account's own: an item of a folder shared with it? */
	e = store_share_item_access(s, &account_id, id, STORE_RIGHT_READ);
	if (e == STORE_DENIED)
		e = STORE_NOTFOUND;
	if (e != STORE_OK)
		return e;
	st = store_query(s, sql, "II", id, account_id);
	e = store_row(s, st);
	if (e == STORE_OK)
		store_item_row(a, st, NULL, with_data, r);
	store_done(st);
	return e;
}

enum store_error
store_item_get(struct store *s, struct arena *a, int64_t account_id,
	       const char *server_id, bool with_data, struct store_item *r)
{
	const char *colon;
	int64_t id;
	size_t flen;
	enum store_error e;

	if (server_id == NULL || strlen(server_id) > 64)
		return STORE_NOTFOUND;
	colon = strrchr(server_id, ':');
	if (colon == NULL || str_to_int64(colon + 1, &id) < 0 || id <= 0)
		return STORE_NOTFOUND;
	flen = (size_t)(colon - server_id);
	e = store_item_get_by_id(s, a, account_id, id, with_data, r);
	if (e != STORE_OK)
		return e;
	/* "<folder>:<n>" must name the folder the item is in now */
	if (strlen(r->server_id) != strlen(server_id) ||
	    strncmp(r->server_id, server_id, flen + 1) != 0) {
		memset(r, 0, sizeof(*r));
		return STORE_NOTFOUND;
	}
	return STORE_OK;
}

enum store_error
store_item_by_uid(struct store *s, struct arena *a, int64_t account_id,
		  enum store_class cls, const char *uid, struct store_item *r)
{
	static const char sql[] = ITEM_SELECT
		"WHERE i.account_id = ?1 AND i.uid = ?2 AND i.deleted = 0 "
		"AND i.cls = ?3 ORDER BY i.id LIMIT 1";
	struct store_stmt *st;
	enum store_error e;

	if (uid == NULL)
		return STORE_NOTFOUND;
	st = store_query(s, sql, "Iti", account_id, uid, (int)cls);
	e = store_row(s, st);
	if (e == STORE_OK)
		store_item_row(a, st, NULL, true, r);
	store_done(st);
	return e;
}

enum store_error
store_item_list(struct store *s, struct arena *a, int64_t account_id,
		int64_t folder_id, int64_t after_id, size_t max, bool with_data,
		struct store_item **list_r, size_t *count_r)
{
	static const char sql[] = ITEM_SELECT
		"WHERE i.folder_id = ?1 AND i.account_id = ?2 AND "
		"i.deleted = 0 AND i.id > ?3 ORDER BY i.id LIMIT ?4";
	enum store_error e = STORE_OK;
	struct store_item *list;
	struct store_stmt *st;
	size_t count = 0;

	*list_r = NULL;
	*count_r = 0;
	if (max > ITEM_LIST_MAX)
		max = ITEM_LIST_MAX;
	if (max == 0)
		return STORE_OK;
	e = store_share_folder_access(s, &account_id, folder_id,
				      STORE_RIGHT_READ);
	if (e == STORE_NOTFOUND)
		return STORE_OK; /* as before: nothing of another account */
	if (e != STORE_OK)
		return e;
	list = arena_alloc(a, max * sizeof(*list));
	st = store_query(s, sql, "IIII", folder_id, account_id, after_id,
			 (int64_t)max);
	while (count < max && store_next(s, st, &e))
		store_item_row(a, st, NULL, with_data, &list[count++]);
	store_done(st);
	if (e != STORE_OK)
		return e;
	*list_r = list;
	*count_r = count;
	return STORE_OK;
}

enum store_error
store_item_count(struct store *s, int64_t folder_id, int64_t *count_r)
{
	static const char sql[] = "SELECT count(*) FROM items WHERE folder_id "
				  "= ?1 AND deleted = 0";

	*count_r = 0;
	/* count(*) always has its row */
	return store_fetch_int64(s, count_r, sql, "I", folder_id);
}
